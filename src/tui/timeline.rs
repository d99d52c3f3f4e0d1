//! Time in the monitor: the keys that pause, step and jump, where a paused screen is, and
//! what the timeline strip shows. Pure data; the monitor resolves moves against the history.

use crossterm::event::KeyCode;

/// A move in time, asked for by a key and resolved by the monitor against the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeMove {
    /// Pause every view at this instant.
    Pause,
    /// Back to live frames.
    Live,
    /// This many frames of the selected env (negative: back).
    Step(i64),
    /// This many milliseconds (negative: back).
    Jump(i64),
    /// The oldest frame held.
    Oldest,
    /// The next (1) or previous (-1) marker of the selected env.
    Marker(i64),
}

/// The keys of time and what they do, for the help overlay.
pub const TIME_KEYS: [(&str, &str); 6] = [
    ("p", "pause every env at this instant / back to live"),
    (", .", "one frame back / forward (the selected env's)"),
    ("[ ]", "1 s back / forward"),
    ("{ }", "10 s back / forward"),
    ("< >", "previous / next marker"),
    ("g G", "oldest frame held / live"),
];

/// What a clip of the selected env holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClipSpan {
    /// The last 30 s up to the shown frame (`c`).
    Last,
    /// From the marker at or before the shown frame to the frame before the next marker
    /// (`C`: one whole episode between two episode ends); the held span's end on a side
    /// without a marker.
    BetweenMarkers,
}

/// The clip keys and what they do, listed with the time keys (one line of the help).
pub const CLIP_KEY: (&str, &str) = (
    "c C",
    "save the last 30 s / between markers as GIF (and MP4)",
);

/// The clip a key asks for, if it is a clip key.
pub fn clip_key(code: KeyCode) -> Option<ClipSpan> {
    match code {
        KeyCode::Char('c') => Some(ClipSpan::Last),
        KeyCode::Char('C') => Some(ClipSpan::BetweenMarkers),
        _ => None,
    }
}

/// The move a key asks for, if it is a time key; `paused` makes `p` go live.
pub fn time_key(code: KeyCode, paused: bool) -> Option<TimeMove> {
    Some(match code {
        KeyCode::Char('p') if paused => TimeMove::Live,
        KeyCode::Char('p') => TimeMove::Pause,
        KeyCode::Char(',') => TimeMove::Step(-1),
        KeyCode::Char('.') => TimeMove::Step(1),
        KeyCode::Char('[') => TimeMove::Jump(-1_000),
        KeyCode::Char(']') => TimeMove::Jump(1_000),
        KeyCode::Char('{') => TimeMove::Jump(-10_000),
        KeyCode::Char('}') => TimeMove::Jump(10_000),
        KeyCode::Char('<') => TimeMove::Marker(-1),
        KeyCode::Char('>') => TimeMove::Marker(1),
        KeyCode::Char('g') | KeyCode::Home => TimeMove::Oldest,
        KeyCode::Char('G') | KeyCode::End => TimeMove::Live,
        _ => return None,
    })
}

/// What the timeline strip shows, refreshed from the history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    /// The oldest frame held of the env the strip is about (the history's clock, ns).
    pub oldest_ns: u64,
    /// Its newest frame.
    pub newest_ns: u64,
    /// Its markers: (when, glyph).
    pub markers: Vec<(u64, char)>,
    /// Bytes all feeds' history holds.
    pub bytes: u64,
    /// The history's byte budget.
    pub budget_bytes: u64,
    /// The history's time budget, in seconds.
    pub span_s: f64,
}

/// "LIVE", or how far back the shown instant is from `now_ns`.
pub fn indicator(paused_at: Option<u64>, now_ns: u64) -> String {
    match paused_at {
        None => "LIVE".to_string(),
        Some(at) => format!(
            "PAUSED \u{2212}{:.1} s",
            now_ns.saturating_sub(at) as f64 / 1e9
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_indicator() {
        assert_eq!(time_key(KeyCode::Char('p'), false), Some(TimeMove::Pause));
        assert_eq!(time_key(KeyCode::Char('p'), true), Some(TimeMove::Live));
        assert_eq!(
            time_key(KeyCode::Char('{'), true),
            Some(TimeMove::Jump(-10_000))
        );
        assert_eq!(time_key(KeyCode::Char('x'), true), None);
        assert_eq!(indicator(None, 5), "LIVE");
        assert_eq!(
            indicator(Some(1_000_000_000), 13_340_000_000),
            "PAUSED \u{2212}12.3 s"
        );
    }
}
