//! The default JPEG encoder's files read by Pillow (libjpeg-turbo), the decoder of most
//! Python dashboards: at every preset, the scaled size and a PSNR against the
//! nearest-neighbour upscale within 0.5 dB of zune-jpeg's decode of the same file.

use crate::common::{python, run_ok, Scratch};
use gbwatch::encode::{scale_rgba, Backend, JpegEncoder};
use gbwatch::pipeline::PRESETS;
use gbwatch::source::decode::{decode_jpeg, JpegBackend};
use std::process::Command;

const PILLOW_PSNR: &str = r#"
import math, sys
from PIL import Image, ImageChops, ImageStat
for name in sys.argv[1:]:
    jpeg = Image.open(name + ".jpg")
    assert jpeg.format == "JPEG", jpeg.format
    rgb = jpeg.convert("RGB")
    src = Image.frombytes("RGB", rgb.size, open(name + ".rgb", "rb").read())
    err = sum(ImageStat.Stat(ImageChops.difference(src, rgb)).sum2)
    mse = err / (rgb.width * rgb.height * 3)
    print(name, rgb.width, rgb.height, 99.0 if mse == 0 else 10 * math.log10(255 ** 2 / mse))
"#;

/// A frame like a Game Boy screen: four greens in 8x8 tiles, with a few distinct tiles.
fn game_boy_like(w: usize, h: usize) -> Vec<u8> {
    let greens = [[15, 56, 15], [48, 98, 48], [139, 172, 15], [155, 188, 15]];
    let mut rgba = Vec::with_capacity(w * h * 4);
    for y in 0..h {
        for x in 0..w {
            let tile = (x / 8 * 7 + y / 8 * 3) % 5;
            let c = greens[(tile * (x % 8 + 1) * (y % 8 + 2) / 5) % 4];
            rgba.extend_from_slice(&[c[0], c[1], c[2], 255]);
        }
    }
    rgba
}

fn psnr(rgb_a: &[u8], rgb_b: &[u8]) -> f64 {
    let err: f64 = rgb_a
        .iter()
        .zip(rgb_b)
        .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
        .sum();
    if err == 0.0 {
        return 99.0;
    }
    10.0 * (255f64.powi(2) * rgb_a.len() as f64 / err).log10()
}

#[test]
fn pillow_reads_the_default_encoders_files_as_zune_jpeg_does() {
    let dir = Scratch::new("jpeg-pillow");
    let (w, h) = (160, 144);
    let mut seed = 1u32;
    let noise: Vec<u8> = (0..w * h * 4)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 16) as u8
        })
        .collect();
    let mut enc = JpegEncoder::new(Backend::Gbwatch);
    let mut expect = Vec::new();
    for (kind, rgba) in [("art", game_boy_like(w, h)), ("noise", noise)] {
        for p in PRESETS {
            let k = p.scale as usize;
            let (jpeg, _) = enc.encode_scaled(&rgba, w, h, k, p.quality).unwrap();
            let mut scaled = Vec::new();
            scale_rgba(&rgba, w, h, k, &mut scaled);
            let rgb: Vec<u8> = scaled
                .chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect();
            let name = dir.path().join(format!("{kind}-{}", p.name));
            std::fs::write(name.with_extension("jpg"), &jpeg).unwrap();
            std::fs::write(name.with_extension("rgb"), &rgb).unwrap();
            let zune = decode_jpeg(&jpeg, JpegBackend::Zune).unwrap();
            expect.push((name, w * k, h * k, psnr(&rgb, &zune.pixels)));
        }
    }
    let out = run_ok(
        Command::new(python())
            .args(["-c", PILLOW_PSNR])
            .args(expect.iter().map(|e| &e.0)),
    );
    let lines = String::from_utf8(out.stdout).unwrap();
    assert_eq!(lines.lines().count(), expect.len(), "{lines}");
    for (line, (name, sw, sh, zune)) in lines.lines().zip(&expect) {
        let f: Vec<&str> = line.split(' ').collect();
        assert_eq!(f[0], name.to_str().unwrap());
        assert_eq!(
            (f[1].parse::<usize>().unwrap(), f[2].parse().unwrap()),
            (*sw, *sh),
            "{line}"
        );
        let pillow: f64 = f[3].parse().unwrap();
        assert!(
            (pillow - zune).abs() < 0.5,
            "{line}: zune-jpeg's decode {zune:.2} dB"
        );
        // A misread file decodes to noise, below 15 dB on this art; LOW (1x q50) gets 18.7.
        if line.contains("art-") {
            assert!(pillow > 17.0, "{line}");
        }
        if line.contains("art-") && !line.contains("-low") {
            assert!(pillow > 20.0, "{line}");
        }
    }
}
