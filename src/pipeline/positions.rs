//! Where every env is: each feed's position read from its frames' info (the fields named by
//! `--map-fields`, default `x`, `y`, `map`), its trail over the last seconds, and coverage:
//! every position any env entered since the start, with its count of visits.
//!
//! The capture threads write ([`Positions::observe`]); the map view, serve's map and
//! `stats --json` read a [`MapSnapshot`].

use super::layout::WorldLayout;
use crate::info::{Info, Scalar};
use serde::Serialize;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a trail is by default.
pub const DEFAULT_TRAIL: Duration = Duration::from_secs(30);
/// Most points one trail keeps, whatever its duration (a bound on memory).
const MAX_TRAIL_POINTS: usize = 4096;

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

#[derive(Debug, Default)]
struct Tracks {
    regions: Vec<String>,
    region_ids: HashMap<String, u32>,
    /// Each region's (min x, min y, max x, max y) over the positions entered.
    bounds: Vec<(i32, i32, i32, i32)>,
    feeds: HashMap<String, (Arc<Track>, HashSet<Pos>)>,
    coverage: HashMap<Pos, u32>,
    /// The coverage as a list for readers, and when it was made: rebuilt after a change,
    /// at most every [`COVERAGE_EVERY`] unless a new position was entered.
    coverage_list: Option<(Coverage, Instant)>,
    coverage_grew: bool,
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
    /// Every position entered by any feed, with its visits.
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

    /// Takes the position from one captured frame's info of feed `name`.
    pub fn observe(&self, name: &str, info: Option<&Info>, now: Instant) {
        let read = info.and_then(|i| self.read(i));
        let mut g = self.tracks.lock().unwrap();
        let Some((region, x, y)) = read else {
            if let Some((t, _)) = g.feeds.get_mut(name) {
                if t.has_fields || t.current.is_some() {
                    let t = Arc::make_mut(t);
                    t.has_fields = false;
                    t.current = None;
                }
            } else {
                g.feeds.insert(name.to_string(), Default::default());
            }
            return;
        };
        let region = g.region_id(region);
        let pos = Pos { region, x, y };
        let trail = self.trail;
        let tracks = &mut *g;
        let (track, visited) = tracks.feeds.entry(name.to_string()).or_default();
        if track.current == Some(pos) && track.has_fields {
            return;
        }
        let track = Arc::make_mut(track);
        track.has_fields = true;
        if track.current != Some(pos) {
            track.current = Some(pos);
            track.trail.push_back((now, pos));
            if visited.insert(pos) {
                track.distinct += 1;
            }
            let n = tracks.coverage.entry(pos).or_insert(0);
            tracks.coverage_grew |= *n == 0;
            *n += 1;
            let b = &mut tracks.bounds[region as usize];
            *b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
        }
        cut_trail(&mut track.trail, now, trail);
    }

    /// The tracks now.
    pub fn snapshot(&self, now: Instant) -> MapSnapshot {
        let mut g = self.tracks.lock().unwrap();
        let fresh = match &g.coverage_list {
            Some((list, made))
                if !g.coverage_grew && now.saturating_duration_since(*made) < COVERAGE_EVERY =>
            {
                list.len() == g.coverage.len()
            }
            _ => false,
        };
        if !fresh {
            let mut list: Vec<(Pos, u32)> = g.coverage.iter().map(|(p, n)| (*p, *n)).collect();
            list.sort_unstable();
            g.coverage_list = Some((Arc::new(list), now));
            g.coverage_grew = false;
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
                .map(|(n, (t, _))| (n.clone(), t.clone()))
                .collect(),
            coverage,
            at: Some(now),
            trail: self.trail,
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
