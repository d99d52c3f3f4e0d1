//! The figures of every feed in one report: what `stats --json` prints and serve's
//! `/api/streaming/stats` answers.

use super::feeds::FeedSet;
use super::histogram::Percentiles;
use super::positions::{MapFields, MapSnapshot};
use super::preset::Settings;
use super::stats::StatsSnapshot;
use crate::info::Info;
use serde::Serialize;
use std::sync::Arc;

/// The JSON `stats --json` and `/api/streaming/stats` print: the original dashboard's field
/// names first, then gbwatch's own figures.
#[derive(Debug, Serialize)]
pub struct StatsReport {
    /// The feeds' common source kind (`shared-memory`, `http`, …), `mixed` or `none`.
    pub method: String,
    /// p50 capture latency of the first feed with frames, in ms (0 without one).
    pub capture_latency_ms: f64,
    /// p50 JPEG encode latency of that feed, in ms.
    pub compression_latency_ms: f64,
    /// p50 total latency of that feed, in ms.
    pub total_latency_ms: f64,
    /// Frames captured, summed over feeds.
    pub frames_captured: u64,
    /// Frames delivered to a consumer, summed over feeds.
    pub frames_streamed: u64,
    /// Dropped ÷ captured over all feeds, in percent.
    pub drop_rate_percent: f64,
    /// The capture rate in force (the preset's or `--fps`).
    pub target_fps: u32,
    /// The settings in force.
    pub quality_settings: QualitySettings,
    /// The active preset's name (overrides do not change it).
    pub preset: &'static str,
    /// The JPEG encoder in use.
    pub encoder: &'static str,
    /// Every feed, in discovery order.
    pub feeds: Vec<FeedReport>,
    /// Where the envs are: the position fields read and the coverage.
    pub map: MapReport,
}

/// The map's figures in [`StatsReport::map`].
#[derive(Debug, Serialize)]
pub struct MapReport {
    /// The info fields read as a position.
    pub fields: MapFields,
    /// Distinct positions entered by any env (a position is a region and x, y).
    pub distinct_positions: u64,
    /// Envs whose newest info has a position.
    pub envs_with_position: usize,
}

/// A feed's position in [`FeedReport::position`].
#[derive(Debug, Serialize, PartialEq)]
pub struct PositionReport {
    /// The region field's value as text (`""` without one).
    pub region: String,
    /// Horizontal coordinate.
    pub x: i32,
    /// Vertical coordinate.
    pub y: i32,
}

/// The original's `quality_settings` object: the settings in force.
#[derive(Debug, Serialize)]
pub struct QualitySettings {
    /// Integer upscale factor of the JPEGs (1-8).
    pub scale: u32,
    /// Capture rate in force, in frames per second.
    pub fps: u32,
    /// JPEG quality, 1-100.
    pub compression: u8,
}

/// One feed's entry in [`StatsReport::feeds`].
#[derive(Debug, Serialize)]
pub struct FeedReport {
    /// The feed's name.
    pub name: String,
    /// How the feed's frames arrive (`shared-memory`, `http`, …).
    pub method: &'static str,
    /// The feed's state in one line (`online`, `stale`, `offline: REASON`, `error: MESSAGE`).
    pub state: String,
    /// The feed's figures, flattened into the entry.
    #[serde(flatten)]
    pub stats: StatsSnapshot,
    /// Whether captured = delivered + dropped + queued in this snapshot.
    pub invariant_holds: bool,
    /// The info of the newest captured frame, fields in the publisher's order (`null`
    /// when that frame had none).
    pub info: Option<Arc<Info>>,
    /// The frame index that `info` came with.
    pub info_frame_index: Option<u64>,
    /// Why the newest captured frame's info could not be read (`null`: it could, or there
    /// was none).
    pub info_error: Option<String>,
    /// Where the env is now (`null`: its info has no position fields).
    pub position: Option<PositionReport>,
    /// Distinct positions this env entered.
    pub distinct_positions: u64,
}

impl StatsReport {
    /// Builds the report over all feeds; the original's top-level figures sum the feeds'
    /// counters and take the first online feed's latencies.
    pub fn build(set: &FeedSet, settings: Settings, encoder: &'static str) -> StatsReport {
        let map = set.positions.snapshot(std::time::Instant::now());
        let feeds: Vec<FeedReport> = set
            .feeds()
            .iter()
            .map(|f| {
                let stats = f.snapshot();
                let info = f.stats.latest_info();
                FeedReport {
                    info_frame_index: info.as_ref().map(|(i, _)| *i),
                    info: info.map(|(_, i)| i),
                    info_error: f
                        .stats
                        .latest_info_error()
                        .map(|e| format!("info unreadable: {e}")),
                    position: position(&map, &f.name),
                    distinct_positions: map.feeds.get(&f.name).map_or(0, |t| t.distinct),
                    name: f.name.clone(),
                    method: f.kind.name(),
                    state: f.status().state.to_string(),
                    invariant_holds: stats.invariant_holds(),
                    stats,
                }
            })
            .collect();
        let lead = feeds
            .iter()
            .find(|f| f.stats.captured > 0)
            .map(|f| &f.stats);
        let ms = |p: Option<&Percentiles>| p.map_or(0.0, |p| p.p50_ms());
        let captured: u64 = feeds.iter().map(|f| f.stats.captured).sum();
        let dropped: u64 = feeds.iter().map(|f| f.stats.dropped).sum();
        StatsReport {
            method: method(set),
            capture_latency_ms: ms(lead.map(|s| &s.capture)),
            compression_latency_ms: ms(lead.map(|s| &s.encode)),
            total_latency_ms: ms(lead.map(|s| &s.total)),
            frames_captured: captured,
            frames_streamed: feeds.iter().map(|f| f.stats.delivered).sum(),
            drop_rate_percent: if captured == 0 {
                0.0
            } else {
                dropped as f64 * 100.0 / captured as f64
            },
            target_fps: settings.fps(),
            quality_settings: QualitySettings {
                scale: settings.scale(),
                fps: settings.fps(),
                compression: settings.quality(),
            },
            preset: settings.preset().name,
            encoder,
            map: MapReport {
                fields: set.positions.fields().clone(),
                distinct_positions: map.distinct(),
                envs_with_position: feeds.iter().filter(|f| f.position.is_some()).count(),
            },
            feeds,
        }
    }
}

/// Feed `name`'s position in `map`.
fn position(map: &MapSnapshot, name: &str) -> Option<PositionReport> {
    let p = map.feeds.get(name)?.current?;
    Some(PositionReport {
        region: map.region_name(p.region).to_string(),
        x: p.x,
        y: p.y,
    })
}

/// The feeds' common source kind ("shared-memory", "http", ...), or "mixed".
fn method(set: &FeedSet) -> String {
    let mut kinds: Vec<&str> = set.feeds().iter().map(|f| f.kind.name()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    match kinds.as_slice() {
        [] => "none".into(),
        [one] => one.to_string(),
        _ => "mixed".into(),
    }
}
