//! Per-remote bytes/s and the viewer's CPU for one box of 64 real PyBoy envs at MEDIUM
//! (10 fps) behind one `gbwatch serve`, over loopback, in one run on the same frames:
//! today's way (64 `/stream` MJPEG connections, each JPEG decoded as a viewer would), the
//! compact stream with all 64 sources at 10 fps, with 16 visible tiles at the grid rate
//! (5 fps) and one of them zoomed at the preset rate (10 fps), and four compact streams
//! of 64 at once (the viewer's work for 4 boxes of 64).
//!
//!     cargo build --release --bin gbwatch --example bench_remote
//!     target/release/examples/bench_remote [--seconds 10] [--envs 64]
//!
//! Bytes are what the viewer read from its sockets. Viewer CPU is this process's user +
//! system time over the window (it does nothing else then): reading, parsing and decoding
//! every frame to RGBA, not drawing.

mod common;

use common::{arg, Kill};
use gbwatch::source::decode::decode_image;
use gbwatch::source::http::HttpUrl;
use gbwatch::source::mjpeg::MultipartParser;
use gbwatch::source::remote::HttpStreamTransport;
use gbwatch::source::stream::StreamClient;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// user + system CPU seconds of this process.
fn own_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Starts the envs (16 per Python process) into `dir`.
fn start_envs(dir: &std::path::Path, envs: usize) -> Vec<Kill> {
    let python = std::env::var("GBWATCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join(".venv/bin/python"));
    (0..envs.div_ceil(16))
        .map(|p| {
            let names: Vec<String> = (p * 16..((p + 1) * 16).min(envs))
                .map(|i| format!("env-{i:02}"))
                .collect();
            common::start_ready(
                Command::new(&python)
                    .arg(root().join("tests/py/pyboy_many.py"))
                    .args(["--dir", dir.to_str().unwrap(), "--fps", "10"])
                    .args(["--seconds", "600", "--names", &names.join(",")])
                    .stdin(Stdio::piped()),
                "the PyBoy envs",
            )
        })
        .collect()
}

fn start_serve(dir: &std::path::Path) -> (Kill, SocketAddr) {
    let exe = root().join("target/release/gbwatch");
    let mut child = Command::new(&exe)
        .arg("serve")
        .arg(dir)
        .args(["--preset", "medium", "--bind", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e} (cargo build --release)", exe.display()));
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let addr = loop {
        let mut line = String::new();
        assert!(err.read_line(&mut line).unwrap() > 0, "serve exited");
        if let Some((_, rest)) = line.trim().split_once("serving on http://") {
            break rest.split('/').next().unwrap().parse().unwrap();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    (Kill(child), addr)
}

/// One MJPEG viewer connection: reads and decodes parts until `stop`.
fn mjpeg_client(
    addr: SocketAddr,
    env: String,
    bytes: Arc<AtomicU64>,
    frames: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET /stream?source={env} HTTP/1.1\r\nHost: bench\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).unwrap();
        head.push(b[0]);
    }
    let mut parser = MultipartParser::new(gbwatch::serve::BOUNDARY, 4 << 20);
    let mut buf = vec![0u8; 64 * 1024];
    let mut parts = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let n = match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        bytes.fetch_add(n as u64, Ordering::Relaxed);
        parser.push(&buf[..n], &mut parts).unwrap();
        for p in parts.drain(..) {
            decode_image(&p).expect("a JPEG");
            frames.fetch_add(1, Ordering::Relaxed);
        }
    }
}

struct Row {
    case: String,
    bytes_per_s: f64,
    frames_per_s: f64,
    cpu_percent: f64,
}

fn measure(case: &str, secs: f64, counters: impl Fn() -> (u64, u64)) -> Row {
    let (b0, f0) = counters();
    let (c0, t0) = (own_cpu_seconds(), Instant::now());
    std::thread::sleep(Duration::from_secs_f64(secs));
    let (b1, f1) = counters();
    let dt = t0.elapsed().as_secs_f64();
    Row {
        case: case.to_string(),
        bytes_per_s: (b1 - b0) as f64 / dt,
        frames_per_s: (f1 - f0) as f64 / dt,
        cpu_percent: (own_cpu_seconds() - c0) / dt * 100.0,
    }
}

fn compact_client(addr: SocketAddr) -> Arc<StreamClient> {
    let base = HttpUrl::parse(&format!("http://{addr}")).unwrap();
    StreamClient::start("bench", Box::new(HttpStreamTransport::new(base)))
}

fn main() {
    let secs: f64 = arg("--seconds", "10").parse().unwrap();
    let envs: usize = arg("--envs", "64").parse().unwrap();
    let dir = std::env::temp_dir().join(format!("gbwatch-bench-remote-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let _envs = start_envs(&dir, envs);
    let (_serve, addr) = start_serve(&dir);
    let names: Vec<String> = (0..envs).map(|i| format!("env-{i:02}")).collect();
    // Wait for the serve to have frames of every env.
    let probe = compact_client(addr);
    let until = Instant::now() + Duration::from_secs(30);
    while probe.sources().is_none_or(|s| s.len() < envs) {
        assert!(Instant::now() < until, "the serve did not list {envs} envs");
        std::thread::sleep(Duration::from_millis(100));
    }
    probe.stop();
    std::thread::sleep(Duration::from_secs(3));
    let mut rows = Vec::new();

    // Today's way: one MJPEG connection per env.
    let (bytes, frames, stop) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let threads: Vec<_> = names
        .iter()
        .map(|n| {
            let (b, f, s, n) = (bytes.clone(), frames.clone(), stop.clone(), n.clone());
            std::thread::spawn(move || mjpeg_client(addr, n, b, f, s))
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    rows.push(measure(
        &format!("{envs} /stream MJPEG connections"),
        secs,
        || {
            (
                bytes.load(Ordering::Relaxed),
                frames.load(Ordering::Relaxed),
            )
        },
    ));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    std::thread::sleep(Duration::from_secs(1));

    // The compact stream: every env at 10 fps, then 16 tiles at 5 and one zoomed at 10.
    let client = compact_client(addr);
    for n in &names {
        client.request_rate(n, 10);
    }
    std::thread::sleep(Duration::from_secs(2));
    rows.push(measure(
        &format!("compact, {envs} visible at 10 fps"),
        secs,
        || (client.bytes(), client.frames()),
    ));
    for (i, n) in names.iter().enumerate() {
        client.request_rate(
            n,
            match i {
                0 => 10,
                1..=15 => 5,
                _ => 0,
            },
        );
    }
    std::thread::sleep(Duration::from_secs(2));
    rows.push(measure(
        "compact, 16 visible at 5 fps, 1 of them zoomed at 10",
        secs,
        || (client.bytes(), client.frames()),
    ));
    client.stop();

    // The viewer's work for 4 boxes: four compact streams of every env at 10 fps.
    let clients: Vec<_> = (0..4).map(|_| compact_client(addr)).collect();
    for c in &clients {
        for n in &names {
            c.request_rate(n, 10);
        }
    }
    std::thread::sleep(Duration::from_secs(2));
    let total = || {
        clients
            .iter()
            .fold((0, 0), |(b, f), c| (b + c.bytes(), f + c.frames()))
    };
    let mut four = measure(
        &format!("compact, 4 streams x {envs} at 10 fps (4 boxes)"),
        secs,
        total,
    );
    four.bytes_per_s /= 4.0;
    rows.push(four);
    for c in &clients {
        c.stop();
    }

    println!("one box of {envs} real PyBoy envs at MEDIUM (10 fps), {secs} s per row, loopback");
    println!("| case | bytes/s per remote | frames/s | viewer CPU (% of one core) |");
    println!("| --- | --- | --- | --- |");
    for r in &rows {
        println!(
            "| {} | {:.0} KB/s | {:.0} | {:.1} % |",
            r.case,
            r.bytes_per_s / 1000.0,
            r.frames_per_s,
            r.cpu_percent
        );
    }
    println!(
        "MJPEG / compact (64 visible): {:.1}x fewer bytes",
        rows[0].bytes_per_s / rows[1].bytes_per_s
    );
    let _ = std::fs::remove_dir_all(&dir);
}
