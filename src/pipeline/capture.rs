//! The capture thread: polls one source at the preset's rate, converts frames to RGBA,
//! marks identical frames and pushes into the feed's drop-oldest queue. It never waits for
//! a consumer.

use super::feed::Feed;
use super::pace::Pace;
use super::positions::Positions;
use super::preset::SharedSettings;
use super::stats::CaptureRecord;
use super::status::{FeedState, STALE_AFTER};
use crate::cancel::Cancel;
use crate::clock::monotonic_ns;
use crate::frame::{Frame, PixelFormat, SharedFrame};
use crate::source::{Poll, RawFrame, Source};
use crossbeam_channel::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Starts a capture thread that polls `source` into `feed` until `cancel` (or the source
/// ends); `arrived` is told (without waiting) after every push, so a consumer can wake on
/// new frames; `positions` is told each frame's position.
pub(crate) fn spawn_capture(
    source: Box<dyn Source>,
    feed: Arc<Feed>,
    arrived: Sender<()>,
    settings: SharedSettings,
    positions: Arc<Positions>,
    cancel: Cancel,
) -> JoinHandle<()> {
    let name = format!("capture {}", source.name());
    std::thread::Builder::new()
        .name(name)
        .spawn(move || run(source, &feed, &arrived, (settings, &positions), cancel))
        .expect("spawn capture thread")
}

fn run(
    mut source: Box<dyn Source>,
    t: &Feed,
    arrived: &Sender<()>,
    (settings, positions): (SharedSettings, &Positions),
    cancel: Cancel,
) {
    let mut previous: Option<SharedFrame> = None;
    let mut next_content_id = 1u64;
    let mut pace = Pace::new(Instant::now());
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
        let wanted = t.wanted_fps(fps);
        if told_wanted != Some(wanted) {
            source.set_wanted_fps(wanted);
            told_wanted = Some(wanted);
        }
        let interval = Duration::from_secs_f64(1.0 / fps as f64);
        let now = Instant::now();
        if now < pace.due() {
            if cancel.sleep(pace.due() - now) {
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
                    pace.restart();
                }
                let frame = deliver(
                    raw,
                    started,
                    &mut previous_ids(&previous, &mut next_content_id),
                    t,
                );
                hand_on(&frame, t, positions, arrived);
                let published = frame.published_ns.map(|at| (at, frame.frame_index));
                previous = Some(frame);
                last_frame = Some(Instant::now());
                pace.frame(interval, published, Instant::now(), monotonic_ns());
            }
            Ok(Poll::Nothing) => {
                // Whatever the source: an online feed whose newest frame is old is stale.
                if last_frame.is_some_and(|at| at.elapsed() >= STALE_AFTER) {
                    t.mark_stale();
                }
                if cancel.sleep(pace.nothing(interval)) {
                    break;
                }
            }
            Ok(Poll::Offline(reason)) => {
                if let Some(h) = &t.history {
                    h.mark_offline(crate::clock::monotonic_ns());
                }
                t.set_state(FeedState::Offline(reason));
                if cancel.sleep(Duration::from_millis(200)) {
                    break;
                }
            }
            Ok(Poll::Gone) => {
                t.set_state(FeedState::Gone);
                break;
            }
            Ok(Poll::Ended) => {
                // A source that ends right after an error (a damaged recording) keeps
                // showing the error.
                if !matches!(t.status().state, FeedState::Error(_)) {
                    t.set_state(FeedState::Ended);
                }
                break;
            }
            Err(e) => {
                t.set_state(FeedState::Error(e.to_string()));
                if cancel.sleep(error_backoff) {
                    break;
                }
                error_backoff = (error_backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
    t.queue.close();
}

/// Hands a new frame to the map's positions, the history and the queue, and marks the
/// feed online.
fn hand_on(frame: &SharedFrame, t: &Feed, positions: &Positions, arrived: &Sender<()>) {
    positions.observe_frame(&t.name, frame, Instant::now());
    if let Some(h) = &t.history {
        h.push(frame);
    }
    t.queue.push(frame.clone());
    // Full means a wake-up is already pending: nothing is lost.
    let _ = arrived.try_send(());
    t.set_state(FeedState::Online);
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
fn deliver(raw: RawFrame, started: Instant, ids: &mut ContentIds<'_>, t: &Feed) -> SharedFrame {
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
    t.stats.record_info(
        frame.frame_index,
        frame.info.as_ref(),
        frame.info_error.as_ref(),
    );
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

/// Converts a raw frame to RGBA8, reusing the buffer when it already is tight RGBA.
pub fn to_frame(raw: RawFrame) -> Frame {
    let (w, h) = (raw.width as usize, raw.height as usize);
    let (info, info_error) = (raw.info, raw.info_error);
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
        info_error,
    }
}
