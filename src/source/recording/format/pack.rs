//! Palette indices packed at the fewest bits a palette needs: 1, 2, 4 or 8 per pixel, the
//! first pixel in the lowest bits of the first byte.

/// Bits per index for a palette of `colours` (1 for 1-2 colours, 2 for 3-4, 4 for 5-16, 8
/// for more).
pub(super) fn bits_for(colours: usize) -> u32 {
    match colours {
        0..=2 => 1,
        3..=4 => 2,
        5..=16 => 4,
        _ => 8,
    }
}

/// Bytes that `n` indices take at `bits` each.
pub(super) fn packed_len(n: usize, bits: u32) -> usize {
    (n * bits as usize).div_ceil(8)
}

/// Appends `indices` (each below `1 << bits`) packed at `bits` each.
pub(super) fn pack(indices: &[u8], bits: u32, out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + packed_len(indices.len(), bits), 0);
    let dst = &mut out[start..];
    match bits {
        1 => pack_as::<8>(indices, 1, dst),
        2 => pack_as::<4>(indices, 2, dst),
        4 => pack_as::<2>(indices, 4, dst),
        _ => dst.copy_from_slice(indices),
    }
}

/// Packs `P` indices of `bits` each into every byte of `dst`: the group read as one
/// little-endian word, its bytes' low bits folded down into the lowest byte.
fn pack_as<const P: usize>(indices: &[u8], bits: u32, dst: &mut [u8]) {
    let byte = |group: &[u8]| {
        group
            .iter()
            .enumerate()
            .fold(0u8, |b, (k, &i)| b | i << (k as u32 * bits))
    };
    let (whole, rest) = indices.as_chunks::<P>();
    for (d, group) in dst.iter_mut().zip(whole) {
        let mut word = [0u8; 8];
        word[..P].copy_from_slice(group);
        let mut v = u64::from_le_bytes(word);
        // Fold the P bytes' fields together, doubling the fields per step.
        let mut span = 1;
        while span < P {
            v |= v >> (8 * span - bits as usize * span);
            span *= 2;
        }
        *d = v as u8;
    }
    if !rest.is_empty() {
        dst[whole.len()] = byte(rest);
    }
}

/// Writes the `n` indices packed at `bits` in `packed` (which holds at least
/// [`packed_len`] bytes) to `out`.
pub(super) fn unpack(packed: &[u8], bits: u32, n: usize, out: &mut Vec<u8>) {
    out.clear();
    let packed = &packed[..packed_len(n, bits)];
    match bits {
        1 => unpack_as::<8>(packed, 1, out),
        2 => unpack_as::<4>(packed, 2, out),
        4 => unpack_as::<2>(packed, 4, out),
        _ => out.extend_from_slice(packed),
    }
    out.truncate(n);
}

/// Unpacks every byte of `packed` into `P` indices of `bits` each, through a table.
fn unpack_as<const P: usize>(packed: &[u8], bits: u32, out: &mut Vec<u8>) {
    let mask = (1u8 << bits) - 1;
    let table: [[u8; P]; 256] =
        std::array::from_fn(|b| std::array::from_fn(|k| (b as u8) >> (k as u32 * bits) & mask));
    out.resize(packed.len() * P, 0);
    let (groups, _) = out.as_chunks_mut::<P>();
    for (g, &b) in groups.iter_mut().zip(packed) {
        *g = table[b as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_come_back_at_every_width_and_odd_length() {
        for bits in [1, 2, 4, 8] {
            for n in [0, 1, 7, 8, 9, 23040, 23041] {
                let indices: Vec<u8> = (0..n).map(|i| (i * 7 % (1 << bits)) as u8).collect();
                let mut packed = vec![9];
                pack(&indices, bits, &mut packed);
                assert_eq!(packed.len(), 1 + packed_len(n, bits));
                let mut back = Vec::new();
                unpack(&packed[1..], bits, n, &mut back);
                assert_eq!(back, indices, "{bits} bits, {n} indices");
            }
        }
    }

    #[test]
    fn four_shades_take_two_bits() {
        assert_eq!(bits_for(4), 2);
        assert_eq!(bits_for(5), 4);
        assert_eq!(bits_for(200), 8);
        let mut packed = Vec::new();
        pack(&[1, 2, 3, 0, 3], 2, &mut packed);
        assert_eq!(packed, [0b00_11_10_01, 0b11]);
    }
}
