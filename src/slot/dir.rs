//! Where slots live and how they are found.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Slot files end with this extension.
pub const SLOT_EXTENSION: &str = "slot";

/// The slot directory: `$GBWATCH_DIR`, else `/dev/shm/gbwatch` on Linux, else `$TMPDIR/gbwatch`.
pub fn default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("GBWATCH_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if cfg!(target_os = "linux") {
        PathBuf::from("/dev/shm/gbwatch")
    } else {
        std::env::temp_dir().join("gbwatch")
    }
}

/// `DIR/NAME.slot`.
pub fn slot_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.{SLOT_EXTENSION}"))
}

/// Creates the slot directory with mode 0700 if it is missing.
pub fn ensure_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// One slot file found in a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotEntry {
    /// The publisher's name (file name without `.slot`).
    pub name: String,
    /// The slot file.
    pub path: PathBuf,
}

/// A directory of slots.
#[derive(Debug, Clone)]
pub struct SlotDir {
    /// The directory.
    pub path: PathBuf,
}

impl SlotDir {
    /// The directory at `path` (not read until [`scan`](Self::scan)).
    pub fn new(path: impl Into<PathBuf>) -> SlotDir {
        SlotDir { path: path.into() }
    }

    /// Slot files in the directory, sorted by name. Hidden files (publishers' temp files)
    /// and symlinks are skipped. A missing directory is empty.
    pub fn scan(&self) -> std::io::Result<Vec<SlotEntry>> {
        let rd = match std::fs::read_dir(&self.path) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for entry in rd.flatten() {
            let path = entry.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let Some(stem) = name.strip_suffix(&format!(".{SLOT_EXTENSION}")) else {
                continue;
            };
            if entry.file_type().map(|t| !t.is_file()).unwrap_or(true) {
                continue;
            }
            out.push(SlotEntry {
                name: stem.to_string(),
                path,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// A warning when the directory is readable by others (it should be 0700).
    pub fn permission_warning(&self) -> Option<String> {
        let meta = std::fs::metadata(&self.path).ok()?;
        let mode = meta.permissions().mode() & 0o777;
        let _ = meta.uid();
        (mode & 0o077 != 0).then(|| {
            format!(
                "{}: mode {mode:o} lets other users read frames; expected 700",
                self.path.display()
            )
        })
    }
}
