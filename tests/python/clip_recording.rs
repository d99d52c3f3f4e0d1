//! `gbwatch clip` on recordings that `gbwatch record` made of real PyBoy envs whose frames
//! carry their number in their pixels: the GIF, decoded by Pillow, is exactly the recorded
//! frames of the span, pixel for pixel, in order, each lasting until the next one's
//! recorded time; the MP4 has as many frames and as long a duration (ffprobe); a
//! single-env recording of the same frames clips the same; bad input is one line, never a
//! panic.

use crate::common;

use common::{gbwatch, py_script, run_ok, spawn_ready, Scratch};
use gbwatch::source::recording::RecordingWriter;
use gbwatch::source::stream::FrameDecoder;
use gbwatch::stream::{Message, StreamParser};
use std::collections::HashMap;
use std::path::Path;
use std::process::Output;

/// One recorded frame: its time (the publisher's clock from the recording's first frame,
/// ns), frame index and pixels.
type Recorded = (u64, u64, Vec<u8>);

/// Every env's frames in a recording `gbwatch record` wrote, read with the library's
/// parser and decoder.
fn recorded(path: &Path) -> HashMap<String, Vec<Recorded>> {
    let mut messages = Vec::new();
    StreamParser::new()
        .push(&std::fs::read(path).unwrap(), &mut messages)
        .unwrap();
    let (mut names, mut decoders) = (HashMap::new(), HashMap::<u16, FrameDecoder>::new());
    let mut first = None;
    let mut out: HashMap<String, Vec<Recorded>> = HashMap::new();
    for m in messages {
        match m {
            Message::Sources(list) => names.extend(list.into_iter().map(|s| (s.id, s.name))),
            Message::Frame {
                id,
                published_ns,
                data,
            } => {
                let p = published_ns.expect("PyBoy's publisher stamps its frames");
                let first = *first.get_or_insert(p);
                let f = decoders.entry(id).or_default().decode(&data).unwrap();
                let f = f.expect("a frame in every frame message");
                let at = p.saturating_sub(first);
                out.entry(names[&id].clone())
                    .or_default()
                    .push((at, f.frame_index, f.pixels));
            }
            _ => {}
        }
    }
    out
}

/// `gbwatch clip` with `args`.
fn clip(args: &[&str]) -> Output {
    gbwatch().arg("clip").args(args).output().unwrap()
}

/// Asserts `out` failed with one line on stderr holding `want`, and no panic.
fn fails_with(out: &Output, want: &str) {
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert!(!out.status.success(), "{want}: succeeded");
    assert_eq!(err.lines().count(), 1, "{want}: one line: {err}");
    assert!(
        err.starts_with("gbwatch: ") && err.contains(want),
        "{want}: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// Checks a clip of `frames` (the recorded frames of the span): Pillow's frames are
/// exactly them, and each lasts until the next one's time (to the GIF's 10 ms).
fn check_gif(gif: &Path, saved: &Path, frames: &[&Recorded]) -> Vec<(u64, u64, bool)> {
    let decoded = common::gif_frames(gif, saved);
    let numbers: Vec<u64> = decoded.iter().map(|f| f.0).collect();
    let want: Vec<u64> = frames.iter().map(|f| f.1).collect();
    assert_eq!(numbers, want, "the recorded frames of the span, in order");
    assert!(
        decoded.iter().all(|f| f.2),
        "pixels differ from PyBoy's: {decoded:?}"
    );
    for (d, w) in decoded.iter().zip(frames.windows(2)) {
        let gap_ms = (w[1].0 - w[0].0) as f64 / 1e6;
        assert!(
            (d.1 as f64 - gap_ms).abs() <= 10.0,
            "frame {} lasts {} ms, recorded {gap_ms:.1} ms before the next",
            d.0,
            d.1
        );
    }
    decoded
}

#[test]
fn a_clip_of_a_recording_is_its_frames_with_their_timing() {
    let dir = Scratch::new("clip-rec");
    let slots = dir.path().join("slots");
    let saved = dir.path().join("saved");
    let mut cmd = py_script("pyboy_many.py");
    cmd.args(["--dir", slots.to_str().unwrap(), "--names", "env-0,env-1"])
        .args(["--fps", "10", "--seconds", "120", "--index-pixels"])
        .args(["--save-dir", saved.to_str().unwrap()]);
    let _publishers = spawn_ready(&mut cmd, "the PyBoy publishers");
    let rec = dir.path().join("run.gbrec");
    run_ok(
        gbwatch()
            .arg("record")
            .arg(&slots)
            .args(["--fps", "60", "--duration", "6", "-o"])
            .arg(&rec),
    );
    let all = recorded(&rec);
    let env1 = &all["env-1"];
    assert!(env1.len() >= 40, "6 s at 10 fps: {} frames", env1.len());

    // --from and --to halfway between recorded frames: the span is frames 10 to 30.
    let mid = |i: usize| (env1[i - 1].0 + env1[i].0) / 2;
    let (from, to) = (mid(10), mid(31));
    let span: Vec<&Recorded> = env1[10..31].iter().collect();
    let gif = dir.path().join("env-1.gif");
    let (from_s, to_s) = (
        format!("{}s", from as f64 / 1e9),
        format!("{}", to as f64 / 1e9),
    );
    let out = run_ok(
        gbwatch()
            .arg("clip")
            .arg(&rec)
            .args(["--env", "env-1", "--from", &from_s, "--to", &to_s, "-o"])
            .arg(&gif),
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("wrote 21 frames of env-1"), "{said}");
    let decoded = check_gif(&gif, &saved.join("env-1.frames"), &span);

    let mp4 = dir.path().join("env-1.mp4");
    run_ok(
        gbwatch()
            .arg("clip")
            .arg(&rec)
            .args(["--env", "env-1", "--from", &from_s, "--to", &to_s, "-o"])
            .arg(&mp4),
    );
    let (mp4_frames, _) = common::ffprobe(&mp4);
    assert_eq!(mp4_frames, span.len(), "frames in the MP4");
    // Every frame starts when it does in the GIF; the MP4's last frame lasts ffmpeg's guess.
    let mp4_last_ms = common::ffprobe_last_start_ms(&mp4);
    let gif_last_ms: u64 = decoded[..decoded.len() - 1].iter().map(|f| f.1).sum();
    assert!(
        (mp4_last_ms - gif_last_ms as f64).abs() <= 50.0,
        "last frame starts: MP4 {mp4_last_ms} ms, GIF {gif_last_ms} ms"
    );

    // The whole recording by default.
    let whole = dir.path().join("whole.gif");
    run_ok(
        gbwatch()
            .arg("clip")
            .arg(&rec)
            .args(["--env", "env-0", "-o"])
            .arg(&whole),
    );
    let env0: Vec<&Recorded> = all["env-0"].iter().collect();
    check_gif(&whole, &saved.join("env-0.frames"), &env0);

    // The same frames of env-0 as a single-env recording (the format of earlier versions):
    // its only env needs no --env.
    let single = dir.path().join("single.gbrec");
    let mut w = RecordingWriter::new(Vec::new(), 160, 144).unwrap();
    for (at, index, px) in &all["env-0"] {
        w.write_frame(*index, *at - all["env-0"][0].0, px).unwrap();
    }
    std::fs::write(&single, w.finish().unwrap()).unwrap();
    let start = all["env-0"][0].0;
    let half = (env0[15].0 + env0[16].0) / 2 - start;
    let later: Vec<&Recorded> = env0[16..].to_vec();
    let from_single = format!("0m{}s", half as f64 / 1e9);
    let out_single = dir.path().join("single.gif");
    run_ok(
        gbwatch()
            .arg("clip")
            .arg(&single)
            .args(["--from", &from_single, "-o"])
            .arg(&out_single),
    );
    check_gif(&out_single, &saved.join("env-0.frames"), &later);

    // Bad input: one line each, no clip written, never a panic.
    let bad = dir.path().join("bad.gif");
    let r = rec.to_str().unwrap();
    let b = bad.to_str().unwrap();
    fails_with(
        &clip(&[r, "--env", "env-9", "-o", b]),
        "holds no env \"env-9\"; it holds env-0, env-1",
    );
    fails_with(
        &clip(&[r, "-o", b]),
        "holds 2 envs (env-0, env-1): name one with --env",
    );
    fails_with(
        &clip(&[single.to_str().unwrap(), "--env", "env-0", "-o", b]),
        "holds no env \"env-0\"; it holds single",
    );
    let late = clip(&[r, "--env", "env-0", "--from", "1m", "-o", b]);
    fails_with(&late, "no frame of env-0 from 60.000 s (its last is at");
    let between = format!("{}", (env1[5].0 + 1) as f64 / 1e9);
    let gap = clip(&[
        r, "--env", "env-1", "--from", &between, "--to", &between, "-o", b,
    ]);
    fails_with(&gap, "no frame of env-1 between");
    let backwards = clip(&[r, "--env", "env-1", "--from", "3", "--to", "2", "-o", b]);
    common::assert_usage_error(&backwards, "--from after --to");
    let missing = dir.path().join("missing.gbrec");
    fails_with(
        &clip(&[missing.to_str().unwrap(), "-o", b]),
        &format!("cannot read {}", missing.display()),
    );
    let text = dir.path().join("notes.gbrec");
    std::fs::write(&text, "not a recording").unwrap();
    fails_with(
        &clip(&[text.to_str().unwrap(), "-o", b]),
        "not a gbwatch recording",
    );
    // 4 KB of garbage in the middle (over message boundaries): the file is damaged.
    let mut bytes = std::fs::read(&rec).unwrap();
    let at = bytes.len() / 2;
    bytes[at..at + 4096].fill(0xff);
    let damaged = dir.path().join("damaged.gbrec");
    std::fs::write(&damaged, bytes).unwrap();
    fails_with(
        &clip(&[damaged.to_str().unwrap(), "--env", "env-1", "-o", b]),
        "damaged",
    );
    for (args, what) in [
        (vec![r, "--from", "soon", "-o", b], "a bad time"),
        (vec![r, "-o", "clip.png"], "neither .gif nor .mp4"),
    ] {
        common::assert_usage_error(&clip(&args), what);
    }
    let no_ffmpeg = gbwatch()
        .env("PATH", dir.path())
        .args(["clip", r, "--env", "env-1", "-o"])
        .arg(dir.path().join("x.mp4"))
        .output()
        .unwrap();
    fails_with(
        &no_ffmpeg,
        "an MP4 is made with ffmpeg, which is not on PATH",
    );
    assert!(!bad.exists(), "no clip written on bad input");
}
