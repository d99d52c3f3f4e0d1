//! Writing recordings: frames palette-indexed when they have at most 256 colours, each
//! compressed against the previous one.

use super::error::RecordingError;
use super::header::RecordingHeader;
use super::layout::{
    Kind, FILE_HEADER_SIZE, KEYFRAME_INTERVAL, MAX_DIMENSION, RECORD_HAS_INFO, RECORD_HEADER_SIZE,
    VERSION, ZSTD_LEVEL,
};
use super::motion::{self, ShiftFinder};
use super::pack;
use crate::info::Info;
use std::collections::HashMap;
use std::io::Write;
use zstd::zstd_safe::{CCtx, CParameter};

thread_local! {
    /// One zstd compressor per thread, shared by its writers: each frame is compressed on
    /// its own, so writers need not keep one each (about 0.5 MB apiece).
    static COMPRESSOR: std::cell::RefCell<CCtx<'static>> = std::cell::RefCell::new(CCtx::create());
}

/// Compresses `data` with zstd, with `prefix` (the previous frame), when given, as
/// raw-content dictionary.
fn compress(level: i32, data: &[u8], prefix: Option<&[u8]>) -> Result<Vec<u8>, RecordingError> {
    let zerr = |code: usize| RecordingError::Compress(zstd::zstd_safe::get_error_name(code));
    COMPRESSOR.with_borrow_mut(|cctx| {
        cctx.reset(zstd::zstd_safe::ResetDirective::SessionAndParameters)
            .map_err(zerr)?;
        cctx.set_parameter(CParameter::CompressionLevel(level))
            .map_err(zerr)?;
        if let Some(prefix) = prefix {
            cctx.load_dictionary(prefix).map_err(zerr)?;
        }
        let mut out = Vec::with_capacity(zstd::zstd_safe::compress_bound(data.len()));
        cctx.compress2(&mut out, data).map_err(zerr)?;
        Ok(out)
    })
}

/// Writes frames to a recording: palette-indexes them when they have ≤ 256 colours and
/// compresses each against the previous one.
pub struct RecordingWriter<W: Write> {
    out: W,
    header: RecordingHeader,
    /// Colours of the current palette, in index order.
    palette: Vec<[u8; 4]>,
    lookup: HashMap<[u8; 4], u8>,
    /// Previous frame's indices (valid when `prev_indexed`) and RGBA bytes.
    prev_indices: Vec<u8>,
    /// This frame's indices, and what is left of them after the previous frame's prediction.
    indices: Vec<u8>,
    residual: Vec<u8>,
    /// Each row's prediction (moved or in place) and where the picture moved.
    rows: Vec<u8>,
    finder: ShiftFinder,
    /// Indexed frames as kinds 5 and 6 ([`RecordingWriter::predict_moved`]).
    moved: bool,
    prev_indexed: bool,
    prev_rgba: Vec<u8>,
    since_key: u32,
    frames: u64,
    bytes: u64,
    level: i32,
}

impl<W: Write> RecordingWriter<W> {
    /// Writes the file header for frames of `width` x `height`.
    pub fn new(mut out: W, width: u32, height: u32) -> Result<RecordingWriter<W>, RecordingError> {
        if !(1..=MAX_DIMENSION).contains(&width) || !(1..=MAX_DIMENSION).contains(&height) {
            return Err(RecordingError::FrameSize { width, height });
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
            header,
            palette: Vec::new(),
            lookup: HashMap::new(),
            prev_indices: Vec::new(),
            indices: Vec::new(),
            residual: Vec::new(),
            rows: Vec::new(),
            finder: ShiftFinder::default(),
            moved: false,
            prev_indexed: false,
            prev_rgba: Vec::new(),
            since_key: 0,
            frames: 0,
            bytes: FILE_HEADER_SIZE as u64,
            level: ZSTD_LEVEL,
        })
    }

    /// Compresses later frames at zstd `level` instead of [`ZSTD_LEVEL`] (the history uses
    /// a faster one); readers need not know.
    pub fn set_level(&mut self, level: i32) {
        self.level = level;
    }

    /// Writes later indexed frames as kinds 5 and 6 (RECORDING.md): 2-bit indices and the
    /// previous frame moved by the scroll found, no dictionary. Faster, and smaller when
    /// frames are far apart (the history's 10 fps); frames 1/60 s apart are smaller as kinds
    /// 1 and 2, which files and streams keep so that every build reads them.
    pub fn predict_moved(&mut self) {
        self.moved = true;
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
            return Err(RecordingError::FrameLength {
                got: rgba.len(),
                width: self.header.width,
                height: self.header.height,
                want: n * 4,
            });
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

    fn encode(
        &mut self,
        rgba: &[u8],
        want_key: bool,
    ) -> Result<(Kind, usize, Vec<u8>), RecordingError> {
        // Try to index against the current palette (extended), else a fresh one.
        let mut key = want_key || !self.prev_indexed;
        let mut first_new = if key { 0 } else { self.palette.len() };
        // A keyframe lists its palette afresh: a small one is kept (and listed again), so
        // its pixels take the fast path.
        let kept = key && self.prev_indexed && self.palette.len() <= 4;
        if key && !kept {
            self.palette.clear();
            self.lookup.clear();
        }
        let mut indices = std::mem::take(&mut self.indices);
        let mut fits = index_into(rgba, &mut self.palette, &mut self.lookup, &mut indices);
        if !fits && (!key || kept) {
            // The palette overflowed: start a fresh one with a keyframe.
            key = true;
            first_new = 0;
            self.palette.clear();
            self.lookup.clear();
            fits = index_into(rgba, &mut self.palette, &mut self.lookup, &mut indices);
        }
        let result = if fits {
            let new_colours = self.palette.len() - first_new;
            let (kind, payload) = self.indexed_payload(&indices, key, first_new)?;
            self.indices = std::mem::replace(&mut self.prev_indices, indices);
            self.prev_indexed = true;
            (kind, new_colours, payload)
        } else {
            self.indices = indices;
            self.palette.clear();
            self.lookup.clear();
            // An RGBA delta follows an RGBA frame only: indexed frames keep no RGBA copy.
            let delta = !want_key && !self.prev_indexed && self.prev_rgba.len() == rgba.len();
            self.prev_indexed = false;
            let prefix = delta.then_some(&self.prev_rgba[..]);
            let payload = compress(self.level, rgba, prefix)?;
            let kind = if delta {
                Kind::DeltaRgba
            } else {
                Kind::KeyRgba
            };
            self.prev_rgba.clear();
            self.prev_rgba.extend_from_slice(rgba);
            (kind, 0, payload)
        };
        Ok(result)
    }

    /// The record kind and compressed payload of an indexed frame whose palette is new from
    /// entry `first_new` on.
    fn indexed_payload(
        &mut self,
        indices: &[u8],
        key: bool,
        first_new: usize,
    ) -> Result<(Kind, Vec<u8>), RecordingError> {
        let mut data = Vec::with_capacity((self.palette.len() - first_new) * 4 + indices.len());
        for c in &self.palette[first_new..] {
            data.extend_from_slice(c);
        }
        if !self.moved {
            data.extend_from_slice(indices);
            let prefix = (!key).then_some(&self.prev_indices[..]);
            let kind = if key {
                Kind::KeyIndexed
            } else {
                Kind::DeltaIndexed
            };
            return Ok((kind, compress(self.level, &data, prefix)?));
        }
        let bits = pack::bits_for(self.palette.len());
        let kind = if key {
            pack::pack(indices, bits, &mut data);
            Kind::KeyPacked
        } else {
            let width = self.header.width as usize;
            let shift = self.finder.find(indices, &self.prev_indices, width);
            let (rows, residual) = (&mut self.rows, &mut self.residual);
            motion::residual(indices, &self.prev_indices, width, shift, rows, residual);
            data.extend_from_slice(&[shift.dx as i8 as u8, shift.dy as i8 as u8]);
            data.extend_from_slice(rows);
            pack::pack(residual, bits, &mut data);
            Kind::DeltaMoved
        };
        Ok((kind, compress(self.level, &data, None)?))
    }

    /// Starts a new recording on `out` with the same frame size, its first frame a
    /// keyframe, and returns the previous output; the compressor and buffers are kept (the
    /// history cuts its segments this way).
    pub fn start_over(&mut self, mut out: W) -> Result<W, RecordingError> {
        out.write_all(&self.header.to_bytes())?;
        self.frames = 0;
        self.since_key = 0;
        self.bytes = FILE_HEADER_SIZE as u64;
        Ok(std::mem::replace(&mut self.out, out))
    }

    /// The underlying writer, to read what an in-memory writer holds.
    pub fn get_ref(&self) -> &W {
        &self.out
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

/// Writes the palette index of every pixel to `indices`; false when more than 256 colours
/// are needed. Pixels of the palette's first 4 colours are looked up without branches; a
/// new colour, or a palette of more, takes the hashed path.
fn index_into(
    rgba: &[u8],
    palette: &mut Vec<[u8; 4]>,
    lookup: &mut HashMap<[u8; 4], u8>,
    indices: &mut Vec<u8>,
) -> bool {
    indices.resize(rgba.len() / 4, 0);
    if (1..=4).contains(&palette.len()) && index_known(rgba, palette, indices) {
        return true;
    }
    index_hashed(rgba, palette, lookup, indices)
}

/// Indexes against a palette of 1-4 colours; false when a pixel is not in it.
fn index_known(rgba: &[u8], palette: &[[u8; 4]], indices: &mut [u8]) -> bool {
    // Slots past the palette repeat its first colour with index 0, so they change nothing.
    let mut colours = [u32::from_le_bytes(palette[0]); 4];
    let mut value = [0u8; 4];
    for (k, c) in palette.iter().enumerate() {
        colours[k] = u32::from_le_bytes(*c);
        value[k] = k as u8;
    }
    let pixels = rgba.as_chunks::<4>().0;
    #[cfg(target_arch = "x86_64")]
    let done = index_known_sse2(pixels, colours, value, indices);
    #[cfg(not(target_arch = "x86_64"))]
    let done = Some(0);
    let Some(done) = done else {
        return false;
    };
    let mut found = true;
    for (i, p) in indices[done..].iter_mut().zip(&pixels[done..]) {
        let c = u32::from_le_bytes(*p);
        let k = colours.iter().position(|&k| k == c);
        *i = k.map_or(0, |k| value[k]);
        found &= k.is_some();
    }
    found
}

/// [`index_known`] 16 pixels at a time; how many pixels it indexed (a multiple of 16), or
/// `None` when one is not in the palette.
#[cfg(target_arch = "x86_64")]
fn index_known_sse2(
    pixels: &[[u8; 4]],
    colours: [u32; 4],
    value: [u8; 4],
    indices: &mut [u8],
) -> Option<usize> {
    use std::arch::x86_64::*;
    let (out, _) = indices.as_chunks_mut::<16>();
    let (groups, _) = pixels.as_chunks::<16>();
    // SAFETY: SSE2 is part of every x86_64 CPU; every load reads 16 bytes inside a group of
    // 16 pixels (64 bytes) and every store writes the 16 bytes of one output chunk.
    unsafe {
        let c = colours.map(|c| _mm_set1_epi32(c as i32));
        let v = value.map(|v| _mm_set1_epi32(v as i32));
        let mut found = _mm_set1_epi32(-1);
        // Indices of 4 pixels as 32-bit lanes; clears `found` lanes of pixels not in it.
        let mut quad = |px: __m128i| {
            let e0 = _mm_cmpeq_epi32(px, c[0]);
            let e1 = _mm_cmpeq_epi32(px, c[1]);
            let e2 = _mm_cmpeq_epi32(px, c[2]);
            let e3 = _mm_cmpeq_epi32(px, c[3]);
            let any = _mm_or_si128(_mm_or_si128(e0, e1), _mm_or_si128(e2, e3));
            found = _mm_and_si128(found, any);
            _mm_or_si128(
                _mm_or_si128(_mm_and_si128(e1, v[1]), _mm_and_si128(e2, v[2])),
                _mm_and_si128(e3, v[3]),
            )
        };
        for (o, g) in out.iter_mut().zip(groups) {
            let p = g.as_ptr().cast::<__m128i>();
            let a = quad(_mm_loadu_si128(p));
            let b = quad(_mm_loadu_si128(p.add(1)));
            let low = _mm_packs_epi32(a, b);
            let a = quad(_mm_loadu_si128(p.add(2)));
            let b = quad(_mm_loadu_si128(p.add(3)));
            let high = _mm_packs_epi32(a, b);
            _mm_storeu_si128(o.as_mut_ptr().cast(), _mm_packus_epi16(low, high));
        }
        (_mm_movemask_epi8(found) == 0xFFFF).then_some(groups.len().min(out.len()) * 16)
    }
}

/// Indexes any palette, adding new colours; false past 256. A small table in front of
/// `lookup` answers most pixels without hashing them.
fn index_hashed(
    rgba: &[u8],
    palette: &mut Vec<[u8; 4]>,
    lookup: &mut HashMap<[u8; 4], u8>,
    indices: &mut [u8],
) -> bool {
    // (colour, index + 1) by a multiplicative hash of the colour; 0 means empty.
    let mut near = [(0u32, 0u16); 64];
    let slot = |c: u32| (c.wrapping_mul(0x9E37_79B1) >> 26) as usize;
    let mut last = (u32::MAX, 0u8, false);
    for (out, p) in indices.iter_mut().zip(rgba.chunks_exact(4)) {
        let c = [p[0], p[1], p[2], p[3]];
        let key = u32::from_le_bytes(c);
        if last.2 && last.0 == key {
            *out = last.1;
            continue;
        }
        let (k, v) = near[slot(key)];
        let i = if v != 0 && k == key {
            (v - 1) as u8
        } else {
            let i = match lookup.get(&c) {
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
            };
            near[slot(key)] = (key, i as u16 + 1);
            i
        };
        last = (key, i, true);
        *out = i;
    }
    true
}
