//! Recordings of many envs: a compact stream saved to a file (`gbwatch record`), each
//! frame preceded by a clock message (src/stream/FORMAT.md). Replayed as one feed per
//! recorded env, under its original name, at the recorded timing.

use crate::source::{Poll, Source, SourceError};
use crate::stream::{FrameDecoder, Message, StreamParser};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// A recording's messages and the damage that ended them, if any.
struct Parsed {
    messages: Vec<Message>,
    damage: Option<String>,
}

fn parse(path: &Path) -> Result<Parsed, SourceError> {
    let bytes = std::fs::read(path)
        .map_err(|e| SourceError::Other(format!("cannot read {}: {e}", path.display())))?;
    Ok(parse_bytes(&bytes))
}

fn parse_bytes(bytes: &[u8]) -> Parsed {
    let mut messages = Vec::new();
    let damage = StreamParser::new()
        .push(bytes, &mut messages)
        .err()
        .map(|e| format!("recording damaged after {} messages: {e}", messages.len()));
    Parsed { messages, damage }
}

fn names_of(parsed: &Parsed) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for m in &parsed.messages {
        if let Message::Sources(list) = m {
            for s in list {
                if !names.contains(&s.name) {
                    names.push(s.name.clone());
                }
            }
        }
    }
    names
}

/// The env names a multi-env recording holds, in the order they first appear.
pub fn recorded_envs(path: &Path) -> Result<Vec<String>, SourceError> {
    Ok(names_of(&parse(path)?))
}

/// One env of a multi-env recording, replayed at its timing times `speed`.
pub struct StreamRecordingSource {
    name: String,
    env: String,
    messages: Arc<Vec<Message>>,
    damage: Option<String>,
    pos: usize,
    id: Option<u16>,
    decoder: FrameDecoder,
    started: Instant,
    speed: f64,
    looping: bool,
    restarted: bool,
    reported: bool,
}

impl StreamRecordingSource {
    /// Opens env `env` of the recording at `path` as the feed `name`.
    pub fn open(
        name: String,
        env: String,
        path: &Path,
        speed: f64,
        looping: bool,
    ) -> Result<StreamRecordingSource, SourceError> {
        Ok(StreamRecordingSource::from_parsed(
            name,
            env,
            parse(path)?,
            speed,
            looping,
        ))
    }

    /// The first env of a multi-env recording held in memory (a built-in demo made by
    /// `gbwatch record`), as the feed `name`.
    pub fn first_env_of(name: String, bytes: &[u8], speed: f64, looping: bool) -> Self {
        let parsed = parse_bytes(bytes);
        let env = names_of(&parsed).into_iter().next().unwrap_or_default();
        StreamRecordingSource::from_parsed(name, env, parsed, speed, looping)
    }

    fn from_parsed(name: String, env: String, parsed: Parsed, speed: f64, looping: bool) -> Self {
        StreamRecordingSource {
            name,
            env,
            messages: Arc::new(parsed.messages),
            damage: parsed.damage,
            pos: 0,
            id: None,
            decoder: FrameDecoder::default(),
            started: Instant::now(),
            speed,
            looping,
            restarted: false,
            reported: false,
        }
    }

    /// Applies messages up to the current time; returns the newest frame of this env.
    fn advance(&mut self) -> Result<Option<crate::source::RawFrame>, SourceError> {
        let now_ns = (self.started.elapsed().as_secs_f64() * self.speed * 1e9) as u64;
        let mut newest = None;
        while let Some(m) = self.messages.get(self.pos) {
            match m {
                Message::Clock(t) if *t > now_ns => break,
                Message::Sources(list) => {
                    self.id = list.iter().find(|s| s.name == self.env).map(|s| s.id);
                }
                Message::Frame { id, data, .. } if Some(*id) == self.id => {
                    match self.decoder.decode(data) {
                        Ok(Some(f)) => newest = Some(f),
                        Ok(None) => {}
                        Err(e) => return Err(SourceError::Other(format!("{}: {e}", self.env))),
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
        Ok(newest)
    }
}

impl Source for StreamRecordingSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn poll(&mut self) -> Result<Poll, SourceError> {
        if let Some(frame) = self.advance()? {
            return Ok(Poll::Frame(frame));
        }
        if self.pos < self.messages.len() {
            return Ok(Poll::Nothing);
        }
        if let Some(damage) = self.damage.clone().filter(|_| !self.reported) {
            self.reported = true;
            return Err(SourceError::Other(damage));
        }
        if !self.looping {
            return Ok(Poll::Ended);
        }
        self.pos = 0;
        self.id = None;
        self.decoder = FrameDecoder::default();
        self.started = Instant::now();
        self.restarted = true;
        self.reported = false;
        Ok(Poll::Nothing)
    }

    fn take_restart(&mut self) -> bool {
        std::mem::take(&mut self.restarted)
    }
}
