//! Recordings: the `.gbrec` file format (RECORDING.md), the replay source and the embedded demo.

mod format;

pub use format::{
    DecodedFrame, RecordingError, RecordingHeader, RecordingInput, RecordingReader,
    RecordingWriter, FILE_HEADER_SIZE, KEYFRAME_INTERVAL, MAGIC, MAX_DIMENSION, RECORD_HEADER_SIZE,
    VERSION, ZSTD_LEVEL,
};

use super::{Poll, RawFrame, Source, SourceError};
use crate::frame::PixelFormat;
use std::path::Path;
use std::time::Instant;

/// File name extension of recordings.
pub const RECORDING_EXTENSION: &str = "gbrec";

/// Feed name and key of the embedded demo.
pub const DEMO_KEY: &str = "demo";

/// The embedded demo: real PyBoy frames of the project's own ROM (assets/demo.gb).
pub static DEMO_RECORDING: &[u8] = include_bytes!("../../../assets/demo.gbrec");

/// Shown with the demo feed: what it is and how to watch a real emulator instead.
pub const DEMO_BANNER: &[&str] = &[
    "Demo: a recording of gbwatch's own homebrew ROM (assets/demo.gb) in PyBoy.",
    "Watch your emulator instead:  pip install ./examples/python",
    "  from gbwatch import Publisher; pub = Publisher(\"env-00\")",
    "  after each pyboy.tick():  pub.publish(pyboy.screen.raw_buffer)",
];

/// Replays a recording at its original timing (scaled by `speed`), returning the newest
/// frame due at each poll. Replayed frames have no publisher timestamp: age counts from
/// arrival.
pub struct RecordingSource {
    name: String,
    reader: RecordingReader,
    speed: f64,
    looping: bool,
    started: Instant,
    restarted: bool,
    /// An error found after a frame was returned, reported at the next poll.
    pending_error: Option<RecordingError>,
    /// The damage was reported; the next poll ends (or loops).
    reported: bool,
    frames_in_pass: u64,
}

impl RecordingSource {
    /// Opens a recording file.
    pub fn open(
        name: impl Into<String>,
        path: &Path,
        speed: f64,
        looping: bool,
    ) -> Result<RecordingSource, SourceError> {
        let name = name.into();
        let file = std::fs::File::open(path)
            .map_err(|e| SourceError::Other(format!("{}: {e}", path.display())))?;
        let reader = RecordingReader::new(Box::new(std::io::BufReader::new(file)))
            .map_err(|e| SourceError::Other(format!("{}: {e}", path.display())))?;
        Ok(RecordingSource::new(name, reader, speed, looping))
    }

    /// The embedded demo recording, looping forever.
    pub fn demo(speed: f64) -> RecordingSource {
        let reader = RecordingReader::from_bytes(DEMO_RECORDING)
            .expect("the embedded demo recording is valid");
        RecordingSource::new(DEMO_KEY, reader, speed, true)
    }

    /// Replays frames from `reader`.
    pub fn new(
        name: impl Into<String>,
        reader: RecordingReader,
        speed: f64,
        looping: bool,
    ) -> RecordingSource {
        RecordingSource {
            name: name.into(),
            reader,
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
            looping,
            started: Instant::now(),
            restarted: false,
            pending_error: None,
            reported: false,
            frames_in_pass: 0,
        }
    }

    fn error(&self, e: RecordingError) -> SourceError {
        SourceError::Other(format!("{}: {e}", self.name))
    }

    /// Starts the next pass; false when the source ends instead.
    fn end_of_pass(&mut self) -> Result<bool, SourceError> {
        if !self.looping || self.frames_in_pass == 0 {
            return Ok(false);
        }
        self.reader.rewind().map_err(|e| self.error(e))?;
        self.started = Instant::now();
        self.restarted = true;
        self.reported = false;
        self.frames_in_pass = 0;
        Ok(true)
    }
}

impl Source for RecordingSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn poll(&mut self) -> Result<Poll, SourceError> {
        if let Some(e) = self.pending_error.take() {
            self.reported = true;
            return Err(self.error(e));
        }
        if self.reported {
            return if self.end_of_pass()? {
                Ok(Poll::Nothing)
            } else {
                Ok(Poll::Ended)
            };
        }
        let now_ns = (self.started.elapsed().as_nanos() as f64 * self.speed) as u64;
        let mut newest: Option<u64> = None;
        loop {
            let due = match self.reader.peek_timestamp() {
                Ok(Some(ts)) => ts <= now_ns,
                Ok(None) => {
                    if newest.is_some() {
                        break;
                    }
                    return if self.end_of_pass()? {
                        Ok(Poll::Nothing)
                    } else {
                        Ok(Poll::Ended)
                    };
                }
                Err(e) => {
                    self.pending_error = Some(e);
                    break;
                }
            };
            if !due {
                break;
            }
            match self.reader.next_frame() {
                Ok(Some(f)) => {
                    self.frames_in_pass += 1;
                    newest = Some(f.frame_index);
                }
                Ok(None) => break,
                Err(e) => {
                    self.pending_error = Some(e);
                    break;
                }
            }
        }
        match newest {
            Some(frame_index) => {
                let header = self.reader.header();
                Ok(Poll::Frame(RawFrame {
                    frame_index,
                    published_ns: None,
                    width: header.width,
                    height: header.height,
                    format: PixelFormat::Rgba,
                    stride: header.width as usize * 4,
                    pixels: self.reader.pixels().to_vec(),
                    retries: 0,
                    published_total: None,
                    publisher_cost_ns: None,
                }))
            }
            None => match self.pending_error.take() {
                Some(e) => {
                    self.reported = true;
                    Err(self.error(e))
                }
                None => Ok(Poll::Nothing),
            },
        }
    }

    fn take_restart(&mut self) -> bool {
        std::mem::take(&mut self.restarted)
    }
}
