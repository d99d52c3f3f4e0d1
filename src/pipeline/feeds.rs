//! The set of feeds (one per source) that consumers read, kept up to date as publishers
//! come and go.

use super::capture::spawn_capture;
use super::feed::Feed;
use super::history::History;
use super::positions::{MapFields, Positions, DEFAULT_TRAIL};
use super::preset::SharedSettings;
use super::status::FeedState;
use crate::cancel::Cancel;
use crate::source::{Candidate, OpenFn, SourceKind, SourceOptions, SourceSpec, DEMO_KEY};
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// How often dynamic sources (directories, globs) are rescanned.
const RESCAN_EVERY: Duration = Duration::from_millis(500);
/// How often a source that is still there but could not be opened is tried again.
const REOPEN_EVERY: Duration = Duration::from_secs(2);
/// How many feeds that left are remembered, so that a source coming back under the same
/// key (a restarted publisher) is the same feed again, with its queue and counters.
const REMEMBER_RETIRED: usize = 256;

/// Options shared by every feed of a set.
#[derive(Debug, Clone)]
pub struct FeedOptions {
    /// Capacity of each feed's drop-oldest queue, in frames.
    pub queue_capacity: usize,
    /// How sources are opened.
    pub source: SourceOptions,
    /// The info fields that hold an env's position.
    pub map_fields: MapFields,
    /// How long the map's trails are.
    pub trail: Duration,
    /// The history every feed keeps its recent frames in (`None`: no history).
    pub history: Option<History>,
}

impl Default for FeedOptions {
    fn default() -> Self {
        FeedOptions {
            queue_capacity: 10,
            source: SourceOptions::default(),
            map_fields: MapFields::default(),
            trail: DEFAULT_TRAIL,
            history: None,
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
    /// Every feed's position, trail and the coverage, from the frames' info.
    pub positions: Arc<Positions>,
    arrived: (
        crossbeam_channel::Sender<()>,
        crossbeam_channel::Receiver<()>,
    ),
    /// The history every feed keeps, if any.
    history: Option<History>,
    /// The rescanning thread, joined by [`FeedSet::stop`].
    discovery: Arc<Mutex<Option<std::thread::JoinHandle<()>>>>,
}

impl FeedSet {
    /// Opens every source in `specs` and keeps rescanning the dynamic ones, as the one
    /// stopping point of a program that has no other (a library user's; the commands use
    /// [`FeedSet::start_under`]).
    pub fn start(
        specs: Vec<SourceSpec>,
        settings: SharedSettings,
        options: FeedOptions,
    ) -> FeedSet {
        FeedSet::start_under(&Cancel::new(), specs, settings, options)
    }

    /// Opens every source in `specs` and keeps rescanning the dynamic ones; everything the
    /// set starts stops with `parent` (or with [`FeedSet::stop`]).
    pub fn start_under(
        parent: &Cancel,
        specs: Vec<SourceSpec>,
        settings: SharedSettings,
        options: FeedOptions,
    ) -> FeedSet {
        let positions = Positions::new(options.map_fields.clone(), options.trail);
        if let Some(h) = &options.history {
            positions.keep_past(h.options().span);
        }
        let set = FeedSet {
            feeds: Arc::new(RwLock::new(Vec::new())),
            retired: Arc::new(Mutex::new(VecDeque::new())),
            problems: Arc::new(Mutex::new(Vec::new())),
            settings,
            cancel: parent.child(),
            positions: Arc::new(positions),
            arrived: crossbeam_channel::bounded(1),
            history: options.history.clone(),
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
            let (found, said) = spec.scan_each(&options.source);
            candidates.extend(found);
            problems.extend(said);
        }
        if demo_fallback
            && candidates.is_empty()
            && self.feeds().iter().all(|f| f.kind == SourceKind::Demo)
        {
            candidates.extend(SourceSpec::Demo.scan(&options.source));
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
                options.history.as_ref().map(History::track),
            )),
        };
        self.open_into(&feed, open);
        self.feeds.write().unwrap().push(feed);
    }

    /// Opens `open` as the source of `feed` and starts its capture thread; a failure becomes
    /// the feed's `Error` state.
    fn open_into(&self, feed: &Arc<Feed>, open: OpenFn) {
        let cancel = self.cancel.child();
        match open(&cancel) {
            Ok(source) => {
                feed.queue.reopen();
                feed.set_state(FeedState::Waiting);
                let thread = spawn_capture(
                    source,
                    feed.clone(),
                    self.arrived.0.clone(),
                    self.settings.clone(),
                    self.positions.clone(),
                    cancel.clone(),
                );
                feed.attach(thread, cancel);
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
            f.stop_capture();
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

    /// The history the feeds keep (`None` when the process keeps none).
    pub fn history(&self) -> Option<&History> {
        self.history.as_ref()
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
            feed.join_capture();
        }
    }
}
