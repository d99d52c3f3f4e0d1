//! The terminal monitor. State and `update` (no I/O) in [`state`], panels as pure widgets
//! in [`panels`], pictures in [`picture`] and [`halfblock`]; the loop in [`monitor`] ties
//! them to [`input`], [`pacing`] and [`output`]; [`terminal`] always restores the terminal.

pub mod geometry;
pub mod graphics;
pub mod halfblock;
pub mod input;
pub mod map;
pub mod map_image;
pub mod map_layers;
pub mod monitor;
pub mod output;
pub mod pacing;
pub mod panels;
pub mod picture;
pub mod protocol;
pub mod replay;
pub mod snapshot;
pub mod state;
pub mod terminal;
pub mod theme;
pub mod timeline;
pub mod training;

pub use halfblock::{dimmed, ColorMode, HalfblockRenderer};
pub use monitor::{Exit, Monitor, Setup};
pub use panels::{layout, Panels, PictureArea, Screen};
pub use state::{Action, DrawFigures, Event, FeedUpdate, FeedView, Order, State, View};
pub use terminal::TerminalGuard;
