//! The process's one way to stop: a root [`Cancel`] that every thread's token descends
//! from, cancelled by SIGINT, SIGTERM or SIGHUP (registered here and nowhere else).

use crate::cancel::Cancel;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::{Handle, Signals};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Names the threads still running when the process ends, one a line, into the file this
/// variable names: how the shutdown tests see that every thread a command started ended.
pub const THREADS_AT_EXIT: &str = "GBWATCH_THREADS_AT_EXIT";

/// The root token and the signal that cancelled it, if one did.
#[derive(Debug, Clone)]
pub struct Shutdown {
    root: Cancel,
    signal: Arc<AtomicI32>,
    handle: Handle,
    thread: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl Shutdown {
    /// Registers the termination signals (once per process) and starts the thread that
    /// turns one into a cancelled root; [`Shutdown::close`] ends and joins it.
    pub fn install() -> std::io::Result<Shutdown> {
        let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])?;
        let handle = signals.handle();
        let root = Cancel::new();
        let signal = Arc::new(AtomicI32::new(0));
        let thread = std::thread::Builder::new().name("signals".into()).spawn({
            let (root, signal) = (root.clone(), signal.clone());
            move || {
                for sig in signals.forever() {
                    // The first signal is the one the exit status reports.
                    let _ = signal.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
                    root.cancel();
                }
            }
        })?;
        Ok(Shutdown {
            root,
            signal,
            handle,
            thread: Arc::new(Mutex::new(Some(thread))),
        })
    }

    /// The root token: every thread of the command stops with it (its own token is a child).
    pub fn cancel(&self) -> &Cancel {
        &self.root
    }

    /// The termination signal that arrived, if one has.
    pub fn received(&self) -> Option<i32> {
        match self.signal.load(Ordering::SeqCst) {
            0 => None,
            s => Some(s),
        }
    }

    /// Cancels the root, stops listening for signals and joins the signal thread.
    pub fn close(&self) {
        self.root.cancel();
        self.handle.close();
        if let Some(t) = self.thread.lock().unwrap().take() {
            let _ = t.join();
        }
    }
}

/// Writes the names of the threads other than this one that still run into the file
/// [`THREADS_AT_EXIT`] names, when it is set.
pub fn report_threads_at_exit() {
    let Some(path) = std::env::var_os(THREADS_AT_EXIT) else {
        return;
    };
    let me = std::process::id().to_string();
    let mut names = Vec::new();
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            if task.file_name().to_string_lossy() == me {
                continue;
            }
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            names.push(comm.trim().to_string());
        }
    }
    names.sort();
    let mut text = names.join("\n");
    text.push('\n');
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!(
            "gbwatch: cannot write {}: {e}",
            std::path::Path::new(&path).display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_signal_cancels_the_root_and_close_joins_the_thread() {
        let s = Shutdown::install().unwrap();
        let child = s.cancel().child();
        assert_eq!(s.received(), None);
        signal_hook::low_level::raise(SIGHUP).unwrap();
        let t = Instant::now();
        assert!(child.sleep(Duration::from_secs(10)), "woken by the signal");
        assert!(t.elapsed() < Duration::from_secs(2));
        assert_eq!(s.received(), Some(SIGHUP));
        s.close();
        assert!(s.thread.lock().unwrap().is_none());
    }
}
