//! The history against frames whose pixels and info carry their index.

use super::*;
use crate::fixtures::raw_frame;
use crate::frame::Frame;
use crate::info::{Info, Scalar};

const MS: u64 = 1_000_000;

/// Frame `i` of a feed: a scrolling 4-colour picture with `i` in its first pixel, `step=i`
/// as info, captured at `base + i` ms.
fn frame(i: u64, base: u64) -> Frame {
    let mut f = raw_frame(32, 16, None);
    for (p, px) in f.pixels.chunks_exact_mut(4).enumerate() {
        let v = (((p as u64 + i) / 3) % 4) as u8 * 60;
        px.copy_from_slice(&[v, v, v, 255]);
    }
    f.pixels[0] = i as u8;
    f.pixels[1] = (i >> 8) as u8;
    f.frame_index = 1000 + i;
    f.captured_ns = base + i * MS;
    f.content_id = i + 1;
    let mut info = Info::new();
    info.push("step", Scalar::Int(i as i64)).unwrap();
    f.info = Some(Arc::new(info));
    f
}

fn options(bytes: u64) -> HistoryOptions {
    HistoryOptions {
        span: Duration::from_secs(3600),
        bytes,
        keyframe_every: 8,
        ..HistoryOptions::default()
    }
}

#[test]
fn every_held_frame_decodes_exactly_with_its_info() {
    let history = History::new(options(u64::MAX));
    let track = history.track();
    let base = monotonic_ns();
    let frames: Vec<Frame> = (0..50).map(|i| frame(i, base)).collect();
    for f in &frames {
        track.push(f);
    }
    assert_eq!(track.len(), 50);
    assert_eq!(track.span(), Some((base, base + 49 * MS)));
    for (i, f) in frames.iter().enumerate() {
        // Exactly at the frame and just before the next: the same frame.
        for t in [f.captured_ns, f.captured_ns + MS - 1] {
            let got = track.at(t).unwrap_or_else(|| panic!("frame {i}"));
            assert!(got.pixels == f.pixels, "frame {i} pixels");
            assert_eq!(got.frame_index, f.frame_index);
            assert_eq!(got.captured_ns, f.captured_ns);
            assert_eq!(got.content_id, f.content_id);
            assert_eq!(got.info.as_ref().unwrap().line(), format!("step={i}"));
        }
    }
    assert!(track.at(base - 1).is_none(), "nothing before the oldest");
    let clip = track.frames(base + 10 * MS, base + 20 * MS);
    let idx: Vec<u64> = clip.iter().map(|f| f.frame_index - 1000).collect();
    assert_eq!(idx, (10..=20).collect::<Vec<_>>());
}

#[test]
fn steps_cross_segments_and_stop_at_the_ends() {
    let history = History::new(options(u64::MAX));
    let track = history.track();
    let base = monotonic_ns();
    for i in 0..30 {
        track.push(&frame(i, base));
    }
    let t = |i: u64| base + i * MS;
    assert_eq!(track.step(t(10), -3), Some(t(7)));
    assert_eq!(track.step(t(10), 9), Some(t(19)));
    assert_eq!(track.step(t(10) + 5, -10), Some(t(0)));
    assert_eq!(track.step(t(3), -100), Some(t(0)));
    assert_eq!(track.step(t(3), 100), Some(t(29)));
}

#[test]
fn the_oldest_goes_first_across_feeds_and_the_pin_stays() {
    let unbounded = History::new(options(u64::MAX));
    let probe = unbounded.track();
    let base = monotonic_ns();
    for i in 0..80 {
        probe.push(&frame(i, base));
    }
    // A budget for about half of two feeds' frames.
    let budget = probe.bytes();
    let history = History::new(options(budget));
    let (a, b) = (history.track(), history.track());
    for i in 0..80 {
        a.push(&frame(i, base));
        b.push(&frame(i, base + MS / 2));
    }
    history.trim_at(monotonic_ns());
    assert!(history.bytes() <= budget, "{} > {budget}", history.bytes());
    let (a0, a1) = a.span().unwrap();
    let (b0, b1) = b.span().unwrap();
    assert_eq!((a1, b1), (base + 79 * MS, base + 79 * MS + MS / 2));
    assert!(a0 > base && b0 > base, "the oldest frames went");
    assert!(
        a0.abs_diff(b0) <= 8 * MS,
        "both feeds lost their oldest alike"
    );

    // Pinned early frames stay while newer ones keep coming.
    let pinned = History::new(options(budget));
    let c = pinned.track();
    pinned.pin(Some((base + 2 * MS, base + 5 * MS)));
    for i in 0..200 {
        c.push(&frame(i, base));
    }
    pinned.trim_at(monotonic_ns());
    let held = c.at(base + 3 * MS).expect("the pinned frame is held");
    assert_eq!(held.frame_index, 1003);
    assert!(c.at(base + 199 * MS).is_some());
    assert!(c.step(base, 1).is_some());
    // Everything but the pinned segment and the newest is gone.
    assert!(c.len() < 100, "{} frames held", c.len());
    pinned.pin(None);
    for i in 200..216 {
        c.push(&frame(i, base));
    }
    pinned.trim_at(monotonic_ns());
    assert!(c.span().unwrap().0 > base + 5 * MS, "unpinned, it goes");
}

#[test]
fn frames_older_than_the_span_are_dropped() {
    let history = History::new(HistoryOptions {
        span: Duration::from_millis(20),
        ..options(u64::MAX)
    });
    let track = history.track();
    let base = monotonic_ns();
    for i in 0..100 {
        track.push(&frame(i, base));
    }
    history.trim_at(base + 99 * MS);
    let (first, _) = track.span().unwrap();
    // Whole segments go: at most one segment's frames more than the span.
    assert!(
        first >= base + (99 - 20 - 8) * MS,
        "{}",
        (first - base) / MS
    );
    assert!(first <= base + (99 - 20) * MS);
}

#[test]
fn a_change_of_size_starts_a_new_segment() {
    let history = History::new(options(u64::MAX));
    let track = history.track();
    let base = monotonic_ns();
    track.push(&frame(0, base));
    let mut big = raw_frame(40, 20, None);
    big.captured_ns = base + MS;
    track.push(&big);
    track.push(&frame(2, base));
    assert_eq!(track.at(base).unwrap().width, 32);
    assert_eq!(track.at(base + MS).unwrap().width, 40);
    assert!(track.at(base + 2 * MS).unwrap().pixels == frame(2, base).pixels);
}

#[test]
fn capture_keeps_every_feeds_frames() {
    use crate::pipeline::{FeedOptions, FeedSet, Settings, SharedSettings};
    use crate::source::SourceSpec;
    let history = History::new(options(u64::MAX));
    let set = FeedSet::start(
        vec![SourceSpec::Demo],
        SharedSettings::new(Settings::default()),
        FeedOptions {
            history: Some(history.clone()),
            ..FeedOptions::default()
        },
    );
    let started = std::time::Instant::now();
    let feed = loop {
        let feed = set.feeds().into_iter().next();
        if let Some(f) = feed.filter(|f| f.history.as_ref().is_some_and(|h| h.len() >= 5)) {
            break f;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "5 demo frames in history"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    set.stop();
    let h = feed.history.as_ref().unwrap();
    let (_, newest) = h.span().unwrap();
    let shown = h.at(newest).unwrap();
    assert_eq!((shown.width, shown.height), (160, 144));
    assert!(history.bytes() > 0);
}
