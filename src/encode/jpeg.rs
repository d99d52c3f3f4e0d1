//! Scaling and JPEG encoding of RGBA frames: gbwatch's own baseline encoder (the default),
//! the jpeg-encoder crate, or libjpeg-turbo (feature `turbojpeg`).

use super::baseline::BaselineEncoder;
#[cfg(feature = "turbojpeg")]
use super::scale::scale_rgba;
use super::ycbcr::ScaledYcbcr;
use std::time::{Duration, Instant};

/// A JPEG encoding failure.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The encoding library failed; its message.
    #[error("JPEG encoding failed: {0}")]
    Encoder(String),
    /// The scaled width or height exceeds JPEG's 65535 limit; both are given.
    #[error("frame of {0}x{1} is too large for JPEG (limit 65535)")]
    TooLarge(usize, usize),
}

/// Which library encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// gbwatch's own baseline encoder, which codes each distinct 8x8 block of the upscaled
    /// frame once (`encode::baseline`).
    Gbwatch,
    /// The pure-Rust jpeg-encoder crate with its SIMD support.
    JpegEncoder,
    /// libjpeg-turbo through the turbojpeg crate.
    #[cfg(feature = "turbojpeg")]
    Turbo,
}

impl Backend {
    /// The fastest backend compiled in.
    pub fn best() -> Backend {
        #[cfg(feature = "turbojpeg")]
        return Backend::Turbo;
        #[cfg(not(feature = "turbojpeg"))]
        Backend::Gbwatch
    }

    /// The library's name, as stats report it.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Gbwatch => "gbwatch",
            Backend::JpegEncoder => "jpeg-encoder",
            #[cfg(feature = "turbojpeg")]
            Backend::Turbo => "libjpeg-turbo",
        }
    }
}

/// Scales and encodes RGBA8 images; keeps its working buffers between calls.
#[derive(Debug)]
pub struct JpegEncoder {
    backend: Backend,
    #[cfg(feature = "turbojpeg")]
    scaled: Vec<u8>,
    ycbcr: ScaledYcbcr,
    baseline: BaselineEncoder,
    #[cfg(feature = "turbojpeg")]
    turbo: Option<turbojpeg::Compressor>,
}

impl JpegEncoder {
    /// An encoder using `backend`; its buffers grow on first use.
    pub fn new(backend: Backend) -> JpegEncoder {
        JpegEncoder {
            backend,
            #[cfg(feature = "turbojpeg")]
            scaled: Vec::new(),
            ycbcr: ScaledYcbcr::default(),
            baseline: BaselineEncoder::default(),
            #[cfg(feature = "turbojpeg")]
            turbo: None,
        }
    }

    /// The backend it encodes with.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Scales `rgba` (`width * height * 4` bytes) by the integer factor `k` (nearest
    /// neighbour) and encodes it at `quality` (1–100). Returns the JPEG and the time spent
    /// scaling (and, for jpeg-encoder, converting colours).
    pub fn encode_scaled(
        &mut self,
        rgba: &[u8],
        width: usize,
        height: usize,
        k: usize,
        quality: u8,
    ) -> Result<(Vec<u8>, Duration), EncodeError> {
        let k = k.max(1);
        let (sw, sh) = (width * k, height * k);
        if sw > u16::MAX as usize || sh > u16::MAX as usize {
            return Err(EncodeError::TooLarge(sw, sh));
        }
        if rgba.len() < width * height * 4 {
            return Err(EncodeError::Encoder(format!(
                "{} bytes for a {width}x{height} RGBA frame",
                rgba.len()
            )));
        }
        let quality = quality.clamp(1, 100);
        let t0 = Instant::now();
        match self.backend {
            Backend::Gbwatch => {
                if width == 0 || height == 0 {
                    return Err(EncodeError::Encoder(format!(
                        "empty {width}x{height} frame"
                    )));
                }
                self.baseline.prepare(rgba, width, height, k);
                let scaled = t0.elapsed();
                let mut out = Vec::with_capacity(sw * sh / 4);
                self.baseline
                    .encode(&mut out, sw as u16, sh as u16, quality);
                Ok((out, scaled))
            }
            Backend::JpegEncoder if k == 1 => {
                // Nothing to scale: the crate's own SIMD colour conversion is fastest.
                let mut out = Vec::with_capacity(sw * sh / 4);
                jpeg_encoder_for(&mut out, quality)
                    .encode(rgba, sw as u16, sh as u16, jpeg_encoder::ColorType::Rgba)
                    .map_err(|e| EncodeError::Encoder(e.to_string()))?;
                Ok((out, Duration::ZERO))
            }
            Backend::JpegEncoder => {
                self.ycbcr.fill(rgba, width, height, k);
                let scaled = t0.elapsed();
                let mut out = Vec::with_capacity(sw * sh / 4);
                encode_ycbcr(&mut out, &self.ycbcr, quality)?;
                Ok((out, scaled))
            }
            #[cfg(feature = "turbojpeg")]
            Backend::Turbo => {
                scale_rgba(rgba, width, height, k, &mut self.scaled);
                let scaled = t0.elapsed();
                let comp = match &mut self.turbo {
                    Some(c) => c,
                    none => none.insert(
                        turbojpeg::Compressor::new()
                            .map_err(|e| EncodeError::Encoder(e.to_string()))?,
                    ),
                };
                comp.set_quality(quality.clamp(1, 100) as i32)
                    .map_err(|e| EncodeError::Encoder(e.to_string()))?;
                comp.set_subsamp(turbojpeg::Subsamp::Sub2x2)
                    .map_err(|e| EncodeError::Encoder(e.to_string()))?;
                let image = turbojpeg::Image {
                    pixels: &self.scaled[..],
                    width: sw,
                    pitch: sw * 4,
                    height: sh,
                    format: turbojpeg::PixelFormat::RGBA,
                };
                let out = comp
                    .compress_to_vec(image)
                    .map_err(|e| EncodeError::Encoder(e.to_string()))?;
                Ok((out, scaled))
            }
        }
    }
}

/// A jpeg-encoder writing into `out` at `quality`, 4:2:0 at every quality: 30-40% faster
/// at q90+ and indistinguishable on upscaled pixel art, whose chroma is constant over each
/// k x k block.
fn jpeg_encoder_for(out: &mut Vec<u8>, quality: u8) -> jpeg_encoder::Encoder<&mut Vec<u8>> {
    let mut enc = jpeg_encoder::Encoder::new(out, quality);
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    enc
}

fn encode_ycbcr(out: &mut Vec<u8>, image: &ScaledYcbcr, quality: u8) -> Result<(), EncodeError> {
    jpeg_encoder_for(out, quality)
        .encode_image(image.image())
        .map_err(|e| EncodeError::Encoder(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::scale_rgba;

    /// A frame with runs, edges and every channel varying.
    fn frame(w: usize, h: usize) -> Vec<u8> {
        (0..w * h)
            .flat_map(|i| {
                let (x, y) = (i % w, i / w);
                [
                    (x * 37 / 5) as u8,
                    (y * 11) as u8,
                    ((x ^ y) * 29) as u8,
                    255,
                ]
            })
            .collect()
    }

    /// The reference: scale the RGBA image, convert every pixel, encode the YCbCr bytes.
    fn reference(rgba: &[u8], w: usize, h: usize, k: usize, quality: u8) -> Vec<u8> {
        let mut scaled = Vec::new();
        scale_rgba(rgba, w, h, k, &mut scaled);
        let ycbcr: Vec<u8> = scaled
            .chunks_exact(4)
            .flat_map(|p| {
                let (y, cb, cr) = jpeg_encoder::rgb_to_ycbcr(p[0], p[1], p[2]);
                [y, cb, cr]
            })
            .collect();
        let mut out = Vec::new();
        jpeg_encoder_for(&mut out, quality)
            .encode(
                &ycbcr,
                (w * k) as u16,
                (h * k) as u16,
                jpeg_encoder::ColorType::Ycbcr,
            )
            .unwrap();
        out
    }

    #[test]
    fn fused_scaling_gives_the_same_jpeg_as_scaling_first() {
        let mut enc = JpegEncoder::new(Backend::JpegEncoder);
        for (w, h) in [(160, 144), (13, 7), (1, 1)] {
            let rgba = frame(w, h);
            for k in 2..=9 {
                let (jpeg, _) = enc.encode_scaled(&rgba, w, h, k, 90).unwrap();
                assert!(
                    jpeg == reference(&rgba, w, h, k, 90),
                    "{w}x{h} at {k}x differs from the reference"
                );
            }
        }
    }

    #[test]
    fn every_scale_decodes_to_the_scaled_size() {
        let rgba = frame(160, 144);
        for backend in [Backend::Gbwatch, Backend::JpegEncoder] {
            every_scale_decodes(&rgba, JpegEncoder::new(backend));
        }
    }

    fn every_scale_decodes(rgba: &[u8], mut enc: JpegEncoder) {
        for k in 1..=4 {
            let (jpeg, _) = enc.encode_scaled(rgba, 160, 144, k, 75).unwrap();
            let mut dec = jpeg_decoder::Decoder::new(&jpeg[..]);
            let pixels = dec.decode().unwrap();
            let info = dec.info().unwrap();
            assert_eq!(
                (info.width as usize, info.height as usize),
                (160 * k, 144 * k)
            );
            assert_eq!(pixels.len(), 160 * k * 144 * k * 3);
        }
    }

    #[test]
    fn short_pixels_are_an_error_at_every_scale() {
        for backend in [Backend::Gbwatch, Backend::JpegEncoder] {
            let mut enc = JpegEncoder::new(backend);
            for k in 1..=4 {
                let err = enc.encode_scaled(&[0; 100], 160, 144, k, 75).unwrap_err();
                assert!(err.to_string().contains("100 bytes for a 160x144"), "{err}");
            }
        }
    }

    #[test]
    fn empty_and_oversized_frames_are_refused() {
        let rgba = frame(10_000, 1);
        for backend in [Backend::Gbwatch, Backend::JpegEncoder] {
            let mut enc = JpegEncoder::new(backend);
            assert!(matches!(
                enc.encode_scaled(&rgba, 10_000, 1, 8, 75),
                Err(EncodeError::TooLarge(80_000, 8))
            ));
            assert!(enc.encode_scaled(&[], 0, 5, 2, 75).is_err());
        }
    }
}
