//! Real PyBoy publishes through the real Python publisher while gbwatch reads the slot:
//! frames arrive with the right geometry, and their pixels equal what PyBoy had at that
//! frame index.

use crate::common;

use common::{pyboy_publisher, Scratch};
use gbwatch::frame::PixelFormat;
use gbwatch::slot::{slot_path, ReadOutcome, SlotReader};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const FRAME_BYTES: usize = 160 * 144 * 4;

#[test]
fn pyboy_frames_arrive_intact() {
    let dir = Scratch::new("pyboy");
    let saved = dir.path().join("pyboy-frames.bin");
    let mut publisher = pyboy_publisher(
        dir.path(),
        "env-00",
        &[
            "--fps",
            "120",
            "--seconds",
            "3",
            "--save",
            saved.to_str().unwrap(),
        ],
    );
    let mut reader = SlotReader::open(&slot_path(dir.path(), "env-00"), false).unwrap();
    let header = *reader.header();
    assert_eq!(
        (header.width, header.height, header.format),
        (160, 144, PixelFormat::Rgba)
    );
    assert_eq!(header.stride, 160 * 4);

    let mut captured: HashMap<u64, Vec<u8>> = HashMap::new();
    let start = Instant::now();
    while publisher.0.try_wait().unwrap().is_none() && start.elapsed() < Duration::from_secs(20) {
        match reader.read().unwrap() {
            ReadOutcome::Frame(snap) => {
                assert_eq!(snap.pixels.len(), FRAME_BYTES);
                captured.insert(snap.header.frame_index, snap.pixels);
            }
            _ => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    assert!(publisher.0.wait().unwrap().success(), "publisher failed");

    let bytes = std::fs::read(&saved).unwrap();
    let pyboy_frames: HashMap<u64, &[u8]> = bytes
        .chunks_exact(8 + FRAME_BYTES)
        .map(|rec| (u64::from_le_bytes(rec[..8].try_into().unwrap()), &rec[8..]))
        .collect();
    assert!(
        pyboy_frames.len() > 100,
        "PyBoy published only {} frames",
        pyboy_frames.len()
    );
    assert!(
        captured.len() > 100,
        "gbwatch captured only {} frames",
        captured.len()
    );
    let mut distinct = std::collections::HashSet::new();
    for (index, pixels) in &captured {
        let expected = pyboy_frames
            .get(index)
            .unwrap_or_else(|| panic!("captured frame index {index} that PyBoy never published"));
        assert!(
            expected == &pixels.as_slice(),
            "frame {index}: pixels differ from PyBoy's"
        );
        assert!(
            pixels.chunks_exact(4).all(|p| p[3] == 255),
            "alpha is not 255"
        );
        distinct.insert(pixels.clone());
    }
    // The demo ROM scrolls: frames must genuinely differ, or the comparison proves little.
    assert!(
        distinct.len() > captured.len() / 2,
        "only {} distinct frames",
        distinct.len()
    );
    eprintln!(
        "compared {} captured frames with PyBoy's own",
        captured.len()
    );
}
