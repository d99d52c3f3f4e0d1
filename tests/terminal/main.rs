//! Tests in real terminals: tmux and a pseudo-terminal for `watch`, xterm (sixel) and kitty under Xvfb for the pictures they really draw, recordings played in the monitor, remote serves watched in tmux, pause and replay on local, remote and replayed feeds, the opt-in soak.

#[path = "../common/mod.rs"]
pub mod common;

mod graphics_real;
mod map_real;
mod map_replay;
mod map_view;
mod recording;
mod remote_serves;
mod replay;
mod replay_remote;
mod soak;
mod still_tiles;
mod watch;
mod watch_graphics;
