//! Integer nearest-neighbour upscaling of RGBA frames.

/// Scales an RGBA8 image by the integer factor `k` into `out` (resized as needed).
///
/// Each source row is widened once (pixels as `u32` words), then copied `k - 1` more
/// times: duplicating rows is an order of magnitude faster than a per-pixel loop.
pub fn scale_rgba(src: &[u8], width: usize, height: usize, k: usize, out: &mut Vec<u8>) {
    let k = k.max(1);
    assert!(
        src.len() >= width * height * 4,
        "source smaller than width*height*4"
    );
    let out_row = width * k * 4;
    out.clear();
    out.resize(out_row * height * k, 0);
    if k == 1 {
        out.copy_from_slice(&src[..width * height * 4]);
        return;
    }
    for (y, row) in src.chunks_exact(width * 4).take(height).enumerate() {
        let block = &mut out[y * k * out_row..(y + 1) * k * out_row];
        let (first, rest) = block.split_at_mut(out_row);
        for (px, dst) in row.chunks_exact(4).zip(first.chunks_exact_mut(4 * k)) {
            let word = u32::from_ne_bytes([px[0], px[1], px[2], px[3]]);
            for d in dst.chunks_exact_mut(4) {
                d.copy_from_slice(&word.to_ne_bytes());
            }
        }
        for copy in rest.chunks_exact_mut(out_row) {
            copy.copy_from_slice(first);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_each_pixel_into_a_block() {
        // 2x1 image: red, blue.
        let src = [255, 0, 0, 255, 0, 0, 255, 255];
        let mut out = Vec::new();
        scale_rgba(&src, 2, 1, 3, &mut out);
        assert_eq!(out.len(), 6 * 3 * 4);
        for y in 0..3 {
            for x in 0..6 {
                let p = &out[(y * 6 + x) * 4..(y * 6 + x) * 4 + 4];
                let expect: &[u8] = if x < 3 { &src[..4] } else { &src[4..] };
                assert_eq!(p, expect, "pixel {x},{y}");
            }
        }
    }

    #[test]
    fn scale_one_is_a_copy() {
        let src: Vec<u8> = (0..64).collect();
        let mut out = Vec::new();
        scale_rgba(&src, 4, 4, 1, &mut out);
        assert_eq!(out, src);
    }
}
