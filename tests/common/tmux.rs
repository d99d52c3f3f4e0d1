//! A private tmux server for tests: one session "t", keys sent, the pane read back.

use std::process::Command;
use std::time::Duration;

/// A private tmux server, killed when dropped.
pub struct Tmux(pub String);

impl Tmux {
    /// A `tmux` command for this server.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.0]);
        c
    }

    /// Runs tmux with `args` and gives its standard output.
    pub fn run(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The pane's text as shown now.
    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "t"])
    }

    /// Waits until the screen satisfies `ok`; panics with the screen after `secs`.
    pub fn wait_for(&self, what: &str, secs: u64, ok: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        let found = super::within(Duration::from_secs(secs), || {
            last = self.screen();
            ok(&last).then(|| last.clone())
        });
        found.unwrap_or_else(|| panic!("timed out waiting for {what}; screen:\n{last}"))
    }
}

impl Tmux {
    /// A private tmux server with one `w`×`h` session "t" running a plain bash.
    pub fn start(tag: &str, w: u16, h: u16) -> Tmux {
        let tmux = Tmux(format!("gbwatch-{tag}-{}", std::process::id()));
        let (w, h) = (w.to_string(), h.to_string());
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            &w,
            "-y",
            &h,
            "bash",
            "--norc",
            "--noprofile",
        ]);
        tmux
    }

    /// Types the command that starts the built gbwatch on slot directory `dir`.
    pub fn start_gbwatch(&self, dir: &std::path::Path) {
        let cmd = format!(
            "GBWATCH_DIR={} {}",
            dir.display(),
            env!("CARGO_BIN_EXE_gbwatch")
        );
        self.run(&["send-keys", "-t", "t", &cmd, "Enter"]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}
