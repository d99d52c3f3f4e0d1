//! HTTP sources against real loopback servers (tests/py/image_server.py serves real PyBoy
//! frames): polled screenshots, MJPEG streams from fast, slow and broken writers, and servers
//! that answer wrongly. Each ends in frames or a clear one-line status, never a crash.

use crate::common;

use common::{gbwatch, python, root, stats_json, Scratch};
use gbwatch::pipeline::{Feed, FeedOptions, FeedSet, FeedState, Settings, SharedSettings};
use gbwatch::source::decode::decode_image;
use gbwatch::source::http::{HttpOptions, HttpSource, HttpUrl};
use gbwatch::source::{Poll, Source, SourceSpec};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// A running image server; it exits when the test process (holding its stdin) does.
struct Server {
    port: u16,
    /// The served JPEGs' decoded pixels (RGB), as Pillow decodes them.
    frames: Vec<(u32, u32, Vec<u8>)>,
    _child: Child,
    _stdin: ChildStdin,
    _dir: Scratch,
}

fn start_server(extra: &[&str]) -> Server {
    let dir = Scratch::new("http");
    let frames_file = dir.path().join("frames.bin");
    let mut child = Command::new(python())
        .arg(root().join("tests/py/image_server.py"))
        .args(["--save-frames", frames_file.to_str().unwrap()])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the image server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line
        .trim()
        .strip_prefix("ready ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("image server did not start: {line:?}"));
    let data = std::fs::read(&frames_file).unwrap();
    let mut frames = Vec::new();
    let mut rest = &data[..];
    while rest.len() >= 8 {
        let w = u32::from_le_bytes(rest[..4].try_into().unwrap());
        let h = u32::from_le_bytes(rest[4..8].try_into().unwrap());
        let n = (w * h * 3) as usize;
        frames.push((w, h, rest[8..8 + n].to_vec()));
        rest = &rest[8 + n..];
    }
    assert!(!frames.is_empty());
    Server {
        port,
        frames,
        _stdin: child.stdin.take().unwrap(),
        _child: child,
        _dir: dir,
    }
}

/// One server shared by the tests of this file.
fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| start_server(&[]))
}

fn url(path: &str) -> String {
    format!("http://127.0.0.1:{}{path}", server().port)
}

fn start(arg: &str, fps: u32) -> FeedSet {
    let spec = SourceSpec::parse(arg).unwrap();
    let settings = Settings::with_overrides(1, Some(1), Some(fps), None).unwrap();
    FeedSet::start(
        vec![spec],
        SharedSettings::new(settings),
        FeedOptions::default(),
    )
}

fn only_feed(set: &FeedSet) -> Arc<Feed> {
    let feeds = set.feeds();
    assert_eq!(feeds.len(), 1);
    feeds[0].clone()
}

/// Waits until the feed's state satisfies `want`; returns the last state seen.
fn wait_state(feed: &Feed, timeout: Duration, want: impl Fn(&FeedState) -> bool) -> FeedState {
    let start = Instant::now();
    loop {
        let state = feed.status().state;
        if want(&state) || start.elapsed() > timeout {
            return state;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Mean absolute difference between an RGBA frame and an RGB reference.
fn diff_rgba_rgb(rgba: &[u8], rgb: &[u8]) -> f64 {
    assert_eq!(rgba.len() / 4, rgb.len() / 3);
    let sum: u64 = rgba
        .chunks_exact(4)
        .zip(rgb.chunks_exact(3))
        .map(|(a, b)| (0..3).map(|i| a[i].abs_diff(b[i]) as u64).sum::<u64>())
        .sum();
    sum as f64 / rgb.len() as f64
}

/// Asserts the frame is (within decoder rounding) one of the frames the server sent.
fn assert_known_frame(server: &Server, width: u32, height: u32, rgba: &[u8]) {
    assert_eq!((width, height), (160, 144));
    let best = server
        .frames
        .iter()
        .map(|(_, _, rgb)| diff_rgba_rgb(rgba, rgb))
        .fold(f64::INFINITY, f64::min);
    assert!(
        best < 1.5,
        "frame differs from every served frame (best {best:.2})"
    );
}

/// Collects `n` frames from the feed, checking each against the served ones.
fn collect_frames(feed: &Feed, n: usize, timeout: Duration) -> usize {
    let start = Instant::now();
    let mut got = 0;
    while got < n && start.elapsed() < timeout {
        if let Some(f) = feed.queue.pop_timeout(Duration::from_millis(100)) {
            assert_known_frame(server(), f.width, f.height, &f.pixels);
            assert!(f.published_ns.is_none(), "age must count from arrival");
            got += 1;
        }
    }
    got
}

#[test]
fn polled_screenshots_arrive_at_the_capture_rate() {
    let set = start(&url("/api/screenshot"), 20);
    let feed = only_feed(&set);
    assert_eq!(
        feed.name,
        format!("127.0.0.1:{}/api/screenshot", server().port)
    );
    assert_eq!(collect_frames(&feed, 10, Duration::from_secs(10)), 10);
    assert_eq!(feed.status().state, FeedState::Online);
    // Polled at the preset rate, not as fast as the server answers.
    let before = feed.snapshot().captured;
    std::thread::sleep(Duration::from_secs(1));
    let per_second = feed.snapshot().captured - before;
    assert!(
        (10..=26).contains(&per_second),
        "{per_second} polls in 1 s at 20 fps"
    );
    set.stop();
}

#[test]
fn png_screenshots_decode() {
    let set = start(&url("/png"), 20);
    let feed = only_feed(&set);
    let f = feed
        .queue
        .pop_timeout(Duration::from_secs(10))
        .expect("a PNG frame");
    // PNG is lossless: the frame equals one PyBoy frame up to Pillow's JPEG round trip,
    // so compare against the served JPEGs loosely.
    assert_eq!((f.width, f.height), (160, 144));
    let best = server()
        .frames
        .iter()
        .map(|(_, _, rgb)| diff_rgba_rgb(&f.pixels, rgb))
        .fold(f64::INFINITY, f64::min);
    assert!(best < 6.0, "{best}");
    set.stop();
}

#[test]
fn mjpeg_streams_fast_slow_and_without_content_length() {
    for (query, fps, n) in [
        ("/stream?fps=120", 30, 20),
        ("/stream?fps=3", 30, 3),
        ("/stream?fps=60&len=0", 30, 15),
    ] {
        let set = start(&url(query), fps);
        let feed = only_feed(&set);
        let got = collect_frames(&feed, n, Duration::from_secs(10));
        assert_eq!(got, n, "{query}");
        assert_eq!(feed.status().state, FeedState::Online, "{query}");
        let s = feed.snapshot();
        assert!(s.invariant_holds(), "{query}: {s:?}");
        set.stop();
    }
}

#[test]
fn a_fast_stream_keeps_only_the_newest_frame() {
    // The server writes 120 fps; capture at 5 fps takes about 5 a second, not 120.
    let set = start(&url("/stream?fps=120"), 5);
    let feed = only_feed(&set);
    assert!(feed.queue.pop_timeout(Duration::from_secs(10)).is_some());
    let before = feed.snapshot().captured;
    std::thread::sleep(Duration::from_secs(1));
    let per_second = feed.snapshot().captured - before;
    assert!(
        (3..=7).contains(&per_second),
        "{per_second} frames in 1 s at 5 fps"
    );
    set.stop();
}

#[test]
fn dump_and_stats_end_to_end() {
    let out = Scratch::new("http-dump");
    let status = gbwatch()
        .args([
            "dump",
            &url("/api/screenshot"),
            "--count",
            "4",
            "--preset",
            "high",
        ])
        .args(["--out", out.path().to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut files: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 4);
    for f in &files {
        let d = decode_image(&std::fs::read(f).unwrap()).unwrap();
        assert_eq!((d.width, d.height), (480, 432), "{}", f.display());
    }

    let json = stats_json(gbwatch().args([
        "stats",
        "--json",
        "--duration",
        "1.5",
        &url("/stream?fps=30"),
    ]));
    let feed = &json["feeds"][0];
    assert_eq!(feed["state"], "online");
    assert!(feed["captured"].as_u64().unwrap() >= 5, "{feed}");
    assert_eq!(feed["invariant_holds"], true);
}

#[test]
fn a_base_url_tries_stream_then_api_screenshot() {
    // This server has /stream.
    let set = start(&format!("http://127.0.0.1:{}", server().port), 30);
    let feed = only_feed(&set);
    assert_eq!(collect_frames(&feed, 3, Duration::from_secs(10)), 3);
    set.stop();

    // This one answers 404 on /stream: /api/screenshot is used.
    let other = start_server(&["--no-stream", "--frames", "4"]);
    let set = start(&format!("http://127.0.0.1:{}/", other.port), 30);
    let feed = only_feed(&set);
    let f = feed
        .queue
        .pop_timeout(Duration::from_secs(10))
        .expect("frame");
    assert_known_frame(&other, f.width, f.height, &f.pixels);
    set.stop();
}

#[test]
fn wrong_answers_give_one_line_errors() {
    let cases = [
        ("/garbage", "bad image from server: not a JPEG or PNG image"),
        ("/html", "unexpected Content-Type \"text/html\""),
        ("/big", "image larger than the 4 MB limit"),
        ("/nothing-here", "HTTP 404 Not Found"),
    ];
    for (path, expected) in cases {
        let set = start(&url(path), 10);
        let feed = only_feed(&set);
        let state = wait_state(&feed, Duration::from_secs(10), |s| {
            matches!(s, FeedState::Error(_))
        });
        let FeedState::Error(msg) = state else {
            panic!("{path}: expected an error, got {state:?}");
        };
        assert!(msg.contains(expected), "{path}: {msg}");
        assert!(!msg.contains('\n'), "{path}: {msg}");
        assert_eq!(feed.snapshot().captured, 0, "{path}");
        set.stop();
    }

    // A base URL where neither path serves frames says so, naming both.
    let port = spawn_rust_server(Vec::new(), "404 Not Found", "text/plain");
    let set = start(&format!("http://127.0.0.1:{port}"), 10);
    let feed = only_feed(&set);
    let state = wait_state(&feed, Duration::from_secs(10), |s| {
        matches!(s, FeedState::Error(_))
    });
    assert_eq!(
        state,
        FeedState::Error(format!(
            "http://127.0.0.1:{port}/ serves no frames (/stream: HTTP 404 Not Found; /api/screenshot: HTTP 404 Not Found)"
        ))
    );
    set.stop();
}

#[test]
fn images_with_a_generic_or_no_content_type_are_sniffed() {
    // Python's http.server itself: JPEG and PNG as application/octet-stream and with no
    // Content-Type; the magic bytes decide.
    for path in ["/octet/jpeg", "/octet/png", "/untyped/jpeg", "/untyped/png"] {
        let set = start(&url(path), 20);
        let feed = only_feed(&set);
        if path.ends_with("jpeg") {
            assert_eq!(
                collect_frames(&feed, 3, Duration::from_secs(10)),
                3,
                "{path}"
            );
        } else {
            // PNGs are lossless: compare loosely with the served JPEGs, as png_screenshots_decode.
            for _ in 0..3 {
                let f = feed.queue.pop_timeout(Duration::from_secs(10)).expect(path);
                let best = server()
                    .frames
                    .iter()
                    .map(|(_, _, rgb)| diff_rgba_rgb(&f.pixels, rgb))
                    .fold(f64::INFINITY, f64::min);
                assert!(best < 6.0, "{path}: {best}");
            }
        }
        assert_eq!(feed.status().state, FeedState::Online, "{path}");
        set.stop();
    }
    // A generic type on a body that is no image is still a one-line error.
    let set = start(&url("/octet/text"), 10);
    let feed = only_feed(&set);
    let state = wait_state(&feed, Duration::from_secs(10), |s| {
        matches!(s, FeedState::Error(_))
    });
    assert_eq!(
        state,
        FeedState::Error(
            "Content-Type \"application/octet-stream\" and the body is not a JPEG or PNG".into()
        )
    );
    set.stop();
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn a_server_that_is_down_is_offline_and_recovers() {
    let port = free_port();
    let set = start(&format!("http://127.0.0.1:{port}/api/screenshot"), 10);
    let feed = only_feed(&set);
    let state = wait_state(&feed, Duration::from_secs(10), |s| {
        matches!(s, FeedState::Offline(_))
    });
    let FeedState::Offline(reason) = state else {
        panic!("expected offline, got {state:?}");
    };
    assert!(reason.contains("refused"), "{reason}");
    // A server appearing on that port is picked up (the backoff stays short).
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 80)
        .encode(
            &[90u8; 160 * 144 * 4],
            160,
            144,
            jpeg_encoder::ColorType::Rgba,
        )
        .unwrap();
    serve_on(listener, jpeg, "200 OK", "image/jpeg");
    let f = feed
        .queue
        .pop_timeout(Duration::from_secs(10))
        .expect("frame after recovery");
    assert!(f.pixels.chunks_exact(4).all(|p| p[0].abs_diff(90) <= 2));
    // Capture queues the frame, then says online: a loaded machine can be between the two.
    let state = wait_state(&feed, Duration::from_secs(10), |s| *s == FeedState::Online);
    assert_eq!(state, FeedState::Online);
    set.stop();
}

/// Starts a minimal keep-alive HTTP/1.1 server (std::net only) answering every request
/// with `status`, `content_type` and `body`; returns its port.
fn spawn_rust_server(body: Vec<u8>, status: &'static str, content_type: &'static str) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    serve_on(listener, body, status, content_type);
    port
}

fn serve_on(
    listener: std::net::TcpListener,
    body: Vec<u8>,
    status: &'static str,
    content_type: &'static str,
) {
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let body = body.clone();
            std::thread::spawn(move || serve_forever(&mut conn, &body, status, content_type));
        }
    });
}

fn serve_forever(conn: &mut std::net::TcpStream, body: &[u8], status: &str, content_type: &str) {
    use std::io::Write;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            match conn.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        buf.drain(..end);
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if conn
            .write_all(head.as_bytes())
            .and_then(|_| conn.write_all(body))
            .is_err()
        {
            return;
        }
    }
}

#[test]
fn a_stalled_stream_goes_offline_and_a_broken_one_reports_why() {
    let options = HttpOptions {
        stall_timeout: Duration::from_millis(700),
        ..HttpOptions::default()
    };
    let mut src = HttpSource::open(
        HttpUrl::parse(&url("/stall")).unwrap(),
        options,
        &gbwatch::cancel::Cancel::new(),
    )
    .unwrap();
    // The one complete frame arrives; the half one never does.
    let began = Instant::now();
    let mut frames = 0;
    let reason = loop {
        match src.poll() {
            Ok(Poll::Frame(f)) => {
                frames += 1;
                let rgba = gbwatch::pipeline::to_frame(f);
                assert_known_frame(server(), rgba.width, rgba.height, &rgba.pixels);
            }
            Ok(Poll::Offline(r)) => break r,
            Ok(_) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("unexpected error {e}"),
        }
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "never went offline"
        );
    };
    assert_eq!(frames, 1);
    assert!(reason.contains("stalled"), "{reason}");

    let set = start(&url("/broken-stream"), 30);
    let feed = only_feed(&set);
    let state = wait_state(&feed, Duration::from_secs(10), |s| {
        matches!(s, FeedState::Error(_))
    });
    let FeedState::Error(msg) = state else {
        panic!("expected an error, got {state:?}");
    };
    assert!(msg.contains("bad image from server"), "{msg}");
    // The good frames before the bad part were delivered.
    assert!(feed.snapshot().captured >= 1);
    set.stop();
}

#[test]
fn https_and_bad_urls_are_usage_errors() {
    for (arg, expected) in [
        ("https://127.0.0.1:1/x", "https is not supported"),
        ("http://", "not a valid http:// URL"),
    ] {
        let out = gbwatch()
            .args(["dump", "--count", "1", "--stdout", arg])
            .output()
            .unwrap();
        let err = common::assert_usage_error(&out, arg);
        assert!(err.contains(expected), "{arg}: {err}");
    }
}
