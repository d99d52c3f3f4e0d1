//! `gbwatch watch --protocol kitty|sixel|iterm2` for real: the binary runs in a pseudo-terminal
//! that answers its queries the way such a terminal does, watching a still PNG whose pixels the
//! test made. What it writes is replayed like a terminal would (cursor, cells, colours), the
//! graphics escape sequences are decoded back to pixels, and the picture must be the PNG, at the
//! size the frame's cells allow, in the frame's top-left cell.

use crate::common;

use common::pty::Pty;
use common::vt::{
    count, decode_kitty, decode_png, decode_sixel, diacritic_index, kitty_of, shown, Graphic,
    Picture, Screen, Shown, PLACEHOLDER,
};
use common::{gbwatch, Scratch};
use gbwatch::tui::graphics::painter::MAX_SCALE;
use gbwatch::tui::graphics::{fit_cells, fit_pixels};
use ratatui::layout::Rect;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

/// The terminal's size in cells.
const COLS: u16 = 120;
const ROWS: u16 = 40;

/// The watched PNG: 160x144, 8x6 blocks of 20x24 pixels in six colours; no two neighbours,
/// nor a block and its mirror image across the middle column, share a colour.
const W: usize = 160;
const H: usize = 144;
const PALETTE: [[u8; 3]; 6] = [
    [230, 40, 40],
    [40, 200, 60],
    [40, 60, 220],
    [240, 220, 30],
    [200, 60, 220],
    [30, 210, 210],
];

fn block_of(x: usize, y: usize) -> (usize, usize) {
    (x / 20, y / 24)
}

fn source_pixel(x: usize, y: usize) -> [u8; 3] {
    let (bx, by) = block_of(x, y);
    PALETTE[(bx + 2 * by) % PALETTE.len()]
}

fn write_png(path: &Path) {
    write_png_scaled(path, 1);
}

/// The PNG at `k` times its size (each pixel a k x k block), written atomically.
fn write_png_scaled(path: &Path, k: usize) {
    let (w, h) = (W * k, H * k);
    let mut data = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            data.extend_from_slice(&source_pixel(x / k, y / k));
        }
    }
    let mut png = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png, w as u32, h as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.write_header().unwrap().write_image_data(&data).unwrap();
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, png).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// What a terminal answers to gbwatch's capability query (kitty graphics, XTVERSION, the
/// cell size `CSI 16 t`, DA1 last): a terminal that speaks kitty graphics but names no
/// version (so neither placeholders nor animation frames are assumed).
const KITTY_8X16: &str = "\x1b_Gi=31;OK\x1b\\\x1b[6;16;8t\x1b[?62;22c";
/// kitty that also inflates deflated transmissions (the `o=z` probe, image 32).
const KITTY_8X16_INFLATE: &str = "\x1b_Gi=31;OK\x1b\\\x1b_Gi=32;OK\x1b\\\x1b[6;16;8t\x1b[?62;22c";
/// kitty 0.35, which takes unicode placeholders.
const KITTY_035_8X16: &str =
    "\x1b_Gi=31;OK\x1b\\\x1b_Gi=32;OK\x1b\\\x1bP>|kitty(0.35.2)\x1b\\\x1b[6;16;8t\x1b[?62;22c";
const SIXEL_10X24: &str = "\x1b[6;24;10t\x1b[?62;4;22c";
/// A terminal that answers DA1 only.
const STATUS_ONLY: &str = "\x1b[?62;22c";

/// Everything the binary wrote to its terminal, and how it ended.
struct Run {
    out: Vec<u8>,
    status: ExitStatus,
    /// The terminal was back in canonical mode with echo when the binary had exited.
    cooked_after: bool,
    /// `q` was typed (the screen satisfied `drawn`).
    typed_q: bool,
    /// How many times: again every 2 s while the monitor runs on, at most 3.
    q_presses: u32,
}

/// Runs `gbwatch watch ARGS PNG` in a `COLS`x`ROWS` pseudo-terminal that answers the
/// capability query with `caps` and the cursor position query (or nothing at all, with
/// `None`); types `q` once the screen replayed from its output satisfies `drawn`, and waits
/// for it to exit.
fn run_watch(
    tag: &str,
    args: &[&str],
    caps: Option<&str>,
    mut drawn: impl FnMut(&Screen, &[u8], &Path, &Pty) -> bool,
) -> Run {
    let scratch = Scratch::new(tag);
    let png = scratch.path().join("still.png");
    write_png(&png);

    let mut cmd = gbwatch();
    cmd.arg("watch")
        .args(args)
        .arg(&png)
        .arg("--snapshot-dir")
        .arg(scratch.path())
        .env("TERM", "xterm-256color")
        .env("GBWATCH_DIR", scratch.path());
    // Hints that would make the picker guess instead of asking.
    for var in [
        "TMUX",
        "TERM_PROGRAM",
        "LC_TERMINAL",
        "ITERM_SESSION_ID",
        "WEZTERM_EXECUTABLE",
        "KONSOLE_VERSION",
        "KITTY_WINDOW_ID",
    ] {
        cmd.env_remove(var);
    }
    let mut pty = Pty::spawn(cmd, COLS, ROWS);

    let start = Instant::now();
    let (mut queries, mut cursor_queries) = (0, 0);
    let mut seen = 0;
    let mut typed_q = false;
    let (mut q_presses, mut last_q) = (0u32, Instant::now());
    let status = loop {
        if let Some(status) = pty.try_wait() {
            break status;
        }
        let snapshot = pty.output();
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{} after 30 s (q typed: {typed_q}); it wrote:\n{}",
            if typed_q {
                "still running"
            } else {
                "nothing drawn"
            },
            shown(&snapshot)
        );
        if let (Some(caps), true) = (caps, snapshot.len() != seen) {
            seen = snapshot.len();
            // A terminal answers each query as it reads it; DA1 (`CSI c`) ends gbwatch's.
            while count(&snapshot, b"\x1b[c") > queries {
                queries += 1;
                pty.type_bytes(caps.as_bytes());
            }
            while count(&snapshot, b"\x1b[6n") > cursor_queries {
                cursor_queries += 1;
                pty.type_bytes(b"\x1b[1;1R");
            }
        }
        if !typed_q && drawn(&Screen::replay(&snapshot), &snapshot, &png, &pty) {
            pty.type_bytes(b"q");
            typed_q = true;
            q_presses = 1;
            last_q = Instant::now();
        } else if typed_q && last_q.elapsed() > Duration::from_secs(2) && q_presses < 3 {
            // As a user would: press q again when the first one did nothing.
            pty.type_bytes(b"q");
            q_presses += 1;
            last_q = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let cooked_after = pty.cooked();
    let out = pty.finish();
    Run {
        out,
        status,
        cooked_after,
        typed_q,
        q_presses,
    }
}

/// Asserts `q` ended the binary with status 0 and the terminal was given back: the alternate
/// screen left last, canonical mode and echo on.
fn assert_clean_exit(run: &Run) {
    assert!(
        run.status.success(),
        "exit {}:\n{}",
        run.status,
        shown(&run.out)
    );
    assert!(
        run.out.ends_with(b"\x1b[?1049l"),
        "the alternate screen is not left last: …{}",
        shown(&run.out[run.out.len().saturating_sub(200)..])
    );
    assert!(run.cooked_after, "terminal left in raw mode");
    assert_eq!(run.q_presses, 1, "q did not quit at the first press");
}

// ---------------------------------------------------------------------------------------------
// What the picture must be.

/// Cell size in pixels.
#[derive(Clone, Copy)]
struct CellPx(usize, usize);

/// `scale`x the PNG, shrunk (aspect kept, never enlarged) to fit `cells` of `cell` pixels:
/// the picture's size in pixels, and the cells it covers.
fn fit(scale: usize, cells: (u16, u16), cell: CellPx) -> ((usize, usize), (usize, usize)) {
    let (pw, ph) = (W * scale, H * scale);
    let (aw, ah) = (cells.0 as usize * cell.0, cells.1 as usize * cell.1);
    let ratio = (aw as f64 / pw as f64).min(ah as f64 / ph as f64).min(1.0);
    let (fw, fh) = (
        (pw as f64 * ratio).round() as usize,
        (ph as f64 * ratio).round() as usize,
    );
    ((fw, fh), (fw.div_ceil(cell.0), fh.div_ceil(cell.1)))
}

/// Asserts `pic` shows the PNG at `size` pixels in its top-left corner (each colour within
/// `tolerance`) and nothing (transparent) elsewhere. When `size` is a whole multiple of the
/// PNG every pixel must be its source pixel; otherwise pixels whose neighbourhood in the PNG
/// is one block must be that block's colour, and the others one of their neighbours' colours.
fn assert_shows_png(pic: &Picture, size: (usize, usize), tolerance: u8) {
    let (fw, fh) = size;
    assert!(
        pic.w >= fw && pic.h >= fh,
        "{}x{} cannot hold {fw}x{fh}",
        pic.w,
        pic.h
    );
    let exact = fw % W == 0 && fh % H == 0 && fw / W == fh / H;
    let close =
        |a: [u8; 4], b: [u8; 3]| a[3] == 255 && (0..3).all(|k| a[k].abs_diff(b[k]) <= tolerance);
    let mut wrong = Vec::new();
    for y in 0..pic.h {
        for x in 0..pic.w {
            let p = pic.px[y * pic.w + x];
            let ok = if x >= fw || y >= fh {
                p[3] == 0
            } else if exact {
                close(p, source_pixel(x * W / fw, y * H / fh))
            } else {
                let (sx, sy) = (x * W / fw, y * H / fh);
                let around: Vec<[u8; 3]> = [
                    (sx.saturating_sub(1), sy.saturating_sub(1)),
                    ((sx + 1).min(W - 1), sy.saturating_sub(1)),
                    (sx.saturating_sub(1), (sy + 1).min(H - 1)),
                    ((sx + 1).min(W - 1), (sy + 1).min(H - 1)),
                ]
                .iter()
                .map(|&(a, b)| source_pixel(a, b))
                .collect();
                if around.iter().all(|c| *c == around[0]) {
                    close(p, around[0])
                } else {
                    around.iter().any(|&c| close(p, c))
                }
            };
            if !ok {
                wrong.push((x, y, p));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {}x{} pixels differ from the PNG at {fw}x{fh}, e.g. {:?}",
        wrong.len(),
        pic.w,
        pic.h,
        &wrong[..wrong.len().min(5)]
    );
}

/// Runs the monitor until a picture is complete on screen, types `q`, and returns the run,
/// the screen it left and the last picture.
fn watch_until_drawn(tag: &str, args: &[&str], caps: &str) -> (Run, Screen, Shown) {
    let run = run_watch(tag, args, Some(caps), |s, out, _, _| s.drawn(out));
    assert!(
        run.typed_q,
        "exited before drawing ({}):\n{}",
        run.status,
        shown(&run.out)
    );
    let mut screen = Screen::replay(&run.out);
    assert!(
        screen.drawn(&run.out),
        "no complete picture:\n{}",
        shown(&run.out)
    );
    let picture = screen.pictures.pop().unwrap();
    (run, screen, picture)
}

/// Asserts `found` is the block of `cells` (columns, rows) from the frame interior's top-left
/// cell (1, 1).
fn assert_cells(found: &BTreeSet<(u16, u16)>, cells: (usize, usize), what: &str) {
    assert_block(found, (1, 1), cells, what)
}

/// Asserts `found` is the block of `cells` (columns, rows) from cell `origin` (column, row).
fn assert_block(
    found: &BTreeSet<(u16, u16)>,
    origin: (u16, u16),
    cells: (usize, usize),
    what: &str,
) {
    let rows = found.iter().map(|c| c.0);
    let cols = found.iter().map(|c| c.1);
    let extent = (
        (cols.clone().min(), cols.max()),
        (rows.clone().min(), rows.max()),
    );
    let want = (
        (Some(origin.0), Some(origin.0 + cells.0 as u16 - 1)),
        (Some(origin.1), Some(origin.1 + cells.1 as u16 - 1)),
    );
    assert_eq!(
        extent, want,
        "{what}: ((first, last) column, (first, last) row)"
    );
    assert_eq!(found.len(), cells.0 * cells.1, "{what}: a whole block");
}

/// Asserts the kitty placeholders on `screen` place image `id` over exactly `cells` from the
/// frame interior's top-left cell (1, 1): each cell names the image by its colour (the id's
/// low 24 bits), and each row's first cell its row, column 0 and the id's high byte.
fn assert_placeholders(screen: &Screen, id: u32, origin: (u16, u16), cells: (usize, usize)) {
    let [extra, r, g, b] = id.to_be_bytes();
    let mut found = BTreeSet::new();
    for (&(row, col), cell) in &screen.cells {
        if cell.text.starts_with(PLACEHOLDER) {
            found.insert((row, col));
            assert_eq!(
                cell.fg,
                Some([r, g, b]),
                "cell ({row}, {col}) names another image"
            );
            let marks: Vec<usize> = cell
                .text
                .chars()
                .skip(1)
                .map(|c| diacritic_index(c).unwrap())
                .collect();
            if col == origin.0 {
                // The id's high byte may be left out when it is 0 (kitty reads it as 0).
                let mut marks = marks;
                if marks.len() == 2 && extra == 0 {
                    marks.push(0);
                }
                assert_eq!(
                    marks,
                    vec![(row - origin.1) as usize, 0, extra as usize],
                    "row {row}: row, column and id diacritics"
                );
            } else {
                assert!(marks.is_empty(), "cell ({row}, {col}) {marks:?}");
            }
        }
    }
    assert_block(&found, origin, cells, "placeholders");
}

// ---------------------------------------------------------------------------------------------

/// The frame interior as gbwatch's placement functions take it: cells from (1, 1).
fn interior_rect(screen: &Screen) -> Rect {
    let (cols, rows) = screen.frame_interior();
    Rect::new(1, 1, cols, rows)
}

/// Asserts `place` is centred in `area` (margins equal to within a cell).
fn assert_centred(place: (u16, u16, u16, u16), area: Rect) {
    let (col, row, cols, rows) = place;
    let (left, right) = (col - area.x, area.right() - (col + cols));
    let (top, bottom) = (row - area.y, area.bottom() - (row + rows));
    assert!(left.abs_diff(right) <= 1, "columns {left} | {right}");
    assert!(top.abs_diff(bottom) <= 1, "rows {top} | {bottom}");
}

/// Asserts a kitty placement covers the cells gbwatch fits the frame into inside the
/// frame block, with cells of `cell` pixels.
fn assert_kitty_cells(keys: &HashMap<String, String>, screen: &Screen, cell: (u16, u16)) {
    let place = fit_cells(W as u32, H as u32, interior_rect(screen), cell, MAX_SCALE).unwrap();
    let c: u16 = keys["c"].parse().unwrap();
    let r: u16 = keys["r"].parse().unwrap();
    assert_eq!((c, r), (place.cols, place.rows), "{keys:?}");
}

/// Asserts every image that was sent was deleted before the end (no stray image ids).
fn assert_all_deleted(screen: &Screen) {
    let sent: BTreeSet<&str> = screen
        .pictures
        .iter()
        .filter_map(|p| match &p.what {
            Graphic::Kitty(keys, _) => keys.get("i").map(String::as_str),
            _ => None,
        })
        .collect();
    for id in sent {
        assert!(
            screen.deleted.iter().any(|d| d == id),
            "image {id} was never deleted: {:?}",
            screen.deleted
        );
    }
}

/// kitty that names no version, 8x16-pixel cells: the frame goes out once at its own size
/// (160x144, RGB), pixel for pixel the PNG, with a classic placement (`C=1`, no `U=1`) over
/// the cells gbwatch centres in the frame block; the terminal scales it. `q` quits, the
/// image is deleted and the terminal given back.
#[test]
fn kitty_shows_the_png_at_its_own_size_scaled_by_the_terminal() {
    let (run, mut screen, picture) =
        watch_until_drawn("kitty", &["--protocol", "kitty"], KITTY_8X16);
    assert_clean_exit(&run);
    let (keys, data) = kitty_of(&picture);
    let pic = decode_kitty(keys, data, false);
    assert_eq!((pic.w, pic.h), (W, H), "{keys:?}");
    assert_shows_png(&pic, (W, H), 0);
    assert_eq!(keys.get("C").map(String::as_str), Some("1"), "{keys:?}");
    assert_eq!(keys.get("U"), None, "no placeholders for an unnamed kitty");
    let area = interior_rect(&screen);
    let place = fit_cells(W as u32, H as u32, area, (8, 16), MAX_SCALE).unwrap();
    let c: u16 = keys["c"].parse().unwrap();
    let r: u16 = keys["r"].parse().unwrap();
    assert_eq!((c, r), (place.cols, place.rows), "{keys:?}");
    assert_eq!(
        picture.at,
        (place.row, place.col),
        "placed at its top-left cell"
    );
    assert_centred((place.col, place.row, c, r), area);
    // It fills the block one way: the terminal scales, so nothing is lost to a small scale.
    assert!(
        c + 1 >= area.width || r + 1 >= area.height,
        "{c}x{r} in {area:?}"
    );
    screen.pictures.push(picture);
    assert_all_deleted(&screen);
}

/// kitty 0.35 (unicode placeholders): the image is placed virtually (`U=1`) and the
/// placeholder cells name it over exactly its cells.
#[test]
fn kitty_with_placeholders_names_the_image_in_its_cells() {
    let (run, screen, picture) =
        watch_until_drawn("kitty-035", &["--protocol", "auto"], KITTY_035_8X16);
    assert_clean_exit(&run);
    let (keys, data) = kitty_of(&picture);
    assert_eq!(keys.get("U").map(String::as_str), Some("1"), "{keys:?}");
    let pic = decode_kitty(keys, data, true);
    assert_shows_png(&pic, (W, H), 0);
    let place = fit_cells(
        W as u32,
        H as u32,
        interior_rect(&screen),
        (8, 16),
        MAX_SCALE,
    )
    .unwrap();
    assert_placeholders(
        &screen,
        keys["i"].parse().unwrap(),
        (place.col, place.row),
        (place.cols as usize, place.rows as usize),
    );
}

/// kitty pictures go out as PNG (`f=100`, palette-indexed: the PNG has six colours),
/// compressed by PNG itself, so never `o=z`, and many times smaller than the raw pixels; the
/// query still carries the `o=z` probe for the terminals that take raw data.
#[test]
fn kitty_pictures_go_out_as_small_indexed_pngs() {
    let (run, _screen, picture) =
        watch_until_drawn("kitty-png", &["--protocol", "kitty"], KITTY_8X16_INFLATE);
    assert_clean_exit(&run);
    assert_eq!(
        count(&run.out, b"\x1b_Gi=32,s=1,v=1,a=q,t=d,f=24,o=z;"),
        1,
        "no o=z probe in the capability query"
    );
    let (keys, data) = kitty_of(&picture);
    assert_eq!(keys.get("f").map(String::as_str), Some("100"), "{keys:?}");
    assert_eq!(keys.get("o"), None, "{keys:?}");
    let pic = decode_kitty(keys, data, true);
    assert_eq!((pic.w, pic.h), (W, H), "{keys:?}");
    assert_shows_png(&pic, (W, H), 0);
    let raw = pic.w * pic.h * 3;
    assert!(
        data.len() * 20 < raw,
        "{} bytes of PNG for {raw} raw",
        data.len()
    );
}

/// An offline source is greyed in graphics mode as in half-blocks: once the watched file is
/// gone, the picture is sent again, every pixel the dimmed grey of its source pixel.
#[test]
fn kitty_greys_an_offline_source() {
    let run = run_watch(
        "kitty-offline",
        &["--protocol", "kitty"],
        Some(KITTY_8X16),
        |s, out, png, _| {
            if !s.drawn(out) {
                return false;
            }
            if s.pictures.len() == 1 {
                let _ = std::fs::remove_file(png);
            }
            s.pictures.len() >= 2
        },
    );
    assert!(run.typed_q, "no second picture:\n{}", shown(&run.out));
    assert_clean_exit(&run);
    let mut screen = Screen::replay(&run.out);
    let picture = screen.pictures.pop().unwrap();
    let (keys, data) = kitty_of(&picture);
    let pic = decode_kitty(keys, data, false);
    assert_eq!((pic.w, pic.h), (W, H), "{keys:?}");
    let mut wrong = 0;
    for y in 0..pic.h {
        for x in 0..pic.w {
            let [r, g, b] = source_pixel(x, y);
            let (gr, gg, gb) = gbwatch::tui::dimmed(r, g, b);
            if pic.px[y * pic.w + x] != [gr, gg, gb, 255] {
                wrong += 1;
            }
        }
    }
    assert_eq!(wrong, 0, "pixels not in the offline grey");
}

/// sixel, 10x24-pixel cells: the frame is scaled by gbwatch to the largest whole scale that
/// fits the frame block (up to 4x), centred like half-blocks, colours exact.
#[test]
fn sixel_shows_the_png_scaled_to_fill_the_block() {
    let (run, screen, picture) = watch_until_drawn("sixel", &["--protocol", "sixel"], SIXEL_10X24);
    assert_clean_exit(&run);
    let Graphic::Sixel(body) = &picture.what else {
        panic!("not a sixel image but {}", picture.what.name());
    };
    let area = interior_rect(&screen);
    let place = fit_pixels(W as u32, H as u32, area, (10, 24), MAX_SCALE).unwrap();
    assert_eq!(
        picture.at,
        (place.row, place.col),
        "drawn from its top-left cell"
    );
    let pic = decode_sixel(body);
    assert_eq!(
        (pic.w, pic.h),
        (place.width as usize, place.height as usize)
    );
    assert_eq!(pic.w % W, 0, "a whole scale");
    // 118x31 cells of 10x24 px hold 4x across but not down: 3x (480x432) fills it.
    assert!(
        (place.width / W as u32 + 1) * H as u32 > area.height as u32 * 24
            || place.width / W as u32 == MAX_SCALE,
        "a larger scale would fit: {place:?} in {area:?}"
    );
    let cells = (
        (place.width as u16).div_ceil(10),
        (place.height as u16).div_ceil(24),
    );
    assert_centred((place.col, place.row, cells.0, cells.1), area);
    assert_shows_png(&pic, (pic.w, pic.h), 3);
}

/// iTerm2, in a terminal that reports neither graphics support nor its cell size: the
/// default 10x20 cells are assumed; the inline file is a PNG of the 2x frame, pixel for
/// pixel, sized in pixels, over the 32x15 cells it erased first.
#[test]
fn iterm2_shows_the_png_without_a_cell_size() {
    let (run, screen, picture) =
        watch_until_drawn("iterm2", &["--protocol", "iterm2"], STATUS_ONLY);
    assert_clean_exit(&run);
    let Graphic::Iterm2(args, png) = &picture.what else {
        panic!("not an iTerm2 image but {}", picture.what.name());
    };
    assert_eq!(picture.at, (1, 1), "drawn from the frame's top-left cell");
    let pic = decode_png(png);
    let (size, cells) = fit(2, screen.frame_interior(), CellPx(10, 20));
    assert_eq!((size, cells), ((320, 288), (32, 15)));
    assert_eq!((pic.w, pic.h), size);
    assert!(
        args.contains("inline=1")
            && args.contains(&format!("width={}px;height={}px", size.0, size.1)),
        "{args}"
    );
    assert_shows_png(&pic, size, 0);
    assert_cells(&screen.erased, cells, "erased cells");
}

/// A terminal that answers nothing at all, not even DA1 (a bare pty): after the capability
/// query gives up (0.5 s) the monitor draws anyway, the forced protocol in the form every
/// kitty takes (classic placement, whole frames, no deflate) at the default 10x20-pixel
/// cells, and never asks for the cursor position.
#[test]
fn a_terminal_that_answers_nothing_is_still_drawn_in() {
    let run = run_watch("mute", &["--protocol", "kitty"], None, |s, out, _, _| {
        s.drawn(out)
    });
    assert!(run.typed_q, "nothing drawn:\n{}", shown(&run.out));
    assert_eq!(
        count(&run.out, b"\x1b[6n"),
        0,
        "asked for the cursor position"
    );
    assert!(run.status.success(), "exit {}", run.status);
    assert!(run.q_presses <= 2, "{} presses of q", run.q_presses);
    assert!(
        run.out.ends_with(b"\x1b[?1049l"),
        "alternate screen not left last"
    );
    assert!(run.cooked_after, "terminal left in raw mode");
    let mut screen = Screen::replay(&run.out);
    let picture = screen.pictures.pop().unwrap();
    let (keys, data) = kitty_of(&picture);
    assert_eq!(keys.get("o"), None, "{keys:?}");
    assert_eq!(keys.get("C").map(String::as_str), Some("1"), "{keys:?}");
    let pic = decode_kitty(keys, data, false);
    assert_shows_png(&pic, (W, H), 0);
    assert_kitty_cells(keys, &screen, (10, 20));
}

/// A terminal whose reported cell size is 0x0 (and whose pty has no pixel size): the
/// default 10x20-pixel cells are used, never a division by zero or an absurd placement.
#[test]
fn a_cell_size_of_zero_falls_back_to_the_default() {
    let caps = "\x1b_Gi=31;OK\x1b\\\x1b[6;0;0t\x1b[?62;22c";
    let (run, screen, picture) = watch_until_drawn("kitty-cell0", &["--protocol", "kitty"], caps);
    assert_clean_exit(&run);
    let (keys, _) = kitty_of(&picture);
    assert_kitty_cells(keys, &screen, (10, 20));
}

/// Resizing while a picture is shown places it again for the new frame block, and a frame
/// whose size changes mid-stream (here the watched file is replaced by one twice as large)
/// is transmitted again at its new size.
#[test]
fn kitty_follows_a_resize_and_a_new_frame_size() {
    let mut stage = 0;
    let run = run_watch(
        "kitty-resize",
        &["--protocol", "kitty"],
        Some(KITTY_8X16),
        |s, out, png, pty| {
            if !s.drawn(out) {
                return false;
            }
            let sizes: Vec<(String, String)> = s
                .pictures
                .iter()
                .filter_map(|p| match &p.what {
                    Graphic::Kitty(k, _) => Some((k["s"].clone(), k["c"].clone())),
                    _ => None,
                })
                .collect();
            match stage {
                0 => {
                    pty.resize(90, 30);
                    stage = 1;
                    false
                }
                1 if sizes.len() >= 2 => {
                    write_png_scaled(png, 2);
                    stage = 2;
                    false
                }
                2 => sizes.last().is_some_and(|(w, _)| w == "320"),
                _ => false,
            }
        },
    );
    assert!(
        run.typed_q,
        "stopped at stage {stage}:\n{}",
        shown(&run.out)
    );
    assert_clean_exit(&run);
    let screen = Screen::replay(&run.out);
    let kitty: Vec<&HashMap<String, String>> =
        screen.pictures.iter().map(|p| kitty_of(p).0).collect();
    let first = kitty[0];
    let resized = kitty
        .iter()
        .find(|k| k["s"] == "160" && k["c"] != first["c"])
        .expect("placed again after the resize");
    // The new frame block is 90x30 cells: the placement fits it.
    let c: u16 = resized["c"].parse().unwrap();
    assert!(c <= 90, "{resized:?}");
    let last = screen.pictures.last().unwrap();
    let (keys, data) = kitty_of(last);
    let pic = decode_kitty(keys, data, false);
    assert_eq!((pic.w, pic.h), (2 * W, 2 * H));
    assert_shows_png(&pic, (2 * W, 2 * H), 0);
    assert_all_deleted(&screen);
}
