//! Clips: frames as an animated GIF (lossless for up to 256 colours a frame, each frame
//! shown for as long as until the next one came), and as MP4 through `ffmpeg` when it is
//! on PATH (made from the GIF, so it keeps the same timing).

use crate::frame::{Frame, SharedFrame};
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

/// A frame's time in whole centiseconds: delays are differences of these, so rounding
/// never adds up and a clip's length stays exact to 10 ms.
fn centiseconds(at_ns: u64) -> i64 {
    (at_ns as f64 / 1e7).round() as i64
}

/// Each frame's delay in centiseconds: the time to the next frame, rounded on the running
/// total so the clip's length stays exact to 10 ms.
pub fn delays_cs(frames: &[SharedFrame]) -> Vec<u16> {
    let mut out: Vec<u16> = frames
        .windows(2)
        .map(|w| delay_between(w[0].captured_ns, w[1].captured_ns))
        .collect();
    out.push(out.last().copied().unwrap_or(LAST_DELAY_CS));
    out
}

fn delay_between(from_ns: u64, to_ns: u64) -> u16 {
    (centiseconds(to_ns) - centiseconds(from_ns)).clamp(1, u16::MAX as i64) as u16
}

/// One frame as palette indices and its palette (RGB), if it has at most 256 colours.
fn indexed(index: u64, rgba: &[u8]) -> Result<(Vec<u8>, Vec<u8>), ClipError> {
    let mut palette: Vec<u8> = Vec::new();
    let mut lookup: HashMap<[u8; 3], u8> = HashMap::new();
    let mut pixels = Vec::with_capacity(rgba.len() / 4);
    for p in rgba.chunks_exact(4) {
        let c = [p[0], p[1], p[2]];
        let i = match lookup.get(&c) {
            Some(&i) => i,
            None => {
                if lookup.len() == 256 {
                    return Err(ClipError::Frame {
                        index,
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

/// A frame waiting for its successor, which decides how long it is shown.
struct Pending {
    frame: gif::Frame<'static>,
    at_ns: u64,
}

/// An animated GIF written a frame at a time (memory holds one frame, not the clip): each
/// frame is shown until the next one's time.
pub struct GifWriter<W: Write> {
    encoder: Option<gif::Encoder<W>>,
    out: Option<W>,
    size: (u16, u16),
    pending: Option<Pending>,
    last_delay: Option<u16>,
}

impl<W: Write> GifWriter<W> {
    /// A GIF that loops, written to `out`; nothing is written before the first frame.
    pub fn new(out: W) -> GifWriter<W> {
        GifWriter {
            encoder: None,
            out: Some(out),
            size: (0, 0),
            pending: None,
            last_delay: None,
        }
    }

    /// Adds frame `index` made at `at_ns` (any clock, never going back): `width` x `height`
    /// RGBA pixels, the size of the first frame.
    pub fn push(
        &mut self,
        index: u64,
        at_ns: u64,
        (width, height): (u32, u32),
        rgba: &[u8],
    ) -> Result<(), ClipError> {
        let size = (width as u16, height as u16);
        if self.encoder.is_none() {
            let out = self.out.take().expect("an output until the first frame");
            let mut enc = gif::Encoder::new(out, size.0, size.1, &[])?;
            enc.set_repeat(gif::Repeat::Infinite)?;
            self.encoder = Some(enc);
            self.size = size;
        } else if size != self.size {
            return Err(ClipError::Frame {
                index,
                what: "a different size from the first frame",
            });
        }
        let (pixels, palette) = indexed(index, rgba)?;
        let frame = gif::Frame::from_palette_pixels(size.0, size.1, pixels, palette, None);
        if let Some(p) = self.pending.take() {
            self.write(p, Some(at_ns))?;
        }
        self.pending = Some(Pending { frame, at_ns });
        Ok(())
    }

    /// Adds `frame`, at its capture time.
    pub fn push_frame(&mut self, frame: &Frame) -> Result<(), ClipError> {
        let size = (frame.width, frame.height);
        self.push(frame.frame_index, frame.captured_ns, size, &frame.pixels)
    }

    fn write(&mut self, mut p: Pending, next_ns: Option<u64>) -> Result<(), ClipError> {
        p.frame.delay = match next_ns {
            Some(next) => delay_between(p.at_ns, next),
            None => self.last_delay.unwrap_or(LAST_DELAY_CS),
        };
        self.last_delay = Some(p.frame.delay);
        let enc = self.encoder.as_mut().expect("made with the first frame");
        enc.write_frame(&p.frame)?;
        Ok(())
    }

    /// Writes the last frame (shown as long as the one before it) and gives the output back.
    pub fn finish(mut self) -> Result<W, ClipError> {
        let p = self.pending.take().ok_or(ClipError::Empty)?;
        self.write(p, None)?;
        let enc = self.encoder.take().expect("made with the first frame");
        Ok(enc.into_inner()?)
    }
}

/// Writes `frames` (all of one size) as an animated GIF that loops.
pub fn write_gif(frames: &[SharedFrame], out: impl Write) -> Result<(), ClipError> {
    let mut gif = GifWriter::new(out);
    for f in frames {
        gif.push_frame(f)?;
    }
    gif.finish().map(drop)
}

/// Whether `ffmpeg` is on PATH.
pub fn has_ffmpeg() -> bool {
    Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Makes an MP4 (H.264) of the GIF at `gif` with ffmpeg, frame for frame and with its
/// timing (`-min_delay 1`: ffmpeg would show a 10 ms frame for 100 ms). The last frame is
/// shown for as long as ffmpeg guesses (its usual frame time), not the GIF's last delay.
pub fn gif_to_mp4(gif: &Path, mp4: &Path) -> Result<(), ClipError> {
    let out = Command::new("ffmpeg")
        .args(["-y", "-loglevel", "error", "-min_delay", "1", "-i"])
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

/// Writes the GIF `gif` as the MP4 `mp4` with ffmpeg, through hidden files beside it: `mp4`
/// is whole or untouched.
pub fn write_mp4(gif: &[u8], mp4: &Path) -> Result<(), ClipError> {
    let dir = mp4.parent().unwrap_or(Path::new("."));
    let name = mp4
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp_gif = dir.join(format!(".{name}.tmp.gif"));
    let tmp_mp4 = dir.join(format!(".{name}.tmp.mp4"));
    let result = std::fs::write(&tmp_gif, gif)
        .map_err(ClipError::from)
        .and_then(|_| gif_to_mp4(&tmp_gif, &tmp_mp4))
        .and_then(|_| std::fs::rename(&tmp_mp4, mp4).map_err(ClipError::from));
    let _ = std::fs::remove_file(&tmp_gif);
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp_mp4);
    }
    result
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
