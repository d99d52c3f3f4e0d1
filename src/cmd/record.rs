//! `gbwatch record`: write what the pipeline captures to a replayable recording.

use super::dump::{next_frame, Next, Progress};
use super::{first_feed, start_feeds, wait_limit, Signals, Started, Terminated, UsageError};
use crate::cli::RecordArgs;
use crate::frame::Frame;
use crate::source::recording::RecordingWriter;
use anyhow::Context;
use std::fs::File;
use std::io::BufWriter;
use std::time::{Duration, Instant};

/// Runs `gbwatch record`: writes one feed's frames to a recording until `--count`, `--duration`
/// or the end of the source.
pub fn run(args: RecordArgs) -> anyhow::Result<()> {
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
    let signals = Signals::install()?;
    let mut started = start_feeds(&args.source, &args.preset)?;
    let result = record(&args, &mut started, file, wait, &signals);
    started.set.stop();
    let (frames, bytes, first_ts, last_ts, interrupted) = result?;
    eprintln!(
        "recorded {frames} frames ({:.1} s) to {}: {bytes} bytes, {} bytes/frame",
        (last_ts - first_ts) as f64 / 1e9,
        args.out.display(),
        bytes / frames.max(1)
    );
    match interrupted {
        Some(signal) => Err(Terminated(signal).into()),
        None => Ok(()),
    }
}

/// The frame's time on our monotonic clock: the publisher's stamp when known, else arrival.
fn frame_time(frame: &Frame) -> u64 {
    frame.published_ns.unwrap_or(frame.captured_ns)
}

/// What a recording run wrote: frames, bytes, first and last timestamp, and the signal that
/// ended it early.
type Recorded = (u64, u64, u64, u64, Option<i32>);

fn record(
    args: &RecordArgs,
    started: &mut Started,
    file: File,
    wait: Option<Duration>,
    signals: &Signals,
) -> anyhow::Result<Recorded> {
    let feed = first_feed(started, args.env.as_deref(), wait, signals)?;
    let deadline = args
        .duration
        .map(|d| Instant::now() + Duration::from_secs_f64(d));
    let mut progress = Progress::new(true, args.count, deadline);
    let mut interrupted = None;
    let mut file = Some(file);
    let mut writer: Option<RecordingWriter<BufWriter<File>>> = None;
    let mut first_ts = None;
    let mut last_ts = 0;
    while args
        .count
        .is_none_or(|c| writer.as_ref().is_none_or(|w| w.frames() < c))
        && deadline.is_none_or(|d| Instant::now() < d)
    {
        if let Some(signal) = signals.received() {
            interrupted = Some(signal);
            break;
        }
        let frame = match next_frame(&feed, &mut started.log, &started.set, &mut progress) {
            Next::Frame(frame) => frame,
            Next::Nothing => continue,
            Next::SourceDone => break,
        };
        if writer.is_none() {
            let out = BufWriter::new(file.take().expect("file opened once"));
            writer = Some(
                RecordingWriter::new(out, frame.width, frame.height)
                    .with_context(|| format!("writing {}", args.out.display()))?,
            );
        }
        let w = writer.as_mut().expect("writer created");
        let t = frame_time(&frame);
        let first = *first_ts.get_or_insert(t);
        // Timestamps never go back, even across a publisher restart.
        last_ts = t.saturating_sub(first).max(last_ts);
        w.write_frame_with_info(
            frame.frame_index,
            last_ts,
            &frame.pixels,
            frame.info.as_deref(),
        )
        .with_context(|| format!("{}: writing {}", feed.name, args.out.display()))?;
        // Each record reaches the file whole, so an interrupted recording still replays.
        w.flush()
            .with_context(|| format!("writing {}", args.out.display()))?;
        feed.stats.record_done(&frame);
        progress.show(w.frames());
    }
    progress.finish();
    // A source that stopped on an error (a damaged recording) fails the command, after
    // every frame before the damage was used.
    if let crate::pipeline::FeedState::Error(msg) = feed.status().state {
        if feed.capture_finished() {
            anyhow::bail!("{msg}");
        }
    }
    let Some(w) = writer else {
        anyhow::bail!("{}: no frames arrived", feed.name);
    };
    let (frames, bytes) = (w.frames(), w.bytes());
    w.finish()
        .with_context(|| format!("writing {}", args.out.display()))?;
    Ok((frames, bytes, 0, last_ts, interrupted))
}
