//! Terminal output per frame: gbwatch's half-block renderer next to ratatui-image's
//! half-blocks and, when installed, chafa and timg in half-block mode, on the same recorded
//! PyBoy frames, at 160x72 cells.
//!
//!     cargo run --release --example bench_render            # records 300 frames itself
//!     cargo run --release --example bench_render -- FILE    # or reads a recording
//!
//! chafa and timg (`apt-get install chafa timg`) run as processes on PNG files of the same
//! frames: bytes per frame from one run per frame, CPU per frame from one run over all
//! frames (so process start-up is shared by all of them), as the child's user + system time.
//!
//! Without an argument the example runs real PyBoy (`tests/py/pyboy_publisher.py --fps 60
//! --frames 300 --save FILE`, needs .venv) and reads along, since the publisher copies
//! frames only while a reader is attached.
//! The file holds records of u64 LE frame_index + 160*144*4 RGBA bytes.

mod common;

use common::{children_cpu_us, load_frames, record_pyboy, write_pngs};
use gbwatch::tui::{ColorMode, HalfblockRenderer};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::{Rect, Size};
use ratatui::{Terminal, TerminalOptions, Viewport};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

const W: u32 = 160;
const H: u32 = 144;
const AREA: Rect = Rect::new(0, 0, 160, 72);

/// Counts what ratatui writes.
#[derive(Default, Clone)]
struct Counter(std::rc::Rc<std::cell::Cell<u64>>);

impl Write for Counter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.set(self.0.get() + b.len() as u64);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Row {
    name: String,
    bytes: Vec<u64>,
    cpu_us: Vec<f64>,
    identical: u64,
}

fn pct(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    s[((s.len() - 1) as f64 * p) as usize]
}

fn ours(frames: &[Vec<u8>], mode: ColorMode) -> Row {
    let mut r = HalfblockRenderer::new(mode);
    let mut out = Vec::with_capacity(1 << 20);
    r.render(&frames[0], W, H, 1, AREA, 1, false, &mut out);
    let (mut bytes, mut cpu) = (Vec::new(), Vec::new());
    for (i, f) in frames.iter().enumerate().skip(1) {
        out.clear();
        let t = Instant::now();
        let n = r.render(f, W, H, i as u64 + 1, AREA, 1, false, &mut out);
        cpu.push(t.elapsed().as_secs_f64() * 1e6);
        bytes.push(n as u64);
    }
    // The same pixels again under a new content id: compared cell by cell.
    out.clear();
    let last = frames.last().unwrap();
    let identical = r.render(last, W, H, u64::MAX, AREA, 1, false, &mut out) as u64;
    Row {
        name: format!("gbwatch half-blocks, {}", mode.name()),
        bytes,
        cpu_us: cpu,
        identical,
    }
}

#[allow(deprecated)]
fn ratatui_image(frames: &[Vec<u8>]) -> Row {
    use ratatui_image::picker::Picker;
    // One pixel per column, two per row: the frame fills 160x72 cells as ours does.
    let picker = Picker::from_fontsize((1, 2).into());
    let counter = Counter::default();
    let mut term = Terminal::with_options(
        CrosstermBackend::new(counter.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(AREA),
        },
    )
    .unwrap();
    let draw = |term: &mut Terminal<CrosstermBackend<Counter>>, f: &[u8]| {
        let img = image::RgbaImage::from_raw(W, H, f.to_vec()).unwrap();
        let proto = picker
            .new_protocol(
                image::DynamicImage::ImageRgba8(img),
                Size::new(AREA.width, AREA.height),
                ratatui_image::Resize::Fit(None),
            )
            .unwrap();
        let before = counter.0.get();
        term.draw(|fr| fr.render_widget(ratatui_image::Image::new(&proto), AREA))
            .unwrap();
        counter.0.get() - before
    };
    draw(&mut term, &frames[0]);
    let (mut bytes, mut cpu) = (Vec::new(), Vec::new());
    for f in frames.iter().skip(1) {
        let t = Instant::now();
        let n = draw(&mut term, f);
        cpu.push(t.elapsed().as_secs_f64() * 1e6);
        bytes.push(n);
    }
    let identical = draw(&mut term, frames.last().unwrap());
    Row {
        name: "ratatui-image half-blocks (no chafa)".into(),
        bytes,
        cpu_us: cpu,
        identical,
    }
}

fn main() {
    let path = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let rom = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/demo.gb");
            record_pyboy(&rom, 300)
        });
    let frames = load_frames(&path);
    assert!(
        frames.len() >= 2,
        "need at least 2 frames in {}",
        path.display()
    );
    // How busy the sequence is: share of cells whose two pixels changed frame to frame.
    let mut changed = 0usize;
    for pair in frames.windows(2) {
        for cy in 0..72usize {
            for x in 0..160usize {
                let a = |f: &[u8], y: usize| -> [u8; 3] {
                    let i = (y * 160 + x) * 4;
                    [f[i], f[i + 1], f[i + 2]]
                };
                if a(&pair[0], 2 * cy) != a(&pair[1], 2 * cy)
                    || a(&pair[0], 2 * cy + 1) != a(&pair[1], 2 * cy + 1)
                {
                    changed += 1;
                }
            }
        }
    }
    let share = changed as f64 * 100.0 / ((frames.len() - 1) * 160 * 72) as f64;
    println!(
        "{} frames of {}x{} at 160x72 cells; {share:.0}% of cells change per frame",
        frames.len(),
        W,
        H
    );
    let mut rows = vec![
        ours(&frames, ColorMode::Ansi256),
        ours(&frames, ColorMode::TrueColor),
        ratatui_image(&frames),
    ];
    let pngs = write_pngs(&frames, 1, "render");
    let chafa = |colors: &'static str| {
        let size = ["--size", "160x72", "--colors", colors];
        [&["--format", "symbols", "--symbols", "vhalf"][..], &size].concat()
    };
    let peers = [
        ("chafa half-blocks, 256 colours", "chafa", chafa("256")),
        ("chafa half-blocks, truecolour", "chafa", chafa("full")),
        (
            "timg half-blocks, 256 colours",
            "timg",
            vec!["-g160x72", "-ph", "--color8"],
        ),
        (
            "timg half-blocks, truecolour",
            "timg",
            vec!["-g160x72", "-ph"],
        ),
    ];
    for (name, program, args) in peers {
        match peer(name, program, &args, &pngs) {
            Some(row) => rows.push(row),
            None => println!("({program} not installed: its rows are left out)"),
        }
    }
    println!();
    println!(
        "| renderer | KB/frame mean | KB/frame p99 | CPU µs/frame p50 | CPU µs/frame p99 | identical frame, bytes |"
    );
    println!("|---|---|---|---|---|---|");
    for row in rows {
        let b: Vec<f64> = row.bytes.iter().map(|&b| b as f64 / 1000.0).collect();
        let mean = b.iter().sum::<f64>() / b.len() as f64;
        let cpu = if row.cpu_us.len() == 1 {
            format!("{:.0} (mean) | - ", row.cpu_us[0])
        } else {
            format!(
                "{:.0} | {:.0} ",
                pct(&row.cpu_us, 0.5),
                pct(&row.cpu_us, 0.99)
            )
        };
        println!(
            "| {} | {:.1} | {:.1} | {cpu}| {} |",
            row.name,
            mean,
            pct(&b, 0.99),
            row.identical
        );
    }
    let _ = std::fs::remove_dir_all(pngs[0].parent().unwrap());
}

/// A command-line renderer: each frame alone for its bytes, all frames in one run for CPU.
fn peer(name: &str, program: &str, args: &[&str], pngs: &[PathBuf]) -> Option<Row> {
    let run = |files: &[PathBuf]| {
        std::process::Command::new(program)
            .args(args)
            .args(files)
            .env("TERM", "xterm-256color")
            .stderr(std::process::Stdio::null())
            .output()
    };
    let first = run(&pngs[..1]).ok()?;
    assert!(first.status.success(), "{program} failed");
    // Frame 0 is only drawn, as for the other renderers.
    let bytes: Vec<u64> = pngs[1..]
        .iter()
        .map(|p| run(std::slice::from_ref(p)).unwrap().stdout.len() as u64)
        .collect();
    let before = children_cpu_us();
    let all = run(&pngs[1..]).unwrap();
    assert!(all.status.success(), "{program} failed");
    let cpu = (children_cpu_us() - before) / (pngs.len() - 1) as f64;
    Some(Row {
        name: name.to_string(),
        identical: *bytes.last().unwrap(),
        bytes,
        cpu_us: vec![cpu],
    })
}
