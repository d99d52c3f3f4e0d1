//! What can go wrong with a recording: the kinds of damage and truncation a reader finds,
//! and what a writer refuses.

use super::layout::{MAX_DIMENSION, OLDEST_VERSION, RECORD_HEADER_SIZE, VERSION};
use crate::info::{InfoError, MAX_ENCODED};
use std::io;

/// A recording that cannot be read (any further), or a frame that cannot be written.
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
        what: Damage,
    },
    /// The file ends inside its header or a record, at byte `offset`.
    #[error("recording truncated at byte {offset}: {what}")]
    Truncated {
        /// Where the file ends, in bytes.
        offset: u64,
        /// What was being read.
        what: Truncation,
    },
    /// A writer was asked for frames of a size the format does not hold.
    #[error("frame size {width}x{height} outside 1-{MAX_DIMENSION}")]
    FrameSize {
        /// Width asked for, in pixels.
        width: u32,
        /// Height asked for, in pixels.
        height: u32,
    },
    /// A frame handed to a writer does not have its recording's size.
    #[error("frame has {got} bytes, the recording's {width}x{height} RGBA frames have {want}")]
    FrameLength {
        /// Bytes handed over.
        got: usize,
        /// The recording's frame width in pixels.
        width: u32,
        /// The recording's frame height in pixels.
        height: u32,
        /// Bytes a frame has.
        want: usize,
    },
    /// zstd failed to compress a frame (its error name).
    #[error("{0}")]
    Compress(&'static str),
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

/// How a recording's header or record is damaged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Damage {
    /// The file header's CRC does not match.
    #[error("file header checksum mismatch")]
    HeaderChecksum,
    /// The file header gives a header size other than the format's.
    #[error("unexpected header size")]
    HeaderSize,
    /// The file header's frame size is out of range.
    #[error("frame size {width}x{height} outside 1-{MAX_DIMENSION}")]
    FrameSize {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// The file header names a pixel format this build does not know.
    #[error("unknown pixel format {0}")]
    PixelFormat(u8),
    /// The file header names a codec this build does not know.
    #[error("unknown codec {0}")]
    Codec(u8),
    /// A record claims more payload than a frame can compress to.
    #[error("frame record claims {len} bytes (at most {max} possible)")]
    RecordLength {
        /// Bytes claimed.
        len: usize,
        /// The most a frame of this size can take.
        max: usize,
    },
    /// A record's info section claims more than an info can take.
    #[error("frame record's info claims {0} bytes (at most {MAX_ENCODED})")]
    InfoLength(usize),
    /// A record's CRC does not match.
    #[error("frame record checksum mismatch")]
    Checksum,
    /// A record's info does not decode.
    #[error("frame record's {0}")]
    Info(InfoError),
    /// zstd failed to decompress the payload (its error name).
    #[error("zstd: {0}")]
    Zstd(&'static str),
    /// The payload decompresses to the wrong size.
    #[error("frame decodes to {size} bytes, expected {expected}")]
    DecodedSize {
        /// Bytes it decoded to.
        size: usize,
        /// Bytes the frame needs.
        expected: usize,
    },
    /// A record kind this build does not know.
    #[error("unknown frame kind {0}")]
    Kind(u8),
    /// An indexed delta frame with no indexed frame before it.
    #[error("delta frame without a preceding indexed frame")]
    NoIndexedFrame,
    /// An RGBA delta frame with no frame before it.
    #[error("delta frame without a preceding frame")]
    NoFrame,
    /// New palette entries would take the palette past 256 colours.
    #[error("palette grows to {0} colours")]
    PaletteSize(usize),
    /// A pixel names a palette entry that does not exist.
    #[error("pixel index {index} outside the {colours}-colour palette")]
    PixelIndex {
        /// The index found.
        index: u8,
        /// Colours in the palette.
        colours: usize,
    },
}

/// What a recording ends inside of.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Truncation {
    /// The file header.
    #[error("file header incomplete")]
    FileHeader,
    /// A record's header, with this many of its bytes.
    #[error("frame record header has {0} of {RECORD_HEADER_SIZE} bytes")]
    RecordHeader(usize),
    /// A record's payload.
    #[error("frame record has {got} of {len} bytes")]
    Record {
        /// Bytes there were.
        got: usize,
        /// Bytes the record claims.
        len: usize,
    },
    /// A record's info length.
    #[error("frame record's info length is missing")]
    InfoLength,
    /// A record's info section.
    #[error("frame record's info has {got} of {len} bytes")]
    Info {
        /// Bytes there were.
        got: usize,
        /// Bytes the info claims.
        len: usize,
    },
}
