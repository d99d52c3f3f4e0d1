//! A cancellation token that wakes sleeping threads at once, and a bounded join.

use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Duration;

/// Cloneable stop signal; `sleep` returns early when cancelled. A [`child`](Self::child)
/// token is cancelled with its parent, or alone.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    cancelled: Mutex<bool>,
    woken: Condvar,
    children: Mutex<Vec<Weak<Inner>>>,
}

impl Inner {
    fn cancel(&self) {
        *self.cancelled.lock().unwrap() = true;
        self.woken.notify_all();
        let children = std::mem::take(&mut *self.children.lock().unwrap());
        for child in children.iter().filter_map(Weak::upgrade) {
            child.cancel();
        }
    }
}

impl Cancel {
    /// A token not cancelled yet.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// A token cancelled when this one is (at once, if it already is), and that can be
    /// cancelled on its own without touching this one.
    pub fn child(&self) -> Cancel {
        let child = Cancel::new();
        let mut children = self.inner.children.lock().unwrap();
        if self.is_cancelled() {
            child.cancel();
        } else {
            children.retain(|c| c.strong_count() > 0);
            children.push(Arc::downgrade(&child.inner));
        }
        child
    }

    /// Signals every holder (and every child token) to stop.
    pub fn cancel(&self) {
        self.inner.cancel();
    }

    /// True once [`cancel`](Self::cancel) has been called.
    pub fn is_cancelled(&self) -> bool {
        *self.inner.cancelled.lock().unwrap()
    }

    /// Sleeps up to `d`; returns true if cancelled meanwhile.
    pub fn sleep(&self, d: Duration) -> bool {
        let guard = self.inner.cancelled.lock().unwrap();
        let (guard, _) = self
            .inner
            .woken
            .wait_timeout_while(guard, d, |c| !*c)
            .unwrap();
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
    fn a_child_stops_with_its_parent_or_alone() {
        let parent = Cancel::new();
        let (a, b) = (parent.child(), parent.child());
        a.cancel();
        assert!(a.is_cancelled() && !b.is_cancelled() && !parent.is_cancelled());
        let sleeper = {
            let b = b.clone();
            std::thread::spawn(move || b.sleep(Duration::from_secs(60)))
        };
        std::thread::sleep(Duration::from_millis(20));
        let t = Instant::now();
        parent.cancel();
        assert!(
            sleeper.join().unwrap(),
            "the parent woke the child's sleeper"
        );
        assert!(t.elapsed() < Duration::from_secs(1));
        assert!(parent.child().is_cancelled(), "born cancelled");
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
