//! The recording file format (see RECORDING.md): writing and reading frames.

use crate::info::{Info, MAX_ENCODED};
use std::collections::HashMap;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::Arc;
use zstd::zstd_safe::{CCtx, CParameter, DCtx};

/// First 8 bytes of every recording.
pub const MAGIC: [u8; 8] = *b"GBWREC\0\0";
/// Format version this build writes; it also reads [`OLDEST_VERSION`] and later.
pub const VERSION: u16 = 2;
/// The oldest format version this build reads (version 1 has no info).
pub const OLDEST_VERSION: u16 = 1;
/// Record flag (byte 5, version 2): an info section follows the payload.
const RECORD_HAS_INFO: u8 = 1;
/// Size of the file header.
pub const FILE_HEADER_SIZE: usize = 32;
/// Size of each frame record's header.
pub const RECORD_HEADER_SIZE: usize = 28;
/// Largest width or height accepted.
pub const MAX_DIMENSION: u32 = 1024;
/// A keyframe is written at least this often (in frames).
pub const KEYFRAME_INTERVAL: u16 = 120;
/// zstd level used for new recordings.
pub const ZSTD_LEVEL: i32 = 3;

const FORMAT_RGBA: u8 = 0;
const CODEC_ZSTD: u8 = 1;

/// How a record's pixels are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Kind {
    /// Palette (reset) plus one index byte per pixel.
    KeyIndexed = 1,
    /// New palette entries plus indices, compressed against the previous frame's indices.
    DeltaIndexed = 2,
    /// RGBA bytes (more than 256 colours).
    KeyRgba = 3,
    /// RGBA bytes compressed against the previous frame's RGBA bytes.
    DeltaRgba = 4,
}

impl Kind {
    fn from_u8(v: u8) -> Option<Kind> {
        Some(match v {
            1 => Kind::KeyIndexed,
            2 => Kind::DeltaIndexed,
            3 => Kind::KeyRgba,
            4 => Kind::DeltaRgba,
            _ => return None,
        })
    }
}

/// A recording that cannot be read (any further).
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    /// The file does not start with the recording magic.
    #[error("not a gbwatch recording (bad magic)")]
    BadMagic,
    /// A format version this build does not read (the file's).
    #[error("recording format version {0} is not supported (this build reads {OLDEST_VERSION}-{VERSION})")]
    Version(u16),
    /// The file header or a record fails its checks at byte `offset`; `what` says how.
    #[error("recording damaged at byte {offset}: {what}")]
    Damaged {
        /// Where, in bytes from the start of the file.
        offset: u64,
        /// What is wrong there.
        what: String,
    },
    /// The file ends inside its header or a record, at byte `offset`.
    #[error("recording truncated at byte {offset}: {what}")]
    Truncated {
        /// Where the file ends, in bytes.
        offset: u64,
        /// What was being read.
        what: String,
    },
    /// Reading or writing the file failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl RecordingError {
    /// The byte offset of the damage, when the file is damaged or truncated.
    pub fn offset(&self) -> Option<u64> {
        match self {
            RecordingError::Damaged { offset, .. } | RecordingError::Truncated { offset, .. } => {
                Some(*offset)
            }
            _ => None,
        }
    }
}

/// The file header: frame size and pixel format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordingHeader {
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// A keyframe comes at least every this many frames.
    pub keyframe_interval: u16,
    /// The file's format version (new recordings: [`VERSION`]).
    pub version: u16,
}

impl RecordingHeader {
    fn to_bytes(self) -> [u8; FILE_HEADER_SIZE] {
        let mut b = [0u8; FILE_HEADER_SIZE];
        b[0..8].copy_from_slice(&MAGIC);
        b[8..10].copy_from_slice(&self.version.to_le_bytes());
        b[10..12].copy_from_slice(&(FILE_HEADER_SIZE as u16).to_le_bytes());
        b[12..16].copy_from_slice(&self.width.to_le_bytes());
        b[16..20].copy_from_slice(&self.height.to_le_bytes());
        b[20] = FORMAT_RGBA;
        b[21] = CODEC_ZSTD;
        b[22..24].copy_from_slice(&self.keyframe_interval.to_le_bytes());
        let crc = crc32fast::hash(&b[0..24]);
        b[24..28].copy_from_slice(&crc.to_le_bytes());
        b
    }

    fn parse(b: &[u8]) -> Result<RecordingHeader, RecordingError> {
        if b.len() < 8 || b[0..8] != MAGIC {
            return Err(RecordingError::BadMagic);
        }
        if b.len() < FILE_HEADER_SIZE {
            return Err(RecordingError::Truncated {
                offset: b.len() as u64,
                what: "file header incomplete".into(),
            });
        }
        let damaged = |offset: u64, what: &str| RecordingError::Damaged {
            offset,
            what: what.into(),
        };
        let version = u16::from_le_bytes([b[8], b[9]]);
        if !(OLDEST_VERSION..=VERSION).contains(&version) {
            return Err(RecordingError::Version(version));
        }
        if crc32fast::hash(&b[0..24]) != u32_at(b, 24) {
            return Err(damaged(0, "file header checksum mismatch"));
        }
        if u16::from_le_bytes([b[10], b[11]]) as usize != FILE_HEADER_SIZE {
            return Err(damaged(10, "unexpected header size"));
        }
        let (width, height) = (u32_at(b, 12), u32_at(b, 16));
        if !(1..=MAX_DIMENSION).contains(&width) || !(1..=MAX_DIMENSION).contains(&height) {
            return Err(damaged(
                12,
                &format!("frame size {width}x{height} outside 1-{MAX_DIMENSION}"),
            ));
        }
        if b[20] != FORMAT_RGBA {
            return Err(damaged(20, &format!("unknown pixel format {}", b[20])));
        }
        if b[21] != CODEC_ZSTD {
            return Err(damaged(21, &format!("unknown codec {}", b[21])));
        }
        Ok(RecordingHeader {
            width,
            height,
            keyframe_interval: u16::from_le_bytes([b[22], b[23]]),
            version,
        })
    }

    fn pixels(&self) -> usize {
        self.width as usize * self.height as usize
    }
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap())
}

/// Compresses `data` with zstd, with `prefix` (the previous frame) as raw-content dictionary.
fn compress(cctx: &mut CCtx<'static>, data: &[u8], prefix: Option<&[u8]>) -> io::Result<Vec<u8>> {
    let zerr = |code: usize| io::Error::other(zstd::zstd_safe::get_error_name(code));
    cctx.reset(zstd::zstd_safe::ResetDirective::SessionAndParameters)
        .map_err(zerr)?;
    cctx.set_parameter(CParameter::CompressionLevel(ZSTD_LEVEL))
        .map_err(zerr)?;
    cctx.load_dictionary(prefix.unwrap_or(&[])).map_err(zerr)?;
    let mut out = Vec::with_capacity(zstd::zstd_safe::compress_bound(data.len()));
    cctx.compress2(&mut out, data).map_err(zerr)?;
    Ok(out)
}

/// Writes frames to a recording: palette-indexes them when they have ≤ 256 colours and
/// compresses each against the previous one.
pub struct RecordingWriter<W: Write> {
    out: W,
    cctx: CCtx<'static>,
    header: RecordingHeader,
    /// Colours of the current palette, in index order.
    palette: Vec<[u8; 4]>,
    lookup: HashMap<[u8; 4], u8>,
    /// Previous frame's indices (valid when `prev_indexed`) and RGBA bytes.
    prev_indices: Vec<u8>,
    prev_indexed: bool,
    prev_rgba: Vec<u8>,
    since_key: u32,
    frames: u64,
    bytes: u64,
}

impl<W: Write> RecordingWriter<W> {
    /// Writes the file header for frames of `width` x `height`.
    pub fn new(mut out: W, width: u32, height: u32) -> Result<RecordingWriter<W>, RecordingError> {
        if !(1..=MAX_DIMENSION).contains(&width) || !(1..=MAX_DIMENSION).contains(&height) {
            return Err(RecordingError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("frame size {width}x{height} outside 1-{MAX_DIMENSION}"),
            )));
        }
        let header = RecordingHeader {
            width,
            height,
            keyframe_interval: KEYFRAME_INTERVAL,
            version: VERSION,
        };
        out.write_all(&header.to_bytes())?;
        Ok(RecordingWriter {
            out,
            cctx: CCtx::create(),
            header,
            palette: Vec::new(),
            lookup: HashMap::new(),
            prev_indices: Vec::new(),
            prev_indexed: false,
            prev_rgba: Vec::new(),
            since_key: 0,
            frames: 0,
            bytes: FILE_HEADER_SIZE as u64,
        })
    }

    /// The header written.
    pub fn header(&self) -> RecordingHeader {
        self.header
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Bytes written so far, header included.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Appends one RGBA frame (tight rows); `timestamp_ns` counts from the recording's start.
    /// The record goes out in one write, so a stopped recording ends on a whole frame.
    pub fn write_frame(
        &mut self,
        frame_index: u64,
        timestamp_ns: u64,
        rgba: &[u8],
    ) -> Result<usize, RecordingError> {
        self.write_frame_with_info(frame_index, timestamp_ns, rgba, None)
    }

    /// [`RecordingWriter::write_frame`] with the frame's info, kept in the same record. An
    /// info that does not encode is left out (the frame is still written).
    pub fn write_frame_with_info(
        &mut self,
        frame_index: u64,
        timestamp_ns: u64,
        rgba: &[u8],
        info: Option<&Info>,
    ) -> Result<usize, RecordingError> {
        let info = info.and_then(|i| i.encode().ok());
        let n = self.header.pixels();
        if rgba.len() != n * 4 {
            return Err(RecordingError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "frame has {} bytes, the recording's {}x{} RGBA frames have {}",
                    rgba.len(),
                    self.header.width,
                    self.header.height,
                    n * 4
                ),
            )));
        }
        let want_key = self.frames == 0 || self.since_key >= KEYFRAME_INTERVAL as u32;
        let (kind, new_colours, payload) = self.encode(rgba, want_key)?;
        let mut record = Vec::with_capacity(RECORD_HEADER_SIZE + payload.len());
        record.extend_from_slice(&[0u8; 4]);
        record.push(kind as u8);
        record.push(if info.is_some() { RECORD_HAS_INFO } else { 0 });
        record.extend_from_slice(&(new_colours as u16).to_le_bytes());
        record.extend_from_slice(&frame_index.to_le_bytes());
        record.extend_from_slice(&timestamp_ns.to_le_bytes());
        record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        record.extend_from_slice(&payload);
        if let Some(info) = &info {
            record.extend_from_slice(&(info.len() as u16).to_le_bytes());
            record.extend_from_slice(info);
        }
        let crc = crc32fast::hash(&record[4..]);
        record[0..4].copy_from_slice(&crc.to_le_bytes());
        self.out.write_all(&record)?;
        self.frames += 1;
        self.bytes += record.len() as u64;
        self.since_key = if matches!(kind, Kind::KeyIndexed | Kind::KeyRgba) {
            1
        } else {
            self.since_key + 1
        };
        Ok(record.len())
    }

    fn encode(&mut self, rgba: &[u8], want_key: bool) -> io::Result<(Kind, usize, Vec<u8>)> {
        let n = self.header.pixels();
        // Try to index against the current palette (extended), else a fresh one.
        let mut key = want_key || !self.prev_indexed;
        let mut indices = Vec::with_capacity(n);
        let mut first_new = if key { 0 } else { self.palette.len() };
        if key {
            self.palette.clear();
            self.lookup.clear();
        }
        let mut fits = index_into(rgba, &mut self.palette, &mut self.lookup, &mut indices);
        if !fits && !key {
            // The palette overflowed: start a fresh one with a keyframe.
            key = true;
            first_new = 0;
            self.palette.clear();
            self.lookup.clear();
            indices.clear();
            fits = index_into(rgba, &mut self.palette, &mut self.lookup, &mut indices);
        }
        let result = if fits {
            let mut data = Vec::with_capacity((self.palette.len() - first_new) * 4 + n);
            for c in &self.palette[first_new..] {
                data.extend_from_slice(c);
            }
            let new_colours = self.palette.len() - first_new;
            data.extend_from_slice(&indices);
            let prefix = (!key).then_some(&self.prev_indices[..]);
            let payload = compress(&mut self.cctx, &data, prefix)?;
            self.prev_indices = indices;
            self.prev_indexed = true;
            let kind = if key {
                Kind::KeyIndexed
            } else {
                Kind::DeltaIndexed
            };
            (kind, new_colours, payload)
        } else {
            self.palette.clear();
            self.lookup.clear();
            self.prev_indexed = false;
            let delta = !want_key && self.prev_rgba.len() == rgba.len();
            let prefix = delta.then_some(&self.prev_rgba[..]);
            let payload = compress(&mut self.cctx, rgba, prefix)?;
            let kind = if delta {
                Kind::DeltaRgba
            } else {
                Kind::KeyRgba
            };
            (kind, 0, payload)
        };
        self.prev_rgba.clear();
        self.prev_rgba.extend_from_slice(rgba);
        Ok(result)
    }

    /// The underlying writer (to take what an in-memory writer holds).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Flushes what was written to the underlying writer.
    pub fn flush(&mut self) -> Result<(), RecordingError> {
        Ok(self.out.flush()?)
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> Result<W, RecordingError> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Appends the palette index of every pixel; false when more than 256 colours are needed.
fn index_into(
    rgba: &[u8],
    palette: &mut Vec<[u8; 4]>,
    lookup: &mut HashMap<[u8; 4], u8>,
    indices: &mut Vec<u8>,
) -> bool {
    let mut last: Option<([u8; 4], u8)> = None;
    for p in rgba.chunks_exact(4) {
        let c = [p[0], p[1], p[2], p[3]];
        let i = match last {
            Some((lc, li)) if lc == c => li,
            _ => match lookup.get(&c) {
                Some(&i) => i,
                None => {
                    if palette.len() == 256 {
                        return false;
                    }
                    let i = palette.len() as u8;
                    palette.push(c);
                    lookup.insert(c, i);
                    i
                }
            },
        };
        last = Some((c, i));
        indices.push(i);
    }
    true
}

/// One decoded frame; `pixels` are tight RGBA rows.
#[derive(Debug, Clone)]
pub struct DecodedFrame<'a> {
    /// The frame's index as captured.
    pub frame_index: u64,
    /// Nanoseconds since the recording's first frame.
    pub timestamp_ns: u64,
    /// Tight RGBA rows.
    pub pixels: &'a [u8],
    /// The info recorded with the frame (version 2 recordings), if any.
    pub info: Option<Arc<Info>>,
}

/// A byte stream a recording can be read from.
pub trait RecordingInput: Read + Seek + Send {}
impl<T: Read + Seek + Send> RecordingInput for T {}

/// Reads a recording frame by frame; stops with an error naming the byte offset at the
/// first damaged or missing byte, after yielding every frame before it.
pub struct RecordingReader {
    input: Box<dyn RecordingInput>,
    dctx: DCtx<'static>,
    header: RecordingHeader,
    /// Offset of the next record.
    pos: u64,
    palette: Vec<[u8; 4]>,
    indices: Vec<u8>,
    indexed: bool,
    rgba: Vec<u8>,
    has_frame: bool,
    payload: Vec<u8>,
    data: Vec<u8>,
    /// Next record's header, read ahead by `peek_timestamp`.
    peeked: Option<[u8; RECORD_HEADER_SIZE]>,
    failed: bool,
}

impl RecordingReader {
    /// Reads and checks the file header.
    pub fn new(mut input: Box<dyn RecordingInput>) -> Result<RecordingReader, RecordingError> {
        let mut head = Vec::with_capacity(FILE_HEADER_SIZE);
        (&mut input)
            .take(FILE_HEADER_SIZE as u64)
            .read_to_end(&mut head)?;
        let header = RecordingHeader::parse(&head)?;
        Ok(RecordingReader {
            input,
            dctx: DCtx::create(),
            header,
            pos: FILE_HEADER_SIZE as u64,
            palette: Vec::new(),
            indices: Vec::new(),
            indexed: false,
            rgba: Vec::new(),
            has_frame: false,
            payload: Vec::new(),
            data: Vec::new(),
            peeked: None,
            failed: false,
        })
    }

    /// Reads a recording held in memory.
    pub fn from_bytes(bytes: &'static [u8]) -> Result<RecordingReader, RecordingError> {
        RecordingReader::new(Box::new(io::Cursor::new(bytes)))
    }

    /// Reads a recording held in an owned buffer.
    pub fn from_vec(bytes: Vec<u8>) -> Result<RecordingReader, RecordingError> {
        RecordingReader::new(Box::new(io::Cursor::new(bytes)))
    }

    /// The file header.
    pub fn header(&self) -> RecordingHeader {
        self.header
    }

    /// Offset of the next record (the end of what has been read).
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The last decoded frame's RGBA pixels (empty before the first).
    pub fn pixels(&self) -> &[u8] {
        &self.rgba
    }

    /// Goes back to the first frame.
    pub fn rewind(&mut self) -> Result<(), RecordingError> {
        self.input.seek(SeekFrom::Start(FILE_HEADER_SIZE as u64))?;
        self.pos = FILE_HEADER_SIZE as u64;
        self.peeked = None;
        self.indexed = false;
        self.has_frame = false;
        self.failed = false;
        Ok(())
    }

    /// Reads up to `len` bytes into `self.payload`; returns how many (fewer only at the end).
    fn fill(&mut self, len: usize) -> Result<usize, RecordingError> {
        self.payload.clear();
        let got = (&mut self.input)
            .take(len as u64)
            .read_to_end(&mut self.payload)?;
        Ok(got)
    }

    fn read_record_header(&mut self) -> Result<Option<[u8; RECORD_HEADER_SIZE]>, RecordingError> {
        if let Some(h) = self.peeked {
            return Ok(Some(h));
        }
        let got = self.fill(RECORD_HEADER_SIZE)?;
        if got == 0 {
            return Ok(None);
        }
        if got < RECORD_HEADER_SIZE {
            return Err(self.fail_truncated(format!(
                "frame record header has {got} of {RECORD_HEADER_SIZE} bytes"
            )));
        }
        let mut h = [0u8; RECORD_HEADER_SIZE];
        h.copy_from_slice(&self.payload[..RECORD_HEADER_SIZE]);
        self.peeked = Some(h);
        Ok(Some(h))
    }

    fn fail_truncated(&mut self, what: String) -> RecordingError {
        self.failed = true;
        RecordingError::Truncated {
            offset: self.pos,
            what,
        }
    }

    fn fail_damaged(&mut self, what: String) -> RecordingError {
        self.failed = true;
        RecordingError::Damaged {
            offset: self.pos,
            what,
        }
    }

    /// The timestamp of the next frame without decoding it; `None` at the end.
    pub fn peek_timestamp(&mut self) -> Result<Option<u64>, RecordingError> {
        if self.failed {
            return Ok(None);
        }
        Ok(self.read_record_header()?.map(|h| u64_at(&h, 16)))
    }

    /// Decodes the next frame; `Ok(None)` at a clean end of the recording. After an error
    /// it returns `Ok(None)` until [`RecordingReader::rewind`].
    pub fn next_frame(&mut self) -> Result<Option<DecodedFrame<'_>>, RecordingError> {
        if self.failed {
            return Ok(None);
        }
        let Some(h) = self.read_record_header()? else {
            return Ok(None);
        };
        let n = self.header.pixels();
        let kind = h[4];
        let new_colours = u16::from_le_bytes([h[6], h[7]]) as usize;
        let frame_index = u64_at(&h, 8);
        let timestamp_ns = u64_at(&h, 16);
        let len = u32_at(&h, 24) as usize;
        let max_len = zstd::zstd_safe::compress_bound(n * 4 + 1024);
        if len > max_len {
            return Err(self.fail_damaged(format!(
                "frame record claims {len} bytes (at most {max_len} possible)"
            )));
        }
        let flags = h[5];
        let has_info = self.header.version >= 2 && flags & RECORD_HAS_INFO != 0;
        let got = self.fill(len)?;
        if got < len {
            return Err(self.fail_truncated(format!("frame record has {got} of {len} bytes")));
        }
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&h[4..]);
        hasher.update(&self.payload);
        let mut info_bytes = Vec::new();
        if has_info {
            let mut n = Vec::with_capacity(2);
            (&mut self.input).take(2).read_to_end(&mut n)?;
            if n.len() < 2 {
                return Err(self.fail_truncated("frame record's info length is missing".into()));
            }
            let n = u16::from_le_bytes([n[0], n[1]]) as usize;
            if n > MAX_ENCODED {
                return Err(self.fail_damaged(format!(
                    "frame record's info claims {n} bytes (at most {MAX_ENCODED})"
                )));
            }
            (&mut self.input)
                .take(n as u64)
                .read_to_end(&mut info_bytes)?;
            if info_bytes.len() < n {
                return Err(self.fail_truncated(format!(
                    "frame record's info has {} of {n} bytes",
                    info_bytes.len()
                )));
            }
            hasher.update(&(n as u16).to_le_bytes());
            hasher.update(&info_bytes);
        }
        if hasher.finalize() != u32_at(&h, 0) {
            return Err(self.fail_damaged("frame record checksum mismatch".into()));
        }
        let info = if has_info {
            match Info::decode(&info_bytes) {
                Ok(i) => Some(Arc::new(i)),
                Err(e) => return Err(self.fail_damaged(format!("frame record's {e}"))),
            }
        } else {
            None
        };
        if let Err(what) = self.decode(kind, new_colours) {
            return Err(self.fail_damaged(what));
        }
        self.peeked = None;
        let info_len = if has_info { 2 + info_bytes.len() } else { 0 };
        self.pos += (RECORD_HEADER_SIZE + len + info_len) as u64;
        self.has_frame = true;
        Ok(Some(DecodedFrame {
            frame_index,
            timestamp_ns,
            pixels: &self.rgba,
            info,
        }))
    }

    fn decompress(&mut self, expected: usize, dict: Option<&[u8]>) -> Result<(), String> {
        let zerr = |code: usize| format!("zstd: {}", zstd::zstd_safe::get_error_name(code));
        self.dctx
            .reset(zstd::zstd_safe::ResetDirective::SessionAndParameters)
            .map_err(zerr)?;
        self.dctx
            .load_dictionary(dict.unwrap_or(&[]))
            .map_err(zerr)?;
        self.data.clear();
        self.data.reserve(expected);
        let size = self
            .dctx
            .decompress(&mut self.data, &self.payload)
            .map_err(zerr)?;
        if size != expected {
            return Err(format!(
                "frame decodes to {size} bytes, expected {expected}"
            ));
        }
        Ok(())
    }

    fn decode(&mut self, kind: u8, new_colours: usize) -> Result<(), String> {
        let n = self.header.pixels();
        let kind = Kind::from_u8(kind).ok_or_else(|| format!("unknown frame kind {kind}"))?;
        match kind {
            Kind::KeyIndexed | Kind::DeltaIndexed => {
                let key = kind == Kind::KeyIndexed;
                if !key && !self.indexed {
                    return Err("delta frame without a preceding indexed frame".into());
                }
                let base = if key { 0 } else { self.palette.len() };
                if base + new_colours > 256 {
                    return Err(format!("palette grows to {} colours", base + new_colours));
                }
                let prev = std::mem::take(&mut self.indices);
                let r = self.decompress(new_colours * 4 + n, (!key).then_some(&prev[..]));
                self.indices = prev;
                r?;
                if key {
                    self.palette.clear();
                }
                for c in self.data[..new_colours * 4].chunks_exact(4) {
                    self.palette.push([c[0], c[1], c[2], c[3]]);
                }
                let idx = &self.data[new_colours * 4..];
                let colours = self.palette.len();
                if let Some(bad) = idx.iter().find(|&&i| i as usize >= colours) {
                    return Err(format!(
                        "pixel index {bad} outside the {colours}-colour palette"
                    ));
                }
                self.indices.clear();
                self.indices.extend_from_slice(idx);
                self.rgba.resize(n * 4, 0);
                for (px, &i) in self.rgba.chunks_exact_mut(4).zip(&self.indices) {
                    px.copy_from_slice(&self.palette[i as usize]);
                }
                self.indexed = true;
            }
            Kind::KeyRgba | Kind::DeltaRgba => {
                let key = kind == Kind::KeyRgba;
                if !key && !self.has_frame {
                    return Err("delta frame without a preceding frame".into());
                }
                let prev = std::mem::take(&mut self.rgba);
                let r = self.decompress(n * 4, (!key).then_some(&prev[..]));
                self.rgba = prev;
                r?;
                self.rgba.clear();
                self.rgba.extend_from_slice(&self.data);
                self.indexed = false;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const W: u32 = 16;
    const H: u32 = 12;

    /// Frames with few colours that scroll, then one with more than 256 colours.
    fn frames(count: usize) -> Vec<Vec<u8>> {
        (0..count)
            .map(|i| {
                let mut f = Vec::new();
                for y in 0..H as usize {
                    for x in 0..W as usize {
                        let v = if i % 7 == 6 {
                            // Many colours: every pixel its own.
                            [(x * 16) as u8, (y * 20) as u8, i as u8, 255]
                        } else {
                            let shade = (((x + i) / 3 + y) % 4) as u8 * 60 + (i / 10) as u8;
                            [shade, shade, shade, 255]
                        };
                        f.extend_from_slice(&v);
                    }
                }
                f
            })
            .collect()
    }

    fn encode(frames: &[Vec<u8>]) -> Vec<u8> {
        let mut w = RecordingWriter::new(Vec::new(), W, H).unwrap();
        for (i, f) in frames.iter().enumerate() {
            w.write_frame(100 + i as u64, i as u64 * 16_666_667, f)
                .unwrap();
        }
        w.finish().unwrap()
    }

    /// Decodes every frame until the end or the first error.
    /// (frame index, timestamp, pixels) of each decoded frame.
    type Decoded = Vec<(u64, u64, Vec<u8>)>;

    fn decode_all(bytes: Vec<u8>) -> (Decoded, Option<RecordingError>) {
        let mut r = match RecordingReader::from_vec(bytes) {
            Ok(r) => r,
            Err(e) => return (Vec::new(), Some(e)),
        };
        let mut out = Vec::new();
        loop {
            match r.next_frame() {
                Ok(Some(f)) => out.push((f.frame_index, f.timestamp_ns, f.pixels.to_vec())),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    #[test]
    fn round_trip_is_exact() {
        let input = frames(300);
        let (out, err) = decode_all(encode(&input));
        assert!(err.is_none(), "{err:?}");
        assert_eq!(out.len(), input.len());
        for (i, (idx, ts, px)) in out.iter().enumerate() {
            assert_eq!(*idx, 100 + i as u64);
            assert_eq!(*ts, i as u64 * 16_666_667);
            assert!(px == &input[i], "frame {i} differs");
        }
    }

    #[test]
    fn truncation_names_the_offset_and_keeps_earlier_frames() {
        let input = frames(20);
        let bytes = encode(&input);
        let cut = bytes.len() - 5;
        let (out, err) = decode_all(bytes[..cut].to_vec());
        assert_eq!(out.len(), 19);
        let err = err.expect("an error");
        let msg = err.to_string();
        assert!(matches!(err, RecordingError::Truncated { .. }), "{msg}");
        assert!(msg.contains("at byte "), "{msg}");
        assert!(err.offset().unwrap() < cut as u64);
    }

    #[test]
    fn flipped_byte_names_the_record() {
        let input = frames(20);
        let mut bytes = encode(&input);
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x40;
        let (out, err) = decode_all(bytes);
        let err = err.expect("an error");
        let off = err.offset().unwrap() as usize;
        assert!(off <= mid, "damage reported at {off}, flipped {mid}");
        assert!(!out.is_empty() && out.len() < 20);
        for (i, (_, _, px)) in out.iter().enumerate() {
            assert!(px == &input[i]);
        }
        assert!(
            err.to_string().starts_with("recording damaged at byte "),
            "{err}"
        );
    }

    #[test]
    fn bad_headers_are_refused() {
        let bytes = encode(&frames(2));
        let mut v = bytes.clone();
        v[0] = b'X';
        assert!(matches!(
            RecordingReader::from_vec(v).err(),
            Some(RecordingError::BadMagic)
        ));
        let mut v = bytes.clone();
        v[8] = 9;
        assert!(matches!(
            RecordingReader::from_vec(v).err(),
            Some(RecordingError::Version(9))
        ));
        let mut v = bytes;
        v[13] ^= 1;
        assert!(RecordingReader::from_vec(v)
            .err()
            .unwrap()
            .to_string()
            .contains("at byte 0"));
        assert!(RecordingWriter::new(Vec::new(), 0, 10).is_err());
    }

    #[test]
    fn info_is_kept_with_its_frame() {
        let input = frames(10);
        let mut w = RecordingWriter::new(Vec::new(), W, H).unwrap();
        for (i, f) in input.iter().enumerate() {
            let mut info = Info::new();
            info.push("step", crate::info::Scalar::Int(i as i64))
                .unwrap();
            // Every third frame has none.
            let info = (i % 3 != 2).then_some(info);
            w.write_frame_with_info(i as u64, i as u64, f, info.as_ref())
                .unwrap();
        }
        let bytes = w.finish().unwrap();
        let mut r = RecordingReader::from_vec(bytes.clone()).unwrap();
        assert_eq!(r.header().version, 2);
        let mut i = 0;
        while let Some(f) = r.next_frame().unwrap() {
            assert!(f.pixels == &input[i][..]);
            match f.info {
                Some(info) => assert_eq!(info.line(), format!("step={i}")),
                None => assert_eq!(i % 3, 2),
            }
            i += 1;
        }
        assert_eq!(i, 10);
        // Damage inside an info section is caught by the record's checksum.
        let mut v = bytes;
        let at = v.len() - 3;
        v[at] ^= 1;
        let (out, err) = decode_all(v);
        assert_eq!(out.len(), 9);
        assert!(err.unwrap().to_string().contains("checksum"));
    }

    #[test]
    fn version_1_recordings_still_play_without_info() {
        let mut r = RecordingReader::from_bytes(crate::source::recording::DEMO_RECORDING).unwrap();
        assert_eq!(
            r.header().version,
            1,
            "the built-in demo is a version 1 file"
        );
        let f = r.next_frame().unwrap().unwrap();
        assert!(f.info.is_none());
    }

    #[test]
    fn rewind_replays_from_the_start() {
        let input = frames(10);
        let mut r = RecordingReader::from_vec(encode(&input)).unwrap();
        while r.next_frame().unwrap().is_some() {}
        r.rewind().unwrap();
        assert_eq!(r.peek_timestamp().unwrap(), Some(0));
        assert!(r.next_frame().unwrap().unwrap().pixels == &input[0][..]);
    }

    proptest! {
        #![proptest_config(crate::fixtures::fuzz_config(2000))]

        #[test]
        fn mutated_recordings_never_panic(
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
            cut in proptest::option::of(any::<usize>()),
        ) {
            let mut bytes = encode(&frames(12));
            for (pos, val) in edits {
                let n = bytes.len();
                bytes[pos % n] = val;
            }
            if let Some(c) = cut {
                let n = bytes.len();
                bytes.truncate(c % n);
            }
            let (_frames, err) = decode_all(bytes);
            if let Some(e) = err {
                prop_assert!(!e.to_string().contains('\n'));
            }
        }

    }

    proptest! {
        #![proptest_config(crate::fixtures::fuzz_config(1000))]

        #[test]
        fn random_bytes_never_panic(
            tail in proptest::collection::vec(any::<u8>(), 0..400),
            header in any::<bool>(),
        ) {
            let mut bytes = Vec::new();
            if header {
                bytes.extend_from_slice(&encode(&frames(1))[..FILE_HEADER_SIZE]);
            }
            bytes.extend_from_slice(&tail);
            let _ = decode_all(bytes);
        }
    }
}
