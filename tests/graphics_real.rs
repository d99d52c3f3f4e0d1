//! gbwatch's own sixel and kitty encoders in real terminals under Xvfb: xterm as a VT340
//! for sixel, kitty 0.26 for classic placements plus delta frames. Each test puts real
//! PyBoy frames (the built-in demo recording) on screen, screenshots it and checks where
//! the picture is, how big, and that its pixels are the frame's.

mod real_terminal;

use gbwatch::source::recording::{RecordingReader, DEMO_RECORDING};
use gbwatch::tui::graphics::caps::{KittyMode, Placement};
use gbwatch::tui::graphics::kitty::{KittyImage, KittyOptions, Update};
use gbwatch::tui::graphics::sixel::SixelEncoder;
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
    for (i, f) in frames.iter().enumerate() {
        let mut out = Vec::new();
        let u = img.encode(f, W as u32, H as u32, place, &mut out).unwrap();
        if i == 0 {
            assert_eq!(u, Update::Transmitted);
        } else {
            assert!(matches!(u, Update::Delta { .. }), "{u:?}");
        }
        s.show(&out);
    }
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
