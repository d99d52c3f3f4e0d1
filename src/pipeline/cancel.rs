//! A cancellation token that wakes sleeping threads at once.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Cloneable stop signal; `sleep` returns early when cancelled.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    inner: Arc<(Mutex<bool>, Condvar)>,
}

impl Cancel {
    /// A token not cancelled yet.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Signals every holder to stop.
    pub fn cancel(&self) {
        *self.inner.0.lock().unwrap() = true;
        self.inner.1.notify_all();
    }

    /// True once [`cancel`](Self::cancel) has been called.
    pub fn is_cancelled(&self) -> bool {
        *self.inner.0.lock().unwrap()
    }

    /// Sleeps up to `d`; returns true if cancelled meanwhile.
    pub fn sleep(&self, d: Duration) -> bool {
        let guard = self.inner.0.lock().unwrap();
        let (guard, _) = self.inner.1.wait_timeout_while(guard, d, |c| !*c).unwrap();
        *guard
    }
}

/// Joins `thread` if it ends within `timeout`; else leaves it running (it ends with the
/// process) and returns false. For threads that can block in a system call no token
/// reaches: a write to a terminal that stopped reading, a read of one that hung up.
pub fn join_within(thread: std::thread::JoinHandle<()>, timeout: Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while !thread.is_finished() {
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = thread.join();
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn cancel_wakes_a_sleeper_at_once() {
        let c = Cancel::new();
        let sleeper = {
            let c = c.clone();
            std::thread::spawn(move || c.sleep(Duration::from_secs(60)))
        };
        std::thread::sleep(Duration::from_millis(20));
        let t = Instant::now();
        c.cancel();
        assert!(sleeper.join().unwrap());
        assert!(t.elapsed() < Duration::from_secs(1));
        assert!(c.is_cancelled());
    }

    #[test]
    fn join_within_joins_or_gives_up() {
        let quick = std::thread::spawn(|| {});
        assert!(join_within(quick, Duration::from_secs(5)));
        let stuck = std::thread::spawn(|| std::thread::sleep(Duration::from_secs(2)));
        let t = Instant::now();
        assert!(!join_within(stuck, Duration::from_millis(50)));
        assert!(t.elapsed() < Duration::from_secs(1));
    }
}
