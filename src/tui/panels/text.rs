//! Text drawn over pictures and areas: banners and a centred line.

use crate::tui::theme;
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget};

/// A banner (one line per entry), e.g. over the demo feed.
pub fn banner(lines: &[&str], area: Rect, buf: &mut Buffer) {
    let text: Vec<Line> = lines
        .iter()
        .map(|l| Line::from(l.to_string()).centered())
        .collect();
    Paragraph::new(text).style(theme::BANNER).render(area, buf);
}

/// One centred line in the middle of `area`.
pub fn centred_line(text: String, area: Rect, buf: &mut Buffer) {
    Paragraph::new(text).alignment(Alignment::Center).render(
        Rect {
            y: area.y + area.height / 2,
            height: 1.min(area.height),
            ..area
        },
        buf,
    );
}
