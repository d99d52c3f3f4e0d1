//! A feed's life across publisher restarts, stalls and removals, as every consumer shows it:
//! `serve` (screenshot, stream, sources, state), `stats`, `list`, and the pipeline itself.
//! Real PyBoy publishers throughout.

use crate::common;
use crate::common::serve as serve_support;

use common::{gbwatch, pyboy_publisher, run_ok, stats_json, Proc, Scratch};
use gbwatch::pipeline::{FeedOptions, FeedSet, Settings, SharedSettings};
use gbwatch::source::SourceSpec;
use serve_support::{get, get_ok, serve, StreamClient};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

fn frame_index(addr: SocketAddr) -> u64 {
    let r = get_ok(addr, "/api/screenshot", Duration::from_secs(20));
    r.header("X-Frame-Index").unwrap().parse().unwrap()
}

fn source_states(addr: SocketAddr) -> Vec<(String, String, bool)> {
    get(addr, "/api/sources")
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["state"].as_str().unwrap().to_string(),
                s["online"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// Stops a publisher the way training ends normally: SIGINT, its `with` block removes the slot.
fn stop_normally(mut p: Proc, slot: &Path) {
    // SAFETY: kill has no memory-safety preconditions; the pid is our own child's.
    unsafe { libc::kill(p.0.id() as i32, libc::SIGINT) };
    let ended = common::within(Duration::from_secs(10), || p.0.try_wait().unwrap());
    assert!(
        ended.is_some(),
        "the publisher did not end on SIGINT within 10 s"
    );
    assert!(
        !slot.exists(),
        "the publisher removes its slot on a normal exit"
    );
}

#[test]
fn serve_follows_a_publisher_that_restarts_under_the_same_name() {
    let dir = Scratch::new("restart-serve");
    let slot = dir.path().join("env-00.slot");
    // Each run boots further into the ROM, so PyBoy's frame count (the frame index) of a
    // later run is above everything the earlier one published.
    let mut publisher = pyboy_publisher(dir.path(), "env-00", &["--skip", "120"]);
    let server = serve(
        gbwatch(),
        &[dir.path().to_str().unwrap(), "--preset", "low"],
    );
    let addr = server.addr;
    let mut last = frame_index(addr);
    let mut stream = StreamClient::open(addr, "/stream?source=env-00");
    assert_eq!(stream.status, 200);
    stream
        .stream
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(40)))
        .unwrap();
    let part_index =
        |p: &serve_support::Part| -> u64 { p.header("X-Frame-Index").unwrap().parse().unwrap() };
    let mut last_part = part_index(&stream.next_part().unwrap());

    for skip in [3000, 6000] {
        stop_normally(publisher, &slot);
        // Gone long enough for the feed to leave the list (a removed slot leaves it).
        common::until(
            "env-00 leaves /api/sources",
            Duration::from_secs(20),
            || source_states(addr).is_empty(),
        );
        publisher = pyboy_publisher(dir.path(), "env-00", &["--skip", &skip.to_string()]);
        common::until(
            "the screenshot shows the new run",
            Duration::from_secs(20),
            || frame_index(addr) > skip,
        );
        let now = frame_index(addr);
        assert!(now > last, "frame index {now} after {last}");
        last = now;
        // The stream that was open all along carries the new run too.
        let part = loop {
            let p = stream
                .next_part()
                .expect("the stream stays open across the restart");
            if part_index(&p) > skip {
                break p;
            }
        };
        assert!(part_index(&part) > last_part);
        last_part = part_index(&part);
        let age_us: u64 = part.header("X-Frame-Age-Us").unwrap().parse().unwrap();
        assert!(
            age_us < 2_000_000,
            "a fresh frame, not the old one: {age_us} µs"
        );
        let states = source_states(addr);
        assert_eq!(
            states,
            vec![("env-00".to_string(), "online".to_string(), true)]
        );
        // Parts keep coming at the preset's rate, not one every few seconds.
        let t = Instant::now();
        for _ in 0..5 {
            stream.next_part().unwrap();
        }
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    }
    drop(publisher);
}

#[test]
fn a_publisher_that_stops_publishing_is_stale_everywhere() {
    let dir = Scratch::new("stale");
    let publisher = pyboy_publisher(dir.path(), "env-00", &[]);
    let server = serve(gbwatch(), &[dir.path().to_str().unwrap()]);
    let addr = server.addr;
    get_ok(addr, "/api/screenshot", Duration::from_secs(20));
    common::until("env-00 online", Duration::from_secs(10), || {
        source_states(addr) == vec![("env-00".into(), "online".into(), true)]
    });
    // Frozen, not dead: the process is there, its newest frame only gets older.
    let pid = publisher.0.id() as i32;
    // SAFETY: kill has no memory-safety preconditions; the pid is our own child's.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    common::until(
        "env-00 stale in /api/sources",
        Duration::from_secs(8),
        || source_states(addr) == vec![("env-00".into(), "stale".into(), false)],
    );
    let state = get(addr, "/state").json();
    assert_eq!(state["result"]["source"]["online"], false);
    assert_eq!(state["result"]["sources"][0]["state"], "stale");

    let stats = stats_json(
        gbwatch()
            .args(["stats", dir.path().to_str().unwrap(), "--json"])
            .args(["--duration", "4.5"]),
    );
    assert_eq!(stats["feeds"][0]["state"], "stale", "{stats}");

    let list = run_ok(gbwatch().args(["list", dir.path().to_str().unwrap()]));
    let text = String::from_utf8_lossy(&list.stdout);
    let line = text.lines().find(|l| l.starts_with("env-00")).unwrap();
    assert!(line.ends_with("stale"), "{line}");

    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGCONT) };
    common::until("env-00 online again", Duration::from_secs(8), || {
        source_states(addr) == vec![("env-00".into(), "online".into(), true)]
    });
}

#[test]
fn the_demo_gives_way_to_a_publisher_and_comes_back() {
    let dir = Scratch::new("demo-gives-way");
    let set = FeedSet::start(
        vec![
            SourceSpec::SlotDir(dir.path().to_path_buf()),
            SourceSpec::DemoUntilPublisher,
        ],
        SharedSettings::new(Settings::default()),
        FeedOptions::default(),
    );
    let names = || {
        set.feeds()
            .iter()
            .map(|f| f.name.clone())
            .collect::<Vec<_>>()
    };
    common::until("the demo plays", Duration::from_secs(5), || {
        names() == ["demo"] && set.feeds()[0].snapshot().captured > 0
    });
    let publisher = pyboy_publisher(dir.path(), "env-00", &[]);
    common::until(
        "the publisher replaces the demo",
        Duration::from_secs(5),
        || names() == ["env-00"],
    );
    stop_normally(publisher, &dir.path().join("env-00.slot"));
    common::until(
        "the demo is back once the publisher has gone",
        Duration::from_secs(20),
        || names() == ["demo"],
    );
    set.stop();
}
