//! The monitor's side of time: where a [`TimeMove`] lands in the history, every feed's
//! frame at that instant, and what the timeline strip shows.

use super::timeline::{ClipSpan, TimeMove, Timeline};
use crate::frame::SharedFrame;
use crate::pipeline::{FeedHistory, FeedSet, Marker};
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

/// Where a clip of `span` around the frame shown at `shown_ns` starts and ends (both
/// included), by `markers` (oldest first).
fn clip_bounds(span: ClipSpan, shown_ns: u64, markers: &[Marker]) -> (u64, u64) {
    match span {
        ClipSpan::Last => (shown_ns.saturating_sub(CLIP_SPAN_NS), shown_ns),
        ClipSpan::BetweenMarkers => {
            let before = markers.iter().rev().find(|m| m.at_ns <= shown_ns);
            let after = markers.iter().find(|m| m.at_ns > shown_ns);
            (
                before.map_or(0, |m| m.at_ns),
                after.map_or(u64::MAX, |m| m.at_ns - 1),
            )
        }
    }
}

/// Saves a clip of the env with `key` into `dir` as GIF (and MP4 with ffmpeg), about the
/// frame shown at `paused_at` (live: its newest): the last [`CLIP_SPAN_NS`] up to it, or
/// the span between the markers around it. Says where it went.
pub fn clip(
    set: &FeedSet,
    key: &str,
    (paused_at, span): (Option<u64>, ClipSpan),
    dir: &Path,
) -> Result<String, String> {
    let feed = set.feeds().into_iter().find(|f| f.key == key);
    let feed = feed.ok_or_else(|| "that env has left".to_string())?;
    let history = feed.history.as_ref().ok_or("no history kept")?;
    let shown = history
        .step(paused_at.unwrap_or(u64::MAX), 0)
        .ok_or("no frames held yet")?;
    let (from, to) = clip_bounds(span, shown, &history.markers());
    let frames = history.frames(from, to);
    let name = crate::encode::file::safe_name(&feed.name);
    let stem = match (span, frames.first(), frames.last()) {
        (ClipSpan::BetweenMarkers, Some(a), Some(b)) => {
            format!("{name}-{}-{}", a.frame_index, b.frame_index)
        }
        (_, _, last) => format!("{name}-{}", last.map_or(0, |f| f.frame_index)),
    };
    crate::encode::clip::save_clip(&frames, &dir.join(stem))
        .map(|wrote| wrote.join(" and "))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::MarkerKind;

    #[test]
    fn a_clip_between_markers_is_one_whole_span() {
        let at = |at_ns| Marker {
            at_ns,
            kind: MarkerKind::EpisodeEnd,
        };
        let markers = [at(10), at(20)];
        let between = ClipSpan::BetweenMarkers;
        assert_eq!(clip_bounds(between, 15, &markers), (10, 19));
        assert_eq!(clip_bounds(between, 10, &markers), (10, 19), "at a marker");
        assert_eq!(clip_bounds(between, 5, &markers), (0, 9), "none before");
        assert_eq!(
            clip_bounds(between, 25, &markers),
            (20, u64::MAX),
            "none after"
        );
        assert_eq!(clip_bounds(between, 5, &[]), (0, u64::MAX));
        let last = clip_bounds(ClipSpan::Last, 40_000_000_000, &markers);
        assert_eq!(last, (10_000_000_000, 40_000_000_000));
    }
}
