//! Shared by the `serve` tests: a `gbwatch serve` process on a loopback port and a raw
//! HTTP client that shows exactly what the server sent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `gbwatch serve`, killed when dropped.
pub struct ServeProc {
    /// The server process.
    pub child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Everything the server printed on stderr up to the "serving on" line.
    pub banner: String,
}

impl Drop for ServeProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ServeProc {
    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the server process, in KiB, from /proc/PID/status.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }
}

/// Starts `gbwatch serve ARGS --bind 127.0.0.1:0` and waits for its address.
pub fn serve(mut cmd: Command, args: &[&str]) -> ServeProc {
    let mut child = cmd
        .arg("serve")
        .args(args)
        .args(["--bind", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start gbwatch serve");
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut banner = String::new();
    let addr = loop {
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "gbwatch serve exited: {banner}"
        );
        banner.push_str(&line);
        if let Some(rest) = line.trim().strip_prefix("gbwatch: serving on http://") {
            break rest.split('/').next().unwrap().parse().unwrap();
        }
    };
    // Keep draining stderr so the server never blocks on it.
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = err.read_to_end(&mut sink);
    });
    ServeProc {
        child,
        addr,
        banner,
    }
}

/// A complete response.
#[derive(Debug)]
pub struct Resp {
    /// The status code.
    pub status: u16,
    /// Headers, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body as sent.
    pub body: Vec<u8>,
}

impl Resp {
    /// The first header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics naming the body when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parses a status line and headers.
pub fn parse_head(head: &str) -> (u16, Vec<(String, String)>) {
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect();
    (status, headers)
}

/// Sends raw bytes, reads until the server closes, and splits the response.
pub fn raw(addr: SocketAddr, request: &[u8]) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // A server that refuses early may close before everything is written: fine.
    let _ = s.write_all(request);
    let mut all = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => all.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset && !all.is_empty() => break,
            Err(e) => panic!("reading response: {e}"),
        }
    }
    let end = find(&all, b"\r\n\r\n").unwrap_or_else(|| {
        panic!(
            "no complete response head in {:?}",
            String::from_utf8_lossy(&all)
        )
    });
    let (status, headers) = parse_head(std::str::from_utf8(&all[..end]).unwrap());
    Resp {
        status,
        headers,
        body: all[end + 4..].to_vec(),
    }
}

/// One request with `Connection: close`.
pub fn request(addr: SocketAddr, method: &str, path: &str) -> Resp {
    raw(
        addr,
        format!("{method} {path} HTTP/1.1\r\nHost: gbwatch\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
}

/// `GET path`, answered in full.
pub fn get(addr: SocketAddr, path: &str) -> Resp {
    request(addr, "GET", path)
}

/// Polls `path` until it answers 200 (or panics after `timeout`).
pub fn get_ok(addr: SocketAddr, path: &str, timeout: Duration) -> Resp {
    let start = Instant::now();
    loop {
        let r = get(addr, path);
        if r.status == 200 {
            return r;
        }
        assert!(
            start.elapsed() < timeout,
            "{path} still answers {} after {timeout:?}: {}",
            r.status,
            r.text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Decodes a JPEG fully; returns (width, height).
pub fn decode_jpeg(bytes: &[u8]) -> (u16, u16) {
    let mut d = jpeg_decoder::Decoder::new(bytes);
    let pixels = d.decode().expect("a valid JPEG");
    let info = d.info().unwrap();
    assert_eq!(
        pixels.len(),
        info.width as usize * info.height as usize * 3,
        "decoded size"
    );
    (info.width, info.height)
}

/// A `/stream` reader: parses multipart parts as they come.
pub struct StreamClient {
    /// The connection, past the head.
    pub stream: BufReader<TcpStream>,
    /// The status code.
    pub status: u16,
    /// Headers of the answer.
    pub headers: Vec<(String, String)>,
    boundary: String,
}

/// One part of the stream.
#[derive(Debug)]
pub struct Part {
    /// The part's headers.
    pub headers: Vec<(String, String)>,
    /// The part's JPEG bytes.
    pub jpeg: Vec<u8>,
    /// When the part was read in full.
    pub at: Instant,
}

impl Part {
    /// The first header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl StreamClient {
    /// Opens `path` (a stream) and reads its head.
    pub fn open(addr: SocketAddr, path: &str) -> StreamClient {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: gbwatch\r\n\r\n").as_bytes())
            .unwrap();
        let mut r = BufReader::new(s);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            assert!(r.read_line(&mut line).unwrap() > 0, "stream closed in head");
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let (status, headers) = parse_head(&head);
        let boundary = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .and_then(|(_, v)| v.split("boundary=").nth(1))
            .unwrap_or("")
            .to_string();
        StreamClient {
            stream: r,
            status,
            headers,
            boundary,
        }
    }

    /// The first header `name` of the answer (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Reads the next part: boundary line, part headers, Content-Length bytes, CRLF.
    pub fn next_part(&mut self) -> std::io::Result<Part> {
        let mut line = String::new();
        self.stream.read_line(&mut line)?;
        if line.trim() != format!("--{}", self.boundary) {
            return Err(std::io::Error::other(format!(
                "expected boundary, got {line:?}"
            )));
        }
        let mut headers = Vec::new();
        loop {
            line.clear();
            if self.stream.read_line(&mut line)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            if line == "\r\n" {
                break;
            }
            let (k, v) = line.split_once(':').unwrap();
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().unwrap())
            .ok_or_else(|| std::io::Error::other("part without Content-Length"))?;
        let mut jpeg = vec![0u8; len + 2];
        self.stream.read_exact(&mut jpeg)?;
        assert_eq!(&jpeg[len..], b"\r\n", "part must end with CRLF");
        jpeg.truncate(len);
        Ok(Part {
            headers,
            jpeg,
            at: Instant::now(),
        })
    }
}

/// Starts a PyBoy publisher in `dir` and a server on it; waits for the first screenshot.
pub fn publisher_and_server(
    dir: &Path,
    gbwatch: Command,
    extra_publisher: &[&str],
    extra_serve: &[&str],
) -> (crate::common::Proc, ServeProc) {
    let publisher = crate::common::pyboy_publisher(dir, "env-00", extra_publisher);
    let mut args = vec![dir.to_str().unwrap()];
    args.extend_from_slice(extra_serve);
    let server = serve(gbwatch, &args);
    get_ok(server.addr, "/api/screenshot", Duration::from_secs(20));
    (publisher, server)
}
