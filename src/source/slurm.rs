//! `slurm:JOBID` and `slurm://[USER@]LOGIN[:PORT]/JOBID` sources: every node of a Slurm job
//! as an `ssh://NODE` source, its feeds named `NODE/ENV`, followed while the job runs.
//!
//! `squeue` (on this machine, or on LOGIN over ssh) says the job's state and nodes, at most
//! every [`ASK_EVERY`]; through a login host the nodes are reached with `ssh -J LOGIN`, as
//! users do by hand. A job that is pending or has ended turns its feeds offline with
//! `job JOBID pending` / `job JOBID ended`.

use super::hostlist;
use super::ssh::SshUrl;
use super::{Poll, Source, SourceError};
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How often the job's state and nodes are asked again.
pub const ASK_EVERY: Duration = Duration::from_secs(2);

/// A parsed `slurm:` source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlurmUrl {
    url: String,
    job: String,
    /// The login host `squeue` runs on, and the nodes are reached through.
    login: Option<SshUrl>,
    /// The slot directory on the nodes (their default when none).
    dir: Option<String>,
}

/// Why a `slurm:` argument is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}: not a valid slurm source (expected slurm:JOBID or slurm://[USER@]LOGIN[:PORT]/JOBID, then /SLOT-DIR if not the default)")]
pub struct SlurmUrlError(pub String);

impl SlurmUrl {
    /// Parses `slurm:JOBID[/DIR]` or `slurm://[user@]login[:port]/JOBID[/DIR]`.
    pub fn parse(arg: &str) -> Result<SlurmUrl, SlurmUrlError> {
        let bad = || SlurmUrlError(arg.to_string());
        let scheme = |s: &str| {
            arg.get(..s.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(s))
        };
        let (login, rest) = if scheme("slurm://") {
            let rest = &arg[8..];
            let (authority, rest) = rest.split_once('/').ok_or_else(bad)?;
            let login = SshUrl::parse(&format!("ssh://{authority}")).map_err(|_| bad())?;
            (Some(login), rest)
        } else if scheme("slurm:") {
            (None, &arg[6..])
        } else {
            return Err(bad());
        };
        let (job, dir) = match rest.find('/') {
            Some(i) => (&rest[..i], Some(rest[i..].to_string())),
            None => (rest, None),
        };
        // 123, an array task 123_4, a heterogeneous component 123+1.
        let mut parts = job.splitn(2, ['_', '+']);
        let digits = |s: Option<&str>| {
            s.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        };
        let first = parts.next();
        let second = parts.next();
        if !digits(first) || (second.is_some() && !digits(second)) {
            return Err(bad());
        }
        Ok(SlurmUrl {
            url: arg.to_string(),
            job: job.to_string(),
            login,
            dir: dir.filter(|d| d != "/"),
        })
    }

    /// The URL as given.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The job id.
    pub fn job(&self) -> &str {
        &self.job
    }

    /// `ssh://NODE[/DIR]`, through the login host when there is one.
    pub fn node(&self, node: &str) -> Option<SshUrl> {
        let user = self
            .login
            .as_ref()
            .and_then(SshUrl::user)
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let dir = self.dir.as_deref().unwrap_or("");
        let url = SshUrl::parse(&format!("ssh://{user}{node}{dir}")).ok()?;
        Some(match &self.login {
            Some(login) => url.through(login),
            None => url,
        })
    }

    /// `squeue` and its arguments, here or on the login host.
    fn squeue(&self) -> (String, Vec<String>) {
        let words = ["squeue", "-h", "-t", "all", "-j", &self.job, "-o", "%T|%N"];
        match &self.login {
            None => (
                "squeue".into(),
                words[1..].iter().map(|w| w.to_string()).collect(),
            ),
            Some(login) => {
                let (program, mut args) = login.ssh_args();
                let line = words.map(super::ssh::install::shell_quote).join(" ");
                args.push(line);
                (program, args)
            }
        }
    }

    /// Where `squeue` runs, for messages.
    fn place(&self) -> String {
        match &self.login {
            Some(login) => login.host().to_string(),
            None => "this machine".into(),
        }
    }

    /// Asks `squeue` once.
    fn ask(&self) -> Result<Answer, String> {
        let (program, args) = self.squeue();
        let out = Command::new(&program)
            .args(&args)
            .stdin(Stdio::null())
            .output();
        let out = match out {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && self.login.is_none() => {
                return Err(format!(
                    "{}: squeue is not on this machine's PATH: run gbwatch on the cluster's login node, or use slurm://LOGIN/{}",
                    self.url, self.job
                ))
            }
            Err(e) => return Err(format!("{}: cannot run {program}: {e}", self.url)),
            Ok(out) => out,
        };
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            if stderr.contains("Invalid job id") {
                return Ok(Answer::Unknown);
            }
            if out.status.code() == Some(127) || stderr.contains("squeue: command not found") {
                return Err(format!(
                    "{}: squeue is not on {}'s PATH (is it a Slurm login node?)",
                    self.url,
                    self.place()
                ));
            }
            let last = stderr.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
            return Err(format!(
                "{}: squeue failed on {}: {}",
                self.url,
                self.place(),
                last.trim()
            ));
        }
        Ok(parse_squeue(&String::from_utf8_lossy(&out.stdout)))
    }
}

/// What `squeue` said of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    /// Running (or configuring, suspended) on these nodes.
    Running(Vec<String>),
    /// Waiting to start (or requeued).
    Pending,
    /// Over, with its state (`COMPLETED`, `CANCELLED`, …).
    Ended(String),
    /// No such job: never was, or it ended long enough ago to be forgotten.
    Unknown,
}

/// `STATE|NODELIST` lines (one per array task) as one answer: running if any task runs.
fn parse_squeue(text: &str) -> Answer {
    let mut nodes: Vec<String> = Vec::new();
    let (mut running, mut pending, mut ended) = (false, false, None);
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (state, list) = line.split_once('|').unwrap_or((line, ""));
        match state {
            "RUNNING" | "CONFIGURING" | "SUSPENDED" | "RESIZING" | "STOPPED" | "SIGNALING" => {
                running = true;
                for node in hostlist::expand(list) {
                    if !nodes.contains(&node) {
                        nodes.push(node);
                    }
                }
            }
            "PENDING" | "REQUEUED" | "REQUEUE_HOLD" | "REQUEUE_FED" | "RESV_DEL_HOLD" => {
                pending = true
            }
            other => ended = Some(other.to_string()),
        }
    }
    if running {
        Answer::Running(nodes)
    } else if pending {
        Answer::Pending
    } else {
        ended.map_or(Answer::Unknown, Answer::Ended)
    }
}

/// What the feeds of a job show now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobView {
    /// Running on these nodes.
    Running(Vec<String>),
    /// Not running; every feed of the job is offline with this line.
    Offline(String),
    /// `squeue` could not be asked (the line says why); feeds keep what they show.
    Unasked(String),
}

/// One job followed by every scan and every feed of it.
pub struct Job {
    url: SlurmUrl,
    state: Mutex<Followed>,
}

struct Followed {
    asked: Option<Instant>,
    view: JobView,
    /// Seen running once: an unknown job id then means it ended (and was forgotten).
    ran: bool,
}

impl Job {
    /// The job of `url`, shared by every scan of it in this process.
    pub fn of(url: &SlurmUrl) -> Arc<Job> {
        static JOBS: OnceLock<Mutex<HashMap<String, Arc<Job>>>> = OnceLock::new();
        let mut jobs = JOBS.get_or_init(Mutex::default).lock().unwrap();
        jobs.entry(url.as_str().to_string())
            .or_insert_with(|| {
                Arc::new(Job {
                    url: url.clone(),
                    state: Mutex::new(Followed {
                        asked: None,
                        view: JobView::Unasked("not asked yet".into()),
                        ran: false,
                    }),
                })
            })
            .clone()
    }

    /// The job now: asks `squeue` again when the last answer is older than [`ASK_EVERY`].
    pub fn view(&self) -> JobView {
        let due = {
            let s = self.state.lock().unwrap();
            s.asked.is_none_or(|t| t.elapsed() >= ASK_EVERY)
        };
        if due {
            let answer = self.url.ask();
            let mut s = self.state.lock().unwrap();
            s.asked = Some(Instant::now());
            let id = &self.url.job;
            s.view = match answer {
                Ok(Answer::Running(nodes)) => {
                    s.ran = true;
                    JobView::Running(nodes)
                }
                Ok(Answer::Pending) => JobView::Offline(format!("job {id} pending")),
                Ok(Answer::Ended(state)) => {
                    JobView::Offline(format!("job {id} ended ({})", state.to_lowercase()))
                }
                Ok(Answer::Unknown) if s.ran => JobView::Offline(format!("job {id} ended")),
                Ok(Answer::Unknown) => JobView::Unasked(format!(
                    "{}: no job {id} in squeue on {}",
                    self.url.url,
                    self.url.place()
                )),
                Err(line) => JobView::Unasked(line),
            };
        }
        self.state.lock().unwrap().view.clone()
    }

    /// Whether the job was seen running.
    pub fn ran(&self) -> bool {
        self.state.lock().unwrap().ran
    }

    /// Why the job's feeds are offline now, from the last answer (never asks).
    fn offline(&self) -> Option<String> {
        match &self.state.lock().unwrap().view {
            JobView::Offline(line) => Some(line.clone()),
            _ => None,
        }
    }
}

/// One env of a job's node: the node's source while the job runs, offline with the job's
/// line when it does not.
pub struct JobEnv {
    inner: Box<dyn Source>,
    job: Arc<Job>,
}

impl JobEnv {
    /// `inner` (an env of one of `job`'s nodes), offline whenever the job is not running.
    pub fn new(inner: Box<dyn Source>, job: Arc<Job>) -> JobEnv {
        JobEnv { inner, job }
    }
}

impl Source for JobEnv {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn poll(&mut self) -> Result<Poll, SourceError> {
        match self.job.offline() {
            Some(line) => Ok(Poll::Offline(line)),
            None => self.inner.poll(),
        }
    }

    fn set_capture_fps(&mut self, fps: u32) {
        self.inner.set_capture_fps(fps)
    }

    fn set_wanted_fps(&mut self, fps: u32) {
        self.inner.set_wanted_fps(fps)
    }

    fn take_restart(&mut self) -> bool {
        self.inner.take_restart()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = SlurmUrl::parse("slurm:1234").unwrap();
        assert_eq!(
            (u.job(), u.login.is_none(), u.dir.clone()),
            ("1234", true, None)
        );
        let u = SlurmUrl::parse("slurm://me@login1:2222/77_3/dev/shm/x").unwrap();
        assert_eq!(u.job(), "77_3");
        assert_eq!(u.dir.as_deref(), Some("/dev/shm/x"));
        let node = u.node("gpu01").unwrap();
        assert_eq!(node.host(), "gpu01");
        let (_, args) = node.ssh_args();
        let j = args.iter().position(|a| a == "-J").unwrap();
        assert_eq!(args[j + 1], "me@login1:2222");
        assert_eq!(args.last().unwrap(), "me@gpu01");
        for bad in [
            "slurm:",
            "slurm:abc",
            "slurm:12x",
            "slurm://login",
            "slurm://-oX=y/12",
            "slurm:1_",
        ] {
            assert!(SlurmUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn squeue_answers() {
        assert_eq!(
            parse_squeue("RUNNING|gpu[01-02]\nRUNNING|gpu02,cpu7\n"),
            Answer::Running(vec!["gpu01".into(), "gpu02".into(), "cpu7".into()])
        );
        assert_eq!(parse_squeue("PENDING|\n"), Answer::Pending);
        assert_eq!(
            parse_squeue("CANCELLED|gpu01\n"),
            Answer::Ended("CANCELLED".into())
        );
        assert_eq!(parse_squeue(""), Answer::Unknown);
    }
}
