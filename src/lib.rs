//! gbwatch: watch what PyBoy agents see, live, in the terminal, over SSH.
//!
//! Data flows one way: [`source`] → [`pipeline`] (capture thread, drop-oldest queue, stats)
//! → consumers ([`encode`] for JPEG, the terminal, HTTP).

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
pub mod tui;

/// Proptest settings for fuzzing properties: `$GBWATCH_FUZZ_CASES` cases (else `default`),
/// room for `prop_assume!` rejects in long campaigns, and regressions saved next to the
/// source file (`FILE.proptest-regressions`) and replayed first. Tests only.
#[cfg(test)]
pub(crate) fn fuzz_config(default: u32) -> proptest::test_runner::Config {
    let cases = std::env::var("GBWATCH_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    proptest::test_runner::Config {
        cases,
        max_global_rejects: cases.max(1024),
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
        )),
        ..Default::default()
    }
}
