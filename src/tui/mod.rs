//! The terminal monitor: state + `update` (no I/O), panels as pure widgets, the terminal
//! guard, and the half-block frame renderer.

pub mod graphics;
pub mod halfblock;
pub mod panels;
pub mod state;
pub mod terminal;

pub use halfblock::{dimmed, ColorMode, HalfblockRenderer};
pub use panels::{layout, ImageSlot, Screen};
pub use state::{Action, DrawFigures, Event, FeedUpdate, FeedView, State, View};
pub use terminal::TerminalGuard;
