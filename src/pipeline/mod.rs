//! Capture threads, the drop-oldest queue, the history, presets, counters and latencies,
//! and where every env is (positions).

mod capture;
mod feed;
mod feeds;
mod histogram;
mod history;
mod layout;
mod pace;
mod positions;
mod preset;
mod queue;
mod report;
mod stats;
mod status;
mod world;

pub use capture::to_frame;
pub use feed::Feed;
pub use feeds::{FeedOptions, FeedSet};
pub use histogram::{Percentiles, WindowedHistogram};
pub use history::{
    FeedHistory, History, HistoryOptions, MarkRule, MarkRuleError, Marker, MarkerKind,
};
pub use layout::{LayoutError, WorldLayout, WorldRect};
pub use positions::{MapFields, MapSnapshot, Pos, Positions, Track, DEFAULT_TRAIL};
pub use preset::{Preset, PresetError, Settings, SharedSettings, PRESETS};
pub use queue::{DropOldestQueue, QueueCounts};
pub use report::{FeedReport, MapReport, PositionReport, QualitySettings, StatsReport};
pub use stats::{FeedStats, Stage, StatsSnapshot};
pub use status::{FeedState, FeedStatus, STALE_AFTER};
pub use world::{Panel, World};
