//! The command line's edges: termination signals still print the summary, mistakes are
//! usage errors (status 2) with a useful line, `list --prune` clears dead publishers' slots,
//! completions and the manual page come from the parser's own definition.

use crate::common;

use common::{gbwatch, pyboy_publisher, run_ok, Scratch};
use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn usage_error(args: &[&str]) -> String {
    let o = gbwatch().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    err
}

/// Sends `signal` after `after`; returns the exit code, how long the exit took, and stderr.
fn interrupt(args: &[&str], after: Duration, signal: i32) -> (Option<i32>, Duration, String) {
    let mut child = gbwatch()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    let sent = Instant::now();
    // SAFETY: kill has no memory-safety preconditions; the pid is our own child's.
    unsafe { libc::kill(child.id() as i32, signal) };
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if sent.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("{args:?} still running 10 s after signal {signal}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.code(), sent.elapsed(), err)
}

#[test]
fn signals_end_long_runs_promptly_with_their_summary() {
    let dir = Scratch::new("signals");
    let out = dir.path().join("out");
    let rec = dir.path().join("x.gbrec");
    let (o, r) = (out.to_str().unwrap(), rec.to_str().unwrap());
    let cases: [(&[&str], i32, &str); 5] = [
        (
            &["dump", "demo", "--out", o],
            libc::SIGTERM,
            "gbwatch: wrote ",
        ),
        (
            &["dump", "demo", "--out", o],
            libc::SIGINT,
            "gbwatch: wrote ",
        ),
        (&["record", "demo", "-o", r], libc::SIGTERM, "recorded "),
        (&["stats", "demo", "--duration", "60"], libc::SIGINT, ""),
        (
            &["serve", "demo", "--bind", "127.0.0.1:0"],
            libc::SIGTERM,
            "gbwatch: served ",
        ),
    ];
    for (args, signal, summary) in cases {
        let (code, took, err) = interrupt(args, Duration::from_millis(2500), signal);
        assert_eq!(code, Some(128 + signal), "{args:?}: {err}");
        assert!(took < Duration::from_secs(2), "{args:?}: {took:?}");
        assert!(err.contains(summary), "{args:?}: {err}");
    }
    // stats prints its report on stdout even when interrupted.
    let child = gbwatch()
        .args(["stats", "demo", "--duration", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2000));
    // SAFETY: as above.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("\ndemo  ["));
}

#[test]
fn mistakes_are_usage_errors_that_say_what_was_meant() {
    let err = usage_error(&["serv"]);
    assert!(err.contains("did you mean 'serve'?"), "{err}");
    let err = usage_error(&["lst"]);
    assert!(err.contains("did you mean 'list'?"), "{err}");
    let err = usage_error(&["list", "/nonexistent-gbwatch-dir"]);
    assert_eq!(
        err,
        "gbwatch: /nonexistent-gbwatch-dir: no such directory\n"
    );
    let err = usage_error(&["dump", "demo", "--count", "0", "--out", "/tmp/x"]);
    assert!(err.contains("--count"), "{err}");
    let err = usage_error(&["record", "demo", "--count", "0", "-o", "/tmp/x.gbrec"]);
    assert!(err.contains("--count"), "{err}");
    let err = usage_error(&["dump", "demo", "--wait", "0", "--out", "/tmp/x"]);
    assert!(err.contains("--wait"), "{err}");
}

#[test]
fn list_prune_removes_only_dead_publishers_slots() {
    let dir = Scratch::new("prune");
    let d = dir.path().to_str().unwrap();
    let mut dead = pyboy_publisher(dir.path(), "crashed", &[]);
    dead.0.kill().unwrap();
    dead.0.wait().unwrap();
    let _alive = pyboy_publisher(dir.path(), "alive", &[]);
    std::fs::write(dir.path().join("notes.txt"), "not a slot").unwrap();
    let crashed = dir.path().join("crashed.slot");
    assert!(crashed.exists(), "SIGKILL leaves the slot behind");

    let text = String::from_utf8(run_ok(gbwatch().args(["list", d])).stdout).unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("crashed") && l.ends_with("offline")),
        "{text}"
    );

    let o = run_ok(gbwatch().args(["list", d, "--prune"]));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("removed") && err.contains("crashed.slot"),
        "{err}"
    );
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(!text.contains("crashed"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("alive") && l.ends_with("online")),
        "{text}"
    );
    assert!(!crashed.exists());
    assert!(dir.path().join("alive.slot").exists());
    assert!(dir.path().join("notes.txt").exists());
}

#[test]
fn completions_and_man_pages_come_from_the_parser() {
    let bash = String::from_utf8(run_ok(gbwatch().args(["completions", "bash"])).stdout).unwrap();
    for word in ["serve", "dump", "--preset", "--wait", "--prune"] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    let zsh = String::from_utf8(run_ok(gbwatch().args(["completions", "zsh"])).stdout).unwrap();
    assert!(zsh.starts_with("#compdef gbwatch"), "{}", &zsh[..40]);
    let man = String::from_utf8(run_ok(gbwatch().arg("man")).stdout).unwrap();
    assert!(man.contains(".TH gbwatch 1"), "{}", &man[..200]);
    let dump = String::from_utf8(run_ok(gbwatch().args(["man", "dump"])).stdout).unwrap();
    assert!(
        dump.contains(".TH gbwatch-dump 1") && dump.contains("wait"),
        "{}",
        &dump[..200]
    );
    usage_error(&["man", "nope"]);
}
