//! The training panel of the single view: every info field of the frame on screen, and
//! the return of recent episodes as a sparkline; or why that frame's info is unreadable.

use crate::tui::state::{FeedView, State};
use crate::tui::theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Sparkline, Widget, Wrap};

/// Rows the panel wants for `feed` (0: its frame carries no info).
pub fn height(feed: &FeedView) -> u16 {
    if feed.frame.as_ref().is_some_and(|f| f.info_error.is_some()) {
        return 4; // the reason, wrapped on two lines
    }
    let fields = feed
        .frame
        .as_ref()
        .and_then(|f| f.info.as_deref())
        .map_or(0, |i| i.len());
    match fields {
        0 => 0,
        n => n as u16 + 2 + u16::from(feed.training.returns.len() > 1),
    }
}

/// Draws the panel for `feed` in `area`.
pub fn render(state: &State, feed: &FeedView, area: Rect, buf: &mut Buffer) {
    if let Some(e) = feed.frame.as_ref().and_then(|f| f.info_error.as_ref()) {
        let block = Block::bordered().title(" training ");
        let inner = block.inner(area);
        block.render(area, buf);
        let line = Span::styled(format!("info unreadable: {e}"), theme::WARNING);
        Paragraph::new(line)
            .wrap(Wrap { trim: true })
            .render(inner, buf);
        return;
    }
    let Some(info) = feed.frame.as_ref().and_then(|f| f.info.as_deref()) else {
        return;
    };
    let block = Block::bordered().title(" training ");
    let inner = block.inner(area);
    block.render(area, buf);
    let mut rows = inner;
    let returns = &feed.training.returns;
    if returns.len() > 1 && rows.height > 0 {
        let caption = format!(
            "returns  {:<6}",
            returns.back().map_or(String::new(), |r| format!("{r:.4}"))
        );
        let cw = (caption.chars().count() as u16).min(rows.width);
        Paragraph::new(Span::styled(caption, theme::LABEL)).render(Rect { height: 1, ..rows }, buf);
        // Sparklines draw non-negative bars: returns are shifted so the lowest is 0.
        let lowest = returns.iter().copied().fold(f64::INFINITY, f64::min);
        let width = rows.width.saturating_sub(cw) as usize;
        let data: Vec<u64> = returns
            .iter()
            .skip(returns.len().saturating_sub(width))
            .map(|r| ((r - lowest) * 1000.0) as u64 + 1)
            .collect();
        Sparkline::default().data(&data).style(theme::SPARK).render(
            Rect {
                x: rows.x + cw,
                width: rows.width - cw,
                height: 1,
                ..rows
            },
            buf,
        );
        rows.y += 1;
        rows.height -= 1;
    }
    let key_width = info
        .fields()
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0)
        .min(16);
    let lines: Vec<Line> = info
        .fields()
        .iter()
        .map(|(k, v)| {
            let marked = state.label.as_deref() == Some(k.as_str());
            let key = format!("{k:<key_width$} ");
            Line::from(vec![
                Span::styled(key, if marked { theme::BOLD } else { theme::LABEL }),
                Span::from(v.to_string()),
            ])
        })
        .collect();
    Paragraph::new(lines).render(rows, buf);
}
