//! The map's background picture (`--map-image`, PNG or JPEG): stretched over the world the
//! map shows, sampled once per half-block pixel.

use crate::source::decode::{decode_image, DecodeError};
use ratatui::style::Color;
use std::path::Path;

/// A decoded background, RGBA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapImage {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// RGBA bytes, row by row.
    pub rgba: Vec<u8>,
}

/// Why the background could not be used.
#[derive(Debug, thiserror::Error)]
pub enum MapImageError {
    /// The file could not be read.
    #[error("map image {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not an image gbwatch decodes.
    #[error("map image {path}: {source}")]
    Decode {
        /// The file.
        path: String,
        /// Why.
        source: DecodeError,
    },
}

impl MapImage {
    /// Reads and decodes `path`.
    pub fn load(path: &Path) -> Result<MapImage, MapImageError> {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| MapImageError::Read {
            path: shown.clone(),
            source,
        })?;
        let d = decode_image(&bytes).map_err(|source| MapImageError::Decode {
            path: shown,
            source,
        })?;
        let (w, h) = (d.width as usize, d.height as usize);
        let stride = w * d.format.bytes_per_pixel();
        let mut rgba = Vec::with_capacity(w * h * 4);
        for row in d.pixels.chunks(stride).take(h) {
            d.format.row_to_rgba(row, w, &mut rgba);
        }
        Ok(MapImage {
            width: w,
            height: h,
            rgba,
        })
    }

    /// The colour at (u, v) in 0..1 of its width and height.
    pub fn sample(&self, u: f64, v: f64) -> Color {
        let x = ((u * self.width as f64) as usize).min(self.width.saturating_sub(1));
        let y = ((v * self.height as f64) as usize).min(self.height.saturating_sub(1));
        let i = (y * self.width + x) * 4;
        match self.rgba.get(i..i + 3) {
            Some(p) => Color::Rgb(p[0], p[1], p[2]),
            None => Color::Reset,
        }
    }
}
