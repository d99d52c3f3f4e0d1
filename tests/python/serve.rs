//! `gbwatch serve` over loopback against real PyBoy publishers.

use crate::common;
use crate::common::serve as serve_support;

use common::{gbwatch, Scratch, ORIGINAL_STATS_FIELDS};
use serve_support::*;
use std::collections::HashMap;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[test]
fn endpoints_answer_like_the_original_dashboard() {
    let dir = Scratch::new("serve-endpoints");
    let (_publisher, server) = publisher_and_server(dir.path(), gbwatch(), &[], &[]);
    let addr = server.addr;

    // Screenshot: headers, length, a real JPEG at MEDIUM (2x).
    let shot = get(addr, "/api/screenshot");
    assert_eq!(shot.status, 200);
    assert_eq!(shot.header("Content-Type"), Some("image/jpeg"));
    assert_eq!(
        shot.header("Cache-Control"),
        Some("no-cache, no-store, must-revalidate")
    );
    assert_eq!(
        shot.header("Content-Length")
            .unwrap()
            .parse::<usize>()
            .unwrap(),
        shot.body.len()
    );
    assert_eq!(decode_jpeg(&shot.body), (320, 288));

    // Stats: the original's field names, plus ours, consistent.
    let stats = get(addr, "/api/streaming/stats");
    assert_eq!(stats.status, 200);
    assert_eq!(stats.header("Content-Type"), Some("application/json"));
    let j = stats.json();
    for field in ORIGINAL_STATS_FIELDS
        .iter()
        .chain(&["preset", "encoder", "feeds"])
    {
        assert!(j.get(field).is_some(), "stats lacks {field}: {j}");
    }
    assert_eq!(j["method"], "shared-memory");
    assert_eq!(j["target_fps"], 10);
    assert_eq!(j["quality_settings"]["scale"], 2);
    assert_eq!(j["quality_settings"]["compression"], 75);
    assert!(j["frames_captured"].as_u64().unwrap() > 0);
    let feed = &j["feeds"][0];
    assert_eq!(feed["name"], "env-00");
    assert_eq!(feed["invariant_holds"], true);
    assert!(feed["encode"]["count"].as_u64().unwrap() >= 1);

    // Quality switch: the next screenshot has the new size.
    let q = request(addr, "POST", "/api/streaming/quality/high");
    assert_eq!(q.status, 200, "{}", q.text());
    let qj = q.json();
    assert_eq!(qj["success"], true);
    assert_eq!(qj["level"], "high");
    assert_eq!(qj["quality_settings"]["scale"], 3);
    assert_eq!(qj["quality_settings"]["fps"], 15);
    assert_eq!(qj["quality_settings"]["compression"], 90);
    assert_eq!(decode_jpeg(&get(addr, "/api/screenshot").body), (480, 432));
    assert_eq!(get(addr, "/api/streaming/stats").json()["preset"], "high");

    // Unknown level: 400, nothing changed, the valid ones listed.
    let bad = request(addr, "POST", "/api/streaming/quality/extreme");
    assert_eq!(bad.status, 400);
    let bj = bad.json();
    assert_eq!(bj["success"], false);
    assert!(bj["error"].as_str().unwrap().contains("extreme"));
    assert_eq!(
        bj["valid_levels"],
        serde_json::json!(["low", "medium", "high", "ultra"])
    );
    assert_eq!(decode_jpeg(&get(addr, "/api/screenshot").body), (480, 432));
    // GET does not change the preset (405, Allow: POST).
    let g = get(addr, "/api/streaming/quality/low");
    assert_eq!(g.status, 405);
    assert_eq!(g.header("Allow"), Some("POST"));
    assert_eq!(get(addr, "/api/streaming/stats").json()["preset"], "high");

    // µStreamer aliases.
    let snap = get(addr, "/snapshot");
    assert_eq!(snap.status, 200);
    assert_eq!(decode_jpeg(&snap.body), (480, 432));
    let state = get(addr, "/state").json();
    assert_eq!(state["ok"], true);
    assert_eq!(state["result"]["source"]["online"], true);
    assert_eq!(state["result"]["source"]["resolution"]["width"], 480);
    assert_eq!(state["result"]["source"]["desired_fps"], 15);
    assert_eq!(state["result"]["encoder"]["quality"], 90);

    // ?source=: the named one, and a clear 404 for an unknown name.
    assert_eq!(get(addr, "/api/screenshot?source=env-00").status, 200);
    let unknown = get(addr, "/api/screenshot?source=nope");
    assert_eq!(unknown.status, 404);
    assert!(unknown.text().contains("env-00"), "{}", unknown.text());

    // The page, HEAD, unknown paths and wrong methods.
    let page = get(addr, "/");
    assert_eq!(page.status, 200);
    assert!(page
        .header("Content-Type")
        .unwrap()
        .starts_with("text/html"));
    assert!(page.text().contains("image-rendering: pixelated"));
    let head = request(addr, "HEAD", "/api/screenshot");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert!(
        head.header("Content-Length")
            .unwrap()
            .parse::<usize>()
            .unwrap()
            > 0
    );
    assert_eq!(get(addr, "/nope").status, 404);
    assert_eq!(get(addr, "/api/screenshot/").status, 404);
    assert_eq!(request(addr, "DELETE", "/api/screenshot").status, 405);
}

#[test]
fn before_the_first_frame_and_bad_requests() {
    // No publisher at all: the server runs and says why there is nothing to show.
    let dir = Scratch::new("serve-empty");
    let server = serve(gbwatch(), &[dir.path().to_str().unwrap()]);
    let addr = server.addr;
    let r = get(addr, "/api/screenshot");
    assert_eq!(r.status, 503);
    assert!(r.text().contains("no source yet"), "{}", r.text());
    assert_eq!(get(addr, "/stream").status, 503);
    assert_eq!(get(addr, "/api/streaming/stats").status, 200);

    // Path traversal, plain and encoded: refused or unknown, never a file.
    for path in [
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/..%2f..%2fetc%2fpasswd",
        "/%252e%252e%252fetc%252fpasswd",
        "/static/..%5c..%5cetc%5cpasswd",
        "/./api/screenshot",
        "/api/%00",
    ] {
        let r = get(addr, path);
        assert!(matches!(r.status, 400 | 404), "{path}: {}", r.status);
        assert!(!r.text().contains("root:"), "{path} leaked a file");
    }
    assert_eq!(get(addr, "/../etc/passwd").status, 400);
    assert_eq!(get(addr, "/%252e%252e%252f").status, 404);
    assert_eq!(get(addr, "/%zz").status, 400);

    // Size limits: request line, header bytes, header count, body; each a clear 4xx.
    let long_line = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(9000));
    let r = raw(addr, long_line.as_bytes());
    assert_eq!(r.status, 414);
    assert!(r.text().contains("request line longer than"));
    let big_header = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "b".repeat(20_000));
    let r = raw(addr, big_header.as_bytes());
    assert_eq!(r.status, 431);
    assert!(r.text().contains("headers longer than"));
    let many: String = (0..100).map(|i| format!("X-H{i}: v\r\n")).collect();
    let r = raw(addr, format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes());
    assert_eq!(r.status, 431);
    assert!(r.text().contains("header fields"));
    let body = "x".repeat(100_000);
    let r = raw(
        addr,
        format!(
            "POST /api/streaming/quality/low HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    assert_eq!(r.status, 413);
    assert!(r.text().contains("body larger than"));
    let r = raw(
        addr,
        b"POST /api/streaming/quality/low HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    );
    assert_eq!(r.status, 411);
    assert_eq!(raw(addr, b"NOT HTTP AT ALL\r\n\r\n").status, 400);
    // An endless head without CRLF is cut off at the limit, not buffered forever.
    let mut s = TcpStream::connect(addr).unwrap();
    let chunk = vec![b'a'; 64 * 1024];
    for _ in 0..64 {
        // The server answers 414 and closes: a write may fail, which is the point.
        if s.write_all(&chunk).is_err() {
            break;
        }
    }
    drop(s);
    assert_eq!(get(addr, "/api/streaming/stats").status, 200);

    // A small body on the POST is fine, and keep-alive serves several requests.
    let r = raw(
        addr,
        b"POST /api/streaming/quality/low HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}GET /state HTTP/1.1\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 200);
    let rest = String::from_utf8_lossy(&r.body).into_owned();
    assert!(rest.contains("HTTP/1.1 200 OK"), "second response: {rest}");
    assert!(rest.contains("\"preset\": \"low\""), "{rest}");
}

#[test]
fn bad_bind_is_a_usage_error_and_non_loopback_warns() {
    let out = gbwatch()
        .args(["serve", "/nonexistent-dir", "--bind", "not-an-address"])
        .output()
        .unwrap();
    let err = common::assert_usage_error(&out, "serve --bind not-an-address");
    assert!(err.contains("--bind not-an-address"), "{err}");

    let dir = Scratch::new("serve-bind");
    let mut child = gbwatch()
        .args(["serve", dir.path().to_str().unwrap(), "--bind", "0.0.0.0:0"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut err, &mut first).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        first.contains("warning") && first.contains("not loopback"),
        "{first}"
    );
}

#[test]
fn encodes_only_on_demand_and_once_per_frame() {
    let dir = Scratch::new("serve-lazy");
    let _publisher = common::pyboy_publisher(dir.path(), "env-00", &[]);
    let server = serve(gbwatch(), &[dir.path().to_str().unwrap()]);
    let addr = server.addr;
    // Frames flow, nobody looks: nothing is encoded.
    let start = Instant::now();
    loop {
        let j = get(addr, "/api/streaming/stats").json();
        if j["frames_captured"].as_u64().unwrap() >= 10 {
            assert_eq!(
                j["feeds"][0]["encode"]["count"], 0,
                "encoded with nobody watching"
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no frames captured"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // 12 clients at once: at most one fresh encode per frame.
    let handles: Vec<_> = (0..12)
        .map(|_| std::thread::spawn(move || get(addr, "/api/screenshot")))
        .collect();
    let mut fresh_per_frame: HashMap<String, u32> = HashMap::new();
    for h in handles {
        let r = h.join().unwrap();
        assert_eq!(r.status, 200);
        decode_jpeg(&r.body);
        let idx = r.header("X-Frame-Index").unwrap().to_string();
        let fresh = r.header("X-Encode") == Some("fresh");
        *fresh_per_frame.entry(idx).or_default() += fresh as u32;
    }
    assert!(
        fresh_per_frame.values().all(|&n| n <= 1),
        "a frame was encoded twice: {fresh_per_frame:?}"
    );
    let encodes = get(addr, "/api/streaming/stats").json()["feeds"][0]["encode"]["count"]
        .as_u64()
        .unwrap();
    let frames_shown = fresh_per_frame.len() as u64;
    assert!(
        encodes <= frames_shown,
        "{encodes} encodes for {frames_shown} frames"
    );
}

#[test]
fn identical_frames_are_not_encoded_again() {
    // The static ROM changes its text every ~2 s: most captured frames are identical.
    let rom = common::root().join("assets/demo-static.gb");
    let dir = Scratch::new("serve-static");
    let (_publisher, server) = publisher_and_server(
        dir.path(),
        gbwatch(),
        &["--rom", rom.to_str().unwrap()],
        &[],
    );
    let mut frames = std::collections::HashSet::new();
    let mut fresh = 0;
    for _ in 0..12 {
        let r = get(server.addr, "/api/screenshot");
        frames.insert(r.header("X-Frame-Index").unwrap().to_string());
        fresh += (r.header("X-Encode") == Some("fresh")) as u32;
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(frames.len() >= 6, "frames did not advance: {frames:?}");
    assert!(
        fresh <= 2,
        "{fresh} fresh encodes for {} frames of a static screen",
        frames.len()
    );
}

/// Reads parts for `secs`, returning them (JPEGs checked by the caller).
fn read_for(client: &mut StreamClient, secs: f64) -> Vec<Part> {
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut parts = Vec::new();
    while Instant::now() < end {
        parts.push(client.next_part().expect("a stream part"));
    }
    parts
}

#[test]
fn stream_sends_newest_frames_at_the_preset_rate() {
    let dir = Scratch::new("serve-stream");
    let (_publisher, server) = publisher_and_server(dir.path(), gbwatch(), &[], &[]);
    let mut c = StreamClient::open(server.addr, "/stream");
    assert_eq!(c.status, 200);
    assert_eq!(
        c.header("Content-Type"),
        Some("multipart/x-mixed-replace;boundary=gbwatchframe")
    );
    assert_eq!(
        c.header("Cache-Control"),
        Some("no-cache, no-store, must-revalidate")
    );
    let parts = read_for(&mut c, 3.0);
    let rate = parts.len() as f64 / 3.0;
    // MEDIUM is 10 fps: never faster, and not starved.
    assert!((5.0..=11.5).contains(&rate), "{rate} parts/s");
    let mut last = 0u64;
    for p in &parts {
        assert_eq!(p.header("Content-Type"), Some("image/jpeg"));
        assert_eq!(decode_jpeg(&p.jpeg), (320, 288));
        let idx: u64 = p.header("X-Frame-Index").unwrap().parse().unwrap();
        assert!(idx > last, "frame index went from {last} to {idx}");
        last = idx;
    }
    // /snapshot alias and the client count in /state.
    let state = get(server.addr, "/state").json();
    assert_eq!(state["result"]["stream"]["clients"], 1);
    drop(c);
}

/// 20 `/stream` clients for `secs`: every client keeps getting frames, and the server's
/// memory does not grow with time.
fn many_clients(secs: f64) {
    let dir = Scratch::new("serve-many");
    let (_publisher, server) = publisher_and_server(dir.path(), gbwatch(), &[], &[]);
    // Warm up one stream so the first allocations are counted in "before".
    let mut warm = StreamClient::open(server.addr, "/stream");
    read_for(&mut warm, 1.0);
    drop(warm);
    std::thread::sleep(Duration::from_millis(300));
    let before = server.rss_kib();
    let addr = server.addr;
    let handles: Vec<_> = (0..20)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = StreamClient::open(addr, "/stream");
                assert_eq!(c.status, 200);
                let parts = read_for(&mut c, secs);
                let ages: Vec<u64> = parts
                    .iter()
                    .map(|p| p.header("X-Frame-Age-Us").unwrap().parse().unwrap())
                    .collect();
                decode_jpeg(&parts.last().unwrap().jpeg);
                (parts.len(), ages)
            })
        })
        .collect();
    // Sample the server's memory while the clients run.
    let mut samples = Vec::new();
    let t0 = Instant::now();
    while t0.elapsed().as_secs_f64() < secs - 0.5 {
        std::thread::sleep(Duration::from_millis(500));
        samples.push(server.rss_kib());
    }
    let middle = samples[samples.len() / 2];
    let peak_first_half = *samples[..samples.len() / 2].iter().max().unwrap();
    let peak_second_half = *samples[samples.len() / 2..].iter().max().unwrap();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let after = server.rss_kib();
    eprintln!(
        "RSS before {before} KiB, middle {middle} KiB, after {after} KiB; samples {samples:?}"
    );
    for (n, _) in &results {
        let rate = *n as f64 / secs;
        assert!(rate >= 4.0, "a client only got {rate} parts/s");
    }
    assert!(
        after.saturating_sub(before) < 48 * 1024,
        "RSS grew from {before} to {after} KiB with 20 clients"
    );
    assert!(
        peak_second_half.saturating_sub(peak_first_half) < 16 * 1024,
        "RSS kept growing: peak {peak_first_half} KiB in the first half, {peak_second_half} KiB in the second"
    );
}

#[test]
fn twenty_stream_clients_for_5s_with_bounded_memory() {
    many_clients(5.0);
}

#[test]
#[ignore = "30 s soak; run with --ignored"]
fn twenty_stream_clients_for_30s_with_bounded_memory() {
    many_clients(30.0);
}

#[test]
fn a_client_that_stops_reading_does_not_stall_the_others() {
    let dir = Scratch::new("serve-stall");
    let (_publisher, server) =
        publisher_and_server(dir.path(), gbwatch(), &[], &["--preset", "ultra"]);
    let addr = server.addr;
    // Three clients that ask for the stream and then never read a byte.
    let stalled: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let mut reader = StreamClient::open(addr, "/stream");
    let parts = read_for(&mut reader, 4.0);
    let rate = parts.len() as f64 / 4.0;
    // ULTRA is 30 fps; the capture of a 60 fps publisher keeps up with that here.
    assert!(rate >= 10.0, "the reading client only got {rate} parts/s");
    for p in parts.iter().step_by(10) {
        assert_eq!(decode_jpeg(&p.jpeg), (640, 576));
    }
    // The stalled ones are dropped once their sockets stay full past the write timeout.
    let start = Instant::now();
    loop {
        let clients = get(addr, "/state").json()["result"]["stream"]["clients"]
            .as_u64()
            .unwrap();
        if clients == 1 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{clients} stream clients still counted; stalled ones were not dropped"
        );
        reader.next_part().unwrap();
    }
    drop(stalled);
}
