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

use super::plane::{Plane, Sampler, View};

/// Side of the thumbnails compared.
pub const VERIFY_SIDE: usize = 32;

/// Normalised cross-correlation of two equally long samples; 0 when either
/// is flat (a flat image carries no evidence either way).
pub fn ncc(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len()) as f32;
    if n == 0.0 {
        return 0.0;
    }
    // Both sums in one loop: each is still added in order (the same
    // bits), but the two chains of additions overlap.
    let (mut sa, mut sb) = (0f32, 0f32);
    for (x, y) in a.iter().zip(b) {
        sa += x;
        sb += y;
    }
    // The longer slice's tail, in order: the sums run over each whole
    // slice, as they always did.
    let m = a.len().min(b.len());
    for x in &a[m..] {
        sa += x;
    }
    for y in &b[m..] {
        sb += y;
    }
    let (ma, mb) = (sa / n, sb / n);
    let (mut sab, mut saa, mut sbb) = (0f32, 0f32, 0f32);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    if saa < 1e-3 || sbb < 1e-3 {
        return 0.0;
    }
    sab / (saa.sqrt() * sbb.sqrt())
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
    let full = ncc(a, b);
    let n = a.len().min(b.len());
    let keep = n - ((n as f32 * drop.clamp(0.0, 0.5)) as usize);
    if keep == n || full <= 0.0 || keep < 2 {
        return full;
    }
    // Residuals of the best linear fit of `b` by `a` on the samples kept so
    // far; the samples that fit worst are left out and the fit is redone
    // on the rest, a few times (a banner first inflates the fit's spread,
    // so one pass over-keeps it).
    // The buffers are reused across passes (this runs for every probe of
    // an alignment), and each pair of sums runs in one loop: the two
    // chains of additions overlap, each still in order (the same bits).
    // Kept per thread across calls too (see `RobustScratch`).
    ROBUST_SCRATCH.with_borrow_mut(|scratch| robust_passes(a, b, n, keep, full, scratch))
}

/// [`robust_ncc`]'s buffers, kept per thread: it runs for every probe of
/// every alignment, and its allocations were what made matching threads
/// wait on each other when the allocator keeps one arena (BENCHMARKS.md
/// "Stop 35").
#[derive(Default)]
struct RobustScratch {
    kept: Vec<usize>,
    order: Vec<(f32, usize)>,
    ka: Vec<f32>,
    kb: Vec<f32>,
}

thread_local! {
    static ROBUST_SCRATCH: std::cell::RefCell<RobustScratch> =
        std::cell::RefCell::new(RobustScratch::default());
    /// [`similarity`]'s covered samples.
    static COVERED_SCRATCH: std::cell::RefCell<(Vec<f32>, Vec<f32>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// [`robust_ncc`]'s selection passes, `full` being the plain correlation.
fn robust_passes(
    a: &[f32],
    b: &[f32],
    n: usize,
    keep: usize,
    full: f32,
    scratch: &mut RobustScratch,
) -> f32 {
    let RobustScratch {
        kept,
        order,
        ka,
        kb,
    } = scratch;
    kept.clear();
    kept.extend(0..n);
    let mut best = full;
    for _ in 0..ROBUST_PASSES {
        let k = kept.len() as f32;
        let (mut sum_a, mut sum_b) = (0f32, 0f32);
        for &i in kept.iter() {
            sum_a += a[i];
            sum_b += b[i];
        }
        let (ma, mb) = (sum_a / k, sum_b / k);
        let (mut var_a, mut var_b) = (0f32, 0f32);
        for &i in kept.iter() {
            var_a += (a[i] - ma).powi(2);
            var_b += (b[i] - mb).powi(2);
        }
        let sa = (var_a / k).sqrt().max(1e-3);
        let sb = (var_b / k).sqrt().max(1e-3);
        order.clear();
        order.extend((0..n).map(|i| ((((a[i] - ma) / sa) - ((b[i] - mb) / sb)).abs(), i)));
        // Only which samples are the `keep` best matters, not their order.
        order.select_nth_unstable_by(keep - 1, |p, q| p.0.total_cmp(&q.0));
        kept.clear();
        kept.extend(order[..keep].iter().map(|&(_, i)| i));
        ka.clear();
        kb.clear();
        for &i in kept.iter() {
            ka.push(a[i]);
            kb.push(b[i]);
        }
        best = best.max(ncc(ka, kb));
    }
    best
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
    COVERED_SCRATCH.with_borrow_mut(|(a, b)| {
        a.clear();
        b.clear();
        for ((&x, &y), _) in t
            .iter()
            .zip(query_thumb)
            .zip(coverage)
            .filter(|(_, &c)| c >= 0.5)
        {
            a.push(x);
            b.push(y);
        }
        robust_ncc(a, b, ROBUST_DROP)
    })
}

/// Refines `start` on `reference` to fit `query_thumb` (32×32): the best
/// correlation found ([`robust_ncc`]: the worst-fitting [`ROBUST_DROP`] of
/// the samples left out) and the correlation of fine detail there.
///
/// Each point's score is computed once: the descent probes the same
/// point again when a sweep ends on a move and the next sweep makes
/// none before it, and a point is known by the bits of its parameters, so
/// the scores, the path and the result are those of scoring every probe.
pub fn align(reference: &Plane, start: &View, query_thumb: &[f32]) -> Alignment {
    let mut seen: Vec<([u32; 5], f32)> = Vec::with_capacity(256);
    let mut descent = Descent::default();
    // One pair of sample buffers and one padded plane for every probe of
    // the descent.
    let (mut t, mut coverage) = (Vec::new(), Vec::new());
    let sampler = Sampler::new(reference);
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
    finish(reference, &nudged(start, &p), query_thumb, descent)
}

/// The alignment at `view` that a search settled on, scored on the full
/// sampling (the search probes views more coarsely,
/// [`Sampler::probe_into`]): the robust correlation, the detail
/// correlation and the independent samples there (shared by the descent
/// and by Gauss–Newton, `super::refine`).
pub(super) fn finish(
    reference: &Plane,
    view: &View,
    query_thumb: &[f32],
    descent: Descent,
) -> Alignment {
    let (t, coverage) = reference.sample_with_coverage(view, VERIFY_SIDE, VERIFY_SIDE);
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
        let a = align(&sky, &view, &thumb);
        assert!(a.similarity > 0.97, "{a:?}");
        assert!(a.detail < 0.8, "{a:?}");
        // A textured photo and its copy agree on both.
        let photo = plane(|x, y| 128.0 + 60.0 * (x * 37.0).sin() * (y * 23.0).cos() + 40.0 * y);
        let copy: Vec<f32> = photo
            .sample(&view, VERIFY_SIDE, VERIFY_SIDE)
            .iter()
            .map(|v| v * 0.9 + 12.0)
            .collect();
        let a = align(&photo, &view, &copy);
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
