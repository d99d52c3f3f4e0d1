//! Image files as sources: 64 curframe_*.jpeg files rewritten in place by a concurrent writer
//! (tests/py/curframe_writer.py) are watched through a glob; every frame shown must be exactly
//! one of the images written, never a half-written mix.

use crate::common;

use common::{gbwatch, Scratch};
use gbwatch::pipeline::{FeedOptions, FeedSet, FeedState, Settings, SharedSettings};
use gbwatch::source::decode::decode_image;
use gbwatch::source::SourceSpec;
use std::collections::HashMap;
use std::io::BufRead;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn rgba(d: &gbwatch::source::decode::Decoded) -> Vec<u8> {
    let w = d.width as usize;
    let stride = w * d.format.bytes_per_pixel();
    let mut out = Vec::new();
    for row in d.pixels.chunks(stride) {
        d.format.row_to_rgba(row, w, &mut out);
    }
    out
}

#[test]
fn sixty_four_files_rewritten_concurrently_show_only_whole_images() {
    let scratch = Scratch::new("curframes");
    let sessions = scratch.path().join("sessions");
    let refs = scratch.path().join("refs");
    std::fs::create_dir_all(&sessions).unwrap();
    std::fs::create_dir_all(&refs).unwrap();
    let writer = common::spawn_ready(
        common::py_script("curframe_writer.py")
            .args(["--root", sessions.to_str().unwrap()])
            .args(["--refs", refs.to_str().unwrap()])
            .args(["--envs", "64", "--late", "4", "--seconds", "3"])
            .stderr(Stdio::inherit()),
        "the curframe writer",
    );
    let mut lines = writer.out.lines();

    let known: Vec<Vec<u8>> = (0..6)
        .map(|k| {
            let bytes = std::fs::read(refs.join(format!("known-{k}.jpeg"))).unwrap();
            rgba(&decode_image(&bytes).unwrap())
        })
        .collect();
    assert!(
        known.windows(2).all(|w| w[0] != w[1]),
        "reference images must differ"
    );

    let pattern = format!("{}/*/curframe_*.jpeg", sessions.display());
    let spec = SourceSpec::parse(&pattern).unwrap();
    assert!(spec.is_dynamic());
    let settings = Settings::with_overrides(3, Some(1), Some(60), None).unwrap();
    let set = FeedSet::start(
        vec![spec],
        SharedSettings::new(settings),
        FeedOptions::default(),
    );
    assert_eq!(set.feeds().len(), 60, "the late envs are not written yet");

    let mut per_feed: HashMap<String, u64> = HashMap::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(3300) {
        let mut any = false;
        for feed in set.feeds() {
            while let Some(frame) = feed.queue.pop() {
                any = true;
                assert_eq!((frame.width, frame.height), (160, 144));
                let which = known.iter().position(|k| *k == frame.pixels);
                assert!(
                    which.is_some(),
                    "{}: frame {} is not one of the written images",
                    feed.name,
                    frame.frame_index
                );
                *per_feed.entry(feed.name.clone()).or_default() += 1;
            }
        }
        if !any {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let writes: u64 = lines
        .next()
        .unwrap()
        .unwrap()
        .strip_prefix("writes ")
        .unwrap()
        .parse()
        .unwrap();
    let feeds = set.feeds();
    set.stop();
    assert_eq!(feeds.len(), 64, "late files joined the grid");
    for feed in &feeds {
        let state = feed.status().state;
        assert!(
            matches!(state, FeedState::Online),
            "{}: {state:?}",
            feed.name
        );
        assert!(
            per_feed.get(&feed.name).copied().unwrap_or(0) >= 1,
            "{}",
            feed.name
        );
        assert!(feed.snapshot().invariant_holds());
    }
    assert!(feeds.iter().any(|f| f.name == "s3/curframe_63"));
    let shown: u64 = per_feed.values().sum();
    eprintln!("{writes} rewrites, {shown} frames shown, all whole");
    assert!(
        shown >= 64 * 3,
        "only {shown} frames shown for {writes} rewrites"
    );
}

#[test]
fn an_image_directory_dumps_and_joins_new_files() {
    let scratch = Scratch::new("imgdir");
    let dir = scratch.path().join("frames");
    std::fs::create_dir_all(&dir).unwrap();
    let mut png = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png, 160, 144);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.write_header()
            .unwrap()
            .write_image_data(&[120u8; 160 * 144 * 3])
            .unwrap();
    }
    std::fs::write(dir.join("env-2.png"), &png).unwrap();
    std::fs::write(dir.join("env-10.png"), &png).unwrap();
    std::fs::write(dir.join("notes.txt"), b"not an image").unwrap();
    assert_eq!(
        SourceSpec::parse(dir.to_str().unwrap()).unwrap(),
        SourceSpec::ImageDir(dir.clone())
    );
    // A directory with slots stays a slot directory.
    let slots = scratch.path().join("slots");
    std::fs::create_dir_all(&slots).unwrap();
    assert_eq!(
        SourceSpec::parse(slots.to_str().unwrap()).unwrap(),
        SourceSpec::SlotDir(slots.clone())
    );

    let out = scratch.path().join("out");
    let status = gbwatch()
        .args([
            "dump",
            dir.to_str().unwrap(),
            "--count",
            "1",
            "--env",
            "env-10",
        ])
        .args(["--out", out.to_str().unwrap(), "--preset", "low"])
        .status()
        .unwrap();
    assert!(status.success());
    let files: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, ["env-10-000001.jpg"]);

    // Natural order, and a file added later joins.
    let settings = Settings::with_overrides(1, Some(1), Some(30), None).unwrap();
    let set = FeedSet::start(
        vec![SourceSpec::parse(dir.to_str().unwrap()).unwrap()],
        SharedSettings::new(settings),
        FeedOptions::default(),
    );
    let names: Vec<String> = set.feeds().iter().map(|f| f.name.clone()).collect();
    assert_eq!(names, ["env-2", "env-10"]);
    std::fs::write(dir.join("env-11.png"), &png).unwrap();
    let start = Instant::now();
    while set.feeds().len() < 3 && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let feeds = set.feeds();
    assert_eq!(feeds[2].name, "env-11");
    let frame = feeds[2]
        .queue
        .pop_timeout(Duration::from_secs(5))
        .expect("frame");
    assert!(frame
        .pixels
        .chunks_exact(4)
        .all(|p| p == [120, 120, 120, 255]));
    set.stop();
}

#[test]
fn bad_globs_and_missing_paths_are_usage_errors() {
    for (arg, expected) in [
        ("/tmp/gbwatch-no-such-dir-x/[.jpg", "bad pattern"),
        (
            "/tmp/gbwatch-no-such-file.jpeg",
            "no such file or directory",
        ),
    ] {
        let out = gbwatch()
            .args(["dump", "--stdout", "--count", "1", arg])
            .output()
            .unwrap();
        let err = common::assert_usage_error(&out, arg);
        assert!(err.contains(expected), "{arg}: {err}");
    }
}
