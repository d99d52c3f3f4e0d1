//! Helpers shared by the integration tests: the real Python (with PyBoy), the real binary,
//! scratch directories and publisher processes.

pub mod pty;
pub mod real_terminal;
pub mod serve;
pub mod slurm;
pub mod sshd;
pub mod tmux;
pub mod vt;
pub mod wait;

pub use wait::{eventually, until, within};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};

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

/// A loopback TCP port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The gbwatch binary built for this test run.
pub fn gbwatch() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gbwatch"))
}

/// A fresh scratch directory (mode 0700), removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// A new empty directory for the test `tag`.
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

    /// The directory.
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

/// `tests/py/NAME` under the Python that has PyBoy.
pub fn py_script(name: &str) -> Command {
    let mut cmd = Command::new(python());
    cmd.arg(root().join("tests/py").join(name));
    cmd
}

/// A helper process that said it is ready, with the rest of its standard output.
pub struct Ready {
    /// The process.
    pub proc: Proc,
    /// What followed "ready" on its first line (a port, say), trimmed.
    pub detail: String,
    /// Its standard output after that line.
    pub out: BufReader<ChildStdout>,
}

/// Starts `cmd` with its standard output piped and waits for its first line, which must
/// start with "ready".
pub fn spawn_ready(cmd: &mut Command, what: &str) -> Ready {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {what}: {e}"));
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let proc = Proc(child);
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let detail = line
        .trim()
        .strip_prefix("ready")
        .unwrap_or_else(|| panic!("{what} did not start: {line:?}"))
        .trim()
        .to_string();
    Ready { proc, detail, out }
}

/// Starts real PyBoy publishing into `dir` as `name` (see tests/py/pyboy_publisher.py for
/// `extra` flags) and waits until its slot exists.
pub fn pyboy_publisher(dir: &Path, name: &str, extra: &[&str]) -> Proc {
    let mut cmd = py_script("pyboy_publisher.py");
    cmd.args(["--dir", dir.to_str().unwrap(), "--name", name])
        .args(extra)
        .stderr(Stdio::inherit());
    spawn_ready(&mut cmd, "the PyBoy publisher").proc
}

/// Starts real PyBoy envs of the walking ROM publishing into `dir` (tests/py/pyboy_walk.py):
/// each `(name, (map, x, y))` standing at its start (`extra` may add `--step N` to walk), the
/// `bare` ones with no position fields; waits until every slot exists.
pub fn pyboy_walkers(
    dir: &Path,
    envs: &[(&str, (u8, u8, u8))],
    bare: &[&str],
    extra: &[&str],
) -> Proc {
    let spec: Vec<String> = envs
        .iter()
        .map(|(n, (m, x, y))| format!("{n}={m}:{x}:{y}"))
        .collect();
    let mut cmd = py_script("pyboy_walk.py");
    cmd.args(["--dir", dir.to_str().unwrap(), "--envs", &spec.join(",")])
        .args(["--bare", &bare.join(",")])
        .args(extra)
        .stderr(Stdio::inherit());
    spawn_ready(&mut cmd, "the PyBoy walkers").proc
}

/// Asserts a command was refused as a usage error: status 2 and one line on stderr that
/// starts with "gbwatch: ". Returns that line.
pub fn assert_usage_error(out: &Output, what: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(out.status.code(), Some(2), "{what}: {err}");
    assert_eq!(err.lines().count(), 1, "{what}: {err}");
    assert!(err.starts_with("gbwatch: "), "{what}: {err}");
    err
}

/// Cases per fuzzing property: `$GBWATCH_FUZZ_CASES`, else `default`.
pub fn fuzz_cases(default: u32) -> u32 {
    std::env::var("GBWATCH_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
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

/// The feed names of a `stats --json` report, sorted.
pub fn feed_names(report: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = report["feeds"]
        .as_array()
        .expect("a feeds array")
        .iter()
        .map(|f| f["name"].as_str().expect("a feed name").to_string())
        .collect();
    names.sort();
    names
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

/// What ffprobe finds in a video file: the frames it decodes and the duration in ms.
pub fn ffprobe(video: &Path) -> (usize, f64) {
    let probe = run_ok(
        Command::new("ffprobe")
            .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
            .args(["-show_entries", "stream=nb_read_frames:format=duration"])
            .args(["-of", "default=noprint_wrappers=1"])
            .arg(video),
    );
    let text = String::from_utf8_lossy(&probe.stdout).to_string();
    let field = |k: &str| -> f64 {
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("ffprobe gave no {k}: {text}"));
        line.parse()
            .unwrap_or_else(|_| panic!("ffprobe's {k}: {text}"))
    };
    (field("nb_read_frames") as usize, field("duration") * 1000.0)
}

/// When the last frame of `video` starts, in ms (ffprobe's packet times).
pub fn ffprobe_last_start_ms(video: &Path) -> f64 {
    let probe = run_ok(
        Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0"])
            .args(["-show_entries", "packet=pts_time", "-of", "csv=p=0"])
            .arg(video),
    );
    let text = String::from_utf8_lossy(&probe.stdout).to_string();
    let starts = text.lines().filter_map(|l| l.trim().parse::<f64>().ok());
    starts.fold(0.0, f64::max) * 1000.0
}

/// Each GIF frame decoded by Pillow (tests/py/gif_frames.py) against the frames a publisher
/// saved (`pyboy_many.py --save-dir --index-pixels`): (number painted in it, duration in ms,
/// pixels equal to the saved frame of that number).
pub fn gif_frames(gif: &Path, saved: &Path) -> Vec<(u64, u64, bool)> {
    let out = run_ok(py_script("gif_frames.py").arg(gif).arg(saved));
    serde_json::from_slice(&out.stdout).expect("gif_frames.py prints JSON")
}
