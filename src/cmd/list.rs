//! `gbwatch list`: one line per publisher.

use super::{print_stdout, UsageError};
use crate::cli::ListArgs;
use crate::clock::monotonic_ns;
use crate::pipeline::STALE_AFTER;
use crate::slot::{default_dir, SlotDir, SlotReader};
use crate::source::hosts::HostsFile;
use crate::source::slurm::{Job, JobView};
use crate::source::ssh::SshUrl;
use crate::source::stream::ConnectError;
use crate::source::SourceSpec;
use std::fmt::Write;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Time to wait between the two header reads that give the frame rate. The first read's
/// heartbeat wakes publishers that skip copying while nobody watches.
const SAMPLE: Duration = Duration::from_millis(500);

/// One publisher as `list` shows it.
#[derive(Debug, Clone)]
pub struct SlotLine {
    /// The publisher's name.
    pub name: String,
    /// `WIDTHxHEIGHT`.
    pub dims: String,
    /// The slot's pixel format (`rgba`, `rgb`, …).
    pub format: &'static str,
    /// Frame-index rate between two header reads half a second apart.
    pub fps: f64,
    /// Age of the newest frame in ms; `None` before the first publish.
    pub age_ms: Option<f64>,
    /// The publisher's cost of its last `publish()`, in µs.
    pub cost_us: f64,
    /// `online` (publisher alive, a frame younger than [`STALE_AFTER`]), `stale` (alive,
    /// older frame or none yet) or `offline` (publisher gone, slot replaced).
    pub state: &'static str,
}

/// Runs `gbwatch list`: reads each slot's header twice, half a second apart, and prints one
/// line per publisher; `--prune` first removes the slots of dead publishers.
pub fn run(args: ListArgs) -> anyhow::Result<()> {
    if let Some(url) = args.dir.as_ref().and_then(|d| d.to_str()) {
        let scheme = |s: &str| {
            url.get(..s.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(s))
        };
        if scheme("ssh://") {
            return remote(url);
        }
        if scheme("slurm:") || scheme("hosts:") {
            return hosts(url);
        }
    }
    if let Some(dir) = &args.dir {
        if !dir.is_dir() {
            let why = if dir.exists() {
                "not a directory"
            } else {
                "no such directory"
            };
            return Err(UsageError(format!("{}: {why}", dir.display())).into());
        }
    }
    let dir = SlotDir::new(args.dir.clone().unwrap_or_else(default_dir));
    if let Some(w) = dir.permission_warning() {
        eprintln!("gbwatch: warning: {w}");
    }
    let entries = dir
        .scan()
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", dir.path.display()))?;
    let mut readers = Vec::new();
    for entry in entries {
        match SlotReader::open(&entry.path, args.allow_foreign) {
            Ok(r) => {
                if args.prune && prune(&entry.path, &r)? {
                    continue;
                }
                readers.push((entry.name, r));
            }
            Err(e) => eprintln!("gbwatch: {e}"),
        }
    }
    // Wait for heartbeats to take effect, then sample twice.
    std::thread::sleep(Duration::from_millis(250));
    let first: Vec<_> = readers
        .iter_mut()
        .map(|(_, r)| {
            r.heartbeat();
            r.refresh_header()
                .ok()
                .map(|h| (h.frame_index, Instant::now()))
        })
        .collect();
    std::thread::sleep(SAMPLE);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<20} {:>9} {:<6} {:>8} {:>10} {:>9}  STATE",
        "NAME", "DIMS", "FORMAT", "FPS", "AGE", "COST"
    );
    if readers.is_empty() {
        let _ = writeln!(out, "(no publishers in {})", dir.path.display());
    }
    for ((name, reader), before) in readers.iter_mut().zip(first) {
        let line = match slot_line(name, reader, before) {
            Ok(line) => line,
            Err(e) => {
                eprintln!("gbwatch: {e}");
                continue;
            }
        };
        let age = line.age_ms.map_or("never".to_string(), format_age);
        let _ = writeln!(
            out,
            "{:<20} {:>9} {:<6} {:>8.1} {:>10} {:>7.2}µs  {}",
            line.name, line.dims, line.format, line.fps, age, line.cost_us, line.state
        );
    }
    print_stdout(&out)
}

/// The line of one publisher: its header read again, its frame rate since `before`.
fn slot_line(
    name: &str,
    reader: &mut SlotReader,
    before: Option<(u64, Instant)>,
) -> Result<SlotLine, crate::slot::SlotError> {
    let h = *reader.refresh_header()?;
    let now = monotonic_ns();
    let fps = before.map_or(0.0, |(fi, t)| {
        h.frame_index.saturating_sub(fi) as f64 / t.elapsed().as_secs_f64()
    });
    let age_ms = (h.seq > 0).then(|| now.saturating_sub(h.timestamp_ns) as f64 / 1e6);
    let alive = reader.publisher_alive() && !reader.replaced();
    let fresh = age_ms.is_some_and(|a| a < STALE_AFTER.as_secs_f64() * 1000.0);
    Ok(SlotLine {
        name: name.to_string(),
        dims: format!("{}x{}", h.width, h.height),
        format: h.format.name(),
        fps,
        age_ms,
        cost_us: h.publish_cost_ns as f64 / 1000.0,
        state: match (alive, fresh) {
            (true, true) => "online",
            (true, false) => "stale",
            (false, _) => "offline",
        },
    })
}

/// `gbwatch list slurm:JOBID` or `hosts:FILE`: every host's own list, under its name; a
/// host that cannot be asked gets its line and the others are still listed.
fn hosts(arg: &str) -> anyhow::Result<()> {
    let spec = SourceSpec::parse(arg).map_err(|e| UsageError(e.to_string()))?;
    let urls = match &spec {
        SourceSpec::Slurm(url) => match Job::of(url).view() {
            JobView::Running(nodes) => nodes.iter().filter_map(|n| url.node(n)).collect(),
            JobView::Offline(line) => anyhow::bail!("{arg}: {line}"),
            JobView::Unasked(line) => anyhow::bail!("{line}"),
        },
        SourceSpec::Hosts(path) => {
            let listed = HostsFile::of(path)
                .hosts()
                .map_err(|e| anyhow::anyhow!(e))?;
            for problem in &listed.problems {
                eprintln!("gbwatch: {problem}");
            }
            listed.hosts
        }
        _ => unreachable!("hosts() is called for slurm: and hosts: only"),
    };
    let mut failed = 0;
    for url in &urls {
        print_stdout(&format!("== {}\n", url.host()))?;
        if let Err(e) = remote_url(url) {
            eprintln!("gbwatch: {e}");
            failed += 1;
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} hosts could not be listed", urls.len());
    }
    Ok(())
}

/// `gbwatch list ssh://HOST[/DIR]`: the host's own `gbwatch list`, through ssh.
fn remote(url: &str) -> anyhow::Result<()> {
    let url = SshUrl::parse(url).map_err(|e| UsageError(e.to_string()))?;
    remote_url(&url)
}

/// The host's own `gbwatch list`, through ssh.
fn remote_url(url: &SshUrl) -> anyhow::Result<()> {
    let (program, args) = url.command_for("list");
    let out = std::process::Command::new(&program)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| anyhow::anyhow!("cannot run {program}: {e}"))?;
    if out.status.success() {
        return print_stdout(&String::from_utf8_lossy(&out.stdout));
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let problem = ConnectError::error(format!("ssh {}: gbwatch list failed", url.host()));
    let said = crate::source::ssh::explain(url.host(), out.status.code(), &stderr, problem);
    anyhow::bail!("{}", said.reason)
}

/// Removes the slot at `path` when its publisher has exited, the file is still the one that
/// was opened (not a restarted publisher's new slot) and belongs to this user. True when
/// it was removed.
fn prune(path: &Path, reader: &SlotReader) -> anyhow::Result<bool> {
    let mine = std::fs::symlink_metadata(path)
        // SAFETY: geteuid has no preconditions and cannot fail.
        .is_ok_and(|m| m.is_file() && m.uid() == unsafe { libc::geteuid() });
    if !mine || reader.publisher_alive() || reader.replaced() {
        return Ok(false);
    }
    match std::fs::remove_file(path) {
        Ok(()) => {
            eprintln!(
                "gbwatch: removed {} (publisher pid {} has exited)",
                path.display(),
                reader.header().pid
            );
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(anyhow::anyhow!("cannot remove {}: {e}", path.display())),
    }
}

fn format_age(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.1}ms")
    } else if ms < 120_000.0 {
        format!("{:.1}s", ms / 1000.0)
    } else {
        format!("{:.0}min", ms / 60_000.0)
    }
}
