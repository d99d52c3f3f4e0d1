//! A program in a pseudo-terminal of its own: what it writes is collected (or, to play a
//! terminal that stopped reading, left unread), keys are typed into it.

use super::Proc;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A running program whose controlling terminal is a new pty.
pub struct Pty {
    /// The program.
    pub child: Proc,
    out: Arc<Mutex<Vec<u8>>>,
    paused: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
    keyboard: std::fs::File,
    slave: Option<OwnedFd>,
}

impl Pty {
    /// Starts `cmd` in a `cols`×`rows` pty; standard input, output and error are the pty.
    pub fn spawn(mut cmd: Command, cols: u16, rows: u16) -> Pty {
        let (mut master, mut slave) = (-1, -1);
        let size = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty fills in two new descriptors, which are owned from here on.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors were just created and nothing else owns them.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        assert!(
            cooked(&slave),
            "a new terminal is in canonical mode with echo"
        );
        cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave.try_clone().unwrap()));
        // SAFETY: setsid and ioctl are async-signal-safe. The pty becomes the controlling
        // terminal, as a login shell's is (crossterm opens /dev/tty for the window size).
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = Proc(cmd.spawn().expect("start the program in a pty"));
        drop(cmd);
        let out = Arc::new(Mutex::new(Vec::new()));
        let paused = Arc::new(AtomicBool::new(false));
        let reader = {
            let (out, paused) = (out.clone(), paused.clone());
            let mut master = std::fs::File::from(master.try_clone().unwrap());
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                loop {
                    if paused.load(Ordering::Acquire) {
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    }
                    // Ends with EIO once no process holds the slave side any more.
                    match master.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => out.lock().unwrap().extend_from_slice(&buf[..n]),
                    }
                }
            })
        };
        Pty {
            child,
            out,
            paused,
            reader: Some(reader),
            keyboard: std::fs::File::from(master),
            slave: Some(slave),
        }
    }

    /// Everything the program wrote so far.
    pub fn output(&self) -> Vec<u8> {
        self.out.lock().unwrap().clone()
    }

    /// Resizes the terminal to `cols`x`rows` cells (the program gets SIGWINCH).
    pub fn resize(&self, cols: u16, rows: u16) {
        let size = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads one winsize, which lives across the call.
        let rc = unsafe { libc::ioctl(self.keyboard.as_raw_fd(), libc::TIOCSWINSZ, &size) };
        assert_eq!(rc, 0, "TIOCSWINSZ: {}", std::io::Error::last_os_error());
    }

    /// Types `bytes` as if on the keyboard.
    pub fn type_bytes(&mut self, bytes: &[u8]) {
        self.keyboard.write_all(bytes).unwrap();
    }

    /// Stops (or resumes) reading the program's output, as a stalled link would: once the
    /// pty's buffer is full, the program's writes block.
    pub fn pause_reading(&self, paused: bool) {
        self.paused.store(paused, Ordering::Release);
    }

    /// The exit status, if the program has ended.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.0.try_wait().unwrap()
    }

    /// Whether the terminal is in canonical mode with echo, as a shell leaves it.
    pub fn cooked(&self) -> bool {
        self.slave.as_ref().is_some_and(cooked)
    }

    /// After the program ended: closes the pty and returns all it wrote.
    pub fn finish(mut self) -> Vec<u8> {
        self.paused.store(false, Ordering::Release);
        drop(self.slave.take());
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
        std::mem::take(&mut *self.out.lock().unwrap())
    }
}

fn cooked(fd: &OwnedFd) -> bool {
    // SAFETY: a termios filled in by tcgetattr on a descriptor the caller owns.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        libc::tcgetattr(fd.as_raw_fd(), &mut t) == 0
            && t.c_lflag & libc::ICANON != 0
            && t.c_lflag & libc::ECHO != 0
    }
}
