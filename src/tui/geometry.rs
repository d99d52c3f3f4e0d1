//! The grid's shape: how many columns and rows of tiles fit, shared by the state (paging)
//! and the layout.

use super::halfblock::fit;

/// Smallest grid tile.
pub const TILE_MIN: (u16, u16) = (16, 5);

/// Columns and rows of the grid for `n` tiles in `w`x`h` cells (at most one page).
pub fn grid_shape(n: usize, w: u16, h: u16) -> (usize, usize) {
    if n == 0 {
        return (1, 1);
    }
    let max_cols = (w / TILE_MIN.0).max(1) as usize;
    let max_rows = (h / TILE_MIN.1).max(1) as usize;
    if n > max_cols * max_rows {
        return (max_cols, max_rows);
    }
    // The shape that gives each tile's picture the most pixels.
    let mut best = (1, n, 0u64);
    for cols in 1..=n.min(max_cols) {
        let rows = n.div_ceil(cols);
        if rows > max_rows {
            continue;
        }
        let tw = w / cols as u16;
        let th = h / rows as u16;
        let (iw, ih) = fit(160, 144, tw.saturating_sub(2), th.saturating_sub(2), 8);
        let score = iw as u64 * ih as u64;
        if score > best.2 {
            best = (cols, rows, score);
        }
    }
    (best.0, best.1)
}
