//! Where every env is: each feed's position read from its frames' info (the fields named by
//! `--map-fields`, default `x`, `y`, `map`), its trail over the last seconds, and coverage:
//! every position any env entered since the start, with its count of visits.
//!
//! The capture threads write ([`Positions::observe`]); the map view, serve's map and
//! `stats --json` read a [`MapSnapshot`]. While the process keeps history, each feed also
//! keeps its past positions on the history's clock, so a paused monitor's map shows where
//! every env was at the instant shown ([`Positions::snapshot_at`]).

use super::layout::WorldLayout;
use crate::clock::monotonic_ns;
use crate::info::{Info, Scalar};
use serde::Serialize;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a trail is by default.
pub const DEFAULT_TRAIL: Duration = Duration::from_secs(30);
/// Most points one trail keeps, whatever its duration (a bound on memory).
const MAX_TRAIL_POINTS: usize = 4096;
/// Most past positions one feed keeps for paused instants (a bound on memory).
const MAX_PAST_POINTS: usize = 65_536;

/// The info fields that hold a position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MapFields {
    /// The horizontal coordinate's field.
    pub x: String,
    /// The vertical coordinate's field.
    pub y: String,
    /// The region (map id) field; an env without it is in region "" (the one world).
    pub region: Option<String>,
}

impl Default for MapFields {
    fn default() -> Self {
        MapFields {
            x: "x".into(),
            y: "y".into(),
            region: Some("map".into()),
        }
    }
}

impl std::str::FromStr for MapFields {
    type Err = String;

    /// `X,Y` or `X,Y,REGION`.
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        if parts.iter().any(|p| p.is_empty()) || !(2..=3).contains(&parts.len()) {
            return Err(format!(
                "{s:?}: give the position's fields as X,Y or X,Y,REGION (e.g. x,y,map)"
            ));
        }
        Ok(MapFields {
            x: parts[0].into(),
            y: parts[1].into(),
            region: parts.get(2).map(|r| r.to_string()),
        })
    }
}

/// One position: a region (an index into [`MapSnapshot::regions`]) and its coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pos {
    /// The region's index.
    pub region: u32,
    /// Horizontal coordinate.
    pub x: i32,
    /// Vertical coordinate.
    pub y: i32,
}

/// One feed's track.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Track {
    /// The newest position; `None` before the first, or while the info has no position.
    pub current: Option<Pos>,
    /// Whether the newest info had the position fields (false: listed as "no position").
    pub has_fields: bool,
    /// The positions entered within the trail's duration, oldest first, with when.
    pub trail: VecDeque<(Instant, Pos)>,
    /// Distinct positions this feed entered.
    pub distinct: u64,
}

/// One feed's track and what it is made from.
#[derive(Debug, Default)]
struct FeedTrack {
    track: Arc<Track>,
    visited: HashSet<Pos>,
    /// Every change of position (`None`: no position fields) on the history's clock, oldest
    /// first, for [`Positions::snapshot_at`].
    past: VecDeque<(u64, Option<Pos>)>,
}

#[derive(Debug, Default)]
struct Tracks {
    regions: Vec<String>,
    region_ids: HashMap<String, u32>,
    /// Each region's (min x, min y, max x, max y) over the positions entered.
    bounds: Vec<(i32, i32, i32, i32)>,
    feeds: HashMap<String, FeedTrack>,
    /// Every position entered, in the order first entered, with its visits: a position
    /// keeps its place, so a reader finds what changed by comparing two lists in step.
    coverage: Vec<(Pos, u32)>,
    /// Where each position is in `coverage`.
    coverage_index: HashMap<Pos, usize>,
    /// The coverage as readers share it, and when it was copied: copied again after a
    /// change, at most every [`COVERAGE_EVERY`] unless a new position was entered.
    coverage_list: Option<(Coverage, Instant)>,
    coverage_grew: bool,
    coverage_changed: bool,
}

/// Every covered position with its visits, shared by readers.
type Coverage = Arc<Vec<(Pos, u32)>>;

/// How often readers see new visit counts of known positions.
const COVERAGE_EVERY: Duration = Duration::from_secs(1);

/// Every feed's position, trail and coverage; shared by the capture threads of a set.
#[derive(Debug)]
pub struct Positions {
    fields: MapFields,
    trail: Duration,
    /// How long past positions are kept (0: none, the process keeps no history).
    keep_ns: std::sync::atomic::AtomicU64,
    /// An [`Instant`] and the same moment on [`monotonic_ns`]'s clock.
    anchor: (Instant, u64),
    tracks: Mutex<Tracks>,
    layout: Mutex<Option<Arc<WorldLayout>>>,
}

/// The tracks at one instant, for drawing and reports (shared, not copied: cheap to take).
#[derive(Debug, Clone, Default)]
pub struct MapSnapshot {
    /// The region names, indexed by [`Pos::region`].
    pub regions: Vec<String>,
    /// Each region's (min x, min y, max x, max y) over the positions entered.
    pub bounds: Vec<(i32, i32, i32, i32)>,
    /// Each feed's track by name; its trail may hold points older than the trail's
    /// duration (an env that stopped moving): see [`MapSnapshot::trail`].
    pub feeds: HashMap<String, Arc<Track>>,
    /// Every position entered by any feed, with its visits, in the order first entered
    /// (a later snapshot's list starts with the same positions, in the same places).
    pub coverage: Arc<Vec<(Pos, u32)>>,
    /// When it was taken.
    pub at: Option<Instant>,
    /// How long trails are.
    pub trail: Duration,
}

impl Positions {
    /// A tracker reading `fields`, keeping trails of `trail`.
    pub fn new(fields: MapFields, trail: Duration) -> Positions {
        Positions {
            fields,
            trail,
            keep_ns: Default::default(),
            anchor: (Instant::now(), monotonic_ns()),
            tracks: Mutex::default(),
            layout: Mutex::default(),
        }
    }

    /// Sets the layout file consumers place regions by (`--map-layout`).
    pub fn set_layout(&self, layout: Option<Arc<WorldLayout>>) {
        *self.layout.lock().unwrap() = layout;
    }

    /// The layout file's regions, if one was given.
    pub fn layout(&self) -> Option<Arc<WorldLayout>> {
        self.layout.lock().unwrap().clone()
    }

    /// The fields it reads.
    pub fn fields(&self) -> &MapFields {
        &self.fields
    }

    /// How long trails are.
    pub fn trail(&self) -> Duration {
        self.trail
    }

    /// Keeps past positions for `span` (the history's span and a trail before it), for
    /// [`Positions::snapshot_at`]; zero keeps none.
    pub fn keep_past(&self, span: Duration) {
        let ns = (span + self.trail).as_nanos() as u64;
        let ns = if span.is_zero() { 0 } else { ns };
        self.keep_ns.store(ns, std::sync::atomic::Ordering::Relaxed);
    }

    /// Takes the position from one captured frame's info of feed `name`, made at `now`.
    pub fn observe(&self, name: &str, info: Option<&Info>, now: Instant) {
        self.observe_at(name, info, now, self.ns_of(now));
    }

    /// Takes the position from a captured frame of feed `name`: its info, and when it was
    /// made on the history's clock (the publisher's, else the capture's).
    pub fn observe_frame(&self, name: &str, frame: &crate::frame::Frame, now: Instant) {
        let at_ns = frame.published_ns.unwrap_or(frame.captured_ns);
        self.observe_at(name, frame.info.as_deref(), now, at_ns);
    }

    fn observe_at(&self, name: &str, info: Option<&Info>, now: Instant, at_ns: u64) {
        let read = info.and_then(|i| self.read(i));
        let keep_ns = self.keep_ns.load(std::sync::atomic::Ordering::Relaxed);
        let mut g = self.tracks.lock().unwrap();
        let Some((region, x, y)) = read else {
            if let Some(f) = g.feeds.get_mut(name) {
                if f.track.has_fields || f.track.current.is_some() {
                    let t = Arc::make_mut(&mut f.track);
                    t.has_fields = false;
                    t.current = None;
                    remember(&mut f.past, at_ns, None, keep_ns);
                }
            } else {
                let f = g.feeds.entry(name.to_string()).or_default();
                remember(&mut f.past, at_ns, None, keep_ns);
            }
            return;
        };
        let region = g.region_id(region);
        let pos = Pos { region, x, y };
        let trail = self.trail;
        let tracks = &mut *g;
        let f = tracks.feeds.entry(name.to_string()).or_default();
        let (track, visited) = (&mut f.track, &mut f.visited);
        if track.current == Some(pos) && track.has_fields {
            return;
        }
        remember(&mut f.past, at_ns, Some(pos), keep_ns);
        let track = Arc::make_mut(track);
        track.has_fields = true;
        if track.current != Some(pos) {
            track.current = Some(pos);
            track.trail.push_back((now, pos));
            if visited.insert(pos) {
                track.distinct += 1;
            }
            let next = tracks.coverage.len();
            let i = *tracks.coverage_index.entry(pos).or_insert(next);
            if i == next {
                tracks.coverage.push((pos, 0));
                tracks.coverage_grew = true;
            }
            tracks.coverage[i].1 += 1;
            tracks.coverage_changed = true;
            let b = &mut tracks.bounds[region as usize];
            *b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
        }
        cut_trail(&mut track.trail, now, trail);
    }

    /// The tracks now.
    pub fn snapshot(&self, now: Instant) -> MapSnapshot {
        let mut g = self.tracks.lock().unwrap();
        let fresh = match &g.coverage_list {
            Some((_, made)) => {
                !g.coverage_changed
                    || !g.coverage_grew && now.saturating_duration_since(*made) < COVERAGE_EVERY
            }
            None => false,
        };
        if !fresh {
            g.coverage_list = Some((Arc::new(g.coverage.clone()), now));
            g.coverage_grew = false;
            g.coverage_changed = false;
        }
        let coverage = g
            .coverage_list
            .as_ref()
            .map(|(l, _)| l.clone())
            .unwrap_or_default();
        MapSnapshot {
            regions: g.regions.clone(),
            bounds: g.bounds.clone(),
            feeds: g
                .feeds
                .iter()
                .map(|(n, f)| (n.clone(), f.track.clone()))
                .collect(),
            coverage,
            at: Some(now),
            trail: self.trail,
        }
    }

    /// The tracks as they were at `at_ns` on the history's clock (a paused instant): each
    /// feed where it was then, its trail ending there; coverage and distinct counts stay
    /// those of now. Feeds without past positions (none kept) are as now.
    pub fn snapshot_at(&self, at_ns: u64, now: Instant) -> MapSnapshot {
        let mut snap = self.snapshot(now);
        let now_ns = self.ns_of(now);
        let instant = |ns: u64| {
            now.checked_sub(Duration::from_nanos(now_ns.saturating_sub(ns)))
                .unwrap_or(now)
        };
        let from = at_ns.saturating_sub(self.trail.as_nanos() as u64);
        let g = self.tracks.lock().unwrap();
        for (name, track) in snap.feeds.iter_mut() {
            let Some(f) = g.feeds.get(name).filter(|f| !f.past.is_empty()) else {
                continue;
            };
            let end = f.past.partition_point(|(t, _)| *t <= at_ns);
            // As live: the points entered within the trail, and always the newest.
            let start = f
                .past
                .partition_point(|(t, _)| *t < from)
                .min(end.saturating_sub(1));
            let then = end.checked_sub(1).map(|i| f.past[i].1);
            let trail = f
                .past
                .range(start.min(end)..end)
                .filter_map(|(t, p)| Some((instant(*t), (*p)?)))
                .collect();
            *track = Arc::new(Track {
                current: then.flatten(),
                // Before its first change: no position yet.
                has_fields: then != Some(None),
                trail,
                distinct: track.distinct,
            });
        }
        snap.at = Some(instant(at_ns));
        snap
    }

    /// `at` on [`monotonic_ns`]'s clock.
    fn ns_of(&self, at: Instant) -> u64 {
        let (i0, ns0) = self.anchor;
        match at.checked_duration_since(i0) {
            Some(d) => ns0 + d.as_nanos() as u64,
            None => ns0.saturating_sub(i0.duration_since(at).as_nanos() as u64),
        }
    }

    fn read(&self, info: &Info) -> Option<(String, i32, i32)> {
        let x = coordinate(info.get(&self.fields.x)?)?;
        let y = coordinate(info.get(&self.fields.y)?)?;
        let region = match &self.fields.region {
            Some(field) => info.get(field).map(|v| v.to_string()).unwrap_or_default(),
            None => String::new(),
        };
        Some((region, x, y))
    }
}

impl Tracks {
    fn region_id(&mut self, name: String) -> u32 {
        if let Some(id) = self.region_ids.get(&name) {
            return *id;
        }
        let id = self.regions.len() as u32;
        self.regions.push(name.clone());
        self.bounds.push((i32::MAX, i32::MAX, i32::MIN, i32::MIN));
        self.region_ids.insert(name, id);
        id
    }
}

/// A number as a whole coordinate (floats round to the nearest); text and bools are not.
fn coordinate(v: &Scalar) -> Option<i32> {
    match v {
        Scalar::Int(i) => Some((*i).clamp(i32::MIN as i64, i32::MAX as i64) as i32),
        Scalar::Float(f) => Some(f.round().clamp(i32::MIN as f64, i32::MAX as f64) as i32),
        Scalar::Bool(_) | Scalar::Str(_) => None,
    }
}

/// Adds a change of position at `at_ns` to `past` (kept in order: never before the last)
/// and drops what is older than `keep_ns` before it; nothing is kept for `keep_ns` 0.
fn remember(past: &mut VecDeque<(u64, Option<Pos>)>, at_ns: u64, p: Option<Pos>, keep_ns: u64) {
    if keep_ns == 0 {
        return;
    }
    let at_ns = at_ns.max(past.back().map_or(0, |b| b.0));
    past.push_back((at_ns, p));
    let cutoff = at_ns.saturating_sub(keep_ns);
    // The newest point before the cutoff stays: where the feed was at the cutoff.
    while past.len() > MAX_PAST_POINTS || (past.len() > 1 && past[1].0 <= cutoff) {
        past.pop_front();
    }
}

/// Drops trail points older than `keep` (never the newest: where the env is).
fn cut_trail(trail: &mut VecDeque<(Instant, Pos)>, now: Instant, keep: Duration) {
    while trail.len() > MAX_TRAIL_POINTS
        || (trail.len() > 1
            && trail
                .front()
                .is_some_and(|(at, _)| now.duration_since(*at) > keep))
    {
        trail.pop_front();
    }
}

impl MapSnapshot {
    /// Distinct positions entered by any feed.
    pub fn distinct(&self) -> u64 {
        self.coverage.len() as u64
    }

    /// The points of `track`'s trail within the trail's duration, oldest first.
    pub fn trail<'a>(&self, track: &'a Track) -> impl Iterator<Item = Pos> + 'a {
        let t = &track.trail;
        let first = match self.at.and_then(|now| now.checked_sub(self.trail)) {
            // Oldest first: the recent points are a suffix; the newest always stays.
            Some(cutoff) => t
                .partition_point(|(when, _)| *when < cutoff)
                .min(t.len().saturating_sub(1)),
            None => 0,
        };
        t.range(first..).map(|(_, p)| *p)
    }

    /// A region's name (`""`: the one world of envs without a region field).
    pub fn region_name(&self, region: u32) -> &str {
        self.regions.get(region as usize).map_or("", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(fields: &[(&str, Scalar)]) -> Info {
        let mut i = Info::new();
        for (k, v) in fields {
            i.push(*k, v.clone()).unwrap();
        }
        i
    }

    fn at(x: i64, y: i64, map: i64) -> Info {
        info(&[
            ("x", Scalar::Int(x)),
            ("y", Scalar::Int(y)),
            ("map", Scalar::Int(map)),
        ])
    }

    #[test]
    fn counts_distinct_positions_per_feed_and_in_total() {
        let p = Positions::new(MapFields::default(), DEFAULT_TRAIL);
        let t = Instant::now();
        for (name, x) in [("a", 1), ("a", 1), ("a", 2), ("a", 1), ("b", 2), ("b", 3)] {
            p.observe(name, Some(&at(x, 0, 0)), t);
        }
        let s = p.snapshot(t);
        assert_eq!(s.feeds["a"].distinct, 2);
        assert_eq!(s.feeds["b"].distinct, 2);
        assert_eq!(s.distinct(), 3);
        // a entered (1,0) twice (it left and came back), staying does not count.
        let visits: Vec<u32> = s.coverage.iter().map(|(_, n)| *n).collect();
        assert_eq!(visits, vec![2, 2, 1]);
        assert_eq!(
            s.feeds["a"].current,
            Some(Pos {
                region: 0,
                x: 1,
                y: 0
            })
        );
    }

    #[test]
    fn regions_are_told_apart_and_named() {
        let p = Positions::new(MapFields::default(), DEFAULT_TRAIL);
        let t = Instant::now();
        p.observe("a", Some(&at(1, 1, 0)), t);
        p.observe("b", Some(&at(1, 1, 3)), t);
        let s = p.snapshot(t);
        assert_eq!(s.distinct(), 2);
        let b = s.feeds["b"].current.unwrap();
        assert_eq!(s.region_name(b.region), "3");
    }

    #[test]
    fn trails_keep_only_the_last_seconds_but_always_the_newest() {
        let p = Positions::new(MapFields::default(), Duration::from_secs(10));
        let t = Instant::now();
        p.observe("a", Some(&at(0, 0, 0)), t);
        p.observe("a", Some(&at(1, 0, 0)), t + Duration::from_secs(5));
        p.observe("a", Some(&at(2, 0, 0)), t + Duration::from_secs(12));
        let s = p.snapshot(t + Duration::from_secs(12));
        let xs: Vec<i32> = s.trail(&s.feeds["a"]).map(|p| p.x).collect();
        assert_eq!(xs, vec![1, 2]);
        let s = p.snapshot(t + Duration::from_secs(100));
        assert_eq!(s.trail(&s.feeds["a"]).count(), 1);
    }

    #[test]
    fn a_paused_instant_has_each_env_where_it_was_and_its_trail_ending_there() {
        let p = Positions::new(MapFields::default(), Duration::from_secs(10));
        p.keep_past(Duration::from_secs(60));
        let t = Instant::now();
        let s = |k: u64| t + Duration::from_secs(k);
        for (k, x) in [(0, 0), (5, 1), (12, 2), (20, 3)] {
            p.observe("a", Some(&at(x, 0, 0)), s(k));
        }
        p.observe("b", Some(&at(7, 7, 0)), s(0));
        p.observe("b", Some(&info(&[("step", Scalar::Int(1))])), s(8));
        p.observe("late", Some(&at(9, 9, 0)), s(15));
        let xs = |snap: &MapSnapshot, name: &str| -> Vec<i32> {
            snap.trail(&snap.feeds[name]).map(|p| p.x).collect()
        };
        let then = p.snapshot_at(p.ns_of(s(13)), s(21));
        assert_eq!(then.feeds["a"].current.map(|p| p.x), Some(2));
        assert_eq!(xs(&then, "a"), [1, 2], "the trail ends at the instant");
        assert!(!then.feeds["b"].has_fields, "b had no position fields then");
        assert_eq!(then.feeds["late"].current, None);
        assert!(then.feeds["late"].has_fields, "late had no position yet");
        let earlier = p.snapshot_at(p.ns_of(s(6)), s(21));
        assert_eq!(earlier.feeds["a"].current.map(|p| p.x), Some(1));
        assert_eq!(earlier.feeds["b"].current.map(|p| p.x), Some(7));
        assert_eq!(xs(&earlier, "a"), [0, 1]);
        // Coverage is that of now.
        assert_eq!(earlier.distinct(), p.snapshot(s(21)).distinct());
        // Without history nothing is kept: the paused map is the live one.
        let live = Positions::new(MapFields::default(), Duration::from_secs(10));
        live.observe("a", Some(&at(0, 0, 0)), s(0));
        live.observe("a", Some(&at(1, 0, 0)), s(5));
        let snap = live.snapshot_at(live.ns_of(s(1)), s(6));
        assert_eq!(snap.feeds["a"].current.map(|p| p.x), Some(1));
    }

    #[test]
    fn an_env_without_the_fields_is_tracked_as_such() {
        let p = Positions::new(MapFields::default(), DEFAULT_TRAIL);
        let t = Instant::now();
        p.observe("bare", Some(&info(&[("step", Scalar::Int(3))])), t);
        p.observe("none", None, t);
        p.observe(
            "text",
            Some(&info(&[
                ("x", Scalar::Str("a".into())),
                ("y", Scalar::Int(1)),
            ])),
            t,
        );
        let s = p.snapshot(t);
        for name in ["bare", "none", "text"] {
            assert!(!s.feeds[name].has_fields, "{name}");
            assert_eq!(s.feeds[name].current, None);
        }
        assert_eq!(s.distinct(), 0);
    }

    #[test]
    fn other_fields_floats_and_no_region() {
        let fields: MapFields = "px, py".parse().unwrap();
        assert_eq!(fields.region, None);
        let p = Positions::new(fields, DEFAULT_TRAIL);
        let t = Instant::now();
        p.observe(
            "a",
            Some(&info(&[
                ("px", Scalar::Float(2.6)),
                ("py", Scalar::Int(-1)),
            ])),
            t,
        );
        let s = p.snapshot(t);
        assert_eq!(
            s.feeds["a"].current,
            Some(Pos {
                region: 0,
                x: 3,
                y: -1
            })
        );
        assert_eq!(s.region_name(0), "");
        assert!("x".parse::<MapFields>().is_err());
        assert!("x,,m".parse::<MapFields>().is_err());
    }
}
