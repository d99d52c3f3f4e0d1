//! Torn-frame stress: the real Python publisher writes as fast as it can frames whose every
//! byte encodes the frame index, while gbwatch copies concurrently for 10 s. No inconsistent
//! frame may be accepted, and the info read with a frame is the info published with it.

use crate::common;

use common::Scratch;
use gbwatch::info::Scalar;
use gbwatch::slot::{slot_path, ReadOutcome, SlotReader};
use std::io::BufRead;
use std::time::{Duration, Instant};

#[test]
fn no_torn_frame_is_ever_accepted() {
    stress(false);
}

#[test]
fn the_info_read_with_a_frame_is_the_info_published_with_it() {
    stress(true);
}

/// The two stresses each need the machine to themselves: run them one after the other.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn stress(with_info: bool) {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = Scratch::new("torn");
    let seconds = if with_info { "6" } else { "11" };
    let common::Ready {
        mut proc, mut out, ..
    } = common::spawn_ready(
        common::py_script("torn_writer.py")
            .args(["--dir", dir.path().to_str().unwrap(), "--seconds", seconds])
            .args(with_info.then_some("--info")),
        "the torn-frame writer",
    );

    let mut reader = SlotReader::open(&slot_path(dir.path(), "torn"), false).unwrap();
    let (mut accepted, mut retries, mut busy, mut torn) = (0u64, 0u64, 0u64, 0u64);
    let (mut with_strings, mut mismatched) = (0u64, 0u64);
    let run_for = Duration::from_secs(seconds.parse::<u64>().unwrap() - 1);
    let start = Instant::now();
    while start.elapsed() < run_for {
        match reader.read().unwrap() {
            ReadOutcome::Frame(snap) => {
                accepted += 1;
                retries += snap.retries as u64;
                let index = snap.header.frame_index;
                let want = (index & 0xFF) as u8;
                if snap.pixels.iter().any(|&b| b != want) {
                    torn += 1;
                }
                if with_info && index > 0 {
                    assert!(snap.info_error.is_none(), "{:?}", snap.info_error);
                    let info = snap.info.expect("every frame after the first has info");
                    let odd = index % 2 == 1;
                    let tag = format!("{}{index}", "f".repeat((index % 50) as usize));
                    let ok = info.get("frame") == Some(&Scalar::Int(index as i64))
                        && info.get("byte") == Some(&Scalar::Int(want as i64))
                        && info.get("odd") == Some(&Scalar::Bool(odd))
                        && if odd {
                            info.get("tag") == Some(&Scalar::Str(tag))
                        } else {
                            info.get("half") == Some(&Scalar::Float(index as f64 / 2.0))
                        };
                    with_strings += odd as u64;
                    mismatched += !ok as u64;
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
    if with_info {
        eprintln!("{with_strings} of the accepted frames had a string field");
        assert_eq!(
            mismatched, 0,
            "{mismatched} frames came with another frame's info"
        );
        assert!(
            with_strings > 0 && with_strings < accepted,
            "both layouts were read"
        );
    }
    // The writer races the reader on purpose; a loaded machine lets fewer reads through.
    let enough = if with_info { 20 } else { 50 };
    assert!(
        accepted > enough,
        "only {accepted} frames read: the reader starved"
    );
    assert!(
        retries > 0,
        "the writer never raced the reader: the stress did not happen"
    );
}
