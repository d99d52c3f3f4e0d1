//! An unchanged tile sends nothing: `gbwatch watch` in a pseudo-terminal that answers as
//! kitty 0.26 does, on a grid of four real PyBoy envs, two of them publishing the same
//! picture again and again (frozen) and two whose demo scrolls. After the first pictures,
//! graphics commands keep coming for the moving envs' images and none for the frozen ones.

use crate::common;

use common::pty::Pty;
use common::vt::shown;
use common::{gbwatch, pyboy_publisher, Scratch};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// kitty 0.26.5's answers to gbwatch's capability query, cells of 8x16 pixels.
const KITTY_026: &str =
    "\x1b_Gi=31;OK\x1b\\\x1b_Gi=32;OK\x1b\\\x1bP>|kitty(0.26.5)\x1b\\\x1b[6;16;8t\x1b[?62;22c";

/// Each kitty graphics command's image id, in the order written.
fn image_ids(out: &[u8]) -> Vec<u32> {
    let text = String::from_utf8_lossy(out);
    text.split("\x1b_G")
        .skip(1)
        .filter_map(|cmd| {
            let keys = cmd.split([';', '\x1b']).next()?;
            keys.split(',')
                .find_map(|kv| kv.strip_prefix("i="))
                .and_then(|v| v.parse().ok())
        })
        .filter(|&id| id >= 100) // 31 and 32 are the capability queries
        .collect()
}

#[test]
fn frozen_envs_tiles_send_nothing_while_moving_ones_update() {
    let scratch = Scratch::new("still-tiles");
    let dir = scratch.path();
    let mut procs = Vec::new();
    for (name, frozen) in [
        ("a-still", true),
        ("b-moves", false),
        ("c-still", true),
        ("d-moves", false),
    ] {
        let freeze = if frozen { "0:100000" } else { "100000:100001" };
        procs.push(pyboy_publisher(
            dir,
            name,
            &["--fps", "10", "--freeze", freeze],
        ));
    }
    let mut cmd = gbwatch();
    cmd.args(["watch", "--protocol", "kitty"])
        .arg(dir)
        .env("TERM", "xterm-kitty")
        .env_remove("TMUX")
        .env_remove("KITTY_WINDOW_ID");
    let mut pty = Pty::spawn(cmd, 160, 50);
    // Answer the capability query, then wait for the four images.
    let mut answered = false;
    common::eventually("four kitty images", common::wait::COLD_START, || {
        let out = pty.output();
        if !answered && out.windows(3).any(|w| w == b"\x1b[c") {
            pty.type_bytes(KITTY_026.as_bytes());
            answered = true;
        }
        let ids: BTreeSet<u32> = image_ids(&out).into_iter().collect();
        (ids.len() == 4).then_some(())
    });
    let before = pty.output().len();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(4) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = pty.output();
    let mut later: BTreeMap<u32, usize> = BTreeMap::new();
    for id in image_ids(&out[before..]) {
        *later.entry(id).or_default() += 1;
    }
    pty.type_bytes(b"q");
    let all: BTreeSet<u32> = image_ids(&out).into_iter().collect();
    // Two images were updated again and again, two never: the frozen envs' tiles.
    assert_eq!(
        later.len(),
        2,
        "images with commands after the first pictures: {later:?} of {all:?}; output:\n{}",
        shown(&out[before..])
    );
    assert!(
        later.values().all(|&n| n >= 10),
        "updates in 4 s: {later:?}"
    );
    drop(procs);
}
