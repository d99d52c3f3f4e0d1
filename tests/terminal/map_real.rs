//! The map with a background picture in a real xterm under Xvfb: the screenshot shows the
//! picture's colours over the world (left half, right half) and the walker's marker in an
//! env colour at its cell.

use crate::common;

use common::real_terminal::{Kind, Picture, Session};
use common::{pyboy_walkers, Scratch};
use std::time::Duration;

const LAYOUT: &str = r#"{"regions": {
    "0": {"x": 0, "y": 0, "width": 40, "height": 18},
    "1": {"x": 40, "y": 0, "width": 40, "height": 18}}}"#;
/// The background's halves: colours of xterm's 256-colour cube, so they show exactly whether
/// the terminal takes direct colour or the nearest of its palette.
const LEFT: [u8; 3] = [0x00, 0x5f, 0x00];
const RIGHT: [u8; 3] = [0x5f, 0x5f, 0x5f];
/// The first colours of the monitor's env palette (256-colour 196, 46, 33, 226) in xterm.
const ENV_COLOURS: [[u8; 3]; 4] = [[0xff, 0, 0], [0, 0xff, 0], [0, 0x87, 0xff], [0xff, 0xff, 0]];

/// A 2×1 PNG: `LEFT`, then `RIGHT`.
fn background(path: &std::path::Path) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut enc = png::Encoder::new(file, 2, 1);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().unwrap();
    w.write_image_data(&[LEFT, RIGHT].concat()).unwrap();
}

fn near(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 8)
}

#[test]
fn the_map_over_a_background_picture_in_xterm() {
    let dir = Scratch::new("map-real");
    let (layout, image) = (dir.path().join("layout.json"), dir.path().join("bg.png"));
    std::fs::write(&layout, LAYOUT).unwrap();
    background(&image);
    let slots = dir.path().join("slots");
    std::fs::create_dir(&slots).unwrap();
    // Region 0, x 6, y 4: world (6, 4).
    let _walker = pyboy_walkers(&slots, &[("w0", (0, 6, 4))], &[], &["--seconds", "120"]);
    let command = format!(
        "sh -c 'exec {bin} watch --map --map-layout {layout} --map-image {image} {slots}' 2> {err}",
        bin = env!("CARGO_BIN_EXE_gbwatch"),
        layout = layout.display(),
        image = image.display(),
        slots = slots.display(),
        err = dir.path().join("gbwatch.err").display(),
    );
    let s = Session::start_running(Kind::Xterm, 1280, 640, Some(&command));
    let (cw, ch) = s.cell();
    let (cw, ch) = (cw as usize, ch as usize);
    let (rows, cols, _, _) = s.winsize;
    // The map's inner area: from cell (1, 1), the terminal less the 36-column list and the
    // borders, the status line; world units are whole pixels (columns, half rows).
    let (iw, ih) = (cols as usize - 36 - 2, rows as usize - 1 - 2);
    let per = ((iw / 80).min(2 * ih / 18)).max(1);
    // The screen pixel at the middle of world unit (x, y).
    let at = |x: usize, y: usize| {
        let (px, py) = (x * per + per / 2, y * per + per / 2);
        let (col, row, lower) = (1 + px, 1 + py / 2, py % 2 == 1);
        (
            col * cw + cw / 2,
            row * ch + if lower { ch * 3 / 4 } else { ch / 4 },
        )
    };
    let (col, row) = (1 + 6 * per, 1 + 4 * per / 2);
    let marker = |p: &Picture| p.at(col * cw + 1, row * ch + 1);
    let shows = |p: &Picture| {
        let (lx, ly) = at(20, 9);
        let (rx, ry) = at(60, 9);
        near(p.at(lx, ly), LEFT)
            && near(p.at(rx, ry), RIGHT)
            && ENV_COLOURS.iter().any(|c| near(marker(p), *c))
    };
    let shot = s.screenshot_until(Duration::from_secs(60), shows);
    let (lx, ly) = at(20, 9);
    let (rx, ry) = at(60, 9);
    let where_ = format!(
        "(screenshots in {}, per {per}, cell {cw}x{ch})",
        s.dir().display()
    );
    assert!(
        near(shot.at(lx, ly), LEFT),
        "left half {:?} {where_}",
        shot.at(lx, ly)
    );
    assert!(
        near(shot.at(rx, ry), RIGHT),
        "right half {:?} {where_}",
        shot.at(rx, ry)
    );
    // The marker: its cell's background is an env colour (a corner, away from the letter).
    let corner = marker(&shot);
    assert!(
        ENV_COLOURS.iter().any(|c| near(corner, *c)),
        "marker cell ({col}, {row}) is {corner:?}, not an env colour {where_}"
    );
}
