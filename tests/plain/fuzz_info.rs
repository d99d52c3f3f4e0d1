//! Property-based fuzzing of the info decoder: mutated and random info areas never panic,
//! never take memory beyond their own size, and fail with one line; a damaged info area in a
//! real slot costs only the info, never the frame. `GBWATCH_FUZZ_CASES` sets the case count
//! (20 000 by default, as in fuzz_slot).

use crate::common;

use common::Scratch;
use gbwatch::frame::PixelFormat;
use gbwatch::info::{Info, Scalar, MAX_ENCODED, MAX_FIELDS};
use gbwatch::slot::{decode_info_area, slot_path, ReadOutcome, SlotReader, SlotWriter};
use proptest::prelude::*;

fn cases(default: u32) -> u32 {
    std::env::var("GBWATCH_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        any::<i64>().prop_map(Scalar::Int),
        (-1e12f64..1e12).prop_map(Scalar::Float),
        any::<bool>().prop_map(Scalar::Bool),
        "[a-zA-Z0-9 é_]{0,40}".prop_map(Scalar::Str),
    ]
}

/// A valid info of up to 40 fields (more than the limit, so that case is covered).
fn info() -> impl Strategy<Value = Info> {
    proptest::collection::vec(("[a-z_]{1,12}", scalar()), 0..40).prop_map(|fields| {
        let mut info = Info::new();
        for (k, v) in fields {
            let _ = info.push(k, v);
        }
        info
    })
}

/// The heap an info holds, roughly: what "bounded memory" is checked against.
fn held_bytes(info: &Info) -> usize {
    info.fields()
        .iter()
        .map(|(k, v)| {
            k.len()
                + match v {
                    Scalar::Str(s) => s.len(),
                    _ => 8,
                }
        })
        .sum()
}

fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    match Info::decode(bytes) {
        Ok(info) => {
            prop_assert!(info.len() <= MAX_FIELDS);
            prop_assert!(held_bytes(&info) <= bytes.len() * 8);
            // What decodes is canonical: encoding it again gives the same bytes.
            prop_assert_eq!(info.encode().unwrap(), bytes.to_vec());
        }
        Err(e) => {
            let msg = e.to_string();
            prop_assert!(!msg.contains('\n') && !msg.is_empty(), "{}", msg);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(20_000), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn valid_infos_round_trip(info in info()) {
        let bytes = info.encode().unwrap();
        prop_assert!(bytes.len() <= MAX_ENCODED);
        prop_assert_eq!(Info::decode(&bytes).unwrap(), info);
    }

    #[test]
    fn mutated_infos_never_panic(
        info in info(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
        cut in proptest::option::of(any::<usize>()),
        tail in proptest::collection::vec(any::<u8>(), 0..16),
    ) {
        let mut bytes = info.encode().unwrap();
        let n = bytes.len();
        for (pos, v) in edits {
            bytes[pos % n] = v;
        }
        if let Some(c) = cut {
            bytes.truncate(c % (n + 1));
        }
        bytes.extend_from_slice(&tail);
        check(&bytes)?;
    }

    #[test]
    fn random_infos_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..5000)) {
        check(&bytes)?;
    }

    #[test]
    fn random_info_areas_never_panic(
        len in any::<u32>(),
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut area = len.to_le_bytes().to_vec();
        area.extend_from_slice(&body);
        if let Err(e) = decode_info_area(&area) {
            prop_assert!(!e.to_string().contains('\n'));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(20_000) / 40, failure_persistence: None, ..ProptestConfig::default() })]

    /// Real slot files: a damaged info area is reported on the snapshot, and the frame
    /// still arrives with the right pixels.
    #[test]
    fn damaged_info_in_a_slot_costs_only_the_info(
        info in info(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
    ) {
        let dir = Scratch::new("fuzz-info");
        let mut w = SlotWriter::create(dir.path(), "f", 8, 4, PixelFormat::Rgba).unwrap();
        let mut bytes = info.encode().unwrap();
        let n = bytes.len();
        for (pos, v) in &edits {
            bytes[pos % n] = *v;
        }
        let pixels: Vec<u8> = (0..8 * 4 * 4).map(|i| i as u8).collect();
        w.publish_encoded(&pixels, 5, Some(&bytes)).unwrap();
        let mut r = SlotReader::open(&slot_path(dir.path(), "f"), false).unwrap();
        let ReadOutcome::Frame(snap) = r.read().unwrap() else {
            return Err(TestCaseError::fail("no frame"));
        };
        prop_assert_eq!(&snap.pixels, &pixels);
        prop_assert_eq!(snap.header.frame_index, 5);
        match (Info::decode(&bytes), snap.info, snap.info_error) {
            (Ok(want), Some(got), None) => prop_assert_eq!(&want, &*got),
            (Err(want), None, Some(got)) => prop_assert_eq!(want, got),
            (want, got, err) => {
                return Err(TestCaseError::fail(format!("decode {want:?} but read {got:?} / {err:?}")))
            }
        }
    }
}
