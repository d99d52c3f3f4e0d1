//! Frame age and server CPU of `gbwatch serve` with 0, 1 and 20 `/stream` clients, on a real
//! PyBoy publisher at 60 fps over loopback, and of the same job done in Python with Pillow
//! (examples/peer_serve.py, encoding once for all clients too) on the same publisher.
//!
//!     cargo build --release --bin gbwatch --example bench_serve
//!     target/release/examples/bench_serve [--seconds 10] [--preset medium]
//!
//! "age at send" is the server's own figure (the part's X-Frame-Age-Us: publish → start of
//! the write); "age at receive" is publish → the client has the whole JPEG (both on the
//! system's monotonic clock). CPU is the server process's user+system time over the window.

mod common;

use common::{arg, Kill};
use gbwatch::clock::monotonic_ns;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// user + system CPU seconds of a process.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime) are 12 and 13 after the command name and state.
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// Reads multipart parts for `secs`; returns (age at send µs, age at receive µs) per part.
fn client(addr: SocketAddr, secs: f64) -> Vec<(u64, u64)> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /stream HTTP/1.1\r\nHost: bench\r\n\r\n")
        .unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    loop {
        line.clear();
        r.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
    }
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut out = Vec::new();
    while Instant::now() < end {
        let (mut len, mut sent_age, mut ts_ns) = (0usize, 0u64, 0u64);
        loop {
            line.clear();
            if r.read_line(&mut line).unwrap() == 0 {
                return out;
            }
            if line == "\r\n" && len > 0 {
                break;
            }
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let v = v.trim();
            match k.to_ascii_lowercase().as_str() {
                "content-length" => len = v.parse().unwrap(),
                "x-frame-age-us" => sent_age = v.parse().unwrap(),
                "x-timestamp" => {
                    let (s, us) = v.split_once('.').unwrap();
                    ts_ns = s.parse::<u64>().unwrap() * 1_000_000_000
                        + us.parse::<u64>().unwrap() * 1000;
                }
                _ => {}
            }
        }
        let mut jpeg = vec![0u8; len + 2];
        r.read_exact(&mut jpeg).unwrap();
        out.push((sent_age, monotonic_ns().saturating_sub(ts_ns) / 1000));
    }
    out
}

fn pct(v: &mut [u64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_unstable();
    v[((v.len() - 1) as f64 * q).round() as usize] as f64 / 1000.0
}

/// Starts `server` (it prints "... serving on http://ADDR/" on stderr), then prints one row
/// per client count.
fn measure(name: &str, mut server: Command, secs: f64) {
    let mut server = server.stderr(Stdio::piped()).spawn().unwrap();
    let mut err = BufReader::new(server.stderr.take().unwrap());
    let mut banner = String::new();
    err.read_line(&mut banner).unwrap();
    let addr: SocketAddr = banner
        .trim()
        .split_once("serving on http://")
        .map(|(_, r)| r)
        .and_then(|r| r.split('/').next())
        .expect("serving line")
        .parse()
        .unwrap();
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    let pid = server.id();
    let _server = Kill(server);
    std::thread::sleep(Duration::from_secs(2));

    for n in [0usize, 1, 20] {
        let cpu0 = cpu_seconds(pid);
        let t0 = Instant::now();
        let handles: Vec<_> = (0..n)
            .map(|_| std::thread::spawn(move || client(addr, secs)))
            .collect();
        if n == 0 {
            std::thread::sleep(Duration::from_secs_f64(secs));
        }
        let results: Vec<Vec<(u64, u64)>> =
            handles.into_iter().map(|h| h.join().unwrap()).collect();
        let cpu = (cpu_seconds(pid) - cpu0) / t0.elapsed().as_secs_f64() * 100.0;
        let mut send: Vec<u64> = results.iter().flatten().map(|p| p.0).collect();
        let mut recv: Vec<u64> = results.iter().flatten().map(|p| p.1).collect();
        let per_client = if n == 0 {
            0.0
        } else {
            send.len() as f64 / n as f64 / secs
        };
        let ms = |v: f64| {
            if v.is_nan() {
                "-".to_string()
            } else {
                format!("{v:.1} ms")
            }
        };
        println!(
            "{:>14} {:>7} {:>12.1} {:>14} {:>14} {:>14} {:>14} {:>9.1}",
            name,
            n,
            per_client,
            ms(pct(&mut send, 0.5)),
            ms(pct(&mut send, 0.95)),
            ms(pct(&mut recv, 0.5)),
            ms(pct(&mut recv, 0.95)),
            cpu
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn main() {
    let secs: f64 = arg("--seconds", "10").parse().expect("--seconds N");
    let preset = arg("--preset", "medium");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("gbwatch");
    assert!(
        bin.exists(),
        "{} missing: cargo build --release --bin gbwatch",
        bin.display()
    );
    let python = std::env::var_os("GBWATCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv/bin/python"));
    let dir = PathBuf::from(format!(
        "/dev/shm/gbwatch-bench-serve-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();

    let mut publisher = Command::new(&python)
        .arg(root.join("tests/py/pyboy_publisher.py"))
        .args([
            "--dir",
            dir.to_str().unwrap(),
            "--name",
            "env-00",
            "--fps",
            "60",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the PyBoy publisher (run tests/run-all.sh once for .venv)");
    let mut ready = String::new();
    BufReader::new(publisher.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    let _publisher = Kill(publisher);

    let (scale, fps, quality) = match preset.as_str() {
        "low" => ("1", "5", "50"),
        "medium" => ("2", "10", "75"),
        "high" => ("3", "15", "90"),
        "ultra" => ("4", "30", "95"),
        other => panic!("unknown preset {other}"),
    };
    println!(
        "preset {preset}, PyBoy publisher at 60 fps, {secs} s per row, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:>14} {:>7} {:>12} {:>14} {:>14} {:>14} {:>14} {:>9}",
        "server",
        "clients",
        "parts/s each",
        "send age p50",
        "send age p95",
        "recv age p50",
        "recv age p95",
        "CPU %"
    );
    let mut gbwatch = Command::new(&bin);
    gbwatch.args([
        "serve",
        dir.to_str().unwrap(),
        "--bind",
        "127.0.0.1:0",
        "--preset",
        &preset,
    ]);
    measure("gbwatch serve", gbwatch, secs);
    let mut peer = Command::new(&python);
    peer.arg(root.join("examples/peer_serve.py"))
        .arg(&dir)
        .args(["--scale", scale, "--fps", fps, "--quality", quality]);
    measure("Python+Pillow", peer, secs);
    let _ = std::fs::remove_dir_all(&dir);
}
