use super::*;

/// Decodes a sixel image as a VT340/xterm would into RGBA (unset pixels transparent
/// black), returning (width, height, pixels). Colours come back from percent the way
/// xterm converts them.
pub(crate) fn decode(data: &[u8]) -> (usize, usize, Vec<u8>) {
    let start = data.windows(2).position(|w| w == b"\x1bP").expect("DCS");
    let q = start + data[start..].iter().position(|&b| b == b'q').unwrap();
    let end = data.windows(2).rposition(|w| w == b"\x1b\\").unwrap();
    let body = &data[q + 1..end];
    let mut regs = vec![[0u8; 3]; 256];
    let (mut w, mut h) = (0usize, 0usize);
    let mut px: Vec<u8> = Vec::new();
    let (mut x, mut band, mut colour) = (0usize, 0usize, 0usize);
    let mut i = 0;
    let num = |i: &mut usize| -> usize {
        let s = *i;
        while *i < body.len() && body[*i].is_ascii_digit() {
            *i += 1;
        }
        std::str::from_utf8(&body[s..*i])
            .unwrap()
            .parse()
            .unwrap_or(0)
    };
    while i < body.len() {
        match body[i] {
            b'"' => {
                i += 1;
                let mut v = Vec::new();
                loop {
                    v.push(num(&mut i));
                    if i < body.len() && body[i] == b';' {
                        i += 1;
                    } else {
                        break;
                    }
                }
                (w, h) = (v[2], v[3]);
                px = vec![0; w * h * 4];
            }
            b'#' => {
                i += 1;
                colour = num(&mut i);
                if i < body.len() && body[i] == b';' {
                    i += 1;
                    let _kind = num(&mut i);
                    let mut c = [0u8; 3];
                    for v in c.iter_mut() {
                        i += 1;
                        *v = ((num(&mut i) * 255 + 50) / 100) as u8;
                    }
                    regs[colour] = c;
                }
            }
            b'$' => {
                x = 0;
                i += 1;
            }
            b'-' => {
                x = 0;
                band += 1;
                i += 1;
            }
            b'!' => {
                i += 1;
                let n = num(&mut i);
                let ch = body[i];
                i += 1;
                for _ in 0..n {
                    put(&mut px, w, h, x, band, ch, regs[colour]);
                    x += 1;
                }
            }
            ch @ 63..=126 => {
                put(&mut px, w, h, x, band, ch, regs[colour]);
                x += 1;
                i += 1;
            }
            b => panic!("unexpected sixel byte {b:#x}"),
        }
    }
    (w, h, px)
}

fn put(px: &mut [u8], w: usize, h: usize, x: usize, band: usize, ch: u8, c: [u8; 3]) {
    let bits = ch - 63;
    for r in 0..6 {
        let y = band * 6 + r;
        if bits & (1 << r) != 0 {
            assert!(x < w && y < h, "sixel pixel ({x},{y}) outside {w}x{h}");
            let i = (y * w + x) * 4;
            px[i..i + 4].copy_from_slice(&[c[0], c[1], c[2], 255]);
        }
    }
}

fn gb_frame(shift: usize) -> Vec<u8> {
    let shades = [
        [0xe0, 0xf8, 0xd0],
        [0x88, 0xc0, 0x70],
        [0x34, 0x68, 0x56],
        [0x08, 0x18, 0x20],
    ];
    let mut f = Vec::new();
    for y in 0..144 {
        for x in 0..160 {
            let c = shades[((x + shift) / 8 + y / 4) % 4];
            f.extend_from_slice(&[c[0], c[1], c[2], 255]);
        }
    }
    f
}

/// Nearest-neighbour reference scaling.
fn scaled(f: &[u8], w: usize, h: usize, ow: usize, oh: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(ow * oh * 4);
    for y in 0..oh {
        for x in 0..ow {
            let i = ((y * h / oh) * w + x * w / ow) * 4;
            out.extend_from_slice(&f[i..i + 4]);
        }
    }
    out
}

fn assert_close(a: &[u8], b: &[u8], tol: u8) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(x.abs_diff(*y) <= tol, "byte {i}: {x} vs {y}");
    }
}

#[test]
fn decodes_back_to_the_scaled_frame_at_every_scale() {
    let f = gb_frame(3);
    let mut enc = SixelEncoder::new();
    for (ow, oh) in [
        (160, 144),
        (320, 288),
        (480, 432),
        (640, 576),
        (80, 72),
        (123, 77),
    ] {
        let mut out = Vec::new();
        let n = enc.encode(&f, 160, 144, ow, oh, &mut out).unwrap();
        assert_eq!(n, out.len());
        assert_eq!(enc.colours(), 4);
        assert!(!enc.quantised());
        let (w, h, px) = decode(&out);
        assert_eq!((w, h), (ow as usize, oh as usize));
        assert_close(&px, &scaled(&f, 160, 144, w, h), 2);
    }
}

#[test]
fn scaling_up_costs_little_more_than_1x() {
    let f = gb_frame(0);
    let mut enc = SixelEncoder::new();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    enc.encode(&f, 160, 144, 160, 144, &mut a).unwrap();
    enc.encode(&f, 160, 144, 640, 576, &mut b).unwrap();
    // 4x the bands, the runs only longer: well under 16x the bytes.
    assert!(b.len() < a.len() * 6, "1x {} B, 4x {} B", a.len(), b.len());
}

#[test]
fn many_colours_are_quantised_and_still_decode_close() {
    let mut f = Vec::new();
    for y in 0..64u32 {
        for x in 0..64u32 {
            f.extend_from_slice(&[(x * 4) as u8, (y * 4) as u8, ((x + y) * 2) as u8, 255]);
        }
    }
    let mut enc = SixelEncoder::new();
    let mut out = Vec::new();
    enc.encode(&f, 64, 64, 64, 64, &mut out).unwrap();
    assert!(enc.quantised());
    assert!(enc.colours() <= 216);
    let (_, _, px) = decode(&out);
    assert_close(&px, &f, 26);
}

#[test]
fn encode_at_places_the_cursor_and_restores_it() {
    let f = gb_frame(0);
    let mut enc = SixelEncoder::new();
    let mut out = Vec::new();
    let place = PixelPlacement {
        col: 8,
        row: 1,
        width: 320,
        height: 288,
    };
    enc.encode_at(&f, 160, 144, place, &mut out).unwrap();
    assert!(out.starts_with(b"\x1b7\x1b[2;9H\x1bP0;1;0q\"1;1;320;288#0;2;"));
    assert!(out.ends_with(b"\x1b\\\x1b8"));
}

#[test]
fn bad_input_is_an_error() {
    let mut enc = SixelEncoder::new();
    let mut out = Vec::new();
    assert!(enc.encode(&[0; 12], 2, 2, 4, 4, &mut out).is_err());
    assert!(enc.encode(&[0; 16], 2, 2, 0, 4, &mut out).is_err());
    assert!(enc.encode(&[0; 16], 2, 2, 4, 20_000, &mut out).is_err());
    assert!(out.is_empty());
}

/// Paints the sixel image in `data` (placed by its cursor move) over `screen`, the picture
/// at cell row `top` (`w` pixels wide, cells `cell_h` high): what a terminal does with P2=1.
fn paint_over(screen: &mut [u8], w: usize, top: u16, cell_h: usize, data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let row: usize = text["\x1b7\x1b[".len()..]
        .split(';')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let y0 = (row - 1 - top as usize) * cell_h;
    let (iw, ih, px) = decode(data);
    assert_eq!(iw, w);
    for (i, p) in px.chunks_exact(4).enumerate() {
        if p[3] == 255 {
            let at = ((y0 + i / iw) * w + i % iw) * 4;
            screen[at..at + 4].copy_from_slice(p);
        }
    }
    assert!(y0 + ih <= screen.len() / 4 / w, "image below the picture");
}

#[test]
fn updates_paint_only_changes_and_compose_to_the_full_picture() {
    let place = PixelPlacement {
        col: 3,
        row: 2,
        width: 152,
        height: 136,
    };
    let (w, h) = (152, 136);
    let mut with_bottom = gb_frame(0);
    // Bottom rows only: the update starts at a lower cell row.
    for p in with_bottom[130 * 160 * 4..].chunks_exact_mut(4) {
        p[..3].copy_from_slice(&[0xff, 0, 0]);
    }
    // A source column the 152-wide picture drops: nothing to send.
    let mut dropped = with_bottom.clone();
    let gone = (0..160)
        .find(|&x| (0..w).all(|o| o * 160 / w != x))
        .unwrap();
    for y in 0..144 {
        dropped[(y * 160 + gone) * 4] ^= 0x55;
    }
    let mut enc = SixelEncoder::new();
    let mut shown = SixelShown::default();
    let mut screen = vec![0u8; w * h * 4];
    let frames = [
        gb_frame(0),
        with_bottom.clone(),
        dropped,
        gb_frame(5),
        gb_frame(5),
    ];
    let mut sizes = Vec::new();
    for f in &frames {
        let mut out = Vec::new();
        let n = enc
            .update_at(f, 160, 144, place, 16, &mut shown, &mut out)
            .unwrap();
        assert_eq!(n, out.len());
        if n > 0 {
            assert!(out.ends_with(b"\x1b\\\x1b8"));
            paint_over(&mut screen, w, place.row, 16, &out);
        }
        assert_close(&screen, &scaled(f, 160, 144, w, h), 2);
        sizes.push((
            n,
            String::from_utf8_lossy(&out[..out.len().min(12)]).into_owned(),
        ));
    }
    assert!(sizes[0].1.starts_with("\x1b7\x1b[3;4H"), "{sizes:?}");
    // Source rows 130.. are picture rows 123..: cell row 7 of the picture.
    assert!(sizes[1].1.starts_with("\x1b7\x1b[10;4H"), "{sizes:?}");
    assert!(sizes[1].0 < sizes[0].0 / 4, "{sizes:?}");
    assert_eq!((sizes[2].0, sizes[4].0), (0, 0), "{sizes:?}");
    // Elsewhere: in full again.
    let mut out = Vec::new();
    let moved = PixelPlacement { row: 1, ..place };
    enc.update_at(&frames[4], 160, 144, moved, 16, &mut shown, &mut out)
        .unwrap();
    assert_eq!(decode(&out).1, h);
}
