//! The set of feeds (one per source) that consumers read, kept up to date as publishers
//! come and go.

use super::cancel::Cancel;
use super::capture::{spawn_capture, CaptureHandle, CaptureTargets};
use super::preset::SharedSettings;
use super::queue::DropOldestQueue;
use super::stats::{FeedStats, StatsSnapshot};
use crate::frame::SharedFrame;
use crate::source::{Candidate, SourceKind, SourceSpec};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// How often dynamic sources (directories, globs) are rescanned.
const RESCAN_EVERY: Duration = Duration::from_millis(500);

/// Where a feed stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedState {
    /// Opened, no frame yet.
    Waiting,
    /// Producing frames.
    Online,
    /// Not producing; the reason is shown.
    Offline(String),
    /// Could not be read; the one-line error is shown.
    Error(String),
    /// A finite source (recording) reached its end.
    Ended,
    /// The source disappeared long ago; the feed is about to be removed.
    Gone,
}

/// A feed's state and since when.
#[derive(Debug, Clone)]
pub struct FeedStatus {
    pub state: FeedState,
    /// When the state last changed.
    pub since: Instant,
}

/// One source's pipeline: its queue, figures and status.
#[derive(Debug)]
pub struct Feed {
    pub name: String,
    /// Identifies the source (path, URL) for deduplication.
    pub key: String,
    /// How its frames arrive.
    pub kind: SourceKind,
    pub queue: Arc<DropOldestQueue<SharedFrame>>,
    pub stats: Arc<FeedStats>,
    status: Arc<Mutex<FeedStatus>>,
    capture: Mutex<Option<CaptureHandle>>,
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
        self.retire_gone(known);
        for spec in specs {
            for candidate in spec.scan(options) {
                if known.insert(candidate.key.clone()) {
                    self.add(candidate, options);
                }
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
        match open() {
            Ok(source) => {
                let feed = Arc::new(Feed::new(
                    name,
                    key,
                    kind,
                    options.queue_capacity,
                    FeedState::Waiting,
                ));
                let handle = spawn_capture(
                    source,
                    CaptureTargets {
                        queue: feed.queue.clone(),
                        stats: feed.stats.clone(),
                        status: feed.status.clone(),
                        arrived: self.arrived.0.clone(),
                    },
                    self.settings.clone(),
                    self.cancel.clone(),
                );
                *feed.capture.lock().unwrap() = Some(handle);
                self.feeds.write().unwrap().push(feed);
            }
            Err(e) => {
                let feed = Feed::new(
                    name,
                    key,
                    kind,
                    options.queue_capacity,
                    FeedState::Error(e.to_string()),
                );
                self.feeds.write().unwrap().push(Arc::new(feed));
            }
        }
    }

    /// Removes feeds whose source is gone and whose capture thread has ended, so a run with
    /// publishers coming and going for hours does not accumulate them.
    fn retire_gone(&self, known: &mut HashSet<String>) {
        let mut feeds = self.feeds.write().unwrap();
        feeds.retain(|f| {
            let gone = f.status().state == FeedState::Gone && f.capture_finished();
            if gone {
                known.remove(&f.key);
                if let Some(h) = f.capture.lock().unwrap().take() {
                    let _ = h.thread.join();
                }
            }
            !gone
        });
    }

    /// Ready whenever some feed queued a frame since the last receive: lets a consumer
    /// sleep until there is something to take.
    pub fn arrivals(&self) -> crossbeam_channel::Receiver<()> {
        self.arrived.1.clone()
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
