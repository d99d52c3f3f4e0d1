//! `ssh://` sources against a real OpenSSH server on 127.0.0.1 (started by the test with a
//! throwaway host key and user key) and real PyBoy behind it: `stats` and `watch` show the
//! remote envs with PyBoy's exact pixels; a wrong key, a host without gbwatch and an sshd
//! killed mid-stream each give one clear line, and the feeds come back with the server; a
//! session nobody asks about any more ends on both sides.

use crate::common;
use crate::common::serve as serve_support;

use common::sshd::{SshHome, IN_PROCESS_SSH};
use common::tmux::Tmux;
use common::{eventually, gbwatch, py_script, pyboy_publisher, spawn_ready, stats_json, Scratch};
use gbwatch::pipeline::{FeedOptions, FeedSet, FeedState, Settings, SharedSettings};
use gbwatch::source::SourceSpec;
use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

const FRAME_BYTES: usize = 160 * 144 * 4;

fn saved_frames(path: &Path) -> HashMap<u64, Vec<u8>> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(8 + FRAME_BYTES)
        .map(|r| {
            (
                u64::from_le_bytes(r[..8].try_into().unwrap()),
                r[8..].to_vec(),
            )
        })
        .collect()
}

/// The remote box: env-a (frames saved) and env-b, env-c in one slot directory.
struct Remote {
    slots: std::path::PathBuf,
    save: std::path::PathBuf,
    _a: common::Proc,
    _many: common::Ready,
    _dir: Scratch,
}

fn remote_box() -> Remote {
    let dir = Scratch::new("ssh-box");
    let slots = dir.path().join("slots");
    let save = dir.path().join("pyboy.frames");
    let a = pyboy_publisher(
        &slots,
        "env-a",
        &[
            "--fps",
            "20",
            "--seconds",
            "60",
            "--save",
            save.to_str().unwrap(),
        ],
    );
    let mut many = py_script("pyboy_many.py");
    many.args(["--dir", slots.to_str().unwrap(), "--fps", "10"])
        .args(["--seconds", "60", "--names", "env-b,env-c"])
        .stderr(Stdio::inherit());
    let many = spawn_ready(&mut many, "the PyBoy envs");
    Remote {
        slots,
        save,
        _a: a,
        _many: many,
        _dir: dir,
    }
}

/// An in-process feed set on `src` at 10 fps.
fn feeds_of(src: &str) -> FeedSet {
    let spec = SourceSpec::parse(src).unwrap();
    let settings = Settings::with_overrides(1, Some(1), Some(10), None).unwrap();
    FeedSet::start(
        vec![spec],
        SharedSettings::new(settings),
        FeedOptions::default(),
    )
}

fn url(home: &SshHome, port: u16, slots: &Path) -> String {
    format!("ssh://{}@127.0.0.1:{port}{}", home.user, slots.display())
}

#[test]
fn stats_and_watch_over_ssh_with_exact_pixels_and_a_server_that_dies() {
    let home = SshHome::new();
    let sshd = home.start(0, true);
    let remote = remote_box();
    let src = url(&home, sshd.port, &remote.slots);
    let _one = IN_PROCESS_SSH.lock().unwrap_or_else(|e| e.into_inner());
    std::env::set_var("GBWATCH_SSH", home.ssh_command("id"));

    let v = stats_json(
        gbwatch()
            .args(["stats", "--json", "--duration", "4", "--preset", "low"])
            .arg(&src),
    );
    let feeds = v["feeds"].as_array().unwrap();
    let names = common::feed_names(&v);
    assert_eq!(
        names,
        ["127.0.0.1/env-a", "127.0.0.1/env-b", "127.0.0.1/env-c"],
        "{v:#}"
    );
    for f in feeds {
        assert_eq!(f["method"], "ssh", "{f:#}");
        assert!(f["captured"].as_u64().unwrap() >= 5, "{f:#}");
    }

    // list ssh://: the host's own list of its publishers.
    let out = common::run_ok(gbwatch().arg("list").arg(&src));
    let text = String::from_utf8_lossy(&out.stdout);
    for env in ["env-a", "env-b", "env-c"] {
        let line = text
            .lines()
            .find(|l| l.starts_with(env))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(
            line.contains("160x144") && line.ends_with("online"),
            "{text}"
        );
    }

    // dump and serve take it too: serve re-publishes the remote envs under its own address.
    let dumps = Scratch::new("ssh-dump");
    common::run_ok(
        gbwatch()
            .args([
                "dump",
                "--count",
                "3",
                "--preset",
                "low",
                "--env",
                "127.0.0.1/env-b",
            ])
            .arg("--out")
            .arg(dumps.path())
            .arg(&src),
    );
    assert_eq!(std::fs::read_dir(dumps.path()).unwrap().count(), 3);
    let relay_serve = serve_support::serve(gbwatch(), &[&src]);
    let v = stats_json(
        gbwatch()
            .args(["stats", "--json", "--duration", "3", "--preset", "low"])
            .arg(format!("http://{}", relay_serve.addr)),
    );
    let names = common::feed_names(&v);
    let expected: Vec<String> = ["env-a", "env-b", "env-c"]
        .iter()
        .map(|e| format!("{}/127.0.0.1/{e}", relay_serve.addr))
        .collect();
    assert_eq!(names, expected, "{v:#}");
    drop(relay_serve);

    let tmux = Tmux::start("ssh", 200, 50);
    let cmd = format!("{} {src}", env!("CARGO_BIN_EXE_gbwatch"));
    tmux.run(&["send-keys", "-t", "t", &cmd, "Enter"]);
    tmux.wait_for("the three remote envs", 30, |s| {
        s.contains(" 3 envs") && s.contains("127.0.0.1/env-a") && s.contains("127.0.0.1/env-c")
    });
    tmux.run(&["send-keys", "-t", "t", "q"]);

    // In-process: PyBoy's exact pixels, then sshd killed mid-stream and started again.
    let set = feeds_of(&src);
    let feed = eventually("env-a over ssh", Duration::from_secs(15), || {
        set.feeds()
            .into_iter()
            .find(|f| f.name == "127.0.0.1/env-a")
    });
    let frames: Vec<_> = (0..10)
        .map(|_| {
            feed.queue
                .pop_timeout(Duration::from_secs(10))
                .expect("a frame")
        })
        .collect();
    let pyboy = saved_frames(&remote.save);
    for f in &frames {
        let original = pyboy.get(&f.frame_index).expect("a published frame");
        assert!(
            f.pixels == *original,
            "frame {} differs from PyBoy's",
            f.frame_index
        );
    }
    eventually("all three online", Duration::from_secs(10), || {
        let feeds = set.feeds();
        (feeds.len() == 3 && feeds.iter().all(|f| f.status().state == FeedState::Online))
            .then_some(())
    });

    let port = sshd.port;
    sshd.kill();
    let reason = eventually("the feeds offline", Duration::from_secs(20), || {
        let states: Vec<FeedState> = set.feeds().iter().map(|f| f.status().state).collect();
        match states.as_slice() {
            [FeedState::Offline(r), ..]
                if states.iter().all(|s| matches!(s, FeedState::Offline(_))) =>
            {
                Some(r.clone())
            }
            _ => None,
        }
    });
    assert!(
        reason.starts_with("ssh 127.0.0.1: host unreachable or connection lost"),
        "{reason}"
    );
    assert!(!reason.contains('\n'), "{reason}");
    let _sshd = home.start(port, true);
    eventually("the feeds back online", Duration::from_secs(30), || {
        let feeds = set.feeds();
        (feeds.len() == 3 && feeds.iter().all(|f| f.status().state == FeedState::Online))
            .then_some(())
    });
    set.stop();
}

#[test]
fn a_wrong_key_and_a_host_without_gbwatch_each_say_so_in_one_line() {
    let home = SshHome::new();
    let with = home.start(0, true);
    let without = home.start(0, false);
    let slots = Scratch::new("ssh-empty");
    let fail = |port: u16, key: &str| {
        let out = gbwatch()
            .env("GBWATCH_SSH", home.ssh_command(key))
            .args(["stats", "--duration", "6", "--wait", "4", "--no-install"])
            .arg(url(&home, port, slots.path()))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        err.lines().last().unwrap_or("").to_string()
    };
    let line = fail(with.port, "wrong_id");
    assert!(
        line.contains("ssh 127.0.0.1: authentication refused")
            && line.contains("Permission denied"),
        "{line}"
    );
    let line = fail(without.port, "id");
    assert!(
        line.contains("gbwatch is not installed on 127.0.0.1") && line.contains("pip install"),
        "{line}"
    );
    // Nothing listens: unreachable, said as such.
    drop(without);
    let port = with.port;
    drop(with);
    let line = fail(port, "id");
    assert!(line.contains("host unreachable"), "{line}");
}

/// The pids of the processes whose command line satisfies `ok` (its arguments).
fn processes(ok: impl Fn(&[String]) -> bool) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = raw
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if ok(&args) {
            out.push(pid);
        }
    }
    out
}

#[test]
fn an_idle_ssh_session_ends_on_both_sides() {
    let home = SshHome::new();
    let sshd = home.start(0, true);
    let slots = Scratch::new("ssh-idle");
    let src = url(&home, sshd.port, slots.path());
    let dir = slots.path().display().to_string();
    let _one = IN_PROCESS_SSH.lock().unwrap_or_else(|e| e.into_inner());
    std::env::set_var("GBWATCH_SSH", home.ssh_command("id"));
    // The viewer's ssh client (a child of this process) and the box's `gbwatch relay DIR`.
    let me = std::process::id().to_string();
    let session = || {
        let client = processes(|a| {
            a.first().is_some_and(|p| p.ends_with("ssh")) && a.iter().any(|x| x.contains(&dir))
        });
        let client: Vec<u32> = client
            .into_iter()
            .filter(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
                    s.rsplit(") ").next().unwrap_or("").split(' ').nth(1) == Some(&me)
                })
            })
            .collect();
        let relay = processes(|a| {
            a.first().is_some_and(|p| p.ends_with("gbwatch"))
                && a.get(1).map(String::as_str) == Some("relay")
                && a.iter().any(|x| x.contains(&dir))
        });
        (client.len(), relay.len())
    };

    let set = feeds_of(&src);
    eventually(
        "the ssh session on both sides",
        common::wait::COLD_START,
        || (session() == (1, 1)).then_some(()),
    );
    // The viewer stops watching this box: nobody asks for it again. Its session ends after
    // 10 s unasked (plus the first list's 10 s wait), not at once and not never.
    set.stop();
    let idle = std::time::Instant::now();
    eventually(
        "the idle session to end (ssh client and remote relay)",
        Duration::from_secs(40),
        || (session() == (0, 0)).then_some(()),
    );
    assert!(
        idle.elapsed() >= Duration::from_secs(5),
        "ended after {:?}: not idle first",
        idle.elapsed()
    );
    drop(sshd);
}
