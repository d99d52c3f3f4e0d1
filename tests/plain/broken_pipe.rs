//! Every command that writes to standard output ends quietly, status 0, when its reader has
//! gone away (`gbwatch list | head -0`, a pager quit early), as `dump --stdout` does.

use crate::common;

use common::{gbwatch, root, Scratch};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::Stdio;

/// A pipe whose reading end is already closed: every write to it fails with EPIPE.
fn closed_pipe() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: pipe writes two new descriptors into the array on success.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors are new and owned by nothing else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    Stdio::from(write)
}

#[test]
fn every_command_that_writes_to_stdout_ends_quietly_when_it_is_closed() {
    let dir = Scratch::new("broken-pipe");
    let rec = root().join("assets/demo.gbrec");
    let rec = rec.to_str().unwrap();
    let d = dir.path().to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["list", d],
        vec!["stats", rec, "--duration", "1"],
        vec!["stats", rec, "--json", "--duration", "1"],
        vec!["dump", rec, "--stdout", "--count", "3"],
        vec!["completions", "bash"],
        vec!["man"],
        vec!["man", "dump"],
        vec!["--help"],
        vec!["dump", "--help"],
        vec!["--version"],
    ];
    for args in cases {
        let out = gbwatch()
            .args(&args)
            .env("GBWATCH_DIR", d)
            .stdout(closed_pipe())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
    }
}
