//! Scale + encode once per frame content and settings, whoever asks.

use super::jpeg::{Backend, EncodeError, JpegEncoder};
use crate::frame::Frame;
use crate::pipeline::{FeedStats, Stage};
use std::sync::Arc;
use std::time::Instant;

/// An encoded frame and what it was made from.
#[derive(Debug, Clone)]
pub struct EncodedJpeg {
    /// The JPEG file's bytes.
    pub jpeg: Arc<Vec<u8>>,
    /// Width of the JPEG in pixels (the frame's times the scale).
    pub width: usize,
    /// Height of the JPEG in pixels (the frame's times the scale).
    pub height: usize,
    /// The frame this was asked for (also when the JPEG was reused).
    pub frame_index: u64,
    /// True when the JPEG was reused (identical pixels, same settings): no work was done.
    pub reused: bool,
}

/// Encodes frames, reusing the previous JPEG when the pixels and settings are unchanged.
#[derive(Debug)]
pub struct JpegCache {
    encoder: JpegEncoder,
    last: Option<((u64, u32, u8), EncodedJpeg)>,
}

impl JpegCache {
    /// An empty cache encoding with `backend`.
    pub fn new(backend: Backend) -> JpegCache {
        JpegCache {
            encoder: JpegEncoder::new(backend),
            last: None,
        }
    }

    /// Scales by `scale` and encodes at `quality`, recording scale and encode latencies
    /// into `stats` when the work is done (not when reused).
    pub fn encode(
        &mut self,
        frame: &Frame,
        scale: u32,
        quality: u8,
        stats: Option<&FeedStats>,
    ) -> Result<EncodedJpeg, EncodeError> {
        let key = (frame.content_id, scale, quality);
        if let Some((k, enc)) = &self.last {
            if *k == key && frame.content_id != 0 {
                return Ok(EncodedJpeg {
                    frame_index: frame.frame_index,
                    reused: true,
                    ..enc.clone()
                });
            }
        }
        let (w, h, k) = (
            frame.width as usize,
            frame.height as usize,
            scale.max(1) as usize,
        );
        let t0 = Instant::now();
        let (jpeg, scale_time) = self
            .encoder
            .encode_scaled(&frame.pixels, w, h, k, quality)?;
        if let Some(stats) = stats {
            stats.record(Stage::Scale, scale_time);
            stats.record(Stage::Encode, t0.elapsed().saturating_sub(scale_time));
        }
        let enc = EncodedJpeg {
            jpeg: Arc::new(jpeg),
            width: w * k,
            height: h * k,
            frame_index: frame.frame_index,
            reused: false,
        };
        self.last = Some((key, enc.clone()));
        Ok(enc)
    }
}
