//! Property-based fuzzing of the slot header parser and reader. The normal run tries
//! 20 000 cases per property; `GBWATCH_FUZZ_CASES=1000000 cargo test --release --test
//! plain fuzz_slot::` runs the long campaign whose figures `tests/README.md` reports.

use crate::common;

use common::Scratch;
use gbwatch::frame::PixelFormat;
use gbwatch::slot::{Header, ReadOutcome, SlotReader, HEADER_SIZE};
use proptest::prelude::*;
use std::path::Path;

use common::fuzz_cases as cases;

/// A valid header, then mutated: random bytes at random offsets, and a random length.
fn mutated_header() -> impl Strategy<Value = (Vec<u8>, u64)> {
    (
        any::<u16>(),
        any::<u16>(),
        0u32..6,
        proptest::collection::vec((0usize..HEADER_SIZE, any::<u8>()), 0..12),
        0usize..=HEADER_SIZE,
        any::<u64>(),
    )
        .prop_map(|(w, h, fmt, edits, cut, len)| {
            let format = [
                PixelFormat::Rgba,
                PixelFormat::Rgb,
                PixelFormat::Bgra,
                PixelFormat::Gray8,
            ][(fmt % 4) as usize];
            let mut b = Header::encode_new(w as u32, h as u32, format, 7).to_vec();
            for (off, v) in edits {
                b[off] = v;
            }
            b.truncate(cut.max(HEADER_SIZE * (fmt as usize % 2)));
            (b, len)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(20_000), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn header_parse_never_panics_and_accepts_only_sane_headers((bytes, len) in mutated_header()) {
        if let Ok(h) = Header::parse(&bytes, len, Path::new("fuzz.slot")) {
            prop_assert!(h.width > 0 && h.height > 0 && h.width <= 8192 && h.height <= 8192);
            prop_assert!(h.stride as usize >= h.width as usize * h.format.bytes_per_pixel());
            prop_assert!(HEADER_SIZE as u64 + h.pixel_bytes() as u64 <= len);
        }
    }

    #[test]
    fn header_parse_survives_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200), len in any::<u64>()) {
        let _ = Header::parse(&bytes, len, Path::new("fuzz.slot"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(20_000) / 20, failure_persistence: None, ..ProptestConfig::default() })]

    /// Real files: open and read never panic, whatever the file holds.
    #[test]
    fn reader_survives_damaged_files((header, _) in mutated_header(), extra in 0usize..4096, fill in any::<u8>()) {
        let dir = Scratch::new("fuzz");
        let path = dir.path().join("f.slot");
        let mut bytes = header;
        bytes.resize(bytes.len() + extra, fill);
        std::fs::write(&path, &bytes).unwrap();
        if let Ok(mut r) = SlotReader::open(&path, false) {
            for _ in 0..3 {
                if let Ok(ReadOutcome::Frame(s)) = r.read() {
                    prop_assert_eq!(s.pixels.len(), s.header.pixel_bytes());
                }
            }
        }
    }
}
