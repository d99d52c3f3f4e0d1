//! The set of feeds (one per source) that consumers read, kept up to date as publishers
//! come and go.

use super::cancel::Cancel;
use super::capture::{spawn_capture, CaptureHandle, CaptureTargets};
use super::preset::SharedSettings;
use super::queue::DropOldestQueue;
use super::stats::{FeedStats, StatsSnapshot};
use crate::frame::SharedFrame;
use crate::source::{Candidate, OpenFn, SourceKind, SourceSpec, DEMO_KEY};
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// How often dynamic sources (directories, globs) are rescanned.
const RESCAN_EVERY: Duration = Duration::from_millis(500);
/// A feed whose newest frame is older than this is shown as stale, never as online.
pub const STALE_AFTER: Duration = Duration::from_secs(3);
/// How often a source that is still there but could not be opened is tried again.
const REOPEN_EVERY: Duration = Duration::from_secs(2);
/// How many feeds that left are remembered, so that a source coming back under the same
/// key (a restarted publisher) is the same feed again, with its queue and counters.
const REMEMBER_RETIRED: usize = 256;

/// Where a feed stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedState {
    /// Opened, no frame yet.
    Waiting,
    /// Producing frames.
    Online,
    /// Had frames, but the newest is older than [`STALE_AFTER`]: the picture shown is old.
    Stale,
    /// Not producing; the reason is shown.
    Offline(String),
    /// Could not be read; the one-line error is shown.
    Error(String),
    /// A finite source (recording) reached its end.
    Ended,
    /// The source disappeared long ago; the feed is about to be removed.
    Gone,
}

impl std::fmt::Display for FeedState {
    /// One line for people: `online`, `stale`, `offline: REASON`, `error: MESSAGE`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FeedState::Waiting => f.write_str("waiting"),
            FeedState::Online => f.write_str("online"),
            FeedState::Stale => f.write_str("stale"),
            FeedState::Offline(r) => write!(f, "offline: {r}"),
            FeedState::Error(e) => write!(f, "error: {e}"),
            FeedState::Ended => f.write_str("ended"),
            FeedState::Gone => f.write_str("gone"),
        }
    }
}

/// A feed's state and since when.
#[derive(Debug, Clone)]
pub struct FeedStatus {
    /// What the feed is doing.
    pub state: FeedState,
    /// When the state last changed.
    pub since: Instant,
}

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
    status: Arc<Mutex<FeedStatus>>,
    capture: Mutex<Option<CaptureHandle>>,
    /// Stops this feed's capture thread alone (the demo making room for a publisher).
    stop: Mutex<Cancel>,
    /// Whether a consumer shows it now (see [`Feed::set_shown`]).
    shown: Arc<AtomicBool>,
    /// The most frames a second its consumer can use (see [`Feed::set_rate_cap`]).
    rate_cap: Arc<AtomicU32>,
}

impl Feed {
    fn new(name: String, key: String, kind: SourceKind, capacity: usize, state: FeedState) -> Feed {
        Feed {
            name,
            key,
            kind,
            queue: Arc::new(DropOldestQueue::new(capacity)),
            stats: Arc::new(FeedStats::new()),
            status: Arc::new(Mutex::new(FeedStatus {
                state,
                since: Instant::now(),
            })),
            capture: Mutex::new(None),
            stop: Mutex::new(Cancel::new()),
            shown: Arc::new(AtomicBool::new(true)),
            rate_cap: Arc::new(AtomicU32::new(u32::MAX)),
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

    fn set_state(&self, state: FeedState) {
        super::capture::set_state(&self.status, state);
    }

    /// True while no capture thread was ever started for the current source (it could not
    /// be opened).
    fn never_opened(&self) -> bool {
        self.capture.lock().unwrap().is_none()
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
            .is_none_or(|h| h.thread.is_finished())
    }
}

/// Options shared by every feed of a set.
#[derive(Debug, Clone)]
pub struct FeedOptions {
    /// Capacity of each feed's drop-oldest queue, in frames.
    pub queue_capacity: usize,
    /// Read slots owned by other users too.
    pub allow_foreign: bool,
    /// Replay speed of recordings (1.0 = original timing).
    pub speed: f64,
    /// Replay recordings again from the start when they end.
    pub looping: bool,
}

impl Default for FeedOptions {
    fn default() -> Self {
        FeedOptions {
            queue_capacity: 10,
            allow_foreign: false,
            speed: 1.0,
            looping: false,
        }
    }
}

/// All feeds of a run, discovered from the command line's sources.
#[derive(Debug, Clone)]
pub struct FeedSet {
    feeds: Arc<RwLock<Vec<Arc<Feed>>>>,
    /// Feeds that left, newest last, revived when their key is discovered again.
    retired: Arc<Mutex<VecDeque<Arc<Feed>>>>,
    /// Why a SOURCE could not be scanned (an unreadable directory), from the last scan.
    problems: Arc<Mutex<Vec<String>>>,
    /// The settings every capture thread and consumer reads; a change applies to all feeds.
    pub settings: SharedSettings,
    /// Stops discovery and every capture thread ([`FeedSet::stop`] also waits for them).
    pub cancel: Cancel,
    arrived: (
        crossbeam_channel::Sender<()>,
        crossbeam_channel::Receiver<()>,
    ),
    /// The rescanning thread, joined by [`FeedSet::stop`].
    discovery: Arc<Mutex<Option<std::thread::JoinHandle<()>>>>,
}

impl FeedSet {
    /// Opens every source in `specs` and keeps rescanning the dynamic ones.
    pub fn start(
        specs: Vec<SourceSpec>,
        settings: SharedSettings,
        options: FeedOptions,
    ) -> FeedSet {
        let set = FeedSet {
            feeds: Arc::new(RwLock::new(Vec::new())),
            retired: Arc::new(Mutex::new(VecDeque::new())),
            problems: Arc::new(Mutex::new(Vec::new())),
            settings,
            cancel: Cancel::new(),
            arrived: crossbeam_channel::bounded(1),
            discovery: Arc::default(),
        };
        let mut known = HashSet::new();
        set.scan(&specs, &options, &mut known);
        if specs.iter().any(|s| s.is_dynamic()) {
            let me = set.clone();
            let thread = std::thread::Builder::new()
                .name("discovery".into())
                .spawn(move || {
                    while !me.cancel.sleep(RESCAN_EVERY) {
                        me.scan(&specs, &options, &mut known);
                    }
                })
                .expect("spawn discovery thread");
            *set.discovery.lock().unwrap() = Some(thread);
        }
        set
    }

    fn scan(&self, specs: &[SourceSpec], options: &FeedOptions, known: &mut HashSet<String>) {
        let mut problems = Vec::new();
        let mut candidates = Vec::new();
        let mut demo_fallback = false;
        for spec in specs {
            if *spec == SourceSpec::DemoUntilPublisher {
                demo_fallback = true;
                continue;
            }
            match spec.try_scan(options) {
                Ok(found) => candidates.extend(found),
                Err(problem) => problems.push(problem),
            }
        }
        if demo_fallback
            && candidates.is_empty()
            && self.feeds().iter().all(|f| f.kind == SourceKind::Demo)
        {
            candidates.extend(SourceSpec::Demo.scan(options));
        }
        *self.problems.lock().unwrap() = problems;
        let present: HashSet<&str> = candidates.iter().map(|c| c.key.as_str()).collect();
        self.retire(known, &present);
        let mut retry = Vec::new();
        for candidate in candidates {
            if known.insert(candidate.key.clone()) {
                self.add(candidate, options);
            } else {
                retry.push(candidate);
            }
        }
        // Sources that are still there but could not be opened are tried again: a slot caught
        // while its publisher was creating it, a server that answered wrongly at start.
        for candidate in retry {
            let Some(feed) = self.feeds().into_iter().find(|f| f.key == candidate.key) else {
                continue;
            };
            if feed.never_opened() && feed.status().since.elapsed() >= REOPEN_EVERY {
                self.open_into(&feed, candidate.open);
            }
        }
    }

    fn add(&self, candidate: Candidate, options: &FeedOptions) {
        let Candidate {
            name,
            key,
            kind,
            open,
        } = candidate;
        let revived = {
            let mut retired = self.retired.lock().unwrap();
            let i = retired.iter().position(|f| f.key == key);
            i.and_then(|i| retired.remove(i))
        };
        let feed = match revived {
            Some(feed) => {
                // The publisher restarted: same feed, new baselines for gaps and rates.
                feed.stats.publisher_restarted();
                feed
            }
            None => Arc::new(Feed::new(
                name,
                key,
                kind,
                options.queue_capacity,
                FeedState::Waiting,
            )),
        };
        self.open_into(&feed, open);
        self.feeds.write().unwrap().push(feed);
    }

    /// Opens `open` as the source of `feed` and starts its capture thread; a failure becomes
    /// the feed's `Error` state.
    fn open_into(&self, feed: &Arc<Feed>, open: OpenFn) {
        match open() {
            Ok(source) => {
                let cancel = self.cancel.child();
                *feed.stop.lock().unwrap() = cancel.clone();
                feed.queue.reopen();
                feed.set_state(FeedState::Waiting);
                let handle = spawn_capture(
                    source,
                    CaptureTargets {
                        queue: feed.queue.clone(),
                        stats: feed.stats.clone(),
                        status: feed.status.clone(),
                        arrived: self.arrived.0.clone(),
                        shown: feed.shown.clone(),
                        rate_cap: feed.rate_cap.clone(),
                    },
                    self.settings.clone(),
                    cancel,
                );
                *feed.capture.lock().unwrap() = Some(handle);
            }
            Err(e) => feed.set_state(FeedState::Error(e.to_string())),
        }
    }

    /// Removes feeds whose source is gone (and whose capture thread has ended), whose source
    /// could not be opened and is no longer there, and the demo once a publisher is there.
    /// They are remembered for a while, so one coming back is the same feed.
    fn retire(&self, known: &mut HashSet<String>, present: &HashSet<&str>) {
        let mut feeds = self.feeds.write().unwrap();
        let mut leaving = Vec::new();
        feeds.retain(|f| {
            let gone = f.status().state == FeedState::Gone && f.capture_finished();
            let vanished = !present.contains(f.key.as_str()) && f.never_opened();
            let demo_replaced = f.kind == SourceKind::Demo
                && f.key == DEMO_KEY
                && !present.contains(f.key.as_str())
                && !present.is_empty();
            let leave = gone || vanished || demo_replaced;
            if leave {
                leaving.push(f.clone());
            }
            !leave
        });
        drop(feeds);
        for f in leaving {
            known.remove(&f.key);
            f.stop.lock().unwrap().cancel();
            if let Some(h) = f.capture.lock().unwrap().take() {
                let _ = h.thread.join();
            }
            if f.status().state != FeedState::Gone {
                f.set_state(FeedState::Gone);
            }
            let mut retired = self.retired.lock().unwrap();
            retired.push_back(f);
            while retired.len() > REMEMBER_RETIRED {
                retired.pop_front();
            }
        }
    }

    /// Why some SOURCE could not be scanned at the last scan (an unreadable directory).
    pub fn problems(&self) -> Vec<String> {
        self.problems.lock().unwrap().clone()
    }

    /// Ready whenever some feed queued a frame since the last receive: lets a consumer
    /// sleep until there is something to take.
    pub fn arrivals(&self) -> crossbeam_channel::Receiver<()> {
        self.arrived.1.clone()
    }

    /// The keys of feeds that have left but are remembered: a source coming back under
    /// one of them is the same feed.
    pub fn remembered(&self) -> HashSet<String> {
        self.retired
            .lock()
            .unwrap()
            .iter()
            .map(|f| f.key.clone())
            .collect()
    }

    /// The feeds now, in discovery order.
    pub fn feeds(&self) -> Vec<Arc<Feed>> {
        self.feeds.read().unwrap().clone()
    }

    /// Stops discovery and every capture thread and waits for them.
    pub fn stop(&self) {
        self.cancel.cancel();
        if let Some(t) = self.discovery.lock().unwrap().take() {
            let _ = t.join();
        }
        for feed in self.feeds() {
            if let Some(h) = feed.capture.lock().unwrap().take() {
                let _ = h.thread.join();
            }
        }
    }
}
