//! Command-line interface (clap derive). Shared argument groups are flattened into the
//! subcommands that use them.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Watch what your PyBoy agents see: live frames in the terminal, JPEG dumps, HTTP.
#[derive(Debug, Parser)]
#[command(name = "gbwatch", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the publishers in a slot directory, one line each.
    List(ListArgs),
    /// Write frames as numbered JPEG files, or as an MJPEG stream on stdout.
    Dump(DumpArgs),
    /// Run the pipeline for a while and print its figures.
    Stats(StatsArgs),
    /// Record what the pipeline captures into a replayable file.
    Record(RecordArgs),
}

/// Where frames come from.
#[derive(Debug, Args, Clone)]
pub struct SourceArgs {
    /// Slot file or directory, or a recording (default: the slot directory, $GBWATCH_DIR or
    /// /dev/shm/gbwatch, plus the built-in demo when it has no publishers).
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

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Slot directory (default: $GBWATCH_DIR, else /dev/shm/gbwatch).
    pub dir: Option<PathBuf>,
    /// List slots owned by other users too.
    #[arg(long)]
    pub allow_foreign: bool,
}

#[derive(Debug, Args)]
pub struct DumpArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub preset: PresetArgs,
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
    #[arg(long, value_name = "N")]
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
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub preset: PresetArgs,
    /// Print JSON (the original dashboard's field names plus gbwatch's).
    #[arg(long)]
    pub json: bool,
    /// How long to run the pipeline, in seconds.
    #[arg(long, default_value_t = 5.0, value_name = "S")]
    pub duration: f64,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub preset: PresetArgs,
    /// The recording file to write (replaced if it exists).
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
    /// Stop after N frames.
    #[arg(long, value_name = "N", conflicts_with = "duration")]
    pub count: Option<u64>,
    /// Stop after S seconds.
    #[arg(long, value_name = "S")]
    pub duration: Option<f64>,
    /// Which env to record when the source has several (default: the first).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
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
