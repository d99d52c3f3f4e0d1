//! Recordings: the `.gbrec` file format (RECORDING.md), the replay source and the embedded demo.

mod format;
mod frames;
mod multi;

pub use frames::{single_env_name, EnvFrames, EnvFramesError, RecordedFrame};
pub use multi::{recorded_envs, StreamRecordingSource};

pub use format::{
    Damage, DecodedFrame, RecordingError, RecordingHeader, RecordingInput, RecordingReader,
    RecordingWriter, Truncation, FILE_HEADER_SIZE, KEYFRAME_INTERVAL, MAGIC, MAX_DIMENSION,
    OLDEST_VERSION, RECORD_HEADER_SIZE, VERSION, ZSTD_LEVEL,
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
    "Demo: a recording of gbwatch's own homebrew ROM (assets/demo.gb) running in PyBoy.",
    "To watch your own emulator, publish its frames:",
    "  pip install ./examples/python",
    "  from gbwatch import Publisher",
    "  pub = Publisher(\"env-00\")",
    "  pub.publish(pyboy.screen.raw_buffer)  # after each pyboy.tick()",
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
        let mut newest: Option<(u64, Option<std::sync::Arc<crate::info::Info>>)> = None;
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
                    newest = Some((f.frame_index, f.info));
                }
                Ok(None) => break,
                Err(e) => {
                    self.pending_error = Some(e);
                    break;
                }
            }
        }
        match newest {
            Some((frame_index, info)) => {
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
                    info,
                    info_error: None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn banner_shows_the_publisher_lines_of_the_readme() {
        let readme = include_str!("../../../README.md");
        for line in &DEMO_BANNER[2..5] {
            assert!(readme.contains(line.trim()), "README lacks {line:?}");
        }
        assert!(readme.contains("pub.publish(pyboy.screen.raw_buffer)"));
        assert!(DEMO_BANNER.iter().all(|l| l.chars().count() <= 90));
    }

    #[test]
    fn demo_is_small_long_and_busy() {
        assert!(DEMO_RECORDING.len() <= 2 << 20, "at most 2 MB");
        let mut r = RecordingReader::from_bytes(DEMO_RECORDING).unwrap();
        assert_eq!((r.header().width, r.header().height), (160, 144));
        let (mut frames, mut changed, mut last_ts) = (0, 0, 0);
        let mut prev: Vec<u8> = Vec::new();
        while let Some(f) = r.next_frame().unwrap() {
            frames += 1;
            changed += (f.pixels != &prev[..]) as u32;
            prev = f.pixels.to_vec();
            last_ts = f.timestamp_ns;
        }
        assert!(frames >= 600, "{frames} frames");
        assert!(last_ts >= 10_000_000_000, "{last_ts} ns");
        assert!(
            changed * 10 >= frames * 9,
            "{changed} of {frames} frames change"
        );
    }

    fn small_recording(frames: u64, step_ns: u64) -> RecordingReader {
        let mut w = RecordingWriter::new(Vec::new(), 4, 2).unwrap();
        for i in 0..frames {
            let px: Vec<u8> = (0..8)
                .flat_map(|p| [(p * 30 + i) as u8, 0, 0, 255])
                .collect();
            w.write_frame(10 + i, i * step_ns, &px).unwrap();
        }
        RecordingReader::from_vec(w.finish().unwrap()).unwrap()
    }

    /// Polls until a frame arrives or the source ends.
    fn next(src: &mut RecordingSource) -> Option<RawFrame> {
        for _ in 0..2000 {
            match src.poll().unwrap() {
                Poll::Frame(f) => return Some(f),
                Poll::Ended => return None,
                _ => std::thread::sleep(Duration::from_millis(1)),
            }
        }
        panic!("no frame and no end");
    }

    #[test]
    fn replay_returns_the_newest_due_frame_and_ends() {
        // 5 frames 1 ms apart, at 1/20 speed: 20 ms apart.
        let mut src = RecordingSource::new("t", small_recording(5, 1_000_000), 0.05, false);
        let first = next(&mut src).unwrap();
        assert_eq!(first.frame_index, 10);
        std::thread::sleep(Duration::from_millis(70));
        // Frames 11-13 are due by now: only the newest comes.
        let f = next(&mut src).unwrap();
        assert!(f.frame_index >= 13, "{}", f.frame_index);
        while next(&mut src).is_some() {}
        assert!(matches!(src.poll().unwrap(), Poll::Ended));
        assert!(!src.take_restart());
    }

    #[test]
    fn looping_starts_again_as_a_restart() {
        let mut src = RecordingSource::new("t", small_recording(3, 5_000_000), 1.0, true);
        let indexes: Vec<u64> = (0..8)
            .map(|_| next(&mut src).unwrap().frame_index)
            .collect();
        assert_eq!(indexes[0], 10);
        let back = indexes.windows(2).position(|w| w[1] < w[0]);
        assert!(
            back.is_some_and(|i| indexes[i + 1] == 10),
            "starts again at the first frame: {indexes:?}"
        );
        assert!(src.take_restart());
    }
}
