//! `ssh://` to a box whose login PATH has no gbwatch, against a real sshd on 127.0.0.1:
//! the gbwatch of a publisher's venv is found through the publisher's record; on a box with
//! none the viewer copies itself into `~/.cache/gbwatch/VERSION` once, reuses it, and
//! replaces (never runs) a copy that fails its checksum; `--no-install` copies nothing and
//! says how to install.

use crate::common;

use common::sshd::{SshHome, Sshd};
use common::{gbwatch, Proc, Scratch};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// A box: its slot directory, its user's home and an sshd whose login PATH has no gbwatch.
struct Box_ {
    home: SshHome,
    sshd: Sshd,
    slots: PathBuf,
    user_home: PathBuf,
    dir: Scratch,
}

fn a_box() -> Box_ {
    let home = SshHome::new();
    let dir = Scratch::new("ssh-install");
    let (slots, user_home) = (dir.path().join("slots"), dir.path().join("home"));
    std::fs::create_dir_all(&user_home).unwrap();
    let env = format!(
        "GBWATCH_DIR={} HOME={}",
        slots.display(),
        user_home.display()
    );
    let sshd = home.start_with(0, false, &env);
    Box_ {
        home,
        sshd,
        slots,
        user_home,
        dir,
    }
}

/// The standard-library publisher under `python`, publishing `env-00` for a minute.
fn publisher(python: &Path, slots: &Path) -> Proc {
    let code = format!(
        "import sys, time; sys.path.insert(0, {:?}); from gbwatch import Publisher\n\
         p = Publisher('env-00', directory={:?}); raw = bytearray(160 * 144 * 4)\n\
         frame = memoryview(raw).cast('B', (144, 160, 4)); end = time.time() + 60\n\
         while time.time() < end:\n    raw[0] = (raw[0] + 1) % 256; p.publish(frame); time.sleep(0.02)\n",
        common::root().join("examples/python").display().to_string(),
        slots.display().to_string()
    );
    let child = Command::new(python)
        .args(["-c", &code])
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let slot = slots.join("env-00.slot");
    common::until("the publisher's slot", common::wait::COLD_START, || {
        slot.exists()
    });
    Proc(child)
}

impl Box_ {
    /// `gbwatch stats --json` of this box over ssh, with `extra` arguments.
    fn stats(&self, extra: &[&str]) -> Output {
        gbwatch()
            .env("GBWATCH_SSH", self.home.ssh_command("id"))
            .env_remove("GBWATCH_REMOTE")
            .env_remove("GBWATCH_NO_INSTALL")
            .args(["stats", "--json", "--duration", "10", "--wait", "60"])
            .args(extra)
            .arg(format!(
                "ssh://{}@127.0.0.1:{}",
                self.home.user, self.sshd.port
            ))
            .output()
            .unwrap()
    }

    fn copy(&self) -> PathBuf {
        self.user_home
            .join(".cache/gbwatch")
            .join(env!("CARGO_PKG_VERSION"))
            .join("gbwatch")
    }
}

/// The env names `stats --json` printed (asserting it succeeded) and its standard error.
fn names(out: &Output) -> (Vec<String>, String) {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let names = v["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    (names, err)
}

fn sha256(path: &Path) -> String {
    let out = common::run_ok(Command::new("sha256sum").arg(path));
    String::from_utf8_lossy(&out.stdout)[..64].to_string()
}

#[test]
fn the_gbwatch_of_a_publishers_venv_is_found_through_its_record() {
    let b = a_box();
    let venv = b.dir.path().join("venv");
    common::run_ok(
        Command::new("python3")
            .args(["-m", "venv", "--without-pip"])
            .arg(&venv),
    );
    std::fs::copy(env!("CARGO_BIN_EXE_gbwatch"), venv.join("bin/gbwatch")).unwrap();
    let _publisher = publisher(&venv.join("bin/python"), &b.slots);
    let record = std::fs::read_to_string(b.slots.join(".gbwatch-bin")).unwrap();
    assert_eq!(Path::new(record.trim()), venv.join("bin/gbwatch"));
    let (names, err) = names(&b.stats(&[]));
    assert_eq!(names, ["127.0.0.1/env-00"], "{err}");
    assert!(!err.contains("installed gbwatch"), "{err}");
    assert!(!b.copy().exists(), "nothing was copied");
}

#[test]
fn a_box_with_no_gbwatch_gets_a_copy_once_and_a_tampered_copy_is_replaced_unrun() {
    let b = a_box();
    let _publisher = publisher(&common::python(), &b.slots);
    let (names1, err) = names(&b.stats(&[]));
    assert_eq!(names1, ["127.0.0.1/env-00"], "{err}");
    let line = err
        .lines()
        .find(|l| l.contains("installed gbwatch"))
        .unwrap_or_else(|| panic!("no install line in {err}"));
    assert!(
        line.contains(&format!(
            "installed gbwatch {} on 127.0.0.1 (~/.cache/gbwatch/{}, ",
            env!("CARGO_PKG_VERSION"),
            env!("CARGO_PKG_VERSION")
        )) && line.ends_with(" MB)"),
        "{line}"
    );
    let copy = b.copy();
    assert_eq!(
        sha256(&copy),
        sha256(Path::new(env!("CARGO_BIN_EXE_gbwatch")))
    );
    let installed_at = copy.metadata().unwrap().modified().unwrap();

    // A second connect runs the copy it finds.
    let (names2, err) = names(&b.stats(&[]));
    assert_eq!(names2, names1, "{err}");
    assert!(!err.contains("installed gbwatch"), "{err}");
    assert_eq!(copy.metadata().unwrap().modified().unwrap(), installed_at);

    // A copy that fails its checksum is never run: it is replaced.
    let ran = b.dir.path().join("tampered-copy-ran");
    // (Written beside it and renamed over it: the copy may still run a relay.)
    let forged = copy.with_extension("forged");
    std::fs::write(
        &forged,
        format!("#!/bin/sh\ntouch {}\nexit 0\n", ran.display()),
    )
    .unwrap();
    std::fs::set_permissions(&forged, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    std::fs::rename(&forged, &copy).unwrap();
    let (names3, err) = names(&b.stats(&[]));
    assert_eq!(names3, names1, "{err}");
    assert!(
        err.contains("replacing a copy that failed its checksum"),
        "{err}"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(!ran.exists(), "the tampered copy ran");
    assert_eq!(
        sha256(&copy),
        sha256(Path::new(env!("CARGO_BIN_EXE_gbwatch")))
    );
}

#[test]
fn no_install_copies_nothing_and_says_how_to_install_in_one_line() {
    let b = a_box();
    let _publisher = publisher(&common::python(), &b.slots);
    let out = gbwatch()
        .env("GBWATCH_SSH", b.home.ssh_command("id"))
        .env_remove("GBWATCH_REMOTE")
        .args(["stats", "--duration", "6", "--wait", "4", "--no-install"])
        .arg(format!("ssh://{}@127.0.0.1:{}", b.home.user, b.sshd.port))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    let line = err.lines().last().unwrap_or("");
    assert!(
        line.contains("gbwatch is not installed on 127.0.0.1")
            && line.contains("not copied: --no-install")
            && line.contains("pip install"),
        "{line}"
    );
    assert!(!b.copy().exists(), "--no-install copied gbwatch");
    // The environment variable forbids it the same way.
    let out = gbwatch()
        .env("GBWATCH_SSH", b.home.ssh_command("id"))
        .env("GBWATCH_NO_INSTALL", "1")
        .args(["stats", "--duration", "6", "--wait", "4"])
        .arg(format!("ssh://{}@127.0.0.1:{}", b.home.user, b.sshd.port))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not copied: --no-install"));
    assert!(!b.copy().exists());
}
