//! Redrawing only what changed of a sixel picture: the scaled picture is compared with the
//! one the terminal shows, and the new image starts at the first cell row that differs and
//! paints only the six-row bands that do (P2=1 leaves the others as they are). A change the
//! picture cannot show (source pixels dropped when shrinking) sends nothing.

use super::{cursor_to, SixelEncoder};
use crate::tui::graphics::{GraphicsError, PixelPlacement};

/// What the terminal shows of one sixel picture: where, with cells how high, and its
/// pixels as palette indices.
#[derive(Debug, Default)]
pub struct SixelShown {
    place: Option<(PixelPlacement, u16)>,
    palette: Vec<[u8; 3]>,
    index: Vec<u8>,
}

impl SixelEncoder {
    /// Brings the picture `shown` describes to `rgba` (`width`x`height`) scaled to `place`,
    /// with cells `cell_h` pixels high, keeping the cursor where it was: in full when it
    /// was elsewhere, else from the first changed cell row and only the changed bands.
    /// Returns the bytes appended to `out` (0 when no shown pixel changed).
    #[allow(clippy::too_many_arguments)]
    pub fn update_at(
        &mut self,
        rgba: &[u8],
        width: u32,
        height: u32,
        place: PixelPlacement,
        cell_h: u16,
        shown: &mut SixelShown,
        out: &mut Vec<u8>,
    ) -> Result<usize, GraphicsError> {
        self.scale(rgba, width, height, place.width, place.height)?;
        let start = out.len();
        let mut changed = std::mem::take(&mut self.changed);
        self.changed_rows(shown, (place, cell_h), &mut changed);
        let oh = place.height as usize;
        if let (Some(first), Some(last)) = (
            changed.iter().position(|&c| c),
            changed.iter().rposition(|&c| c),
        ) {
            let ch = cell_h.max(1) as usize;
            let y0 = first / ch * ch;
            let y1 = (y0 + (last + 1 - y0).div_ceil(6) * 6).min(oh);
            cursor_to(out, place.row + (y0 / ch) as u16, place.col);
            let draw = |y: usize| changed[y..(y + 6).min(oh)].contains(&true);
            self.write_image(place.width as usize, y0..y1, draw, out);
            out.extend_from_slice(b"\x1b8");
        }
        self.changed = changed;
        std::mem::swap(&mut shown.index, &mut self.index);
        shown.palette.clone_from(&self.palette.colours);
        shown.place = Some((place, cell_h));
        Ok(out.len() - start)
    }

    /// Fills `changed` with whether each row of the scaled picture differs from `shown`
    /// (every row when `shown` was somewhere else).
    fn changed_rows(
        &self,
        shown: &SixelShown,
        place: (PixelPlacement, u16),
        changed: &mut Vec<bool>,
    ) {
        let oh = place.0.height as usize;
        changed.clear();
        if shown.place != Some(place) || shown.index.len() != self.index.len() {
            changed.resize(oh, true);
            return;
        }
        // This frame's palette indices as the shown picture's (256: a new colour).
        let mut map = [256u16; 256];
        for (m, c) in map.iter_mut().zip(&self.palette.colours) {
            if let Some(i) = shown.palette.iter().position(|s| s == c) {
                *m = i as u16;
            }
        }
        let ng = self.index.len() / oh.max(1);
        changed.extend(
            self.index
                .chunks_exact(ng)
                .zip(shown.index.chunks_exact(ng))
                .map(|(now, was)| {
                    now.iter()
                        .zip(was)
                        .any(|(&n, &w)| map[n as usize] != w as u16)
                }),
        );
    }
}
