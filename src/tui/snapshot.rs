//! The `s` key: the frame on screen saved as a JPEG at the preset's scale and quality,
//! written atomically like `dump`'s files.

use super::state::State;
use crate::encode::file::{safe_name, write_atomic};
use crate::encode::JpegCache;
use crate::pipeline::{FeedStats, Settings};
use std::path::Path;

/// Saves the shown frame of the feed with `key` into `dir` as
/// `gbwatch-NAME-INDEX.jpg`; returns the path, or why it failed.
pub fn save(
    state: &State,
    key: &str,
    jpeg: &mut JpegCache,
    settings: &Settings,
    stats: Option<&FeedStats>,
    dir: &Path,
) -> Result<String, String> {
    let feed = state
        .feeds
        .iter()
        .find(|f| f.key() == key)
        .ok_or("feed is gone")?;
    let frame = feed.frame.as_ref().ok_or("no frame yet")?;
    let enc = jpeg
        .encode(frame, settings.scale(), settings.quality(), stats)
        .map_err(|e| e.to_string())?;
    let name = format!(
        "gbwatch-{}-{:08}.jpg",
        safe_name(feed.name()),
        frame.frame_index
    );
    let path = dir.join(name);
    write_atomic(&path, enc.jpeg.as_slice()).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::Backend;
    use crate::fixtures::{frame, online};
    use crate::tui::state::Event;

    #[test]
    fn saves_the_shown_frame_or_says_why_not() {
        let dir = std::env::temp_dir().join(format!("gbwatch-snapshot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut s = State::new(1, "");
        s.update(Event::Feeds {
            feeds: vec![online("s1/env")],
            now_ns: 0,
        });
        let mut jpeg = JpegCache::new(Backend::best());
        let settings = Settings::default();
        assert_eq!(
            save(&s, "s1/env", &mut jpeg, &settings, None, &dir),
            Err("no frame yet".to_string())
        );
        assert_eq!(
            save(&s, "other", &mut jpeg, &settings, None, &dir),
            Err("feed is gone".to_string())
        );
        s.update(Event::Frames {
            frames: vec![("s1/env".into(), frame(16, 16, None))],
            now_ns: 0,
        });
        let path = save(&s, "s1/env", &mut jpeg, &settings, None, &dir).unwrap();
        assert!(path.ends_with("gbwatch-s1_env-00000007.jpg"), "{path}");
        assert_eq!(&std::fs::read(&path).unwrap()[..2], &[0xFF, 0xD8]);
        let missing = dir.join("gone");
        assert!(save(&s, "s1/env", &mut jpeg, &settings, None, &missing).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
