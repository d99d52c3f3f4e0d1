//! A remote `gbwatch serve`, named by its base URL (`http://HOST:PORT`), expands into one
//! feed per source it serves, named `HOST:PORT/ENV` (or `LABEL/ENV` for `LABEL@URL`), and
//! follows the sources that appear and disappear there.
//!
//! One background thread per remote asks its `/api/sources` once a second; scans read the
//! newest answer and never wait on the network (except the very first, which waits for the
//! first answer so a command sees the remote's envs from the start). A server that has no
//! `/api/sources` (any other HTTP server) is one feed, as before.

use super::http::HttpUrl;
use super::stream::{ConnectError, Connection, StreamClient, StreamEnvSource, Transport};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How often a remote's source list is asked for.
const LIST_EVERY: Duration = Duration::from_secs(1);
/// A remote no scan asked about for this long stops being polled.
const FORGET_AFTER: Duration = Duration::from_secs(10);

/// What the newest answer to `/api/sources` said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    /// A gbwatch serve with these sources (in its order).
    Sources(Vec<String>),
    /// An HTTP server that is not a gbwatch serve: the URL is one source, as before.
    NotGbwatch,
    /// The server did not answer; the reason, one line.
    Unreachable(String),
}

/// One remote `gbwatch serve` and its newest source list.
#[derive(Debug)]
pub struct Remote {
    base: HttpUrl,
    state: Mutex<RemoteState>,
    /// The compact stream all its feeds' frames come over, opened with the first feed.
    stream: OnceLock<Arc<StreamClient>>,
}

#[derive(Debug)]
struct RemoteState {
    listing: Listing,
    /// The sources of the last successful answer, kept while the remote is unreachable so
    /// that its feeds stay (offline) instead of vanishing.
    last_sources: Option<Vec<String>>,
    last_asked: Instant,
}

fn registry() -> &'static Mutex<HashMap<String, Arc<Remote>>> {
    static REMOTES: OnceLock<Mutex<HashMap<String, Arc<Remote>>>> = OnceLock::new();
    REMOTES.get_or_init(Mutex::default)
}

impl Remote {
    /// The remote at `base`, asked once (waiting for its first answer) when it is new.
    pub fn get(base: &HttpUrl) -> Arc<Remote> {
        let key = base.as_str().to_string();
        if let Some(r) = registry().lock().unwrap().get(&key) {
            r.state.lock().unwrap().last_asked = Instant::now();
            return r.clone();
        }
        let listing = ask(base);
        let remote = Arc::new(Remote {
            base: base.clone(),
            state: Mutex::new(RemoteState {
                last_sources: match &listing {
                    Listing::Sources(s) => Some(s.clone()),
                    _ => None,
                },
                listing,
                last_asked: Instant::now(),
            }),
            stream: OnceLock::new(),
        });
        registry()
            .lock()
            .unwrap()
            .insert(key.clone(), remote.clone());
        let r = remote.clone();
        // Left to end with the process: it asks every LIST_EVERY and ends once no scan asked
        // for the remote in FORGET_AFTER (no token: the registry outlives any one feed set).
        let spawned = std::thread::Builder::new()
            .name(format!("remote {}", base.as_str()))
            .spawn(move || r.keep_asking(&key));
        if spawned.is_err() {
            registry().lock().unwrap().remove(base.as_str());
        }
        remote
    }

    fn keep_asking(self: Arc<Remote>, key: &str) {
        loop {
            std::thread::sleep(LIST_EVERY);
            if self.state.lock().unwrap().last_asked.elapsed() >= FORGET_AFTER {
                let mut map = registry().lock().unwrap();
                if map.get(key).is_some_and(|r| Arc::ptr_eq(r, &self)) {
                    map.remove(key);
                }
                if let Some(s) = self.stream.get() {
                    s.stop();
                }
                return;
            }
            let listing = ask(&self.base);
            let mut st = self.state.lock().unwrap();
            if let Listing::Sources(s) = &listing {
                st.last_sources = Some(s.clone());
            }
            st.listing = listing;
        }
    }

    /// The remote's compact stream (connecting the first time).
    pub fn stream(&self) -> Arc<StreamClient> {
        self.stream
            .get_or_init(|| {
                let transport = HttpStreamTransport {
                    base: self.base.clone(),
                };
                StreamClient::start(self.base.as_str(), Box::new(transport))
            })
            .clone()
    }

    /// The newest answer.
    pub fn listing(&self) -> Listing {
        self.state.lock().unwrap().listing.clone()
    }

    /// The sources to show now: the newest list, or the last one while the remote does not
    /// answer; `None` when it never answered as a gbwatch serve.
    pub fn sources(&self) -> Option<Vec<String>> {
        let st = self.state.lock().unwrap();
        match &st.listing {
            Listing::Sources(s) => Some(s.clone()),
            Listing::NotGbwatch => None,
            Listing::Unreachable(_) => st.last_sources.clone(),
        }
    }

    /// True when the remote answered and `env` is no longer among its sources.
    pub fn dropped(&self, env: &str) -> bool {
        matches!(&self.state.lock().unwrap().listing, Listing::Sources(s) if !s.iter().any(|n| n == env))
    }
}

/// Asks `base`'s `/api/sources` once.
fn ask(base: &HttpUrl) -> Listing {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(1)))
        .timeout_recv_response(Some(Duration::from_secs(2)))
        .timeout_recv_body(Some(Duration::from_secs(2)))
        .user_agent(concat!("gbwatch/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let url = format!("{}api/sources", base.as_str());
    let mut resp = match agent.get(&url).call() {
        Ok(r) => r,
        Err(e) => return Listing::Unreachable(super::http::network_reason(&e)),
    };
    if !resp.status().is_success() {
        return Listing::NotGbwatch;
    }
    let body = resp
        .body_mut()
        .with_config()
        .limit(4 * 1024 * 1024)
        .read_to_vec();
    match body {
        Ok(b) => parse_listing(&b).map_or(Listing::NotGbwatch, Listing::Sources),
        Err(e) => Listing::Unreachable(super::http::network_reason(&e)),
    }
}

/// The source names of a gbwatch `/api/sources` answer (sources that are gone left out);
/// `None` when the body is not one.
pub fn parse_listing(body: &[u8]) -> Option<Vec<String>> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let mut names = Vec::new();
    for entry in v.as_array()? {
        let name = entry.get("name")?.as_str()?;
        let state = entry.get("state")?.as_str()?;
        if state != "gone" {
            names.push(name.to_string());
        }
    }
    Some(names)
}

/// Opens the feed `name` of remote source `env`: its frames come over the remote's
/// compact stream.
pub fn open_env(name: String, remote: &Remote, env: String) -> StreamEnvSource {
    StreamEnvSource::new(name, remote.stream(), env)
}

/// The compact stream of a serve: `GET /api/stream`, then the viewer's requests on the
/// same connection.
pub struct HttpStreamTransport {
    base: HttpUrl,
}

impl HttpStreamTransport {
    /// Connects to the serve at `base` (`http://HOST:PORT/`).
    pub fn new(base: HttpUrl) -> HttpStreamTransport {
        HttpStreamTransport { base }
    }
}

/// How long the response head may take.
const HEAD_TIMEOUT: Duration = Duration::from_secs(3);
/// A stream silent this long (the sender repeats its list every 2 s) is dead.
const STALL_AFTER: Duration = Duration::from_secs(6);

impl Transport for HttpStreamTransport {
    fn connect(&mut self) -> Result<Connection, ConnectError> {
        let host = self.base.host();
        let addr = host
            .to_socket_addrs()
            .map_err(|_| ConnectError::offline("host not found"))?
            .next()
            .ok_or_else(|| ConnectError::offline("host not found"))?;
        let mut tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
            .map_err(|e| ConnectError::offline(super::http::io_reason(&e)))?;
        let _ = tcp.set_nodelay(true);
        let request = format!(
            "GET /api/stream?fps=0 HTTP/1.1\r\nHost: {host}\r\nUser-Agent: gbwatch/{}\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        let offline = |e: std::io::Error| ConnectError::offline(super::http::io_reason(&e));
        tcp.write_all(request.as_bytes()).map_err(offline)?;
        tcp.set_read_timeout(Some(HEAD_TIMEOUT)).map_err(offline)?;
        let head = read_head(&mut tcp)?;
        let status = head.split(' ').nth(1).unwrap_or("");
        if status != "200" {
            let line = head.lines().next().unwrap_or("").trim().to_string();
            return Err(ConnectError::error(format!(
                "{}api/stream answered {line:?}: not a gbwatch serve with the compact stream (install the same gbwatch there)",
                self.base.as_str()
            )));
        }
        tcp.set_read_timeout(Some(STALL_AFTER)).map_err(offline)?;
        let write = tcp.try_clone().map_err(offline)?;
        Ok(Connection {
            read: Box::new(tcp),
            write: Box::new(write),
            explain: Box::new(|e| e),
        })
    }
}

/// Reads a response head (up to the blank line, at most 16 KiB).
fn read_head(tcp: &mut TcpStream) -> Result<String, ConnectError> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return Err(ConnectError::error("response head larger than 16 KiB"));
        }
        match tcp.read(&mut byte) {
            Ok(0) => {
                return Err(ConnectError::offline(
                    "connection closed before the response",
                ))
            }
            Ok(_) => head.push(byte[0]),
            Err(e) => return Err(ConnectError::offline(super::http::io_reason(&e))),
        }
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings() {
        let body = br#"[{"name":"env-0","state":"online"},{"name":"a/b","state":"gone"},
            {"name":"env-1","state":"offline: x"}]"#;
        assert_eq!(
            parse_listing(body),
            Some(vec!["env-0".to_string(), "env-1".to_string()])
        );
        assert_eq!(parse_listing(b"[]"), Some(vec![]));
        for bad in [
            &b"{}"[..],
            b"<html>",
            b"[1]",
            br#"[{"name":1,"state":"x"}]"#,
        ] {
            assert_eq!(parse_listing(bad), None);
        }
    }
}
