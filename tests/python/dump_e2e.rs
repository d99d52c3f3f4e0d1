//! `gbwatch dump` end to end on real PyBoy: files, MJPEG through ffmpeg, closed pipes,
//! a full disk, and usage errors.

use crate::common;

use common::{gbwatch, pyboy_publisher, Scratch};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

fn decode(path: &Path) -> (u16, u16) {
    let bytes = std::fs::read(path).unwrap();
    let mut d = jpeg_decoder::Decoder::new(bytes.as_slice());
    d.decode()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let info = d.info().unwrap();
    (info.width, info.height)
}

/// Parses "captured C = delivered D + dropped X + queued Q" from dump's summary line.
fn summary_counts(stderr: &str) -> [u64; 4] {
    let line = stderr
        .lines()
        .find(|l| l.contains("captured"))
        .unwrap_or_else(|| panic!("no summary in {stderr}"));
    let num = |key: &str| -> u64 {
        let rest = &line[line.find(key).unwrap() + key.len()..];
        rest.trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    [
        num("captured"),
        num("delivered"),
        num("dropped"),
        num("queued"),
    ]
}

#[test]
fn dump_writes_100_valid_medium_jpegs_from_real_pyboy() {
    let slots = Scratch::new("dump-slots");
    let out = Scratch::new("dump-out");
    let _publisher = pyboy_publisher(slots.path(), "env-00", &["--fps", "60", "--seconds", "60"]);
    let result = gbwatch()
        .args(["dump", "--count", "100", "--preset", "medium", "--out"])
        .arg(out.path())
        .arg(slots.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{stderr}");
    let mut files: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 100, "{files:?}");
    for (i, f) in files.iter().enumerate() {
        assert_eq!(
            f.file_name().unwrap().to_str().unwrap(),
            format!("env-00-{:06}.jpg", i + 1)
        );
        assert_eq!(decode(f), (320, 288), "{}", f.display());
    }
    let [captured, delivered, dropped, queued] = summary_counts(&stderr);
    assert_eq!(captured, delivered + dropped + queued, "{stderr}");
    assert_eq!(delivered, 100);
}

#[test]
fn dump_stdout_is_an_mjpeg_stream_ffmpeg_reads() {
    let slots = Scratch::new("mjpeg-slots");
    let _publisher = pyboy_publisher(slots.path(), "env-00", &["--fps", "60", "--seconds", "60"]);
    let mut dump = gbwatch()
        .args(["dump", "--stdout", "--count", "30", "--fps", "30"])
        .arg(slots.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let ffmpeg = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "mjpeg",
            "-i",
            "-",
            "-f",
            "framemd5",
            "-",
        ])
        .stdin(dump.stdout.take().unwrap())
        .output()
        .expect("ffmpeg is installed by tests/run-all.sh");
    assert!(dump.wait().unwrap().success());
    assert!(
        ffmpeg.status.success(),
        "{}",
        String::from_utf8_lossy(&ffmpeg.stderr)
    );
    let frames = String::from_utf8_lossy(&ffmpeg.stdout)
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .count();
    assert_eq!(frames, 30);
}

#[test]
fn a_closed_stdout_pipe_ends_dump_quietly() {
    let slots = Scratch::new("pipe-slots");
    let _publisher = pyboy_publisher(slots.path(), "env-00", &["--fps", "60", "--seconds", "60"]);
    let mut dump = gbwatch()
        .args(["dump", "--stdout", "--fps", "30"])
        .arg(slots.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 4096];
    dump.stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    assert_eq!(&first[..2], &[0xFF, 0xD8], "stream starts with a JPEG");
    drop(dump.stdout.take());
    let status = dump.wait().unwrap();
    let mut stderr = String::new();
    dump.stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "status {status:?}, stderr {stderr}");
    assert!(
        !stderr.contains("error") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

#[test]
fn a_full_disk_ends_dump_with_a_clear_error_and_no_partial_file() {
    let slots = Scratch::new("full-slots");
    let out = Scratch::new("full-out");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=512k", "tmpfs"])
        .arg(out.path())
        .status()
        .expect("run mount");
    assert!(
        mounted.success(),
        "this test mounts a small tmpfs and needs root"
    );
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(out.path());
    let _publisher = pyboy_publisher(slots.path(), "env-00", &["--fps", "60", "--seconds", "60"]);
    let result = gbwatch()
        .args(["dump", "--preset", "ultra", "--count", "1000", "--out"])
        .arg(out.path())
        .arg(slots.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    // Apart from the feed's state change ("env-00: online"), one line.
    let lines: Vec<_> = stderr
        .lines()
        .filter(|l| *l != "gbwatch: env-00: online")
        .collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(
        lines[0].contains("No space left on device") && lines[0].contains(".jpg"),
        "{stderr}"
    );
    let files: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!files.is_empty(), "some frames fit before the disk filled");
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        assert!(!name.starts_with('.'), "partial temp file left: {name}");
        decode(f);
    }
}

#[test]
fn usage_errors_are_one_line_with_status_2() {
    let not_a_dir = Scratch::new("usage");
    let file = not_a_dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let blocked = file.join("out");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--preset".into(), "turbo".into()],
            "unknown preset 'turbo'",
        ),
        (
            vec!["--quality".into(), "0".into()],
            "quality 0 is outside 1-100",
        ),
        (
            vec!["--quality".into(), "101".into()],
            "quality 101 is outside 1-100",
        ),
        (vec!["--scale".into(), "0".into()], "scale 0 is outside 1-8"),
        (vec!["--scale".into(), "9".into()], "scale 9 is outside 1-8"),
        (
            vec!["--quality".into(), "abc".into()],
            "invalid value 'abc'",
        ),
    ];
    for (args, words) in cases {
        let out = gbwatch()
            .arg("dump")
            .args(&args)
            .args(["--out"])
            .arg(not_a_dir.path())
            .output()
            .unwrap();
        let stderr = common::assert_usage_error(&out, &format!("{args:?}"));
        assert!(stderr.contains(words), "{args:?}: {stderr}");
    }
    let out = gbwatch()
        .args(["dump", "--out"])
        .arg(&blocked)
        .output()
        .unwrap();
    let stderr = common::assert_usage_error(&out, "dump --out into a file");
    assert!(
        stderr.contains("output directory") && stderr.contains(blocked.to_str().unwrap()),
        "{stderr}"
    );
}
