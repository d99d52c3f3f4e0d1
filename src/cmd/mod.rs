//! Subcommands: each wires sources to a consumer.

pub mod clip;
pub mod docs;
pub mod dump;
pub mod history;
pub mod list;
pub mod record;
pub mod relay;
pub mod serve;
pub mod shutdown;
pub mod stats;
pub mod watch;

use crate::cli::{Cli, Command, PresetArgs, SourceArgs};
use crate::pipeline::{Feed, FeedOptions, FeedSet, FeedState, Preset, Settings, SharedSettings};
use crate::slot::default_dir;
use crate::source::{SourceOptions, SourceSpec};
use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use shutdown::Shutdown;

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

/// With no subcommand, a first SOURCE that exists nowhere but looks like a subcommand
/// (`gbwatch serv`) is a mistyped subcommand: say which one was meant.
pub fn check_subcommand_typo(sources: &[String]) -> Result<(), UsageError> {
    use clap::CommandFactory;
    let Some(first) = sources.first() else {
        return Ok(());
    };
    if std::path::Path::new(first).exists() || SourceSpec::parse(first).is_ok() {
        return Ok(());
    }
    let cmd = crate::cli::Cli::command();
    // clap's own threshold for "a similar subcommand exists".
    let best = cmd
        .get_subcommands()
        .map(|s| s.get_name())
        .map(|name| (strsim::jaro(first, name), name))
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, name)) => Err(UsageError(format!(
            "unrecognized subcommand '{first}' (did you mean '{name}'?)"
        ))),
        None => Ok(()),
    }
}

/// A command that stopped cleanly because this signal arrived.
#[derive(Debug, thiserror::Error)]
#[error("ended by signal {0}")]
pub struct Terminated(pub i32);

/// Runs the command `cli` names and gives its exit status. The commands that run until
/// stopped run under one [`Shutdown`], closed (its signal thread joined) when they return.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Some(Command::List(args)) => list::run(args),
        Some(Command::Clip(args)) => clip::run(args),
        Some(Command::Completions(args)) => docs::completions(args),
        Some(Command::Man(args)) => docs::man(args),
        command => match Shutdown::install() {
            Ok(shutdown) => {
                let result = run_until_stopped(command, cli.watch, &shutdown);
                shutdown.close();
                result
            }
            Err(e) => Err(anyhow::Error::new(e).context("installing signal handlers")),
        },
    };
    shutdown::report_threads_at_exit();
    finish(result)
}

fn run_until_stopped(
    command: Option<Command>,
    watch: crate::cli::WatchArgs,
    shutdown: &Shutdown,
) -> anyhow::Result<()> {
    match command {
        Some(Command::Dump(args)) => dump::run(args, shutdown),
        Some(Command::Stats(args)) => stats::run(args, shutdown),
        Some(Command::Record(args)) => record::run(args, shutdown),
        Some(Command::Serve(args)) => serve::run(args, shutdown),
        Some(Command::Relay(args)) => relay::run(args, shutdown),
        Some(Command::Watch(args)) => watch::run(args, shutdown),
        Some(Command::List(_) | Command::Clip(_) | Command::Completions(_) | Command::Man(_)) => {
            unreachable!("run() handles the commands that end by themselves")
        }
        None => {
            check_subcommand_typo(&watch.source.sources)?;
            watch::run(watch, shutdown)
        }
    }
}

/// Maps a command's result to an exit status: usage errors 2, other errors 1, 128 + the
/// signal number after a termination signal (as a shell reports it).
pub fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if e.downcast_ref::<StdoutClosed>().is_some() {
                return ExitCode::SUCCESS;
            }
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

/// Parses SOURCE arguments for `watch`; none means the slot directory, and the built-in demo
/// while it has no publisher.
pub fn specs_from(args: &SourceArgs) -> Result<Vec<SourceSpec>, UsageError> {
    let mut specs = batch_specs(args)?;
    if args.sources.is_empty() {
        specs.push(SourceSpec::DemoUntilPublisher);
    }
    Ok(specs)
}

/// Parses SOURCE arguments for the commands that are not interactive; none means the slot
/// directory (waited on, never the demo: `demo` is a SOURCE to ask for).
pub fn batch_specs(args: &SourceArgs) -> Result<Vec<SourceSpec>, UsageError> {
    crate::source::ssh::install::set_allowed(!args.no_install);
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(UsageError(format!(
            "--speed {} must be a positive number",
            args.speed
        )));
    }
    if args.sources.is_empty() {
        return Ok(vec![SourceSpec::SlotDir(default_dir())]);
    }
    args.sources
        .iter()
        .map(|s| SourceSpec::parse(s).map_err(|e| UsageError(e.to_string())))
        .collect()
}

/// Starts the pipeline for the given arguments (a non-interactive command's: no demo unless
/// asked for).
pub fn start_feeds(
    source: &SourceArgs,
    preset: &PresetArgs,
    shutdown: &Shutdown,
) -> Result<Started, UsageError> {
    start_feeds_with(source, preset, None, shutdown)
}

/// [`start_feeds`] with every feed keeping its history in `history`.
pub fn start_feeds_with(
    source: &SourceArgs,
    preset: &PresetArgs,
    history: Option<crate::pipeline::History>,
    shutdown: &Shutdown,
) -> Result<Started, UsageError> {
    let settings = settings_from(preset)?;
    let specs = batch_specs(source)?;
    let log = StateLog::new(&specs);
    let mut options = feed_options(source, preset);
    options.history = history;
    let set = FeedSet::start_under(
        shutdown.cancel(),
        specs,
        SharedSettings::new(settings),
        options,
    );
    Ok(Started { set, log })
}

/// A started pipeline and the log of its feeds' state changes.
pub struct Started {
    /// The running feeds.
    pub set: FeedSet,
    /// Reports the feeds' state changes.
    pub log: StateLog,
}

/// Pipeline options from the source and preset flags.
pub fn feed_options(source: &SourceArgs, preset: &PresetArgs) -> FeedOptions {
    FeedOptions {
        queue_capacity: preset.queue as usize,
        source: SourceOptions {
            allow_foreign: source.allow_foreign,
            speed: source.speed,
            looping: source.looping,
        },
        map_fields: source.map_fields.clone(),
        trail: Duration::from_secs_f64(if source.trail.is_finite() {
            source.trail.clamp(0.0, 86_400.0)
        } else {
            30.0
        }),
        history: None,
    }
}

/// Validates `--wait S`.
pub fn wait_limit(wait: Option<f64>) -> Result<Option<Duration>, UsageError> {
    match wait {
        None => Ok(None),
        Some(s) if s.is_finite() && s > 0.0 => Ok(Some(Duration::from_secs_f64(s))),
        Some(s) => Err(UsageError(format!(
            "--wait {s} must be a positive number of seconds"
        ))),
    }
}

/// The feed a single-feed command works on (named `env`, or the first), once it has
/// delivered a frame. Prints state changes meanwhile; gives up after `wait` (if given), on a
/// signal, or when the feed can never deliver, with the last reason.
pub fn first_feed(
    started: &mut Started,
    env: Option<&str>,
    wait: Option<Duration>,
    shutdown: &Shutdown,
) -> anyhow::Result<Arc<Feed>> {
    let begin = Instant::now();
    loop {
        started.log.update(&started.set);
        let feeds = started.set.feeds();
        let found = feeds.iter().find(|f| env.is_none_or(|e| f.name == e));
        if let Some(f) = found {
            let state = f.status().state;
            if f.snapshot().captured > 0 || f.queue.counts().queued > 0 {
                return Ok(f.clone());
            }
            let dead = f.capture_finished()
                && matches!(
                    state,
                    FeedState::Ended | FeedState::Error(_) | FeedState::Gone
                );
            if dead && !started.log.dynamic {
                anyhow::bail!("{}: {}", f.name, state);
            }
        } else if let (Some(e), false) = (env, started.log.dynamic) {
            let names: Vec<String> = feeds.iter().map(|f| f.name.clone()).collect();
            return Err(UsageError(format!(
                "no env named '{e}' (envs: {})",
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            ))
            .into());
        }
        if let Some(signal) = shutdown.received() {
            return Err(Terminated(signal).into());
        }
        if let Some(limit) = wait {
            if begin.elapsed() >= limit {
                anyhow::bail!(
                    "no frame within {}s: {}",
                    fmt_secs(limit),
                    started.log.last_reason(&started.set, env)
                );
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn fmt_secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}

/// Prints each feed's state changes on stderr as they happen: one line per change, not per
/// retry ("waiting for env-00: connection refused, retrying").
#[derive(Debug)]
pub struct StateLog {
    last: HashMap<String, FeedState>,
    problems: Vec<String>,
    told_empty: bool,
    /// What the dynamic SOURCEs wait for ("a publisher in DIR"), for "waiting for …".
    places: Vec<String>,
    /// Whether feeds can still appear (a directory or glob is watched).
    pub dynamic: bool,
}

impl StateLog {
    /// A log for a pipeline started on `specs`.
    pub fn new(specs: &[SourceSpec]) -> StateLog {
        let places = specs
            .iter()
            .filter_map(|s| match s {
                SourceSpec::SlotDir(p) => Some(format!("a publisher in {}", p.display())),
                SourceSpec::ImageDir(p) => Some(format!("image files in {}", p.display())),
                SourceSpec::ImageGlob(g) => Some(format!("files matching {g}")),
                SourceSpec::Ssh(url) => Some(format!("sources on {}", url.as_str())),
                SourceSpec::Slurm(url) => Some(format!("sources on the nodes of {}", url.as_str())),
                SourceSpec::Hosts(path) => {
                    Some(format!("sources on the hosts in {}", path.display()))
                }
                SourceSpec::Http(url) if url.is_base() => {
                    Some(format!("sources on {}", url.as_str()))
                }
                _ => None,
            })
            .collect();
        StateLog {
            last: HashMap::new(),
            problems: Vec::new(),
            told_empty: false,
            places,
            dynamic: specs.iter().any(SourceSpec::is_dynamic),
        }
    }

    /// Prints what changed since the last call.
    pub fn update(&mut self, set: &FeedSet) {
        for line in self.changes(set) {
            eprintln!("gbwatch: {line}");
        }
    }

    /// The lines describing what changed since the last call.
    pub fn changes(&mut self, set: &FeedSet) -> Vec<String> {
        let mut lines = Vec::new();
        let problems = set.problems();
        for p in &problems {
            if !self.problems.contains(p) {
                lines.push(format!("{p}, retrying"));
            }
        }
        self.problems = problems;
        let feeds = set.feeds();
        if feeds.is_empty() && self.problems.is_empty() && !self.places.is_empty() {
            if !self.told_empty {
                self.told_empty = true;
                lines.push(format!("waiting for {}", self.places.join(" or ")));
            }
        } else if !feeds.is_empty() {
            self.told_empty = false;
        }
        for f in &feeds {
            let state = f.status().state;
            let before = self.last.insert(f.key.clone(), state.clone());
            if before.as_ref() == Some(&state) || (before.is_none() && state == FeedState::Waiting)
            {
                continue;
            }
            let retrying = !f.capture_finished() || self.dynamic;
            lines.push(match &state {
                FeedState::Waiting => format!("{}: waiting for the first frame", f.name),
                FeedState::Online => format!("{}: online", f.name),
                FeedState::Stale => format!(
                    "{}: stale (no new frame for {}s)",
                    f.name,
                    crate::pipeline::STALE_AFTER.as_secs()
                ),
                FeedState::Offline(r) => format!("waiting for {}: {r}, retrying", f.name),
                FeedState::Error(e) if retrying => format!("{}: {e}, retrying", f.name),
                FeedState::Error(e) => format!("{}: {e}", f.name),
                FeedState::Ended => format!("{}: ended", f.name),
                FeedState::Gone => format!("{}: gone (its source was removed)", f.name),
            });
        }
        self.last
            .retain(|key, _| feeds.iter().any(|f| &f.key == key));
        lines
    }

    /// Why no frame arrived, in one line: the chosen feed's state, or what the scan found.
    pub fn last_reason(&self, set: &FeedSet, env: Option<&str>) -> String {
        let feeds = set.feeds();
        if let Some(f) = feeds.iter().find(|f| env.is_none_or(|e| f.name == e)) {
            return format!("{}: {}", f.name, f.status().state);
        }
        if let Some(p) = self.problems.first() {
            return p.clone();
        }
        match env {
            Some(e) => format!("no env named '{e}' appeared"),
            None if self.places.is_empty() => "no source".to_string(),
            None => format!("no sign of {}", self.places.join(" or ")),
        }
    }
}

/// Standard output was closed by its reader (`| head`): the command ends quietly, status 0.
#[derive(Debug, thiserror::Error)]
#[error("standard output closed")]
pub struct StdoutClosed;

/// Writes `text` to standard output; a closed pipe becomes [`StdoutClosed`].
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(e) => Err(anyhow::Error::new(e).context("writing to standard output")),
    }
}
