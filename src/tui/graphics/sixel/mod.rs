//! A sixel encoder for pixel art: the frame is scaled by nearest neighbour (whole-number
//! scales when enlarging, as [`super::fit_pixels`] picks them), its colours become the
//! palette exactly when there are at most 256 of them (a Game Boy frame has a handful), and
//! every colour's rows are run-length encoded. Frames with more colours are quantised to a
//! 6x6x6 cube.
//!
//! Each six-row band starts with its commonest colour painted across it in one run; the
//! other colours are drawn over it where they are, so the commonest costs a few bytes.
//!
//! Work is done at the frame's own width: columns that repeat one source column are one
//! run of the scaled length, so a 4x picture costs about as much CPU as a 1x one. Only the
//! source pixels the picture shows are looked at. [`SixelEncoder::update_at`] redraws only
//! the bands that changed.

mod colours;
mod update;

pub use colours::MAX_EXACT_COLOURS;
pub use update::SixelShown;

use super::{check_frame, GraphicsError, PixelPlacement};
use colours::{key, Palette};

/// Reusable buffers for encoding frames to sixel.
#[derive(Debug, Default)]
pub struct SixelEncoder {
    palette: Palette,
    /// A palette index per output row and column group.
    index: Vec<u8>,
    /// Output columns grouped by the source column they show: (source column, columns).
    groups: Vec<(usize, usize)>,
    /// The band's sixels of each colour in `used_list`, one line of groups after another.
    masks: Vec<u8>,
    /// The band's colours in palette order.
    used_list: Vec<u8>,
    /// Rows x groups of each colour in `used_list` in the band.
    counts: Vec<usize>,
    /// Whether each output row differs from what the terminal shows.
    changed: Vec<bool>,
}

impl SixelEncoder {
    /// An encoder with empty buffers.
    pub fn new() -> SixelEncoder {
        SixelEncoder::default()
    }

    /// True when the last frame had more than 256 colours and was quantised.
    pub fn quantised(&self) -> bool {
        self.palette.quantised()
    }

    /// Colours in the last frame's palette.
    pub fn colours(&self) -> usize {
        self.palette.colours.len()
    }

    /// Draws `rgba` (`width`x`height`) scaled to `place` with its top-left corner at the top
    /// left of cell (`place.col`, `place.row`), keeping the cursor where it was. Returns the
    /// bytes appended to `out`.
    pub fn encode_at(
        &mut self,
        rgba: &[u8],
        width: u32,
        height: u32,
        place: PixelPlacement,
        out: &mut Vec<u8>,
    ) -> Result<usize, GraphicsError> {
        let start = out.len();
        cursor_to(out, place.row, place.col);
        if let Err(e) = self.encode(rgba, width, height, place.width, place.height, out) {
            out.truncate(start); // nothing sent, not even the cursor move
            return Err(e);
        }
        out.extend_from_slice(b"\x1b8");
        Ok(out.len() - start)
    }

    /// The sixel image (DCS ... ST) of `rgba` (`width`x`height`) scaled to `out_w`x`out_h`
    /// pixels, appended to `out`; returns the bytes appended.
    pub fn encode(
        &mut self,
        rgba: &[u8],
        width: u32,
        height: u32,
        out_w: u32,
        out_h: u32,
        out: &mut Vec<u8>,
    ) -> Result<usize, GraphicsError> {
        self.scale(rgba, width, height, out_w, out_h)?;
        let start = out.len();
        self.write_image(out_w as usize, 0..out_h as usize, |_| true, out);
        Ok(out.len() - start)
    }

    /// Fills `self.groups`, `self.index` and the palette with the picture of `rgba`
    /// scaled to `out_w`x`out_h`.
    fn scale(
        &mut self,
        rgba: &[u8],
        width: u32,
        height: u32,
        out_w: u32,
        out_h: u32,
    ) -> Result<(), GraphicsError> {
        check_frame(rgba, width, height)?;
        if out_w == 0 || out_h == 0 || out_w > super::MAX_SIDE || out_h > super::MAX_SIDE {
            return Err(GraphicsError::BadSize {
                width: out_w,
                height: out_h,
                max: super::MAX_SIDE,
            });
        }
        let (w, h) = (width as usize, height as usize);
        let (ow, oh) = (out_w as usize, out_h as usize);
        self.groups.clear();
        for x in 0..ow {
            let sx = x * w / ow;
            match self.groups.last_mut() {
                Some((g, n)) if *g == sx => *n += 1,
                _ => self.groups.push((sx, 1)),
            }
        }
        self.palette.clear();
        if !self.index_pixels(rgba, w, h, oh) {
            self.palette.start_quantising();
            self.index_pixels(rgba, w, h, oh);
        }
        Ok(())
    }

    /// Fills `self.index` with the palette index of every shown pixel (one per row and
    /// group); false when the palette filled up (then the index is incomplete).
    fn index_pixels(&mut self, rgba: &[u8], w: usize, h: usize, oh: usize) -> bool {
        let ng = self.groups.len();
        self.index.resize(oh * ng, 0);
        let mut last_sy = usize::MAX;
        for y in 0..oh {
            let sy = y * h / oh;
            if sy == last_sy {
                self.index.copy_within((y - 1) * ng..y * ng, y * ng);
                continue;
            }
            last_sy = sy;
            let row = &rgba[sy * w * 4..][..w * 4];
            let dst = &mut self.index[y * ng..][..ng];
            if self.palette.quantised() {
                for (d, &(sx, _)) in dst.iter_mut().zip(&self.groups) {
                    *d = self.palette.quantise(key(&row[sx * 4..sx * 4 + 4]));
                }
                continue;
            }
            let mut x = 0;
            while x < ng {
                x += self.palette.known(row, &self.groups[x..], &mut dst[x..]);
                if x < ng {
                    let sx = self.groups[x].0;
                    match self.palette.exact(key(&row[sx * 4..sx * 4 + 4])) {
                        Some(i) => dst[x] = i,
                        None => return false,
                    }
                    x += 1;
                }
            }
        }
        true
    }

    /// Writes the DCS of rows `rows` of the indexed picture (`ow` wide): its palette, then
    /// every band of six rows for which `draw(first row of the band)` holds (the others are
    /// left as the terminal shows them).
    fn write_image(
        &mut self,
        ow: usize,
        rows: std::ops::Range<usize>,
        draw: impl Fn(usize) -> bool,
        out: &mut Vec<u8>,
    ) {
        // DCS P1=0 (aspect from raster attributes), P2=1 (unset pixels stay as they are),
        // 1:1 pixels, the size, then the palette in percent.
        out.extend_from_slice(b"\x1bP0;1;0q\"1;1;");
        push_num(out, ow);
        out.push(b';');
        push_num(out, rows.len());
        for (i, c) in self.palette.colours.iter().enumerate() {
            let p = |v: u8| (v as usize * 100 + 127) / 255;
            out.push(b'#');
            push_num(out, i);
            out.extend_from_slice(b";2;");
            push_num(out, p(c[0]));
            out.push(b';');
            push_num(out, p(c[1]));
            out.push(b';');
            push_num(out, p(c[2]));
        }
        let mut y = rows.start;
        while y < rows.end {
            let n = (rows.end - y).min(6);
            if draw(y) {
                self.write_band(ow, y, n, out);
            }
            y += n;
            if y < rows.end {
                out.push(b'-');
            }
        }
        out.extend_from_slice(b"\x1b\\");
    }

    /// Writes the band of `n` rows from row `y`: its commonest colour across the whole band
    /// in one run, then the other colours over it where they are.
    fn write_band(&mut self, ow: usize, y: usize, n: usize, out: &mut Vec<u8>) {
        let ng = self.groups.len();
        let band = &self.index[y * ng..(y + n) * ng];
        let mut used = [false; 256];
        for &c in band {
            used[c as usize] = true;
        }
        self.used_list.clear();
        self.used_list
            .extend((0..=255).filter(|&c| used[c as usize]));
        // Each used colour's sixels (bit r: row r is that colour) and how many pixels.
        self.masks.clear();
        self.masks.resize(self.used_list.len() * ng, 0);
        self.counts.clear();
        for (k, &c) in self.used_list.iter().enumerate() {
            let masks = &mut self.masks[k * ng..][..ng];
            for (r, row) in band.chunks_exact(ng).enumerate() {
                for (m, &i) in masks.iter_mut().zip(row) {
                    *m |= ((i == c) as u8) << r;
                }
            }
            self.counts
                .push(masks.iter().map(|m| m.count_ones() as usize).sum());
        }
        let common = (0..self.used_list.len())
            .max_by_key(|&k| self.counts[k])
            .expect("a band has pixels");
        out.push(b'#');
        push_num(out, self.used_list[common] as usize);
        push_run(out, 63 + ((1u16 << n) - 1) as u8, ow);
        for (k, &c) in self.used_list.iter().enumerate() {
            if k == common {
                continue;
            }
            out.extend_from_slice(b"$#");
            push_num(out, c as usize);
            let (mut run_ch, mut run_n) = (0u8, 0usize);
            for (&m, &(_, len)) in self.masks[k * ng..][..ng].iter().zip(&self.groups) {
                let ch = m + 63;
                if ch == run_ch {
                    run_n += len;
                } else {
                    push_run(out, run_ch, run_n);
                    (run_ch, run_n) = (ch, len);
                }
            }
            // A trailing empty run needs no bytes.
            if run_ch != b'?' {
                push_run(out, run_ch, run_n);
            }
        }
    }
}

/// Saves the cursor (DECSC) and moves it to cell (`col`, `row`), counted from 0.
fn cursor_to(out: &mut Vec<u8>, row: u16, col: u16) {
    out.extend_from_slice(b"\x1b7\x1b[");
    push_num(out, row as usize + 1);
    out.push(b';');
    push_num(out, col as usize + 1);
    out.push(b'H');
}

/// `n` in decimal.
fn push_num(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// `n` sixels `ch`: repeated (`!n`) when that is shorter.
fn push_run(out: &mut Vec<u8>, ch: u8, n: usize) {
    match n {
        0 => {}
        1..=3 => out.extend(std::iter::repeat_n(ch, n)),
        _ => {
            out.push(b'!');
            push_num(out, n);
            out.push(ch);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
