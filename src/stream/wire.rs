//! The bytes of the compact stream (FORMAT.md): the stream head, messages and their
//! incremental parser, and the viewer's request lines.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};

/// The first 8 bytes of every stream.
pub const MAGIC: [u8; 8] = *b"GBWSTRM\0";
/// The stream version this build writes and reads.
pub const VERSION: u16 = 1;
/// Bytes of the stream head: magic, version, reserved.
pub const HEAD_SIZE: usize = 12;
/// Largest message body accepted (a 1024x1024 RGBA frame compressed, with headroom).
pub const MAX_MESSAGE: usize = 8 * 1024 * 1024;
/// Most sources one stream lists.
pub const MAX_SOURCES: usize = 4096;
/// Longest source name accepted.
pub const MAX_NAME: usize = 1024;
/// Longest request line accepted.
pub const MAX_REQUEST_LINE: usize = 64 * 1024;
/// Highest rate a viewer may ask for.
pub const MAX_RATE: u32 = 240;
/// The published timestamp of a frame whose publisher's clock is unknown.
const NO_TIMESTAMP: u64 = u64::MAX;

const TYPE_SOURCES: u8 = 1;
const TYPE_FRAME: u8 = 2;
const TYPE_NOTICE: u8 = 3;
const TYPE_CLOCK: u8 = 4;

/// Why a stream cannot be read further.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// The bytes do not start as a gbwatch stream.
    #[error("not a gbwatch stream (bad magic)")]
    Magic,
    /// The other side speaks another version.
    #[error("the remote gbwatch speaks stream version {0}, this one version {VERSION}: install the same gbwatch on both sides")]
    Version(u16),
    /// A message that cannot be read, with what is wrong.
    #[error("damaged stream: {0}")]
    Damaged(String),
}

/// One source as a stream lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEntry {
    /// The number its frames carry.
    pub id: u16,
    /// Its name where it is read (`env-03`, or `box1/env-03` for a re-published one).
    pub name: String,
    /// Whether the source is producing frames where it is read.
    pub online: bool,
}

/// One message of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Every source there is now (sent at the start and whenever the list changes).
    Sources(Vec<SourceEntry>),
    /// A frame of source `id`: recording bytes (RECORDING.md), a file header when the
    /// source's frames (re)start or change size, then one frame record.
    Frame {
        /// The source's number in the last [`Message::Sources`].
        id: u16,
        /// The publisher's timestamp (its monotonic clock, ns), when it had one.
        published_ns: Option<u64>,
        /// The recording bytes.
        data: Vec<u8>,
    },
    /// Something the sender wants the viewer to know, one line (a refused request).
    Notice(String),
    /// Nanoseconds since the stream began, for the frames that follow (a recording's
    /// timing; live viewers ignore it).
    Clock(u64),
}

/// The stream head a sender writes first.
pub fn head() -> [u8; HEAD_SIZE] {
    let mut h = [0u8; HEAD_SIZE];
    h[..8].copy_from_slice(&MAGIC);
    h[8..10].copy_from_slice(&VERSION.to_le_bytes());
    h
}

/// Checks a stream head.
pub fn check_head(h: &[u8]) -> Result<(), StreamError> {
    if h.len() < HEAD_SIZE || h[..8] != MAGIC {
        return Err(StreamError::Magic);
    }
    match u16::from_le_bytes([h[8], h[9]]) {
        VERSION => Ok(()),
        v => Err(StreamError::Version(v)),
    }
}

impl Message {
    /// The message as it goes on the wire.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::new();
        let kind = match self {
            Message::Sources(list) => {
                body.extend_from_slice(&(list.len() as u16).to_le_bytes());
                for s in list {
                    let name = &s.name.as_bytes()[..s.name.len().min(MAX_NAME)];
                    body.extend_from_slice(&s.id.to_le_bytes());
                    body.push(s.online as u8);
                    body.extend_from_slice(&(name.len() as u16).to_le_bytes());
                    body.extend_from_slice(name);
                }
                TYPE_SOURCES
            }
            Message::Frame {
                id,
                published_ns,
                data,
            } => {
                body.extend_from_slice(&id.to_le_bytes());
                body.extend_from_slice(&published_ns.unwrap_or(NO_TIMESTAMP).to_le_bytes());
                body.extend_from_slice(data);
                TYPE_FRAME
            }
            Message::Notice(text) => {
                body.extend_from_slice(text.as_bytes());
                TYPE_NOTICE
            }
            Message::Clock(ns) => {
                body.extend_from_slice(&ns.to_le_bytes());
                TYPE_CLOCK
            }
        };
        let mut out = Vec::with_capacity(5 + body.len());
        out.push(kind);
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&body);
        out
    }

    fn decode(kind: u8, body: &[u8]) -> Result<Message, StreamError> {
        let damaged = |what: &str| StreamError::Damaged(what.to_string());
        match kind {
            TYPE_SOURCES => {
                let count = u16_at(body, 0).ok_or_else(|| damaged("source list too short"))?;
                if count as usize > MAX_SOURCES {
                    return Err(damaged("source list longer than 4096"));
                }
                let mut list = Vec::with_capacity(count as usize);
                let mut at = 2;
                for _ in 0..count {
                    let id = u16_at(body, at).ok_or_else(|| damaged("source entry cut short"))?;
                    let online = *body
                        .get(at + 2)
                        .ok_or_else(|| damaged("source entry cut short"))?;
                    let len = u16_at(body, at + 3)
                        .ok_or_else(|| damaged("source entry cut short"))?
                        as usize;
                    let name = body
                        .get(at + 5..at + 5 + len)
                        .ok_or_else(|| damaged("source name cut short"))?;
                    let name = std::str::from_utf8(name)
                        .map_err(|_| damaged("source name is not UTF-8"))?;
                    if len > MAX_NAME || name.is_empty() {
                        return Err(damaged("source name empty or longer than 1024 bytes"));
                    }
                    list.push(SourceEntry {
                        id,
                        name: name.to_string(),
                        online: online != 0,
                    });
                    at += 5 + len;
                }
                if at != body.len() {
                    return Err(damaged("bytes after the source list"));
                }
                Ok(Message::Sources(list))
            }
            TYPE_FRAME => {
                let id = u16_at(body, 0).ok_or_else(|| damaged("frame message too short"))?;
                let ts = body
                    .get(2..10)
                    .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
                    .ok_or_else(|| damaged("frame message too short"))?;
                Ok(Message::Frame {
                    id,
                    published_ns: (ts != NO_TIMESTAMP).then_some(ts),
                    data: body[10..].to_vec(),
                })
            }
            TYPE_NOTICE => Ok(Message::Notice(one_line(&String::from_utf8_lossy(body)))),
            TYPE_CLOCK => body
                .try_into()
                .map(|b| Message::Clock(u64::from_le_bytes(b)))
                .map_err(|_| damaged("clock message is not 8 bytes")),
            other => Err(StreamError::Damaged(format!(
                "unknown message type {other}"
            ))),
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]))
}

fn one_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("").trim();
    line.chars().take(300).collect()
}

/// Reads a stream in pieces as they arrive: the head, then whole messages.
#[derive(Debug, Default)]
pub struct StreamParser {
    buf: Vec<u8>,
    head_seen: bool,
    failed: bool,
}

impl StreamParser {
    /// A parser expecting the stream head first.
    pub fn new() -> StreamParser {
        StreamParser::default()
    }

    /// Adds `bytes` and appends every message they complete to `out`. After an error the
    /// stream cannot be read further (every later call fails too).
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Message>) -> Result<(), StreamError> {
        if self.failed {
            return Err(StreamError::Damaged("read after an error".into()));
        }
        self.buf.extend_from_slice(bytes);
        let r = self.drain(out);
        self.failed = r.is_err();
        if self.failed {
            self.buf = Vec::new();
        }
        r
    }

    fn drain(&mut self, out: &mut Vec<Message>) -> Result<(), StreamError> {
        let mut at = 0;
        if !self.head_seen {
            if self.buf.len() < HEAD_SIZE {
                // A wrong magic is said at once, not after 12 bytes.
                let n = self.buf.len().min(8);
                if self.buf[..n] != MAGIC[..n] {
                    return Err(StreamError::Magic);
                }
                return Ok(());
            }
            check_head(&self.buf)?;
            self.head_seen = true;
            at = HEAD_SIZE;
        }
        while self.buf.len() - at >= 5 {
            let kind = self.buf[at];
            let len = u32::from_le_bytes(self.buf[at + 1..at + 5].try_into().unwrap()) as usize;
            if len > MAX_MESSAGE {
                return Err(StreamError::Damaged(format!(
                    "message of {len} bytes (at most {MAX_MESSAGE})"
                )));
            }
            if self.buf.len() - at - 5 < len {
                break;
            }
            out.push(Message::decode(kind, &self.buf[at + 5..at + 5 + len])?);
            at += 5 + len;
        }
        self.buf.drain(..at);
        Ok(())
    }

    /// Bytes held for an incomplete message.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}

/// What a viewer asks of the sender, one line each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `rate FPS *`: every source at FPS (0: none), forgetting per-source rates.
    RateAll(u32),
    /// `rate FPS NAME...`: these sources at FPS (0: none).
    Rate(u32, Vec<String>),
}

/// Why a request line was refused (the sender says so in a notice and goes on).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("request refused: {0}")]
pub struct RequestError(pub String);

/// Names in request lines: spaces, `%` and controls are percent-encoded.
const NAME_ESCAPES: &AsciiSet = &CONTROLS.add(b' ').add(b'%').add(b'*');

impl Request {
    /// The request as a line (with its newline).
    pub fn to_line(&self) -> String {
        match self {
            Request::RateAll(fps) => format!("rate {fps} *\n"),
            Request::Rate(fps, names) => {
                let names: Vec<String> = names
                    .iter()
                    .map(|n| utf8_percent_encode(n, NAME_ESCAPES).to_string())
                    .collect();
                format!("rate {fps} {}\n", names.join(" "))
            }
        }
    }

    /// Parses one request line (without or with its newline).
    pub fn parse(line: &str) -> Result<Request, RequestError> {
        let bad = |why: &str| RequestError(why.to_string());
        if line.len() > MAX_REQUEST_LINE {
            return Err(bad("line longer than 64 KiB"));
        }
        let mut words = line.split_ascii_whitespace();
        match words.next() {
            Some("rate") => {}
            Some(w) => {
                let w: String = w.chars().take(40).collect();
                return Err(RequestError(format!(
                    "unknown request '{w}' (expected: rate FPS NAME... or rate FPS *)"
                )));
            }
            None => return Err(bad("empty line")),
        }
        let fps = words
            .next()
            .and_then(|f| f.parse::<u32>().ok())
            .filter(|f| *f <= MAX_RATE)
            .ok_or_else(|| bad("rate needs an FPS of 0-240"))?;
        let names: Vec<&str> = words.collect();
        match names.as_slice() {
            [] => Err(bad("rate needs source names or *")),
            ["*"] => Ok(Request::RateAll(fps)),
            _ => names
                .iter()
                .map(|n| {
                    percent_decode_str(n)
                        .decode_utf8()
                        .map(|s| s.into_owned())
                        .map_err(|_| bad("a source name is not UTF-8"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(|names| Request::Rate(fps, names)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_in_any_pieces() {
        let messages = vec![
            Message::Sources(vec![
                SourceEntry {
                    id: 0,
                    name: "env-0".into(),
                    online: true,
                },
                SourceEntry {
                    id: 7,
                    name: "box/ä b".into(),
                    online: false,
                },
            ]),
            Message::Frame {
                id: 7,
                published_ns: Some(42),
                data: vec![1, 2, 3],
            },
            Message::Frame {
                id: 0,
                published_ns: None,
                data: vec![],
            },
            Message::Notice("hello".into()),
            Message::Clock(12345),
        ];
        let mut bytes = head().to_vec();
        for m in &messages {
            bytes.extend(m.encode());
        }
        for piece in [1, 3, 7, bytes.len()] {
            let mut p = StreamParser::new();
            let mut out = Vec::new();
            for chunk in bytes.chunks(piece) {
                p.push(chunk, &mut out).unwrap();
            }
            assert_eq!(out, messages);
            assert_eq!(p.buffered(), 0);
        }
    }

    #[test]
    fn heads_of_other_versions_are_named() {
        let mut h = head();
        h[8] = 9;
        let mut out = Vec::new();
        assert_eq!(
            StreamParser::new().push(&h, &mut out),
            Err(StreamError::Version(9))
        );
        assert_eq!(
            StreamParser::new().push(b"HTTP/1.1 404", &mut out),
            Err(StreamError::Magic)
        );
    }

    #[test]
    fn requests() {
        for r in [
            Request::RateAll(10),
            Request::Rate(0, vec!["env-0".into(), "a b%*".into()]),
        ] {
            assert_eq!(Request::parse(&r.to_line()), Ok(r));
        }
        for bad in ["", "rate", "rate x *", "rate 999 *", "rate 5", "jump 5 *"] {
            assert!(Request::parse(bad).is_err(), "{bad}");
        }
    }
}
