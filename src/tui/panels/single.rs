//! The single view: one feed's picture with its feed, latency and preset panels.

use super::format::{fmt_age, fmt_rate, fmt_us, no_frame_message, state_span};
use super::text::{banner, centred_line};
use crate::pipeline::PRESETS;
use crate::source::{DEMO_BANNER, DEMO_KEY};
use crate::tui::state::{FeedView, State, PANEL_STAGES};
use crate::tui::theme;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Sparkline, Widget, Wrap};

/// Draws feed `feed_idx` in `frame_area` with its panels in `side`.
pub fn render(state: &State, feed_idx: usize, frame_area: Rect, side: Rect, buf: &mut Buffer) {
    let feed = &state.feeds[feed_idx];
    let mut title = vec![Span::styled(format!(" {} ", feed.name()), theme::BOLD)];
    if let Some(f) = &feed.frame {
        title.push(Span::from(format!("#{} ", f.frame_index)));
    }
    if state.frozen {
        title.push(Span::styled(" FROZEN ", theme::FROZEN));
    }
    let block = Block::bordered().title(Line::from(title));
    let block = if feed.is_offline() {
        block.style(theme::OFFLINE)
    } else {
        block
    };
    let inner = block.inner(frame_area);
    block.render(frame_area, buf);
    if feed.key() == DEMO_KEY {
        let h = (DEMO_BANNER.len() as u16).min(inner.height);
        banner(DEMO_BANNER, Rect { height: h, ..inner }, buf);
    }
    if feed.frame.is_none() {
        centred_line(no_frame_message(feed), inner, buf);
    }
    let training_rows = super::training::height(feed);
    let (info, training, lat, presets) = if training_rows == 0 {
        let [info, lat, presets] = Layout::vertical([
            Constraint::Length(10),
            Constraint::Length(7),
            Constraint::Min(3),
        ])
        .areas(side);
        (info, Rect::default(), lat, presets)
    } else {
        let [info, training, lat, presets] = Layout::vertical([
            Constraint::Length(10),
            Constraint::Max(training_rows),
            Constraint::Length(7),
            Constraint::Min(3),
        ])
        .areas(side);
        (info, training, lat, presets)
    };
    render_info(state, feed, info, buf);
    super::training::render(state, feed, training, buf);
    render_latency(feed, lat, buf);
    render_presets(state, presets, buf);
}

fn label(text: &'static str) -> Span<'static> {
    Span::styled(text, theme::LABEL)
}

fn render_info(state: &State, feed: &FeedView, area: Rect, buf: &mut Buffer) {
    let s = &feed.reading.stats;
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
    let mut state_line = vec![label("state     "), state_span(feed)];
    if let Some(ns) = state.stuck_for(feed) {
        state_line.push(Span::styled(
            format!(" STUCK {}s", ns / 1_000_000_000),
            theme::STUCK,
        ));
    }
    let mut lines = vec![
        Line::from(state_line),
        Line::from(vec![label("age       "), Span::from(age)]),
        Line::from(vec![
            label("fps       "),
            Span::from(format!(
                "src {:.1}  cap {:.1}  drawn {:.1}",
                s.source_fps, s.captured_fps, feed.reading.drawn_fps
            )),
        ]),
        Line::from(vec![
            label("drops     "),
            Span::from(format!(
                "{:.1}%  {} of {} captured",
                s.drop_rate_percent, s.dropped, s.captured
            )),
        ]),
        Line::from(vec![
            label("          "),
            Span::from(format!("drawn {}  queued {}", s.delivered, s.queued)),
        ]),
        Line::from(vec![label("publisher "), Span::from(publisher)]),
        Line::from(vec![
            label("terminal  "),
            Span::from(format!("{}  {}", fmt_rate(d.out_bytes_per_s), d.protocol)),
        ]),
    ];
    if d.adapted {
        lines.push(Line::styled(
            format!(
                "slow terminal: draw {:.1} fps, {} skipped",
                d.target_fps, d.skipped_busy
            ),
            theme::WARNING,
        ));
    }
    // Wrapped, so a long state ("offline: publisher pid 1509 has exited") is never cut.
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
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
        let p = feed.reading.stats.latency(*stage);
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
                .style(theme::SPARK)
                .render(spark, buf);
        }
    }
}

fn render_presets(state: &State, area: Rect, buf: &mut Buffer) {
    let mut spans = Vec::new();
    for (i, p) in PRESETS.iter().enumerate() {
        let label = format!(" {} {} ", i + 1, p.name.to_uppercase());
        spans.push(if i == state.preset {
            Span::styled(format!("[{}]", label.trim()), theme::ACTIVE)
        } else {
            Span::from(label)
        });
        spans.push(Span::from(" "));
    }
    let p = &PRESETS[state.preset.min(PRESETS.len() - 1)];
    let lines = vec![
        Line::from(spans),
        Line::styled(
            format!(
                "draw {} fps, scale {}x; JPEG q{}",
                p.fps, p.scale, p.quality
            ),
            theme::LABEL,
        ),
    ];
    Paragraph::new(lines)
        .block(Block::bordered().title(" preset "))
        .render(area, buf);
}
