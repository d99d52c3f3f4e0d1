//! `gbwatch dump`: numbered JPEG files written atomically, or MJPEG on stdout.

use super::{first_feed, start_feeds, UsageError};
use crate::cli::DumpArgs;
use crate::encode::{Backend, JpegCache};
use std::collections::VecDeque;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Runs `gbwatch dump`: one feed's frames as numbered JPEG files or MJPEG on stdout, until
/// `--count`, `--duration` or the end of the source.
pub fn run(args: DumpArgs) -> anyhow::Result<()> {
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
    let set = start_feeds(&args.source, &args.preset)?;
    let result = dump(&args, &set);
    set.stop();
    result
}

fn dump(args: &DumpArgs, set: &crate::pipeline::FeedSet) -> anyhow::Result<()> {
    let deadline = args
        .duration
        .map(|d| Instant::now() + Duration::from_secs_f64(d));
    let feed = first_feed(set, args.env.as_deref())?;
    let mut cache = JpegCache::new(Backend::best());
    let mut writer = match &args.out {
        Some(dir) => Sink::Files(FileSink::new(dir, &feed.name, args.keep, args.info)?),
        None => Sink::Stdout(std::io::stdout().lock()),
    };
    let progress = std::io::stderr().is_terminal() && args.out.is_some();
    let started = Instant::now();
    let mut written = 0u64;
    while args.count.is_none_or(|c| written < c) && deadline.is_none_or(|d| Instant::now() < d) {
        let Some(frame) = feed.queue.pop_timeout(Duration::from_millis(100)) else {
            if feed.capture_finished() && feed.queue.counts().queued == 0 {
                break;
            }
            continue;
        };
        let s = set.settings.get();
        let jpeg = cache.encode(&frame, s.scale(), s.quality(), Some(&feed.stats))?;
        match &mut writer {
            Sink::Files(files) => files.write(&jpeg.jpeg, &frame)?,
            Sink::Stdout(out) => match out.write_all(&jpeg.jpeg).and_then(|_| out.flush()) {
                Ok(()) => {}
                // The reader went away (`| head`, ffmpeg done): a normal end.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                Err(e) => return Err(anyhow::Error::new(e).context("writing to stdout")),
            },
        }
        feed.stats.record_done(&frame);
        written += 1;
        if progress {
            print_progress(written, args.count, deadline, started);
        }
    }
    if progress {
        eprintln!();
    }
    // A source that stopped on an error (a damaged recording) fails the command, after
    // every frame before the damage was used.
    if let crate::pipeline::FeedState::Error(msg) = feed.status().state {
        if feed.capture_finished() {
            anyhow::bail!("{msg}");
        }
    }
    if written == 0 {
        anyhow::bail!("{}: no frames arrived", feed.name);
    }
    let s = feed.snapshot();
    eprintln!(
        "gbwatch: wrote {written} frames of {} (captured {} = delivered {} + dropped {} + queued {}; missed {}, identical {})",
        feed.name, s.captured, s.delivered, s.dropped, s.queued, s.missed, s.identical
    );
    Ok(())
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
        // Feed names of URLs and nested image files contain `/`.
        let name = name.replace(['/', '\\'], "_");
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
        let tmp = self
            .dir
            .join(format!(".{}-{:06}.jpg.tmp", self.name, self.next));
        let result = std::fs::File::create(&tmp)
            .and_then(|mut f| f.write_all(jpeg).and_then(|_| f.flush()))
            .and_then(|_| std::fs::rename(&tmp, &final_path));
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
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

fn print_progress(written: u64, count: Option<u64>, deadline: Option<Instant>, started: Instant) {
    let elapsed = started.elapsed().as_secs_f64().max(1e-3);
    let rate = written as f64 / elapsed;
    let eta = match (count, deadline) {
        (Some(c), _) if rate > 0.0 => {
            format!("ETA {:.0}s", (c.saturating_sub(written)) as f64 / rate)
        }
        (None, Some(d)) => format!(
            "ETA {:.0}s",
            d.saturating_duration_since(Instant::now()).as_secs_f64()
        ),
        _ => String::new(),
    };
    let total = count.map_or(String::new(), |c| format!("/{c}"));
    eprint!("\r{written}{total} frames  {rate:.1} fps  {eta}   ");
}
