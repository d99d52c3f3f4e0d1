//! Helpers shared by the integration tests: the real Python (with PyBoy), the real binary,
//! scratch directories and publisher processes.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python interpreter that has PyBoy: `$GBWATCH_PYTHON`, else `.venv/bin/python`.
/// Panics (never skips) when neither exists: run `bash tests/run-all.sh` once.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("GBWATCH_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = root().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "no Python with PyBoy: run `bash tests/run-all.sh` (it creates .venv) or set GBWATCH_PYTHON"
    );
    venv
}

/// The gbwatch binary built for this test run.
pub fn gbwatch() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gbwatch"))
}

/// A fresh scratch directory (mode 0700), removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        use std::os::unix::fs::DirBuilderExt;
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!(
            "gbwatch-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .unwrap();
        Scratch(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process killed when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts real PyBoy publishing into `dir` as `name` (see tests/py/pyboy_publisher.py for
/// `extra` flags) and waits until its slot exists.
pub fn pyboy_publisher(dir: &Path, name: &str, extra: &[&str]) -> Proc {
    let mut child = Command::new(python())
        .arg(root().join("tests/py/pyboy_publisher.py"))
        .args(["--dir", dir.to_str().unwrap(), "--name", name])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the PyBoy publisher");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready", "publisher did not start");
    Proc(child)
}

/// Runs `cmd` to the end and asserts it succeeded (its stderr is the failure message).
pub fn run_ok(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().expect("run the command");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs a `gbwatch stats --json` invocation, asserts it succeeded and returns the JSON.
pub fn stats_json(cmd: &mut Command) -> serde_json::Value {
    serde_json::from_slice(&run_ok(cmd).stdout).expect("stats --json prints JSON")
}

/// The field names of the original dashboard's stats JSON, which ours carries too.
pub const ORIGINAL_STATS_FIELDS: [&str; 9] = [
    "method",
    "capture_latency_ms",
    "compression_latency_ms",
    "total_latency_ms",
    "frames_captured",
    "frames_streamed",
    "drop_rate_percent",
    "target_fps",
    "quality_settings",
];
