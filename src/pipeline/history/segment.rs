//! One segment of a feed's history: frames in the recording format, the first a keyframe,
//! so any of them decodes from the segment's start in a bounded number of steps.

use crate::clock::monotonic_ns;
use crate::frame::{Frame, SharedFrame};
use crate::source::recording::RecordingReader;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the history keeps of a frame beside its record.
#[derive(Debug, Clone, Copy)]
pub(super) struct Held {
    /// The history's time axis: when the publisher made the frame, or when it was captured
    /// for sources without the publisher's clock ([`monotonic_ns`] either way).
    pub at_ns: u64,
    pub published_ns: Option<u64>,
    pub content_id: u64,
}

/// Frames of one size, recorded from a keyframe on.
#[derive(Debug)]
pub(super) struct Segment {
    /// A whole recording (header and records).
    pub bytes: Arc<[u8]>,
    pub frames: Vec<Held>,
}

impl Segment {
    /// Bytes it holds (its records and the side list).
    pub fn size(&self) -> u64 {
        (self.bytes.len() + self.frames.len() * std::mem::size_of::<Held>()) as u64
    }

    pub fn first_ns(&self) -> u64 {
        self.frames.first().map_or(0, |h| h.at_ns)
    }

    pub fn last_ns(&self) -> u64 {
        self.frames.last().map_or(0, |h| h.at_ns)
    }

    /// Whether it holds a frame made in `[from, to]`, or the frame shown at `from`.
    pub fn overlaps(&self, from: u64, to: u64) -> bool {
        self.first_ns() <= to && self.last_ns() >= from
    }

    /// The index of the newest frame made at or before `t_ns`.
    pub fn index_at(&self, t_ns: u64) -> Option<usize> {
        self.frames
            .partition_point(|h| h.at_ns <= t_ns)
            .checked_sub(1)
    }
}

/// Decodes frames `0..=last` of a segment's `bytes`, calling `each` with every frame from
/// `first` on.
pub(super) fn decode(
    bytes: Arc<[u8]>,
    frames: &[Held],
    first: usize,
    last: usize,
    mut each: impl FnMut(SharedFrame),
) {
    let Ok(mut reader) = RecordingReader::new(Box::new(std::io::Cursor::new(bytes))) else {
        return;
    };
    let (width, height) = (reader.header().width, reader.header().height);
    let now = (Instant::now(), monotonic_ns());
    for (i, held) in frames.iter().enumerate().take(last + 1) {
        let Ok(Some(f)) = reader.next_frame() else {
            return;
        };
        if i < first {
            continue;
        }
        let back = Duration::from_nanos(now.1.saturating_sub(held.at_ns));
        each(Arc::new(Frame {
            frame_index: f.frame_index,
            published_ns: held.published_ns,
            captured_at: now.0.checked_sub(back).unwrap_or(now.0),
            capture_us: 0,
            captured_ns: held.at_ns,
            width,
            height,
            pixels: f.pixels.to_vec(),
            content_id: held.content_id,
            info: f.info,
            info_error: None,
        }));
    }
}
