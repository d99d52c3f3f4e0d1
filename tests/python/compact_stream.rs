//! The compact multi-source stream end to end with real PyBoy: a serve's `/api/stream` read
//! by a viewer delivers PyBoy's exact pixels; `gbwatch relay` speaks the same stream on
//! standard output, takes requests on standard input and refuses bad ones in one line; a
//! stream of another version is refused in one line.

use crate::common;
use crate::common::serve as serve_support;

use common::{eventually, gbwatch, py_script, pyboy_publisher, spawn_ready, Scratch};
use gbwatch::pipeline::{FeedOptions, FeedSet, Settings, SharedSettings};
use gbwatch::source::stream::command::CommandTransport;
use gbwatch::source::stream::{LinkState, StreamClient};
use gbwatch::source::SourceSpec;
use gbwatch::stream::{Message, StreamParser};
use serve_support::serve;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

const FRAME_BYTES: usize = 160 * 144 * 4;

/// PyBoy's own frames as saved by `pyboy_publisher.py --save`: frame index → RGBA.
fn saved_frames(path: &Path) -> HashMap<u64, Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    bytes
        .chunks_exact(8 + FRAME_BYTES)
        .map(|r| {
            (
                u64::from_le_bytes(r[..8].try_into().unwrap()),
                r[8..].to_vec(),
            )
        })
        .collect()
}

#[test]
fn a_serve_streams_pyboys_exact_pixels() {
    let dir = Scratch::new("compact");
    let save = dir.path().join("pyboy.frames");
    let slots = dir.path().join("slots");
    let _p = pyboy_publisher(
        &slots,
        "env-a",
        &[
            "--fps",
            "30",
            "--seconds",
            "30",
            "--save",
            save.to_str().unwrap(),
        ],
    );
    let host = serve(gbwatch(), &[slots.to_str().unwrap()]);
    let spec = SourceSpec::parse(&format!("http://{}", host.addr)).unwrap();
    let settings = Settings::with_overrides(1, Some(1), Some(15), None).unwrap();
    let set = FeedSet::start(
        vec![spec],
        SharedSettings::new(settings),
        FeedOptions::default(),
    );
    let feed = eventually("the remote env", Duration::from_secs(10), || {
        set.feeds().into_iter().next()
    });
    assert_eq!(feed.name, format!("{}/env-a", host.addr));
    let mut frames = Vec::new();
    while frames.len() < 20 {
        let f = feed
            .queue
            .pop_timeout(Duration::from_secs(10))
            .expect("frames over the compact stream");
        frames.push(f);
    }
    set.stop();
    std::thread::sleep(Duration::from_millis(300));
    let pyboy = saved_frames(&save);
    for f in &frames {
        assert_eq!((f.width, f.height), (160, 144));
        let original = pyboy
            .get(&f.frame_index)
            .unwrap_or_else(|| panic!("frame {} was not published", f.frame_index));
        assert!(
            f.pixels == *original,
            "frame {} differs from PyBoy's",
            f.frame_index
        );
    }
    let distinct: std::collections::HashSet<_> = frames.iter().map(|f| f.frame_index).collect();
    assert!(distinct.len() >= 10, "{distinct:?}");
}

#[test]
fn relay_streams_every_source_and_refuses_bad_requests_in_one_line() {
    let dir = Scratch::new("relay");
    let mut envs = py_script("pyboy_many.py");
    envs.args(["--dir", dir.path().to_str().unwrap(), "--fps", "10"])
        .args(["--seconds", "30", "--names", "env-0,env-1,env-2"])
        .stderr(Stdio::inherit());
    let _envs = spawn_ready(&mut envs, "the PyBoy envs");
    let mut relay = gbwatch()
        .arg("relay")
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdin = relay.stdin.take().unwrap();
    let mut stdout = relay.stdout.take().unwrap();
    // env-1 only; then a request that is no request, and one with a bad rate.
    stdin
        .write_all(b"rate 10 env-1\njump 3 *\nrate 1000 *\n")
        .unwrap();
    stdin.flush().unwrap();
    let mut parser = StreamParser::new();
    let mut messages = Vec::new();
    let mut buf = vec![0u8; 65536];
    let until = Instant::now() + Duration::from_secs(15);
    let frames_of = |messages: &[Message], id: u16| {
        messages
            .iter()
            .filter(|m| matches!(m, Message::Frame { id: i, .. } if *i == id))
            .count()
    };
    let mut ids = HashMap::new();
    while Instant::now() < until {
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "the relay ended early");
        parser.push(&buf[..n], &mut messages).unwrap();
        for m in &messages {
            if let Message::Sources(list) = m {
                ids = list.iter().map(|s| (s.name.clone(), s.id)).collect();
            }
        }
        if ids.len() == 3 && frames_of(&messages, ids["env-1"]) >= 10 {
            break;
        }
    }
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(frames_of(&messages, ids["env-1"]) >= 10);
    assert_eq!(
        frames_of(&messages, ids["env-0"]),
        0,
        "env-0 was not asked for"
    );
    let notices: Vec<&String> = messages
        .iter()
        .filter_map(|m| match m {
            Message::Notice(n) => Some(n),
            _ => None,
        })
        .collect();
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert!(
        notices[0].starts_with("request refused: unknown request 'jump'"),
        "{notices:?}"
    );
    assert!(notices[1].contains("0-240"), "{notices:?}");
    // Compact: GB frames indexed and compressed against the previous one.
    let bytes: usize = messages
        .iter()
        .filter_map(|m| match m {
            Message::Frame { data, .. } => Some(data.len()),
            _ => None,
        })
        .sum();
    let n = frames_of(&messages, ids["env-1"]);
    assert!(
        bytes / n < FRAME_BYTES / 20,
        "{} bytes per frame",
        bytes / n
    );
    // The viewer closes its requests: the relay ends, status 0.
    drop(stdin);
    let start = Instant::now();
    let status = loop {
        let _ = stdout.read(&mut buf);
        if let Some(s) = relay.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "relay did not end"
        );
    };
    assert!(status.success(), "{status}");
}

#[test]
fn a_stream_of_another_version_is_refused_in_one_line() {
    // A real process writing the head of stream version 9.
    let transport = CommandTransport::new(
        "sh",
        vec![
            "-c".into(),
            r"printf 'GBWSTRM\000\011\000\000\000'; sleep 5".into(),
        ],
        Arc::new(|_, _, problem| problem),
    );
    let client = StreamClient::start("v9", Box::new(transport));
    let link = eventually("the refusal", Duration::from_secs(5), || {
        match client.link() {
            LinkState::Error(e) => Some(e),
            _ => None,
        }
    });
    client.stop();
    assert_eq!(
        link,
        "the remote gbwatch speaks stream version 9, this one version 1: install the same gbwatch on both sides"
    );
}
