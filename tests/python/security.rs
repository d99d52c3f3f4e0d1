//! Who may read frames: directory and slot modes, symlinks, slots of other users.

use crate::common;

use common::{gbwatch, python, root, run_ok, Scratch};
use gbwatch::frame::PixelFormat;
use gbwatch::slot::{SlotError, SlotReader, SlotWriter};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Command;

#[test]
fn the_python_publisher_creates_a_private_directory_and_slot() {
    let scratch = Scratch::new("modes");
    let dir = scratch.path().join("slots");
    let script = scratch.path().join("publish.py");
    std::fs::write(
        &script,
        format!(
            "import os, sys\nsys.path.insert(0, {:?})\nfrom gbwatch import Publisher\nimport numpy as np\n\
             p = Publisher('env', directory={:?})\np.publish(np.zeros((144, 160, 4), np.uint8))\n\
             print(oct(os.stat(p.path).st_mode & 0o777))\n",
            root().join("examples/python").display().to_string(),
            dir.display().to_string()
        ),
    )
    .unwrap();
    // A permissive umask must not loosen the modes.
    let out = run_ok(Command::new("sh").arg("-c").arg(format!(
        "umask 000 && exec {:?} {:?}",
        python(),
        script
    )));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "0o600",
        "slot mode"
    );
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700,
        "directory mode"
    );
}

#[test]
fn symlinked_slots_are_refused() {
    let dir = Scratch::new("symlink");
    let elsewhere = Scratch::new("symlink-target");
    let w = SlotWriter::create(elsewhere.path(), "secret", 160, 144, PixelFormat::Rgba).unwrap();
    let link = dir.path().join("sneaky.slot");
    std::os::unix::fs::symlink(w.path(), &link).unwrap();
    match SlotReader::open(&link, false) {
        Err(SlotError::NotRegular { path }) => assert_eq!(path, link),
        other => panic!("followed a symlink: {other:?}"),
    }
    // Discovery does not even list it.
    let out = gbwatch().arg("list").arg(dir.path()).output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("sneaky"));
}

#[test]
fn slots_of_other_users_need_allow_foreign() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "this test chowns a file and needs root (CI runs as root)"
    );
    let dir = Scratch::new("foreign");
    let w = SlotWriter::create(dir.path(), "theirs", 160, 144, PixelFormat::Rgba).unwrap();
    std::os::unix::fs::chown(w.path(), Some(65534), Some(65534)).unwrap();
    assert_eq!(std::fs::metadata(w.path()).unwrap().uid(), 65534);
    match SlotReader::open(w.path(), false) {
        Err(e @ SlotError::Foreign { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("uid 65534") && msg.contains("--allow-foreign"),
                "{msg}"
            );
        }
        other => panic!("read a foreign slot: {other:?}"),
    }
    SlotReader::open(w.path(), true).expect("--allow-foreign reads it");
    let out = gbwatch().arg("list").arg(dir.path()).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-foreign"));
    let out = gbwatch()
        .args(["list", "--allow-foreign"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("theirs"));
}
