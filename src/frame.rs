//! The frame value every stage passes on, shared (`Arc`) rather than copied.

use crate::info::{Info, InfoError};
use std::sync::Arc;
use std::time::Instant;

/// One captured frame. Pixels are always RGBA8, row-major, `width * 4` bytes per row.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The emulator's frame index (or a source-defined counter).
    pub frame_index: u64,
    /// When the publisher made the frame, on [`crate::clock::monotonic_ns`]'s clock.
    /// `None` for sources whose clock is not ours (HTTP, files): age then counts from arrival.
    pub published_ns: Option<u64>,
    /// When capture finished copying the frame.
    pub captured_at: Instant,
    /// How long the capture copy (and conversion) took, in µs.
    pub capture_us: u64,
    /// [`crate::clock::monotonic_ns`] at capture.
    pub captured_ns: u64,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// RGBA8 rows, `width * 4` bytes each.
    pub pixels: Vec<u8>,
    /// Equal for consecutive frames with identical pixels: lets encoders and renderers reuse work.
    pub content_id: u64,
    /// The training info the publisher sent with exactly this frame (step, episode, return,
    /// …), if any; see [`crate::info`].
    pub info: Option<Arc<Info>>,
    /// Why the info sent with this frame could not be read, when it could not (the pixels
    /// are still good).
    pub info_error: Option<InfoError>,
}

/// A frame shared between consumers.
pub type SharedFrame = Arc<Frame>;

impl Frame {
    /// Nanoseconds since the frame was made (by the publisher's clock when known, else since arrival).
    pub fn age_ns(&self, now_ns: u64) -> u64 {
        now_ns.saturating_sub(self.published_ns.unwrap_or(self.captured_ns))
    }

    /// True when the age is measured from the publisher's own timestamp.
    pub fn age_from_publisher(&self) -> bool {
        self.published_ns.is_some()
    }
}

/// Pixel layouts a source may deliver; capture converts all of them to RGBA8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// 8-bit red, green, blue, alpha.
    Rgba,
    /// 8-bit red, green, blue.
    Rgb,
    /// 8-bit blue, green, red, alpha.
    Bgra,
    /// 8-bit grey.
    Gray8,
}

impl PixelFormat {
    /// Bytes per pixel.
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::Rgba | PixelFormat::Bgra => 4,
            PixelFormat::Rgb => 3,
            PixelFormat::Gray8 => 1,
        }
    }

    /// The format's short name, as `gbwatch list` prints it.
    pub fn name(self) -> &'static str {
        match self {
            PixelFormat::Rgba => "RGBA",
            PixelFormat::Rgb => "RGB",
            PixelFormat::Bgra => "BGRA",
            PixelFormat::Gray8 => "GRAY8",
        }
    }

    /// Appends one row of `width` pixels in this format to `out` as RGBA8.
    pub fn row_to_rgba(self, row: &[u8], width: usize, out: &mut Vec<u8>) {
        match self {
            PixelFormat::Rgba => out.extend_from_slice(&row[..width * 4]),
            PixelFormat::Bgra => {
                for p in row[..width * 4].chunks_exact(4) {
                    out.extend_from_slice(&[p[2], p[1], p[0], p[3]]);
                }
            }
            PixelFormat::Rgb => {
                for p in row[..width * 3].chunks_exact(3) {
                    out.extend_from_slice(&[p[0], p[1], p[2], 255]);
                }
            }
            PixelFormat::Gray8 => {
                for &g in &row[..width] {
                    out.extend_from_slice(&[g, g, g, 255]);
                }
            }
        }
    }
}
