//! RGBA → YCbCr at the frame's own size, widened by the scale factor, handed to jpeg-encoder
//! row by row: the scaled RGBA image is never built and each colour is converted once
//! rather than k² times.

use jpeg_encoder::{ImageBuffer, JpegColorType};

/// Y, Cb and Cr planes of a frame, each source row widened `k` times; row `y` of the
/// scaled image is source row `y / k`.
#[derive(Debug, Default)]
pub struct ScaledYcbcr {
    planes: [Vec<u8>; 3],
    wide: usize,
    height: usize,
    k: usize,
}

impl ScaledYcbcr {
    /// Converts `rgba` (`width * height * 4` bytes) and widens it by `k` (at least 1).
    pub fn fill(&mut self, rgba: &[u8], width: usize, height: usize, k: usize) {
        let k = k.max(1);
        assert!(
            rgba.len() >= width * height * 4,
            "source smaller than width*height*4"
        );
        self.wide = width * k;
        self.height = height * k;
        self.k = k;
        for plane in &mut self.planes {
            plane.resize(self.wide * height, 0);
        }
        match k {
            1 => self.convert::<1>(rgba),
            2 => self.convert::<2>(rgba),
            3 => self.convert::<3>(rgba),
            4 => self.convert::<4>(rgba),
            5 => self.convert::<5>(rgba),
            6 => self.convert::<6>(rgba),
            7 => self.convert::<7>(rgba),
            8 => self.convert::<8>(rgba),
            _ => self.convert::<0>(rgba),
        }
    }

    /// Converts and widens; `K` is the factor when known at compile time (stores of K
    /// bytes), 0 for any other.
    fn convert<const K: usize>(&mut self, rgba: &[u8]) {
        let (k, [y_plane, cb_plane, cr_plane]) = (self.k, &mut self.planes);
        let mut convert = Converter::default();
        for (((px, y), cb), cr) in rgba
            .chunks_exact(4)
            .zip(y_plane.chunks_exact_mut(k))
            .zip(cb_plane.chunks_exact_mut(k))
            .zip(cr_plane.chunks_exact_mut(k))
        {
            let (vy, vcb, vcr) = convert.pixel(px);
            store::<K>(y, vy);
            store::<K>(cb, vcb);
            store::<K>(cr, vcr);
        }
    }

    /// The widened planes as an image jpeg-encoder can encode.
    pub fn image(&self) -> ScaledYcbcrImage<'_> {
        ScaledYcbcrImage(self)
    }
}

/// A borrowed [`ScaledYcbcr`], the form jpeg-encoder takes.
pub struct ScaledYcbcrImage<'a>(&'a ScaledYcbcr);

impl ImageBuffer for ScaledYcbcrImage<'_> {
    fn get_jpeg_color_type(&self) -> JpegColorType {
        JpegColorType::Ycbcr
    }

    fn width(&self) -> u16 {
        self.0.wide as u16
    }

    fn height(&self) -> u16 {
        self.0.height as u16
    }

    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        let s = self.0;
        let row = (y as usize / s.k) * s.wide;
        for (buffer, plane) in buffers.iter_mut().zip(&s.planes) {
            buffer.extend_from_slice(&plane[row..row + s.wide]);
        }
    }
}

#[inline(always)]
fn store<const K: usize>(dst: &mut [u8], value: u8) {
    if K == 0 {
        dst.fill(value);
    } else {
        dst.copy_from_slice(&[value; K]);
    }
}

/// RGB → YCbCr with the last conversion remembered: pixel art repeats colours in long runs.
#[derive(Default)]
struct Converter {
    last: Option<([u8; 3], (u8, u8, u8))>,
}

impl Converter {
    #[inline(always)]
    fn pixel(&mut self, px: &[u8]) -> (u8, u8, u8) {
        let key = [px[0], px[1], px[2]];
        match self.last {
            Some((k, v)) if k == key => v,
            _ => {
                let v = jpeg_encoder::rgb_to_ycbcr(px[0], px[1], px[2]);
                self.last = Some((key, v));
                v
            }
        }
    }
}
