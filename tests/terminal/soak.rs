//! Soak: watch (in tmux) and serve (with a stream client and a stats poller) on 16 real PyBoy
//! publishers at 60 fps. Opt-in, 30 minutes by default:
//!
//!     GBWATCH_SOAK_SECS=1800 cargo test --release --test terminal soak -- --ignored --nocapture
//!
//! Prints RSS and open file descriptors of both processes at start and end, and checks the
//! counter invariant of every feed on every stats poll.

use crate::common;

use common::{gbwatch, pyboy_publisher, Proc, Scratch};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn proc_figures(pid: u32) -> (u64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss_kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0);
    (rss_kb, fds)
}

fn get(port: u16, path: &str) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let at = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    buf.split_off(at)
}

#[test]
#[ignore = "long run: GBWATCH_SOAK_SECS=1800 cargo test --release --test terminal soak -- --ignored"]
fn soak_watch_and_serve_with_16_publishers() {
    let secs: u64 = std::env::var("GBWATCH_SOAK_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1800);
    let dir = Scratch::new("soak");
    let _publishers: Vec<_> = (0..16)
        .map(|i| {
            pyboy_publisher(
                dir.path(),
                &format!("env-{i:02}"),
                &["--fps", "60", "--seconds", &(secs + 120).to_string()],
            )
        })
        .collect();
    let port = 18000 + (std::process::id() % 1000) as u16;
    let serve = Proc(
        gbwatch()
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--preset",
                "ultra",
            ])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let socket = format!("gbwatch-soak-{}", std::process::id());
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(["-L", &socket])
            .args(args)
            .output()
            .unwrap()
    };
    let watch_cmd = format!(
        "GBWATCH_DIR={} {} --preset ultra",
        dir.path().display(),
        env!("CARGO_BIN_EXE_gbwatch")
    );
    tmux(&[
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        "200",
        "-y",
        "60",
        &watch_cmd,
    ]);
    std::thread::sleep(Duration::from_secs(5));
    let watch_pid: u32 =
        String::from_utf8_lossy(&tmux(&["list-panes", "-t", "t", "-F", "#{pane_pid}"]).stdout)
            .trim()
            .parse()
            .unwrap();
    // A stream client reading all the time.
    let stream_port = port;
    std::thread::spawn(move || {
        let mut s = TcpStream::connect(("127.0.0.1", stream_port)).unwrap();
        write!(s, "GET /stream?source=env-00 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut buf = vec![0u8; 1 << 16];
        while s.read(&mut buf).is_ok_and(|n| n > 0) {}
    });
    std::thread::sleep(Duration::from_secs(5));
    let start = (proc_figures(watch_pid), proc_figures(serve.0.id()));
    let t0 = Instant::now();
    let mut polls = 0;
    while t0.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_secs(5));
        let v: serde_json::Value =
            serde_json::from_slice(&get(port, "/api/streaming/stats")).unwrap();
        let feeds = v["feeds"].as_array().unwrap();
        assert_eq!(feeds.len(), 16, "{v:#}");
        for f in feeds {
            assert_eq!(f["invariant_holds"], true, "{f:#}");
            let n = |k: &str| f[k].as_u64().unwrap();
            assert_eq!(
                n("captured"),
                n("delivered") + n("dropped") + n("queued"),
                "{f:#}"
            );
        }
        polls += 1;
        let alive = Command::new("kill")
            .args(["-0", &watch_pid.to_string()])
            .status()
            .unwrap()
            .success();
        assert!(alive, "watch exited during the soak");
    }
    let end = (proc_figures(watch_pid), proc_figures(serve.0.id()));
    tmux(&["kill-server"]);
    println!(
        "soak {secs}s, {polls} stats polls, invariant held on all: watch RSS {} -> {} KB, fds {} -> {}; serve RSS {} -> {} KB, fds {} -> {}",
        start.0 .0, end.0 .0, start.0 .1, end.0 .1, start.1 .0, end.1 .0, start.1 .1, end.1 .1
    );
    assert!(
        end.0 .1 <= start.0 .1 + 4 && end.1 .1 <= start.1 .1 + 4,
        "file descriptors leaked"
    );
    assert!(
        end.0 .0 < start.0 .0 * 2 + 20_000 && end.1 .0 < start.1 .0 * 2 + 20_000,
        "memory grew"
    );
}
