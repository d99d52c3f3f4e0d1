//! JPEG files on disk: names that are safe in any directory, and writes that a reader never
//! sees half done.

use std::io::Write;
use std::path::Path;

/// `name` as one file-name component: path separators, control characters and a leading
/// dot (a hidden file) become `_`. Feed names of URLs and nested image files contain `/`.
pub fn safe_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if out.starts_with('.') || out.is_empty() {
        out.insert(0, '_');
    }
    out
}

/// Writes `bytes` to `path` through a hidden temporary file in the same directory, renamed
/// into place; on failure the temporary file is removed and `path` is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp"));
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|_| f.flush()))
        .and_then(|_| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_one_component() {
        assert_eq!(safe_name("env-00"), "env-00");
        assert_eq!(safe_name("s1/curframe_3"), "s1_curframe_3");
        assert_eq!(safe_name("a\\b\nc"), "a_b_c");
        assert_eq!(safe_name("../x"), "_.._x");
        assert_eq!(safe_name(".hidden"), "_.hidden");
        assert_eq!(safe_name(""), "_");
        assert_eq!(
            safe_name("127.0.0.1:8080/api/screenshot"),
            "127.0.0.1:8080_api_screenshot"
        );
    }

    #[test]
    fn writes_replace_whole_files_and_leave_no_temporary() {
        let dir = std::env::temp_dir().join(format!("gbwatch-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.jpg");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.jpg")]);
        let missing = dir.join("no-such-dir/b.jpg");
        assert!(write_atomic(&missing, b"x").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
