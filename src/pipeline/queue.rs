//! A bounded queue that never blocks the producer: when full, the oldest item is dropped.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// Counters of one queue, read atomically together: `pushed = delivered + dropped + queued`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// Items ever pushed.
    pub pushed: u64,
    /// Items a consumer took.
    pub delivered: u64,
    /// Items evicted by newer ones or skipped by `pop_newest`.
    pub dropped: u64,
    /// Items in the queue now.
    pub queued: u64,
}

#[derive(Debug)]
struct Inner<T> {
    items: VecDeque<T>,
    counts: QueueCounts,
    closed: bool,
}

/// Bounded drop-oldest queue. Every item pushed is counted exactly once, as delivered
/// (popped), dropped (evicted by a newer item, or skipped by [`pop_newest`](Self::pop_newest)),
/// or still queued.
#[derive(Debug)]
pub struct DropOldestQueue<T> {
    inner: Mutex<Inner<T>>,
    ready: Condvar,
    capacity: usize,
}

impl<T> DropOldestQueue<T> {
    /// A queue holding at most `capacity` items (at least 1).
    pub fn new(capacity: usize) -> Self {
        DropOldestQueue {
            inner: Mutex::new(Inner {
                items: VecDeque::with_capacity(capacity.max(1)),
                counts: QueueCounts::default(),
                closed: false,
            }),
            ready: Condvar::new(),
            capacity: capacity.max(1),
        }
    }

    /// Most items held at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Adds an item; returns the evicted oldest item when the queue was full. Never blocks
    /// beyond the short internal lock.
    pub fn push(&self, item: T) -> Option<T> {
        let mut g = self.inner.lock().unwrap();
        let evicted = if g.items.len() == self.capacity {
            g.counts.dropped += 1;
            g.items.pop_front()
        } else {
            None
        };
        g.items.push_back(item);
        g.counts.pushed += 1;
        g.counts.queued = g.items.len() as u64;
        drop(g);
        self.ready.notify_all();
        evicted
    }

    /// Takes the oldest item, if any.
    pub fn pop(&self) -> Option<T> {
        let mut g = self.inner.lock().unwrap();
        let item = g.items.pop_front();
        if item.is_some() {
            g.counts.delivered += 1;
            g.counts.queued = g.items.len() as u64;
        }
        item
    }

    /// Takes the newest item and drops the older ones ("latest wins").
    pub fn pop_newest(&self) -> Option<T> {
        let mut g = self.inner.lock().unwrap();
        let item = g.items.pop_back();
        if item.is_some() {
            g.counts.delivered += 1;
            g.counts.dropped += g.items.len() as u64;
            g.items.clear();
            g.counts.queued = 0;
        }
        item
    }

    /// Waits up to `timeout` for an item; `None` on timeout or when closed and empty.
    pub fn pop_timeout(&self, timeout: Duration) -> Option<T> {
        let g = self.inner.lock().unwrap();
        let (mut g, _) = self
            .ready
            .wait_timeout_while(g, timeout, |i| i.items.is_empty() && !i.closed)
            .unwrap();
        let item = g.items.pop_front();
        if item.is_some() {
            g.counts.delivered += 1;
            g.counts.queued = g.items.len() as u64;
        }
        item
    }

    /// Wakes waiting consumers for good; pushes still work (the producer may not know yet).
    pub fn close(&self) {
        self.inner.lock().unwrap().closed = true;
        self.ready.notify_all();
    }

    /// Takes items again after [`close`](Self::close): the same feed's source came back.
    pub fn reopen(&self) {
        self.inner.lock().unwrap().closed = false;
    }

    /// True once [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        self.inner.lock().unwrap().closed
    }

    /// A consistent snapshot of the counters.
    pub fn counts(&self) -> QueueCounts {
        self.inner.lock().unwrap().counts
    }
}
