//! Four `gbwatch serve` processes on loopback ("boxes"), 8 real PyBoy envs each: a bare
//! `http://HOST:PORT` of a serve expands into one feed per remote env, named `HOST/ENV` (or
//! `LABEL/ENV`), that follows the envs appearing and disappearing there.

use crate::common;
use crate::common::serve as serve_support;

use common::tmux::Tmux;
use common::{eventually, gbwatch, py_script, spawn_ready, stats_json, Ready, Scratch};
use gbwatch::pipeline::{FeedOptions, FeedSet, FeedState, Settings, SharedSettings};
use gbwatch::source::SourceSpec;
use serve_support::{serve, ServeProc};
use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

const ENVS: usize = 8;

/// One box: a slot directory, a process running its 8 PyBoy envs, and a serve on them.
struct Box_ {
    envs: Ready,
    serve: Option<ServeProc>,
    _dir: Scratch,
}

fn start_box(i: usize) -> Box_ {
    let dir = Scratch::new(&format!("box{i}"));
    let names: Vec<String> = (0..ENVS).map(|e| format!("env-{e}")).collect();
    let mut cmd = py_script("pyboy_many.py");
    cmd.args(["--dir", dir.path().to_str().unwrap(), "--fps", "5"])
        .args(["--seconds", "90", "--names", &names.join(",")])
        .stdin(Stdio::piped())
        .stderr(Stdio::inherit());
    let envs = spawn_ready(&mut cmd, "the PyBoy envs");
    let serve = serve(
        gbwatch(),
        &[dir.path().to_str().unwrap(), "--preset", "low"],
    );
    Box_ {
        envs,
        serve: Some(serve),
        _dir: dir,
    }
}

/// The SOURCE arguments: boxes 0-2 labelled `boxN@`, box 3 by its address alone.
fn sources(boxes: &[Box_]) -> Vec<String> {
    boxes
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let addr = b.serve.as_ref().unwrap().addr;
            if i < 3 {
                format!("box{i}@http://{addr}")
            } else {
                format!("http://{addr}")
            }
        })
        .collect()
}

/// The feed names expected of box `i`.
fn prefix(boxes: &[Box_], i: usize) -> String {
    if i < 3 {
        format!("box{i}")
    } else {
        boxes[i].serve.as_ref().unwrap().addr.to_string()
    }
}

#[test]
fn four_serves_expand_into_all_their_envs_and_follow_them() {
    let mut boxes: Vec<Box_> = (0..4).map(start_box).collect();
    let args = sources(&boxes);
    let mut expected: Vec<String> = (0..4)
        .flat_map(|i| (0..ENVS).map(move |e| (i, e)))
        .map(|(i, e)| format!("{}/env-{e}", prefix(&boxes, i)))
        .collect();
    expected.sort();

    // stats --json: all 32 envs, each with frames of its own.
    let v = stats_json(
        gbwatch()
            .args(["stats", "--json", "--duration", "4", "--preset", "low"])
            .args(&args),
    );
    let feeds = v["feeds"].as_array().unwrap();
    let mut names: Vec<String> = feeds
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, expected, "{v:#}");
    for f in feeds {
        assert!(f["captured"].as_u64().unwrap() >= 3, "{f:#}");
        assert_eq!(f["state"], "online", "{f:#}");
        assert_eq!(f["method"], "http", "{f:#}");
    }

    // A monitor in tmux: 32 envs, box labels on the tiles.
    let tmux = Tmux::start("remote", 200, 60);
    let cmd = format!("{} {}", env!("CARGO_BIN_EXE_gbwatch"), args.join(" "));
    tmux.run(&["send-keys", "-t", "t", &cmd, "Enter"]);
    tmux.wait_for("32 envs with their box prefixes", 30, |s| {
        s.contains(" 32 envs") && s.contains("box0/env-0") && s.contains("box1/env-")
    });

    // The same pipeline in-process, to follow the feeds' states.
    let specs = args.iter().map(|a| SourceSpec::parse(a).unwrap()).collect();
    let settings = Settings::with_overrides(0, Some(1), Some(5), None).unwrap();
    let set = FeedSet::start(specs, SharedSettings::new(settings), FeedOptions::default());
    let online = |set: &FeedSet, name: &str| {
        set.feeds()
            .iter()
            .any(|f| f.name == name && f.status().state == FeedState::Online)
    };
    eventually("all 32 feeds online", Duration::from_secs(20), || {
        expected.iter().all(|n| online(&set, n)).then_some(())
    });

    // Hidden tiles get nothing: box0's env-1..7 hidden (another page, say), env-0 shown.
    let box0: Vec<_> = set
        .feeds()
        .into_iter()
        .filter(|f| f.name.starts_with("box0/"))
        .collect();
    for f in &box0 {
        f.set_shown(f.name == "box0/env-0");
    }
    std::thread::sleep(Duration::from_millis(500));
    let before: Vec<u64> = box0.iter().map(|f| f.snapshot().captured).collect();
    std::thread::sleep(Duration::from_secs(3));
    for (f, b) in box0.iter().zip(&before) {
        let grew = f.snapshot().captured - b;
        if f.name == "box0/env-0" {
            assert!(grew >= 8, "{}: {grew} frames in 3 s while shown", f.name);
        } else {
            assert!(grew <= 1, "{}: {grew} frames in 3 s while hidden", f.name);
        }
    }
    // A terminal that keeps up with 2 frames a second: box0/env-0 is sent 2 a second.
    let env0 = &box0[box0.iter().position(|f| f.name == "box0/env-0").unwrap()];
    env0.set_rate_cap(2);
    std::thread::sleep(Duration::from_millis(500));
    let at = env0.snapshot().captured;
    std::thread::sleep(Duration::from_secs(3));
    let grew = env0.snapshot().captured - at;
    assert!(
        (3..=8).contains(&grew),
        "{grew} frames in 3 s capped at 2 fps"
    );
    env0.set_rate_cap(u32::MAX);
    for f in &box0 {
        f.set_shown(true);
    }
    eventually("box0's envs flowing again", Duration::from_secs(10), || {
        let now: Vec<u64> = box0.iter().map(|f| f.snapshot().captured).collect();
        now.iter()
            .zip(&before)
            .all(|(n, b)| n >= &(b + 3))
            .then_some(())
    });

    // An env that ends on box 1 leaves the grid (the remote retires it 10 s after its slot
    // went), and the monitor counts 31.
    let mut stdin = boxes[1].envs.proc.0.stdin.take().unwrap();
    writeln!(stdin, "close env-3").unwrap();
    stdin.flush().unwrap();
    eventually("box1/env-3 to leave", Duration::from_secs(30), || {
        (!set.feeds().iter().any(|f| f.name == "box1/env-3")).then_some(())
    });
    assert_eq!(set.feeds().len(), 31);
    tmux.wait_for("31 envs", 15, |s| s.contains(" 31 envs"));

    // Box 2 goes down: its 8 feeds go offline, every other feed stays online.
    drop(boxes[2].serve.take());
    let box2 = prefix(&boxes, 2);
    eventually("box2's feeds offline", Duration::from_secs(20), || {
        set.feeds()
            .iter()
            .filter(|f| f.name.starts_with(&format!("{box2}/")))
            .all(|f| matches!(f.status().state, FeedState::Offline(_)))
            .then_some(())
    });
    std::thread::sleep(Duration::from_secs(1));
    for f in set.feeds() {
        let mine = f.name.starts_with(&format!("{box2}/"));
        let state = f.status().state;
        assert_eq!(
            matches!(state, FeedState::Offline(_)),
            mine,
            "{}: {state}",
            f.name
        );
        if !mine {
            assert_eq!(state, FeedState::Online, "{}", f.name);
        }
    }
    assert_eq!(set.feeds().len(), 31, "box2's feeds stay, offline");
    set.stop();
    tmux.run(&["send-keys", "-t", "t", "q"]);
}
