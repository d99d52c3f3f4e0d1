//! `gbwatch dump`: numbered JPEG files written atomically, or MJPEG on stdout.

use super::{
    first_feed, start_feeds, wait_limit, Shutdown, Started, StateLog, Terminated, UsageError,
};
use crate::cli::DumpArgs;
use crate::encode::{Backend, JpegCache};
use crate::frame::SharedFrame;
use crate::pipeline::{Feed, FeedSet};
use std::collections::VecDeque;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Runs `gbwatch dump`: one feed's frames as numbered JPEG files or MJPEG on stdout, until
/// `--count`, `--duration`, the end of the source or a termination signal (which still
/// prints the summary).
pub fn run(args: DumpArgs, shutdown: &Shutdown) -> anyhow::Result<()> {
    if args.info && args.out.is_none() {
        return Err(UsageError(
            "--info writes NAME.jsonl next to the JPEG files: it needs --out DIR, not --stdout"
                .into(),
        )
        .into());
    }
    if let Some(dir) = &args.out {
        check_writable(dir)?;
    }
    if let Some(d) = args.duration.filter(|d| !(d.is_finite() && *d > 0.0)) {
        return Err(UsageError(format!(
            "--duration {d} must be a positive number of seconds"
        ))
        .into());
    }
    let wait = wait_limit(args.wait.wait)?;
    let mut started = start_feeds(&args.source, &args.preset, shutdown)?;
    let result = dump(&args, &mut started, wait, shutdown);
    started.set.stop();
    result
}

fn dump(
    args: &DumpArgs,
    started: &mut Started,
    wait: Option<Duration>,
    shutdown: &Shutdown,
) -> anyhow::Result<()> {
    let feed = first_feed(started, args.env.as_deref(), wait, shutdown)?;
    let set = &started.set;
    let deadline = args
        .duration
        .map(|d| Instant::now() + Duration::from_secs_f64(d));
    let mut cache = JpegCache::new(Backend::best());
    let mut writer = match &args.out {
        Some(dir) => Sink::Files(FileSink::new(dir, &feed.name, args.keep, args.info)?),
        None => Sink::Stdout(std::io::stdout().lock()),
    };
    let mut progress = Progress::new(args.out.is_some(), args.count, deadline);
    let mut written = 0u64;
    while args.count.is_none_or(|c| written < c) && deadline.is_none_or(|d| Instant::now() < d) {
        if shutdown.received().is_some() {
            break;
        }
        let frame = match next_frame(&feed, &mut started.log, set, &mut progress) {
            Next::Frame(frame) => frame,
            Next::Nothing => continue,
            Next::SourceDone => break,
        };
        let s = set.settings.get();
        let jpeg = cache.encode(&frame, s.scale(), s.quality(), Some(&feed.stats))?;
        match &mut writer {
            Sink::Files(files) => files.write(&jpeg.jpeg, &frame)?,
            Sink::Stdout(out) => match out.write_all(&jpeg.jpeg).and_then(|_| out.flush()) {
                Ok(()) => {}
                // The reader went away (`| head -c 1M`, ffmpeg done): a normal end.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                Err(e) => return Err(anyhow::Error::new(e).context("writing to stdout")),
            },
        }
        feed.stats.record_done(&frame);
        written += 1;
        progress.show(written);
    }
    progress.finish();
    // A source that stopped on an error (a damaged recording) fails the command, after
    // every frame before the damage was used.
    if let crate::pipeline::FeedState::Error(msg) = feed.status().state {
        if feed.capture_finished() {
            anyhow::bail!("{msg}");
        }
    }
    let s = feed.snapshot();
    eprintln!(
        "gbwatch: wrote {written} frames of {} (captured {} = delivered {} + dropped {} + queued {}; missed {}, identical {})",
        feed.name, s.captured, s.delivered, s.dropped, s.queued, s.missed, s.identical
    );
    // A signal also ends the feeds, so the loop may have ended on the source first.
    match shutdown.received() {
        Some(signal) => Err(Terminated(signal).into()),
        None => Ok(()),
    }
}

/// What the feed gave a dump or record loop on one turn.
pub(crate) enum Next {
    /// The next frame.
    Frame(SharedFrame),
    /// No frame yet.
    Nothing,
    /// No frame ever again (see [`source_done`]).
    SourceDone,
}

/// Waits up to 100 ms for the feed's next frame; while none comes, prints the sources'
/// state changes to stderr (the progress line paused).
pub(crate) fn next_frame(
    feed: &Feed,
    log: &mut StateLog,
    set: &FeedSet,
    progress: &mut Progress,
) -> Next {
    if let Some(frame) = feed.queue.pop_timeout(Duration::from_millis(100)) {
        return Next::Frame(frame);
    }
    if source_done(feed, log.dynamic) {
        return Next::SourceDone;
    }
    let lines = log.changes(set);
    if !lines.is_empty() {
        progress.pause();
        lines.iter().for_each(|l| eprintln!("gbwatch: {l}"));
    }
    Next::Nothing
}

/// True when the feed will deliver nothing more: its source ended or failed for good, or
/// went away with nothing watching for it to come back.
pub(crate) fn source_done(feed: &Feed, dynamic: bool) -> bool {
    use crate::pipeline::FeedState;
    feed.capture_finished()
        && feed.queue.counts().queued == 0
        && match feed.status().state {
            FeedState::Gone => !dynamic,
            _ => true,
        }
}

enum Sink<'a> {
    Files(FileSink),
    Stdout(std::io::StdoutLock<'a>),
}

/// Writes `NAME-NNNNNN.jpg` files: to a hidden temp file first, then renamed into place.
struct FileSink {
    dir: PathBuf,
    name: String,
    next: u64,
    keep: Option<u64>,
    written: VecDeque<PathBuf>,
    /// `DIR/NAME.jsonl` with `--info`.
    info: Option<(PathBuf, std::io::BufWriter<std::fs::File>)>,
}

/// One line of `DIR/NAME.jsonl`.
#[derive(serde::Serialize)]
struct InfoLine<'a> {
    file: &'a str,
    frame_index: u64,
    info: Option<&'a crate::info::Info>,
}

impl FileSink {
    fn new(dir: &Path, name: &str, keep: Option<u64>, info: bool) -> anyhow::Result<FileSink> {
        let name = crate::encode::file::safe_name(name);
        let info = if info {
            let path = dir.join(format!("{name}.jsonl"));
            let file = std::fs::File::create(&path)
                .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
            Some((path, std::io::BufWriter::new(file)))
        } else {
            None
        };
        Ok(FileSink {
            dir: dir.to_path_buf(),
            name,
            next: 1,
            keep,
            written: VecDeque::new(),
            info,
        })
    }

    fn write(&mut self, jpeg: &[u8], frame: &crate::frame::Frame) -> anyhow::Result<()> {
        let file_name = format!("{}-{:06}.jpg", self.name, self.next);
        let final_path = self.dir.join(&file_name);
        if let Err(e) = crate::encode::file::write_atomic(&final_path, jpeg) {
            return Err(anyhow::Error::new(e).context(format!("writing {}", final_path.display())));
        }
        if let Some((path, out)) = &mut self.info {
            let line = InfoLine {
                file: &file_name,
                frame_index: frame.frame_index,
                info: frame.info.as_deref(),
            };
            let written = serde_json::to_writer(&mut *out, &line)
                .map_err(std::io::Error::from)
                .and_then(|_| out.write_all(b"\n"))
                .and_then(|_| out.flush());
            if let Err(e) = written {
                return Err(anyhow::Error::new(e).context(format!("writing {}", path.display())));
            }
        }
        self.next += 1;
        self.written.push_back(final_path);
        if let Some(keep) = self.keep {
            while self.written.len() as u64 > keep {
                if let Some(old) = self.written.pop_front() {
                    let _ = std::fs::remove_file(old);
                }
            }
        }
        Ok(())
    }
}

/// Creates the output directory and proves it takes a file, so a mistake is a usage error
/// before any frame is captured.
fn check_writable(dir: &Path) -> Result<(), UsageError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| UsageError(format!("output directory {}: {e}", dir.display())))?;
    let probe = dir.join(format!(".gbwatch-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| {
        UsageError(format!(
            "output directory {} is not writable: {e}",
            dir.display()
        ))
    })?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// A progress line on stderr for long runs, redrawn in place; only when stderr is a
/// terminal, and erased before anything else is printed.
pub(crate) struct Progress {
    on: bool,
    shown: bool,
    count: Option<u64>,
    deadline: Option<Instant>,
    started: Instant,
    last: Option<Instant>,
}

impl Progress {
    /// A progress line for `count` frames or until `deadline`, drawn when `wanted` and
    /// stderr is a terminal.
    pub(crate) fn new(wanted: bool, count: Option<u64>, deadline: Option<Instant>) -> Progress {
        Progress {
            on: wanted && std::io::stderr().is_terminal(),
            shown: false,
            count,
            deadline,
            started: Instant::now(),
            last: None,
        }
    }

    /// Redraws the line (at most 10 times a second).
    pub(crate) fn show(&mut self, done: u64) {
        if !self.on
            || self
                .last
                .is_some_and(|t| t.elapsed() < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(Instant::now());
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-3);
        let rate = done as f64 / elapsed;
        let eta = match (self.count, self.deadline) {
            (Some(c), _) if rate > 0.0 => {
                format!("ETA {:.0}s", (c.saturating_sub(done)) as f64 / rate)
            }
            (None, Some(d)) => format!(
                "ETA {:.0}s",
                d.saturating_duration_since(Instant::now()).as_secs_f64()
            ),
            _ => String::new(),
        };
        let total = self.count.map_or(String::new(), |c| format!("/{c}"));
        eprint!("\r\x1b[2K{done}{total} frames  {rate:.1} fps  {eta}");
        self.shown = true;
    }

    /// Erases the line so another line can be printed (it comes back with the next frame).
    pub(crate) fn pause(&mut self) {
        if self.shown {
            eprint!("\r\x1b[2K");
            self.shown = false;
            self.last = None;
        }
    }

    /// Erases the line for good.
    pub(crate) fn finish(&mut self) {
        self.pause();
        self.on = false;
    }
}
