//! The forward DCT of an 8x8 block and its quantisation: libjpeg's floating-point AAN
//! transform (jfdctflt.c), whose output scale is folded into the quantiser. Written as
//! operations on whole rows of eight lanes, so the compiler vectorises it with the
//! baseline x86-64 instruction set (SSE2); nothing needs AVX2.

use super::tables::ZIGZAG;
use std::f32::consts::FRAC_1_SQRT_2;

type Row = [f32; 8];

/// Multipliers that turn a block's transform into quantised coefficients, in the
/// transform's output order (transposed).
#[derive(Clone)]
pub struct Quantiser {
    recip: [f32; 64],
}

/// AAN's scale of output frequency `u`: cos(u·π/16)·√2, 1 for u = 0.
const AAN: [f64; 8] = [
    1.0,
    1.387_039_845,
    1.306_562_965,
    1.175_875_602,
    1.0,
    0.785_694_958,
    0.541_196_1,
    0.275_899_379,
];

impl Quantiser {
    /// The quantiser of `table` (natural order, the DQT's divisors).
    pub fn new(table: &[u8; 64]) -> Quantiser {
        let mut recip = [0f32; 64];
        for (u, row) in table.chunks_exact(8).enumerate() {
            for (v, &q) in row.iter().enumerate() {
                // The transform leaves (u, v) at index v * 8 + u. The factor a hair above 1
                // rounds exact halves (flat blocks' DCs) away from zero, as libjpeg does.
                let scale = (1.0 + 1.0 / (1u32 << 20) as f64) / (q as f64 * AAN[u] * AAN[v] * 8.0);
                recip[v * 8 + u] = scale as f32;
            }
        }
        Quantiser { recip }
    }

    /// Transforms and quantises `block` (64 samples, row-major) into `out`, zigzag order.
    #[inline]
    pub fn block(&self, block: &[u64; 8], out: &mut [i16; 64]) {
        let mut rows = [[0f32; 8]; 8];
        for (row, word) in rows.iter_mut().zip(block) {
            for (x, b) in row.iter_mut().zip(word.to_le_bytes()) {
                *x = b as f32 - 128.0;
            }
        }
        let cols = transpose(&columns(&rows));
        let coefs = columns(&cols);
        let mut q = [0i32; 64];
        for ((q, &c), &r) in q.iter_mut().zip(coefs.as_flattened()).zip(&self.recip) {
            *q = round(c * r);
        }
        for (o, &n) in out.iter_mut().zip(&ZIGZAG) {
            let n = n as usize;
            *o = q[(n % 8) * 8 + n / 8] as i16;
        }
    }
}

/// Nearest integer (ties to even) of `x`, |x| < 2^22, with no rounding instruction:
/// adding 1.5·2^23 leaves the rounded value in the mantissa's low bits.
#[inline(always)]
fn round(x: f32) -> i32 {
    const MAGIC: f32 = 12_582_912.0;
    (x + MAGIC).to_bits() as i32 - MAGIC.to_bits() as i32
}

fn transpose(m: &[Row; 8]) -> [Row; 8] {
    let mut t = [[0f32; 8]; 8];
    for (i, row) in m.iter().enumerate() {
        for (j, &x) in row.iter().enumerate() {
            t[j][i] = x;
        }
    }
    t
}

#[inline(always)]
fn add(a: Row, b: Row) -> Row {
    std::array::from_fn(|i| a[i] + b[i])
}

#[inline(always)]
fn sub(a: Row, b: Row) -> Row {
    std::array::from_fn(|i| a[i] - b[i])
}

#[inline(always)]
fn mul(a: Row, k: f32) -> Row {
    a.map(|x| x * k)
}

/// The 1-D AAN transform down every column at once: `d[u]` is frequency u of each column.
#[inline(always)]
fn columns(d: &[Row; 8]) -> [Row; 8] {
    let (tmp0, tmp7) = (add(d[0], d[7]), sub(d[0], d[7]));
    let (tmp1, tmp6) = (add(d[1], d[6]), sub(d[1], d[6]));
    let (tmp2, tmp5) = (add(d[2], d[5]), sub(d[2], d[5]));
    let (tmp3, tmp4) = (add(d[3], d[4]), sub(d[3], d[4]));
    // Even part.
    let (tmp10, tmp13) = (add(tmp0, tmp3), sub(tmp0, tmp3));
    let (tmp11, tmp12) = (add(tmp1, tmp2), sub(tmp1, tmp2));
    let z1 = mul(add(tmp12, tmp13), FRAC_1_SQRT_2);
    // Odd part.
    let tmp10o = add(tmp4, tmp5);
    let tmp11o = add(tmp5, tmp6);
    let tmp12o = add(tmp6, tmp7);
    let z5 = mul(sub(tmp10o, tmp12o), 0.382_683_43);
    let z2 = add(mul(tmp10o, 0.541_196_1), z5);
    let z4 = add(mul(tmp12o, 1.306_563), z5);
    let z3 = mul(tmp11o, FRAC_1_SQRT_2);
    let (z11, z13) = (add(tmp7, z3), sub(tmp7, z3));
    [
        add(tmp10, tmp11),
        add(z11, z4),
        add(tmp13, z1),
        sub(z13, z2),
        sub(tmp10, tmp11),
        add(z13, z2),
        sub(tmp13, z1),
        sub(z11, z4),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// The DCT of the standard's definition (A.3.3), quantised by `table`.
    fn reference(samples: &[u8; 64], table: &[u8; 64]) -> [i32; 64] {
        std::array::from_fn(|n| {
            let (u, v) = (n / 8, n % 8);
            let c = |f: usize| if f == 0 { 1.0 / 2f64.sqrt() } else { 1.0 };
            let mut sum = 0.0;
            for y in 0..8 {
                for x in 0..8 {
                    sum += (samples[y * 8 + x] as f64 - 128.0)
                        * ((2 * y + 1) as f64 * u as f64 * PI / 16.0).cos()
                        * ((2 * x + 1) as f64 * v as f64 * PI / 16.0).cos();
                }
            }
            (sum * c(u) * c(v) / 4.0 / table[n] as f64).round() as i32
        })
    }

    #[test]
    fn matches_the_definition_within_rounding() {
        let mut seed = 7u32;
        for quality in [50, 75, 95, 100] {
            let table = super::super::tables::quant_table(true, quality);
            let quant = Quantiser::new(&table);
            for _ in 0..200 {
                let samples: [u8; 64] = std::array::from_fn(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    (seed >> 16) as u8
                });
                let mut words = [0u64; 8];
                for (w, chunk) in words.iter_mut().zip(samples.chunks_exact(8)) {
                    *w = u64::from_le_bytes(chunk.try_into().unwrap());
                }
                let mut out = [0i16; 64];
                quant.block(&words, &mut out);
                let expect = reference(&samples, &table);
                for (i, &n) in ZIGZAG.iter().enumerate() {
                    let diff = (out[i] as i32 - expect[n as usize]).abs();
                    assert!(
                        diff <= 1,
                        "q{quality} coefficient {n}: {} vs {}",
                        out[i],
                        expect[n as usize]
                    );
                }
            }
        }
    }
}
