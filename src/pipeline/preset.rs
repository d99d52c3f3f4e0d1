//! Quality presets and the run-time settings every stage reads.

use std::sync::{Arc, RwLock};

/// A named combination of scale, frame rate and JPEG quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// Lower-case name (`low`, `medium`, …).
    pub name: &'static str,
    /// Integer upscale factor for JPEGs.
    pub scale: u32,
    /// Capture rate, frames per second.
    pub fps: u32,
    /// JPEG quality, 1-100.
    pub quality: u8,
}

/// LOW, MEDIUM (default), HIGH, ULTRA, as the original trainer defines them.
pub const PRESETS: [Preset; 4] = [
    Preset {
        name: "low",
        scale: 1,
        fps: 5,
        quality: 50,
    },
    Preset {
        name: "medium",
        scale: 2,
        fps: 10,
        quality: 75,
    },
    Preset {
        name: "high",
        scale: 3,
        fps: 15,
        quality: 90,
    },
    Preset {
        name: "ultra",
        scale: 4,
        fps: 30,
        quality: 95,
    },
];

/// Index of MEDIUM in [`PRESETS`].
pub const DEFAULT_PRESET: usize = 1;

/// A usage error in a preset or override.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PresetError {
    #[error("unknown preset '{0}'; valid presets: low, medium, high, ultra")]
    /// No preset has this name.
    UnknownPreset(String),
    #[error("quality {0} is outside 1-100")]
    /// A JPEG quality outside 1-100.
    Quality(u32),
    #[error("scale {0} is outside 1-8")]
    /// A scale outside 1-8.
    Scale(u32),
    #[error("fps {0} is outside 1-240")]
    /// A capture rate outside 1-240 fps.
    Fps(u32),
}

impl Preset {
    /// Looks a preset up by name, case-insensitively.
    pub fn by_name(name: &str) -> Result<usize, PresetError> {
        PRESETS
            .iter()
            .position(|p| p.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| PresetError::UnknownPreset(name.to_string()))
    }
}

/// The active preset plus optional single-field overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Index into [`PRESETS`].
    pub preset: usize,
    /// Overrides the preset's scale (1-8); `None` keeps the preset's.
    pub scale: Option<u32>,
    /// Overrides the preset's frame rate (1-240); `None` keeps the preset's.
    pub fps: Option<u32>,
    /// Overrides the preset's JPEG quality (1-100); `None` keeps the preset's.
    pub quality: Option<u8>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            preset: DEFAULT_PRESET,
            scale: None,
            fps: None,
            quality: None,
        }
    }
}

impl Settings {
    /// Validates overrides: scale 1-8, fps 1-240, quality 1-100.
    pub fn with_overrides(
        preset: usize,
        scale: Option<u32>,
        fps: Option<u32>,
        quality: Option<u32>,
    ) -> Result<Settings, PresetError> {
        if let Some(s) = scale.filter(|s| !(1..=8).contains(s)) {
            return Err(PresetError::Scale(s));
        }
        if let Some(f) = fps.filter(|f| !(1..=240).contains(f)) {
            return Err(PresetError::Fps(f));
        }
        if let Some(q) = quality.filter(|q| !(1..=100).contains(q)) {
            return Err(PresetError::Quality(q));
        }
        Ok(Settings {
            preset: preset.min(PRESETS.len() - 1),
            scale,
            fps,
            quality: quality.map(|q| q as u8),
        })
    }

    /// The active preset.
    pub fn preset(&self) -> &'static Preset {
        &PRESETS[self.preset]
    }

    /// The scale in force: the override, else the preset's.
    pub fn scale(&self) -> u32 {
        self.scale.unwrap_or(self.preset().scale)
    }

    /// The frame rate in force: the override, else the preset's.
    pub fn fps(&self) -> u32 {
        self.fps.unwrap_or(self.preset().fps)
    }

    /// The JPEG quality in force: the override, else the preset's.
    pub fn quality(&self) -> u8 {
        self.quality.unwrap_or(self.preset().quality)
    }
}

/// Settings shared by every thread; a preset switch is seen by the next frame.
#[derive(Debug, Clone, Default)]
pub struct SharedSettings {
    inner: Arc<RwLock<Settings>>,
}

impl SharedSettings {
    /// Shares `settings` between threads.
    pub fn new(settings: Settings) -> SharedSettings {
        SharedSettings {
            inner: Arc::new(RwLock::new(settings)),
        }
    }

    /// A copy of the current settings.
    pub fn get(&self) -> Settings {
        *self.inner.read().unwrap()
    }

    /// Switches preset; overrides given on the command line are cleared so the preset shows.
    pub fn set_preset(&self, preset: usize) {
        let mut s = self.inner.write().unwrap();
        *s = Settings {
            preset: preset.min(PRESETS.len() - 1),
            ..Settings::default()
        };
    }

    /// Steps the preset by `delta`, clamped to LOW..ULTRA.
    pub fn step_preset(&self, delta: i32) {
        let cur = self.get().preset as i32;
        self.set_preset((cur + delta).clamp(0, PRESETS.len() as i32 - 1) as usize);
    }
}
