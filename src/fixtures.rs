//! Values the crate's unit tests share: frames, feed readings, figures, fuzzing settings.

use crate::frame::{Frame, SharedFrame};
use crate::pipeline::{FeedState, Percentiles, StatsSnapshot};
use crate::tui::FeedUpdate;
use std::sync::Arc;
use std::time::Instant;

/// A `width`×`height` black frame with index 7 and content id 1, published at
/// `published_ns` (None: a source without a publisher clock) and captured at 1 µs.
pub fn frame(width: u32, height: u32, published_ns: Option<u64>) -> SharedFrame {
    Arc::new(raw_frame(width, height, published_ns))
}

/// The [`frame`] before it is shared, for tests that change its fields.
pub fn raw_frame(width: u32, height: u32, published_ns: Option<u64>) -> Frame {
    Frame {
        frame_index: 7,
        published_ns,
        captured_at: Instant::now(),
        capture_us: 1,
        captured_ns: 1_000,
        width,
        height,
        pixels: vec![0; (width * height * 4) as usize],
        content_id: 1,
        info: None,
        info_error: None,
    }
}

/// An online feed named `name` (also its key) with no figures.
pub fn online(name: &str) -> FeedUpdate {
    FeedUpdate {
        state: FeedState::Online,
        ..FeedUpdate::new(name, name)
    }
}

/// Figures of a feed that has run for a while: 10 fps captured of a 60 fps source.
pub fn busy_stats() -> StatsSnapshot {
    let p = |a, b| Percentiles {
        count: 100,
        p50_us: a,
        p95_us: b,
        p99_us: b,
        max_us: b,
    };
    StatsSnapshot {
        published: Some(1200),
        captured: 200,
        dropped: 12,
        delivered: 187,
        queued: 1,
        drop_rate_percent: 6.0,
        captured_fps: 10.0,
        source_fps: 60.0,
        publisher_cost_us: Some(3.2),
        age_from_publisher: true,
        capture: p(45, 120),
        draw: p(180, 650),
        ..StatsSnapshot::default()
    }
}

/// Proptest settings for fuzzing properties: `$GBWATCH_FUZZ_CASES` cases (else `default`),
/// room for `prop_assume!` rejects in long campaigns, and regressions saved next to the
/// source file (`FILE.proptest-regressions`) and replayed first.
pub fn fuzz_config(default: u32) -> proptest::test_runner::Config {
    let cases = std::env::var("GBWATCH_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    proptest::test_runner::Config {
        cases,
        max_global_rejects: cases.max(1024),
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
        )),
        ..Default::default()
    }
}

/// A writer that keeps what it was given; with a `gate`, every write waits until the gate's
/// lock is free (a terminal that stopped reading); with `fail`, every write is refused.
#[derive(Clone, Default)]
pub struct Sink {
    /// What was written.
    pub bytes: Arc<std::sync::Mutex<Vec<u8>>>,
    pub gate: Option<Arc<std::sync::Mutex<()>>>,
    pub fail: bool,
}

impl Sink {
    /// Everything written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.bytes.lock().unwrap().clone()
    }
}

impl std::io::Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if let Some(g) = &self.gate {
            drop(g.lock().unwrap());
        }
        if self.fail {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        }
        self.bytes.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Terminal input from a script: each entry is one poll's answer; when the script is
/// done, polls time out.
pub struct Script(pub std::collections::VecDeque<std::io::Result<Option<crossterm::event::Event>>>);

impl Script {
    /// Nothing for about `quiet`, then `events` one after another.
    pub fn after(quiet: std::time::Duration, events: Vec<crossterm::event::Event>) -> Script {
        let polls = (quiet.as_millis() / 100) as usize;
        let mut script: std::collections::VecDeque<_> = (0..polls).map(|_| Ok(None)).collect();
        script.extend(events.into_iter().map(|e| Ok(Some(e))));
        Script(script)
    }
}

impl crate::tui::input::EventSource for Script {
    fn next(
        &mut self,
        timeout: std::time::Duration,
    ) -> std::io::Result<Option<crossterm::event::Event>> {
        match self.0.pop_front() {
            Some(Ok(None)) | None => {
                std::thread::sleep(timeout);
                Ok(None)
            }
            Some(e) => e,
        }
    }
}
