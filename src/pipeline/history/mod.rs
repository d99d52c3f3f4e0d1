//! History: every feed keeps its recent frames with their info, compressed as recordings
//! are (palette-indexed, each frame against the previous, a keyframe every
//! [`HistoryOptions::keyframe_every`] frames), under one budget for the whole process
//! (time and bytes). The oldest segment goes first, except one holding the pinned span
//! (what a paused monitor shows).

mod marker;
mod segment;
mod track;

pub use marker::{MarkRule, MarkRuleError, Marker, MarkerKind};
pub use track::FeedHistory;

use crate::clock::monotonic_ns;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// How often the whole history is trimmed to its budget, at most.
const TRIM_EVERY_NS: u64 = 100_000_000;

/// What the history keeps and marks.
#[derive(Debug, Clone)]
pub struct HistoryOptions {
    /// How far back frames are kept.
    pub span: Duration,
    /// The most bytes all feeds' history may hold together (a pinned span may exceed it).
    pub bytes: u64,
    /// A keyframe starts a segment at least this often (frames): bounds a seek's decoding.
    pub keyframe_every: usize,
    /// The `--mark` rules.
    pub rules: Vec<MarkRule>,
    /// The zstd level frames are compressed at (1; recordings use 3).
    pub level: i32,
    /// A picture unchanged this long is marked stuck where it stopped changing.
    pub stuck_after: Duration,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        HistoryOptions {
            span: Duration::from_secs(60),
            bytes: 64 << 20,
            keyframe_every: 16,
            rules: Vec::new(),
            level: 1,
            stuck_after: Duration::from_secs(30),
        }
    }
}

/// What every feed's history shares: the options, the byte total, the pin.
#[derive(Debug)]
pub(crate) struct Shared {
    options: HistoryOptions,
    bytes: AtomicU64,
    tracks: Mutex<Vec<Weak<FeedHistory>>>,
    pin: Mutex<Option<(u64, u64)>>,
    last_trim_ns: AtomicU64,
}

impl Shared {
    /// Trims to the budget unless that was done in the last [`TRIM_EVERY_NS`].
    fn trim_soon(&self) {
        let now = monotonic_ns();
        let last = self.last_trim_ns.load(Ordering::Relaxed);
        let over = self.bytes.load(Ordering::Relaxed) > self.options.bytes;
        if now.saturating_sub(last) >= TRIM_EVERY_NS || over {
            self.last_trim_ns.store(now, Ordering::Relaxed);
            self.trim(now);
        }
    }

    /// Drops segments older than the span, then the oldest segments of any feed while over
    /// the byte budget; never one overlapping the pin or being written.
    fn trim(&self, now_ns: u64) {
        let pin = *self.pin.lock().unwrap();
        let tracks: Vec<Arc<FeedHistory>> = {
            let mut t = self.tracks.lock().unwrap();
            t.retain(|w| w.strong_count() > 0);
            t.iter().filter_map(Weak::upgrade).collect()
        };
        let before = now_ns.saturating_sub(self.options.span.as_nanos() as u64);
        for t in &tracks {
            while t.drop_oldest(Some(before), pin) {}
        }
        while self.bytes.load(Ordering::Relaxed) > self.options.bytes {
            let oldest = tracks
                .iter()
                .filter_map(|t| t.oldest_droppable(pin).map(|at| (at, t)))
                .min_by_key(|(at, _)| *at);
            match oldest {
                Some((_, t)) if t.drop_oldest(None, pin) => {}
                _ => break,
            }
        }
    }
}

/// The history of every feed of a process, under one budget. Clones share it.
#[derive(Debug, Clone)]
pub struct History {
    shared: Arc<Shared>,
}

impl History {
    /// An empty history with `options`.
    pub fn new(options: HistoryOptions) -> History {
        History {
            shared: Arc::new(Shared {
                options,
                bytes: AtomicU64::new(0),
                tracks: Mutex::new(Vec::new()),
                pin: Mutex::new(None),
                last_trim_ns: AtomicU64::new(0),
            }),
        }
    }

    /// A new feed's history.
    pub fn track(&self) -> Arc<FeedHistory> {
        let t = Arc::new(FeedHistory::new(self.shared.clone()));
        self.shared.tracks.lock().unwrap().push(Arc::downgrade(&t));
        t
    }

    /// Keeps the frames made in `[from_ns, to_ns]` (and the frame shown at `from_ns`)
    /// whatever the budget, until unpinned (`None`).
    pub fn pin(&self, span: Option<(u64, u64)>) {
        *self.shared.pin.lock().unwrap() = span;
    }

    /// The options it keeps frames by.
    pub fn options(&self) -> &HistoryOptions {
        &self.shared.options
    }

    /// Bytes held by every feed together.
    pub fn bytes(&self) -> u64 {
        self.shared.bytes.load(Ordering::Relaxed)
    }

    /// Trims to the budget now, as at `now_ns` (tests and benchmarks).
    pub fn trim_at(&self, now_ns: u64) {
        self.shared.trim(now_ns);
    }
}

#[cfg(test)]
mod tests;
