//! A frame whose info area is damaged keeps its pixels, and every consumer says why the
//! info is missing instead of dropping it silently: `stats` (text and JSON) and `serve`'s
//! `/api/sources`. (The monitor's training panel is a snapshot test in src/tui/panels.)

use crate::common;
use crate::common::serve as serve_support;

use common::{gbwatch, run_ok, Scratch};
use gbwatch::frame::PixelFormat;
use gbwatch::slot::SlotWriter;
use std::time::Duration;

/// A slot whose one frame carries an info that claims a field it does not have.
fn damaged_slot(dir: &Scratch) -> std::path::PathBuf {
    let mut w = SlotWriter::create(dir.path(), "env-00", 160, 144, PixelFormat::Rgba).unwrap();
    w.publish_encoded(&vec![7u8; 160 * 144 * 4], 1, Some(&[3, 0, 0, 0, 0xff]))
        .unwrap();
    let path = w.path().to_path_buf();
    std::mem::forget(w); // the slot stays for the consumers: Scratch removes it
    path
}

#[test]
fn stats_and_serve_say_the_info_is_unreadable() {
    let dir = Scratch::new("info-unreadable");
    let slot = damaged_slot(&dir);

    let out = run_ok(
        gbwatch()
            .args(["stats", "--json", "--duration", "1"])
            .arg(&slot),
    );
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let feed = &stats["feeds"][0];
    let error = feed["info_error"].as_str().unwrap_or_default();
    assert!(error.starts_with("info unreadable: "), "{feed}");
    assert!(
        feed["info"].is_null() && feed["captured"].as_u64() >= Some(1),
        "{feed}"
    );

    let out = run_ok(gbwatch().args(["stats", "--duration", "1"]).arg(&slot));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(error), "stats' text names it: {text}");

    let server = serve_support::serve(gbwatch(), &[slot.to_str().unwrap()]);
    let sources = common::eventually("the frame in /api/sources", Duration::from_secs(30), || {
        let list = serve_support::get(server.addr, "/api/sources").json();
        let s = list.get(0)?.clone();
        (s["frame_index"].as_u64() == Some(1)).then_some(s)
    });
    assert_eq!(sources["info_error"].as_str(), Some(error), "{sources}");
}
