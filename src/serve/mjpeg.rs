//! `multipart/x-mixed-replace` MJPEG: each client gets the newest frame when it is ready for
//! one, so a slow client skips frames instead of queueing them.

use super::latest::Latest;
use super::App;
use std::io::{self, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The multipart boundary.
pub const BOUNDARY: &str = "gbwatchframe";
/// A client whose socket accepts nothing for this long is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Counts a stream client for as long as it lives.
struct ClientGuard<'a>(&'a App);

impl Drop for ClientGuard<'_> {
    fn drop(&mut self) {
        self.0.stream_clients.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Streams `latest` to `out` until the client goes away or the server stops.
pub fn stream(app: &App, latest: &Latest, out: &mut TcpStream, head_only: bool) -> io::Result<()> {
    let _ = out.set_nodelay(true);
    let _ = out.set_write_timeout(Some(WRITE_TIMEOUT));
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary={BOUNDARY}\r\n\
         Cache-Control: no-cache, no-store, must-revalidate\r\nPragma: no-cache\r\n\
         Expires: 0\r\nConnection: close\r\nX-Accel-Buffering: no\r\n\r\n"
    );
    out.write_all(head.as_bytes())?;
    if head_only {
        return Ok(());
    }
    app.stream_clients.fetch_add(1, Ordering::Relaxed);
    let _guard = ClientGuard(app);
    let mut sent_seq = 0u64;
    let mut last_sent: Option<Instant> = None;
    while !app.cancel.is_cancelled() {
        if latest
            .wait_newer(sent_seq, Duration::from_millis(500))
            .is_none()
        {
            continue;
        }
        let settings = app.set.settings.get();
        // Never faster than the preset's fps; a frame that came early waits, and whatever is
        // newest when it is due goes out.
        let period = Duration::from_secs_f64(1.0 / settings.fps().max(1) as f64);
        if let Some(t) = last_sent {
            let due = t + period.mul_f64(0.5);
            let now = Instant::now();
            if now < due {
                std::thread::sleep(due - now);
            }
        }
        let Some(enc) = latest
            .jpeg(settings)
            .map_err(|e| io::Error::other(e.to_string()))?
        else {
            continue;
        };
        let age_ns = enc.frame.age_ns(crate::clock::monotonic_ns());
        let ts = enc.frame.published_ns.unwrap_or(enc.frame.captured_ns);
        let part = format!(
            "--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\
             X-Timestamp: {}.{:06}\r\nX-Frame-Index: {}\r\nX-Frame-Age-Us: {}\r\n\r\n",
            enc.jpeg.jpeg.len(),
            ts / 1_000_000_000,
            (ts % 1_000_000_000) / 1000,
            enc.frame.frame_index,
            age_ns / 1000
        );
        let mut buf = Vec::with_capacity(part.len() + enc.jpeg.jpeg.len() + 2);
        buf.extend_from_slice(part.as_bytes());
        buf.extend_from_slice(&enc.jpeg.jpeg);
        buf.extend_from_slice(b"\r\n");
        out.write_all(&buf)?;
        app.record_sent(age_ns);
        sent_seq = enc.seq;
        last_sent = Some(Instant::now());
    }
    Ok(())
}
