//! The one way tests wait: poll a condition every 20 ms up to a bound, and on timeout say
//! what was awaited (and, for a program's start, show its log).

use std::path::Path;
use std::time::{Duration, Instant};

/// How long a program's first start may take: Xvfb, kitty, xterm, sshd, Chromium and PyBoy
/// on a machine that has never run them (fonts and keymaps compiled, shader and pip caches
/// empty), with the other tests loading both cores.
pub const COLD_START: Duration = Duration::from_secs(120);

/// Polls `f` every 20 ms until it returns `Some`, for at most `timeout`.
pub fn within<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if start.elapsed() >= timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls `f` until it returns `Some`; panics naming `what` after `timeout`.
pub fn eventually<T>(what: &str, timeout: Duration, f: impl FnMut() -> Option<T>) -> T {
    within(timeout, f).unwrap_or_else(|| panic!("timed out after {timeout:?} waiting for {what}"))
}

/// Polls `ok` until it holds; panics naming `what` after `timeout`.
pub fn until(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    eventually(what, timeout, || ok().then_some(()))
}

/// Waits up to [`COLD_START`] for a program started with its output in `log` to be ready
/// (`ok`); on timeout panics naming what it waited for, with the log's last lines.
pub fn started(what: &str, log: &Path, mut ok: impl FnMut() -> bool) {
    if within(COLD_START, || ok().then_some(())).is_none() {
        let text = std::fs::read_to_string(log).unwrap_or_else(|e| format!("(no log: {e})"));
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        panic!(
            "timed out after {COLD_START:?} waiting for {what}; {}:\n{}",
            log.display(),
            tail.join("\n")
        );
    }
}
