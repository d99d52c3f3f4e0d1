//! Where regions sit in one world: placed by the layout file ([`super::layout`]), else each
//! region as its own panel, sized by the positions seen in it.

use super::layout::{WorldLayout, WorldRect};
use super::positions::{MapSnapshot, Pos};

/// One panel of the map: a world rectangle and the regions drawn in it, placed at an offset.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// The panel's title (the region's name, or "world" for a layout).
    pub title: String,
    /// The world rectangle the panel shows.
    pub bounds: WorldRect,
}

/// The panels a snapshot is drawn in, and where a position lands in them.
#[derive(Debug, Clone, PartialEq)]
pub struct World {
    /// The panels, left to right.
    pub panels: Vec<Panel>,
    /// Per region index of the snapshot: (panel, offset added to its x, y); `None` for a
    /// region the layout does not place.
    place: Vec<Option<(usize, i32, i32)>>,
}

impl World {
    /// The world of `snap`: one panel for the layout's world, else one per region.
    pub fn new(snap: &MapSnapshot, layout: Option<&WorldLayout>) -> World {
        match layout {
            Some(l) => World::laid_out(snap, l),
            None => World::per_region(snap),
        }
    }

    fn laid_out(snap: &MapSnapshot, layout: &WorldLayout) -> World {
        let rects: Vec<&WorldRect> = layout.regions.values().collect();
        let x0 = rects.iter().map(|r| r.x).min().unwrap_or(0);
        let y0 = rects.iter().map(|r| r.y).min().unwrap_or(0);
        let x1 = rects.iter().map(|r| r.x + r.width).max().unwrap_or(1);
        let y1 = rects.iter().map(|r| r.y + r.height).max().unwrap_or(1);
        let place = snap
            .regions
            .iter()
            .map(|name| layout.regions.get(name).map(|r| (0, r.x, r.y)))
            .collect();
        World {
            panels: vec![Panel {
                title: "world".into(),
                bounds: WorldRect {
                    x: x0,
                    y: y0,
                    width: x1 - x0,
                    height: y1 - y0,
                },
            }],
            place,
        }
    }

    fn per_region(snap: &MapSnapshot) -> World {
        let n = snap.regions.len();
        let bounds: Vec<Option<(i32, i32, i32, i32)>> = (0..n)
            .map(|i| snap.bounds.get(i).copied().filter(|b| b.0 <= b.2))
            .collect();
        let mut order: Vec<usize> = (0..n).filter(|&i| bounds[i].is_some()).collect();
        order.sort_by(|&a, &b| natural(&snap.regions[a]).cmp(&natural(&snap.regions[b])));
        let mut place = vec![None; n];
        let panels = order
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let (x0, y0, x1, y1) = bounds[i].unwrap();
                place[i] = Some((k, 0, 0));
                let name = &snap.regions[i];
                Panel {
                    title: if name.is_empty() {
                        "world".into()
                    } else {
                        format!("map {name}")
                    },
                    bounds: WorldRect {
                        x: x0,
                        y: y0,
                        width: x1 - x0 + 1,
                        height: y1 - y0 + 1,
                    },
                }
            })
            .collect();
        World { panels, place }
    }

    /// The panel and world coordinates of `p`, if its region is placed.
    pub fn locate(&self, p: Pos) -> Option<(usize, i32, i32)> {
        let (panel, dx, dy) = (*self.place.get(p.region as usize)?)?;
        Some((panel, p.x + dx, p.y + dy))
    }
}

/// Sorts "2" before "10": numbers by value, then text.
fn natural(s: &str) -> (i64, &str) {
    (s.parse().unwrap_or(i64::MAX), s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::positions::Track;
    use std::sync::Arc;

    fn snap(regions: &[&str], at: &[Pos]) -> MapSnapshot {
        MapSnapshot {
            regions: regions.iter().map(|s| s.to_string()).collect(),
            feeds: at
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let t = Track {
                        current: Some(*p),
                        has_fields: true,
                        ..Track::default()
                    };
                    (format!("e{i}"), Arc::new(t))
                })
                .collect(),
            coverage: Arc::new(at.iter().map(|p| (*p, 1)).collect()),
            bounds: (0..regions.len() as u32)
                .map(|r| {
                    let here = at.iter().filter(|p| p.region == r);
                    let (x0, y0) = (
                        here.clone().map(|p| p.x).min(),
                        here.clone().map(|p| p.y).min(),
                    );
                    let (x1, y1) = (here.clone().map(|p| p.x).max(), here.map(|p| p.y).max());
                    (
                        x0.unwrap_or(i32::MAX),
                        y0.unwrap_or(i32::MAX),
                        x1.unwrap_or(i32::MIN),
                        y1.unwrap_or(i32::MIN),
                    )
                })
                .collect(),
            ..MapSnapshot::default()
        }
    }

    #[test]
    fn a_layout_places_regions_in_one_world() {
        let layout = WorldLayout::parse(
            r#"{"regions": {"0": {"x": 0, "y": 0, "width": 20, "height": 18},
                            "3": {"x": 60, "y": 0, "width": 20, "height": 18}}}"#,
        )
        .unwrap();
        let s = snap(
            &["3", "7"],
            &[
                Pos {
                    region: 0,
                    x: 5,
                    y: 6,
                },
                Pos {
                    region: 1,
                    x: 1,
                    y: 1,
                },
            ],
        );
        let w = World::new(&s, Some(&layout));
        assert_eq!(w.panels.len(), 1);
        assert_eq!(
            w.panels[0].bounds,
            WorldRect {
                x: 0,
                y: 0,
                width: 80,
                height: 18
            }
        );
        assert_eq!(
            w.locate(Pos {
                region: 0,
                x: 5,
                y: 6
            }),
            Some((0, 65, 6))
        );
        assert_eq!(
            w.locate(Pos {
                region: 1,
                x: 1,
                y: 1
            }),
            None,
            "7 is not laid out"
        );
    }

    #[test]
    fn without_a_layout_each_region_is_a_panel_in_number_order() {
        let s = snap(
            &["10", "2"],
            &[
                Pos {
                    region: 0,
                    x: 3,
                    y: 3,
                },
                Pos {
                    region: 1,
                    x: 1,
                    y: 2,
                },
                Pos {
                    region: 1,
                    x: 4,
                    y: 9,
                },
            ],
        );
        let w = World::new(&s, None);
        let titles: Vec<&str> = w.panels.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles, vec!["map 2", "map 10"]);
        assert_eq!(
            w.panels[0].bounds,
            WorldRect {
                x: 1,
                y: 2,
                width: 4,
                height: 8
            }
        );
        assert_eq!(
            w.locate(Pos {
                region: 0,
                x: 3,
                y: 3
            }),
            Some((1, 3, 3))
        );
    }
}
