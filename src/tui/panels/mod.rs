//! Panels: pure functions of [`State`] and its [`Screen`], one module per screen. Image
//! areas are left to the picture renderers (their cells are marked `skip`, so ratatui
//! never writes over a picture).

mod format;
mod grid;
mod help;
mod layout;
mod map;
mod single;
mod status;
mod text;
mod timeline;
mod training;

pub use format::{fmt_age, fmt_rate, fmt_us};
pub use help::KEYS;
pub use layout::{frame_inner, layout, Areas, PictureArea, Screen, MIN_SIZE};
pub use map::marker_at;

use crate::tui::state::{State, View};
use ratatui::buffer::{Buffer, CellDiffOption};
use ratatui::layout::Rect;
use ratatui::widgets::{Paragraph, Widget, Wrap};

/// The whole screen for a state, drawn along a layout computed once for this draw.
pub struct Panels<'a> {
    /// What to show.
    pub state: &'a State,
    /// Where it goes ([`layout`] of the state for this area).
    pub screen: &'a Screen,
}

impl Widget for Panels<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (state, screen) = (self.state, self.screen);
        if screen.too_small {
            Paragraph::new(format!(
                "terminal too small: {}x{} (gbwatch needs at least {}x{})",
                area.width, area.height, MIN_SIZE.0, MIN_SIZE.1
            ))
            .wrap(Wrap { trim: true })
            .render(area, buf);
            return;
        }
        match (&screen.areas, state.view()) {
            (Areas::Single { feed, frame, side }, _) => {
                single::render(state, *feed, *frame, *side, buf)
            }
            (Areas::Grid { tiles, page, pages }, _) => {
                grid::render(state, tiles, (*page, *pages), screen.body, buf)
            }
            (Areas::Map { canvas, list }, _) => map::render(state, *canvas, *list, buf),
            (Areas::Empty, View::Empty) | (Areas::Empty, _) => {
                status::render_empty(state, screen.body, buf)
            }
        }
        status::render(state, screen.status, buf);
        if let (Some(rect), Some(t)) = (screen.timeline, &state.timeline) {
            timeline::render(state, t, rect, buf);
        }
        for area in &screen.images {
            reset_cells(buf, area.rect, true);
        }
        if let Some(rect) = screen.help {
            help::render(rect, buf, state.timeline.as_ref());
        }
    }
}

/// Lays the state out for `area` and draws it (for callers that do not keep the layout).
impl Widget for &State {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let screen = layout(self, area);
        Panels {
            state: self,
            screen: &screen,
        }
        .render(area, buf);
    }
}

/// Blanks the cells of `rect`; with `skip`, ratatui also leaves them alone when it writes
/// the buffer out (a picture renderer owns them).
pub fn reset_cells(buf: &mut Buffer, rect: Rect, skip: bool) {
    for y in rect.top()..rect.bottom() {
        for x in rect.left()..rect.right() {
            if let Some(c) = buf.cell_mut((x, y)) {
                c.reset();
                if skip {
                    c.set_diff_option(CellDiffOption::Skip);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{busy_stats, raw_frame};
    use crate::pipeline::FeedState;
    use crate::source::{DEMO_BANNER, DEMO_KEY};
    use crate::tui::state::{DrawFigures, Event, FeedUpdate};
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;
    use std::sync::Arc;

    const NOW: u64 = 10_000_000_000;

    fn frame(age_ms: u64) -> crate::frame::SharedFrame {
        let mut f = raw_frame(160, 144, Some(NOW - age_ms * 1_000_000));
        f.frame_index = 4321;
        f.capture_us = 40;
        f.captured_ns = NOW;
        f.content_id = 2;
        Arc::new(f)
    }

    /// A feed reading, with a 23 ms old 160×144 frame when `with_frame`.
    fn feed(name: &str, state: FeedState, with_frame: bool) -> (FeedUpdate, bool) {
        let update = FeedUpdate {
            name: name.into(),
            key: format!("/dev/shm/gbwatch/{name}.slot"),
            state,
            stats: busy_stats(),
            drawn_fps: 10.0,
        };
        (update, with_frame)
    }

    fn state(feeds: Vec<(FeedUpdate, bool)>, size: (u16, u16)) -> State {
        let mut s = State::new(1, "/dev/shm/gbwatch");
        s.update(Event::Resize(size.0, size.1));
        let updates: Vec<FeedUpdate> = feeds.iter().map(|(u, _)| u.clone()).collect();
        for _ in 0..3 {
            s.update(Event::Feeds {
                feeds: updates.clone(),
                now_ns: NOW,
            });
        }
        s.update(Event::Frames {
            frames: feeds
                .iter()
                .filter(|(_, with_frame)| *with_frame)
                .map(|(u, _)| (u.key.clone(), frame(23)))
                .collect(),
            now_ns: NOW,
        });
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
    fn unreadable_info_is_shown_in_the_training_panel() {
        let mut s = state(vec![feed("env-00", FeedState::Online, true)], (110, 34));
        let mut f = (*frame(23)).clone();
        f.info_error = Some(crate::info::InfoError::Damaged {
            offset: 3,
            what: "a key",
        });
        s.update(Event::Frames {
            frames: vec![("/dev/shm/gbwatch/env-00.slot".into(), Arc::new(f))],
            now_ns: NOW,
        });
        let text = draw(&s);
        assert!(text.contains("info unreadable: "), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn paused_single_view_says_how_far_back_with_the_strip() {
        let mut s = state(vec![feed("env-00", FeedState::Online, true)], (110, 34));
        s.update(Event::Timeline(crate::tui::timeline::Timeline {
            oldest_ns: NOW - 9_000_000_000,
            newest_ns: NOW,
            markers: vec![(NOW - 5_000_000_000, '|')],
            bytes: 3 << 20,
            budget_bytes: 64 << 20,
            span_s: 60.0,
        }));
        s.update(Event::Shown {
            at_ns: Some(NOW - 2_300_000_000),
            frames: vec![("/dev/shm/gbwatch/env-00.slot".into(), frame(23))],
        });
        let text = draw(&s);
        assert!(text.contains("PAUSED \u{2212}2.3 s"), "{text}");
        insta::assert_snapshot!(text);
        s.help = true;
        let text = draw(&s);
        assert!(text.contains("3.0 of 64 MB held"), "{text}");
        insta::assert_snapshot!("help_with_history", text);
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
        let mut feeds: Vec<(FeedUpdate, bool)> = (0..5)
            .map(|i| feed(&format!("env-{i:02}"), FeedState::Online, true))
            .collect();
        feeds[2].0.state = FeedState::Offline("publisher gone".into());
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
        let feeds: Vec<(FeedUpdate, bool)> = (0..64)
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
    fn four_boxes_of_64_envs_page_through_every_env_once() {
        let feeds: Vec<(FeedUpdate, bool)> = (0..256)
            .map(|i| {
                let name = format!("box{}/env-{:02}", i / 64, i % 64);
                feed(&name, FeedState::Online, true)
            })
            .collect();
        let mut s = state(feeds, (200, 60));
        let area = Rect::new(0, 0, 200, 60);
        let mut shown = Vec::new();
        let mut pages = Vec::new();
        let mut selected = 0;
        while selected < 256 {
            s.selected = selected;
            let screen = layout(&s, area);
            let Areas::Grid {
                tiles,
                page,
                pages: n,
            } = &screen.areas
            else {
                panic!("not a grid");
            };
            assert!(!tiles.is_empty());
            pages.push((*page, *n));
            shown.extend(screen.images.iter().map(|i| i.feed));
            let label = format!(" page {}/{} ", page + 1, n);
            assert!(draw(&s).contains(&label), "no {label:?}");
            selected += tiles.len();
        }
        let n = pages[0].1;
        assert!(n > 1, "256 tiles fit one page at 200x60?");
        assert_eq!(pages, (0..n).map(|p| (p, n)).collect::<Vec<_>>());
        assert_eq!(
            shown,
            (0..256).collect::<Vec<_>>(),
            "every env once, in order"
        );
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
        demo.0.key = DEMO_KEY.into();
        let s = state(vec![demo], (110, 34));
        let text = draw(&s);
        assert!(text.contains(&DEMO_BANNER[0][..30]));
    }

    #[test]
    fn the_zoomed_view_shows_a_long_state_whole() {
        let reason = "publisher pid 1509 has exited";
        let s = state(
            vec![feed("env-00", FeedState::Offline(reason.into()), true)],
            (110, 34),
        );
        let text = draw(&s);
        let panel: String = text
            .lines()
            .map(|l| l.trim_matches('"').chars().skip(66).collect::<String>())
            .map(|l| l.trim_matches(|c| c == '│' || c == ' ').to_string())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(panel.contains("exited"), "the state line is cut:\n{text}");
    }

    #[test]
    fn grid_tiles_say_what_their_figures_are() {
        let feeds: Vec<(FeedUpdate, bool)> = (0..4)
            .map(|i| feed(&format!("env-{i:02}"), FeedState::Online, true))
            .collect();
        let text = draw(&state(feeds, (120, 36)));
        assert!(text.contains("10 fps, 23.0ms old"), "{text}");
        assert!(
            text.contains("space freeze"),
            "the grid's key line omits freeze"
        );
    }
}
