//! Capture threads, the drop-oldest queue, the history, presets, counters and latencies.

mod capture;
mod feed;
mod feeds;
mod histogram;
mod history;
mod preset;
mod queue;
mod report;
mod stats;
mod status;

pub use capture::to_frame;
pub use feed::Feed;
pub use feeds::{FeedOptions, FeedSet};
pub use histogram::{Percentiles, WindowedHistogram};
pub use history::{
    FeedHistory, History, HistoryOptions, MarkRule, MarkRuleError, Marker, MarkerKind,
};
pub use preset::{Preset, PresetError, Settings, SharedSettings, PRESETS};
pub use queue::{DropOldestQueue, QueueCounts};
pub use report::{FeedReport, QualitySettings, StatsReport};
pub use stats::{FeedStats, Stage, StatsSnapshot};
pub use status::{FeedState, FeedStatus, STALE_AFTER};
