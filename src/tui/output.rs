//! Terminal output: updates are built in memory, framed as one synchronized update and
//! written by a thread of their own, so a slow or stalled terminal stalls only that thread.
//! The writer reports whether it is still busy and how long its last write took; that is
//! the back-pressure the pacing reads.

use super::pacing::WriterReport;
use super::terminal::{SYNC_BEGIN, SYNC_END};
use crossbeam_channel::{bounded, Sender};
use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A memory buffer ratatui's backend writes into, so that one update goes out in one write.
#[derive(Clone, Default)]
pub struct UpdateBuffer(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl UpdateBuffer {
    /// Takes what was written since the last take.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.borrow_mut())
    }
}

impl Write for UpdateBuffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `bytes` wrapped in the begin and end of a synchronized update.
pub fn synchronized(bytes: &[u8]) -> Vec<u8> {
    let mut update = Vec::with_capacity(bytes.len() + SYNC_BEGIN.len() + SYNC_END.len());
    update.extend_from_slice(SYNC_BEGIN);
    update.extend_from_slice(bytes);
    update.extend_from_slice(SYNC_END);
    update
}

/// Writes finished updates on its own thread, one at a time.
pub struct TerminalWriter {
    tx: Option<Sender<Vec<u8>>>,
    busy: Arc<AtomicBool>,
    failed: Arc<AtomicBool>,
    last_write_us: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl TerminalWriter {
    /// Starts the writer thread on `out` (the terminal: a handle of its own on standard
    /// output, so a write that blocks never holds the process's stdout lock).
    pub fn spawn(mut out: Box<dyn Write + Send>) -> TerminalWriter {
        let (tx, rx) = bounded::<Vec<u8>>(1);
        let busy = Arc::new(AtomicBool::new(false));
        let failed = Arc::new(AtomicBool::new(false));
        let last_write_us = Arc::new(AtomicU64::new(0));
        let (b, l, f) = (busy.clone(), last_write_us.clone(), failed.clone());
        let thread = std::thread::Builder::new()
            .name("terminal writer".into())
            .spawn(move || {
                for bytes in rx {
                    let t = Instant::now();
                    if out.write_all(&bytes).and_then(|_| out.flush()).is_err() {
                        f.store(true, Ordering::Release);
                    }
                    l.store(t.elapsed().as_micros() as u64, Ordering::Relaxed);
                    b.store(false, Ordering::Release);
                }
            })
            .expect("spawn terminal writer");
        TerminalWriter {
            tx: Some(tx),
            busy,
            failed,
            last_write_us,
            thread: Some(thread),
        }
    }

    /// A writer on this process's standard output.
    pub fn stdout() -> std::io::Result<TerminalWriter> {
        use std::os::fd::AsFd;
        let fd = std::io::stdout().as_fd().try_clone_to_owned()?;
        Ok(TerminalWriter::spawn(Box::new(std::fs::File::from(fd))))
    }

    /// Busy flag and last write time, for the pacing.
    pub fn report(&self) -> WriterReport {
        WriterReport {
            busy: self.busy.load(Ordering::Acquire),
            last_write: Duration::from_micros(self.last_write_us.load(Ordering::Relaxed)),
        }
    }

    /// True once the terminal refused a write (it is gone: SSH dropped, pane closed).
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// Hands one update to the thread. Call only when [`report`](Self::report) is not busy.
    pub fn send(&self, bytes: Vec<u8>) {
        self.busy.store(true, Ordering::Release);
        if let Some(tx) = &self.tx {
            let _ = tx.send(bytes);
        }
    }

    /// Lets the thread finish its last write and waits for it up to `timeout`. A terminal
    /// that stopped reading can hold a write forever: then the thread is left behind
    /// (it ends with the process) and this returns false.
    pub fn finish(mut self, timeout: Duration) -> bool {
        self.tx = None;
        self.thread
            .take()
            .is_none_or(|t| crate::cancel::join_within(t, timeout))
    }
}

/// Events per second over a sliding window.
#[derive(Debug, Default)]
pub struct Rate {
    events: VecDeque<(Instant, u64)>,
}

impl Rate {
    /// Counts `amount` at `now`.
    pub fn add(&mut self, now: Instant, amount: u64) {
        self.events.push_back((now, amount));
    }

    /// The amount per second over the last `window`, forgetting older events.
    pub fn per_second(&mut self, now: Instant, window: Duration) -> f64 {
        while self
            .events
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) > window)
        {
            self.events.pop_front();
        }
        self.events.iter().map(|(_, a)| *a).sum::<u64>() as f64 / window.as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::Sink;
    use std::sync::Mutex;

    fn wait_until(mut f: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !f() {
            assert!(Instant::now() < deadline, "condition not met in 5 s");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn updates_are_framed_and_written_in_order() {
        let sink = Sink::default();
        let w = TerminalWriter::spawn(Box::new(sink.clone()));
        w.send(synchronized(b"one"));
        wait_until(|| !w.report().busy);
        w.send(synchronized(b"two"));
        assert!(w.finish(Duration::from_secs(5)));
        let mut expected = synchronized(b"one");
        expected.extend(synchronized(b"two"));
        assert_eq!(sink.bytes(), expected);
    }

    /// A writer whose writes wait until the returned gate is released.
    fn gated() -> (Arc<Mutex<()>>, TerminalWriter) {
        let gate = Arc::new(Mutex::new(()));
        let sink = Sink {
            gate: Some(gate.clone()),
            ..Sink::default()
        };
        (gate, TerminalWriter::spawn(Box::new(sink)))
    }

    #[test]
    fn busy_until_the_write_returns() {
        let (gate, w) = gated();
        let held = gate.lock().unwrap();
        w.send(b"x".to_vec());
        std::thread::sleep(Duration::from_millis(20));
        assert!(w.report().busy);
        drop(held);
        wait_until(|| !w.report().busy);
        assert!(w.finish(Duration::from_secs(5)));
    }

    #[test]
    fn a_stalled_terminal_never_holds_up_finish() {
        let (gate, w) = gated();
        let held = gate.lock().unwrap();
        w.send(b"stuck".to_vec());
        let t = Instant::now();
        assert!(!w.finish(Duration::from_millis(100)));
        assert!(t.elapsed() < Duration::from_secs(1));
        drop(held);
    }

    #[test]
    fn a_refused_write_marks_the_terminal_gone() {
        let sink = Sink {
            fail: true,
            ..Sink::default()
        };
        let w = TerminalWriter::spawn(Box::new(sink));
        assert!(!w.failed());
        w.send(b"x".to_vec());
        wait_until(|| w.failed());
    }

    #[test]
    fn rate_over_a_window() {
        let t0 = Instant::now();
        let mut r = Rate::default();
        r.add(t0, 100);
        r.add(t0 + Duration::from_millis(500), 100);
        let one = Duration::from_secs(1);
        assert_eq!(r.per_second(t0 + Duration::from_millis(900), one), 200.0);
        assert_eq!(r.per_second(t0 + Duration::from_millis(1200), one), 100.0);
        assert_eq!(r.per_second(t0 + Duration::from_secs(3), one), 0.0);
    }
}
