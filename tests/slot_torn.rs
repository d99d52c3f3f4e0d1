//! Torn-frame stress: the real Python publisher writes as fast as it can frames whose every
//! byte encodes the frame index, while gbwatch copies concurrently for 10 s. No inconsistent
//! frame may be accepted.

mod common;

use common::Scratch;
use gbwatch::slot::{slot_path, ReadOutcome, SlotReader};
use std::io::BufRead;
use std::time::{Duration, Instant};

#[test]
fn no_torn_frame_is_ever_accepted() {
    let dir = Scratch::new("torn");
    let common::Ready {
        mut proc, mut out, ..
    } = common::spawn_ready(
        common::py_script("torn_writer.py").args([
            "--dir",
            dir.path().to_str().unwrap(),
            "--seconds",
            "11",
        ]),
        "the torn-frame writer",
    );

    let mut reader = SlotReader::open(&slot_path(dir.path(), "torn"), false).unwrap();
    let (mut accepted, mut retries, mut busy, mut torn) = (0u64, 0u64, 0u64, 0u64);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        match reader.read().unwrap() {
            ReadOutcome::Frame(snap) => {
                accepted += 1;
                retries += snap.retries as u64;
                let want = (snap.header.frame_index & 0xFF) as u8;
                if snap.pixels.iter().any(|&b| b != want) {
                    torn += 1;
                }
            }
            ReadOutcome::Busy { retries: r } => {
                busy += 1;
                retries += r as u64;
            }
            _ => {}
        }
    }
    let elapsed = start.elapsed();
    assert!(proc.0.wait().unwrap().success());
    let mut copied = String::new();
    out.read_line(&mut copied).unwrap();
    eprintln!(
        "{:.1}s: accepted {accepted} frames, {retries} retried copies, {busy} polls gave up, publisher copied {} frames",
        elapsed.as_secs_f64(),
        copied.trim()
    );
    assert_eq!(torn, 0, "{torn} inconsistent frames were accepted");
    assert!(
        accepted > 50,
        "only {accepted} frames read: the reader starved"
    );
    assert!(
        retries > 0,
        "the writer never raced the reader: the stress did not happen"
    );
}
