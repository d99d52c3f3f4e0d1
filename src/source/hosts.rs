//! `hosts:FILE` sources: an `ssh://` source for every host listed in FILE, one a line
//! (`[USER@]HOST[:PORT][/SLOT-DIR]` or a whole `ssh://` URL; `#` starts a comment), read
//! again whenever the file changes.

use super::ssh::SshUrl;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// A hosts file and what it said when last read.
#[derive(Debug)]
pub struct HostsFile {
    path: PathBuf,
    read: Mutex<Option<(SystemTime, u64, Listed)>>,
}

/// The hosts of a file, and the lines that are no host.
#[derive(Debug, Clone, Default)]
pub struct Listed {
    /// One `ssh://` source per good line.
    pub hosts: Vec<SshUrl>,
    /// `FILE:LINE: why`, one per bad line.
    pub problems: Vec<String>,
}

impl HostsFile {
    /// The file at `path` (not read yet).
    pub fn new(path: &Path) -> HostsFile {
        HostsFile {
            path: path.to_path_buf(),
            read: Mutex::new(None),
        }
    }

    /// The file at `path`, shared by every scan of it in this process.
    pub fn of(path: &Path) -> std::sync::Arc<HostsFile> {
        use std::collections::HashMap;
        use std::sync::{Arc, OnceLock};
        static FILES: OnceLock<Mutex<HashMap<PathBuf, Arc<HostsFile>>>> = OnceLock::new();
        let mut files = FILES.get_or_init(Mutex::default).lock().unwrap();
        files
            .entry(path.to_path_buf())
            .or_insert_with(|| Arc::new(HostsFile::new(path)))
            .clone()
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The hosts now: the file is read again when its modification time or size changed.
    pub fn hosts(&self) -> Result<Listed, String> {
        let shown = self.path.display();
        let meta = std::fs::metadata(&self.path).map_err(|e| format!("hosts:{shown}: {e}"))?;
        let stamp = (
            meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            meta.len(),
        );
        let mut read = self.read.lock().unwrap();
        if let Some((time, len, listed)) = read.as_ref() {
            if (*time, *len) == stamp {
                return Ok(listed.clone());
            }
        }
        let text =
            std::fs::read_to_string(&self.path).map_err(|e| format!("hosts:{shown}: {e}"))?;
        let listed = parse(&text, &shown.to_string());
        *read = Some((stamp.0, stamp.1, listed.clone()));
        Ok(listed)
    }
}

/// The hosts of a file's text; `name` names the file in problems.
pub fn parse(text: &str, name: &str) -> Listed {
    let mut listed = Listed::default();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let url = if line
            .get(..6)
            .is_some_and(|s| s.eq_ignore_ascii_case("ssh://"))
        {
            line.to_string()
        } else {
            format!("ssh://{line}")
        };
        match SshUrl::parse(&url) {
            Ok(u) if !listed.hosts.contains(&u) => listed.hosts.push(u),
            Ok(_) => {}
            Err(e) => listed.problems.push(format!("{name}:{}: {e}", i + 1)),
        }
    }
    listed
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn lines() {
        let l = parse("box1\n# a comment\n me@box2:2222/dev/shm/x  # trailing\n\nssh://box3\nbad host\nbox1\n", "f");
        let hosts: Vec<&str> = l.hosts.iter().map(|u| u.host()).collect();
        assert_eq!(hosts, ["box1", "box2", "box3"]);
        assert_eq!(l.problems.len(), 1);
        assert!(
            l.problems[0].starts_with("f:6: ssh://bad host"),
            "{:?}",
            l.problems
        );
    }
}
