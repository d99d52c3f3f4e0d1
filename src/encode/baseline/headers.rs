//! The markers around the scan: JFIF, quantisation and Huffman tables, the frame and scan
//! headers of a three-component 4:2:0 baseline image.

use super::tables::{HuffSpec, AC_CHROMA, AC_LUMA, DC_CHROMA, DC_LUMA, ZIGZAG};

fn marker(out: &mut Vec<u8>, code: u8, payload: &[u8]) {
    out.extend_from_slice(&[0xff, code]);
    out.extend_from_slice(&(payload.len() as u16 + 2).to_be_bytes());
    out.extend_from_slice(payload);
}

/// Writes everything before the entropy-coded data of a `width` x `height` image whose
/// luminance and chrominance divisors are `quant` (natural order).
pub fn write(out: &mut Vec<u8>, width: u16, height: u16, quant: &[[u8; 64]; 2]) {
    out.extend_from_slice(&[0xff, 0xd8]);
    marker(out, 0xe0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    let mut dqt = Vec::with_capacity(130);
    for (id, table) in quant.iter().enumerate() {
        dqt.push(id as u8);
        dqt.extend(ZIGZAG.iter().map(|&n| table[n as usize]));
    }
    marker(out, 0xdb, &dqt);
    let [h1, h0] = height.to_be_bytes();
    let [w1, w0] = width.to_be_bytes();
    marker(
        out,
        0xc0,
        &[8, h1, h0, w1, w0, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1],
    );
    let mut dht = Vec::with_capacity(420);
    for (class_id, spec) in [
        (0x00, &DC_LUMA),
        (0x10, &AC_LUMA),
        (0x01, &DC_CHROMA),
        (0x11, &AC_CHROMA),
    ] {
        huffman(&mut dht, class_id, spec);
    }
    marker(out, 0xc4, &dht);
    marker(out, 0xda, &[3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);
}

fn huffman(out: &mut Vec<u8>, class_id: u8, spec: &HuffSpec) {
    out.push(class_id);
    out.extend_from_slice(&spec.counts);
    out.extend_from_slice(spec.symbols);
}
