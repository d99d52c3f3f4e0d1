//! Decoding JPEG and PNG images from other programs (HTTP servers, files) into frames.
//!
//! JPEGs go to zune-jpeg (about 2.5x faster than jpeg-decoder on Game Boy frames, see
//! `examples/bench_decode.rs`) when they are single-scan baseline files, and to jpeg-decoder
//! otherwise: zune-jpeg 0.5.15 silently decodes garbage from multi-scan baseline files such as
//! jpeg-encoder's optimized-Huffman output, so it only gets the layout it decodes correctly.

use crate::frame::PixelFormat;

/// Largest width or height accepted, so a corrupt header cannot ask for gigabytes.
pub const MAX_DIMENSION: usize = 8192;

/// What kind of image a byte string holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// A JPEG (starts `FF D8 FF`).
    Jpeg,
    /// A PNG (the 8-byte PNG signature).
    Png,
}

/// The JPEG decoders gbwatch can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JpegBackend {
    /// zune-jpeg for single-scan baseline files, jpeg-decoder for the rest (the default).
    Auto,
    /// zune-jpeg always (wrong on multi-scan files; for benchmarks).
    Zune,
    /// jpeg-decoder always.
    JpegDecoder,
    /// libjpeg-turbo.
    #[cfg(feature = "turbojpeg")]
    Turbo,
}

impl JpegBackend {
    /// The backend's short name.
    pub fn name(self) -> &'static str {
        match self {
            JpegBackend::Auto => "auto",
            JpegBackend::Zune => "zune-jpeg",
            JpegBackend::JpegDecoder => "jpeg-decoder",
            #[cfg(feature = "turbojpeg")]
            JpegBackend::Turbo => "libjpeg-turbo",
        }
    }
}

/// A decoded image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Pixel format of `pixels`.
    pub format: PixelFormat,
    /// Tightly packed rows in `format`.
    pub pixels: Vec<u8>,
}

impl Decoded {
    /// The decoded image as a source frame; its age will count from arrival.
    pub fn into_raw_frame(self, frame_index: u64) -> super::RawFrame {
        super::RawFrame {
            frame_index,
            published_ns: None,
            width: self.width,
            height: self.height,
            format: self.format,
            stride: self.width as usize * self.format.bytes_per_pixel(),
            pixels: self.pixels,
            retries: 0,
            published_total: None,
            publisher_cost_ns: None,
            info: None,
            info_error: None,
        }
    }
}

/// Why an image could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Neither JPEG nor PNG; a description of its first bytes.
    #[error("not a JPEG or PNG image (starts with {0})")]
    NotImage(String),
    /// The image (`JPEG` or `PNG`) ends before its end marker.
    #[error("incomplete {0} (no end marker)")]
    Truncated(&'static str),
    /// The JPEG decoder's error.
    #[error("bad JPEG: {0}")]
    Jpeg(String),
    /// The PNG decoder's error.
    #[error("bad PNG: {0}")]
    Png(String),
    /// The width or height exceeds [`MAX_DIMENSION`]; both are given.
    #[error("image of {0}x{1} is larger than {MAX_DIMENSION}x{MAX_DIMENSION}")]
    TooLarge(usize, usize),
}

/// Recognises JPEG and PNG by their first bytes.
pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageKind::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageKind::Png)
    } else {
        None
    }
}

/// Decodes a complete JPEG or PNG with the default decoders.
pub fn decode_image(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    match sniff(bytes) {
        Some(ImageKind::Jpeg) => decode_jpeg(bytes, JpegBackend::Auto),
        Some(ImageKind::Png) => decode_png(bytes),
        None => Err(DecodeError::NotImage(describe_start(bytes))),
    }
}

/// A short printable description of the first bytes, for error messages.
pub fn describe_start(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "nothing: empty body".into();
    }
    let head = &bytes[..bytes.len().min(12)];
    if head
        .iter()
        .all(|b| b.is_ascii_graphic() || *b == b' ' || *b == b'\n' || *b == b'\r')
    {
        let text: String = String::from_utf8_lossy(head)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        format!("{:?}", text.trim_end())
    } else {
        head.iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// True when the JPEG ends with its end-of-image marker (trailing CR/LF/NUL padding allowed).
pub fn jpeg_complete(bytes: &[u8]) -> bool {
    let mut end = bytes.len();
    while end > 0 && matches!(bytes[end - 1], b'\r' | b'\n' | 0) && bytes.len() - end < 16 {
        end -= 1;
    }
    end >= 4 && bytes[end - 2..end] == [0xFF, 0xD9]
}

/// True for a baseline (SOF0/SOF1) JPEG with exactly one scan: the layout zune-jpeg decodes
/// correctly.
pub fn single_scan_baseline(bytes: &[u8]) -> bool {
    let mut i = 2; // after SOI
    let mut baseline = false;
    // Marker segments up to the first scan.
    loop {
        // Skip fill bytes.
        while i < bytes.len() && bytes[i] == 0xFF && bytes.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        if i + 4 > bytes.len() || bytes[i] != 0xFF {
            return false;
        }
        let marker = bytes[i + 1];
        let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
        match marker {
            0xC0 | 0xC1 => baseline = true,
            0xC2..=0xCF if marker != 0xC4 && marker != 0xC8 && marker != 0xCC => return false,
            0xDA => {
                i += 2 + len;
                break;
            }
            _ => {}
        }
        i += 2 + len;
    }
    if !baseline {
        return false;
    }
    // Entropy-coded data: every 0xFF is followed by 0x00 (stuffing), a restart marker or a real
    // marker, so a second SOS here is a second scan.
    bytes
        .get(i..)
        .unwrap_or(&[])
        .windows(2)
        .all(|w| w != [0xFF, 0xDA])
}

/// Decodes a complete JPEG with `backend`.
pub fn decode_jpeg(bytes: &[u8], backend: JpegBackend) -> Result<Decoded, DecodeError> {
    if !jpeg_complete(bytes) {
        return Err(DecodeError::Truncated("JPEG"));
    }
    match backend {
        JpegBackend::Auto if single_scan_baseline(bytes) => decode_zune(bytes),
        JpegBackend::Auto => decode_jpeg_decoder(bytes),
        JpegBackend::Zune => decode_zune(bytes),
        JpegBackend::JpegDecoder => decode_jpeg_decoder(bytes),
        #[cfg(feature = "turbojpeg")]
        JpegBackend::Turbo => decode_turbo(bytes),
    }
}

fn decode_zune(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    use zune_jpeg::zune_core::bytestream::ZCursor;
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;
    let options = DecoderOptions::default()
        .set_max_width(MAX_DIMENSION)
        .set_max_height(MAX_DIMENSION)
        .jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut dec = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let pixels = dec
        .decode()
        .map_err(|e| DecodeError::Jpeg(first_line(&format!("{e:?}"))))?;
    let info = dec
        .info()
        .ok_or_else(|| DecodeError::Jpeg("no image header".into()))?;
    let (w, h) = (info.width as usize, info.height as usize);
    let format = match dec.output_colorspace() {
        Some(ColorSpace::Luma) => PixelFormat::Gray8,
        _ => PixelFormat::Rgb,
    };
    decoded(w, h, format, pixels)
}

/// A decoded image, once its pixel buffer is checked against its size and format.
fn decoded(
    w: usize,
    h: usize,
    format: PixelFormat,
    pixels: Vec<u8>,
) -> Result<Decoded, DecodeError> {
    check_len(w, h, format, pixels.len())?;
    Ok(Decoded {
        width: w as u32,
        height: h as u32,
        format,
        pixels,
    })
}

fn decode_jpeg_decoder(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let mut dec = jpeg_decoder::Decoder::new(bytes);
    dec.set_max_decoding_buffer_size(MAX_DIMENSION * MAX_DIMENSION * 3);
    let pixels = dec
        .decode()
        .map_err(|e| DecodeError::Jpeg(first_line(&e.to_string())))?;
    let info = dec
        .info()
        .ok_or_else(|| DecodeError::Jpeg("no image header".into()))?;
    let (w, h) = (info.width as usize, info.height as usize);
    let format = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => PixelFormat::Gray8,
        jpeg_decoder::PixelFormat::RGB24 => PixelFormat::Rgb,
        other => {
            return Err(DecodeError::Jpeg(format!(
                "unsupported pixel format {other:?}"
            )))
        }
    };
    decoded(w, h, format, pixels)
}

#[cfg(feature = "turbojpeg")]
fn decode_turbo(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let image: turbojpeg::Image<Vec<u8>> =
        turbojpeg::decompress(bytes, turbojpeg::PixelFormat::RGB)
            .map_err(|e| DecodeError::Jpeg(first_line(&e.to_string())))?;
    check_len(
        image.width,
        image.height,
        PixelFormat::Rgb,
        image.pixels.len(),
    )?;
    Ok(Decoded {
        width: image.width as u32,
        height: image.height as u32,
        format: PixelFormat::Rgb,
        pixels: image.pixels,
    })
}

/// Decodes a complete 8-bit (or palette/16-bit, reduced) PNG.
pub fn decode_png(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    if !bytes.ends_with(b"IEND\xaeB`\x82") {
        return Err(DecodeError::Truncated("PNG"));
    }
    let mut dec = png::Decoder::new_with_limits(
        std::io::Cursor::new(bytes),
        png::Limits {
            bytes: MAX_DIMENSION * MAX_DIMENSION * 4,
        },
    );
    dec.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = dec
        .read_info()
        .map_err(|e| DecodeError::Png(first_line(&e.to_string())))?;
    let (w, h) = (reader.info().width as usize, reader.info().height as usize);
    if w > MAX_DIMENSION || h > MAX_DIMENSION {
        return Err(DecodeError::TooLarge(w, h));
    }
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| DecodeError::Png("image too large".into()))?;
    let mut buf = vec![0; size];
    let out = reader
        .next_frame(&mut buf)
        .map_err(|e| DecodeError::Png(first_line(&e.to_string())))?;
    buf.truncate(out.buffer_size());
    let format = match out.color_type {
        png::ColorType::Rgba => PixelFormat::Rgba,
        png::ColorType::Rgb => PixelFormat::Rgb,
        png::ColorType::Grayscale => PixelFormat::Gray8,
        png::ColorType::GrayscaleAlpha => {
            let mut rgba = Vec::with_capacity(w * h * 4);
            for p in buf.chunks_exact(2) {
                rgba.extend_from_slice(&[p[0], p[0], p[0], p[1]]);
            }
            buf = rgba;
            PixelFormat::Rgba
        }
        png::ColorType::Indexed => return Err(DecodeError::Png("palette not expanded".into())),
    };
    check_len(w, h, format, buf.len())?;
    Ok(Decoded {
        width: w as u32,
        height: h as u32,
        format,
        pixels: buf,
    })
}

fn check_len(w: usize, h: usize, format: PixelFormat, len: usize) -> Result<(), DecodeError> {
    if w > MAX_DIMENSION || h > MAX_DIMENSION {
        return Err(DecodeError::TooLarge(w, h));
    }
    if w == 0 || h == 0 || len < w * h * format.bytes_per_pixel() {
        return Err(DecodeError::Jpeg(format!(
            "decoder returned {len} bytes for {w}x{h}"
        )));
    }
    Ok(())
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A busy RGBA test image (pixel-art-like blocks plus gradients).
    fn image(w: usize, h: usize) -> Vec<u8> {
        let mut px = Vec::with_capacity(w * h * 4);
        for y in 0..h {
            for x in 0..w {
                let v = ((x / 8 + y / 8) % 4) as u8 * 70;
                px.extend_from_slice(&[v, (x * 255 / w) as u8, (y * 255 / h) as u8, 255]);
            }
        }
        px
    }

    fn encode(px: &[u8], w: usize, h: usize, optimize: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut out, 90);
        enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
        enc.set_optimized_huffman_tables(optimize);
        enc.encode(px, w as u16, h as u16, jpeg_encoder::ColorType::Rgba)
            .unwrap();
        out
    }

    fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (*x as i32 - *y as i32).unsigned_abs() as f64)
            .sum::<f64>()
            / a.len() as f64
    }

    fn rgb_of(px: &[u8]) -> Vec<u8> {
        px.chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect()
    }

    #[test]
    fn auto_decodes_the_encoders_output_with_and_without_optimized_huffman() {
        let (w, h) = (160, 144);
        let px = image(w, h);
        for optimize in [false, true] {
            let jpeg = encode(&px, w, h, optimize);
            assert_eq!(single_scan_baseline(&jpeg), !optimize);
            let auto = decode_jpeg(&jpeg, JpegBackend::Auto).unwrap();
            let reference = decode_jpeg(&jpeg, JpegBackend::JpegDecoder).unwrap();
            assert_eq!((auto.width, auto.height), (160, 144));
            assert_eq!(auto.format, PixelFormat::Rgb);
            // Close to the reference decoder and to the source pixels.
            let d_ref = mean_abs_diff(&auto.pixels, &reference.pixels);
            let d_src = mean_abs_diff(&auto.pixels, &rgb_of(&px));
            assert!(
                d_ref < 2.0,
                "optimize={optimize}: {d_ref} from jpeg-decoder"
            );
            assert!(d_src < 12.0, "optimize={optimize}: {d_src} from the source");
        }
    }

    #[test]
    fn truncated_and_garbage_jpegs_are_errors() {
        let px = image(64, 64);
        let jpeg = encode(&px, 64, 64, false);
        for cut in [3, 20, jpeg.len() / 2, jpeg.len() - 1] {
            assert_eq!(
                decode_image(&jpeg[..cut]),
                Err(DecodeError::Truncated("JPEG"))
            );
        }
        let mut broken = jpeg.clone();
        for b in &mut broken[200..400] {
            *b = 0xFF;
        }
        // Either an error or an image of the right size: never a panic.
        if let Ok(d) = decode_image(&broken) {
            assert_eq!((d.width, d.height), (64, 64));
        }
        assert!(matches!(
            decode_image(b"<html>hello</html>"),
            Err(DecodeError::NotImage(s)) if s.contains("<html>")
        ));
        assert!(matches!(decode_image(b""), Err(DecodeError::NotImage(_))));
    }

    #[test]
    fn png_round_trip() {
        let (w, h) = (40u32, 30u32);
        let px = image(w as usize, h as usize);
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, w, h);
            enc.set_color(png::ColorType::Rgba);
            enc.set_depth(png::BitDepth::Eight);
            enc.write_header().unwrap().write_image_data(&px).unwrap();
        }
        let d = decode_image(&out).unwrap();
        assert_eq!((d.width, d.height, d.format), (w, h, PixelFormat::Rgba));
        assert_eq!(d.pixels, px);
        assert_eq!(
            decode_image(&out[..out.len() - 20]),
            Err(DecodeError::Truncated("PNG"))
        );
    }
}
