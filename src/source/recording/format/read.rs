//! Reading recordings frame by frame, stopping at the first damaged or missing byte.

use super::error::{Damage, RecordingError, Truncation};
use super::header::RecordingHeader;
use super::layout::{u32_at, u64_at, Kind, FILE_HEADER_SIZE, RECORD_HAS_INFO, RECORD_HEADER_SIZE};
use super::motion::{self, Shift};
use super::pack;
use crate::info::{Info, MAX_ENCODED};
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;
use zstd::zstd_safe::DCtx;

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
    /// The frame being restored from the previous one's indices.
    next_indices: Vec<u8>,
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
            next_indices: Vec::new(),
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
            return Err(self.fail_truncated(Truncation::RecordHeader(got)));
        }
        let mut h = [0u8; RECORD_HEADER_SIZE];
        h.copy_from_slice(&self.payload[..RECORD_HEADER_SIZE]);
        self.peeked = Some(h);
        Ok(Some(h))
    }

    fn fail_truncated(&mut self, what: Truncation) -> RecordingError {
        self.failed = true;
        RecordingError::Truncated {
            offset: self.pos,
            what,
        }
    }

    fn fail_damaged(&mut self, what: Damage) -> RecordingError {
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
            return Err(self.fail_damaged(Damage::RecordLength { len, max: max_len }));
        }
        let flags = h[5];
        let has_info = self.header.version >= 2 && flags & RECORD_HAS_INFO != 0;
        let got = self.fill(len)?;
        if got < len {
            return Err(self.fail_truncated(Truncation::Record { got, len }));
        }
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&h[4..]);
        hasher.update(&self.payload);
        let mut info_bytes = Vec::new();
        if has_info {
            let mut n = Vec::with_capacity(2);
            (&mut self.input).take(2).read_to_end(&mut n)?;
            if n.len() < 2 {
                return Err(self.fail_truncated(Truncation::InfoLength));
            }
            let n = u16::from_le_bytes([n[0], n[1]]) as usize;
            if n > MAX_ENCODED {
                return Err(self.fail_damaged(Damage::InfoLength(n)));
            }
            (&mut self.input)
                .take(n as u64)
                .read_to_end(&mut info_bytes)?;
            if info_bytes.len() < n {
                return Err(self.fail_truncated(Truncation::Info {
                    got: info_bytes.len(),
                    len: n,
                }));
            }
            hasher.update(&(n as u16).to_le_bytes());
            hasher.update(&info_bytes);
        }
        if hasher.finalize() != u32_at(&h, 0) {
            return Err(self.fail_damaged(Damage::Checksum));
        }
        let info = if has_info {
            match Info::decode(&info_bytes) {
                Ok(i) => Some(Arc::new(i)),
                Err(e) => return Err(self.fail_damaged(Damage::Info(e))),
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

    fn decompress(&mut self, expected: usize, dict: Option<&[u8]>) -> Result<(), Damage> {
        let zerr = |code: usize| Damage::Zstd(zstd::zstd_safe::get_error_name(code));
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
            return Err(Damage::DecodedSize { size, expected });
        }
        Ok(())
    }

    fn decode(&mut self, kind: u8, new_colours: usize) -> Result<(), Damage> {
        let n = self.header.pixels();
        let kind = Kind::from_u8(kind).ok_or(Damage::Kind(kind))?;
        match kind {
            Kind::KeyIndexed | Kind::DeltaIndexed => {
                let key = kind == Kind::KeyIndexed;
                self.colours_after(key, new_colours)?;
                let prev = std::mem::take(&mut self.indices);
                let r = self.decompress(new_colours * 4 + n, (!key).then_some(&prev[..]));
                self.indices = prev;
                r?;
                if key {
                    self.palette.clear();
                }
                self.add_colours(new_colours);
                self.indices.clear();
                self.indices
                    .extend_from_slice(&self.data[new_colours * 4..]);
                self.paint()?;
            }
            Kind::KeyPacked | Kind::DeltaMoved => self.decode_packed(kind, new_colours)?,
            Kind::KeyRgba | Kind::DeltaRgba => {
                let key = kind == Kind::KeyRgba;
                if !key && !self.has_frame {
                    return Err(Damage::NoFrame);
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

    /// The palette's size after an indexed record adds `new_colours` (to a fresh palette for
    /// a keyframe); a delta needs an indexed frame before it.
    fn colours_after(&self, key: bool, new_colours: usize) -> Result<usize, Damage> {
        if !key && !self.indexed {
            return Err(Damage::NoIndexedFrame);
        }
        let colours = if key { 0 } else { self.palette.len() } + new_colours;
        if colours > 256 {
            return Err(Damage::PaletteSize(colours));
        }
        Ok(colours)
    }

    /// Appends the first `new_colours` colours of the decompressed data to the palette.
    fn add_colours(&mut self, new_colours: usize) {
        for c in self.data[..new_colours * 4].chunks_exact(4) {
            self.palette.push([c[0], c[1], c[2], c[3]]);
        }
    }

    /// Checks the indices against the palette and paints the RGBA frame with them.
    fn paint(&mut self) -> Result<(), Damage> {
        let colours = self.palette.len();
        if self
            .indices
            .iter()
            .max()
            .is_some_and(|&i| i as usize >= colours)
        {
            let index = *self
                .indices
                .iter()
                .find(|&&i| i as usize >= colours)
                .unwrap();
            return Err(Damage::PixelIndex { index, colours });
        }
        let mut table = [[0u8; 4]; 256];
        table[..colours].copy_from_slice(&self.palette);
        self.rgba.resize(self.indices.len() * 4, 0);
        for (px, &i) in self
            .rgba
            .as_chunks_mut::<4>()
            .0
            .iter_mut()
            .zip(&self.indices)
        {
            *px = table[i as usize];
        }
        self.indexed = true;
        Ok(())
    }

    /// Decodes a packed keyframe or a moved delta (version 3).
    fn decode_packed(&mut self, kind: Kind, new_colours: usize) -> Result<(), Damage> {
        let (n, width) = (self.header.pixels(), self.header.width as usize);
        let key = kind == Kind::KeyPacked;
        let colours = self.colours_after(key, new_colours)?;
        let bits = pack::bits_for(colours);
        let head = new_colours * 4 + if key { 0 } else { 2 + n / width };
        self.decompress(head + pack::packed_len(n, bits), None)?;
        if key {
            self.palette.clear();
        }
        self.add_colours(new_colours);
        if key {
            pack::unpack(&self.data[head..], bits, n, &mut self.indices);
        } else {
            let at = new_colours * 4;
            let shift = Shift {
                dx: self.data[at] as i8 as i32,
                dy: self.data[at + 1] as i8 as i32,
            };
            let rows = &self.data[at + 2..head];
            pack::unpack(&self.data[head..], bits, n, &mut self.next_indices);
            motion::restore(&mut self.next_indices, &self.indices, width, shift, rows);
            std::mem::swap(&mut self.indices, &mut self.next_indices);
        }
        self.paint()
    }
}
