//! One source's feed: its queue, figures, status and the handle of its capture thread.

use super::history::FeedHistory;
use super::queue::DropOldestQueue;
use super::stats::{FeedStats, StatsSnapshot};
use super::status::{set_state, FeedState, FeedStatus};
use crate::cancel::Cancel;
use crate::frame::SharedFrame;
use crate::source::SourceKind;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

/// One source's pipeline: its queue, figures and status.
#[derive(Debug)]
pub struct Feed {
    /// The name shown for the feed.
    pub name: String,
    /// Identifies the source (path, URL) for deduplication.
    pub key: String,
    /// How its frames arrive.
    pub kind: SourceKind,
    /// Captured frames waiting for the consumer, newest wins.
    pub queue: Arc<DropOldestQueue<SharedFrame>>,
    /// The feed's counters and latency histograms.
    pub stats: Arc<FeedStats>,
    /// Its recent frames, when the process keeps history.
    pub history: Option<Arc<FeedHistory>>,
    status: Mutex<FeedStatus>,
    /// The capture thread of the current source; `None` while none could be opened.
    capture: Mutex<Option<JoinHandle<()>>>,
    /// Stops this feed's capture thread alone (the demo making room for a publisher): a
    /// child of the set's token.
    stop: Mutex<Option<Cancel>>,
    /// Whether a consumer shows it now (see [`Feed::set_shown`]).
    shown: AtomicBool,
    /// The most frames a second its consumer can use (see [`Feed::set_rate_cap`]).
    rate_cap: AtomicU32,
}

impl Feed {
    pub(crate) fn new(
        name: String,
        key: String,
        kind: SourceKind,
        capacity: usize,
        state: FeedState,
        history: Option<Arc<FeedHistory>>,
    ) -> Feed {
        Feed {
            name,
            key,
            kind,
            queue: Arc::new(DropOldestQueue::new(capacity)),
            stats: Arc::new(FeedStats::new()),
            history,
            status: Mutex::new(FeedStatus {
                state,
                since: Instant::now(),
            }),
            capture: Mutex::new(None),
            stop: Mutex::new(None),
            shown: AtomicBool::new(true),
            rate_cap: AtomicU32::new(u32::MAX),
        }
    }

    /// Caps the rate a remote source asks its remote for (a terminal that keeps up with
    /// only so many frames); `u32::MAX` lifts the cap.
    pub fn set_rate_cap(&self, fps: u32) {
        self.rate_cap.store(fps.max(1), Ordering::Relaxed);
    }

    /// Says whether a consumer shows the feed now (a monitor's tile on another page is not):
    /// a remote source then asks its remote for no frames of it.
    pub fn set_shown(&self, shown: bool) {
        self.shown.store(shown, Ordering::Relaxed);
    }

    /// The rate the consumer can use at capture rate `fps`: 0 while not shown, unless the
    /// feed keeps history (which every feed's frames go to, shown or not).
    pub(crate) fn wanted_fps(&self, fps: u32) -> u32 {
        if self.shown.load(Ordering::Relaxed) || self.history.is_some() {
            fps.min(self.rate_cap.load(Ordering::Relaxed))
        } else {
            0
        }
    }

    pub(crate) fn set_state(&self, state: FeedState) {
        set_state(&self.status, state);
    }

    /// An online feed becomes stale (its newest frame is old); other states stay.
    pub(crate) fn mark_stale(&self) {
        let mut s = self.status.lock().unwrap();
        if s.state == FeedState::Online {
            s.state = FeedState::Stale;
            s.since = Instant::now();
        }
    }

    /// True while no capture thread was ever started for the current source (it could not
    /// be opened).
    pub(crate) fn never_opened(&self) -> bool {
        self.capture.lock().unwrap().is_none()
    }

    /// Keeps the capture thread of a newly opened source and the token that stops it.
    pub(crate) fn attach(&self, thread: JoinHandle<()>, stop: Cancel) {
        *self.stop.lock().unwrap() = Some(stop);
        *self.capture.lock().unwrap() = Some(thread);
    }

    /// Stops the capture thread (if any) and waits for it.
    pub(crate) fn stop_capture(&self) {
        if let Some(stop) = self.stop.lock().unwrap().as_ref() {
            stop.cancel();
        }
        self.join_capture();
    }

    /// Waits for the capture thread (if any) once something cancelled it.
    pub(crate) fn join_capture(&self) {
        if let Some(thread) = self.capture.lock().unwrap().take() {
            let _ = thread.join();
        }
    }

    /// The feed's state and since when.
    pub fn status(&self) -> FeedStatus {
        self.status.lock().unwrap().clone()
    }

    /// Counters and latencies, consistent with the queue.
    pub fn snapshot(&self) -> StatsSnapshot {
        self.stats.snapshot(self.queue.counts())
    }

    /// True once the capture thread has finished (source ended or cancelled).
    pub fn capture_finished(&self) -> bool {
        self.capture
            .lock()
            .unwrap()
            .as_ref()
            .is_none_or(|h| h.is_finished())
    }
}
