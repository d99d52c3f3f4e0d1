//! `gbwatch watch` for real: the binary in tmux on real PyBoy, and frame age from the
//! publisher's timestamp.

use crate::common;

use common::tmux::Tmux;
use common::{pyboy_publisher, Scratch};
use gbwatch::frame::PixelFormat;
use gbwatch::pipeline::{FeedOptions, FeedSet, SharedSettings};
use gbwatch::slot::SlotWriter;
use gbwatch::source::SourceSpec;
use gbwatch::tui::{Event, FeedUpdate, State};
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn watch_in_tmux_on_real_pyboy() {
    let dir = Scratch::new("watch-tmux");
    let _publisher = pyboy_publisher(dir.path(), "env-00", &["--seconds", "60"]);
    let tmux = Tmux::start("test", 200, 60);
    tmux.start_gbwatch(dir.path());
    let screen = tmux.wait_for("the frame and the panels", 20, |s| {
        s.contains("env-00 #")
            && s.contains("[2 MEDIUM]")
            && s.contains("latency")
            && s.contains("online")
            && s.matches(['▀', '▄', '█']).count() > 500
    });
    assert!(screen.contains("online"), "{screen}");
    assert!(screen.contains("half-blocks"), "{screen}");
    assert!(screen.contains("publisher clock"), "{screen}");
    // The capability query went through tmux: passthrough was turned on for this pane only
    // (no terminal outside answers here, so it stays half-blocks), and the status bar says so.
    let option = tmux.run(&["show-options", "-p", "-t", "t", "allow-passthrough"]);
    assert!(option.contains("allow-passthrough on"), "{option}");
    assert!(screen.contains("passthrough on"), "{screen}");
    tmux.run(&["send-keys", "-t", "t", "3"]);
    tmux.wait_for("HIGH highlighted", 10, |s| {
        s.contains("[3 HIGH]") && !s.contains("[2 MEDIUM]")
    });
    tmux.run(&["send-keys", "-t", "t", "q"]);
    tmux.run(&[
        "send-keys",
        "-t",
        "t",
        "echo shell-ok-$((6*7)) status-$?; stty -a | grep -o ' icanon' ",
        "Enter",
    ]);
    let screen = tmux.wait_for("a usable shell", 10, |s| s.contains("shell-ok-42"));
    assert!(
        screen.contains(" icanon"),
        "terminal left in raw mode:\n{screen}"
    );
    assert!(
        screen.contains("shell-ok-42 status-0"),
        "exit status after q is not 0:\n{screen}"
    );
    assert!(
        !screen.contains("latency"),
        "alternate screen not left:\n{screen}"
    );
}

#[test]
fn frame_age_comes_from_the_publisher_timestamp() {
    let dir = Scratch::new("watch-age");
    let mut writer = SlotWriter::create(dir.path(), "env-00", 160, 144, PixelFormat::Rgba).unwrap();
    let set = FeedSet::start(
        vec![SourceSpec::SlotDir(dir.path().to_path_buf())],
        SharedSettings::default(),
        FeedOptions::default(),
    );
    let pixels = vec![7u8; 160 * 144 * 4];
    let start = Instant::now();
    let frame = loop {
        // The writer stamps each frame with the monotonic clock as it publishes.
        writer.publish(&pixels, 1).unwrap();
        let published = gbwatch::clock::monotonic_ns();
        std::thread::sleep(Duration::from_millis(30));
        if let Some(f) = set.feeds().first().and_then(|f| f.queue.pop_newest()) {
            break (f, published);
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no frame captured"
        );
    };
    let (frame, published) = frame;
    assert!(frame.published_ns.is_some_and(|p| p <= published));
    const DELAY: Duration = Duration::from_millis(300);
    std::thread::sleep(DELAY);
    let feed = set.feeds()[0].clone();
    let mut state = State::new(1, "");
    let now_ns = gbwatch::clock::monotonic_ns();
    state.update(Event::Feeds {
        feeds: vec![FeedUpdate {
            name: feed.name.clone(),
            key: feed.key.clone(),
            state: feed.status().state,
            stats: feed.snapshot(),
            drawn_fps: 0.0,
        }],
        now_ns,
    });
    state.update(Event::Frames {
        frames: vec![(feed.key.clone(), frame.clone())],
        now_ns,
    });
    set.stop();
    let age = Duration::from_nanos(state.age_ns(&state.feeds[0]).unwrap());
    let exact = Duration::from_nanos(now_ns - frame.published_ns.unwrap());
    assert_eq!(age, exact);
    // Published, then at least DELAY (+ the 30 ms poll) passed; capture time does not count.
    assert!(age >= DELAY + Duration::from_millis(30), "age {age:?}");
    assert!(age < DELAY + Duration::from_millis(400), "age {age:?}");
    // Age from arrival would have been smaller: the publisher's clock is what is shown.
    assert!(frame.captured_ns > frame.published_ns.unwrap());
}

#[test]
fn bad_arguments_get_one_line_and_status_2() {
    for args in [
        vec!["watch", "/nonexistent/gbwatch-dir"],
        vec!["watch", "--protocol", "ascii-art"],
        vec!["--preset", "huge"],
    ] {
        let out = common::gbwatch().args(&args).output().unwrap();
        common::assert_usage_error(&out, &format!("{args:?}"));
    }
}

/// Output to a pipe or file is not a terminal: one line that says so and where to turn,
/// status 1, nothing drawn into the pipe.
#[test]
fn watch_without_a_terminal_says_so() {
    let dir = Scratch::new("no-tty");
    let out = common::gbwatch()
        .env("GBWATCH_DIR", dir.path())
        .arg("watch")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("standard output is not one") && err.contains("gbwatch dump"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "wrote {} bytes", out.stdout.len());
}

/// The README's first command on a machine with no publisher: the embedded demo plays, with
/// its banner, and the frame area moves.
#[test]
fn first_run_with_no_publisher_plays_the_demo() {
    let dir = Scratch::new("first-run");
    let tmux = Tmux::start("demo", 160, 50);
    tmux.start_gbwatch(dir.path());
    let frame_area = |s: &str| -> String {
        s.lines()
            .filter(|l| l.matches(['▀', '▄', '█']).count() > 20)
            .map(|l| l.chars().take(110).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let first = tmux.wait_for("the demo banner and a frame", 20, |s| {
        s.contains("Demo: a recording")
            && s.contains("Publisher(\"env-00\")")
            && frame_area(s).len() > 2000
    });
    let later = tmux.wait_for("the frame to change", 10, |s| {
        frame_area(s).len() > 2000 && frame_area(s) != frame_area(&first)
    });
    assert!(later.contains("Demo: a recording"), "{later}");
    tmux.run(&["send-keys", "-t", "t", "q"]);
}

/// The "N of M captured" drop counters of the feed panel.
fn drop_counts(screen: &str) -> Option<(u64, u64)> {
    let line = screen.lines().find(|l| l.contains(" captured"))?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let of = words.iter().position(|w| *w == "of")?;
    Some((words[of - 1].parse().ok()?, words[of + 1].parse().ok()?))
}

/// Frames are drawn as they are captured, not on a clock of the monitor's own: on a steady
/// source the draw stage drops (almost) nothing. A draw timer running beside the capture
/// timer dropped about a fifth of the frames here.
#[test]
fn a_steady_source_is_drawn_without_drops() {
    let dir = Scratch::new("steady");
    let tmux = Tmux::start("steady", 160, 50);
    tmux.start_gbwatch(dir.path());
    // The demo: 60 fps, captured and drawn at MEDIUM's 10 fps.
    let first = tmux.wait_for("some frames captured", 20, |s| {
        drop_counts(s).is_some_and(|(_, captured)| captured >= 10)
    });
    let (dropped0, captured0) = drop_counts(&first).unwrap();
    let later = tmux.wait_for("40 more frames captured", 30, |s| {
        drop_counts(s).is_some_and(|(_, captured)| captured >= captured0 + 40)
    });
    let (dropped1, captured1) = drop_counts(&later).unwrap();
    let share = (dropped1 - dropped0) as f64 / (captured1 - captured0) as f64;
    assert!(
        share < 0.1,
        "{} of {} frames dropped at the draw stage:\n{later}",
        dropped1 - dropped0,
        captured1 - captured0
    );
    tmux.run(&["send-keys", "-t", "t", "q"]);
}

fn process_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}

/// SIGTERM restores the terminal; a terminal that goes away (the pane closes, SSH drops)
/// ends the monitor instead of leaving it spinning.
#[test]
fn sigterm_and_hangup_end_the_monitor_cleanly() {
    let dir = Scratch::new("signals");
    let tmux = Tmux::start("sig", 120, 40);
    let shell: u32 = tmux
        .run(&["list-panes", "-t", "t", "-F", "#{pane_pid}"])
        .trim()
        .parse()
        .unwrap();
    let start_monitor = || {
        tmux.start_gbwatch(dir.path());
        tmux.wait_for("the monitor", 20, |s| s.contains("latency"));
        let out = Command::new("pgrep")
            .args(["-P", &shell.to_string()])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<u32>()
            .expect("monitor pid")
    };

    let pid = start_monitor();
    // SAFETY: kill() on a process this test started.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    common::eventually(
        "the monitor to end after SIGTERM",
        Duration::from_secs(5),
        || (!process_alive(pid)).then_some(()),
    );
    // Keys typed before the shell's prompt is back may be discarded by it.
    tmux.wait_for("the prompt", 10, |s| {
        !s.contains("latency") && s.trim_end().ends_with('#')
    });
    std::thread::sleep(Duration::from_millis(300));
    tmux.run(&[
        "send-keys",
        "-t",
        "t",
        "echo term-ok-$((6*7)) status-$?; stty -a | grep -o ' icanon' ",
        "Enter",
    ]);
    let screen = tmux.wait_for("a usable shell after SIGTERM", 10, |s| {
        s.contains("term-ok-42")
    });
    assert!(
        screen.contains(" icanon"),
        "terminal left in raw mode:\n{screen}"
    );
    // 128 + SIGTERM, as a shell reports a process that a signal ended.
    assert!(
        screen.contains("term-ok-42 status-143"),
        "exit status after SIGTERM is not 143:\n{screen}"
    );

    let pid = start_monitor();
    tmux.run(&["kill-server"]);
    common::eventually(
        "the monitor to end with its terminal",
        Duration::from_secs(5),
        || (!process_alive(pid)).then_some(()),
    );
}

/// Rapid resizes, down to a terminal too small to draw in and back, never crash the
/// monitor: it shows a clear message when too small and the full layout again after.
#[test]
fn rapid_resizes_are_survived() {
    let dir = Scratch::new("resize");
    let tmux = Tmux::start("resize", 160, 50);
    tmux.start_gbwatch(dir.path());
    tmux.wait_for("the monitor", 20, |s| s.contains("latency"));
    let sizes = [
        (20, 5),
        (200, 60),
        (3, 2),
        (80, 24),
        (1, 1),
        (120, 40),
        (45, 12),
        (160, 50),
    ];
    for round in 0..25 {
        for (w, h) in sizes {
            let (w, h) = (w + round % 3, h + round % 2);
            tmux.run(&[
                "resize-window",
                "-t",
                "t",
                "-x",
                &w.to_string(),
                "-y",
                &h.to_string(),
            ]);
        }
    }
    tmux.run(&["resize-window", "-t", "t", "-x", "30", "-y", "8"]);
    let small = tmux.wait_for("the too-small message", 10, |s| {
        s.to_lowercase().contains("too small")
    });
    assert!(!small.contains("panicked"), "{small}");
    tmux.run(&["resize-window", "-t", "t", "-x", "160", "-y", "50"]);
    tmux.wait_for("the full layout again", 10, |s| {
        s.contains("latency") && s.matches(['▀', '▄', '█']).count() > 500
    });
    tmux.run(&["send-keys", "-t", "t", "q"]);
}

/// A terminal that stops reading (a stalled SSH link, Ctrl-S, an undrained pane) blocks
/// the monitor's writes; `q` and SIGTERM must still end it within a second, with the status
/// each asks for.
#[test]
fn a_stalled_terminal_never_blocks_quitting() {
    for (how, expected) in [("q", Some(0)), ("SIGTERM", None)] {
        let dir = Scratch::new("stall");
        let mut cmd = common::gbwatch();
        cmd.args(["watch", "--preset", "ultra", "--colors", "truecolor"])
            .env("GBWATCH_DIR", dir.path())
            .env("TERM", "tmux-256color");
        let mut pty = common::pty::Pty::spawn(cmd, 200, 60);
        // The demo is drawn, then the terminal stops reading until its buffer is full.
        common::eventually("the demo drawn", Duration::from_secs(20), || {
            (pty.output().len() > 100_000).then_some(())
        });
        pty.pause_reading(true);
        std::thread::sleep(Duration::from_secs(2));
        let before = pty.output().len();
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(pty.output().len(), before, "the pty is still being read");
        let asked = Instant::now();
        if how == "q" {
            pty.type_bytes(b"q");
        } else {
            // SAFETY: kill(2) on the pid of a child this test started.
            unsafe { libc::kill(pty.child.0.id() as i32, libc::SIGTERM) };
        }
        let status = common::eventually(
            &format!("watch to end after {how} on a stalled terminal"),
            Duration::from_secs(1),
            || pty.try_wait(),
        );
        let took = asked.elapsed();
        use std::os::unix::process::ExitStatusExt;
        match expected {
            Some(code) => assert_eq!(status.code(), Some(code), "{how}: {status}"),
            // The monitor catches SIGTERM and exits as a shell reports it: 128 + 15.
            None => assert!(
                status.code() == Some(143) || status.signal() == Some(libc::SIGTERM),
                "{how}: {status}"
            ),
        }
        assert!(took < Duration::from_secs(1), "{how} took {took:?}");
        pty.finish();
    }
}

/// Training info in the monitor, for real: three PyBoy publishers with info, one whose
/// picture stays still for a while. Tile labels, the stuck mark and count, sort, filter,
/// the label key and the training panel of the single view.
#[test]
fn training_info_labels_sort_filter_and_stuck_envs_in_tmux() {
    let dir = Scratch::new("training");
    let publisher = |name: &str, ret: &str, extra: &[&str]| {
        let mut args = vec![
            "--seconds",
            "60",
            "--fps",
            "30",
            "--info",
            "--return-value",
            ret,
        ];
        args.extend_from_slice(extra);
        pyboy_publisher(dir.path(), name, &args)
    };
    let _a = publisher("env-a", "3.0", &[]);
    let _b = publisher("env-b", "1.0", &[]);
    // Still for its first 7 seconds, then moving.
    let _c = publisher("env-c", "2.0", &["--freeze", "0:7"]);
    let tmux = Tmux::start("training", 200, 60);
    // Labelled by step (it changes), so only a still picture makes an env stuck.
    let cmd = format!(
        "GBWATCH_DIR={} {} --label step --stuck-after 2",
        dir.path().display(),
        env!("CARGO_BIN_EXE_gbwatch")
    );
    tmux.run(&["send-keys", "-t", "t", &cmd, "Enter"]);
    let screen = tmux.wait_for("labelled tiles and env-c stuck", 20, |s| {
        ["env-a step=", "env-b step=", "env-c step="]
            .iter()
            .all(|t| s.contains(t))
            && s.matches("STUCK").count() == 1
            && s.contains("1 stuck · 3 envs")
    });
    assert!(
        screen.contains("fps,") && screen.contains("old"),
        "{screen}"
    );
    let stuck_line = screen.lines().find(|l| l.contains("STUCK")).unwrap();
    let tiles: Vec<&str> = stuck_line.split("┘└").collect();
    assert!(
        tiles[2].contains("STUCK"),
        "env-c is the stuck one:\n{screen}"
    );
    // env-c moves again after 7 s: no longer stuck.
    tmux.wait_for("env-c no longer stuck", 20, |s| {
        !s.contains("STUCK") && s.contains(" 3 envs")
    });
    // step → frame → episode → episode_return.
    for _ in 0..3 {
        tmux.run(&["send-keys", "-t", "t", "L"]);
    }
    let screen = tmux.wait_for("episode_return as the label", 5, |s| {
        s.contains("env-a episode_return=3.0")
            && s.contains("env-b episode_return=1.0")
            && s.contains("env-c episode_return=2.0")
    });
    let order = |s: &str| {
        let mut at: Vec<(usize, &str)> = ["env-a", "env-b", "env-c"]
            .into_iter()
            .map(|n| {
                (
                    s.find(&format!("{n} episode_return")).unwrap_or(usize::MAX),
                    n,
                )
            })
            .collect();
        at.sort();
        at.into_iter().map(|(_, n)| n).collect::<Vec<_>>()
    };
    assert_eq!(order(&screen), ["env-a", "env-b", "env-c"], "{screen}");
    tmux.run(&["send-keys", "-t", "t", "o"]);
    tmux.wait_for("lowest return first", 5, |s| {
        order(s) == ["env-b", "env-c", "env-a"]
    });
    tmux.run(&["send-keys", "-t", "t", "o"]);
    tmux.wait_for("highest return first", 5, |s| {
        order(s) == ["env-a", "env-c", "env-b"]
    });
    // Filter down to one env: the single view with its training panel.
    tmux.run(&[
        "send-keys",
        "-t",
        "t",
        "/",
        "e",
        "n",
        "v",
        "-",
        "b",
        "Enter",
    ]);
    let screen = tmux.wait_for("env-b alone with its training panel", 10, |s| {
        s.contains("training") && s.contains("episode_return 1.0") && !s.contains("env-a")
    });
    for field in ["step", "frame", "episode", "map"] {
        assert!(screen.contains(field), "{field} missing:\n{screen}");
    }
    tmux.run(&["send-keys", "-t", "t", "/", "Escape"]);
    tmux.wait_for("all envs again", 10, |s| {
        s.contains("env-a") && s.contains("env-c")
    });
    tmux.run(&["send-keys", "-t", "t", "q"]);
}
