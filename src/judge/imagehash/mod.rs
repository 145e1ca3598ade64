//! Perceptual image hashing and matching listing photos to official photos,
//! robust to what counterfeiters do to a copied photo.
//!
//! # How a photo is hashed
//! 1. [`decode`]: untrusted bytes → a grey plane of at most 64 px a side,
//!    under hard limits ([`decode::MAX_DIMENSION_PX`], [`decode::MAX_PIXELS`],
//!    [`decode::MAX_ALLOC_BYTES`]); JPEG is decoded at 1/2–1/8 scale in the
//!    DCT domain, at 1/8 from the DC coefficients alone ([`jpeg_dc`]),
//!    which is what makes hashing as fast as decoding.
//! 2. [`plane`]: uniform borders (padding, letterbox bars, plain studio
//!    backgrounds) are found and trimmed.
//! 3. [`hash`]: a 64-bit DCT pHash and a 64-bit dHash of the whole image and,
//!    when a border was found, of the trimmed image. The pair is compared
//!    as one 128-bit hash.
//!
//! # How matching tolerates edits
//! A listing photo is hashed once or twice (whole, trimmed), and when its
//! pixels are at hand the central 80% of each is looked up too, for
//! references the whole photo did not reach ([`CENTRE_CROP`]:
//! a copy rotated on its own canvas, or padded and then rotated, keeps an
//! intact centre). The tolerance
//! is paid for on the reference side instead: each official photo is
//! indexed as a grid of [`VARIANTS`](reference_views) — every combination of
//! 0/5/10% crops per side, rotations of 0 and ±3°, and the mirror image of
//! each — on the whole photo and, if it has a plain border, on its trimmed
//! part. A copy that was cropped 7% at the left and mirrored lands within a
//! few bits of the "mirrored, cropped" variant. Resizing, recompression,
//! format change, colour shifts and overlays are absorbed by the hash
//! itself. Variants live in a [`mih::MultiIndex`]: lookups at a tight
//! radius (references known by hashes alone) probe its multi-index tables;
//! the wide first-stage radius scans its contiguous keys, which measured
//! 8-10× faster at that radius (about 1 ms a lookup at 500 references,
//! 315,000 variants; `cargo bench --bench index_scale`, BENCHMARKS.md).
//!
//! # Second stage and thresholds
//! References whose nearest variant is within [`SEARCH_RADIUS`] (39 of 128
//! bits) go to [`verify`]: the variant's view is aligned to the photo
//! (by coordinate descent for the photo's nearest [`RETRIED_REFERENCES`]
//! when nearer than [`FIT_FIRST_DISTANCE`]; for the others by
//! Gauss–Newton, [`refine`], and by the descent only when that comes
//! close, for a plain view only from [`PLAIN_RECHECK_SIMILARITY`] and
//! [`PLAIN_RECHECK_DETAIL`])
//! and scored twice at the best alignment, both by a robust correlation
//! (samples outside the reference, such as rotation corners, and then the
//! worst-fitting 15%, such as a banner, left out, the fit redone on the
//! rest): the grey levels ([`MATCH_SIMILARITY`], 0.93) and the fine detail,
//! Laplacians ([`MATCH_DETAIL`], 0.85). A match needs both: grey levels
//! alone let two smooth photos (a sky, a dark corner) pass as copies.
//! A textured reference view ([`TEXTURED_SAMPLES`] or more independent
//! samples, [`verify::independent_samples`]) also matches with less
//! detail ([`TEXTURED_DETAIL`], 0.5) or less similarity
//! ([`TEXTURED_SIMILARITY`], 0.80) when the other correlation is at its
//! usual threshold ([`scores_match`]): a texture cannot correlate at 0.93
//! in grey levels, nor at 0.85 in detail, by chance. When the variant's
//! view does not lead to a match, the alignment is retried from the whole
//! reference at each rotation of the grid, widened as on a padded
//! canvas and, for a textured reference, cropped 5% a side
//! (`align_with_retries`; by Gauss–Newton, [`refine`], and by the descent
//! again only when that came close), for the photo's nearest
//! [`RETRIED_REFERENCES`] references only; a match found so needs detail
//! [`RETRY_DETAIL`] (0.95), since each extra start is another chance
//! for a chance fit. The transform reported is what the final alignment
//! measured (rotation, crop or padding, mirror), not the variant's
//! nominal edits (`VariantKind::measured`). References added
//! from hashes alone ([`ReferenceIndex::add_hashes`]) match at a hash
//! distance of at most [`MATCH_THRESHOLD`].
//!
//! # Partial lookups
//! A banner over one side of a textured photo (a shop name across the
//! bottom of a padded copy) moves its whole hash past the search radius,
//! and covers more than the robust correlation leaves out. So when no
//! reference is confirmed, the photo, loosely trimmed (past a banner
//! that sticks into the padding: [`Plane::loose_trimmed_rect`]), is
//! looked up without each side in turn ([`PARTIAL_CUT`], 35%, at
//! [`PARTIAL_STRETCHES`]) among the references' textured views without
//! the same side ([`partial_views`]), and the nearest are aligned on that
//! part alone (by Gauss–Newton, and by the descent when that comes
//! close). A partial match needs the usual similarity, detail
//! [`PARTIAL_DETAIL`] (0.90) and [`PARTIAL_SAMPLES`] (20) independent
//! samples: two thirds of a smooth photo is not evidence. Its transform
//! says so ("matched without its bottom part (covered or changed
//! there)").
//!
//! # Measured
//! The numbers come from `knockoff eval-images` ([`run_eval`]) on 22 real
//! photos; BENCHMARKS.md has the full table and the threshold sweeps.
//! Every edit alone reaches 100% recall, every pair of edits >= 95%
//! (padding and a banner together, the hardest, 97.0%); no false match
//! in 37,422 pairs of tiles of different photos (3 before the rule that
//! a smooth view aligned past [`MAX_SMOOTH_ROTATION_DEG`] is no match,
//! [`plausible`]: each was two smooth tiles fitted at +7° or −16.5°).

pub mod cache;
pub mod decode;
pub mod eval;
pub mod hash;
pub mod jpeg_dc;
pub mod mih;
pub mod plane;
pub mod refine;
pub mod verify;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::model::error::{Error, Result};
pub use cache::{code_version, hashing_work, HashingWork, PreparedReference};
pub use eval::{run_eval, EvalReport};
pub use hash::{hamming, HashPair};
use plane::{Plane, Rect, Sampler, View};

/// Largest distance (of [`HashPair::BITS`] = 128) at which a listing photo
/// counts as a copy of a reference. Chosen from the evaluation (see the
/// module docs and BENCHMARKS.md).
pub const MATCH_THRESHOLD: u32 = 22;

/// Radius (of 128 bits) of the first stage: references whose nearest
/// variant is this close get the second stage.
pub const SEARCH_RADIUS: u32 = 39;

/// Robust correlation after alignment at or above which a candidate is a
/// match (chosen from the threshold sweep in BENCHMARKS.md).
pub const MATCH_SIMILARITY: f32 = 0.93;

/// Robust correlation of fine detail (Laplacians) at that alignment at or
/// above which a candidate is a match; rules out smooth look-alikes (see
/// [`verify::Alignment::detail`]). Chosen from the evaluation with
/// [`MATCH_SIMILARITY`].
pub const MATCH_DETAIL: f32 = 0.85;

/// Effective number of independent samples of the aligned 32×32 reference
/// view (see [`verify::independent_samples`]) from which a reference counts
/// as textured. In the evaluation, smooth tiles (skies, dark backgrounds)
/// that correlate with strangers hold 1-4; textured copies that lost
/// their fine detail to a banner or a rotation hold 8-25.
pub const TEXTURED_SAMPLES: f32 = 8.0;

/// Detail correlation a textured reference needs, at the usual
/// similarity, instead of [`MATCH_DETAIL`]. In the evaluation no pair of
/// unrelated textured tiles within the similarity threshold reached 0.4.
pub const TEXTURED_DETAIL: f32 = 0.5;

/// Similarity a textured reference needs when its detail reaches
/// [`MATCH_DETAIL`] (a dense texture under a banner or a colour shift keeps
/// its fine detail but loses grey-level fit). In the evaluation no pair of
/// unrelated textured tiles reached detail 0.66 at any similarity.
pub const TEXTURED_SIMILARITY: f32 = 0.80;

/// Whether the second stage's correlations make a match at the given
/// thresholds (`similarity`, `detail`: [`MATCH_SIMILARITY`] and
/// [`MATCH_DETAIL`] in use). A reference view holding at least
/// [`TEXTURED_SAMPLES`] independent samples also matches with
/// less detail ([`TEXTURED_DETAIL`]) at the usual similarity, or with less
/// similarity ([`TEXTURED_SIMILARITY`]) at the usual detail: a correlation
/// over many independent samples is strong evidence on its own.
pub fn scores_match(a: &verify::Alignment, similarity: f32, detail: f32) -> bool {
    let rotation_deg = a.view.map_or(0.0, |v| v.angle_rad.to_degrees());
    if !plausible(a.independent_samples, rotation_deg) {
        return false;
    }
    match a.start {
        verify::Start::Variant => {}
        verify::Start::Retry => {
            return a.similarity >= similarity && a.detail >= detail.max(RETRY_DETAIL);
        }
        verify::Start::Partial => {
            return a.similarity >= similarity
                && a.detail >= detail.max(PARTIAL_DETAIL)
                && a.independent_samples >= PARTIAL_SAMPLES;
        }
    }
    let usual = a.similarity >= similarity && a.detail >= detail;
    let textured = a.independent_samples >= TEXTURED_SAMPLES
        && ((a.similarity >= similarity && a.detail >= detail.min(TEXTURED_DETAIL))
            || (a.similarity >= similarity.min(TEXTURED_SIMILARITY) && a.detail >= detail));
    usual || textured
}

/// Largest rotation (degrees, as measured: to the half degree) at which
/// an alignment of a smooth reference view (under [`TEXTURED_SAMPLES`]
/// independent samples) can be a match. The variants cover ±3° and the
/// descent reaches a few degrees past them; the copies of the evaluation
/// (rotated 1-5°) measured at most ±6.0°, smooth or textured. Two smooth
/// gradients fit each other at any rotation, and that is how every false
/// match of the evaluation arose: two smooth tiles (1.2-1.4 independent
/// samples) "mirrored, cropped, rotated −16.5°" or "rotated +7°" to fit.
/// A texture pins its rotation, so a textured view is not held to this.
pub const MAX_SMOOTH_ROTATION_DEG: f32 = 6.0;

/// Whether an alignment explains a match by a plausible edit: not a
/// smooth view rotated past [`MAX_SMOOTH_ROTATION_DEG`] (see there).
/// [`scores_match`] requires it.
pub fn plausible(independent_samples: f32, rotation_deg: f32) -> bool {
    let measured = (rotation_deg * 2.0).round() / 2.0;
    independent_samples >= TEXTURED_SAMPLES || measured.abs() <= MAX_SMOOTH_ROTATION_DEG
}

/// Detail correlation an alignment found from a second starting view
/// needs (see [`verify::Start::Retry`]), with the usual similarity
/// and whatever the reference's texture. Each extra start is another
/// chance for two smooth photos to fit by chance: in the evaluation,
/// retrying let four pairs of unrelated smooth tiles through at detail
/// 0.88-0.94 (and one textured pair at 0.69 under the textured rule),
/// while the copies that a retry found reached 0.96-1.0.
pub const RETRY_DETAIL: f32 = 0.95;

/// At most this many references per photo get the (costlier) second
/// stage, nearest in hash terms first; as many again for its partial
/// lookups. A copy's original is nearly always the nearest: in the
/// evaluation (`RUST_LOG=knockoff::align=trace knockoff eval-images`,
/// each alignment logged with its `rank`), every copy matched to its
/// original was matched at rank 0, 1 or 2 (camera.png at a hash
/// distance of 39 and page.png at 35, both smooth, are the rank-2
/// ones); in the match bench's 300 edited copies among 500 look-alike
/// references (crops of the same photos), all at rank 0. An unrelated
/// photo among 500 look-alikes nearly always has eight within the
/// search radius, and each costs an alignment: from eight to four, the
/// evaluation's recall per transform is the same, its threshold sweeps
/// find fewer false matches, the bench's copies match as before, and an
/// unrelated photo costs a quarter less at 500 references (about the
/// same at 44; BENCHMARKS.md, "stop 49").
pub const MAX_VERIFIED_REFERENCES: usize = 4;

/// Only the nearest this many of the references aligned for a photo (in
/// the order they are aligned: hash distance, then edits) get the retries
/// of [`align_with_retries`]; the others get the variant's alignment
/// alone. Retries were two thirds of the second stage's work and most of
/// an unrelated photo's cost. In the evaluation (`RUST_LOG=knockoff::align=trace
/// knockoff eval-images`, each alignment logged with its `rank`), of the
/// 106 retries that matched a copy to its original, 104 were for the
/// nearest reference and 2 for the second, none further; the evaluation's
/// recall table and false matches are unchanged with this bound, and the
/// unrelated tiles' alignments take 57% fewer probes (BENCHMARKS.md,
/// "Fifth step (stop 32)").
pub const RETRIED_REFERENCES: usize = 2;

/// Share cut from each side of a listing photo for its extra "centre"
/// lookup (see `ReferenceIndex::candidates`).
pub const CENTRE_CROP: f32 = 0.10;

/// Crop fractions per side that the reference variants cover.
pub const CROP_STEPS: [f32; 3] = [0.0, 0.05, 0.10];
/// Rotations, in degrees, that the reference variants cover.
pub const ROTATION_STEPS_DEG: [f32; 3] = [0.0, -3.0, 3.0];

/// Hashes of one decoded image.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ImageHashes {
    pub width: u32,
    pub height: u32,
    /// 64-bit hashes by kind: `phash`, `dhash`, and `phash_trimmed`,
    /// `dhash_trimmed` when a uniform border was trimmed.
    pub hashes: Vec<(String, u64)>,
    /// The whole image's hash pair.
    pub whole: HashPair,
    /// The hash pair after trimming a uniform border, if there was one.
    pub trimmed: Option<HashPair>,
}

impl ImageHashes {
    fn new(width: u32, height: u32, whole: HashPair, trimmed: Option<HashPair>) -> Self {
        let mut hashes = vec![
            ("phash".to_string(), whole.phash),
            ("dhash".to_string(), whole.dhash),
        ];
        if let Some(t) = trimmed {
            hashes.push(("phash_trimmed".to_string(), t.phash));
            hashes.push(("dhash_trimmed".to_string(), t.dhash));
        }
        ImageHashes {
            width,
            height,
            hashes,
            whole,
            trimmed,
        }
    }

    /// Rebuilds a hash set from stored pairs (e.g. a photo of a listing
    /// taken down, kept for relisting detection).
    pub fn from_pairs(width: u32, height: u32, whole: HashPair, trimmed: Option<HashPair>) -> Self {
        Self::new(width, height, whole, trimmed)
    }

    /// The pairs to look up, with whether each came from trimming.
    fn query_pairs(&self) -> impl Iterator<Item = (HashPair, bool)> + '_ {
        std::iter::once((self.whole, false)).chain(self.trimmed.map(|t| (t, true)))
    }
}

/// Hashes a decoded plane: whole and, if a border was found, trimmed.
fn hash_plane(width: u32, height: u32, plane: &Plane) -> ImageHashes {
    let sampler = Sampler::new(plane);
    let whole = HashPair::of_sampled(&sampler, &View::of(plane.full_rect()));
    let trimmed = plane
        .trimmed_rect()
        .map(|r| HashPair::of_sampled(&sampler, &View::of(r)));
    ImageHashes::new(width, height, whole, trimmed)
}

/// Decodes and hashes image bytes. `source_name` names the file or URL in
/// errors.
pub fn hash_image(bytes: &[u8], source_name: &str) -> Result<ImageHashes> {
    let d = decode::decode(bytes, source_name)?;
    Ok(hash_plane(d.width, d.height, &d.plane))
}

/// Hashes many images on all cores; results in input order.
pub fn hash_images_parallel(items: &[(String, Vec<u8>)]) -> Vec<Result<ImageHashes>> {
    items
        .par_iter()
        .map(|(name, bytes)| hash_image(bytes, name))
        .collect()
}

/// The best official photo for a listing photo.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ImageMatch {
    /// Name of the reference (official photo file name).
    pub reference: String,
    /// Hamming distance of the best variant (pHash + dHash).
    pub distance: u32,
    /// Bits in the compared hash (128).
    pub bits: u32,
    /// Distance at or below [`MATCH_THRESHOLD`].
    pub is_match: bool,
    /// The transform the match needed ("mirrored", "cropped",
    /// "after trimming border", ...), if any.
    pub transform: Option<String>,
    /// The second stage's correlations after alignment (grey levels, fine
    /// detail; 1.0 = identical), when both photos' pixels were compared.
    pub similarity: Option<f32>,
    pub detail: Option<f32>,
    /// Independent samples of the aligned official photo (see
    /// [`verify::independent_samples`]); at [`TEXTURED_SAMPLES`] or more
    /// the photo is textured and either correlation may be lower
    /// ([`scores_match`]).
    pub independent_samples: Option<f32>,
}

/// Aligns a reference to a photo's thumbnail from the view of the variant
/// the first stage found and, when that does not make a match, from
/// [`retry_starts`]: the variant nearest in hash terms can have the wrong
/// rotation or crop for a copy that several edits changed together
/// (padded and then rotated, its hash mostly the padding's), and the
/// coordinate descent only finds the alignment near where it starts.
///
/// The variant's view is aligned by the descent when the reference is
/// one of the photo's nearest [`RETRIED_REFERENCES`] (`retry`) and nearer
/// than [`FIT_FIRST_DISTANCE`]; otherwise by Gauss–Newton first
/// ([`variant_alignment`]), the descent only confirming a fit that came
/// close. The retries are aligned by Gauss–Newton ([`refine`]), which
/// needs about a tenth of the descent's sampled views: every start up to
/// the last coarse level's cells ([`refine::align_coarse`]), the best
/// [`RETRIES_FITTED`] there through the coarse levels, then only the best
/// [`RETRIES_FINISHED`] to the end, best first (only the best one for a
/// smooth reference, [`SMOOTH_RETRIES_FINISHED`]); when none matches
/// but one came close ([`RECHECK_SIMILARITY`], [`RETRY_RECHECK_DETAIL`]),
/// the descent gets every start as well. A reference farther than the
/// nearest [`RETRIED_REFERENCES`] gets no retries. The first start that
/// matches wins, else the variant's own alignment or a retry's with a
/// better similarity; with it, whether its view was taken on the
/// reference's trimmed part.
fn align_with_retries(
    reference: &Sampler,
    start: &View,
    kind: &VariantKind,
    thumb: &[f32],
    trace: &dyn Fn(&verify::Alignment, usize),
    retry: bool,
    distance: u32,
) -> (verify::Alignment, bool) {
    if !retry {
        let first = variant_alignment(reference, start, thumb, trace, RECHECK_DETAIL);
        return (first, kind.trimmed);
    }
    let first = if distance >= FIT_FIRST_DISTANCE || smooth_view(reference, start) {
        variant_alignment(reference, start, thumb, trace, NEAR_RECHECK_DETAIL)
    } else {
        let a = verify::align(reference, start, thumb);
        trace(&a, 0);
        a
    };
    if scores_match(&first, MATCH_SIMILARITY, MATCH_DETAIL) {
        return (first, kind.trimmed);
    }
    let textured = first.independent_samples >= TEXTURED_SAMPLES;
    let starts = retry_starts(reference.plane(), start, kind, textured);
    let mut best = (first, kind.trimmed);
    // Each start by Gauss–Newton first (a tenth of a descent's views):
    // every start's fit begun, the best RETRIES_FITTED of them taken
    // through the coarse levels, then the best RETRIES_FINISHED
    // (SMOOTH_RETRIES_FINISHED of a smooth reference's) finished, best
    // first.
    let mut near = false;
    let mut coarse: Vec<(usize, refine::Fit)> = starts
        .iter()
        .enumerate()
        .map(|(i, (_, view))| (i, refine::align_coarse(reference, view, thumb)))
        .collect();
    // Stable: on a tie the earlier start first.
    coarse.sort_by(|a, b| b.1.similarity().total_cmp(&a.1.similarity()));
    coarse.truncate(RETRIES_FITTED);
    for (_, fit) in &mut coarse {
        fit.run_coarse();
    }
    coarse.sort_by(|a, b| b.1.similarity().total_cmp(&a.1.similarity()));
    coarse.truncate(if textured {
        RETRIES_FINISHED
    } else {
        SMOOTH_RETRIES_FINISHED
    });
    for (attempt, fit) in coarse {
        let (trimmed, _) = &starts[attempt];
        let a = verify::Alignment {
            start: verify::Start::Retry,
            ..fit.finish()
        };
        trace(&a, attempt + 1);
        if scores_match(&a, MATCH_SIMILARITY, MATCH_DETAIL) {
            return (a, *trimmed);
        }
        near |= comes_close(&a, RETRY_RECHECK_DETAIL)
            && !(plain(&a) && a.detail < PLAIN_RETRY_RECHECK_DETAIL);
        if a.similarity > best.0.similarity {
            best = (a, *trimmed);
        }
    }
    if !near {
        return best;
    }
    // Close, but no match: Gauss–Newton can settle in a neighbouring
    // optimum the descent does not, so the descent gets every start too
    // (logged as attempts after Gauss–Newton's).
    for (attempt, (trimmed, view)) in starts.into_iter().enumerate() {
        let a = verify::Alignment {
            start: verify::Start::Retry,
            ..verify::align(reference, &view, thumb)
        };
        trace(&a, attempt + 1 + RETRY_ATTEMPTS_LOGGED);
        if scores_match(&a, MATCH_SIMILARITY, MATCH_DETAIL) {
            return (a, trimmed);
        }
        if a.similarity > best.0.similarity {
            best = (a, trimmed);
        }
    }
    best
}

/// A variant's view aligned by Gauss–Newton ([`refine::align_variant`])
/// and, only when that fit came close ([`comes_close`] at `detail`), by
/// the descent from the same view, whose alignment is then the answer:
/// Gauss–Newton fits smooth tiles of different photos better than the
/// descent does, so its own matches are not taken as they are. The fit
/// is logged as attempt [`CONFIRMED_FIT_LOGGED`] when the descent
/// followed it, else as attempt 0.
fn variant_alignment(
    reference: &Sampler,
    start: &View,
    thumb: &[f32],
    trace: &dyn Fn(&verify::Alignment, usize),
    detail: f32,
) -> verify::Alignment {
    let fit = refine::align_variant(reference, start, thumb);
    let matched = scores_match(&fit, MATCH_SIMILARITY, MATCH_DETAIL);
    if !comes_close(&fit, detail)
        || (!matched
            && plain(&fit)
            && (fit.similarity < PLAIN_RECHECK_SIMILARITY || fit.detail < PLAIN_RECHECK_DETAIL))
    {
        trace(&fit, 0);
        return fit;
    }
    trace(&fit, CONFIRMED_FIT_LOGGED);
    let a = verify::align(reference, start, thumb);
    trace(&a, 0);
    a
}

/// Whether `view` of `reference` is smooth (under [`TEXTURED_SAMPLES`]
/// independent samples at 32×32): then even a nearest reference's variant
/// view nearer than [`FIT_FIRST_DISTANCE`] is fitted by Gauss–Newton first
/// ([`variant_alignment`]). The copies Gauss–Newton falls short on are
/// textured ones under a pad and an overlay (cell.png, moon.png); a smooth
/// view's grey levels it fits as well as the descent, and a fit that comes
/// close still goes to the descent. In the match bench at 500
/// references, half the descents of unrelated photos were for nearest
/// references nearer than [`FIT_FIRST_DISTANCE`], nearly all of them
/// smooth views (0.3–3.8 independent samples) over which the descent
/// wandered for 47–666 probes; with this, 46 descents of 4,647 probes
/// are left of 70 of 8,417. The evaluation's recall and false matches
/// are the same with and without it (BENCHMARKS.md, "stop 46").
fn smooth_view(reference: &Sampler, view: &View) -> bool {
    let t = reference.sample(view, verify::VERIFY_SIDE, verify::VERIFY_SIDE);
    verify::independent_samples(&t, verify::VERIFY_SIDE) < TEXTURED_SAMPLES
}

/// Hash distance from which even the nearest references' variant view is
/// aligned by Gauss–Newton first ([`variant_alignment`]) rather than by
/// the descent. Most unrelated photos reach the second stage at 33 or
/// more (in the evaluation 80% of the unrelated tiles aligned, in the
/// match bench 93% of the unrelated photos), most copies nearer (95% of
/// the copies matched). Gauss–Newton falls short of the descent on some
/// copies under an overlay or a pad (44 of the 3,753 the descent matched
/// from their variant's view, fitted at 0.49–0.97); nearer than this the
/// descent aligns them first, unless the view is smooth ([`smooth_view`]),
/// and from here [`NEAR_RECHECK_DETAIL`]
/// and the textured bound of [`comes_close`] send the copies it matters
/// for to the descent: the evaluation's recall table is unchanged.
pub const FIT_FIRST_DISTANCE: u32 = 33;

/// Detail from which a nearest reference's Gauss–Newton fit (at
/// [`RECHECK_SIMILARITY`]) is confirmed by the descent. Lower than a
/// farther reference's [`RECHECK_DETAIL`]: one copy of cell.png padded and
/// overlaid matched from its variant's view by the descent (0.987,
/// detail 0.531, 9 independent samples) where Gauss–Newton fitted 0.935
/// and detail 0.432.
pub const NEAR_RECHECK_DETAIL: f32 = 0.40;

/// Detail from which a retry that Gauss–Newton aligned without a match
/// (at [`RECHECK_SIMILARITY`]) has every start aligned again by the
/// descent. In the evaluation, the retries the descent then matched had
/// come to 0.755–0.947; the unrelated tiles' retries that sent them to
/// the descent came to 0.51–0.94, and in the match bench to 0.52–0.75
/// (a quarter of an unrelated photo's work at 44 references).
pub const RETRY_RECHECK_DETAIL: f32 = 0.70;

/// Similarity and detail from which a Gauss–Newton fit without a match is
/// aligned again by coordinate descent ([`comes_close`]). In the
/// evaluation, Gauss–Newton alone lost one copy the descent's retries
/// found (rocket.jpg resized with an overlay: 0.988 and detail 0.831 at a
/// neighbouring optimum, where the descent reached 0.993 and 0.956).
pub const RECHECK_SIMILARITY: f32 = 0.90;

/// Detail from which a farther reference's Gauss–Newton fit, or a
/// partial view's, is confirmed by the descent (see
/// [`RECHECK_SIMILARITY`]).
pub const RECHECK_DETAIL: f32 = 0.50;

/// Similarity and detail from which a textured view's Gauss–Newton fit
/// (at least [`TEXTURED_SAMPLES`]) is confirmed by the descent whatever
/// [`RECHECK_SIMILARITY`] says: a textured copy matches from 0.80 when its
/// detail holds ([`TEXTURED_SIMILARITY`]), and Gauss–Newton fitted two
/// overlaid copies of hubble_deep_field.jpg at 0.775 and 0.786 (detail
/// 0.95 and 0.87) that the descent matched. No pair of unrelated
/// textured tiles of the evaluation reached detail 0.66.
pub const TEXTURED_RECHECK_SIMILARITY: f32 = 0.70;

/// See [`TEXTURED_RECHECK_SIMILARITY`].
pub const TEXTURED_RECHECK_DETAIL: f32 = 0.75;

/// Whether a Gauss–Newton fit came close enough for the descent to try
/// as well: a match (which the descent then confirms),
/// [`RECHECK_SIMILARITY`] and `detail`, or a textured view at
/// [`TEXTURED_RECHECK_SIMILARITY`] and [`TEXTURED_RECHECK_DETAIL`].
fn comes_close(a: &verify::Alignment, detail: f32) -> bool {
    scores_match(a, MATCH_SIMILARITY, MATCH_DETAIL)
        || (a.similarity >= RECHECK_SIMILARITY && a.detail >= detail)
        || (a.independent_samples >= TEXTURED_SAMPLES
            && a.similarity >= TEXTURED_RECHECK_SIMILARITY
            && a.detail >= TEXTURED_RECHECK_DETAIL)
}

/// Independent samples under which an aligned view is plain: about one
/// gradient or blur ([`verify::independent_samples`]), which a fit can
/// bend onto another plain photo's grey levels. The descent that would
/// confirm a Gauss–Newton fit of a plain view that did not match runs
/// only when the fit stood higher than [`comes_close`] asks
/// ([`plain`]). Descents were a third of an unrelated photo's
/// matching at 44 references (`perf record`), most of them of plain
/// views and none a match; with these bounds the match bench's
/// unrelated photos take 59% fewer descent probes at 44 references and
/// 48% fewer at 500.
pub const PLAIN_SAMPLES: f32 = 2.0;

/// Similarity from which a variant's Gauss–Newton fit of a plain view
/// ([`PLAIN_SAMPLES`]) that did not match goes to the descent. In the
/// evaluation, the descent matched such a fit in 15 cases, all fitted at
/// 0.964 or more, and none of the 15 fitted under 0.95; in the match
/// bench, the one it matched under 0.95 (0.947, detail 0.68 then 0.865)
/// was a false match, a plain unrelated photo (BENCHMARKS.md, "stop 49").
pub const PLAIN_RECHECK_SIMILARITY: f32 = 0.95;

/// Detail under which a variant's Gauss–Newton fit of a plain view
/// ([`PLAIN_SAMPLES`]) that did not match does not go to the descent,
/// however high its similarity ([`PLAIN_RECHECK_SIMILARITY`]). In the
/// evaluation, the copies whose plain fit the descent went on to match
/// had been fitted at detail 0.68 or more (china.jpg, 0.682 and 0.694;
/// a pair of tiles of one photo at 0.650), and the evaluation's recall
/// and false matches are the same with this bound anywhere up to 0.72.
/// In the match bench at 44
/// references, the unrelated photos' plain fits that went to the descent
/// (26 of its 30 descents, none a match, at 0.46–0.75) were a tenth of
/// their matching; 15 of them stood under this bound (BENCHMARKS.md,
/// "stop 50").
pub const PLAIN_RECHECK_DETAIL: f32 = 0.65;

/// Detail from which a retry's Gauss–Newton fit of a plain view
/// ([`PLAIN_SAMPLES`]) that did not match sends every start to the
/// descent. In the evaluation, the retries of plain views that the
/// descent went on to match had been fitted at detail 0.90 or more. In
/// the match bench, the retries of unrelated photos that went to the
/// descent (11 at 44 references, 17 at 500, four or five descents each)
/// matched nothing, and their fits of plain views stood at detail 0.83
/// or less.
pub const PLAIN_RETRY_RECHECK_DETAIL: f32 = 0.85;

/// Whether `a` is a fit of a plain view ([`PLAIN_SAMPLES`]).
fn plain(a: &verify::Alignment) -> bool {
    a.independent_samples < PLAIN_SAMPLES
}

/// How many of a reference's retry starts [`align_with_retries`] takes
/// through the coarse levels of their Gauss–Newton fit (to the end of
/// the 16×16 level, [`refine::Fit::run_coarse`]): those that stand best
/// where that level begins ([`refine::align_coarse`]: a smooth start
/// after its 8×8 level, a textured one where it starts), of four to eight
/// starts. In the evaluation, taking one, two or three leaves the recall
/// per transform and the false matches (0 of 37,422) as they were, and
/// so does taking all of them (as before); three keep a margin. The
/// match bench's unrelated photos take 6% fewer instructions at 44
/// references than with all of them (`valgrind --tool=callgrind`;
/// BENCHMARKS.md, "stop 50").
pub const RETRIES_FITTED: usize = 3;

/// How many of a reference's retry starts [`align_with_retries`] fits to
/// the end: of the [`RETRIES_FITTED`], those whose Gauss–Newton fit
/// stood best after its 16×16 level ([`refine::Fit::run_coarse`]). The
/// 32×32 level and the full scoring after it are most of a fit's cost,
/// and the starts of one reference
/// mostly end the 16×16 level near one another (in the evaluation, for
/// 365 of the 529 sequences of three or more starts that matched nothing,
/// the third best was within 0.05 of the best). Of the 131 retry
/// sequences of the evaluation that matched, the matching start was the
/// best at 16×16 of those tried before it in 127, the second best in 2
/// and the third best in 2.
/// Finishing one, two or three starts leaves the evaluation's recall per
/// transform and its false matches (0 of 37,422) as they were; two keeps
/// a margin. It halves the retries' finished fits (2,857 → 1,197 in the
/// evaluation); an unrelated photo's matching costs a quarter to a third
/// less at 44 references and about a tenth less at 500 (BENCHMARKS.md,
/// "stop 48"). A start left unfinished is not logged.
pub const RETRIES_FINISHED: usize = 2;

/// [`RETRIES_FINISHED`] for a smooth reference (its first alignment under
/// [`TEXTURED_SAMPLES`]): the best start at the 16×16 level alone. In the
/// evaluation, every retry sequence of a smooth reference that matched
/// matched from its best start there, or by the descent; the four that
/// matched from the second start finished were all textures (brick.png,
/// hubble_deep_field.jpg, 194–258 independent samples). With one (which
/// also leaves one fit to say whether the descent gets every start), the
/// evaluation's recall and false matches are the same, and in the match
/// bench the unrelated photos' matching at 44 references takes 6% fewer
/// instructions (`valgrind --tool=callgrind`; smooth references are 60%
/// of their retry sequences there; BENCHMARKS.md, "stop 50").
pub const SMOOTH_RETRIES_FINISHED: usize = 1;

/// Attempt numbers in the `knockoff::align` log: Gauss–Newton's retries
/// are 1 to n, the descent's that follow them 101 to 100 + n.
const RETRY_ATTEMPTS_LOGGED: usize = 100;

/// Attempt number in the `knockoff::align` log of a variant's
/// Gauss–Newton fit that the descent then redid (the descent's is logged
/// as attempt 0), see [`variant_alignment`].
const CONFIRMED_FIT_LOGGED: usize = 200;

/// Logs one alignment of the second stage at trace level (target
/// `knockoff::align`) with how its descent went ([`verify::Descent`]):
/// the data a cheap stage is calibrated on, with the reference's `rank`
/// in the photo's order of alignment ([`Candidate::aligned_as`]) and the
/// `attempt` (0: the variant's start, then each retry's). With
/// `RUST_LOG=knockoff::align=trace knockoff eval-images`, every
/// alignment of the evaluation, matched or not, is on stderr.
fn trace_alignment(
    source: &str,
    reference: &str,
    distance: u32,
    rank: usize,
    attempt: usize,
    a: &verify::Alignment,
) {
    let d = &a.descent;
    tracing::trace!(
        target: "knockoff::align",
        source,
        reference,
        distance,
        rank,
        attempt,
        start = ?a.start,
        matched = scores_match(a, MATCH_SIMILARITY, MATCH_DETAIL),
        similarity = a.similarity,
        detail = a.detail,
        samples = a.independent_samples,
        rotation_deg = a.view.map_or(0.0, |v| v.angle_rad.to_degrees()),
        probes = d.probes,
        sweeps = ?d.sweeps,
        start_similarity = d.start_similarity,
        round_best = ?d.round_best,
        "aligned"
    );
}

/// Other starting views for [`align_with_retries`], mirrored as the
/// variant, each with whether it is taken on the trimmed part: the whole
/// reference (or its trimmed part, as the variant) at each rotation of the
/// grid, the same widened by 20% at the variant's rotation (a copy padded
/// on every side), for a trimmed variant the untrimmed reference too, and
/// for a `textured` reference (by the first alignment's
/// [`TEXTURED_SAMPLES`]) its centre at each rotation.
fn retry_starts(
    reference: &Plane,
    start: &View,
    kind: &VariantKind,
    textured: bool,
) -> Vec<(bool, View)> {
    let base = reference.base_rect(kind.trimmed);
    let view = |rect: Rect, deg: f32| View {
        rect,
        angle_rad: deg.to_radians(),
        mirrored: start.mirrored,
    };
    let mut starts: Vec<(bool, View)> = ROTATION_STEPS_DEG
        .iter()
        .map(|&d| (kind.trimmed, view(base, d)))
        .collect();
    starts.push((
        kind.trimmed,
        view(base, kind.rotation_deg).widened(RETRY_WIDENING),
    ));
    if kind.trimmed {
        starts.push((false, view(reference.full_rect(), kind.rotation_deg)));
    }
    if textured {
        // A texture's alignment has a narrow basin: a copy both cropped
        // and rotated is only found from a start that is cropped too.
        let c = RETRY_TEXTURE_CROP;
        starts.extend(
            ROTATION_STEPS_DEG
                .iter()
                .map(|&d| (kind.trimmed, view(base.cropped(c, c, c, c), d))),
        );
    }
    starts.retain(|(_, v)| v != start);
    starts
}

/// Keeps, per key, the candidate `(distance, edits, ..)` with the least
/// distance, then the fewest edits (the first offered on a tie).
fn keep_nearest<K: std::hash::Hash + Eq, A: Copy, B: Copy>(
    nearest: &mut std::collections::HashMap<K, (u32, u32, A, B)>,
    key: K,
    cand: (u32, u32, A, B),
) {
    nearest
        .entry(key)
        .and_modify(|b| {
            if (cand.0, cand.1) < (b.0, b.1) {
                *b = cand;
            }
        })
        .or_insert(cand);
}

/// Share cut from each side of the reference for the extra starts of a
/// textured reference in [`retry_starts`]: the middle of the crops the
/// variants cover.
const RETRY_TEXTURE_CROP: f32 = 0.05;

/// How much [`retry_starts`] widens the whole reference: a copy padded by
/// up to 20% a side holds the photo in 1/1.4 of its width; the alignment
/// finds the rest of the way from 1.2.
const RETRY_WIDENING: f32 = 1.2;

/// Rotations of an aligned view smaller than this (degrees) are reported
/// as none. The alignment's last step is 0.375°, but on a smooth photo
/// (few independent samples) its rotation drifts: cropped-only copies in
/// the evaluation measured up to ±1° on most photos (2.5° on one).
pub const MIN_REPORTED_ROTATION_DEG: f32 = 1.5;

/// Share of a side by which an aligned view must lie inside the reference
/// (or reach past it) to be reported as cropped (or padded). The
/// alignment's last steps are under 1%, but where a photo's edge is plain
/// the view can drift past it at no cost: at 2%, 3 of 66 mirrored-only
/// copies in the evaluation read "padded" and 19 of 66 padded ones read
/// "padded, after trimming border"; at 4%, 0 and 1.
pub const MIN_REPORTED_MARGIN: f32 = 0.04;

/// Which edit of a reference a variant stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VariantKind {
    pub mirrored: bool,
    /// Hashed after trimming the reference's own uniform border.
    pub trimmed: bool,
    pub cropped: bool,
    /// The copy has margins the reference lacks (padding): only ever
    /// measured by the alignment, no variant is indexed padded.
    pub padded: bool,
    pub rotation_deg: f32,
}

impl VariantKind {
    const IDENTITY: VariantKind = VariantKind {
        mirrored: false,
        trimmed: false,
        cropped: false,
        padded: false,
        rotation_deg: 0.0,
    };

    /// How many edits the variant stands for (ties go to the simplest).
    fn edits(&self) -> u32 {
        self.mirrored as u32
            + self.trimmed as u32
            + self.cropped as u32
            + self.padded as u32
            + (self.rotation_deg != 0.0) as u32
    }

    /// The edits an aligned reference view stands for, measured: its
    /// rotation (to the half degree; under [`MIN_REPORTED_ROTATION_DEG`]
    /// it is alignment noise), its mirroring, and whether it lies inside
    /// the reference (the copy was cropped) or reaches past it (the copy
    /// has margins the reference lacks: padded) by more than
    /// [`MIN_REPORTED_MARGIN`] of a side. `trimmed`: the view was taken on
    /// the reference's trimmed part, `base` the part (trimmed or whole)
    /// the view is measured against. The `unseen` side of the base (the
    /// one a partial match left out, in the reference's frame) counts as
    /// neither cropped nor padded: nothing was compared there.
    fn measured(view: &View, base: Rect, trimmed: bool, unseen: Option<Side>) -> VariantKind {
        let (w, h) = (base.width().max(1.0), base.height().max(1.0));
        let r = view.rect;
        // Per side, how far the view lies inside the base (negative:
        // outside), as a share of the base.
        let inset = [
            (Side::Left, (r.left - base.left) / w),
            (Side::Right, (base.right - r.right) / w),
            (Side::Top, (r.top - base.top) / h),
            (Side::Bottom, (base.bottom - r.bottom) / h),
        ]
        .map(|(side, m)| if Some(side) == unseen { 0.0 } else { m });
        let deg = (view.angle_rad.to_degrees() * 2.0).round() / 2.0;
        VariantKind {
            mirrored: view.mirrored,
            trimmed,
            cropped: inset.iter().any(|&m| m > MIN_REPORTED_MARGIN),
            padded: inset.iter().any(|&m| m < -MIN_REPORTED_MARGIN),
            rotation_deg: if deg.abs() < MIN_REPORTED_ROTATION_DEG {
                0.0
            } else {
                deg
            },
        }
    }

    fn describe(&self, query_trimmed: bool) -> Option<String> {
        let mut parts = Vec::new();
        if self.mirrored {
            parts.push("mirrored".to_string());
        }
        if self.cropped {
            parts.push("cropped".to_string());
        }
        if self.padded {
            parts.push("padded".to_string());
        }
        if self.rotation_deg != 0.0 {
            parts.push(format!("rotated {:+}°", self.rotation_deg));
        }
        if query_trimmed && !self.trimmed {
            parts.push("after trimming border".to_string());
        }
        if self.trimmed && !query_trimmed {
            parts.push("tightly cropped to the product".to_string());
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// The views of a reference plane that get indexed: the grid of crops ×
/// rotations × mirror, on the whole plane and on its trimmed part.
pub fn reference_views(plane: &Plane) -> Vec<(VariantKind, View)> {
    let mut bases = vec![(false, plane.full_rect())];
    if let Some(t) = plane.trimmed_rect() {
        bases.push((true, t));
    }
    let mut out = Vec::new();
    for (trimmed, base) in bases {
        for &mirrored in &[false, true] {
            for &rot in &ROTATION_STEPS_DEG {
                for &l in &CROP_STEPS {
                    for &t in &CROP_STEPS {
                        for &r in &CROP_STEPS {
                            for &b in &CROP_STEPS {
                                let kind = VariantKind {
                                    mirrored,
                                    trimmed,
                                    cropped: l + t + r + b > 0.0,
                                    padded: false,
                                    rotation_deg: rot,
                                };
                                let view = View {
                                    rect: base.cropped(l, t, r, b),
                                    angle_rad: rot.to_radians(),
                                    mirrored,
                                };
                                out.push((kind, view));
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// A side of a photo, in the listing photo's frame: the part left out of
/// a partial lookup (see [`PARTIAL_CUT`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    Left,
    Top,
    Right,
    Bottom,
}

impl Side {
    pub const ALL: [Side; 4] = [Side::Left, Side::Top, Side::Right, Side::Bottom];

    fn index(self) -> usize {
        self as usize
    }

    /// The same side seen in the mirror image.
    fn mirrored(self) -> Side {
        match self {
            Side::Left => Side::Right,
            Side::Right => Side::Left,
            other => other,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Side::Left => "left",
            Side::Top => "top",
            Side::Right => "right",
            Side::Bottom => "bottom",
        }
    }

    /// `rect` without [`PARTIAL_CUT`] of its extent on this side.
    pub fn cut(self, rect: Rect) -> Rect {
        self.keeping(rect, 1.0 - PARTIAL_CUT)
    }

    /// `rect` keeping the share `keep` of its extent, from the opposite
    /// side.
    fn keeping(self, rect: Rect, keep: f32) -> Rect {
        let c = 1.0 - keep;
        match self {
            Side::Left => rect.cropped(c, 0.0, 0.0, 0.0),
            Side::Top => rect.cropped(0.0, c, 0.0, 0.0),
            Side::Right => rect.cropped(0.0, 0.0, c, 0.0),
            Side::Bottom => rect.cropped(0.0, 0.0, 0.0, c),
        }
    }
}

/// Share of a photo's width or height left out of a partial lookup: a
/// banner or logo covering one side of a copy (in the evaluation: 5-15% of
/// the canvas, up to a third of its height) moves a whole-photo hash of a
/// texture by 40-60 bits, past [`SEARCH_RADIUS`]; the same copy without
/// that side comes within 23-38 bits of the reference without it.
pub const PARTIAL_CUT: f32 = 0.35;

/// How much longer than the photo a listing photo's loosely trimmed
/// part may be on the side a partial lookup leaves out: a banner that
/// sticks out of the photo into the padding stops the trim at its own
/// edge, up to the padding's 20% past the photo's. The part kept is
/// `(1 - PARTIAL_CUT) / stretch` of the trimmed length, for each stretch
/// (a texture's hash moves 10-20 bits for a 5% error in where the part
/// ends).
pub const PARTIAL_STRETCHES: [f32; 3] = [1.0, 1.1, 1.2];

/// Independent samples ([`verify::independent_samples`]) an aligned part
/// of a reference must hold for a partial match (with the usual
/// similarity and detail, no textured allowance). Two thirds of a smooth
/// photo is little evidence: in the evaluation, partial alignments of
/// unrelated smooth tiles (skies, dark corners) reached similarity 0.97-1.0
/// and detail 0.88-0.98 at 0.6-4 samples, and one pair of textured tiles
/// detail 0.92 at 10; the banner copies that only a partial lookup finds
/// held 115-268.
pub const PARTIAL_SAMPLES: f32 = 20.0;

/// Independent samples under which a part of the photo is not aligned
/// in a partial lookup: a part that plain cannot correlate in detail
/// ([`PARTIAL_DETAIL`]) with a reference part of [`PARTIAL_SAMPLES`].
/// In the evaluation, the copies found by a partial lookup held 86–190
/// in the part looked up, and the recall and false matches are the same
/// with this bound; in the match bench at 500 references, it leaves 155
/// of the unrelated photos' 481 partial fits (BENCHMARKS.md, "stop 50").
pub const PARTIAL_QUERY_SAMPLES: f32 = 5.0;

/// Detail correlation a partial match needs (with the usual similarity):
/// a part is fewer samples, and each side and stretch looked up
/// ([`PARTIAL_STRETCHES`]) is another chance for a chance fit. In the
/// evaluation one pair of unrelated tiles fitted partially at detail 0.85
/// (30 samples); the banner copies found so reached 0.92-0.97.
pub const PARTIAL_DETAIL: f32 = 0.90;

/// The views of a reference plane indexed for partial lookups: for each
/// base (whole, trimmed, loosely trimmed: [`Plane::loose_trimmed_rect`]),
/// mirror and rotation of the grid, the base without each [`Side`] (named
/// in the copy's frame, so a mirrored view's left is the base's right).
/// With each view, the base it was cut from and the side cut in the
/// base's frame.
pub fn partial_views(plane: &Plane) -> Vec<(VariantKind, Side, (Rect, Side), View)> {
    let mut bases = vec![(false, plane.full_rect())];
    let strict = plane.trimmed_rect();
    bases.extend(strict.map(|r| (true, r)));
    if let Some(loose) = plane.loose_trimmed_rect() {
        if Some(loose) != strict {
            bases.push((true, loose));
        }
    }
    let mut out = Vec::new();
    for (trimmed, base) in bases {
        for mirrored in [false, true] {
            for &rot in &ROTATION_STEPS_DEG {
                for side in Side::ALL {
                    let own = if mirrored { side.mirrored() } else { side };
                    let kind = VariantKind {
                        mirrored,
                        trimmed,
                        cropped: false,
                        padded: false,
                        rotation_deg: rot,
                    };
                    let view = View {
                        rect: own.cut(base),
                        angle_rad: rot.to_radians(),
                        mirrored,
                    };
                    out.push((kind, side, (base, own), view));
                }
            }
        }
    }
    out
}

/// One partial-lookup hash (see [`partial_views`]).
#[derive(Debug, Clone)]
struct PartialEntry {
    reference: u32,
    kind: VariantKind,
    /// The base the view was cut from, and the side cut in the base's
    /// own frame: what the aligned view is measured against.
    base: Rect,
    unseen: Side,
    view: View,
}

/// One indexed hash: which reference, which variant, and the view it was
/// sampled from (the starting point of the second-stage alignment).
#[derive(Debug, Clone)]
struct Entry {
    reference: u32,
    kind: VariantKind,
    view: Option<View>,
}

/// A reference's working plane kept for the second stage, as 8-bit grey
/// (at most 64×64: 4 KB a reference).
#[derive(Debug, Clone)]
struct StoredPlane {
    width: usize,
    height: usize,
    data: Vec<u8>,
}

impl StoredPlane {
    fn of(p: &Plane) -> Self {
        StoredPlane {
            width: p.width,
            height: p.height,
            data: p
                .data
                .iter()
                .map(|v| v.round().clamp(0.0, 255.0) as u8)
                .collect(),
        }
    }
    fn plane(&self) -> Plane {
        Plane {
            width: self.width,
            height: self.height,
            data: self.data.iter().map(|&v| v as f32).collect(),
        }
    }
}

/// A reference that came within [`SEARCH_RADIUS`] of a photo, after the
/// second stage.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Candidate {
    pub reference: String,
    /// Hash distance (of 128) of the nearest variant.
    pub distance: u32,
    /// Correlation after alignment, when both sides' pixels were at hand.
    pub similarity: Option<f32>,
    /// Correlation of fine detail at that alignment (see
    /// [`verify::Alignment::detail`]).
    pub detail: Option<f32>,
    /// Independent samples of the aligned reference view (see
    /// [`verify::independent_samples`]): whether the textured rule of
    /// [`scores_match`] applies.
    #[serde(skip)]
    pub independent_samples: Option<f32>,
    /// Where the alignment started (see [`verify::Start`]).
    #[serde(skip)]
    pub start: verify::Start,
    /// Rotation (degrees) of the aligned reference view, when aligned
    /// (see [`plausible`]).
    #[serde(skip)]
    pub rotation_deg: Option<f32>,
    /// Where the reference came in the photo's order of alignment (0: the
    /// first aligned; see [`RETRIED_REFERENCES`]); `None` when it was not
    /// aligned, or found by a partial lookup.
    #[serde(skip)]
    pub aligned_as: Option<usize>,
    /// Alignments run for this candidate: the variant's (by Gauss–Newton
    /// and the descent, for a reference past the nearest
    /// [`RETRIED_REFERENCES`] whose fit came close) and any retries.
    #[serde(skip)]
    pub alignments: u32,
    pub is_match: bool,
    pub transform: Option<String>,
}

impl Candidate {
    fn into_match(self) -> ImageMatch {
        ImageMatch {
            reference: self.reference,
            distance: self.distance,
            bits: HashPair::BITS,
            is_match: self.is_match,
            transform: self.transform,
            similarity: self.similarity,
            detail: self.detail,
            independent_samples: self.independent_samples,
        }
    }

    /// Ranking key: verified matches first, then by similarity, then by
    /// distance.
    fn rank(&self) -> (bool, f32, std::cmp::Reverse<u32>) {
        (
            self.is_match,
            self.similarity.unwrap_or(0.0),
            std::cmp::Reverse(self.distance),
        )
    }
}

/// The query side of a lookup: the photo's hashes and, when it was decoded
/// here, its plane (which enables the second stage).
struct Query<'a> {
    /// The photo's name, for the logs.
    source: &'a str,
    hashes: &'a ImageHashes,
    plane: Option<&'a Plane>,
    /// A reference left out of the lookup (the evaluation looks each tile
    /// up in an index that holds it).
    exclude: Option<u32>,
    /// Verify every candidate reference, not only up to the first
    /// confirmed one (to count false matches pair by pair).
    exhaustive: bool,
}

/// An index of reference (official, or taken-down listing) photo hashes.
#[derive(Debug)]
pub struct ReferenceIndex {
    names: Vec<String>,
    planes: Vec<Option<StoredPlane>>,
    entries: Vec<Entry>,
    index: mih::MultiIndex,
    /// Per [`Side`] (in the copy's frame), the references' views without
    /// that side ([`partial_views`]).
    partial: Vec<(mih::MultiIndex, Vec<PartialEntry>)>,
}

impl Default for ReferenceIndex {
    fn default() -> Self {
        Self::new()
    }
}

impl ReferenceIndex {
    pub fn new() -> Self {
        ReferenceIndex {
            names: Vec::new(),
            planes: Vec::new(),
            entries: Vec::new(),
            index: mih::MultiIndex::new(),
            partial: (0..Side::ALL.len())
                .map(|_| (mih::MultiIndex::new(), Vec::new()))
                .collect(),
        }
    }

    /// Adds a reference photo from its bytes, with all its variants.
    pub fn add_bytes(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let d = decode::decode(bytes, name)?;
        self.add_plane(name, &d.plane);
        Ok(())
    }

    /// Adds a reference from a decoded plane, with all its variants.
    pub fn add_plane(&mut self, name: &str, plane: &Plane) {
        let prepared = PreparedReference::of_plane(plane.clone());
        self.add_prepared(name, &prepared);
    }

    /// Adds a reference whose variants were hashed before
    /// ([`PreparedReference::of_plane`], perhaps read back from a cache
    /// with [`PreparedReference::from_bytes`]): only the views' geometry is
    /// worked out again, no view is sampled or hashed. The index is the one
    /// [`Self::add_plane`] builds from the same plane.
    pub fn add_prepared(&mut self, name: &str, prepared: &PreparedReference) {
        let plane = &prepared.plane;
        let views = reference_views(plane);
        let partial = partial_views(plane);
        let reference = self.push_name(name, Some(StoredPlane::of(plane)));
        for ((kind, view), pair) in views.into_iter().zip(&prepared.variants) {
            self.push_entry(reference, kind, Some(view), *pair);
        }
        for &(i, pair) in &prepared.partial {
            let Some(&(kind, side, (base, unseen), view)) = partial.get(i as usize) else {
                continue;
            };
            let (index, entries) = &mut self.partial[side.index()];
            index.insert(pair.as_u128());
            entries.push(PartialEntry {
                reference,
                kind,
                base,
                unseen,
                view,
            });
        }
    }

    /// Adds an already-computed hash set as a reference (e.g. the photos of
    /// a listing taken down, for relisting detection). Without the pixels
    /// no crop/rotation/mirror variants can be made and no second stage can
    /// run, so such a reference matches on hash distance alone (at most
    /// [`MATCH_THRESHOLD`]): it catches resized, recompressed, re-encoded,
    /// recoloured or re-padded copies, not mirrored or cropped ones. Use
    /// [`Self::add_bytes`] when the photo itself is at hand.
    pub fn add_hashes(&mut self, name: &str, hashes: &ImageHashes) {
        let reference = self.push_name(name, None);
        self.push_entry(reference, VariantKind::IDENTITY, None, hashes.whole);
        if let Some(t) = hashes.trimmed {
            let kind = VariantKind {
                trimmed: true,
                ..VariantKind::IDENTITY
            };
            self.push_entry(reference, kind, None, t);
        }
    }

    fn push_name(&mut self, name: &str, plane: Option<StoredPlane>) -> u32 {
        self.names.push(name.to_string());
        self.planes.push(plane);
        (self.names.len() - 1) as u32
    }

    fn push_entry(
        &mut self,
        reference: u32,
        kind: VariantKind,
        view: Option<View>,
        pair: HashPair,
    ) {
        self.index.insert(pair.as_u128());
        self.entries.push(Entry {
            reference,
            kind,
            view,
        });
    }

    /// Number of references.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Number of indexed hashes (references × variants).
    /// The 128-bit keys of every indexed variant (for measuring a linear
    /// scan against the index).
    pub fn variant_keys(&self) -> impl Iterator<Item = u128> + '_ {
        (0..self.index.len() as u32).filter_map(|id| self.index.key(id))
    }

    pub fn variant_count(&self) -> usize {
        self.entries.len()
    }

    /// Every reference within `radius` (hash distance) of the photo, best
    /// first, with the second stage run on the nearest
    /// [`MAX_VERIFIED_REFERENCES`] when the photo's plane is given.
    fn candidates(&self, q: &Query, radius: u32) -> Vec<Candidate> {
        // The photo's plane, sampled for its centre's, its thumbnails' and
        // its parts' views.
        let query_sampler = q.plane.map(Sampler::new);
        // Per (reference, query trimmed): nearest (distance, edits, entry,
        // found through the photo's centre).
        let mut nearest: std::collections::HashMap<(u32, bool), (u32, u32, usize, bool)> =
            std::collections::HashMap::new();
        for (pair, query_trimmed) in q.hashes.query_pairs() {
            for (id, distance) in self.index.within(pair.as_u128(), radius) {
                let entry = &self.entries[id as usize];
                // A trimmed query matching an untrimmed variant is one
                // more edit than the whole query doing so.
                let edits = entry.kind.edits() + query_trimmed as u32;
                keep_nearest(
                    &mut nearest,
                    (entry.reference, query_trimmed),
                    (distance, edits, id as usize, false),
                );
            }
        }
        // The photo's centre is looked up too when its pixels are at hand
        // (so the second stage can confirm), as a fallback: a copy rotated on its own
        // canvas has fill in its corners, and one padded then rotated has
        // a border trimming cannot find, but their centres are intact and
        // land near a reference variant cropped by as much. Such a find is
        // verified against the whole photo, from the variant's view
        // widened back by as much as the centre was cut. When a border was
        // trimmed, the trimmed part's centre is looked up too (padding and
        // a rotation or a banner together leave the trim the rotated photo
        // with pad-coloured corners, or stop it at the banner).
        // Only for references the whole and trimmed photo did not reach:
        // when they did, their finds say better what the copy went through.
        if let Some(sampler) = &query_sampler {
            let p = sampler.plane();
            let reached: std::collections::HashSet<u32> = nearest.keys().map(|k| k.0).collect();
            let c = CENTRE_CROP;
            let mut rects = vec![(false, p.full_rect())];
            if q.hashes.trimmed.is_some() {
                rects.extend(p.trimmed_rect().map(|r| (true, r)));
            }
            for (query_trimmed, rect) in rects {
                let centre = HashPair::of_sampled(sampler, &View::of(rect.cropped(c, c, c, c)));
                for (id, distance) in self.index.within(centre.as_u128(), radius) {
                    let entry = &self.entries[id as usize];
                    if entry.view.is_some() && !reached.contains(&entry.reference) {
                        let edits = entry.kind.edits() + 1 + query_trimmed as u32;
                        keep_nearest(
                            &mut nearest,
                            (entry.reference, query_trimmed),
                            (distance, edits, id as usize, true),
                        );
                    }
                }
            }
        }
        let mut found: Vec<_> = nearest
            .into_iter()
            .filter(|((r, _), _)| Some(*r) != q.exclude)
            .collect();
        found.sort_by_key(|&((r, t), (d, e, _, _))| (d, e, r, t));

        // The query's thumbnails, whole and trimmed, for the second stage.
        let thumbs: Vec<(bool, Vec<f32>)> = match &query_sampler {
            Some(sampler) => {
                let p = sampler.plane();
                let mut v = vec![(
                    false,
                    sampler.sample(
                        &View::of(p.full_rect()),
                        verify::VERIFY_SIDE,
                        verify::VERIFY_SIDE,
                    ),
                )];
                if q.hashes.trimmed.is_some() {
                    if let Some(r) = p.trimmed_rect() {
                        v.push((
                            true,
                            sampler.sample(&View::of(r), verify::VERIFY_SIDE, verify::VERIFY_SIDE),
                        ));
                    }
                }
                v
            }
            None => Vec::new(),
        };

        let mut best: std::collections::HashMap<u32, Candidate> = std::collections::HashMap::new();
        let mut verified_refs: Vec<u32> = Vec::new();
        let mut confirmed = false;
        for ((reference, query_trimmed), (distance, _, id, via_centre)) in found {
            let entry = &self.entries[id];
            let start = entry.view.map(|v| {
                if via_centre {
                    v.widened(1.0 / (1.0 - 2.0 * CENTRE_CROP))
                } else {
                    v
                }
            });
            let mut kind = VariantKind {
                // The widening undoes the variant's crop.
                cropped: entry.kind.cropped && !via_centre,
                ..entry.kind
            };
            let thumb = thumbs
                .iter()
                .find(|(t, _)| *t == query_trimmed)
                .map(|(_, t)| t);
            // Where the reference is in the order of alignment, and how
            // many alignments it took (the cost the bounds above keep).
            let mut rank = None;
            let alignments = std::cell::Cell::new(0u32);
            let alignment = match (&self.planes[reference as usize], start, thumb) {
                (Some(stored), Some(view), Some(thumb)) => {
                    // Once a reference is confirmed, the others (no nearer
                    // in hash terms) are not aligned: with a catalogue of
                    // look-alike studio shots that is most of the cost of a
                    // lookup (BENCHMARKS.md), and the closest confirmed
                    // reference is the answer.
                    let at = match verified_refs.iter().position(|&r| r == reference) {
                        Some(at) => at,
                        None if (q.exhaustive || !confirmed)
                            && verified_refs.len() < MAX_VERIFIED_REFERENCES =>
                        {
                            verified_refs.push(reference);
                            verified_refs.len() - 1
                        }
                        None => continue,
                    };
                    rank = Some(at);
                    if verify::contrast(thumb) < verify::MIN_CONTRAST {
                        Some(verify::Alignment::default())
                    } else {
                        let plane = stored.plane();
                        let sampler = Sampler::new(&plane);
                        let name = &self.names[reference as usize];
                        let trace = |a: &verify::Alignment, attempt: usize| {
                            alignments.set(alignments.get() + 1);
                            trace_alignment(q.source, name, distance, at, attempt, a);
                        };
                        let retry = at < RETRIED_REFERENCES;
                        let (a, trimmed) = align_with_retries(
                            &sampler,
                            &view,
                            &entry.kind,
                            thumb,
                            &trace,
                            retry,
                            distance,
                        );
                        // The edits the copy went through, as the
                        // alignment measured them (a variant, or a retry's
                        // start, is only where the search began).
                        if let Some(v) = a.view {
                            kind =
                                VariantKind::measured(&v, plane.base_rect(trimmed), trimmed, None);
                        }
                        Some(a)
                    }
                }
                _ => None,
            };
            let is_match = match alignment {
                Some(a) => scores_match(&a, MATCH_SIMILARITY, MATCH_DETAIL),
                None => distance <= MATCH_THRESHOLD,
            };
            confirmed |= is_match && alignment.is_some();
            let cand = Candidate {
                reference: self.names[reference as usize].clone(),
                distance,
                similarity: alignment.map(|a| a.similarity),
                detail: alignment.map(|a| a.detail),
                independent_samples: alignment.map(|a| a.independent_samples),
                start: alignment.map(|a| a.start).unwrap_or_default(),
                rotation_deg: alignment
                    .and_then(|a| a.view)
                    .map(|v| v.angle_rad.to_degrees()),
                aligned_as: rank,
                alignments: alignments.get(),
                is_match,
                transform: kind.describe(query_trimmed),
            };
            best.entry(reference)
                .and_modify(|b| {
                    if cand.rank() > b.rank() {
                        *b = cand.clone();
                    }
                })
                .or_insert(cand);
        }
        if let Some(sampler) = &query_sampler {
            if q.exhaustive || !confirmed {
                self.partial_candidates(q, sampler, radius, &mut best);
            }
        }
        let mut out: Vec<Candidate> = best.into_values().collect();
        out.sort_by(|a, b| {
            b.rank()
                .partial_cmp(&a.rank())
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.reference.cmp(&b.reference))
        });
        out
    }

    /// The partial lookups of a photo no reference was confirmed for: the
    /// photo (loosely trimmed, [`Plane::loose_trimmed_rect`]) without each
    /// [`Side`] in turn is looked up among the references' views without
    /// the same side, and the nearest [`MAX_VERIFIED_REFERENCES`] are
    /// aligned on that part alone. A banner or logo over one side of a
    /// textured photo moves its whole hash past the search radius, and
    /// covers more of it than the robust correlation leaves out. A match
    /// found so replaces the reference's candidate in `best` (which did
    /// not match); near misses are left out.
    fn partial_candidates(
        &self,
        q: &Query,
        sampler: &Sampler,
        radius: u32,
        best: &mut std::collections::HashMap<u32, Candidate>,
    ) {
        let p = sampler.plane();
        let loose = p.loose_trimmed_rect();
        let rect = loose.unwrap_or(p.full_rect());
        // Per reference: nearest (distance, edits, part, entry).
        let mut nearest: std::collections::HashMap<u32, (u32, u32, usize, usize)> =
            std::collections::HashMap::new();
        // The parts looked up: per side, each stretch.
        let parts: Vec<(Side, Rect)> = Side::ALL
            .iter()
            .flat_map(|&side| {
                PARTIAL_STRETCHES
                    .iter()
                    .map(move |s| (side, side.keeping(rect, (1.0 - PARTIAL_CUT) / s)))
            })
            .collect();
        for (part, &(side, part_rect)) in parts.iter().enumerate() {
            let key = HashPair::of_sampled(sampler, &View::of(part_rect)).as_u128();
            let (index, entries) = &self.partial[side.index()];
            for (id, distance) in index.within(key, radius) {
                let e = &entries[id as usize];
                if Some(e.reference) == q.exclude {
                    continue;
                }
                keep_nearest(
                    &mut nearest,
                    e.reference,
                    (distance, e.kind.edits(), part, id as usize),
                );
            }
        }
        let mut found: Vec<_> = nearest.into_iter().collect();
        found.sort_by_key(|&(r, (d, e, s, _))| (d, e, r, s));
        let query_trimmed = loose.is_some();
        // Each part's thumbnail, with whether it can be matched at all:
        // enough contrast and texture (`PARTIAL_QUERY_SAMPLES`).
        let mut thumbs: Vec<Option<(Vec<f32>, bool)>> = vec![None; parts.len()];
        for (rank, (reference, (distance, _, part, id))) in
            found.into_iter().take(MAX_VERIFIED_REFERENCES).enumerate()
        {
            let (side, part_rect) = parts[part];
            if best.get(&reference).is_some_and(|c| c.is_match) {
                continue;
            }
            let Some(stored) = &self.planes[reference as usize] else {
                continue;
            };
            let entry = &self.partial[side.index()].1[id];
            let (thumb, matchable) = thumbs[part].get_or_insert_with(|| {
                let t = sampler.sample(
                    &View::of(part_rect),
                    verify::VERIFY_SIDE,
                    verify::VERIFY_SIDE,
                );
                let matchable = verify::contrast(&t) >= verify::MIN_CONTRAST
                    && verify::independent_samples(&t, verify::VERIFY_SIDE)
                        >= PARTIAL_QUERY_SAMPLES;
                (t, matchable)
            });
            if !*matchable {
                continue;
            }
            let plane = stored.plane();
            // Gauss–Newton first, the descent only when the fit came close
            // (as for a farther reference's variant).
            let name = &self.names[reference as usize];
            let trace = |a: &verify::Alignment, attempt: usize| {
                let a = verify::Alignment {
                    start: verify::Start::Partial,
                    ..*a
                };
                trace_alignment(q.source, name, distance, rank, attempt, &a);
            };
            let a = verify::Alignment {
                start: verify::Start::Partial,
                ..variant_alignment(
                    &Sampler::new(&plane),
                    &entry.view,
                    thumb,
                    &trace,
                    RECHECK_DETAIL,
                )
            };
            if !scores_match(&a, MATCH_SIMILARITY, MATCH_DETAIL) {
                // A near miss on part of the photo says less than the
                // whole photo's: it is not reported.
                continue;
            }
            let kind = a
                .view
                .map(|v| {
                    VariantKind::measured(&v, entry.base, entry.kind.trimmed, Some(entry.unseen))
                })
                .unwrap_or(entry.kind);
            let transform = [
                kind.describe(query_trimmed),
                Some(format!(
                    "matched without its {} part (covered or changed there)",
                    side.name(),
                )),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
            let cand = Candidate {
                reference: self.names[reference as usize].clone(),
                distance,
                similarity: Some(a.similarity),
                detail: Some(a.detail),
                independent_samples: Some(a.independent_samples),
                start: a.start,
                rotation_deg: a.view.map(|v| v.angle_rad.to_degrees()),
                aligned_as: None,
                alignments: 1,
                is_match: true,
                transform: Some(transform),
            };
            best.insert(reference, cand);
            if !q.exhaustive {
                break;
            }
        }
    }

    /// Every reference within `radius` of an already-hashed photo (hash
    /// distance only: no pixels, no second stage), best first.
    pub fn matches_within(&self, hashes: &ImageHashes, radius: u32) -> Vec<ImageMatch> {
        self.candidates(
            &Query {
                source: "",
                hashes,
                plane: None,
                exclude: None,
                exhaustive: false,
            },
            radius,
        )
        .into_iter()
        .map(Candidate::into_match)
        .collect()
    }

    /// The best reference for an already-hashed photo (hash distance only;
    /// prefer [`Self::best_match_bytes`], which also runs the second stage).
    pub fn best_match(&self, hashes: &ImageHashes) -> Option<ImageMatch> {
        self.matches_within(hashes, SEARCH_RADIUS)
            .into_iter()
            .next()
    }

    /// All candidates for a photo's bytes, with the second stage.
    pub fn candidates_bytes(&self, bytes: &[u8], source_name: &str) -> Result<Vec<Candidate>> {
        self.lookup_bytes(bytes, source_name, None, false)
    }

    /// Every candidate for a photo's bytes, each verified (a lookup
    /// otherwise stops aligning other references once one is confirmed),
    /// with the reference named `exclude` left out as if it were not in the
    /// index: how the evaluation counts false matches pair by pair.
    pub fn all_candidates_bytes_except(
        &self,
        bytes: &[u8],
        source_name: &str,
        exclude: &str,
    ) -> Result<Vec<Candidate>> {
        self.lookup_bytes(bytes, source_name, Some(exclude), true)
    }

    fn lookup_bytes(
        &self,
        bytes: &[u8],
        source_name: &str,
        exclude: Option<&str>,
        exhaustive: bool,
    ) -> Result<Vec<Candidate>> {
        Ok(self
            .lookup_bytes_hashed(bytes, source_name, exclude, exhaustive)?
            .1)
    }

    /// [`Self::lookup_bytes`], with the photo's hashes.
    fn lookup_bytes_hashed(
        &self,
        bytes: &[u8],
        source_name: &str,
        exclude: Option<&str>,
        exhaustive: bool,
    ) -> Result<(ImageHashes, Vec<Candidate>)> {
        let d = decode::decode(bytes, source_name)?;
        let hashes = hash_plane(d.width, d.height, &d.plane);
        let exclude = exclude.and_then(|n| self.names.iter().position(|m| m == n));
        let candidates = self.candidates(
            &Query {
                source: source_name,
                hashes: &hashes,
                plane: Some(&d.plane),
                exclude: exclude.map(|i| i as u32),
                exhaustive,
            },
            SEARCH_RADIUS,
        );
        Ok((hashes, candidates))
    }

    /// Best match for a listing photo's bytes: `None` when no reference is
    /// within [`SEARCH_RADIUS`]; near misses come back with
    /// `is_match: false`.
    pub fn best_match_bytes(&self, bytes: &[u8], source_name: &str) -> Result<Option<ImageMatch>> {
        Ok(self
            .candidates_bytes(bytes, source_name)?
            .into_iter()
            .next()
            .map(Candidate::into_match))
    }

    /// [`Self::best_match_bytes`], with the photo's hashes (what
    /// [`hash_image`] gives), from the one decode.
    pub fn best_match_bytes_hashed(
        &self,
        bytes: &[u8],
        source_name: &str,
    ) -> Result<(ImageHashes, Option<ImageMatch>)> {
        let (hashes, candidates) = self.lookup_bytes_hashed(bytes, source_name, None, false)?;
        let best = candidates.into_iter().next().map(Candidate::into_match);
        Ok((hashes, best))
    }

    /// The references' names, in the order they were added.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// One file's hashes (`knockoff hash`): hashes as 16 hex digits by kind
/// (`phash`, `dhash`, and the `_trimmed` pair when a border was trimmed).
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct FileHashes {
    pub file: String,
    pub width: u32,
    pub height: u32,
    pub hashes: std::collections::BTreeMap<String, String>,
}

/// One file and what became of it: its result, or the error that stopped it.
pub type FileResult<T> = (String, Result<T>);

/// `knockoff hash FILE...`: each file's hashes, or its error, in order.
pub fn hash_files(files: &[PathBuf]) -> Vec<FileResult<FileHashes>> {
    files
        .par_iter()
        .map(|f| {
            let name = f.display().to_string();
            let hashed = std::fs::read(f)
                .map_err(|e| Error::io(f, e))
                .and_then(|b| hash_image(&b, &name))
                .map(|h| FileHashes {
                    file: name.clone(),
                    width: h.width,
                    height: h.height,
                    hashes: h
                        .hashes
                        .iter()
                        .map(|(k, v)| (k.clone(), format!("{v:016x}")))
                        .collect(),
                });
            (name, hashed)
        })
        .collect()
}

/// Builds a reference index from every file in a directory (sorted by
/// name). A missing or empty directory, or an unreadable reference, is an
/// error: the user has to fix the reference set.
pub fn load_reference_dir(dir: &Path) -> Result<ReferenceIndex> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::Other(format!(
            "{}: reference directory holds no image files",
            dir.display()
        )));
    }
    let mut index = ReferenceIndex::new();
    for f in files {
        let bytes = std::fs::read(&f).map_err(|e| Error::io(&f, e))?;
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| f.display().to_string());
        let d = decode::decode(&bytes, &f.display().to_string())?;
        index.add_plane(&name, &d.plane);
    }
    Ok(index)
}

/// One file's nearest official photo (`knockoff match`). With no
/// reference within the search radius, `nearest` and everything measured
/// of it are null.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct FileMatch {
    pub file: String,
    /// The nearest reference if it matches.
    pub reference: Option<String>,
    /// The nearest reference within the search radius, match or not.
    pub nearest: Option<String>,
    /// Hash distance of the nearest, of `bits`.
    pub distance: Option<u32>,
    pub bits: u32,
    /// Hash distance at or below which a photo can match.
    pub threshold: u32,
    /// Correlation after alignment, when aligned.
    pub similarity: Option<f32>,
    /// Correlation of fine detail at that alignment.
    pub detail: Option<f32>,
    pub similarity_threshold: f32,
    pub detail_threshold: f32,
    /// Independent samples of the aligned reference view.
    pub independent_samples: Option<f32>,
    /// Whether the textured rule applies (`independent_samples` ≥ its floor).
    pub textured: Option<bool>,
    #[serde(rename = "match")]
    pub is_match: bool,
    /// The transform the alignment found (mirrored, rotated, cropped…).
    pub transform: Option<String>,
}

/// `knockoff match --reference DIR FILE...`: each file's best reference
/// (or none within the radius), distance, the second stage's similarity and
/// detail correlations, match and transform, or the file's error. A
/// reference directory that cannot be loaded is the error of the whole run.
///
/// Logs (info, target `knockoff::match`) the processor time that loading
/// the references took, and then matching the photos: what a photo costs,
/// without the references' load that a one-off run pays first.
pub fn match_files(reference_dir: &Path, files: &[PathBuf]) -> Result<Vec<FileResult<FileMatch>>> {
    let started = process_cpu_seconds();
    let index = load_reference_dir(reference_dir)?;
    let loaded = process_cpu_seconds();
    tracing::info!(
        target: "knockoff::match",
        references = index.len(),
        variants = index.variant_count(),
        cpu_s = loaded - started,
        "references loaded"
    );
    let lines: Vec<_> = files
        .par_iter()
        .map(|f| {
            let name = f.display().to_string();
            let matched = std::fs::read(f)
                .map_err(|e| Error::io(f, e))
                .and_then(|b| index.candidates_bytes(&b, &name))
                .map(|c| {
                    let m = c.into_iter().next();
                    FileMatch {
                        file: name.clone(),
                        reference: m
                            .as_ref()
                            .filter(|m| m.is_match)
                            .map(|m| m.reference.clone()),
                        nearest: m.as_ref().map(|m| m.reference.clone()),
                        distance: m.as_ref().map(|m| m.distance),
                        bits: HashPair::BITS,
                        threshold: MATCH_THRESHOLD,
                        similarity: m.as_ref().and_then(|m| m.similarity),
                        detail: m.as_ref().and_then(|m| m.detail),
                        similarity_threshold: MATCH_SIMILARITY,
                        detail_threshold: MATCH_DETAIL,
                        independent_samples: m.as_ref().and_then(|m| m.independent_samples),
                        textured: m
                            .as_ref()
                            .and_then(|m| m.independent_samples)
                            .map(|t| t >= TEXTURED_SAMPLES),
                        is_match: m.as_ref().is_some_and(|m| m.is_match),
                        transform: m.and_then(|m| m.transform),
                    }
                });
            (name, matched)
        })
        .collect();
    tracing::info!(
        target: "knockoff::match",
        photos = files.len(),
        cpu_s = process_cpu_seconds() - loaded,
        "photos matched"
    );
    Ok(lines)
}

/// Processor time (user and system, all threads) this process has used,
/// in seconds; 0 where it cannot be read.
fn process_cpu_seconds() -> f64 {
    #[cfg(unix)]
    {
        // SAFETY: getrusage only writes the struct it is given, and a
        // zeroed rusage is a valid value of it.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0 {
            let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
            return secs(usage.ru_utime) + secs(usage.ru_stime);
        }
    }
    0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_smooth_view_rotated_past_what_copies_measure_is_not_a_match() {
        let aligned = |deg: f32, independent_samples: f32| verify::Alignment {
            similarity: 0.998,
            detail: 0.95,
            independent_samples,
            start: verify::Start::Variant,
            view: Some(View {
                rect: Rect {
                    left: 4.0,
                    top: 2.0,
                    right: 60.0,
                    bottom: 64.0,
                },
                angle_rad: deg.to_radians(),
                mirrored: true,
            }),
            ..verify::Alignment::default()
        };
        let ok = |a: verify::Alignment| scores_match(&a, MATCH_SIMILARITY, MATCH_DETAIL);
        // Smooth copies rotated 1-5° measure up to ±6°: matches.
        for deg in [0.0, 4.0, -5.0, 6.0, -6.0, -6.2] {
            assert!(ok(aligned(deg, 1.2)), "{deg}°");
        }
        // The evaluation's false matches: smooth tiles fitted at +7° and
        // −16.5°.
        for deg in [6.3, 7.0, -7.0, -16.5, 47.0] {
            assert!(!ok(aligned(deg, 1.3)), "{deg}°");
            assert!(!plausible(1.3, deg));
        }
        // A texture pins its rotation: not held to the smooth bound.
        assert!(ok(aligned(-16.5, 40.0)));
        // The evaluation's scores apply the same rule.
        let score = |rotation_deg: f32| eval::Score {
            similarity: 0.998,
            detail: 0.95,
            independent_samples: 1.3,
            start: verify::Start::Variant,
            rotation_deg,
        };
        let thresholds = eval::Score {
            similarity: MATCH_SIMILARITY,
            detail: MATCH_DETAIL,
            independent_samples: 0.0,
            start: verify::Start::Variant,
            rotation_deg: 0.0,
        };
        assert!(score(5.0).passes(thresholds));
        assert!(!score(7.0).passes(thresholds));
        // Without a view (hash-only references) nothing is measured.
        let viewless = verify::Alignment {
            view: None,
            ..aligned(0.0, 1.3)
        };
        assert!(ok(viewless));
    }

    #[test]
    fn partial_views_name_sides_in_the_copys_frame() {
        let plane = Plane {
            width: 40,
            height: 30,
            data: (0..1200).map(|i| ((i * 37) % 251) as f32).collect(),
        };
        let views = partial_views(&plane);
        // No border: the whole plane only, 2 mirrorings × 3 rotations × 4
        // sides.
        assert_eq!(views.len(), 24);
        let full = plane.full_rect();
        for (kind, side, (base, unseen), view) in &views {
            assert_eq!(*base, full);
            assert_eq!(kind.mirrored, view.mirrored);
            // A mirrored copy's left is the reference's right.
            let own = if view.mirrored {
                side.mirrored()
            } else {
                *side
            };
            assert_eq!(*unseen, own);
            assert_eq!(view.rect, own.cut(full));
        }
        let near = |a: f32, b: f32| (a - b).abs() < 1e-4;
        let r = Side::Left.cut(full);
        assert!(
            near(r.left, 40.0 * PARTIAL_CUT) && near(r.right, 40.0),
            "{r:?}"
        );
        let r = Side::Bottom.cut(full);
        assert!(near(r.top, 0.0) && near(r.bottom, 30.0 * (1.0 - PARTIAL_CUT)));
    }

    #[test]
    fn the_side_a_partial_match_left_out_is_not_reported_as_cropped() {
        let base = Rect {
            left: 0.0,
            top: 0.0,
            right: 100.0,
            bottom: 100.0,
        };
        let view = View::of(Rect {
            bottom: 55.0,
            ..base
        });
        let seen = VariantKind::measured(&view, base, false, None);
        assert!(seen.cropped);
        let unseen = VariantKind::measured(&view, base, false, Some(Side::Bottom));
        assert!(!unseen.cropped && !unseen.padded);
    }
}
