//! Coded blocks remembered by their samples. Upscaled pixel art repeats itself: at k x each
//! source pixel is a k x k square and the game's 8x8 tiles recur, so most 8x8 blocks of a
//! frame have the samples of an earlier one. Such a block costs a hash look-up instead of
//! a DCT, quantisation and Huffman coding.

use super::bits::{self, Packed};
use super::dct::Quantiser;
use super::tables::HuffCodes;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// A block's 64 samples, row by row.
#[derive(PartialEq, Eq)]
struct Key([u64; 8]);

impl Hash for Key {
    #[inline(always)]
    fn hash<H: Hasher>(&self, state: &mut H) {
        for &w in &self.0 {
            state.write_u64(w);
        }
    }
}

/// Multiply-xor over the eight words; the keys are not chosen by an adversary.
#[derive(Default)]
struct WordHasher(u64);

impl Hasher for WordHasher {
    #[inline(always)]
    fn write_u64(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(23) ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(*b as u64);
        }
    }

    #[inline(always)]
    fn finish(&self) -> u64 {
        // Fold the well-mixed high half into the low bits that pick the bucket.
        self.0 ^ (self.0 >> 32)
    }
}

/// A coded block: its quantised DC and where its AC bits sit in the arena.
#[derive(Clone, Copy)]
pub struct Coded {
    /// The quantised DC coefficient.
    pub dc: i32,
    start: u32,
    end: u32,
    /// Bits used in the last word.
    pub tail: u32,
}

/// The blocks coded so far with one quantiser and one AC table.
#[derive(Default)]
pub struct Memo {
    map: HashMap<Key, Coded, BuildHasherDefault<WordHasher>>,
    /// Every coded block's AC bits, packed in words (appending words is faster than codes).
    words: Vec<u32>,
    codes: Vec<Packed>,
    /// Remembers nothing (tests compare against this).
    pub forget: bool,
}

impl Memo {
    /// Forgets every block, keeping the memory.
    pub fn clear(&mut self) {
        self.map.clear();
        self.words.clear();
    }

    /// The coded form of `block`, from memory or made now with `quant` and `ac`.
    #[inline]
    pub fn code(&mut self, block: [u64; 8], quant: &Quantiser, ac: &HuffCodes) -> Coded {
        if self.forget {
            self.clear();
        }
        let (codes, words) = (&mut self.codes, &mut self.words);
        *self.map.entry(Key(block)).or_insert_with(|| {
            let mut coefs = [0i16; 64];
            quant.block(&block, &mut coefs);
            codes.clear();
            bits::ac(&coefs, ac, codes);
            let start = words.len() as u32;
            let tail = bits::pack_words(codes, words);
            Coded {
                dc: coefs[0] as i32,
                start,
                end: words.len() as u32,
                tail,
            }
        })
    }

    /// The AC bits of `coded`, packed in words.
    #[inline(always)]
    pub fn ac(&self, coded: Coded) -> &[u32] {
        &self.words[coded.start as usize..coded.end as usize]
    }
}
