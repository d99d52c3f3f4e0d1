//! Capture threads, the drop-oldest queue, presets, counters and latencies.

mod cancel;
mod capture;
mod feeds;
mod histogram;
mod preset;
mod queue;
mod stats;

pub use cancel::{join_within, Cancel};
pub use capture::{to_frame, CaptureHandle};
pub use feeds::{Feed, FeedOptions, FeedSet, FeedState, FeedStatus, STALE_AFTER};
pub use histogram::{Percentiles, WindowedHistogram};
pub use preset::{Preset, PresetError, Settings, SharedSettings, PRESETS};
pub use queue::{DropOldestQueue, QueueCounts};
pub use stats::{FeedStats, Stage, StatsSnapshot};
