//! `gbwatch list` on real publishers: live ones online with their measured rate, a killed
//! one offline.

use crate::common;

use common::{gbwatch, pyboy_publisher, Scratch};

fn row<'a>(stdout: &'a str, name: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} not listed:\n{stdout}"))
        .split_whitespace()
        .collect()
}

#[test]
fn list_shows_live_and_dead_publishers() {
    let dir = Scratch::new("list");
    let _live = pyboy_publisher(dir.path(), "env-00", &["--fps", "60", "--seconds", "60"]);
    let mut dead = pyboy_publisher(dir.path(), "env-01", &["--fps", "60", "--seconds", "60"]);
    dead.0.kill().unwrap();
    dead.0.wait().unwrap();

    let out = gbwatch().arg("list").arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live = row(&stdout, "env-00");
    assert_eq!(&live[1..3], &["160x144", "RGBA"], "{stdout}");
    let fps: f64 = live[3].parse().unwrap();
    assert!(
        (40.0..80.0).contains(&fps),
        "measured {fps} fps for a 60 fps publisher\n{stdout}"
    );
    assert_eq!(*live.last().unwrap(), "online", "{stdout}");
    assert!(live[5].ends_with("µs"), "{stdout}");
    let dead = row(&stdout, "env-01");
    assert_eq!(*dead.last().unwrap(), "offline", "{stdout}");
}
