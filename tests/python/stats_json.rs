//! `gbwatch stats --json` on real PyBoy: the original dashboard's field names, our own
//! figures, and counters that add up.

use crate::common;

use common::{gbwatch, pyboy_publisher, stats_json, Scratch, ORIGINAL_STATS_FIELDS};

#[test]
fn stats_json_has_the_original_fields_and_consistent_counters() {
    let dir = Scratch::new("stats");
    let _publisher = pyboy_publisher(dir.path(), "env-00", &["--fps", "60", "--seconds", "60"]);
    let v = stats_json(
        gbwatch()
            .args(["stats", "--json", "--duration", "3", "--fps", "30"])
            .arg(dir.path()),
    );
    for key in ORIGINAL_STATS_FIELDS {
        assert!(v.get(key).is_some(), "missing {key} in {v:#}");
    }
    assert_eq!(v["method"], "shared-memory");
    assert_eq!(v["target_fps"], 30);
    assert_eq!(
        v["quality_settings"],
        serde_json::json!({"scale": 2, "fps": 30, "compression": 75})
    );
    assert!(v["capture_latency_ms"].as_f64().unwrap() > 0.0);
    assert!(v["compression_latency_ms"].as_f64().unwrap() > 0.0);
    assert!(
        v["total_latency_ms"].as_f64().unwrap() >= v["compression_latency_ms"].as_f64().unwrap()
    );

    let feed = &v["feeds"][0];
    assert_eq!(feed["name"], "env-00");
    let n = |k: &str| {
        feed[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k} in {feed:#}"))
    };
    assert!(
        n("captured") >= 60,
        "3 s at 30 fps captured only {}",
        n("captured")
    );
    assert_eq!(n("captured"), n("delivered") + n("dropped") + n("queued"));
    assert_eq!(feed["invariant_holds"], true);
    assert_eq!(v["frames_captured"].as_u64(), Some(n("captured")));
    assert_eq!(v["frames_streamed"].as_u64(), Some(n("delivered")));
    // PyBoy makes 60 frames/s and capture samples 30: about half are missed, by design.
    assert!(
        n("missed") > 0 && n("published") >= n("captured"),
        "{feed:#}"
    );
    assert_eq!(feed["age_from_publisher"], true);
    assert!(feed["age"]["p50_us"].as_u64().unwrap() > 0);
    assert!(feed["publisher_cost_us"].as_f64().unwrap() > 0.0);
}

/// A fast emulator watched at a low rate copies only what the monitor can use: at most 4
/// frames per capture interval, not every frame.
#[test]
fn the_publisher_copies_at_the_readers_rate() {
    let dir = Scratch::new("rate");
    let _publisher = pyboy_publisher(dir.path(), "fast", &["--fps", "0", "--seconds", "60"]);
    let v = stats_json(
        gbwatch()
            .args(["stats", "--json", "--duration", "3", "--fps", "10"])
            .arg(dir.path()),
    );
    let feed = &v["feeds"][0];
    let n = |k: &str| {
        feed[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k} in {feed:#}"))
    };
    // PyBoy runs thousands of frames a second here; 3 s at 10 fps x 4 is 120 copies.
    assert!(n("missed") > 1000, "the emulator was not fast: {feed:#}");
    assert!(
        n("published") <= 160,
        "copied {} frames for a 10 fps reader",
        n("published")
    );
    assert!(
        n("published") >= n("captured") && n("captured") >= 20,
        "{feed:#}"
    );
}
