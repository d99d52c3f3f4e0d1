//! Tests that count threads and file descriptors: of this process (publishers churning) and of gbwatch processes at exit (one way to stop). They run one at a time, each holding PROCESS.

#[path = "../common/mod.rs"]
pub mod common;

/// Held by each test here: churn counts this process's threads and fds, which another
/// test's threads would change.
static PROCESS: std::sync::Mutex<()> = std::sync::Mutex::new(());

mod churn;
mod shutdown;
