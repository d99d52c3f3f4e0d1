//! The recording file format (see RECORDING.md): its numbers (`layout.rs`), the file
//! header (`header.rs`), errors (`error.rs`), writing (`write.rs`) and reading (`read.rs`).

mod error;
mod header;
mod layout;
mod motion;
mod pack;
mod read;
mod write;

pub use error::{Damage, RecordingError, Truncation};
pub use header::RecordingHeader;
pub use layout::{
    FILE_HEADER_SIZE, KEYFRAME_INTERVAL, MAGIC, MAX_DIMENSION, OLDEST_VERSION, RECORD_HEADER_SIZE,
    VERSION, ZSTD_LEVEL,
};
pub use read::{DecodedFrame, RecordingInput, RecordingReader};
pub use write::RecordingWriter;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::info::Info;
    use proptest::prelude::*;

    const W: u32 = 16;
    const H: u32 = 12;

    /// Frames with few colours that scroll, then one with more than 256 colours.
    fn frames(count: usize) -> Vec<Vec<u8>> {
        (0..count)
            .map(|i| {
                let mut f = Vec::new();
                for y in 0..H as usize {
                    for x in 0..W as usize {
                        let v = if i % 7 == 6 {
                            // Many colours: every pixel its own.
                            [(x * 16) as u8, (y * 20) as u8, i as u8, 255]
                        } else {
                            let shade = (((x + i) / 3 + y) % 4) as u8 * 60 + (i / 10) as u8;
                            [shade, shade, shade, 255]
                        };
                        f.extend_from_slice(&v);
                    }
                }
                f
            })
            .collect()
    }

    fn encode(frames: &[Vec<u8>]) -> Vec<u8> {
        encode_as(frames, false)
    }

    /// `frames` recorded as files are (kinds 1-4) or, `moved`, as the history holds them.
    fn encode_as(frames: &[Vec<u8>], moved: bool) -> Vec<u8> {
        let mut w = RecordingWriter::new(Vec::new(), W, H).unwrap();
        if moved {
            w.predict_moved();
        }
        for (i, f) in frames.iter().enumerate() {
            w.write_frame(100 + i as u64, i as u64 * 16_666_667, f)
                .unwrap();
        }
        w.finish().unwrap()
    }

    /// Decodes every frame until the end or the first error.
    /// (frame index, timestamp, pixels) of each decoded frame.
    type Decoded = Vec<(u64, u64, Vec<u8>)>;

    fn decode_all(bytes: Vec<u8>) -> (Decoded, Option<RecordingError>) {
        let mut r = match RecordingReader::from_vec(bytes) {
            Ok(r) => r,
            Err(e) => return (Vec::new(), Some(e)),
        };
        let mut out = Vec::new();
        loop {
            match r.next_frame() {
                Ok(Some(f)) => out.push((f.frame_index, f.timestamp_ns, f.pixels.to_vec())),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    #[test]
    fn round_trip_is_exact() {
        let input = frames(300);
        for moved in [false, true] {
            let (out, err) = decode_all(encode_as(&input, moved));
            assert!(err.is_none(), "{err:?}");
            assert_eq!(out.len(), input.len());
            for (i, (idx, ts, px)) in out.iter().enumerate() {
                assert_eq!(*idx, 100 + i as u64);
                assert_eq!(*ts, i as u64 * 16_666_667);
                assert!(px == &input[i], "frame {i} differs (moved: {moved})");
            }
        }
    }

    #[test]
    fn palettes_of_one_to_six_colours_and_a_new_colour_anywhere_round_trip() {
        let shade = |k: u8| [k * 40, k * 40, k * 40, 255];
        let mut input = Vec::new();
        for colours in 1..=6u8 {
            for at in [0, 5, 16 * 7 + 3, (W * H) as usize - 1] {
                // `colours - 1` shades everywhere, the last shade only at pixel `at`.
                let f: Vec<u8> = (0..(W * H) as usize)
                    .flat_map(|i| match i == at {
                        true => shade(colours - 1),
                        false => shade((i % (colours as usize - 1).max(1)) as u8),
                    })
                    .collect();
                input.push(f);
            }
        }
        for moved in [false, true] {
            let (out, err) = decode_all(encode_as(&input, moved));
            assert!(err.is_none(), "{err:?}");
            assert_eq!(out.len(), input.len());
            for (i, (_, _, px)) in out.iter().enumerate() {
                assert!(px == &input[i], "frame {i} differs (moved: {moved})");
            }
        }
    }

    #[test]
    fn truncation_names_the_offset_and_keeps_earlier_frames() {
        let input = frames(20);
        let bytes = encode(&input);
        let cut = bytes.len() - 5;
        let (out, err) = decode_all(bytes[..cut].to_vec());
        assert_eq!(out.len(), 19);
        let err = err.expect("an error");
        let msg = err.to_string();
        assert!(matches!(err, RecordingError::Truncated { .. }), "{msg}");
        assert!(msg.contains("at byte "), "{msg}");
        assert!(err.offset().unwrap() < cut as u64);
    }

    #[test]
    fn flipped_byte_names_the_record() {
        let input = frames(20);
        let mut bytes = encode(&input);
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x40;
        let (out, err) = decode_all(bytes);
        let err = err.expect("an error");
        let off = err.offset().unwrap() as usize;
        assert!(off <= mid, "damage reported at {off}, flipped {mid}");
        assert!(!out.is_empty() && out.len() < 20);
        for (i, (_, _, px)) in out.iter().enumerate() {
            assert!(px == &input[i]);
        }
        assert!(
            err.to_string().starts_with("recording damaged at byte "),
            "{err}"
        );
    }

    #[test]
    fn bad_headers_are_refused() {
        let bytes = encode(&frames(2));
        let mut v = bytes.clone();
        v[0] = b'X';
        assert!(matches!(
            RecordingReader::from_vec(v).err(),
            Some(RecordingError::BadMagic)
        ));
        let mut v = bytes.clone();
        v[8] = 9;
        assert!(matches!(
            RecordingReader::from_vec(v).err(),
            Some(RecordingError::Version(9))
        ));
        let mut v = bytes;
        v[13] ^= 1;
        assert!(RecordingReader::from_vec(v)
            .err()
            .unwrap()
            .to_string()
            .contains("at byte 0"));
        assert!(RecordingWriter::new(Vec::new(), 0, 10).is_err());
    }

    #[test]
    fn info_is_kept_with_its_frame() {
        let input = frames(10);
        let mut w = RecordingWriter::new(Vec::new(), W, H).unwrap();
        for (i, f) in input.iter().enumerate() {
            let mut info = Info::new();
            info.push("step", crate::info::Scalar::Int(i as i64))
                .unwrap();
            // Every third frame has none.
            let info = (i % 3 != 2).then_some(info);
            w.write_frame_with_info(i as u64, i as u64, f, info.as_ref())
                .unwrap();
        }
        let bytes = w.finish().unwrap();
        let mut r = RecordingReader::from_vec(bytes.clone()).unwrap();
        assert_eq!(r.header().version, VERSION);
        let mut i = 0;
        while let Some(f) = r.next_frame().unwrap() {
            assert!(f.pixels == &input[i][..]);
            match f.info {
                Some(info) => assert_eq!(info.line(), format!("step={i}")),
                None => assert_eq!(i % 3, 2),
            }
            i += 1;
        }
        assert_eq!(i, 10);
        // Damage inside an info section is caught by the record's checksum.
        let mut v = bytes;
        let at = v.len() - 3;
        v[at] ^= 1;
        let (out, err) = decode_all(v);
        assert_eq!(out.len(), 9);
        assert!(err.unwrap().to_string().contains("checksum"));
    }

    #[test]
    fn version_1_recordings_still_play_without_info() {
        let mut r = RecordingReader::from_bytes(crate::source::recording::DEMO_RECORDING).unwrap();
        assert_eq!(
            r.header().version,
            1,
            "the built-in demo is a version 1 file"
        );
        let f = r.next_frame().unwrap().unwrap();
        assert!(f.info.is_none());
    }

    #[test]
    fn rewind_replays_from_the_start() {
        let input = frames(10);
        let mut r = RecordingReader::from_vec(encode(&input)).unwrap();
        while r.next_frame().unwrap().is_some() {}
        r.rewind().unwrap();
        assert_eq!(r.peek_timestamp().unwrap(), Some(0));
        assert!(r.next_frame().unwrap().unwrap().pixels == &input[0][..]);
    }

    proptest! {
        #![proptest_config(crate::fixtures::fuzz_config(2000))]

        #[test]
        fn mutated_recordings_never_panic(
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
            cut in proptest::option::of(any::<usize>()),
            moved in any::<bool>(),
        ) {
            let mut bytes = encode_as(&frames(12), moved);
            for (pos, val) in edits {
                let n = bytes.len();
                bytes[pos % n] = val;
            }
            if let Some(c) = cut {
                let n = bytes.len();
                bytes.truncate(c % n);
            }
            let (_frames, err) = decode_all(bytes);
            if let Some(e) = err {
                prop_assert!(!e.to_string().contains('\n'));
            }
        }

    }

    proptest! {
        #![proptest_config(crate::fixtures::fuzz_config(1000))]

        #[test]
        fn random_bytes_never_panic(
            tail in proptest::collection::vec(any::<u8>(), 0..400),
            header in any::<bool>(),
        ) {
            let mut bytes = Vec::new();
            if header {
                bytes.extend_from_slice(&encode(&frames(1))[..FILE_HEADER_SIZE]);
            }
            bytes.extend_from_slice(&tail);
            let _ = decode_all(bytes);
        }
    }
}
