//! gbwatch's own sixel and kitty encoders in real terminals under Xvfb: xterm as a VT340
//! for sixel, kitty 0.26 for classic placements plus delta frames. Each test puts real
//! PyBoy frames (the built-in demo recording) on screen, screenshots it and checks where
//! the picture is, how big, and that its pixels are the frame's.

use crate::common::real_terminal;

use gbwatch::source::recording::{RecordingReader, DEMO_RECORDING};
use gbwatch::tui::graphics::caps::{KittyMode, Placement};
use gbwatch::tui::graphics::kitty::{KittyImage, KittyOptions, Update};
use gbwatch::tui::graphics::sixel::{SixelEncoder, SixelShown};
use gbwatch::tui::graphics::{fit_cells, fit_pixels};
use ratatui::layout::Rect;
use real_terminal::{bounding_box, match_scaled, Kind, Session};
use std::time::Duration;

const W: usize = 160;
const H: usize = 144;

/// Frames `picks` of the demo recording (real PyBoy frames), RGBA.
fn demo_frames(picks: &[usize]) -> Vec<Vec<u8>> {
    let mut r = RecordingReader::from_bytes(DEMO_RECORDING).unwrap();
    let last = *picks.iter().max().unwrap();
    let mut out = Vec::new();
    for i in 0..=last {
        let f = r.next_frame().unwrap().expect("demo has enough frames");
        if picks.contains(&i) {
            out.push(f.pixels.to_vec());
        }
    }
    out
}

fn differing(a: &[u8], b: &[u8]) -> usize {
    a.chunks_exact(4)
        .zip(b.chunks_exact(4))
        .filter(|(x, y)| x != y)
        .count()
}

#[test]
fn sixel_in_xterm_is_centred_filled_and_exact() {
    let mut s = Session::start(Kind::Xterm, 800, 640);
    let cell = s.cell();
    assert_eq!(cell, (10, 20), "xterm with the 10x20 font");
    let (rows, cols, _, _) = s.winsize;
    // The pane: all but the first and last two rows (where panels would be).
    let area = Rect::new(0, 1, cols, rows - 3);
    let frame = &demo_frames(&[300])[0];
    let place = fit_pixels(W as u32, H as u32, area, cell, 4).unwrap();
    let mut enc = SixelEncoder::new();
    let mut out = Vec::new();
    enc.encode_at(frame, W as u32, H as u32, place, &mut out)
        .unwrap();
    s.show(&out);
    let want = (
        place.col as usize * 10,
        place.row as usize * 20,
        place.width as usize,
        place.height as usize,
    );
    let screen = (0, 0, cols as usize * 10, rows as usize * 20);
    let shot = s.screenshot_until(Duration::from_secs(10), |p| {
        bounding_box(p, screen, 8) == Some(want)
    });
    assert_eq!(
        bounding_box(&shot, screen, 8),
        Some(want),
        "picture position and size (files in {})",
        s.dir().display()
    );
    // 4x in an 800x(13..) px pane would not fit; whatever scale was chosen fills it.
    assert!(place.width >= 480, "scale used: {}", place.width / 160);
    let m = match_scaled(&shot, want, frame, W, H, 3);
    assert_eq!(m, 1.0, "share of frame pixels matching");
}

/// Screen pixels of `region` (x, y, width, height) that differ (more than 3 a channel)
/// from `frame` scaled to it by nearest neighbour, as gbwatch scales for sixel.
fn shrunk_mismatches(
    p: &real_terminal::Picture,
    region: (usize, usize, usize, usize),
    frame: &[u8],
) -> usize {
    let (rx, ry, rw, rh) = region;
    let mut bad = 0;
    for y in 0..rh {
        for x in 0..rw {
            let i = ((y * H / rh) * W + x * W / rw) * 4;
            let close = p
                .at(rx + x, ry + y)
                .iter()
                .zip(&frame[i..i + 3])
                .all(|(a, b)| a.abs_diff(*b) <= 3);
            bad += !close as usize;
        }
    }
    bad
}

#[test]
fn sixel_updates_in_xterm_compose_to_the_last_frame() {
    let mut s = Session::start(Kind::Xterm, 800, 640);
    let cell = s.cell();
    // A grid tile's size: 19x9 cells hold the frame shrunk, so updates are partial.
    let area = Rect::new(2, 2, 19 * 8 / cell.0, 9 * 16 / cell.1);
    let frames = demo_frames(&[300, 301, 310]);
    let place = fit_pixels(W as u32, H as u32, area, cell, 4).unwrap();
    let mut enc = SixelEncoder::new();
    let mut shown = SixelShown::default();
    let mut sizes = Vec::new();
    for f in &frames {
        let mut out = Vec::new();
        enc.update_at(f, W as u32, H as u32, place, cell.1, &mut shown, &mut out)
            .unwrap();
        sizes.push(out.len());
        s.show(&out);
    }
    let want = (
        place.col as usize * cell.0 as usize,
        place.row as usize * cell.1 as usize,
        place.width as usize,
        place.height as usize,
    );
    let last = &frames[2];
    let shot = s.screenshot_until(Duration::from_secs(10), |p| {
        shrunk_mismatches(p, want, last) == 0
    });
    assert_eq!(
        shrunk_mismatches(&shot, want, last),
        0,
        "screen pixels unlike the last frame after updates {sizes:?} (files in {})",
        s.dir().display()
    );
}

#[test]
fn kitty_026_classic_placement_and_deltas_show_the_last_frame() {
    let mut s = Session::start(Kind::Kitty, 800, 640);
    let cell = s.cell();
    let (rows, cols, _, _) = s.winsize;
    let area = Rect::new(2, 1, cols - 4, rows - 3);
    let frames = demo_frames(&[100, 104, 108, 112]);
    assert!(
        differing(&frames[0], &frames[3]) > 200,
        "the frames must differ for the test to mean anything"
    );
    let place = fit_cells(W as u32, H as u32, area, cell, 8).unwrap();
    let mode = KittyMode {
        placement: Placement::Classic,
        animation: true,
        deflate: true,
        tmux: false,
    };
    let mut img = KittyImage::new(42, mode, KittyOptions::default());
    let mut scrolled = 0;
    for (i, f) in frames.iter().enumerate() {
        let mut out = Vec::new();
        let u = img.encode(f, W as u32, H as u32, place, &mut out).unwrap();
        if i == 0 {
            assert_eq!(u, Update::Transmitted);
        } else {
            assert!(matches!(u, Update::Delta { .. }), "{u:?}");
        }
        scrolled += matches!(u, Update::Delta { scrolled: true, .. }) as usize;
        s.show(&out);
    }
    // The demo scrolls: the band is copied inside the terminal (frame compositions).
    assert_eq!(scrolled, 3, "updates sent as a scroll");
    let (cw, ch) = (cell.0 as usize, cell.1 as usize);
    let want = (
        place.col as usize * cw,
        place.row as usize * ch,
        place.cols as usize * cw,
        place.rows as usize * ch,
    );
    let screen = (0, 0, cols as usize * cw, rows as usize * ch);
    let last = &frames[3];
    let shot = s.screenshot_until(Duration::from_secs(15), |p| {
        match_scaled(p, want, last, W, H, 8) > 0.99
    });
    assert_eq!(
        bounding_box(&shot, screen, 8),
        Some(want),
        "picture position and size (files in {})",
        s.dir().display()
    );
    let m = match_scaled(&shot, want, last, W, H, 8);
    assert!(m > 0.99, "share of the last frame's pixels on screen: {m}");
    // The first frame does not match as well: the deltas were applied.
    let m0 = match_scaled(&shot, want, &frames[0], W, H, 8);
    assert!(m0 < m - 0.005, "first frame matches {m0}, last {m}");
    let log = s.stderr();
    assert!(!log.contains("PARSE ERROR"), "kitty logged: {log}");
    assert!(!log.contains("Malformed"), "kitty logged: {log}");
    // Teardown: nothing left on screen.
    let mut out = Vec::new();
    img.delete(&mut out);
    s.show(&out);
    let shot = s.screenshot_until(Duration::from_secs(10), |p| {
        bounding_box(p, screen, 8).is_none()
    });
    assert_eq!(
        bounding_box(&shot, screen, 8),
        None,
        "the image is gone after delete"
    );
    // The log check has teeth: kitty 0.26 rejects placeholders and says so.
    s.show(b"\x1b_Ga=T,U=1,i=43,f=24,s=1,v=1,q=2;AAAA\x1b\\");
    let start = std::time::Instant::now();
    while !s.stderr().contains("PARSE ERROR") && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        s.stderr().contains("PARSE ERROR"),
        "kitty 0.26 should log U=1 as a parse error"
    );
}

// ---------------------------------------------------------------------------------------------
// `gbwatch watch` itself in the real terminals, on real PyBoy publishers.

use crate::common;

use common::{pyboy_publisher, Proc, Scratch};
use gbwatch::frame::Frame;
use gbwatch::pipeline::FeedState;
use gbwatch::slot::{slot_path, ReadOutcome, SlotReader};
use gbwatch::tui::graphics::painter::MAX_SCALE;
use gbwatch::tui::{layout, Event, FeedUpdate, State};
use std::sync::Arc;

/// `n` PyBoy publishers `env-00`.. whose pictures stand still, each on its own frame (each
/// boots for a different number of frames), and each one's pixels as published.
fn still_publishers(dir: &std::path::Path, n: usize) -> (Vec<Proc>, Vec<(String, Vec<u8>)>) {
    let mut procs = Vec::new();
    let mut frames = Vec::new();
    for i in 0..n {
        let name = format!("env-{i:02}");
        let skip = (150 + 37 * i).to_string();
        procs.push(pyboy_publisher(
            dir,
            &name,
            &["--fps", "5", "--freeze", "0:100000", "--skip", &skip],
        ));
        let mut r = SlotReader::open(&slot_path(dir, &name), false).unwrap();
        let snap = common::eventually("a frame", Duration::from_secs(10), || {
            match r.read().unwrap() {
                ReadOutcome::Frame(s) => Some(s),
                _ => None,
            }
        });
        assert_eq!(
            (snap.header.width, snap.header.height),
            (W as u32, H as u32)
        );
        frames.push((name, snap.pixels[..W * H * 4].to_vec()));
    }
    (procs, frames)
}

/// Where gbwatch's own layout puts each env's picture area in a `cols`x`rows` terminal.
fn picture_areas(names: &[String], cols: u16, rows: u16) -> Vec<Rect> {
    let mut s = State::new(1, "");
    s.update(Event::Resize(cols, rows));
    // `watch` keeps history by default, so its screen has the timeline strip.
    s.update(Event::Timeline(gbwatch::tui::timeline::Timeline::default()));
    s.update(Event::Feeds {
        feeds: names
            .iter()
            .map(|n| FeedUpdate {
                state: FeedState::Online,
                ..FeedUpdate::new(n, n)
            })
            .collect(),
        now_ns: 0,
    });
    let frame = Arc::new(Frame {
        frame_index: 1,
        published_ns: None,
        captured_at: std::time::Instant::now(),
        capture_us: 1,
        captured_ns: 1,
        width: W as u32,
        height: H as u32,
        pixels: vec![0; W * H * 4],
        content_id: 1,
        info: None,
        info_error: None,
    });
    s.update(Event::Frames {
        frames: names.iter().map(|n| (n.clone(), frame.clone())).collect(),
        now_ns: 0,
    });
    let screen = layout(&s, Rect::new(0, 0, cols, rows));
    names
        .iter()
        .map(|n| {
            let slot = screen
                .images
                .iter()
                .find(|i| s.feeds[i.feed].key() == n)
                .unwrap_or_else(|| panic!("{n} has no picture in the layout"));
            slot.rect
        })
        .collect()
}

/// Runs `gbwatch watch` on `n` still publishers in `kind`, checks every env's picture is
/// its own frame at the place and size gbwatch's layout gives it, then ends gbwatch with
/// SIGTERM and checks no picture is left.
fn watch_in(kind: Kind, n: usize, screen_px: (u32, u32)) {
    let dir = Scratch::new("realterm-watch");
    let (_procs, frames) = still_publishers(dir.path(), n);
    let pid_file = dir.path().join("gbwatch.pid");
    let command = format!(
        "sh -c 'echo $$ > {pid}; exec {bin} watch {slots}' 2> {err}",
        pid = pid_file.display(),
        bin = env!("CARGO_BIN_EXE_gbwatch"),
        slots = dir.path().display(),
        err = dir.path().join("gbwatch.err").display(),
    );
    let s = Session::start_running(kind, screen_px.0, screen_px.1, Some(&command));
    let cell = s.cell();
    let (rows, cols, _, _) = s.winsize;
    let names: Vec<String> = frames.iter().map(|(n, _)| n.clone()).collect();
    let areas = picture_areas(&names, cols, rows);
    let (cw, ch) = (cell.0 as usize, cell.1 as usize);
    let regions: Vec<(usize, usize, usize, usize)> = areas
        .iter()
        .map(|&area| match kind {
            Kind::Kitty => {
                let p = fit_cells(W as u32, H as u32, area, cell, MAX_SCALE).unwrap();
                (
                    p.col as usize * cw,
                    p.row as usize * ch,
                    p.cols as usize * cw,
                    p.rows as usize * ch,
                )
            }
            Kind::Xterm => {
                let p = fit_pixels(W as u32, H as u32, area, cell, MAX_SCALE).unwrap();
                (
                    p.col as usize * cw,
                    p.row as usize * ch,
                    p.width as usize,
                    p.height as usize,
                )
            }
        })
        .collect();
    let tol = 8;
    let all_shown = |p: &real_terminal::Picture| {
        regions
            .iter()
            .zip(&frames)
            .all(|(&r, (_, f))| match_scaled(p, r, f, W, H, tol) > 0.99)
    };
    let shot = s.screenshot_until(Duration::from_secs(30), all_shown);
    for (i, (&r, (name, f))) in regions.iter().zip(&frames).enumerate() {
        let m = match_scaled(&shot, r, f, W, H, tol);
        assert!(
            m > 0.99,
            "{name}: {m} of its pixels at {r:?} (files in {})",
            s.dir().display()
        );
        // Each tile shows its own env: another env's frame matches worse there.
        if n > 1 {
            let other = &frames[(i + 1) % n].1;
            let mo = match_scaled(&shot, r, other, W, H, tol);
            assert!(mo < m, "{name}'s tile matches env {} as well", (i + 1) % n);
        }
    }
    if kind == Kind::Kitty {
        let log = s.stderr();
        assert!(
            !log.contains("PARSE ERROR") && !log.contains("Malformed"),
            "kitty logged: {log}"
        );
    }
    // SIGTERM: status 143, the terminal given back, no picture left on screen.
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SAFETY: a plain kill(2) on the pid gbwatch wrote.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let start = std::time::Instant::now();
    while s.status().is_none() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(s.status(), Some(143), "gbwatch's exit status");
    let screen = (0, 0, cols as usize * cw, rows as usize * ch);
    let shot = s.screenshot_until(Duration::from_secs(10), |p| {
        bounding_box(p, screen, 8).is_none()
    });
    assert_eq!(
        bounding_box(&shot, screen, 8),
        None,
        "something is left on screen after quitting (files in {})",
        s.dir().display()
    );
}

#[test]
fn watch_in_kitty_shows_the_env_pixel_true() {
    watch_in(Kind::Kitty, 1, (800, 640));
}

#[test]
fn watch_in_xterm_shows_the_env_as_sixel() {
    watch_in(Kind::Xterm, 1, (800, 640));
}

#[test]
fn watch_in_kitty_shows_a_grid_of_16_envs() {
    watch_in(Kind::Kitty, 16, (1600, 1000));
}

#[test]
fn watch_in_xterm_shows_a_grid_of_16_envs() {
    watch_in(Kind::Xterm, 16, (1600, 1000));
}
