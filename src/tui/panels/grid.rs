//! The grid view: one tile per feed, a page at a time.

use super::format::{fmt_age, no_frame_message};
use crate::pipeline::FeedState;
use crate::tui::state::State;
use crate::tui::theme;
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

/// Draws the `tiles` of page `page` (of `pages`) in `body`.
pub fn render(
    state: &State,
    tiles: &[(usize, Rect)],
    (page, pages): (usize, usize),
    body: Rect,
    buf: &mut Buffer,
) {
    let vis = state.visible();
    for &(i, rect) in tiles {
        let feed = &state.feeds[vis[i]];
        let mut title = vec![
            Span::raw(" "),
            Span::styled(feed.name(), Style::new().fg(theme::env_color(vis[i]))),
            Span::raw(" "),
        ];
        if let (Some(label), Some(value)) = (&state.label, state.label_value(feed)) {
            title.push(Span::raw(format!("{label}={value} ")));
        }
        // Shorter figures for narrow tiles, never a number cut from its unit.
        let fps = format!(" {:.0} fps ", feed.reading.stats.captured_fps);
        let figures = match state.age_ns(feed) {
            Some(age) => format!(
                " {:.0} fps, {} old ",
                feed.reading.stats.captured_fps,
                fmt_age(age)
            ),
            None => fps.clone(),
        };
        let room = rect.width.saturating_sub(2) as usize;
        let figures = [figures, fps]
            .into_iter()
            .find(|f| f.chars().count() <= room)
            .unwrap_or_default();
        let mut block = Block::bordered()
            .title(Line::from(title))
            .title_bottom(Line::from(figures).left_aligned());
        if feed.is_offline() {
            block = block
                .title_bottom(Line::from(" offline ").right_aligned())
                .style(theme::OFFLINE);
        } else if feed.reading.state == FeedState::Stale {
            block = block.title_bottom(Line::styled(" stale ", theme::WAITING).right_aligned());
        } else if let Some(ns) = state.stuck_for(feed) {
            let stuck = format!(" STUCK {}s ", ns / 1_000_000_000);
            block = block.title_bottom(Line::styled(stuck, theme::STUCK).right_aligned());
        }
        if i == state.selected {
            block = block.border_style(theme::SELECTED).borders(Borders::ALL);
        }
        let inner = block.inner(rect);
        block.render(rect, buf);
        if feed.frame.is_none() {
            Paragraph::new(no_frame_message(feed))
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
        Paragraph::new(label)
            .style(Style::new().reversed())
            .render(r, buf);
    }
}
