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

/// The coverage heat of a position visited `n` times, where the most visited has `most`:
/// dark blue for once, to yellow for the most (on a log scale).
pub fn heat(n: u32, most: u32) -> Color {
    const RAMP: [u8; 8] = [17, 18, 19, 55, 91, 127, 172, 220];
    let t = if most <= 1 {
        0.0
    } else {
        (n.max(1) as f64).ln() / (most as f64).ln()
    };
    Color::Indexed(RAMP[((t * (RAMP.len() - 1) as f64).round() as usize).min(RAMP.len() - 1)])
}
