//! The two 64-bit perceptual hashes knockoff computes from a thumbnail, and
//! their Hamming distance.
//!
//! * **pHash**: 32×32 thumbnail → 2-D DCT-II → the 64 lowest-frequency
//!   coefficients after the DC term, in zig-zag order (by u+v), each
//!   compared with their median. Low frequencies are what survives
//!   resizing, recompression and overlays.
//! * **dHash**: 9×8 thumbnail → sign of each horizontal step. Cheap and
//!   independent enough of the pHash that a random pair agreeing on both is
//!   far rarer than agreeing on one.
//!
//! Both are kept together as a [`HashPair`] and compared as one 128-bit
//! hash: the distance is the sum of both Hamming distances.

use super::plane::{Plane, Sampler, View};

/// Side of the pHash thumbnail.
const PHASH_SIDE: usize = 32;

/// The two hashes of one view of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct HashPair {
    pub phash: u64,
    pub dhash: u64,
}

impl HashPair {
    /// Bits in a pair.
    pub const BITS: u32 = 128;

    /// Hashes one view of a plane.
    pub fn of_view(plane: &Plane, view: &View) -> HashPair {
        HashPair::of_sampled(&Sampler::new(plane), view)
    }

    /// Hashes one view of a plane that is sampled for many views (a
    /// reference's variants).
    pub fn of_sampled(sampler: &Sampler, view: &View) -> HashPair {
        let thumb = sampler.sample(view, PHASH_SIDE, PHASH_SIDE);
        let phash = phash_of_thumb(&thumb);
        let grid = sampler.sample(view, 9, 8);
        HashPair {
            phash,
            dhash: dhash_of_grid(&grid),
        }
    }

    /// Both hashes as one 128-bit value (pHash in the high half), the key
    /// the multi-index works on.
    pub fn as_u128(&self) -> u128 {
        ((self.phash as u128) << 64) | self.dhash as u128
    }

    pub fn from_u128(v: u128) -> HashPair {
        HashPair {
            phash: (v >> 64) as u64,
            dhash: v as u64,
        }
    }

    /// Sum of the Hamming distances of both hashes, 0..=128.
    pub fn distance(&self, other: &HashPair) -> u32 {
        hamming(self.phash, other.phash) + hamming(self.dhash, other.dhash)
    }
}

/// Hamming distance of two 64-bit hashes.
pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// Cosine table for a 32-point DCT-II, only the 12 lowest frequencies
/// (all the zig-zag selection can reach).
struct DctTable {
    cos: [[f32; PHASH_SIDE]; 12],
}

fn dct_table() -> &'static DctTable {
    static TABLE: std::sync::OnceLock<DctTable> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut cos = [[0f32; PHASH_SIDE]; 12];
        for (k, row) in cos.iter_mut().enumerate() {
            for (n, c) in row.iter_mut().enumerate() {
                *c = (std::f64::consts::PI / PHASH_SIDE as f64 * (n as f64 + 0.5) * k as f64).cos()
                    as f32;
            }
        }
        DctTable { cos }
    })
}

/// The (u, v) frequency pairs whose coefficients make the 64 pHash bits:
/// the lowest diagonals after DC, in a fixed order.
fn zigzag() -> &'static [(usize, usize); 64] {
    static ORDER: std::sync::OnceLock<[(usize, usize); 64]> = std::sync::OnceLock::new();
    ORDER.get_or_init(|| {
        let mut all: Vec<(usize, usize)> = (0..12)
            .flat_map(|u| (0..12).map(move |v| (u, v)))
            .filter(|&(u, v)| u + v > 0)
            .collect();
        all.sort_by_key(|&(u, v)| (u + v, u));
        let mut out = [(0, 0); 64];
        out.copy_from_slice(&all[..64]);
        out
    })
}

/// pHash of a 32×32 row-major thumbnail.
pub fn phash_of_thumb(thumb: &[f32]) -> u64 {
    let t = dct_table();
    // Centre on the mean first: the DC term is not used, and leaving it in
    // makes f32 rounding noise (from sums near 2e5) flip the bits of small
    // coefficients when only the brightness changed.
    let mean = thumb.iter().sum::<f32>() / thumb.len().max(1) as f32;
    let thumb: Vec<f32> = thumb.iter().map(|v| v - mean).collect();
    // Row transform: for each row y, the 12 lowest horizontal frequencies.
    let mut rows = [[0f32; 12]; PHASH_SIDE];
    for (y, out) in rows.iter_mut().enumerate() {
        let line = &thumb[y * PHASH_SIDE..(y + 1) * PHASH_SIDE];
        for (u, o) in out.iter_mut().enumerate() {
            *o = line.iter().zip(t.cos[u].iter()).map(|(a, b)| a * b).sum();
        }
    }
    let order = zigzag();
    let mut coeffs = [0f32; 64];
    for (i, &(u, v)) in order.iter().enumerate() {
        coeffs[i] = (0..PHASH_SIDE).map(|y| rows[y][u] * t.cos[v][y]).sum();
    }
    bits_above_median(&coeffs)
}

fn bits_above_median(values: &[f32; 64]) -> u64 {
    let mut sorted = *values;
    sorted.sort_unstable_by(|a, b| a.total_cmp(b));
    let median = (sorted[31] + sorted[32]) / 2.0;
    values.iter().enumerate().fold(
        0u64,
        |acc, (i, &v)| if v > median { acc | 1 << i } else { acc },
    )
}

/// Grey levels by which a dHash cell must exceed its neighbour to set a bit.
pub const DHASH_MARGIN: f32 = 0.5;

/// dHash of a 9×8 row-major grid: bit set where a cell is brighter than its
/// right neighbour.
pub fn dhash_of_grid(grid: &[f32]) -> u64 {
    let mut h = 0u64;
    for y in 0..8 {
        for x in 0..8 {
            // A margin, so that flat areas (white product backgrounds) give
            // 0 bits every time instead of float-rounding noise.
            if grid[y * 9 + x] > grid[y * 9 + x + 1] + DHASH_MARGIN {
                h |= 1 << (y * 8 + x);
            }
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn plane_from(seed: u64, w: usize, h: usize) -> Plane {
        // Smooth random content: a few random blobs, so hashes are not
        // degenerate.
        let mut s = seed | 1;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % 10_000) as f32 / 10_000.0
        };
        let blobs: Vec<(f32, f32, f32, f32)> = (0..6)
            .map(|_| {
                (
                    next() * w as f32,
                    next() * h as f32,
                    next() * 30.0 + 5.0,
                    next(),
                )
            })
            .collect();
        let data = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32, (i / w) as f32);
                let v: f32 = blobs
                    .iter()
                    .map(|&(bx, by, r, a)| {
                        a * (-((x - bx).powi(2) + (y - by).powi(2)) / (r * r)).exp()
                    })
                    .sum();
                // Room on both sides, so a ±20 brightness shift never clips.
                (30.0 + v * 120.0).min(220.0)
            })
            .collect();
        Plane {
            width: w,
            height: h,
            data,
        }
    }

    proptest! {
        #[test]
        fn hamming_is_a_metric(a: u64, b: u64, c: u64) {
            prop_assert_eq!(hamming(a, b), hamming(b, a));
            prop_assert_eq!(hamming(a, a), 0);
            prop_assert!(hamming(a, c) <= hamming(a, b) + hamming(b, c));
            prop_assert_eq!(hamming(a, b) == 0, a == b);
        }

        #[test]
        fn pair_distance_is_symmetric_and_round_trips(p1: u64, d1: u64, p2: u64, d2: u64) {
            let a = HashPair { phash: p1, dhash: d1 };
            let b = HashPair { phash: p2, dhash: d2 };
            prop_assert_eq!(a.distance(&b), b.distance(&a));
            prop_assert_eq!(a.distance(&a), 0);
            prop_assert_eq!(a.distance(&b), (a.as_u128() ^ b.as_u128()).count_ones());
            prop_assert_eq!(HashPair::from_u128(a.as_u128()), a);
        }

        #[test]
        fn hash_is_stable_under_brightness_offset(seed in 1u64..10_000, offset in -20f32..20.0) {
            let p = plane_from(seed, 64, 48);
            // Flat images have all-noise hashes and are never matched
            // (see verify::MIN_CONTRAST); the property is about real ones.
            prop_assume!(super::super::verify::contrast(&p.data) > 8.0);
            let mut q = p.clone();
            for v in &mut q.data { *v = (*v + offset).clamp(0.0, 255.0) }
            let a = HashPair::of_view(&p, &View::of(p.full_rect()));
            let b = HashPair::of_view(&q, &View::of(q.full_rect()));
            // No clipping: only float rounding may flip a bit.
            prop_assert!(a.distance(&b) <= 2, "distance {}", a.distance(&b));
        }
    }

    #[test]
    fn phash_of_mirror_differs_and_mirror_view_restores_it() {
        let p = plane_from(42, 64, 64);
        let mut flipped = p.clone();
        for y in 0..64 {
            for x in 0..64 {
                flipped.data[y * 64 + x] = p.data[y * 64 + 63 - x];
            }
        }
        let a = HashPair::of_view(&p, &View::of(p.full_rect()));
        let b = HashPair::of_view(&flipped, &View::of(flipped.full_rect()));
        assert!(
            a.distance(&b) > 10,
            "mirror should look different: {}",
            a.distance(&b)
        );
        let mut mv = View::of(p.full_rect());
        mv.mirrored = true;
        let c = HashPair::of_view(&p, &mv);
        assert!(c.distance(&b) <= 2, "distance {}", c.distance(&b));
    }

    #[test]
    fn phash_bits_are_balanced() {
        let p = plane_from(7, 64, 64);
        let h = HashPair::of_view(&p, &View::of(p.full_rect()));
        assert!((24..=40).contains(&h.phash.count_ones()));
    }
}
