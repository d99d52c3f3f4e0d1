//! Where a feed stands (online, stale, offline, …) and since when: written by capture,
//! read by every consumer.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A feed whose newest frame is older than this is shown as stale, never as online.
pub const STALE_AFTER: Duration = Duration::from_secs(3);
/// Where a feed stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedState {
    /// Opened, no frame yet.
    Waiting,
    /// Producing frames.
    Online,
    /// Had frames, but the newest is older than [`STALE_AFTER`]: the picture shown is old.
    Stale,
    /// Not producing; the reason is shown.
    Offline(String),
    /// Could not be read; the one-line error is shown.
    Error(String),
    /// A finite source (recording) reached its end.
    Ended,
    /// The source disappeared long ago; the feed is about to be removed.
    Gone,
}

impl std::fmt::Display for FeedState {
    /// One line for people: `online`, `stale`, `offline: REASON`, `error: MESSAGE`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FeedState::Waiting => f.write_str("waiting"),
            FeedState::Online => f.write_str("online"),
            FeedState::Stale => f.write_str("stale"),
            FeedState::Offline(r) => write!(f, "offline: {r}"),
            FeedState::Error(e) => write!(f, "error: {e}"),
            FeedState::Ended => f.write_str("ended"),
            FeedState::Gone => f.write_str("gone"),
        }
    }
}

/// A feed's state and since when.
#[derive(Debug, Clone)]
pub struct FeedStatus {
    /// What the feed is doing.
    pub state: FeedState,
    /// When the state last changed.
    pub since: Instant,
}

/// Sets `status` to `state`, restarting `since` only when the state changes.
pub(crate) fn set_state(status: &Mutex<FeedStatus>, state: FeedState) {
    let mut s = status.lock().unwrap();
    if s.state != state {
        s.state = state;
        s.since = Instant::now();
    }
}
