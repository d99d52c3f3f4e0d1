//! PNG rectangles for kitty's `f=100`: palette-indexed with the fewest bits a pixel when
//! the rectangle has at most 256 colours, RGB otherwise.

use super::delta::Rect;

/// A PNG of rectangle `r` of `rgba` (`width` pixels a row) appended to `out`: indexed with
/// the fewest bits that hold its colours when there are at most 256, else RGB. `scratch`
/// holds the rows before compression (zlib `level`).
pub(super) fn png_of(
    rgba: &[u8],
    width: u32,
    r: Rect,
    level: u32,
    scratch: &mut Vec<u8>,
    out: &mut Vec<u8>,
) {
    let (x, y, w, h) = (r.0 as usize, r.1 as usize, r.2 as usize, r.3 as usize);
    let stride = width as usize * 4;
    let px = |col: usize, row: usize| {
        let i = (y + row) * stride + (x + col) * 4;
        [rgba[i], rgba[i + 1], rgba[i + 2]]
    };
    // Each pixel's palette index, looked up once (runs of one colour not even that).
    let mut palette: Vec<[u8; 3]> = Vec::new();
    let mut index = std::collections::HashMap::new();
    let mut indices = Vec::with_capacity(w * h);
    let mut last: Option<([u8; 3], u8)> = None;
    'scan: for row in 0..h {
        for col in 0..w {
            let c = px(col, row);
            let i = match last {
                Some((l, i)) if l == c => i,
                _ => match index.entry(c) {
                    std::collections::hash_map::Entry::Occupied(e) => *e.get(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        if palette.len() == 256 {
                            palette.clear();
                            break 'scan;
                        }
                        let i = palette.len() as u8; // below 256 here
                        palette.push(c);
                        *e.insert(i)
                    }
                },
            };
            last = Some((c, i));
            indices.push(i);
        }
    }
    scratch.clear();
    let mut enc = png::Encoder::new(&mut *out, w as u32, h as u32);
    enc.set_deflate_compression(png::DeflateCompression::Level(level.min(9) as u8));
    if palette.is_empty() {
        enc.set_color(png::ColorType::Rgb);
        enc.set_filter(png::Filter::Adaptive);
        for row in 0..h {
            for col in 0..w {
                scratch.extend_from_slice(&px(col, row));
            }
        }
    } else {
        let bits = match palette.len() {
            0..=2 => 1,
            3..=4 => 2,
            5..=16 => 4,
            _ => 8,
        };
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(match bits {
            1 => png::BitDepth::One,
            2 => png::BitDepth::Two,
            4 => png::BitDepth::Four,
            _ => png::BitDepth::Eight,
        });
        enc.set_palette(palette.concat());
        enc.set_filter(png::Filter::NoFilter);
        let per_byte = 8 / bits;
        for row in indices.chunks_exact(w.max(1)) {
            for chunk in row.chunks(per_byte) {
                let mut b = 0u8;
                for (k, v) in chunk.iter().enumerate() {
                    b |= v << (8 - bits * (k + 1));
                }
                scratch.push(b);
            }
        }
    }
    let mut writer = enc.write_header().expect("writing a PNG to a Vec");
    writer
        .write_image_data(scratch)
        .expect("rows of the declared size");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_rectangles_decode_exactly_at_every_palette_depth_and_in_rgb() {
        // 33 pixels a row: not a whole number of bytes at 1, 2 or 4 bits a pixel.
        let (width, r) = (40u32, (3u32, 2u32, 33u32, 12u32));
        for colours in [1u32, 2, 3, 4, 16, 17, 200, 256, 257] {
            let rgba: Vec<u8> = (0..width * 16)
                .flat_map(|i| {
                    // Counting through the rectangle's pixels: all `colours` appear in it.
                    let (x, y) = ((i % width) as i64 - 3, (i / width) as i64 - 2);
                    let c = (y * 33 + x).rem_euclid(colours as i64) as u32;
                    [c as u8, (c >> 8) as u8 * 40, 255 - c as u8, 255]
                })
                .collect();
            let (mut scratch, mut png) = (Vec::new(), Vec::new());
            png_of(&rgba, width, r, 6, &mut scratch, &mut png);
            let mut dec = png::Decoder::new(std::io::Cursor::new(&png));
            dec.set_transformations(png::Transformations::EXPAND);
            let mut reader = dec.read_info().unwrap();
            let indexed = reader.info().color_type == png::ColorType::Indexed;
            let mut buf = vec![0; reader.output_buffer_size().unwrap()];
            let info = reader.next_frame(&mut buf).unwrap();
            assert_eq!((info.width, info.height), (r.2, r.3));
            let got: Vec<[u8; 3]> = buf[..info.buffer_size()]
                .chunks_exact(3)
                .map(|p| [p[0], p[1], p[2]])
                .collect();
            let want: Vec<[u8; 3]> = (r.1..r.1 + r.3)
                .flat_map(|y| (r.0..r.0 + r.2).map(move |x| (y * width + x) as usize * 4))
                .map(|i| [rgba[i], rgba[i + 1], rgba[i + 2]])
                .collect();
            assert_eq!(got, want, "{colours} colours");
            let distinct: std::collections::HashSet<_> = want.iter().collect();
            assert_eq!(indexed, distinct.len() <= 256, "{} colours", distinct.len());
        }
    }
}
