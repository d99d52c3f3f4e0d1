//! Scale + JPEG encode per preset on real PyBoy frames: gbwatch's backends next to Pillow on
//! the same frames in the same run.
//!
//!     cargo run --release --features turbojpeg --example bench_encode
//!
//! Frames come from real PyBoy running assets/demo.gb (tests/py/pyboy_publisher.py --save),
//! or from a file given as the first argument. Python: $GBWATCH_PYTHON or .venv/bin/python.

mod common;

use common::python;
use gbwatch::encode::{scale_rgba, Backend, JpegCache};
use gbwatch::frame::Frame;
use gbwatch::pipeline::PRESETS;
use gbwatch::source::decode::{decode_jpeg, JpegBackend};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const W: u32 = 160;
const H: u32 = 144;

fn record_frames(path: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("gbwatch-bench-{}", std::process::id()));
    let status = Command::new(python())
        .arg(root.join("tests/py/pyboy_publisher.py"))
        .args([
            "--dir",
            dir.to_str().unwrap(),
            "--name",
            "bench",
            "--fps",
            "0",
            "--frames",
            "300",
        ])
        .arg("--save")
        .arg(path)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run PyBoy (bash tests/run-all.sh sets up .venv)");
    assert!(status.success());
    let _ = std::fs::remove_dir_all(dir);
}

fn load(path: &Path) -> Vec<Frame> {
    let bytes = std::fs::read(path).unwrap();
    let rec = 8 + (W * H * 4) as usize;
    bytes
        .chunks_exact(rec)
        .enumerate()
        .map(|(i, r)| Frame {
            frame_index: u64::from_le_bytes(r[..8].try_into().unwrap()),
            published_ns: None,
            captured_at: Instant::now(),
            capture_us: 0,
            captured_ns: 0,
            width: W,
            height: H,
            pixels: r[8..].to_vec(),
            content_id: i as u64 + 1,
            info: None,
            info_error: None,
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Median µs per frame, mean JPEG bytes and the PSNR of every 5th JPEG (decoded by
/// zune-jpeg) against the frame scaled by nearest neighbour.
fn time_backend(backend: Backend, frames: &[Frame], scale: u32, quality: u8) -> (f64, f64, f64) {
    let mut cache = JpegCache::new(backend);
    let mut times = Vec::new();
    let mut bytes = 0usize;
    let mut jpegs = Vec::new();
    for pass in 0..2 {
        times.clear();
        jpegs.clear();
        bytes = 0;
        for f in frames {
            // A distinct content id per pass, so nothing is served from the cache.
            let mut f = f.clone();
            f.content_id += pass * 1_000_000;
            let t = Instant::now();
            let jpeg = cache.encode(&f, scale, quality, None).unwrap();
            times.push(t.elapsed().as_secs_f64() * 1e6);
            bytes += jpeg.jpeg.len();
            jpegs.push(jpeg.jpeg);
        }
    }
    let (mut err, mut n) = (0f64, 0usize);
    let mut scaled = Vec::new();
    for (f, jpeg) in frames.iter().zip(&jpegs).step_by(5) {
        scale_rgba(
            &f.pixels,
            W as usize,
            H as usize,
            scale as usize,
            &mut scaled,
        );
        let img = decode_jpeg(jpeg, JpegBackend::Zune).unwrap();
        for (a, b) in scaled.chunks_exact(4).zip(img.pixels.chunks_exact(3)) {
            for c in 0..3 {
                err += (a[c] as f64 - b[c] as f64).powi(2);
            }
            n += 3;
        }
    }
    let psnr = 10.0 * (255f64.powi(2) / (err / n as f64)).log10();
    (median(times), bytes as f64 / frames.len() as f64, psnr)
}

fn pillow(path: &Path, scale: u32, quality: u8) -> (f64, f64, f64, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(python())
        .arg(root.join("examples/pillow_encode.py"))
        .arg(path)
        .args([scale.to_string(), quality.to_string()])
        .output()
        .expect("run Pillow");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        v["median_us"].as_f64().unwrap(),
        v["mean_bytes"].as_f64().unwrap(),
        v["psnr"].as_f64().unwrap(),
        v["pillow"].as_str().unwrap_or("").to_string(),
    )
}

fn main() {
    let path = match std::env::args().nth(1) {
        Some(p) => PathBuf::from(p),
        None => {
            let p = std::env::temp_dir()
                .join(format!("gbwatch-bench-frames-{}.bin", std::process::id()));
            record_frames(&p);
            p
        }
    };
    let frames = load(&path);
    // The default backend first; jpeg-encoder (the previous default) beside it.
    let mut backends = vec![Backend::Gbwatch, Backend::JpegEncoder];
    if Backend::best() != Backend::Gbwatch {
        backends.push(Backend::best());
    }
    println!(
        "scale + JPEG per frame, median of {} real PyBoy frames (demo.gb), 4:2:0; \
         PSNR of every 5th frame against the nearest-neighbour upscale",
        frames.len()
    );
    let mut header = "| preset |".to_string();
    for b in &backends {
        header += &format!(" {} |", b.name());
    }
    header += " Pillow |";
    for b in &backends {
        header += &format!(" {} / Pillow |", b.name());
    }
    header += " size: gbwatch / jpeg-encoder / Pillow | PSNR: gbwatch / jpeg-encoder / Pillow |";
    println!("{header}");
    println!("|{}", "---|".repeat(4 + 2 * backends.len()));
    let mut pillow_version = String::new();
    // Worst ratio per backend, checked against the targets below.
    let mut worst = vec![0f64; backends.len()];
    for p in PRESETS {
        let ours: Vec<(f64, f64, f64)> = backends
            .iter()
            .map(|b| time_backend(*b, &frames, p.scale, p.quality))
            .collect();
        let (pil_us, pil_bytes, pil_psnr, version) = pillow(&path, p.scale, p.quality);
        pillow_version = version;
        let mut row = format!("| {} {}x q{} |", p.name.to_uppercase(), p.scale, p.quality);
        for (us, _, _) in &ours {
            row += &format!(" {us:.0} µs |");
        }
        row += &format!(" {pil_us:.0} µs |");
        for (i, (us, _, _)) in ours.iter().enumerate() {
            row += &format!(" {:.2}x |", us / pil_us);
            worst[i] = worst[i].max(us / pil_us);
        }
        row += &format!(
            " {:.1} / {:.1} / {:.1} KB | {:.2} / {:.2} / {:.2} dB |",
            ours[0].1 / 1024.0,
            ours[1].1 / 1024.0,
            pil_bytes / 1024.0,
            ours[0].2,
            ours[1].2,
            pil_psnr
        );
        println!("{row}");
    }
    println!("Pillow {pillow_version}");
    for (b, worst) in backends.iter().zip(worst) {
        let target = match b {
            Backend::Gbwatch => 1.5,
            Backend::JpegEncoder => continue,
            #[allow(unreachable_patterns)]
            _ => 1.0,
        };
        let verdict = if worst <= target { "met" } else { "MISSED" };
        println!(
            "target {}: <= {target:.1}x Pillow at every preset, worst {worst:.2}x: {verdict}",
            b.name()
        );
    }
    if std::env::args().nth(1).is_none() {
        let _ = std::fs::remove_file(path);
    }
}
