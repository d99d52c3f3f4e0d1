//! Property-based fuzzing of the compact stream's parser (mutated real streams, random
//! bytes, any split into reads) and of the viewer's request lines: never a panic, memory
//! bounded by the largest message. 20 000 cases per property in the normal run;
//! `GBWATCH_FUZZ_CASES=1000000 cargo test --release --test plain fuzz_stream` for the long one.

use crate::common;

use common::fuzz_cases as cases;
use gbwatch::source::recording::RecordingWriter;
use gbwatch::source::stream::FrameDecoder;
use gbwatch::stream::wire::{head, HEAD_SIZE, MAX_MESSAGE};
use gbwatch::stream::{Message, Request, SourceEntry, StreamParser};
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::OnceLock;

/// A real stream: a source list and frames of two sources, made by the project's own code.
fn sample() -> &'static Vec<u8> {
    static S: OnceLock<Vec<u8>> = OnceLock::new();
    S.get_or_init(|| {
        let mut bytes = head().to_vec();
        let list = vec![
            SourceEntry {
                id: 0,
                name: "env-0".into(),
                online: true,
            },
            SourceEntry {
                id: 1,
                name: "box/env 1".into(),
                online: false,
            },
        ];
        bytes.extend(Message::Sources(list).encode());
        let mut writers = [
            RecordingWriter::new(Vec::new(), 16, 8).unwrap(),
            RecordingWriter::new(Vec::new(), 16, 8).unwrap(),
        ];
        for i in 0..3u64 {
            let rgba: Vec<u8> = (0..16 * 8 * 4)
                .map(|p| ((p as u64 * (i + 3)) % 4 * 80) as u8)
                .collect();
            let id = (i % 2) as u16;
            let writer = &mut writers[id as usize];
            writer.write_frame(i, i * 1000, &rgba).unwrap();
            let data = std::mem::take(writer.get_mut());
            bytes.extend(
                Message::Frame {
                    id,
                    published_ns: Some(i),
                    data,
                }
                .encode(),
            );
        }
        bytes.extend(Message::Notice("request refused: x".into()).encode());
        bytes
    })
}

fn mutated_stream() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(edits, cut)| {
            let mut bytes = sample().clone();
            for (at, v) in edits {
                let i = at.index(bytes.len());
                bytes[i] = v;
            }
            bytes.truncate(cut.index(bytes.len() + 1));
            bytes
        })
}

/// Decodes every frame message as the viewer does: a damaged frame is an error, not a panic.
fn decode_frames(messages: &mut Vec<Message>) {
    let mut decoders: HashMap<u16, FrameDecoder> = HashMap::new();
    for m in messages.drain(..) {
        if let Message::Frame { id, data, .. } = m {
            if let Ok(Some(f)) = decoders.entry(id).or_default().decode(&data) {
                assert_eq!(f.pixels.len(), (f.width * f.height * 4) as usize);
            }
        }
    }
}

fn parse_in_pieces(bytes: &[u8], pieces: &[prop::sample::Index]) {
    let mut parser = StreamParser::new();
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut i = 0;
    while !rest.is_empty() {
        let n = pieces
            .get(i)
            .map_or(rest.len(), |p| p.index(rest.len()) + 1);
        i += 1;
        let failed = parser.push(&rest[..n], &mut out).is_err();
        decode_frames(&mut out);
        assert!(parser.buffered() <= HEAD_SIZE + 5 + MAX_MESSAGE);
        if failed {
            // Once broken, it stays broken and holds nothing.
            assert!(parser.push(b"more", &mut out).is_err());
            assert_eq!(parser.buffered(), 0);
            return;
        }
        rest = &rest[n..];
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(20_000)))]

    #[test]
    fn mutated_streams_never_panic(bytes in mutated_stream(), pieces in proptest::collection::vec(any::<prop::sample::Index>(), 0..6)) {
        parse_in_pieces(&bytes, &pieces);
    }

    #[test]
    fn random_bytes_after_a_good_head_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..512), pieces in proptest::collection::vec(any::<prop::sample::Index>(), 0..4)) {
        let mut bytes = head().to_vec();
        bytes.extend(tail);
        parse_in_pieces(&bytes, &pieces);
    }

    #[test]
    fn request_lines_never_panic_and_round_trip(line in "\\PC{0,200}", fps in 0u32..=240, names in proptest::collection::vec("\\PC{1,20}", 1..4)) {
        let _ = Request::parse(&line);
        let names: Vec<String> = names.into_iter().map(|n| n.split_whitespace().collect::<Vec<_>>().join("_")).filter(|n| !n.is_empty()).collect();
        prop_assume!(!names.is_empty());
        let r = Request::Rate(fps, names);
        prop_assert_eq!(Request::parse(&r.to_line()), Ok(r));
    }

    #[test]
    fn random_request_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Request::parse(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn the_sample_parses_whole() {
    let mut out = Vec::new();
    StreamParser::new().push(sample(), &mut out).unwrap();
    assert_eq!(out.len(), 5);
    let mut decoders: HashMap<u16, FrameDecoder> = HashMap::new();
    let mut decoded = 0;
    for m in out {
        if let Message::Frame { id, data, .. } = m {
            if let Ok(Some(_)) = decoders.entry(id).or_default().decode(&data) {
                decoded += 1;
            }
        }
    }
    assert_eq!(decoded, 3);
}

#[test]
fn a_huge_length_is_refused_before_it_is_buffered() {
    let mut bytes = head().to_vec();
    bytes.push(2);
    bytes.extend_from_slice(&u32::MAX.to_le_bytes());
    let mut out = Vec::new();
    let err = StreamParser::new().push(&bytes, &mut out).unwrap_err();
    assert!(err.to_string().contains("at most 8388608"), "{err}");
}
