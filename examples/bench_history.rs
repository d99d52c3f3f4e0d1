//! The history's cost on real PyBoy frames: 60 s of 64 envs at 10 fps (every 6th emulator
//! frame of `assets/demo.gb`, busy, and `assets/demo-static.gb`, sparse; needs .venv),
//! kept by gbwatch's history (recording format, a keyframe every K frames) next to a ring of
//! raw RGBA frames and a ring of JPEGs at MEDIUM (2x, q75, gbwatch's encoder).
//!
//!     cargo run --release --example bench_history
//!
//! Bytes are what each keeps per frame (the history's own count: records, keyframes and its
//! side list); CPU is this thread's CPU time to take in every frame of 64 envs, as a share of
//! one core over the 60 s they span; seek is the time to produce the RGBA pixels of a random
//! held frame of a random env (2000 seeks). The JPEG ring encodes one env's 600 frames and
//! counts them 64 times (each frame is encoded alone).

mod common;

use common::{load_frames, record_pyboy_every};
use gbwatch::encode::JpegEncoder;
use gbwatch::frame::Frame;
use gbwatch::pipeline::{History, HistoryOptions, PRESETS};
use gbwatch::source::decode::{decode_jpeg, JpegBackend};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ENVS: usize = 64;
const FPS: u64 = 10;
const SECONDS: u64 = 60;
const FRAMES: usize = (FPS * SECONDS) as usize;
const SEEKS: usize = 2000;
const STEP_NS: u64 = 1_000_000_000 / FPS;

struct Row {
    name: String,
    bytes_per_frame: f64,
    cpu_ns: f64,
    seek: (f64, f64),
}

/// This thread's CPU time, in ns.
fn thread_cpu_ns() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e9 + ts.tv_nsec as f64
}

/// A small deterministic random number generator (xorshift), for seek targets.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// p50 and p99 of `times` (ns), in ms.
fn percentiles(mut times: Vec<f64>) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize] / 1e6;
    (at(0.5), at(0.99))
}

/// Env `e`'s frame `i`: the recording's frames, each env starting elsewhere in them.
fn frame_of(frames: &[Vec<u8>], e: usize, i: usize, base: u64) -> Frame {
    let k = (i + e * 37) % frames.len();
    Frame {
        frame_index: k as u64,
        published_ns: None,
        captured_at: Instant::now(),
        capture_us: 0,
        captured_ns: base + i as u64 * STEP_NS,
        width: 160,
        height: 144,
        pixels: frames[k].clone(),
        content_id: k as u64 + 1,
        info: None,
        info_error: None,
    }
}

fn history_row(frames: &[Vec<u8>], keyframe_every: usize, level: i32) -> Row {
    let history = History::new(HistoryOptions {
        span: Duration::from_secs(3600),
        bytes: u64::MAX,
        keyframe_every,
        level,
        ..HistoryOptions::default()
    });
    let tracks: Vec<_> = (0..ENVS).map(|_| history.track()).collect();
    let base = gbwatch::clock::monotonic_ns();
    // Frames are made (cloned) outside the timed part: capture has them already.
    let mut cpu = 0.0;
    for i in 0..FRAMES {
        let batch: Vec<Frame> = (0..ENVS).map(|e| frame_of(frames, e, i, base)).collect();
        let t0 = thread_cpu_ns();
        for (track, f) in tracks.iter().zip(&batch) {
            track.push(f);
        }
        cpu += thread_cpu_ns() - t0;
    }
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let mut times = Vec::with_capacity(SEEKS);
    for _ in 0..SEEKS {
        let (e, i) = (rng.below(ENVS), rng.below(FRAMES));
        let t0 = Instant::now();
        let f = tracks[e].at(base + i as u64 * STEP_NS).expect("held");
        times.push(t0.elapsed().as_nanos() as f64);
        assert!(f.pixels == frame_of(frames, e, i, base).pixels, "exact");
    }
    Row {
        name: format!("history, keyframe every {keyframe_every}, zstd {level}"),
        bytes_per_frame: history.bytes() as f64 / (ENVS * FRAMES) as f64,
        cpu_ns: cpu,
        seek: percentiles(times),
    }
}

fn raw_row(frames: &[Vec<u8>]) -> Row {
    // One env's ring; 64 rings cost 64 times as much of everything.
    let mut ring: Vec<Vec<u8>> = (0..FRAMES).map(|_| vec![0u8; 160 * 144 * 4]).collect();
    let t0 = thread_cpu_ns();
    for i in 0..FRAMES {
        ring[i].copy_from_slice(&frames[i % frames.len()]);
    }
    let cpu = (thread_cpu_ns() - t0) * ENVS as f64;
    let mut rng = Rng(7);
    let mut out = vec![0u8; 160 * 144 * 4];
    let times = (0..SEEKS)
        .map(|_| {
            let i = rng.below(FRAMES);
            let t0 = Instant::now();
            out.copy_from_slice(&ring[i]);
            t0.elapsed().as_nanos() as f64
        })
        .collect();
    std::hint::black_box(&out);
    Row {
        name: "ring of raw RGBA".into(),
        bytes_per_frame: (160 * 144 * 4) as f64,
        cpu_ns: cpu,
        seek: percentiles(times),
    }
}

fn jpeg_row(frames: &[Vec<u8>]) -> Row {
    let medium = &PRESETS[1];
    let mut enc = JpegEncoder::new(gbwatch::encode::Backend::best());
    let mut ring: Vec<Arc<Vec<u8>>> = Vec::with_capacity(FRAMES);
    let t0 = thread_cpu_ns();
    for i in 0..FRAMES {
        let f = &frames[i % frames.len()];
        let (jpeg, _) = enc
            .encode_scaled(f, 160, 144, medium.scale as usize, medium.quality)
            .expect("encode");
        ring.push(Arc::new(jpeg));
    }
    let cpu = (thread_cpu_ns() - t0) * ENVS as f64;
    let bytes: usize = ring.iter().map(|j| j.len()).sum();
    let mut rng = Rng(11);
    let times = (0..SEEKS)
        .map(|_| {
            let j = &ring[rng.below(FRAMES)];
            let t0 = Instant::now();
            let d = decode_jpeg(j, JpegBackend::Auto).expect("decode");
            std::hint::black_box(d);
            t0.elapsed().as_nanos() as f64
        })
        .collect();
    Row {
        name: format!(
            "ring of JPEGs at MEDIUM ({}x q{})",
            medium.scale, medium.quality
        ),
        bytes_per_frame: bytes as f64 / FRAMES as f64,
        cpu_ns: cpu,
        seek: percentiles(times),
    }
}

fn print(title: &str, rows: &[Row]) {
    println!("\n{title}");
    println!(
        "| store | bytes per held frame | 64 envs x 60 s | capture CPU, 64 envs at 10 fps (% of a core) | seek p50 | seek p99 |"
    );
    println!("|---|---|---|---|---|---|");
    let ours = &rows[0];
    for r in rows {
        let total_mb = r.bytes_per_frame * (ENVS * FRAMES) as f64 / (1 << 20) as f64;
        let cpu_pct = r.cpu_ns / (SECONDS as f64 * 1e9) * 100.0;
        println!(
            "| {} | {:.0} ({:.1}x ours) | {:.1} MB | {:.2}% | {:.3} ms | {:.3} ms |",
            r.name,
            r.bytes_per_frame,
            r.bytes_per_frame / ours.bytes_per_frame,
            total_mb,
            cpu_pct,
            r.seek.0,
            r.seek.1,
        );
    }
    let (mb, cpu, p99) = (
        ours.bytes_per_frame * (ENVS * FRAMES) as f64 / (1 << 20) as f64,
        ours.cpu_ns / (SECONDS as f64 * 1e9) * 100.0,
        ours.seek.1,
    );
    let jpeg = rows.last().expect("the JPEG ring");
    let verdict = |met: bool| if met { "met" } else { "NOT MET" };
    println!(
        "\ntargets (the default): {mb:.1} MB <= 64 MB {}; {cpu:.2}% <= 5% of a core {}; seek p99 {p99:.3} ms <= 5 ms {}; against the JPEG ring: {:.1}x fewer bytes, {:.1}x less CPU",
        verdict(mb <= 64.0),
        verdict(cpu <= 5.0),
        verdict(p99 <= 5.0),
        jpeg.bytes_per_frame / ours.bytes_per_frame,
        jpeg.cpu_ns / ours.cpu_ns,
    );
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (title, rom) in [
        (
            "busy: assets/demo.gb (scrolls every frame)",
            "assets/demo.gb",
        ),
        ("sparse: assets/demo-static.gb", "assets/demo-static.gb"),
    ] {
        let path = record_pyboy_every(&root.join(rom), FRAMES, 6, 0);
        let frames = load_frames(&path);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
        assert!(frames.len() >= FRAMES, "{} frames of {rom}", frames.len());
        let ours = HistoryOptions::default();
        let mut rows = vec![history_row(&frames, ours.keyframe_every, ours.level)];
        for (k, level) in [(8, 1), (32, 1), (16, 3)] {
            rows.push(history_row(&frames, k, level));
        }
        rows.push(raw_row(&frames));
        rows.push(jpeg_row(&frames));
        print(
            &format!(
                "{title}: {} real PyBoy frames, every 6th emulator frame",
                frames.len()
            ),
            &rows,
        );
    }
}
