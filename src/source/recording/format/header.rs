//! The file header: frame size, pixel format, codec and version, as bytes and back.

use super::error::{Damage, RecordingError, Truncation};
use super::layout::{
    u32_at, CODEC_ZSTD, FILE_HEADER_SIZE, FORMAT_RGBA, MAGIC, MAX_DIMENSION, OLDEST_VERSION,
    VERSION,
};

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
    pub(super) fn to_bytes(self) -> [u8; FILE_HEADER_SIZE] {
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

    pub(super) fn parse(b: &[u8]) -> Result<RecordingHeader, RecordingError> {
        if b.len() < 8 || b[0..8] != MAGIC {
            return Err(RecordingError::BadMagic);
        }
        if b.len() < FILE_HEADER_SIZE {
            return Err(RecordingError::Truncated {
                offset: b.len() as u64,
                what: Truncation::FileHeader,
            });
        }
        let damaged = |offset: u64, what: Damage| RecordingError::Damaged { offset, what };
        let version = u16::from_le_bytes([b[8], b[9]]);
        if !(OLDEST_VERSION..=VERSION).contains(&version) {
            return Err(RecordingError::Version(version));
        }
        if crc32fast::hash(&b[0..24]) != u32_at(b, 24) {
            return Err(damaged(0, Damage::HeaderChecksum));
        }
        if u16::from_le_bytes([b[10], b[11]]) as usize != FILE_HEADER_SIZE {
            return Err(damaged(10, Damage::HeaderSize));
        }
        let (width, height) = (u32_at(b, 12), u32_at(b, 16));
        if !(1..=MAX_DIMENSION).contains(&width) || !(1..=MAX_DIMENSION).contains(&height) {
            return Err(damaged(12, Damage::FrameSize { width, height }));
        }
        if b[20] != FORMAT_RGBA {
            return Err(damaged(20, Damage::PixelFormat(b[20])));
        }
        if b[21] != CODEC_ZSTD {
            return Err(damaged(21, Damage::Codec(b[21])));
        }
        Ok(RecordingHeader {
            width,
            height,
            keyframe_interval: u16::from_le_bytes([b[22], b[23]]),
            version,
        })
    }

    pub(super) fn pixels(&self) -> usize {
        self.width as usize * self.height as usize
    }
}
