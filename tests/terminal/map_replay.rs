//! The map follows the paused instant (tmux, 8 real PyBoy walkers of the walking ROM): paused,
//! stepped back and jumped 10 s back, every marker sits at the position its env reported at
//! one instant, by the walkers' own log of their positions, and that instant moves as asked.

use crate::common;

use common::tmux::Tmux;
use common::wait::COLD_START;
use common::{py_script, spawn_ready, Scratch};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// Four 20×18 regions side by side: region r's x starts at 20 r.
const LAYOUT: &str = r#"{"regions": {
    "0": {"x": 0, "y": 0, "width": 20, "height": 18},
    "1": {"x": 20, "y": 0, "width": 20, "height": 18},
    "2": {"x": 40, "y": 0, "width": 20, "height": 18},
    "3": {"x": 60, "y": 0, "width": 20, "height": 18}}}"#;

const NAMES: [&str; 8] = ["w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7"];

/// How far a shown position may be from the log's instant: a frame the capture missed
/// (published at 10 fps, captured at the high preset's rate) shows a change one frame later.
const SLACK_NS: u64 = 150_000_000;

/// (map, x, y).
type At = (u32, u32, u32);

/// Every env's changes of position: (ns, where), in order.
fn logged(log: &Path) -> HashMap<String, Vec<(u64, At)>> {
    let mut out: HashMap<String, Vec<(u64, At)>> = HashMap::new();
    for line in std::fs::read_to_string(log).unwrap().lines() {
        let p: Vec<&str> = line.split(' ').collect();
        if let [name, m, x, y, ns] = p[..] {
            let at = (m.parse().unwrap(), x.parse().unwrap(), y.parse().unwrap());
            out.entry(name.to_string())
                .or_default()
                .push((ns.parse().unwrap(), at));
        }
    }
    out
}

/// Where `name` was at `t_ns` by its log.
fn where_at(log: &HashMap<String, Vec<(u64, At)>>, name: &str, t_ns: u64) -> Option<At> {
    log[name].iter().rev().find(|c| c.0 <= t_ns).map(|c| c.1)
}

/// The instants (each env's changes) at which every env was where `shown` says, each env
/// allowed [`SLACK_NS`] around it.
fn instants(shown: &HashMap<String, At>, log: &HashMap<String, Vec<(u64, At)>>) -> Vec<u64> {
    let mut times: Vec<u64> = log.values().flatten().map(|c| c.0).collect();
    times.sort_unstable();
    times
        .into_iter()
        .filter(|&t| {
            shown.iter().all(|(name, at)| {
                [t.saturating_sub(SLACK_NS), t, t + SLACK_NS]
                    .iter()
                    .any(|&u| where_at(log, name, u) == Some(*at))
            })
        })
        .collect()
}

/// The list's line of `name` ("L NAME  MAP:X,Y (N)"): its marker letter and position.
fn listed(screen: &str, name: &str) -> Option<(char, At)> {
    let needle = format!(" {name:<12} ");
    let line = screen.lines().find(|l| l.contains(&needle))?;
    let at = line.find(&needle)?;
    let letter = line[..at].chars().last()?;
    let rest = line[at + needle.len()..].trim_start();
    let (m, rest) = rest.split_once(':')?;
    let (x, rest) = rest.split_once(',')?;
    let y = rest.split_once(' ')?.0;
    Some((letter, (m.parse().ok()?, x.parse().ok()?, y.parse().ok()?)))
}

/// Every env's listed position, once all 8 are listed and each marker is at its position's
/// cell (the map's inner area starts at column 1, row 1; a world unit is a column, two a row).
fn shown(screen: &str) -> Option<HashMap<String, At>> {
    let rows: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
    let mut out = HashMap::new();
    for name in NAMES {
        let (letter, (m, x, y)) = listed(screen, name)?;
        let (col, row) = (1 + 20 * m as usize + x as usize, 1 + y as usize / 2);
        if rows.get(row)?.get(col) != Some(&letter) {
            return None;
        }
        out.insert(name.to_string(), (m, x, y));
    }
    Some(out)
}

fn key(tmux: &Tmux, k: &str) {
    tmux.run(&["send-keys", "-t", "t", "-l", k]);
    std::thread::sleep(Duration::from_millis(150));
}

/// The markers, read once the screen holds still for 0.5 s (a draw after the key landed).
fn settled(tmux: &Tmux, what: &str) -> HashMap<String, At> {
    common::wait::eventually(what, Duration::from_secs(20), || {
        let a = shown(&tmux.screen())?;
        std::thread::sleep(Duration::from_millis(500));
        let b = shown(&tmux.screen())?;
        (a == b).then_some(a)
    })
}

#[test]
fn paused_the_map_shows_every_env_where_it_was_at_the_instant_shown() {
    let dir = Scratch::new("map-replay");
    let layout = dir.path().join("layout.json");
    std::fs::write(&layout, LAYOUT).unwrap();
    let slots = dir.path().join("slots");
    std::fs::create_dir(&slots).unwrap();
    let log = dir.path().join("walk.log");
    let envs: Vec<String> = NAMES
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{n}={}:{}:{}", i % 4, 2 + 2 * i, 3 + i))
        .collect();
    let mut cmd = py_script("pyboy_walk.py");
    cmd.args(["--dir", slots.to_str().unwrap(), "--envs", &envs.join(",")])
        .args(["--step", "4", "--fps", "10", "--seconds", "300"])
        .args(["--log", log.to_str().unwrap()]);
    let _walkers = spawn_ready(&mut cmd, "8 PyBoy walkers");
    let tmux = Tmux::start("map-replay", 120, 30);
    let watch = format!(
        "GBWATCH_DIR={} {} watch --map --map-layout {} --preset high",
        slots.display(),
        env!("CARGO_BIN_EXE_gbwatch"),
        layout.display()
    );
    tmux.run(&["send-keys", "-t", "t", &watch, "Enter"]);
    tmux.wait_for("8 walkers on the map", COLD_START.as_secs(), |s| {
        s.contains("8 of 8 envs with a position")
    });
    // 14 s of walking held, so a 10 s jump back lands inside the history.
    std::thread::sleep(Duration::from_secs(14));

    key(&tmux, "p");
    let screen = tmux.wait_for("PAUSED on the map", 10, |s| {
        s.contains("markers and trails then") && s.contains("PAUSED")
    });
    assert!(screen.contains("map · "), "{screen}");
    let paused = settled(&tmux, "8 markers paused");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        settled(&tmux, "8 markers still paused"),
        paused,
        "paused, the markers stay"
    );
    let at_pause = instants(&paused, &logged(&log));
    assert!(
        !at_pause.is_empty(),
        "paused: no instant has every env where the map shows it: {paused:?}"
    );

    // Back by frames of w0 (the first listed): an instant no later than the pause's.
    key(&tmux, ",,,,,");
    let stepped = settled(&tmux, "8 markers after 5 steps back");
    let at_step = instants(&stepped, &logged(&log));
    assert!(
        at_step
            .iter()
            .any(|t| at_pause.iter().any(|p| t <= p && p - t < 2_000_000_000)),
        "5 frames back: {stepped:?} is no instant just before the pause ({at_step:?})"
    );

    // 10 s back: every marker where its env was about 10 s before.
    key(&tmux, "{");
    let jumped = common::wait::eventually("markers 10 s back", Duration::from_secs(20), || {
        let m = settled(&tmux, "8 markers after the jump");
        (m != stepped).then_some(m)
    });
    let at_jump = instants(&jumped, &logged(&log));
    assert!(
        at_jump.iter().any(|t| at_step
            .iter()
            .any(|s| (*s as i64 - *t as i64 - 10_000_000_000).abs() <= 1_000_000_000)),
        "10 s back: {jumped:?} matches no instant 10 s before the last ({at_jump:?} vs {at_step:?})"
    );

    key(&tmux, "G");
    tmux.wait_for("live again", 10, |s| !s.contains("markers and trails then"));
    key(&tmux, "q");
}
