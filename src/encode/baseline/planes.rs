//! The three sample planes a 4:2:0 scan reads, built from the frame at its own size: each
//! source row is widened k times once and a block row is one 8-byte load from the row the
//! scaled image would have there. The scaled image itself is never built.

/// One component's samples: rows of `stride` bytes, and for every row of the padded
/// (whole-MCU) component the offset of the stored row it repeats.
#[derive(Debug, Default)]
pub struct Plane {
    data: Vec<u8>,
    rows: Vec<usize>,
}

impl Plane {
    /// Block (`bx`, `by`) as eight rows of eight samples, each row a little-endian word.
    #[inline(always)]
    pub fn block(&self, bx: usize, by: usize) -> [u64; 8] {
        std::array::from_fn(|r| {
            let at = self.rows[by * 8 + r] + bx * 8;
            u64::from_le_bytes(self.data[at..at + 8].try_into().unwrap())
        })
    }
}

/// Y, Cb and Cr of a frame scaled by k, padded to whole 16x16 MCUs by repeating the last
/// column and row (as libjpeg does); Cb and Cr are averaged over 2x2 scaled pixels.
#[derive(Debug, Default)]
pub struct Planes {
    /// The frame's Y, Cb, Cr at its own size.
    source: [Vec<u8>; 3],
    /// Luminance, `mcus.0 * 16` samples wide.
    pub y: Plane,
    /// Blue and red chrominance, `mcus.0 * 8` samples wide.
    pub chroma: [Plane; 2],
    /// MCUs across and down.
    pub mcus: (usize, usize),
    /// Scratch for the chroma averages.
    sums: Vec<u16>,
}

impl Planes {
    /// Converts `rgba` (`width * height * 4` bytes, at least 1x1) scaled by `k`.
    pub fn fill(&mut self, rgba: &[u8], width: usize, height: usize, k: usize) {
        let (sw, sh) = (width * k, height * k);
        self.mcus = (sw.div_ceil(16), sh.div_ceil(16));
        let (pw, ph) = (self.mcus.0 * 16, self.mcus.1 * 16);
        convert(rgba, width * height, &mut self.source);
        let [y, cb, cr] = &self.source;
        widen_plane(&mut self.y, y, width, k, pw);
        self.y.rows.clear();
        self.y
            .rows
            .extend((0..ph).map(|r| (r.min(sh - 1) / k) * pw));
        for (plane, src) in self.chroma.iter_mut().zip([cb, cr]) {
            if k.is_multiple_of(2) {
                // Each 2x2 of scaled pixels lies inside one source pixel: no averaging.
                widen_plane(plane, src, width, k / 2, pw / 2);
                plane.rows.clear();
                plane
                    .rows
                    .extend((0..ph / 2).map(|r| ((2 * r).min(sh - 1) / k) * (pw / 2)));
            } else {
                average(
                    plane,
                    &mut self.sums,
                    src,
                    (width, height),
                    k,
                    (pw / 2, ph / 2),
                );
            }
        }
    }
}

/// RGB(A) to Y, Cb, Cr planes of `pixels` samples, with jpeg-encoder's fixed-point
/// formula; no branch, so the loop vectorises.
fn convert(rgba: &[u8], pixels: usize, planes: &mut [Vec<u8>; 3]) {
    for p in planes.iter_mut() {
        p.resize(pixels, 0);
    }
    let [y, cb, cr] = planes;
    for (((px, y), cb), cr) in rgba
        .chunks_exact(4)
        .zip(y.iter_mut())
        .zip(cb.iter_mut())
        .zip(cr.iter_mut())
    {
        let (r, g, b) = (px[0] as i32, px[1] as i32, px[2] as i32);
        *y = ((19595 * r + 38470 * g + 7471 * b + 0x7fff) >> 16) as u8;
        *cb = ((-11059 * r - 21709 * g + 32768 * b + (128 << 16) + 0x7fff) >> 16) as u8;
        *cr = ((32768 * r - 27439 * g - 5329 * b + (128 << 16) + 0x7fff) >> 16) as u8;
    }
}

/// Every row of `src` (`width` samples) widened by `k` into `stride` samples, the last
/// sample repeated to fill the stride.
fn widen_plane(plane: &mut Plane, src: &[u8], width: usize, k: usize, stride: usize) {
    let rows = src.len() / width;
    plane.data.resize(rows * stride, 0);
    for (s, d) in src
        .chunks_exact(width)
        .zip(plane.data.chunks_exact_mut(stride))
    {
        match k {
            1 => widen::<1>(s, d),
            2 => widen::<2>(s, d),
            3 => widen::<3>(s, d),
            4 => widen::<4>(s, d),
            _ => widen_any(s, k, d),
        }
        let last = s[width - 1];
        d[width * k..].fill(last);
    }
}

#[inline(always)]
fn widen<const K: usize>(src: &[u8], dst: &mut [u8]) {
    for (d, &v) in dst.chunks_exact_mut(K).zip(src) {
        d.copy_from_slice(&[v; K]);
    }
}

fn widen_any(src: &[u8], k: usize, dst: &mut [u8]) {
    for (d, &v) in dst.chunks_exact_mut(k).zip(src) {
        d.fill(v);
    }
}

/// The 2x2 averages of `src` (`size` samples) scaled by an odd `k`, over a padded
/// component of `padded` samples, with libjpeg's alternating rounding bias (1, 2).
/// `sums` is scratch space.
fn average(
    plane: &mut Plane,
    sums: &mut Vec<u16>,
    src: &[u8],
    size: (usize, usize),
    k: usize,
    padded: (usize, usize),
) {
    let (sw, sh) = (size.0 * k, size.1 * k);
    let (cw, ch) = padded;
    let pick = |c: usize, n: usize| ((2 * c).min(n - 1) / k, (2 * c + 1).min(n - 1) / k);
    // Horizontal pair sums of every source row, then the two rows each output row covers.
    let cols: Vec<(usize, usize)> = (0..cw).map(|c| pick(c, sw)).collect();
    sums.resize(size.1 * cw, 0);
    for (row, out) in src.chunks_exact(size.0).zip(sums.chunks_exact_mut(cw)) {
        for (o, &(a, b)) in out.iter_mut().zip(&cols) {
            *o = row[a] as u16 + row[b] as u16;
        }
    }
    plane.data.resize(cw * ch, 0);
    for (r, out) in plane.data.chunks_exact_mut(cw).enumerate() {
        let (a, b) = pick(r, sh);
        let (top, bottom) = (&sums[a * cw..(a + 1) * cw], &sums[b * cw..(b + 1) * cw]);
        for (x, (o, (&t, &u))) in out.iter_mut().zip(top.iter().zip(bottom)).enumerate() {
            *o = ((t + u + 1 + (x as u16 & 1)) >> 2) as u8;
        }
    }
    plane.rows.clear();
    plane.rows.extend((0..ch).map(|r| r * cw));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_read_the_scaled_image_with_edges_repeated() {
        // 3x2 frame, grey levels 0..6 (R = G = B gives Y equal to the level).
        let rgba: Vec<u8> = (0..6u8)
            .flat_map(|v| [v * 10, v * 10, v * 10, 255])
            .collect();
        let mut p = Planes::default();
        p.fill(&rgba, 3, 2, 3);
        assert_eq!(p.mcus, (1, 1));
        // Scaled 9x6: row r reads source row r / 3; columns past 8 repeat column 8.
        let b = p.y.block(1, 1);
        assert_eq!(b[7].to_le_bytes(), [50; 8]);
        let b = p.y.block(0, 0);
        assert_eq!(b[0].to_le_bytes(), [0, 0, 0, 10, 10, 10, 20, 20]);
        assert_eq!(b[3].to_le_bytes(), [30, 30, 30, 40, 40, 40, 50, 50]);
        // Chroma of greys is 128 everywhere.
        assert_eq!(p.chroma[0].block(0, 0), [u64::from_le_bytes([128; 8]); 8]);
    }
}
