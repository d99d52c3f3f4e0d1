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
//! run of the scaled length, so a 4x picture costs about as much CPU as a 1x one.

use super::{check_frame, GraphicsError, PixelPlacement};
use std::collections::HashMap;
use std::io::Write;

/// Colours a frame may have and still get an exact palette.
pub const MAX_EXACT_COLOURS: usize = 256;

/// Reusable buffers for encoding frames to sixel.
#[derive(Debug, Default)]
pub struct SixelEncoder {
    palette: Vec<[u8; 3]>,
    lookup: HashMap<u32, u8>,
    index: Vec<u8>,
    groups: Vec<(usize, usize)>,
    masks: Vec<u8>,
    used: Vec<bool>,
    used_list: Vec<u8>,
    /// Pixels of each colour in the band being encoded.
    counts: Vec<usize>,
    quantised: bool,
}

impl SixelEncoder {
    /// An encoder with empty buffers.
    pub fn new() -> SixelEncoder {
        SixelEncoder::default()
    }

    /// True when the last frame had more than 256 colours and was quantised.
    pub fn quantised(&self) -> bool {
        self.quantised
    }

    /// Colours in the last frame's palette.
    pub fn colours(&self) -> usize {
        self.palette.len()
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
        check_frame(rgba, width, height)?;
        let start = out.len();
        let _ = write!(out, "\x1b7\x1b[{};{}H", place.row + 1, place.col + 1);
        self.encode(rgba, width, height, place.width, place.height, out)?;
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
        check_frame(rgba, width, height)?;
        if out_w == 0 || out_h == 0 || out_w > super::MAX_SIDE || out_h > super::MAX_SIDE {
            return Err(GraphicsError::BadSize {
                width: out_w,
                height: out_h,
                max: super::MAX_SIDE,
            });
        }
        let start = out.len();
        let (w, h) = (width as usize, height as usize);
        let (ow, oh) = (out_w as usize, out_h as usize);
        self.index_colours(&rgba[..w * h * 4]);
        // Output columns grouped by the source column they show.
        self.groups.clear();
        for x in 0..ow {
            let sx = x * w / ow;
            match self.groups.last_mut() {
                Some((g, n)) if *g == sx => *n += 1,
                _ => self.groups.push((sx, 1)),
            }
        }
        let ngroups = self.groups.len();
        let ncol = self.palette.len();
        // DCS P1=0 (aspect from raster attributes), P2=1 (unset pixels stay as they are:
        // every pixel is set anyway), 1:1 pixels, the size, then the palette in percent.
        let _ = write!(out, "\x1bP0;1;0q\"1;1;{ow};{oh}");
        for (i, c) in self.palette.iter().enumerate() {
            let p = |v: u8| (v as u32 * 100 + 127) / 255;
            let _ = write!(out, "#{i};2;{};{};{}", p(c[0]), p(c[1]), p(c[2]));
        }
        self.masks.clear();
        self.masks.resize(ncol * ngroups, 0);
        self.used.clear();
        self.used.resize(ncol, false);
        let bands = oh.div_ceil(6);
        for band in 0..bands {
            self.used_list.clear();
            self.counts.clear();
            self.counts.resize(ncol, 0);
            let rows = (oh - band * 6).min(6);
            for r in 0..rows {
                let y = band * 6 + r;
                let row = &self.index[(y * h / oh) * w..][..w];
                for (g, &(sx, n)) in self.groups.iter().enumerate() {
                    let c = row[sx] as usize;
                    if !self.used[c] {
                        self.used[c] = true;
                        self.used_list.push(c as u8);
                    }
                    self.counts[c] += n;
                    self.masks[c * ngroups + g] |= 1 << r;
                }
            }
            // The band's commonest colour is painted over the whole band first, in one
            // run; the others are then drawn over it where they are.
            let common = *self
                .used_list
                .iter()
                .max_by_key(|&&c| self.counts[c as usize])
                .expect("a band has pixels");
            let _ = write!(out, "#{common}");
            push_run(out, 63 + ((1u16 << rows) - 1) as u8, ow);
            for &c in &self.used_list {
                let c = c as usize;
                let masks = &mut self.masks[c * ngroups..(c + 1) * ngroups];
                self.used[c] = false;
                if c == common as usize {
                    masks.fill(0);
                    continue;
                }
                let _ = write!(out, "$#{c}");
                let (mut run_ch, mut run_n) = (0u8, 0usize);
                for (g, m) in masks.iter_mut().enumerate() {
                    let ch = *m + 63;
                    *m = 0;
                    let n = self.groups[g].1;
                    if ch == run_ch {
                        run_n += n;
                    } else {
                        push_run(out, run_ch, run_n);
                        (run_ch, run_n) = (ch, n);
                    }
                }
                // A trailing empty run needs no bytes.
                if run_ch != b'?' {
                    push_run(out, run_ch, run_n);
                }
            }
            if band + 1 < bands {
                out.push(b'-');
            }
        }
        out.extend_from_slice(b"\x1b\\");
        Ok(out.len() - start)
    }

    /// Fills `self.index` with a palette index per pixel and `self.palette` with the colours.
    fn index_colours(&mut self, rgba: &[u8]) {
        self.palette.clear();
        self.lookup.clear();
        self.index.clear();
        self.quantised = false;
        let mut last = (u32::MAX, 0u8);
        for p in rgba.chunks_exact(4) {
            let key = (p[0] as u32) << 16 | (p[1] as u32) << 8 | p[2] as u32;
            if key == last.0 {
                self.index.push(last.1);
                continue;
            }
            let i = match self.lookup.get(&key) {
                Some(&i) => i,
                None => {
                    if self.palette.len() == MAX_EXACT_COLOURS {
                        self.quantise(rgba);
                        return;
                    }
                    let i = self.palette.len() as u8;
                    self.palette.push([p[0], p[1], p[2]]);
                    self.lookup.insert(key, i);
                    i
                }
            };
            last = (key, i);
            self.index.push(i);
        }
    }

    /// Maps every pixel to the nearest colour of a 6x6x6 cube (used colours only).
    fn quantise(&mut self, rgba: &[u8]) {
        self.quantised = true;
        self.palette.clear();
        self.index.clear();
        let mut palette_index = [u8::MAX; 216];
        let level = |v: u8| (v as u32 * 5 + 127) / 255;
        for p in rgba.chunks_exact(4) {
            let cube = (level(p[0]) * 36 + level(p[1]) * 6 + level(p[2])) as usize;
            if palette_index[cube] == u8::MAX {
                palette_index[cube] = self.palette.len() as u8;
                let v = |l: u32| (l * 51) as u8;
                self.palette.push([
                    v(cube as u32 / 36),
                    v(cube as u32 / 6 % 6),
                    v(cube as u32 % 6),
                ]);
            }
            self.index.push(palette_index[cube]);
        }
    }
}

/// `n` sixels `ch`: repeated (`!n`) when that is shorter.
fn push_run(out: &mut Vec<u8>, ch: u8, n: usize) {
    match n {
        0 => {}
        1..=3 => out.extend(std::iter::repeat_n(ch, n)),
        _ => {
            let _ = write!(out, "!{n}");
            out.push(ch);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Decodes a sixel image as a VT340/xterm would into RGBA (unset pixels transparent
    /// black), returning (width, height, pixels). Colours come back from percent the way
    /// xterm converts them.
    pub(crate) fn decode(data: &[u8]) -> (usize, usize, Vec<u8>) {
        let start = data.windows(2).position(|w| w == b"\x1bP").expect("DCS");
        let q = start + data[start..].iter().position(|&b| b == b'q').unwrap();
        let end = data.windows(2).rposition(|w| w == b"\x1b\\").unwrap();
        let body = &data[q + 1..end];
        let mut regs = vec![[0u8; 3]; 256];
        let (mut w, mut h) = (0usize, 0usize);
        let mut px: Vec<u8> = Vec::new();
        let (mut x, mut band, mut colour) = (0usize, 0usize, 0usize);
        let mut i = 0;
        let num = |i: &mut usize| -> usize {
            let s = *i;
            while *i < body.len() && body[*i].is_ascii_digit() {
                *i += 1;
            }
            std::str::from_utf8(&body[s..*i])
                .unwrap()
                .parse()
                .unwrap_or(0)
        };
        while i < body.len() {
            match body[i] {
                b'"' => {
                    i += 1;
                    let mut v = Vec::new();
                    loop {
                        v.push(num(&mut i));
                        if i < body.len() && body[i] == b';' {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    (w, h) = (v[2], v[3]);
                    px = vec![0; w * h * 4];
                }
                b'#' => {
                    i += 1;
                    colour = num(&mut i);
                    if i < body.len() && body[i] == b';' {
                        i += 1;
                        let _kind = num(&mut i);
                        let mut c = [0u8; 3];
                        for v in c.iter_mut() {
                            i += 1;
                            *v = ((num(&mut i) * 255 + 50) / 100) as u8;
                        }
                        regs[colour] = c;
                    }
                }
                b'$' => {
                    x = 0;
                    i += 1;
                }
                b'-' => {
                    x = 0;
                    band += 1;
                    i += 1;
                }
                b'!' => {
                    i += 1;
                    let n = num(&mut i);
                    let ch = body[i];
                    i += 1;
                    for _ in 0..n {
                        put(&mut px, w, h, x, band, ch, regs[colour]);
                        x += 1;
                    }
                }
                ch @ 63..=126 => {
                    put(&mut px, w, h, x, band, ch, regs[colour]);
                    x += 1;
                    i += 1;
                }
                b => panic!("unexpected sixel byte {b:#x}"),
            }
        }
        (w, h, px)
    }

    fn put(px: &mut [u8], w: usize, h: usize, x: usize, band: usize, ch: u8, c: [u8; 3]) {
        let bits = ch - 63;
        for r in 0..6 {
            let y = band * 6 + r;
            if bits & (1 << r) != 0 {
                assert!(x < w && y < h, "sixel pixel ({x},{y}) outside {w}x{h}");
                let i = (y * w + x) * 4;
                px[i..i + 4].copy_from_slice(&[c[0], c[1], c[2], 255]);
            }
        }
    }

    fn gb_frame(shift: usize) -> Vec<u8> {
        let shades = [
            [0xe0, 0xf8, 0xd0],
            [0x88, 0xc0, 0x70],
            [0x34, 0x68, 0x56],
            [0x08, 0x18, 0x20],
        ];
        let mut f = Vec::new();
        for y in 0..144 {
            for x in 0..160 {
                let c = shades[((x + shift) / 8 + y / 4) % 4];
                f.extend_from_slice(&[c[0], c[1], c[2], 255]);
            }
        }
        f
    }

    /// Nearest-neighbour reference scaling.
    fn scaled(f: &[u8], w: usize, h: usize, ow: usize, oh: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(ow * oh * 4);
        for y in 0..oh {
            for x in 0..ow {
                let i = ((y * h / oh) * w + x * w / ow) * 4;
                out.extend_from_slice(&f[i..i + 4]);
            }
        }
        out
    }

    fn assert_close(a: &[u8], b: &[u8], tol: u8) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(x.abs_diff(*y) <= tol, "byte {i}: {x} vs {y}");
        }
    }

    #[test]
    fn decodes_back_to_the_scaled_frame_at_every_scale() {
        let f = gb_frame(3);
        let mut enc = SixelEncoder::new();
        for (ow, oh) in [
            (160, 144),
            (320, 288),
            (480, 432),
            (640, 576),
            (80, 72),
            (123, 77),
        ] {
            let mut out = Vec::new();
            let n = enc.encode(&f, 160, 144, ow, oh, &mut out).unwrap();
            assert_eq!(n, out.len());
            assert_eq!(enc.colours(), 4);
            assert!(!enc.quantised());
            let (w, h, px) = decode(&out);
            assert_eq!((w, h), (ow as usize, oh as usize));
            assert_close(&px, &scaled(&f, 160, 144, w, h), 2);
        }
    }

    #[test]
    fn scaling_up_costs_little_more_than_1x() {
        let f = gb_frame(0);
        let mut enc = SixelEncoder::new();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        enc.encode(&f, 160, 144, 160, 144, &mut a).unwrap();
        enc.encode(&f, 160, 144, 640, 576, &mut b).unwrap();
        // 4x the bands, the runs only longer: well under 16x the bytes.
        assert!(b.len() < a.len() * 6, "1x {} B, 4x {} B", a.len(), b.len());
    }

    #[test]
    fn many_colours_are_quantised_and_still_decode_close() {
        let mut f = Vec::new();
        for y in 0..64u32 {
            for x in 0..64u32 {
                f.extend_from_slice(&[(x * 4) as u8, (y * 4) as u8, ((x + y) * 2) as u8, 255]);
            }
        }
        let mut enc = SixelEncoder::new();
        let mut out = Vec::new();
        enc.encode(&f, 64, 64, 64, 64, &mut out).unwrap();
        assert!(enc.quantised());
        assert!(enc.colours() <= 216);
        let (_, _, px) = decode(&out);
        assert_close(&px, &f, 26);
    }

    #[test]
    fn encode_at_places_the_cursor_and_restores_it() {
        let f = gb_frame(0);
        let mut enc = SixelEncoder::new();
        let mut out = Vec::new();
        let place = PixelPlacement {
            col: 8,
            row: 1,
            width: 320,
            height: 288,
        };
        enc.encode_at(&f, 160, 144, place, &mut out).unwrap();
        assert!(out.starts_with(b"\x1b7\x1b[2;9H\x1bP0;1;0q\"1;1;320;288#0;2;"));
        assert!(out.ends_with(b"\x1b\\\x1b8"));
    }

    #[test]
    fn bad_input_is_an_error() {
        let mut enc = SixelEncoder::new();
        let mut out = Vec::new();
        assert!(enc.encode(&[0; 12], 2, 2, 4, 4, &mut out).is_err());
        assert!(enc.encode(&[0; 16], 2, 2, 0, 4, &mut out).is_err());
        assert!(enc.encode(&[0; 16], 2, 2, 4, 20_000, &mut out).is_err());
        assert!(out.is_empty());
    }
}
