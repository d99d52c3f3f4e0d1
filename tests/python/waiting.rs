//! The non-interactive commands and sources that are not there yet: they wait (saying so on
//! stderr, one line per change), `--wait S` bounds the wait, and they never fall back to the
//! demo unless asked for it by name.

use crate::common;

use common::{gbwatch, pyboy_publisher, run_ok, Scratch};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Starts `cmd` with stderr read line by line on a thread.
fn spawn_reading_stderr(cmd: &mut std::process::Command) -> (Child, mpsc::Receiver<String>) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    (child, rx)
}

fn wait_for_line(rx: &mpsc::Receiver<String>, needle: &str, seen: &mut Vec<String>) {
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            seen.push(line.clone());
            if line.contains(needle) {
                return;
            }
        }
    }
    panic!("no stderr line with {needle:?}: {seen:?}");
}

fn finish(mut child: Child, rx: mpsc::Receiver<String>, seen: &mut Vec<String>) -> i32 {
    let end = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!("still running after 30 s: {seen:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_millis(100));
    seen.extend(rx.try_iter());
    status.code().unwrap_or(-1)
}

#[test]
fn dump_and_record_with_no_source_wait_for_the_first_publisher() {
    let dir = Scratch::new("wait-dump");
    let out = dir.path().join("out");
    let rec = dir.path().join("run.gbrec");
    let slots = dir.path().join("slots");
    let slots_s = slots.to_str().unwrap();
    for args in [
        vec!["dump", "--out", out.to_str().unwrap(), "--count", "5"],
        vec!["record", "-o", rec.to_str().unwrap(), "--count", "5"],
    ] {
        let (child, rx) = spawn_reading_stderr(gbwatch().args(&args).env("GBWATCH_DIR", slots_s));
        let mut seen = Vec::new();
        wait_for_line(
            &rx,
            &format!("waiting for a publisher in {slots_s}"),
            &mut seen,
        );
        // Training starts after the recorder: what is recorded is the training.
        std::thread::sleep(Duration::from_millis(500));
        let publisher = pyboy_publisher(&slots, "env-00", &[]);
        let code = finish(child, rx, &mut seen);
        drop(publisher);
        assert_eq!(code, 0, "{args:?}: {seen:?}");
        assert!(
            seen.iter().any(|l| l == "gbwatch: env-00: online"),
            "{seen:?}"
        );
        assert!(!seen.iter().any(|l| l.contains("demo")), "{seen:?}");
        let _ = std::fs::remove_file(slots.join("env-00.slot"));
    }
    assert!(out.join("env-00-000005.jpg").exists());
    let stats = common::stats_json(gbwatch().args([
        "stats",
        rec.to_str().unwrap(),
        "--json",
        "--duration",
        "1",
    ]));
    // The replay is the recorded env, under its own name.
    assert_eq!(stats["feeds"][0]["name"], "env-00");
    assert!(stats["frames_captured"].as_u64().unwrap() >= 1, "{stats}");
}

#[test]
fn demo_is_a_source_anyone_can_ask_for() {
    let dir = Scratch::new("demo-source");
    let out = dir.path().join("out");
    let empty = dir.path().join("slots");
    let o = run_ok(
        gbwatch()
            .args([
                "dump",
                "demo",
                "--count",
                "3",
                "--out",
                out.to_str().unwrap(),
            ])
            .env("GBWATCH_DIR", &empty),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("wrote 3 frames of demo"), "{err}");
    assert!(out.join("demo-000003.jpg").exists());
}

#[test]
fn wait_bounds_the_first_frame_and_names_the_last_reason() {
    let dir = Scratch::new("wait-bound");
    let out = dir.path().join("out");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/api/screenshot");
    let garbage = dir.path().join("garbage");
    std::fs::create_dir(&garbage).unwrap();
    std::fs::write(garbage.join("env-00.slot"), vec![0x5a; 4096]).unwrap();
    for (source, reason) in [
        (url.as_str(), "refused"),
        (garbage.to_str().unwrap(), "env-00.slot"),
    ] {
        let start = Instant::now();
        let (child, rx) = spawn_reading_stderr(gbwatch().args([
            "dump",
            source,
            "--count",
            "3",
            "--wait",
            "3",
            "--out",
            out.to_str().unwrap(),
        ]));
        let mut seen = Vec::new();
        let code = finish(child, rx, &mut seen);
        assert_eq!(code, 1, "{source}: {seen:?}");
        assert!(start.elapsed() < Duration::from_secs(10), "{source}");
        // One line per change, not one per retry, then the last reason.
        let retrying: Vec<&String> = seen.iter().filter(|l| l.ends_with(", retrying")).collect();
        assert_eq!(retrying.len(), 1, "{source}: {seen:?}");
        assert!(retrying[0].contains(reason), "{source}: {seen:?}");
        let last = seen.last().unwrap();
        assert!(
            last.starts_with("gbwatch: no frame within 3s: ") && last.contains(reason),
            "{source}: {seen:?}"
        );
    }
}

#[test]
fn stats_fails_when_no_source_delivered() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let o = gbwatch()
        .args([
            "stats",
            &format!("http://127.0.0.1:{port}/x.jpg"),
            "--duration",
            "1.5",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    // People's words, not Rust's Debug forms.
    assert!(out.contains("[offline: "), "{out}");
    assert!(
        !out.contains("Offline(") && !out.contains("(os error"),
        "{out}"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.lines()
            .last()
            .unwrap()
            .starts_with("gbwatch: no frame within 1.5s: "),
        "{err}"
    );
}
