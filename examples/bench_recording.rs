//! Bytes per frame and encode/decode cost of the recording format on the built-in demo
//! recording (real PyBoy frames of assets/demo.gb), against simpler ways to store them.
//!
//!     cargo run --release --example bench_recording

use gbwatch::source::recording::{RecordingReader, RecordingWriter, DEMO_RECORDING, ZSTD_LEVEL};
use std::collections::HashMap;
use std::time::Instant;

struct Row {
    name: &'static str,
    bytes: usize,
    encode_ns: u128,
    decode_ns: u128,
}

fn main() {
    // The demo's frames, decoded once.
    let mut reader = RecordingReader::from_bytes(DEMO_RECORDING).expect("demo recording");
    let (w, h) = (reader.header().width, reader.header().height);
    let mut frames: Vec<(u64, u64, Vec<u8>)> = Vec::new();
    while let Some(f) = reader.next_frame().expect("demo recording decodes") {
        frames.push((f.frame_index, f.timestamp_ns, f.pixels.to_vec()));
    }
    let n = frames.len();
    let raw = (w * h * 4) as usize;
    println!(
        "demo recording: {n} frames of {w}x{h} RGBA ({raw} bytes raw), {} bytes on disk, zstd level {ZSTD_LEVEL}",
        DEMO_RECORDING.len()
    );
    let mut rows = vec![Row {
        name: "raw RGBA",
        bytes: raw * n,
        encode_ns: 0,
        decode_ns: 0,
    }];

    // Each frame on its own, RGBA.
    rows.push(per_frame(
        "lz4_flex RGBA",
        &frames,
        lz4_flex::compress,
        |c| lz4_flex::decompress(c, raw).unwrap(),
    ));
    rows.push(per_frame(
        "zstd RGBA",
        &frames,
        |f| zstd::bulk::compress(f, ZSTD_LEVEL).unwrap(),
        |c| zstd::bulk::decompress(c, raw).unwrap(),
    ));

    // Palette-indexed (one byte per pixel), alone and XORed with the previous frame.
    let palette = palette_of(&frames);
    let colours: Vec<[u8; 4]> = {
        let mut c = vec![[0u8; 4]; palette.len()];
        for (k, &i) in &palette {
            c[i as usize] = *k;
        }
        c
    };
    let index = |f: &[u8]| -> Vec<u8> {
        f.chunks_exact(4)
            .map(|p| palette[&[p[0], p[1], p[2], p[3]]])
            .collect()
    };
    let expand = |idx: &[u8]| -> Vec<u8> {
        let mut out = Vec::with_capacity(idx.len() * 4);
        for &i in idx {
            out.extend_from_slice(&colours[i as usize]);
        }
        out
    };
    rows.push(per_frame(
        "zstd indexed",
        &frames,
        |f| zstd::bulk::compress(&index(f), ZSTD_LEVEL).unwrap(),
        |c| expand(&zstd::bulk::decompress(c, raw / 4).unwrap()),
    ));
    {
        let t = Instant::now();
        let mut prev = vec![0u8; raw / 4];
        let mut packed = Vec::new();
        for (_, _, f) in &frames {
            let idx = index(f);
            let x: Vec<u8> = idx.iter().zip(&prev).map(|(a, b)| a ^ b).collect();
            packed.push(zstd::bulk::compress(&x, ZSTD_LEVEL).unwrap());
            prev = idx;
        }
        let encode_ns = t.elapsed().as_nanos();
        let t = Instant::now();
        let mut prev = vec![0u8; raw / 4];
        for (c, (_, _, f)) in packed.iter().zip(&frames) {
            let x = zstd::bulk::decompress(c, raw / 4).unwrap();
            let idx: Vec<u8> = x.iter().zip(&prev).map(|(a, b)| a ^ b).collect();
            assert!(expand(&idx) == *f);
            prev = idx;
        }
        rows.push(Row {
            name: "zstd indexed, XOR previous",
            bytes: packed.iter().map(Vec::len).sum(),
            encode_ns,
            decode_ns: t.elapsed().as_nanos(),
        });
    }

    // The recording format: indexed, previous frame as zstd prefix, CRC-checked records;
    // then the kinds the history holds (2-bit indices, the previous frame moved).
    for (name, moved) in [
        (".gbrec (indexed, previous frame as dictionary)", false),
        ("history's kinds (2-bit, scroll-predicted XOR)", true),
    ] {
        let t = Instant::now();
        let mut writer = RecordingWriter::new(Vec::new(), w, h).unwrap();
        if moved {
            writer.predict_moved();
        }
        for (idx, ts, f) in &frames {
            writer.write_frame(*idx, *ts, f).unwrap();
        }
        let file = writer.finish().unwrap();
        let encode_ns = t.elapsed().as_nanos();
        let t = Instant::now();
        let mut reader = RecordingReader::from_vec(file.clone()).unwrap();
        let mut i = 0;
        while let Some(f) = reader.next_frame().unwrap() {
            assert!(f.pixels == frames[i].2);
            i += 1;
        }
        assert_eq!(i, n);
        rows.push(Row {
            name,
            bytes: file.len(),
            encode_ns,
            decode_ns: t.elapsed().as_nanos(),
        });
    }

    println!();
    println!(
        "| {:<46} | {:>11} | {:>7} | {:>16} | {:>16} |",
        "storage", "bytes/frame", "ratio", "encode µs/frame", "decode µs/frame"
    );
    println!(
        "|{:-<48}|{:-<13}:|{:-<8}:|{:-<17}:|{:-<17}:|",
        "", "", "", "", ""
    );
    for r in &rows {
        let us = |ns: u128| {
            if ns == 0 {
                "-".to_string()
            } else {
                format!("{:.1}", ns as f64 / n as f64 / 1000.0)
            }
        };
        println!(
            "| {:<46} | {:>11} | {:>6.1}x | {:>16} | {:>16} |",
            r.name,
            r.bytes / n,
            (raw * n) as f64 / r.bytes as f64,
            us(r.encode_ns),
            us(r.decode_ns)
        );
    }
}

/// Compresses and decompresses every frame on its own, checking the result.
fn per_frame(
    name: &'static str,
    frames: &[(u64, u64, Vec<u8>)],
    compress: impl Fn(&[u8]) -> Vec<u8>,
    decompress: impl Fn(&[u8]) -> Vec<u8>,
) -> Row {
    let t = Instant::now();
    let packed: Vec<Vec<u8>> = frames.iter().map(|(_, _, f)| compress(f)).collect();
    let encode_ns = t.elapsed().as_nanos();
    let t = Instant::now();
    for (c, (_, _, f)) in packed.iter().zip(frames) {
        assert!(decompress(c) == *f);
    }
    Row {
        name,
        bytes: packed.iter().map(Vec::len).sum(),
        encode_ns,
        decode_ns: t.elapsed().as_nanos(),
    }
}

/// One palette over all frames (the demo has 4 shades).
fn palette_of(frames: &[(u64, u64, Vec<u8>)]) -> HashMap<[u8; 4], u8> {
    let mut palette = HashMap::new();
    for (_, _, f) in frames {
        for p in f.chunks_exact(4) {
            let n = palette.len();
            palette.entry([p[0], p[1], p[2], p[3]]).or_insert_with(|| {
                assert!(n < 256, "more than 256 colours");
                n as u8
            });
        }
    }
    palette
}
