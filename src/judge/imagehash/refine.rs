//! Gauss–Newton alignment of a reference view to a listing photo's
//! thumbnail: the same fit as [`super::verify::align`]'s coordinate
//! descent, reached from the image gradients in a few steps, coarse to
//! fine, instead of probing each parameter in turn.
//!
//! The model: the photo's thumbnail `q` is the reference view `t(p)`
//! (sampled at parameters `p`: shift, log-scales and rotation, as
//! [`super::verify`] nudges a view) up to gain and offset, `q ≈ a·t(p) + b`.
//! Each step linearises `t` in `p` (the sampled view's own differences
//! between neighbouring cells give the image gradient; where each cell
//! moves with `p` is known exactly from the sampling grid), solves the
//! least-squares system for `p`, `a` and `b` with the worst-fitting
//! [`verify::ROBUST_DROP`] of the cells left out (as the robust
//! correlation leaves them out), damped (Levenberg–Marquardt), and keeps
//! the step only if the robust correlation got better. It runs at 8×8,
//! 16×16 and then 32×32 cells: the coarse levels see far (a cell is a
//! quarter or an eighth of the view) at a sixteenth or a quarter of the
//! cost of a probe, and each finer level goes on from the better of where
//! the coarser one ended and where it began. The 16×16 and 32×32 levels
//! probe with 2×2 sub-samples per cell ([`Sampler::probe_into`]); the view
//! reached is scored on the full sampling. The matcher uses it for the retries of
//! the nearest references ([`align_coarse`]: every start begun, the best
//! taken up to the 32×32 level and the best of those finished) and for
//! the variant's view of the
//! farther ones, of the nearest ones far in hash terms and of partial
//! views ([`align_variant`]), with the descent behind it when a fit comes
//! close (`imagehash::align_with_retries`).

use super::plane::{CellGrid, Sampler, View};
use super::verify::{self, Alignment, Descent, ROBUST_DROP, VERIFY_SIDE};

/// The cell sides the fit runs at, coarse to fine, and the most steps
/// tried at each, for a smooth view: the 8×8 level sees a plain photo's
/// layout from far.
const SMOOTH_LEVELS: [(usize, usize); 3] = [(8, 10), (16, 8), (32, 6)];

/// The same for a textured view: at 8×8 a texture averages out to a flat
/// field that pulls the fit anywhere, so it starts at 16×16 (in the
/// evaluation, starting textured views at 8×8 lost copies of brick.png
/// and microaneurysms.png).
const TEXTURED_LEVELS: [(usize, usize); 2] = [(16, 8), (32, 6)];

/// The levels of [`align_variant`]: 16×16 then 32×32 cells, eight steps
/// each. From the 8×8 level, overlaid copies that the descent matches
/// from the same view were lost (BENCHMARKS.md, stop 44).
const VARIANT_LEVELS: [(usize, usize); 2] = [(16, 8), (32, 8)];

/// Share of the cells each step of [`align_variant`] leaves out of its
/// system (the robust correlation that judges a step still leaves out
/// [`ROBUST_DROP`]). At [`ROBUST_DROP`] an overlaid copy of the
/// evaluation was lost.
const VARIANT_DROP: f32 = 0.30;

/// Levels of this many cells a side or more probe their views with
/// [`super::plane::PROBE_SUB`] sub-samples per cell ([`Sampler::probe_into`]).
const PROBED_SIDE: usize = 16;

/// Largest change of one step, per parameter: shifts and log-scales as a
/// share of the view, rotation in radians (3°). A linearisation is only
/// good near where it was taken.
const MAX_STEP: [f32; 5] = [0.1, 0.1, 0.1, 0.1, 0.052];

/// A step smaller than this in every parameter ends a level: shifts and
/// scales of 0.1% of the view, rotations of 0.03°.
const CONVERGED: [f32; 5] = [1e-3, 1e-3, 1e-3, 1e-3, 5e-4];

/// What sampling a view at `side`×`side` cells costs, in views of
/// 32×32 (`Descent::probes`): an 8×8 view is a sixteenth.
fn view_share(side: usize) -> f32 {
    (side * side) as f32 / (VERIFY_SIDE * VERIFY_SIDE) as f32
}

/// The 32×32 thumbnail averaged down to `side`×`side` cells.
fn pooled(q: &[f32], side: usize) -> Vec<f32> {
    if side >= VERIFY_SIDE {
        return q.to_vec();
    }
    let f = VERIFY_SIDE / side;
    let inv = 1.0 / (f * f) as f32;
    let mut out = vec![0f32; side * side];
    for y in 0..VERIFY_SIDE {
        for x in 0..VERIFY_SIDE {
            out[(y / f) * side + x / f] += q[y * VERIFY_SIDE + x];
        }
    }
    out.iter_mut().for_each(|v| *v *= inv);
    out
}

/// Difference of two grids over `2·eps`: how each cell centre moves with
/// one parameter (the grid is affine in the cell indices, so its three
/// vectors say it all).
fn grid_derivative(plus: &CellGrid, minus: &CellGrid, eps: f32) -> CellGrid {
    let d = |a: (f32, f32), b: (f32, f32)| ((a.0 - b.0) / (2.0 * eps), (a.1 - b.1) / (2.0 * eps));
    CellGrid {
        origin: d(plus.origin, minus.origin),
        step_u: d(plus.step_u, minus.step_u),
        step_v: d(plus.step_v, minus.step_v),
    }
}

/// The least-squares system of a Gauss–Newton step at one point of the
/// fit, undamped: built once per point, damped anew for each try.
struct System {
    h: [[f64; 7]; 7],
    g: [f64; 7],
}

impl System {
    /// The system at `p` (where the reference sampled as `t` with
    /// `coverage`), the worst-fitting `drop` of the cells left out, or
    /// `None` when the view is flat or degenerate.
    // Indices as in the matrix algebra they implement.
    #[allow(clippy::needless_range_loop)]
    fn at(
        start: &View,
        p: &[f32; 5],
        t: &[f32],
        coverage: &[f32],
        q: &[f32],
        side: usize,
        drop: f32,
    ) -> Option<System> {
        let n = side * side;
        if t.len() != n || q.len() != n || coverage.len() != n {
            return None;
        }
        // Cells judged: those mostly inside the reference, unless that leaves
        // fewer than half (as `verify::similarity` judges).
        let inside = coverage.iter().filter(|&&c| c >= 0.5).count();
        let use_all = inside == n || inside < n / 2;
        let judged: Vec<usize> = (0..n).filter(|&i| use_all || coverage[i] >= 0.5).collect();
        if judged.len() < 16 {
            return None;
        }
        // Gain and offset of the best fit q ≈ a·t + b over the judged cells,
        // then again without the worst-fitting share.
        let fit = |cells: &[usize]| -> Option<(f64, f64)> {
            let k = cells.len() as f64;
            let (mut st, mut sq) = (0f64, 0f64);
            for &i in cells {
                st += t[i] as f64;
                sq += q[i] as f64;
            }
            let (mt, mq) = (st / k, sq / k);
            let (mut stt, mut stq) = (0f64, 0f64);
            for &i in cells {
                let dt = t[i] as f64 - mt;
                stt += dt * dt;
                stq += dt * (q[i] as f64 - mq);
            }
            if stt < 1e-6 * k {
                return None;
            }
            let a = stq / stt;
            Some((a, mq - a * mt))
        };
        let (a, b) = fit(&judged)?;
        let mut by_residual: Vec<(f64, usize)> = judged
            .iter()
            .map(|&i| ((q[i] as f64 - a * t[i] as f64 - b).abs(), i))
            .collect();
        let keep = by_residual.len() - (by_residual.len() as f32 * drop.clamp(0.0, 0.5)) as usize;
        by_residual.select_nth_unstable_by(keep - 1, |x, y| x.0.total_cmp(&y.0));
        let kept: Vec<usize> = by_residual[..keep].iter().map(|&(_, i)| i).collect();
        let (a, b) = fit(&kept)?;
        if a.abs() < 1e-6 {
            return None;
        }
        // Where the cells lie and how they move with each parameter.
        let view = verify::nudged(start, p);
        let grid = CellGrid::of(&view, side, side);
        let eps = 1e-3f32;
        let moves: [CellGrid; 5] = std::array::from_fn(|k| {
            let (mut hi, mut lo) = (*p, *p);
            hi[k] += eps;
            lo[k] -= eps;
            grid_derivative(
                &CellGrid::of(&verify::nudged(start, &hi), side, side),
                &CellGrid::of(&verify::nudged(start, &lo), side, side),
                eps,
            )
        });
        // From a move on the plane to a move in cell units: the inverse of
        // the cell steps' matrix.
        let (u, v) = (grid.step_u, grid.step_v);
        let det = (u.0 * v.1 - v.0 * u.1) as f64;
        if det.abs() < 1e-9 {
            return None;
        }
        let inv = [
            [v.1 as f64 / det, -v.0 as f64 / det],
            [-u.1 as f64 / det, u.0 as f64 / det],
        ];
        let mut h = [[0f64; 7]; 7];
        let mut g = [0f64; 7];
        for &c in &kept {
            let (i, j) = (c % side, c / side);
            // The sampled view's gradient along its own cells.
            let at = |x: usize, y: usize| t[y * side + x] as f64;
            let gi = if i == 0 {
                at(1, j) - at(0, j)
            } else if i == side - 1 {
                at(i, j) - at(i - 1, j)
            } else {
                (at(i + 1, j) - at(i - 1, j)) / 2.0
            };
            let gj = if j == 0 {
                at(i, 1) - at(i, 0)
            } else if j == side - 1 {
                at(i, j) - at(i, j - 1)
            } else {
                (at(i, j + 1) - at(i, j - 1)) / 2.0
            };
            let mut row = [0f64; 7];
            for (k, m) in moves.iter().enumerate() {
                let (fi, fj) = (i as f64, j as f64);
                let dx = m.origin.0 as f64 + fi * m.step_u.0 as f64 + fj * m.step_v.0 as f64;
                let dy = m.origin.1 as f64 + fi * m.step_u.1 as f64 + fj * m.step_v.1 as f64;
                let di = inv[0][0] * dx + inv[0][1] * dy;
                let dj = inv[1][0] * dx + inv[1][1] * dy;
                row[k] = a * (gi * di + gj * dj);
            }
            row[5] = t[c] as f64;
            row[6] = 1.0;
            let r = q[c] as f64 - a * t[c] as f64 - b;
            for x in 0..7 {
                g[x] += row[x] * r;
                for y in x..7 {
                    h[x][y] += row[x] * row[y];
                }
            }
        }
        for x in 0..7 {
            for y in 0..x {
                h[x][y] = h[y][x];
            }
        }
        Some(System { h, g })
    }

    /// The step damped by `lambda` (Levenberg–Marquardt), each parameter's
    /// change bounded by [`MAX_STEP`], or `None` when the system is
    /// singular.
    fn step(&self, lambda: f64) -> Option<[f32; 5]> {
        let mut h = self.h;
        for (x, row) in h.iter_mut().enumerate() {
            row[x] *= 1.0 + lambda;
            row[x] += 1e-9;
        }
        let d = solve(h, self.g)?;
        let mut out = [0f32; 5];
        for (k, o) in out.iter_mut().enumerate() {
            if !d[k].is_finite() {
                return None;
            }
            *o = (d[k] as f32).clamp(-MAX_STEP[k], MAX_STEP[k]);
        }
        Some(out)
    }
}

/// Solves `h·x = g` (7×7) by Gaussian elimination with partial pivoting.
#[allow(clippy::needless_range_loop)]
fn solve(mut h: [[f64; 7]; 7], mut g: [f64; 7]) -> Option<[f64; 7]> {
    for col in 0..7 {
        let pivot = (col..7).max_by(|&x, &y| h[x][col].abs().total_cmp(&h[y][col].abs()))?;
        if h[pivot][col].abs() < 1e-12 {
            return None;
        }
        h.swap(col, pivot);
        g.swap(col, pivot);
        for r in col + 1..7 {
            let f = h[r][col] / h[col][col];
            for c in col..7 {
                h[r][c] -= f * h[col][c];
            }
            g[r] -= f * g[col];
        }
    }
    let mut x = [0f64; 7];
    for r in (0..7).rev() {
        let mut s = g[r];
        for c in r + 1..7 {
            s -= h[r][c] * x[c];
        }
        x[r] = s / h[r][r];
    }
    Some(x)
}

/// Aligns `start` on `reference` to `query_thumb` (32×32) by Gauss–Newton,
/// coarse to fine ([`SMOOTH_LEVELS`], or [`TEXTURED_LEVELS`] when the
/// start view, probed at 32×32 cells, holds [`super::TEXTURED_SAMPLES`]),
/// and scores the result as
/// [`verify::align`] scores its own: robust correlation of grey levels and
/// of detail at the view reached. `descent.probes` counts the views
/// sampled in 32×32 equivalents (an 8×8 view is a sixteenth).
pub fn align(reference: &Sampler, start: &View, query_thumb: &[f32]) -> Alignment {
    fit(reference, start, query_thumb, None, ROBUST_DROP)
}

/// [`align`] for a variant's own view, which the first stage found near
/// the photo: from 16×16 cells whatever the view ([`VARIANT_LEVELS`]),
/// and each step's system solved without the worst-fitting
/// [`VARIANT_DROP`] of the cells (an overlay and the misfit around it).
pub fn align_variant(reference: &Sampler, start: &View, query_thumb: &[f32]) -> Alignment {
    fit(
        reference,
        start,
        query_thumb,
        Some(&VARIANT_LEVELS),
        VARIANT_DROP,
    )
}

/// The fit of [`align`] at the given `levels` (else by the start view's
/// texture), each step's system solved without the worst-fitting `drop`
/// of the cells.
fn fit(
    sampler: &Sampler,
    start: &View,
    query_thumb: &[f32],
    levels: Option<&'static [(usize, usize)]>,
    drop: f32,
) -> Alignment {
    Fit::new(sampler, start, query_thumb, levels, drop).finish()
}

/// [`align`] begun: the levels before its last coarse one run (a smooth
/// view's 8×8 level; none for a textured view) and the view sampled at
/// the last coarse level's cells (16×16), no step of that level taken
/// yet. Where it stands there ([`Fit::similarity`]) says whether fitting
/// it further is worth it: [`Fit::run_coarse`] takes the steps of the
/// coarse levels, up to the last level (the 32×32 cells, which with the
/// full scoring after it are most of a fit's cost), and [`Fit::finish`]
/// the rest; the fit is the same as [`align`]'s however it was split.
pub fn align_coarse<'a>(
    reference: &'a Sampler<'a>,
    start: &View,
    query_thumb: &'a [f32],
) -> Fit<'a> {
    let mut f = Fit::new(reference, start, query_thumb, None, ROBUST_DROP);
    let coarse = f.levels.len().saturating_sub(1);
    f.run_levels(coarse.saturating_sub(1));
    if f.done < coarse {
        f.open_level();
    }
    f
}

/// A Gauss–Newton fit under way: the levels run so far and where they
/// ended, or where the next level begins ([`align_coarse`]), run to its
/// end by [`Fit::finish`].
pub struct Fit<'a> {
    sampler: &'a Sampler<'a>,
    start: View,
    query_thumb: &'a [f32],
    levels: &'static [(usize, usize)],
    drop: f32,
    descent: Descent,
    at: Point,
    cost: f32,
    /// Where the last level run began.
    level_start: [f32; 5],
    /// The levels run so far.
    done: usize,
    /// The photo's thumbnail pooled to the cells of the next level, when
    /// that level is open: its start sampled, no step taken yet
    /// ([`Fit::open_level`]).
    open: Option<Vec<f32>>,
}

impl<'a> Fit<'a> {
    /// A fit from `start`, no level run yet: at the given `levels`, else
    /// by the start view's texture on the probe sampling
    /// ([`SMOOTH_LEVELS`] or [`TEXTURED_LEVELS`]).
    fn new(
        sampler: &'a Sampler<'a>,
        start: &View,
        query_thumb: &'a [f32],
        levels: Option<&'static [(usize, usize)]>,
        drop: f32,
    ) -> Self {
        let mut at = Point::default();
        let mut cost = 0f32;
        let levels: &'static [(usize, usize)] = match levels {
            Some(levels) => levels,
            None => {
                // The start view's texture chooses the levels, on the
                // probe sampling (a quarter of the full one, and most of
                // the cost of beginning a retry's fit when it was full).
                sampler.probe_into(start, VERIFY_SIDE, VERIFY_SIDE, &mut at.t, &mut at.cov);
                cost += 1.0;
                if verify::independent_samples(&at.t, VERIFY_SIDE) >= super::TEXTURED_SAMPLES {
                    &TEXTURED_LEVELS
                } else {
                    &SMOOTH_LEVELS
                }
            }
        };
        Fit {
            sampler,
            start: *start,
            query_thumb,
            levels,
            drop,
            descent: Descent::default(),
            level_start: at.p,
            at,
            cost,
            done: 0,
            open: None,
        }
    }

    /// The robust correlation where the levels run so far ended, at the
    /// last one's cells and probe sampling, or where the open level
    /// begins, at its cells (0 before any level).
    pub fn similarity(&self) -> f32 {
        self.at.similarity
    }

    /// The view where the levels run so far ended.
    fn view(&self) -> View {
        verify::nudged(&self.start, &self.at.p)
    }

    /// Runs the levels not run yet and scores the view reached on the full
    /// sampling, as [`verify::align`] scores its own.
    pub fn finish(mut self) -> Alignment {
        self.run_levels(self.levels.len());
        self.descent.probes = self.cost.ceil() as u32;
        verify::finish(self.sampler, &self.view(), self.query_thumb, self.descent)
    }

    /// Takes the steps of the coarse levels not run yet: up to the last
    /// level (see [`align_coarse`]).
    pub fn run_coarse(&mut self) {
        self.run_levels(self.levels.len().saturating_sub(1));
    }

    /// The sampling of level `round`'s views: from 16×16 cells (about
    /// four plane pixels wide) probed with 2×2 sub-samples per cell (a
    /// quarter of the sampling), 8×8 cells with 4×4: sub-samples at most
    /// two plane pixels apart. The view reached is scored on the full
    /// sampling (`verify::finish`).
    fn sampling(&self, round: usize) -> impl Fn(&[f32; 5], &mut Vec<f32>, &mut Vec<f32>) + 'a {
        let (sampler, start) = (self.sampler, self.start);
        let side = self.levels[round].0;
        move |p, t, cov| {
            let view = verify::nudged(&start, p);
            if side >= PROBED_SIDE {
                sampler.probe_into(&view, side, side, t, cov)
            } else {
                sampler.sample_into(&view, side, side, t, cov)
            }
        }
    }

    /// Opens the next level: the view sampled at its cells where the
    /// previous level ended, or where it began if that fits better.
    fn open_level(&mut self) {
        let round = self.done;
        let side = self.levels[round].0;
        let q = pooled(self.query_thumb, side);
        let share = view_share(side);
        let sample = self.sampling(round);
        let at = &mut self.at;
        sample(&at.p, &mut at.t, &mut at.cov);
        self.cost += share;
        at.similarity = verify::similarity(&at.t, &at.cov, &q);
        // A coarser level can move to where its pooled cells fit better
        // and the finer cells fit worse (a dense texture averages out at
        // 16×16): a level goes on from the better of where the coarser
        // level ended and where it began.
        if round > 0 && self.level_start != at.p {
            at.try_move(self.level_start, &sample, &q);
            self.cost += share;
        }
        self.level_start = at.p;
        if round == 0 {
            self.descent.start_similarity = at.similarity;
        }
        self.open = Some(q);
    }

    /// Runs the levels from the next one up to (not including) `until`.
    fn run_levels(&mut self, until: usize) {
        let (start, drop) = (self.start, self.drop);
        while self.done < until.min(self.levels.len()) {
            let round = self.done;
            let (side, iters) = self.levels[round];
            let share = view_share(side);
            if self.open.is_none() {
                self.open_level();
            }
            let q = self.open.take().unwrap_or_default();
            let sample = self.sampling(round);
            let at = &mut self.at;
            let mut lambda = 1e-3f64;
            // The system at the point, built again only after the point moved.
            let (mut system, mut stale) = (None, true);
            for _ in 0..iters {
                self.descent.sweeps[round] += 1;
                if stale {
                    system = System::at(&start, &at.p, &at.t, &at.cov, &q, side, drop);
                    stale = false;
                }
                let Some(d) = system.as_ref().and_then(|s| s.step(lambda)) else {
                    break;
                };
                let mut np = at.p;
                for (x, dx) in np.iter_mut().zip(d) {
                    *x += dx;
                }
                let moved = at.try_move(np, &sample, &q);
                self.cost += share;
                if moved {
                    stale = true;
                    lambda = (lambda / 10.0).max(1e-6);
                    if d.iter().zip(CONVERGED).all(|(x, c)| x.abs() < c) {
                        break;
                    }
                } else {
                    // Too long a step: damp it and try again from the point.
                    lambda *= 10.0;
                    if lambda > 10.0 {
                        break;
                    }
                }
            }
            self.descent.round_best[round] = at.similarity;
            self.done += 1;
        }
    }
}

/// Where a fit stands: its parameters, the view sampled there with its
/// coverage and robust correlation, and a second pair of buffers to try
/// another point in.
#[derive(Default)]
struct Point {
    p: [f32; 5],
    t: Vec<f32>,
    cov: Vec<f32>,
    similarity: f32,
    t2: Vec<f32>,
    cov2: Vec<f32>,
}

impl Point {
    /// Samples `np` and moves there if its robust correlation with `q` is
    /// higher; whether it moved.
    fn try_move<F>(&mut self, np: [f32; 5], sample: &F, q: &[f32]) -> bool
    where
        F: Fn(&[f32; 5], &mut Vec<f32>, &mut Vec<f32>),
    {
        sample(&np, &mut self.t2, &mut self.cov2);
        let s = verify::similarity(&self.t2, &self.cov2, q);
        if s > self.similarity {
            self.p = np;
            self.similarity = s;
            std::mem::swap(&mut self.t, &mut self.t2);
            std::mem::swap(&mut self.cov, &mut self.cov2);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::imagehash::plane::{Plane, Rect};

    fn seed_plane(name: &str) -> Plane {
        let path = format!("{}/seeds/images/{name}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).unwrap();
        crate::judge::imagehash::decode::decode(&bytes, &path)
            .unwrap()
            .plane
    }

    type FitFn = fn(&Sampler, &View, &[f32]) -> Alignment;

    fn view(rect: Rect, deg: f32, mirrored: bool) -> View {
        View {
            rect,
            angle_rad: deg.to_radians(),
            mirrored,
        }
    }

    /// A photo's view moved by a known shift, scale and rotation (a copy
    /// cropped and rotated), aligned from the untouched view: the fit
    /// finds it, as the coordinate descent does, at a fraction of the
    /// views sampled.
    #[test]
    fn finds_a_known_shift_scale_and_rotation_on_real_photos() {
        for name in ["astronaut-poster.png", "espresso-cup.png"] {
            let plane = seed_plane(name);
            let full = plane.full_rect();
            let fits: [(&str, FitFn); 2] = [("retry", align), ("variant", align_variant)];
            for ((crop, deg, mirrored), (which, fit)) in [
                ((0.06, 0.02, 0.0, 0.05), 2.0f32, false),
                ((0.0, 0.04, 0.07, 0.0), -2.5, true),
                ((0.03, 0.03, 0.03, 0.03), 0.0, false),
            ]
            .into_iter()
            .flat_map(|c| fits.map(|f| (c, f)))
            {
                let name = format!("{name} ({which})");
                let copy = view(full.cropped(crop.0, crop.1, crop.2, crop.3), deg, mirrored);
                let thumb = plane.sample(&copy, VERIFY_SIDE, VERIFY_SIDE);
                let start = view(full, 0.0, mirrored);
                let before = verify::similarity(
                    &plane.sample(&start, VERIFY_SIDE, VERIFY_SIDE),
                    &[1.0; VERIFY_SIDE * VERIFY_SIDE],
                    &thumb,
                );
                let sampler = Sampler::new(&plane);
                let a = fit(&sampler, &start, &thumb);
                let descent = verify::align(&sampler, &start, &thumb);
                assert!(
                    a.similarity > 0.97 && a.similarity > before,
                    "{name} {crop:?} {deg}°: {} from {before}",
                    a.similarity
                );
                assert!(
                    a.detail > 0.85,
                    "{name} {crop:?} {deg}°: detail {}",
                    a.detail
                );
                let got = a.view.unwrap();
                assert!(
                    (got.angle_rad.to_degrees() - deg).abs() < 1.0,
                    "{name}: rotation {} for {deg}",
                    got.angle_rad.to_degrees()
                );
                let (gx, gy) = got.rect.centre();
                let (cx, cy) = copy.rect.centre();
                assert!(
                    (gx - cx).abs() < 1.5 && (gy - cy).abs() < 1.5,
                    "{name}: centre"
                );
                assert!(
                    (got.rect.width() - copy.rect.width()).abs() < 2.0
                        && (got.rect.height() - copy.rect.height()).abs() < 2.0,
                    "{name}: size {:?} for {:?}",
                    got.rect,
                    copy.rect
                );
                assert!(
                    a.descent.probes * 3 < descent.descent.probes,
                    "{name}: {} views against the descent's {}",
                    a.descent.probes,
                    descent.descent.probes
                );
            }
        }
    }

    /// A fit begun (stopped where its last coarse level begins) or
    /// stopped before its last level, and finished later, is the whole
    /// fit, to the bit; where it stood after its coarse levels is its
    /// 16×16 level's best, and a textured fit begun stands where it
    /// started: smooth and textured views (three levels and two), near
    /// and far starts.
    #[test]
    fn a_fit_finished_after_its_coarse_levels_is_the_whole_fit() {
        // Whether each fit ran three levels (a smooth start) or two.
        let mut levels = Vec::new();
        for name in ["astronaut-poster.png", "espresso-cup.png"] {
            let plane = seed_plane(name);
            let sampler = Sampler::new(&plane);
            let full = plane.full_rect();
            let copy = view(full.cropped(0.05, 0.0, 0.02, 0.06), 2.5, false);
            let thumb = plane.sample(&copy, VERIFY_SIDE, VERIFY_SIDE);
            for start in [
                view(full, 0.0, false),
                view(full.cropped(0.1, 0.1, 0.1, 0.1), -3.0, false),
                view(full, 3.0, true),
                view(full.cropped(0.3, 0.3, 0.0, 0.0), 0.0, false),
            ] {
                // Finished from where it was begun, or after its coarse
                // levels: the whole fit either way.
                let begun = align_coarse(&sampler, &start, &thumb);
                let began = begun.similarity();
                let whole = align(&sampler, &start, &thumb);
                assert_eq!(begun.finish(), whole, "{name} from {start:?}");
                let mut coarse = align_coarse(&sampler, &start, &thumb);
                coarse.run_coarse();
                let stood = coarse.similarity();
                assert_eq!(coarse.finish(), whole, "{name} from {start:?}");
                let d = whole.descent;
                let three = d.sweeps[2] > 0;
                levels.push(three);
                let coarse_best = if three {
                    d.round_best[1]
                } else {
                    d.round_best[0]
                };
                assert_eq!(
                    stood.to_bits(),
                    coarse_best.to_bits(),
                    "{name} from {start:?}"
                );
                assert!(stood > -1.0 && stood <= 1.0);
                // A two-level (textured) fit is begun where it starts.
                if !three {
                    assert_eq!(began.to_bits(), d.start_similarity.to_bits());
                }
                assert!(began > -1.0 && began <= 1.0);
            }
        }
        assert!(
            levels.contains(&true) && levels.contains(&false),
            "smooth and textured starts: {levels:?}"
        );
    }

    /// What no fit can use (a flat reference, a flat photo, a view far off
    /// the plane, a one-pixel plane) gives a finite, bounded result.
    #[test]
    fn degenerate_inputs_give_bounded_results() {
        let photo = seed_plane("rocket-launch-crop5.jpg");
        let thumb = photo.sample(
            &view(photo.full_rect(), 0.0, false),
            VERIFY_SIDE,
            VERIFY_SIDE,
        );
        let flat = Plane {
            width: 64,
            height: 64,
            data: vec![128.0; 64 * 64],
        };
        let tiny = Plane {
            width: 1,
            height: 1,
            data: vec![3.0],
        };
        let far = Rect {
            left: 500.0,
            top: -400.0,
            right: 520.0,
            bottom: -380.0,
        };
        let flat_thumb = vec![7.0; VERIFY_SIDE * VERIFY_SIDE];
        for (plane, start, q) in [
            (&flat, view(flat.full_rect(), 0.0, false), &thumb),
            (&photo, view(photo.full_rect(), 0.0, false), &flat_thumb),
            (&photo, view(far, 10.0, true), &thumb),
            (&tiny, view(tiny.full_rect(), 0.0, false), &thumb),
        ] {
            let a = align(&Sampler::new(plane), &start, q);
            assert!(a.similarity.is_finite() && a.similarity <= 1.0001);
            assert!(a.detail.is_finite() && a.detail <= 1.0001);
            assert!(a
                .view
                .is_some_and(|v| v.rect.left.is_finite() && v.angle_rad.is_finite()));
        }
    }

    #[test]
    fn solves_a_known_system() {
        let mut h = [[0f64; 7]; 7];
        for (i, row) in h.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = if i == j {
                    4.0
                } else {
                    1.0 / (1.0 + (i + j) as f64)
                };
            }
        }
        let x = [1.0, -2.0, 0.5, 3.0, 0.0, -1.0, 2.0];
        let g: [f64; 7] = std::array::from_fn(|i| (0..7).map(|j| h[i][j] * x[j]).sum());
        let got = solve(h, g).unwrap();
        for (a, b) in got.iter().zip(x) {
            assert!((a - b).abs() < 1e-9);
        }
        assert!(solve([[0.0; 7]; 7], [1.0; 7]).is_none());
    }
}
