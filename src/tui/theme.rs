//! The monitor's styles, in one place.

use ratatui::style::{Color, Modifier, Style};

/// Labels in the side panels ("state", "age", …).
pub const LABEL: Style = Style::new().fg(Color::DarkGray);
/// A feed that is producing.
pub const ONLINE: Style = Style::new().fg(Color::Green);
/// A feed that has not produced yet.
pub const WAITING: Style = Style::new().fg(Color::Yellow);
/// A feed that stopped (offline, ended, gone), and its greyed tile or block.
pub const OFFLINE: Style = Style::new().fg(Color::DarkGray);
/// A feed in error.
pub const ERROR: Style = Style::new().fg(Color::Red);
/// Warnings (a slow terminal).
pub const WARNING: Style = Style::new().fg(Color::Yellow);
/// An env that looks stuck.
pub const STUCK: Style = Style::new()
    .fg(Color::Black)
    .bg(Color::Yellow)
    .add_modifier(Modifier::BOLD);
/// The "FROZEN" badge.
pub const FROZEN: Style = Style::new().fg(Color::Black).bg(Color::Cyan);
/// The active preset.
pub const ACTIVE: Style = Style::new()
    .fg(Color::Black)
    .bg(Color::Green)
    .add_modifier(Modifier::BOLD);
/// The selected tile's border.
pub const SELECTED: Style = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
/// Sparklines.
pub const SPARK: Style = Style::new().fg(Color::Cyan);
/// Banners over a picture (the demo's).
pub const BANNER: Style = Style::new()
    .fg(Color::Black)
    .bg(Color::Yellow)
    .add_modifier(Modifier::BOLD);
/// The status bar.
pub const STATUS: Style = Style::new().add_modifier(Modifier::REVERSED);
/// The status bar's right-hand notice.
pub const STATUS_NOTICE: Style = Style::new()
    .add_modifier(Modifier::REVERSED)
    .add_modifier(Modifier::BOLD);
/// Keys in the help overlay.
pub const KEY: Style = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
/// The help overlay's box: a set background makes every cell differ from a blank one, so
/// the whole box is written over the picture.
pub const OVERLAY: Style = Style::new().fg(Color::White).bg(Color::Black);
/// Emphasis (titles, "no signal yet").
pub const BOLD: Style = Style::new().add_modifier(Modifier::BOLD);

/// Each env's colour on the map and in its tile's name, by feed index (256-colour palette).
pub fn env_color(feed: usize) -> Color {
    const COLOURS: [u8; 12] = [196, 46, 33, 226, 201, 51, 208, 129, 118, 39, 214, 199];
    Color::Indexed(COLOURS[feed % COLOURS.len()])
}

/// The coverage heat: dark blue for a position visited once, to yellow for the most
/// visited (on a log scale).
#[derive(Debug, Clone, Copy)]
pub struct Heat {
    /// The fewest visits of each step of the ramp after the first.
    steps: [u32; 7],
}

const RAMP: [u8; 8] = [17, 18, 19, 55, 91, 127, 172, 220];

impl Heat {
    /// The ramp for a coverage whose most visited position has `most` visits, scaled to the
    /// power of two at or above it: the colours stay put while visits grow (a new scale
    /// changes every covered cell, which the terminal must then be sent).
    pub fn new(most: u32) -> Heat {
        let most = most.checked_next_power_of_two().unwrap_or(u32::MAX);
        let mut steps = [u32::MAX; 7];
        if most > 1 {
            for (k, s) in steps.iter_mut().enumerate() {
                // Step k+1 from t = (k + 0.5) / 7 of ln(most): rounding as a ratio would.
                let t = (k as f64 + 0.5) / 7.0;
                *s = (most as f64).powf(t).ceil() as u32;
            }
        }
        Heat { steps }
    }

    /// The colour of `n` visits.
    pub fn colour(&self, n: u32) -> Color {
        let k = self.steps.iter().take_while(|&&s| n >= s).count();
        Color::Indexed(RAMP[k])
    }
}
