//! `/api/stream`: the compact stream of every source (src/stream/FORMAT.md) over one
//! connection; the viewer's requests come back on the same connection.

use super::http::Conn;
use super::App;
use std::io::{self, BufReader, Read, Write};
use std::sync::atomic::Ordering;

/// The Content-Type of the compact stream.
pub const CONTENT_TYPE: &str = "application/x-gbwatch-stream";

/// Streams every source to the client until it leaves or the server stops.
pub fn stream(app: &App, conn: &mut Conn, fps: u32, head_only: bool) -> io::Result<()> {
    let _ = conn.stream.set_nodelay(true);
    let _ = conn
        .stream
        .set_write_timeout(Some(super::mjpeg::WRITE_TIMEOUT));
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {CONTENT_TYPE}\r\nCache-Control: no-cache, no-store\r\n\
         Connection: close\r\nX-Accel-Buffering: no\r\nX-Gbwatch-Stream-Version: {}\r\n\r\n",
        crate::stream::VERSION
    );
    conn.stream.write_all(head.as_bytes())?;
    if head_only {
        return Ok(());
    }
    let requests = conn.stream.try_clone()?;
    requests.set_read_timeout(None)?;
    let early = io::Cursor::new(conn.take_buffered());
    let requests = Box::new(BufReader::new(early.chain(requests)));
    app.stream_clients.fetch_add(1, Ordering::Relaxed);
    let r = crate::serve::stream(
        &app.latest,
        &mut conn.stream,
        requests,
        fps,
        &app.cancel,
        true,
    );
    app.stream_clients.fetch_sub(1, Ordering::Relaxed);
    r.map(|_| ())
}
