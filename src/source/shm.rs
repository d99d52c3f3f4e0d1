//! The shared-memory slot source: one publisher's slot file.

use super::{Poll, RawFrame, Source, SourceError};
use crate::slot::{ReadOutcome, SlotError, SlotReader, SlotSnapshot};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often the slot path is checked for a restarted or vanished publisher.
const LIVENESS_EVERY: Duration = Duration::from_millis(500);
/// A slot missing for this long retires its feed (a publisher with the same name that comes
/// back later is discovered afresh).
const GONE_AFTER: Duration = Duration::from_secs(10);

/// Reads one slot file, reopening it when its publisher restarts.
#[derive(Debug)]
pub struct ShmSource {
    name: String,
    path: PathBuf,
    allow_foreign: bool,
    reader: Option<SlotReader>,
    last_liveness: Instant,
    missing_since: Option<Instant>,
    restarted: bool,
    capture_fps: u32,
}

impl ShmSource {
    /// Opens the slot at `path`; the first read validates it.
    pub fn open(
        name: impl Into<String>,
        path: &Path,
        allow_foreign: bool,
    ) -> Result<ShmSource, SlotError> {
        let reader = SlotReader::open(path, allow_foreign)?;
        Ok(ShmSource {
            name: name.into(),
            path: path.to_path_buf(),
            allow_foreign,
            reader: Some(reader),
            last_liveness: Instant::now(),
            missing_since: None,
            restarted: false,
            capture_fps: 0,
        })
    }

    /// The open reader, if the slot is currently open.
    pub fn reader(&self) -> Option<&SlotReader> {
        self.reader.as_ref()
    }

    fn check_liveness(&mut self) -> Result<Option<String>, SourceError> {
        let replaced = self.reader.as_ref().is_none_or(|r| r.replaced());
        if replaced {
            match SlotReader::open(&self.path, self.allow_foreign) {
                Ok(r) => {
                    let new_gen = r.header().generation;
                    let old_gen = self.reader.as_ref().map(|r| r.header().generation);
                    if old_gen != Some(new_gen) {
                        self.restarted = old_gen.is_some() || self.reader.is_none();
                    }
                    self.reader = Some(r);
                    if let Some(r) = &mut self.reader {
                        r.set_capture_fps(self.capture_fps);
                    }
                }
                Err(SlotError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    self.reader = None;
                    self.missing_since.get_or_insert_with(Instant::now);
                    return Ok(Some("publisher closed its slot".into()));
                }
                Err(e) => {
                    self.reader = None;
                    return Err(e.into());
                }
            }
        }
        self.missing_since = None;
        let reader = self.reader.as_ref().expect("reader present");
        if !reader.publisher_alive() {
            return Ok(Some(format!(
                "publisher pid {} has exited",
                reader.header().pid
            )));
        }
        Ok(None)
    }
}

impl Source for ShmSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn poll(&mut self) -> Result<Poll, SourceError> {
        if self.reader.is_none() || self.last_liveness.elapsed() >= LIVENESS_EVERY {
            self.last_liveness = Instant::now();
            if let Some(reason) = self.check_liveness()? {
                if self
                    .missing_since
                    .is_some_and(|t| t.elapsed() >= GONE_AFTER)
                {
                    return Ok(Poll::Gone);
                }
                return Ok(Poll::Offline(reason));
            }
        }
        let reader = self.reader.as_mut().expect("reader present");
        match reader.read()? {
            ReadOutcome::Frame(snap) => Ok(Poll::Frame(raw_frame(snap))),
            // A live publisher with no new frame: capture marks the feed stale in time.
            ReadOutcome::NoFrameYet | ReadOutcome::Unchanged | ReadOutcome::Busy { .. } => {
                Ok(Poll::Nothing)
            }
        }
    }

    fn set_capture_fps(&mut self, fps: u32) {
        self.capture_fps = fps;
        if let Some(r) = &mut self.reader {
            r.set_capture_fps(fps);
        }
    }

    fn take_restart(&mut self) -> bool {
        std::mem::take(&mut self.restarted)
    }
}

/// A frame read from a slot, as the pipeline takes it.
pub fn raw_frame(snap: SlotSnapshot) -> RawFrame {
    let h = snap.header;
    RawFrame {
        frame_index: h.frame_index,
        published_ns: Some(h.timestamp_ns),
        width: h.width,
        height: h.height,
        format: h.format,
        stride: h.stride as usize,
        pixels: snap.pixels,
        retries: snap.retries,
        published_total: Some(h.published),
        publisher_cost_ns: Some(h.publish_cost_ns),
        info: snap.info,
        info_error: snap.info_error,
    }
}
