//! Predicting a frame's palette indices from the previous frame's: the picture moved by one
//! shift (a scroll) or left in place, chosen row by row. What is left over, the indices XOR
//! the prediction, is mostly zeros and compresses well without a dictionary.

/// How far a scroll is looked for: pixels either way on each axis.
pub(super) const REACH: i32 = 12;

/// Pixel `(x + dx, y + dy)` of the previous frame predicts pixel `(x, y)` of a moved row;
/// pixels from outside the previous frame predict index 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Shift {
    pub dx: i32,
    pub dy: i32,
}

/// Finds where the picture moved, trying the last two shifts found first: a scroll at a
/// speed below a pixel a frame alternates between two.
#[derive(Debug, Default)]
pub(super) struct ShiftFinder {
    /// The last two distinct shifts found, newest first.
    hints: [Shift; 2],
    /// Frames to go before the next full search (after one that found nothing).
    rest: u8,
    /// Full searches made (for tests).
    searches: u32,
}

/// Frames a full search rests after finding no shift that predicts most of the picture.
const REST: u8 = 8;

impl ShiftFinder {
    /// The shift that predicts most of `cur` (`width` columns) from `prev`.
    pub fn find(&mut self, cur: &[u8], prev: &[u8], width: usize) -> Shift {
        let height = cur.len() / width;
        let sampled = height.div_ceil(4) * width;
        let good = |s: usize| s * 4 >= sampled * 3;
        let zero = Shift::default();
        let mut best = (0, self.hints[0]);
        let candidates = [self.hints[0], self.hints[1], zero];
        for (i, &shift) in candidates.iter().enumerate() {
            if candidates[..i].contains(&shift) {
                continue;
            }
            let s = matches(cur, prev, width, shift, 4);
            if good(s) {
                self.found(shift);
                return shift;
            }
            best = best.max_by_key(s, shift);
        }
        if self.rest > 0 {
            self.rest -= 1;
            return best.1;
        }
        self.searches += 1;
        // Every shift on a few rows, then the best few on more.
        let mut coarse = Vec::with_capacity(((2 * REACH + 1) * (2 * REACH + 1)) as usize);
        for dy in -REACH..=REACH {
            for dx in -REACH..=REACH {
                let shift = Shift { dx, dy };
                coarse.push((matches(cur, prev, width, shift, 16), shift));
            }
        }
        coarse.sort_unstable_by_key(|&(s, _)| std::cmp::Reverse(s));
        for &(_, shift) in coarse.iter().take(4) {
            best = best.max_by_key(matches(cur, prev, width, shift, 4), shift);
        }
        if !good(best.0) {
            self.rest = REST;
        }
        self.found(best.1);
        best.1
    }

    /// Makes `shift` the newest hint.
    fn found(&mut self, shift: Shift) {
        if shift != self.hints[0] {
            self.hints = [shift, self.hints[0]];
        }
    }
}

trait Best {
    fn max_by_key(self, score: usize, shift: Shift) -> Self;
}

impl Best for (usize, Shift) {
    fn max_by_key(self, score: usize, shift: Shift) -> Self {
        if score > self.0 {
            (score, shift)
        } else {
            self
        }
    }
}

/// Pixels of every `step`-th row of `cur` that `prev` moved by `shift` predicts.
fn matches(cur: &[u8], prev: &[u8], width: usize, shift: Shift, step: usize) -> usize {
    let height = cur.len() / width;
    let (x0, x1) = overlap(width, shift.dx);
    let mut n = 0;
    for y in (0..height).step_by(step) {
        let py = y as i64 + shift.dy as i64;
        if x0 >= x1 || py < 0 || py >= height as i64 {
            continue;
        }
        let c = &cur[y * width + x0..y * width + x1];
        let from = (py as usize * width) as i64 + x0 as i64 + shift.dx as i64;
        let p = &prev[from as usize..from as usize + c.len()];
        n += c.len() - differing(c, p);
    }
    n
}

/// How many bytes of `a` differ from those of `b` (counted in bytes, 255 at a time, which
/// vectorizes).
fn differing(a: &[u8], b: &[u8]) -> usize {
    a.chunks(255)
        .zip(b.chunks(255))
        .map(|(a, b)| a.iter().zip(b).fold(0u8, |n, (x, y)| n + (x != y) as u8) as usize)
        .sum()
}

/// The columns `[x0, x1)` whose moved pixel lies inside a row of `width`.
fn overlap(width: usize, dx: i32) -> (usize, usize) {
    let w = width as i64;
    let dx = dx as i64;
    ((-dx).clamp(0, w) as usize, (w - dx).clamp(0, w) as usize)
}

/// Row `y`'s prediction: the previous frame's row `y`, or its row `y + dy` moved by `dx`.
fn predict_row(prev: &[u8], width: usize, y: usize, shift: Shift, moved: bool, out: &mut [u8]) {
    let height = prev.len() / width;
    if !moved {
        out.copy_from_slice(&prev[y * width..(y + 1) * width]);
        return;
    }
    out.fill(0);
    let py = y as i64 + shift.dy as i64;
    let (x0, x1) = overlap(width, shift.dx);
    if x0 >= x1 || py < 0 || py >= height as i64 {
        return;
    }
    let from = py as usize * width + (x0 as i64 + shift.dx as i64) as usize;
    out[x0..x1].copy_from_slice(&prev[from..from + (x1 - x0)]);
}

/// Chooses for every row whether it moved (`rows`: 1 moved, 0 in place, whichever predicts
/// more pixels) and writes `cur` XOR the prediction to `residual`.
pub(super) fn residual(
    cur: &[u8],
    prev: &[u8],
    width: usize,
    shift: Shift,
    rows: &mut Vec<u8>,
    residual: &mut Vec<u8>,
) {
    let height = cur.len() / width;
    rows.clear();
    residual.resize(cur.len(), 0);
    let mut moved = vec![0u8; width];
    for y in 0..height {
        let c = &cur[y * width..(y + 1) * width];
        let here = &prev[y * width..(y + 1) * width];
        predict_row(prev, width, y, shift, true, &mut moved);
        let use_moved = shift != Shift::default() && differing(c, &moved) < differing(c, here);
        rows.push(use_moved as u8);
        let p: &[u8] = if use_moved { &moved } else { here };
        let r = &mut residual[y * width..(y + 1) * width];
        for ((r, a), b) in r.iter_mut().zip(c).zip(p) {
            *r = a ^ b;
        }
    }
}

/// The inverse of [`residual`]: turns `indices` (holding the residual) into the frame's
/// indices. `rows` has one byte per row (non-zero: moved).
pub(super) fn restore(indices: &mut [u8], prev: &[u8], width: usize, shift: Shift, rows: &[u8]) {
    let mut p = vec![0u8; width];
    for (y, (row, &moved)) in indices.chunks_exact_mut(width).zip(rows).enumerate() {
        predict_row(prev, width, y, shift, moved != 0, &mut p);
        for (i, b) in row.iter_mut().zip(&p) {
            *i ^= b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: usize = 40;
    const H: usize = 30;

    /// A picture of 4 shades with no period: pixel (x, y) of a large world, seen from `(ox, oy)`.
    fn view(ox: i32, oy: i32) -> Vec<u8> {
        let mut v = Vec::with_capacity(W * H);
        for y in 0..H as i32 {
            for x in 0..W as i32 {
                let (wx, wy) = ((x + ox) as u32, (y + oy) as u32);
                let h = (wx.wrapping_mul(0x9E37_79B1) ^ wy.wrapping_mul(0x85EB_CA77)) >> 29;
                v.push((h % 4) as u8);
            }
        }
        v
    }

    #[test]
    fn a_scroll_is_found_and_leaves_only_the_new_edge() {
        let (prev, mut cur) = (view(100, 100), view(106, 103));
        // A status bar that stays put over the bottom 4 rows.
        for p in &mut cur[(H - 4) * W..] {
            *p = 2;
        }
        let mut prev_bar = prev.clone();
        for p in &mut prev_bar[(H - 4) * W..] {
            *p = 2;
        }
        let mut finder = ShiftFinder::default();
        let shift = finder.find(&cur, &prev_bar, W);
        assert_eq!(shift, Shift { dx: 6, dy: 3 });
        let (mut rows, mut res) = (Vec::new(), Vec::new());
        residual(&cur, &prev_bar, W, shift, &mut rows, &mut res);
        assert_eq!(
            &rows[H - 4..],
            [0, 0, 0, 0],
            "the bar is predicted in place"
        );
        assert!(rows[..H - 4].iter().all(|&r| r == 1));
        // Only the 6 new columns and 3 new rows can differ.
        let nonzero = res.iter().filter(|&&r| r != 0).count();
        assert!(nonzero <= 6 * (H - 4) + 3 * W, "{nonzero} pixels left");
        restore(&mut res, &prev_bar, W, shift, &rows);
        assert_eq!(res, cur);
        // The next frame moves the same way: found from the hint.
        assert_eq!(finder.find(&view(112, 106), &view(106, 103), W), shift);
    }

    #[test]
    fn a_scroll_alternating_between_two_shifts_is_found_without_searching() {
        // A world of random indices (xorshift), and the frame at (ox, oy) of it.
        let mut state = 0x2545_F491_u32;
        let world: Vec<u8> = (0..(W + 40) * (H + 40))
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state >> 30) as u8
            })
            .collect();
        let view = |ox: usize, oy: usize| -> Vec<u8> {
            let rows = world.chunks(W + 40).skip(oy).take(H);
            rows.flat_map(|r| r[ox..ox + W].to_vec()).collect()
        };
        let mut finder = ShiftFinder::default();
        let (mut x, mut y) = (0, 0);
        let mut frame = view(x, y);
        for i in 0..20 {
            let dy = i % 2;
            (x, y) = (x + 1, y + dy);
            let next = view(x, y);
            let shift = finder.find(&next, &frame, W);
            assert_eq!(
                shift,
                Shift {
                    dx: 1,
                    dy: dy as i32
                },
                "frame {i}"
            );
            frame = next;
        }
        assert_eq!(finder.searches, 2, "one search for each of the two shifts");
    }

    #[test]
    fn any_shift_and_rows_restore_exactly() {
        let (prev, cur) = (view(0, 0), view(3, -2));
        for (dx, dy) in [(0, 0), (-12, 12), (40, 0), (0, -30), (127, -128), (-1, 1)] {
            let shift = Shift { dx, dy };
            let (mut rows, mut res) = (Vec::new(), Vec::new());
            residual(&cur, &prev, W, shift, &mut rows, &mut res);
            restore(&mut res, &prev, W, shift, &rows);
            assert_eq!(res, cur, "{shift:?}");
        }
    }

    #[test]
    fn no_shift_is_claimed_for_an_unrelated_picture() {
        let mut finder = ShiftFinder::default();
        let noise: Vec<u8> = (0..W * H).map(|i| (i * 7 % 13 % 4) as u8).collect();
        let shift = finder.find(&view(500, 900), &noise, W);
        let (mut rows, mut res) = (Vec::new(), Vec::new());
        residual(&view(500, 900), &noise, W, shift, &mut rows, &mut res);
        restore(&mut res, &noise, W, shift, &rows);
        assert_eq!(res, view(500, 900));
        assert_eq!(finder.rest, REST, "the next frames skip the full search");
    }
}
