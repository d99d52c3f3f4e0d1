//! The map view: every env's marker (its letter, in its colour), its trail and the coverage
//! heat on a half-block canvas, one panel per region (or one world from the layout file),
//! and the list of envs beside it.

use crate::pipeline::{Panel, World};
use crate::tui::map::{letter, Entry};
use crate::tui::map_image::MapImage;
use crate::tui::map_layers::{MapLayers, PanelLayer};
use crate::tui::state::State;
use crate::tui::theme;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};
use std::sync::Arc;

/// Width of the list beside the map.
const LIST: u16 = 36;

/// Map view: (canvas, list).
pub fn split(body: Rect) -> (Rect, Rect) {
    if body.width >= LIST + 40 {
        let [c, l] =
            Layout::horizontal([Constraint::Min(40), Constraint::Length(LIST)]).areas(body);
        (c, l)
    } else {
        let h = (body.height / 3).max(3);
        let [c, l] = Layout::vertical([Constraint::Min(3), Constraint::Length(h)]).areas(body);
        (c, l)
    }
}

/// Draws the map in `canvas` and the envs' list in `list`.
pub fn render(state: &State, canvas: Rect, list: Rect, buf: &mut Buffer) {
    let entries = state.map_entries();
    let snap = &state.map.snapshot;
    let mut title = format!(" map · {} positions covered ", snap.distinct());
    if state.paused_at.is_some() {
        let when = crate::tui::timeline::indicator(state.paused_at, state.now_ns);
        title.push_str(&format!("· {when}, markers and trails then "));
    }
    let block = Block::bordered().title(title);
    let inner = block.inner(canvas);
    block.render(canvas, buf);
    let world = state.map.world();
    if world.panels.is_empty() {
        let msg = "no env reports a position yet (its info's fields: --map-fields)";
        Paragraph::new(msg)
            .wrap(Wrap { trim: true })
            .render(inner, buf);
    }
    let rects = panel_rects(&world, inner);
    let rasters = rasters(state, &world, &rects, &entries, buf);
    for r in &rasters {
        paint(&r.px, r.scale.w, r.area, buf);
    }
    markers(state, &world, &rasters, &entries, buf);
    render_list(state, &entries, list, buf);
}

/// The panels side by side in `inner`; a single panel takes it all, unbordered.
fn panel_rects(world: &World, inner: Rect) -> Vec<Rect> {
    let n = world.panels.len() as u16;
    if n == 0 {
        return Vec::new();
    }
    let w = inner.width / n;
    (0..n)
        .map(|k| Rect::new(inner.x + k * w, inner.y, w, inner.height))
        .collect()
}

/// How world coordinates land in a panel's pixels (two per cell, one above the other):
/// `num / den` pixels per world unit, whole when at least 1, in integers only.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// World origin.
    x0: i32,
    y0: i32,
    num: i64,
    den: i64,
    /// `num / den` in 32.32 fixed point, rounded up: `dx * mul >> 32` is the exact
    /// `dx * num / den` for every coordinate a world has, without a division.
    mul: i64,
    /// Pixel size of the area.
    w: usize,
    h: usize,
}

impl Scale {
    /// Fits `p`'s bounds into `w` × `h` pixels, keeping its aspect.
    pub fn fit(p: &Panel, w: usize, h: usize) -> Scale {
        let b = p.bounds;
        let (bw, bh) = (b.width.max(1) as i64, b.height.max(1) as i64);
        let (w_, h_) = (w as i64, h as i64);
        // The tighter of w / bw and h / bh.
        let (num, den) = if w_ * bh <= h_ * bw {
            (w_, bw)
        } else {
            (h_, bh)
        };
        let (num, den) = if num >= den {
            (num / den, 1)
        } else {
            (num, den)
        };
        Scale {
            x0: b.x,
            y0: b.y,
            num: num.max(1),
            den,
            mul: ((num.max(1) << 32) + den - 1) / den,
            w,
            h,
        }
    }

    /// Pixels per world unit.
    pub fn per(&self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// The pixel of world point (x, y), if inside.
    pub fn pixel(&self, x: i32, y: i32) -> Option<(usize, usize)> {
        let (dx, dy) = ((x - self.x0) as i64, (y - self.y0) as i64);
        if dx < 0 || dy < 0 {
            return None;
        }
        let (px, py) = (
            ((dx * self.mul) >> 32) as usize,
            ((dy * self.mul) >> 32) as usize,
        );
        (px < self.w && py < self.h).then_some((px, py))
    }
}

/// One panel's pixels, before they become half-blocks.
struct Raster {
    area: Rect,
    scale: Scale,
    fill: usize,
    px: Vec<Option<Color>>,
}

impl Raster {
    fn put(&mut self, x: i32, y: i32, c: Color) {
        let (w, h) = (self.scale.w, self.scale.h);
        if let Some((x, y)) = self.scale.pixel(x, y) {
            if self.fill == 1 {
                self.px[y * w + x] = Some(c);
                return;
            }
            for dy in 0..self.fill.min(h - y) {
                for dx in 0..self.fill.min(w - x) {
                    self.px[(y + dy) * w + x + dx] = Some(c);
                }
            }
        }
    }
}

/// Every panel's frame and raster: the background, then the coverage heat, then the trails,
/// each point visited once whatever the number of panels.
fn rasters(
    state: &State,
    world: &World,
    rects: &[Rect],
    list: &[Entry],
    buf: &mut Buffer,
) -> Vec<Raster> {
    let mut out: Vec<Raster> = world
        .panels
        .iter()
        .zip(rects)
        .map(|(panel, &rect)| {
            let area = if world.panels.len() > 1 {
                let b = Block::bordered()
                    .title(format!(" {} ", panel.title))
                    .style(theme::LABEL);
                let inner = b.inner(rect);
                b.render(rect, buf);
                inner
            } else {
                rect
            };
            let (w, h) = (area.width as usize, area.height as usize * 2);
            let scale = Scale::fit(panel, w, h);
            let fill = (scale.per().max(1.0) as usize).min(8);
            Raster {
                area,
                scale,
                fill,
                px: Vec::new(),
            }
        })
        .collect();
    let snap = &state.map.snapshot;
    let scales: Vec<(Rect, Scale, usize)> = out.iter().map(|r| (r.area, r.scale, r.fill)).collect();
    let mut layers = state.map.layers.lock().unwrap();
    lower_layers(state, world, &scales, &mut layers);
    let heat = theme::Heat::new(layers.most.max(1));
    for (r, layer) in out.iter_mut().zip(&layers.panels) {
        r.px.clear();
        r.px.extend(layer.counts.iter().zip(&layer.background).map(|(&n, &b)| {
            if n > 0 {
                Some(heat.colour(n))
            } else {
                b
            }
        }));
    }
    drop(layers);
    for e in list {
        let colour = theme::env_color(e.feed);
        for p in e.track.iter().flat_map(|t| snap.trail(t)) {
            if let Some((k, x, y)) = world.locate(p) {
                out[k].put(x, y, colour);
            }
        }
    }
    out
}

/// Brings `layers` (background and coverage) up to the state's coverage for panels of
/// (area, scale, fill) `scales`, pixels as the scales count them.
pub fn lower_layers(
    state: &State,
    world: &World,
    scales: &[(Rect, Scale, usize)],
    layers: &mut MapLayers,
) {
    let snap = &state.map.snapshot;
    let background = &state.map.background;
    let key = (
        scales.iter().map(|(a, s, _)| (*a, s.w, s.h)).collect(),
        world
            .panels
            .iter()
            .map(|p| (p.bounds.x, p.bounds.y, p.bounds.width, p.bounds.height))
            .collect(),
        background.as_ref().map_or(0, |b| Arc::as_ptr(b) as usize),
    );
    let fresh = || {
        scales
            .iter()
            .zip(&world.panels)
            .map(|((_, s, _), panel)| {
                let mut bg = vec![None; s.w * s.h];
                if let (Some(image), true) = (background, world.panels.len() == 1) {
                    underlay(image, s, panel, s.w, &mut bg);
                }
                PanelLayer {
                    w: s.w,
                    h: s.h,
                    background: bg,
                    counts: vec![0; s.w * s.h],
                }
            })
            .collect()
    };
    let place = |p| {
        let (k, x, y) = world.locate(p)?;
        let (_, scale, fill) = scales.get(k)?;
        let (px, py) = scale.pixel(x, y)?;
        Some((k, px, py, *fill))
    };
    layers.update(key, &snap.coverage, fresh, place);
}

/// The cell of each env's marker: (feed index, column, row), from the panels' areas.
fn marker_cells(world: &World, areas: &[(Rect, Scale)], list: &[Entry]) -> Vec<(usize, u16, u16)> {
    list.iter()
        .filter_map(|e| {
            let (k, x, y) = e.at().and_then(|p| world.locate(p))?;
            let (area, scale) = areas.get(k)?;
            let (cx, cy) = scale.pixel(x, y)?;
            Some((e.feed, area.x + cx as u16, area.y + (cy / 2) as u16))
        })
        .collect()
}

/// The markers over the painted rasters: each env's letter on its colour.
fn markers(state: &State, world: &World, rasters: &[Raster], list: &[Entry], buf: &mut Buffer) {
    let areas: Vec<(Rect, Scale)> = rasters.iter().map(|r| (r.area, r.scale)).collect();
    for (feed, col, row) in marker_cells(world, &areas, list) {
        let mut style = Style::new().fg(Color::Black).bg(theme::env_color(feed));
        style = style.add_modifier(Modifier::BOLD);
        if state.map.selected == Some(feed) {
            style = style.add_modifier(Modifier::REVERSED | Modifier::UNDERLINED);
        }
        if let Some(c) = buf.cell_mut((col, row)) {
            c.set_char(letter(feed)).set_style(style);
        }
    }
}

/// The env whose marker is at cell (`col`, `row`) of a map drawn in `canvas`, or the
/// nearest one a cell away (a click beside a marker still picks it).
pub fn marker_at(state: &State, canvas: Rect, col: u16, row: u16) -> Option<usize> {
    let world = state.map.world();
    let inner = Block::bordered().inner(canvas);
    let areas: Vec<(Rect, Scale)> = panel_rects(&world, inner)
        .into_iter()
        .zip(&world.panels)
        .map(|(rect, panel)| {
            let area = panel_area(&world, rect);
            let (w, h) = (area.width as usize, area.height as usize * 2);
            (area, Scale::fit(panel, w, h))
        })
        .collect();
    let cells = marker_cells(&world, &areas, &state.map_entries());
    let distance = |&(_, c, r): &(usize, u16, u16)| c.abs_diff(col).max(r.abs_diff(row));
    cells
        .iter()
        .filter(|m| distance(m) <= 1)
        .min_by_key(|m| distance(m))
        .map(|m| m.0)
}

/// A panel's drawing area within its rect: inside its border when there are several.
fn panel_area(world: &World, rect: Rect) -> Rect {
    if world.panels.len() > 1 {
        Block::bordered().inner(rect)
    } else {
        rect
    }
}

/// The background stretched over the panel's world rectangle (as many pixels as it covers).
fn underlay(image: &MapImage, scale: &Scale, panel: &Panel, w: usize, px: &mut [Option<Color>]) {
    let (ww, wh) = (
        panel.bounds.width as f64 * scale.per(),
        panel.bounds.height as f64 * scale.per(),
    );
    let h = px.len() / w.max(1);
    for y in 0..(wh.ceil() as usize).min(h) {
        for x in 0..(ww.ceil() as usize).min(w) {
            px[y * w + x] = Some(image.sample(x as f64 / ww, y as f64 / wh));
        }
    }
}

/// Half-blocks: the upper pixel as the foreground of `▀`, the lower as its background.
fn paint(px: &[Option<Color>], w: usize, area: Rect, buf: &mut Buffer) {
    for cy in 0..area.height as usize {
        for cx in 0..w {
            let (top, bottom) = (px[2 * cy * w + cx], px[(2 * cy + 1) * w + cx]);
            if top.is_none() && bottom.is_none() {
                continue;
            }
            if let Some(c) = buf.cell_mut((area.x + cx as u16, area.y + cy as u16)) {
                c.set_char('▀')
                    .set_fg(top.unwrap_or(Color::Reset))
                    .set_bg(bottom.unwrap_or(Color::Reset));
            }
        }
    }
}

fn render_list(state: &State, entries: &[Entry], area: Rect, buf: &mut Buffer) {
    let order = if state.map.by_distance {
        "by distance"
    } else {
        "by region"
    };
    let block = Block::bordered().title(format!(" envs {order} "));
    let inner = block.inner(area);
    block.render(area, buf);
    let snap = &state.map.snapshot;
    let with = entries.iter().filter(|e| e.at().is_some()).count();
    let mut lines = vec![Line::from(vec![
        Span::styled("covered ", theme::LABEL),
        Span::raw(format!("{} positions", snap.distinct())),
    ])];
    lines.push(Line::styled(
        format!("{with} of {} envs with a position", entries.len()),
        theme::LABEL,
    ));
    let selected = entries
        .iter()
        .position(|e| Some(e.feed) == state.map.selected);
    let room = inner.height.saturating_sub(2) as usize;
    let first = selected.map_or(0, |s| s.saturating_sub(room.saturating_sub(1)));
    for (i, e) in entries.iter().enumerate().skip(first).take(room) {
        let mark = Span::styled(
            format!("{}", letter(e.feed)),
            Style::new().fg(Color::Black).bg(theme::env_color(e.feed)),
        );
        let text = match (e.at(), &e.track) {
            (Some(p), Some(t)) => {
                let region = snap.region_name(p.region);
                let region = if region.is_empty() {
                    String::new()
                } else {
                    format!("{region}:")
                };
                format!(" {:<12} {region}{},{} ({})", e.name, p.x, p.y, t.distinct)
            }
            (_, Some(t)) if !t.has_fields => format!(" {:<12} no position fields", e.name),
            _ => format!(" {:<12} no position yet", e.name),
        };
        let mut style = Style::new();
        if Some(i) == selected {
            style = theme::SELECTED;
        }
        lines.push(Line::from(vec![mark, Span::styled(text, style)]));
    }
    Paragraph::new(lines).render(inner, buf);
}

#[cfg(test)]
mod tests {
    use crate::fixtures::online;
    use crate::info::{Info, Scalar};
    use crate::pipeline::{MapFields, Positions, WorldLayout};
    use crate::tui::state::{Event, State};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    const LAYOUT: &str = r#"{"regions": {
        "0": {"x": 0, "y": 0, "width": 20, "height": 18},
        "1": {"x": 20, "y": 0, "width": 20, "height": 18},
        "2": {"x": 40, "y": 0, "width": 20, "height": 18},
        "3": {"x": 60, "y": 0, "width": 20, "height": 18}}}"#;

    fn at(map: i64, x: i64, y: i64) -> Info {
        let mut i = Info::new();
        i.push("x", Scalar::Int(x)).unwrap();
        i.push("y", Scalar::Int(y)).unwrap();
        i.push("map", Scalar::Int(map)).unwrap();
        i
    }

    /// A state with feeds `walks` (each a path of (map, x, y), one step a second) and `bare`
    /// envs without position fields, on a `size` terminal.
    /// An env's name and its path of (map, x, y).
    type Walk<'a> = (&'a str, &'a [(i64, i64, i64)]);

    fn state(walks: &[Walk], bare: &[&str], size: (u16, u16)) -> State {
        let p = Positions::new(MapFields::default(), Duration::from_secs(10));
        let t0 = Instant::now();
        let mut last = t0;
        for (name, path) in walks {
            for (k, (m, x, y)) in path.iter().enumerate() {
                last = last.max(t0 + Duration::from_secs(k as u64));
                p.observe(
                    name,
                    Some(&at(*m, *x, *y)),
                    t0 + Duration::from_secs(k as u64),
                );
            }
        }
        for name in bare {
            p.observe(name, None, t0);
        }
        let mut s = State::new(1, "");
        s.update(Event::Resize(size.0, size.1));
        let names = walks.iter().map(|(n, _)| *n).chain(bare.iter().copied());
        s.update(Event::Feeds {
            feeds: names.map(online).collect(),
            now_ns: 1,
        });
        s.update(Event::Key(KeyEvent::new(
            KeyCode::Char('m'),
            KeyModifiers::NONE,
        )));
        s.update(Event::Map(p.snapshot(last)));
        s
    }

    fn draw(s: &State) -> (String, ratatui::buffer::Buffer) {
        let (w, h) = s.size;
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| f.render_widget(s, f.area())).unwrap();
        (t.backend().to_string(), t.backend().buffer().clone())
    }

    #[test]
    fn markers_sit_at_their_world_cells_with_a_layout() {
        let walks: [Walk; 4] = [
            ("env-a", &[(0, 3, 4)]),
            ("env-b", &[(1, 10, 5)]),
            ("env-c", &[(3, 19, 17)]),
            ("env-d", &[(2, 0, 0), (2, 1, 0), (2, 2, 0), (2, 2, 1)]),
        ];
        let mut s = state(&walks, &["env-bare"], (120, 30));
        s.map.layout = Some(Arc::new(WorldLayout::parse(LAYOUT).unwrap()));
        let (text, buf) = draw(&s);
        // 120 columns: the map's inner area starts at (1, 1), one world unit a pixel
        // column, two a cell row; region r starts at 20 * r.
        for (letter, (x, y)) in [
            ('a', (3, 4)),
            ('b', (30, 5)),
            ('c', (79, 17)),
            ('d', (42, 1)),
        ] {
            let cell = &buf[(1 + x, 1 + y / 2)];
            assert_eq!(
                cell.symbol(),
                letter.to_string(),
                "{letter} at {x},{y}\n{text}"
            );
        }
        assert!(text.contains("env-bare     no position fields"), "{text}");
        assert!(text.contains("map · 7 positions covered"), "{text}");
        insta::assert_snapshot!(text);
        // A click on (or beside) a marker picks its env; elsewhere nothing.
        let screen = crate::tui::panels::layout(&s, ratatui::layout::Rect::new(0, 0, 120, 30));
        let crate::tui::panels::Areas::Map { canvas, .. } = screen.areas else {
            panic!("not the map: {:?}", screen.areas);
        };
        assert_eq!(super::marker_at(&s, canvas, 31, 3), Some(1), "b's cell");
        assert_eq!(super::marker_at(&s, canvas, 32, 4), Some(1), "beside b");
        assert_eq!(super::marker_at(&s, canvas, 80, 9), Some(2), "c's cell");
        assert_eq!(super::marker_at(&s, canvas, 50, 8), None);
        s.update(Event::Pick(1));
        assert_eq!(s.view(), crate::tui::state::View::Single(1));
        assert_eq!(s.current().unwrap().name(), "env-b");
    }

    #[test]
    fn each_region_is_a_panel_without_a_layout() {
        let walks: [Walk; 3] = [
            (
                "a",
                &[(0, 0, 0), (0, 1, 0), (0, 2, 0), (0, 2, 1), (0, 2, 2)],
            ),
            ("b", &[(0, 5, 5)]),
            ("c", &[(7, 1, 1), (7, 2, 1)]),
        ];
        let (text, _) = draw(&state(&walks, &[], (100, 24)));
        assert!(
            text.contains(" map 0 ") && text.contains(" map 7 "),
            "{text}"
        );
        insta::assert_snapshot!(text);
    }

    #[test]
    fn enter_zooms_the_selected_env_and_esc_returns_to_the_map() {
        let walks: [Walk; 2] = [("a", &[(0, 1, 1)]), ("b", &[(0, 5, 5)])];
        let mut s = state(&walks, &["c"], (100, 24));
        let key = |c| Event::Key(KeyEvent::new(c, KeyModifiers::NONE));
        s.update(key(KeyCode::Down));
        s.update(key(KeyCode::Down));
        assert_eq!(s.map.selected, Some(1));
        s.update(key(KeyCode::Enter));
        assert_eq!(s.view(), crate::tui::state::View::Single(1));
        s.update(key(KeyCode::Esc));
        assert_eq!(s.view(), crate::tui::state::View::Map);
        s.update(key(KeyCode::Esc));
        assert_eq!(s.view(), crate::tui::state::View::Grid);
    }

    #[test]
    fn a_background_image_lies_under_the_world() {
        let walks: [Walk; 1] = [("a", &[(0, 3, 4)])];
        let mut s = state(&walks, &[], (120, 30));
        s.map.layout = Some(Arc::new(WorldLayout::parse(LAYOUT).unwrap()));
        // Two pixels: the world's left half green, its right half grey.
        s.map.background = Some(Arc::new(crate::tui::map_image::MapImage {
            width: 2,
            height: 1,
            rgba: vec![0, 0x5f, 0, 255, 0x5f, 0x5f, 0x5f, 255],
        }));
        let (_, buf) = draw(&s);
        let green = ratatui::style::Color::Rgb(0, 0x5f, 0);
        let grey = ratatui::style::Color::Rgb(0x5f, 0x5f, 0x5f);
        assert_eq!((buf[(11, 5)].fg, buf[(11, 5)].bg), (green, green));
        assert_eq!((buf[(71, 5)].fg, buf[(71, 5)].bg), (grey, grey));
        // Below the 80×18 world (rows 1-9) nothing is drawn; the marker stays on top.
        assert_eq!(buf[(11, 12)].symbol(), " ");
        assert_eq!(buf[(4, 3)].symbol(), "a");
    }

    #[test]
    fn no_position_yet_and_a_narrow_terminal() {
        let (text, _) = draw(&state(&[], &["a", "b"], (60, 20)));
        assert!(text.contains("no env reports a position yet"), "{text}");
        insta::assert_snapshot!(text);
    }
}
