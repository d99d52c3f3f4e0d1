//! The timeline strip: the span held of the selected env, its markers, and where the screen
//! is (`█`; at the right end while live).

use crate::tui::state::State;
use crate::tui::theme;
use crate::tui::timeline::Timeline;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// Draws `t` into `area`: `−58.2 s ──|───*──█──── now`.
pub fn render(state: &State, t: &Timeline, area: Rect, buf: &mut Buffer) {
    let end = state.now_ns.max(t.newest_ns);
    let left = if t.newest_ns == 0 {
        " no history yet ".to_string()
    } else {
        format!(
            " \u{2212}{:.1} s ",
            end.saturating_sub(t.oldest_ns) as f64 / 1e9
        )
    };
    let right = " now ";
    let room = (area.width as usize).saturating_sub(left.chars().count() + right.len());
    let mut strip = vec!['─'; room];
    if room > 0 && t.newest_ns > 0 {
        let span = end.saturating_sub(t.oldest_ns).max(1) as f64;
        let column = |ns: u64| {
            let x = ns.saturating_sub(t.oldest_ns) as f64 / span * (room - 1) as f64;
            (x.round() as usize).min(room - 1)
        };
        for &(at, glyph) in &t.markers {
            if at >= t.oldest_ns {
                strip[column(at)] = glyph;
            }
        }
        strip[column(state.paused_at.unwrap_or(end))] = '█';
    }
    let line = Line::from(vec![
        Span::styled(left, theme::STATUS),
        Span::from(strip.into_iter().collect::<String>()),
        Span::styled(right, theme::STATUS),
    ]);
    Paragraph::new(line).render(area, buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    const S: u64 = 1_000_000_000;

    fn strip(paused_at: Option<u64>) -> String {
        let mut state = State::new(1, "");
        state.now_ns = 100 * S;
        state.paused_at = paused_at;
        let t = Timeline {
            oldest_ns: 40 * S,
            newest_ns: 100 * S,
            markers: vec![(55 * S, '|'), (70 * S, '*'), (80 * S, 'S'), (90 * S, 'x')],
            bytes: 10 << 20,
            budget_bytes: 64 << 20,
            span_s: 60.0,
        };
        let mut term = Terminal::new(TestBackend::new(80, 1)).unwrap();
        term.draw(|f| render(&state, &t, f.area(), f.buffer_mut()))
            .unwrap();
        term.backend().to_string()
    }

    #[test]
    fn live_strip_has_its_cursor_at_now() {
        insta::assert_snapshot!(strip(None));
    }

    #[test]
    fn paused_strip_shows_where_the_screen_is() {
        let s = strip(Some(70 * S + S / 2));
        assert!(s.contains('█'));
        insta::assert_snapshot!(s);
    }
}
