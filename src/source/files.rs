//! Image files as sources: each JPEG/PNG file is one env, and every rewrite of the file is a new
//! frame. A file caught half-written is never shown: the file must be unchanged across the read
//! (size, mtime, ctime, inode), not modified in the last few milliseconds, and decode completely
//! (a JPEG must end with its end-of-image marker, a PNG with IEND).

use super::decode::{decode_image, DecodeError};
use super::{Poll, Source, SourceError};
use std::cmp::Ordering;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// File extensions read as images (lowercase).
pub const IMAGE_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

/// A file modified more recently than this is probably still being written: read it later.
const SETTLE: Duration = Duration::from_millis(5);
/// An unchanged file that keeps failing to decode for this long is reported as broken.
const BROKEN_AFTER: Duration = Duration::from_secs(1);

/// True for paths with an image extension.
pub fn is_image_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// True for a glob pattern (contains `*`, `?` or `[`).
pub fn is_glob(arg: &str) -> bool {
    arg.contains(['*', '?', '['])
}

/// The image files directly in `dir`, in natural order (`env-2` before `env-10`).
pub fn scan_dir(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| is_image_path(p) && p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort_by(|a, b| natural_cmp(&a.to_string_lossy(), &b.to_string_lossy()));
    files
}

/// The image files matching `pattern`, in natural order.
pub fn scan_glob(pattern: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = glob::glob(pattern)
        .map(|paths| {
            paths
                .filter_map(|p| p.ok())
                .filter(|p| is_image_path(p) && p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort_by(|a, b| natural_cmp(&a.to_string_lossy(), &b.to_string_lossy()));
    files
}

/// Checks a glob pattern's syntax.
pub fn check_glob(pattern: &str) -> Result<(), String> {
    glob::Pattern::new(pattern)
        .map(|_| ())
        .map_err(|e| format!("{pattern}: bad pattern: {}", e.msg))
}

/// The directory part of a pattern before its first wildcard (`sessions` for
/// `sessions/*/curframe_*.jpeg`): feed names are paths relative to it.
pub fn glob_base(pattern: &str) -> PathBuf {
    let mut base = PathBuf::new();
    let components: Vec<Component> = Path::new(pattern).components().collect();
    for (i, c) in components.iter().enumerate() {
        let text = c.as_os_str().to_string_lossy();
        if is_glob(&text) || i + 1 == components.len() {
            break;
        }
        base.push(c);
    }
    base
}

/// A feed name for `path`: relative to `base`, without the extension.
pub fn feed_name(path: &Path, base: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    rel.with_extension("").to_string_lossy().into_owned()
}

/// Compares strings with digit runs compared as numbers.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, _) => return Ordering::Less,
            (_, None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let db = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (na, nb) = (trim_zeros(&a[..da]), trim_zeros(&b[..db]));
                let ord = na.len().cmp(&nb.len()).then(na.cmp(nb)).then(da.cmp(&db));
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[da..];
                b = &b[db..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&c| c == b'0').count();
    &digits[zeros.min(digits.len().saturating_sub(1))..]
}

/// What identifies one version of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Version {
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl Version {
    fn of(meta: &std::fs::Metadata) -> Version {
        Version {
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
            ctime_ns: meta.ctime() as i128 * 1_000_000_000 + meta.ctime_nsec() as i128,
        }
    }
}

/// One image file, re-read whenever it changes.
#[derive(Debug)]
pub struct FileSource {
    name: String,
    path: PathBuf,
    shown: Option<Version>,
    /// A version that failed to decode, and since when.
    failing: Option<(Version, Instant, DecodeError)>,
    frame_index: u64,
}

impl FileSource {
    /// A source for the image at `path`.
    pub fn open(name: impl Into<String>, path: &Path) -> FileSource {
        FileSource {
            name: name.into(),
            path: path.to_path_buf(),
            shown: None,
            failing: None,
            frame_index: 0,
        }
    }
}

impl Source for FileSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn poll(&mut self) -> Result<Poll, SourceError> {
        let before = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Poll::Offline("file removed".into()))
            }
            Err(e) => return Err(SourceError::Other(format!("{}: {e}", self.path.display()))),
        };
        let version = Version::of(&before);
        if self.shown == Some(version) {
            return Ok(Poll::Nothing);
        }
        if before
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .is_some_and(|age| age < SETTLE)
        {
            return Ok(Poll::Nothing);
        }
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Poll::Offline("file removed".into()))
            }
            Err(e) => return Err(SourceError::Other(format!("{}: {e}", self.path.display()))),
        };
        let after = std::fs::metadata(&self.path).map(|m| Version::of(&m)).ok();
        if after != Some(version) || bytes.len() as u64 != version.size {
            // Rewritten while we read: try again.
            return Ok(Poll::Nothing);
        }
        let decoded = match decode_image(&bytes) {
            Ok(d) => d,
            Err(e) => {
                // Possibly half-written by a writer that paused: wait, and call it broken only
                // when the same version keeps failing.
                match &self.failing {
                    Some((v, since, _)) if *v == version => {
                        if since.elapsed() >= BROKEN_AFTER {
                            return Err(SourceError::Other(format!("bad image file: {e}")));
                        }
                    }
                    _ => self.failing = Some((version, Instant::now(), e)),
                }
                return Ok(Poll::Nothing);
            }
        };
        self.failing = None;
        self.shown = Some(version);
        self.frame_index += 1;
        Ok(Poll::Frame(decoded.into_raw_frame(self.frame_index)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::RawFrame;

    #[test]
    fn natural_order() {
        let mut v = vec!["env-10", "env-2", "env-1", "env-02", "a", "env-"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["a", "env-", "env-1", "env-2", "env-02", "env-10"]);
    }

    #[test]
    fn bases_and_names() {
        assert_eq!(
            glob_base("sessions/*/curframe_*.jpeg"),
            Path::new("sessions")
        );
        assert_eq!(glob_base("/a/b/*.png"), Path::new("/a/b"));
        assert_eq!(glob_base("*.png"), Path::new(""));
        assert_eq!(glob_base("/a/b/c.png"), Path::new("/a/b"));
        assert_eq!(
            feed_name(
                Path::new("sessions/s1/curframe_3.jpeg"),
                Path::new("sessions")
            ),
            "s1/curframe_3"
        );
        assert!(is_glob("a/*.jpg") && is_glob("f?.png") && is_glob("[ab].jpg"));
        assert!(!is_glob("/tmp/frames"));
        assert!(check_glob("a/[.jpg").is_err());
        assert!(is_image_path(Path::new("x.JPG")) && !is_image_path(Path::new("x.slot")));
    }

    fn write_jpeg(path: &Path, value: u8) -> Vec<u8> {
        let px = vec![value; 16 * 16 * 4];
        let mut out = Vec::new();
        jpeg_encoder::Encoder::new(&mut out, 90)
            .encode(&px, 16, 16, jpeg_encoder::ColorType::Rgba)
            .unwrap();
        std::fs::write(path, &out).unwrap();
        out
    }

    fn poll_frame(src: &mut FileSource) -> Option<RawFrame> {
        for _ in 0..50 {
            match src.poll().unwrap() {
                Poll::Frame(f) => return Some(f),
                _ => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        None
    }

    #[test]
    fn rewrites_are_new_frames_and_partial_files_are_never_shown() {
        let dir = std::env::temp_dir().join(format!("gbwatch-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("curframe_0.jpeg");
        write_jpeg(&path, 40);
        let mut src = FileSource::open("curframe_0", &path);
        let f = poll_frame(&mut src).expect("first frame");
        assert_eq!((f.width, f.height, f.frame_index), (16, 16, 1));
        // Unchanged: nothing new.
        std::thread::sleep(Duration::from_millis(10));
        assert!(matches!(src.poll().unwrap(), Poll::Nothing));
        // Half-written: never shown; then the complete file is.
        let full = write_jpeg(&path, 200);
        std::fs::write(&path, &full[..full.len() / 2]).unwrap();
        std::thread::sleep(Duration::from_millis(10));
        for _ in 0..5 {
            assert!(matches!(src.poll().unwrap(), Poll::Nothing));
        }
        std::fs::write(&path, &full).unwrap();
        let f = poll_frame(&mut src).expect("rewritten frame");
        assert_eq!(f.frame_index, 2);
        assert!(f.pixels.iter().all(|&v| v.abs_diff(200) <= 2));
        // Broken for good: an error after a while, not a frame.
        std::fs::write(&path, b"not an image").unwrap();
        std::thread::sleep(Duration::from_millis(10));
        let start = Instant::now();
        let err = loop {
            match src.poll() {
                Err(e) => break e.to_string(),
                Ok(Poll::Nothing) => std::thread::sleep(Duration::from_millis(50)),
                Ok(other) => panic!("unexpected {other:?}"),
            }
            assert!(start.elapsed() < Duration::from_secs(5));
        };
        assert!(err.contains("not a JPEG or PNG"), "{err}");
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(src.poll().unwrap(), Poll::Offline(r) if r == "file removed"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
