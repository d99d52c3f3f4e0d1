//! The map's lower layers, kept between draws: the background and every covered pixel's
//! most visits, per panel. A new coverage list repaints only the positions whose visits
//! changed (the list keeps each position in its place, so two lists compare in step); a
//! new size, new panel bounds or a new background repaint everything.

use crate::pipeline::Pos;
use ratatui::layout::Rect;
use ratatui::style::Color;
use std::sync::Arc;

/// What the layers were made for: each panel's area and pixel size, each panel's world
/// bounds, the background's address (0: none).
pub type LayersKey = (Vec<(Rect, usize, usize)>, Vec<(i32, i32, i32, i32)>, usize);

/// One panel's lower layers, `w` × `h` pixels.
#[derive(Debug, Clone, Default)]
pub struct PanelLayer {
    /// Width in pixels.
    pub w: usize,
    /// Height in pixels.
    pub h: usize,
    /// The background's colour per pixel.
    pub background: Vec<Option<Color>>,
    /// The most visits of a position drawn on each pixel (0: none).
    pub counts: Vec<u32>,
}

/// Every panel's lower layers and the coverage they show.
#[derive(Debug, Default)]
pub struct MapLayers {
    key: Option<LayersKey>,
    /// The panels' layers, in the world's order.
    pub panels: Vec<PanelLayer>,
    painted: Arc<Vec<(Pos, u32)>>,
    /// The most visits of any position.
    pub most: u32,
    /// Positions painted by the last [`MapLayers::update`] (for benchmarks).
    pub repainted: usize,
}

/// Where a position's pixels are: (panel, x, y, side of the square it fills).
pub type Place = Option<(usize, usize, usize, usize)>;

impl MapLayers {
    /// Brings the layers up to `coverage`: from scratch (`fresh` makes the panels with
    /// their backgrounds) when `key` changed or the list is not a later one of the same
    /// coverage, else only the positions whose visits changed. `place` says where a
    /// position's pixels are.
    pub fn update(
        &mut self,
        key: LayersKey,
        coverage: &Arc<Vec<(Pos, u32)>>,
        fresh: impl FnOnce() -> Vec<PanelLayer>,
        place: impl Fn(Pos) -> Place,
    ) {
        let old = &self.painted;
        let same_list = old.len() <= coverage.len()
            && old
                .last()
                .is_none_or(|last| coverage[old.len() - 1].0 == last.0);
        let from = if self.key.as_ref() == Some(&key) && same_list {
            if Arc::ptr_eq(old, coverage) {
                self.repainted = 0;
                return;
            }
            Some(old.clone())
        } else {
            self.panels = fresh();
            self.most = 0;
            self.key = Some(key);
            None
        };
        let mut repainted = 0;
        for (i, &(p, n)) in coverage.iter().enumerate() {
            if let Some(old) = &from {
                if old.get(i).is_some_and(|o| o.1 == n) {
                    continue;
                }
            }
            self.most = self.most.max(n);
            repainted += 1;
            let Some((k, x, y, fill)) = place(p) else {
                continue;
            };
            let Some(layer) = self.panels.get_mut(k) else {
                continue;
            };
            for dy in 0..fill.min(layer.h.saturating_sub(y)) {
                let row = (y + dy) * layer.w + x;
                for c in &mut layer.counts[row..row + fill.min(layer.w - x)] {
                    *c = (*c).max(n);
                }
            }
        }
        self.repainted = repainted;
        self.painted = coverage.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(x: i32) -> Pos {
        Pos { region: 0, x, y: 0 }
    }

    fn layers(w: usize) -> Vec<PanelLayer> {
        vec![PanelLayer {
            w,
            h: 1,
            background: vec![None; w],
            counts: vec![0; w],
        }]
    }

    #[test]
    fn only_changed_positions_are_repainted_and_a_new_key_repaints_all() {
        let mut m = MapLayers::default();
        let place = |p: Pos| Some((0, p.x as usize, 0, 1));
        let key = || (vec![(Rect::new(0, 0, 4, 1), 4, 1)], vec![], 0);
        let a = Arc::new(vec![(pos(0), 1), (pos(1), 1), (pos(2), 3)]);
        m.update(key(), &a, || layers(4), place);
        assert_eq!((m.repainted, m.most), (3, 3));
        assert_eq!(m.panels[0].counts, [1, 1, 3, 0]);
        let b = Arc::new(vec![(pos(0), 1), (pos(1), 5), (pos(2), 3), (pos(3), 1)]);
        m.update(key(), &b, || layers(4), place);
        assert_eq!(m.repainted, 2, "one more visit, one new position");
        assert_eq!((m.panels[0].counts.clone(), m.most), (vec![1, 5, 3, 1], 5));
        m.update(key(), &b, || layers(4), place);
        assert_eq!(m.repainted, 0);
        let wider = (vec![(Rect::new(0, 0, 5, 1), 5, 1)], vec![], 0);
        m.update(wider, &b, || layers(5), place);
        assert_eq!(m.repainted, 4, "a new size repaints everything");
        // A list that is not a later one of the same coverage: from scratch.
        let other = Arc::new(vec![(pos(4), 2)]);
        let wider = (vec![(Rect::new(0, 0, 5, 1), 5, 1)], vec![], 0);
        m.update(wider, &other, || layers(5), place);
        assert_eq!(m.panels[0].counts, [0, 0, 0, 0, 2]);
    }
}
