//! `GET /api/map`: where every env is, placed in the world the page draws (the layout
//! file's, else one panel per region): markers, trails, coverage.

use crate::pipeline::{FeedSet, PositionReport, World};
use serde::Serialize;
use std::time::Instant;

/// The answer of `/api/map`.
#[derive(Debug, Serialize)]
pub struct MapAnswer {
    /// Distinct positions entered by any env.
    pub distinct_positions: u64,
    /// The panels, left to right: title and world rectangle.
    pub panels: Vec<PanelAnswer>,
    /// Every feed, in discovery order.
    pub envs: Vec<EnvAnswer>,
    /// Every covered position as `[panel, x, y, visits]`, in world coordinates.
    pub coverage: Vec<[i64; 4]>,
    /// The most visits of one position.
    pub most_visits: u32,
}

/// One panel of [`MapAnswer::panels`].
#[derive(Debug, Serialize)]
pub struct PanelAnswer {
    /// Its title.
    pub title: String,
    /// The world rectangle it shows.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Width.
    pub width: i32,
    /// Height.
    pub height: i32,
}

/// One env of [`MapAnswer::envs`].
#[derive(Debug, Serialize)]
pub struct EnvAnswer {
    /// The feed's name (`host/env` for remote ones).
    pub name: String,
    /// Its colour: an index into the page's (and the monitor's) palette.
    pub colour: usize,
    /// `[panel, x, y]` in world coordinates, `null` without a position (or unplaced).
    pub at: Option<[i64; 3]>,
    /// Where the env reports it is (its region as text, its own x, y).
    pub position: Option<PositionReport>,
    /// The trail, oldest first, as `[panel, x, y]`.
    pub trail: Vec<[i64; 3]>,
    /// Distinct positions it entered.
    pub distinct_positions: u64,
    /// Whether its newest info has the position fields.
    pub has_position: bool,
}

impl MapAnswer {
    /// The map of `set` now.
    pub fn build(set: &FeedSet) -> MapAnswer {
        let snap = set.positions.snapshot(Instant::now());
        let layout = set.positions.layout();
        let world = World::new(&snap, layout.as_deref());
        let place = |p| {
            world
                .locate(p)
                .map(|(k, x, y)| [k as i64, x as i64, y as i64])
        };
        let envs = set
            .feeds()
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let t = snap.feeds.get(&f.name);
                let current = t.and_then(|t| t.current);
                EnvAnswer {
                    name: f.name.clone(),
                    colour: i,
                    at: current.and_then(place),
                    position: current.map(|p| PositionReport {
                        region: snap.region_name(p.region).to_string(),
                        x: p.x,
                        y: p.y,
                    }),
                    trail: t.map_or(Vec::new(), |t| snap.trail(t).filter_map(place).collect()),
                    distinct_positions: t.map_or(0, |t| t.distinct),
                    has_position: current.is_some(),
                }
            })
            .collect();
        let coverage = snap
            .coverage
            .iter()
            .filter_map(|(p, n)| place(*p).map(|[k, x, y]| [k, x, y, *n as i64]))
            .collect();
        MapAnswer {
            distinct_positions: snap.distinct(),
            most_visits: snap.coverage.iter().map(|(_, n)| *n).max().unwrap_or(0),
            panels: world
                .panels
                .iter()
                .map(|p| PanelAnswer {
                    title: p.title.clone(),
                    x: p.bounds.x,
                    y: p.bounds.y,
                    width: p.bounds.width,
                    height: p.bounds.height,
                })
                .collect(),
            envs,
            coverage,
        }
    }
}
