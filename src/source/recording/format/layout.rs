//! The numbers of the recording format (RECORDING.md): magic, versions, sizes, limits,
//! record kinds and flags, and the little-endian reads of fixed fields.

/// First 8 bytes of every recording.
pub const MAGIC: [u8; 8] = *b"GBWREC\0\0";
/// Format version this build writes; it also reads [`OLDEST_VERSION`] and later.
pub const VERSION: u16 = 2;
/// The oldest format version this build reads (version 1 has no info).
pub const OLDEST_VERSION: u16 = 1;
/// Record flag (byte 5, version 2): an info section follows the payload.
pub(super) const RECORD_HAS_INFO: u8 = 1;
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

pub(super) const FORMAT_RGBA: u8 = 0;
pub(super) const CODEC_ZSTD: u8 = 1;

/// How a record's pixels are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Kind {
    /// Palette (reset) plus one index byte per pixel.
    KeyIndexed = 1,
    /// New palette entries plus indices, compressed against the previous frame's indices.
    DeltaIndexed = 2,
    /// RGBA bytes (more than 256 colours).
    KeyRgba = 3,
    /// RGBA bytes compressed against the previous frame's RGBA bytes.
    DeltaRgba = 4,
    /// Palette (reset) plus indices packed at the bits the palette needs (the history).
    KeyPacked = 5,
    /// New palette entries, where the picture moved, each row's prediction, and the indices
    /// XOR the prediction from the previous frame, packed (the history).
    DeltaMoved = 6,
}

impl Kind {
    pub(super) fn from_u8(v: u8) -> Option<Kind> {
        Some(match v {
            1 => Kind::KeyIndexed,
            2 => Kind::DeltaIndexed,
            3 => Kind::KeyRgba,
            4 => Kind::DeltaRgba,
            5 => Kind::KeyPacked,
            6 => Kind::DeltaMoved,
            _ => return None,
        })
    }
}

pub(super) fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}

pub(super) fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap())
}
