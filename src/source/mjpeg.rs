//! An incremental parser for `multipart/x-mixed-replace` (MJPEG) bodies, independent of I/O:
//! feed it chunks as they arrive, take complete parts out. Parts with a `Content-Length` are
//! cut by length; parts without one end at the next boundary.

/// Why a multipart stream cannot be parsed further.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultipartError {
    /// No boundary line in this many bytes of the stream.
    #[error("no multipart boundary in {0} bytes of the stream")]
    NoBoundary(usize),
    /// A part's headers exceed this many bytes.
    #[error("part headers longer than {0} bytes")]
    HeadersTooLong(usize),
    /// A part exceeds this limit, in bytes.
    #[error("part larger than the {0}-byte limit")]
    PartTooLarge(usize),
    /// A part's `Content-Length` value (up to 40 characters) is not a number.
    #[error("bad Content-Length {0:?} in a part")]
    BadLength(String),
}

/// Longest block of part headers accepted.
const MAX_HEADERS: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Looking for the next boundary line.
    Boundary,
    /// Reading the part's header lines.
    Headers,
    /// Reading a body of known length.
    Sized(usize),
    /// Reading a body that ends at the next boundary.
    Unsized,
    /// The closing boundary was seen.
    Done,
}

/// Splits a multipart byte stream into part bodies.
#[derive(Debug)]
pub struct MultipartParser {
    /// `--` followed by the boundary.
    delimiter: Vec<u8>,
    buf: Vec<u8>,
    state: State,
    /// Where the next boundary search starts in `buf` (earlier bytes were searched already).
    searched: usize,
    /// Bytes thrown away while looking for the first boundary.
    skipped: usize,
    max_part: usize,
    parts: u64,
}

/// The `boundary` parameter of a Content-Type such as
/// `multipart/x-mixed-replace;boundary=frame`, without quotes.
pub fn boundary_from_content_type(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (k, v) = param.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let v = v.trim().trim_matches('"');
        (!v.is_empty()).then(|| v.to_string())
    })
}

impl MultipartParser {
    /// A parser for parts separated by `boundary` (as in the Content-Type; a leading `--` that
    /// some servers include there is tolerated), with parts up to `max_part` bytes.
    pub fn new(boundary: &str, max_part: usize) -> MultipartParser {
        let b = boundary.strip_prefix("--").unwrap_or(boundary);
        let mut delimiter = b"--".to_vec();
        delimiter.extend_from_slice(b.as_bytes());
        MultipartParser {
            delimiter,
            buf: Vec::new(),
            state: State::Boundary,
            searched: 0,
            skipped: 0,
            max_part,
            parts: 0,
        }
    }

    /// True once the closing boundary (`--boundary--`) was read.
    pub fn finished(&self) -> bool {
        self.state == State::Done
    }

    /// Complete parts returned so far.
    pub fn parts(&self) -> u64 {
        self.parts
    }

    /// Adds received bytes and appends every part they complete to `out`.
    pub fn push(&mut self, data: &[u8], out: &mut Vec<Vec<u8>>) -> Result<(), MultipartError> {
        self.buf.extend_from_slice(data);
        loop {
            match self.state {
                State::Done => {
                    self.buf.clear();
                    return Ok(());
                }
                State::Boundary => {
                    // The delimiter line: `--boundary` then optional `--`, whitespace, CRLF.
                    let Some(at) = self.find_delimiter() else {
                        // Keep a tail that may hold the start of a delimiter.
                        let keep = self.delimiter.len() + 1;
                        if self.buf.len() > keep {
                            let drop = self.buf.len() - keep;
                            self.skipped += drop;
                            self.buf.drain(..drop);
                            self.searched = 0;
                        }
                        if self.skipped > self.max_part {
                            return Err(MultipartError::NoBoundary(self.skipped));
                        }
                        return Ok(());
                    };
                    let after = at + self.delimiter.len();
                    let Some(eol) = find(&self.buf[after..], b"\n") else {
                        if self.buf.len() - after > MAX_HEADERS {
                            return Err(MultipartError::HeadersTooLong(MAX_HEADERS));
                        }
                        return Ok(());
                    };
                    let closing = self.buf[after..].starts_with(b"--");
                    self.buf.drain(..after + eol + 1);
                    self.searched = 0;
                    self.skipped = 0;
                    self.state = if closing { State::Done } else { State::Headers };
                }
                State::Headers => {
                    let Some((end, len)) = headers_end(&self.buf) else {
                        if self.buf.len() > MAX_HEADERS {
                            return Err(MultipartError::HeadersTooLong(MAX_HEADERS));
                        }
                        return Ok(());
                    };
                    let length = content_length(&self.buf[..end])?;
                    self.buf.drain(..end + len);
                    self.searched = 0;
                    self.state = match length {
                        Some(n) if n > self.max_part => {
                            return Err(MultipartError::PartTooLarge(self.max_part))
                        }
                        Some(n) => State::Sized(n),
                        None => State::Unsized,
                    };
                }
                State::Sized(n) => {
                    if self.buf.len() < n {
                        return Ok(());
                    }
                    out.push(self.buf.drain(..n).collect());
                    self.parts += 1;
                    self.state = State::Boundary;
                }
                State::Unsized => {
                    let Some(at) = self.find_delimiter() else {
                        if self.buf.len() > self.max_part + self.delimiter.len() + 2 {
                            return Err(MultipartError::PartTooLarge(self.max_part));
                        }
                        return Ok(());
                    };
                    // The line break before the delimiter belongs to it, not to the body.
                    let mut end = at;
                    if end > 0 && self.buf[end - 1] == b'\n' {
                        end -= 1;
                        if end > 0 && self.buf[end - 1] == b'\r' {
                            end -= 1;
                        }
                    }
                    if end > self.max_part {
                        return Err(MultipartError::PartTooLarge(self.max_part));
                    }
                    let body: Vec<u8> = self.buf[..end].to_vec();
                    self.buf.drain(..at);
                    self.searched = 0;
                    out.push(body);
                    self.parts += 1;
                    self.state = State::Boundary;
                }
            }
        }
    }

    /// Finds the delimiter at the start of `buf` or at the start of a line.
    fn find_delimiter(&mut self) -> Option<usize> {
        let d = &self.delimiter;
        let mut from = self.searched;
        while let Some(i) = find(&self.buf[from..], d) {
            let at = from + i;
            if at == 0 || self.buf[at - 1] == b'\n' {
                return Some(at);
            }
            from = at + 1;
        }
        // Next time, resume where a delimiter could still start.
        self.searched = self.buf.len().saturating_sub(d.len());
        None
    }
}

/// The end of the header block: (index of the blank line, its length).
fn headers_end(buf: &[u8]) -> Option<(usize, usize)> {
    // A part with no headers at all starts with the blank line.
    if buf.starts_with(b"\r\n") {
        return Some((0, 2));
    }
    if buf.starts_with(b"\n") {
        return Some((0, 1));
    }
    let crlf = find(buf, b"\r\n\r\n").map(|i| (i + 2, 2));
    let lf = find(buf, b"\n\n").map(|i| (i + 1, 1));
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

fn content_length(headers: &[u8]) -> Result<Option<usize>, MultipartError> {
    for line in headers.split(|&b| b == b'\n') {
        let line = String::from_utf8_lossy(line);
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            let value = value.trim();
            return value
                .parse::<usize>()
                .map(Some)
                .map_err(|_| MultipartError::BadLength(value.chars().take(40).collect()));
        }
    }
    Ok(None)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    let first = needle[0];
    let last_start = haystack.len() - needle.len();
    let mut i = 0;
    while i <= last_start {
        match haystack[i..=last_start].iter().position(|&b| b == first) {
            None => return None,
            Some(p) => {
                i += p;
                if &haystack[i..i + needle.len()] == needle {
                    return Some(i);
                }
                i += 1;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_all(parser: &mut MultipartParser, chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for c in chunks {
            parser.push(c, &mut out).unwrap();
        }
        out
    }

    #[test]
    fn boundary_parameter() {
        assert_eq!(
            boundary_from_content_type("multipart/x-mixed-replace;boundary=boundarydonotcross")
                .as_deref(),
            Some("boundarydonotcross")
        );
        assert_eq!(
            boundary_from_content_type("multipart/x-mixed-replace; charset=x; Boundary=\"a b\"")
                .as_deref(),
            Some("a b")
        );
        assert_eq!(
            boundary_from_content_type("multipart/x-mixed-replace"),
            None
        );
    }

    #[test]
    fn ustreamer_style_parts_with_length() {
        let stream = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 3\r\nX-Timestamp: 1\r\n\r\nabc\r\n--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 4\r\n\r\nwxyz\r\n";
        let mut p = MultipartParser::new("frame", 1000);
        assert_eq!(
            parse_all(&mut p, &[stream]),
            vec![b"abc".to_vec(), b"wxyz".to_vec()]
        );
    }

    #[test]
    fn parts_without_length_end_at_the_next_boundary() {
        let stream = b"preamble\r\n--b\r\nContent-Type: image/jpeg\r\n\r\nfirst\r\n--b\nContent-Type: image/jpeg\n\nsecond\n--b--\r\n";
        let mut p = MultipartParser::new("--b", 1000);
        assert_eq!(
            parse_all(&mut p, &[stream]),
            vec![b"first".to_vec(), b"second".to_vec()]
        );
        assert!(p.finished());
    }

    #[test]
    fn errors_are_reported_not_panicked() {
        let mut p = MultipartParser::new("b", 100);
        let mut out = Vec::new();
        assert_eq!(
            p.push(&[b'x'; 300], &mut out),
            Err(MultipartError::NoBoundary(296))
        );
        let mut p = MultipartParser::new("b", 100);
        assert_eq!(
            p.push(b"--b\r\nContent-Length: 101\r\n\r\n", &mut out),
            Err(MultipartError::PartTooLarge(100))
        );
        let mut p = MultipartParser::new("b", 100);
        assert!(matches!(
            p.push(b"--b\r\nContent-Length: lots\r\n\r\n", &mut out),
            Err(MultipartError::BadLength(_))
        ));
        let mut p = MultipartParser::new("b", 100);
        p.push(b"--b\r\n\r\n", &mut out).unwrap();
        assert_eq!(
            p.push(&[b'y'; 200], &mut out),
            Err(MultipartError::PartTooLarge(100))
        );
    }

    /// A part body and whether it is sent with a Content-Length.
    fn parts() -> impl Strategy<Value = Vec<(Vec<u8>, bool)>> {
        prop::collection::vec(
            (prop::collection::vec(any::<u8>(), 0..600), any::<bool>()),
            1..8,
        )
    }

    fn build(parts: &[(Vec<u8>, bool)], boundary: &str, crlf: bool) -> Vec<u8> {
        let nl: &[u8] = if crlf { b"\r\n" } else { b"\n" };
        let mut s = Vec::new();
        for (body, sized) in parts {
            s.extend_from_slice(format!("--{boundary}").as_bytes());
            s.extend_from_slice(nl);
            s.extend_from_slice(b"Content-Type: image/jpeg");
            s.extend_from_slice(nl);
            if *sized {
                s.extend_from_slice(format!("Content-Length: {}", body.len()).as_bytes());
                s.extend_from_slice(nl);
            }
            s.extend_from_slice(nl);
            s.extend_from_slice(body);
            s.extend_from_slice(nl);
        }
        s.extend_from_slice(format!("--{boundary}").as_bytes());
        s.extend_from_slice(nl);
        s
    }

    fn split_at_points(data: &[u8], mut points: Vec<usize>) -> Vec<&[u8]> {
        points.retain(|&p| p < data.len());
        points.sort_unstable();
        points.dedup();
        let mut chunks = Vec::new();
        let mut last = 0;
        for p in points {
            chunks.push(&data[last..p]);
            last = p;
        }
        chunks.push(&data[last..]);
        chunks
    }

    proptest! {
        #![proptest_config(crate::fixtures::fuzz_config(300))]

        #[test]
        fn parts_split_anywhere_are_reassembled_exactly(
            parts in parts(),
            splits in prop::collection::vec(0usize..6000, 0..40),
            garbage in prop::collection::vec(any::<u8>(), 0..200),
            crlf in any::<bool>(),
        ) {
            let boundary = "gbwatch-frame-7f3a";
            // The boundary (after a line break) must not occur inside a body.
            let delim = format!("\n--{boundary}");
            prop_assume!(parts.iter().all(|(b, _)| find(b, delim.as_bytes()).is_none()
                && !b.starts_with(&delim.as_bytes()[1..])));
            prop_assume!(find(&garbage, b"--gbwatch").is_none());
            // With bare LF line breaks, a body ending in CR is ambiguous before the boundary.
            prop_assume!(crlf || parts.iter().all(|(b, sized)| *sized || b.last() != Some(&b'\r')));
            let mut stream = garbage.clone();
            stream.extend_from_slice(b"\r\n");
            stream.extend(build(&parts, boundary, crlf));
            let mut p = MultipartParser::new(boundary, 10_000);
            let mut out = Vec::new();
            for chunk in split_at_points(&stream, splits) {
                p.push(chunk, &mut out).unwrap();
            }
            let expected: Vec<Vec<u8>> = parts.iter().map(|(b, _)| b.clone()).collect();
            prop_assert_eq!(out, expected);
        }

        #[test]
        fn garbage_never_panics(
            chunks in prop::collection::vec(prop::collection::vec(
                prop_oneof![any::<u8>(), Just(b'-'), Just(b'\n'), Just(b'\r'), Just(b'b')], 0..300), 0..20),
            max_part in 0usize..500,
        ) {
            let mut p = MultipartParser::new("b", max_part);
            let mut out = Vec::new();
            for c in &chunks {
                if p.push(c, &mut out).is_err() {
                    break;
                }
            }
            for part in &out {
                prop_assert!(part.len() <= max_part);
            }
        }
    }
}
