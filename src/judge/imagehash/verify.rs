//! Second stage of matching: align a candidate reference to the listing
//! photo and measure how alike they are.
//!
//! The index (first stage) finds references whose nearest variant is
//! within a loose Hamming radius; that is cheap but coarse: the variant
//! grid is 5% and 3° apart, and a hash cannot tell "same photo, slightly
//! shifted and stamped with a logo" from "another photo with a similar
//! layout". Here the reference view of that variant is refined by
//! coordinate descent over shift, scale and rotation to best fit the
//! listing photo's 32×32 thumbnail, and the fit is scored by a robust
//! normalised cross-correlation (1.0 = identical up to brightness and
//! contrast), of the grey levels and of the fine detail (Laplacians).
//! Copies sit near 1.0 on both; smooth unrelated photos can reach 0.99 on
//! grey levels but not on detail (see BENCHMARKS.md for the sweeps).

use super::plane::{Sampler, View};
use wide::f32x8;

/// Side of the thumbnails compared.
pub const VERIFY_SIDE: usize = 32;

/// Normalised cross-correlation of two equally long samples (the longer
/// one's tail is ignored); 0 when either is flat (a flat image carries no
/// evidence either way).
pub fn ncc(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    ROBUST_SCRATCH.with_borrow_mut(|s| {
        s.inside.clear();
        s.inside.resize(n, 1.0);
        moments(&a[..n], &b[..n], &s.inside).ncc()
    })
}

/// Share of samples [`robust_ncc`] leaves out: the worst-fitting ones.
pub const ROBUST_DROP: f32 = 0.15;

/// Normalised cross-correlation over the best-fitting `1 - drop` of the
/// samples. A copy differs from its original in a few places (a shop
/// banner or watermark over up to 15% of the area, the uncovered corners
/// of a rotation, a misjudged border) and agrees everywhere else; an
/// unrelated photo disagrees everywhere, so leaving out the worst-fitting
/// samples lifts copies much more than strangers.
pub fn robust_ncc(a: &[f32], b: &[f32], drop: f32) -> f32 {
    robust_ncc_within(a, b, None, drop)
}

/// [`robust_ncc`] over the samples whose `coverage` is at least one half
/// (all of them when `coverage` is `None`).
///
/// Residuals of the best linear fit of `b` by `a` on the samples kept so
/// far: the samples that fit worst are left out and the fit is redone on
/// the rest, a few times (a banner first inflates the fit's spread, so one
/// pass over-keeps it). The samples kept are a 0/1 weight per sample, so
/// every sum runs over whole slices in eight lanes (vector instructions,
/// no gathering), and the sums that score a pass are the next pass's fit.
/// The buffers are kept per thread (see [`RobustScratch`]).
fn robust_ncc_within(a: &[f32], b: &[f32], coverage: Option<&[f32]>, drop: f32) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    ROBUST_SCRATCH.with_borrow_mut(|s| {
        let RobustScratch {
            inside,
            kept,
            residuals,
            bits,
        } = s;
        inside.clear();
        match coverage {
            Some(c) => inside.extend((0..n).map(|i| {
                if c.get(i).is_some_and(|&c| c >= 0.5) {
                    1.0
                } else {
                    0.0
                }
            })),
            None => inside.resize(n, 1.0),
        }
        let mut fit = moments(a, b, inside);
        let full = fit.ncc();
        let count = fit.k as usize;
        let keep = count - ((count as f32 * drop.clamp(0.0, 0.5)) as usize);
        if keep == count || full <= 0.0 || keep < 2 {
            return full;
        }
        let mut best = full;
        for _ in 0..ROBUST_PASSES {
            fit_residuals(a, b, inside, &fit, residuals);
            keep_smallest(residuals, keep, bits, kept);
            fit = moments(a, b, kept);
            best = best.max(fit.ncc());
        }
        best
    })
}

/// [`robust_ncc`]'s buffers, kept per thread: it runs for every probe of
/// every alignment, and its allocations were what made matching threads
/// wait on each other when the allocator keeps one arena (BENCHMARKS.md
/// "Stop 35").
#[derive(Default)]
struct RobustScratch {
    /// 1 for a sample judged at all (covered), else 0.
    inside: Vec<f32>,
    /// 1 for a sample kept by the current pass, else 0.
    kept: Vec<f32>,
    residuals: Vec<f32>,
    bits: Vec<u32>,
}

thread_local! {
    static ROBUST_SCRATCH: std::cell::RefCell<RobustScratch> =
        std::cell::RefCell::new(RobustScratch::default());
}

/// Lanes of the weighted sums: independent chains of additions that
/// vector instructions run side by side.
const LANES: usize = 8;

/// Calls `f` on each [`LANES`] values of `a`, `b` and `w` in turn (as
/// long as the shortest), the last ones padded with zeros (a weight of 0
/// leaves them out of every sum).
#[inline(always)]
fn each_lanes(a: &[f32], b: &[f32], w: &[f32], mut f: impl FnMut(f32x8, f32x8, f32x8)) {
    let n = a.len().min(b.len()).min(w.len());
    let whole = n - n % LANES;
    let load = |c: &[f32]| f32x8::new(c.try_into().unwrap_or([0.0; LANES]));
    for ((ca, cb), cw) in a[..whole]
        .chunks_exact(LANES)
        .zip(b[..whole].chunks_exact(LANES))
        .zip(w[..whole].chunks_exact(LANES))
    {
        f(load(ca), load(cb), load(cw));
    }
    if whole < n {
        let padded = |v: &[f32]| {
            let mut out = [0f32; LANES];
            out[..n - whole].copy_from_slice(&v[whole..n]);
            f32x8::new(out)
        };
        f(padded(a), padded(b), padded(w));
    }
}

/// Weighted means and centred second moments of two samples.
#[derive(Debug, Clone, Copy)]
struct Moments {
    /// Total weight (samples kept).
    k: f32,
    ma: f32,
    mb: f32,
    saa: f32,
    sbb: f32,
    sab: f32,
}

impl Moments {
    /// The correlation; 0 when either sample is flat.
    fn ncc(&self) -> f32 {
        if self.saa < 1e-3 || self.sbb < 1e-3 {
            return 0.0;
        }
        self.sab / (self.saa.sqrt() * self.sbb.sqrt())
    }
}

/// The moments of `a` and `b` weighted by `w` (0 or 1 per sample; all
/// three equally long), each sum in [`LANES`] lanes added up at the end in
/// lane order.
fn moments(a: &[f32], b: &[f32], w: &[f32]) -> Moments {
    let total = |v: f32x8| v.to_array().iter().sum::<f32>();
    let (mut k, mut sa, mut sb) = (f32x8::ZERO, f32x8::ZERO, f32x8::ZERO);
    each_lanes(a, b, w, |ca, cb, cw| {
        k += cw;
        sa += cw * ca;
        sb += cw * cb;
    });
    let kk = total(k);
    if kk == 0.0 {
        return Moments {
            k: 0.0,
            ma: 0.0,
            mb: 0.0,
            saa: 0.0,
            sbb: 0.0,
            sab: 0.0,
        };
    }
    let (ma, mb) = (total(sa) / kk, total(sb) / kk);
    let (va, vb) = (f32x8::splat(ma), f32x8::splat(mb));
    let (mut saa, mut sbb, mut sab) = (f32x8::ZERO, f32x8::ZERO, f32x8::ZERO);
    each_lanes(a, b, w, |ca, cb, cw| {
        let (dx, dy) = (cw * (ca - va), cw * (cb - vb));
        saa += dx * dx;
        sbb += dy * dy;
        sab += dx * dy;
    });
    Moments {
        k: kk,
        ma,
        mb,
        saa: total(saa),
        sbb: total(sbb),
        sab: total(sab),
    }
}

/// How far each sample is from the fit `m` (both samples standardised):
/// `+∞` for a sample not judged (`inside` 0), so it is never kept.
fn fit_residuals(a: &[f32], b: &[f32], inside: &[f32], m: &Moments, out: &mut Vec<f32>) {
    let n = a.len().min(b.len()).min(inside.len());
    let sa = f32x8::splat((m.saa / m.k).sqrt().max(1e-3));
    let sb = f32x8::splat((m.sbb / m.k).sqrt().max(1e-3));
    let (ma, mb) = (f32x8::splat(m.ma), f32x8::splat(m.mb));
    out.clear();
    out.resize(n, 0.0);
    // Whole lanes are stored as arrays: no call to `memmove` per lane.
    let (whole, tail) = out.split_at_mut(n - n % LANES);
    let mut lanes = whole.chunks_exact_mut(LANES);
    each_lanes(a, b, inside, |ca, cb, cw| {
        let r = (((ca - ma) / sa) - ((cb - mb) / sb)).abs();
        let r = cw
            .simd_gt(f32x8::ZERO)
            .bitselect(r, f32x8::splat(f32::INFINITY))
            .to_array();
        match lanes.next().map(<&mut [f32; LANES]>::try_from) {
            Some(Ok(lane)) => *lane = r,
            _ => {
                for (o, v) in tail.iter_mut().zip(r) {
                    *o = v;
                }
            }
        }
    });
}

/// Sets `kept` to 1 for the `keep` smallest `residuals` and 0 elsewhere:
/// below the `keep`-th smallest value all, at it the first in sample
/// order. Residuals are never negative, so their bits order as they do.
fn keep_smallest(residuals: &[f32], keep: usize, bits: &mut Vec<u32>, kept: &mut Vec<f32>) {
    let n = residuals.len();
    kept.clear();
    if keep == 0 || n == 0 {
        kept.resize(n, 0.0);
        return;
    }
    let keep = keep.min(n);
    bits.clear();
    bits.extend(residuals.iter().map(|r| r.to_bits()));
    let (_, &mut threshold, _) = bits.select_nth_unstable(keep - 1);
    let mut below = 0;
    kept.extend(residuals.iter().map(|r| {
        let k = r.to_bits() < threshold;
        below += k as usize;
        if k {
            1.0
        } else {
            0.0
        }
    }));
    let mut ties = keep - below;
    for (k, r) in kept.iter_mut().zip(residuals) {
        if ties == 0 {
            break;
        }
        if r.to_bits() == threshold {
            *k = 1.0;
            ties -= 1;
        }
    }
}

/// Selection passes of [`robust_ncc`].
pub const ROBUST_PASSES: usize = 3;

/// Standard deviation of a thumbnail: below [`MIN_CONTRAST`] an image is
/// too flat (blank, a plain colour) to be matched at all.
pub fn contrast(thumb: &[f32]) -> f32 {
    let n = thumb.len().max(1) as f32;
    let m = thumb.iter().sum::<f32>() / n;
    (thumb.iter().map(|v| (v - m) * (v - m)).sum::<f32>() / n).sqrt()
}

/// Thumbnails flatter than this (grey levels, standard deviation) are not
/// matched: their hashes are noise.
pub const MIN_CONTRAST: f32 = 4.0;

/// A view nudged by relative shift, log-scale and rotation.
pub(super) fn nudged(base: &View, p: &[f32; 5]) -> View {
    let (cx, cy) = base.rect.centre();
    let w = base.rect.width() * p[2].exp();
    let h = base.rect.height() * p[3].exp();
    let cx = cx + p[0] * base.rect.width();
    let cy = cy + p[1] * base.rect.height();
    View {
        rect: super::plane::Rect {
            left: cx - w / 2.0,
            top: cy - h / 2.0,
            right: cx + w / 2.0,
            bottom: cy + h / 2.0,
        },
        angle_rad: base.angle_rad + p[4],
        mirrored: base.mirrored,
    }
}

/// Laplacian (value minus the mean of its 4 neighbours) of a side×side
/// thumbnail at interior sample `i`.
fn laplacian_at(t: &[f32], i: usize, side: usize) -> f32 {
    t[i] - (t[i - 1] + t[i + 1] + t[i - side] + t[i + side]) / 4.0
}

/// The Laplacians of the aligned reference sample and of the photo's
/// thumbnail at the interior samples whose whole neighbourhood is covered
/// by the reference.
fn detail_pairs(t: &[f32], coverage: &[f32], query: &[f32], side: usize) -> (Vec<f32>, Vec<f32>) {
    (1..side - 1)
        .flat_map(|y| (1..side - 1).map(move |x| y * side + x))
        .filter(|&i| {
            [i, i - 1, i + 1, i - side, i + side]
                .iter()
                .all(|&j| coverage[j] >= 0.5)
        })
        .map(|i| (laplacian_at(t, i, side), laplacian_at(query, i, side)))
        .unzip()
}

/// The effective number of independent samples of a side×side thumbnail:
/// the sample count scaled by `(1 - r) / (1 + r)` for the correlation `r`
/// of neighbouring samples in each direction (a first-order
/// autoregressive model). A smooth view, whose neighbours are nearly
/// equal, holds only a few; a texture holds hundreds. A correlation over
/// few independent samples is weak evidence: two smooth photos can
/// correlate at 0.99 in grey levels by chance, two textures cannot.
pub fn independent_samples(t: &[f32], side: usize) -> f32 {
    let n = side * side;
    if side < 2 || t.len() < n {
        return 0.0;
    }
    let m = t[..n].iter().sum::<f32>() / n as f32;
    let var: f32 = t[..n].iter().map(|v| (v - m) * (v - m)).sum();
    if var < 1e-3 {
        return 0.0;
    }
    let (mut cx, mut cy) = (0f32, 0f32);
    for y in 0..side {
        for x in 0..side {
            let d = t[y * side + x] - m;
            if x + 1 < side {
                cx += d * (t[y * side + x + 1] - m);
            }
            if y + 1 < side {
                cy += d * (t[(y + 1) * side + x] - m);
            }
        }
    }
    let share = |c: f32| {
        let r = (c / var).clamp(0.0, 1.0);
        (1.0 - r) / (1.0 + r)
    };
    n as f32 * share(cx) * share(cy)
}

/// How the coordinate descent of [`align`] went: what calibrating a
/// cheap stage against the full alignment needs (logged per alignment at
/// trace level, target `knockoff::align`: see `imagehash::trace_alignment`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Descent {
    /// Points scored (each probe samples the reference view once).
    pub probes: u32,
    /// Sweeps over the five parameters in each of the three rounds.
    pub sweeps: [u32; 3],
    /// Correlation at the start view, before any step.
    pub start_similarity: f32,
    /// Best correlation at the end of each round; the last is the
    /// alignment's similarity.
    pub round_best: [f32; 3],
}

/// How well a reference, aligned, explains a listing photo.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Alignment {
    /// Robust correlation of grey levels (1.0: identical up to brightness
    /// and contrast).
    pub similarity: f32,
    /// Robust correlation of fine detail (the Laplacians) at the same
    /// alignment. Two smooth photos (a sky, a dark corner, a soft
    /// gradient) can correlate at 0.99 in grey levels without being the
    /// same photo; their fine detail does not.
    pub detail: f32,
    /// How many independent samples the aligned reference view holds, by
    /// [`independent_samples`]: about 1–3 for a smooth view (a sky, a
    /// blurred background), 8 and more for a textured one.
    pub independent_samples: f32,
    /// Where the alignment started, which sets what a match needs (see
    /// `imagehash::scores_match`).
    pub start: Start,
    /// The reference view at the best alignment (in the reference plane's
    /// pixels): what the copy's edits measure as, see
    /// `VariantKind::measured`. `None` when nothing was aligned.
    pub view: Option<View>,
    /// How the descent went (all zero when nothing was aligned).
    pub descent: Descent,
}

/// Where an alignment started (see `ReferenceIndex` lookups).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Start {
    /// From the view of the variant the first stage found.
    #[default]
    Variant,
    /// From a second starting view, after the variant's own did not
    /// match: held to a stricter detail threshold
    /// (`imagehash::RETRY_DETAIL`), since every extra start is one more
    /// chance for a chance fit.
    Retry,
    /// On part of the photo, one side left out (`imagehash::PARTIAL_CUT`):
    /// only a textured part is evidence enough
    /// (`imagehash::PARTIAL_SAMPLES`).
    Partial,
}

/// Robust correlation ([`robust_ncc`]) of a sampled reference view with
/// the query's thumbnail. Samples mostly outside the reference (rotation
/// corners, a view shifted past the edge, the padding around a copy padded
/// and then rotated, which the border trim cannot find: 20% a side leaves
/// the photo half the canvas) are left out, unless that would leave less
/// than half the samples to judge.
pub(super) fn similarity(t: &[f32], coverage: &[f32], query_thumb: &[f32]) -> f32 {
    let inside = coverage.iter().filter(|&&c| c >= 0.5).count();
    if inside == t.len() || inside < t.len() / 2 {
        return robust_ncc(t, query_thumb, ROBUST_DROP);
    }
    robust_ncc_within(t, query_thumb, Some(coverage), ROBUST_DROP)
}

/// Refines `start` on `reference` to fit `query_thumb` (32×32): the best
/// correlation found ([`robust_ncc`]: the worst-fitting [`ROBUST_DROP`] of
/// the samples left out) and the correlation of fine detail there.
///
/// Each point's score is computed once: the descent probes the same
/// point again when a sweep ends on a move and the next sweep makes
/// none before it, and a point is known by the bits of its parameters, so
/// the scores, the path and the result are those of scoring every probe.
pub fn align(sampler: &Sampler, start: &View, query_thumb: &[f32]) -> Alignment {
    let mut seen: Vec<([u32; 5], f32)> = Vec::with_capacity(256);
    let mut descent = Descent::default();
    // One pair of sample buffers for every probe of the descent.
    let (mut t, mut coverage) = (Vec::new(), Vec::new());
    let mut score = |p: &[f32; 5]| {
        let key = p.map(f32::to_bits);
        if let Some(&(_, s)) = seen.iter().find(|(k, _)| *k == key) {
            return s;
        }
        sampler.sample_into(
            &nudged(start, p),
            VERIFY_SIDE,
            VERIFY_SIDE,
            &mut t,
            &mut coverage,
        );
        let s = similarity(&t, &coverage, query_thumb);
        seen.push((key, s));
        s
    };
    let mut p = [0f32; 5];
    let mut best = score(&p);
    descent.start_similarity = best;
    // Start at half the variant grid's spacing (5% crops → 2.5% shift and
    // scale, 3° rotations → 1.5°), halve twice.
    let mut steps = [0.025f32, 0.025, 0.03, 0.03, 1.5f32.to_radians()];
    for round in 0..3 {
        // The last step taken (parameter, sign): stepping straight back
        // would return to the point it left, which scored lower.
        let mut last: Option<(usize, f32)> = None;
        let mut improved = true;
        while improved {
            improved = false;
            descent.sweeps[round] += 1;
            for k in 0..5 {
                for sign in [-1.0f32, 1.0] {
                    if last == Some((k, -sign)) {
                        continue;
                    }
                    let mut q = p;
                    q[k] += sign * steps[k];
                    let s = score(&q);
                    if s > best {
                        best = s;
                        p = q;
                        improved = true;
                        last = Some((k, sign));
                    }
                }
            }
        }
        descent.round_best[round] = best;
        for s in &mut steps {
            *s /= 2.0;
        }
    }
    descent.probes = seen.len() as u32;
    finish(sampler, &nudged(start, &p), query_thumb, descent)
}

/// The alignment at `view` that a search settled on, scored on the full
/// sampling (the search probes views more coarsely,
/// [`Sampler::probe_into`]): the robust correlation, the detail
/// correlation and the independent samples there (shared by the descent
/// and by Gauss–Newton, `super::refine`).
pub(super) fn finish(
    sampler: &Sampler,
    view: &View,
    query_thumb: &[f32],
    descent: Descent,
) -> Alignment {
    let (mut t, mut coverage) = (Vec::new(), Vec::new());
    sampler.sample_into(view, VERIFY_SIDE, VERIFY_SIDE, &mut t, &mut coverage);
    let (a, b) = detail_pairs(&t, &coverage, query_thumb, VERIFY_SIDE);
    Alignment {
        similarity: similarity(&t, &coverage, query_thumb),
        detail: robust_ncc(&a, &b, ROBUST_DROP),
        independent_samples: independent_samples(&t, VERIFY_SIDE),
        start: Start::Variant,
        view: Some(*view),
        descent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::imagehash::plane::Plane;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn ncc_is_symmetric_bounded_and_gain_invariant(
            a in prop::collection::vec(0f32..255.0, 16),
            b in prop::collection::vec(0f32..255.0, 16),
            gain in 0.5f32..2.0, offset in -50f32..50.0,
        ) {
            let x = ncc(&a, &b);
            prop_assert!((x - ncc(&b, &a)).abs() < 1e-4);
            prop_assert!((-1.001..=1.001).contains(&x));
            let scaled: Vec<f32> = a.iter().map(|v| v * gain + offset).collect();
            if contrast(&a) > 1.0 {
                prop_assert!((ncc(&a, &scaled) - 1.0).abs() < 1e-3);
            }
        }
    }

    /// [`robust_ncc`] as defined, slowly: plain sums in sample order,
    /// a full sort per pass, the kept samples gathered.
    fn robust_by_definition(a: &[f32], b: &[f32], judged: &[bool], drop: f32) -> f32 {
        let pairs: Vec<(f32, f32)> = a
            .iter()
            .zip(b)
            .zip(judged)
            .filter(|(_, &j)| j)
            .map(|((&x, &y), _)| (x, y))
            .collect();
        let stats = |kept: &[(f32, f32)]| {
            let k = kept.len() as f64;
            let ma = kept.iter().map(|p| p.0 as f64).sum::<f64>() / k;
            let mb = kept.iter().map(|p| p.1 as f64).sum::<f64>() / k;
            let saa: f64 = kept.iter().map(|p| (p.0 as f64 - ma).powi(2)).sum();
            let sbb: f64 = kept.iter().map(|p| (p.1 as f64 - mb).powi(2)).sum();
            let sab: f64 = kept
                .iter()
                .map(|p| (p.0 as f64 - ma) * (p.1 as f64 - mb))
                .sum();
            let r = if saa < 1e-3 || sbb < 1e-3 {
                0.0
            } else {
                sab / (saa.sqrt() * sbb.sqrt())
            };
            (
                ma,
                mb,
                (saa / k).sqrt().max(1e-3),
                (sbb / k).sqrt().max(1e-3),
                r,
            )
        };
        let full = stats(&pairs);
        let n = pairs.len();
        let keep = n - ((n as f32 * drop) as usize);
        if keep == n || full.4 <= 0.0 || keep < 2 {
            return full.4 as f32;
        }
        let (mut fit, mut best) = (full, full.4);
        for _ in 0..ROBUST_PASSES {
            let (ma, mb, sa, sb, _) = fit;
            let mut order: Vec<(f64, usize)> = pairs
                .iter()
                .enumerate()
                .map(|(i, p)| (((p.0 as f64 - ma) / sa - (p.1 as f64 - mb) / sb).abs(), i))
                .collect();
            order.sort_by(|x, y| x.0.total_cmp(&y.0));
            let mut kept: Vec<usize> = order[..keep].iter().map(|o| o.1).collect();
            kept.sort_unstable();
            let kept: Vec<(f32, f32)> = kept.iter().map(|&i| pairs[i]).collect();
            fit = stats(&kept);
            best = best.max(fit.4);
        }
        best as f32
    }

    proptest! {
        #[test]
        fn robust_ncc_is_its_definition(
            a in prop::collection::vec(0f32..255.0, 1..1100),
            noise in prop::collection::vec(-40f32..40.0, 1100),
            judged in prop::collection::vec(prop::bool::weighted(0.8), 1100),
            gain in 0.3f32..2.0,
        ) {
            // A copy of `a` with noise, so that the correlation is
            // positive and the passes run.
            let b: Vec<f32> = a.iter().zip(&noise).map(|(x, e)| x * gain + e).collect();
            let all = vec![true; a.len()];
            let fast = robust_ncc(&a, &b, ROBUST_DROP);
            let slow = robust_by_definition(&a, &b, &all, ROBUST_DROP);
            prop_assert!((fast - slow).abs() < 2e-4, "{fast} {slow}");
            let coverage: Vec<f32> = judged[..a.len()].iter().map(|&j| if j { 0.9 } else { 0.1 }).collect();
            let fast = robust_ncc_within(&a, &b, Some(&coverage), ROBUST_DROP);
            let slow = robust_by_definition(&a, &b, &judged[..a.len()], ROBUST_DROP);
            prop_assert!((fast - slow).abs() < 2e-4, "{fast} {slow}");
        }
    }

    #[test]
    fn robust_ncc_ignores_a_banner_but_not_a_stranger() {
        let photo: Vec<f32> = (0..1024)
            .map(|i| {
                ((i % 32) as f32 * 0.7).sin() * 60.0 + ((i / 32) as f32 * 0.3).cos() * 50.0 + 128.0
            })
            .collect();
        let mut banner = photo.clone();
        for v in banner.iter_mut().skip(32 * 26).take(32 * 4) {
            *v = 255.0;
        }
        assert!(ncc(&photo, &banner) < 0.9);
        assert!(robust_ncc(&photo, &banner, ROBUST_DROP) > 0.99);
        let stranger: Vec<f32> = (0..1024)
            .map(|i| ((i * 7919 % 1021) as f32 / 1021.0) * 255.0)
            .collect();
        assert!(robust_ncc(&photo, &stranger, ROBUST_DROP) < 0.5);
    }

    fn plane(f: impl Fn(f32, f32) -> f32) -> Plane {
        let side = 64;
        Plane {
            width: side,
            height: side,
            data: (0..side * side)
                .map(|i| {
                    f(
                        (i % side) as f32 / side as f32,
                        (i / side) as f32 / side as f32,
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn smooth_look_alikes_pass_on_grey_levels_but_not_on_detail() {
        // Two different skies: smooth ramps of slightly different shape.
        let sky = plane(|x, y| 60.0 + 120.0 * y + 20.0 * x);
        let other_sky = plane(|x, y| 50.0 + 110.0 * y.powf(1.1) + 25.0 * x + 4.0 * (x * 3.0).sin());
        let view = View::of(sky.full_rect());
        let thumb = other_sky.sample(&view, VERIFY_SIDE, VERIFY_SIDE);
        let a = align(&Sampler::new(&sky), &view, &thumb);
        assert!(a.similarity > 0.97, "{a:?}");
        assert!(a.detail < 0.8, "{a:?}");
        // A textured photo and its copy agree on both.
        let photo = plane(|x, y| 128.0 + 60.0 * (x * 37.0).sin() * (y * 23.0).cos() + 40.0 * y);
        let copy: Vec<f32> = photo
            .sample(&view, VERIFY_SIDE, VERIFY_SIDE)
            .iter()
            .map(|v| v * 0.9 + 12.0)
            .collect();
        let a = align(&Sampler::new(&photo), &view, &copy);
        assert!(a.similarity > 0.99 && a.detail > 0.95, "{a:?}");
        // The descent's record: every round swept at least once, the best
        // never falls, and the last round's best is the similarity.
        let d = a.descent;
        assert!(d.sweeps.iter().all(|&n| n >= 1), "{d:?}");
        assert!(d.probes as usize > 9 * d.sweeps[0] as usize / 2, "{d:?}");
        assert!(d.start_similarity <= d.round_best[0], "{d:?}");
        assert!(d.round_best[0] <= d.round_best[1] && d.round_best[1] <= d.round_best[2]);
        assert_eq!(d.round_best[2], a.similarity);
    }

    #[test]
    fn smooth_views_hold_few_independent_samples_and_textures_many() {
        let side = VERIFY_SIDE;
        let ramp: Vec<f32> = (0..side * side)
            .map(|i| (i % side + i / side) as f32 * 3.0)
            .collect();
        let smooth = independent_samples(&ramp, side);
        assert!(smooth < super::super::TEXTURED_SAMPLES, "{smooth}");
        // A hash-like pseudo-random texture: neighbours independent.
        let texture: Vec<f32> = (0..side * side)
            .map(|i| ((i as u32).wrapping_mul(2_654_435_761) >> 24) as f32)
            .collect();
        let textured = independent_samples(&texture, side);
        assert!(textured > 300.0, "{textured}");
        assert_eq!(independent_samples(&vec![9.0; side * side], side), 0.0);
        assert_eq!(independent_samples(&[], side), 0.0);
        // What a match needs follows: a smooth view needs both
        // correlations high, a textured one either high and the other fair.
        let scores = |similarity, detail, independent_samples| Alignment {
            similarity,
            detail,
            independent_samples,
            ..Alignment::default()
        };
        let ok = |a: Alignment| super::super::scores_match(&a, 0.93, 0.85);
        assert!(ok(scores(0.95, 0.9, smooth)));
        assert!(!ok(scores(0.99, 0.6, smooth)));
        assert!(!ok(scores(0.85, 0.95, smooth)));
        assert!(ok(scores(0.99, 0.6, textured)));
        assert!(ok(scores(0.85, 0.95, textured)));
        assert!(!ok(scores(0.85, 0.6, textured)));
        assert!(!ok(scores(0.99, 0.3, textured)));
        assert!(!ok(scores(0.7, 0.95, textured)));
        // A retried alignment needs the stricter detail, textured or not.
        let retried = |a: Alignment| Alignment {
            start: Start::Retry,
            ..a
        };
        assert!(ok(retried(scores(0.95, 0.96, smooth))));
        assert!(!ok(retried(scores(0.99, 0.9, smooth))));
        assert!(!ok(retried(scores(0.99, 0.6, textured))));
        assert!(!ok(retried(scores(0.85, 0.99, textured))));
        // A partial one needs both usual correlations on a texture.
        let partial = |a: Alignment| Alignment {
            start: Start::Partial,
            ..a
        };
        let dense = super::super::PARTIAL_SAMPLES;
        assert!(ok(partial(scores(0.95, 0.92, dense))));
        assert!(!ok(partial(scores(0.99, 0.88, dense))));
        assert!(!ok(partial(scores(0.99, 0.99, textured.min(dense - 1.0)))));
        assert!(!ok(partial(scores(0.99, 0.6, dense))));
        assert!(!ok(partial(scores(0.85, 0.99, dense))));
    }

    #[test]
    fn flat_images_correlate_with_nothing() {
        assert_eq!(ncc(&[5.0; 16], &[1.0, 2.0, 3.0, 4.0].repeat(4)), 0.0);
        assert!(contrast(&[7.0; 64]) < MIN_CONTRAST);
    }
}
