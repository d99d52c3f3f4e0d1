//! Panels and layout: pure functions of [`State`]. Image areas are left to the frame
//! renderer (their cells are marked `skip`, so ratatui never writes over the picture).

use super::state::{FeedView, State, View, PANEL_STAGES};
use crate::pipeline::{FeedState, PRESETS};
use crate::source::{DEMO_BANNER, DEMO_KEY};
use ratatui::buffer::{Buffer, CellDiffOption};
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Sparkline, Widget, Wrap};

/// Smallest usable terminal.
pub const MIN_SIZE: (u16, u16) = (40, 12);
/// Width of the side panel.
const SIDE: u16 = 44;
/// Smallest grid tile.
const TILE_MIN: (u16, u16) = (16, 5);

/// Where a feed's picture goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageSlot {
    /// Index into [`State::feeds`].
    pub feed: usize,
    /// The cells the picture may fill (inside the tile's border).
    pub rect: Rect,
    /// Grey the picture (offline source).
    pub dim: bool,
}

/// The screen's layout for a state and a terminal area.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Screen {
    /// One per shown feed that has a frame.
    pub images: Vec<ImageSlot>,
    /// The area is below [`MIN_SIZE`]: only a notice is drawn.
    pub too_small: bool,
}

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
        let (iw, ih) =
            super::halfblock::fit(160, 144, tw.saturating_sub(2), th.saturating_sub(2), 8);
        let score = iw as u64 * ih as u64;
        if score > best.2 {
            best = (cols, rows, score);
        }
    }
    (best.0, best.1)
}

fn split_status(area: Rect) -> (Rect, Rect) {
    let [body, status] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    (body, status)
}

/// Single view: (frame block, side panel).
fn split_single(body: Rect) -> (Rect, Rect) {
    if body.width >= SIDE + 30 {
        let [f, s] =
            Layout::horizontal([Constraint::Min(30), Constraint::Length(SIDE)]).areas(body);
        (f, s)
    } else {
        let panel_h = 19.min(body.height.saturating_sub(4));
        let [f, s] =
            Layout::vertical([Constraint::Min(4), Constraint::Length(panel_h)]).areas(body);
        (f, s)
    }
}

/// Grid view: the tiles of the page holding the selected feed, as (visible index, rect).
fn grid_tiles(state: &State, body: Rect) -> (Vec<(usize, Rect)>, usize, usize) {
    let vis = state.visible();
    let (cols, rows) = grid_shape(vis.len(), body.width, body.height);
    let per_page = cols * rows;
    let page = state.selected / per_page;
    let pages = vis.len().div_ceil(per_page);
    let (tw, th) = (body.width / cols as u16, body.height / rows as u16);
    let tiles = (page * per_page..vis.len().min((page + 1) * per_page))
        .map(|i| {
            let k = i - page * per_page;
            let (c, r) = ((k % cols) as u16, (k / cols) as u16);
            (i, Rect::new(body.x + c * tw, body.y + r * th, tw, th))
        })
        .collect();
    (tiles, page, pages)
}

/// Computes where everything goes.
pub fn layout(state: &State, area: Rect) -> Screen {
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        return Screen {
            images: Vec::new(),
            too_small: true,
        };
    }
    let (body, _) = split_status(area);
    let vis = state.visible();
    let mut images = Vec::new();
    match state.view() {
        View::Empty => {}
        View::Single(i) => {
            let feed = vis[i];
            if state.feeds[feed].frame.is_some() {
                let (frame_area, _) = split_single(body);
                let inner = frame_inner(state, &state.feeds[feed], frame_area);
                if inner.width > 0 && inner.height > 0 {
                    images.push(ImageSlot {
                        feed,
                        rect: inner,
                        dim: state.feeds[feed].is_offline(),
                    });
                }
            }
        }
        View::Grid => {
            for (i, rect) in grid_tiles(state, body).0 {
                let feed = vis[i];
                let inner = Block::bordered().inner(rect);
                if state.feeds[feed].frame.is_some() && inner.width > 0 && inner.height > 0 {
                    images.push(ImageSlot {
                        feed,
                        rect: inner,
                        dim: state.feeds[feed].is_offline(),
                    });
                }
            }
        }
    }
    Screen {
        images,
        too_small: false,
    }
}

/// The picture area inside the frame block (below the demo banner when shown).
fn frame_inner(_state: &State, feed: &FeedView, frame_area: Rect) -> Rect {
    let inner = Block::bordered().inner(frame_area);
    if feed.key == DEMO_KEY {
        let h = (DEMO_BANNER.len() as u16).min(inner.height);
        Rect {
            y: inner.y + h,
            height: inner.height - h,
            ..inner
        }
    } else {
        inner
    }
}

/// Formats microseconds compactly.
pub fn fmt_us(us: u64) -> String {
    if us < 1000 {
        format!("{us}µs")
    } else if us < 100_000 {
        format!("{:.1}ms", us as f64 / 1000.0)
    } else {
        format!("{}ms", us / 1000)
    }
}

fn fmt_age(ns: u64) -> String {
    fmt_us(ns / 1000)
}

fn fmt_rate(bytes_per_s: f64) -> String {
    if bytes_per_s >= 1e6 {
        format!("{:.1} MB/s", bytes_per_s / 1e6)
    } else {
        format!("{:.1} KB/s", bytes_per_s / 1e3)
    }
}

fn state_span(feed: &FeedView) -> Span<'static> {
    match &feed.state {
        FeedState::Waiting => "waiting".yellow(),
        FeedState::Online => "online".green(),
        FeedState::Stale => "stale".yellow(),
        FeedState::Offline(r) => format!("offline: {r}").dark_gray(),
        FeedState::Error(e) => format!("error: {e}").red(),
        FeedState::Ended => "ended".dark_gray(),
        FeedState::Gone => "gone".dark_gray(),
    }
}

/// A banner (one line per entry), e.g. over the demo feed.
pub fn banner(lines: &[&str], area: Rect, buf: &mut Buffer) {
    let text: Vec<Line> = lines
        .iter()
        .map(|l| Line::from(l.to_string()).centered())
        .collect();
    Paragraph::new(text)
        .style(Style::new().fg(Color::Black).bg(Color::Yellow).bold())
        .render(area, buf);
}

impl Widget for &State {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let screen = layout(self, area);
        if screen.too_small {
            Paragraph::new(format!(
                "terminal too small: {}x{} (gbwatch needs at least {}x{})",
                area.width, area.height, MIN_SIZE.0, MIN_SIZE.1
            ))
            .wrap(Wrap { trim: true })
            .render(area, buf);
            return;
        }
        let (body, status) = split_status(area);
        match self.view() {
            View::Empty => render_empty(self, body, buf),
            View::Single(i) => render_single(self, self.visible()[i], body, buf),
            View::Grid => render_grid(self, body, buf),
        }
        render_status(self, status, buf);
        for slot in &screen.images {
            for y in slot.rect.top()..slot.rect.bottom() {
                for x in slot.rect.left()..slot.rect.right() {
                    if let Some(c) = buf.cell_mut((x, y)) {
                        c.reset();
                        c.set_diff_option(CellDiffOption::Skip);
                    }
                }
            }
        }
        if self.help {
            render_help(area, buf);
        }
    }
}

fn render_empty(state: &State, area: Rect, buf: &mut Buffer) {
    let text = vec![
        Line::from("no signal yet".bold()),
        Line::from(""),
        Line::from(format!("waiting for publishers in {}", state.source_hint)),
        Line::from("from Python: gbwatch.Publisher(\"env-00\").publish(pyboy.screen.raw_buffer)"),
    ];
    let inner = Block::bordered().title(" gbwatch ").inner(area);
    Block::bordered().title(" gbwatch ").render(area, buf);
    let top = inner.y + inner.height.saturating_sub(text.len() as u16) / 2;
    Paragraph::new(text)
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true })
        .render(
            Rect {
                y: top,
                height: inner.bottom() - top,
                ..inner
            },
            buf,
        );
}

fn render_single(state: &State, feed_idx: usize, body: Rect, buf: &mut Buffer) {
    let feed = &state.feeds[feed_idx];
    let (frame_area, side) = split_single(body);
    let mut title = vec![Span::from(format!(" {} ", feed.name)).bold()];
    if let Some(f) = &feed.frame {
        title.push(Span::from(format!("#{} ", f.frame_index)));
    }
    if state.frozen {
        title.push(" FROZEN ".black().on_cyan());
    }
    let block = Block::bordered().title(Line::from(title));
    let block = if feed.is_offline() {
        block.dark_gray()
    } else {
        block
    };
    let inner = block.inner(frame_area);
    block.render(frame_area, buf);
    if feed.key == DEMO_KEY {
        let h = (DEMO_BANNER.len() as u16).min(inner.height);
        banner(DEMO_BANNER, Rect { height: h, ..inner }, buf);
    }
    if feed.frame.is_none() {
        let msg = match &feed.state {
            FeedState::Waiting | FeedState::Online => "no signal yet".to_string(),
            _ => state_span(feed).content.into_owned(),
        };
        let y = inner.y + inner.height / 2;
        Paragraph::new(msg).alignment(Alignment::Center).render(
            Rect {
                y,
                height: 1.min(inner.height),
                ..inner
            },
            buf,
        );
    }
    let [info, lat, presets] = Layout::vertical([
        Constraint::Length(10),
        Constraint::Length(7),
        Constraint::Min(3),
    ])
    .areas(side);
    render_info(state, feed, info, buf);
    render_latency(feed, lat, buf);
    render_presets(state, presets, buf);
}

fn render_info(state: &State, feed: &FeedView, area: Rect, buf: &mut Buffer) {
    let s = &feed.stats;
    let age = match state.age_ns(feed) {
        Some(ns) => {
            let clock = if feed.frame.as_ref().is_some_and(|f| f.age_from_publisher()) {
                "publisher clock"
            } else {
                "since arrival"
            };
            format!("{} ({clock})", fmt_age(ns))
        }
        None => "-".to_string(),
    };
    let publisher = match s.publisher_cost_us {
        Some(us) => format!("{us:.1} µs per publish"),
        None => "-".to_string(),
    };
    let d = &state.draw;
    let mut lines = vec![
        Line::from(vec!["state     ".dark_gray(), state_span(feed)]),
        Line::from(vec!["age       ".dark_gray(), Span::from(age)]),
        Line::from(vec![
            "fps       ".dark_gray(),
            Span::from(format!(
                "src {:.1}  cap {:.1}  drawn {:.1}",
                s.source_fps, s.captured_fps, feed.drawn_fps
            )),
        ]),
        Line::from(vec![
            "drops     ".dark_gray(),
            Span::from(format!(
                "{:.1}%  {} of {} captured",
                s.drop_rate_percent, s.dropped, s.captured
            )),
        ]),
        Line::from(vec![
            "          ".dark_gray(),
            Span::from(format!("drawn {}  queued {}", s.delivered, s.queued)),
        ]),
        Line::from(vec!["publisher ".dark_gray(), Span::from(publisher)]),
        Line::from(vec![
            "terminal  ".dark_gray(),
            Span::from(format!("{}  {}", fmt_rate(d.out_bytes_per_s), d.protocol)),
        ]),
    ];
    if d.adapted {
        lines.push(Line::from(
            format!(
                "slow terminal: draw {:.1} fps, {} skipped",
                d.target_fps, d.skipped_busy
            )
            .yellow(),
        ));
    }
    Paragraph::new(lines)
        .block(Block::bordered().title(" feed "))
        .render(area, buf);
}

fn render_latency(feed: &FeedView, area: Rect, buf: &mut Buffer) {
    let block = Block::bordered().title(" latency  p50 / p99 ");
    let inner = block.inner(area);
    block.render(area, buf);
    for (row, (stage, hist)) in PANEL_STAGES.iter().zip(&feed.history).enumerate() {
        if row as u16 >= inner.height {
            break;
        }
        let line = Rect {
            y: inner.y + row as u16,
            height: 1,
            ..inner
        };
        let p = feed.stats.latency(*stage);
        let figures = if p.count == 0 {
            format!("{:<8}{:>8} {:>8} ", stage.name(), "-", "-")
        } else {
            format!(
                "{:<8}{:>8} {:>8} ",
                stage.name(),
                fmt_us(p.p50_us),
                fmt_us(p.p99_us)
            )
        };
        let fw = figures.chars().count() as u16;
        Paragraph::new(figures).render(line, buf);
        if line.width > fw {
            let spark = Rect {
                x: line.x + fw,
                width: line.width - fw,
                ..line
            };
            let data: Vec<u64> = hist
                .iter()
                .rev()
                .take(spark.width as usize)
                .rev()
                .copied()
                .collect();
            Sparkline::default()
                .data(&data)
                .style(Style::new().cyan())
                .render(spark, buf);
        }
    }
}

fn render_presets(state: &State, area: Rect, buf: &mut Buffer) {
    let mut spans = Vec::new();
    for (i, p) in PRESETS.iter().enumerate() {
        let label = format!(" {} {} ", i + 1, p.name.to_uppercase());
        spans.push(if i == state.preset {
            Span::from(format!("[{}]", label.trim()))
                .black()
                .on_green()
                .bold()
        } else {
            Span::from(label)
        });
        spans.push(Span::from(" "));
    }
    let p = &PRESETS[state.preset.min(PRESETS.len() - 1)];
    let lines = vec![
        Line::from(spans),
        Line::from(
            format!(
                "draw {} fps, scale {}x; JPEG q{}",
                p.fps, p.scale, p.quality
            )
            .dark_gray(),
        ),
    ];
    Paragraph::new(lines)
        .block(Block::bordered().title(" preset "))
        .render(area, buf);
}

fn render_grid(state: &State, body: Rect, buf: &mut Buffer) {
    let vis = state.visible();
    let (tiles, page, pages) = grid_tiles(state, body);
    for (i, rect) in tiles {
        let feed = &state.feeds[vis[i]];
        let selected = i == state.selected;
        let fps = format!("{:.0}fps", feed.stats.captured_fps);
        let age = state
            .age_ns(feed)
            .map(fmt_age)
            .unwrap_or_else(|| "-".to_string());
        // One title, so a narrow tile keeps the name and loses the figures.
        let mut block = Block::bordered().title(Line::from(format!(" {} {fps} {age} ", feed.name)));
        if feed.is_offline() {
            block = block
                .title_bottom(Line::from(" offline ").centered())
                .style(Style::new().dark_gray());
        }
        if selected {
            block = block
                .border_style(Style::new().yellow().add_modifier(Modifier::BOLD))
                .borders(Borders::ALL);
        }
        let inner = block.inner(rect);
        block.render(rect, buf);
        if feed.frame.is_none() {
            let msg = match &feed.state {
                FeedState::Waiting | FeedState::Online => "no signal yet".to_string(),
                _ => state_span(feed).content.into_owned(),
            };
            Paragraph::new(msg)
                .alignment(Alignment::Center)
                .wrap(Wrap { trim: true })
                .render(
                    Rect {
                        y: inner.y + inner.height / 2,
                        height: inner.height - inner.height / 2,
                        ..inner
                    },
                    buf,
                );
        }
    }
    if pages > 1 {
        let label = format!(" page {}/{} ", page + 1, pages);
        let w = label.len() as u16;
        let r = Rect::new(body.right().saturating_sub(w + 1), body.bottom() - 1, w, 1);
        Paragraph::new(label).reversed().render(r, buf);
    }
}

fn render_status(state: &State, area: Rect, buf: &mut Buffer) {
    let left = match state.view() {
        View::Grid => " ←↓↑→ select  enter zoom  1-4 preset  s snapshot  ? help  q quit",
        View::Single(_) if state.visible().len() > 1 => {
            " esc grid  1-4 preset  space freeze  s snapshot  ? help  q quit"
        }
        _ => " 1-4 preset  +/- step  space freeze  s snapshot  ? help  q quit",
    };
    let n = state.visible().len();
    let right = match &state.message {
        Some(m) => format!("{m} "),
        None => format!("{n} env{} ", if n == 1 { "" } else { "s" }),
    };
    let rw = (right.chars().count() as u16).min(area.width);
    Paragraph::new(left)
        .style(Style::new().reversed())
        .render(area, buf);
    Paragraph::new(right)
        .alignment(Alignment::Right)
        .style(Style::new().reversed().bold())
        .render(
            Rect {
                x: area.right() - rw,
                width: rw,
                ..area
            },
            buf,
        );
}

fn render_help(area: Rect, buf: &mut Buffer) {
    let lines = [
        ("1 2 3 4", "preset LOW / MEDIUM / HIGH / ULTRA"),
        ("+ -", "next / previous preset"),
        ("space f", "freeze / resume"),
        ("s", "save a JPEG snapshot of the frame"),
        ("arrows hjkl", "select an env (grid)"),
        ("enter e", "zoom the selected env"),
        ("esc", "back to the grid / quit"),
        ("q ctrl-c", "quit"),
        ("?", "this help (any key closes it)"),
    ];
    let text: Vec<Line> = lines
        .iter()
        .map(|(k, v)| Line::from(vec![format!(" {k:<12}").bold().yellow(), Span::from(*v)]))
        .collect();
    let w = 52.min(area.width);
    let h = (text.len() as u16 + 2).min(area.height);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    Clear.render(r, buf);
    // A set background makes every cell differ from a blank one, so the whole box is
    // written over the picture.
    Paragraph::new(text)
        .style(Style::new().bg(Color::Black).fg(Color::White))
        .block(Block::bordered().title(" keys "))
        .render(r, buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Frame;
    use crate::pipeline::{Percentiles, StatsSnapshot};
    use crate::tui::state::{DrawFigures, Event, FeedUpdate};
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;
    use std::sync::Arc;
    use std::time::Instant;

    const NOW: u64 = 10_000_000_000;

    fn frame(age_ms: u64) -> crate::frame::SharedFrame {
        Arc::new(Frame {
            frame_index: 4321,
            published_ns: Some(NOW - age_ms * 1_000_000),
            captured_at: Instant::now(),
            capture_us: 40,
            captured_ns: NOW,
            width: 160,
            height: 144,
            pixels: vec![0; 160 * 144 * 4],
            content_id: 2,
        })
    }

    fn stats() -> StatsSnapshot {
        let p = |a, b| Percentiles {
            count: 100,
            p50_us: a,
            p95_us: b,
            p99_us: b,
            max_us: b,
        };
        StatsSnapshot {
            published: Some(1200),
            captured: 200,
            dropped: 12,
            delivered: 187,
            queued: 1,
            drop_rate_percent: 6.0,
            captured_fps: 10.0,
            source_fps: 60.0,
            publisher_cost_us: Some(3.2),
            age_from_publisher: true,
            capture: p(45, 120),
            draw: p(180, 650),
            ..StatsSnapshot::default()
        }
    }

    fn feed(name: &str, state: FeedState, with_frame: bool) -> FeedUpdate {
        FeedUpdate {
            name: name.into(),
            key: format!("/dev/shm/gbwatch/{name}.slot"),
            state,
            stats: stats(),
            frame: with_frame.then(|| frame(23)),
            drawn_fps: 10.0,
        }
    }

    fn state(feeds: Vec<FeedUpdate>, size: (u16, u16)) -> State {
        let mut s = State::new(1, "/dev/shm/gbwatch");
        s.update(Event::Resize(size.0, size.1));
        for _ in 0..3 {
            s.update(Event::Feeds {
                feeds: feeds.clone(),
                now_ns: NOW,
            });
        }
        s.update(Event::Draw(DrawFigures {
            out_bytes_per_s: 280_000.0,
            target_fps: 10.0,
            adapted: false,
            skipped_busy: 0,
            protocol: "half-blocks 256".into(),
        }));
        s
    }

    fn draw(s: &State) -> String {
        let (w, h) = s.size;
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| f.render_widget(s, f.area())).unwrap();
        t.backend().to_string()
    }

    #[test]
    fn single_feed_with_panels() {
        let s = state(vec![feed("env-00", FeedState::Online, true)], (110, 34));
        let screen = layout(&s, Rect::new(0, 0, 110, 34));
        assert_eq!(screen.images.len(), 1);
        insta::assert_snapshot!(draw(&s));
    }

    #[test]
    fn narrow_terminal_puts_panels_below() {
        let s = state(vec![feed("env-00", FeedState::Online, true)], (60, 40));
        insta::assert_snapshot!(draw(&s));
    }

    #[test]
    fn slow_terminal_is_reported() {
        let mut s = state(vec![feed("env-00", FeedState::Online, true)], (110, 34));
        s.update(Event::Draw(DrawFigures {
            out_bytes_per_s: 90_000.0,
            target_fps: 4.2,
            adapted: true,
            skipped_busy: 17,
            protocol: "half-blocks 256".into(),
        }));
        let text = draw(&s);
        assert!(text.contains("slow terminal: draw 4.2 fps, 17 skipped"));
    }

    #[test]
    fn tiny_terminal() {
        let s = state(vec![feed("env-00", FeedState::Online, true)], (30, 8));
        assert!(layout(&s, Rect::new(0, 0, 30, 8)).too_small);
        insta::assert_snapshot!(draw(&s));
    }

    #[test]
    fn no_signal_yet() {
        let s = state(vec![feed("env-00", FeedState::Waiting, false)], (110, 34));
        assert!(layout(&s, Rect::new(0, 0, 110, 34)).images.is_empty());
        insta::assert_snapshot!(draw(&s));
    }

    #[test]
    fn no_publisher_yet() {
        let s = state(vec![], (90, 20));
        insta::assert_snapshot!(draw(&s));
    }

    #[test]
    fn grid_with_an_offline_env() {
        let mut feeds: Vec<FeedUpdate> = (0..5)
            .map(|i| feed(&format!("env-{i:02}"), FeedState::Online, true))
            .collect();
        feeds[2].state = FeedState::Offline("publisher gone".into());
        feeds.push(feed("env-05", FeedState::Waiting, false));
        let mut s = state(feeds, (120, 36));
        s.selected = 1;
        let screen = layout(&s, Rect::new(0, 0, 120, 36));
        assert_eq!(screen.images.len(), 5);
        assert!(screen.images.iter().any(|i| i.dim && i.feed == 2));
        insta::assert_snapshot!(draw(&s));
    }

    #[test]
    fn grid_of_64_envs_pages_on_a_small_terminal() {
        let feeds: Vec<FeedUpdate> = (0..64)
            .map(|i| feed(&format!("env-{i:02}"), FeedState::Online, true))
            .collect();
        let mut s = state(feeds.clone(), (200, 60));
        assert_eq!(layout(&s, Rect::new(0, 0, 200, 60)).images.len(), 64);
        s = state(feeds, (80, 24));
        s.selected = 63;
        let screen = layout(&s, Rect::new(0, 0, 80, 24));
        assert!(!screen.images.is_empty() && screen.images.len() < 64);
        assert!(screen.images.iter().any(|i| i.feed == 63));
        insta::assert_snapshot!(draw(&s));
    }

    #[test]
    fn help_overlay() {
        let mut s = state(vec![feed("env-00", FeedState::Online, true)], (110, 34));
        s.help = true;
        insta::assert_snapshot!(draw(&s));
    }

    #[test]
    fn demo_feed_shows_its_banner() {
        let mut demo = feed("demo", FeedState::Online, true);
        demo.key = DEMO_KEY.into();
        let s = state(vec![demo], (110, 34));
        let text = draw(&s);
        assert!(text.contains(&DEMO_BANNER[0][..30]));
    }
}
