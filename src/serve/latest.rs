//! The newest frame of each feed, and its JPEG made at most once, on demand.
//!
//! A distributor thread per feed moves frames from the feed's queue into its [`Latest`]
//! (newest wins). Nothing is encoded until a client asks; then the first asker encodes and
//! everyone else asking for the same frame and settings waits for that one encode.

use super::STOP_WAIT;
use crate::cancel::{join_within, Cancel};
use crate::encode::{Backend, EncodedJpeg, JpegCache};
use crate::frame::SharedFrame;
use crate::pipeline::{Feed, FeedSet, Settings};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How often the distributor looks for new feeds.
const DISCOVER_EVERY: Duration = Duration::from_millis(100);

/// The newest frame held and its sequence number.
#[derive(Debug, Default)]
struct Held {
    seq: u64,
    frame: Option<SharedFrame>,
}

#[derive(Debug)]
struct EncState {
    cache: JpegCache,
    last: Option<((u64, u32, u8), EncodedJpeg)>,
}

/// One encoded newest frame, as handed to clients.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// The holder's sequence number of the frame (increases by one per frame received).
    pub seq: u64,
    /// The frame.
    pub frame: SharedFrame,
    /// Its JPEG.
    pub jpeg: EncodedJpeg,
    /// True when this call did the encoding (false: shared or reused).
    pub fresh: bool,
}

/// The newest frame of one feed (by key: a feed that left and came back is the same).
#[derive(Debug)]
pub struct Latest {
    feed: Mutex<Arc<Feed>>,
    held: Mutex<Held>,
    changed: Condvar,
    enc: Mutex<EncState>,
    encodes: AtomicU64,
}

impl Latest {
    /// An empty holder for `feed`'s frames, encoding with `backend`.
    pub fn new(feed: Arc<Feed>, backend: Backend) -> Latest {
        Latest {
            feed: Mutex::new(feed),
            held: Mutex::new(Held::default()),
            changed: Condvar::new(),
            enc: Mutex::new(EncState {
                cache: JpegCache::new(backend),
                last: None,
            }),
            encodes: AtomicU64::new(0),
        }
    }

    /// The feed whose frames this holds.
    pub fn feed(&self) -> Arc<Feed> {
        self.feed.lock().unwrap().clone()
    }

    /// Follows `feed` from now on, when the set has a new feed object under the same key.
    fn rebind(&self, feed: Arc<Feed>) {
        *self.feed.lock().unwrap() = feed;
    }

    /// Replaces the newest frame and wakes waiting clients.
    pub fn put(&self, frame: SharedFrame) {
        let mut s = self.held.lock().unwrap();
        s.seq += 1;
        s.frame = Some(frame);
        drop(s);
        self.changed.notify_all();
    }

    /// The newest frame and its sequence number.
    pub fn current(&self) -> Option<(u64, SharedFrame)> {
        let s = self.held.lock().unwrap();
        s.frame.clone().map(|f| (s.seq, f))
    }

    /// Waits up to `timeout` for a frame newer than `seq`; returns the newest sequence number.
    pub fn wait_newer(&self, seq: u64, timeout: Duration) -> Option<u64> {
        let g = self.held.lock().unwrap();
        let (g, _) = self
            .changed
            .wait_timeout_while(g, timeout, |s| s.seq <= seq || s.frame.is_none())
            .unwrap();
        (g.seq > seq && g.frame.is_some()).then_some(g.seq)
    }

    /// Wakes every waiting client (used at shutdown).
    pub fn wake_all(&self) {
        self.changed.notify_all();
    }

    /// How many times a JPEG was actually made (not shared, not reused).
    pub fn encodes(&self) -> u64 {
        self.encodes.load(Ordering::Relaxed)
    }

    /// The newest frame as JPEG at `settings`, encoded at most once per frame and settings
    /// however many clients ask; `None` before the first frame.
    pub fn jpeg(&self, settings: Settings) -> Result<Option<Encoded>, crate::encode::EncodeError> {
        let mut enc = self.enc.lock().unwrap();
        let Some((seq, frame)) = self.current() else {
            return Ok(None);
        };
        let key = (seq, settings.scale(), settings.quality());
        if let Some((k, jpeg)) = &enc.last {
            if *k == key {
                return Ok(Some(Encoded {
                    seq,
                    frame,
                    jpeg: jpeg.clone(),
                    fresh: false,
                }));
            }
        }
        let feed = self.feed();
        let stats = &feed.stats;
        let jpeg = enc.cache.encode(&frame, key.1, key.2, Some(stats))?;
        if !jpeg.reused {
            self.encodes.fetch_add(1, Ordering::Relaxed);
        }
        stats.record_done(&frame);
        enc.last = Some((key, jpeg.clone()));
        Ok(Some(Encoded {
            seq,
            frame,
            fresh: !jpeg.reused,
            jpeg,
        }))
    }
}

/// Every feed's [`Latest`], kept filled by distributor threads.
#[derive(Debug, Clone)]
pub struct LatestSet {
    holders: Arc<Mutex<HashMap<String, Arc<Latest>>>>,
    set: FeedSet,
}

impl LatestSet {
    /// Starts distributing frames of every feed of `set`, present and future. The returned
    /// thread ends once `cancel` is cancelled, after joining the per-feed distributors
    /// (each within [`STOP_WAIT`] of the cancel).
    pub fn start(
        set: FeedSet,
        backend: Backend,
        cancel: Cancel,
    ) -> (LatestSet, std::thread::JoinHandle<()>) {
        let me = LatestSet {
            holders: Arc::new(Mutex::new(HashMap::new())),
            set,
        };
        let sup = me.clone();
        let supervisor = std::thread::Builder::new()
            .name("serve-distributor".into())
            .spawn(move || sup.supervise(backend, &cancel))
            .expect("spawn distributor thread");
        (me, supervisor)
    }

    /// Gives every feed of the set a holder and a distributor thread until `cancel`; then
    /// wakes waiting clients and joins the distributors. A feed that leaves the set loses its
    /// thread; its holder stays while the set remembers the feed (a publisher that comes back
    /// is the same feed, and its stream clients go on), so neither grows with churning names.
    fn supervise(&self, backend: Backend, cancel: &Cancel) {
        let mut running: HashMap<String, (Cancel, std::thread::JoinHandle<()>)> = HashMap::new();
        let mut stopping = Vec::new();
        loop {
            let feeds = self.set.feeds();
            for feed in &feeds {
                let latest = self.holder(feed, backend);
                if running.contains_key(&feed.key) {
                    continue;
                }
                let stop = cancel.child();
                let spawned = std::thread::Builder::new()
                    .name(format!("serve-{}", feed.name))
                    .stack_size(256 * 1024)
                    .spawn({
                        let stop = stop.clone();
                        move || distribute(latest, stop)
                    });
                if let Ok(thread) = spawned {
                    running.insert(feed.key.clone(), (stop, thread));
                }
            }
            let present: HashSet<&str> = feeds.iter().map(|f| f.key.as_str()).collect();
            let leaving: Vec<String> = running
                .keys()
                .filter(|key| !present.contains(key.as_str()))
                .cloned()
                .collect();
            for key in leaving {
                if let Some((stop, thread)) = running.remove(&key) {
                    stop.cancel();
                    stopping.push(thread);
                }
            }
            stopping.retain(|t: &std::thread::JoinHandle<()>| !t.is_finished());
            let mut holders = self.holders.lock().unwrap();
            if holders.len() > present.len() {
                let remembered = self.set.remembered();
                holders.retain(|key, _| present.contains(key.as_str()) || remembered.contains(key));
            }
            drop(holders);
            if cancel.sleep(DISCOVER_EVERY) {
                break;
            }
        }
        for l in self.holders.lock().unwrap().values() {
            l.wake_all();
        }
        let deadline = Instant::now() + STOP_WAIT;
        for t in running.into_values().map(|(_, t)| t).chain(stopping) {
            join_within(t, deadline.saturating_duration_since(Instant::now()));
        }
    }

    /// The holder of `feed`, made on first sight, following `feed` when the set replaced
    /// the feed object under its key.
    fn holder(&self, feed: &Arc<Feed>, backend: Backend) -> Arc<Latest> {
        let mut h = self.holders.lock().unwrap();
        if let Some(held) = h.get(&feed.key) {
            if !Arc::ptr_eq(&held.feed(), feed) {
                held.rebind(feed.clone());
            }
            return held.clone();
        }
        let latest = Arc::new(Latest::new(feed.clone(), backend));
        h.insert(feed.key.clone(), latest.clone());
        latest
    }

    /// How many feeds have a holder now (present ones and those the set remembers).
    pub fn held(&self) -> usize {
        self.holders.lock().unwrap().len()
    }

    /// The feeds now, in discovery order, with their holders (once the distributor has one).
    pub fn feeds(&self) -> Vec<(Arc<Feed>, Option<Arc<Latest>>)> {
        let h = self.holders.lock().unwrap();
        self.set
            .feeds()
            .into_iter()
            .map(|f| {
                let l = h.get(&f.key).cloned();
                (f, l)
            })
            .collect()
    }

    /// The feeds it distributes from.
    pub fn feed_set(&self) -> &FeedSet {
        &self.set
    }
}

/// Moves the newest frame of the feed into `latest` as soon as it is captured.
fn distribute(latest: Arc<Latest>, cancel: Cancel) {
    while !cancel.is_cancelled() {
        // Looked up each time: the feed may have been replaced by one under the same key.
        let feed = latest.feed();
        let queue = &feed.queue;
        if let Some(first) = queue.pop_timeout(Duration::from_millis(200)) {
            latest.put(queue.pop_newest().unwrap_or(first));
        } else if (queue.is_closed() || feed.capture_finished())
            && cancel.sleep(Duration::from_millis(200))
        {
            break;
        }
    }
}
