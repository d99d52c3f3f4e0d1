//! A Rust slot writer, the counterpart of the Python publisher: used by tests, benchmarks
//! and anything in Rust that wants to publish frames.

use super::dir::{ensure_dir, slot_path};
use super::header::{Header, HEADER_SIZE, INFO_AREA_SIZE, OFF_FRAME_INDEX, OFF_SEQ};
use super::SlotError;
use crate::clock::monotonic_ns;
use crate::frame::PixelFormat;
use crate::info::Info;
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
    /// Bytes of the info area (0: the file has none).
    info_capacity: usize,
    /// Whether the info area currently holds a non-zero length.
    info_written: bool,
    published: u64,
    last_cost_ns: u64,
}

/// The file layout a [`SlotWriter`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotLayout {
    /// Header, pixels, then the info area.
    WithInfo,
    /// The layout publishers wrote before the info area existed: flags 0, the file ends
    /// after the pixels.
    WithoutInfo,
}

impl SlotWriter {
    /// Creates `DIR/NAME.slot` (replacing any previous one atomically) with a new generation
    /// and an info area.
    pub fn create(
        dir: &Path,
        name: &str,
        width: u32,
        height: u32,
        format: PixelFormat,
    ) -> Result<SlotWriter, SlotError> {
        SlotWriter::create_with_layout(dir, name, width, height, format, SlotLayout::WithInfo)
    }

    /// Like [`SlotWriter::create`], in the given layout.
    pub fn create_with_layout(
        dir: &Path,
        name: &str,
        width: u32,
        height: u32,
        format: PixelFormat,
        layout: SlotLayout,
    ) -> Result<SlotWriter, SlotError> {
        let with_info = layout == SlotLayout::WithInfo;
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
        let header = if with_info {
            Header::encode_with_info(width, height, format, new_generation())
        } else {
            Header::encode_new(width, height, format, new_generation())
        };
        let pixel_bytes = width as usize * height as usize * format.bytes_per_pixel();
        let info_capacity = if with_info {
            INFO_AREA_SIZE as usize
        } else {
            0
        };
        file.set_len((HEADER_SIZE + pixel_bytes + info_capacity) as u64)
            .map_err(io(&tmp))?;
        file.write_all_at(&header, 0).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok(SlotWriter {
            path,
            file,
            seq: 0,
            pixel_bytes,
            info_capacity,
            info_written: false,
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
        self.publish_encoded(pixels, frame_index, None)
    }

    /// Writes one frame and its info under the same seqlock. An info that does not encode
    /// (too big) is an `InvalidInput` error and nothing is written.
    pub fn publish_with_info(
        &mut self,
        pixels: &[u8],
        frame_index: u64,
        info: Option<&Info>,
    ) -> std::io::Result<()> {
        let encoded = info
            .map(Info::encode)
            .transpose()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        self.publish_encoded(pixels, frame_index, encoded.as_deref())
    }

    /// Writes one frame with `encoded` as its info bytes, exactly as given (tests use it to
    /// write damaged info). Bytes beyond the info area are an `InvalidInput` error.
    pub fn publish_encoded(
        &mut self,
        pixels: &[u8],
        frame_index: u64,
        encoded: Option<&[u8]>,
    ) -> std::io::Result<()> {
        let start = monotonic_ns();
        if encoded.is_some_and(|e| e.len() + 4 > self.info_capacity) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "info of {} bytes does not fit the slot's info area of {} bytes",
                    encoded.map_or(0, <[u8]>::len),
                    self.info_capacity
                ),
            ));
        }
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
        let info_at = (HEADER_SIZE + self.pixel_bytes) as u64;
        match encoded {
            Some(e) => {
                let mut area = Vec::with_capacity(4 + e.len());
                area.extend_from_slice(&(e.len() as u32).to_le_bytes());
                area.extend_from_slice(e);
                self.file.write_all_at(&area, info_at)?;
                self.info_written = true;
            }
            None if self.info_written => {
                self.file.write_all_at(&0u32.to_le_bytes(), info_at)?;
                self.info_written = false;
            }
            None => {}
        }
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
