//! gbwatch's own baseline JPEG encoder for upscaled pixel art: 4:2:0, Annex K tables,
//! working from the frame at its own size. Identical 8x8 blocks are coded once per frame
//! ([`memo`]), which is what makes it fast on Game Boy frames at 2x-4x.

mod bits;
mod dct;
mod headers;
mod memo;
mod planes;
mod tables;

use bits::BitWriter;
use dct::Quantiser;
use memo::Memo;
use planes::Planes;
use tables::HuffCodes;

/// Quantisers and Huffman codes for one quality; index 0 luminance, 1 chrominance.
struct Tables {
    quality: u8,
    divisors: [[u8; 64]; 2],
    quant: [Quantiser; 2],
    dc: [HuffCodes; 2],
    ac: [HuffCodes; 2],
}

impl Tables {
    fn new(quality: u8) -> Tables {
        let divisors = [
            tables::quant_table(true, quality),
            tables::quant_table(false, quality),
        ];
        Tables {
            quality,
            quant: [Quantiser::new(&divisors[0]), Quantiser::new(&divisors[1])],
            divisors,
            dc: [
                HuffCodes::new(&tables::DC_LUMA),
                HuffCodes::new(&tables::DC_CHROMA),
            ],
            ac: [
                HuffCodes::new(&tables::AC_LUMA),
                HuffCodes::new(&tables::AC_CHROMA),
            ],
        }
    }
}

/// Encodes RGBA frames scaled by an integer factor; keeps its buffers between frames.
#[derive(Default)]
pub struct BaselineEncoder {
    planes: Planes,
    tables: Option<Tables>,
    memo: [Memo; 2],
}

impl std::fmt::Debug for BaselineEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BaselineEncoder").finish_non_exhaustive()
    }
}

impl BaselineEncoder {
    /// Converts `rgba` (`width * height * 4` bytes, both sides at least 1) at scale `k`
    /// into the encoder's planes: the part of the work that stands in for scaling.
    pub fn prepare(&mut self, rgba: &[u8], width: usize, height: usize, k: usize) {
        self.planes.fill(rgba, width, height, k);
    }

    /// An encoder that codes every block afresh: the memo must change no byte.
    #[cfg(test)]
    fn forgetful() -> BaselineEncoder {
        let mut enc = BaselineEncoder::default();
        for memo in &mut enc.memo {
            memo.forget = true;
        }
        enc
    }

    /// Appends the JPEG of the prepared `width` x `height` (scaled) image at `quality`.
    pub fn encode(&mut self, out: &mut Vec<u8>, width: u16, height: u16, quality: u8) {
        let tables = match &mut self.tables {
            Some(t) if t.quality == quality => t,
            slot => slot.insert(Tables::new(quality)),
        };
        headers::write(out, width, height, &tables.divisors);
        for memo in &mut self.memo {
            memo.clear();
        }
        scan(out, &self.planes, tables, &mut self.memo);
        out.extend_from_slice(&[0xff, 0xd9]);
    }
}

/// The entropy-coded data: MCUs left to right, top to bottom; four Y blocks, Cb, Cr.
fn scan(out: &mut Vec<u8>, planes: &Planes, tables: &Tables, memo: &mut [Memo; 2]) {
    let mut w = BitWriter::new(out);
    let mut pred = [0i32; 3];
    let [luma, chroma] = memo;
    let [cb, cr] = &planes.chroma;
    for my in 0..planes.mcus.1 {
        for mx in 0..planes.mcus.0 {
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let block = planes.y.block(2 * mx + dx, 2 * my + dy);
                code(&mut w, block, tables, 0, luma, &mut pred[0]);
            }
            for (i, plane) in [cb, cr].into_iter().enumerate() {
                code(
                    &mut w,
                    plane.block(mx, my),
                    tables,
                    1,
                    chroma,
                    &mut pred[1 + i],
                );
            }
        }
    }
    w.finish();
}

/// Codes one block of table set `t` (0 luminance, 1 chrominance), predicting its DC from
/// the component's previous block.
#[inline(always)]
fn code(
    w: &mut BitWriter,
    block: [u64; 8],
    tables: &Tables,
    t: usize,
    memo: &mut Memo,
    pred: &mut i32,
) {
    let coded = memo.code(block, &tables.quant[t], &tables.ac[t]);
    w.put(bits::dc(coded.dc - *pred, &tables.dc[t]));
    *pred = coded.dc;
    w.put_words(memo.ac(coded), coded.tail);
}

#[cfg(test)]
mod tests;
