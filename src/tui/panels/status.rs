//! The status bar and the screen shown before any feed exists.

use crate::tui::state::{State, View};
use crate::tui::theme;
use crate::tui::timeline::indicator;
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

/// The key line on the left, the env count (or a notice) on the right.
pub fn render(state: &State, area: Rect, buf: &mut Buffer) {
    let left = match state.view() {
        View::Grid => {
            " ←↓↑→ select  enter zoom  1-4 preset  space freeze  L label  o sort  / filter  s snapshot  ? help  q quit"
        }
        View::Map => " ↓↑ select  enter zoom  o by distance/region  m esc grid  ? help  q quit",
        View::Single(_) if state.visible().len() > 1 => {
            " esc grid  1-4 preset  space freeze  s snapshot  ? help  q quit"
        }
        _ => " 1-4 preset  +/- step  space freeze  s snapshot  ? help  q quit",
    };
    let n = state.visible().len();
    let time = match state.timeline {
        Some(_) => format!("{} · ", indicator(state.paused_at, state.now_ns)),
        None => String::new(),
    };
    let right = match &state.message {
        Some(m) => format!("{m} "),
        None => {
            let stuck = match state.stuck_count() {
                0 => String::new(),
                k => format!("{k} stuck · "),
            };
            format!("{stuck}{n} env{} ", if n == 1 { "" } else { "s" })
        }
    };
    let right = format!("{time}{right}");
    let rw = (right.chars().count() as u16).min(area.width);
    Paragraph::new(left).style(theme::STATUS).render(area, buf);
    Paragraph::new(right)
        .alignment(Alignment::Right)
        .style(theme::STATUS_NOTICE)
        .render(
            Rect {
                x: area.right() - rw,
                width: rw,
                ..area
            },
            buf,
        );
}

/// No feed yet: where gbwatch looks and how to publish.
pub fn render_empty(state: &State, area: Rect, buf: &mut Buffer) {
    let text = vec![
        Line::from(Span::styled("no signal yet", theme::BOLD)),
        Line::from(""),
        Line::from(format!("waiting for publishers in {}", state.source_hint)),
        Line::from("from Python: gbwatch.Publisher(\"env-00\").publish(pyboy.screen.raw_buffer)"),
    ];
    let block = Block::bordered().title(" gbwatch ");
    let inner = block.inner(area);
    block.render(area, buf);
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
