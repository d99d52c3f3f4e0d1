//! The compact stream's codec, shared by both ends: each source's frames become frame
//! messages holding recording records (RECORDING.md), each compressed against the previous
//! frame of that source, and back.

use crate::frame::{PixelFormat, SharedFrame};
use crate::source::recording::{
    RecordingReader, RecordingWriter, FILE_HEADER_SIZE, MAGIC as RECORDING_MAGIC,
};
use crate::source::RawFrame;
use crate::stream::{Message, SourceEntry};
use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex};

/// One source's state on an encoded stream.
struct Sent {
    id: u16,
    writer: Option<RecordingWriter<Vec<u8>>>,
    dims: (u32, u32),
    first_ns: u64,
}

/// The frame message of `frame`, compressed against the last frame sent of its source;
/// `None` for a frame that cannot be recorded (too large).
fn encode_frame(entry: &mut Sent, frame: &SharedFrame) -> io::Result<Option<Vec<u8>>> {
    let ts = frame.published_ns.unwrap_or(frame.captured_ns);
    if entry.writer.is_none() || entry.dims != (frame.width, frame.height) {
        entry.writer = RecordingWriter::new(Vec::new(), frame.width, frame.height).ok();
        entry.dims = (frame.width, frame.height);
        entry.first_ns = ts;
    }
    let Some(writer) = entry.writer.as_mut() else {
        return Ok(None);
    };
    writer
        .write_frame_with_info(
            frame.frame_index,
            ts.saturating_sub(entry.first_ns),
            &frame.pixels,
            frame.info.as_deref(),
        )
        .map_err(|e| io::Error::other(e.to_string()))?;
    let data = std::mem::take(writer.get_mut());
    Ok(Some(
        Message::Frame {
            id: entry.id,
            published_ns: frame.published_ns,
            data,
        }
        .encode(),
    ))
}

/// Encodes frames of many sources into stream messages, outside a live connection: what
/// `gbwatch record` writes.
#[derive(Default)]
pub struct StreamEncoder {
    sent: HashMap<String, Sent>,
    next_id: u16,
    listed: Option<Vec<SourceEntry>>,
}

impl StreamEncoder {
    /// An encoder with no source yet.
    pub fn new() -> StreamEncoder {
        StreamEncoder::default()
    }

    fn entry(&mut self, key: &str) -> &mut Sent {
        let next_id = &mut self.next_id;
        self.sent.entry(key.to_string()).or_insert_with(|| {
            *next_id = next_id.wrapping_add(1);
            Sent {
                id: *next_id - 1,
                writer: None,
                dims: (0, 0),
                first_ns: 0,
            }
        })
    }

    /// The id of source `key` on this stream (given at its first mention).
    pub fn id(&mut self, key: &str) -> u16 {
        self.entry(key).id
    }

    /// The sources message for `sources` (key, name) when they differ from the last list.
    pub fn sources(&mut self, sources: &[(String, String)]) -> Option<Vec<u8>> {
        let list: Vec<SourceEntry> = sources
            .iter()
            .map(|(key, name)| SourceEntry {
                id: self.entry(key).id,
                name: name.clone(),
                online: true,
            })
            .collect();
        if self.listed.as_ref() == Some(&list) {
            return None;
        }
        let bytes = Message::Sources(list.clone()).encode();
        self.listed = Some(list);
        Some(bytes)
    }

    /// The frame message of `frame` of the source `key`; `None` when it cannot be encoded
    /// (too large).
    pub fn frame(&mut self, key: &str, frame: &SharedFrame) -> io::Result<Option<Vec<u8>>> {
        encode_frame(self.entry(key), frame)
    }
}

/// Bytes handed to a recording reader as they arrive.
#[derive(Clone, Default)]
struct Pending(Arc<Mutex<VecDeque<u8>>>);

impl Read for Pending {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut q = self.0.lock().unwrap();
        let n = buf.len().min(q.len());
        for (b, v) in buf.iter_mut().zip(q.drain(..n)) {
            *b = v;
        }
        Ok(n)
    }
}

impl Seek for Pending {
    fn seek(&mut self, _: SeekFrom) -> io::Result<u64> {
        Err(io::Error::other("a stream cannot be rewound"))
    }
}

/// One remote source's frames: a recording read as its records arrive.
#[derive(Default)]
pub struct FrameDecoder {
    input: Pending,
    reader: Option<RecordingReader>,
}

impl FrameDecoder {
    /// Decodes the recording bytes of one frame message; `Ok(None)` when they hold no frame,
    /// an error (one line) when they are damaged (the next key frame starts afresh).
    pub fn decode(&mut self, data: &[u8]) -> Result<Option<RawFrame>, String> {
        let mut data = data;
        if data.starts_with(&RECORDING_MAGIC) && data.len() >= FILE_HEADER_SIZE {
            self.input = Pending::default();
            self.input
                .0
                .lock()
                .unwrap()
                .extend(&data[..FILE_HEADER_SIZE]);
            let reader =
                RecordingReader::new(Box::new(self.input.clone())).map_err(|e| e.to_string())?;
            self.reader = Some(reader);
            data = &data[FILE_HEADER_SIZE..];
        }
        let Some(reader) = self.reader.as_mut() else {
            return Err("frame before its source's header".into());
        };
        {
            let mut q = self.input.0.lock().unwrap();
            q.clear();
            q.extend(data);
        }
        let (w, h) = (reader.header().width, reader.header().height);
        match reader.next_frame() {
            Ok(Some(f)) => Ok(Some(RawFrame {
                frame_index: f.frame_index,
                // The remote's clock is not ours: age counts from arrival.
                published_ns: None,
                width: w,
                height: h,
                format: PixelFormat::Rgba,
                stride: w as usize * 4,
                pixels: f.pixels.to_vec(),
                retries: 0,
                published_total: None,
                publisher_cost_ns: None,
                info: f.info,
                info_error: None,
            })),
            Ok(None) => Ok(None),
            Err(e) => {
                self.reader = None;
                Err(e.to_string())
            }
        }
    }
}
