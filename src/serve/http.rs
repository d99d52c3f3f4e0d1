//! A small HTTP/1.1 server side: bounded request reading (request line, headers, body),
//! path and query decoding, and responses. Parsing itself is httparse's.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// Longest request line accepted (method, target, version); longer gets 414.
pub const MAX_REQUEST_LINE: usize = 8 * 1024;
/// Most header bytes accepted after the request line; more gets 431.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Most header fields accepted; more gets 431.
pub const MAX_HEADERS: usize = 64;
/// Largest request body accepted (no endpoint needs one); larger gets 413.
pub const MAX_BODY: usize = 1024;
/// How long a new connection may stay silent before its first request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send a request head once its first byte has arrived: short,
/// so connections that trickle half a head cannot hold the server's connections.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a client may take to send a request body once the head is complete.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an idle keep-alive connection is kept open.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(15);

/// One parsed request.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method (`GET`, `HEAD`, …).
    pub method: String,
    /// The percent-decoded path.
    pub path: String,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// Whether to keep the connection open after the response (HTTP/1.1 unless
    /// `Connection: close`, HTTP/1.0 only with `keep-alive`).
    pub keep_alive: bool,
}

impl Request {
    /// The first value of a query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub enum ReadError {
    /// The client closed (or idled out) between requests: nothing to answer.
    Closed,
    /// The request was refused; send this response and close.
    Reject(Response),
}

/// A response with a complete body.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: std::sync::Arc<Vec<u8>>,
}

impl Response {
    /// A response with the given body.
    pub fn new(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            content_type,
            headers: Vec::new(),
            body: std::sync::Arc::new(body.into()),
        }
    }

    /// A one-line plain-text response (a newline is added).
    pub fn text(status: u16, msg: impl AsRef<str>) -> Response {
        Response::new(
            status,
            "text/plain; charset=utf-8",
            format!("{}\n", msg.as_ref()),
        )
    }

    /// A JSON response.
    pub fn json(status: u16, value: &impl serde::Serialize) -> Response {
        let body = serde_json::to_vec_pretty(value).unwrap_or_else(|_| b"{}".to_vec());
        Response::new(status, "application/json", body)
    }

    /// Adds a header.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    /// Writes status line, headers and (unless `head_only`) the body.
    pub fn write_to(
        &self,
        out: &mut impl Write,
        keep_alive: bool,
        head_only: bool,
    ) -> io::Result<()> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len(),
            if keep_alive { "keep-alive" } else { "close" }
        );
        for (k, v) in &self.headers {
            head.push_str(k);
            head.push_str(": ");
            head.push_str(v);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        if head_only || self.body.is_empty() {
            out.write_all(head.as_bytes())?;
        } else {
            let mut all = head.into_bytes();
            all.extend_from_slice(&self.body);
            out.write_all(&all)?;
        }
        out.flush()
    }
}

/// The reason phrase for the status codes this server sends.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// A client connection with the bytes read but not yet used.
#[derive(Debug)]
pub struct Conn {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// Bytes the client sent after its request head (a stream's first requests).
    pub fn take_buffered(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn reject(status: u16, msg: impl AsRef<str>) -> ReadError {
    ReadError::Reject(Response::text(status, msg))
}

impl Conn {
    pub fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Reads one request, enforcing the size limits and timeouts above.
    pub fn read_request(&mut self, first: bool) -> Result<Request, ReadError> {
        let idle_until = Instant::now() + if first { REQUEST_TIMEOUT } else { IDLE_TIMEOUT };
        let mut started: Option<Instant> = (!self.buf.is_empty()).then(Instant::now);
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            check_head_limits(&self.buf)?;
            let deadline = started.map_or(idle_until, |s| s + HEAD_TIMEOUT);
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(if started.is_some() {
                    reject(408, "request not received in time")
                } else {
                    ReadError::Closed
                });
            }
            match self.fill_within(left)? {
                Some(0) if self.buf.is_empty() => return Err(ReadError::Closed),
                Some(0) => return Err(reject(400, "connection closed in the middle of a request")),
                Some(_) => {
                    started.get_or_insert_with(Instant::now);
                }
                None => {}
            }
        };
        check_head_limits(&self.buf[..head_end])?;
        let (req, body_len) = parse_head(&self.buf[..head_end])?;
        if body_len > MAX_BODY {
            return Err(reject(
                413,
                format!("request body larger than {MAX_BODY} bytes"),
            ));
        }
        let need = head_end + body_len;
        let deadline = Instant::now() + BODY_TIMEOUT;
        while self.buf.len() < need {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(reject(408, "request body not received in time"));
            }
            if self.fill_within(left)? == Some(0) {
                return Err(reject(
                    400,
                    "connection closed in the middle of a request body",
                ));
            }
        }
        self.buf.drain(..need);
        Ok(req)
    }

    /// Reads what arrives within `left` into the buffer: `Some(bytes read)` (0: the client
    /// closed), `None` when nothing came in time; any other failure closes the connection.
    fn fill_within(&mut self, left: Duration) -> Result<Option<usize>, ReadError> {
        let _ = self.stream.set_read_timeout(Some(left));
        let mut chunk = [0u8; 4096];
        match self.stream.read(&mut chunk) {
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(Some(n))
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(None)
            }
            Err(_) => Err(ReadError::Closed),
        }
    }

    /// Answers `resp` and closes without ever blocking: what the client already sent is
    /// read first (so closing does not reset the connection before it sees the answer), the
    /// short response goes into the socket's empty send buffer. For refusing connections
    /// on the accept thread.
    pub fn refuse_at_once(mut self, resp: &Response) {
        if self.stream.set_nonblocking(true).is_err() {
            return;
        }
        let mut sink = [0u8; 16 * 1024];
        let _ = self.stream.read(&mut sink);
        let _ = resp.write_to(&mut self.stream, false, false);
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// Sends a final response, then closes gracefully: reads (and drops) what the client is
    /// still sending for a moment, so it sees the response instead of a reset.
    pub fn reject_and_close(mut self, resp: &Response) {
        let _ = self.stream.set_write_timeout(Some(Duration::from_secs(5)));
        let _ = resp.write_to(&mut self.stream, false, false);
        let _ = self.stream.shutdown(Shutdown::Write);
        let end = Instant::now() + Duration::from_secs(2);
        let mut sink = [0u8; 16 * 1024];
        let mut drained = 0usize;
        while Instant::now() < end && drained < (4 << 20) {
            let _ = self.stream.set_read_timeout(Some(
                end.saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(1)),
            ));
            match self.stream.read(&mut sink) {
                Ok(0) | Err(_) => break,
                Ok(n) => drained += n,
            }
        }
    }
}

/// Parses a request head the way a connection does (limits, then parsing), without a
/// socket: `Err` carries the status the server would answer. For tests and fuzzing.
pub fn parse_request(bytes: &[u8]) -> Result<Request, u16> {
    let status = |e: ReadError| match e {
        ReadError::Reject(r) => r.status,
        ReadError::Closed => 0,
    };
    let end = find(bytes, b"\r\n\r\n").map(|i| i + 4);
    check_head_limits(&bytes[..end.unwrap_or(bytes.len())]).map_err(status)?;
    let end = end.ok_or(400u16)?;
    parse_head(&bytes[..end]).map(|(r, _)| r).map_err(status)
}

/// Refuses a head that is already too long before its end has arrived.
fn check_head_limits(buf: &[u8]) -> Result<(), ReadError> {
    match find(buf, b"\r\n") {
        None if buf.len() > MAX_REQUEST_LINE => Err(reject(
            414,
            format!("request line longer than {MAX_REQUEST_LINE} bytes"),
        )),
        Some(i) if i > MAX_REQUEST_LINE => Err(reject(
            414,
            format!("request line longer than {MAX_REQUEST_LINE} bytes"),
        )),
        Some(i) if buf.len() - i > MAX_HEADER_BYTES => Err(reject(
            431,
            format!("request headers longer than {MAX_HEADER_BYTES} bytes"),
        )),
        _ => Ok(()),
    }
}

/// Parses a complete head; returns the request and its body length.
fn parse_head(head: &[u8]) -> Result<(Request, usize), ReadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(reject(400, "incomplete request head")),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(reject(
                431,
                format!("more than {MAX_HEADERS} header fields"),
            ))
        }
        Err(e) => return Err(reject(400, format!("malformed request: {e}"))),
    }
    let method = req.method.unwrap_or("").to_string();
    let target = req.path.unwrap_or("").to_string();
    let minor = req.version.unwrap_or(1);
    let header = |name: &str| {
        req.headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase())
            .collect::<Vec<_>>()
    };
    if !header("transfer-encoding").is_empty() {
        return Err(reject(
            411,
            "chunked request bodies are not accepted; send Content-Length",
        ));
    }
    let lengths = header("content-length");
    let body_len = match lengths.as_slice() {
        [] => 0,
        [one] => one
            .parse::<u64>()
            .map_err(|_| reject(400, format!("invalid Content-Length '{one}'")))?
            .min(usize::MAX as u64) as usize,
        _ => return Err(reject(400, "more than one Content-Length")),
    };
    let connection = header("connection").join(",");
    let keep_alive = if minor == 0 {
        connection.contains("keep-alive")
    } else {
        !connection.contains("close")
    };
    let (raw_path, raw_query) = match target.split_once('?') {
        Some((p, q)) => (p, q),
        None => (target.as_str(), ""),
    };
    if !raw_path.starts_with('/') {
        return Err(reject(400, "request target must be an absolute path"));
    }
    let path = decode_path(raw_path)?;
    let query = parse_query(raw_query)?;
    Ok((
        Request {
            method,
            path,
            query,
            keep_alive,
        },
        body_len,
    ))
}

/// Percent-decodes a path once and refuses what could climb out of a directory: `..` or `.`
/// segments, backslashes and NUL bytes, whether sent plainly or encoded.
pub fn decode_path(raw: &str) -> Result<String, ReadError> {
    let path = percent_decode(raw, false)
        .ok_or_else(|| reject(400, "invalid percent-encoding in path"))?;
    let bad_segment = path.split('/').any(|s| s == ".." || s == ".");
    if bad_segment || path.contains('\\') || path.contains('\0') {
        return Err(reject(
            400,
            "path may not contain '.' or '..' segments, backslashes or NUL",
        ));
    }
    Ok(path)
}

fn parse_query(raw: &str) -> Result<Vec<(String, String)>, ReadError> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match (percent_decode(k, true), percent_decode(v, true)) {
                (Some(k), Some(v)) => Ok((k, v)),
                _ => Err(reject(400, "invalid percent-encoding in query")),
            }
        })
        .collect()
}

/// Decodes `%XX` escapes (and `+` as space in queries); `None` when malformed or not UTF-8.
pub fn percent_decode(s: &str, plus_is_space: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(r: Result<String, ReadError>) -> u16 {
        match r {
            Ok(_) => 200,
            Err(ReadError::Reject(r)) => r.status,
            Err(ReadError::Closed) => 0,
        }
    }

    #[test]
    fn decodes_once_and_refuses_dot_segments() {
        assert_eq!(decode_path("/a%20b").ok().unwrap(), "/a b");
        for bad in [
            "/../etc/passwd",
            "/%2e%2e/x",
            "/..%2fx",
            "/%2E%2E%2Fetc",
            "/a/./b",
            "/a\\..\\b",
            "/a%00",
        ] {
            assert_eq!(status(decode_path(bad)), 400, "{bad}");
        }
        // Double-encoded: decoded once it is a literal '%2e%2e%2f', no route, no traversal.
        assert_eq!(decode_path("/%252e%252e%252f").ok().unwrap(), "/%2e%2e%2f");
        assert_eq!(status(decode_path("/%zz")), 400);
        assert_eq!(status(decode_path("/%e")), 400);
    }

    #[test]
    fn query_pairs_are_decoded() {
        let q = parse_query("source=env%2D01&x=a+b&flag").ok().unwrap();
        assert_eq!(q[0], ("source".into(), "env-01".into()));
        assert_eq!(q[1], ("x".into(), "a b".into()));
        assert_eq!(q[2], ("flag".into(), "".into()));
    }

    #[test]
    fn head_parsing_limits_and_keep_alive() {
        let ok = |h: &str| parse_head(h.as_bytes());
        let (r, n) = ok("GET /x?a=1 HTTP/1.1\r\nHost: h\r\n\r\n").ok().unwrap();
        assert!(r.keep_alive && n == 0 && r.path == "/x" && r.param("a") == Some("1"));
        let (r, _) = ok("GET / HTTP/1.0\r\n\r\n").ok().unwrap();
        assert!(!r.keep_alive);
        let (_, n) = ok("POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n")
            .ok()
            .unwrap();
        assert_eq!(n, 12);
        let code = |h: &str| match ok(h) {
            Err(ReadError::Reject(r)) => r.status,
            _ => 200,
        };
        assert_eq!(
            code("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            411
        );
        assert_eq!(code("POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"), 400);
        assert_eq!(code("GET http://h/ HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(code("GARBAGE\r\n\r\n"), 400);
        let many: String = (0..MAX_HEADERS + 1)
            .map(|i| format!("X-{i}: v\r\n"))
            .collect();
        assert_eq!(code(&format!("GET / HTTP/1.1\r\n{many}\r\n")), 431);
    }
}
