//! The shared-memory frame slot: one file per publisher, a fixed 128-byte header and the
//! pixels of the newest frame, guarded by a seqlock. The byte layout and the memory-ordering
//! argument are documented in `src/slot/FORMAT.md`.

mod dir;
mod header;
mod reader;
mod writer;

pub use dir::{default_dir, slot_path, SlotDir, SlotEntry, SLOT_EXTENSION};
pub use header::{
    frame_checksum, Header, FLAG_CHECKSUM, FLAG_INFO, HEADER_SIZE, INFO_AREA_SIZE, MAGIC,
    MAX_DIMENSION, MAX_PIXEL_BYTES, VERSION,
};
pub use reader::{decode_info_area, ReadOutcome, SlotReader, SlotSnapshot};
pub use writer::{SlotLayout, SlotWriter};

use std::path::PathBuf;

/// Why a slot cannot be read. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum SlotError {
    /// The file does not start with the slot magic.
    #[error("{path}: not a gbwatch slot (wrong magic)")]
    BadMagic {
        /// The slot file.
        path: PathBuf,
    },
    /// A slot format version this build does not read.
    #[error(
        "{path}: slot version {found} is not supported (this gbwatch reads version {VERSION})"
    )]
    BadVersion {
        /// The slot file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
    },
    /// A pixel format code this build does not know.
    #[error("{path}: unknown pixel format code {code}")]
    BadFormat {
        /// The slot file.
        path: PathBuf,
        /// The code in the file.
        code: u32,
    },
    /// Width or height over [`MAX_DIMENSION`].
    #[error("{path}: header claims {width}x{height}, larger than the {MAX_DIMENSION}x{MAX_DIMENSION} limit")]
    TooLarge {
        /// The slot file.
        path: PathBuf,
        /// The claimed width, in pixels.
        width: u32,
        /// The claimed height, in pixels.
        height: u32,
    },
    /// Header fields that contradict each other.
    #[error("{path}: inconsistent header ({detail})")]
    BadHeader {
        /// The slot file.
        path: PathBuf,
        /// Which fields, and how.
        detail: String,
    },
    /// The file is shorter than its header says; sizes in bytes.
    #[error("{path}: file is {actual} bytes but its header needs {needed} (truncated?)")]
    Truncated {
        /// The slot file.
        path: PathBuf,
        /// The size the header needs.
        needed: u64,
        /// The file's size.
        actual: u64,
    },
    /// Owned by another user; `owner` and `me` are uids.
    #[error(
        "{path}: owned by uid {owner}, not by you (uid {me}); pass --allow-foreign to read it"
    )]
    Foreign {
        /// The slot file.
        path: PathBuf,
        /// The file owner's uid.
        owner: u32,
        /// This process's uid.
        me: u32,
    },
    /// Not a regular file (symlinks are refused, never followed).
    #[error("{path}: not a regular file (symlinks are not followed)")]
    NotRegular {
        /// The slot file.
        path: PathBuf,
    },
    /// A file operation on the slot or its directory failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}
