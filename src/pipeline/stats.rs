//! Per-feed counters and latency distributions. Definitions live in `src/pipeline/FEEDS.md`
//! ("Counters"); the queue owns captured/delivered/dropped/queued so they add up exactly.

use super::histogram::{Percentiles, WindowedHistogram};
use super::queue::QueueCounts;
use crate::info::{Info, InfoError};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A measured stage of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Copying the frame out of the source.
    Capture,
    /// Nearest-neighbour scaling.
    Scale,
    /// JPEG encoding.
    Encode,
    /// Rendering to the terminal.
    Draw,
    /// From capture start to the consumer being done with the frame.
    Total,
    /// Frame age when a consumer used it (now minus the publisher's timestamp).
    Age,
}

impl Stage {
    /// Every stage; a stage's position here is its histogram's index.
    pub const ALL: [Stage; 6] = [
        Stage::Capture,
        Stage::Scale,
        Stage::Encode,
        Stage::Draw,
        Stage::Total,
        Stage::Age,
    ];

    /// The stage's lowercase name, as the latency panel prints it.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Capture => "capture",
            Stage::Scale => "scale",
            Stage::Encode => "encode",
            Stage::Draw => "draw",
            Stage::Total => "total",
            Stage::Age => "age",
        }
    }
}

const RATE_WINDOW: Duration = Duration::from_secs(2);

#[derive(Debug, Default)]
struct Inner {
    identical: u64,
    missed: u64,
    retries: u64,
    published_first: Option<u64>,
    published_last: u64,
    publisher_cost_ns: u64,
    last_frame_index: Option<u64>,
    age_from_publisher: bool,
    hist: [WindowedHistogram; 6],
    captures: VecDeque<(Instant, u64)>,
    info: Option<(u64, Arc<Info>)>,
    info_error: Option<InfoError>,
}

/// Counters and latencies of one feed, updated by the capture thread and the consumers.
#[derive(Debug, Default)]
pub struct FeedStats {
    inner: Mutex<Inner>,
}

/// What capture learned about one new frame.
#[derive(Debug, Clone, Copy)]
pub struct CaptureRecord {
    pub frame_index: u64,
    pub identical: bool,
    pub copy_us: u64,
    pub retries: u32,
    /// The publisher's own count of frames published, when the source reports it.
    pub published_total: Option<u64>,
    pub publisher_cost_ns: Option<u64>,
    pub age_from_publisher: bool,
}

/// A consistent view of a feed's figures.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StatsSnapshot {
    /// Frames the publisher published while we watched (its own counter), when known.
    pub published: Option<u64>,
    /// New frames read from the source (each enters the queue once).
    pub captured: u64,
    /// Frames the publisher made that capture never saw (frame-index gaps).
    pub missed: u64,
    /// Captured frames whose pixels equal the previous frame (no re-encode, no redraw).
    pub identical: u64,
    /// Frames a consumer took from the queue.
    pub delivered: u64,
    /// Frames the queue dropped because a newer one replaced them.
    pub dropped: u64,
    /// Frames waiting in the queue now.
    pub queued: u64,
    /// Copies retried because the publisher was writing during them.
    pub capture_retries: u64,
    /// `dropped / captured`, in percent.
    pub drop_rate_percent: f64,
    /// Frames captured per second over the last 2 s.
    pub captured_fps: f64,
    /// Frames the source produced per second (frame-index rate) over the last 2 s.
    pub source_fps: f64,
    /// The publisher's own cost of one publish, in µs.
    pub publisher_cost_us: Option<f64>,
    /// Whether frame age is measured from the publisher's timestamp (else from arrival).
    pub age_from_publisher: bool,
    /// Time to copy a frame out of the source, in µs.
    pub capture: Percentiles,
    /// Time to scale a frame, in µs.
    pub scale: Percentiles,
    /// Time to JPEG-encode a frame, in µs.
    pub encode: Percentiles,
    /// Time to draw a frame in the terminal, in µs.
    pub draw: Percentiles,
    /// Capture start to the consumer being done, in µs.
    pub total: Percentiles,
    /// Frame age when a consumer used it, in µs.
    pub age: Percentiles,
}

impl StatsSnapshot {
    /// `captured == delivered + dropped + queued`.
    pub fn invariant_holds(&self) -> bool {
        self.captured == self.delivered + self.dropped + self.queued
    }

    /// The percentiles of `stage`.
    pub fn latency(&self, stage: Stage) -> &Percentiles {
        match stage {
            Stage::Capture => &self.capture,
            Stage::Scale => &self.scale,
            Stage::Encode => &self.encode,
            Stage::Draw => &self.draw,
            Stage::Total => &self.total,
            Stage::Age => &self.age,
        }
    }
}

fn index(stage: Stage) -> usize {
    Stage::ALL.iter().position(|s| *s == stage).unwrap()
}

impl FeedStats {
    /// Zero counters and empty histograms.
    pub fn new() -> FeedStats {
        FeedStats::default()
    }

    /// Records a captured frame (before it is pushed into the queue).
    pub fn record_capture(&self, now: Instant, r: CaptureRecord) {
        let mut g = self.inner.lock().unwrap();
        match g.last_frame_index {
            Some(last) if r.frame_index > last + 1 => g.missed += r.frame_index - last - 1,
            _ => {}
        }
        g.last_frame_index = Some(r.frame_index);
        g.identical += r.identical as u64;
        g.retries += r.retries as u64;
        if let Some(p) = r.published_total {
            if g.published_first.is_none_or(|first| p < first) {
                // First sight, or the publisher restarted and its counter began again.
                g.published_first = Some(p.saturating_sub(1));
            }
            g.published_last = p;
        }
        if let Some(c) = r.publisher_cost_ns {
            g.publisher_cost_ns = c;
        }
        g.age_from_publisher = r.age_from_publisher;
        g.hist[index(Stage::Capture)].record(now, r.copy_us);
        g.captures.push_back((now, r.frame_index));
        while g
            .captures
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) > RATE_WINDOW)
        {
            g.captures.pop_front();
        }
    }

    /// Keeps the info of the newest captured frame (with its frame index), or why it was
    /// unreadable, so `stats` and `serve` can show it without holding frames.
    pub fn record_info(
        &self,
        frame_index: u64,
        info: Option<&Arc<Info>>,
        error: Option<&InfoError>,
    ) {
        let mut g = self.inner.lock().unwrap();
        g.info = info.map(|i| (frame_index, i.clone()));
        g.info_error = error.cloned();
    }

    /// Why the newest captured frame's info could not be read, if it could not.
    pub fn latest_info_error(&self) -> Option<InfoError> {
        self.inner.lock().unwrap().info_error.clone()
    }

    /// The newest captured frame's info and its frame index (`None`: that frame had none).
    pub fn latest_info(&self) -> Option<(u64, Arc<Info>)> {
        self.inner.lock().unwrap().info.clone()
    }

    /// Forgets the frame-index baseline (the publisher restarted: its indexes begin again).
    pub fn publisher_restarted(&self) {
        let mut g = self.inner.lock().unwrap();
        g.last_frame_index = None;
        g.published_first = None;
        g.captures.clear();
    }

    /// Records one latency sample.
    pub fn record(&self, stage: Stage, duration: Duration) {
        let now = Instant::now();
        self.inner.lock().unwrap().hist[index(stage)].record(now, duration.as_micros() as u64);
    }

    /// Records total latency and age for a frame a consumer has finished with.
    pub fn record_done(&self, frame: &crate::frame::Frame) {
        let now = Instant::now();
        let total_us = frame.capture_us + now.duration_since(frame.captured_at).as_micros() as u64;
        let age_us = frame.age_ns(crate::clock::monotonic_ns()) / 1000;
        let mut g = self.inner.lock().unwrap();
        g.hist[index(Stage::Total)].record(now, total_us);
        g.hist[index(Stage::Age)].record(now, age_us);
    }

    /// A snapshot combined with the queue's counters.
    pub fn snapshot(&self, q: QueueCounts) -> StatsSnapshot {
        let now = Instant::now();
        let mut g = self.inner.lock().unwrap();
        // In Stage::ALL's order, the histograms' own.
        let [capture, scale, encode, draw, total, age] =
            g.hist.each_mut().map(|h| h.percentiles(now));
        let (captured_fps, source_fps) = rates(&g.captures, now);
        StatsSnapshot {
            published: g
                .published_first
                .map(|f| g.published_last.saturating_sub(f)),
            captured: q.pushed,
            missed: g.missed,
            identical: g.identical,
            delivered: q.delivered,
            dropped: q.dropped,
            queued: q.queued,
            capture_retries: g.retries,
            drop_rate_percent: if q.pushed == 0 {
                0.0
            } else {
                q.dropped as f64 * 100.0 / q.pushed as f64
            },
            captured_fps,
            source_fps,
            publisher_cost_us: g
                .published_first
                .map(|_| g.publisher_cost_ns as f64 / 1000.0),
            age_from_publisher: g.age_from_publisher,
            capture,
            scale,
            encode,
            draw,
            total,
            age,
        }
    }
}

fn rates(captures: &VecDeque<(Instant, u64)>, now: Instant) -> (f64, f64) {
    let (Some(first), Some(last)) = (captures.front(), captures.back()) else {
        return (0.0, 0.0);
    };
    let span = now.duration_since(first.0).as_secs_f64().max(1e-3);
    let captured = (captures.len() as f64 - 1.0).max(0.0) / span;
    let frames = last.1.saturating_sub(first.1) as f64;
    let src_span = last.0.duration_since(first.0).as_secs_f64();
    let source = if src_span > 0.0 {
        frames / src_span
    } else {
        0.0
    };
    (captured, source)
}
