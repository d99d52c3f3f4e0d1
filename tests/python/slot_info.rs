//! Info in the slot: old and new layouts read each other, the real Python publisher's info
//! arrives with its frame (real PyBoy too), and bad info costs a one-time warning, never the
//! frame.

use crate::common;

use common::{pyboy_publisher, python, root, Scratch};
use gbwatch::frame::PixelFormat;
use gbwatch::info::{Info, Scalar};
use gbwatch::slot::{
    slot_path, Header, ReadOutcome, SlotLayout, SlotReader, SlotWriter, HEADER_SIZE,
};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn next_frame(r: &mut SlotReader) -> gbwatch::slot::SlotSnapshot {
    let start = Instant::now();
    loop {
        if let ReadOutcome::Frame(s) = r.read().unwrap() {
            return s;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no frame");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn sample_info(step: i64) -> Info {
    let mut i = Info::new();
    i.push("step", Scalar::Int(step)).unwrap();
    i.push("map", Scalar::Str("route 1".into())).unwrap();
    i
}

#[test]
fn a_slot_in_the_layout_without_info_is_still_read() {
    let dir = Scratch::new("old-layout");
    let layout = SlotLayout::WithoutInfo;
    let mut w =
        SlotWriter::create_with_layout(dir.path(), "old", 4, 2, PixelFormat::Rgba, layout).unwrap();
    let path = slot_path(dir.path(), "old");
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        (HEADER_SIZE + 32) as u64,
        "the old layout ends after the pixels"
    );
    let pixels: Vec<u8> = (0..32).collect();
    w.publish(&pixels, 9).unwrap();
    let mut r = SlotReader::open(&path, false).unwrap();
    assert_eq!(r.header().info_capacity, 0);
    let snap = next_frame(&mut r);
    assert_eq!((snap.pixels, snap.header.frame_index), (pixels, 9));
    assert!(snap.info.is_none() && snap.info_error.is_none());
    // Asking the old layout to carry info is an error, not a silent loss.
    assert!(w
        .publish_with_info(&[0; 32], 10, Some(&sample_info(1)))
        .is_err());
}

/// The reading rules of the slot format before the info area (FORMAT.md as it was): what an
/// older gbwatch does with a new file.
fn old_reader(bytes: &[u8]) -> Result<(u64, &[u8]), String> {
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
    if bytes.len() < HEADER_SIZE || &bytes[..8] != b"GBWSLOT\0" {
        return Err("not a slot".into());
    }
    if u32_at(8) != 1 || u32_at(12) != 128 || u32_at(24) != 1 {
        return Err("version, header size or format refused".into());
    }
    let (w, h, stride) = (
        u32_at(16) as usize,
        u32_at(20) as usize,
        u32_at(28) as usize,
    );
    if bytes.len() < HEADER_SIZE + stride * h || stride < w * 4 {
        return Err("truncated".into());
    }
    let index = u64::from_le_bytes(bytes[48..56].try_into().unwrap());
    Ok((index, &bytes[HEADER_SIZE..HEADER_SIZE + stride * h]))
}

#[test]
fn a_slot_with_info_reads_under_the_old_rules() {
    let dir = Scratch::new("new-layout");
    let mut w = SlotWriter::create(dir.path(), "new", 4, 2, PixelFormat::Rgba).unwrap();
    let pixels: Vec<u8> = (100..132).collect();
    w.publish_with_info(&pixels, 42, Some(&sample_info(42)))
        .unwrap();
    let bytes = std::fs::read(slot_path(dir.path(), "new")).unwrap();
    let (index, old_pixels) = old_reader(&bytes).unwrap();
    assert_eq!((index, old_pixels), (42, &pixels[..]));
    // And this build reads both.
    let mut r = SlotReader::open(&slot_path(dir.path(), "new"), false).unwrap();
    let snap = next_frame(&mut r);
    assert_eq!(snap.pixels, pixels);
    assert_eq!(*snap.info.unwrap(), sample_info(42));
    // The next frame without info clears it.
    w.publish(&pixels, 43).unwrap();
    assert!(next_frame(&mut r).info.is_none());
    // A header claiming an absurd info area is refused in one line.
    let mut bad = bytes.clone();
    bad[112..116].copy_from_slice(&1_000_000u32.to_le_bytes());
    let e = Header::parse(&bad, bad.len() as u64, std::path::Path::new("x.slot")).unwrap_err();
    assert!(e.to_string().contains("info area"), "{e}");
}

#[test]
fn bad_info_is_a_one_time_warning_and_the_frame_still_goes_out() {
    let dir = Scratch::new("info-cases");
    let mut child = Command::new(python())
        .arg(root().join("tests/py/publisher_cases.py"))
        .arg(dir.path())
        .arg("info")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready");
    let mut r = SlotReader::open(&slot_path(dir.path(), "info"), false).unwrap();
    let mut seen: HashMap<u64, Option<String>> = HashMap::new();
    let start = Instant::now();
    while !seen.contains_key(&14) && start.elapsed() < Duration::from_secs(30) {
        match r.read().unwrap() {
            ReadOutcome::Frame(s) => {
                assert!(s.info_error.is_none(), "{:?}", s.info_error);
                seen.insert(s.header.frame_index, s.info.map(|i| i.line()));
            }
            _ => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    child.stdin.take().unwrap().write_all(b"done\n").unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    for i in 1..=14 {
        assert!(seen.contains_key(&i), "frame {i} never arrived: {seen:?}");
    }
    assert_eq!(
        seen[&1].as_deref(),
        Some("step=1 reward=0.5 map=route 1 done=false action=3")
    );
    for i in 2..=6 {
        assert_eq!(seen[&i], None, "frame {i} carried bad info");
    }
    assert_eq!(seen[&7].as_deref(), Some("step=7 reward=0.25 flag=true"));
    // A field whose type changes is sent with its new type.
    assert_eq!(seen[&8].as_deref(), Some("step=8 reward=high flag=false"));
    assert_eq!(seen[&9].as_deref(), Some("step=9.5 reward=1.25 flag=true"));
    assert_eq!(seen[&10].as_deref(), Some("step=10 reward=0.5"));
    assert_eq!(seen[&11].as_deref(), Some("step=11 reward=0.75"));
    assert_eq!(seen[&12], None, "frame 12 carried an infinite reward");
    assert_eq!(seen[&13].as_deref(), Some("step=13.5 reward=1.0"));
    assert_eq!(seen[&14].as_deref(), Some("step=14 gone=1"));
    let warnings: Vec<_> = stderr
        .lines()
        .filter(|l| l.contains("info not sent"))
        .collect();
    assert_eq!(warnings.len(), 1, "warned once: {stderr}");
    assert!(warnings[0].contains("nan"), "{stderr}");
    assert!(
        !stderr.contains("publishing to"),
        "publishing never stopped: {stderr}"
    );
}

#[test]
fn real_pyboy_frames_carry_their_own_info() {
    let dir = Scratch::new("pyboy-info");
    let _publisher = pyboy_publisher(
        dir.path(),
        "env-00",
        &["--fps", "240", "--seconds", "3", "--info"],
    );
    let mut r = SlotReader::open(&slot_path(dir.path(), "env-00"), false).unwrap();
    let mut checked = 0;
    let start = Instant::now();
    while checked < 100 && start.elapsed() < Duration::from_secs(20) {
        if let ReadOutcome::Frame(s) = r.read().unwrap() {
            let Some(info) = s.info else { continue };
            assert_eq!(
                info.get("frame"),
                Some(&Scalar::Int(s.header.frame_index as i64)),
                "{}",
                info.line()
            );
            assert!(matches!(info.get("map"), Some(Scalar::Str(_))));
            checked += 1;
        } else {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    assert!(checked >= 100, "only {checked} frames with info");
}
