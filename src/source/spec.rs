//! Parsing SOURCE arguments and turning them into sources.

use super::recording::{RecordingSource, MAGIC as RECORDING_MAGIC, RECORDING_EXTENSION};
use super::{ShmSource, Source, SourceError, DEMO_KEY};
use crate::pipeline::FeedOptions;
use crate::slot::{SlotDir, MAGIC, SLOT_EXTENSION};
use std::io::Read;
use std::path::{Path, PathBuf};

/// A SOURCE as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// A directory of slots; publishers appearing later join.
    SlotDir(PathBuf),
    /// One slot file.
    SlotFile(PathBuf),
    /// A recording file (`gbwatch record`), replayed at its original timing.
    Recording(PathBuf),
    /// The embedded demo recording, looping forever.
    Demo,
}

/// A SOURCE argument that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{0}: no such file or directory")]
    Missing(String),
    #[error("{0}: not a gbwatch source (expected a slot file or directory, or a recording)")]
    Unknown(String),
}

/// A source found by a scan, not opened yet.
pub struct Candidate {
    pub name: String,
    /// Unique per source (its path or URL), so rescans do not open it twice.
    pub key: String,
    pub open: Box<dyn FnOnce() -> Result<Box<dyn Source>, SourceError> + Send>,
}

impl SourceSpec {
    /// Interprets one SOURCE argument.
    pub fn parse(arg: &str) -> Result<SourceSpec, SpecError> {
        let path = Path::new(arg);
        let meta = std::fs::metadata(path).map_err(|_| SpecError::Missing(arg.to_string()))?;
        if meta.is_dir() {
            return Ok(SourceSpec::SlotDir(path.to_path_buf()));
        }
        if starts_with(path, &RECORDING_MAGIC) {
            return Ok(SourceSpec::Recording(path.to_path_buf()));
        }
        if path.extension().is_some_and(|e| e == SLOT_EXTENSION) || starts_with(path, &MAGIC) {
            return Ok(SourceSpec::SlotFile(path.to_path_buf()));
        }
        Err(SpecError::Unknown(arg.to_string()))
    }

    /// True for sources whose set of feeds can change (directories).
    pub fn is_dynamic(&self) -> bool {
        matches!(self, SourceSpec::SlotDir(_))
    }

    /// The sources this spec stands for right now.
    pub fn scan(&self, options: &FeedOptions) -> Vec<Candidate> {
        let allow_foreign = options.allow_foreign;
        match self {
            SourceSpec::SlotDir(dir) => SlotDir::new(dir)
                .scan()
                .unwrap_or_default()
                .into_iter()
                .map(|entry| slot_candidate(entry.name, entry.path, allow_foreign))
                .collect(),
            SourceSpec::SlotFile(path) => {
                let name = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| path.display().to_string());
                vec![slot_candidate(name, path.clone(), allow_foreign)]
            }
            SourceSpec::Recording(path) => {
                let name = path
                    .file_name()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| path.display().to_string());
                let name = name
                    .strip_suffix(&format!(".{RECORDING_EXTENSION}"))
                    .map(str::to_string)
                    .unwrap_or(name);
                let (speed, looping, path) = (options.speed, options.looping, path.clone());
                vec![Candidate {
                    key: path.display().to_string(),
                    open: Box::new({
                        let name = name.clone();
                        move || {
                            let source = RecordingSource::open(name, &path, speed, looping)?;
                            Ok(Box::new(source) as Box<dyn Source>)
                        }
                    }),
                    name,
                }]
            }
            SourceSpec::Demo => {
                let speed = options.speed;
                vec![Candidate {
                    name: DEMO_KEY.to_string(),
                    key: DEMO_KEY.to_string(),
                    open: Box::new(move || {
                        Ok(Box::new(RecordingSource::demo(speed)) as Box<dyn Source>)
                    }),
                }]
            }
        }
    }
}

fn slot_candidate(name: String, path: PathBuf, allow_foreign: bool) -> Candidate {
    Candidate {
        key: path.display().to_string(),
        open: Box::new({
            let name = name.clone();
            move || Ok(Box::new(ShmSource::open(name, &path, allow_foreign)?) as Box<dyn Source>)
        }),
        name,
    }
}

fn starts_with(path: &Path, magic: &[u8]) -> bool {
    let mut buf = vec![0u8; magic.len()];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut buf))
        .is_ok_and(|_| buf == magic)
}
