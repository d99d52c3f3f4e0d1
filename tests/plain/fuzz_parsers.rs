//! Property-based fuzzing of the HTTP request parser and of image decoding (hostile JPEG
//! and PNG input). 20 000 cases per property in the normal run;
//! `GBWATCH_FUZZ_CASES=1000000 cargo test --release --test plain fuzz_parsers` for the long one.

use crate::common;

use gbwatch::encode::{Backend, JpegEncoder};
use gbwatch::serve::parse_request;
use gbwatch::source::decode::decode_image;
use proptest::prelude::*;
use std::sync::OnceLock;

use common::fuzz_cases as cases;

fn requests() -> impl Strategy<Value = Vec<u8>> {
    let valid = prop_oneof![
        Just(b"GET /api/screenshot HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        Just(
            b"POST /api/streaming/quality/high HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
                .to_vec()
        ),
        Just(b"GET /stream?source=env-00 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        Just(b"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\n\r\n".to_vec()),
    ];
    (
        valid,
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(mut bytes, edits, cut)| {
            for (at, v) in edits {
                let i = at.index(bytes.len());
                bytes[i] = v;
            }
            let keep = cut.index(bytes.len() + 1);
            bytes.truncate(keep.max(bytes.len() * 3 / 4));
            bytes
        })
}

/// A real JPEG and PNG of a PyBoy-sized frame, made by the project's own code.
fn samples() -> &'static (Vec<u8>, Vec<u8>) {
    static S: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    S.get_or_init(|| {
        let rgba: Vec<u8> = (0..160 * 144 * 4).map(|i| ((i * 7) % 251) as u8).collect();
        let jpeg = JpegEncoder::new(Backend::JpegEncoder)
            .encode_scaled(&rgba, 160, 144, 1, 75)
            .unwrap()
            .0;
        let mut png_bytes = Vec::new();
        let mut enc = png::Encoder::new(&mut png_bytes, 160, 144);
        enc.set_color(png::ColorType::Rgba);
        enc.write_header().unwrap().write_image_data(&rgba).unwrap();
        (jpeg, png_bytes)
    })
}

fn mutated_image() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<bool>(),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(jpeg, edits, cut)| {
            let (j, p) = samples();
            let mut bytes = if jpeg { j.clone() } else { p.clone() };
            for (at, v) in edits {
                let i = at.index(bytes.len());
                bytes[i] = v;
            }
            bytes.truncate(cut.index(bytes.len() + 1).max(2));
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(20_000), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn http_requests_parse_or_are_refused_never_panic(bytes in requests()) {
        if let Ok(req) = parse_request(&bytes) {
            // A parsed path never climbs out of the site.
            prop_assert!(!req.path.split('/').any(|seg| seg == ".."), "{:?}", req.path);
            prop_assert!(req.path.starts_with('/'));
        }
    }

    #[test]
    fn http_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_request(&bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(20_000) / 10, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn hostile_images_decode_or_fail_never_panic(bytes in mutated_image()) {
        if let Ok(img) = decode_image(&bytes) {
            let bpp = img.format.bytes_per_pixel();
            prop_assert_eq!(img.pixels.len(), img.width as usize * img.height as usize * bpp);
        }
    }

    #[test]
    fn random_bytes_are_not_images(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = decode_image(&bytes);
    }
}
