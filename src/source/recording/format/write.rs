//! Writing recordings: frames palette-indexed when they have at most 256 colours, each
//! compressed against the previous one.

use super::error::RecordingError;
use super::header::RecordingHeader;
use super::layout::{
    Kind, FILE_HEADER_SIZE, KEYFRAME_INTERVAL, MAX_DIMENSION, RECORD_HAS_INFO, RECORD_HEADER_SIZE,
    VERSION, ZSTD_LEVEL,
};
use crate::info::Info;
use std::collections::HashMap;
use std::io::Write;
use zstd::zstd_safe::{CCtx, CParameter};

/// Compresses `data` with zstd, with `prefix` (the previous frame) as raw-content dictionary.
fn compress(
    cctx: &mut CCtx<'static>,
    level: i32,
    data: &[u8],
    prefix: Option<&[u8]>,
) -> Result<Vec<u8>, RecordingError> {
    let zerr = |code: usize| RecordingError::Compress(zstd::zstd_safe::get_error_name(code));
    cctx.reset(zstd::zstd_safe::ResetDirective::SessionAndParameters)
        .map_err(zerr)?;
    cctx.set_parameter(CParameter::CompressionLevel(level))
        .map_err(zerr)?;
    cctx.load_dictionary(prefix.unwrap_or(&[])).map_err(zerr)?;
    let mut out = Vec::with_capacity(zstd::zstd_safe::compress_bound(data.len()));
    cctx.compress2(&mut out, data).map_err(zerr)?;
    Ok(out)
}

/// Writes frames to a recording: palette-indexes them when they have ≤ 256 colours and
/// compresses each against the previous one.
pub struct RecordingWriter<W: Write> {
    out: W,
    cctx: CCtx<'static>,
    header: RecordingHeader,
    /// Colours of the current palette, in index order.
    palette: Vec<[u8; 4]>,
    lookup: HashMap<[u8; 4], u8>,
    /// Previous frame's indices (valid when `prev_indexed`) and RGBA bytes.
    prev_indices: Vec<u8>,
    prev_indexed: bool,
    prev_rgba: Vec<u8>,
    since_key: u32,
    frames: u64,
    bytes: u64,
    level: i32,
}

impl<W: Write> RecordingWriter<W> {
    /// Writes the file header for frames of `width` x `height`.
    pub fn new(mut out: W, width: u32, height: u32) -> Result<RecordingWriter<W>, RecordingError> {
        if !(1..=MAX_DIMENSION).contains(&width) || !(1..=MAX_DIMENSION).contains(&height) {
            return Err(RecordingError::FrameSize { width, height });
        }
        let header = RecordingHeader {
            width,
            height,
            keyframe_interval: KEYFRAME_INTERVAL,
            version: VERSION,
        };
        out.write_all(&header.to_bytes())?;
        Ok(RecordingWriter {
            out,
            cctx: CCtx::create(),
            header,
            palette: Vec::new(),
            lookup: HashMap::new(),
            prev_indices: Vec::new(),
            prev_indexed: false,
            prev_rgba: Vec::new(),
            since_key: 0,
            frames: 0,
            bytes: FILE_HEADER_SIZE as u64,
            level: ZSTD_LEVEL,
        })
    }

    /// Compresses later frames at zstd `level` instead of [`ZSTD_LEVEL`] (the history uses
    /// a faster one); readers need not know.
    pub fn set_level(&mut self, level: i32) {
        self.level = level;
    }

    /// The header written.
    pub fn header(&self) -> RecordingHeader {
        self.header
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Bytes written so far, header included.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Appends one RGBA frame (tight rows); `timestamp_ns` counts from the recording's start.
    /// The record goes out in one write, so a stopped recording ends on a whole frame.
    pub fn write_frame(
        &mut self,
        frame_index: u64,
        timestamp_ns: u64,
        rgba: &[u8],
    ) -> Result<usize, RecordingError> {
        self.write_frame_with_info(frame_index, timestamp_ns, rgba, None)
    }

    /// [`RecordingWriter::write_frame`] with the frame's info, kept in the same record. An
    /// info that does not encode is left out (the frame is still written).
    pub fn write_frame_with_info(
        &mut self,
        frame_index: u64,
        timestamp_ns: u64,
        rgba: &[u8],
        info: Option<&Info>,
    ) -> Result<usize, RecordingError> {
        let info = info.and_then(|i| i.encode().ok());
        let n = self.header.pixels();
        if rgba.len() != n * 4 {
            return Err(RecordingError::FrameLength {
                got: rgba.len(),
                width: self.header.width,
                height: self.header.height,
                want: n * 4,
            });
        }
        let want_key = self.frames == 0 || self.since_key >= KEYFRAME_INTERVAL as u32;
        let (kind, new_colours, payload) = self.encode(rgba, want_key)?;
        let mut record = Vec::with_capacity(RECORD_HEADER_SIZE + payload.len());
        record.extend_from_slice(&[0u8; 4]);
        record.push(kind as u8);
        record.push(if info.is_some() { RECORD_HAS_INFO } else { 0 });
        record.extend_from_slice(&(new_colours as u16).to_le_bytes());
        record.extend_from_slice(&frame_index.to_le_bytes());
        record.extend_from_slice(&timestamp_ns.to_le_bytes());
        record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        record.extend_from_slice(&payload);
        if let Some(info) = &info {
            record.extend_from_slice(&(info.len() as u16).to_le_bytes());
            record.extend_from_slice(info);
        }
        let crc = crc32fast::hash(&record[4..]);
        record[0..4].copy_from_slice(&crc.to_le_bytes());
        self.out.write_all(&record)?;
        self.frames += 1;
        self.bytes += record.len() as u64;
        self.since_key = if matches!(kind, Kind::KeyIndexed | Kind::KeyRgba) {
            1
        } else {
            self.since_key + 1
        };
        Ok(record.len())
    }

    fn encode(
        &mut self,
        rgba: &[u8],
        want_key: bool,
    ) -> Result<(Kind, usize, Vec<u8>), RecordingError> {
        let n = self.header.pixels();
        // Try to index against the current palette (extended), else a fresh one.
        let mut key = want_key || !self.prev_indexed;
        let mut indices = Vec::with_capacity(n);
        let mut first_new = if key { 0 } else { self.palette.len() };
        if key {
            self.palette.clear();
            self.lookup.clear();
        }
        let mut fits = index_into(rgba, &mut self.palette, &mut self.lookup, &mut indices);
        if !fits && !key {
            // The palette overflowed: start a fresh one with a keyframe.
            key = true;
            first_new = 0;
            self.palette.clear();
            self.lookup.clear();
            indices.clear();
            fits = index_into(rgba, &mut self.palette, &mut self.lookup, &mut indices);
        }
        let result = if fits {
            let mut data = Vec::with_capacity((self.palette.len() - first_new) * 4 + n);
            for c in &self.palette[first_new..] {
                data.extend_from_slice(c);
            }
            let new_colours = self.palette.len() - first_new;
            data.extend_from_slice(&indices);
            let prefix = (!key).then_some(&self.prev_indices[..]);
            let payload = compress(&mut self.cctx, self.level, &data, prefix)?;
            self.prev_indices = indices;
            self.prev_indexed = true;
            let kind = if key {
                Kind::KeyIndexed
            } else {
                Kind::DeltaIndexed
            };
            (kind, new_colours, payload)
        } else {
            self.palette.clear();
            self.lookup.clear();
            self.prev_indexed = false;
            let delta = !want_key && self.prev_rgba.len() == rgba.len();
            let prefix = delta.then_some(&self.prev_rgba[..]);
            let payload = compress(&mut self.cctx, self.level, rgba, prefix)?;
            let kind = if delta {
                Kind::DeltaRgba
            } else {
                Kind::KeyRgba
            };
            (kind, 0, payload)
        };
        self.prev_rgba.clear();
        self.prev_rgba.extend_from_slice(rgba);
        Ok(result)
    }

    /// Starts a new recording on `out` with the same frame size, its first frame a
    /// keyframe, and returns the previous output; the compressor and buffers are kept (the
    /// history cuts its segments this way).
    pub fn start_over(&mut self, mut out: W) -> Result<W, RecordingError> {
        out.write_all(&self.header.to_bytes())?;
        self.frames = 0;
        self.since_key = 0;
        self.bytes = FILE_HEADER_SIZE as u64;
        Ok(std::mem::replace(&mut self.out, out))
    }

    /// The underlying writer, to read what an in-memory writer holds.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// The underlying writer (to take what an in-memory writer holds).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Flushes what was written to the underlying writer.
    pub fn flush(&mut self) -> Result<(), RecordingError> {
        Ok(self.out.flush()?)
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> Result<W, RecordingError> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Appends the palette index of every pixel; false when more than 256 colours are needed.
/// A small table in front of `lookup` answers most pixels without hashing them.
fn index_into(
    rgba: &[u8],
    palette: &mut Vec<[u8; 4]>,
    lookup: &mut HashMap<[u8; 4], u8>,
    indices: &mut Vec<u8>,
) -> bool {
    // (colour, index + 1) by a multiplicative hash of the colour; 0 means empty.
    let mut near = [(0u32, 0u16); 64];
    let slot = |c: u32| (c.wrapping_mul(0x9E37_79B1) >> 26) as usize;
    let mut last = (u32::MAX, 0u8, false);
    for p in rgba.chunks_exact(4) {
        let c = [p[0], p[1], p[2], p[3]];
        let key = u32::from_le_bytes(c);
        if last.2 && last.0 == key {
            indices.push(last.1);
            continue;
        }
        let (k, v) = near[slot(key)];
        let i = if v != 0 && k == key {
            (v - 1) as u8
        } else {
            let i = match lookup.get(&c) {
                Some(&i) => i,
                None => {
                    if palette.len() == 256 {
                        return false;
                    }
                    let i = palette.len() as u8;
                    palette.push(c);
                    lookup.insert(c, i);
                    i
                }
            };
            near[slot(key)] = (key, i as u16 + 1);
            i
        };
        last = (key, i, true);
        indices.push(i);
    }
    true
}
