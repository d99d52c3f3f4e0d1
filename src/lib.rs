//! gbwatch: watch what PyBoy agents see, live, in the terminal, over SSH.
//!
//! Data flows one way: [`source`] → [`pipeline`] (capture thread, drop-oldest queue, stats)
//! → consumers ([`encode`] for JPEG, the terminal, HTTP).

pub mod cli;
pub mod clock;
pub mod cmd;
pub mod encode;
pub mod frame;
pub mod pipeline;
pub mod serve;
pub mod slot;
pub mod source;
pub mod tui;

/// Cases per fuzzing property: `$GBWATCH_FUZZ_CASES`, else `default` (tests only).
#[cfg(test)]
pub(crate) fn fuzz_cases(default: u32) -> u32 {
    std::env::var("GBWATCH_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
