//! The sending side of the compact stream: every source's newest frame, at the rate the
//! viewer asked for it, each compressed against the previous frame of that source sent on
//! this stream. A slow viewer makes writes wait, so it gets fewer, newer frames.

use super::wire::{head, Message, Request, SourceEntry};
use crate::frame::SharedFrame;
use crate::pipeline::{Cancel, FeedState};
use crate::serve::LatestSet;
use crate::source::recording::RecordingWriter;
use std::collections::HashMap;
use std::io::{self, BufRead, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the sender looks for due frames and list changes.
const TICK: Duration = Duration::from_millis(5);
/// A stream with nothing to send repeats its source list this often, so the viewer can
/// tell a quiet remote from a dead connection.
pub const KEEPALIVE: Duration = Duration::from_secs(2);

/// The rates the viewer asked for, and what it asked wrongly.
#[derive(Debug)]
struct Wanted {
    default: u32,
    per_name: HashMap<String, u32>,
    notices: Vec<String>,
    /// The viewer closed its side of the requests.
    closed: bool,
}

impl Wanted {
    fn rate(&self, name: &str) -> u32 {
        self.per_name.get(name).copied().unwrap_or(self.default)
    }

    fn apply(&mut self, line: &str) {
        match Request::parse(line) {
            Ok(Request::RateAll(fps)) => {
                self.default = fps;
                self.per_name.clear();
            }
            Ok(Request::Rate(fps, names)) => {
                for n in names {
                    self.per_name.insert(n, fps);
                }
            }
            Err(e) => self.notices.push(e.to_string()),
        }
    }
}

/// One source's state on this stream.
struct Sent {
    id: u16,
    writer: Option<RecordingWriter<Vec<u8>>>,
    dims: (u32, u32),
    first_ns: u64,
    seq: u64,
    at: Option<Instant>,
}

/// Figures of one stream, for the sender's summary.
#[derive(Debug, Default, Clone, Copy)]
pub struct SendTotals {
    /// Frame messages sent.
    pub frames: u64,
    /// Bytes sent, head and every message.
    pub bytes: u64,
}

/// Reads request lines from `requests` on a thread of its own, until it ends.
fn read_requests(requests: Box<dyn BufRead + Send>, wanted: Arc<Mutex<Wanted>>) {
    let spawned = std::thread::Builder::new()
        .name("stream-requests".into())
        .spawn(move || {
            let mut requests = requests;
            let mut line = Vec::new();
            loop {
                line.clear();
                let limit = super::wire::MAX_REQUEST_LINE as u64 + 1;
                match Read::take(&mut requests, limit).read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let text = String::from_utf8_lossy(&line);
                        wanted
                            .lock()
                            .unwrap()
                            .apply(text.trim_end_matches(['\n', '\r']));
                        if line.last() != Some(&b'\n') && line.len() as u64 >= limit {
                            // An endless line: say so once and skip the rest of it.
                            let mut rest = Vec::new();
                            let _ = requests.read_until(b'\n', &mut rest);
                        }
                    }
                }
            }
            wanted.lock().unwrap().closed = true;
        });
    if spawned.is_err() {
        eprintln!("gbwatch: cannot start the request reader: requests are ignored");
    }
}

/// Streams `latest`'s sources to `out` until it fails (the viewer left), `cancel`, or (when
/// `end_with_requests`) the requests end. Every source starts at `default_fps`.
pub fn stream(
    latest: &LatestSet,
    out: &mut dyn Write,
    requests: Box<dyn BufRead + Send>,
    default_fps: u32,
    cancel: &Cancel,
    end_with_requests: bool,
) -> io::Result<SendTotals> {
    let wanted = Arc::new(Mutex::new(Wanted {
        default: default_fps,
        per_name: HashMap::new(),
        notices: Vec::new(),
        closed: false,
    }));
    read_requests(requests, wanted.clone());
    out.write_all(&head())?;
    out.flush()?;
    let mut sent: HashMap<String, Sent> = HashMap::new();
    let mut next_id: u16 = 0;
    let mut listed: Option<Vec<SourceEntry>> = None;
    let mut totals = SendTotals::default();
    let mut last_write = Instant::now();
    while !cancel.is_cancelled() {
        let mut batch = Vec::new();
        let notices = std::mem::take(&mut wanted.lock().unwrap().notices);
        for n in notices {
            batch.extend(Message::Notice(n).encode());
        }
        let feeds = latest.feeds();
        let mut list = Vec::with_capacity(feeds.len());
        for (feed, _) in &feeds {
            let entry = sent.entry(feed.key.clone()).or_insert_with(|| {
                next_id = next_id.wrapping_add(1);
                Sent {
                    id: next_id - 1,
                    writer: None,
                    dims: (0, 0),
                    first_ns: 0,
                    seq: 0,
                    at: None,
                }
            });
            let state = feed.status().state;
            if state == FeedState::Gone {
                continue;
            }
            list.push(SourceEntry {
                id: entry.id,
                name: feed.name.clone(),
                online: matches!(state, FeedState::Online),
            });
        }
        if listed.as_ref() != Some(&list) || last_write.elapsed() >= KEEPALIVE {
            batch.extend(Message::Sources(list.clone()).encode());
            listed = Some(list);
        }
        let now = Instant::now();
        for (feed, holder) in &feeds {
            let Some(holder) = holder else { continue };
            let rate = wanted.lock().unwrap().rate(&feed.name);
            let entry = sent.get_mut(&feed.key).expect("entry made above");
            let due = entry
                .at
                .is_none_or(|t| rate > 0 && now >= t + Duration::from_secs_f64(0.99 / rate as f64));
            if rate == 0 || !due {
                continue;
            }
            let Some((seq, frame)) = holder.current() else {
                continue;
            };
            if seq == entry.seq {
                continue;
            }
            if let Some(bytes) = encode_frame(entry, &frame)? {
                totals.frames += 1;
                batch.extend(bytes);
            }
            entry.seq = seq;
            entry.at = Some(now);
        }
        if !batch.is_empty() {
            totals.bytes += batch.len() as u64;
            out.write_all(&batch)?;
            out.flush()?;
            last_write = Instant::now();
        } else if (end_with_requests && wanted.lock().unwrap().closed) || cancel.sleep(TICK) {
            break;
        }
    }
    Ok(totals)
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
                seq: 0,
                at: None,
            }
        })
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
