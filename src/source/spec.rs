//! Parsing SOURCE arguments and turning them into sources.

use super::files::{self, FileSource};
use super::hosts::HostsFile;
use super::http::{HttpOptions, HttpSource, HttpUrl};
use super::recording::{
    recorded_envs, single_env_name, RecordingSource, StreamRecordingSource,
    MAGIC as RECORDING_MAGIC,
};
use super::remote::{open_env, Listing, Remote};
use super::slurm::{Job, JobEnv, JobView, SlurmUrl};
use super::ssh::SshUrl;
use super::stream::StreamEnvSource;
use super::{ShmSource, Source, SourceError, DEMO_KEY};
use crate::cancel::Cancel;
use crate::slot::{SlotDir, MAGIC, SLOT_EXTENSION};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How sources are opened: shared by every source of a run.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// Read slots owned by other users too.
    pub allow_foreign: bool,
    /// Replay speed of recordings (1.0 = original timing).
    pub speed: f64,
    /// Replay recordings again from the start when they end.
    pub looping: bool,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            allow_foreign: false,
            speed: 1.0,
            looping: false,
        }
    }
}

/// A SOURCE as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// A directory of slots; publishers appearing later join.
    SlotDir(PathBuf),
    /// One slot file.
    SlotFile(PathBuf),
    /// A recording file (`gbwatch record`), replayed at its original timing.
    Recording(PathBuf),
    /// The embedded demo recording, looping forever (the SOURCE `demo`).
    Demo,
    /// The demo while the other SOURCEs have no feed, replaced as soon as one appears
    /// (what `watch` shows with no SOURCE and no publisher).
    DemoUntilPublisher,
    /// An `http://` URL serving images (polled) or an MJPEG stream; a bare `http://HOST:PORT`
    /// of a gbwatch serve stands for each of its sources.
    Http(HttpUrl),
    /// `ssh://[user@]host[:port][/slot-dir]`: every source there, through `ssh … gbwatch relay`.
    Ssh(super::ssh::SshUrl),
    /// `slurm:JOBID` or `slurm://LOGIN/JOBID`: an `ssh://NODE` source per node of the job,
    /// followed while it runs.
    Slurm(SlurmUrl),
    /// `hosts:FILE`: an `ssh://` source per host listed in FILE, read again when it changes.
    Hosts(PathBuf),
    /// A directory of JPEG/PNG files, one env per file; new files join.
    ImageDir(PathBuf),
    /// A glob of JPEG/PNG files (or one image file), one env per file; new matches join.
    ImageGlob(String),
}

impl std::fmt::Display for SourceSpec {
    /// The source as a user would name it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceSpec::SlotDir(p)
            | SourceSpec::SlotFile(p)
            | SourceSpec::Recording(p)
            | SourceSpec::ImageDir(p) => write!(f, "{}", p.display()),
            SourceSpec::Demo | SourceSpec::DemoUntilPublisher => f.write_str("the built-in demo"),
            SourceSpec::Http(url) => f.write_str(url.as_str()),
            SourceSpec::Ssh(url) => f.write_str(url.as_str()),
            SourceSpec::Slurm(url) => f.write_str(url.as_str()),
            SourceSpec::Hosts(path) => write!(f, "hosts:{}", path.display()),
            SourceSpec::ImageGlob(g) => f.write_str(g),
        }
    }
}

/// A SOURCE argument that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The path does not exist.
    #[error("{0}: no such file or directory")]
    Missing(String),
    /// Exists but is no kind of source gbwatch reads.
    #[error("{0}: not a gbwatch source (expected a slot file or directory, a recording, an http:// URL, image files or a glob)")]
    Unknown(String),
    /// An http(s) URL that cannot be used.
    #[error(transparent)]
    Url(#[from] super::http::UrlError),
    /// An ssh:// URL that cannot be used.
    #[error(transparent)]
    Ssh(#[from] super::ssh::SshUrlError),
    /// A slurm: source that cannot be used.
    #[error(transparent)]
    Slurm(#[from] super::slurm::SlurmUrlError),
    /// A glob that does not parse; the message says why.
    #[error("{0}")]
    Pattern(String),
}

/// How frames reach gbwatch; reported as `method` in stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// Slot files in shared memory.
    SharedMemory,
    /// A recording file.
    Recording,
    /// The built-in demo recording.
    Demo,
    /// An HTTP image or MJPEG URL.
    Http,
    /// The compact stream of a `gbwatch relay` over ssh.
    Ssh,
    /// JPEG/PNG image files.
    Files,
}

impl SourceKind {
    /// The name `stats --json` reports.
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::SharedMemory => "shared-memory",
            SourceKind::Recording => "recording",
            SourceKind::Demo => "demo",
            SourceKind::Http => "http",
            SourceKind::Ssh => "ssh",
            SourceKind::Files => "files",
        }
    }
}

/// A source found by a scan, not opened yet.
pub struct Candidate {
    /// The feed name it will have.
    pub name: String,
    /// How its frames will arrive.
    pub kind: SourceKind,
    /// Unique per source (its path or URL), so rescans do not open it twice.
    pub key: String,
    /// Opens the source; an error becomes the feed's `Error` state.
    pub open: OpenFn,
}

/// Opens a found source.
pub type OpenFn = Box<dyn FnOnce(&Cancel) -> Result<Box<dyn Source>, SourceError> + Send>;

impl SourceSpec {
    /// Interprets one SOURCE argument.
    pub fn parse(arg: &str) -> Result<SourceSpec, SpecError> {
        let lower = arg.get(..8).unwrap_or(arg).to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Ok(SourceSpec::Http(HttpUrl::parse(arg)?));
        }
        if lower.starts_with("ssh://") {
            return Ok(SourceSpec::Ssh(SshUrl::parse(arg)?));
        }
        if lower.starts_with("slurm:") {
            return Ok(SourceSpec::Slurm(SlurmUrl::parse(arg)?));
        }
        if lower.starts_with("hosts:") {
            return Ok(SourceSpec::Hosts(PathBuf::from(&arg[6..])));
        }
        if let Some((label, url)) = labelled_url(arg) {
            if url[..6].eq_ignore_ascii_case("ssh://") {
                return Ok(SourceSpec::Ssh(SshUrl::parse(url)?.with_label(label)));
            }
            return Ok(SourceSpec::Http(HttpUrl::parse(url)?.with_label(label)));
        }
        let path = Path::new(arg);
        if arg == DEMO_KEY && !path.exists() {
            return Ok(SourceSpec::Demo);
        }
        let Ok(meta) = std::fs::metadata(path) else {
            if files::is_glob(arg) {
                files::check_glob(arg).map_err(SpecError::Pattern)?;
                return Ok(SourceSpec::ImageGlob(arg.to_string()));
            }
            return Err(SpecError::Missing(arg.to_string()));
        };
        if meta.is_dir() {
            // Slots win; a directory with image files and no slots is an image directory.
            let slots = SlotDir::new(path).scan().map(|s| s.len()).unwrap_or(0);
            if slots == 0 && !files::scan_dir(path).is_empty() {
                return Ok(SourceSpec::ImageDir(path.to_path_buf()));
            }
            return Ok(SourceSpec::SlotDir(path.to_path_buf()));
        }
        if starts_with(path, &RECORDING_MAGIC) || starts_with(path, &crate::stream::wire::MAGIC) {
            return Ok(SourceSpec::Recording(path.to_path_buf()));
        }
        if files::is_image_path(path) {
            return Ok(SourceSpec::ImageGlob(glob::Pattern::escape(arg)));
        }
        if path.extension().is_some_and(|e| e == SLOT_EXTENSION) || starts_with(path, &MAGIC) {
            return Ok(SourceSpec::SlotFile(path.to_path_buf()));
        }
        Err(SpecError::Unknown(arg.to_string()))
    }

    /// True for sources whose set of feeds can change (directories).
    pub fn is_dynamic(&self) -> bool {
        matches!(
            self,
            SourceSpec::SlotDir(_)
                | SourceSpec::ImageDir(_)
                | SourceSpec::ImageGlob(_)
                | SourceSpec::DemoUntilPublisher
        ) || matches!(self, SourceSpec::Http(url) if url.is_base())
            || matches!(
                self,
                SourceSpec::Ssh(_) | SourceSpec::Slurm(_) | SourceSpec::Hosts(_)
            )
    }

    /// The sources this spec stands for right now (none when it cannot be read).
    pub fn scan(&self, options: &SourceOptions) -> Vec<Candidate> {
        self.try_scan(options).unwrap_or_default()
    }

    /// The sources this spec stands for right now, and why some could not be read (a line
    /// each): a host of a job or a hosts file can fail while the others answer.
    pub fn scan_each(&self, options: &SourceOptions) -> (Vec<Candidate>, Vec<String>) {
        match self {
            SourceSpec::Slurm(url) => slurm_candidates(url),
            SourceSpec::Hosts(path) => match HostsFile::of(path).hosts() {
                Ok(listed) => {
                    let (found, mut problems) = hosts_candidates(&listed.hosts, None);
                    problems.extend(listed.problems);
                    (found, problems)
                }
                Err(problem) => (Vec::new(), vec![problem]),
            },
            _ => match self.try_scan(options) {
                Ok(found) => (found, Vec::new()),
                Err(problem) => (Vec::new(), vec![problem]),
            },
        }
    }

    /// The sources this spec stands for right now, or why it cannot be read (one line).
    pub fn try_scan(&self, options: &SourceOptions) -> Result<Vec<Candidate>, String> {
        let allow_foreign = options.allow_foreign;
        Ok(match self {
            SourceSpec::SlotDir(dir) => SlotDir::new(dir)
                .scan()
                .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
                .into_iter()
                .map(|entry| slot_candidate(entry.name, entry.path, allow_foreign))
                .collect(),
            SourceSpec::SlotFile(path) => {
                let name = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| path.display().to_string());
                vec![slot_candidate(name, path.clone(), allow_foreign)]
            }
            SourceSpec::Recording(path) if starts_with(path, &crate::stream::wire::MAGIC) => {
                multi_recording_candidates(path, options)?
            }
            SourceSpec::Recording(path) => {
                let name = single_env_name(path);
                let (speed, looping, path) = (options.speed, options.looping, path.clone());
                vec![Candidate {
                    kind: SourceKind::Recording,
                    key: path.display().to_string(),
                    open: Box::new({
                        let name = name.clone();
                        move |_| {
                            let source = RecordingSource::open(name, &path, speed, looping)?;
                            Ok(Box::new(source) as Box<dyn Source>)
                        }
                    }),
                    name,
                }]
            }
            SourceSpec::Demo => {
                let speed = options.speed;
                vec![Candidate {
                    kind: SourceKind::Demo,
                    name: DEMO_KEY.to_string(),
                    key: DEMO_KEY.to_string(),
                    open: Box::new(move |_| Ok(demo_source(speed))),
                }]
            }
            SourceSpec::Http(url) if url.is_base() => remote_candidates(url)?,
            SourceSpec::Http(url) => vec![http_candidate(url.clone())],
            SourceSpec::Ssh(url) => ssh_candidates(url)?,
            SourceSpec::Slurm(_) | SourceSpec::Hosts(_) => {
                let (found, problems) = self.scan_each(options);
                match problems.into_iter().next() {
                    Some(problem) if found.is_empty() => return Err(problem),
                    _ => found,
                }
            }
            SourceSpec::ImageDir(dir) => files::scan_dir(dir)
                .into_iter()
                .map(|p| file_candidate(files::feed_name(&p, dir), p))
                .collect(),
            SourceSpec::ImageGlob(pattern) => {
                let base = files::glob_base(pattern);
                files::scan_glob(pattern)
                    .into_iter()
                    .map(|p| file_candidate(files::feed_name(&p, &base), p))
                    .collect()
            }
            SourceSpec::DemoUntilPublisher => Vec::new(),
        })
    }
}

/// `LABEL@http://…` or `LABEL@ssh://…`: the label and the URL.
fn labelled_url(arg: &str) -> Option<(&str, &str)> {
    let (label, url) = arg.split_once('@')?;
    let scheme = |s: &str| {
        url.get(..s.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(s))
    };
    let labelled =
        !label.is_empty() && !label.contains('/') && (scheme("http://") || scheme("ssh://"));
    labelled.then_some((label, url))
}

fn http_candidate(url: HttpUrl) -> Candidate {
    Candidate {
        kind: SourceKind::Http,
        name: url.name(),
        key: url.as_str().to_string(),
        open: Box::new(move |cancel| {
            Ok(Box::new(HttpSource::open(url, HttpOptions::default(), cancel)?) as Box<dyn Source>)
        }),
    }
}

/// A base URL: one feed per source of a remote gbwatch serve, else the URL itself.
fn remote_candidates(url: &HttpUrl) -> Result<Vec<Candidate>, String> {
    let remote = Remote::get(url);
    let Some(envs) = remote.sources() else {
        return match remote.listing() {
            Listing::Unreachable(reason) => Err(format!("{}: {reason}", url.as_str())),
            _ => Ok(vec![http_candidate(url.clone())]),
        };
    };
    Ok(envs
        .into_iter()
        .map(|env| {
            let name = format!("{}/{env}", url.prefix());
            let remote = remote.clone();
            Candidate {
                kind: SourceKind::Http,
                key: format!("{}#{env}", url.as_str()),
                open: Box::new({
                    let name = name.clone();
                    move |_| Ok(Box::new(open_env(name, &remote, env)) as Box<dyn Source>)
                }),
                name,
            }
        })
        .collect())
}

/// One feed per source on an ssh host, all over one `ssh … gbwatch relay`.
fn ssh_candidates(url: &SshUrl) -> Result<Vec<Candidate>, String> {
    let envs = super::ssh::sources(url)?;
    Ok(env_candidates(url, envs, None))
}

/// The feeds of `envs` on `url`'s host; a job's feeds are offline while it does not run.
fn env_candidates(url: &SshUrl, envs: Vec<String>, job: Option<&Arc<Job>>) -> Vec<Candidate> {
    let client = super::ssh::client(url);
    envs.into_iter()
        .map(|env| {
            let name = format!("{}/{env}", url.prefix());
            let client = client.clone();
            let job = job.cloned();
            Candidate {
                kind: SourceKind::Ssh,
                key: format!("{}#{env}", url.as_str()),
                open: Box::new({
                    let name = name.clone();
                    move |_| {
                        let env = Box::new(StreamEnvSource::new(name, client, env));
                        Ok(match job {
                            Some(job) => Box::new(JobEnv::new(env, job)) as Box<dyn Source>,
                            None => env as Box<dyn Source>,
                        })
                    }
                }),
                name,
            }
        })
        .collect()
}

/// The feeds of many ssh hosts, and a line for each host that could not be asked. New
/// hosts are asked side by side (a first connect can take seconds each); known ones answer
/// from their stream at once.
fn hosts_candidates(urls: &[SshUrl], job: Option<&Arc<Job>>) -> (Vec<Candidate>, Vec<String>) {
    let lists: Vec<Result<Vec<String>, String>> = std::thread::scope(|scope| {
        let asks: Vec<_> = urls
            .iter()
            .map(|url| {
                (!super::ssh::known(url)).then(|| scope.spawn(move || super::ssh::sources(url)))
            })
            .collect();
        asks.into_iter()
            .zip(urls)
            .map(|(ask, url)| match ask {
                Some(a) => a
                    .join()
                    .unwrap_or_else(|_| Err("ssh: a host's scan failed".into())),
                None => super::ssh::sources(url),
            })
            .collect()
    });
    let (mut found, mut problems) = (Vec::new(), Vec::new());
    for (url, list) in urls.iter().zip(lists) {
        match list {
            Ok(envs) => found.extend(env_candidates(url, envs, job)),
            Err(problem) => problems.push(problem),
        }
    }
    (found, problems)
}

/// The feeds of a Slurm job's nodes while it runs; a line while it is pending, has ended
/// before any feed was seen, or cannot be asked about.
fn slurm_candidates(url: &SlurmUrl) -> (Vec<Candidate>, Vec<String>) {
    let job = Job::of(url);
    match job.view() {
        JobView::Running(nodes) => {
            let urls: Vec<SshUrl> = nodes.iter().filter_map(|n| url.node(n)).collect();
            hosts_candidates(&urls, Some(&job))
        }
        // Its feeds (if any) say so themselves.
        JobView::Offline(_) if job.ran() => (Vec::new(), Vec::new()),
        JobView::Offline(line) => (Vec::new(), vec![format!("{}: {line}", url.as_str())]),
        JobView::Unasked(line) => (Vec::new(), vec![line]),
    }
}

/// The built-in demo: a single-env recording, or (made again by a newer `gbwatch record`,
/// see examples/rom/make_demo_recording.sh) a multi-env one, whose first env it plays.
fn demo_source(speed: f64) -> Box<dyn Source> {
    use super::recording::DEMO_RECORDING;
    if DEMO_RECORDING.starts_with(&crate::stream::wire::MAGIC) {
        let name = DEMO_KEY.to_string();
        Box::new(StreamRecordingSource::first_env_of(
            name,
            DEMO_RECORDING,
            speed,
            true,
        ))
    } else {
        Box::new(RecordingSource::demo(speed))
    }
}

/// One feed per env of a multi-env recording, under its recorded name.
fn multi_recording_candidates(
    path: &Path,
    options: &SourceOptions,
) -> Result<Vec<Candidate>, String> {
    let envs = recorded_envs(path).map_err(|e| e.to_string())?;
    let (speed, looping) = (options.speed, options.looping);
    Ok(envs
        .into_iter()
        .map(|env| {
            let path = path.to_path_buf();
            Candidate {
                kind: SourceKind::Recording,
                key: format!("{}#{env}", path.display()),
                name: env.clone(),
                open: Box::new(move |_| {
                    let source =
                        StreamRecordingSource::open(env.clone(), env, &path, speed, looping)?;
                    Ok(Box::new(source) as Box<dyn Source>)
                }),
            }
        })
        .collect())
}

fn slot_candidate(name: String, path: PathBuf, allow_foreign: bool) -> Candidate {
    Candidate {
        kind: SourceKind::SharedMemory,
        key: path.display().to_string(),
        open: Box::new({
            let name = name.clone();
            move |_| Ok(Box::new(ShmSource::open(name, &path, allow_foreign)?) as Box<dyn Source>)
        }),
        name,
    }
}

fn file_candidate(name: String, path: PathBuf) -> Candidate {
    Candidate {
        kind: SourceKind::Files,
        key: path.display().to_string(),
        open: Box::new({
            let name = name.clone();
            move |_| Ok(Box::new(FileSource::open(name, &path)) as Box<dyn Source>)
        }),
        name,
    }
}

fn starts_with(path: &Path, magic: &[u8]) -> bool {
    let mut buf = vec![0u8; magic.len()];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut buf))
        .is_ok_and(|_| buf == magic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_names_an_ssh_or_http_source() {
        let SourceSpec::Ssh(ssh) = SourceSpec::parse("a@ssh://me@box1:2222").unwrap() else {
            panic!("not ssh")
        };
        assert_eq!((ssh.prefix(), ssh.host()), ("a", "box1"));
        assert!(matches!(
            SourceSpec::parse("b@http://box2:8080").unwrap(),
            SourceSpec::Http(_)
        ));
        // An @ in a path is a path.
        assert!(labelled_url("runs/a@b.gbrec").is_none());
    }
}
