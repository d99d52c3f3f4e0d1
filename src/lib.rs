//! gbwatch: watch what PyBoy agents see, live, in the terminal, over SSH.
//!
//! Data flows one way: [`source`] → [`pipeline`] (capture thread, drop-oldest queue, stats)
//! → consumers ([`encode`] for JPEG, the terminal, HTTP).

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

/// Values shared by the unit tests.
#[cfg(test)]
pub(crate) mod fixtures;
