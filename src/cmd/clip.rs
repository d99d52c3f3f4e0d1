//! `gbwatch clip`: one env's span of a recording file as an animated GIF, or an MP4 made
//! from it with ffmpeg, each frame shown as long as it was in the recording.

use super::history::parse_duration;
use super::UsageError;
use crate::cli::ClipArgs;
use crate::encode::clip::{has_ffmpeg, write_mp4, GifWriter};
use crate::encode::file::write_atomic;
use crate::source::recording::EnvFrames;
use std::time::Duration;

/// What the clip is written as.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Gif,
    Mp4,
}

/// `--from`/`--to` as nanoseconds since the recording's first frame.
fn time_of(flag: &str, text: Option<&str>) -> Result<Option<u64>, UsageError> {
    let Some(text) = text else { return Ok(None) };
    let d = parse_duration(text).ok_or_else(|| {
        UsageError(format!(
            "{flag} {text:?}: expected a time since the recording's first frame, such as 12.5, 90s or 1m30s"
        ))
    })?;
    Ok(Some(d.as_nanos().min(u64::MAX as u128) as u64))
}

fn seconds(ns: u64) -> String {
    format!("{:.3} s", Duration::from_nanos(ns).as_secs_f64())
}

/// Runs `gbwatch clip`: checks the arguments, then reads the env's frames from `--from` to
/// `--to` into the clip, which is written whole or not at all.
pub fn run(args: ClipArgs) -> anyhow::Result<()> {
    let from = time_of("--from", args.from.as_deref())?;
    let to = time_of("--to", args.to.as_deref())?;
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(UsageError(format!(
                "--from {} is after --to {}",
                seconds(f),
                seconds(t)
            ))
            .into());
        }
    }
    let out = &args.out;
    let format = match out.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("gif") => Format::Gif,
        Some(e) if e.eq_ignore_ascii_case("mp4") => Format::Mp4,
        _ => {
            return Err(UsageError(format!(
                "-o {}: the clip's file name must end in .gif or .mp4",
                out.display()
            ))
            .into())
        }
    };
    if out.is_dir() {
        return Err(UsageError(format!("-o {}: is a directory", out.display())).into());
    }
    if format == Format::Mp4 && !has_ffmpeg() {
        anyhow::bail!(
            "-o {}: an MP4 is made with ffmpeg, which is not on PATH (install it, or write a .gif)",
            out.display()
        );
    }
    let (from, to) = (from.unwrap_or(0), to.unwrap_or(u64::MAX));
    let mut frames = EnvFrames::open(&args.recording, args.env.as_deref())?;
    let env = frames.env().to_string();
    let mut gif = GifWriter::new(Vec::new());
    let (mut count, mut first, mut last) = (0u64, None, 0);
    // The nearest frames outside the span, for saying why it is empty.
    let (mut before, mut after) = (None, None);
    for f in &mut frames {
        let f = f?;
        if f.at_ns < from {
            before = Some(f.at_ns);
            continue;
        }
        if f.at_ns > to {
            after = Some(f.at_ns);
            break;
        }
        gif.push(f.frame_index, f.at_ns, (f.width, f.height), &f.pixels)
            .map_err(|e| anyhow::anyhow!("{env}: {e}"))?;
        count += 1;
        first.get_or_insert(f.at_ns);
        last = f.at_ns;
    }
    let Some(first) = first else {
        let span = match (from, to) {
            (0, u64::MAX) => String::new(),
            (f, u64::MAX) => format!(" from {}", seconds(f)),
            (f, t) => format!(" between {} and {}", seconds(f), seconds(t)),
        };
        let nearest = match (before, after) {
            (None, None) => String::new(),
            (Some(b), None) => format!(" (its last is at {})", seconds(b)),
            (None, Some(a)) => format!(" (its first is at {})", seconds(a)),
            (Some(b), Some(a)) => {
                format!(" (the nearest are at {} and {})", seconds(b), seconds(a))
            }
        };
        anyhow::bail!(
            "{}: no frame of {env}{span}{nearest}",
            args.recording.display()
        );
    };
    let bytes = gif.finish()?;
    match format {
        Format::Gif => write_atomic(out, &bytes)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?,
        Format::Mp4 => write_mp4(&bytes, out)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?,
    }
    eprintln!(
        "wrote {count} frame{} of {env} ({} to {}) to {}",
        if count == 1 { "" } else { "s" },
        seconds(first),
        seconds(last),
        out.display()
    );
    Ok(())
}
