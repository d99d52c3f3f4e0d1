//! The help overlay: every key, over whatever is on screen.

use crate::tui::theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

/// The keys and what they do.
pub const KEYS: [(&str, &str); 12] = [
    ("1 2 3 4", "preset LOW / MEDIUM / HIGH / ULTRA"),
    ("+ -", "next / previous preset"),
    ("space f", "freeze / resume"),
    ("s", "save a JPEG snapshot of the frame"),
    ("arrows hjkl", "select an env (grid)"),
    ("enter e", "zoom the selected env"),
    ("L", "next info field as the tile label"),
    ("o", "sort the grid by the label: low, high, off"),
    ("/", "filter envs by name (enter keeps, esc clears)"),
    ("esc", "back to the grid / quit"),
    ("q ctrl-c", "quit"),
    ("?", "this help (any key closes it)"),
];

/// Where the overlay goes in `area`: centred.
pub fn area(area: Rect) -> Rect {
    let w = 64.min(area.width);
    let h = (KEYS.len() as u16 + 2).min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// Draws the overlay centred in `area`.
pub fn render(area: Rect, buf: &mut Buffer) {
    let text: Vec<Line> = KEYS
        .iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(format!(" {k:<12}"), theme::KEY),
                Span::from(*v),
            ])
        })
        .collect();
    let r = self::area(area);
    Clear.render(r, buf);
    Paragraph::new(text)
        .style(theme::OVERLAY)
        .block(Block::bordered().title(" keys "))
        .render(r, buf);
}
