//! Torn-frame stress: the real Python publisher writes as fast as it can frames whose every
//! byte encodes the frame index, while gbwatch copies concurrently for 10 s. No inconsistent
//! frame may be accepted, and the info read with a frame is the info published with it:
//! also when the publisher's stores become visible out of order, as they may on ARM (the
//! frame checksum catches those; without it they tear, which shows this test can fail).

use crate::common;

use common::Scratch;
use gbwatch::info::Scalar;
use gbwatch::slot::{slot_path, ReadOutcome, SlotReader};
use std::io::BufRead;
use std::time::{Duration, Instant};

#[test]
fn no_torn_frame_is_ever_accepted() {
    stress(false, Order::Program);
}

#[test]
fn the_info_read_with_a_frame_is_the_info_published_with_it() {
    stress(true, Order::Program);
}

#[test]
fn stores_seen_out_of_order_are_never_accepted_with_the_checksum() {
    stress(true, Order::Misordered { checksum: true });
}

#[test]
fn stores_seen_out_of_order_tear_frames_without_the_checksum() {
    stress(true, Order::Misordered { checksum: false });
}

/// The order in which the publisher's stores become visible to the reader.
#[derive(Clone, Copy, PartialEq)]
enum Order {
    /// Program order, as on x86 (the real publisher, checksum as this CPU needs).
    Program,
    /// The even sequence number first, then pixels, then info, as ARM may show them.
    Misordered { checksum: bool },
}

/// The two stresses each need the machine to themselves: run them one after the other.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn stress(with_info: bool, order: Order) {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = Scratch::new("torn");
    let seconds = if order == Order::Program && with_info {
        "6"
    } else {
        "11"
    };
    let order_args: &[&str] = match order {
        Order::Program => &[],
        Order::Misordered { checksum: true } => &["--misorder", "--checksum", "1"],
        Order::Misordered { checksum: false } => &["--misorder", "--checksum", "0"],
    };
    let expect_tears = order == Order::Misordered { checksum: false };
    let common::Ready {
        mut proc, mut out, ..
    } = common::spawn_ready(
        common::py_script("torn_writer.py")
            .args(["--dir", dir.path().to_str().unwrap(), "--seconds", seconds])
            .args(with_info.then_some("--info"))
            .args(order_args),
        "the torn-frame writer",
    );

    let mut reader = SlotReader::open(&slot_path(dir.path(), "torn"), false).unwrap();
    let (mut accepted, mut retries, mut busy, mut torn) = (0u64, 0u64, 0u64, 0u64);
    let (mut with_strings, mut mismatched) = (0u64, 0u64);
    let run_for = Duration::from_secs(seconds.parse::<u64>().unwrap() - 1);
    let start = Instant::now();
    while start.elapsed() < run_for && !(expect_tears && torn + mismatched > 0) {
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
                    // A torn info area may not even decode: that is a mismatch too.
                    let Some(info) = snap.info.filter(|_| snap.info_error.is_none()) else {
                        assert!(expect_tears, "{:?}", snap.info_error);
                        mismatched += 1;
                        continue;
                    };
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
    if expect_tears {
        let _ = proc.0.kill();
        let _ = proc.0.wait();
        eprintln!(
            "{:.1}s: {torn} torn frames and {mismatched} with another frame's info accepted of {accepted}",
            elapsed.as_secs_f64()
        );
        assert!(
            torn + mismatched > 0,
            "no torn frame in {accepted} accepted: the misordered writer did not race the reader"
        );
        return;
    }
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
