//! Scrolling found between two frames: a band of rows whose content moved by a few pixels
//! (a Game Boy background scrolling under a fixed status bar). The terminal copies the
//! band itself, so only the uncovered edges and what moved on its own are sent.

/// `new(x, y) == old(x + dx, y + dy)` for most pixels of rows `y0..y1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scroll {
    /// Horizontal offset of the source pixel.
    pub dx: i32,
    /// Vertical offset of the source pixel.
    pub dy: i32,
    /// First row of the band.
    pub y0: u32,
    /// Row after the band.
    pub y1: u32,
}

/// One copy inside the image: `w`x`h` pixels from (`sx`, `sy`) to (`x`, `y`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copy {
    /// Destination left.
    pub x: u32,
    /// Destination top.
    pub y: u32,
    /// Source left.
    pub sx: u32,
    /// Source top.
    pub sy: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

/// Largest offset searched, in pixels each way.
const RANGE: i32 = 8;
/// Sampling step of the search, in pixels each way (odd, so that 8-pixel tiles cannot hide
/// a one-pixel move between samples).
const STEP: usize = 3;
/// Fewest rows worth a scroll.
const MIN_BAND: u32 = 16;

/// The scroll that explains clearly more of `new` than no motion does, if any: `hints`
/// (the last offsets found, newest first) are checked row by row first, then the newest
/// and its neighbours on a sample grid, then (only when `search`) every offset within
/// `RANGE` pixels.
pub fn find_scroll(
    old: &[u8],
    new: &[u8],
    width: u32,
    height: u32,
    hints: &[(i32, i32)],
    search: bool,
) -> Option<Scroll> {
    let (w, h) = (width as usize, height as usize);
    let m = RANGE as usize;
    if w <= 4 * m || h <= 4 * m {
        return None;
    }
    // A hint confirmed row by row: most rows of a scrolled band are equal moved. A scroll
    // slower than a pixel a frame alternates between two offsets, hence two hints.
    // Hints in the order every 8th row proves them; the first the other rows confirm wins.
    let mut ranked: Vec<(usize, i32, i32)> = hints
        .iter()
        .filter(|(dx, dy)| dx.abs() <= RANGE && dy.abs() <= RANGE && (*dx, *dy) != (0, 0))
        .map(|&(dx, dy)| (sampled_rows(old, new, w, h, dx, dy), dx, dy))
        .collect();
    ranked.sort_by_key(|r| std::cmp::Reverse(r.0));
    for &(sampled, dx, dy) in &ranked {
        if sampled * 4 < h.div_ceil(8) {
            break; // this hint and the rest fail on a few rows: given up cheaply
        }
        if let Some((y0, y1)) = exact_band(old, new, w, h, dx, dy) {
            return Some(Scroll { dx, dy, y0, y1 });
        }
    }
    let hint = hints.first().copied();
    // The sample grid, as pixel indices, and `new`'s pixels there.
    let mut samples: Vec<(usize, u32)> = Vec::with_capacity((h / STEP + 1) * (w / STEP + 1));
    for y in (m..h - m).step_by(STEP) {
        for x in (m..w - m).step_by(STEP) {
            samples.push((y * w + x, word(new, y * w + x)));
        }
    }
    // Misses of offset (dx, dy) on every `every`-th sample, counted up to `limit`.
    let misses = |dx: i32, dy: i32, every: usize, limit: usize| -> usize {
        let off = dy as isize * w as isize + dx as isize;
        let mut n = 0;
        for &(i, v) in samples.iter().step_by(every) {
            if v != word(old, (i as isize + off) as usize) {
                n += 1;
                if n > limit {
                    break;
                }
            }
        }
        n
    };
    let all = samples.len();
    let still = misses(0, 0, 1, all);
    if still * 50 < all {
        return None; // under 2% of the samples changed: nothing worth copying
    }
    let mut best = (0, 0, still);
    let try_offset = |dx: i32, dy: i32, best: &mut (i32, i32, usize)| {
        if dx.abs() <= RANGE && dy.abs() <= RANGE && (dx, dy) != (0, 0) {
            let n = misses(dx, dy, 1, best.2);
            if n < best.2 {
                *best = (dx, dy, n);
            }
        }
    };
    // The last offset, then its neighbours (a scroll keeps its speed, give or take a pixel
    // when its speed is not a whole number of pixels a frame).
    if let Some((hx, hy)) = hint {
        try_offset(hx, hy, &mut best);
        if best.2 * 8 > still {
            for (dx, dy) in (-1..=1).flat_map(|j| (-1..=1).map(move |i| (hx + i, hy + j))) {
                try_offset(dx, dy, &mut best);
            }
        }
    }
    if search && best.2 * 2 > still {
        // The hint explains under half of the change: rank every offset on an eighth of the
        // samples, then count the eight best on all of them.
        let mut ranked: Vec<(usize, i32, i32)> = (-RANGE..=RANGE)
            .flat_map(|dy| (-RANGE..=RANGE).map(move |dx| (dx, dy)))
            .map(|(dx, dy)| (misses(dx, dy, 8, all), dx, dy))
            .collect();
        ranked.sort_unstable();
        for &(_, dx, dy) in ranked.iter().take(8) {
            try_offset(dx, dy, &mut best);
        }
    }
    let (dx, dy, n) = best;
    if (dx, dy) == (0, 0) || n * 4 > still * 3 {
        return None; // no offset explains a quarter more than standing still
    }
    let (y0, y1) = band(old, new, w, h, dx, dy)?;
    Some(Scroll { dx, dy, y0, y1 })
}

/// Whether row `y` of `new` equals row `y + dy` of `old` moved by `dx` and not row `y` of
/// `old` unmoved.
fn proven(old: &[u8], new: &[u8], w: usize, h: usize, (dx, dy): (i32, i32), y: usize) -> bool {
    let sy = y as i32 + dy;
    if sy < 0 || sy >= h as i32 {
        return false;
    }
    let (x0, x1) = ((-dx).max(0) as usize, (w as i32 - dx.max(0)) as usize);
    let a = &new[(y * w + x0) * 4..(y * w + x1) * 4];
    let s = (sy as usize * w) as i64 + x0 as i64 + dx as i64;
    let moved = &old[s as usize * 4..(s as usize + (x1 - x0)) * 4];
    a == moved && a != &old[(y * w + x0) * 4..(y * w + x1) * 4]
}

/// Rows among every 8th that (dx, dy) proves.
fn sampled_rows(old: &[u8], new: &[u8], w: usize, h: usize, dx: i32, dy: i32) -> usize {
    (0..h)
        .step_by(8)
        .filter(|&y| proven(old, new, w, h, (dx, dy), y))
        .count()
}

/// The band of [`band`] for offset (dx, dy) when at least half of its rows are equal to
/// `old` moved and not to `old` unmoved: a scroll proven by whole rows, with no search.
fn exact_band(old: &[u8], new: &[u8], w: usize, h: usize, dx: i32, dy: i32) -> Option<(u32, u32)> {
    let rows: Vec<bool> = (0..h)
        .map(|y| proven(old, new, w, h, (dx, dy), y))
        .collect();
    if (rows.iter().filter(|&&p| p).count() as u32) < MIN_BAND {
        return None;
    }
    let (y0, y1) = band_of(old, new, w, h, dx, dy, &rows)?;
    let inside = rows[y0 as usize..y1 as usize]
        .iter()
        .filter(|&&p| p)
        .count();
    (inside * 2 >= (y1 - y0) as usize).then_some((y0, y1))
}

/// Pixel `i` of an RGBA frame as one word.
fn word(f: &[u8], i: usize) -> u32 {
    u32::from_ne_bytes(f[i * 4..i * 4 + 4].try_into().expect("four bytes"))
}

/// Pixels equal in two RGBA rows of the same length.
fn equal_pixels(a: &[u8], b: &[u8]) -> usize {
    if a == b {
        return a.len() / 4;
    }
    a.chunks_exact(4)
        .zip(b.chunks_exact(4))
        .filter(|(p, q)| {
            u32::from_ne_bytes((*p).try_into().unwrap())
                == u32::from_ne_bytes((*q).try_into().unwrap())
        })
        .count()
}

/// The longest run of rows that match `old` better shifted by (dx, dy) than unshifted.
fn band(old: &[u8], new: &[u8], w: usize, h: usize, dx: i32, dy: i32) -> Option<(u32, u32)> {
    band_of(old, new, w, h, dx, dy, &[])
}

/// [`band`], with the rows already known equal moved marked in `proven` (may be empty).
fn band_of(
    old: &[u8],
    new: &[u8],
    w: usize,
    h: usize,
    dx: i32,
    dy: i32,
    proven: &[bool],
) -> Option<(u32, u32)> {
    let (x0, x1) = ((-dx).max(0) as usize, (w as i32 - dx.max(0)) as usize);
    // Pixels of row y of `new` equal to row sy of `old` shifted by dx.
    let hits = |y: usize, sy: usize, dx: i32| -> usize {
        let a = &new[(y * w + x0) * 4..(y * w + x1) * 4];
        let s = (sy * w) as i64 + x0 as i64 + dx as i64;
        let b = &old[s as usize * 4..(s as usize + (x1 - x0)) * 4];
        equal_pixels(a, b)
    };
    let (mut best, mut start) = ((0, 0), None);
    for y in 0..=h {
        let sy = y as i32 + dy;
        // A row whose source is off the image is an edge the scroll uncovers.
        let good = y < h
            && (sy < 0 || sy >= h as i32 || proven.get(y) == Some(&true) || {
                let moved = hits(y, sy as usize, dx);
                moved == x1 - x0 || (moved > 0 && moved >= hits(y, y, 0))
            });
        match (good, start) {
            (true, None) => start = Some(y),
            (false, Some(s)) => {
                if y - s > best.1 - best.0 {
                    best = (s, y);
                }
                start = None;
            }
            _ => {}
        }
    }
    let (y0, y1) = (best.0 as u32, best.1 as u32);
    (y1 - y0 >= MIN_BAND).then_some((y0, y1))
}

impl Scroll {
    /// The copy that moves the band in an image `width` pixels wide: the rows and columns
    /// whose source lies inside the band.
    pub fn copy(&self, width: u32) -> Copy {
        let (adx, ady) = (self.dx.unsigned_abs(), self.dy.unsigned_abs());
        let x = (-self.dx).max(0) as u32;
        let y = if self.dy < 0 { self.y0 + ady } else { self.y0 };
        Copy {
            x,
            y,
            sx: (x as i32 + self.dx) as u32,
            sy: (y as i32 + self.dy) as u32,
            w: width - adx,
            h: self.y1 - self.y0 - ady,
        }
    }
}

/// Applies `c` to `rgba` (`width` pixels a row) as the terminal does: from a copy of the
/// source, so overlapping rectangles read the pixels from before the copy.
pub fn apply(rgba: &mut [u8], width: u32, c: Copy) {
    let stride = width as usize * 4;
    let mut rows = Vec::with_capacity((c.w * c.h * 4) as usize);
    for y in c.sy..c.sy + c.h {
        let i = y as usize * stride + c.sx as usize * 4;
        rows.extend_from_slice(&rgba[i..i + c.w as usize * 4]);
    }
    for (k, row) in rows.chunks_exact(c.w as usize * 4).enumerate() {
        let i = (c.y as usize + k) * stride + c.x as usize * 4;
        rgba[i..i + row.len()].copy_from_slice(row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::graphics::kitty::tests::frame;

    /// `f` scrolled: pixel (x, y) of rows 0..112 shows (x + dx, y + dy) of `f`, wrapped.
    fn scrolled(f: &[u8], dx: i32, dy: i32) -> Vec<u8> {
        let mut out = f.to_vec();
        for y in 0..112i32 {
            for x in 0..160i32 {
                let (sx, sy) = ((x + dx).rem_euclid(160), (y + dy).rem_euclid(112));
                let (d, s) = (((y * 160 + x) * 4) as usize, ((sy * 160 + sx) * 4) as usize);
                out[d..d + 4].copy_from_slice(&f[s..s + 4]);
            }
        }
        out
    }

    #[test]
    fn a_scrolled_band_is_found_and_its_copy_leaves_only_the_uncovered_edges() {
        let old = frame(40, 40);
        for (dx, dy) in [(1, 1), (6, 3), (-5, 2), (0, -7), (3, 0)] {
            let new = scrolled(&old, dx, dy);
            let s = find_scroll(&old, &new, 160, 144, &[], true).expect("a scroll");
            assert_eq!((s.dx, s.dy), (dx, dy));
            assert!(s.y0 == 0 && (100..=112).contains(&s.y1), "{s:?}");
            let mut copy = old.clone();
            apply(&mut copy, 160, s.copy(160));
            let wrong = (0..160 * 144)
                .filter(|i| copy[i * 4..i * 4 + 4] != new[i * 4..i * 4 + 4])
                .count();
            // What is left: the uncovered strips and the band's wrapped edge.
            let edges = (dx.unsigned_abs() * 112 + dy.unsigned_abs() * 160) as usize;
            assert!(
                wrong <= edges + 160 * 12,
                "{wrong} wrong after ({dx}, {dy})"
            );
        }
    }

    #[test]
    fn either_of_two_hints_is_proven_by_rows_and_a_wrong_hint_still_finds_the_scroll() {
        // Four shades at random: no row equals another moved by a wrong offset.
        let old: Vec<u8> = (0..160 * 144u32)
            .flat_map(|i| {
                let mut z = i.wrapping_mul(0x9E37_79B9);
                z = (z ^ z >> 16).wrapping_mul(0x85EB_CA6B);
                let v = ((z ^ z >> 13) >> 30) as u8 * 60;
                [v, v, v, 255]
            })
            .collect();
        for (dx, dy) in [(1, 0), (1, 1)] {
            let new = scrolled(&old, dx, dy);
            for hints in [&[(1, 1), (1, 0)][..], &[(1, 0), (1, 1)], &[(-4, 5)]] {
                // Two hints hold the answer: found with no full search.
                let search = hints.len() == 1;
                let s = find_scroll(&old, &new, 160, 144, hints, search).expect("a scroll");
                assert_eq!((s.dx, s.dy), (dx, dy), "hints {hints:?}");
                assert!(s.y0 == 0 && (100..=112).contains(&s.y1), "{s:?}");
            }
        }
        // Without the full search, a wrong hint finds nothing rather than a wrong scroll.
        let new = scrolled(&old, 6, 3);
        assert_eq!(find_scroll(&old, &new, 160, 144, &[(-4, 5)], false), None);
    }

    #[test]
    fn still_or_unrelated_frames_are_no_scroll() {
        let old = frame(40, 40);
        assert_eq!(find_scroll(&old, &old, 160, 144, &[], true), None);
        assert_eq!(
            find_scroll(&old, &frame(44, 40), 160, 144, &[(1, 1)], true),
            None
        );
        let noise: Vec<u8> = (0..160 * 144 * 4).map(|i| (i * 7919 % 251) as u8).collect();
        assert_eq!(find_scroll(&old, &noise, 160, 144, &[], true), None);
        assert_eq!(
            find_scroll(&old[..16 * 16 * 4], &old[..16 * 16 * 4], 16, 16, &[], true),
            None
        );
    }
}
