//! One way to stop: `watch`, `serve`, `relay` and `dump` on a live publisher each end within
//! 1 s of SIGTERM, with status 143, and with no thread of theirs still running at exit
//! (the binary names the threads alive at exit in `$GBWATCH_THREADS_AT_EXIT`).

use crate::common;

use common::pty::Pty;
use common::{eventually, gbwatch, Scratch};
use gbwatch::frame::PixelFormat;
use gbwatch::slot::SlotWriter;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Threads a command may leave behind, each blocked in a read no token reaches, and why.
const LEFT_TO_DIE: &[(&str, &str)] = &[(
    "stream-requests",
    "relay reads the viewer's requests from standard input until it closes",
)];

/// A publisher writing a changing frame every 20 ms until dropped.
struct Publisher {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Publisher {
    fn start(dir: &Path) -> Publisher {
        let stop = Arc::new(AtomicBool::new(false));
        let mut w = SlotWriter::create(dir, "env-00", 160, 144, PixelFormat::Rgba).unwrap();
        let thread = std::thread::spawn({
            let stop = stop.clone();
            move || {
                let mut n = 0u8;
                while !stop.load(Ordering::Relaxed) {
                    n = n.wrapping_add(1);
                    w.publish(&vec![n; 160 * 144 * 4], n as u64).unwrap();
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        });
        Publisher {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn command(args: &[&str], dir: &Path, threads: &Path) -> Command {
    let mut cmd = gbwatch();
    cmd.args(args)
        .arg(dir)
        .env("GBWATCH_THREADS_AT_EXIT", threads)
        .env("TERM", "xterm-256color");
    cmd
}

fn sigterm(pid: u32) -> Instant {
    // SAFETY: kill(2) on a child this test started and has not reaped.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGTERM) }, 0);
    Instant::now()
}

/// Waits for `child` after SIGTERM: at most 1 s, status 143.
fn ended_in_a_second(what: &str, child: &mut Child, sent: Instant) {
    let status = common::within(Duration::from_secs(5), || child.try_wait().unwrap())
        .unwrap_or_else(|| panic!("{what} still runs 5 s after SIGTERM"));
    let took = sent.elapsed();
    assert!(
        took <= Duration::from_secs(1),
        "{what} took {took:?} to end after SIGTERM"
    );
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.code(), Some(143), "{what}: {status:?}");
    let _ = status.signal();
}

/// The threads the command left running at exit, minus those documented as left to die.
fn assert_no_threads_left(what: &str, threads: &Path) {
    let text = std::fs::read_to_string(threads)
        .unwrap_or_else(|e| panic!("{what} wrote no thread list ({e})"));
    let left: Vec<&str> = text
        .lines()
        .filter(|l| !l.is_empty())
        .filter(|l| !LEFT_TO_DIE.iter().any(|(name, _)| l == name))
        .collect();
    assert!(
        left.is_empty(),
        "{what} left threads running at exit: {left:?}"
    );
}

fn setup(tag: &str) -> (Scratch, Publisher, PathBuf) {
    let dir = Scratch::new(tag);
    let publisher = Publisher::start(dir.path());
    let threads = dir.path().join("threads-at-exit");
    (dir, publisher, threads)
}

#[test]
fn watch_ends_at_sigterm_with_its_threads() {
    let _alone = crate::PROCESS.lock().unwrap_or_else(|e| e.into_inner());
    let (dir, _publisher, threads) = setup("shutdown-watch");
    let mut pty = Pty::spawn(command(&["watch"], dir.path(), &threads), 100, 40);
    eventually("watch to draw frames", Duration::from_secs(60), || {
        (pty.output().len() > 20_000).then_some(())
    });
    let sent = sigterm(pty.child.0.id());
    let status = common::within(Duration::from_secs(5), || pty.try_wait())
        .expect("watch still runs 5 s after SIGTERM");
    assert!(
        sent.elapsed() <= Duration::from_secs(1),
        "{:?}",
        sent.elapsed()
    );
    assert_eq!(status.code(), Some(143), "{status:?}");
    assert_no_threads_left("watch", &threads);
}

#[test]
fn serve_ends_at_sigterm_with_its_threads() {
    let _alone = crate::PROCESS.lock().unwrap_or_else(|e| e.into_inner());
    let (dir, _publisher, threads) = setup("shutdown-serve");
    let mut child = command(&["serve", "--bind", "127.0.0.1:0"], dir.path(), &threads)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let addr = eventually("serve to listen", Duration::from_secs(60), || {
        let mut line = String::new();
        err.read_line(&mut line).ok()?;
        line.trim()
            .strip_prefix("gbwatch: serving on http://")
            .map(|r| r.split('/').next().unwrap().to_string())
    });
    // A client in the middle of a stream when the signal comes.
    let mut client = std::net::TcpStream::connect(&addr).unwrap();
    std::io::Write::write_all(&mut client, b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut first = [0u8; 4096];
    client
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let n = client.read(&mut first).unwrap();
    assert!(n > 0, "the stream started");
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    let sent = sigterm(child.id());
    ended_in_a_second("serve", &mut child, sent);
    assert_no_threads_left("serve", &threads);
}

#[test]
fn relay_ends_at_sigterm_with_its_threads() {
    let _alone = crate::PROCESS.lock().unwrap_or_else(|e| e.into_inner());
    let (dir, _publisher, threads) = setup("shutdown-relay");
    let mut child = command(&["relay", "--fps", "10"], dir.path(), &threads)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _requests = child.stdin.take().unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut got = 0;
    let mut buf = [0u8; 65536];
    eventually("relay to stream frames", Duration::from_secs(60), || {
        got += out.read(&mut buf).ok()?;
        (got > 10_000).then_some(())
    });
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let sent = sigterm(child.id());
    ended_in_a_second("relay", &mut child, sent);
    assert_no_threads_left("relay", &threads);
}

#[test]
fn dump_ends_at_sigterm_with_its_threads() {
    let _alone = crate::PROCESS.lock().unwrap_or_else(|e| e.into_inner());
    let (dir, _publisher, threads) = setup("shutdown-dump");
    let out = dir.path().join("jpegs");
    let mut child = command(
        &["dump", "-o", out.to_str().unwrap(), "--keep", "5"],
        dir.path(),
        &threads,
    )
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    eventually("dump to write JPEGs", Duration::from_secs(60), || {
        (std::fs::read_dir(&out).ok()?.count() >= 2).then_some(())
    });
    let sent = sigterm(child.id());
    ended_in_a_second("dump", &mut child, sent);
    assert_no_threads_left("dump", &threads);
}
