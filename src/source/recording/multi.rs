//! Recordings of many envs: a compact stream saved to a file (`gbwatch record`), each
//! frame preceded by a clock message (src/stream/FORMAT.md). Replayed as one feed per
//! recorded env, under its original name, at the recorded timing.

use crate::source::stream::FrameDecoder;
use crate::source::{Poll, Source, SourceError};
use crate::stream::{Message, StreamParser};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Instant;

/// How much of the file is read at a time.
const CHUNK: usize = 64 * 1024;

trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

/// A recording's messages, read from the start a chunk at a time: memory holds a chunk and
/// the messages it completed, never the whole file.
pub(super) struct Messages {
    input: Box<dyn ReadSeek>,
    chunk: Box<[u8]>,
    parser: StreamParser,
    pending: VecDeque<Message>,
    parsed: usize,
    ended: bool,
    /// Why reading stopped before the end, once it has.
    pub(super) damage: Option<String>,
}

impl Messages {
    pub(super) fn open(path: &Path) -> Result<Messages, SourceError> {
        let file = File::open(path)
            .map_err(|e| SourceError::Other(format!("cannot read {}: {e}", path.display())))?;
        Ok(Messages::new(Box::new(file)))
    }

    fn new(input: Box<dyn ReadSeek>) -> Messages {
        Messages {
            input,
            chunk: vec![0; CHUNK].into_boxed_slice(),
            parser: StreamParser::new(),
            pending: VecDeque::new(),
            parsed: 0,
            ended: false,
            damage: None,
        }
    }

    /// The next message, reading more of the file when none is pending; None at the end
    /// (or where the recording is damaged: see `damage`).
    fn peek(&mut self) -> Option<&Message> {
        let mut out = Vec::new();
        while self.pending.is_empty() && !self.ended {
            let n = match self.input.read(&mut self.chunk) {
                // A last message cut short (a recorder that was killed) is left out.
                Ok(0) => {
                    self.ended = true;
                    break;
                }
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.fail(format!("cannot read the recording: {e}"));
                    break;
                }
            };
            let result = self.parser.push(&self.chunk[..n], &mut out);
            self.parsed += out.len();
            self.pending.extend(out.drain(..));
            if let Err(e) = result {
                self.fail(format!(
                    "recording damaged after {} messages: {e}",
                    self.parsed
                ));
            }
        }
        self.pending.front()
    }

    fn fail(&mut self, damage: String) {
        self.ended = true;
        self.damage = Some(damage);
    }

    pub(super) fn pop(&mut self) -> Option<Message> {
        self.peek()?;
        self.pending.pop_front()
    }

    /// Back to the first message.
    fn rewind(&mut self) -> Result<(), SourceError> {
        self.input
            .seek(SeekFrom::Start(0))
            .map_err(|e| SourceError::Other(format!("cannot rewind the recording: {e}")))?;
        self.parser = StreamParser::new();
        self.pending.clear();
        self.parsed = 0;
        self.ended = false;
        self.damage = None;
        Ok(())
    }

    /// The env names, in the order they first appear (reads to the end).
    pub(super) fn names(&mut self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        while let Some(m) = self.pop() {
            if let Message::Sources(list) = m {
                for s in list {
                    if !names.contains(&s.name) {
                        names.push(s.name);
                    }
                }
            }
        }
        names
    }

    /// How far into the input reading has gone.
    #[cfg(test)]
    fn position(&mut self) -> u64 {
        self.input.stream_position().unwrap()
    }
}

/// The env names a multi-env recording holds, in the order they first appear.
pub fn recorded_envs(path: &Path) -> Result<Vec<String>, SourceError> {
    Ok(Messages::open(path)?.names())
}

/// One env of a multi-env recording, replayed at its timing times `speed`.
pub struct StreamRecordingSource {
    name: String,
    env: String,
    messages: Messages,
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
        Ok(StreamRecordingSource::with(
            name,
            env,
            Messages::open(path)?,
            speed,
            looping,
        ))
    }

    /// The first env of a multi-env recording held in memory (a built-in demo made by
    /// `gbwatch record`), as the feed `name`.
    pub fn first_env_of(name: String, bytes: &[u8], speed: f64, looping: bool) -> Self {
        let messages = |b: &[u8]| Messages::new(Box::new(Cursor::new(b.to_vec())));
        let env = messages(bytes)
            .names()
            .into_iter()
            .next()
            .unwrap_or_default();
        StreamRecordingSource::with(name, env, messages(bytes), speed, looping)
    }

    fn with(name: String, env: String, messages: Messages, speed: f64, looping: bool) -> Self {
        StreamRecordingSource {
            name,
            env,
            messages,
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
        while let Some(m) = self.messages.peek() {
            if matches!(m, Message::Clock(t) if *t > now_ns) {
                break;
            }
            match self.messages.pop() {
                Some(Message::Sources(list)) => {
                    self.id = list.iter().find(|s| s.name == self.env).map(|s| s.id);
                }
                Some(Message::Frame { id, data, .. }) if Some(id) == self.id => {
                    match self.decoder.decode(&data) {
                        Ok(Some(f)) => newest = Some(f),
                        Ok(None) => {}
                        Err(e) => return Err(SourceError::Other(format!("{}: {e}", self.env))),
                    }
                }
                _ => {}
            }
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
        if self.messages.peek().is_some() {
            return Ok(Poll::Nothing);
        }
        if let Some(damage) = self.messages.damage.clone().filter(|_| !self.reported) {
            self.reported = true;
            return Err(SourceError::Other(damage));
        }
        if !self.looping {
            return Ok(Poll::Ended);
        }
        self.messages.rewind()?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::stream::StreamEncoder;
    use std::io::Write;
    use std::sync::Arc;

    /// 160x144 noise (so frames do not compress away), different for every `seed`.
    fn noise(seed: u64) -> Vec<u8> {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..160 * 144 * 4)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 56) as u8
            })
            .collect()
    }

    /// A recording of envs "a" and "b", `n` frames each, one second apart.
    fn record(path: &Path, n: u64) {
        let mut file = std::io::BufWriter::new(File::create(path).unwrap());
        file.write_all(&crate::stream::wire::head()).unwrap();
        let mut encoder = StreamEncoder::new();
        let envs = [
            ("ka".to_string(), "a".to_string()),
            ("kb".into(), "b".into()),
        ];
        file.write_all(&encoder.sources(&envs).unwrap()).unwrap();
        for i in 0..n {
            for (k, (key, _)) in envs.iter().enumerate() {
                let mut frame = crate::fixtures::raw_frame(160, 144, Some(i * 1_000_000_000));
                frame.frame_index = i;
                frame.pixels = noise(i * 2 + k as u64);
                let message = encoder.frame(key, &Arc::new(frame)).unwrap().unwrap();
                file.write_all(&Message::Clock(i * 1_000_000_000).encode())
                    .unwrap();
                file.write_all(&message).unwrap();
            }
        }
        file.flush().unwrap();
    }

    fn next_frame(source: &mut StreamRecordingSource) -> crate::source::RawFrame {
        let start = Instant::now();
        loop {
            if let Poll::Frame(f) = source.poll().unwrap() {
                assert_eq!((f.width, f.stride), (160, 640));
                return f;
            }
            assert!(start.elapsed().as_secs() < 10, "no frame");
        }
    }

    #[test]
    fn a_recording_is_read_as_it_plays_not_whole() {
        let path = std::env::temp_dir().join(format!("gbwatch-multi-{}.gbrec", std::process::id()));
        record(&path, 60);
        let size = std::fs::metadata(&path).unwrap().len();
        assert_eq!(recorded_envs(&path).unwrap(), ["a", "b"]);
        let mut b = StreamRecordingSource::open("b".into(), "b".into(), &path, 1.0, false).unwrap();
        let first = next_frame(&mut b);
        assert_eq!((first.frame_index, &first.pixels), (0, &noise(1)));
        let read = b.messages.position();
        assert!(
            read <= 4 * CHUNK as u64 && read * 20 < size,
            "{read} of {size} bytes read for the first frame"
        );
        // Looping at a high speed: every frame of b, then b again from its first.
        let mut b = StreamRecordingSource::open("b".into(), "b".into(), &path, 1e12, true).unwrap();
        let last = next_frame(&mut b);
        assert_eq!((last.frame_index, &last.pixels), (59, &noise(119)));
        let again = next_frame(&mut b);
        assert!(b.take_restart(), "looped");
        assert_eq!(
            again.frame_index, 59,
            "the whole recording is due again at once"
        );
        std::fs::remove_file(&path).unwrap();
    }
}
