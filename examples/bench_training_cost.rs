//! The training's own speed while someone watches: 64 real PyBoy envs (two processes of 32,
//! one per core of this machine) run as fast as PyBoy goes, publishing every frame, and
//! their total frames/s is measured with no viewer, with `gbwatch watch` in half-blocks,
//! sixel and kitty (in a pseudo-terminal whose output is read and thrown away); with each
//! viewer's CPU (user + system, in % of one core) and the bytes/s it writes. One run, each
//! watched phase right after a no-viewer phase of its own.
//!
//!     cargo build --release && cargo run --release --example bench_training_cost
//!         [-- --envs 64 --seconds 10 --preset medium --fps 10]
//!
//! With `--fps 10` the envs are paced at 10 frames/s each (the viewers' cost at the rate
//! the grid shows); the pseudo-terminal answers the capability query as kitty 0.26.5 does.

mod common;

use common::{arg, python, start_ready, Kill};
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Terminal size the viewers draw into: 240x67 cells of 8x16 pixels.
const COLS: u16 = 240;
const ROWS: u16 = 67;
const CELL: (u16, u16) = (8, 16);

/// What kitty 0.26.5 answers gbwatch's capability query with, in a terminal of
/// [`COLS`]x[`ROWS`] cells of [`CELL`] pixels.
const KITTY_026_REPLIES: &[u8] =
    b"\x1b_Gi=31;OK\x1b\\\x1b_Gi=32;OK\x1b\\\x1bP>|kitty(0.26.5)\x1b\\\x1b[6;16;8t\x1b[4;1072;1920t\x1b[?62;c";

/// The training: publishers whose frame counts are read from their ticks files.
struct Training {
    _procs: Vec<Kill>,
    ticks: Vec<PathBuf>,
}

impl Training {
    fn start(dir: &Path, envs: usize, fps: &str) -> Training {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let halves = [envs / 2, envs - envs / 2];
        let mut procs = Vec::new();
        let mut ticks = Vec::new();
        let mut first = 0;
        for (p, n) in halves.into_iter().enumerate() {
            let names: Vec<String> = (first..first + n).map(|i| format!("env-{i:02}")).collect();
            first += n;
            let file = dir.join(format!("ticks-{p}"));
            procs.push(start_ready(
                Command::new(python())
                    .arg(root.join("tests/py/pyboy_many.py"))
                    .arg("--dir")
                    .arg(dir.join("slots"))
                    .args([
                        "--fps",
                        fps,
                        "--seconds",
                        "36000",
                        "--names",
                        &names.join(","),
                    ])
                    .arg("--ticks-file")
                    .arg(&file)
                    .stdin(Stdio::piped())
                    .stderr(Stdio::null()),
                "the PyBoy envs",
            ));
            ticks.push(file);
        }
        Training {
            _procs: procs,
            ticks,
        }
    }

    /// Frames run so far by all envs, summed over the processes.
    fn frames(&self) -> u64 {
        self.ticks
            .iter()
            .map(|f| {
                std::fs::read_to_string(f)
                    .ok()
                    .and_then(|t| t.split_whitespace().next()?.parse().ok())
                    .unwrap_or(0)
            })
            .sum()
    }
}

/// A viewer process and the bytes it wrote.
struct Viewer {
    child: Kill,
    bytes: Arc<AtomicU64>,
}

/// CPU time (user + system) of `pid` so far, in seconds.
fn cpu_s(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: f64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum())
        .unwrap_or(0.0);
    // SAFETY: sysconf has no memory effects.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// `gbwatch watch --protocol PROTOCOL` in a pseudo-terminal of [`COLS`]x[`ROWS`] cells
/// whose output is read (and counted) as fast as it comes.
fn watch_in_pty(gbwatch: &Path, slots: &Path, protocol: &str, preset: &str) -> Viewer {
    let ws = libc::winsize {
        ws_row: ROWS,
        ws_col: COLS,
        ws_xpixel: COLS * CELL.0,
        ws_ypixel: ROWS * CELL.1,
    };
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two descriptors into the given ints; the name buffer is null
    // and the termios pointer null (defaults).
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &ws,
        )
    };
    assert_eq!(rc, 0, "openpty failed");
    // SAFETY: both descriptors were just opened by openpty and are owned here only.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut cmd = Command::new(gbwatch);
    cmd.args(["watch", "--protocol", protocol, "--preset", preset])
        .arg(slots)
        .env(
            "TERM",
            if protocol == "kitty" {
                "xterm-kitty"
            } else {
                "xterm-256color"
            },
        )
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::null());
    // SAFETY: setsid and ioctl are async-signal-safe; the child makes the pty its
    // controlling terminal (fd 0) before exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            libc::ioctl(0, libc::TIOCSCTTY as _, 0);
            Ok(())
        });
    }
    let child = Kill(cmd.spawn().expect("start gbwatch watch"));
    drop(slave);
    let bytes = Arc::new(AtomicU64::new(0));
    let counted = bytes.clone();
    let mut reader = std::fs::File::from(master);
    let mut answer = reader.try_clone().expect("a second handle on the pty");
    let kitty = protocol == "kitty";
    // Left to end with the viewer: read() fails once the pty closes.
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            // The terminal's answers kitty 0.26 gives to the capability query, so that
            // the viewer draws as it does in kitty (deltas, deflate), not whole frames.
            if kitty && buf[..n].windows(7).any(|w| w == b"\x1b_Gi=31") {
                let _ = std::io::Write::write_all(&mut answer, KITTY_026_REPLIES);
            }
            counted.fetch_add(n as u64, Ordering::Relaxed);
        }
    });
    Viewer { child, bytes }
}

/// One measured phase: training frames/s, and the viewer's CPU % and bytes/s.
struct Phase {
    fps: f64,
    cpu_pct: Option<f64>,
    bytes_per_s: Option<f64>,
}

fn measure(
    training: &Training,
    viewer: Option<&Viewer>,
    settle: Duration,
    span: Duration,
) -> Phase {
    std::thread::sleep(settle);
    let (f0, t0) = (training.frames(), Instant::now());
    let pid = viewer.map(|v| v.child.0.id());
    let c0 = pid.map(cpu_s);
    let b0 = viewer.map(|v| v.bytes.load(Ordering::Relaxed));
    std::thread::sleep(span);
    let secs = t0.elapsed().as_secs_f64();
    Phase {
        fps: (training.frames() - f0) as f64 / secs,
        cpu_pct: pid.zip(c0).map(|(p, c)| (cpu_s(p) - c) / secs * 100.0),
        bytes_per_s: viewer
            .zip(b0)
            .map(|(v, b)| (v.bytes.load(Ordering::Relaxed) - b) as f64 / secs),
    }
}

fn main() {
    let envs: usize = arg("--envs", "64").parse().expect("--envs N");
    let secs: f64 = arg("--seconds", "10").parse().expect("--seconds S");
    let preset = arg("--preset", "medium");
    // Uncapped: the training's own speed; --fps 10: the viewers' cost at a shown rate.
    let fps = arg("--fps", "1e9");
    let pace = if fps == "1e9" {
        "uncapped".to_string()
    } else {
        format!("{fps} fps each")
    };
    let gbwatch = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/gbwatch");
    if !gbwatch.exists() {
        eprintln!(
            "bench_training_cost: no {}: run `cargo build --release` first",
            gbwatch.display()
        );
        std::process::exit(1);
    }
    let dir = std::env::temp_dir().join(format!("gbwatch-training-cost-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("slots")).unwrap();
    let slots = dir.join("slots");
    eprintln!("starting {envs} PyBoy envs (2 processes, {pace})...");
    let training = Training::start(&dir, envs, &fps);
    let (settle, span) = (Duration::from_secs(3), Duration::from_secs_f64(secs));
    let wanted = arg("--viewers", "halfblocks,sixel,kitty");
    let names: Vec<&str> = ["watch, half-blocks", "watch, sixel", "watch, kitty"]
        .into_iter()
        .filter(|n| wanted.split(',').any(|w| n.replace('-', "").ends_with(w)))
        .collect();
    let mut rows: Vec<(String, Phase, Phase)> = Vec::new();
    for name in names {
        eprintln!("measuring: no viewer, then {name} ({secs} s each)...");
        let before = measure(&training, None, settle, span);
        let viewer = match name {
            "watch, half-blocks" => watch_in_pty(&gbwatch, &slots, "halfblocks", &preset),
            "watch, sixel" => watch_in_pty(&gbwatch, &slots, "sixel", &preset),
            "watch, kitty" => watch_in_pty(&gbwatch, &slots, "kitty", &preset),
            other => unreachable!("no viewer called {other}"),
        };
        let with = measure(&training, Some(&viewer), settle, span);
        drop(viewer);
        rows.push((name.to_string(), before, with));
    }
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "{envs} real PyBoy envs (assets/demo.gb, 2 processes, {pace}, publishing every frame) on {} cores; preset {preset}; {COLS}x{ROWS} cells of {}x{} px, kitty answering as 0.26.5; {secs} s per phase",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        CELL.0,
        CELL.1
    );
    println!("| viewer | training frames/s, no viewer | training frames/s, watched | training speed | viewer CPU (% of a core) | viewer bytes/s |");
    println!("|---|---|---|---|---|---|");
    for (name, before, with) in &rows {
        println!(
            "| {name} | {:.0} | {:.0} | {:+.1}% | {:.1}% | {:.0} KB/s |",
            before.fps,
            with.fps,
            (with.fps / before.fps - 1.0) * 100.0,
            with.cpu_pct.unwrap_or(0.0),
            with.bytes_per_s.unwrap_or(0.0) / 1e3
        );
    }
}
