//! `gbwatch record`: write what the pipeline captures to a replayable recording.

use super::dump::{source_done, Progress};
use super::{first_feed, start_feeds, wait_limit, Shutdown, Started, Terminated, UsageError};
use crate::cli::RecordArgs;
use crate::frame::Frame;
use crate::pipeline::Feed;
use crate::source::stream::StreamEncoder;
use crate::stream::Message;
use anyhow::Context;
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs `gbwatch record`: writes every feed's frames (or `--env`'s) to one recording, in the
/// compact stream's format, until `--count`, `--duration` or the end of the sources.
pub fn run(args: RecordArgs, shutdown: &Shutdown) -> anyhow::Result<()> {
    if let Some(d) = args.duration.filter(|d| !(d.is_finite() && *d > 0.0)) {
        return Err(UsageError(format!(
            "--duration {d} must be a positive number of seconds"
        ))
        .into());
    }
    // Bad sources or presets are reported before the output file is touched.
    super::settings_from(&args.preset)?;
    super::batch_specs(&args.source)?;
    let wait = wait_limit(args.wait.wait)?;
    if args.out.is_dir() {
        return Err(UsageError(format!("{} is a directory", args.out.display())).into());
    }
    let file = File::create(&args.out)
        .map_err(|e| UsageError(format!("cannot write {}: {e}", args.out.display())))?;
    let mut started = start_feeds(&args.source, &args.preset, shutdown)?;
    let result = record(&args, &mut started, file, wait, shutdown);
    started.set.stop();
    let (frames, bytes, envs, last_ts, interrupted) = result?;
    if frames == 0 {
        anyhow::bail!("no frames arrived");
    }
    eprintln!(
        "recorded {frames} frames of {envs} env{} ({:.1} s) to {}: {bytes} bytes, {} bytes/frame",
        if envs == 1 { "" } else { "s" },
        last_ts as f64 / 1e9,
        args.out.display(),
        bytes / frames.max(1)
    );
    match interrupted.or(shutdown.received()) {
        Some(signal) => Err(Terminated(signal).into()),
        None => Ok(()),
    }
}

/// The frame's time on our monotonic clock: the publisher's stamp when known, else arrival.
fn frame_time(frame: &Frame) -> u64 {
    frame.published_ns.unwrap_or(frame.captured_ns)
}

/// What a recording run wrote: frames, bytes, envs, the last timestamp, and the signal that
/// ended it early.
type Recorded = (u64, u64, usize, u64, Option<i32>);

fn record(
    args: &RecordArgs,
    started: &mut Started,
    file: File,
    wait: Option<Duration>,
    shutdown: &Shutdown,
) -> anyhow::Result<Recorded> {
    let first = first_feed(started, args.env.as_deref(), wait, shutdown)?;
    let deadline = args
        .duration
        .map(|d| Instant::now() + Duration::from_secs_f64(d));
    let mut progress = Progress::new(true, args.count, deadline);
    let mut out = Recorder {
        file: BufWriter::new(file),
        encoder: StreamEncoder::new(),
        frames: 0,
        bytes: 0,
        start_ns: None,
        last_ts: 0,
        envs: HashSet::new(),
    };
    let writing = || format!("writing {}", args.out.display());
    out.write(&crate::stream::wire::head())
        .with_context(writing)?;
    let arrivals = started.set.arrivals();
    let mut interrupted = None;
    while args.count.is_none_or(|c| out.frames < c) && deadline.is_none_or(|d| Instant::now() < d) {
        if let Some(signal) = shutdown.received() {
            interrupted = Some(signal);
            break;
        }
        let feeds: Vec<Arc<Feed>> = started
            .set
            .feeds()
            .into_iter()
            .filter(|f| args.env.as_deref().is_none_or(|e| f.name == e))
            .collect();
        let got = out.take_frames(&feeds, args.count).with_context(writing)?;
        progress.show(out.frames);
        if got {
            continue;
        }
        if feeds.iter().all(|f| source_done(f, started.log.dynamic)) {
            break;
        }
        let lines = started.log.changes(&started.set);
        if !lines.is_empty() {
            progress.pause();
            lines.iter().for_each(|l| eprintln!("gbwatch: {l}"));
        }
        let _ = arrivals.recv_timeout(Duration::from_millis(100));
    }
    progress.finish();
    // A source that stopped on an error (a damaged recording) fails the command, after
    // every frame before the damage was used.
    if let crate::pipeline::FeedState::Error(msg) = first.status().state {
        if first.capture_finished() {
            anyhow::bail!("{msg}");
        }
    }
    out.file.flush().with_context(writing)?;
    Ok((
        out.frames,
        out.bytes,
        out.envs.len(),
        out.last_ts,
        interrupted,
    ))
}

/// The recording being written: a compact stream with a clock before every frame.
struct Recorder {
    file: BufWriter<File>,
    encoder: StreamEncoder,
    frames: u64,
    bytes: u64,
    start_ns: Option<u64>,
    last_ts: u64,
    envs: HashSet<String>,
}

impl Recorder {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.bytes += bytes.len() as u64;
        self.file.write_all(bytes)
    }

    /// Writes every frame queued on `feeds` (up to `count` in all); true when there was one.
    fn take_frames(&mut self, feeds: &[Arc<Feed>], count: Option<u64>) -> std::io::Result<bool> {
        let listed: Vec<(String, String)> = feeds
            .iter()
            .filter(|f| f.status().state != crate::pipeline::FeedState::Gone)
            .map(|f| (f.key.clone(), f.name.clone()))
            .collect();
        if let Some(m) = self.encoder.sources(&listed) {
            self.write(&m)?;
        }
        let mut got = false;
        for feed in feeds {
            while count.is_none_or(|c| self.frames < c) {
                let Some(frame) = feed.queue.pop() else { break };
                got = true;
                let t = frame_time(&frame);
                let first = *self.start_ns.get_or_insert(t);
                // The clock never goes back, even across feeds and publisher restarts.
                self.last_ts = t.saturating_sub(first).max(self.last_ts);
                if let Some(m) = self.encoder.frame(&feed.key, &frame)? {
                    self.write(&Message::Clock(self.last_ts).encode())?;
                    self.write(&m)?;
                    self.frames += 1;
                    self.envs.insert(feed.key.clone());
                }
                feed.stats.record_done(&frame);
            }
        }
        // Each frame reaches the file whole, so an interrupted recording still replays.
        if got {
            self.file.flush()?;
        }
        Ok(got)
    }
}
