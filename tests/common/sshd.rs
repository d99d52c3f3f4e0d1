//! A real OpenSSH server (Debian's /usr/sbin/sshd) on a loopback port, with a throwaway
//! host key and user key, and the built gbwatch on the PATH of its sessions (or not).

use super::Scratch;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// Held by the tests that set `$GBWATCH_SSH` for in-process sources (one process-wide value).
pub static IN_PROCESS_SSH: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Keys, config and the bin directory of one test's sshd.
pub struct SshHome {
    /// The directory holding keys, config and bin.
    pub dir: Scratch,
    /// The user sshd lets in.
    pub user: String,
}

impl Default for SshHome {
    fn default() -> Self {
        Self::new()
    }
}

impl SshHome {
    /// Makes a host key, a user key (authorized) and a second user key (not authorized).
    pub fn new() -> SshHome {
        let dir = Scratch::new("sshd");
        for key in ["host_key", "id", "wrong_id"] {
            let out = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(dir.path().join(key))
                .output()
                .expect("run ssh-keygen (install openssh-client: bash tests/run-all.sh)");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::fs::copy(
            dir.path().join("id.pub"),
            dir.path().join("authorized_keys"),
        )
        .unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_gbwatch"), bin.join("gbwatch")).unwrap();
        let out = Command::new("id").arg("-un").output().unwrap();
        let user = String::from_utf8_lossy(&out.stdout).trim().to_string();
        SshHome { dir, user }
    }

    /// A file of this home: a key (`id`, `wrong_id`), `bin`, a config.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `$GBWATCH_SSH` for logging in with `key` (`id` or `wrong_id`), trusting any host key.
    pub fn ssh_command(&self, key: &str) -> String {
        format!(
            "ssh -F none -i {} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=3",
            self.path(key).display()
        )
    }

    /// Starts sshd on `port` (0: a free one); its sessions find gbwatch on their PATH when
    /// `with_gbwatch`.
    pub fn start(&self, port: u16, with_gbwatch: bool) -> Sshd {
        self.start_with(port, with_gbwatch, "")
    }

    /// [`SshHome::start`], with `env` (`NAME=value ...`) set in every session too.
    pub fn start_with(&self, port: u16, with_gbwatch: bool, env: &str) -> Sshd {
        let port = if port == 0 { super::free_port() } else { port };
        let path = if with_gbwatch {
            format!("{}:/usr/bin:/bin", self.path("bin").display())
        } else {
            "/usr/bin:/bin".to_string()
        };
        // A home of its own: the login shell's rc files (a pyenv init waiting on a lock,
        // a PATH put first) belong to the machine, not to the box under test.
        let home = self.path("home");
        let _ = std::fs::create_dir_all(&home);
        let env = if env.split_whitespace().any(|v| v.starts_with("HOME=")) {
            env.to_string()
        } else {
            format!("HOME={} {env}", home.display())
        };
        let config = format!(
            "ListenAddress 127.0.0.1:{port}\nHostKey {}\nAuthorizedKeysFile {}\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
             PermitRootLogin prohibit-password\nUsePAM no\nStrictModes no\nPidFile none\n\
             SetEnv PATH={path} {env}\nLogLevel ERROR\n",
            self.path("host_key").display(),
            self.path("authorized_keys").display()
        );
        let config_file = self.path(&format!("sshd_config_{port}"));
        std::fs::write(&config_file, config).unwrap();
        // Privilege separation needs this directory when sshd runs as root.
        let _ = std::fs::create_dir_all("/run/sshd");
        let log = self.path(&format!("sshd_{port}.log"));
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&config_file)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start /usr/sbin/sshd (install openssh-server: bash tests/run-all.sh)");
        super::wait::started(&format!("sshd to listen on 127.0.0.1:{port}"), &log, || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Sshd { child, port }
    }
}

/// A running sshd; it and its sessions are killed when dropped.
pub struct Sshd {
    child: Child,
    /// The loopback port it listens on.
    pub port: u16,
}

impl Sshd {
    /// Kills sshd and every session it started (its process group), as a crash would.
    pub fn kill(mut self) {
        self.kill_group();
    }

    fn kill_group(&mut self) {
        // sshd's per-connection processes start sessions of their own: found by parent.
        let mut pids = descendants(self.child.id());
        pids.push(self.child.id());
        for pid in pids {
            // SAFETY: kill(2) on a process this test's sshd started (or sshd itself); no
            // memory is involved.
            unsafe {
                libc::kill(pid as i32, libc::SIGKILL);
            }
        }
        let _ = self.child.wait();
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// Every process below `pid`, from /proc.
fn descendants(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(p) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        // pid (comm) state ppid …: comm may hold spaces, so split after its ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok());
        if let Some(ppid) = ppid {
            parents.push((p, ppid));
        }
    }
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    found.remove(0);
    found
}
