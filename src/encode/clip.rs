//! Clips: frames as an animated GIF (lossless for up to 256 colours a frame, each frame
//! shown for as long as until the next one came), and as MP4 through `ffmpeg` when it is
//! on PATH (made from the GIF, so it keeps the same timing).

use crate::frame::SharedFrame;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::Command;

/// How long the last frame of a clip is shown when it has no successor, in centiseconds.
const LAST_DELAY_CS: u16 = 10;

/// Why a clip could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ClipError {
    /// No frame to put in it.
    #[error("no frames held for that span")]
    Empty,
    /// The frames do not fit a GIF as they are.
    #[error("frame {index}: {what}")]
    Frame {
        /// The frame's index.
        index: u64,
        /// What does not fit.
        what: &'static str,
    },
    /// Encoding failed.
    #[error("GIF: {0}")]
    Gif(#[from] gif::EncodingError),
    /// Writing failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// ffmpeg ran and failed.
    #[error("ffmpeg: {0}")]
    Ffmpeg(String),
}

/// Each frame's delay in centiseconds: the time to the next frame, rounded on the running
/// total so the clip's length stays exact to 10 ms.
pub fn delays_cs(frames: &[SharedFrame]) -> Vec<u16> {
    let cs = |f: &SharedFrame| (f.captured_ns as f64 / 1e7).round() as i64;
    let mut out: Vec<u16> = frames
        .windows(2)
        .map(|w| (cs(&w[1]) - cs(&w[0])).clamp(1, u16::MAX as i64) as u16)
        .collect();
    out.push(out.last().copied().unwrap_or(LAST_DELAY_CS));
    out
}

/// One frame as palette indices and its palette (RGB), if it has at most 256 colours.
fn indexed(f: &SharedFrame) -> Result<(Vec<u8>, Vec<u8>), ClipError> {
    let mut palette: Vec<u8> = Vec::new();
    let mut lookup: HashMap<[u8; 3], u8> = HashMap::new();
    let mut pixels = Vec::with_capacity(f.pixels.len() / 4);
    for p in f.pixels.chunks_exact(4) {
        let c = [p[0], p[1], p[2]];
        let i = match lookup.get(&c) {
            Some(&i) => i,
            None => {
                if lookup.len() == 256 {
                    return Err(ClipError::Frame {
                        index: f.frame_index,
                        what: "more than 256 colours",
                    });
                }
                let i = lookup.len() as u8;
                lookup.insert(c, i);
                palette.extend_from_slice(&c);
                i
            }
        };
        pixels.push(i);
    }
    Ok((pixels, palette))
}

/// Writes `frames` (all of one size) as an animated GIF that loops.
pub fn write_gif(frames: &[SharedFrame], out: impl Write) -> Result<(), ClipError> {
    let first = frames.first().ok_or(ClipError::Empty)?;
    let (w, h) = (first.width as u16, first.height as u16);
    let mut enc = gif::Encoder::new(out, w, h, &[])?;
    enc.set_repeat(gif::Repeat::Infinite)?;
    for (f, delay) in frames.iter().zip(delays_cs(frames)) {
        if (f.width as u16, f.height as u16) != (w, h) {
            return Err(ClipError::Frame {
                index: f.frame_index,
                what: "a different size from the first frame",
            });
        }
        let (pixels, palette) = indexed(f)?;
        let mut frame = gif::Frame::from_palette_pixels(w, h, pixels, palette, None);
        frame.delay = delay;
        enc.write_frame(&frame)?;
    }
    Ok(())
}

/// Whether `ffmpeg` is on PATH.
pub fn has_ffmpeg() -> bool {
    Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Makes an MP4 (H.264) of the GIF at `gif` with ffmpeg, frame for frame and with its
/// timing.
pub fn gif_to_mp4(gif: &Path, mp4: &Path) -> Result<(), ClipError> {
    let out = Command::new("ffmpeg")
        .args(["-y", "-loglevel", "error", "-i"])
        .arg(gif)
        .args(["-fps_mode", "passthrough", "-pix_fmt", "yuv420p"])
        .args(["-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2:flags=neighbor"])
        .args(["-c:v", "libx264", "-crf", "18"])
        .arg(mp4)
        .output()?;
    if out.status.success() {
        Ok(())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(ClipError::Ffmpeg(
            err.lines().last().unwrap_or("failed").to_string(),
        ))
    }
}

/// Writes `frames` as `stem.gif` (atomically) and, with ffmpeg, `stem.mp4`; returns what
/// was written.
pub fn save_clip(frames: &[SharedFrame], stem: &Path) -> Result<Vec<String>, ClipError> {
    let gif = stem.with_extension("gif");
    let mut bytes = Vec::new();
    write_gif(frames, &mut bytes)?;
    super::file::write_atomic(&gif, &bytes)?;
    let mut wrote = vec![gif.display().to_string()];
    if has_ffmpeg() {
        let mp4 = stem.with_extension("mp4");
        gif_to_mp4(&gif, &mp4)?;
        wrote.push(mp4.display().to_string());
    }
    Ok(wrote)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn delays_keep_the_total_exact() {
        let frames: Vec<SharedFrame> = [0u64, 33_333_333, 66_666_667, 100_000_000]
            .iter()
            .map(|&t| {
                let mut f = crate::fixtures::raw_frame(2, 2, None);
                f.captured_ns = t;
                Arc::new(f)
            })
            .collect();
        let d = delays_cs(&frames);
        assert_eq!(d, [3, 4, 3, 3]);
        assert_eq!(d[..3].iter().sum::<u16>(), 10);
    }
}
