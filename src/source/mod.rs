//! Where frames come from. Every kind of source implements [`Source`]; capture threads
//! poll it and turn what it returns into [`crate::frame::Frame`]s.

pub mod decode;
pub mod files;
pub mod hostlist;
pub mod hosts;
pub mod http;
pub mod mjpeg;
pub mod recording;
pub mod remote;
mod shm;
pub mod slurm;
mod spec;
pub mod ssh;
pub mod stream;

pub use recording::{RecordingSource, DEMO_BANNER, DEMO_KEY};
pub use shm::{raw_frame, ShmSource};
pub use spec::{Candidate, OpenFn, SourceKind, SourceOptions, SourceSpec, SpecError};

use crate::frame::PixelFormat;

/// Pixels as a source delivered them, before capture converts them to RGBA.
#[derive(Debug, Clone)]
pub struct RawFrame {
    /// The publisher's frame index (or the source's own counter).
    pub frame_index: u64,
    /// Publisher's monotonic timestamp (ns), when on our clock.
    pub published_ns: Option<u64>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Pixel format of `pixels`.
    pub format: PixelFormat,
    /// Bytes per row of `pixels`.
    pub stride: usize,
    /// Pixel rows, `stride` bytes apart.
    pub pixels: Vec<u8>,
    /// Copies retried to get a consistent frame.
    pub retries: u32,
    /// The publisher's own count of published frames, when known.
    pub published_total: Option<u64>,
    /// The publisher's own cost per publish, in ns, when known.
    pub publisher_cost_ns: Option<u64>,
    /// The info published with these pixels, if any.
    pub info: Option<std::sync::Arc<crate::info::Info>>,
    /// Why the info published with these pixels could not be read, if it could not.
    pub info_error: Option<crate::info::InfoError>,
}

/// What one poll of a source found.
#[derive(Debug)]
pub enum Poll {
    /// A new frame.
    Frame(RawFrame),
    /// Nothing new yet; poll again soon.
    Nothing,
    /// The source is not producing (publisher gone, server down); the reason is shown.
    Offline(String),
    /// The source has no more frames (end of a recording without `--loop`).
    Ended,
    /// The source has been gone for a long time (its slot was removed): the feed retires.
    Gone,
}

/// Something frames can be pulled from. `poll` must not block for long (≤ ~100 ms).
pub trait Source: Send {
    /// A short human name for the feed (publisher name, host, file).
    fn name(&self) -> &str;

    /// Returns the newest frame if there is a new one.
    fn poll(&mut self) -> Result<Poll, SourceError>;

    /// The rate capture polls at; a source may pass it on to its publisher.
    fn set_capture_fps(&mut self, _fps: u32) {}

    /// The rate the consumer can use now (0: not shown); a remote source asks its remote
    /// for that many frames a second.
    fn set_wanted_fps(&mut self, _fps: u32) {}

    /// Called when a publisher restart was noticed by the source: capture resets its baselines.
    fn take_restart(&mut self) -> bool {
        false
    }
}

/// A source failure that capture reports and survives.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A slot that cannot be read.
    #[error(transparent)]
    Slot(#[from] crate::slot::SlotError),
    /// Any other failure, as one line.
    #[error("{0}")]
    Other(String),
}
