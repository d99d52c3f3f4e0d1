//! The viewing side of the compact stream: one connection per remote (an HTTP request to a
//! serve, or `ssh … gbwatch relay`), demultiplexed into the newest frame of every remote
//! source, reconnected with backoff when it drops. Each remote source is a feed
//! ([`StreamEnvSource`]).

use super::codec::FrameDecoder;
use crate::source::{Poll, RawFrame, Source, SourceError};
use crate::stream::{Message, Request, StreamError, StreamParser};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Longest wait between reconnection attempts (the wait doubles from 200 ms).
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Why a connection could not be made or ended.
#[derive(Debug, Clone)]
pub struct ConnectError {
    /// One line for the remote's feeds.
    pub reason: String,
    /// Offline (the remote may come back) rather than an error (something to fix there).
    pub offline: bool,
}

impl ConnectError {
    /// A network problem: the feeds show offline.
    pub fn offline(reason: impl Into<String>) -> ConnectError {
        ConnectError {
            reason: reason.into(),
            offline: true,
        }
    }

    /// Something to fix: the feeds show the error.
    pub fn error(reason: impl Into<String>) -> ConnectError {
        ConnectError {
            reason: reason.into(),
            offline: false,
        }
    }
}

/// An open connection: the stream to read and where requests go.
pub struct Connection {
    /// The stream.
    pub read: Box<dyn Read + Send>,
    /// Where request lines go.
    pub write: Box<dyn Write + Send>,
    /// Turns the reason a connection ended into the line to show (ssh's stderr says why).
    pub explain: Box<dyn FnMut(ConnectError) -> ConnectError + Send>,
}

/// Opens connections to one remote.
pub trait Transport: Send {
    /// Connects (blocking, bounded by the transport's own timeouts).
    fn connect(&mut self) -> Result<Connection, ConnectError>;
}

/// Where the connection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// Connecting (or reconnecting after a backoff).
    Connecting,
    /// Frames can arrive.
    Live,
    /// The link is down, with why; retried.
    Offline(String),
    /// The other side refused the stream, with why.
    Error(String),
}

#[derive(Default)]
struct Newest {
    seq: u64,
    frame: Option<RawFrame>,
}

struct ClientState {
    link: LinkState,
    /// The remote's sources (name, online) of the last list; `None` before the first.
    sources: Option<Vec<(String, bool)>>,
    frames: HashMap<String, Newest>,
    /// The rate asked for each source, as last sent: the highest any of its readers wants.
    rates: HashMap<String, u32>,
    /// Each source's readers (feeds of any feed set of this process) and the rate each wants.
    readers: HashMap<String, HashMap<u64, u32>>,
    next_reader: u64,
    writer: Option<Box<dyn Write + Send>>,
    notice: Option<String>,
    stop: bool,
    bytes: u64,
    decoded: u64,
}

/// One remote's stream, shared by its feeds.
pub struct StreamClient {
    state: Mutex<ClientState>,
    wake: Condvar,
}

impl std::fmt::Debug for StreamClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamClient")
            .field("link", &self.link())
            .finish_non_exhaustive()
    }
}

impl StreamClient {
    /// Starts connecting through `transport` on a thread of its own.
    pub fn start(name: &str, transport: Box<dyn Transport>) -> Arc<StreamClient> {
        let client = Arc::new(StreamClient {
            state: Mutex::new(ClientState {
                link: LinkState::Connecting,
                sources: None,
                frames: HashMap::new(),
                rates: HashMap::new(),
                readers: HashMap::new(),
                next_reader: 0,
                writer: None,
                notice: None,
                stop: false,
                bytes: 0,
                decoded: 0,
            }),
            wake: Condvar::new(),
        });
        let c = client.clone();
        // Detached: [`StreamClient::stop`] ends it at its next read or wait (a relay sends
        // something at least every two seconds); else it ends with the process.
        let spawned = std::thread::Builder::new()
            .name(format!("stream {name}"))
            .spawn(move || c.run(transport));
        if let Err(e) = spawned {
            client.state.lock().unwrap().link =
                LinkState::Error(format!("cannot start the stream thread: {e}"));
        }
        client
    }

    /// Where the connection stands.
    pub fn link(&self) -> LinkState {
        self.state.lock().unwrap().link.clone()
    }

    /// The remote's sources (name, online) as last listed; `None` before the first list.
    pub fn sources(&self) -> Option<Vec<(String, bool)>> {
        self.state.lock().unwrap().sources.clone()
    }

    /// Bytes received since start.
    pub fn bytes(&self) -> u64 {
        self.state.lock().unwrap().bytes
    }

    /// Frames decoded since start.
    pub fn frames(&self) -> u64 {
        self.state.lock().unwrap().decoded
    }

    /// The last notice the remote sent (a refused request), if any.
    pub fn notice(&self) -> Option<String> {
        self.state.lock().unwrap().notice.clone()
    }

    /// Waits up to `timeout` for the first source list or a failure.
    pub fn wait_listed(&self, timeout: Duration) {
        let st = self.state.lock().unwrap();
        let _ = self
            .wake
            .wait_timeout_while(st, timeout, |s| {
                s.sources.is_none() && matches!(s.link, LinkState::Connecting | LinkState::Live)
            })
            .unwrap();
    }

    /// A new reader of source `name`: it asks for no frames until [`Self::reader_rate`].
    fn add_reader(&self, name: &str) -> u64 {
        let mut st = self.state.lock().unwrap();
        st.next_reader += 1;
        let id = st.next_reader;
        st.readers
            .entry(name.to_string())
            .or_default()
            .insert(id, 0);
        id
    }

    /// Forgets reader `id` of `name`; the others' rate still holds.
    fn remove_reader(&self, name: &str, id: u64) {
        let fps = {
            let mut st = self.state.lock().unwrap();
            let Some(readers) = st.readers.get_mut(name) else {
                return;
            };
            readers.remove(&id);
            readers.values().copied().max().unwrap_or(0)
        };
        self.send_rate(name, fps);
    }

    /// Reader `id` of `name` wants `fps`; the remote is asked for the most any reader wants.
    fn reader_rate(&self, name: &str, id: u64, fps: u32) {
        let most = {
            let mut st = self.state.lock().unwrap();
            let readers = st.readers.entry(name.to_string()).or_default();
            readers.insert(id, fps);
            readers.values().copied().max().unwrap_or(0)
        };
        self.send_rate(name, most);
    }

    /// Asks for `name`'s frames at `fps` (0: none), sent when it changes. With readers
    /// ([`StreamEnvSource`]) the rate is theirs; this is for a client read directly.
    pub fn request_rate(&self, name: &str, fps: u32) {
        self.send_rate(name, fps);
    }

    fn send_rate(&self, name: &str, fps: u32) {
        let mut st = self.state.lock().unwrap();
        if st.rates.get(name) == Some(&fps) {
            return;
        }
        st.rates.insert(name.to_string(), fps);
        let line = Request::Rate(fps, vec![name.to_string()]).to_line();
        if let Some(w) = st.writer.as_mut() {
            let _ = w.write_all(line.as_bytes()).and_then(|_| w.flush());
        }
    }

    /// The newest frame of `name` if newer than `seen`: taken when one reader reads the
    /// source (no copy), copied when several do (feed sets of one process on one remote).
    fn take_newer(&self, name: &str, seen: u64) -> Option<(u64, RawFrame)> {
        let mut st = self.state.lock().unwrap();
        let shared = st.readers.get(name).is_some_and(|r| r.len() > 1);
        let n = st.frames.get_mut(name).filter(|n| n.seq > seen)?;
        let frame = if shared {
            n.frame.clone()?
        } else {
            n.frame.take()?
        };
        Some((n.seq, frame))
    }

    fn stopped(&self) -> bool {
        self.state.lock().unwrap().stop
    }

    /// Stops the connection thread (it ends at its next read or wait).
    pub fn stop(&self) {
        self.state.lock().unwrap().stop = true;
        self.wake.notify_all();
    }

    fn set_link(&self, link: LinkState) {
        let mut st = self.state.lock().unwrap();
        st.link = link;
        if !matches!(st.link, LinkState::Live) {
            st.writer = None;
        }
        drop(st);
        self.wake.notify_all();
    }

    fn run(self: Arc<StreamClient>, mut transport: Box<dyn Transport>) {
        let first = Duration::from_millis(200);
        let mut backoff = first;
        while !self.stopped() {
            let problem = match transport.connect() {
                Ok(conn) => {
                    let (problem, frames) = self.read_connection(conn);
                    if frames > 0 {
                        backoff = first;
                    }
                    problem
                }
                Err(e) => e,
            };
            self.set_link(if problem.offline {
                LinkState::Offline(problem.reason)
            } else {
                LinkState::Error(problem.reason)
            });
            let st = self.state.lock().unwrap();
            let (st, _) = self
                .wake
                .wait_timeout_while(st, backoff, |s| !s.stop)
                .unwrap();
            drop(st);
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Reads one connection until it ends; returns why and how many frames it brought.
    fn read_connection(&self, mut conn: Connection) -> (ConnectError, u64) {
        {
            let mut st = self.state.lock().unwrap();
            // A new connection starts from the viewer's current wishes.
            let mut lines = String::new();
            for (name, fps) in &st.rates {
                lines.push_str(&Request::Rate(*fps, vec![name.clone()]).to_line());
            }
            let _ = conn
                .write
                .write_all(lines.as_bytes())
                .and_then(|_| conn.write.flush());
            st.writer = Some(conn.write);
        }
        let mut parser = StreamParser::new();
        let mut decoders: HashMap<u16, FrameDecoder> = HashMap::new();
        let mut names: HashMap<u16, String> = HashMap::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut messages = Vec::new();
        let mut frames = 0;
        let mut live = false;
        loop {
            if self.stopped() {
                return (ConnectError::offline("closed"), frames);
            }
            let n = match conn.read.read(&mut buf) {
                Ok(0) => {
                    return (
                        (conn.explain)(ConnectError::offline("connection closed")),
                        frames,
                    )
                }
                Ok(n) => n,
                Err(e) => {
                    let why = ConnectError::offline(format!("connection broken: {e}"));
                    return ((conn.explain)(why), frames);
                }
            };
            self.state.lock().unwrap().bytes += n as u64;
            if let Err(e) = parser.push(&buf[..n], &mut messages) {
                let err = match e {
                    StreamError::Magic => ConnectError::error(
                        "the remote answered with something that is not a gbwatch stream",
                    ),
                    e => ConnectError::error(e.to_string()),
                };
                return ((conn.explain)(err), frames);
            }
            if !live {
                live = true;
                self.set_link(LinkState::Live);
            }
            for m in messages.drain(..) {
                frames += self.handle(m, &mut decoders, &mut names);
            }
        }
    }

    /// Applies one message; returns 1 for a frame delivered.
    fn handle(
        &self,
        message: Message,
        decoders: &mut HashMap<u16, FrameDecoder>,
        names: &mut HashMap<u16, String>,
    ) -> u64 {
        match message {
            Message::Sources(list) => {
                names.clear();
                names.extend(list.iter().map(|s| (s.id, s.name.clone())));
                let mut st = self.state.lock().unwrap();
                st.sources = Some(list.into_iter().map(|s| (s.name, s.online)).collect());
                drop(st);
                self.wake.notify_all();
                0
            }
            Message::Notice(text) => {
                self.state.lock().unwrap().notice = Some(text);
                0
            }
            Message::Clock(_) => 0,
            Message::Frame { id, data, .. } => {
                let Some(name) = names.get(&id) else { return 0 };
                let decoder = decoders.entry(id).or_default();
                match decoder.decode(&data) {
                    Ok(Some(frame)) => {
                        let mut st = self.state.lock().unwrap();
                        st.decoded += 1;
                        let newest = st.frames.entry(name.clone()).or_default();
                        newest.seq += 1;
                        newest.frame = Some(frame);
                        1
                    }
                    Ok(None) => 0,
                    Err(e) => {
                        self.state.lock().unwrap().notice = Some(format!("{name}: {e}"));
                        decoders.remove(&id);
                        0
                    }
                }
            }
        }
    }
}

/// One source of a remote stream as a feed; retired when the remote no longer lists it.
pub struct StreamEnvSource {
    name: String,
    env: String,
    client: Arc<StreamClient>,
    seen: u64,
    /// This feed among the source's readers.
    reader: u64,
}

impl StreamEnvSource {
    /// The feed `name` showing remote source `env` of `client`.
    pub fn new(name: String, client: Arc<StreamClient>, env: String) -> StreamEnvSource {
        let reader = client.add_reader(&env);
        StreamEnvSource {
            name,
            env,
            client,
            seen: 0,
            reader,
        }
    }
}

impl Drop for StreamEnvSource {
    fn drop(&mut self) {
        self.client.remove_reader(&self.env, self.reader);
    }
}

impl Source for StreamEnvSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn poll(&mut self) -> Result<Poll, SourceError> {
        if let Some((seq, frame)) = self.client.take_newer(&self.env, self.seen) {
            self.seen = seq;
            return Ok(Poll::Frame(frame));
        }
        match self.client.link() {
            LinkState::Offline(reason) => Ok(Poll::Offline(reason)),
            LinkState::Error(e) => Err(SourceError::Other(e)),
            LinkState::Connecting => Ok(Poll::Nothing),
            LinkState::Live => {
                let listed = self.client.sources();
                match listed
                    .as_ref()
                    .and_then(|l| l.iter().find(|(n, _)| *n == self.env))
                {
                    None if listed.is_some() => Ok(Poll::Gone),
                    _ => Ok(Poll::Nothing),
                }
            }
        }
    }

    fn set_wanted_fps(&mut self, fps: u32) {
        self.client.reader_rate(&self.env, self.reader, fps);
    }
}
