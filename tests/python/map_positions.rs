//! Positions read from real PyBoy envs of the walking ROM (assets/demo-walk.gb), in
//! `stats --json`: each env's position, distinct positions per env and in total.

use crate::common;

use common::{gbwatch, pyboy_walkers, stats_json, Scratch};

/// The report's feed `name`.
fn feed<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no feed {name} in {v:#}"))
}

#[test]
fn stats_json_reports_where_each_env_stands() {
    let dir = Scratch::new("map-stand");
    // a and b share a position: 4 envs, 3 distinct positions.
    let envs = [
        ("a", (0, 3, 4)),
        ("b", (0, 3, 4)),
        ("c", (1, 10, 5)),
        ("d", (3, 19, 17)),
    ];
    let _walkers = pyboy_walkers(dir.path(), &envs, &["bare"], &["--seconds", "60"]);
    let v = stats_json(
        gbwatch()
            .args(["stats", "--json", "--duration", "3"])
            .arg(dir.path()),
    );
    for (name, (map, x, y)) in envs {
        let f = feed(&v, name);
        assert_eq!(
            f["position"],
            serde_json::json!({"region": map.to_string(), "x": x, "y": y}),
            "{name}: {f:#}"
        );
        assert_eq!(f["distinct_positions"], 1, "{name}");
    }
    assert_eq!(feed(&v, "bare")["position"], serde_json::Value::Null);
    assert_eq!(feed(&v, "bare")["distinct_positions"], 0);
    assert_eq!(v["map"]["distinct_positions"], 3, "{:#}", v["map"]);
    assert_eq!(v["map"]["envs_with_position"], 4);
    assert_eq!(
        v["map"]["fields"],
        serde_json::json!({"x": "x", "y": "y", "region": "map"})
    );
}

#[test]
fn walking_envs_cover_more_positions_and_other_fields_are_read_as_told() {
    let dir = Scratch::new("map-walk");
    let envs = [("w0", (0, 2, 2)), ("w1", (2, 15, 12))];
    let _walkers = pyboy_walkers(
        dir.path(),
        &envs,
        &[],
        &["--step", "2", "--fps", "30", "--seconds", "60"],
    );
    let v = stats_json(
        gbwatch()
            .args(["stats", "--json", "--duration", "3", "--fps", "30"])
            .arg(dir.path()),
    );
    let per: Vec<u64> = ["w0", "w1"]
        .iter()
        .map(|n| feed(&v, n)["distinct_positions"].as_u64().unwrap())
        .collect();
    let total = v["map"]["distinct_positions"].as_u64().unwrap();
    // A step every 2 frames, at 30 frames a second for 3 s: dozens of tiles each.
    assert!(per.iter().all(|n| *n >= 5), "{per:?}");
    assert!(
        total <= per[0] + per[1] && total >= per[0].max(per[1]),
        "{total} {per:?}"
    );
    // Fields named otherwise: no env has them.
    let v = stats_json(
        gbwatch()
            .args([
                "stats",
                "--json",
                "--duration",
                "1",
                "--map-fields",
                "px,py",
            ])
            .arg(dir.path()),
    );
    assert_eq!(v["map"]["distinct_positions"], 0);
    assert_eq!(feed(&v, "w0")["position"], serde_json::Value::Null);
}
