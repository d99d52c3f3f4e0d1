//! `ssh://[user@]host[:port][/slot-dir]` sources: the system's OpenSSH client runs
//! `gbwatch relay` on the host (so `~/.ssh/config`, ProxyJump, agents and keys apply) and
//! its standard output is the compact stream of every source there. No port is opened.
//!
//! `$GBWATCH_SSH` replaces the `ssh` command (`ssh -F my_config`); `$GBWATCH_REMOTE` names
//! the remote `gbwatch` when the box has it neither on the login PATH nor in a publisher's
//! venv; with none, this binary is copied there ([`install`]).

pub mod install;

use super::stream::command::{CommandTransport, Explain};
use super::stream::{ConnectError, LinkState, StreamClient};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a scan waits for a new host's first source list.
const FIRST_LIST_WAIT: Duration = Duration::from_secs(10);
/// A host no scan asked about for this long has its ssh session ended.
const FORGET_AFTER: Duration = Duration::from_secs(10);

/// A parsed `ssh://` source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshUrl {
    url: String,
    /// `user@host` or `host`, as ssh takes it.
    destination: String,
    host: String,
    port: Option<u16>,
    dir: Option<String>,
    label: Option<String>,
    user: Option<String>,
    /// `ssh -J` this (`[user@]host[:port]`): a node reached through a login host.
    jump: Option<String>,
}

/// Why an `ssh://` argument is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}: not a valid ssh:// source (expected ssh://[USER@]HOST[:PORT][/SLOT-DIR])")]
pub struct SshUrlError(pub String);

impl SshUrl {
    /// Parses `ssh://[user@]host[:port][/slot-dir]`.
    pub fn parse(arg: &str) -> Result<SshUrl, SshUrlError> {
        let bad = || SshUrlError(arg.to_string());
        let rest = arg
            .get(..6)
            .filter(|s| s.eq_ignore_ascii_case("ssh://"))
            .map(|_| &arg[6..])
            .ok_or_else(bad)?;
        let (authority, dir) = match rest.find('/') {
            Some(i) => (&rest[..i], Some(rest[i..].to_string())),
            None => (rest, None),
        };
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p.parse::<u16>().map_err(|_| bad())?)),
            _ => (hostport, None),
        };
        let clean = |s: &str| {
            // Never a leading '-': ssh would take it as an option.
            !s.is_empty()
                && !s.starts_with('-')
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._[]".contains(c))
        };
        if !clean(host) || user.is_some_and(|u| !clean(u)) {
            return Err(bad());
        }
        Ok(SshUrl {
            url: arg.to_string(),
            destination: match user {
                Some(u) => format!("{u}@{host}"),
                None => host.to_string(),
            },
            host: host.to_string(),
            port,
            dir: dir.filter(|d| d != "/"),
            label: None,
            user: user.map(str::to_string),
            jump: None,
        })
    }

    /// The same source, its feeds called `label/ENV`.
    pub fn with_label(mut self, label: &str) -> SshUrl {
        self.label = Some(label.to_string());
        self
    }

    /// The same host reached through `login` (`ssh -J`), as a cluster's nodes are.
    pub fn through(mut self, login: &SshUrl) -> SshUrl {
        let port = login.port.map(|p| format!(":{p}")).unwrap_or_default();
        self.jump = Some(format!("{}{port}", login.destination));
        self
    }

    /// The user, when the URL names one.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The host, as in the URL.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The URL as given.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// What names this host in feed names: the label, else the host.
    pub fn prefix(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.host)
    }

    /// The command line that runs the relay on the host.
    pub fn command(&self) -> (String, Vec<String>) {
        self.command_for("relay")
    }

    /// The command line that runs `gbwatch SUBCOMMAND [SLOT-DIR]` on the host, with the
    /// first gbwatch the host has ([`install`]).
    pub fn command_for(&self, subcommand: &str) -> (String, Vec<String>) {
        let (program, mut args) = self.ssh_args();
        let remote = std::env::var("GBWATCH_REMOTE").ok();
        args.push(install::remote_line(
            subcommand,
            self.dir.as_deref(),
            remote.as_deref(),
        ));
        (program, args)
    }

    /// `ssh` and its arguments up to the destination: a remote command goes after them.
    pub fn ssh_args(&self) -> (String, Vec<String>) {
        let ssh = std::env::var("GBWATCH_SSH").unwrap_or_else(|_| "ssh".into());
        let mut words = ssh.split_whitespace().map(str::to_string);
        let program = words.next().unwrap_or_else(|| "ssh".into());
        let mut args: Vec<String> = words.collect();
        args.extend(
            [
                "-T",
                "-o",
                "BatchMode=yes",
                "-o",
                "ServerAliveInterval=5",
                "-o",
                "ServerAliveCountMax=2",
            ]
            .map(String::from),
        );
        if let Some(jump) = &self.jump {
            args.extend(["-J".into(), jump.clone()]);
        }
        if let Some(p) = self.port {
            args.extend(["-p".into(), p.to_string()]);
        }
        args.push(self.destination.clone());
        (program, args)
    }
}

/// The line shown for a relay that ended: what went wrong, in the user's terms.
pub fn explain(host: &str, code: Option<i32>, stderr: &str, problem: ConnectError) -> ConnectError {
    let last = stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with("Warning: Permanently added"))
        .unwrap_or("")
        .to_string();
    let has = |s: &str| stderr.contains(s);
    if has("Permission denied") || has("Too many authentication failures") {
        return ConnectError::error(format!(
            "ssh {host}: authentication refused ({last}); check your key or agent (ssh {host} must log in without a prompt)"
        ));
    }
    if code == Some(127)
        || has("command not found")
        || has("No such file or directory") && has("gbwatch")
    {
        return ConnectError::error(format!(
            "gbwatch is not installed on {host} (not on the PATH of a non-interactive ssh session): pip install a gbwatch wheel into the training env there, or set GBWATCH_REMOTE to its path"
        ));
    }
    if has("unrecognized subcommand 'relay'") {
        return ConnectError::error(format!(
            "the gbwatch on {host} is too old to relay: install this version there"
        ));
    }
    if code == Some(255)
        || has("Could not resolve")
        || has("Connection refused")
        || has("timed out")
        || has("No route")
        || has("closed by")
        || has("reset by")
    {
        let why = if last.is_empty() {
            problem.reason.clone()
        } else {
            last
        };
        return ConnectError::offline(format!(
            "ssh {host}: host unreachable or connection lost ({why})"
        ));
    }
    if !problem.offline {
        return problem;
    }
    if !last.is_empty() && code.is_some_and(|c| c != 0) {
        return ConnectError::error(format!("ssh {host}: {last}"));
    }
    ConnectError::offline(format!("ssh {host}: {}", problem.reason))
}

/// A host's stream and when a scan last asked for it.
struct Entry {
    client: Arc<StreamClient>,
    asked: Instant,
}

fn registry() -> &'static Mutex<HashMap<String, Entry>> {
    static CLIENTS: OnceLock<Mutex<HashMap<String, Entry>>> = OnceLock::new();
    CLIENTS.get_or_init(Mutex::default)
}

/// The stream of `url`'s host, started (and its first list waited for) the first time.
/// One no scan asked for in 10 s (plus the first list's wait) is stopped: its ssh ends.
pub fn client(url: &SshUrl) -> Arc<StreamClient> {
    let key = url.as_str().to_string();
    if let Some(e) = registry().lock().unwrap().get_mut(&key) {
        e.asked = Instant::now();
        return e.client.clone();
    }
    let (program, args) = url.command();
    let host = url.host.clone();
    let target = install::Target {
        host: host.clone(),
        ssh: url.ssh_args(),
    };
    let explain: Explain =
        Arc::new(
            move |code, stderr, problem| match install::parse_missing(stderr) {
                Some(missing) => install::resolve(&target, &missing),
                None => explain(&host, code, stderr, problem),
            },
        );
    let transport = CommandTransport::new(&program, args, explain);
    let client = StreamClient::start(url.as_str(), Box::new(transport));
    let entry = Entry {
        client: client.clone(),
        asked: Instant::now(),
    };
    registry().lock().unwrap().insert(key.clone(), entry);
    // Left to end with the process: it sleeps a second at a time and ends once the host
    // is forgotten (no token: the registry outlives any one feed set).
    let reaper = std::thread::Builder::new()
        .name(format!("forget {}", url.as_str()))
        .spawn(move || forget_when_unused(&key));
    if reaper.is_err() {
        eprintln!("gbwatch: cannot start a thread: the ssh session stays open until exit");
    }
    client.wait_listed(FIRST_LIST_WAIT);
    if let Some(e) = registry().lock().unwrap().get_mut(url.as_str()) {
        e.asked = Instant::now();
    }
    client
}

/// Stops and forgets the stream of `key` once no scan asked for it in [`FORGET_AFTER`].
fn forget_when_unused(key: &str) {
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let mut map = registry().lock().unwrap();
        let Some(e) = map.get(key) else { return };
        // The first scan waits up to FIRST_LIST_WAIT without asking again.
        if e.asked.elapsed() >= FORGET_AFTER + FIRST_LIST_WAIT {
            e.client.stop();
            map.remove(key);
            return;
        }
    }
}

/// Whether `url`'s host has a stream already (asking it is then quick: no first list to wait for).
pub fn known(url: &SshUrl) -> bool {
    registry().lock().unwrap().contains_key(url.as_str())
}

/// The remote sources to show now, or why there are none (one line).
pub fn sources(url: &SshUrl) -> Result<Vec<String>, String> {
    let client = client(url);
    if let Some(list) = client.sources() {
        return Ok(list.into_iter().map(|(n, _)| n).collect());
    }
    match client.link() {
        LinkState::Offline(r) | LinkState::Error(r) => Err(r),
        LinkState::Connecting | LinkState::Live => Err(format!("{}: connecting", url.as_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::install::shell_quote;
    use super::*;

    #[test]
    fn urls() {
        let u = SshUrl::parse("ssh://me@box1:2222/dev/shm/gbwatch").unwrap();
        assert_eq!(u.destination, "me@box1");
        assert_eq!(u.port, Some(2222));
        assert_eq!(u.dir.as_deref(), Some("/dev/shm/gbwatch"));
        assert_eq!(u.prefix(), "box1");
        let u = SshUrl::parse("ssh://box1").unwrap();
        assert_eq!((u.port, u.dir), (None, None));
        for bad in [
            "ssh://",
            "ssh://a b",
            "ssh://h:x",
            "http://h",
            "ssh://-oProxyCommand=x",
        ] {
            assert!(SshUrl::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(shell_quote("/a b/it's"), r"'/a b/it'\''s'");
    }

    #[test]
    fn an_old_remote_gbwatch_is_named_as_such() {
        // What clap itself prints when a gbwatch without `relay` is asked to relay.
        let old = clap::Command::new("gbwatch")
            .subcommand(clap::Command::new("watch"))
            .try_get_matches_from(["gbwatch", "relay"])
            .unwrap_err()
            .render()
            .to_string();
        let lost = ConnectError::offline("relay ended");
        let line = explain("box1", Some(2), &old, lost.clone()).reason;
        assert_eq!(
            line,
            "the gbwatch on box1 is too old to relay: install this version there"
        );
        let line = explain(
            "box1",
            Some(255),
            "ssh: connect to host box1: Connection refused",
            lost,
        )
        .reason;
        assert!(line.starts_with("ssh box1: host unreachable"), "{line}");
    }
}
