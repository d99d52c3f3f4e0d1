//! How figures read on screen.

use crate::pipeline::FeedState;
use crate::tui::state::FeedView;
use crate::tui::theme;
use ratatui::text::Span;

/// Formats microseconds compactly.
pub fn fmt_us(us: u64) -> String {
    if us < 1000 {
        format!("{us}µs")
    } else if us < 100_000 {
        format!("{:.1}ms", us as f64 / 1000.0)
    } else {
        format!("{}ms", us / 1000)
    }
}

/// Formats an age in nanoseconds.
pub fn fmt_age(ns: u64) -> String {
    fmt_us(ns / 1000)
}

/// Formats a byte rate.
pub fn fmt_rate(bytes_per_s: f64) -> String {
    if bytes_per_s >= 1e6 {
        format!("{:.1} MB/s", bytes_per_s / 1e6)
    } else {
        format!("{:.1} KB/s", bytes_per_s / 1e3)
    }
}

/// The feed's state in words, styled.
pub fn state_span(feed: &FeedView) -> Span<'static> {
    match &feed.reading.state {
        FeedState::Waiting => Span::styled("waiting", theme::WAITING),
        FeedState::Online => Span::styled("online", theme::ONLINE),
        FeedState::Stale => Span::styled("stale: no new frame", theme::WAITING),
        FeedState::Offline(r) => Span::styled(format!("offline: {r}"), theme::OFFLINE),
        FeedState::Error(e) => Span::styled(format!("error: {e}"), theme::ERROR),
        FeedState::Ended => Span::styled("ended", theme::OFFLINE),
        FeedState::Gone => Span::styled("gone", theme::OFFLINE),
    }
}

/// What a feed without a frame shows in its picture area.
pub fn no_frame_message(feed: &FeedView) -> String {
    match &feed.reading.state {
        FeedState::Waiting | FeedState::Online | FeedState::Stale => "no signal yet".to_string(),
        _ => state_span(feed).content.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microseconds_read_compactly() {
        assert_eq!(fmt_us(999), "999µs");
        assert_eq!(fmt_us(1500), "1.5ms");
        assert_eq!(fmt_us(250_000), "250ms");
        assert_eq!(fmt_age(23_000_000), "23.0ms");
        assert_eq!(fmt_rate(280_000.0), "280.0 KB/s");
        assert_eq!(fmt_rate(2_500_000.0), "2.5 MB/s");
    }

    #[test]
    fn feeds_without_frames_say_why() {
        let mut f = FeedView::new("env-00", "k");
        assert_eq!(no_frame_message(&f), "no signal yet");
        f.reading.state = FeedState::Offline("publisher pid 7 has exited".into());
        assert_eq!(no_frame_message(&f), "offline: publisher pid 7 has exited");
    }
}
