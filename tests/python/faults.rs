//! Publisher faults: killed mid-write, killed and restarted, slot truncated or deleted
//! while watched.

use crate::common;

use common::{pyboy_publisher, Scratch};
use gbwatch::frame::PixelFormat;
use gbwatch::pipeline::{Feed, FeedOptions, FeedSet, FeedState, Settings, SharedSettings};
use gbwatch::slot::{slot_path, ReadOutcome, SlotReader, SlotWriter};
use gbwatch::source::SourceSpec;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::time::Duration;

fn fast_set(dir: &std::path::Path) -> FeedSet {
    FeedSet::start(
        vec![SourceSpec::SlotDir(dir.to_path_buf())],
        SharedSettings::new(Settings::with_overrides(1, None, Some(60), None).unwrap()),
        FeedOptions::default(),
    )
}

fn feed(set: &FeedSet, name: &str) -> Option<Arc<Feed>> {
    set.feeds().into_iter().find(|f| f.name == name)
}

#[test]
fn a_write_interrupted_midway_is_never_accepted() {
    let dir = Scratch::new("midwrite");
    let mut w = SlotWriter::create(dir.path(), "env", 160, 144, PixelFormat::Rgba).unwrap();
    w.publish(&vec![1u8; 160 * 144 * 4], 1).unwrap();
    let mut r = SlotReader::open(w.path(), false).unwrap();
    assert!(matches!(r.read().unwrap(), ReadOutcome::Frame(_)));
    // What a SIGKILL between "seq odd" and "seq even" leaves behind: an odd sequence and
    // half-written pixels.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(w.path())
        .unwrap();
    file.write_all_at(&3u64.to_le_bytes(), 88).unwrap();
    file.write_all_at(&[2u8; 1000], 128).unwrap();
    for _ in 0..100 {
        match r.read().unwrap() {
            ReadOutcome::Busy { .. } => {}
            other => panic!("accepted a half-written frame: {other:?}"),
        }
    }
}

#[test]
fn a_killed_publisher_goes_offline_and_its_restart_is_picked_up() {
    let dir = Scratch::new("restart");
    let mut first = pyboy_publisher(dir.path(), "env-00", &["--fps", "60", "--seconds", "60"]);
    let set = fast_set(dir.path());
    common::until("first publisher online", Duration::from_secs(10), || {
        feed(&set, "env-00")
            .is_some_and(|f| f.status().state == FeedState::Online && f.snapshot().captured > 5)
    });
    let gen1 = SlotReader::open(&slot_path(dir.path(), "env-00"), false)
        .unwrap()
        .header()
        .generation;
    first.0.kill().unwrap();
    first.0.wait().unwrap();
    let f = feed(&set, "env-00").unwrap();
    common::until("offline after SIGKILL", Duration::from_secs(5), || {
        matches!(f.status().state, FeedState::Offline(_))
    });
    let FeedState::Offline(reason) = f.status().state else {
        unreachable!()
    };
    assert!(reason.contains("exited"), "{reason}");

    let before = f.snapshot().captured;
    let _second = pyboy_publisher(dir.path(), "env-00", &["--fps", "60", "--seconds", "60"]);
    let gen2 = SlotReader::open(&slot_path(dir.path(), "env-00"), false)
        .unwrap()
        .header()
        .generation;
    assert_ne!(gen1, gen2, "a restarted publisher has a new generation");
    common::until(
        "restarted publisher online",
        Duration::from_secs(10),
        || f.status().state == FeedState::Online && f.snapshot().captured > before + 5,
    );
    let s = f.snapshot();
    set.stop();
    assert!(s.invariant_holds(), "{s:?}");
    assert_eq!(set.feeds().len(), 1, "the restart reuses the feed");
}

#[test]
fn a_slot_truncated_or_deleted_while_watched_is_an_error_not_a_crash() {
    let dir = Scratch::new("truncate");
    let mut w = SlotWriter::create(dir.path(), "cut", 160, 144, PixelFormat::Rgba).unwrap();
    let mut keep = SlotWriter::create(dir.path(), "keep", 160, 144, PixelFormat::Rgba).unwrap();
    let set = fast_set(dir.path());
    let mut i = 0u64;
    // After the truncation only "keep" is published: writing "cut" would grow it again.
    let mut publish = |w: Option<&mut SlotWriter>, keep: &mut SlotWriter| {
        i += 1;
        if let Some(w) = w {
            w.publish(&vec![(i % 251) as u8; 160 * 144 * 4], i).unwrap();
        }
        keep.publish(&vec![(i % 251) as u8; 160 * 144 * 4], i)
            .unwrap();
    };
    common::until("both online", Duration::from_secs(10), || {
        publish(Some(&mut w), &mut keep);
        ["cut", "keep"]
            .iter()
            .all(|n| feed(&set, n).is_some_and(|f| f.snapshot().captured > 3))
    });
    // Truncate the slot under the reader (a reader that mapped it would die of SIGBUS).
    std::fs::OpenOptions::new()
        .write(true)
        .open(w.path())
        .unwrap()
        .set_len(1000)
        .unwrap();
    let cut = feed(&set, "cut").unwrap();
    common::until("truncation reported", Duration::from_secs(5), || {
        publish(None, &mut keep);
        matches!(cut.status().state, FeedState::Error(ref m) if m.contains("truncated"))
    });
    // Delete it: shown offline.
    std::fs::remove_file(w.path()).unwrap();
    common::until("deletion reported", Duration::from_secs(5), || {
        publish(None, &mut keep);
        matches!(cut.status().state, FeedState::Offline(_))
    });
    let keep_feed = feed(&set, "keep").unwrap();
    let before = keep_feed.snapshot().captured;
    common::until(
        "the other slot keeps flowing",
        Duration::from_secs(5),
        || {
            publish(None, &mut keep);
            keep_feed.snapshot().captured > before + 5
        },
    );
    set.stop();
}
