//! The shared-memory frame slot: one file per publisher, a fixed 128-byte header and the
//! pixels of the newest frame, guarded by a seqlock. The byte layout and the memory-ordering
//! argument are documented in `src/slot/FORMAT.md`.

mod dir;
mod header;
mod reader;
mod writer;

pub use dir::{default_dir, slot_path, SlotDir, SlotEntry, SLOT_EXTENSION};
pub use header::{
    Header, FLAG_INFO, HEADER_SIZE, INFO_AREA_SIZE, MAGIC, MAX_DIMENSION, MAX_PIXEL_BYTES, VERSION,
};
pub use reader::{decode_info_area, ReadOutcome, SlotReader, SlotSnapshot};
pub use writer::{SlotLayout, SlotWriter};

use std::path::PathBuf;

/// Why a slot cannot be read. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum SlotError {
    #[error("{path}: not a gbwatch slot (wrong magic)")]
    BadMagic { path: PathBuf },
    #[error(
        "{path}: slot version {found} is not supported (this gbwatch reads version {VERSION})"
    )]
    BadVersion { path: PathBuf, found: u32 },
    #[error("{path}: unknown pixel format code {code}")]
    BadFormat { path: PathBuf, code: u32 },
    #[error("{path}: header claims {width}x{height}, larger than the {MAX_DIMENSION}x{MAX_DIMENSION} limit")]
    TooLarge {
        path: PathBuf,
        width: u32,
        height: u32,
    },
    #[error("{path}: inconsistent header ({detail})")]
    BadHeader { path: PathBuf, detail: String },
    /// The file is shorter than its header says; sizes in bytes.
    #[error("{path}: file is {actual} bytes but its header needs {needed} (truncated?)")]
    Truncated {
        path: PathBuf,
        needed: u64,
        actual: u64,
    },
    /// Owned by another user; `owner` and `me` are uids.
    #[error(
        "{path}: owned by uid {owner}, not by you (uid {me}); pass --allow-foreign to read it"
    )]
    Foreign { path: PathBuf, owner: u32, me: u32 },
    /// Not a regular file (symlinks are refused, never followed).
    #[error("{path}: not a regular file (symlinks are not followed)")]
    NotRegular { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
