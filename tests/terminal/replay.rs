//! Pause, step and jump in `gbwatch watch` (tmux) on real PyBoy publishers whose frames
//! carry their number in their pixels (`pyboy_many.py --index-pixels`): the screen, decoded
//! from half-blocks back to pixels, must show exactly the frame each env published at the
//! instant shown, with that frame's info, and new frames again once live.

use crate::common;

use common::tmux::Tmux;
use common::vt::Screen;
use common::wait::COLD_START;
use common::{py_script, spawn_ready, Ready, Scratch};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

/// Publish rate: 10 s is 43.3 frames, so a 10 s jump lands 69 ms away from any frame.
const FPS: &str = "4.33";
/// The blue of the painted band (tests/py/pyboy_many.py).
const MARK_BLUE: u8 = 0x5a;

/// Every env's published frames: (number, monotonic ns just before publishing), in order.
pub(crate) fn published(log: &Path) -> HashMap<String, Vec<(u64, u64)>> {
    let mut out: HashMap<String, Vec<(u64, u64)>> = HashMap::new();
    for line in std::fs::read_to_string(log).unwrap().lines() {
        let p: Vec<&str> = line.split(' ').collect();
        if let [name, n, ns] = p[..] {
            let entry = (n.parse().unwrap(), ns.parse().unwrap());
            out.entry(name.to_string()).or_default().push(entry);
        }
    }
    out
}

fn start_publishers(dir: &Scratch, names: &[String], log: &Path) -> Ready {
    let mut cmd = py_script("pyboy_many.py");
    cmd.args(["--dir", dir.path().to_str().unwrap()])
        .args([
            "--names",
            &names.join(","),
            "--fps",
            FPS,
            "--seconds",
            "300",
        ])
        .args(["--index-pixels", "--log", log.to_str().unwrap()]);
    spawn_ready(&mut cmd, "the PyBoy publishers")
}

fn start_watch(tmux: &Tmux, dir: &Path) {
    let cmd = format!(
        "GBWATCH_DIR={} {} watch --protocol halfblocks --colors truecolor --preset high",
        dir.display(),
        env!("CARGO_BIN_EXE_gbwatch")
    );
    tmux.run(&["send-keys", "-t", "t", &cmd, "Enter"]);
}

pub(crate) fn keys(tmux: &Tmux, keys: &str) {
    for k in keys.chars() {
        tmux.run(&["send-keys", "-t", "t", "-l", &k.to_string()]);
        std::thread::sleep(Duration::from_millis(150));
    }
}

/// The screen's cells with their colours.
pub(crate) fn cells(tmux: &Tmux) -> Screen {
    let text = tmux.run(&["capture-pane", "-p", "-e", "-t", "t"]);
    Screen::replay(text.replace('\n', "\r\n").as_bytes())
}

/// The frame numbers painted in the pixels of cells in `rows` x `cols`.
pub(crate) fn numbers(
    screen: &Screen,
    rows: std::ops::Range<u16>,
    cols: std::ops::Range<u16>,
) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    for (&(r, c), cell) in &screen.cells {
        if !rows.contains(&r) || !cols.contains(&c) {
            continue;
        }
        if let Some((top, bottom)) = cell.halfblock() {
            for p in [top, bottom] {
                if p[2] == MARK_BLUE {
                    out.insert(p[0] as u64 + 256 * p[1] as u64);
                }
            }
        }
    }
    out
}

/// The one frame number on the whole screen (single view), if exactly one is shown.
pub(crate) fn shown_number(tmux: &Tmux) -> Option<u64> {
    let n = numbers(&cells(tmux), 0..u16::MAX, 0..u16::MAX);
    (n.len() == 1).then(|| *n.first().unwrap())
}

/// Each tile's frame numbers, by env name, from the tiles' titles (`┌ NAME `).
fn tile_numbers(tmux: &Tmux, names: &[String]) -> HashMap<String, BTreeSet<u64>> {
    let text = tmux.screen();
    let lines: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
    let mut corners = Vec::new();
    for (r, line) in lines.iter().enumerate() {
        for (c, _) in line.iter().enumerate().filter(|(_, ch)| **ch == '┌') {
            let rest: String = line[c..].iter().take(12).collect();
            if let Some(name) = names.iter().find(|n| rest.starts_with(&format!("┌ {n} "))) {
                corners.push((name.clone(), r as u16, c as u16));
            }
        }
    }
    let cols: BTreeSet<u16> = corners.iter().map(|c| c.2).collect();
    let rows: BTreeSet<u16> = corners.iter().map(|c| c.1).collect();
    let step = |s: &BTreeSet<u16>| {
        let v: Vec<u16> = s.iter().copied().collect();
        v.windows(2).map(|w| w[1] - w[0]).min().unwrap_or(10)
    };
    let (tw, th) = (step(&cols), step(&rows));
    let screen = cells(tmux);
    corners
        .into_iter()
        .map(|(name, r, c)| (name, numbers(&screen, r + 1..r + th - 1, c + 1..c + tw - 1)))
        .collect()
}

/// Whether some instant has every env's shown frame as its newest published by then.
fn one_instant(shown: &HashMap<String, u64>, log: &HashMap<String, Vec<(u64, u64)>>) -> bool {
    let at = |name: &str, n: u64| log[name].iter().find(|p| p.0 == n).map(|p| p.1);
    let made: Option<Vec<u64>> = shown.iter().map(|(k, &n)| at(k, n)).collect();
    let next: Vec<u64> = shown
        .iter()
        .map(|(k, &n)| at(k, n + 1).unwrap_or(u64::MAX))
        .collect();
    made.is_some_and(|m| m.iter().max() < next.iter().min())
}

/// The newest frame `name` published at or before `t_ns`.
pub(crate) fn newest_before(log: &HashMap<String, Vec<(u64, u64)>>, name: &str, t_ns: u64) -> u64 {
    log[name].iter().rev().find(|p| p.1 <= t_ns).unwrap().0
}

pub(crate) fn made_ns(log: &HashMap<String, Vec<(u64, u64)>>, name: &str, n: u64) -> u64 {
    log[name].iter().find(|p| p.0 == n).unwrap().1
}

pub(crate) fn info_shows(tmux: &Tmux, n: u64) -> bool {
    let s = tmux.screen();
    s.contains(&format!("step {n} ")) || s.contains(&format!("step {n}│"))
}

#[test]
fn pause_step_and_jump_show_the_exact_frame_and_its_info() {
    let dir = Scratch::new("replay-single");
    let log = dir.path().join("published.log");
    let names = vec!["env-0".to_string()];
    let _publishers = start_publishers(&dir, &names, &log);
    let tmux = Tmux::start("replay", 160, 50);
    start_watch(&tmux, dir.path());
    common::wait::eventually("frame 60 on screen (14 s of history)", COLD_START, || {
        shown_number(&tmux).filter(|&n| n >= 60)
    });
    keys(&tmux, "p");
    tmux.wait_for("PAUSED", 10, |s| s.contains("PAUSED"));
    let n0 = common::wait::eventually(
        "one frame shown while paused",
        Duration::from_secs(10),
        || shown_number(&tmux),
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(shown_number(&tmux), Some(n0), "paused, the frame stays");
    assert!(
        info_shows(&tmux, n0),
        "info of frame {n0}:\n{}",
        tmux.screen()
    );

    keys(&tmux, ",,,");
    let want = n0 - 3;
    common::wait::eventually(
        &format!("frame {want} after 3 steps back"),
        Duration::from_secs(10),
        || (shown_number(&tmux) == Some(want) && info_shows(&tmux, want)).then_some(()),
    );

    keys(&tmux, "{");
    let log_now = published(&log);
    let target = made_ns(&log_now, "env-0", want) - 10_000_000_000;
    let jumped = newest_before(&log_now, "env-0", target);
    common::wait::eventually(
        &format!("frame {jumped}, the one published 10 s before frame {want}"),
        Duration::from_secs(10),
        || (shown_number(&tmux) == Some(jumped) && info_shows(&tmux, jumped)).then_some(()),
    );
    assert!(
        (want - jumped).abs_diff(43) <= 1,
        "10 s is 43 frames: {want} -> {jumped}"
    );

    keys(&tmux, "G");
    tmux.wait_for("LIVE", 10, |s| s.contains("LIVE"));
    common::wait::eventually("new frames once live", Duration::from_secs(20), || {
        shown_number(&tmux).filter(|&n| n > n0 + 2)
    });
    keys(&tmux, "q");
}

#[test]
fn a_paused_grid_shows_every_env_at_one_instant() {
    let dir = Scratch::new("replay-grid");
    let log = dir.path().join("published.log");
    let names: Vec<String> = (0..16).map(|i| format!("env-{i}")).collect();
    let _publishers = start_publishers(&dir, &names, &log);
    let tmux = Tmux::start("replay-grid", 160, 50);
    start_watch(&tmux, dir.path());
    let single = |m: &HashMap<String, BTreeSet<u64>>| -> Option<HashMap<String, u64>> {
        (m.len() == 16 && m.values().all(|s| s.len() == 1)).then(|| {
            m.iter()
                .map(|(k, s)| (k.clone(), *s.first().unwrap()))
                .collect()
        })
    };
    common::wait::eventually("16 tiles past frame 60", COLD_START, || {
        single(&tile_numbers(&tmux, &names)).filter(|m| m.values().all(|&n| n >= 60))
    });
    let mut last: HashMap<String, u64> = HashMap::new();
    for (what, key) in [
        ("paused", "p"),
        ("1 frame of env-0 back", ","),
        ("10 s back", "{"),
    ] {
        keys(&tmux, key);
        tmux.wait_for("PAUSED", 10, |s| s.contains("PAUSED"));
        std::thread::sleep(Duration::from_millis(500));
        let shown = common::wait::eventually(
            &format!("one frame per tile, {what}"),
            Duration::from_secs(10),
            || single(&tile_numbers(&tmux, &names)),
        );
        let log_now = published(&log);
        assert!(
            one_instant(&shown, &log_now),
            "{what}: not one instant: {shown:?}"
        );
        if key == "," {
            assert_eq!(shown["env-0"], last["env-0"] - 1, "env-0 one frame back");
        }
        if key == "{" {
            let back = last["env-0"] - shown["env-0"];
            assert!(
                back.abs_diff(43) <= 1,
                "10 s is 43 frames, went back {back}"
            );
        }
        last = shown;
    }
    keys(&tmux, "G");
    common::wait::eventually("every tile live again", Duration::from_secs(20), || {
        single(&tile_numbers(&tmux, &names)).filter(|m| m.iter().all(|(k, &n)| n > last[k] + 45))
    });
    keys(&tmux, "q");
}

/// `c` saves the paused env's last 30 s: a GIF that Pillow decodes to the published frames,
/// pixel for pixel, in order and with their timing, and an MP4 that ffprobe counts alike.
#[test]
fn a_clip_holds_the_published_frames_with_their_timing() {
    let dir = Scratch::new("replay-clip");
    let log = dir.path().join("published.log");
    let saved = dir.path().join("saved");
    let clips = dir.path().join("clips");
    std::fs::create_dir_all(&clips).unwrap();
    let mut cmd = py_script("pyboy_many.py");
    cmd.args(["--dir", dir.path().to_str().unwrap(), "--names", "env-0"])
        .args(["--fps", FPS, "--seconds", "300", "--index-pixels"])
        .args([
            "--log",
            log.to_str().unwrap(),
            "--save-dir",
            saved.to_str().unwrap(),
        ]);
    let _publishers = spawn_ready(&mut cmd, "the PyBoy publisher");
    let tmux = Tmux::start("replay-clip", 160, 50);
    let watch = format!(
        "GBWATCH_DIR={} {} watch --protocol halfblocks --colors truecolor --preset high --snapshot-dir {}",
        dir.path().display(),
        env!("CARGO_BIN_EXE_gbwatch"),
        clips.display()
    );
    tmux.run(&["send-keys", "-t", "t", &watch, "Enter"]);
    common::wait::eventually("frame 40 on screen", COLD_START, || {
        shown_number(&tmux).filter(|&n| n >= 40)
    });
    keys(&tmux, "p");
    tmux.wait_for("PAUSED", 10, |s| s.contains("PAUSED"));
    let shown = common::wait::eventually("one frame shown", Duration::from_secs(10), || {
        shown_number(&tmux)
    });
    keys(&tmux, "c");
    let screen = tmux.wait_for("clip saved", 60, |s| s.contains("clip saved: "));
    keys(&tmux, "q");
    let gif = clips.join(format!("env-0-{shown}.gif"));
    let mp4 = clips.join(format!("env-0-{shown}.mp4"));
    assert!(gif.exists() && mp4.exists(), "{screen}");

    let frames = common::gif_frames(&gif, &saved.join("env-0.frames"));
    let numbers: Vec<u64> = frames.iter().map(|f| f.0).collect();
    // The clip holds what the monitor captured: on a loaded machine capture may miss a
    // frame now and then (the queue drops the oldest), never reorder or invent one.
    let first = numbers[0];
    assert!(
        numbers.windows(2).all(|w| w[0] < w[1]) && numbers.last() == Some(&shown),
        "frames published up to the one shown, in order: {numbers:?}"
    );
    let span = (shown - first + 1) as usize;
    assert!(
        numbers.len() * 10 >= span * 9,
        "{} of the {span} frames published from {first} to {shown}: {numbers:?}",
        numbers.len()
    );
    assert!(frames.iter().all(|f| f.2), "pixels differ: {frames:?}");
    let log = published(&log);
    for w in frames.windows(2) {
        let gap_ms = (made_ns(&log, "env-0", w[1].0) - made_ns(&log, "env-0", w[0].0)) / 1_000_000;
        assert!(
            w[0].1.abs_diff(gap_ms) <= 10,
            "frame {} lasts {} ms, published {gap_ms} ms before the next",
            w[0].0,
            w[0].1
        );
    }
    let gif_last_ms: u64 = frames[..frames.len() - 1].iter().map(|f| f.1).sum();

    let (mp4_frames, _) = common::ffprobe(&mp4);
    assert_eq!(mp4_frames, frames.len(), "frames in the MP4");
    // Every frame starts when it does in the GIF; the MP4's last frame lasts ffmpeg's guess.
    let mp4_last_ms = common::ffprobe_last_start_ms(&mp4);
    assert!(
        (mp4_last_ms - gif_last_ms as f64).abs() <= 50.0,
        "last frame starts: MP4 {mp4_last_ms} ms, GIF {gif_last_ms} ms"
    );
}

/// The RSS of process `pid`, in KB.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"));
    line.and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// What the memory test allows beyond the monitor's own RSS 5 s in (before the history
/// holds much; 49 MB with 64 feeds, most of it their queues of 92 KB frames) and the
/// history's budget: allocator slack. One run: 49 MB at 5 s, flat at 101-103 MB from 65 s
/// on (the 60 s span, about 36 MB of history, binds before the 64 MB budget).
const RSS_SLACK_MB: u64 = 8;

/// 64 real PyBoy envs at 10 fps watched with a 60 s, 64 MB history for 150 s: RSS stays
/// under its value 5 s in + 64 MB + [`RSS_SLACK_MB`], and flat once the history is full. Opt-in (2.5 min):
/// `cargo test --release --test terminal replay::memory -- --ignored --nocapture`.
#[test]
#[ignore]
fn memory_stays_within_the_budget_with_64_envs() {
    let dir = Scratch::new("replay-memory");
    let names: Vec<String> = (0..64).map(|i| format!("env-{i:02}")).collect();
    let mut cmd = py_script("pyboy_many.py");
    cmd.args([
        "--dir",
        dir.path().to_str().unwrap(),
        "--names",
        &names.join(","),
    ])
    .args(["--fps", "10", "--seconds", "400"]);
    let _publishers = spawn_ready(&mut cmd, "64 PyBoy publishers");
    let tmux = Tmux::start("replay-memory", 200, 60);
    let watch = format!(
        "GBWATCH_DIR={} exec {} watch --protocol halfblocks --history 60s --history-size 64MB",
        dir.path().display(),
        env!("CARGO_BIN_EXE_gbwatch")
    );
    tmux.run(&["send-keys", "-t", "t", &watch, "Enter"]);
    tmux.wait_for("64 envs", COLD_START.as_secs(), |s| s.contains("64 envs"));
    let pid: u32 = tmux
        .run(&["list-panes", "-t", "t", "-F", "#{pane_pid}"])
        .trim()
        .parse()
        .unwrap();
    let started = std::time::Instant::now();
    let mut samples = Vec::new();
    while started.elapsed() < Duration::from_secs(150) {
        std::thread::sleep(Duration::from_secs(5));
        samples.push((started.elapsed().as_secs(), rss_kb(pid)));
    }
    println!("RSS (s, KB): {samples:?}");
    let limit = samples[0].1 + (64 + RSS_SLACK_MB) * 1024;
    let max = samples.iter().map(|s| s.1).max().unwrap();
    assert!(max <= limit, "RSS {max} KB over {limit} KB: {samples:?}");
    let full: Vec<u64> = samples.iter().filter(|s| s.0 >= 80).map(|s| s.1).collect();
    let (lo, hi) = (*full.iter().min().unwrap(), *full.iter().max().unwrap());
    assert!(
        hi - lo <= 8 * 1024,
        "RSS moved {lo}..{hi} KB once full: {samples:?}"
    );
    keys(&tmux, "q");
}

/// `C` saves the zoomed env's span between the markers around the shown frame: one whole
/// episode (`pyboy_many.py --episode-every`, so an episode ends before every 25th frame),
/// first and last frame as published; with no marker before, from the oldest frame held.
#[test]
fn a_clip_between_markers_is_one_whole_episode() {
    const EPISODE: u64 = 25;
    let dir = Scratch::new("replay-episode");
    let saved = dir.path().join("saved");
    let clips = dir.path().join("clips");
    std::fs::create_dir_all(&clips).unwrap();
    let mut cmd = py_script("pyboy_many.py");
    cmd.args(["--dir", dir.path().to_str().unwrap(), "--names", "env-0"])
        .args(["--fps", FPS, "--seconds", "300", "--index-pixels"])
        .args(["--episode-every", &EPISODE.to_string()])
        .args(["--save-dir", saved.to_str().unwrap()]);
    let _publishers = spawn_ready(&mut cmd, "the PyBoy publisher");
    let tmux = Tmux::start("replay-episode", 160, 50);
    let watch = format!(
        "GBWATCH_DIR={} {} watch --protocol halfblocks --colors truecolor --preset high --snapshot-dir {}",
        dir.path().display(),
        env!("CARGO_BIN_EXE_gbwatch"),
        clips.display()
    );
    tmux.run(&["send-keys", "-t", "t", &watch, "Enter"]);
    common::wait::eventually("frame 80 on screen (3 episodes held)", COLD_START, || {
        shown_number(&tmux).filter(|&n| n >= 80)
    });
    keys(&tmux, "p");
    tmux.wait_for("PAUSED", 10, |s| s.contains("PAUSED"));
    let n0 = common::wait::eventually("one frame shown", Duration::from_secs(10), || {
        shown_number(&tmux)
    });
    // The previous marker, then one frame back: the last frame of the episode before it.
    let marker = if n0 % EPISODE == 0 {
        n0 - EPISODE
    } else {
        n0 / EPISODE * EPISODE
    };
    keys(&tmux, "<");
    common::wait::eventually(
        &format!("frame {marker}, at the previous marker"),
        Duration::from_secs(10),
        || (shown_number(&tmux) == Some(marker)).then_some(()),
    );
    keys(&tmux, ",");
    let last = marker - 1;
    common::wait::eventually(
        &format!("frame {last}, one back"),
        Duration::from_secs(10),
        || (shown_number(&tmux) == Some(last)).then_some(()),
    );
    let first = marker - EPISODE;
    let check = |first: u64, last: u64| {
        keys(&tmux, "C");
        let name = format!("env-0-{first}-{last}.gif");
        let screen = tmux.wait_for(&format!("clip saved: …{name}"), 60, |s| {
            s.contains("clip saved: ") && s.contains(&name)
        });
        let frames = common::gif_frames(&clips.join(&name), &saved.join("env-0.frames"));
        let numbers: Vec<u64> = frames.iter().map(|f| f.0).collect();
        assert_eq!(
            numbers,
            (first..=last).collect::<Vec<_>>(),
            "every frame from {first} to {last}:\n{screen}"
        );
        assert!(frames.iter().all(|f| f.2), "pixels differ: {frames:?}");
    };
    check(first, last);
    // The oldest frame held has no marker before it: the clip starts there.
    keys(&tmux, "g");
    let oldest = common::wait::eventually("the oldest frame", Duration::from_secs(10), || {
        shown_number(&tmux).filter(|&n| n < first)
    });
    check(oldest, (oldest / EPISODE + 1) * EPISODE - 1);
    keys(&tmux, "q");
}
