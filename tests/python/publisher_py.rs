//! The Python publisher: every accepted frame layout reaches gbwatch with the right pixels,
//! misuse never raises into the training loop, slots are removed at exit, and a monitor
//! that stops, freezes or dies never blocks publishing.

use crate::common;

use common::{gbwatch, python, root, Proc, Scratch};
use gbwatch::frame::PixelFormat;
use gbwatch::pipeline::to_frame;
use gbwatch::slot::{slot_path, ReadOutcome, SlotReader};
use gbwatch::source::RawFrame;
use std::io::{BufRead, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn script(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut c = Command::new(python());
    c.arg(root().join("tests/py/publisher_cases.py"))
        .arg(dir)
        .args(args);
    c
}

/// The test pattern of publisher_cases.py, channel `k` of pixel (x, y).
fn pattern(x: usize, y: usize, k: usize) -> u8 {
    ((x * 3 + y + k * 50) % 256) as u8
}

fn read_frame(reader: &mut SlotReader) -> RawFrame {
    let start = Instant::now();
    loop {
        if let ReadOutcome::Frame(s) = reader.read().unwrap() {
            return gbwatch::source::raw_frame(s);
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no frame");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn every_frame_layout_arrives_as_the_right_rgba() {
    let dir = Scratch::new("formats");
    let common::Ready {
        proc: mut child,
        mut out,
        ..
    } = common::spawn_ready(
        script(dir.path(), &["formats"]).stdin(Stdio::piped()),
        "the publisher cases",
    );
    let mut line = String::new();
    let mut readers: Vec<_> = ["rgb", "gray", "bgra", "rgba"]
        .iter()
        .map(|n| SlotReader::open(&slot_path(dir.path(), n), false).unwrap())
        .collect();
    line.clear();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "published");

    type Expected = (PixelFormat, usize, usize, fn(usize, usize) -> [u8; 4]);
    let expect: [Expected; 4] = [
        (PixelFormat::Rgb, 160, 144, |x, y| {
            [pattern(x, y, 0), pattern(x, y, 1), pattern(x, y, 2), 255]
        }),
        (PixelFormat::Gray8, 160, 144, |x, y| {
            [pattern(x, y, 0), pattern(x, y, 0), pattern(x, y, 0), 255]
        }),
        (PixelFormat::Bgra, 160, 144, |x, y| {
            [
                pattern(x, y, 2),
                pattern(x, y, 1),
                pattern(x, y, 0),
                pattern(x, y, 3),
            ]
        }),
        (PixelFormat::Rgba, 100, 120, |x, y| {
            [
                pattern(x, y, 0),
                pattern(x, y, 1),
                pattern(x, y, 2),
                pattern(x, y, 3),
            ]
        }),
    ];
    for (reader, (format, w, h, px)) in readers.iter_mut().zip(expect) {
        let raw = read_frame(reader);
        assert_eq!(
            (raw.format, raw.width as usize, raw.height as usize),
            (format, w, h)
        );
        assert_eq!(raw.frame_index, 7);
        let frame = to_frame(raw);
        for y in 0..h {
            for x in 0..w {
                let i = (y * w + x) * 4;
                assert_eq!(frame.pixels[i..i + 4], px(x, y), "{format:?} pixel {x},{y}");
            }
        }
    }
    drop(readers);
    child.0.stdin.take().unwrap().write_all(b"done\n").unwrap();
    assert!(child.0.wait().unwrap().success());
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        // The name claims (FORMAT.md, "Names") stay: a lock file is reused, never removed.
        .filter(|n| n != ".claims")
        .collect();
    assert!(left.is_empty(), "slots left after a normal exit: {left:?}");
}

#[test]
fn misuse_never_raises_and_is_logged_once() {
    let dir = Scratch::new("misuse");
    let out = script(dir.path(), &["misuse"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stdout.trim(),
        "1 [False, False, False] True False",
        "stderr: {stderr}"
    );
    let logs: Vec<_> = stderr
        .lines()
        .filter(|l| l.starts_with("gbwatch:"))
        .collect();
    assert_eq!(logs.len(), 1, "logged once: {stderr}");
    assert!(
        logs[0].contains("misuse.slot") && logs[0].contains("training continues"),
        "{stderr}"
    );
}

#[test]
fn a_stopped_frozen_or_killed_monitor_never_blocks_publishing() {
    let dir = Scratch::new("safety");
    let common::Ready {
        proc: mut publisher,
        mut out,
        ..
    } = common::spawn_ready(
        &mut script(dir.path(), &["safety", "6"]),
        "the publisher cases",
    );
    let mut line = String::new();
    let slot = slot_path(dir.path(), "safety");
    let monitor = |fps: &str| {
        Proc(
            gbwatch()
                .args(["stats", "--duration", "30", "--fps", fps])
                .arg(&slot)
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        )
    };
    // 1. a monitor that is frozen (SIGSTOP) while the publisher keeps going
    let frozen = monitor("60");
    std::thread::sleep(Duration::from_millis(1000));
    // SAFETY: kill() on our own child process.
    unsafe { libc::kill(frozen.0.id() as i32, libc::SIGSTOP) };
    std::thread::sleep(Duration::from_millis(1500));
    // 2. a monitor killed mid-read
    let killed = monitor("240");
    std::thread::sleep(Duration::from_millis(800));
    // SAFETY: kill() on our own child process.
    unsafe { libc::kill(killed.0.id() as i32, libc::SIGKILL) };
    // 3. a monitor that exits normally
    let stopping = monitor("60");
    std::thread::sleep(Duration::from_millis(800));
    drop(stopping);
    drop(killed);
    // SAFETY: kill() on our own child process.
    unsafe { libc::kill(frozen.0.id() as i32, libc::SIGCONT) };
    drop(frozen);
    assert!(publisher.0.wait().unwrap().success());
    line.clear();
    out.read_line(&mut line).unwrap();
    let mut parts = line.split_whitespace();
    let calls: u64 = parts.next().unwrap().parse().unwrap();
    let worst_us: f64 = parts.next().unwrap().parse().unwrap();
    eprintln!("{calls} publish() calls, slowest {worst_us:.0} µs");
    assert!(
        calls > 1000,
        "the publisher stalled: only {calls} calls in 6 s"
    );
    // Not a speed target: a blocked publish would take seconds.
    assert!(
        worst_us < 500_000.0,
        "a publish() call blocked for {worst_us} µs"
    );
}
