//! Entropy coding: a block's coefficients as Huffman codes, and the bit writer that
//! stuffs a zero byte after every 0xFF of the scan.

use super::tables::HuffCodes;

/// A code and its extra bits packed in one word: value << 5 | length (length <= 27).
pub type Packed = u32;

#[inline(always)]
fn pack(code: u16, code_len: u8, extra: u32, extra_len: u32) -> Packed {
    let len = code_len as u32 + extra_len;
    ((((code as u32) << extra_len) | extra) << 5) | len
}

/// JPEG's magnitude category of `v` (its bit length) and the bits that follow its code.
#[inline(always)]
fn category(v: i32) -> (u32, u32) {
    let size = 32 - v.unsigned_abs().leading_zeros();
    let bits = if v < 0 { v - 1 } else { v } as u32 & ((1u32 << size) - 1);
    (size, bits)
}

/// The DC difference `diff` coded with `table`.
#[inline]
pub fn dc(diff: i32, table: &HuffCodes) -> Packed {
    let (size, bits) = category(diff);
    pack(
        table.code[size as usize],
        table.len[size as usize],
        bits,
        size,
    )
}

/// Appends the codes of the 63 AC coefficients of `zz` (zigzag order) to `out`.
pub fn ac(zz: &[i16; 64], table: &HuffCodes, out: &mut Vec<Packed>) {
    let mut nonzero = 0u64;
    for (i, &c) in zz.iter().enumerate().skip(1) {
        nonzero |= ((c != 0) as u64) << i;
    }
    let mut last = 0u32;
    while nonzero != 0 {
        let i = nonzero.trailing_zeros();
        nonzero &= nonzero - 1;
        let mut run = i - last - 1;
        while run >= 16 {
            out.push(pack(table.code[0xf0], table.len[0xf0], 0, 0));
            run -= 16;
        }
        let (size, bits) = category(zz[i as usize] as i32);
        let symbol = (run << 4 | size) as usize;
        out.push(pack(table.code[symbol], table.len[symbol], bits, size));
        last = i;
    }
    if last != 63 {
        out.push(pack(table.code[0], table.len[0], 0, 0));
    }
}

/// Packs `codes` into 32-bit words, most significant bit first, appended to `words`;
/// returns how many bits of the last word are used (1-32), right-aligned.
pub fn pack_words(codes: &[Packed], words: &mut Vec<u32>) -> u32 {
    let (mut acc, mut bits) = (0u64, 0u32);
    for &p in codes {
        let len = p & 31;
        acc = (acc << len) | (p >> 5) as u64;
        bits += len;
        if bits >= 32 {
            bits -= 32;
            words.push((acc >> bits) as u32);
        }
    }
    if bits == 0 {
        return 32;
    }
    words.push((acc & ((1 << bits) - 1)) as u32);
    bits
}

/// Writes bits most significant first into a byte vector, with JPEG's byte stuffing.
pub struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    bits: u32,
}

impl<'a> BitWriter<'a> {
    /// A writer appending to `out`.
    pub fn new(out: &'a mut Vec<u8>) -> BitWriter<'a> {
        BitWriter {
            out,
            acc: 0,
            bits: 0,
        }
    }

    /// Writes one packed code.
    #[inline(always)]
    pub fn put(&mut self, packed: Packed) {
        self.put_bits(packed >> 5, packed & 31);
    }

    /// Writes `words` as [`pack_words`] made them, `tail` bits of the last one.
    #[inline(always)]
    pub fn put_words(&mut self, words: &[u32], tail: u32) {
        if let Some((&last, full)) = words.split_last() {
            for &w in full {
                self.put_bits(w, 32);
            }
            self.put_bits(last, tail);
        }
    }

    /// Writes the low `len` (1-32) bits of `value`; no higher bit may be set.
    #[inline(always)]
    fn put_bits(&mut self, value: u32, len: u32) {
        self.acc = (self.acc << len) | value as u64;
        self.bits += len;
        if self.bits >= 32 {
            self.bits -= 32;
            self.flush_word((self.acc >> self.bits) as u32);
        }
    }

    #[inline(always)]
    fn flush_word(&mut self, word: u32) {
        let bytes = word.to_be_bytes();
        // A byte is 0xFF exactly when its complement is zero.
        let inv = !word;
        if inv.wrapping_sub(0x0101_0101) & !inv & 0x8080_8080 == 0 {
            self.out.extend_from_slice(&bytes);
        } else {
            for b in bytes {
                self.out.push(b);
                if b == 0xff {
                    self.out.push(0);
                }
            }
        }
    }

    /// Pads the last byte with one bits (as the standard asks) and writes what is left.
    pub fn finish(mut self) {
        let pad = (8 - self.bits % 8) % 8;
        self.acc = (self.acc << pad) | ((1 << pad) - 1);
        self.bits += pad;
        while self.bits >= 8 {
            self.bits -= 8;
            let b = (self.acc >> self.bits) as u8;
            self.out.push(b);
            if b == 0xff {
                self.out.push(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_follow_the_standard() {
        assert_eq!(category(0), (0, 0));
        assert_eq!(category(1), (1, 1));
        assert_eq!(category(-1), (1, 0));
        assert_eq!(category(-3), (2, 0));
        assert_eq!(category(5), (3, 5));
        assert_eq!(category(-1023), (10, 0));
    }

    #[test]
    fn stuffs_a_zero_after_each_ff_and_pads_with_ones() {
        let mut out = Vec::new();
        let mut w = BitWriter::new(&mut out);
        for packed in [(0xffff << 5) | 16, (0x12_34ff << 5) | 24, 3] {
            w.put(packed);
        }
        w.finish();
        assert_eq!(out, [0xff, 0, 0xff, 0, 0x12, 0x34, 0xff, 0, 0x1f]);
    }

    #[test]
    fn packed_words_write_the_same_bits_as_their_codes() {
        let codes: Vec<Packed> = (1..40u32)
            .map(|i| (((i * 7919) % (1 << (i % 27))) << 5) | (i % 27))
            .collect();
        for n in 0..codes.len() {
            let (mut one, mut packed) = (Vec::new(), Vec::new());
            let mut w = BitWriter::new(&mut one);
            codes[..n].iter().for_each(|&c| w.put(c));
            w.finish();
            let mut words = Vec::new();
            let tail = pack_words(&codes[..n], &mut words);
            let mut w = BitWriter::new(&mut packed);
            w.put_words(&words, tail);
            w.finish();
            assert_eq!(one, packed, "{n} codes");
        }
    }
}
