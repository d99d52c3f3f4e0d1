//! Subcommands: each wires sources to a consumer.

pub mod dump;
pub mod list;
pub mod record;
pub mod serve;
pub mod stats;
pub mod watch;

use crate::cli::{PresetArgs, SourceArgs};
use crate::pipeline::{Feed, FeedOptions, FeedSet, Preset, Settings, SharedSettings};
use crate::slot::default_dir;
use crate::source::SourceSpec;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A mistake in how gbwatch was called: one line, exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Prints clap's error as one line (help and version go out in full) and exits.
pub fn usage_error_exit(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let text = e.to_string();
    let mut lines = text.lines();
    let mut line = lines
        .next()
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ")
        .to_string();
    // "the following required arguments were not provided:" lists them on indented lines.
    if line.ends_with(':') {
        let items: Vec<&str> = lines
            .take_while(|l| l.starts_with("  "))
            .map(str::trim)
            .collect();
        line = format!("{line} {}", items.join(", "));
    }
    eprintln!("gbwatch: {line}");
    ExitCode::from(2)
}

/// A command that stopped cleanly because this signal arrived.
#[derive(Debug, thiserror::Error)]
#[error("ended by signal {0}")]
pub struct Terminated(pub i32);

/// Maps a command's result to an exit status: usage errors 2, other errors 1, 128 + the
/// signal number after a termination signal (as a shell reports it).
pub fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(Terminated(signal)) = e.downcast_ref::<Terminated>() {
                return ExitCode::from((128 + signal).clamp(0, 255) as u8);
            }
            if let Some(u) = e.downcast_ref::<UsageError>() {
                eprintln!("gbwatch: {u}");
                return ExitCode::from(2);
            }
            eprintln!("gbwatch: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Validated settings from the preset flags.
pub fn settings_from(args: &PresetArgs) -> Result<Settings, UsageError> {
    let preset = Preset::by_name(&args.preset).map_err(|e| UsageError(e.to_string()))?;
    Settings::with_overrides(preset, args.scale, args.fps, args.quality)
        .map_err(|e| UsageError(e.to_string()))
}

/// Parses SOURCE arguments; none means the slot directory, plus the embedded demo when the
/// directory has no slots at start.
pub fn specs_from(args: &SourceArgs) -> Result<Vec<SourceSpec>, UsageError> {
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(UsageError(format!(
            "--speed {} must be a positive number",
            args.speed
        )));
    }
    if args.sources.is_empty() {
        let dir = default_dir();
        let empty = crate::slot::SlotDir::new(&dir)
            .scan()
            .map_or(true, |slots| slots.is_empty());
        let mut specs = vec![SourceSpec::SlotDir(dir)];
        if empty {
            specs.push(SourceSpec::Demo);
        }
        return Ok(specs);
    }
    args.sources
        .iter()
        .map(|s| SourceSpec::parse(s).map_err(|e| UsageError(e.to_string())))
        .collect()
}

/// Starts the pipeline for the given arguments.
pub fn start_feeds(source: &SourceArgs, preset: &PresetArgs) -> Result<FeedSet, UsageError> {
    let settings = settings_from(preset)?;
    let specs = specs_from(source)?;
    Ok(FeedSet::start(
        specs,
        SharedSettings::new(settings),
        feed_options(source, preset),
    ))
}

/// Pipeline options from the source and preset flags.
pub fn feed_options(source: &SourceArgs, preset: &PresetArgs) -> FeedOptions {
    FeedOptions {
        queue_capacity: preset.queue as usize,
        allow_foreign: source.allow_foreign,
        speed: source.speed,
        looping: source.looping,
    }
}

/// How long dump and record wait for a first source.
const FIRST_SOURCE_TIMEOUT: Duration = Duration::from_secs(30);

/// The feed a single-feed command works on (named `env`, or the first), once readable.
pub fn first_feed(set: &FeedSet, env: Option<&str>) -> anyhow::Result<Arc<Feed>> {
    wait_for_feed(set, env, FIRST_SOURCE_TIMEOUT).ok_or_else(|| {
        anyhow::anyhow!(
            "no source became available within {}s",
            FIRST_SOURCE_TIMEOUT.as_secs()
        )
    })
}

/// Waits until a feed (named `env`, or the first) is readable, up to `timeout`.
pub fn wait_for_feed(set: &FeedSet, env: Option<&str>, timeout: Duration) -> Option<Arc<Feed>> {
    let start = Instant::now();
    loop {
        let found = set.feeds().into_iter().find(|f| {
            env.is_none_or(|e| f.name == e)
                && !matches!(f.status().state, crate::pipeline::FeedState::Error(_))
        });
        if found.is_some() || start.elapsed() >= timeout {
            return found;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
