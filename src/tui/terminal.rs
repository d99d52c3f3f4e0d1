//! The terminal guard: raw mode and the alternate screen on, and always off again — on
//! drop, on panic (the previous panic hook still runs) and on SIGTERM/SIGHUP/SIGINT (the
//! draw loop sees the flag and leaves through the guard).

use std::io::Write;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;
use std::time::Duration;

/// Begin and end of a synchronized update (DEC mode 2026): the terminal shows the frame
/// only once it is complete.
pub const SYNC_BEGIN: &[u8] = b"\x1b[?2026h";
/// Ends a synchronized update (see [`SYNC_BEGIN`]).
pub const SYNC_END: &[u8] = b"\x1b[?2026l";

static ACTIVE: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();

/// Clicks reported, in SGR form, without motion: the terminal's own selection by drag is
/// lost only while this is on (the monitor turns it on for the map view alone).
pub const MOUSE_ON: &[u8] = b"\x1b[?1000h\x1b[?1006h";
/// Clicks no longer reported (also part of restoring the terminal).
pub const MOUSE_OFF: &[u8] = b"\x1b[?1000l\x1b[?1006l";

/// How long restoring waits for a terminal that may have stopped reading.
const RESTORE_WAIT: Duration = Duration::from_millis(300);

/// Puts the terminal back: ends any open synchronized update, resets colours, shows the
/// cursor, leaves the alternate screen and raw mode. Safe to call more than once. The
/// escape codes go out on a thread of their own, waited for at most 300 ms: a
/// terminal that stopped reading never holds up the exit.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut codes = Vec::new();
    codes.extend_from_slice(SYNC_END);
    codes.extend_from_slice(b"\x1b[0m");
    codes.extend_from_slice(MOUSE_OFF);
    let _ = crossterm::queue!(
        codes,
        crossterm::cursor::Show,
        crossterm::terminal::LeaveAlternateScreen
    );
    let (done, finished) = crossbeam_channel::bounded(1);
    let writer = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .map(std::fs::File::from)
        .and_then(|out| {
            std::thread::Builder::new()
                .name("terminal restore".into())
                .spawn(move || {
                    let mut out = out;
                    let _ = out.write_all(&codes).and_then(|_| out.flush());
                    let _ = done.send(());
                })
        });
    if writer.is_ok() {
        // Left behind when the terminal does not take the codes: it ends with the process.
        let _ = finished.recv_timeout(RESTORE_WAIT);
    }
    let _ = crossterm::terminal::disable_raw_mode();
}

/// Owns the terminal's raw/alternate-screen state while alive.
pub struct TerminalGuard {
    _private: (),
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen and installs the panic hook (once per
    /// process, chaining the previous one). Signals are the command's (`cmd::Shutdown`).
    pub fn enter() -> std::io::Result<TerminalGuard> {
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore();
                previous(info);
            }));
        });
        crossterm::terminal::enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let mut out = std::io::stdout();
        crossterm::execute!(
            out,
            crossterm::terminal::EnterAlternateScreen,
            crossterm::cursor::Hide,
            crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
        )?;
        Ok(TerminalGuard { _private: () })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restoring_a_terminal_never_taken_over_does_nothing_and_returns_at_once() {
        assert!(!ACTIVE.load(Ordering::SeqCst));
        let t = std::time::Instant::now();
        restore();
        restore();
        assert!(t.elapsed() < RESTORE_WAIT, "restore waited on a terminal");
        assert!(!ACTIVE.load(Ordering::SeqCst));
    }

    #[test]
    fn synchronized_updates_are_dec_mode_2026() {
        assert_eq!(SYNC_BEGIN, b"\x1b[?2026h");
        assert_eq!(SYNC_END, b"\x1b[?2026l");
    }
}
