//! The slot header: byte offsets, parsing and validation.

use super::SlotError;
use crate::frame::PixelFormat;
use std::path::Path;

/// First 8 bytes of every slot file.
pub const MAGIC: [u8; 8] = *b"GBWSLOT\0";
/// Slot layout version this build reads and writes.
pub const VERSION: u32 = 1;
/// Size of the header; pixels start right after it.
pub const HEADER_SIZE: usize = 128;
/// Largest width or height accepted.
pub const MAX_DIMENSION: u32 = 8192;
/// Largest pixel area accepted, in bytes (guards against absurd headers).
pub const MAX_PIXEL_BYTES: u64 = 256 << 20;

// Byte offsets, all little-endian. Keep in sync with FORMAT.md and examples/python/gbwatch.
pub(crate) const OFF_VERSION: usize = 8;
pub(crate) const OFF_HEADER_SIZE: usize = 12;
pub(crate) const OFF_WIDTH: usize = 16;
pub(crate) const OFF_HEIGHT: usize = 20;
pub(crate) const OFF_FORMAT: usize = 24;
pub(crate) const OFF_STRIDE: usize = 28;
pub(crate) const OFF_PID: usize = 32;
pub(crate) const OFF_FLAGS: usize = 36;
pub(crate) const OFF_GENERATION: usize = 40;
pub(crate) const OFF_FRAME_INDEX: usize = 48;
pub(crate) const OFF_TIMESTAMP: usize = 56;
pub(crate) const OFF_COST: usize = 64;
pub(crate) const OFF_PUBLISHED: usize = 72;
pub(crate) const OFF_OFFERED: usize = 80;
pub(crate) const OFF_SEQ: usize = 88;
pub(crate) const OFF_HEARTBEAT: usize = 96;
pub(crate) const OFF_INFO_CAPACITY: usize = 112;
pub(crate) const OFF_CHECKSUM: usize = 116;

/// `flags` bit: the file has an info area after the pixels (its size at offset 112).
pub const FLAG_INFO: u32 = 1;
/// `flags` bit: every frame carries a checksum at offset 116 (see [`frame_checksum`]), for
/// CPUs that may make a publisher's stores visible out of order.
pub const FLAG_CHECKSUM: u32 = 2;
/// Size of the info area publishers create: a 4-byte length and up to
/// [`crate::info::MAX_ENCODED`] bytes of encoded info.
pub const INFO_AREA_SIZE: u32 = 4 + crate::info::MAX_ENCODED as u32;

/// A parsed, validated slot header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Pixel format of the slot.
    pub format: PixelFormat,
    /// Bytes per row in the slot (at least `width * bytes_per_pixel`).
    pub stride: u32,
    /// The publisher's process id.
    pub pid: u32,
    /// Changes whenever a publisher (re)creates the slot.
    pub generation: u64,
    /// Seqlock counter: odd while the publisher writes.
    pub seq: u64,
    /// The emulator's frame number of the frame in the slot.
    pub frame_index: u64,
    /// Publisher's `CLOCK_MONOTONIC` time of the frame, in ns.
    pub timestamp_ns: u64,
    /// Publisher's measured cost of its previous `publish()`, in ns.
    pub publish_cost_ns: u64,
    /// Frames the publisher copied into the slot.
    pub published: u64,
    /// `publish()` calls, including those skipped because nobody watched.
    pub offered: u64,
    /// A reader's last visit, `CLOCK_MONOTONIC` in ns (0: never); publishers skip copying
    /// frames when it is 0 or over 2 s old.
    pub reader_heartbeat_ns: u64,
    /// Bytes of the info area after the pixels; 0 when the file has none (publishers older
    /// than the info area, or that never send info).
    pub info_capacity: u32,
    /// The frame's checksum when the publisher writes one ([`FLAG_CHECKSUM`]).
    pub checksum: Option<u32>,
}

/// The checksum a publisher with [`FLAG_CHECKSUM`] stores with a frame: CRC-32 (zlib's)
/// of the pixels, then the info area's length and encoding, then `frame_index` (8 bytes,
/// little-endian). `info_area` is the whole area; only its declared part counts.
pub fn frame_checksum(pixels: &[u8], info_area: &[u8], frame_index: u64) -> u32 {
    let mut crc = crc32fast::Hasher::new();
    crc.update(pixels);
    if info_area.len() >= 4 {
        let len = u32_at(info_area, 0) as usize;
        crc.update(&info_area[..(4 + len).min(info_area.len())]);
    }
    crc.update(&frame_index.to_le_bytes());
    crc.finalize()
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap())
}

/// Format codes as stored in the header.
pub(crate) fn format_code(format: PixelFormat) -> u32 {
    match format {
        PixelFormat::Rgba => 1,
        PixelFormat::Rgb => 2,
        PixelFormat::Bgra => 3,
        PixelFormat::Gray8 => 4,
    }
}

fn format_from_code(code: u32) -> Option<PixelFormat> {
    Some(match code {
        1 => PixelFormat::Rgba,
        2 => PixelFormat::Rgb,
        3 => PixelFormat::Bgra,
        4 => PixelFormat::Gray8,
        _ => return None,
    })
}

/// The size of the info area the header declares (0 without one). Unknown flag bits are
/// optional areas a newer publisher added: ignored.
fn info_capacity(bytes: &[u8], path: &Path) -> Result<u32, SlotError> {
    if u32_at(bytes, OFF_FLAGS) & FLAG_INFO == 0 {
        return Ok(0);
    }
    let cap = u32_at(bytes, OFF_INFO_CAPACITY);
    if !(4..=INFO_AREA_SIZE).contains(&cap) {
        return Err(SlotError::BadHeader {
            path: path.to_path_buf(),
            detail: format!("info area of {cap} bytes (4-{INFO_AREA_SIZE} allowed)"),
        });
    }
    Ok(cap)
}

impl Header {
    /// Parses and validates `bytes` (at least [`HEADER_SIZE`] long) of a file of `file_len` bytes.
    pub fn parse(bytes: &[u8], file_len: u64, path: &Path) -> Result<Header, SlotError> {
        let path_buf = || path.to_path_buf();
        if bytes.len() < HEADER_SIZE {
            return Err(SlotError::Truncated {
                path: path_buf(),
                needed: HEADER_SIZE as u64,
                actual: file_len,
            });
        }
        if bytes[..8] != MAGIC {
            return Err(SlotError::BadMagic { path: path_buf() });
        }
        let version = u32_at(bytes, OFF_VERSION);
        if version != VERSION {
            return Err(SlotError::BadVersion {
                path: path_buf(),
                found: version,
            });
        }
        let header_size = u32_at(bytes, OFF_HEADER_SIZE);
        if header_size as usize != HEADER_SIZE {
            return Err(SlotError::BadHeader {
                path: path_buf(),
                detail: format!("header size {header_size}, expected {HEADER_SIZE}"),
            });
        }
        let code = u32_at(bytes, OFF_FORMAT);
        let format = format_from_code(code).ok_or(SlotError::BadFormat {
            path: path_buf(),
            code,
        })?;
        let (width, height, stride) = (
            u32_at(bytes, OFF_WIDTH),
            u32_at(bytes, OFF_HEIGHT),
            u32_at(bytes, OFF_STRIDE),
        );
        if width > MAX_DIMENSION || height > MAX_DIMENSION {
            return Err(SlotError::TooLarge {
                path: path_buf(),
                width,
                height,
            });
        }
        if width == 0 || height == 0 {
            return Err(SlotError::BadHeader {
                path: path_buf(),
                detail: format!("empty frame {width}x{height}"),
            });
        }
        let row = width as u64 * format.bytes_per_pixel() as u64;
        if (stride as u64) < row {
            return Err(SlotError::BadHeader {
                path: path_buf(),
                detail: format!("stride {stride} is smaller than a row of {row} bytes"),
            });
        }
        let pixel_bytes = stride as u64 * height as u64;
        if pixel_bytes > MAX_PIXEL_BYTES {
            return Err(SlotError::TooLarge {
                path: path_buf(),
                width,
                height,
            });
        }
        let info_capacity = info_capacity(bytes, path)?;
        let needed = HEADER_SIZE as u64 + pixel_bytes + info_capacity as u64;
        if file_len < needed {
            return Err(SlotError::Truncated {
                path: path_buf(),
                needed,
                actual: file_len,
            });
        }
        Ok(Header {
            width,
            height,
            format,
            stride,
            pid: u32_at(bytes, OFF_PID),
            generation: u64_at(bytes, OFF_GENERATION),
            seq: u64_at(bytes, OFF_SEQ),
            frame_index: u64_at(bytes, OFF_FRAME_INDEX),
            timestamp_ns: u64_at(bytes, OFF_TIMESTAMP),
            publish_cost_ns: u64_at(bytes, OFF_COST),
            published: u64_at(bytes, OFF_PUBLISHED),
            offered: u64_at(bytes, OFF_OFFERED),
            reader_heartbeat_ns: u64_at(bytes, OFF_HEARTBEAT),
            info_capacity,
            checksum: (u32_at(bytes, OFF_FLAGS) & FLAG_CHECKSUM != 0)
                .then(|| u32_at(bytes, OFF_CHECKSUM)),
        })
    }

    /// Bytes of pixel data after the header.
    pub fn pixel_bytes(&self) -> usize {
        self.stride as usize * self.height as usize
    }

    /// Offset of the info area (right after the pixels).
    pub fn info_offset(&self) -> u64 {
        HEADER_SIZE as u64 + self.pixel_bytes() as u64
    }

    /// Serialises a fresh header with an info area of [`INFO_AREA_SIZE`] bytes after the
    /// pixels (what both publishers write).
    pub fn encode_with_info(
        width: u32,
        height: u32,
        format: PixelFormat,
        generation: u64,
    ) -> [u8; HEADER_SIZE] {
        let mut b = Header::encode_new(width, height, format, generation);
        b[OFF_FLAGS..OFF_FLAGS + 4].copy_from_slice(&FLAG_INFO.to_le_bytes());
        b[OFF_INFO_CAPACITY..OFF_INFO_CAPACITY + 4].copy_from_slice(&INFO_AREA_SIZE.to_le_bytes());
        b
    }

    /// Serialises a fresh header without an info area (the layout before it existed;
    /// sequence 0, no frame yet).
    pub fn encode_new(
        width: u32,
        height: u32,
        format: PixelFormat,
        generation: u64,
    ) -> [u8; HEADER_SIZE] {
        let mut b = [0u8; HEADER_SIZE];
        let stride = width * format.bytes_per_pixel() as u32;
        b[..8].copy_from_slice(&MAGIC);
        b[OFF_VERSION..OFF_VERSION + 4].copy_from_slice(&VERSION.to_le_bytes());
        b[OFF_HEADER_SIZE..OFF_HEADER_SIZE + 4]
            .copy_from_slice(&(HEADER_SIZE as u32).to_le_bytes());
        b[OFF_WIDTH..OFF_WIDTH + 4].copy_from_slice(&width.to_le_bytes());
        b[OFF_HEIGHT..OFF_HEIGHT + 4].copy_from_slice(&height.to_le_bytes());
        b[OFF_FORMAT..OFF_FORMAT + 4].copy_from_slice(&format_code(format).to_le_bytes());
        b[OFF_STRIDE..OFF_STRIDE + 4].copy_from_slice(&stride.to_le_bytes());
        b[OFF_PID..OFF_PID + 4].copy_from_slice(&std::process::id().to_le_bytes());
        b[OFF_GENERATION..OFF_GENERATION + 8].copy_from_slice(&generation.to_le_bytes());
        b
    }
}
