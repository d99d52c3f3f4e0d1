//! Recordings end to end: real PyBoy → `gbwatch record` → replay, damaged files, the
//! built-in demo, and `record`'s usage errors.

use crate::common;

use common::{gbwatch, pyboy_publisher, run_ok, stats_json, Scratch};
use gbwatch::source::recording::{
    RecordingError, RecordingReader, RecordingSource, RecordingWriter, StreamRecordingSource,
};
use gbwatch::source::stream::FrameDecoder;
use gbwatch::source::{Poll, Source};
use gbwatch::stream::{Message, StreamParser};
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

const FRAME_BYTES: usize = 160 * 144 * 4;

/// PyBoy's own frames as saved by `pyboy_publisher.py --save`: frame index → RGBA.
fn saved_frames(path: &Path) -> HashMap<u64, Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(bytes.len() % (8 + FRAME_BYTES), 0, "whole records");
    bytes
        .chunks(8 + FRAME_BYTES)
        .map(|r| {
            (
                u64::from_le_bytes(r[..8].try_into().unwrap()),
                r[8..].to_vec(),
            )
        })
        .collect()
}

/// Every frame of a multi-env recording (what `record` writes): (env, frame index, pixels).
fn read_stream_recording(bytes: &[u8]) -> Vec<(String, u64, Vec<u8>)> {
    let mut messages = Vec::new();
    StreamParser::new().push(bytes, &mut messages).unwrap();
    let mut names = HashMap::new();
    let mut decoders: HashMap<u16, FrameDecoder> = HashMap::new();
    let mut out = Vec::new();
    for m in messages {
        match m {
            Message::Sources(list) => names.extend(list.into_iter().map(|s| (s.id, s.name))),
            Message::Frame { id, data, .. } => {
                let f = decoders
                    .entry(id)
                    .or_default()
                    .decode(&data)
                    .unwrap()
                    .unwrap();
                out.push((names[&id].clone(), f.frame_index, f.pixels));
            }
            _ => {}
        }
    }
    out
}

/// (record offset, frame index, pixels).
type Decoded = (u64, u64, Vec<u8>);

/// Every frame of a recording, and the error that stopped it (if any), with the offset at
/// which each frame's record began.
fn read_all(bytes: Vec<u8>) -> (Vec<Decoded>, Option<RecordingError>) {
    let mut r = RecordingReader::from_vec(bytes).unwrap();
    let mut out = Vec::new();
    loop {
        let at = r.position();
        match r.next_frame() {
            Ok(Some(f)) => out.push((at, f.frame_index, f.pixels.to_vec())),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

fn jpegs(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    v.sort();
    v
}

#[test]
fn pyboy_frames_round_trip_and_damage_is_reported() {
    let tmp = Scratch::new("rec");
    let slots = tmp.path().join("slots");
    let save = tmp.path().join("pyboy.frames");
    let rec = tmp.path().join("run.gbrec");
    let mut publisher = pyboy_publisher(
        &slots,
        "env-00",
        &[
            "--fps",
            "60",
            "--frames",
            "240",
            "--save",
            save.to_str().unwrap(),
        ],
    );
    let out = run_ok(
        gbwatch()
            .arg("record")
            .arg(&slots)
            .args(["--fps", "120", "--count", "60", "-o"])
            .arg(&rec),
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("recorded 60 frames"));
    assert!(publisher.0.wait().unwrap().success());
    let pyboy = saved_frames(&save);

    // Decoded: exactly PyBoy's pixels, frame indexes increasing.
    let recorded = read_stream_recording(&std::fs::read(&rec).unwrap());
    assert_eq!(recorded.len(), 60);
    for w in recorded.windows(2) {
        assert!(w[1].1 > w[0].1, "frame indexes increase");
    }
    for (env, idx, px) in &recorded {
        assert_eq!(env, "env-00");
        let original = pyboy
            .get(idx)
            .unwrap_or_else(|| panic!("frame {idx} not published"));
        assert!(px == original, "frame {idx} differs from PyBoy's");
    }

    // Single-env recordings of earlier versions still play: the same frames written in
    // that format, replayed and damaged below.
    let old = tmp.path().join("old.gbrec");
    let mut w = RecordingWriter::new(Vec::new(), 160, 144).unwrap();
    for (i, (_, idx, px)) in recorded.iter().enumerate() {
        w.write_frame(*idx, i as u64 * 16_666_667, px).unwrap();
    }
    std::fs::write(&old, w.finish().unwrap()).unwrap();
    let rec = old;
    let bytes = std::fs::read(&rec).unwrap();
    let (frames, err) = read_all(bytes.clone());
    assert!(err.is_none(), "{err:?}");
    assert_eq!(frames.len(), 60);

    // Replayed at its timing through the source every command uses: still identical.
    let mut src = RecordingSource::open("run", &rec, 1.0, false).unwrap();
    let started = Instant::now();
    let mut replayed = 0;
    loop {
        assert!(started.elapsed() < Duration::from_secs(10), "replay ends");
        match src.poll().unwrap() {
            Poll::Frame(f) => {
                assert!(f.pixels == pyboy[&f.frame_index], "replayed frame differs");
                assert!(f.published_ns.is_none());
                replayed += 1;
            }
            Poll::Nothing => std::thread::sleep(Duration::from_millis(5)),
            Poll::Ended => break,
            Poll::Offline(r) => panic!("offline: {r}"),
            Poll::Gone => panic!("a recording is never gone"),
        }
    }
    assert!(replayed >= 20, "replayed {replayed} frames in ~1 s");
    assert!(
        started.elapsed() >= Duration::from_millis(800),
        "original timing kept"
    );

    // Truncated inside frame 40's record: 40 frames play, the error names its offset.
    let record_40 = frames[40].0 as usize;
    let (before, err) = read_all(bytes[..record_40 + 50].to_vec());
    assert_eq!(before.len(), 40);
    let err = err.expect("truncation reported");
    assert_eq!(err.offset(), Some(record_40 as u64));
    assert_eq!(err.to_string().lines().count(), 1, "one line: {err}");
    assert!(
        err.to_string()
            .contains(&format!("truncated at byte {record_40}")),
        "{err}"
    );

    // A byte flipped in the middle of the file: the frames before it play.
    let mid = bytes.len() / 2;
    let mut flipped = bytes.clone();
    flipped[mid] ^= 0x10;
    let (before, err) = read_all(flipped.clone());
    let err = err.expect("damage reported");
    let damaged_record = frames.iter().rposition(|f| f.0 as usize <= mid).unwrap();
    assert_eq!(before.len(), damaged_record);
    assert_eq!(err.offset(), Some(frames[damaged_record].0));
    assert!(
        err.to_string().starts_with("recording damaged at byte "),
        "{err}"
    );
    for (i, f) in before.iter().enumerate() {
        assert!(f.2 == frames[i].2);
    }

    // The commands: frames before the damage are dumped, then a one-line error, status 1.
    for (tag, data, expect) in [
        (
            "truncated",
            bytes[..record_40 + 50].to_vec(),
            "truncated at byte",
        ),
        ("flipped", flipped, "damaged at byte"),
    ] {
        let file = tmp.path().join(format!("{tag}.gbrec"));
        std::fs::write(&file, data).unwrap();
        let dir = tmp.path().join(format!("dump-{tag}"));
        let out = gbwatch()
            .arg("dump")
            .arg(&file)
            .args(["--fps", "60", "--speed", "2", "--out"])
            .arg(&dir)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{tag}");
        // The feed's state changes as they happened, then the one-line error.
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let (line, before) = stderr
            .trim_end()
            .lines()
            .collect::<Vec<_>>()
            .split_last()
            .map(|(l, b)| (l.to_string(), b.to_vec()))
            .unwrap();
        assert!(line.contains(expect), "{tag}: {stderr}");
        assert!(
            before
                .iter()
                .all(|l| l.starts_with(&format!("gbwatch: {tag}: "))),
            "{tag}: {stderr}"
        );
        assert!(
            !jpegs(&dir).is_empty(),
            "{tag}: frames before the damage dumped"
        );
    }
}

#[test]
fn the_demo_source_dumps_real_frames() {
    let tmp = Scratch::new("demo");
    let empty = tmp.path().join("slots");
    std::fs::create_dir(&empty).unwrap();
    let out_dir = tmp.path().join("out");
    run_ok(
        gbwatch()
            .env("GBWATCH_DIR", &empty)
            .args(["dump", "demo", "--count", "5", "--out"])
            .arg(&out_dir),
    );
    let files = jpegs(&out_dir);
    assert_eq!(files.len(), 5);
    for f in &files {
        assert!(f
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("demo-"));
        let mut d = jpeg_decoder::Decoder::new(std::fs::File::open(f).unwrap());
        let px = d.decode().unwrap();
        let info = d.info().unwrap();
        assert_eq!(
            (info.width, info.height),
            (320, 288),
            "MEDIUM: 2x of 160x144"
        );
        // A real scene, not a blank frame.
        let (lo, hi) = (px.iter().min().unwrap(), px.iter().max().unwrap());
        assert!(hi - lo > 100, "{}: contrast {lo}..{hi}", f.display());
    }
}

#[test]
fn stats_takes_the_demo_only_when_asked() {
    let tmp = Scratch::new("demostats");
    let v = stats_json(gbwatch().env("GBWATCH_DIR", tmp.path()).args([
        "stats",
        "demo",
        "--json",
        "--duration",
        "1",
    ]));
    assert_eq!(v["feeds"][0]["name"], "demo");
    assert!(v["frames_captured"].as_u64().unwrap() >= 5, "{v}");
    assert_eq!(v["feeds"][0]["invariant_holds"], true);

    // An empty slot directory is waited on, never replaced by the demo.
    let o = gbwatch()
        .env("GBWATCH_DIR", tmp.path())
        .args(["stats", "--json", "--duration", "1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["feeds"].as_array().unwrap().len(), 0, "{v}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("waiting for a publisher in"), "{err}");

    // With a publisher in the directory, its feed.
    let _publisher = pyboy_publisher(tmp.path(), "env-00", &["--seconds", "20"]);
    let v = stats_json(gbwatch().env("GBWATCH_DIR", tmp.path()).args([
        "stats",
        "--json",
        "--duration",
        "1",
    ]));
    let names: Vec<&str> = v["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["env-00"]);
    assert!(v["frames_captured"].as_u64().unwrap() >= 5, "{v}");
}

#[test]
fn record_usage_errors_are_one_line_with_status_2() {
    let tmp = Scratch::new("recusage");
    let out_file = tmp.path().join("x.gbrec");
    let o = out_file.to_str().unwrap();
    let missing_dir = tmp.path().join("no/such/dir/x.gbrec");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["record"], "--out"),
        (vec!["record", "-o", o, "--count", "0"], "--count"),
        (vec!["record", "-o", o, "--duration=-1"], "--duration"),
        (
            vec!["record", "-o", o, "--count", "3", "--duration", "1"],
            "cannot be used with",
        ),
        (vec!["record", "-o", o, "--speed", "0"], "--speed"),
        (
            vec!["record", "-o", missing_dir.to_str().unwrap()],
            "cannot write",
        ),
        (
            vec!["record", "-o", tmp.path().to_str().unwrap()],
            "is a directory",
        ),
        (vec!["record", "-o", o, "/no/such/source"], "no such file"),
        (
            vec!["record", "-o", o, "--preset", "mega"],
            "unknown preset",
        ),
    ];
    for (args, expect) in cases {
        let out = gbwatch().args(&args).output().unwrap();
        let line = common::assert_usage_error(&out, &format!("{args:?}"));
        assert!(line.contains(expect), "{args:?}: {line}");
    }
    assert!(!out_file.exists(), "usage errors leave no file behind");
}

#[test]
fn eight_publishers_recorded_into_one_file_replay_as_a_grid_of_eight() {
    let tmp = Scratch::new("rec8");
    let slots = tmp.path().join("slots");
    let saves = tmp.path().join("saved");
    let names: Vec<String> = (0..8).map(|i| format!("env-{i}")).collect();
    let mut envs = common::py_script("pyboy_many.py");
    envs.args(["--dir", slots.to_str().unwrap(), "--fps", "10"])
        .args(["--seconds", "30", "--names", &names.join(",")])
        .args(["--save-dir", saves.to_str().unwrap()])
        .stderr(std::process::Stdio::inherit());
    let _envs = common::spawn_ready(&mut envs, "the PyBoy envs");
    let rec = tmp.path().join("all.gbrec");
    let out = run_ok(
        gbwatch()
            .arg("record")
            .arg(&slots)
            .args(["--duration", "10", "-o"])
            .arg(&rec),
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("of 8 envs"), "{said}");

    // Every recorded frame is exactly one PyBoy made for that env.
    let recorded = read_stream_recording(&std::fs::read(&rec).unwrap());
    let saved: HashMap<String, HashMap<u64, Vec<u8>>> = names
        .iter()
        .map(|n| (n.clone(), saved_frames(&saves.join(format!("{n}.frames")))))
        .collect();
    for n in &names {
        let count = recorded.iter().filter(|r| &r.0 == n).count();
        assert!(count >= 60, "{n}: {count} frames in 10 s at 10 fps");
    }
    for (env, idx, px) in &recorded {
        assert!(
            px == &saved[env][idx],
            "{env} frame {idx} differs from PyBoy's"
        );
    }

    // Replayed: a grid of the 8 envs under their own names, with their own frames.
    let v = stats_json(
        gbwatch()
            .arg("stats")
            .arg(&rec)
            .args(["--json", "--duration", "2"]),
    );
    let mut replayed: Vec<&str> = v["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    replayed.sort();
    assert_eq!(replayed, names, "{v:#}");
    assert_eq!(v["method"], "recording");
    let spec = gbwatch::source::SourceSpec::parse(rec.to_str().unwrap()).unwrap();
    let settings = gbwatch::pipeline::Settings::with_overrides(1, Some(1), Some(20), None).unwrap();
    let set = gbwatch::pipeline::FeedSet::start(
        vec![spec],
        gbwatch::pipeline::SharedSettings::new(settings),
        gbwatch::pipeline::FeedOptions::default(),
    );
    let feeds = set.feeds();
    assert_eq!(feeds.len(), 8);
    for feed in &feeds {
        for _ in 0..5 {
            let f = feed
                .queue
                .pop_timeout(Duration::from_secs(5))
                .expect("a replayed frame");
            assert!(
                f.pixels == saved[&feed.name][&f.frame_index],
                "{} frame {}",
                feed.name,
                f.frame_index
            );
        }
    }
    set.stop();
    // Made into a built-in demo (examples/rom/make_demo_recording.sh), it plays its first env.
    let bytes = std::fs::read(&rec).unwrap();
    let mut demo = StreamRecordingSource::first_env_of("demo".into(), &bytes, 4.0, true);
    let frame = common::eventually("a demo frame", Duration::from_secs(5), || {
        match demo.poll().unwrap() {
            Poll::Frame(f) => Some(f),
            _ => None,
        }
    });
    assert!(
        names
            .iter()
            .any(|n| saved[n].get(&frame.frame_index) == Some(&frame.pixels)),
        "the demo's frame is a recorded one"
    );
    let tmux = common::tmux::Tmux::start("rec8", 200, 60);
    let cmd = format!("{} --loop {}", env!("CARGO_BIN_EXE_gbwatch"), rec.display());
    tmux.run(&["send-keys", "-t", "t", &cmd, "Enter"]);
    tmux.wait_for("the 8 recorded envs", 20, |s| {
        s.contains(" 8 envs") && s.contains("env-0") && s.contains("env-7")
    });
    tmux.run(&["send-keys", "-t", "t", "q"]);
}
