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
