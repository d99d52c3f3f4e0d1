//! Which pixels changed between two frames, cut into rectangles to send.

/// How the changed pixels of a frame are cut into rectangles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rects {
    /// The bounding box of every change.
    One,
    /// Horizontal bands, merged while one rectangle is estimated cheaper than two.
    Several,
}

/// A rectangle of pixels: x, y, width, height.
pub type Rect = (u32, u32, u32, u32);

/// Estimated bytes of one rectangle's escape code around its data.
const RECT_OVERHEAD: u64 = 80;

/// The rectangles that cover every pixel where `old` and `new` differ (both RGBA,
/// `width`x`height`). `bpp` is the wire bytes per pixel, used to weigh one larger
/// rectangle against two smaller ones.
pub fn changed_rects(
    old: &[u8],
    new: &[u8],
    width: u32,
    height: u32,
    how: Rects,
    bpp: usize,
) -> Vec<Rect> {
    let (w, h) = (width as usize, height as usize);
    let stride = w * 4;
    // Per row: the first and last changed column.
    let mut rows: Vec<Option<(usize, usize)>> = Vec::with_capacity(h);
    for y in 0..h {
        let a = &old[y * stride..(y + 1) * stride];
        let b = &new[y * stride..(y + 1) * stride];
        if a == b {
            rows.push(None);
            continue;
        }
        let differs = |x: &usize| a[x * 4..x * 4 + 4] != b[x * 4..x * 4 + 4];
        let first = (0..w).find(differs).unwrap();
        let last = (0..w).rev().find(differs).unwrap();
        rows.push(Some((first, last)));
    }
    // Estimated wire bytes of a rectangle: fixed cost plus its pixels (pixel art deflates
    // to roughly a tenth; the ratio only matters relative to the fixed cost).
    let cost = |x0: usize, x1: usize, y0: usize, y1: usize| -> u64 {
        RECT_OVERHEAD + ((x1 - x0 + 1) * (y1 - y0 + 1) * bpp) as u64 / 10
    };
    let mut rects = Vec::new();
    let mut cur: Option<(usize, usize, usize, usize)> = None; // x0, x1, y0, y1
    for (y, r) in rows.iter().enumerate() {
        let Some((a, b)) = *r else { continue };
        cur = match cur {
            None => Some((a, b, y, y)),
            Some((x0, x1, y0, y1)) => {
                let (ux0, ux1) = (x0.min(a), x1.max(b));
                let merge = how == Rects::One
                    || cost(ux0, ux1, y0, y) <= cost(x0, x1, y0, y1) + cost(a, b, y, y);
                if merge {
                    Some((ux0, ux1, y0, y))
                } else {
                    rects.push((x0, x1, y0, y1));
                    Some((a, b, y, y))
                }
            }
        };
    }
    rects.extend(cur);
    rects
        .into_iter()
        .map(|(x0, x1, y0, y1)| {
            (
                x0 as u32,
                y0 as u32,
                (x1 - x0 + 1) as u32,
                (y1 - y0 + 1) as u32,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::graphics::kitty::tests::frame;

    #[test]
    fn rects_cover_all_changes_and_split_far_apart_ones() {
        let a = frame(0, 0);
        let mut b = a.clone();
        // Two changed pixels far apart.
        b[(5 * 160 + 3) * 4] ^= 1;
        b[(140 * 160 + 150) * 4] ^= 1;
        assert_eq!(
            changed_rects(&a, &b, 160, 144, Rects::One, 3),
            vec![(3, 5, 148, 136)]
        );
        assert_eq!(
            changed_rects(&a, &b, 160, 144, Rects::Several, 3),
            vec![(3, 5, 1, 1), (150, 140, 1, 1)]
        );
        assert!(changed_rects(&a, &a, 160, 144, Rects::Several, 3).is_empty());
    }
}
