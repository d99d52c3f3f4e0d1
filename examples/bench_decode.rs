//! JPEG decode cost on the project's own frames: real PyBoy frames of assets/demo.gb, encoded
//! by gbwatch's encoder at each preset's scale and quality, decoded by each decoder.
//!
//!     cargo run --release --example bench_decode [-- FRAMES_FILE]
//!     cargo run --release --features turbojpeg --example bench_decode
//!
//! FRAMES_FILE holds (u64 LE frame_index, 92160 RGBA bytes) records; without it the frames are
//! made by running PyBoy ($GBWATCH_PYTHON, else .venv/bin/python). Prints a table: mean ms per
//! frame for each decoder and for Pillow (libjpeg-turbo, examples/pillow_decode.py) on the
//! same files, and each decoder's mean absolute difference from jpeg-decoder (a decoder
//! returning garbage shows up there).

use gbwatch::encode::{scale_rgba, Backend, JpegEncoder};
use gbwatch::pipeline::PRESETS;
use gbwatch::source::decode::{decode_jpeg, JpegBackend};
use std::time::Instant;

const FRAME_BYTES: usize = 160 * 144 * 4;

const MAKE_FRAMES: &str = r#"
import sys, struct
from pyboy import PyBoy
p = PyBoy(sys.argv[1], window="null", sound_emulated=False)
p.set_emulation_speed(0)
p.tick(120, True)
out = sys.stdout.buffer
for i in range(120):
    p.tick(2, True)
    out.write(struct.pack("<Q", p.frame_count))
    out.write(memoryview(p.screen.raw_buffer).cast("B"))
p.stop(save=False)
"#;

fn load_frames() -> Vec<Vec<u8>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = match std::env::args().nth(1) {
        Some(path) => std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")),
        None => {
            let python = python();
            let out = std::process::Command::new(&python)
                .args(["-c", MAKE_FRAMES])
                .arg(root.join("assets/demo.gb"))
                .stderr(std::process::Stdio::null())
                .output()
                .unwrap_or_else(|e| panic!("{}: {e}", python.display()));
            assert!(out.status.success(), "PyBoy failed");
            out.stdout
        }
    };
    data.chunks_exact(8 + FRAME_BYTES)
        .map(|r| r[8..].to_vec())
        .collect()
}

fn decoders() -> Vec<JpegBackend> {
    vec![
        JpegBackend::JpegDecoder,
        JpegBackend::Zune,
        JpegBackend::Auto,
        #[cfg(feature = "turbojpeg")]
        JpegBackend::Turbo,
    ]
}

fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    if a.len() != b.len() {
        return f64::INFINITY;
    }
    a.iter()
        .zip(b)
        .map(|(x, y)| x.abs_diff(*y) as u64)
        .sum::<u64>() as f64
        / a.len() as f64
}

fn python() -> std::path::PathBuf {
    std::env::var_os("GBWATCH_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python")
        })
}

/// Pillow's mean ms per decode of `jpegs`, timed in its own process.
fn pillow_ms(jpegs: &[Vec<u8>], passes: usize) -> f64 {
    let path = std::env::temp_dir().join(format!("gbwatch-bench-jpegs-{}", std::process::id()));
    let mut data = Vec::new();
    for j in jpegs {
        data.extend_from_slice(&(j.len() as u32).to_le_bytes());
        data.extend_from_slice(j);
    }
    std::fs::write(&path, data).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pillow_decode.py");
    let out = std::process::Command::new(python())
        .arg(script)
        .arg(&path)
        .arg(passes.to_string())
        .output()
        .expect("run Pillow (bash tests/run-all.sh sets up .venv)");
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn main() {
    let frames = load_frames();
    assert!(!frames.is_empty(), "no frames");
    println!(
        "{} PyBoy frames of assets/demo.gb, encoded by gbwatch ({}), 4:2:0",
        frames.len(),
        Backend::JpegEncoder.name()
    );
    println!();
    let names: Vec<String> = decoders().iter().map(|d| d.name().to_string()).collect();
    print!("{:<28}{:>9}", "frames", "KB/frame");
    for n in &names {
        print!("{:>18}", format!("{n} ms"));
    }
    print!("{:>12}", "Pillow ms");
    println!("   diff from jpeg-decoder");
    for p in PRESETS.iter() {
        let (preset, scale, quality) = (p.name, p.scale as usize, p.quality);
        for optimize in [false, true] {
            let w = 160 * scale;
            let h = 144 * scale;
            let jpegs: Vec<Vec<u8>> = frames
                .iter()
                .map(|f| {
                    let mut scaled = Vec::new();
                    scale_rgba(f, 160, 144, scale, &mut scaled);
                    if optimize {
                        let mut out = Vec::new();
                        let mut enc = jpeg_encoder::Encoder::new(&mut out, quality);
                        enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
                        enc.set_optimized_huffman_tables(true);
                        enc.encode(&scaled, w as u16, h as u16, jpeg_encoder::ColorType::Rgba)
                            .unwrap();
                        out
                    } else {
                        JpegEncoder::new(Backend::JpegEncoder)
                            .encode_scaled(&scaled, w, h, 1, quality)
                            .unwrap()
                            .0
                    }
                })
                .collect();
            let kb =
                jpegs.iter().map(|j| j.len()).sum::<usize>() as f64 / jpegs.len() as f64 / 1024.0;
            let reference: Vec<Vec<u8>> = jpegs
                .iter()
                .map(|j| decode_jpeg(j, JpegBackend::JpegDecoder).unwrap().pixels)
                .collect();
            let label = format!(
                "{preset} {scale}x q{quality}{}",
                if optimize { " opt-huff" } else { "" }
            );
            print!("{label:<28}{kb:>9.1}");
            let mut diffs = Vec::new();
            for d in decoders() {
                // Warm up, then time enough passes for a stable mean.
                let mut diff: f64 = 0.0;
                for (j, r) in jpegs.iter().zip(&reference) {
                    let px = decode_jpeg(j, d).map(|x| x.pixels).unwrap_or_default();
                    diff = diff.max(mean_abs_diff(&px, r));
                }
                let passes = (200 / jpegs.len()).max(1) * if scale == 1 { 5 } else { 1 };
                let start = Instant::now();
                for _ in 0..passes {
                    for j in &jpegs {
                        std::hint::black_box(decode_jpeg(j, d).ok());
                    }
                }
                let ms = start.elapsed().as_secs_f64() * 1e3 / (passes * jpegs.len()) as f64;
                print!("{:>18.3}", ms);
                diffs.push(format!("{}={diff:.1}", d.name()));
            }
            let passes = (200 / jpegs.len()).max(1) * if scale == 1 { 5 } else { 1 };
            print!("{:>12.3}", pillow_ms(&jpegs, passes));
            println!("   {}", diffs.join(" "));
        }
    }
}
