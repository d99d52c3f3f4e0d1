//! One env of a recording file, read frame by frame, each with its time since the
//! recording's first frame: what a clip of a recording is made of.

use super::multi::Messages;
use super::{RecordingReader, MAGIC as SINGLE_MAGIC, RECORDING_EXTENSION};
use crate::info::Info;
use crate::source::stream::FrameDecoder;
use crate::stream::wire::MAGIC as STREAM_MAGIC;
use crate::stream::Message;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// One frame of a recording.
#[derive(Debug, Clone)]
pub struct RecordedFrame {
    /// Nanoseconds since the recording's first frame (of any env).
    pub at_ns: u64,
    /// The publisher's frame index.
    pub frame_index: u64,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// RGBA8 rows.
    pub pixels: Vec<u8>,
    /// The training info recorded with it.
    pub info: Option<Arc<Info>>,
}

/// Why a recording's frames cannot be read (one line, naming the file).
#[derive(Debug, thiserror::Error)]
pub enum EnvFramesError {
    /// The file cannot be opened or read.
    #[error("cannot read {path}: {error}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// The file is not a recording of either kind.
    #[error("{0}: not a gbwatch recording")]
    NotRecording(String),
    /// The file is damaged (or ends inside a record).
    #[error("{path}: {what}")]
    Damaged {
        /// The file.
        path: String,
        /// What is wrong, and where.
        what: String,
    },
    /// The env asked for is not in the recording.
    #[error("{path} holds no env {env:?}; it holds {}", known.join(", "))]
    UnknownEnv {
        /// The file.
        path: String,
        /// The env asked for.
        env: String,
        /// The envs it holds.
        known: Vec<String>,
    },
    /// No env was named and the recording holds several (or none).
    #[error("{path} holds {} envs ({}): name one with --env", known.len(), known.join(", "))]
    WhichEnv {
        /// The file.
        path: String,
        /// The envs it holds.
        known: Vec<String>,
    },
}

/// The name a single-env recording's env goes by: its file name without `.gbrec`.
pub fn single_env_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    name.strip_suffix(&format!(".{RECORDING_EXTENSION}"))
        .map(str::to_string)
        .unwrap_or(name)
}

/// How the frames are read.
enum Kind {
    /// A single-env recording (RECORDING.md): its records' timestamps.
    Single(Box<RecordingReader>),
    /// A multi-env recording (`gbwatch record`): its messages.
    Multi(Box<MultiEnv>),
}

/// One env's state while reading a multi-env recording.
struct MultiEnv {
    messages: Messages,
    env: String,
    id: Option<u16>,
    decoder: FrameDecoder,
    clock: u64,
    /// The recording's clock and the publisher's at the first frame (of any env) with a
    /// publisher timestamp: frames that have one are timed by it from there, exact for
    /// each env (the recording's clock, shared by every env, only never goes back).
    origin: Option<(u64, u64)>,
    last_ns: u64,
}

/// One env's frames of a recording file, oldest first.
pub struct EnvFrames {
    path: String,
    env: String,
    kind: Kind,
    failed: bool,
}

impl EnvFrames {
    /// Opens the env `env` of the recording at `path` (`None`: its only env).
    pub fn open(path: &Path, env: Option<&str>) -> Result<EnvFrames, EnvFramesError> {
        let shown = path.display().to_string();
        let read_error = |error| EnvFramesError::Read {
            path: shown.clone(),
            error,
        };
        let mut magic = [0u8; 8];
        let mut file = std::fs::File::open(path).map_err(read_error)?;
        let got = read_up_to(&mut file, &mut magic).map_err(read_error)?;
        let pick = |known: Vec<String>| -> Result<String, EnvFramesError> {
            match env {
                Some(e) if known.iter().any(|k| k == e) => Ok(e.to_string()),
                Some(e) => Err(EnvFramesError::UnknownEnv {
                    path: shown.clone(),
                    env: e.to_string(),
                    known,
                }),
                None if known.len() == 1 => Ok(known[0].clone()),
                None => Err(EnvFramesError::WhichEnv {
                    path: shown.clone(),
                    known,
                }),
            }
        };
        let (env, kind) =
            if got == 8 && magic == SINGLE_MAGIC {
                let file = std::fs::File::open(path).map_err(read_error)?;
                let reader = RecordingReader::new(Box::new(std::io::BufReader::new(file)))
                    .map_err(|e| EnvFramesError::Damaged {
                        path: shown.clone(),
                        what: e.to_string(),
                    })?;
                (
                    pick(vec![single_env_name(path)])?,
                    Kind::Single(Box::new(reader)),
                )
            } else if got == 8 && magic == STREAM_MAGIC {
                let open = || Messages::open(path).map_err(|e| damaged(&shown, e.to_string()));
                let mut all = open()?;
                let known = all.names();
                if let Some(what) = all.damage.take() {
                    return Err(damaged(&shown, what));
                }
                let env = pick(known)?;
                let multi = MultiEnv {
                    messages: open()?,
                    env: env.clone(),
                    id: None,
                    decoder: FrameDecoder::default(),
                    clock: 0,
                    origin: None,
                    last_ns: 0,
                };
                (env, Kind::Multi(Box::new(multi)))
            } else {
                return Err(EnvFramesError::NotRecording(shown));
            };
        Ok(EnvFrames {
            path: shown,
            env,
            kind,
            failed: false,
        })
    }

    /// The env whose frames these are.
    pub fn env(&self) -> &str {
        &self.env
    }

    fn next_frame(&mut self) -> Result<Option<RecordedFrame>, String> {
        match &mut self.kind {
            Kind::Single(reader) => {
                let (width, height) = (reader.header().width, reader.header().height);
                Ok(reader
                    .next_frame()
                    .map_err(|e| e.to_string())?
                    .map(|f| RecordedFrame {
                        at_ns: f.timestamp_ns,
                        frame_index: f.frame_index,
                        width,
                        height,
                        pixels: f.pixels.to_vec(),
                        info: f.info,
                    }))
            }
            Kind::Multi(m) => m.next_frame(),
        }
    }
}

impl MultiEnv {
    fn next_frame(&mut self) -> Result<Option<RecordedFrame>, String> {
        while let Some(message) = self.messages.pop() {
            match message {
                Message::Clock(t) => self.clock = t,
                Message::Sources(list) => {
                    self.id = list.iter().find(|s| s.name == self.env).map(|s| s.id);
                }
                Message::Frame {
                    id,
                    published_ns,
                    data,
                } => {
                    if let (None, Some(p)) = (self.origin, published_ns) {
                        self.origin = Some((self.clock, p));
                    }
                    if Some(id) != self.id {
                        continue;
                    }
                    let decoded = self
                        .decoder
                        .decode(&data)
                        .map_err(|e| format!("{}: {e}", self.env))?;
                    let Some(f) = decoded else { continue };
                    let at = match (published_ns, self.origin) {
                        (Some(p), Some((clock, first))) => (clock + p).saturating_sub(first),
                        _ => self.clock,
                    };
                    self.last_ns = at.max(self.last_ns);
                    return Ok(Some(RecordedFrame {
                        at_ns: self.last_ns,
                        frame_index: f.frame_index,
                        width: f.width,
                        height: f.height,
                        pixels: f.pixels,
                        info: f.info,
                    }));
                }
                _ => {}
            }
        }
        match self.messages.damage.take() {
            Some(what) => Err(what),
            None => Ok(None),
        }
    }
}

impl Iterator for EnvFrames {
    type Item = Result<RecordedFrame, EnvFramesError>;

    /// The next frame; after an error (damage), nothing more.
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.next_frame() {
            Ok(f) => f.map(Ok),
            Err(what) => {
                self.failed = true;
                Some(Err(damaged(&self.path, what)))
            }
        }
    }
}

fn damaged(path: &str, what: String) -> EnvFramesError {
    EnvFramesError::Damaged {
        path: path.to_string(),
        what,
    }
}

/// Reads as much of `buf` as the input holds.
fn read_up_to(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::recording::RecordingWriter;

    fn scratch(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("gbwatch-frames-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_single_env_recording_reads_with_its_timestamps() {
        let dir = scratch("single");
        let path = dir.join("run.gbrec");
        let mut w = RecordingWriter::new(Vec::new(), 4, 2).unwrap();
        for i in 0..5u64 {
            w.write_frame(7 + i, i * 25_000_000, &[i as u8; 32])
                .unwrap();
        }
        std::fs::write(&path, w.finish().unwrap()).unwrap();
        let frames = EnvFrames::open(&path, None).unwrap();
        assert_eq!(frames.env(), "run");
        let got: Vec<(u64, u64)> = frames
            .map(|f| f.unwrap())
            .map(|f| (f.frame_index, f.at_ns))
            .collect();
        assert_eq!(got[4], (11, 100_000_000));
        let err = EnvFrames::open(&path, Some("other")).err().unwrap();
        assert_eq!(
            err.to_string(),
            format!("{} holds no env \"other\"; it holds run", path.display())
        );
        std::fs::write(&path, b"hello").unwrap();
        let err = EnvFrames::open(&path, None).err().unwrap();
        assert!(
            err.to_string().ends_with("not a gbwatch recording"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
