//! `gbwatch watch --protocol kitty|sixel|iterm2` for real: the binary runs in a pseudo-terminal
//! that answers its queries the way such a terminal does, watching a still PNG whose pixels the
//! test made. What it writes is replayed like a terminal would (cursor, cells, colours), the
//! graphics escape sequences are decoded back to pixels, and the picture must be the PNG, at the
//! size the frame's cells allow, in the frame's top-left cell.

mod common;

use common::pty::Pty;
use common::vt::{
    count, decode_kitty, decode_png, decode_sixel, diacritic_index, kitty_of, shown, Graphic,
    Picture, Screen, Shown, PLACEHOLDER,
};
use common::{gbwatch, Scratch};
use std::collections::BTreeSet;
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
    let mut data = Vec::with_capacity(W * H * 3);
    for y in 0..H {
        for x in 0..W {
            data.extend_from_slice(&source_pixel(x, y));
        }
    }
    let mut png = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png, W as u32, H as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.write_header().unwrap().write_image_data(&data).unwrap();
    }
    std::fs::write(path, png).unwrap();
}

/// What the terminal answers to the capability query ratatui-image sends (kitty graphics,
/// `CSI c`, `CSI 16 t`, ended by `CSI 5 n`); `CSI 0 n` always follows.
const KITTY_8X16: &str = "\x1b_Gi=31;OK\x1b\\\x1b[?62;22c\x1b[6;16;8t";
/// kitty that also inflates deflated transmissions (the `o=z` probe, image 32).
const KITTY_8X16_INFLATE: &str = "\x1b_Gi=31;OK\x1b\\\x1b_Gi=32;OK\x1b\\\x1b[?62;22c\x1b[6;16;8t";
const SIXEL_10X24: &str = "\x1b[?62;4;22c\x1b[6;24;10t";
/// A terminal that answers no capability query but the status report.
const STATUS_ONLY: &str = "";

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
    drawn: impl Fn(&Screen, &[u8], &Path) -> bool,
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
            // A terminal answers each query as it reads it.
            while count(&snapshot, b"\x1b[5n") > queries {
                queries += 1;
                pty.type_bytes(format!("{caps}\x1b[0n").as_bytes());
            }
            while count(&snapshot, b"\x1b[6n") > cursor_queries {
                cursor_queries += 1;
                pty.type_bytes(b"\x1b[1;1R");
            }
        }
        if !typed_q && drawn(&Screen::replay(&snapshot), &snapshot, &png) {
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
    let run = run_watch(tag, args, Some(caps), |s, out, _| s.drawn(out));
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
    let rows = found.iter().map(|c| c.0);
    let cols = found.iter().map(|c| c.1);
    let extent = (
        (cols.clone().min(), cols.max()),
        (rows.clone().min(), rows.max()),
    );
    let want = (
        (Some(1), Some(cells.0 as u16)),
        (Some(1), Some(cells.1 as u16)),
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
fn assert_placeholders(screen: &Screen, id: u32, cells: (usize, usize)) {
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
            if col == 1 {
                assert_eq!(
                    marks,
                    vec![(row - 1) as usize, 0, extra as usize],
                    "row {row}: row, column and id diacritics"
                );
            } else {
                assert!(marks.is_empty(), "cell ({row}, {col}) {marks:?}");
            }
        }
    }
    assert_cells(&found, cells, "placeholders");
}

// ---------------------------------------------------------------------------------------------

/// kitty, 8x16-pixel cells: the frame at the MEDIUM preset (2x, 320x288) fits the frame block, so
/// it goes out as it is, RGBA, pixel for pixel the PNG, placed with placeholders over 40x18
/// cells from the frame's top-left cell. `q` quits and gives the terminal back.
#[test]
fn kitty_shows_the_png_pixel_for_pixel() {
    let (run, screen, picture) = watch_until_drawn("kitty", &["--protocol", "kitty"], KITTY_8X16);
    assert_clean_exit(&run);
    let (keys, data) = kitty_of(&picture);
    let pic = decode_kitty(keys, data, false);
    let cell = CellPx(8, 16);
    let (size, cells) = fit(2, screen.frame_interior(), cell);
    assert_eq!((size, cells), ((320, 288), (40, 18)));
    assert_eq!((pic.w, pic.h), (320, 288), "{keys:?}");
    assert_shows_png(&pic, size, 0);
    assert_eq!(
        keys.get("U").map(String::as_str),
        Some("1"),
        "virtual placement"
    );
    assert_placeholders(&screen, keys["i"].parse().unwrap(), cells);
}

/// kitty that can inflate: the frame goes out deflated (`o=z`), many times smaller than
/// the raw RGBA, and inflates to the same pixels.
#[test]
fn kitty_deflates_when_the_terminal_can_inflate() {
    let (run, _screen, picture) = watch_until_drawn(
        "kitty-deflate",
        &["--protocol", "kitty"],
        KITTY_8X16_INFLATE,
    );
    assert_clean_exit(&run);
    // A real terminal answers for o=z only when asked: the query must carry the probe.
    assert_eq!(
        count(&run.out, b"\x1b_Gi=32,s=1,v=1,a=q,t=d,f=24,o=z;"),
        1,
        "no o=z probe in the capability query"
    );
    let (keys, data) = kitty_of(&picture);
    assert_eq!(keys.get("o").map(String::as_str), Some("z"), "{keys:?}");
    let pic = decode_kitty(keys, data, true);
    assert_eq!((pic.w, pic.h), (320, 288), "{keys:?}");
    assert_shows_png(&pic, (320, 288), 0);
    let raw = pic.w * pic.h * 4;
    assert!(
        data.len() * 20 < raw,
        "{} bytes deflated for {raw} raw",
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
        |s, out, png| {
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
    assert_eq!((pic.w, pic.h), (320, 288), "{keys:?}");
    let mut wrong = 0;
    for y in 0..pic.h {
        for x in 0..pic.w {
            let [r, g, b] = source_pixel(x / 2, y / 2);
            let (gr, gg, gb) = gbwatch::tui::dimmed(r, g, b);
            if pic.px[y * pic.w + x] != [gr, gg, gb, 255] {
                wrong += 1;
            }
        }
    }
    assert_eq!(wrong, 0, "pixels not in the offline grey");
}

/// kitty with `--scale 4`: 640x576 is larger than the frame block, so it is shrunk, aspect
/// kept, to the block's width and padded with transparency to whole cells; the placeholders
/// cover those cells.
#[test]
fn kitty_shrinks_a_frame_larger_than_the_block() {
    let (run, screen, picture) = watch_until_drawn(
        "kitty-shrink",
        &["--protocol", "kitty", "--scale", "4"],
        KITTY_8X16,
    );
    assert_clean_exit(&run);
    let (keys, data) = kitty_of(&picture);
    let pic = decode_kitty(keys, data, false);
    let cell = CellPx(8, 16);
    let interior = screen.frame_interior();
    let (size, cells) = fit(4, interior, cell);
    assert!(size.0 < 640 && size.1 < 576, "{size:?} in {interior:?}");
    assert_eq!(
        (pic.w, pic.h),
        (cells.0 * cell.0, cells.1 * cell.1),
        "whole cells"
    );
    assert_shows_png(&pic, size, 0);
    assert_placeholders(&screen, keys["i"].parse().unwrap(), cells);
}

/// sixel, 10x24-pixel cells: the 2x frame is drawn from the frame's top-left cell as a
/// 320x288 sixel image whose colours (percent in sixel) are the PNG's, over the 32x12 cells
/// it erased first.
#[test]
fn sixel_shows_the_png() {
    let (run, screen, picture) = watch_until_drawn("sixel", &["--protocol", "sixel"], SIXEL_10X24);
    assert_clean_exit(&run);
    let Graphic::Sixel(body) = &picture.what else {
        panic!("not a sixel image but {}", picture.what.name());
    };
    assert_eq!(picture.at, (1, 1), "drawn from the frame's top-left cell");
    let pic = decode_sixel(body);
    let (size, cells) = fit(2, screen.frame_interior(), CellPx(10, 24));
    assert_eq!((size, cells), ((320, 288), (32, 12)));
    assert_eq!((pic.w, pic.h), size);
    assert_shows_png(&pic, size, 3);
    assert_cells(&screen.erased, cells, "erased cells");
}

/// iTerm2, in a terminal that reports neither graphics support nor its cell size (it answers
/// only the status report): the default 10x20 cells are assumed; the inline file is a PNG of
/// the 2x frame, pixel for pixel, sized in pixels, over the 32x15 cells it erased first.
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

/// A terminal that answers nothing at all, not even the status report every terminal gives
/// (a bare pty): after the capability query gives up (0.5 s) the monitor draws anyway, the
/// forced protocol at the default 10x20-pixel cells, and never asks for the cursor position.
/// The query's reader thread, left waiting on the terminal, may take the first key; q again
/// quits, and the terminal is given back.
#[test]
fn a_terminal_that_answers_nothing_is_still_drawn_in() {
    let run = run_watch("mute", &["--protocol", "kitty"], None, |s, out, _| {
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
    let pic = decode_kitty(keys, data, false);
    let (size, _) = fit(2, screen.frame_interior(), CellPx(10, 20));
    assert_shows_png(&pic, size, 0);
}
