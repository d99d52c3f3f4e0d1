//! Reads consistent frames out of a slot written concurrently by a publisher.
//!
//! The reader never maps the file: it copies with `pread`, so a slot truncated or deleted
//! while watched gives a short read (an error), never a SIGBUS.

use super::header::{frame_checksum, Header, HEADER_SIZE, OFF_HEARTBEAT, OFF_SEQ};
use super::SlotError;
use crate::clock::monotonic_ns;
use crate::info::{Info, InfoError};
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{fence, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the reader stamps its heartbeat into the slot.
const HEARTBEAT_EVERY: Duration = Duration::from_millis(250);
/// Attempts at a consistent copy before giving up until the next poll.
const MAX_ATTEMPTS: u32 = 8;

/// A consistent copy of the slot's newest frame.
#[derive(Debug, Clone)]
pub struct SlotSnapshot {
    /// The header as read with the pixels.
    pub header: Header,
    /// Pixel rows in the slot's own format and stride.
    pub pixels: Vec<u8>,
    /// The info published with these pixels (same seqlock copy), if any.
    pub info: Option<Arc<Info>>,
    /// Why the info area of this frame could not be decoded (the frame is still good).
    pub info_error: Option<InfoError>,
    /// Copies thrown away because the publisher wrote during them.
    pub retries: u32,
}

/// What one read found.
#[derive(Debug)]
pub enum ReadOutcome {
    /// A new, consistent frame.
    Frame(SlotSnapshot),
    /// Same sequence as the last frame returned.
    Unchanged,
    /// The publisher has not published a frame yet.
    NoFrameYet,
    /// The publisher kept writing during every attempt; try again soon.
    Busy {
        /// Copies attempted and thrown away.
        retries: u32,
    },
}

/// An open slot.
#[derive(Debug)]
pub struct SlotReader {
    path: PathBuf,
    file: File,
    writable: bool,
    header: Header,
    ino: (u64, u64),
    last_seq: Option<u64>,
    last_heartbeat: Option<Instant>,
    capture_fps: u64,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SlotError + '_ {
    move |source| SlotError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl SlotReader {
    /// Opens and validates a slot. Symlinks are refused; so are slots owned by another user
    /// unless `allow_foreign`.
    pub fn open(path: &Path, allow_foreign: bool) -> Result<SlotReader, SlotError> {
        let open = |write: bool| {
            std::fs::OpenOptions::new()
                .read(true)
                .write(write)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
                .open(path)
        };
        let (file, writable) = match open(true) {
            Ok(f) => (f, true),
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(SlotError::NotRegular {
                    path: path.to_path_buf(),
                })
            }
            Err(_) => (open(false).map_err(io_err(path))?, false),
        };
        let meta = file.metadata().map_err(io_err(path))?;
        if !meta.file_type().is_file() {
            return Err(SlotError::NotRegular {
                path: path.to_path_buf(),
            });
        }
        // SAFETY: geteuid has no preconditions.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me && !allow_foreign {
            return Err(SlotError::Foreign {
                path: path.to_path_buf(),
                owner: meta.uid(),
                me,
            });
        }
        let mut head = [0u8; HEADER_SIZE];
        let n = read_full(&file, &mut head, 0).map_err(io_err(path))?;
        let header = Header::parse(&head[..n], meta.len(), path)?;
        let mut reader = SlotReader {
            path: path.to_path_buf(),
            file,
            writable,
            header,
            ino: (meta.dev(), meta.ino()),
            last_seq: None,
            last_heartbeat: None,
            capture_fps: 0,
        };
        reader.heartbeat();
        Ok(reader)
    }

    /// The slot's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The header as last read (geometry is fixed for the life of a slot file).
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Re-reads the header without copying pixels (counters, pid, heartbeat).
    pub fn refresh_header(&mut self) -> Result<&Header, SlotError> {
        let mut head = [0u8; HEADER_SIZE];
        let n = read_full(&self.file, &mut head, 0).map_err(io_err(&self.path))?;
        let len = self.file.metadata().map_err(io_err(&self.path))?.len();
        let header = Header::parse(&head[..n], len, &self.path)?;
        self.check_geometry(&header)?;
        self.header = header;
        Ok(&self.header)
    }

    /// True when the path now names a different file (publisher restarted) or nothing.
    pub fn replaced(&self) -> bool {
        match std::fs::symlink_metadata(&self.path) {
            Ok(m) => (m.dev(), m.ino()) != self.ino,
            Err(_) => true,
        }
    }

    /// True while the publisher's process exists (same pid namespace).
    pub fn publisher_alive(&self) -> bool {
        pid_alive(self.header.pid)
    }

    /// Tells the publisher (with the next heartbeat) how many frames per second this reader
    /// captures, so it need not copy frames nobody will read. 0: every frame.
    pub fn set_capture_fps(&mut self, fps: u32) {
        if u64::from(fps) != self.capture_fps {
            self.capture_fps = fps.into();
            self.last_heartbeat = None;
        }
    }

    /// Stamps the reader heartbeat if due, so the publisher keeps copying frames.
    pub fn heartbeat(&mut self) {
        if !self.writable
            || self
                .last_heartbeat
                .is_some_and(|t| t.elapsed() < HEARTBEAT_EVERY)
        {
            return;
        }
        self.last_heartbeat = Some(Instant::now());
        let mut stamp = [0u8; 16];
        stamp[..8].copy_from_slice(&monotonic_ns().to_le_bytes());
        stamp[8..].copy_from_slice(&self.capture_fps.to_le_bytes());
        // A failed stamp only means the publisher may pause copying; reading still works.
        let _ = self.file.write_all_at(&stamp, OFF_HEARTBEAT as u64);
    }

    /// Copies the newest frame if it is new and consistent.
    pub fn read(&mut self) -> Result<ReadOutcome, SlotError> {
        self.heartbeat();
        let mut retries = 0;
        let pixel_bytes = self.header.pixel_bytes();
        // The info area is copied with the pixels, inside the same seqlock read.
        let body_bytes = pixel_bytes + self.header.info_capacity as usize;
        for _ in 0..MAX_ATTEMPTS {
            let seq_before = self.read_seq()?;
            if seq_before == 0 {
                return Ok(ReadOutcome::NoFrameYet);
            }
            if Some(seq_before) == self.last_seq {
                return Ok(ReadOutcome::Unchanged);
            }
            if seq_before % 2 == 1 {
                retries += 1;
                std::hint::spin_loop();
                continue;
            }
            fence(Ordering::Acquire);
            let mut head = [0u8; HEADER_SIZE];
            let mut pixels = vec![0u8; body_bytes];
            let n = self.read_header_and_pixels(&mut head, &mut pixels)?;
            if n < HEADER_SIZE + body_bytes {
                let actual = self.file.metadata().map(|m| m.len()).unwrap_or(n as u64);
                return Err(SlotError::Truncated {
                    path: self.path.clone(),
                    needed: (HEADER_SIZE + body_bytes) as u64,
                    actual,
                });
            }
            fence(Ordering::Acquire);
            let seq_after = self.read_seq()?;
            let header = Header::parse(&head, n as u64, &self.path)?;
            if header.seq != seq_before || seq_after != seq_before {
                retries += 1;
                continue;
            }
            if let Some(want) = header.checksum {
                let (px, info) = pixels.split_at(pixel_bytes);
                if frame_checksum(px, info, header.frame_index) != want {
                    // Stores seen out of order (or not all yet): this copy mixes frames.
                    retries += 1;
                    continue;
                }
            }
            self.check_geometry(&header)?;
            self.header = header;
            self.last_seq = Some(seq_before);
            let (info, info_error) = match decode_info_area(&pixels[pixel_bytes..]) {
                Ok(info) => (info, None),
                Err(e) => (None, Some(e)),
            };
            pixels.truncate(pixel_bytes);
            return Ok(ReadOutcome::Frame(SlotSnapshot {
                header,
                pixels,
                info,
                info_error,
                retries,
            }));
        }
        Ok(ReadOutcome::Busy { retries })
    }

    fn check_geometry(&self, header: &Header) -> Result<(), SlotError> {
        let h = &self.header;
        if (
            header.width,
            header.height,
            header.format,
            header.stride,
            header.generation,
            header.info_capacity,
        ) != (
            h.width,
            h.height,
            h.format,
            h.stride,
            h.generation,
            h.info_capacity,
        ) {
            return Err(SlotError::BadHeader {
                path: self.path.clone(),
                detail: "geometry or generation changed in place; publishers must create a new slot file".into(),
            });
        }
        Ok(())
    }

    fn read_seq(&self) -> Result<u64, SlotError> {
        let mut b = [0u8; 8];
        let n = read_full(&self.file, &mut b, OFF_SEQ as u64).map_err(io_err(&self.path))?;
        if n < 8 {
            return Err(SlotError::Truncated {
                path: self.path.clone(),
                needed: HEADER_SIZE as u64,
                actual: n as u64 + OFF_SEQ as u64,
            });
        }
        Ok(u64::from_le_bytes(b))
    }

    /// One `preadv` into the header and the pixel buffer: no intermediate copy.
    fn read_header_and_pixels(
        &self,
        head: &mut [u8],
        pixels: &mut [u8],
    ) -> Result<usize, SlotError> {
        use std::os::fd::AsRawFd;
        let iov = [
            libc::iovec {
                iov_base: head.as_mut_ptr().cast(),
                iov_len: head.len(),
            },
            libc::iovec {
                iov_base: pixels.as_mut_ptr().cast(),
                iov_len: pixels.len(),
            },
        ];
        let total = head.len() + pixels.len();
        let mut done = 0usize;
        // A regular file on tmpfs returns everything in one call; loop for the general case.
        while done < total {
            let n = if done == 0 {
                // SAFETY: both iovecs point at live, writable buffers of the stated lengths.
                unsafe { libc::preadv(self.file.as_raw_fd(), iov.as_ptr(), 2, 0) }
            } else if done < head.len() {
                // Rare partial read inside the header: restart cleanly.
                return Ok(done);
            } else {
                let off = done - head.len();
                // SAFETY: the pointer and length stay inside `pixels`.
                unsafe {
                    libc::pread(
                        self.file.as_raw_fd(),
                        pixels[off..].as_mut_ptr().cast(),
                        pixels.len() - off,
                        done as libc::off_t,
                    )
                }
            };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(io_err(&self.path)(e));
            }
            if n == 0 {
                break;
            }
            done += n as usize;
        }
        Ok(done)
    }
}

/// Decodes a copied info area: a little-endian u32 length, then that many bytes of
/// [`Info`] encoding. Length 0 (or no area) is no info.
pub fn decode_info_area(area: &[u8]) -> Result<Option<Arc<Info>>, InfoError> {
    if area.len() < 4 {
        return Ok(None);
    }
    let n = u32::from_le_bytes(area[..4].try_into().unwrap()) as usize;
    if n == 0 {
        return Ok(None);
    }
    let body = &area[4..];
    if n > body.len() {
        return Err(InfoError::Damaged {
            offset: 0,
            what: "length is larger than the info area",
        });
    }
    Info::decode(&body[..n]).map(|i| Some(Arc::new(i)))
}

/// Reads as much of `buf` as the file has at `offset`.
fn read_full(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// True while a process with this pid exists (or exists but is not ours to signal).
pub fn pid_alive(pid: u32) -> bool {
    if pid == 0 || pid > i32::MAX as u32 {
        return false;
    }
    // SAFETY: signal 0 performs only the existence and permission check.
    let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}
