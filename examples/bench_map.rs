//! The map view's cost: 256 envs with 60 s trails over 100 000 covered positions, every env
//! stepping each frame, drawn on a 200×60 terminal; time per draw (snapshot, update, layout,
//! panels, ratatui's diff, the escape codes) and bytes per frame, next to the grid view of
//! the same 256 envs showing the built-in demo's real PyBoy frames in half-blocks. Visit
//! counts reach the map at most once a second (new positions at once), and a draw repaints
//! only the positions whose visits changed. Prints the median, p99 and slowest draw, and the
//! verdict against the target: every draw within 2 ms, no more bytes per frame than the grid.
//!
//!     cargo run --release --example bench_map [-- --frames N]

mod common;

use gbwatch::info::{Info, Scalar};
use gbwatch::pipeline::{to_frame, MapFields, Positions, WorldLayout};
use gbwatch::source::{Poll, RecordingSource, Source};
use gbwatch::tui::{layout, ColorMode, Event, FeedUpdate, HalfblockRenderer, Panels, State};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ENVS: usize = 256;
/// 4 regions of 250×100: 100 000 positions.
const REGION_W: i64 = 250;
const REGION_H: i64 = 100;
const AREA: Rect = Rect::new(0, 0, 200, 60);

/// Counts what is written.
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

fn at(region: i64, x: i64, y: i64) -> Info {
    let mut i = Info::new();
    i.push("x", Scalar::Int(x)).unwrap();
    i.push("y", Scalar::Int(y)).unwrap();
    i.push("map", Scalar::Int(region)).unwrap();
    i
}

/// Position `k` of the world's raster, region by region.
fn cell(k: i64) -> (i64, i64, i64) {
    let per = REGION_W * REGION_H;
    let (r, rest) = (k / per % 4, k % per);
    (r, rest % REGION_W, rest / REGION_W)
}

/// Every position of the world visited once, env by env, the last 60 s of each env's walk
/// within its trail; returns the tracker and the clock after the walk.
fn covered() -> (Positions, Instant) {
    let p = Positions::new(MapFields::default(), Duration::from_secs(60));
    let t0 = Instant::now();
    let total = 4 * REGION_W * REGION_H;
    let steps = total / ENVS as i64;
    for k in 0..total {
        let env = (k / steps) as usize % ENVS;
        let (r, x, y) = cell(k);
        let t = t0 + Duration::from_millis((k % steps) as u64 * 60_000 / steps as u64);
        p.observe(&format!("env-{env:03}"), Some(&at(r, x, y)), t);
    }
    (p, t0 + Duration::from_secs(60))
}

fn feeds() -> Vec<FeedUpdate> {
    (0..ENVS)
        .map(|i| {
            let name = format!("env-{i:03}");
            FeedUpdate {
                state: gbwatch::pipeline::FeedState::Online,
                ..FeedUpdate::new(&name, &name)
            }
        })
        .collect()
}

fn terminal(counter: &Counter) -> Terminal<CrosstermBackend<Counter>> {
    Terminal::with_options(
        CrosstermBackend::new(counter.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(AREA),
        },
    )
    .unwrap()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The target: every draw of the map within this.
const TARGET_MS: f64 = 2.0;

/// Draw times in ms: median, p99, slowest.
struct Times {
    median: f64,
    p99: f64,
    max: f64,
}

impl Times {
    fn of(mut v: Vec<f64>) -> Times {
        v.sort_by(f64::total_cmp);
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        Times {
            median: at(0.5),
            p99: at(0.99),
            max: *v.last().unwrap(),
        }
    }
}

/// (draw times, bytes per frame, covered positions) of the map, with or without the layout
/// file; the first draw (everything painted once) is left out.
fn map(frames: usize, world: Option<WorldLayout>) -> (Times, f64, f64) {
    let (positions, mut now) = covered();
    let mut s = State::new(1, "");
    s.update(Event::Resize(AREA.width, AREA.height));
    s.update(Event::Feeds {
        feeds: feeds(),
        now_ns: 1,
    });
    s.map.shown = true;
    s.map.layout = world.map(Arc::new);
    let counter = Counter::default();
    let mut term = terminal(&counter);
    let (mut times, mut bytes) = (Vec::new(), Vec::new());
    let total = 4 * REGION_W * REGION_H;
    for f in 0..frames {
        now += Duration::from_millis(100);
        // Every env steps to a position some other env covered: trails move, coverage grows
        // in visits only.
        for env in 0..ENVS {
            let (r, x, y) = cell((env as i64 * 7919 + f as i64 * 13) % total);
            positions.observe(&format!("env-{env:03}"), Some(&at(r, x, y)), now);
        }
        let before = counter.0.get();
        let t = Instant::now();
        s.update(Event::Map(positions.snapshot(now)));
        let screen = layout(&s, AREA);
        term.draw(|fr| {
            fr.render_widget(
                Panels {
                    state: &s,
                    screen: &screen,
                },
                fr.area(),
            )
        })
        .unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
        bytes.push((counter.0.get() - before) as f64);
    }
    let covered = s.map.snapshot.distinct() as f64;
    (
        Times::of(times[1..].to_vec()),
        median(bytes[1..].to_vec()),
        covered,
    )
}

/// The demo's frames, RGBA.
fn demo_frames(n: usize) -> Vec<Vec<u8>> {
    let mut src = RecordingSource::demo(1000.0);
    let mut out = Vec::new();
    while out.len() < n {
        match src.poll().unwrap() {
            Poll::Frame(raw) => out.push(to_frame(raw).pixels),
            Poll::Nothing => std::thread::sleep(Duration::from_micros(200)),
            _ => break,
        }
    }
    out
}

/// (ms per draw, bytes per frame) of the grid of the same envs, half-block pictures.
fn grid(frames: usize) -> (f64, f64) {
    let pictures = demo_frames(frames + 64);
    let mut s = State::new(1, "");
    s.update(Event::Resize(AREA.width, AREA.height));
    s.update(Event::Feeds {
        feeds: feeds(),
        now_ns: 1,
    });
    let counter = Counter::default();
    let mut term = terminal(&counter);
    let mut renderers: Vec<HalfblockRenderer> = (0..ENVS)
        .map(|_| HalfblockRenderer::new(ColorMode::Ansi256))
        .collect();
    let (mut times, mut bytes) = (Vec::new(), Vec::new());
    let mut out = Vec::new();
    for f in 0..frames {
        let before = counter.0.get();
        let t = Instant::now();
        let screen = layout(&s, AREA);
        term.draw(|fr| {
            fr.render_widget(
                Panels {
                    state: &s,
                    screen: &screen,
                },
                fr.area(),
            )
        })
        .unwrap();
        out.clear();
        for (k, area) in screen.images.iter().enumerate() {
            let pic = &pictures[(f + k * 7) % pictures.len()];
            let id = ((f + k * 7) % pictures.len()) as u64 + 1;
            renderers[area.feed].render(pic, 160, 144, id, area.rect, 8, false, &mut out);
        }
        times.push(t.elapsed().as_secs_f64() * 1e3);
        bytes.push((counter.0.get() - before + out.len() as u64) as f64);
        // The grid shows a tile per env once its frame is there.
        if f == 0 {
            let frame = Arc::new(gbwatch::frame::Frame {
                frame_index: 1,
                published_ns: None,
                captured_at: Instant::now(),
                captured_ns: 0,
                width: 160,
                height: 144,
                pixels: pictures[0].clone(),
                capture_us: 0,
                content_id: 1,
                info: None,
                info_error: None,
            });
            let all = (0..ENVS)
                .map(|i| (format!("env-{i:03}"), frame.clone()))
                .collect();
            s.update(Event::Frames {
                frames: all,
                now_ns: 1,
            });
        }
    }
    (median(times[2..].to_vec()), median(bytes[2..].to_vec()))
}

fn main() {
    let frames: usize = common::arg("--frames", "100").parse().unwrap();
    let layout = WorldLayout::parse(
        r#"{"regions": {"0": {"x": 0, "y": 0, "width": 250, "height": 100},
                        "1": {"x": 250, "y": 0, "width": 250, "height": 100},
                        "2": {"x": 0, "y": 100, "width": 250, "height": 100},
                        "3": {"x": 250, "y": 100, "width": 250, "height": 100}}}"#,
    )
    .unwrap();
    let (panels, panels_b, covered) = map(frames, None);
    let (world, world_b, _) = map(frames, Some(layout));
    let (grid_ms, grid_b) = grid(frames);
    println!(
        "{ENVS} envs, 60 s trails, {covered:.0} covered positions, {}x{} cells, {frames} frames",
        AREA.width, AREA.height
    );
    println!("| view | median ms | p99 ms | slowest ms | bytes per frame (median) |");
    println!("|---|---|---|---|---|");
    for (name, t, b) in [
        ("map, one panel per region", &panels, panels_b),
        ("map, layout file (one world)", &world, world_b),
    ] {
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} | {b:.0} |",
            t.median, t.p99, t.max
        );
    }
    println!("| grid (half-block pictures, for comparison) | {grid_ms:.2} | | | {grid_b:.0} |");
    let slowest = panels.max.max(world.max);
    let most_bytes = panels_b.max(world_b);
    let ok = slowest <= TARGET_MS && most_bytes <= grid_b;
    println!(
        "target: every draw <= {TARGET_MS} ms and no more bytes than the grid: {} \
         (slowest draw {slowest:.2} ms, {most_bytes:.0} bytes against the grid's {grid_b:.0})",
        if ok { "MET" } else { "NOT MET" }
    );
}
