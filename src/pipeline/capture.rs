//! The capture thread: polls one source at the preset's rate, converts frames to RGBA,
//! marks identical frames and pushes into the feed's drop-oldest queue. It never waits for
//! a consumer.

use super::cancel::Cancel;
use super::feeds::{FeedState, FeedStatus, STALE_AFTER};
use super::preset::SharedSettings;
use super::queue::DropOldestQueue;
use super::stats::{CaptureRecord, FeedStats};
use crate::clock::monotonic_ns;
use crate::frame::{Frame, PixelFormat, SharedFrame};
use crate::source::{Poll, RawFrame, Source};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A running capture thread; dropping the handle does not stop it, [`Cancel`] does.
#[derive(Debug)]
pub struct CaptureHandle {
    /// The capture thread.
    pub thread: JoinHandle<()>,
}

/// Everything a capture thread writes to.
pub(crate) struct CaptureTargets {
    pub queue: Arc<DropOldestQueue<SharedFrame>>,
    pub stats: Arc<FeedStats>,
    pub status: Arc<Mutex<FeedStatus>>,
    /// Told (without waiting) after every push, so a consumer can wake on new frames.
    pub arrived: crossbeam_channel::Sender<()>,
    /// Whether a consumer shows the feed now (a monitor's hidden tiles are not).
    pub shown: Arc<AtomicBool>,
    /// The most frames a second the consumer can use.
    pub rate_cap: Arc<AtomicU32>,
}

/// Starts a capture thread for `source`.
pub(crate) fn spawn_capture(
    source: Box<dyn Source>,
    targets: CaptureTargets,
    settings: SharedSettings,
    cancel: Cancel,
) -> CaptureHandle {
    let name = format!("capture {}", source.name());
    let thread = std::thread::Builder::new()
        .name(name)
        .spawn(move || run(source, targets, settings, cancel))
        .expect("spawn capture thread");
    CaptureHandle { thread }
}

fn run(mut source: Box<dyn Source>, t: CaptureTargets, settings: SharedSettings, cancel: Cancel) {
    let mut previous: Option<SharedFrame> = None;
    let mut next_content_id = 1u64;
    let mut next_due = Instant::now();
    let mut error_backoff = Duration::from_millis(200);
    let mut told_fps = 0;
    let mut told_wanted = None;
    let mut last_frame: Option<Instant> = None;
    while !cancel.is_cancelled() {
        let fps = settings.get().fps().max(1);
        if fps != told_fps {
            source.set_capture_fps(fps);
            told_fps = fps;
        }
        let wanted = if t.shown.load(Ordering::Relaxed) {
            fps.min(t.rate_cap.load(Ordering::Relaxed))
        } else {
            0
        };
        if told_wanted != Some(wanted) {
            source.set_wanted_fps(wanted);
            told_wanted = Some(wanted);
        }
        let interval = Duration::from_secs_f64(1.0 / fps as f64);
        let now = Instant::now();
        if now < next_due {
            if cancel.sleep(next_due - now) {
                break;
            }
            continue;
        }
        let started = Instant::now();
        match source.poll() {
            Ok(Poll::Frame(raw)) => {
                error_backoff = Duration::from_millis(200);
                if source.take_restart() {
                    t.stats.publisher_restarted();
                    previous = None;
                }
                let frame = deliver(
                    raw,
                    started,
                    &mut previous_ids(&previous, &mut next_content_id),
                    &t,
                );
                t.queue.push(frame.clone());
                // Full means a wake-up is already pending: nothing is lost.
                let _ = t.arrived.try_send(());
                previous = Some(frame);
                last_frame = Some(Instant::now());
                set_state(&t.status, FeedState::Online);
                // Next frame one interval after this one was due (keeps the average rate),
                // but never in a burst to catch up.
                next_due = (next_due + interval).max(Instant::now());
            }
            Ok(Poll::Nothing) => {
                // Whatever the source: an online feed whose newest frame is old is stale.
                if last_frame.is_some_and(|at| at.elapsed() >= STALE_AFTER) {
                    let mut s = t.status.lock().unwrap();
                    if s.state == FeedState::Online {
                        s.state = FeedState::Stale;
                        s.since = Instant::now();
                    }
                }
                // Poll again soon: a fraction of the interval, so a new frame is picked up
                // with little delay, without spinning.
                let gap = (interval / 8).clamp(Duration::from_millis(1), Duration::from_millis(20));
                if cancel.sleep(gap) {
                    break;
                }
            }
            Ok(Poll::Offline(reason)) => {
                set_state(&t.status, FeedState::Offline(reason));
                if cancel.sleep(Duration::from_millis(200)) {
                    break;
                }
            }
            Ok(Poll::Gone) => {
                set_state(&t.status, FeedState::Gone);
                break;
            }
            Ok(Poll::Ended) => {
                // A source that ends right after an error (a damaged recording) keeps
                // showing the error.
                if !matches!(t.status.lock().unwrap().state, FeedState::Error(_)) {
                    set_state(&t.status, FeedState::Ended);
                }
                break;
            }
            Err(e) => {
                set_state(&t.status, FeedState::Error(e.to_string()));
                if cancel.sleep(error_backoff) {
                    break;
                }
                error_backoff = (error_backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
    t.queue.close();
}

/// The previous frame and the content-id counter, for telling repeated pictures apart.
struct ContentIds<'a> {
    previous: Option<&'a SharedFrame>,
    next: &'a mut u64,
}

fn previous_ids<'a>(previous: &'a Option<SharedFrame>, next: &'a mut u64) -> ContentIds<'a> {
    ContentIds {
        previous: previous.as_ref(),
        next,
    }
}

/// Converts a captured raw frame, gives it its content id (the previous one's when the
/// pixels are the same) and records its capture figures.
fn deliver(
    raw: RawFrame,
    started: Instant,
    ids: &mut ContentIds<'_>,
    t: &CaptureTargets,
) -> SharedFrame {
    let record_base = (
        raw.frame_index,
        raw.retries,
        raw.published_total,
        raw.publisher_cost_ns,
    );
    let age_from_publisher = raw.published_ns.is_some();
    let mut frame = to_frame(raw);
    let identical = ids.previous.is_some_and(|p| {
        p.width == frame.width && p.height == frame.height && p.pixels == frame.pixels
    });
    frame.content_id = match (ids.previous, identical) {
        (Some(p), true) => p.content_id,
        _ => {
            *ids.next += 1;
            *ids.next
        }
    };
    frame.capture_us = started.elapsed().as_micros() as u64;
    let copy_us = frame.capture_us;
    let frame = Arc::new(frame);
    t.stats.record_info(frame.frame_index, frame.info.as_ref());
    t.stats.record_capture(
        Instant::now(),
        CaptureRecord {
            frame_index: record_base.0,
            identical,
            copy_us,
            retries: record_base.1,
            published_total: record_base.2,
            publisher_cost_ns: record_base.3,
            age_from_publisher,
        },
    );
    frame
}

pub(crate) fn set_state(status: &Mutex<FeedStatus>, state: FeedState) {
    let mut s = status.lock().unwrap();
    if s.state != state {
        s.state = state;
        s.since = Instant::now();
    }
}

/// Converts a raw frame to RGBA8, reusing the buffer when it already is tight RGBA.
pub fn to_frame(raw: RawFrame) -> Frame {
    let (w, h) = (raw.width as usize, raw.height as usize);
    let info = raw.info;
    let pixels = if raw.format == PixelFormat::Rgba
        && raw.stride == w * 4
        && raw.pixels.len() == w * h * 4
    {
        raw.pixels
    } else {
        let mut out = Vec::with_capacity(w * h * 4);
        for row in raw.pixels.chunks(raw.stride).take(h) {
            raw.format.row_to_rgba(row, w, &mut out);
        }
        out
    };
    Frame {
        frame_index: raw.frame_index,
        published_ns: raw.published_ns,
        captured_at: Instant::now(),
        captured_ns: monotonic_ns(),
        width: raw.width,
        height: raw.height,
        pixels,
        capture_us: 0,
        content_id: 0,
        info,
    }
}
