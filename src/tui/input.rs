//! Terminal input on a thread of its own, so a terminal that hangs up (where crossterm's
//! poll can spin without returning) never stalls drawing, signals or shutdown. The thread
//! reads one event at a time, only when asked for the next ([`Input::more`]): keys typed
//! after the one that quits stay in the terminal for the shell. It looks at its [`Cancel`]
//! between short polls and is joined on drop (within a bound).

use crate::cancel::Cancel;
use crossbeam_channel::{bounded, Receiver, Sender};
use crossterm::event as ct;
use std::thread::JoinHandle;
use std::time::Duration;

/// How long one poll waits for input.
const POLL: Duration = Duration::from_millis(100);
/// How long a stop waits for the thread. A terminal that hung up can keep crossterm's poll
/// from returning; then the thread is left behind and ends with the process.
const STOP_WAIT: Duration = Duration::from_millis(300);

/// Where input events come from: the terminal, or a script in tests.
pub trait EventSource: Send + 'static {
    /// Waits up to `timeout` for one event.
    fn next(&mut self, timeout: Duration) -> std::io::Result<Option<ct::Event>>;
}

/// The process's terminal, through crossterm.
pub struct Crossterm;

impl EventSource for Crossterm {
    fn next(&mut self, timeout: Duration) -> std::io::Result<Option<ct::Event>> {
        if ct::poll(timeout)? {
            ct::read().map(Some)
        } else {
            Ok(None)
        }
    }
}

/// The running input thread and its events. An `Err` is the last event: the terminal is
/// gone or unreadable.
pub struct Input {
    /// Events in the order they were read.
    pub events: Receiver<std::io::Result<ct::Event>>,
    ask: Sender<()>,
    cancel: Cancel,
    thread: Option<JoinHandle<()>>,
}

impl Input {
    /// Starts reading `source` until `parent` or the drop; the first event is asked for
    /// at once.
    pub fn spawn(mut source: impl EventSource, parent: &Cancel) -> Input {
        let (tx, events) = bounded(1);
        let (ask, asked) = bounded::<()>(1);
        let cancel = parent.child();
        let stop = cancel.clone();
        let thread = std::thread::Builder::new()
            .name("terminal input".into())
            .spawn(move || {
                while !stop.is_cancelled() {
                    match asked.recv_timeout(POLL) {
                        Ok(()) => {}
                        Err(crossbeam_channel::RecvTimeoutError::Timeout) => continue,
                        Err(_) => return,
                    }
                    let event = loop {
                        if stop.is_cancelled() {
                            return;
                        }
                        match source.next(POLL) {
                            Ok(None) => continue,
                            Ok(Some(e)) => break Ok(e),
                            Err(e) => break Err(e),
                        }
                    };
                    let failed = event.is_err();
                    if tx.send(event).is_err() || failed {
                        return;
                    }
                }
            })
            .expect("spawn terminal input reader");
        let _ = ask.send(());
        Input {
            events,
            ask,
            cancel,
            thread: Some(thread),
        }
    }

    /// Asks for the event after the one just received.
    pub fn more(&self) {
        let _ = self.ask.try_send(());
    }
}

impl Drop for Input {
    fn drop(&mut self) {
        self.cancel.cancel();
        // Unblocks a send into a full channel.
        while self.events.try_recv().is_ok() {}
        if let Some(t) = self.thread.take() {
            crate::cancel::join_within(t, STOP_WAIT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::Script;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use std::time::Instant;

    fn key(c: char) -> ct::Event {
        ct::Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
    }

    #[test]
    fn events_arrive_in_order_and_stop_is_prompt() {
        let input = Input::spawn(
            Script(vec![Ok(Some(key('a'))), Ok(None), Ok(Some(key('b')))].into()),
            &Cancel::new(),
        );
        let got: Vec<_> = (0..2)
            .map(|_| {
                let e = input.events.recv().unwrap().unwrap();
                input.more();
                e
            })
            .collect();
        assert_eq!(got, vec![key('a'), key('b')]);
        let t = Instant::now();
        drop(input);
        assert!(
            t.elapsed() < POLL * 3,
            "input thread took {:?}",
            t.elapsed()
        );
    }

    #[test]
    fn a_read_error_is_the_last_event() {
        let input = Input::spawn(
            Script(vec![Err(std::io::ErrorKind::UnexpectedEof.into())].into()),
            &Cancel::new(),
        );
        assert!(input.events.recv().unwrap().is_err());
        // The thread ended and dropped its sender.
        assert!(input.events.recv().is_err());
    }

    #[test]
    fn reads_nothing_more_until_asked() {
        let input = Input::spawn(
            Script(vec![Ok(Some(key('q'))), Ok(Some(key('x')))].into()),
            &Cancel::new(),
        );
        assert_eq!(input.events.recv().unwrap().unwrap(), key('q'));
        std::thread::sleep(POLL * 2);
        assert!(
            input.events.try_recv().is_err(),
            "read a key nobody asked for"
        );
        input.more();
        assert_eq!(input.events.recv().unwrap().unwrap(), key('x'));
        let t = Instant::now();
        drop(input);
        assert!(t.elapsed() < Duration::from_secs(1));
    }
}
