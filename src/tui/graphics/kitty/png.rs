//! PNG rectangles for kitty's `f=100`: palette-indexed with the fewest bits a pixel when
//! the rectangle has at most 256 colours, RGB otherwise. Written here rather than with the
//! `png` crate so that one deflate state serves every rectangle: a new compressor per
//! rectangle zeroed its tables each time, which cost more than compressing a Game Boy frame.

use super::delta::Rect;
use flate2::{Compress, Compression, FlushCompress};

/// Writes PNG rectangles, keeping its buffers and deflate state from one to the next.
pub(super) struct PngWriter {
    deflate: Compress,
    level: u32,
    palette: Palette,
    indices: Vec<u8>,
    rows: Vec<u8>,
    zdata: Vec<u8>,
}

impl std::fmt::Debug for PngWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PngWriter")
            .field("level", &self.level)
            .finish()
    }
}

impl PngWriter {
    /// A writer compressing at zlib `level` (0-9).
    pub(super) fn new(level: u32) -> PngWriter {
        let level = level.min(9);
        PngWriter {
            deflate: Compress::new(Compression::new(level), true),
            level,
            palette: Palette::default(),
            indices: Vec::new(),
            rows: Vec::new(),
            zdata: Vec::new(),
        }
    }

    /// Appends a PNG of rectangle `r` of `rgba` (`width` pixels a row) to `out`.
    pub(super) fn write(&mut self, rgba: &[u8], width: u32, r: Rect, out: &mut Vec<u8>) {
        self.write_over(rgba, None, width, r, out);
    }

    /// Like [`write`](Self::write), with every pixel equal to `base`'s at the same place
    /// made transparent (palette index 0, alpha 0): the edit blended onto `base` gives
    /// `rgba`. Falls back to an opaque PNG when there are over 255 colours.
    pub(super) fn write_masked(
        &mut self,
        rgba: &[u8],
        base: &[u8],
        width: u32,
        r: Rect,
        out: &mut Vec<u8>,
    ) {
        self.write_over(rgba, Some(base), width, r, out);
    }

    fn write_over(
        &mut self,
        rgba: &[u8],
        base: Option<&[u8]>,
        width: u32,
        r: Rect,
        out: &mut Vec<u8>,
    ) {
        let (x, y, w, h) = (r.0 as usize, r.1 as usize, r.2 as usize, r.3 as usize);
        let stride = width as usize * 4;
        let span = |row: usize| (y + row) * stride + x * 4..(y + row) * stride + (x + w) * 4;
        let line = |row: usize| &rgba[span(row)];
        let mut indexed = false;
        let mut masked = false;
        if let Some(base) = base {
            let lines = (0..h).map(|row| (line(row), &base[span(row)]));
            masked = self.palette.index_masked(lines, &mut self.indices);
            indexed = masked;
        }
        if !masked {
            indexed = self.palette.index((0..h).map(line), &mut self.indices);
        }
        self.rows.clear();
        let (colour, depth) = if indexed {
            let bits = match self.palette.len() {
                0..=2 => 1,
                3..=4 => 2,
                5..=16 => 4,
                _ => 8,
            };
            pack_rows(&self.indices, w, bits, &mut self.rows);
            (3u8, bits as u8)
        } else {
            for row in 0..h {
                self.rows.push(0); // filter: none
                for p in line(row).chunks_exact(4) {
                    self.rows.extend_from_slice(&p[..3]);
                }
            }
            (2u8, 8u8)
        };
        self.compress();
        out.extend_from_slice(b"\x89PNG\r\n\x1a\n");
        let mut ihdr = [0u8; 13];
        ihdr[..4].copy_from_slice(&(w as u32).to_be_bytes());
        ihdr[4..8].copy_from_slice(&(h as u32).to_be_bytes());
        ihdr[8] = depth;
        ihdr[9] = colour;
        chunk(out, b"IHDR", &ihdr);
        if indexed {
            chunk(out, b"PLTE", &self.palette.rgb());
        }
        if masked {
            chunk(out, b"tRNS", &[0]);
        }
        chunk(out, b"IDAT", &self.zdata);
        chunk(out, b"IEND", &[]);
    }

    /// Deflates `self.rows` into `self.zdata` (a zlib stream), reusing the deflate state.
    fn compress(&mut self) {
        self.deflate.reset();
        self.zdata.clear();
        self.zdata.reserve(self.rows.len() / 2 + 64);
        loop {
            let done = self.deflate.total_in() as usize;
            let status = self
                .deflate
                .compress_vec(&self.rows[done..], &mut self.zdata, FlushCompress::Finish)
                .expect("deflating into a Vec");
            if status == flate2::Status::StreamEnd {
                break;
            }
            self.zdata.reserve(self.zdata.capacity().max(1024));
        }
    }
}

/// The colours of a rectangle, each given the next index as it is first seen.
#[derive(Default)]
struct Palette {
    colours: Vec<u32>,
    /// Open addressing over 512 slots: colour + 1 (0 is empty) and its index.
    slots: Vec<(u32, u8)>,
}

impl Palette {
    fn len(&self) -> usize {
        self.colours.len()
    }

    /// The palette as PLTE wants it: R, G, B per colour.
    fn rgb(&self) -> Vec<u8> {
        self.colours
            .iter()
            .flat_map(|c| {
                let [r, g, b, _] = c.to_le_bytes();
                [r, g, b]
            })
            .collect()
    }

    /// Each pixel's palette index into `indices`; false when there are over 256 colours.
    fn index<'a>(&mut self, lines: impl Iterator<Item = &'a [u8]>, indices: &mut Vec<u8>) -> bool {
        self.start(false);
        indices.clear();
        let mut last = (u32::MAX, 0u8);
        for line in lines {
            let at = indices.len();
            indices.resize(at + line.len() / 4, 0);
            for (p, i) in line.chunks_exact(4).zip(&mut indices[at..]) {
                let c = rgb(p);
                if c != last.0 {
                    let Some(k) = self.lookup(c) else {
                        return false;
                    };
                    last = (c, k);
                }
                *i = last.1;
            }
        }
        true
    }

    /// Like [`index`](Self::index) for pairs of lines: a pixel equal to its base pixel gets
    /// index 0, kept for "transparent"; false when there are over 255 other colours.
    fn index_masked<'a>(
        &mut self,
        lines: impl Iterator<Item = (&'a [u8], &'a [u8])>,
        indices: &mut Vec<u8>,
    ) -> bool {
        self.start(true);
        indices.clear();
        let mut last = (u32::MAX, 0u8);
        for (line, base) in lines {
            let at = indices.len();
            indices.resize(at + line.len() / 4, 0);
            if line == base {
                continue; // every pixel the same as the base: all transparent
            }
            let pixels = line.chunks_exact(4).zip(base.chunks_exact(4));
            for ((p, b), i) in pixels.zip(&mut indices[at..]) {
                let c = rgb(p);
                if c == rgb(b) {
                    continue; // stays 0
                }
                if c != last.0 {
                    let Some(k) = self.lookup(c) else {
                        return false;
                    };
                    last = (c, k);
                }
                *i = last.1;
            }
        }
        true
    }

    /// Empties the palette; index 0 is kept for "transparent" when `masked`.
    fn start(&mut self, masked: bool) {
        self.colours.clear();
        self.slots.clear();
        self.slots.resize(512, (0, 0));
        if masked {
            self.colours.push(0); // index 0: transparent (PLTE black, tRNS alpha 0)
        }
    }

    /// The index of colour `c`, added when new; None past 256 colours.
    fn lookup(&mut self, c: u32) -> Option<u8> {
        let key = c + 1; // opaque RGB never reaches u32::MAX
        let mut s = (key.wrapping_mul(0x9E37_79B1) >> 23) as usize;
        loop {
            let (k, i) = self.slots[s];
            if k == key {
                return Some(i);
            }
            if k == 0 {
                if self.colours.len() == 256 {
                    return None;
                }
                let i = self.colours.len() as u8;
                self.colours.push(c);
                self.slots[s] = (key, i);
                return Some(i);
            }
            s = (s + 1) & 511;
        }
    }
}

/// A pixel's RGB as one word (alpha dropped: frames are opaque).
fn rgb(p: &[u8]) -> u32 {
    u32::from_le_bytes([p[0], p[1], p[2], p[3]]) & 0x00FF_FFFF
}

/// PNG rows of `w` indices each at `bits` a pixel, each row led by filter type 0.
fn pack_rows(indices: &[u8], w: usize, bits: usize, out: &mut Vec<u8>) {
    let per_byte = 8 / bits;
    out.reserve(indices.len() / per_byte + indices.len() / w.max(1) * 2);
    for row in indices.chunks_exact(w.max(1)) {
        out.push(0);
        let mut whole = row.chunks_exact(per_byte);
        match bits {
            8 => out.extend_from_slice(row),
            4 => out.extend((&mut whole).map(|c| c[0] << 4 | c[1])),
            2 => out.extend((&mut whole).map(|c| c[0] << 6 | c[1] << 4 | c[2] << 2 | c[3])),
            _ => out.extend((&mut whole).map(|c| c.iter().fold(0u8, |b, v| b << 1 | v))),
        }
        let rest = whole.remainder();
        if bits != 8 && !rest.is_empty() {
            let b = rest
                .iter()
                .enumerate()
                .fold(0u8, |b, (k, v)| b | v << (8 - bits * (k + 1)));
            out.push(b);
        }
    }
}

/// Appends one PNG chunk: length, type, data, CRC of type and data.
fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_rectangles_decode_exactly_at_every_palette_depth_and_in_rgb() {
        // 33 pixels a row: not a whole number of bytes at 1, 2 or 4 bits a pixel.
        let (width, r) = (40u32, (3u32, 2u32, 33u32, 12u32));
        let mut writer = PngWriter::new(6);
        for colours in [1u32, 2, 3, 4, 16, 17, 200, 256, 257, 3] {
            let rgba: Vec<u8> = (0..width * 16)
                .flat_map(|i| {
                    // Counting through the rectangle's pixels: all `colours` appear in it.
                    let (x, y) = ((i % width) as i64 - 3, (i / width) as i64 - 2);
                    let c = (y * 33 + x).rem_euclid(colours as i64) as u32;
                    [c as u8, (c >> 8) as u8 * 40, 255 - c as u8, 255]
                })
                .collect();
            let mut png = Vec::new();
            writer.write(&rgba, width, r, &mut png);
            let mut dec = png::Decoder::new(std::io::Cursor::new(&png));
            dec.set_transformations(png::Transformations::EXPAND);
            let mut reader = dec.read_info().unwrap();
            let indexed = reader.info().color_type == png::ColorType::Indexed;
            let mut buf = vec![0; reader.output_buffer_size().unwrap()];
            let info = reader.next_frame(&mut buf).unwrap();
            assert_eq!((info.width, info.height), (r.2, r.3));
            let got: Vec<[u8; 3]> = buf[..info.buffer_size()]
                .chunks_exact(3)
                .map(|p| [p[0], p[1], p[2]])
                .collect();
            let want: Vec<[u8; 3]> = (r.1..r.1 + r.3)
                .flat_map(|y| (r.0..r.0 + r.2).map(move |x| (y * width + x) as usize * 4))
                .map(|i| [rgba[i], rgba[i + 1], rgba[i + 2]])
                .collect();
            assert_eq!(got, want, "{colours} colours");
            let distinct: std::collections::HashSet<_> = want.iter().collect();
            assert_eq!(indexed, distinct.len() <= 256, "{} colours", distinct.len());
        }
    }
}
