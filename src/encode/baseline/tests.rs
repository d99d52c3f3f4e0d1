//! The encoder's files read back by two independent decoders (jpeg-decoder, zune-jpeg):
//! the scaled size, and a PSNR against the nearest-neighbour upscale no worse than
//! jpeg-encoder's file of the same frame and quality. Remembering blocks changes no byte.

use super::BaselineEncoder;
use crate::encode::scale_rgba;
use crate::source::decode::{decode_jpeg, JpegBackend};
use proptest::prelude::*;

fn encode(enc: &mut BaselineEncoder, rgba: &[u8], w: usize, h: usize, k: usize, q: u8) -> Vec<u8> {
    enc.prepare(rgba, w, h, k);
    let mut out = Vec::new();
    enc.encode(&mut out, (w * k) as u16, (h * k) as u16, q);
    out
}

/// jpeg-encoder's file of the scaled frame, 4:2:0 as ours.
fn jpeg_encoder_file(scaled: &[u8], sw: usize, sh: usize, q: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, q);
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    enc.encode(scaled, sw as u16, sh as u16, jpeg_encoder::ColorType::Rgba)
        .unwrap();
    out
}

/// A small LCG: the tests' frames are the same on every run.
fn lcg(seed: &mut u64) -> u32 {
    *seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (*seed >> 33) as u32
}

/// Pixel art: `colours` colours in 8x8 tiles, four distinct tiles repeated over the frame.
fn pixel_art(w: usize, h: usize, colours: usize, mut seed: u64) -> Vec<u8> {
    let palette: Vec<[u8; 4]> = (0..colours)
        .map(|_| {
            let c = lcg(&mut seed);
            [c as u8, (c >> 8) as u8, (c >> 16) as u8, 255]
        })
        .collect();
    let tiles: Vec<Vec<usize>> = (0..4)
        .map(|_| (0..64).map(|_| lcg(&mut seed) as usize % colours).collect())
        .collect();
    let mut rgba = Vec::with_capacity(w * h * 4);
    for y in 0..h {
        for x in 0..w {
            let tile = &tiles[(x / 8 + y / 8 * 3) % 4];
            rgba.extend_from_slice(&palette[tile[y % 8 * 8 + x % 8]]);
        }
    }
    rgba
}

/// Every channel of every pixel random.
fn noise(w: usize, h: usize, mut seed: u64) -> Vec<u8> {
    (0..w * h)
        .flat_map(|_| {
            let c = lcg(&mut seed);
            [c as u8, (c >> 8) as u8, (c >> 16) as u8, 255]
        })
        .collect()
}

/// PSNR of decoded RGB against RGBA, in dB (99 when equal).
fn psnr(rgba: &[u8], rgb: &[u8]) -> f64 {
    let (mut err, mut n) = (0f64, 0f64);
    for (a, b) in rgba.chunks_exact(4).zip(rgb.chunks_exact(3)) {
        for c in 0..3 {
            err += (a[c] as f64 - b[c] as f64).powi(2);
            n += 1.0;
        }
    }
    if err == 0.0 {
        return 99.0;
    }
    10.0 * (255f64.powi(2) * n / err).log10()
}

/// Decodes `ours` and the reference with both decoders: each must give the scaled size, and
/// ours must be within `margin` dB of the reference's PSNR.
fn check(rgba: &[u8], w: usize, h: usize, k: usize, q: u8, ours: &[u8], margin: f64) {
    let mut scaled = Vec::new();
    scale_rgba(rgba, w, h, k, &mut scaled);
    let reference = jpeg_encoder_file(&scaled, w * k, h * k, q);
    for backend in [JpegBackend::JpegDecoder, JpegBackend::Zune] {
        let what = format!("{w}x{h} at {k}x q{q} by {}", backend.name());
        let img = decode_jpeg(ours, backend).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(
            (img.width, img.height),
            ((w * k) as u32, (h * k) as u32),
            "{what}"
        );
        let refimg = decode_jpeg(&reference, backend).unwrap();
        let (p, p_ref) = (psnr(&scaled, &img.pixels), psnr(&scaled, &refimg.pixels));
        assert!(
            p >= p_ref - margin,
            "{what}: PSNR {p:.2} dB, jpeg-encoder's {p_ref:.2}"
        );
    }
}

#[test]
fn decoders_read_back_the_scaled_frame_as_well_as_jpeg_encoders_file() {
    let mut enc = BaselineEncoder::default();
    for (w, h) in [(160, 144), (13, 7), (1, 1), (17, 33)] {
        // A few colours round as luck has it: only a bigger frame averages that out.
        let margin = if w * h >= 400 { 0.3 } else { 3.0 };
        for k in 1..=4 {
            for q in [50, 75, 90, 95] {
                let art = pixel_art(w, h, 4, (w * h * k) as u64);
                let ours = encode(&mut enc, &art, w, h, k, q);
                check(&art, w, h, k, q, &ours, margin);
                let rand = noise(w, h, q as u64);
                let ours = encode(&mut enc, &rand, w, h, k, q);
                check(&rand, w, h, k, q, &ours, margin);
            }
        }
    }
}

#[test]
fn a_grey_frame_decodes_to_its_grey() {
    let rgba = [[77, 77, 77, 255]; 40 * 24].concat();
    let jpeg = encode(&mut BaselineEncoder::default(), &rgba, 40, 24, 3, 75);
    let img = decode_jpeg(&jpeg, JpegBackend::JpegDecoder).unwrap();
    assert!(
        img.pixels.iter().all(|&v| v == 77),
        "{:?}",
        &img.pixels[..12]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random sizes, scales, qualities and frames: the memo changes no byte, both decoders
    /// read the file, and its PSNR is within 3 dB of jpeg-encoder's (frames of one or two
    /// colours are at the mercy of how a single DC rounds).
    #[test]
    fn any_frame_codes_the_same_with_or_without_the_memo(
        w in 1usize..48, h in 1usize..48, k in 1usize..7, q in 1u8..=100,
        colours in 1usize..6, seed: u64, random in any::<bool>(),
    ) {
        let rgba = if random { noise(w, h, seed) } else { pixel_art(w, h, colours, seed) };
        let ours = encode(&mut BaselineEncoder::default(), &rgba, w, h, k, q);
        let fresh = encode(&mut BaselineEncoder::forgetful(), &rgba, w, h, k, q);
        prop_assert!(ours == fresh, "{w}x{h} at {k}x q{q}: the memo changed the file");
        check(&rgba, w, h, k, q, &ours, 3.0);
    }
}
