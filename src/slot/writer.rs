//! A Rust slot writer, the counterpart of the Python publisher: used by tests, benchmarks
//! and anything in Rust that wants to publish frames.

use super::dir::{ensure_dir, slot_path};
use super::header::{Header, HEADER_SIZE, OFF_FRAME_INDEX, OFF_SEQ};
use super::SlotError;
use crate::clock::monotonic_ns;
use crate::frame::PixelFormat;
use std::fs::File;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{fence, Ordering};

/// Publishes frames into one slot file. Dropping it removes the file.
#[derive(Debug)]
pub struct SlotWriter {
    path: PathBuf,
    file: File,
    seq: u64,
    pixel_bytes: usize,
    published: u64,
    last_cost_ns: u64,
}

impl SlotWriter {
    /// Creates `DIR/NAME.slot` (replacing any previous one atomically) with a new generation.
    pub fn create(
        dir: &Path,
        name: &str,
        width: u32,
        height: u32,
        format: PixelFormat,
    ) -> Result<SlotWriter, SlotError> {
        ensure_dir(dir).map_err(|source| SlotError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = slot_path(dir, name);
        let tmp = dir.join(format!(".{name}.slot.tmp-{}", std::process::id()));
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |source| SlotError::Io { path: p, source }
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io(&tmp))?;
        let header = Header::encode_new(width, height, format, new_generation());
        let pixel_bytes = width as usize * height as usize * format.bytes_per_pixel();
        file.set_len((HEADER_SIZE + pixel_bytes) as u64)
            .map_err(io(&tmp))?;
        file.write_all_at(&header, 0).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok(SlotWriter {
            path,
            file,
            seq: 0,
            pixel_bytes,
            published: 0,
            last_cost_ns: 0,
        })
    }

    /// The slot file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one frame under the seqlock: sequence odd, pixels, fields, sequence even.
    pub fn publish(&mut self, pixels: &[u8], frame_index: u64) -> std::io::Result<()> {
        let start = monotonic_ns();
        assert_eq!(
            pixels.len(),
            self.pixel_bytes,
            "frame size does not match the slot"
        );
        self.seq += 1;
        self.file
            .write_all_at(&self.seq.to_le_bytes(), OFF_SEQ as u64)?;
        fence(Ordering::Release);
        self.file.write_all_at(pixels, HEADER_SIZE as u64)?;
        self.published += 1;
        self.seq += 1;
        let mut fields = [0u8; OFF_SEQ + 8 - OFF_FRAME_INDEX];
        for (i, v) in [
            frame_index,
            start,
            self.last_cost_ns,
            self.published,
            self.published,
            self.seq,
        ]
        .into_iter()
        .enumerate()
        {
            fields[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        // Fields first, sequence last, as in the Python publisher.
        self.file
            .write_all_at(&fields[..40], OFF_FRAME_INDEX as u64)?;
        fence(Ordering::Release);
        self.file.write_all_at(&fields[40..], OFF_SEQ as u64)?;
        self.last_cost_ns = monotonic_ns() - start;
        Ok(())
    }
}

impl Drop for SlotWriter {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A generation unlikely to repeat: time and pid mixed.
fn new_generation() -> u64 {
    let t = monotonic_ns()
        ^ (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            .rotate_left(17));
    t ^ ((std::process::id() as u64) << 40) | 1
}
