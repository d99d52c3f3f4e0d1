//! Command-line interface (clap derive). Shared argument groups are flattened into the
//! subcommands that use them.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// `--version`: the version and the formats this build reads and writes.
fn long_version() -> String {
    format!(
        "{} (slot format {}, stream format {}, recording format {})",
        env!("CARGO_PKG_VERSION"),
        crate::slot::VERSION,
        crate::stream::VERSION,
        crate::source::recording::VERSION,
    )
}

/// Watch what your PyBoy agents see: live frames in the terminal, JPEG dumps, HTTP.
#[derive(Debug, Parser)]
#[command(
    name = "gbwatch",
    version,
    long_version = long_version(),
    about,
    propagate_version = true,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// The subcommand given; `None` runs `watch` with [`Cli::watch`].
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Without a subcommand, gbwatch runs `watch` with these arguments.
    #[command(flatten)]
    pub watch: WatchArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the publishers in a slot directory, one line each.
    List(ListArgs),
    /// Write frames as numbered JPEG files, or as an MJPEG stream on stdout.
    Dump(DumpArgs),
    /// Run the pipeline for a while and print its figures.
    Stats(StatsArgs),
    /// The terminal monitor: live frames, panels, presets by key, a grid of envs (default).
    Watch(WatchArgs),
    /// Record every env the SOURCEs hold into one replayable file (a saved compact stream).
    Record(RecordArgs),
    /// Save one env's span of a recording as an animated GIF (or MP4), each frame with its
    /// recorded timing.
    Clip(ClipArgs),
    /// Serve a dashboard, JPEG snapshots, an MJPEG stream and JSON stats over HTTP.
    Serve(ServeArgs),
    /// Write the compact stream of SOURCES' frames to standard output, reading the viewer's
    /// requests on standard input (what `gbwatch watch ssh://HOST` runs on HOST).
    Relay(RelayArgs),
    /// Print a shell completion script (e.g. `gbwatch completions bash > /etc/bash_completion.d/gbwatch`).
    Completions(CompletionsArgs),
    /// Print a manual page in roff (e.g. `gbwatch man > ~/.local/share/man/man1/gbwatch.1`).
    Man(ManArgs),
}

/// Arguments of `gbwatch man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// A subcommand's page instead of gbwatch(1): `gbwatch man dump` is gbwatch-dump(1).
    #[arg(value_name = "SUBCOMMAND")]
    pub subcommand: Option<String>,
}

/// Arguments of `gbwatch completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Where frames come from.
#[derive(Debug, Args, Clone)]
pub struct SourceArgs {
    /// Where frames come from: a slot directory or DIR/NAME.slot, a recording (FILE.gbrec), an
    /// http:// URL (a JPEG/PNG polled, an MJPEG stream, or a bare http://HOST:PORT: of a
    /// gbwatch serve, each of its envs as HOST:PORT/ENV; LABEL@http://… names them LABEL/ENV), a
    /// directory or quoted glob of JPEG/PNG files ('sessions/*/curframe_*.jpeg'), ssh://HOST
    /// (every publisher there), slurm:JOBID or slurm://LOGIN/JOBID (every node of a Slurm
    /// job, as NODE/ENV), hosts:FILE (every host listed, one a line), or `demo`
    /// (the built-in demo). Default: the slot directory ($GBWATCH_DIR, else
    /// /dev/shm/gbwatch); `watch` shows the demo while it has no publisher, the other commands
    /// wait for one.
    #[arg(value_name = "SOURCE")]
    pub sources: Vec<String>,
    /// Read slots owned by other users too.
    #[arg(long)]
    pub allow_foreign: bool,
    /// Replay recordings at this speed (1 = their original timing).
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    pub speed: f64,
    /// Replay recordings again from the start when they end.
    #[arg(long = "loop")]
    pub looping: bool,
    /// Never copy this gbwatch to an ssh:// box that has none (it says how to install one).
    #[arg(long, env = "GBWATCH_NO_INSTALL", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_install: bool,
    /// The info fields holding an env's position on the map: X,Y or X,Y,REGION.
    #[arg(long, default_value = "x,y,map", value_name = "X,Y[,REGION]")]
    pub map_fields: crate::pipeline::MapFields,
    /// How many seconds of each env's path the map draws as its trail.
    #[arg(long, default_value_t = 30.0, value_name = "S")]
    pub trail: f64,
}

/// Quality preset and overrides.
#[derive(Debug, Args, Clone)]
pub struct PresetArgs {
    /// Quality preset: low (1x, 5 fps, q50), medium (2x, 10 fps, q75), high (3x, 15 fps, q90), ultra (4x, 30 fps, q95).
    #[arg(long, default_value = "medium")]
    pub preset: String,
    /// Override the preset's integer scale (1-8).
    #[arg(long)]
    pub scale: Option<u32>,
    /// Override the preset's frame rate (1-240).
    #[arg(long)]
    pub fps: Option<u32>,
    /// Override the preset's JPEG quality (1-100).
    #[arg(long)]
    pub quality: Option<u32>,
    /// Capacity of each feed's drop-oldest queue.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub queue: u32,
}

/// Arguments of `gbwatch list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Slot directory (default: $GBWATCH_DIR, else /dev/shm/gbwatch), or
    /// ssh://USER@HOST:PORT/SLOT-DIR (all but HOST optional) for that host's publishers, or
    /// slurm:JOBID, slurm://LOGIN/JOBID, hosts:FILE for each of their hosts'.
    pub dir: Option<PathBuf>,
    /// List slots owned by other users too.
    #[arg(long)]
    pub allow_foreign: bool,
    /// Remove the slots of publishers that are dead (only slot files, only your own).
    #[arg(long)]
    pub prune: bool,
}

/// How long to wait for the first frame.
#[derive(Debug, Args, Clone)]
pub struct WaitArgs {
    /// Give up (status 1, with the last reason) when no frame arrived within S seconds
    /// (default: wait as long as it takes, printing each change of the sources' state).
    #[arg(long, value_name = "S")]
    pub wait: Option<f64>,
}

/// Arguments of `gbwatch dump`.
#[derive(Debug, Args)]
pub struct DumpArgs {
    /// Where frames come from.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Quality preset and overrides.
    #[command(flatten)]
    pub preset: PresetArgs,
    /// How long to wait for the first frame.
    #[command(flatten)]
    pub wait: WaitArgs,
    /// Directory for the JPEG files (created if missing).
    #[arg(
        long,
        short,
        value_name = "DIR",
        required_unless_present = "stdout",
        conflicts_with = "stdout"
    )]
    pub out: Option<PathBuf>,
    /// Write a concatenated JPEG (MJPEG) stream to stdout instead of files.
    #[arg(long)]
    pub stdout: bool,
    /// Stop after N frames.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Stop after S seconds.
    #[arg(long, value_name = "S")]
    pub duration: Option<f64>,
    /// Keep only the newest N files.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub keep: Option<u64>,
    /// Which env to dump when the source has several (default: the first).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Also write DIR/NAME.jsonl: one JSON line per JPEG, with its file name, frame index
    /// and the frame's info.
    #[arg(long)]
    pub info: bool,
}

/// Arguments of `gbwatch stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Where frames come from.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Quality preset and overrides.
    #[command(flatten)]
    pub preset: PresetArgs,
    /// How long to wait for the first frame.
    #[command(flatten)]
    pub wait: WaitArgs,
    /// Print JSON (the original dashboard's field names plus gbwatch's).
    #[arg(long)]
    pub json: bool,
    /// How long to run the pipeline, in seconds.
    #[arg(long, default_value_t = 5.0, value_name = "S")]
    pub duration: f64,
}

/// Arguments of `gbwatch serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where frames come from.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Quality preset and overrides.
    #[command(flatten)]
    pub preset: PresetArgs,
    /// Address to listen on; anything but loopback prints a warning (there is no authentication).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub bind: String,
    /// Where each region sits in one world on the page's map (the layout file of `watch
    /// --map-layout`).
    #[arg(long, value_name = "FILE")]
    pub map_layout: Option<PathBuf>,
    /// Time kept by every env for `/api/clip`.
    #[command(flatten)]
    pub history: HistoryArgs,
}

/// Arguments of `gbwatch relay`.
#[derive(Debug, Args)]
pub struct RelayArgs {
    /// Where frames come from.
    #[command(flatten)]
    pub source: SourceArgs,
    /// The rate every source starts at until the viewer asks for another (0: none).
    #[arg(long, default_value_t = 0, value_name = "FPS", value_parser = clap::value_parser!(u32).range(0..=240))]
    pub fps: u32,
}

/// Arguments of `gbwatch record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Where frames come from.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Quality preset and overrides.
    #[command(flatten)]
    pub preset: PresetArgs,
    /// How long to wait for the first frame.
    #[command(flatten)]
    pub wait: WaitArgs,
    /// The recording file to write (replaced if it exists).
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
    /// Stop after N frames (of all envs together).
    #[arg(long, value_name = "N", conflicts_with = "duration", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Stop after S seconds.
    #[arg(long, value_name = "S")]
    pub duration: Option<f64>,
    /// Record only this env (default: every env of every SOURCE, into the one file).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
}

/// Arguments of `gbwatch clip`.
#[derive(Debug, Args)]
pub struct ClipArgs {
    /// The recording: a file `gbwatch record` wrote (many envs), or a single-env one.
    #[arg(value_name = "REC")]
    pub recording: PathBuf,
    /// The env to clip (may be left out when the recording holds one).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Where the clip starts, as time since the recording's first frame: `12.5` or `12.5s`
    /// (seconds), `2m`, `1m30s` (default: the first frame).
    #[arg(long, value_name = "T")]
    pub from: Option<String>,
    /// Where the clip ends, the same way (default: the last frame); frames made from
    /// `--from` to `--to`, both included, are in the clip.
    #[arg(long, value_name = "T")]
    pub to: Option<String>,
    /// The clip to write: FILE.gif, or FILE.mp4 (made with ffmpeg, which must be on PATH).
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
}

pub use crate::tui::protocol::ProtocolArg;

/// Colours of the half-block renderer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorsArg {
    /// The xterm 256-colour palette: about half the bytes.
    #[value(name = "256")]
    Ansi256,
    /// 24-bit colour: exact.
    Truecolor,
}

/// Arguments of `gbwatch watch`, also used when no subcommand is given.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Where frames come from.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Quality preset and overrides.
    #[command(flatten)]
    pub preset: PresetArgs,
    /// How frames are drawn.
    #[arg(long, value_enum, default_value = "auto")]
    pub protocol: ProtocolArg,
    /// Colours of the half-block renderer.
    #[arg(long, value_enum, default_value = "256")]
    pub colors: ColorsArg,
    /// Where the `s` key saves JPEG snapshots.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub snapshot_dir: PathBuf,
    /// The info field grid tiles show, sort by (o) and watch for stuck envs (L cycles).
    #[arg(long, value_name = "FIELD", default_value = "episode_return")]
    pub label: String,
    /// An env whose picture (or label field) has not changed for this long is marked stuck.
    #[arg(long, value_name = "S", default_value_t = 30.0)]
    pub stuck_after: f64,
    /// Start in the map view (every env's position; `m` toggles it).
    #[arg(long)]
    pub map: bool,
    /// Where each region sits in one world (JSON: {"regions": {"ID": {"x", "y", "width",
    /// "height"}}}); without it each region is a panel of its own.
    #[arg(long, value_name = "FILE")]
    pub map_layout: Option<PathBuf>,
    /// A picture (PNG or JPEG) under the map, stretched over its world (the layout file's,
    /// or the one region's).
    #[arg(long, value_name = "PNG")]
    pub map_image: Option<PathBuf>,
    /// Never ask the terminal for clicks (by default it reports them while the map is shown,
    /// so that a click on a marker zooms its env; drag-selecting text then needs shift).
    #[arg(long)]
    pub no_mouse: bool,
    /// Time kept by every env for pause and replay.
    #[command(flatten)]
    pub history: HistoryArgs,
}

/// How much every env keeps for pause, replay and clips.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// How far back every env's frames are kept (`60s`, `2m`; `0`: no history).
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    pub history: String,
    /// The most memory the history takes, all envs together (`64MB`, `1GB`); the oldest
    /// frames go first.
    #[arg(long, value_name = "SIZE", default_value = "64MB")]
    pub history_size: String,
    /// Marks the timeline where this becomes true (`episode_return>100`; also <, >=, <=,
    /// =); repeatable.
    #[arg(long, value_name = "RULE")]
    pub mark: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
