//! Terminal graphics written by the project: capability detection from the terminal's
//! replies ([`caps`]), a kitty encoder with one persistent image per view and delta frames
//! ([`kitty`]), and a sixel encoder with an exact palette ([`sixel`]). Each encoder only
//! produces bytes; writing them is the caller's job.

pub mod caps;
pub mod kitty;
pub mod painter;
pub mod sixel;
pub mod tmux;
pub mod worker;

use ratatui::layout::Rect;

/// What the graphics encoders can fail on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphicsError {
    /// The pixel buffer is shorter than `width * height * 4`.
    #[error("frame of {width}x{height} needs {needed} RGBA bytes, got {got}")]
    ShortFrame {
        /// Frame width in pixels.
        width: u32,
        /// Frame height in pixels.
        height: u32,
        /// Bytes the frame needs.
        needed: usize,
        /// Bytes there were.
        got: usize,
    },
    /// A frame with no pixels, or larger than a terminal accepts.
    #[error("frame size {width}x{height} is outside 1x1..={max}x{max}")]
    BadSize {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// The largest side accepted.
        max: u32,
    },
    /// The area has no room for a picture.
    #[error("area {cols}x{rows} cells is too small for a picture")]
    NoRoom {
        /// Columns of the area.
        cols: u16,
        /// Rows of the area.
        rows: u16,
    },
}

/// Largest frame side accepted (kitty refuses images over 10000 pixels a side).
pub const MAX_SIDE: u32 = 10_000;

/// Cell size assumed when the terminal reports none, or one that makes no sense.
pub const DEFAULT_CELL: (u16, u16) = (10, 20);

/// The cell size in pixels to lay pictures out with: the reported one when it is plausible
/// (2..=200 pixels wide, 2..=400 high), else [`DEFAULT_CELL`].
pub fn sane_cell_size(reported: Option<(u16, u16)>) -> (u16, u16) {
    match reported {
        Some((w, h)) if (2..=200).contains(&w) && (2..=400).contains(&h) => (w, h),
        _ => DEFAULT_CELL,
    }
}

/// Checks a frame's size and buffer before any encoder touches it.
pub fn check_frame(rgba: &[u8], width: u32, height: u32) -> Result<(), GraphicsError> {
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(GraphicsError::BadSize {
            width,
            height,
            max: MAX_SIDE,
        });
    }
    let needed = width as usize * height as usize * 4;
    if rgba.len() < needed {
        return Err(GraphicsError::ShortFrame {
            width,
            height,
            needed,
            got: rgba.len(),
        });
    }
    Ok(())
}

/// Where a picture scaled by the terminal goes: a rectangle of whole cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellPlacement {
    /// Column of the top-left cell (from 0).
    pub col: u16,
    /// Row of the top-left cell (from 0).
    pub row: u16,
    /// Columns covered.
    pub cols: u16,
    /// Rows covered.
    pub rows: u16,
}

/// The cells a `width`x`height` frame covers inside `area` when the terminal scales it
/// (kitty `c=`/`r=`): as large as fits, at most `max_scale` times the native size, the
/// aspect kept to within half a cell, centred. `None` when the area has no cell.
pub fn fit_cells(
    width: u32,
    height: u32,
    area: Rect,
    cell: (u16, u16),
    max_scale: u32,
) -> Option<CellPlacement> {
    if width == 0 || height == 0 || area.width == 0 || area.height == 0 {
        return None;
    }
    let (cw, ch) = (cell.0.max(1) as f64, cell.1.max(1) as f64);
    let avail_w = area.width as f64 * cw;
    let avail_h = area.height as f64 * ch;
    let s = (avail_w / width as f64)
        .min(avail_h / height as f64)
        .min(max_scale.max(1) as f64);
    let cols = ((width as f64 * s / cw).round() as u16).clamp(1, area.width);
    let rows = ((height as f64 * s / ch).round() as u16).clamp(1, area.height);
    Some(CellPlacement {
        col: area.x + (area.width - cols) / 2,
        row: area.y + (area.height - rows) / 2,
        cols,
        rows,
    })
}

/// Where a picture scaled by gbwatch goes (sixel): its size in pixels and the cell its
/// top-left corner starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelPlacement {
    /// Column of the top-left cell (from 0).
    pub col: u16,
    /// Row of the top-left cell (from 0).
    pub row: u16,
    /// Picture width in pixels.
    pub width: u32,
    /// Picture height in pixels.
    pub height: u32,
}

/// The pixel size of a `width`x`height` frame in `area`: the largest integer scale up to
/// `max_scale` that fits (nearest neighbour), or the largest size that fits when even 1x
/// does not; centred on whole cells, like the half-blocks. `None` when the area has no cell.
pub fn fit_pixels(
    width: u32,
    height: u32,
    area: Rect,
    cell: (u16, u16),
    max_scale: u32,
) -> Option<PixelPlacement> {
    if width == 0 || height == 0 || area.width == 0 || area.height == 0 {
        return None;
    }
    let (cw, ch) = (cell.0.max(1) as u64, cell.1.max(1) as u64);
    let avail_w = area.width as u64 * cw;
    let avail_h = area.height as u64 * ch;
    let (w, h) = (width as u64, height as u64);
    let k = (avail_w / w).min(avail_h / h).min(max_scale.max(1) as u64);
    let (pw, ph) = if k >= 1 {
        (w * k, h * k)
    } else if avail_w * h <= avail_h * w {
        (avail_w, (avail_w * h / w).max(1))
    } else {
        ((avail_h * w / h).max(1), avail_h)
    };
    let cols_used = pw.div_ceil(cw);
    let rows_used = ph.div_ceil(ch);
    Some(PixelPlacement {
        col: area.x + ((area.width as u64 - cols_used) / 2) as u16,
        row: area.y + ((area.height as u64 - rows_used) / 2) as u16,
        width: pw as u32,
        height: ph as u32,
    })
}

/// Standard base64 of `data`, appended to `out`.
pub(crate) fn base64_into(data: &[u8], out: &mut Vec<u8>) {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut chunks = data.chunks_exact(3);
    for c in &mut chunks {
        let n = (c[0] as u32) << 16 | (c[1] as u32) << 8 | c[2] as u32;
        out.extend_from_slice(&[
            T[(n >> 18) as usize & 63],
            T[(n >> 12) as usize & 63],
            T[(n >> 6) as usize & 63],
            T[n as usize & 63],
        ]);
    }
    match *chunks.remainder() {
        [a] => {
            let n = (a as u32) << 16;
            out.extend_from_slice(&[T[(n >> 18) as usize & 63], T[(n >> 12) as usize & 63]]);
            out.extend_from_slice(b"==");
        }
        [a, b] => {
            let n = (a as u32) << 16 | (b as u32) << 8;
            out.extend_from_slice(&[
                T[(n >> 18) as usize & 63],
                T[(n >> 12) as usize & 63],
                T[(n >> 6) as usize & 63],
                b'=',
            ]);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut out = Vec::new();
            base64_into(plain.as_bytes(), &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), enc);
        }
    }

    #[test]
    fn cell_size_falls_back_when_missing_zero_or_absurd() {
        assert_eq!(sane_cell_size(Some((9, 18))), (9, 18));
        assert_eq!(sane_cell_size(None), DEFAULT_CELL);
        assert_eq!(sane_cell_size(Some((0, 0))), DEFAULT_CELL);
        assert_eq!(sane_cell_size(Some((0, 20))), DEFAULT_CELL);
        assert_eq!(sane_cell_size(Some((10, 60000))), DEFAULT_CELL);
        assert_eq!(sane_cell_size(Some((1, 1))), DEFAULT_CELL);
    }

    #[test]
    fn frames_are_checked() {
        assert!(check_frame(&[0; 16], 2, 2).is_ok());
        assert!(matches!(
            check_frame(&[0; 15], 2, 2),
            Err(GraphicsError::ShortFrame { needed: 16, .. })
        ));
        assert!(matches!(
            check_frame(&[], 0, 2),
            Err(GraphicsError::BadSize { .. })
        ));
        assert!(matches!(
            check_frame(&[], 20_000, 1),
            Err(GraphicsError::BadSize { .. })
        ));
    }

    #[test]
    fn cells_fill_the_area_and_centre() {
        // 80x36 cells of 10x20 px = 800x720 px: a 160x144 frame at 5x fills it exactly.
        let p = fit_cells(160, 144, Rect::new(0, 0, 80, 36), (10, 20), 8).unwrap();
        assert_eq!(
            p,
            CellPlacement {
                col: 0,
                row: 0,
                cols: 80,
                rows: 36
            }
        );
        // Limited by the scale: 2x = 320x288 px = 32x14.4 cells, centred in 100x50.
        let p = fit_cells(160, 144, Rect::new(0, 0, 100, 50), (10, 20), 2).unwrap();
        assert_eq!((p.cols, p.rows), (32, 14));
        assert_eq!((p.col, p.row), (34, 18));
        // The area's origin counts.
        let p = fit_cells(160, 144, Rect::new(5, 3, 32, 14), (10, 20), 2).unwrap();
        assert_eq!((p.col, p.row), (5, 3));
        assert!(fit_cells(160, 144, Rect::new(0, 0, 0, 5), (10, 20), 2).is_none());
        // Tiny areas still get one cell, never more than the area.
        let p = fit_cells(160, 144, Rect::new(0, 0, 1, 1), (10, 20), 2).unwrap();
        assert_eq!((p.cols, p.rows), (1, 1));
    }

    #[test]
    fn pixels_use_integer_scales_up_to_the_limit_and_centre() {
        // 800x650 px pane (80x32.5 cells, say 80x32): 4x = 640x576 fits.
        let p = fit_pixels(160, 144, Rect::new(0, 0, 80, 32), (10, 20), 4).unwrap();
        assert_eq!((p.width, p.height), (640, 576));
        assert_eq!((p.col, p.row), (8, 1)); // (80-64)/2, (32-29)/2
        let p = fit_pixels(160, 144, Rect::new(0, 0, 80, 32), (10, 20), 2).unwrap();
        assert_eq!((p.width, p.height), (320, 288));
        assert_eq!((p.col, p.row), (24, 8));
        // Smaller than 1x: shrunk to fit, aspect kept.
        let p = fit_pixels(160, 144, Rect::new(0, 0, 8, 4), (10, 20), 4).unwrap();
        assert_eq!((p.width, p.height), (80, 72));
        assert!(fit_pixels(160, 144, Rect::new(0, 0, 8, 0), (10, 20), 4).is_none());
    }
}
