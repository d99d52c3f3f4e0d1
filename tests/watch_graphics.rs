//! `gbwatch watch --protocol kitty|sixel|iterm2` for real: the binary runs in a pseudo-terminal
//! that answers its queries the way such a terminal does, watching a still PNG whose pixels the
//! test made. What it writes is replayed like a terminal would (cursor, cells, colours), the
//! graphics escape sequences are decoded back to pixels, and the picture must be the PNG, at the
//! size the frame's cells allow, in the frame's top-left cell.

mod common;

use common::pty::Pty;
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

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// The output with escapes made visible and long payloads cut, for failure messages.
fn shown(out: &[u8]) -> String {
    let s = String::from_utf8_lossy(out).replace('\x1b', "^[");
    let cut: String = s.chars().take(4000).collect();
    if cut.len() < s.len() {
        format!("{cut}… ({} bytes)", out.len())
    } else {
        cut
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
// A terminal, as far as the monitor's output needs one.

/// The kitty placeholder character, and the diacritics that number rows, columns and the
/// image id's high byte (kitty's rowcolumn-diacritics.txt, in order).
const PLACEHOLDER: char = '\u{10EEEE}';
const DIACRITICS: &str =
    "\u{305}\u{30D}\u{30E}\u{310}\u{312}\u{33D}\u{33E}\u{33F}\u{346}\u{34A}\u{34B}\u{34C}\
    \u{350}\u{351}\u{352}\u{357}\u{35B}\u{363}\u{364}\u{365}\u{366}\u{367}\u{368}\u{369}\
    \u{36A}\u{36B}\u{36C}\u{36D}\u{36E}\u{36F}\u{483}\u{484}\u{485}\u{486}\u{487}\u{592}\
    \u{593}\u{594}\u{595}\u{597}\u{598}\u{599}\u{59C}\u{59D}\u{59E}\u{59F}\u{5A0}\u{5A1}\
    \u{5A8}\u{5A9}\u{5AB}\u{5AC}\u{5AF}\u{5C4}\u{610}\u{611}\u{612}\u{613}\u{614}\u{615}\
    \u{616}\u{617}\u{657}\u{658}\u{659}\u{65A}\u{65B}\u{65D}\u{65E}\u{6D6}\u{6D7}\u{6D8}\
    \u{6D9}\u{6DA}\u{6DB}\u{6DC}\u{6DF}\u{6E0}\u{6E1}\u{6E2}\u{6E4}\u{6E7}\u{6E8}\u{6EB}\
    \u{6EC}\u{730}\u{732}\u{733}\u{735}\u{736}\u{73A}\u{73D}\u{73F}\u{740}\u{741}\u{743}\
    \u{745}\u{747}\u{749}\u{74A}\u{7EB}\u{7EC}\u{7ED}\u{7EE}\u{7EF}\u{7F0}\u{7F1}\u{7F3}\
    \u{816}\u{817}\u{818}\u{819}\u{81B}\u{81C}\u{81D}\u{81E}\u{81F}\u{820}\u{821}\u{822}\
    \u{823}\u{825}\u{826}\u{827}\u{829}\u{82A}\u{82B}\u{82C}\u{82D}\u{951}\u{953}\u{954}\
    \u{F82}\u{F83}\u{F86}\u{F87}\u{135D}\u{135E}\u{135F}\u{17DD}\u{193A}\u{1A17}\u{1A75}\
    \u{1A76}\u{1A77}\u{1A78}\u{1A79}\u{1A7A}\u{1A7B}\u{1A7C}\u{1B6B}\u{1B6D}\u{1B6E}\
    \u{1B6F}\u{1B70}\u{1B71}\u{1B72}\u{1B73}\u{1CD0}\u{1CD1}\u{1CD2}\u{1CDA}\u{1CDB}\
    \u{1CE0}\u{1DC0}\u{1DC1}\u{1DC3}\u{1DC4}\u{1DC5}\u{1DC6}\u{1DC7}\u{1DC8}\u{1DC9}\
    \u{1DCB}\u{1DCC}\u{1DD1}\u{1DD2}\u{1DD3}\u{1DD4}\u{1DD5}\u{1DD6}\u{1DD7}\u{1DD8}\
    \u{1DD9}\u{1DDA}\u{1DDB}\u{1DDC}\u{1DDD}\u{1DDE}\u{1DDF}\u{1DE0}\u{1DE1}\u{1DE2}\
    \u{1DE3}\u{1DE4}\u{1DE5}\u{1DE6}\u{1DFE}\u{20D0}\u{20D1}\u{20D4}\u{20D5}\u{20D6}\
    \u{20D7}\u{20DB}\u{20DC}\u{20E1}\u{20E7}\u{20E9}\u{20F0}\u{2CEF}\u{2CF0}\u{2CF1}\
    \u{2DE0}\u{2DE1}\u{2DE2}\u{2DE3}\u{2DE4}\u{2DE5}\u{2DE6}\u{2DE7}\u{2DE8}\u{2DE9}\
    \u{2DEA}\u{2DEB}\u{2DEC}\u{2DED}\u{2DEE}\u{2DEF}\u{2DF0}\u{2DF1}\u{2DF2}\u{2DF3}\
    \u{2DF4}\u{2DF5}\u{2DF6}\u{2DF7}\u{2DF8}\u{2DF9}\u{2DFA}\u{2DFB}\u{2DFC}\u{2DFD}\
    \u{2DFE}\u{2DFF}\u{A66F}\u{A67C}\u{A67D}\u{A6F0}\u{A6F1}\u{A8E0}\u{A8E1}\u{A8E2}\
    \u{A8E3}\u{A8E4}\u{A8E5}\u{A8E6}\u{A8E7}\u{A8E8}\u{A8E9}\u{A8EA}\u{A8EB}\u{A8EC}\
    \u{A8ED}\u{A8EE}\u{A8EF}\u{A8F0}\u{A8F1}\u{AAB0}\u{AAB2}\u{AAB3}\u{AAB7}\u{AAB8}\
    \u{AABE}\u{AABF}\u{AAC1}\u{FE20}\u{FE21}\u{FE22}\u{FE23}\u{FE24}\u{FE25}\u{FE26}\
    \u{10A0F}\u{10A38}\u{1D185}\u{1D186}\u{1D187}\u{1D188}\u{1D189}\u{1D1AA}\u{1D1AB}\
    \u{1D1AC}\u{1D1AD}";

fn diacritic_index(c: char) -> Option<usize> {
    DIACRITICS.chars().position(|d| d == c)
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Cell {
    text: String,
    fg: Option<[u8; 3]>,
}

/// A graphics sequence, with the cell the cursor was on when it came and the offset in the
/// output just past it.
struct Shown {
    at: (u16, u16),
    end: usize,
    what: Graphic,
}

enum Graphic {
    /// A whole (possibly chunked) kitty transmission: the first chunk's keys and the data.
    Kitty(HashMap<String, String>, Vec<u8>),
    /// A sixel DCS: the parameters and data between `ESC P` and `ESC \`.
    Sixel(Vec<u8>),
    /// An iTerm2 inline file: the arguments before `:` and the decoded file.
    Iterm2(String, Vec<u8>),
}

impl Graphic {
    fn name(&self) -> &'static str {
        match self {
            Graphic::Kitty(..) => "kitty",
            Graphic::Sixel(_) => "sixel",
            Graphic::Iterm2(..) => "iTerm2",
        }
    }
}

/// The output replayed: the screen's cells ((row, column) from 0), and the pictures.
#[derive(Default)]
struct Screen {
    cells: HashMap<(u16, u16), Cell>,
    row: u16,
    col: u16,
    fg: Option<[u8; 3]>,
    pictures: Vec<Shown>,
    kitty: Option<(HashMap<String, String>, Vec<u8>)>,
    /// Cells erased with `CSI n X` (a picture's cells are, before it is drawn).
    erased: BTreeSet<(u16, u16)>,
    /// Ids of the kitty images deleted (`a=d,d=I`), in order.
    deleted: Vec<String>,
}

impl Screen {
    /// Replays `out`; an unfinished sequence at the end is left out.
    fn replay(out: &[u8]) -> Screen {
        let mut s = Screen::default();
        let mut i = 0;
        while i < out.len() {
            match out[i] {
                0x1b => {
                    let Some(&kind) = out.get(i + 1) else { break };
                    match kind {
                        b'[' => {
                            let Some(n) =
                                out[i + 2..].iter().position(|b| (0x40..0x7f).contains(b))
                            else {
                                break;
                            };
                            let params = std::str::from_utf8(&out[i + 2..i + 2 + n]).unwrap();
                            s.csi(params, out[i + 2 + n]);
                            i += 3 + n;
                        }
                        b'_' | b'P' | b']' => {
                            let body = &out[i + 2..];
                            let st = body.windows(2).position(|w| w == b"\x1b\\");
                            let bel = body.iter().position(|&b| b == 0x07);
                            let (len, term) = match (st, bel) {
                                (Some(a), Some(b)) if kind == b']' && b < a => (b, 1),
                                (_, Some(b)) if kind == b']' && st.is_none() => (b, 1),
                                (Some(a), _) => (a, 2),
                                _ => break,
                            };
                            let end = i + 2 + len + term;
                            s.string(kind, &body[..len], end);
                            i = end;
                        }
                        _ => i += 2,
                    }
                }
                b'\r' => {
                    s.col = 0;
                    i += 1;
                }
                b'\n' => {
                    s.row += 1;
                    i += 1;
                }
                b if b < 0x20 => i += 1,
                b => {
                    let n = match b {
                        0..=0x7f => 1,
                        0xc0..=0xdf => 2,
                        0xe0..=0xef => 3,
                        _ => 4,
                    };
                    let Some(bytes) = out.get(i..i + n) else {
                        break;
                    };
                    let c = std::str::from_utf8(bytes)
                        .expect("UTF-8 text")
                        .chars()
                        .next()
                        .unwrap();
                    s.put(c);
                    i += n;
                }
            }
        }
        s
    }

    /// Every character is one cell wide, but the kitty diacritics, which join the cell before.
    fn put(&mut self, c: char) {
        if diacritic_index(c).is_some() && self.col > 0 {
            if let Some(cell) = self.cells.get_mut(&(self.row, self.col - 1)) {
                cell.text.push(c);
            }
            return;
        }
        let cell = Cell {
            text: c.to_string(),
            fg: self.fg,
        };
        self.cells.insert((self.row, self.col), cell);
        self.col += 1;
    }

    fn csi(&mut self, params: &str, fin: u8) {
        let nums: Vec<u16> = params
            .trim_start_matches('?')
            .split(';')
            .map(|p| p.parse().unwrap_or(0))
            .collect();
        let n = nums[0].max(1);
        match fin {
            b'H' | b'f' => {
                self.row = nums[0].max(1) - 1;
                self.col = nums.get(1).copied().unwrap_or(1).max(1) - 1;
            }
            b'A' => self.row = self.row.saturating_sub(n),
            b'B' => self.row += n,
            b'C' => self.col += n,
            b'D' => self.col = self.col.saturating_sub(n),
            b'J' if params == "2" || params == "3" => self.cells.clear(),
            b'J' => {
                let (r, c) = (self.row, self.col);
                self.cells.retain(|&(y, x), _| y < r || (y == r && x < c));
            }
            b'K' => {
                let (r, c) = (self.row, self.col);
                self.cells.retain(|&(y, x), _| y != r || x < c);
            }
            b'X' => {
                let (r, c) = (self.row, self.col);
                self.cells
                    .retain(|&(y, x), _| y != r || x < c || x >= c + n);
                self.erased.extend((c..c + n).map(|x| (r, x)));
            }
            b'm' if !params.starts_with('?') => {
                let mut k = 0;
                while k < nums.len() {
                    match nums[k] {
                        0 | 39 => self.fg = None,
                        38 | 48 | 58 if nums.get(k + 1) == Some(&2) => {
                            if nums[k] == 38 {
                                let c = |j: usize| nums.get(k + j).copied().unwrap_or(0) as u8;
                                self.fg = Some([c(2), c(3), c(4)]);
                            }
                            k += 4;
                        }
                        38 | 48 | 58 => {
                            if nums[k] == 38 {
                                self.fg = None;
                            }
                            k += 2;
                        }
                        _ => {}
                    }
                    k += 1;
                }
            }
            _ => {}
        }
    }

    fn string(&mut self, kind: u8, body: &[u8], end: usize) {
        let at = (self.row, self.col);
        match kind {
            b'_' if body.first() == Some(&b'G') => {
                let text = std::str::from_utf8(&body[1..]).unwrap();
                let (keys, payload) = text.split_once(';').unwrap_or((text, ""));
                let keys: HashMap<String, String> = keys
                    .split(',')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                match keys.get("a").map(String::as_str) {
                    Some("q") => return, // the capability query
                    Some("d") => {
                        self.deleted
                            .push(keys.get("i").cloned().unwrap_or_default());
                        return;
                    }
                    Some("p") | Some("f") => return, // placements and frame edits
                    _ => {}
                }
                let more = keys.get("m").is_some_and(|m| m == "1");
                let (first, mut data) = match self.kitty.take() {
                    Some(pending) => pending,
                    None => (keys, Vec::new()),
                };
                data.extend(base64(payload.as_bytes()));
                if more {
                    self.kitty = Some((first, data));
                } else {
                    self.pictures.push(Shown {
                        at,
                        end,
                        what: Graphic::Kitty(first, data),
                    });
                }
            }
            b'P' => {
                let params_end = body.iter().position(|b| !b"0123456789;".contains(b));
                if params_end.is_some_and(|p| body[p] == b'q') {
                    self.pictures.push(Shown {
                        at,
                        end,
                        what: Graphic::Sixel(body.to_vec()),
                    });
                }
            }
            b']' => {
                let text = std::str::from_utf8(body).unwrap();
                if let Some(file) = text.strip_prefix("1337;File=") {
                    let (args, data) = file.split_once(':').unwrap();
                    self.pictures.push(Shown {
                        at,
                        end,
                        what: Graphic::Iterm2(args.to_string(), base64(data.as_bytes())),
                    });
                }
            }
            _ => {}
        }
    }

    fn text(&self, row: u16, col: u16) -> &str {
        self.cells.get(&(row, col)).map_or(" ", |c| c.text.as_str())
    }

    /// The cells inside the frame block, as (columns, rows) from cell (1, 1): the block's
    /// top-left corner is the screen's, its right edge is the first `┐` of the top row and its
    /// bottom the first `└` of the left column.
    fn frame_interior(&self) -> (u16, u16) {
        assert_eq!(self.text(0, 0), "┌", "no frame block at the top left");
        let right = (1..COLS).find(|&c| self.text(0, c) == "┐").expect("┐");
        let bottom = (1..ROWS).find(|&r| self.text(r, 0) == "└").expect("└");
        (right - 1, bottom - 1)
    }

    /// Whether the last picture is complete and the synchronized update that carried it
    /// has ended (`out` is what was replayed).
    fn drawn(&self, out: &[u8]) -> bool {
        self.kitty.is_none()
            && self
                .pictures
                .last()
                .is_some_and(|p| out[p.end..].windows(8).any(|w| w == b"\x1b[?2026l"))
    }
}

// ---------------------------------------------------------------------------------------------
// Decoders.

fn base64(text: &[u8]) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a') as u32 + 26,
            b'0'..=b'9' => (c - b'0') as u32 + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {:?}", c as char),
        }
    };
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0);
    for &c in text.iter().take_while(|&&c| c != b'=') {
        acc = (acc << 6) | value(c);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// An RGBA picture; alpha 0 where nothing was drawn.
struct Picture {
    w: usize,
    h: usize,
    px: Vec<[u8; 4]>,
}

fn decode_png(bytes: &[u8]) -> Picture {
    let mut dec = png::Decoder::new(std::io::Cursor::new(bytes));
    dec.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = dec.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let (w, h) = (info.width as usize, info.height as usize);
    let px: Vec<[u8; 4]> = match info.color_type {
        png::ColorType::Rgba => buf.chunks(4).map(|p| [p[0], p[1], p[2], p[3]]).collect(),
        png::ColorType::Rgb => buf.chunks(3).map(|p| [p[0], p[1], p[2], 255]).collect(),
        other => panic!("PNG colour type {other:?}"),
    };
    assert_eq!(px.len(), w * h);
    Picture { w, h, px }
}

/// A kitty transmission: `f=32` RGBA, `f=24` RGB (`s`x`v`) or `f=100` PNG, deflated
/// (`o=z`) only where the terminal said it can inflate.
fn decode_kitty(keys: &HashMap<String, String>, data: &[u8], inflates: bool) -> Picture {
    assert_eq!(keys.get("a").map(String::as_str), Some("T"), "{keys:?}");
    let inflated;
    let data = match keys.get("o").map(String::as_str) {
        None => data,
        Some("z") if inflates => {
            let mut raw = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(data), &mut raw)
                .expect("o=z payload is a zlib stream");
            inflated = raw;
            &inflated[..]
        }
        Some(o) => panic!("o={o}, but this terminal never offered it: {keys:?}"),
    };
    let dim = |k: &str| -> usize { keys[k].parse().unwrap() };
    let format = keys.get("f").map_or("32", String::as_str);
    let bpp = match format {
        "100" => return decode_png(data),
        "32" => 4,
        "24" => 3,
        other => panic!("kitty format f={other}"),
    };
    let (w, h) = (dim("s"), dim("v"));
    assert_eq!(data.len(), w * h * bpp, "kitty data for {w}x{h} f={format}");
    let px = data
        .chunks(bpp)
        .map(|p| [p[0], p[1], p[2], if bpp == 4 { p[3] } else { 255 }])
        .collect();
    Picture { w, h, px }
}

/// The keys and data of a kitty picture; any other protocol fails the test.
fn kitty_of(picture: &Shown) -> (&HashMap<String, String>, &Vec<u8>) {
    match &picture.what {
        Graphic::Kitty(keys, data) => (keys, data),
        other => panic!("not a kitty image but {}", other.name()),
    }
}

/// A sixel image (`P...q` then data): raster attributes `"Pan;Pad;Ph;Pv`, colour registers
/// `#n;2;r;g;b` in percent, `#n` selections, `!n` repeats, `$` and `-`. Pixels no sixel set
/// stay transparent (the sequence asks for that with P2=1).
fn decode_sixel(body: &[u8]) -> Picture {
    let q = body.iter().position(|&b| b == b'q').unwrap();
    let p2 = std::str::from_utf8(&body[..q]).unwrap().split(';').nth(1);
    assert_eq!(p2, Some("1"), "background must be left as it is");
    let data = &body[q + 1..];
    let mut i = 0;
    let number = |i: &mut usize| -> usize {
        let start = *i;
        while *i < data.len() && data[*i].is_ascii_digit() {
            *i += 1;
        }
        std::str::from_utf8(&data[start..*i])
            .unwrap()
            .parse()
            .unwrap_or(0)
    };
    let numbers = |i: &mut usize| -> Vec<usize> {
        let mut v = vec![number(i)];
        while data.get(*i) == Some(&b';') {
            *i += 1;
            v.push(number(i));
        }
        v
    };
    let (mut w, mut h) = (0, 0);
    let mut colours: HashMap<usize, [u8; 3]> = HashMap::new();
    let mut colour = [0u8; 3];
    let mut set: HashMap<(usize, usize), [u8; 3]> = HashMap::new();
    let (mut x, mut band) = (0, 0);
    while i < data.len() {
        let c = data[i];
        i += 1;
        let mut repeat = 1;
        match c {
            b'"' => {
                let v = numbers(&mut i);
                (w, h) = (v[2], v[3]);
                continue;
            }
            b'#' => {
                let v = numbers(&mut i);
                if v.len() > 1 {
                    assert_eq!(v[1], 2, "RGB colour register");
                    let pct = |p: usize| ((p * 255 + 50) / 100) as u8;
                    colours.insert(v[0], [pct(v[2]), pct(v[3]), pct(v[4])]);
                }
                colour = colours[&v[0]];
                continue;
            }
            b'$' => {
                x = 0;
                continue;
            }
            b'-' => {
                x = 0;
                band += 1;
                continue;
            }
            b'!' => {
                repeat = number(&mut i);
            }
            0x3f..=0x7e => i -= 1,
            _ => continue,
        }
        let bits = data[i] - 0x3f;
        i += 1;
        for _ in 0..repeat {
            for bit in 0..6 {
                if bits & (1 << bit) != 0 {
                    set.insert((x, band * 6 + bit), colour);
                }
            }
            x += 1;
        }
    }
    assert!(w > 0 && h > 0, "no raster attributes");
    let mut px = vec![[0u8; 4]; w * h];
    for ((x, y), [r, g, b]) in set {
        assert!(x < w && y < h, "sixel pixel ({x}, {y}) outside {w}x{h}");
        px[y * w + x] = [r, g, b, 255];
    }
    Picture { w, h, px }
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

/// kitty that can inflate: the frame goes out deflated (`o=z`), many times smaller than
/// the raw pixels, and inflates to the same pixels.
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
    assert_eq!((pic.w, pic.h), (W, H), "{keys:?}");
    assert_shows_png(&pic, (W, H), 0);
    let raw = pic.w * pic.h * 3;
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
    let place = fit_cells(
        W as u32,
        H as u32,
        interior_rect(&screen),
        (10, 20),
        MAX_SCALE,
    )
    .unwrap();
    assert_eq!(
        (
            keys["c"].parse::<u16>().unwrap(),
            keys["r"].parse::<u16>().unwrap()
        ),
        (place.cols, place.rows)
    );
}

/// A terminal whose reported cell size is 0x0 (and whose pty has no pixel size): the
/// default 10x20-pixel cells are used, never a division by zero or an absurd placement.
#[test]
fn a_cell_size_of_zero_falls_back_to_the_default() {
    let caps = "\x1b_Gi=31;OK\x1b\\\x1b[6;0;0t\x1b[?62;22c";
    let (run, screen, picture) = watch_until_drawn("kitty-cell0", &["--protocol", "kitty"], caps);
    assert_clean_exit(&run);
    let (keys, _) = kitty_of(&picture);
    let place = fit_cells(
        W as u32,
        H as u32,
        interior_rect(&screen),
        (10, 20),
        MAX_SCALE,
    )
    .unwrap();
    assert_eq!(
        (
            keys["c"].parse::<u16>().unwrap(),
            keys["r"].parse::<u16>().unwrap()
        ),
        (place.cols, place.rows),
        "{keys:?}"
    );
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
