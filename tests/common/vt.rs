//! A terminal, as far as the monitor's output needs one: output replayed into cells
//! (cursor, text, colours, erases) and the graphics sequences it carries (kitty,
//! sixel, iTerm2) decoded back to pixels.

use std::collections::{BTreeSet, HashMap};

/// How many times `needle` occurs in `hay`.
pub fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// The output with escapes made visible and long payloads cut, for failure messages.
pub fn shown(out: &[u8]) -> String {
    let s = String::from_utf8_lossy(out).replace('\x1b', "^[");
    let cut: String = s.chars().take(4000).collect();
    if cut.len() < s.len() {
        format!("{cut}… ({} bytes)", out.len())
    } else {
        cut
    }
}

/// The kitty placeholder character, and the diacritics that number rows, columns and the
/// image id's high byte (kitty's rowcolumn-diacritics.txt, in order).
pub const PLACEHOLDER: char = '\u{10EEEE}';
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

/// The number a kitty diacritic stands for (its place in the list), if it is one.
pub fn diacritic_index(c: char) -> Option<usize> {
    DIACRITICS.chars().position(|d| d == c)
}

/// One screen cell: its text (a character and any diacritics joined to it) and colour.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cell {
    /// The cell's text.
    pub text: String,
    /// Its foreground colour, if set.
    pub fg: Option<[u8; 3]>,
    /// Its background colour, if set.
    pub bg: Option<[u8; 3]>,
}

impl Cell {
    /// The two pixels of a half-block cell (top, bottom), as the renderer draws them: `▀`
    /// foreground over background, `▄` the other way, `█` foreground, a space background.
    pub fn halfblock(&self) -> Option<([u8; 3], [u8; 3])> {
        match self.text.as_str() {
            "▀" => Some((self.fg?, self.bg?)),
            "▄" => Some((self.bg?, self.fg?)),
            "█" => Some((self.fg?, self.fg?)),
            " " => Some((self.bg?, self.bg?)),
            _ => None,
        }
    }
}

/// A graphics sequence, with the cell the cursor was on when it came and the offset in the
/// output just past it.
pub struct Shown {
    /// The cursor cell where it was drawn.
    pub at: (u16, u16),
    /// The offset in the output just past it.
    pub end: usize,
    /// What was drawn.
    pub what: Graphic,
}

/// A picture's escape sequence, by protocol.
pub enum Graphic {
    /// A whole (possibly chunked) kitty transmission: the first chunk's keys and the data.
    Kitty(HashMap<String, String>, Vec<u8>),
    /// A sixel DCS: the parameters and data between `ESC P` and `ESC \`.
    Sixel(Vec<u8>),
    /// An iTerm2 inline file: the arguments before `:` and the decoded file.
    Iterm2(String, Vec<u8>),
}

impl Graphic {
    /// The protocol's name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Graphic::Kitty(..) => "kitty",
            Graphic::Sixel(_) => "sixel",
            Graphic::Iterm2(..) => "iTerm2",
        }
    }
}

/// The output replayed: the screen's cells ((row, column) from 0), and the pictures.
#[derive(Default)]
pub struct Screen {
    /// Text cells by (column, row).
    pub cells: HashMap<(u16, u16), Cell>,
    row: u16,
    col: u16,
    fg: Option<[u8; 3]>,
    bg: Option<[u8; 3]>,
    /// Pictures in the order drawn.
    pub pictures: Vec<Shown>,
    kitty: Option<(HashMap<String, String>, Vec<u8>)>,
    /// Cells erased with `CSI n X` (a picture's cells are, before it is drawn).
    pub erased: BTreeSet<(u16, u16)>,
    /// Ids of the kitty images deleted (`a=d,d=I`), in order.
    pub deleted: Vec<String>,
}

impl Screen {
    /// Replays `out`; an unfinished sequence at the end is left out.
    pub fn replay(out: &[u8]) -> Screen {
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
            bg: self.bg,
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
                        0 => (self.fg, self.bg) = (None, None),
                        39 => self.fg = None,
                        49 => self.bg = None,
                        38 | 48 | 58 if nums.get(k + 1) == Some(&2) => {
                            let c = |j: usize| nums.get(k + j).copied().unwrap_or(0) as u8;
                            let rgb = Some([c(2), c(3), c(4)]);
                            match nums[k] {
                                38 => self.fg = rgb,
                                48 => self.bg = rgb,
                                _ => {}
                            }
                            k += 4;
                        }
                        38 | 48 | 58 => {
                            match nums[k] {
                                38 => self.fg = None,
                                48 => self.bg = None,
                                _ => {}
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

    /// The text of the cell at (`row`, `col`); a space where nothing was written.
    pub fn text(&self, row: u16, col: u16) -> &str {
        self.cells.get(&(row, col)).map_or(" ", |c| c.text.as_str())
    }

    /// The cells inside the frame block, as (columns, rows) from cell (1, 1): the block's
    /// top-left corner is the screen's, its right edge is the first `┐` of the top row and its
    /// bottom the first `└` of the left column.
    pub fn frame_interior(&self) -> (u16, u16) {
        assert_eq!(self.text(0, 0), "┌", "no frame block at the top left");
        let first = |corner: &str, on: fn(u16, u16) -> Option<u16>| {
            let found = self.cells.iter().filter(|(_, c)| c.text == corner);
            found.filter_map(|(&(r, c), _)| on(r, c)).min()
        };
        let right = first("┐", |r, c| (r == 0).then_some(c)).expect("┐");
        let bottom = first("└", |r, c| (c == 0).then_some(r)).expect("└");
        (right - 1, bottom - 1)
    }

    /// Whether the last picture is complete and the synchronized update that carried it
    /// has ended (`out` is what was replayed).
    pub fn drawn(&self, out: &[u8]) -> bool {
        self.kitty.is_none()
            && self
                .pictures
                .last()
                .is_some_and(|p| out[p.end..].windows(8).any(|w| w == b"\x1b[?2026l"))
    }
}

// ---------------------------------------------------------------------------------------------
// Decoders.

/// Decodes standard base64 (padding optional); any other byte fails the test.
pub fn base64(text: &[u8]) -> Vec<u8> {
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
pub struct Picture {
    /// Width in pixels.
    pub w: usize,
    /// Height in pixels.
    pub h: usize,
    /// Pixels, row by row.
    pub px: Vec<[u8; 4]>,
}

/// Decodes a PNG into RGBA.
pub fn decode_png(bytes: &[u8]) -> Picture {
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
pub fn decode_kitty(keys: &HashMap<String, String>, data: &[u8], inflates: bool) -> Picture {
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
pub fn kitty_of(picture: &Shown) -> (&HashMap<String, String>, &Vec<u8>) {
    match &picture.what {
        Graphic::Kitty(keys, data) => (keys, data),
        other => panic!("not a kitty image but {}", other.name()),
    }
}

/// A sixel image (`P...q` then data): raster attributes `"Pan;Pad;Ph;Pv`, colour registers
/// `#n;2;r;g;b` in percent, `#n` selections, `!n` repeats, `$` and `-`. Pixels no sixel set
/// stay transparent (the sequence asks for that with P2=1).
pub fn decode_sixel(body: &[u8]) -> Picture {
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
