//! HTTP sources: a URL that returns one JPEG/PNG per request (polled over keep-alive at the
//! capture rate) or an MJPEG `multipart/x-mixed-replace` stream (read continuously; the newest
//! complete frame wins). The response's Content-Type decides which.
//!
//! A base URL with no path (`http://host:8080`) tries `/stream`, then `/api/screenshot`
//! (gbwatch's own server and the original dashboard), and keeps the first that serves frames.
//!
//! All network I/O runs on one worker thread per source, so `poll` never blocks on the network.

use super::decode::{decode_image, Decoded};
use super::mjpeg::{boundary_from_content_type, MultipartParser};
use super::{Poll, Source, SourceError};
use crate::cancel::Cancel;
use std::io::Read;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Paths tried, in order, for a base URL without a path.
pub const BASE_URL_PATHS: [&str; 2] = ["/stream", "/api/screenshot"];

/// Limits and timeouts of an HTTP source.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Largest image or MJPEG part accepted, in bytes.
    pub max_body: usize,
    /// Time to open the TCP connection.
    pub connect_timeout: Duration,
    /// Time for the response headers to arrive.
    pub response_timeout: Duration,
    /// A read that waits longer than this ends the connection as stalled.
    pub stall_timeout: Duration,
    /// Longest wait between reconnection attempts (the wait doubles from 200 ms).
    pub max_backoff: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            max_body: 4 * 1024 * 1024,
            connect_timeout: Duration::from_secs(2),
            response_timeout: Duration::from_secs(3),
            stall_timeout: Duration::from_secs(5),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// Why a URL is not usable as a source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// An `https://` URL (not supported).
    #[error("{0}: https is not supported; use plain http:// (e.g. through an SSH tunnel)")]
    Https(String),
    /// Not a valid `http://` URL.
    #[error("{0}: not a valid http:// URL")]
    Invalid(String),
}

/// A parsed `http://` source URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    url: String,
    host: String,
    path: String,
    /// What its feeds are called instead of the host (`LABEL@http://…`).
    label: Option<String>,
}

impl HttpUrl {
    /// Parses an `http://` URL.
    pub fn parse(arg: &str) -> Result<HttpUrl, UrlError> {
        if arg.len() >= 8 && arg[..8].eq_ignore_ascii_case("https://") {
            return Err(UrlError::Https(arg.to_string()));
        }
        let uri: ureq::http::Uri = arg.parse().map_err(|_| UrlError::Invalid(arg.into()))?;
        if !uri
            .scheme_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("http"))
        {
            return Err(UrlError::Invalid(arg.to_string()));
        }
        let authority = uri
            .authority()
            .filter(|a| !a.host().is_empty())
            .ok_or_else(|| UrlError::Invalid(arg.to_string()))?;
        let path = uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
            .to_string();
        Ok(HttpUrl {
            url: format!("http://{authority}{path}"),
            host: authority.to_string(),
            path,
            label: None,
        })
    }

    /// The same URL, its feeds called `label` instead of the host.
    pub fn with_label(mut self, label: &str) -> HttpUrl {
        self.label = Some(label.to_string());
        self
    }

    /// `HOST:PORT` as given.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// What names this server in feed names: the label, else `HOST:PORT`.
    pub fn prefix(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.host)
    }

    /// The URL as requested.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// True for `http://host:port` or `http://host:port/`.
    pub fn is_base(&self) -> bool {
        self.path == "/"
    }

    /// A short feed name: host and path.
    pub fn name(&self) -> String {
        if let Some(label) = &self.label {
            label.clone()
        } else if self.is_base() {
            self.host.clone()
        } else {
            format!("{}{}", self.host, self.path)
        }
    }

    /// The URLs to try, in order.
    fn targets(&self) -> Vec<String> {
        if self.is_base() {
            BASE_URL_PATHS
                .iter()
                .map(|p| format!("http://{}{p}", self.host))
                .collect()
        } else {
            vec![self.url.clone()]
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    Connecting,
    Live,
    Offline(String),
    Error(String),
}

struct State {
    /// The newest complete image body.
    body: Option<Arc<Vec<u8>>>,
    /// Bumped for every new body.
    seq: u64,
    status: Status,
    /// Polling mode: `poll` asks the worker for the next image.
    want: bool,
    /// A polling request is on its way.
    busy: bool,
}

struct Shared {
    state: Mutex<State>,
    /// Wakes the worker when `poll` wants an image, or when the source is dropped.
    cv: Condvar,
    /// Cancelled when the source is dropped.
    cancel: Cancel,
}

impl Shared {
    fn set_status(&self, status: Status) {
        let mut st = self.state.lock().unwrap();
        st.status = status;
        st.busy = false;
    }

    fn publish(&self, body: Vec<u8>) {
        let mut st = self.state.lock().unwrap();
        st.body = Some(Arc::new(body));
        st.seq += 1;
        st.status = Status::Live;
        st.busy = false;
    }

    /// Waits until `poll` asks for an image; false when the source was dropped.
    fn wait_for_request(&self) -> bool {
        let st = self.state.lock().unwrap();
        let mut st = self
            .cv
            .wait_while(st, |s| !s.want && !self.cancel.is_cancelled())
            .unwrap();
        st.want = false;
        st.busy = true;
        !self.cancel.is_cancelled()
    }

    /// Stops the worker: wakes it whether it sleeps on the token or waits for a request.
    fn stop(&self) {
        self.cancel.cancel();
        // Under the lock, so a worker between its check and its wait cannot miss the wake-up.
        let _st = self.state.lock().unwrap();
        self.cv.notify_all();
    }
}

/// An HTTP image or MJPEG source.
pub struct HttpSource {
    name: String,
    shared: Arc<Shared>,
    seen_seq: u64,
    frame_index: u64,
    /// The last body and its decoded pixels, reused when the server repeats itself.
    last: Option<(Arc<Vec<u8>>, Decoded)>,
}

impl HttpSource {
    /// Starts the worker thread for `url`; it connects in the background.
    /// Its worker's token is a child of `parent`.
    pub fn open(
        url: HttpUrl,
        options: HttpOptions,
        parent: &Cancel,
    ) -> Result<HttpSource, SourceError> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                body: None,
                seq: 0,
                status: Status::Connecting,
                want: false,
                busy: false,
            }),
            cv: Condvar::new(),
            cancel: parent.child(),
        });
        let name = url.name();
        // Detached: it holds only `shared`, and ends once the dropped source cancels the
        // token, at the latest when a network timeout of `options` fires.
        std::thread::Builder::new()
            .name(format!("http {name}"))
            .spawn({
                let shared = shared.clone();
                move || Worker::new(url, options, shared).run()
            })
            .map_err(|e| SourceError::Other(format!("cannot start the HTTP thread: {e}")))?;
        Ok(HttpSource {
            name,
            shared,
            seen_seq: 0,
            frame_index: 0,
            last: None,
        })
    }

    fn frame(&mut self, body: Arc<Vec<u8>>) -> Result<Poll, SourceError> {
        let decoded = match &self.last {
            Some((b, d)) if **b == *body => d.clone(),
            _ => {
                let d = decode_image(&body)
                    .map_err(|e| SourceError::Other(format!("bad image from server: {e}")))?;
                self.last = Some((body, d.clone()));
                d
            }
        };
        self.frame_index += 1;
        Ok(Poll::Frame(decoded.into_raw_frame(self.frame_index)))
    }
}

impl Source for HttpSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn poll(&mut self) -> Result<Poll, SourceError> {
        let mut st = self.shared.state.lock().unwrap();
        if st.seq != self.seen_seq {
            if let Some(body) = st.body.clone() {
                self.seen_seq = st.seq;
                drop(st);
                return self.frame(body);
            }
        }
        if !st.busy {
            st.want = true;
            self.shared.cv.notify_all();
        }
        match &st.status {
            Status::Offline(reason) => Ok(Poll::Offline(reason.clone())),
            Status::Error(msg) => Err(SourceError::Other(msg.clone())),
            Status::Connecting | Status::Live => Ok(Poll::Nothing),
        }
    }
}

impl Drop for HttpSource {
    fn drop(&mut self) {
        self.shared.stop();
    }
}

/// What went wrong with one attempt: offline (network) or an error (server answered wrongly).
struct Problem {
    offline: bool,
    msg: String,
}

impl Problem {
    fn offline(msg: impl Into<String>) -> Problem {
        Problem {
            offline: true,
            msg: msg.into(),
        }
    }

    fn error(msg: impl Into<String>) -> Problem {
        Problem {
            offline: false,
            msg: msg.into(),
        }
    }

    fn status(self) -> Status {
        if self.offline {
            Status::Offline(self.msg)
        } else {
            Status::Error(self.msg)
        }
    }
}

enum Reply {
    Image(Vec<u8>),
    Stream(ureq::BodyReader<'static>, String),
}

struct Worker {
    url: HttpUrl,
    targets: Vec<String>,
    /// Index into `targets` that served frames last.
    chosen: Option<usize>,
    options: HttpOptions,
    agent: ureq::Agent,
    shared: Arc<Shared>,
}

impl Worker {
    fn new(url: HttpUrl, options: HttpOptions, shared: Arc<Shared>) -> Worker {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(options.connect_timeout))
            .timeout_recv_response(Some(options.response_timeout))
            .timeout_per_read(Some(options.stall_timeout))
            .max_redirects(3)
            .user_agent(concat!("gbwatch/", env!("CARGO_PKG_VERSION")))
            .build();
        Worker {
            targets: url.targets(),
            url,
            chosen: None,
            options,
            agent: config.into(),
            shared,
        }
    }

    fn run(mut self) {
        let first_backoff = Duration::from_millis(200);
        let mut backoff = first_backoff;
        let mut polling = false;
        loop {
            if polling {
                if !self.shared.wait_for_request() {
                    return;
                }
            } else if self.shared.cancel.is_cancelled() {
                return;
            }
            match self.request() {
                Ok(Reply::Image(body)) => {
                    polling = true;
                    backoff = first_backoff;
                    self.shared.publish(body);
                }
                Ok(Reply::Stream(reader, boundary)) => {
                    polling = false;
                    let (problem, frames) = self.read_stream(reader, &boundary);
                    if frames > 0 {
                        backoff = first_backoff;
                    }
                    self.shared.set_status(problem.status());
                    if self.shared.cancel.sleep(backoff) {
                        return;
                    }
                    backoff = (backoff * 2).min(self.options.max_backoff);
                }
                Err(problem) => {
                    self.shared.set_status(problem.status());
                    if self.shared.cancel.sleep(backoff) {
                        return;
                    }
                    backoff = (backoff * 2).min(self.options.max_backoff);
                }
            }
        }
    }

    /// One request to the chosen URL, or to each candidate of a base URL in turn.
    fn request(&mut self) -> Result<Reply, Problem> {
        if let Some(i) = self.chosen {
            let result = self.request_one(&self.targets[i].clone());
            if result.as_ref().is_err_and(|p| !p.offline) {
                self.chosen = None;
            }
            return result;
        }
        let mut failures = Vec::new();
        for i in 0..self.targets.len() {
            let target = self.targets[i].clone();
            match self.request_one(&target) {
                Ok(reply) => {
                    self.chosen = Some(i);
                    return Ok(reply);
                }
                Err(p) if p.offline => return Err(p),
                Err(p) => failures.push((target, p.msg)),
            }
        }
        if failures.len() == 1 {
            return Err(Problem::error(failures.remove(0).1));
        }
        let tried: Vec<String> = failures
            .iter()
            .zip(BASE_URL_PATHS)
            .map(|((_, msg), path)| format!("{path}: {msg}"))
            .collect();
        Err(Problem::error(format!(
            "{} serves no frames ({})",
            self.url.as_str(),
            tried.join("; ")
        )))
    }

    fn request_one(&self, url: &str) -> Result<Reply, Problem> {
        let mut resp = self.agent.get(url).call().map_err(|e| transport(&e))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(Problem::error(format!(
                "HTTP {} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            )));
        }
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let mime = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let max_body = self.options.max_body;
        let mut read_body = || {
            resp.body_mut()
                .with_config()
                .limit(max_body as u64)
                .read_to_vec()
                .map_err(|e| match e {
                    ureq::Error::BodyExceedsLimit(_) => Problem::error(format!(
                        "image larger than the {} limit",
                        human_bytes(max_body)
                    )),
                    e => transport(&e),
                })
        };
        if mime.starts_with("image/") {
            Ok(Reply::Image(read_body()?))
        } else if GENERIC_TYPES.contains(&mime.as_str()) {
            // Python's http.server, Flask's send_file and object stores label JPEGs
            // application/octet-stream (or nothing): the bytes decide.
            let body = read_body()?;
            if sniff_image(&body) {
                Ok(Reply::Image(body))
            } else {
                Err(Problem::error(format!(
                    "Content-Type {} and the body is not a JPEG or PNG",
                    shown_type(&content_type)
                )))
            }
        } else if mime == "multipart/x-mixed-replace" {
            let boundary = boundary_from_content_type(&content_type).ok_or_else(|| {
                Problem::error("multipart/x-mixed-replace without a boundary parameter")
            })?;
            Ok(Reply::Stream(resp.into_body().into_reader(), boundary))
        } else {
            Err(Problem::error(format!(
                "unexpected Content-Type {} (expected image/jpeg, image/png or multipart/x-mixed-replace)",
                shown_type(&content_type)
            )))
        }
    }

    /// Reads an MJPEG stream until it ends, fails or the source is dropped; returns why it
    /// stopped and how many frames it delivered.
    fn read_stream(&self, mut reader: ureq::BodyReader<'static>, boundary: &str) -> (Problem, u64) {
        let mut parser = MultipartParser::new(boundary, self.options.max_body);
        let mut buf = vec![0u8; 64 * 1024];
        let mut parts = Vec::new();
        let mut frames = 0;
        loop {
            if self.shared.cancel.is_cancelled() {
                return (Problem::offline("closed"), frames);
            }
            match reader.read(&mut buf) {
                Ok(0) => return (Problem::offline("stream ended"), frames),
                Ok(n) => {
                    if let Err(e) = parser.push(&buf[..n], &mut parts) {
                        return (Problem::error(format!("bad MJPEG stream: {e}")), frames);
                    }
                    // Newest frame wins: parts completed in the same read replace each other.
                    if let Some(last) = parts.pop() {
                        frames += 1;
                        self.shared.publish(last);
                    }
                    parts.clear();
                    if parser.finished() {
                        return (Problem::offline("stream closed by the server"), frames);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut || is_timeout(&e) => {
                    return (
                        Problem::offline(format!(
                            "stream stalled: no data for {}s",
                            self.options.stall_timeout.as_secs_f64()
                        )),
                        frames,
                    )
                }
                Err(e) => {
                    return (
                        Problem::offline(format!("stream broken: {}", one_line(&e.to_string()))),
                        frames,
                    )
                }
            }
        }
    }
}

/// Content-Types that say nothing about the body: the magic bytes decide.
const GENERIC_TYPES: [&str; 4] = [
    "",
    "application/octet-stream",
    "binary/octet-stream",
    "text/plain",
];

/// True when `body` starts like a JPEG (`FF D8 FF`) or a PNG (its 8-byte signature).
pub fn sniff_image(body: &[u8]) -> bool {
    body.starts_with(&[0xFF, 0xD8, 0xFF]) || body.starts_with(b"\x89PNG\r\n\x1a\n")
}

fn shown_type(content_type: &str) -> String {
    if content_type.is_empty() {
        "none".to_string()
    } else {
        format!("{:?}", content_type.chars().take(60).collect::<String>())
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<ureq::Error>())
        .is_some_and(|u| matches!(u, ureq::Error::Timeout(_)))
        || matches!(e.kind(), std::io::ErrorKind::WouldBlock)
}

/// Why a request failed, one line ("connection refused", "timed out (…)").
pub fn network_reason(e: &ureq::Error) -> String {
    transport(e).msg
}

/// Maps a ureq failure to an offline reason (network) or an error (a wrong answer).
fn transport(e: &ureq::Error) -> Problem {
    match e {
        ureq::Error::Timeout(t) => Problem::offline(format!("timed out ({t})")),
        ureq::Error::HostNotFound => Problem::offline("host not found"),
        ureq::Error::ConnectionFailed => Problem::offline("connection failed"),
        ureq::Error::Io(io) => Problem::offline(io_reason(io)),
        ureq::Error::Protocol(p) => Problem::error(format!(
            "not an HTTP response: {}",
            one_line(&p.to_string())
        )),
        ureq::Error::LargeResponseHeader(..) => Problem::error("response headers too large"),
        other => Problem::error(one_line(&other.to_string())),
    }
}

/// An I/O error as people say it: "connection refused", not "Connection refused (os error 111)".
pub fn io_reason(e: &std::io::Error) -> String {
    let text = one_line(&e.to_string());
    let text = match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

fn one_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

fn human_bytes(n: usize) -> String {
    if n >= 1024 * 1024 && n.is_multiple_of(1024 * 1024) {
        format!("{} MB", n / (1024 * 1024))
    } else {
        format!("{n}-byte")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_the_source_wakes_a_worker_sleeping_off_a_failure() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = HttpUrl::parse(&format!("http://127.0.0.1:{port}/x.jpg")).unwrap();
        let options = HttpOptions {
            max_backoff: Duration::from_secs(60),
            ..HttpOptions::default()
        };
        let source = HttpSource::open(url, options, &Cancel::new()).unwrap();
        let shared = source.shared.clone();
        // Refused at 0, 0.2, 0.6 and 1.4 s: by 1.5 s it sleeps until 3 s.
        std::thread::sleep(Duration::from_millis(1500));
        let t = std::time::Instant::now();
        drop(source);
        while Arc::strong_count(&shared) > 1 {
            assert!(t.elapsed() < Duration::from_secs(1), "the worker slept on");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn urls() {
        let u = HttpUrl::parse("http://127.0.0.1:8080").unwrap();
        assert!(u.is_base());
        assert_eq!(u.name(), "127.0.0.1:8080");
        assert_eq!(
            u.targets(),
            [
                "http://127.0.0.1:8080/stream",
                "http://127.0.0.1:8080/api/screenshot"
            ]
        );
        let u = HttpUrl::parse("http://cam:8080/?action=stream").unwrap();
        assert!(!u.is_base());
        assert_eq!(u.as_str(), "http://cam:8080/?action=stream");
        assert_eq!(u.name(), "cam:8080/?action=stream");
        assert!(matches!(
            HttpUrl::parse("https://x/"),
            Err(UrlError::Https(_))
        ));
        assert!(matches!(
            HttpUrl::parse("http://"),
            Err(UrlError::Invalid(_))
        ));
        assert!(matches!(
            HttpUrl::parse("http://a b/"),
            Err(UrlError::Invalid(_))
        ));
    }
}
