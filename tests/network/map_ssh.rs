//! Positions across boxes: PyBoy walkers behind a real sshd on 127.0.0.1, watched as
//! `ssh://`; `stats --json` gives each remote env (`127.0.0.1/NAME`) its position and the
//! map's total, as for local envs.

use crate::common;

use common::sshd::{SshHome, IN_PROCESS_SSH};
use common::{gbwatch, pyboy_walkers, stats_json, Scratch};

#[test]
fn remote_envs_have_their_positions_under_their_host() {
    let home = SshHome::new();
    let sshd = home.start(0, true);
    let dir = Scratch::new("map-ssh");
    let slots = dir.path().join("slots");
    std::fs::create_dir(&slots).unwrap();
    let envs = [("w0", (0, 3, 4)), ("w1", (2, 9, 13)), ("w2", (2, 9, 13))];
    let _walkers = pyboy_walkers(&slots, &envs, &["bare"], &["--seconds", "120"]);
    let src = format!(
        "ssh://{}@127.0.0.1:{}{}",
        home.user,
        sshd.port,
        slots.display()
    );
    let _one = IN_PROCESS_SSH.lock().unwrap_or_else(|e| e.into_inner());
    std::env::set_var("GBWATCH_SSH", home.ssh_command("id"));
    let v = stats_json(
        gbwatch()
            .args(["stats", "--json", "--duration", "4"])
            .arg(&src),
    );
    let feed = |name: &str| {
        v["feeds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("no feed {name} in {v:#}"))
            .clone()
    };
    for (name, (map, x, y)) in envs {
        let f = feed(&format!("127.0.0.1/{name}"));
        assert_eq!(
            f["position"],
            serde_json::json!({"region": map.to_string(), "x": x, "y": y}),
            "{name}: {f:#}"
        );
    }
    assert_eq!(feed("127.0.0.1/bare")["position"], serde_json::Value::Null);
    // w1 and w2 stand on the same tile: 2 distinct positions.
    assert_eq!(v["map"]["distinct_positions"], 2, "{:#}", v["map"]);
}
