//! Damaged or hostile slot files give a one-line error naming the file, and gbwatch keeps
//! monitoring the other slots.

use crate::common;

use common::{gbwatch, Scratch};
use gbwatch::frame::PixelFormat;
use gbwatch::pipeline::{FeedOptions, FeedSet, FeedState, SharedSettings};
use gbwatch::slot::{Header, SlotWriter, HEADER_SIZE};
use gbwatch::source::SourceSpec;
use std::path::Path;
use std::time::{Duration, Instant};

fn good_header(width: u32, height: u32) -> Vec<u8> {
    Header::encode_new(width, height, PixelFormat::Rgba, 42).to_vec()
}

fn write_bad_slots(dir: &Path) {
    let full = |mut h: Vec<u8>, w: usize, hgt: usize| {
        h.resize(HEADER_SIZE + w * hgt * 4, 0);
        h
    };
    let mut magic = full(good_header(160, 144), 160, 144);
    magic[..8].copy_from_slice(b"NOTASLOT");
    std::fs::write(dir.join("bad-magic.slot"), magic).unwrap();

    let mut version = full(good_header(160, 144), 160, 144);
    version[8..12].copy_from_slice(&99u32.to_le_bytes());
    std::fs::write(dir.join("bad-version.slot"), version).unwrap();

    // Header says 160x144 RGBA but the file holds only half the pixels.
    std::fs::write(
        dir.join("too-small.slot"),
        full(good_header(160, 144), 160, 72),
    )
    .unwrap();

    // Cut inside the header.
    std::fs::write(dir.join("truncated.slot"), &good_header(160, 144)[..60]).unwrap();

    // 100000 x 100000.
    let mut absurd = good_header(160, 144);
    absurd[16..20].copy_from_slice(&100_000u32.to_le_bytes());
    absurd[20..24].copy_from_slice(&100_000u32.to_le_bytes());
    absurd[28..32].copy_from_slice(&400_000u32.to_le_bytes());
    std::fs::write(dir.join("absurd.slot"), absurd).unwrap();
}

const BAD: [(&str, &str); 5] = [
    ("bad-magic.slot", "wrong magic"),
    ("bad-version.slot", "version 99"),
    ("too-small.slot", "truncated"),
    ("truncated.slot", "truncated"),
    ("absurd.slot", "100000x100000"),
];

#[test]
fn list_reports_each_bad_slot_in_one_line_and_lists_the_good_one() {
    let dir = Scratch::new("bad-list");
    write_bad_slots(dir.path());
    let mut good = SlotWriter::create(dir.path(), "good", 160, 144, PixelFormat::Rgba).unwrap();
    good.publish(&vec![9u8; 160 * 144 * 4], 1).unwrap();

    let out = gbwatch().arg("list").arg(dir.path()).output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("good ") && l.contains("160x144")),
        "stdout:\n{stdout}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        BAD.len(),
        "one line per bad slot, got:\n{stderr}"
    );
    for (file, words) in BAD {
        assert!(
            lines.iter().any(|l| l.contains(file) && l.contains(words)),
            "no line naming {file} with '{words}' in:\n{stderr}"
        );
    }
}

#[test]
fn the_pipeline_keeps_capturing_the_good_slot() {
    let dir = Scratch::new("bad-pipe");
    write_bad_slots(dir.path());
    let mut good = SlotWriter::create(dir.path(), "good", 160, 144, PixelFormat::Rgba).unwrap();
    let set = FeedSet::start(
        vec![SourceSpec::SlotDir(dir.path().to_path_buf())],
        SharedSettings::default(),
        FeedOptions::default(),
    );
    let start = Instant::now();
    let mut i = 0;
    while start.elapsed() < Duration::from_secs(10) {
        i += 1;
        good.publish(&vec![(i % 256) as u8; 160 * 144 * 4], i)
            .unwrap();
        std::thread::sleep(Duration::from_millis(10));
        if set
            .feeds()
            .iter()
            .any(|f| f.name == "good" && f.snapshot().captured >= 3)
        {
            break;
        }
    }
    let feeds = set.feeds();
    set.stop();
    let good_feed = feeds.iter().find(|f| f.name == "good").unwrap();
    assert!(good_feed.snapshot().captured >= 3, "good slot not captured");
    for (file, words) in BAD {
        let name = file.trim_end_matches(".slot");
        let feed = feeds
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("{name} not listed"));
        match feed.status().state {
            FeedState::Error(msg) => {
                assert!(
                    msg.contains(file) && msg.contains(words) && !msg.contains('\n'),
                    "{name}: {msg}"
                )
            }
            other => panic!("{name}: expected an error, got {other:?}"),
        }
    }
}
