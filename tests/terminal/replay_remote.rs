//! Pause, step and jump on feeds that are not local slots: `gbwatch watch http://HOST:PORT`
//! of a `gbwatch serve` in front of real PyBoy publishers (the history is kept on the
//! viewer's side), and a replayed recording that `gbwatch record` made of them. The screen,
//! decoded from half-blocks back to pixels, must show exactly the frame published at the
//! instant shown, with its info, and new frames once live again.

use crate::common;
use crate::replay::{info_shows, keys, made_ns, newest_before, published, shown_number};

use common::serve::serve;
use common::tmux::Tmux;
use common::wait::COLD_START;
use common::{gbwatch, py_script, run_ok, spawn_ready, Ready, Scratch};
use std::path::Path;
use std::time::Duration;

/// Publish rate: 10 s is 43.5 frames, so a 10 s jump lands 115 ms from the frames on
/// either side (room for the arrival times' jitter: remote and replayed frames are timed
/// by when they reached the viewer).
const FPS: &str = "4.35";
/// How far a 10 s jump goes back from a frame: to the one 44 frames before.
const FRAMES_BACK_10S: u64 = 44;

fn start_publisher(dir: &Path, log: &Path) -> Ready {
    let mut cmd = py_script("pyboy_many.py");
    cmd.args(["--dir", dir.to_str().unwrap(), "--names", "env-0"])
        .args(["--fps", FPS, "--seconds", "300", "--index-pixels"])
        .args(["--log", log.to_str().unwrap()]);
    spawn_ready(&mut cmd, "the PyBoy publisher")
}

/// Types `gbwatch watch SOURCE` (halfblocks, truecolour, capturing at 60 fps so frames are
/// timed within 17 ms of their arrival).
fn start_watch(tmux: &Tmux, source: &str) {
    let cmd = format!(
        "{} watch --protocol halfblocks --colors truecolor --preset high --fps 60 {source}",
        env!("CARGO_BIN_EXE_gbwatch")
    );
    tmux.run(&["send-keys", "-t", "t", &cmd, "Enter"]);
}

/// Once frame `from` is on screen: pause (the frame stays), three frames back, 10 s back,
/// each the exact frame `env` published then (its log), with its info; then live again.
fn pause_step_and_jump(tmux: &Tmux, log: &Path, from: u64) {
    common::wait::eventually(
        &format!("frame {from} on screen (12 s of history)"),
        COLD_START,
        || shown_number(tmux).filter(|&n| n >= from),
    );
    keys(tmux, "p");
    tmux.wait_for("PAUSED", 10, |s| s.contains("PAUSED"));
    let n0 = common::wait::eventually(
        "one frame shown while paused",
        Duration::from_secs(10),
        || shown_number(tmux),
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(shown_number(tmux), Some(n0), "paused, the frame stays");
    assert!(
        info_shows(tmux, n0),
        "info of frame {n0}:\n{}",
        tmux.screen()
    );

    keys(tmux, ",,,");
    let want = n0 - 3;
    common::wait::eventually(
        &format!("frame {want} after 3 steps back"),
        Duration::from_secs(10),
        || (shown_number(tmux) == Some(want) && info_shows(tmux, want)).then_some(()),
    );

    keys(tmux, "{");
    let log_now = published(log);
    let target = made_ns(&log_now, "env-0", want) - 10_000_000_000;
    let jumped = newest_before(&log_now, "env-0", target);
    assert!(
        (want - jumped).abs_diff(FRAMES_BACK_10S) <= 1,
        "10 s is 43.5 frames: {want} -> {jumped}"
    );
    common::wait::eventually(
        &format!("frame {jumped}, the one published 10 s before frame {want}"),
        Duration::from_secs(10),
        || (shown_number(tmux) == Some(jumped) && info_shows(tmux, jumped)).then_some(()),
    );

    keys(tmux, "G");
    tmux.wait_for("LIVE", 10, |s| s.contains("LIVE"));
    common::wait::eventually("new frames once live", Duration::from_secs(20), || {
        shown_number(tmux).filter(|&n| n > n0 + 2)
    });
    keys(tmux, "q");
}

#[test]
fn a_remote_serve_pauses_steps_and_jumps_to_the_exact_frame() {
    let dir = Scratch::new("replay-remote");
    let log = dir.path().join("published.log");
    let slots = dir.path().join("slots");
    let _publisher = start_publisher(&slots, &log);
    let server = serve(gbwatch(), &[slots.to_str().unwrap(), "--fps", "60"]);
    let tmux = Tmux::start("replay-remote", 160, 50);
    start_watch(&tmux, &format!("http://{}", server.addr));
    tmux.wait_for("the remote env", COLD_START.as_secs(), |s| {
        s.contains(&format!("{}/env-0", server.addr))
    });
    let first = common::wait::eventually("a frame of the remote env", COLD_START, || {
        shown_number(&tmux)
    });
    pause_step_and_jump(&tmux, &log, first + 52);
}

#[test]
fn a_replayed_recording_pauses_steps_and_jumps_to_the_exact_frame() {
    let dir = Scratch::new("replay-recording");
    let log = dir.path().join("published.log");
    let slots = dir.path().join("slots");
    let publisher = start_publisher(&slots, &log);
    let rec = dir.path().join("run.gbrec");
    run_ok(
        gbwatch()
            .arg("record")
            .arg(&slots)
            .args(["--fps", "60", "--duration", "30", "-o"])
            .arg(&rec),
    );
    drop(publisher);
    let tmux = Tmux::start("replay-recording", 160, 50);
    start_watch(&tmux, rec.to_str().unwrap());
    let first = common::wait::eventually("a replayed frame", COLD_START, || shown_number(&tmux));
    pause_step_and_jump(&tmux, &log, first + 52);
}
