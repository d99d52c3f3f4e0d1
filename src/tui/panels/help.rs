//! The help overlay: every key, over the panels beside the picture it is about (single
//! view), or centred over the tiles (grid, whose tiles under it are left out).

use crate::tui::theme;
use crate::tui::timeline::{Timeline, CLIP_KEY, TIME_KEYS};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

/// The keys and what they do.
pub const KEYS: [(&str, &str); 13] = [
    ("1 2 3 4", "preset LOW / MEDIUM / HIGH / ULTRA"),
    ("+ -", "next / previous preset"),
    ("space f", "freeze / resume"),
    ("s", "save a JPEG snapshot of the frame"),
    ("arrows hjkl", "select an env (grid)"),
    ("enter e", "zoom the selected env"),
    ("L", "next info field as the tile label"),
    ("o", "sort the grid by the label: low, high, off"),
    ("/", "filter envs by name (enter keeps, esc clears)"),
    ("m", "the map: every env's position (o: by distance)"),
    ("esc", "back to the grid / quit"),
    ("q ctrl-c", "quit"),
    ("?", "this help (any key closes it)"),
];

/// Width of the key column, with its leading space.
const KEY_WIDTH: usize = 13;
/// Widest the overlay gets.
const WIDTH: u16 = 64;

/// Where the overlay goes: over the single view's side panel when it fits there (the
/// picture stays in view), centred in `area` otherwise.
pub fn area(side: Option<Rect>, area: Rect, time: Option<&Timeline>) -> Rect {
    if let Some(side) = side {
        let h = lines(side.width, time).len() as u16 + 2;
        if side.width as usize >= KEY_WIDTH + 20 && side.height >= h {
            return Rect { height: h, ..side };
        }
    }
    let w = WIDTH.min(area.width);
    let h = (lines(w, time).len() as u16 + 2).min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// The overlay's lines for a box `width` cells wide: a description too long for its column
/// goes on under itself. With history, the time keys and the budget follow.
fn lines(width: u16, time: Option<&Timeline>) -> Vec<Line<'static>> {
    let room = (width as usize).saturating_sub(2 + KEY_WIDTH).max(8);
    let mut out = Vec::new();
    let mut keys = KEYS.to_vec();
    let budget;
    if let Some(t) = time {
        keys.extend(TIME_KEYS);
        keys.push(CLIP_KEY);
        budget = format!(
            "{:.1} of {:.0} MB held, {:.0} s kept",
            t.bytes as f64 / (1 << 20) as f64,
            t.budget_bytes as f64 / (1 << 20) as f64,
            t.span_s
        );
        keys.push(("history", budget.as_str()));
    }
    for (key, text) in keys {
        for (i, part) in wrap(text, room).into_iter().enumerate() {
            let key = if i == 0 { key } else { "" };
            out.push(Line::from(vec![
                Span::styled(format!(" {key:<w$}", w = KEY_WIDTH - 1), theme::KEY),
                Span::from(part),
            ]));
        }
    }
    out
}

/// `text` in lines of at most `room` characters, broken at spaces.
fn wrap(text: &str, room: usize) -> Vec<String> {
    let mut out = vec![String::new()];
    for word in text.split(' ') {
        let line = out.last_mut().expect("one line at least");
        if !line.is_empty() && line.len() + 1 + word.len() > room {
            out.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    out
}

/// Draws the overlay into `rect` (from [`area`]).
pub fn render(rect: Rect, buf: &mut Buffer, time: Option<&Timeline>) {
    Clear.render(rect, buf);
    Paragraph::new(lines(rect.width, time))
        .style(theme::OVERLAY)
        .block(Block::bordered().title(" keys "))
        .render(rect, buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_descriptions_go_on_under_themselves() {
        assert_eq!(wrap("filter envs by name", 11), ["filter envs", "by name"]);
        assert_eq!(wrap("quit", 11), ["quit"]);
        let narrow = lines(44, None);
        assert!(narrow.len() > KEYS.len());
        assert!(
            narrow.iter().all(|l| l.width() <= 42),
            "fits inside the border"
        );
        assert_eq!(
            lines(64, None).len(),
            KEYS.len(),
            "one line a key when wide enough"
        );
    }
}
