//! `GET /api/clip` on real PyBoy frames that carry their number in their pixels: the GIF,
//! decoded by Pillow, is the publisher's last frames, pixel for pixel, in order, each lasting
//! as long as the publisher took to the next.

use crate::common;

use common::serve::{get, serve};
use common::wait::COLD_START;
use common::{gbwatch, py_script, spawn_ready, Scratch};
use std::time::Duration;

#[test]
fn api_clip_is_the_published_frames_with_their_timing() {
    let dir = Scratch::new("serve-clip");
    let saved = dir.path().join("saved");
    let slots = dir.path().join("slots");
    let mut cmd = py_script("pyboy_many.py");
    cmd.args(["--dir", slots.to_str().unwrap(), "--names", "env-0"])
        .args(["--fps", "5", "--seconds", "120", "--index-pixels"])
        .args(["--save-dir", saved.to_str().unwrap()]);
    let _publisher = spawn_ready(&mut cmd, "the PyBoy publisher");
    let server = serve(gbwatch(), &[slots.to_str().unwrap(), "--preset", "high"]);
    common::wait::eventually("a clip of env-0", COLD_START, || {
        let r = get(server.addr, "/api/clip?source=env-0&seconds=4&format=gif");
        (r.status == 200 && r.header("Content-Type") == Some("image/gif")).then_some(())
    });
    // Enough history for the 4 s asked for.
    std::thread::sleep(Duration::from_secs(5));
    let r = get(server.addr, "/api/clip?source=env-0&seconds=4&format=gif");
    assert_eq!(r.status, 200, "{}", r.text());
    let clip = r.body;
    let path = dir.path().join("clip.gif");
    std::fs::write(&path, &clip).unwrap();
    let out = common::run_ok(
        py_script("gif_frames.py")
            .arg(&path)
            .arg(saved.join("env-0.frames")),
    );
    let frames: Vec<(u64, u64, bool)> = serde_json::from_slice(&out.stdout).unwrap();
    let numbers: Vec<u64> = frames.iter().map(|f| f.0).collect();
    let first = numbers[0];
    assert_eq!(
        numbers,
        (first..first + numbers.len() as u64).collect::<Vec<_>>(),
        "consecutive published frames"
    );
    assert!(
        (19..=22).contains(&frames.len()),
        "4 s at 5 fps: {numbers:?}"
    );
    assert!(frames.iter().all(|f| f.2), "pixels differ: {frames:?}");
    for f in &frames[..frames.len() - 1] {
        assert!(f.1.abs_diff(200) <= 30, "a 5 fps frame lasts {} ms", f.1);
    }
    let mp4 = get(server.addr, "/api/clip?source=env-0&format=mp4");
    assert_eq!(mp4.status, 400, "{}", mp4.text());
}
