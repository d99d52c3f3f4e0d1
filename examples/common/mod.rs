//! Helpers the benchmark examples share: the Python with PyBoy, peers' PNG input and their
//! CPU time. Each example uses some of them.
#![allow(dead_code)]

use gbwatch::pipeline::{FeedOptions, FeedSet, SharedSettings};
use gbwatch::source::SourceSpec;
use std::path::{Path, PathBuf};

/// Width of a Game Boy frame, in pixels.
const W: u32 = 160;
/// Height of a Game Boy frame, in pixels.
const H: u32 = 144;

/// The Python with PyBoy: `$GBWATCH_PYTHON`, else `.venv/bin/python`; when neither exists,
/// one line saying how to get it, and exit status 1 (no panic, no backtrace).
pub fn python() -> PathBuf {
    let p = std::env::var_os("GBWATCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    if !p.exists() {
        eprintln!(
            "{}: no Python with PyBoy at {}: run `bash tests/run-all.sh` (it creates .venv) or set GBWATCH_PYTHON",
            env!("CARGO_CRATE_NAME"),
            p.display()
        );
        std::process::exit(1);
    }
    p
}

/// The 160x144 RGBA frames as RGB PNG files scaled `k`x (nearest neighbour), the input the
/// command-line peers take, in a temporary folder named after `tag`.
pub fn write_pngs(frames: &[Vec<u8>], k: u32, tag: &str) -> Vec<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "gbwatch-bench-png-{}-{tag}-{k}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (w, h) = ((W * k) as usize, (H * k) as usize);
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let path = dir.join(format!("{i:04}.png"));
            let mut rgb = Vec::with_capacity(w * h * 3);
            for y in 0..h {
                for x in 0..w {
                    let s = ((y / k as usize) * W as usize + x / k as usize) * 4;
                    rgb.extend_from_slice(&f[s..s + 3]);
                }
            }
            let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
            let mut enc = png::Encoder::new(file, w as u32, h as u32);
            enc.set_color(png::ColorType::Rgb);
            enc.write_header().unwrap().write_image_data(&rgb).unwrap();
            path
        })
        .collect()
}

/// User + system CPU time of this process's waited-for children so far, in µs.
pub fn children_cpu_us() -> f64 {
    // SAFETY: rusage is plain data, for which all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    us(usage.ru_utime) + us(usage.ru_stime)
}

/// Bytes of one 160x144 RGBA frame.
const FRAME_BYTES: usize = (W * H * 4) as usize;

/// Records `frames` frames of real PyBoy running `rom` at 60 fps
/// (`tests/py/pyboy_publisher.py --save`) into a file of u64 LE frame_index + RGBA records;
/// returns its path. A reader is attached meanwhile, as the publisher copies only then.
pub fn record_pyboy(rom: &Path, frames: usize) -> PathBuf {
    record_pyboy_every(rom, frames, 1, 60)
}

/// [`record_pyboy`] keeping every `tick`-th emulator frame (6: what a 10 fps capture of a
/// 60 fps game sees), published at `fps` (0: as fast as PyBoy runs).
pub fn record_pyboy_every(rom: &Path, frames: usize, tick: u32, fps: u32) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "gbwatch-bench-{}-{}-{tick}",
        std::process::id(),
        rom.file_stem().unwrap().to_string_lossy()
    ));
    let file = dir.join("frames.bin");
    std::fs::create_dir_all(&dir).unwrap();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut child = std::process::Command::new(python())
        .arg(root.join("tests/py/pyboy_publisher.py"))
        .args([
            "--dir",
            dir.to_str().unwrap(),
            "--name",
            "rec",
            "--fps",
            &fps.to_string(),
            "--tick",
            &tick.to_string(),
        ])
        .arg("--rom")
        .arg(rom)
        .args([
            "--frames",
            &frames.to_string(),
            "--save",
            file.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run tests/py/pyboy_publisher.py (needs .venv: bash tests/run-all.sh)");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let set = FeedSet::start(
        vec![SourceSpec::SlotDir(dir.clone())],
        SharedSettings::default(),
        FeedOptions::default(),
    );
    let status = child.wait().unwrap();
    set.stop();
    assert!(status.success(), "publisher failed");
    file
}

/// The RGBA frames of a file [`record_pyboy`] wrote.
pub fn load_frames(path: &Path) -> Vec<Vec<u8>> {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    data.chunks_exact(8 + FRAME_BYTES)
        .map(|r| r[8..].to_vec())
        .collect()
}

/// A child process killed (and reaped) when this is dropped.
pub struct Kill(pub std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cmd` (a helper of tests/py that prints "ready" once set up) with its standard
/// output piped, and waits for that line.
pub fn start_ready(cmd: &mut std::process::Command, what: &str) -> Kill {
    use std::io::BufRead;
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {what}: {e}"));
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("ready"), "{what} did not start: {line:?}");
    Kill(child)
}

/// The value after `--name` on the command line, or `default`.
pub fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}
