//! The map's layout file (`--map-layout`, JSON): each region id's offset and size in world
//! coordinates.
//!
//! ```json
//! {"regions": {"0": {"x": 0, "y": 0, "width": 20, "height": 18},
//!              "1": {"x": 20, "y": 0, "width": 20, "height": 18}}}
//! ```

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// A rectangle in world coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldRect {
    /// Left edge.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Width (at least 1).
    pub width: i32,
    /// Height (at least 1).
    pub height: i32,
}

/// The layout file: each region's place in the world.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorldLayout {
    /// Region id (the region field's value as text) → its rectangle.
    pub regions: BTreeMap<String, WorldRect>,
}

/// Why a layout file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// The file could not be read.
    #[error("map layout {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not the format.
    #[error("map layout {path}: {why} (expected {{\"regions\": {{\"ID\": {{\"x\": 0, \"y\": 0, \"width\": W, \"height\": H}}}}}})")]
    Format {
        /// The file.
        path: String,
        /// What is wrong.
        why: String,
    },
}

impl WorldLayout {
    /// Reads and checks a layout file.
    pub fn load(path: &Path) -> Result<WorldLayout, LayoutError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| LayoutError::Read {
            path: shown.clone(),
            source,
        })?;
        WorldLayout::parse(&text).map_err(|why| LayoutError::Format { path: shown, why })
    }

    /// Parses a layout's JSON.
    pub fn parse(text: &str) -> Result<WorldLayout, String> {
        let layout: WorldLayout = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for (id, r) in &layout.regions {
            if r.width < 1 || r.height < 1 {
                return Err(format!("region {id:?} has no area"));
            }
        }
        Ok(layout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_layouts_say_what_is_wrong() {
        assert!(WorldLayout::parse("{}").is_err());
        let e =
            WorldLayout::parse(r#"{"regions": {"a": {"x": 0, "y": 0, "width": 0, "height": 1}}}"#);
        assert!(e.unwrap_err().contains("\"a\" has no area"));
    }
}
