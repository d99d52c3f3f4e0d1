//! The monitor's side of time: where a [`TimeMove`] lands in the history, every feed's
//! frame at that instant, and what the timeline strip shows.

use super::timeline::{TimeMove, Timeline};
use crate::frame::SharedFrame;
use crate::pipeline::{FeedHistory, FeedSet};
use std::path::Path;
use std::sync::Arc;

/// How far back a clip reaches from the shown frame.
pub const CLIP_SPAN_NS: u64 = 30_000_000_000;

/// The history of the feed with `key`, if it keeps one.
fn history_of(set: &FeedSet, key: Option<&str>) -> Option<Arc<FeedHistory>> {
    let key = key?;
    set.feeds()
        .into_iter()
        .find(|f| f.key == key)
        .and_then(|f| f.history.clone())
}

/// Where `m` lands from `paused_at` (live: `now_ns`), about the env with key `about`:
/// the instant to show, or `None` for live. A pause lands `lag_ns` before now, so that
/// every feed has been captured up to it (the grid then shows one instant).
pub fn resolve(
    set: &FeedSet,
    paused_at: Option<u64>,
    m: TimeMove,
    about: Option<&str>,
    (now_ns, lag_ns): (u64, u64),
) -> Option<u64> {
    let at = paused_at.unwrap_or(now_ns);
    let history = history_of(set, about);
    let span = history.as_ref().and_then(|h| h.span());
    let oldest = span.map_or(at, |(o, _)| o);
    Some(match m {
        TimeMove::Pause => now_ns.saturating_sub(lag_ns),
        TimeMove::Live => return None,
        TimeMove::Step(n) => history.and_then(|h| h.step(at, n)).unwrap_or(at),
        TimeMove::Jump(ms) => {
            let to = at as i64 + ms * 1_000_000;
            (to.max(oldest as i64) as u64).min(now_ns)
        }
        TimeMove::Oldest => oldest,
        TimeMove::Marker(dir) => {
            let markers = history.map(|h| h.markers()).unwrap_or_default();
            let found = if dir > 0 {
                markers.iter().find(|m| m.at_ns > at)
            } else {
                markers.iter().rev().find(|m| m.at_ns < at)
            };
            found.map_or(at, |m| m.at_ns)
        }
    })
}

/// Every feed's frame at `at_ns` (its newest held, for `None`), by feed key.
pub fn frames_at(set: &FeedSet, at_ns: Option<u64>) -> Vec<(String, SharedFrame)> {
    set.feeds()
        .iter()
        .filter_map(|f| {
            let h = f.history.as_ref()?;
            let frame = h.at(at_ns.unwrap_or(u64::MAX))?;
            Some((f.key.clone(), frame))
        })
        .collect()
}

/// What the strip shows about the env with key `about` (the span of every feed when none).
pub fn timeline(set: &FeedSet, about: Option<&str>) -> Option<Timeline> {
    let history = set.history()?;
    let options = history.options();
    let mut t = Timeline {
        bytes: history.bytes(),
        budget_bytes: options.bytes,
        span_s: options.span.as_secs_f64(),
        ..Timeline::default()
    };
    if let Some(h) = history_of(set, about) {
        if let Some((oldest, newest)) = h.span() {
            (t.oldest_ns, t.newest_ns) = (oldest, newest);
        }
        t.markers = h
            .markers()
            .into_iter()
            .map(|m| (m.at_ns, m.kind.glyph()))
            .collect();
    }
    Some(t)
}

/// Saves the last [`CLIP_SPAN_NS`] of the env with `key` up to `paused_at` (live: its
/// newest frame) into `dir` as GIF (and MP4 with ffmpeg); says where it went.
pub fn clip(
    set: &FeedSet,
    key: &str,
    paused_at: Option<u64>,
    dir: &Path,
) -> Result<String, String> {
    let feed = set.feeds().into_iter().find(|f| f.key == key);
    let feed = feed.ok_or_else(|| "that env has left".to_string())?;
    let history = feed.history.as_ref().ok_or("no history kept")?;
    let to = paused_at.unwrap_or(u64::MAX);
    let to = history.step(to, 0).ok_or("no frames held yet")?;
    let frames = history.frames(to.saturating_sub(CLIP_SPAN_NS), to);
    let last = frames.last().map_or(0, |f| f.frame_index);
    let stem = dir.join(format!(
        "{}-{last}",
        crate::encode::file::safe_name(&feed.name)
    ));
    crate::encode::clip::save_clip(&frames, &stem)
        .map(|wrote| wrote.join(" and "))
        .map_err(|e| e.to_string())
}
