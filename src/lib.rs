//! gbwatch: watch what PyBoy agents see, live, in the terminal, over SSH.
//!
//! # Data flow
//!
//! ```text
//! publisher ─▶ slot ─▶ source ─▶ pipeline ─▶ encode ─▶ tui, serve ─▶ cmd
//!   (Python)   (shm)   (Source)  (capture,   (JPEG)    (consumers)   (subcommands)
//!                ▲                queue,
//!   relay/serve ─┴─ stream        stats)
//! ```
//!
//! A Python publisher writes each frame into its [`slot`] (shared memory, a seqlock). A
//! [`source`] reads frames from anywhere (slots, recordings, HTTP, image files, and other
//! gbwatch processes over the compact [`stream`], by SSH or HTTP). The [`pipeline`] gives each
//! source a *feed*: a capture thread, a drop-oldest queue and the counters. Consumers take
//! frames from the queues: [`encode`] makes JPEGs (dump, serve, snapshots), [`tui`] draws
//! them, [`serve`] answers HTTP and sends the stream. [`cmd`] wires sources to consumers, one
//! module per subcommand of [`cli`].
//!
//! # Layers
//!
//! A module uses only modules of lower layers (and never a peer of its own layer); no file
//! imports a file that imports it back. A unit test (`src/layers.rs`) reads every `use` and
//! path of `src/` and fails, naming the files, on a circle or an arrow pointing up:
//!
//! | layer | modules | holds |
//! |---|---|---|
//! | 1 | [`clock`], [`cancel`], [`info`] | time, the cancellation token, training info |
//! | 2 | [`frame`] | one captured frame |
//! | 3 | [`slot`], [`stream`] | the two wire formats: the shared-memory slot, the compact stream |
//! | 4 | [`source`] | every kind of source, its spec (`SOURCE` arguments) and decoding |
//! | 5 | [`pipeline`] | feeds: capture, queue, presets, states, counters, the stats report |
//! | 6 | [`encode`] | scaling, JPEG, atomic files |
//! | 7 | [`tui`], [`serve`] | the terminal monitor; the HTTP server and the stream's sender |
//! | 8 | [`cli`] | the command line (clap) |
//! | 9 | [`cmd`] | the subcommands, the process's one shutdown |
//!
//! # Folders
//!
//! ```text
//! src/slot/        the slot format (FORMAT.md), its reader and a Rust writer
//! src/stream/      the compact stream's wire format (FORMAT.md)
//! src/source/      slots, recordings and the demo (recording/, RECORDING.md), HTTP and
//!                  MJPEG, image files, ssh:// and serve's stream (stream/), decoding
//! src/pipeline/    feed, feeds (discovery), capture, queue, history/ (recent frames),
//!                  presets, status, histograms, counters (FEEDS.md) and the report stats
//!                  and serve print; positions (every env's place, trail, coverage),
//!                  layout and world (the map's)
//! src/encode/      nearest-neighbour scaling, YCbCr rows, JPEG (baseline/: gbwatch's own
//!                  encoder, the default), the JPEG cache, files
//! src/tui/         state.rs (State and update, no I/O), map.rs (the map view's), panels/
//!                  (pure widgets, snapshot tested), monitor.rs (the loop), pacing, input,
//!                  output (the writer),
//!                  picture.rs and halfblock.rs, protocol.rs and graphics/ (caps, kitty/,
//!                  sixel, tmux, painter, worker), terminal.rs (always restores); WATCH.md
//! src/serve/       the HTTP server (http.rs), routes, MJPEG, the stream's sender, the page
//!                  and its map (map.rs)
//! src/cmd/         one file per subcommand, shutdown.rs (COMMANDS.md)
//! ```
//!
//! # Threads and stopping
//!
//! A process has one root [`cancel::Cancel`], made by `cmd::shutdown::Shutdown`, which also
//! registers SIGINT, SIGTERM and SIGHUP (there and nowhere else) and cancels the root on the
//! first. Every other token is a child of it, so one cancel stops everything: capture
//! threads, discovery, the server's accept loop and connections, remote readers, the
//! terminal's threads. Each thread is joined on shutdown, or documented where it is spawned
//! as left to end with the process, and why (a read blocked on a terminal or a pipe that
//! cannot be interrupted). `tests/threads` starts `watch`, `serve`, `relay` and `dump` on
//! live sources, sends SIGTERM, and checks each ends within 1 s with no thread of its own
//! left. A signal's exit status is 128 + the signal.
//!
//! The user's guide is `README.md`; each folder's details sit beside it (`*.md`), the
//! benchmarks' tables in `examples/README.md`, the tests' in `tests/README.md`.

pub mod cancel;
pub mod cli;
pub mod clock;
pub mod cmd;
pub mod encode;
pub mod frame;
pub mod info;
pub mod pipeline;
pub mod serve;
pub mod slot;
pub mod source;
pub mod stream;
pub mod tui;

/// The import-direction test.
#[cfg(test)]
mod layers;

/// The docs' commands checked against the command line.
#[cfg(test)]
mod readme_check;

/// Values shared by the unit tests.
#[cfg(test)]
pub(crate) mod fixtures;
