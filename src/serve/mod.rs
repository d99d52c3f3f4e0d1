//! `gbwatch serve`: the original dashboard's HTTP endpoints, µStreamer-style `/stream`,
//! `/snapshot` and `/state`, and a self-contained dashboard page.
//!
//! One thread per connection (bounded), blocking sockets, no async runtime: a handful of
//! viewers is the use case, and a blocked client then only ever blocks its own thread.

mod clip;
mod compact;
mod http;
mod latest;
mod map;
mod mjpeg;
mod page;
mod routes;
pub mod stream;

pub use http::{
    decode_path, parse_request, percent_decode, Request, MAX_BODY, MAX_HEADERS, MAX_HEADER_BYTES,
    MAX_REQUEST_LINE,
};
pub use latest::{Encoded, Latest, LatestSet};
pub use mjpeg::BOUNDARY;
pub use stream::{stream, SendTotals};

use crate::cancel::{join_within, Cancel};
use crate::encode::Backend;
use crate::pipeline::{FeedSet, Percentiles, WindowedHistogram};
use http::{Conn, ReadError, Response};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most connections served at once. Over it, the oldest connection still sending (or idly
/// waiting to send) a request head is closed to make room; when every one is busy (streams,
/// answers on their way), the new connection gets 503 at once.
pub const MAX_CONNECTIONS: usize = 64;

/// How long [`Server::stop`] waits for each kind of server thread (accept loop with the
/// connections it started, distributors); one still running then ends with the process.
pub const STOP_WAIT: Duration = Duration::from_secs(2);

/// The open connections, oldest first, and which of them are between requests.
#[derive(Debug, Default)]
struct Conns {
    next_id: u64,
    open: std::collections::BTreeMap<u64, ConnEntry>,
}

#[derive(Debug)]
struct ConnEntry {
    /// A handle to shut the connection down from the accept thread.
    stream: TcpStream,
    /// Reading a request head (or idle before one): may be closed to make room.
    in_head: bool,
}

impl Conns {
    /// Makes room for a new connection, closing the oldest one still in its request head
    /// when [`MAX_CONNECTIONS`] are open; `None` when every open one is past its head.
    fn admit(&mut self, stream: &TcpStream) -> Option<u64> {
        if self.open.len() >= MAX_CONNECTIONS {
            let oldest = self
                .open
                .iter()
                .find(|(_, c)| c.in_head)
                .map(|(id, _)| *id)?;
            if let Some(c) = self.open.remove(&oldest) {
                let _ = c.stream.shutdown(std::net::Shutdown::Both);
            }
        }
        let handle = stream.try_clone().ok()?;
        let id = self.next_id;
        self.next_id += 1;
        self.open.insert(
            id,
            ConnEntry {
                stream: handle,
                in_head: true,
            },
        );
        Some(id)
    }

    /// Shuts every open connection down, so its thread's next read or write fails at once.
    fn shut_all(&mut self) {
        for c in std::mem::take(&mut self.open).into_values() {
            let _ = c.stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// What every connection thread shares.
#[derive(Debug)]
pub struct App {
    /// The feeds served.
    pub set: FeedSet,
    /// Every feed's newest frame and its JPEG.
    pub latest: LatestSet,
    /// The JPEG encoder.
    pub backend: Backend,
    /// Stops the server's own threads (accept loop, streams, distributors), not the feeds.
    pub cancel: Cancel,
    /// Open `/stream` connections.
    pub stream_clients: AtomicUsize,
    conns: Mutex<Conns>,
    sent_age: Mutex<WindowedHistogram>,
    sent: AtomicUsize,
}

impl App {
    /// Records the age of a frame at the moment it went out to a stream client.
    pub fn record_sent(&self, age_ns: u64) {
        self.sent.fetch_add(1, Ordering::Relaxed);
        self.sent_age
            .lock()
            .unwrap()
            .record(Instant::now(), age_ns / 1000);
    }

    /// Frame age at send over the last 10 s.
    pub fn sent_age(&self) -> Percentiles {
        self.sent_age.lock().unwrap().percentiles(Instant::now())
    }

    /// Stream parts sent since start.
    pub fn parts_sent(&self) -> usize {
        self.sent.load(Ordering::Relaxed)
    }
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    /// What the server's threads share.
    pub app: Arc<App>,
    accept: std::thread::JoinHandle<()>,
    distributor: std::thread::JoinHandle<()>,
}

impl Server {
    /// Serves `set` on an already bound listener, from a background thread, until `parent`
    /// or [`Server::stop`].
    pub fn start(
        listener: TcpListener,
        set: FeedSet,
        backend: Backend,
        parent: &Cancel,
    ) -> std::io::Result<Server> {
        let addr = listener.local_addr()?;
        let cancel = parent.child();
        let (latest, distributor) = LatestSet::start(set.clone(), backend, cancel.clone());
        let app = Arc::new(App {
            latest,
            set,
            backend,
            cancel,
            stream_clients: AtomicUsize::new(0),
            conns: Mutex::new(Conns::default()),
            sent_age: Mutex::new(WindowedHistogram::default()),
            sent: AtomicUsize::new(0),
        });
        let a = app.clone();
        let accept = std::thread::Builder::new()
            .name("serve-accept".into())
            .spawn(move || accept_loop(listener, a))?;
        Ok(Server {
            addr,
            app,
            accept,
            distributor,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Blocks until the server stops (it only stops on [`Server::stop`]).
    pub fn wait(self) {
        let _ = self.accept.join();
        let _ = self.distributor.join();
    }

    /// Stops accepting, closes the connections and ends the streams; waits up to
    /// [`STOP_WAIT`] for the accept loop (which joins the connections) and as long for the
    /// distributors.
    pub fn stop(self) {
        self.app.cancel.cancel();
        // Wake the accept loop with a connection of our own.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        join_within(self.accept, STOP_WAIT);
        join_within(self.distributor, STOP_WAIT);
    }
}

/// Frees the connection's place when its thread ends (unless it was closed to make room).
struct ConnGuard(Arc<App>, u64);

impl ConnGuard {
    /// Marks whether the connection is reading a request head (and may be closed for room).
    fn in_head(&self, yes: bool) {
        if let Some(c) = self.0.conns.lock().unwrap().open.get_mut(&self.1) {
            c.in_head = yes;
        }
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.0.conns.lock().unwrap().open.remove(&self.1);
    }
}

/// Accepts connections; it never waits on a client, so a flood of slow ones cannot stall it.
/// Once cancelled, it closes the open connections and joins their threads.
fn accept_loop(listener: TcpListener, app: Arc<App>) {
    let mut threads = Vec::new();
    for stream in listener.incoming() {
        threads.retain(|t: &std::thread::JoinHandle<()>| !t.is_finished());
        if app.cancel.is_cancelled() {
            break;
        }
        let Ok(stream) = stream else {
            // EMFILE and friends: back off instead of spinning.
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        let admitted = app.conns.lock().unwrap().admit(&stream);
        let Some(id) = admitted else {
            let busy = Response::text(
                503,
                format!("too many connections (at most {MAX_CONNECTIONS})"),
            )
            .with("Retry-After", "1");
            Conn::new(stream).refuse_at_once(&busy);
            continue;
        };
        let guard = ConnGuard(app.clone(), id);
        let spawned = std::thread::Builder::new()
            .name("serve-conn".into())
            .stack_size(256 * 1024)
            .spawn(move || serve_connection(&guard, stream));
        match spawned {
            Ok(t) => threads.push(t),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    app.conns.lock().unwrap().shut_all();
    let deadline = Instant::now() + STOP_WAIT;
    for t in threads {
        join_within(t, deadline.saturating_duration_since(Instant::now()));
    }
}

/// Answers requests on one connection until it closes or turns into a stream.
fn serve_connection(guard: &ConnGuard, stream: TcpStream) {
    let app = &*guard.0;
    let _ = stream.set_write_timeout(Some(mjpeg::WRITE_TIMEOUT));
    let mut conn = Conn::new(stream);
    let mut first = true;
    loop {
        guard.in_head(true);
        let req = match conn.read_request(first) {
            Ok(r) => r,
            Err(ReadError::Closed) => return,
            Err(ReadError::Reject(resp)) => return conn.reject_and_close(&resp),
        };
        guard.in_head(false);
        first = false;
        let head_only = req.method == "HEAD";
        match routes::route(app, &req) {
            routes::Reply::Full(resp) => {
                let keep = req.keep_alive && !app.cancel.is_cancelled();
                if resp.write_to(&mut conn.stream, keep, head_only).is_err() || !keep {
                    return;
                }
            }
            routes::Reply::Stream(latest) => {
                let _ = mjpeg::stream(app, &latest, &mut conn.stream, head_only);
                return;
            }
            routes::Reply::Compact(fps) => {
                let _ = compact::stream(app, &mut conn, fps, head_only);
                return;
            }
        }
    }
}
