//! The sending side of the compact stream: every source's newest frame, at the rate the
//! viewer asked for it, each compressed against the previous frame of that source sent on
//! this stream. A slow viewer makes writes wait, so it gets fewer, newer frames.

use super::latest::LatestSet;
use crate::cancel::Cancel;
use crate::pipeline::FeedState;
use crate::source::stream::StreamEncoder;
use crate::stream::wire::{head, MAX_REQUEST_LINE};
use crate::stream::{Message, Request, SourceEntry};
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
    // Detached: blocked in a read no token reaches, it ends when the requests end (the
    // viewer closes its side or the connection), at the latest with the process.
    let spawned = std::thread::Builder::new()
        .name("stream-requests".into())
        .spawn(move || {
            let mut requests = requests;
            let mut line = Vec::new();
            loop {
                line.clear();
                let limit = MAX_REQUEST_LINE as u64 + 1;
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
    let mut encoder = StreamEncoder::new();
    // Per source key: the holder's sequence number last sent, and when.
    let mut sent: HashMap<String, (u64, Option<Instant>)> = HashMap::new();
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
            let id = encoder.id(&feed.key);
            let state = feed.status().state;
            if state == FeedState::Gone {
                continue;
            }
            list.push(SourceEntry {
                id,
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
            let (last_seq, at) = sent.entry(feed.key.clone()).or_default();
            let due = at
                .is_none_or(|t| rate > 0 && now >= t + Duration::from_secs_f64(0.99 / rate as f64));
            if rate == 0 || !due {
                continue;
            }
            let Some((seq, frame)) = holder.current() else {
                continue;
            };
            if seq == *last_seq {
                continue;
            }
            if let Some(bytes) = encoder.frame(&feed.key, &frame)? {
                totals.frames += 1;
                batch.extend(bytes);
            }
            *last_seq = seq;
            *at = Some(now);
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
