//! Every consumer carries the publisher's info, matched to its frame: `stats --json`,
//! `serve` (`/api/streaming/stats`, `/api/sources`, `/state`), `dump --info` and a recording
//! replayed through `dump --info`. Real PyBoy publishes `frame` (its frame index) in the
//! info of every frame, so each consumer can be checked against the frame it shows.

use crate::common;
use crate::common::serve as serve_support;

use common::{gbwatch, pyboy_publisher, run_ok, Scratch};
use serde_json::Value;
use serve_support::*;
use std::path::Path;
use std::time::Duration;

/// The info's keys in the order the JSON text has them, and the info's `frame`.
fn check_info(text: &str, info: &Value, frame_index: u64) {
    assert_eq!(info["frame"].as_u64(), Some(frame_index), "{info}");
    assert!(
        info["map"].is_string() && info["episode_return"].is_number(),
        "{info}"
    );
    let at = |k: &str| text.find(&format!("\"{k}\":")).unwrap();
    assert!(
        at("step") < at("frame") && at("frame") < at("episode") && at("episode_return") < at("map"),
        "fields keep the publisher's order: {text}"
    );
}

fn read_jsonl(dir: &Path, name: &str) -> usize {
    let text = std::fs::read_to_string(dir.join(format!("{name}.jsonl"))).unwrap();
    let lines: Vec<(&str, Value)> = text
        .lines()
        .map(|l| (l, serde_json::from_str(l).unwrap()))
        .collect();
    for (i, (raw, l)) in lines.iter().enumerate() {
        let file = l["file"].as_str().unwrap();
        assert_eq!(file, format!("{name}-{:06}.jpg", i + 1));
        assert!(dir.join(file).exists(), "{file} is missing");
        check_info(raw, &l["info"], l["frame_index"].as_u64().unwrap());
    }
    lines.len()
}

#[test]
fn stats_dump_and_recordings_carry_each_frames_info() {
    let dir = Scratch::new("info-cli");
    let _publisher = pyboy_publisher(
        dir.path(),
        "env-00",
        &["--fps", "60", "--seconds", "60", "--info"],
    );
    let slot = dir.path().join("env-00.slot");

    let out = run_ok(
        gbwatch()
            .args(["stats", "--json", "--duration", "2"])
            .arg(&slot),
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let stats: Value = serde_json::from_str(&text).unwrap();
    let feed = &stats["feeds"][0];
    check_info(
        &text,
        &feed["info"],
        feed["info_frame_index"].as_u64().unwrap(),
    );

    let dumps = dir.path().join("dump");
    run_ok(
        gbwatch()
            .arg("dump")
            .arg(&slot)
            .arg("--out")
            .arg(&dumps)
            .args(["--count", "5", "--info"]),
    );
    assert_eq!(read_jsonl(&dumps, "env-00"), 5);

    let rec = dir.path().join("run.gbrec");
    run_ok(
        gbwatch()
            .arg("record")
            .arg(&slot)
            .arg("-o")
            .arg(&rec)
            .args(["--count", "20", "--fps", "30"]),
    );
    let replayed = dir.path().join("replayed");
    run_ok(
        gbwatch()
            .arg("dump")
            .arg(&rec)
            .arg("--out")
            .arg(&replayed)
            .args(["--info", "--fps", "60"]),
    );
    // The replayed feed is the recorded env, under its own name (not the file's).
    assert!(read_jsonl(&replayed, "env-00") >= 10);

    // --info needs files to sit next to.
    let out = gbwatch()
        .arg("dump")
        .arg(&slot)
        .args(["--stdout", "--info"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn serve_shows_the_info_of_the_frame_it_serves() {
    let dir = Scratch::new("info-serve");
    let (_publisher, server) =
        publisher_and_server(dir.path(), gbwatch(), &["--fps", "60", "--info"], &[]);
    let addr = server.addr;
    let sources = get_ok(addr, "/api/sources", Duration::from_secs(10));
    let text = sources.text();
    let list = sources.json();
    let s = &list[0];
    check_info(&text, &s["info"], s["frame_index"].as_u64().unwrap());
    let state = get_ok(addr, "/state", Duration::from_secs(10)).json();
    assert!(
        state["result"]["source"]["info"]["frame"].is_u64(),
        "{state}"
    );
    let stats = get_ok(addr, "/api/streaming/stats", Duration::from_secs(10)).json();
    assert!(stats["feeds"][0]["info"]["frame"].is_u64(), "{stats}");
    let page = get_ok(addr, "/", Duration::from_secs(10)).text();
    assert!(
        page.contains("showInfo(c.info, s.info, s.info_error)"),
        "the page shows the fields"
    );
}
