//! A half-block renderer built for video: each terminal cell shows two pixels (`▀` with a
//! foreground and a background colour), only cells that changed since the last frame are
//! rewritten, colour codes are as short as the colour mode allows, and an identical frame
//! costs zero bytes.

use ratatui::layout::Rect;

/// How colours are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    /// 24-bit `38;2;r;g;b`: exact, longest codes.
    TrueColor,
    /// The xterm 256-colour cube and grey ramp (indexes 16-255, never the themable 0-15):
    /// `38;5;n`, about half the bytes.
    Ansi256,
}

impl ColorMode {
    /// The mode's short name.
    pub fn name(self) -> &'static str {
        match self {
            ColorMode::TrueColor => "truecolour",
            ColorMode::Ansi256 => "256",
        }
    }
}

/// A cell colour: packed RGB (truecolour) or a palette index (256), or the terminal's
/// default background for cells outside the image.
type Colour = u32;
const DEFAULT_BG: Colour = u32::MAX;

/// What a cell shows: top and bottom pixel colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cell {
    top: Colour,
    bottom: Colour,
}

const BLANK: Cell = Cell {
    top: DEFAULT_BG,
    bottom: DEFAULT_BG,
};

/// Renders RGBA frames into one rectangle of the terminal, rewriting only changed cells.
#[derive(Debug)]
pub struct HalfblockRenderer {
    mode: ColorMode,
    area: Rect,
    /// What the terminal shows now, per cell of `area`; `None` = unknown (redraw).
    shown: Vec<Option<Cell>>,
    next: Vec<Cell>,
    last_key: Option<(u64, u32, u32, bool)>,
    quant_cache: (u32, Colour),
    resample_time: std::time::Duration,
}

/// The largest image (in cells) of a `width`x`height` frame that fits `cols`x`rows` cells,
/// at most `max_scale` times the native size (one pixel per column, two per row).
pub fn fit(width: u32, height: u32, cols: u16, rows: u16, max_scale: u32) -> (u16, u16) {
    if width == 0 || height == 0 || cols == 0 || rows == 0 {
        return (0, 0);
    }
    let (w, h) = (width as u64, height as u64);
    let k = max_scale.max(1) as u64;
    // Pixel rows available: 2 per cell row. Fit w x h into cols x 2*rows, keeping aspect.
    let max_w = (cols as u64).min(w * k);
    let max_h = (2 * rows as u64).min(h * k);
    let (tw, th) = if max_w * h <= max_h * w {
        (max_w, (max_w * h / w).max(1))
    } else {
        ((max_h * w / h).max(1), max_h)
    };
    (tw as u16, th.div_ceil(2) as u16)
}

impl HalfblockRenderer {
    /// A renderer writing colours in `mode`; the first frame is drawn in full.
    pub fn new(mode: ColorMode) -> HalfblockRenderer {
        HalfblockRenderer {
            mode,
            area: Rect::default(),
            shown: Vec::new(),
            next: Vec::new(),
            last_key: None,
            quant_cache: (u32::MAX, 0),
            resample_time: std::time::Duration::ZERO,
        }
    }

    /// The colour mode it writes.
    pub fn mode(&self) -> ColorMode {
        self.mode
    }

    /// Time the last `render` spent resampling the frame to the cell grid (zero when it
    /// skipped an unchanged frame).
    pub fn last_resample_time(&self) -> std::time::Duration {
        self.resample_time
    }

    /// Forgets what the terminal shows: the next frame is drawn in full.
    pub fn invalidate(&mut self) {
        self.shown.iter_mut().for_each(|c| *c = None);
        self.last_key = None;
    }

    /// Draws `rgba` (`width`x`height`) centred in `area` at most `max_scale`x, appending the
    /// escape codes to `out`; returns the bytes appended. `content_id` (non-zero) lets an
    /// unchanged frame skip all work. `dim` greys the image (offline sources).
    #[allow(clippy::too_many_arguments)]
    pub fn render(
        &mut self,
        rgba: &[u8],
        width: u32,
        height: u32,
        content_id: u64,
        area: Rect,
        max_scale: u32,
        dim: bool,
        out: &mut Vec<u8>,
    ) -> usize {
        if area != self.area {
            self.area = area;
            self.shown = vec![None; area.width as usize * area.height as usize];
            self.last_key = None;
        }
        let key = (content_id, width, max_scale, dim);
        self.resample_time = std::time::Duration::ZERO;
        if content_id != 0 && self.last_key == Some(key) {
            return 0;
        }
        self.last_key = Some(key);
        let t0 = std::time::Instant::now();
        self.layout_cells(rgba, width, height, max_scale, dim);
        self.resample_time = t0.elapsed();
        let start = out.len();
        self.emit(out);
        out.len() - start
    }

    fn layout_cells(&mut self, rgba: &[u8], width: u32, height: u32, max_scale: u32, dim: bool) {
        let (cols, rows) = (self.area.width as usize, self.area.height as usize);
        self.next.clear();
        self.next.resize(cols * rows, BLANK);
        let ok = rgba.len() >= width as usize * height as usize * 4;
        let (tw, th) = if ok {
            fit(width, height, cols as u16, rows as u16, max_scale)
        } else {
            (0, 0)
        };
        let (tw, th) = (tw as usize, th as usize);
        if tw == 0 || th == 0 {
            return;
        }
        let (w, h) = (width as usize, height as usize);
        // Pixel rows of the target image (2 per cell row, the last may be half empty).
        let img_h = (tw * h / w).clamp(1, 2 * th.min(rows));
        let x0 = (cols - tw) / 2;
        let y0 = (rows - img_h.div_ceil(2)) / 2;
        let sx: Vec<usize> = (0..tw).map(|c| c * w / tw).collect();
        for r in 0..img_h.div_ceil(2) {
            let top_y = (2 * r) * h / img_h;
            let bottom_y = if 2 * r + 1 < img_h {
                Some((2 * r + 1) * h / img_h)
            } else {
                None
            };
            let row = (y0 + r) * cols + x0;
            for (c, &x) in sx.iter().enumerate() {
                let top = self.colour(rgba, (top_y * w + x) * 4, dim);
                let bottom = match bottom_y {
                    Some(y) => self.colour(rgba, (y * w + x) * 4, dim),
                    None => DEFAULT_BG,
                };
                self.next[row + c] = Cell { top, bottom };
            }
        }
    }

    fn colour(&mut self, rgba: &[u8], i: usize, dim: bool) -> Colour {
        let (mut r, mut g, mut b) = (rgba[i], rgba[i + 1], rgba[i + 2]);
        if dim {
            (r, g, b) = dimmed(r, g, b);
        }
        let packed = (r as u32) << 16 | (g as u32) << 8 | b as u32;
        match self.mode {
            ColorMode::TrueColor => packed,
            ColorMode::Ansi256 => {
                if self.quant_cache.0 != packed {
                    self.quant_cache = (packed, ansi256(r, g, b) as Colour);
                }
                self.quant_cache.1
            }
        }
    }

    fn emit(&mut self, out: &mut Vec<u8>) {
        let cols = self.area.width as usize;
        let (mut fg, mut bg): (Option<Colour>, Option<Colour>) = (None, None);
        let mut cursor: Option<(usize, usize)> = None;
        let mut wrote = false;
        for i in 0..self.next.len() {
            let cell = self.next[i];
            if self.shown[i] == Some(cell) {
                continue;
            }
            self.shown[i] = Some(cell);
            let (x, y) = (i % cols, i / cols);
            match cursor {
                Some((cx, cy)) if cy == y && cx == x => {}
                Some((cx, cy)) if cy == y && cx < x => {
                    let n = x - cx;
                    out.extend_from_slice(b"\x1b[");
                    if n > 1 {
                        push_num(out, n as u32);
                    }
                    out.push(b'C');
                }
                _ => {
                    out.extend_from_slice(b"\x1b[");
                    push_num(out, self.area.y as u32 + y as u32 + 1);
                    out.push(b';');
                    push_num(out, self.area.x as u32 + x as u32 + 1);
                    out.push(b'H');
                }
            }
            cursor = Some((x + 1, y));
            wrote = true;
            // Pick the glyph that needs the fewest colour changes from the current state.
            let (glyph, want_fg, want_bg): (&[u8], Option<Colour>, Option<Colour>) =
                if cell.top == cell.bottom {
                    if bg == Some(cell.top) {
                        (b" ", None, None)
                    } else if fg == Some(cell.top) && cell.top != DEFAULT_BG {
                        ("█".as_bytes(), None, None)
                    } else {
                        (b" ", None, Some(cell.top))
                    }
                } else if cell.top == DEFAULT_BG {
                    ("▄".as_bytes(), Some(cell.bottom), Some(DEFAULT_BG))
                } else if cell.bottom == DEFAULT_BG {
                    ("▀".as_bytes(), Some(cell.top), Some(DEFAULT_BG))
                } else {
                    let upper = (fg != Some(cell.top)) as u8 + (bg != Some(cell.bottom)) as u8;
                    let lower = (fg != Some(cell.bottom)) as u8 + (bg != Some(cell.top)) as u8;
                    if lower < upper {
                        ("▄".as_bytes(), Some(cell.bottom), Some(cell.top))
                    } else {
                        ("▀".as_bytes(), Some(cell.top), Some(cell.bottom))
                    }
                };
            let set_fg = want_fg.filter(|c| fg != Some(*c));
            let set_bg = want_bg.filter(|c| bg != Some(*c));
            if set_fg.is_some() || set_bg.is_some() {
                out.extend_from_slice(b"\x1b[");
                if let Some(c) = set_fg {
                    self.push_colour(out, c, true);
                    fg = Some(c);
                }
                if let Some(c) = set_bg {
                    if set_fg.is_some() {
                        out.push(b';');
                    }
                    self.push_colour(out, c, false);
                    bg = Some(c);
                }
                out.push(b'm');
            }
            out.extend_from_slice(glyph);
        }
        if wrote {
            out.extend_from_slice(b"\x1b[0m");
        }
    }

    fn push_colour(&self, out: &mut Vec<u8>, c: Colour, fg: bool) {
        if c == DEFAULT_BG {
            out.extend_from_slice(if fg { b"39" } else { b"49" });
            return;
        }
        out.extend_from_slice(if fg { b"38;" } else { b"48;" });
        match self.mode {
            ColorMode::TrueColor => {
                out.extend_from_slice(b"2;");
                push_num(out, c >> 16);
                out.push(b';');
                push_num(out, (c >> 8) & 0xff);
                out.push(b';');
                push_num(out, c & 0xff);
            }
            ColorMode::Ansi256 => {
                out.extend_from_slice(b"5;");
                push_num(out, c);
            }
        }
    }
}

fn push_num(out: &mut Vec<u8>, n: u32) {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

fn cube_index(v: u8) -> usize {
    match v {
        0..=47 => 0,
        48..=114 => 1,
        _ => ((v as usize - 35) / 40).min(5),
    }
}

/// The nearest xterm colour among indexes 16-255 (6x6x6 cube and 24 greys).
pub fn ansi256(r: u8, g: u8, b: u8) -> u8 {
    let dist = |a: (u8, u8, u8)| {
        let d = |x: u8, y: u8| (x as i32 - y as i32).pow(2);
        d(a.0, r) + d(a.1, g) + d(a.2, b)
    };
    let (ci, cj, ck) = (cube_index(r), cube_index(g), cube_index(b));
    let cube = (CUBE[ci], CUBE[cj], CUBE[ck]);
    let avg = (r as u32 + g as u32 + b as u32) / 3;
    let gi = if avg > 238 {
        23
    } else {
        (avg.saturating_sub(3) / 10).min(23)
    };
    let gv = (8 + 10 * gi) as u8;
    if dist((gv, gv, gv)) < dist(cube) {
        232 + gi as u8
    } else {
        16 + 36 * ci as u8 + 6 * cj as u8 + ck as u8
    }
}

/// The dark grey an offline source's pixel is shown in: its brightness, a third as strong.
pub fn dimmed(r: u8, g: u8, b: u8) -> (u8, u8, u8) {
    let y = ((r as u32 * 77 + g as u32 * 150 + b as u32 * 29) >> 8) as u8;
    let v = 40 + y / 3;
    (v, v, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
        let mut v = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let [r, g, b] = f(x, y);
                v.extend_from_slice(&[r, g, b, 255]);
            }
        }
        v
    }

    #[test]
    fn fit_keeps_aspect_and_caps_scale() {
        assert_eq!(fit(160, 144, 200, 100, 1), (160, 72));
        assert_eq!(fit(160, 144, 80, 100, 1), (80, 36));
        assert_eq!(fit(160, 144, 400, 200, 2), (320, 144));
        assert_eq!(fit(160, 144, 0, 10, 1), (0, 0));
    }

    #[test]
    fn identical_frame_costs_nothing_and_changed_cells_only() {
        for mode in [ColorMode::TrueColor, ColorMode::Ansi256] {
            let mut r = HalfblockRenderer::new(mode);
            let area = Rect::new(0, 0, 16, 8);
            let a = frame(16, 16, |x, y| [(x * 16) as u8, (y * 16) as u8, 0]);
            let mut out = Vec::new();
            let first = r.render(&a, 16, 16, 1, area, 1, false, &mut out);
            assert!(first > 0);
            assert!(
                !r.last_resample_time().is_zero(),
                "a new frame is resampled"
            );
            // Same content id: no work, no bytes.
            assert_eq!(r.render(&a, 16, 16, 1, area, 1, false, &mut out), 0);
            assert!(
                r.last_resample_time().is_zero(),
                "an unchanged frame is not"
            );
            // Same pixels under a new id: compared cell by cell, still no bytes.
            assert_eq!(r.render(&a, 16, 16, 2, area, 1, false, &mut out), 0);
            // One pixel changed: one cell rewritten, far fewer bytes than a full frame.
            let mut b = a.clone();
            b[(5 * 16 + 3) * 4] ^= 0xff;
            out.clear();
            let one = r.render(&b, 16, 16, 3, area, 1, false, &mut out);
            assert!(
                one > 0 && one < 50 && one * 8 < first,
                "{mode:?}: {one} bytes"
            );
            let text = String::from_utf8(out.clone()).unwrap();
            assert!(text.starts_with("\x1b[3;4H"), "{text:?}");
            assert_eq!(text.matches(['▀', '▄', '█', ' ']).count(), 1);
        }
    }

    #[test]
    fn invalidate_redraws_everything() {
        let mut r = HalfblockRenderer::new(ColorMode::Ansi256);
        let area = Rect::new(2, 1, 4, 2);
        let a = frame(4, 4, |x, _| [x as u8 * 60, 0, 0]);
        let mut out = Vec::new();
        let n = r.render(&a, 4, 4, 1, area, 1, false, &mut out);
        r.invalidate();
        let mut again = Vec::new();
        assert_eq!(r.render(&a, 4, 4, 1, area, 1, false, &mut again), n);
        assert_eq!(out, again);
    }

    #[test]
    fn colours_are_exact_in_truecolour() {
        let mut r = HalfblockRenderer::new(ColorMode::TrueColor);
        let a = frame(
            1,
            2,
            |_, y| if y == 0 { [1, 2, 3] } else { [250, 251, 252] },
        );
        let mut out = Vec::new();
        r.render(&a, 1, 2, 1, Rect::new(0, 0, 1, 1), 1, false, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "\x1b[1;1H\x1b[38;2;1;2;3;48;2;250;251;252m▀\x1b[0m");
    }

    #[test]
    fn ansi256_picks_nearest_and_avoids_theme_colours() {
        assert_eq!(ansi256(0, 0, 0), 16);
        assert_eq!(ansi256(255, 255, 255), 231);
        assert_eq!(ansi256(255, 0, 0), 196);
        assert_eq!(ansi256(0x99, 0x99, 0x99), 247);
        assert_eq!(ansi256(0x55, 0x55, 0x55), 240);
        for v in 0..=255u8 {
            assert!(ansi256(v, v / 2, 255 - v) >= 16);
        }
    }
}
