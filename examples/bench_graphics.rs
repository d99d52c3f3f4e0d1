//! Terminal graphics per frame: bytes and CPU of gbwatch's half-blocks, sixel and kitty
//! (whole frames and deltas) on 300 real PyBoy frames of a busy scene (the built-in demo
//! recording's busiest window) and of a sparse one (PyBoy running `assets/demo-static.gb`
//! now, needs .venv), next to timg, chafa and img2sixel in kitty and sixel modes on the same
//! frames; then the pixels each env of a 64-env grid gets.
//!
//!     cargo run --release --example bench_graphics
//!
//! The layout is a 160x50-cell terminal of 10x20-pixel cells with the picture in 160x48
//! cells; MEDIUM allows 2x, ULTRA 4x. The peers get PNG files already scaled to the
//! picture size (nearest neighbour) and run once per frame for bytes and once over all
//! frames for CPU (user + system of the child, so start-up is shared); a missing peer is
//! reported and its rows left out.

mod common;

use common::{children_cpu_us, load_frames, record_pyboy, write_pngs};
use gbwatch::source::recording::{RecordingReader, DEMO_RECORDING};
use gbwatch::tui::graphics::caps::{KittyMode, Placement};
use gbwatch::tui::graphics::kitty::{KittyImage, KittyOptions, PixelData, Rects};
use gbwatch::tui::graphics::sixel::SixelEncoder;
use gbwatch::tui::graphics::{fit_cells, fit_pixels};
use gbwatch::tui::{ColorMode, HalfblockRenderer};
use ratatui::layout::Rect;
use std::path::PathBuf;
use std::time::Instant;

const W: u32 = 160;
const H: u32 = 144;
const N: usize = 300;
const CELL: (u16, u16) = (10, 20);
const AREA: Rect = Rect::new(0, 1, 160, 48);

/// A peer run: row name, program, arguments, input files, whether it writes sixel.
type Peer<'a> = (&'a str, &'a str, Vec<&'a str>, &'a Vec<PathBuf>, bool);

struct Row {
    name: String,
    bytes: Vec<f64>,
    cpu_us: Vec<f64>,
    note: String,
}

fn pct(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    s[((s.len() - 1) as f64 * p).round() as usize]
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Every frame of the demo recording.
fn demo() -> Vec<Vec<u8>> {
    let mut r = RecordingReader::from_bytes(DEMO_RECORDING).unwrap();
    let mut out = Vec::new();
    while let Some(f) = r.next_frame().unwrap() {
        out.push(f.pixels.to_vec());
    }
    out
}

fn changed_share(a: &[u8], b: &[u8]) -> f64 {
    let n = a
        .chunks_exact(4)
        .zip(b.chunks_exact(4))
        .filter(|(x, y)| x != y)
        .count();
    n as f64 / (W * H) as f64
}

/// The two scenes: the busiest 300-frame window of the demo recording, and 300 frames of
/// real PyBoy running `assets/demo-static.gb` (a text box whose text changes every 120
/// frames), each with its name.
fn scenes(all: &[Vec<u8>]) -> [(String, Vec<Vec<u8>>); 2] {
    let share = |frames: &[Vec<u8>]| {
        mean(
            &frames
                .windows(2)
                .map(|p| changed_share(&p[0], &p[1]))
                .collect::<Vec<_>>(),
        )
    };
    let mut busy = (0, -1.0);
    for start in (0..all.len().saturating_sub(N)).step_by(10) {
        let m = share(&all[start..start + N]);
        if m > busy.1 {
            busy = (start, m);
        }
    }
    let rom = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo-static.gb");
    let sparse = load_frames(&record_pyboy(&rom, N + 1));
    let sparse = sparse[1..].to_vec();
    [
        (
            format!(
                "busy (demo frames {}-{}, {:.1}% of pixels change per frame)",
                busy.0,
                busy.0 + N - 1,
                busy.1 * 100.0
            ),
            all[busy.0..busy.0 + N].to_vec(),
        ),
        (
            format!(
                "sparse (assets/demo-static.gb in PyBoy, {N} frames, {:.2}% of pixels change per frame)",
                share(&sparse) * 100.0
            ),
            sparse,
        ),
    ]
}

fn halfblocks(frames: &[Vec<u8>], scale: u32) -> Row {
    let mut r = HalfblockRenderer::new(ColorMode::Ansi256);
    let mut out = Vec::with_capacity(1 << 20);
    let (mut bytes, mut cpu) = (Vec::new(), Vec::new());
    r.render(&frames[0], W, H, 1, AREA, scale, false, &mut out);
    for (i, f) in frames.iter().enumerate().skip(1) {
        out.clear();
        let t = Instant::now();
        let n = r.render(f, W, H, i as u64 + 1, AREA, scale, false, &mut out);
        cpu.push(t.elapsed().as_secs_f64() * 1e6);
        bytes.push(n as f64);
    }
    Row {
        name: "gbwatch half-blocks, 256 colours".into(),
        bytes,
        cpu_us: cpu,
        note: String::new(),
    }
}

/// Every frame in sixel; with `skip_unchanged`, a frame equal to the one before costs
/// nothing, as in `gbwatch watch`.
fn sixel(frames: &[Vec<u8>], scale: u32, skip_unchanged: bool) -> Row {
    let place = fit_pixels(W, H, AREA, CELL, scale).unwrap();
    let mut enc = SixelEncoder::new();
    let mut out = Vec::with_capacity(1 << 20);
    let (mut bytes, mut cpu) = (Vec::new(), Vec::new());
    for (i, f) in frames.iter().enumerate().skip(1) {
        out.clear();
        let t = Instant::now();
        let n = if skip_unchanged && *f == frames[i - 1] {
            0
        } else {
            enc.encode_at(f, W, H, place, &mut out).unwrap()
        };
        cpu.push(t.elapsed().as_secs_f64() * 1e6);
        bytes.push(n as f64);
    }
    Row {
        name: if skip_unchanged {
            "  sixel, unchanged frames skipped (as watch draws)".into()
        } else {
            "gbwatch sixel".into()
        },
        bytes,
        cpu_us: cpu,
        note: format!("{}x{} px", place.width, place.height),
    }
}

fn kitty(frames: &[Vec<u8>], scale: u32, animation: bool, opts: KittyOptions, name: &str) -> Row {
    let place = fit_cells(W, H, AREA, CELL, scale).unwrap();
    let mode = KittyMode {
        placement: Placement::Classic,
        animation,
        deflate: true,
        tmux: false,
    };
    let mut img = KittyImage::new(1, mode, opts);
    let mut out = Vec::with_capacity(1 << 20);
    img.encode(&frames[0], W, H, place, &mut out).unwrap();
    let (mut bytes, mut cpu) = (Vec::new(), Vec::new());
    for f in frames.iter().skip(1) {
        out.clear();
        let t = Instant::now();
        img.encode(f, W, H, place, &mut out).unwrap();
        cpu.push(t.elapsed().as_secs_f64() * 1e6);
        bytes.push(out.len() as f64);
    }
    Row {
        name: name.into(),
        bytes,
        cpu_us: cpu,
        note: format!("{}x{} cells", place.cols, place.rows),
    }
}

/// The size a sixel image declares (`"1;1;W;H`), as "WxH px".
fn sixel_size(out: &[u8]) -> String {
    let Some(p) = out.windows(5).position(|w| w == b"\"1;1;") else {
        return "size not declared".into();
    };
    let rest = &out[p + 5..];
    let end = rest
        .iter()
        .position(|b| !(b.is_ascii_digit() || *b == b';'))
        .unwrap_or(0);
    let s = String::from_utf8_lossy(&rest[..end]).replace(';', "x");
    format!("{s} px")
}

/// A command-line peer: each frame alone for its bytes, all frames in one run for CPU.
fn peer(name: &str, program: &str, args: &[&str], pngs: &[PathBuf], sixel: bool) -> Option<Row> {
    let run = |files: &[PathBuf]| {
        std::process::Command::new(program)
            .args(args)
            .args(files)
            .env("TERM", "xterm-256color")
            .stderr(std::process::Stdio::null())
            .output()
    };
    let first = run(&pngs[..1]).ok()?;
    if !first.status.success() {
        println!("({program} {} failed: its row is left out)", args.join(" "));
        return None;
    }
    let mut note = String::new();
    let bytes: Vec<f64> = pngs[1..]
        .iter()
        .map(|p| {
            let out = run(std::slice::from_ref(p)).unwrap().stdout;
            if sixel && note.is_empty() {
                note = sixel_size(&out);
            }
            out.len() as f64
        })
        .collect();
    let before = children_cpu_us();
    let all = run(&pngs[1..]).unwrap();
    assert!(all.status.success(), "{program} failed");
    let cpu = (children_cpu_us() - before) / (pngs.len() - 1) as f64;
    Some(Row {
        name: name.into(),
        bytes,
        cpu_us: vec![cpu],
        note,
    })
}

fn print(rows: &[Row]) {
    println!("| renderer | picture | KB/frame mean | KB/frame p99 | CPU µs/frame p50 | CPU µs/frame p99 |");
    println!("|---|---|---|---|---|---|");
    for r in rows {
        let b: Vec<f64> = r.bytes.iter().map(|b| b / 1000.0).collect();
        let cpu = if r.cpu_us.len() == 1 {
            format!("{:.0} (mean) | -", r.cpu_us[0])
        } else {
            format!("{:.0} | {:.0}", pct(&r.cpu_us, 0.5), pct(&r.cpu_us, 0.99))
        };
        println!(
            "| {} | {} | {:.2} | {:.2} | {cpu} |",
            r.name,
            r.note,
            mean(&b),
            pct(&b, 0.99)
        );
    }
}

fn main() {
    let all = demo();
    assert!(all.len() > N + 10, "the demo has {} frames", all.len());
    let peers_every: usize = std::env::var("GBWATCH_BENCH_PEER_EVERY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    println!(
        "{} demo frames; layout 160x50 cells of 10x20 px, picture area 160x48 cells; peers on every {peers_every}th frame of each scene (GBWATCH_BENCH_PEER_EVERY)",
        all.len()
    );
    let mut verdicts = Vec::new();
    for (scene, frames) in scenes(&all) {
        let frames = &frames[..];
        let tag = if scene.starts_with("busy") {
            "busy"
        } else {
            "sparse"
        };
        let sample: Vec<Vec<u8>> = frames.iter().step_by(peers_every).cloned().collect();
        for (preset, scale) in [("MEDIUM", 2u32), ("ULTRA", 4)] {
            println!();
            println!("### {scene}, {preset} ({scale}x)");
            println!();
            let delta = kitty(
                frames,
                scale,
                true,
                KittyOptions::default(),
                "gbwatch kitty deltas (indexed PNG)",
            );
            let six = sixel(frames, scale, false);
            let mut rows = vec![
                halfblocks(frames, scale),
                six,
                sixel(frames, scale, true),
                kitty(
                    frames,
                    scale,
                    false,
                    KittyOptions::default(),
                    "gbwatch kitty whole frames",
                ),
                delta,
            ];
            if preset == "MEDIUM" {
                for (opts, name) in [
                    (
                        KittyOptions {
                            rects: Rects::One,
                            ..Default::default()
                        },
                        "  deltas, one rectangle",
                    ),
                    (
                        KittyOptions {
                            level: 9,
                            ..Default::default()
                        },
                        "  deltas, PNG level 9",
                    ),
                    (
                        KittyOptions {
                            pixels: PixelData::Rgb,
                            ..Default::default()
                        },
                        "  deltas, RGB (f=24, o=z)",
                    ),
                    (
                        KittyOptions {
                            pixels: PixelData::Rgba,
                            ..Default::default()
                        },
                        "  deltas, RGBA (f=32, o=z)",
                    ),
                    (
                        KittyOptions {
                            pixels: PixelData::Rgb,
                            level: 1,
                            ..Default::default()
                        },
                        "  deltas, RGB, zlib level 1",
                    ),
                    (
                        KittyOptions {
                            pixels: PixelData::Rgb,
                            level: 9,
                            ..Default::default()
                        },
                        "  deltas, RGB, zlib level 9",
                    ),
                ] {
                    rows.push(kitty(frames, scale, true, opts, name));
                }
            }
            let six_pngs = write_pngs(&sample, scale, tag);
            let native_pngs = write_pngs(&sample, 1, tag);
            let g = format!("-g{}x{}", 400, 200);
            let peers: Vec<Peer> = vec![
                ("timg sixel", "timg", vec!["-ps", &g], &six_pngs, true),
                (
                    "chafa sixel",
                    "chafa",
                    vec!["-f", "sixels", "--size", "400x200", "--scale", "1"],
                    &six_pngs,
                    true,
                ),
                ("img2sixel", "img2sixel", vec![], &six_pngs, true),
                ("timg kitty", "timg", vec!["-pk", &g], &native_pngs, false),
                (
                    "chafa kitty",
                    "chafa",
                    vec!["-f", "kitty", "--size", "32x14"],
                    &native_pngs,
                    false,
                ),
            ];
            let mut timg_sixel = None;
            for (name, program, args, pngs, is_sixel) in peers {
                match peer(name, program, &args, pngs, is_sixel) {
                    Some(row) => {
                        if name == "timg sixel" {
                            timg_sixel = Some(mean(&row.bytes));
                        }
                        rows.push(row);
                    }
                    None => println!("({program} not installed or failed: its row is left out)"),
                }
            }
            print(&rows);
            let _ = std::fs::remove_dir_all(six_pngs[0].parent().unwrap());
            let _ = std::fs::remove_dir_all(native_pngs[0].parent().unwrap());
            let by_name = |n: &str| rows.iter().find(|r| r.name == n).expect(n);
            let d = mean(&by_name("gbwatch kitty deltas (indexed PNG)").bytes);
            if preset == "MEDIUM" {
                let target = if tag == "busy" { 3000.0 } else { 1000.0 };
                verdicts.push(format!(
                    "{tag} MEDIUM kitty deltas {:.2} KB/frame (target <= {:.0} KB): {}",
                    d / 1000.0,
                    target / 1000.0,
                    if d <= target { "met" } else { "NOT met" }
                ));
            }
            let s = mean(&by_name("gbwatch sixel").bytes);
            if let Some(t) = timg_sixel {
                verdicts.push(format!(
                    "{tag} {preset} sixel {:.1} KB vs timg {:.1} KB: {}",
                    s / 1000.0,
                    t / 1000.0,
                    if s <= t { "met" } else { "NOT met" }
                ));
            }
            if preset == "ULTRA" {
                let worst = rows[..5]
                    .iter()
                    .map(|r| pct(&r.bytes, 1.0))
                    .fold(0.0, f64::max);
                verdicts.push(format!(
                    "{tag} ULTRA every gbwatch protocol <= 60 KB/frame (max {:.1} KB): {}",
                    worst / 1000.0,
                    if worst <= 60_000.0 { "met" } else { "NOT met" }
                ));
            }
        }
    }
    grid();
    println!();
    for v in verdicts {
        println!("- {v}");
    }
}

/// Pixels each env's picture gets in the 64-env grid at 200x60 cells of 10x20 px.
fn grid() {
    let (cols, rows) = gbwatch::tui::geometry::grid_shape(64, 200, 59);
    let (tw, th) = (200 / cols as u16, 59 / rows as u16);
    let inner = Rect::new(0, 0, tw - 2, th - 2);
    let (hw, hh) = gbwatch::tui::halfblock::fit(W, H, inner.width, inner.height, 8);
    let half_px = hw as u64 * (hh as u64 * 2).min(hh as u64 * 2);
    let k = fit_cells(W, H, inner, CELL, 8).unwrap();
    let gfx_px = (k.cols as u64 * CELL.0 as u64) * (k.rows as u64 * CELL.1 as u64);
    let native = (W * H) as u64;
    println!();
    println!(
        "### 64-env grid, 200x60 cells of 10x20 px: {cols}x{rows} tiles of {tw}x{th} cells ({}x{} inside the border)",
        inner.width, inner.height
    );
    println!();
    println!("| renderer | picture per env | pixels per env | share of the frame's {native} native pixels |");
    println!("|---|---|---|---|");
    println!(
        "| half-blocks | {hw}x{} px ({hw}x{hh} cells) | {half_px} | {:.0}% |",
        hh * 2,
        half_px as f64 * 100.0 / native as f64
    );
    println!(
        "| kitty / sixel | {}x{} px ({}x{} cells) | {gfx_px} | {:.0}% |",
        k.cols as u32 * CELL.0 as u32,
        k.rows as u32 * CELL.1 as u32,
        k.cols,
        k.rows,
        (gfx_px.min(native)) as f64 * 100.0 / native as f64
    );
}
