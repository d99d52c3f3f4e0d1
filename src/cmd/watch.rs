//! `gbwatch watch` (and `gbwatch` alone): wires the sources' [`FeedSet`] to the terminal
//! [`crate::tui::Monitor`] and always gives the terminal back.

use super::history::history_from;
use super::{feed_options, settings_from, specs_from, Shutdown, Terminated, UsageError};
use crate::cli::{ColorsArg, WatchArgs};
use crate::pipeline::{FeedSet, SharedSettings};
use crate::tui::input::{Crossterm, Input};
use crate::tui::output::TerminalWriter;
use crate::tui::{protocol, ColorMode, Exit, Monitor, Setup, TerminalGuard};
use std::io::IsTerminal;

/// Runs `gbwatch watch`: the sources' feeds drawn in this terminal until q, a signal or the
/// terminal going away.
pub fn run(args: WatchArgs, shutdown: &Shutdown) -> anyhow::Result<()> {
    let settings = settings_from(&args.preset)?;
    if !(args.stuck_after.is_finite() && args.stuck_after > 0.0) {
        return Err(UsageError(format!(
            "--stuck-after {} must be a positive number of seconds",
            args.stuck_after
        ))
        .into());
    }
    let specs = specs_from(&args.source)?;
    if !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "watch draws in a terminal and standard output is not one \
             (for files and pipes: gbwatch dump, stats or serve)"
        );
    }
    std::fs::create_dir_all(&args.snapshot_dir).map_err(|e| {
        UsageError(format!(
            "snapshot directory {}: {e}",
            args.snapshot_dir.display()
        ))
    })?;
    let source_hint = specs
        .iter()
        .filter(|s| {
            !matches!(
                s,
                crate::source::SourceSpec::Demo | crate::source::SourceSpec::DemoUntilPublisher
            )
        })
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let stuck_after = std::time::Duration::from_secs_f64(args.stuck_after);
    let mut options = feed_options(&args.source, &args.preset);
    options.history = history_from(&args.history, stuck_after)?;
    let set = FeedSet::start_under(
        shutdown.cancel(),
        specs,
        SharedSettings::new(settings),
        options,
    );
    let result = monitor(&args, &set, source_hint, shutdown);
    set.stop();
    match result? {
        Exit::Signal(signal) => Err(Terminated(signal).into()),
        Exit::Quit | Exit::TerminalGone => Ok(()),
    }
}

/// Takes over the terminal, runs the monitor and restores the terminal.
fn monitor(
    args: &WatchArgs,
    set: &FeedSet,
    source_hint: String,
    shutdown: &Shutdown,
) -> anyhow::Result<Exit> {
    let guard = TerminalGuard::enter()
        .map_err(|e| anyhow::anyhow!("cannot take over the terminal: {e}"))?;
    // The capability query reads the terminal's answer: before the input thread starts.
    let graphics = protocol::choose(args.protocol);
    let setup = Setup {
        colors: match args.colors {
            ColorsArg::Ansi256 => ColorMode::Ansi256,
            ColorsArg::Truecolor => ColorMode::TrueColor,
        },
        graphics,
        snapshot_dir: args.snapshot_dir.clone(),
        source_hint,
        size: crossterm::terminal::size()?,
        label: Some(args.label.clone()).filter(|l| !l.is_empty()),
        stuck_after: std::time::Duration::from_secs_f64(args.stuck_after),
        map: args.map,
        map_layout: match &args.map_layout {
            Some(path) => Some(crate::pipeline::WorldLayout::load(path)?),
            None => None,
        },
        mouse: !args.no_mouse,
        map_image: match &args.map_image {
            Some(path) => Some(crate::tui::map_image::MapImage::load(path)?),
            None => None,
        },
    };
    let monitor = Monitor::new(set.clone(), setup, TerminalWriter::stdout()?)?;
    let input = Input::spawn(Crossterm, shutdown.cancel());
    let exit = monitor.run(&input, || shutdown.received());
    drop(input);
    drop(guard);
    Ok(exit?)
}
