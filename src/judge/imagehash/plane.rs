//! Grey-level working images ("planes"), area reduction, border trimming and
//! the affine sampler that turns a region of a plane into a small thumbnail.
//!
//! Every hash is computed from a thumbnail sampled out of a [`Plane`] through
//! a [`View`]: a possibly rotated, possibly mirrored rectangle in plane
//! coordinates. The query side only ever uses the whole plane (or its
//! trimmed part); the reference side also samples crops, rotations and the
//! mirror image, which is how the index tolerates what counterfeiters do to
//! official photos without paying for it per listing photo.

/// Longest side of a working plane, in pixels. A 32×32 thumbnail needs no
/// more; anything bigger is area-reduced to this first, so the sampler
/// always sees about one source pixel per sample.
pub const PLANE_MAX_SIDE_PX: u32 = 64;

/// A grey-level image, row-major, values 0.0–255.0.
#[derive(Debug, Clone, PartialEq)]
pub struct Plane {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl Plane {
    /// Builds a plane from interleaved 8-bit pixels with `channels` channels
    /// (1 = grey, 2 = grey+alpha, 3 = RGB, 4 = RGBA), composing alpha onto
    /// white, which is what a marketplace page shows behind a transparent
    /// product photo.
    pub fn from_interleaved(width: usize, height: usize, channels: usize, px: &[u8]) -> Plane {
        let mut data = Vec::with_capacity(width * height);
        match channels {
            1 => data.extend(px.iter().take(width * height).map(|&v| v as f32)),
            2 => data.extend(px.chunks_exact(2).take(width * height).map(|p| {
                let a = p[1] as f32 / 255.0;
                p[0] as f32 * a + 255.0 * (1.0 - a)
            })),
            3 => data.extend(
                px.chunks_exact(3)
                    .take(width * height)
                    .map(|p| luma(p[0], p[1], p[2])),
            ),
            _ => data.extend(px.chunks_exact(4).take(width * height).map(|p| {
                let a = p[3] as f32 / 255.0;
                luma(p[0], p[1], p[2]) * a + 255.0 * (1.0 - a)
            })),
        }
        // A short buffer (which decoders should never hand us) is padded
        // rather than indexed out of bounds.
        data.resize(width * height, 255.0);
        Plane {
            width,
            height,
            data,
        }
    }

    /// Area-averages the plane so that its longest side is at most
    /// `max_side` pixels (aspect ratio kept). Smaller planes are returned
    /// unchanged.
    pub fn reduced(self, max_side: u32) -> Plane {
        let max_side = max_side.max(1) as usize;
        let longest = self.width.max(self.height);
        if longest <= max_side || self.width == 0 || self.height == 0 {
            return self;
        }
        let scale = max_side as f64 / longest as f64;
        let nw = ((self.width as f64 * scale).round() as usize).max(1);
        let nh = ((self.height as f64 * scale).round() as usize).max(1);
        let horizontal = area_weights(self.width, nw);
        let vertical = area_weights(self.height, nh);
        // Rows first: width shrinks.
        let mut tmp = vec![0f32; nw * self.height];
        for y in 0..self.height {
            let row = &self.data[y * self.width..(y + 1) * self.width];
            for (x, taps) in horizontal.iter().enumerate() {
                tmp[y * nw + x] = taps.iter().map(|&(i, w)| row[i] * w).sum();
            }
        }
        // Then columns, a whole output row at a time (the same sums in the
        // same order, over contiguous rows, which the compiler vectorises).
        let mut data = vec![0f32; nw * nh];
        for (out, taps) in data.chunks_exact_mut(nw).zip(&vertical) {
            for &(i, w) in taps {
                for (o, &t) in out.iter_mut().zip(&tmp[i * nw..(i + 1) * nw]) {
                    *o += t * w;
                }
            }
        }
        Plane {
            width: nw,
            height: nh,
            data,
        }
    }

    fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }

    /// Bilinear sample at (x, y) in pixel-centre coordinates, clamped to
    /// the edge: a rotated view's corners repeat the border instead of
    /// inventing a colour. The rotated sampler inlines it; the tests hold
    /// that sampler to it.
    #[cfg(test)]
    fn bilinear(&self, x: f32, y: f32) -> f32 {
        let maxx = (self.width - 1) as f32;
        let maxy = (self.height - 1) as f32;
        let x = x.clamp(0.0, maxx);
        let y = y.clamp(0.0, maxy);
        // Non-negative after the clamp, so truncation is the floor (and
        // does not call libm's floorf, which baseline x86-64 lacks an
        // instruction for: 12% of a lookup's time).
        let x0 = x as usize;
        let y0 = y as usize;
        let fx = x - x0 as f32;
        let fy = y - y0 as f32;
        let x1 = (x0 + 1).min(self.width - 1);
        let y1 = (y0 + 1).min(self.height - 1);
        let top = self.at(x0, y0) * (1.0 - fx) + self.at(x1, y0) * fx;
        let bottom = self.at(x0, y1) * (1.0 - fx) + self.at(x1, y1) * fx;
        top * (1.0 - fy) + bottom * fy
    }

    /// The part of the plane left after trimming uniform borders (padding,
    /// letterbox bars, the plain background a product is shot on), as a
    /// rectangle `(left, top, right, bottom)` in pixel edges. `None` when
    /// nothing was trimmed.
    pub fn trimmed_rect(&self) -> Option<Rect> {
        self.trimmed_rect_at(TRIM_MIN_SHARE, false)
    }

    /// [`Plane::trimmed_rect`] with a line counted as border when half of
    /// it (between the sides trimmed so far) is border-coloured
    /// ([`LOOSE_TRIM_MIN_SHARE`]): a banner or logo
    /// stamped across the padding stops the strict trim, which leaves the
    /// padding in the hash; this one trims past it. On a photo without
    /// padding it can also cut into a plain background, so it is only an
    /// extra view of a listing photo for partial lookups, never the one
    /// hashed.
    ///
    /// Each side it trims loses one more line: the first line inside a
    /// trim is a blend of border and photo (the photo's edge rarely falls
    /// on a pixel edge of the reduced plane), and on a texture that one
    /// bright or dark line moves the hash of a part by 10-20 bits.
    pub fn loose_trimmed_rect(&self) -> Option<Rect> {
        let r = self.trimmed_rect_at(LOOSE_TRIM_MIN_SHARE, true)?;
        let (w, h) = (self.width as f32, self.height as f32);
        let shave = |trimmed: bool| if trimmed { 1.0 } else { 0.0 };
        let r = Rect {
            left: r.left + shave(r.left > 0.0),
            top: r.top + shave(r.top > 0.0),
            right: r.right - shave(r.right < w),
            bottom: r.bottom - shave(r.bottom < h),
        };
        (r.width() >= 4.0 && r.height() >= 4.0).then_some(r)
    }

    /// The trim at `min_share`. With `within`, a row is judged only
    /// between the columns trimmed so far and a column between the rows,
    /// repeated until nothing changes: a letterboxed photo (bars above and
    /// below it covering half of every column) then keeps its sides.
    fn trimmed_rect_at(&self, min_share: f32, within: bool) -> Option<Rect> {
        if self.width < 8 || self.height < 8 {
            return None;
        }
        let (w, h) = (self.width, self.height);
        // Never trim more than 40% from one side: a "border" that big is
        // the photo itself (sky, a studio wall).
        let max_x = w * 2 / 5;
        let max_y = h * 2 / 5;
        let (mut top, mut bottom, mut left, mut right) = (0, 0, 0, 0);
        for _ in 0..if within { 4 } else { 1 } {
            let (x0, x1) = (left, w - right);
            let row = |y: usize| self.data[y * w + x0..y * w + x1].to_vec();
            let t = trim_side(max_y, min_share, row);
            let b = trim_side(max_y, min_share, |i| row(h - 1 - i));
            let (y0, y1) = if within { (t, h - b) } else { (0, h) };
            let column = |x: usize| (y0..y1).map(|y| self.at(x, y)).collect::<Vec<f32>>();
            let l = trim_side(max_x, min_share, column);
            let r = trim_side(max_x, min_share, |i| column(w - 1 - i));
            let done = (t, b, l, r) == (top, bottom, left, right);
            (top, bottom, left, right) = (t, b, l, r);
            if done {
                break;
            }
        }
        if top + bottom + left + right == 0 {
            return None;
        }
        // Leftovers thinner than a few pixels are noise, not a photo.
        if w - left - right < 4 || h - top - bottom < 4 {
            return None;
        }
        Some(Rect {
            left: left as f32,
            top: top as f32,
            right: (w - right) as f32,
            bottom: (h - bottom) as f32,
        })
    }

    /// The trimmed part ([`Plane::trimmed_rect`]) when `trimmed` and there
    /// is a border, else the whole plane: the base a reference view is
    /// taken on.
    pub fn base_rect(&self, trimmed: bool) -> Rect {
        trimmed
            .then(|| self.trimmed_rect())
            .flatten()
            .unwrap_or(self.full_rect())
    }

    /// The whole plane as a rectangle.
    pub fn full_rect(&self) -> Rect {
        Rect {
            left: 0.0,
            top: 0.0,
            right: self.width as f32,
            bottom: self.height as f32,
        }
    }

    /// Samples `view` into an `out_w`×`out_h` grid, each cell the mean of
    /// 4×4 bilinear samples (a cheap area filter, so that a 100-pixel
    /// plane and a 128-pixel plane give the same thumbnail).
    pub fn sample(&self, view: &View, out_w: usize, out_h: usize) -> Vec<f32> {
        self.sample_with_coverage(view, out_w, out_h).0
    }

    /// [`Plane::sample`], plus for each sample the share of its
    /// sub-samples that fell inside the plane (1.0 = fully inside). A view
    /// rotated or shifted past the plane's edge samples clamped edge
    /// pixels there; a copy rotated on its own canvas has fill colour in
    /// those places instead, so they carry no evidence either way.
    pub fn sample_with_coverage(
        &self,
        view: &View,
        out_w: usize,
        out_h: usize,
    ) -> (Vec<f32>, Vec<f32>) {
        let (mut out, mut coverage) = (Vec::new(), Vec::new());
        self.sample_with_coverage_into(view, out_w, out_h, &mut out, &mut coverage);
        (out, coverage)
    }

    /// [`Plane::sample_with_coverage`] into buffers the caller keeps
    /// (cleared first): an alignment samples a view for every probe, and
    /// with its working buffers reused as well (per thread), a rotated
    /// probe allocates nothing. Allocations in that loop were what made
    /// matching threads wait on each other when the allocator keeps one
    /// arena (BENCHMARKS.md "Stop 35").
    pub fn sample_with_coverage_into(
        &self,
        view: &View,
        out_w: usize,
        out_h: usize,
        out: &mut Vec<f32>,
        coverage: &mut Vec<f32>,
    ) {
        self.sample_sub_into(view, out_w, out_h, SUB, None, out, coverage);
    }

    /// Either sampling, `sub`×`sub` sub-samples per cell; a rotated view
    /// on `quads` ([`Plane::quads_into`] of this plane) when given.
    #[allow(clippy::too_many_arguments)]
    fn sample_sub_into(
        &self,
        view: &View,
        out_w: usize,
        out_h: usize,
        sub: usize,
        quads: Option<&[[f32; 4]]>,
        out: &mut Vec<f32>,
        coverage: &mut Vec<f32>,
    ) {
        out.clear();
        coverage.clear();
        if view.angle_rad == 0.0 {
            self.sample_axis_aligned(view, out_w, out_h, sub, out, coverage);
        } else {
            self.sample_rotated(view, out_w, out_h, sub, quads, out, coverage);
        }
    }

    /// The general sampler: `sub`×`sub` bilinear sub-samples per cell
    /// through the view's rotation, on `quads` or else on the plane's
    /// quads made for this call ([`Sampler`] keeps them across an
    /// alignment's probes).
    #[allow(clippy::too_many_arguments)]
    fn sample_rotated(
        &self,
        view: &View,
        out_w: usize,
        out_h: usize,
        sub: usize,
        quads: Option<&[[f32; 4]]>,
        out: &mut Vec<f32>,
        coverage: &mut Vec<f32>,
    ) {
        ROTATED_SCRATCH.with_borrow_mut(|scratch| {
            let RotatedScratch { quads: own, fill } = scratch;
            let quads = match quads {
                Some(quads) => quads,
                None if self.quads_into(own) => own,
                None => {
                    out.resize(out_w * out_h, 0.0);
                    coverage.resize(out_w * out_h, 0.0);
                    return;
                }
            };
            self.fill_rotated_from(quads, view, out_w, out_h, sub, fill, out, coverage);
        });
    }

    /// Writes into `quads`, for every pixel, the four pixels a bilinear
    /// tap there reads: the pixel, its right neighbour, the one below and
    /// the one below right, the last column and row repeated past the
    /// edge (the very pixels the clamped [`Plane::bilinear`] reads, so the
    /// samples are the same to the bit; a unit test compares them). The
    /// rotated sampler then fetches a tap's four pixels in one read of 16
    /// contiguous bytes, not two reads a row apart (about 15% of the
    /// sampler's time, BENCHMARKS.md "stop 46"). False for an empty or
    /// short plane, which samples as nothing.
    fn quads_into(&self, quads: &mut Vec<[f32; 4]>) -> bool {
        let (w, h) = (self.width, self.height);
        quads.clear();
        if w == 0 || h == 0 || self.data.len() < w * h {
            return false;
        }
        let d = &self.data[..w * h];
        for y in 0..h {
            let (row, below) = (&d[y * w..(y + 1) * w], &d[(y + 1).min(h - 1) * w..][..w]);
            for x in 0..w {
                let right = (x + 1).min(w - 1);
                quads.push([row[x], row[right], below[x], below[right]]);
            }
        }
        true
    }

    /// The rotated sampler on `quads` ([`Plane::quads_into`] of this plane).
    #[allow(clippy::too_many_arguments)]
    fn fill_rotated_from(
        &self,
        quads: &[[f32; 4]],
        view: &View,
        out_w: usize,
        out_h: usize,
        sub: usize,
        fill: &mut FillScratch,
        out: &mut Vec<f32>,
        coverage: &mut Vec<f32>,
    ) {
        let (w, h) = (self.width, self.height);
        let rows = RotatedRows {
            quads,
            pw: w,
            grid: SubSampleGrid::of(view, out_w, out_h, sub),
            max: (w as f32 - 0.5, h as f32 - 0.5),
            last: ((w - 1) as f32, (h - 1) as f32),
            out_w,
            out_h,
            sub,
        };
        fill_rotated(&rows, fill, out, coverage);
    }

    /// [`Plane::sample_with_coverage`] for an unrotated view: the same 4×4
    /// bilinear sub-samples per cell, computed as two separable passes
    /// (each cell's horizontal and vertical taps are independent when the
    /// view is not rotated), several times cheaper. Every query photo and
    /// most reference variants are unrotated.
    fn sample_axis_aligned(
        &self,
        view: &View,
        out_w: usize,
        out_h: usize,
        sub: usize,
        out: &mut Vec<f32>,
        coverage: &mut Vec<f32>,
    ) {
        let hw = view.rect.width() / 2.0;
        let hh = view.rect.height() / 2.0;
        let (cx, cy) = view.rect.centre();
        let mirror = if view.mirrored { -1.0 } else { 1.0 };
        AXIS_SCRATCH.with_borrow_mut(|scratch| {
            let AxisScratch { xs, ys, rows, have } = scratch;
            // Per output column (row): the source taps and how many of the
            // sub-samples fell inside the plane.
            axis_taps(xs, out_w, self.width, cx, hw, mirror, sub);
            axis_taps(ys, out_h, self.height, cy, hh, 1.0, sub);
            // Horizontal pass over the rows the vertical taps use.
            rows.clear();
            rows.resize(self.height * out_w, 0.0);
            have.clear();
            have.resize(self.height, false);
            for t in ys.iter() {
                for &(py, _) in t.taps() {
                    if !have[py] {
                        have[py] = true;
                        let line = &self.data[py * self.width..(py + 1) * self.width];
                        for (r, tx) in rows[py * out_w..(py + 1) * out_w].iter_mut().zip(xs.iter())
                        {
                            *r = tx.taps().iter().map(|&(px, w)| line[px] * w).sum();
                        }
                    }
                }
            }
            let inv = 1.0 / (sub * sub) as f32;
            for ty in ys.iter() {
                for (i, tx) in xs.iter().enumerate() {
                    out.push(
                        ty.taps()
                            .iter()
                            .map(|&(py, w)| rows[py * out_w + i] * w)
                            .sum(),
                    );
                    coverage.push((tx.inside * ty.inside) as f32 * inv);
                }
            }
        });
    }
}

/// A plane sampled many times over, as an alignment probes it: its
/// quads for the rotated sampler ([`Plane::quads_into`]) are made once,
/// not for every probe (at 2×2 sub-samples copying the plane was a fifth
/// of a probe).
/// Its samples are those of [`Plane::sample_with_coverage_into`] to the
/// bit; its probes sample more coarsely ([`Sampler::probe_into`]).
pub struct Sampler<'a> {
    plane: &'a Plane,
    /// The plane's quads, or `None` for a plane that samples as nothing.
    quads: Option<Vec<[f32; 4]>>,
}

impl<'a> Sampler<'a> {
    pub fn new(plane: &'a Plane) -> Self {
        let mut quads = Vec::new();
        let quads = plane.quads_into(&mut quads).then_some(quads);
        Sampler { plane, quads }
    }

    /// The plane sampled.
    pub fn plane(&self) -> &'a Plane {
        self.plane
    }

    /// [`Plane::sample_with_coverage_into`].
    pub fn sample_into(
        &self,
        view: &View,
        out_w: usize,
        out_h: usize,
        out: &mut Vec<f32>,
        coverage: &mut Vec<f32>,
    ) {
        self.plane.sample_sub_into(
            view,
            out_w,
            out_h,
            SUB,
            self.quads.as_deref(),
            out,
            coverage,
        );
    }

    /// [`Plane::sample`].
    pub fn sample(&self, view: &View, out_w: usize, out_h: usize) -> Vec<f32> {
        let (mut out, mut coverage) = (Vec::new(), Vec::new());
        self.sample_into(view, out_w, out_h, &mut out, &mut coverage);
        out
    }

    /// [`Sampler::sample_into`] with [`PROBE_SUB`]×[`PROBE_SUB`]
    /// sub-samples per cell instead of 4×4: the view an alignment probes
    /// while it searches (a quarter of the sampling). The alignment it
    /// settles on is scored on the full sampling.
    pub fn probe_into(
        &self,
        view: &View,
        out_w: usize,
        out_h: usize,
        out: &mut Vec<f32>,
        coverage: &mut Vec<f32>,
    ) {
        let quads = self.quads.as_deref();
        self.plane
            .sample_sub_into(view, out_w, out_h, PROBE_SUB, quads, out, coverage);
    }
}

/// One output column's (or row's) source taps in the unrotated sampler,
/// in the order they were first met (which the sums keep), and how many
/// of its sub-samples fell inside the plane.
#[derive(Clone, Copy)]
struct AxisTaps {
    taps: [(usize, f32); 2 * SUB],
    len: usize,
    inside: u32,
}

impl AxisTaps {
    fn taps(&self) -> &[(usize, f32)] {
        &self.taps[..self.len]
    }
}

/// The taps of `n_out` outputs over a line of `len` pixels, about `centre`
/// with half-width `half`, mirrored when `sign` is −1.
fn axis_taps(
    out: &mut Vec<AxisTaps>,
    n_out: usize,
    len: usize,
    centre: f32,
    half: f32,
    sign: f32,
    sub: usize,
) {
    let max = len as f32 - 0.5;
    let last = (len - 1) as f32;
    out.clear();
    for i in 0..n_out {
        let mut t = AxisTaps {
            taps: [(0, 0.0); 2 * SUB],
            len: 0,
            inside: 0,
        };
        for si in 0..sub {
            let u = ((i * sub + si) as f32 + 0.5) / (n_out * sub) as f32 * 2.0 - 1.0;
            let x = centre + sign * u * half - 0.5;
            t.inside += u32::from((-0.5..=max).contains(&x));
            let xc = x.clamp(0.0, last);
            let x0 = xc as usize; // the floor: xc >= 0
            let f = xc - x0 as f32;
            let x1 = (x0 + 1).min(len - 1);
            // Each sub-sample adds at most two new taps.
            for (k, w) in [(x0, 1.0 - f), (x1, f)] {
                let n = t.len;
                match t.taps[..n].iter_mut().find(|(j, _)| *j == k) {
                    Some(e) => e.1 += w / sub as f32,
                    None => {
                        t.taps[n] = (k, w / sub as f32);
                        t.len += 1;
                    }
                }
            }
        }
        out.push(t);
    }
}

/// The unrotated sampler's working buffers, kept per thread: the taps of
/// each output column and row, and the horizontal pass's rows (`have`:
/// which were computed).
#[derive(Default)]
struct AxisScratch {
    xs: Vec<AxisTaps>,
    ys: Vec<AxisTaps>,
    rows: Vec<f32>,
    have: Vec<bool>,
}

thread_local! {
    static AXIS_SCRATCH: std::cell::RefCell<AxisScratch> =
        std::cell::RefCell::new(AxisScratch::default());
}

/// Where a rotated view's sub-samples fall on the plane: the one at grid
/// position (gx, gy) (`SUB` per cell along each axis) maps affinely to
/// `origin + gx·step_u + gy·step_v`, in pixel-centre coordinates.
struct SubSampleGrid {
    origin: (f32, f32),
    step_u: (f32, f32),
    step_v: (f32, f32),
}

impl SubSampleGrid {
    fn of(view: &View, out_w: usize, out_h: usize, sub: usize) -> Self {
        let (cos, sin) = (view.angle_rad.cos(), view.angle_rad.sin());
        let hw = view.rect.width() / 2.0;
        let hh = view.rect.height() / 2.0;
        let (cx, cy) = view.rect.centre();
        let mirror = if view.mirrored { -1.0 } else { 1.0 };
        let (du, dv) = (2.0 / (out_w * sub) as f32, 2.0 / (out_h * sub) as f32);
        // u = v = -1 + half a step: the first sub-sample's centre.
        let (u0, v0) = (-1.0 + du / 2.0, -1.0 + dv / 2.0);
        SubSampleGrid {
            origin: (
                cx + mirror * u0 * hw * cos - v0 * hh * sin - 0.5,
                cy + mirror * u0 * hw * sin + v0 * hh * cos - 0.5,
            ),
            step_u: (mirror * du * hw * cos, mirror * du * hw * sin),
            step_v: (-dv * hh * sin, dv * hh * cos),
        }
    }
}

/// Where the cells of a view sampled at `out_w`×`out_h` lie on the plane:
/// the centre of cell (i, j) is `origin + i·step_u + j·step_v`, in the
/// pixel-centre coordinates the sampler reads at (the mean of its 4×4
/// sub-samples' positions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellGrid {
    pub origin: (f32, f32),
    pub step_u: (f32, f32),
    pub step_v: (f32, f32),
}

impl CellGrid {
    pub fn of(view: &View, out_w: usize, out_h: usize) -> Self {
        let g = SubSampleGrid::of(view, out_w, out_h, SUB);
        let s = SUB as f32;
        let c = (s - 1.0) / 2.0;
        CellGrid {
            origin: (
                g.origin.0 + c * (g.step_u.0 + g.step_v.0),
                g.origin.1 + c * (g.step_u.1 + g.step_v.1),
            ),
            step_u: (s * g.step_u.0, s * g.step_u.1),
            step_v: (s * g.step_v.0, s * g.step_v.1),
        }
    }
}

/// The rotated sampler's working buffers, kept per thread: the plane's
/// quads ([`Plane::quads_into`]) and [`FillScratch`].
#[derive(Default)]
struct RotatedScratch {
    quads: Vec<[f32; 4]>,
    fill: FillScratch,
}

/// [`fill_rotated`]'s per-row buffers, one entry per output column.
#[derive(Default)]
struct FillScratch {
    acc: Vec<f32>,
    inside: Vec<u32>,
    xs: Vec<f32>,
    ys: Vec<f32>,
    at: Vec<u32>,
    taps: Vec<[f32; 4]>,
}

thread_local! {
    static ROTATED_SCRATCH: std::cell::RefCell<RotatedScratch> =
        std::cell::RefCell::new(RotatedScratch::default());
}

/// What the rotated sampler's inner loops read: the plane's quads
/// and where the view's sub-samples fall ([`Plane::sample_with_coverage`]).
struct RotatedRows<'a> {
    quads: &'a [[f32; 4]],
    /// The plane's width: a pixel's offset is its row times this plus
    /// its column.
    pw: usize,
    grid: SubSampleGrid,
    max: (f32, f32),
    last: (f32, f32),
    out_w: usize,
    out_h: usize,
    /// Sub-samples per cell along each axis.
    sub: usize,
}

/// The rotated sampler's inner loops: appends the samples and their
/// coverage, row by row. Compiled twice, plain and for AVX2 (which runs
/// eight cells at a time through the position, clamp and interpolation
/// arithmetic), and the one the CPU supports is chosen at run time
/// (`multiversion`). Both do the same operations in the same order (AVX2
/// only, no fused multiply-add), so the samples are the same to the bit.
#[multiversion::multiversion(targets("x86_64+avx2"))]
fn fill_rotated(
    rows: &RotatedRows,
    scratch: &mut FillScratch,
    out: &mut Vec<f32>,
    coverage: &mut Vec<f32>,
) {
    // Per cell row: the sum of its sub-samples and how many were
    // inside. Each cell adds its sub-samples in the order of the plain
    // sampler (row of sub-samples by row, left to right), but the
    // loops run across the row's cells innermost, one sub-sample
    // position at a time: the cells are independent, so the position,
    // clamp, floor and interpolation arithmetic runs on several cells at
    // once (the compiler vectorises it), and every sum is the same to the
    // bit. Only the fetch of each sub-sample's four pixels is scalar: it
    // reads precomputed offsets and nothing else (the float-to-integer
    // conversions it did before were most of the sampler's time, perf at
    // 44 references: BENCHMARKS.md "Sixth step (stop 33)").
    let (out_w, out_h, pw, sub) = (rows.out_w, rows.out_h, rows.pw, rows.sub);
    let ((maxx, maxy), (lastx, lasty)) = (rows.max, rows.last);
    let inv = 1.0 / (sub * sub) as f32;
    // The largest offset a clamped position gives: the last quad (the
    // slice ends there, so the fetches below need no bounds check).
    let last_offset = (lasty as usize) * pw + lastx as usize;
    debug_assert_eq!(last_offset + 1, rows.quads.len());
    let quads = rows.quads.get(..=last_offset).unwrap_or(rows.quads);
    let Some(last_offset) = quads.len().checked_sub(1) else {
        // No plane: nothing is inside (`Plane::quads_into` said so first).
        out.resize(out.len() + out_w * out_h, 0.0);
        coverage.resize(coverage.len() + out_w * out_h, 0.0);
        return;
    };
    // The buffers are taken out of the scratch and put back at the end.
    // Every element is written before it is read (`acc` and `inside` at
    // each row's start, the rest at each sub-sample position).
    let FillScratch {
        mut acc,
        mut inside,
        mut xs,
        mut ys,
        mut at,
        mut taps,
    } = std::mem::take(scratch);
    acc.resize(out_w, 0.0);
    inside.resize(out_w, 0);
    xs.resize(out_w, 0.0);
    ys.resize(out_w, 0.0);
    at.resize(out_w, 0);
    taps.resize(out_w, [0.0; 4]);
    for j in 0..out_h {
        acc.iter_mut().for_each(|a| *a = 0.0);
        inside.iter_mut().for_each(|n| *n = 0);
        for sj in 0..sub {
            let gy = (j * sub + sj) as f32;
            let (rx, ry) = (
                rows.grid.origin.0 + gy * rows.grid.step_v.0,
                rows.grid.origin.1 + gy * rows.grid.step_v.1,
            );
            for si in 0..sub {
                // Computed afresh, not stepped: no rounding drift.
                for (i, (((x, y), n), k)) in xs
                    .iter_mut()
                    .zip(&mut ys)
                    .zip(&mut inside)
                    .zip(&mut at)
                    .enumerate()
                {
                    let gx = (i * sub + si) as i32 as f32;
                    (*x, *y) = (rx + gx * rows.grid.step_u.0, ry + gx * rows.grid.step_u.1);
                    *n += u32::from((-0.5..=maxx).contains(x) && (-0.5..=maxy).contains(y));
                    let (cx, cy) = (x.clamp(0.0, lastx), y.clamp(0.0, lasty));
                    // Non-negative after the clamp, so the floor is the
                    // truncation the plain sampler's `as usize` does. The
                    // floor's integer is read off its bits (exact below
                    // 2^23, and a plane is a few hundred pixels at most):
                    // a float-to-integer cast does not vectorise.
                    let (fx, fy) = (cx.floor(), cy.floor());
                    // Wrapping: a NaN position (a degenerate view) must
                    // not overflow; its offset is bounded below.
                    *k = int_bits(fy)
                        .wrapping_mul(pw as u32)
                        .wrapping_add(int_bits(fx));
                    // From here on only the fractions are needed.
                    (*x, *y) = (cx - fx, cy - fy);
                }
                // The four taps in one read.
                for (t, &k) in taps.iter_mut().zip(&at) {
                    *t = quads[(k as usize).min(last_offset)];
                }
                for (((a, &fx), &fy), t) in acc.iter_mut().zip(&xs).zip(&ys).zip(&taps) {
                    let top = t[0] * (1.0 - fx) + t[1] * fx;
                    let bottom = t[2] * (1.0 - fx) + t[3] * fx;
                    *a += top * (1.0 - fy) + bottom * fy;
                }
            }
        }
        out.extend(acc.iter().map(|a| a * inv));
        coverage.extend(inside.iter().map(|&n| n as f32 * inv));
    }
    *scratch = FillScratch {
        acc,
        inside,
        xs,
        ys,
        at,
        taps,
    };
}

/// The integer of a whole, non-negative float below 2^23, from its bits:
/// adding 2^23 puts it in the mantissa's low bits (no rounding: it is
/// whole). A bit cast vectorises where a float-to-integer cast does not.
/// Anything else (NaN) gives some integer below 2^23, which the caller
/// bounds.
#[inline(always)]
fn int_bits(whole: f32) -> u32 {
    (whole + 8_388_608.0).to_bits() & 0x007f_ffff
}

/// Bilinear sub-samples per thumbnail cell, along each axis.
const SUB: usize = 4;

/// Sub-samples per cell, along each axis, of the views an alignment
/// probes while it searches ([`Sampler::probe_into`]).
pub const PROBE_SUB: usize = 2;

/// Rec. 601 luma, the grey that JPEG itself stores.
fn luma(r: u8, g: u8, b: u8) -> f32 {
    0.299 * r as f32 + 0.587 * g as f32 + 0.114 * b as f32
}

/// For each output index, the (input index, weight) taps of an exact area
/// average from `from` samples to `to` samples.
fn area_weights(from: usize, to: usize) -> Vec<Vec<(usize, f32)>> {
    let ratio = from as f64 / to as f64;
    (0..to)
        .map(|o| {
            let start = o as f64 * ratio;
            let end = (o + 1) as f64 * ratio;
            let mut taps = Vec::new();
            let mut i = start.floor() as usize;
            while (i as f64) < end && i < from {
                let lo = start.max(i as f64);
                let hi = end.min((i + 1) as f64);
                if hi > lo {
                    taps.push((i, ((hi - lo) / ratio) as f32));
                }
                i += 1;
            }
            taps
        })
        .collect()
}

/// How far the pixels of a line may stray from the border colour and still
/// count as border: JPEG ringing and noise on a plain background stay
/// inside this.
const TRIM_TOLERANCE: f32 = 14.0;
/// Share of a line that must be border-coloured (text or a logo stamped in
/// the padding should not stop the trim).
const TRIM_MIN_SHARE: f32 = 0.97;
/// Share of a line that must be border-coloured for
/// [`Plane::loose_trimmed_rect`]: a banner over the padding covers at most
/// half a line in the evaluation (40-90% of the width, across a side's
/// padding only where it sticks out of the photo).
pub const LOOSE_TRIM_MIN_SHARE: f32 = 0.5;

/// Counts uniform lines from one side inwards, all of the colour of the
/// outermost line (its median).
fn trim_side(max: usize, min_share: f32, line: impl Fn(usize) -> Vec<f32>) -> usize {
    let first = line(0);
    let colour = median(&first);
    let mut n = 0;
    while n < max {
        let l = line(n);
        let near = l
            .iter()
            .filter(|&&v| (v - colour).abs() <= TRIM_TOLERANCE)
            .count();
        if (near as f32) < min_share * l.len() as f32 {
            break;
        }
        n += 1;
    }
    n
}

fn median(v: &[f32]) -> f32 {
    let mut s = v.to_vec();
    s.sort_unstable_by(|a, b| a.total_cmp(b));
    s.get(s.len() / 2).copied().unwrap_or(0.0)
}

/// An axis-aligned rectangle in plane pixel-edge coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub left: f32,
    pub top: f32,
    pub right: f32,
    pub bottom: f32,
}

impl Rect {
    pub fn width(&self) -> f32 {
        self.right - self.left
    }
    pub fn height(&self) -> f32 {
        self.bottom - self.top
    }
    pub fn centre(&self) -> (f32, f32) {
        (
            (self.left + self.right) / 2.0,
            (self.top + self.bottom) / 2.0,
        )
    }
    /// The rectangle with fractions of its width/height removed per side.
    pub fn cropped(&self, left: f32, top: f32, right: f32, bottom: f32) -> Rect {
        let (w, h) = (self.width(), self.height());
        Rect {
            left: self.left + left * w,
            top: self.top + top * h,
            right: self.right - right * w,
            bottom: self.bottom - bottom * h,
        }
    }
}

/// What the sampler looks at: a rectangle, rotated about its centre by
/// `angle_rad`, optionally mirrored left-right.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    pub rect: Rect,
    pub angle_rad: f32,
    pub mirrored: bool,
}

impl View {
    /// The same view scaled by `factor` about its centre.
    pub fn widened(&self, factor: f32) -> View {
        let (cx, cy) = self.rect.centre();
        let (hw, hh) = (
            self.rect.width() * factor / 2.0,
            self.rect.height() * factor / 2.0,
        );
        View {
            rect: Rect {
                left: cx - hw,
                top: cy - hh,
                right: cx + hw,
                bottom: cy + hh,
            },
            ..*self
        }
    }

    pub fn of(rect: Rect) -> View {
        View {
            rect,
            angle_rad: 0.0,
            mirrored: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A w×h plane of scrambled grey levels.
    fn scrambled_plane(w: usize, h: usize, seed: u64) -> Plane {
        let data = (0..w * h)
            .map(|i| ((i as u64 * 2654435761 + seed) % 256) as f32)
            .collect();
        Plane {
            width: w,
            height: h,
            data,
        }
    }

    /// A view whose sides lie at the given shares `[left, top, right,
    /// bottom]` of the plane's width and height.
    fn view_by_shares(p: &Plane, shares: [f32; 4], angle_rad: f32, mirrored: bool) -> View {
        let (w, h) = (p.width as f32, p.height as f32);
        View {
            rect: Rect {
                left: shares[0] * w,
                top: shares[1] * h,
                right: shares[2] * w,
                bottom: shares[3] * h,
            },
            angle_rad,
            mirrored,
        }
    }

    /// The rotated sampler written plainly: every one of `sub`×`sub`
    /// sub-samples per cell through [`Plane::bilinear`], summed in the
    /// same order.
    fn plain_rotated_sample(
        p: &Plane,
        view: &View,
        out_w: usize,
        out_h: usize,
        sub: usize,
    ) -> Vec<f32> {
        let SubSampleGrid {
            origin,
            step_u,
            step_v,
        } = SubSampleGrid::of(view, out_w, out_h, sub);
        let mut out = Vec::new();
        for j in 0..out_h {
            let mut acc = vec![0f32; out_w];
            for sj in 0..sub {
                let gy = (j * sub + sj) as f32;
                let (rx, ry) = (origin.0 + gy * step_v.0, origin.1 + gy * step_v.1);
                for (i, a) in acc.iter_mut().enumerate() {
                    for si in 0..sub {
                        let gx = (i * sub + si) as f32;
                        *a += p.bilinear(rx + gx * step_u.0, ry + gx * step_u.1);
                    }
                }
            }
            out.extend(acc.iter().map(|a| a / (sub * sub) as f32));
        }
        out
    }

    /// A degenerate view (NaN corners, as arithmetic on a broken rectangle
    /// would give) on a plane wider than any decoded one: the rotated
    /// sampler's pixel offsets stay inside the plane, nothing overflows or
    /// panics, and every cell counts as outside it.
    #[test]
    fn a_nan_view_samples_without_panicking_and_covers_nothing() {
        let p = scrambled_plane(1500, 3, 7);
        let view = View {
            rect: Rect {
                left: f32::NAN,
                top: 0.0,
                right: f32::NAN,
                bottom: 3.0,
            },
            angle_rad: 0.3,
            mirrored: false,
        };
        let (samples, coverage) = p.sample_with_coverage(&view, 32, 32);
        assert_eq!((samples.len(), coverage.len()), (32 * 32, 32 * 32));
        assert!(coverage.iter().all(|&c| c == 0.0));
    }

    proptest! {
        /// The rotated sampler's inlined bilinear taps (read as quads) give the
        /// plain per-sub-sample `bilinear`'s samples to the bit, inside the
        /// plane, past its edges (clamped), mirrored, on 1-pixel planes.
        #[test]
        fn rotated_sampling_equals_plain_bilinear_to_the_bit(
            w in 1usize..70, h in 1usize..70,
            seed in 0u64..1000,
            l in -0.3f32..0.5, t in -0.3f32..0.5, r in 0.5f32..1.3, b in 0.5f32..1.3,
            deg in -8f32..8.0, mirrored: bool, out_w in 1usize..34, out_h in 1usize..34,
        ) {
            prop_assume!(deg != 0.0);
            let p = scrambled_plane(w, h, seed);
            let view = view_by_shares(&p, [l, t, r, b], deg.to_radians(), mirrored);
            let fast = p.sample(&view, out_w, out_h);
            let plain = plain_rotated_sample(&p, &view, out_w, out_h, SUB);
            prop_assert_eq!(fast.len(), plain.len());
            for (a, b) in fast.iter().zip(&plain) {
                prop_assert_eq!(a.to_bits(), b.to_bits());
            }
            // And an alignment's probe, at its coarser sub-sampling.
            let (mut probe, mut cov) = (Vec::new(), Vec::new());
            p.sample_sub_into(&view, out_w, out_h, PROBE_SUB, None, &mut probe, &mut cov);
            let plain = plain_rotated_sample(&p, &view, out_w, out_h, PROBE_SUB);
            prop_assert_eq!(probe.len(), plain.len());
            for (a, b) in probe.iter().zip(&plain) {
                prop_assert_eq!(a.to_bits(), b.to_bits());
            }
            // A `Sampler` (its quads made once) samples the same.
            let sampler = Sampler::new(&p);
            let (mut kept, mut kept_cov) = (Vec::new(), Vec::new());
            let (_, fast_cov) = p.sample_with_coverage(&view, out_w, out_h);
            sampler.sample_into(&view, out_w, out_h, &mut kept, &mut kept_cov);
            prop_assert_eq!(
                kept.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                fast.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
            prop_assert_eq!(&kept_cov, &fast_cov);
            sampler.probe_into(&view, out_w, out_h, &mut kept, &mut kept_cov);
            prop_assert_eq!(
                kept.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                probe.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
            prop_assert_eq!(&kept_cov, &cov);
        }

        /// The separable sampler computes what the general one does for an
        /// unrotated view, inside the plane, past its edges and mirrored.
        #[test]
        fn axis_aligned_sampling_equals_the_general_sampler(
            w in 2usize..70, h in 2usize..70,
            seed in 0u64..1000,
            l in -0.2f32..0.5, t in -0.2f32..0.5, r in 0.5f32..1.2, b in 0.5f32..1.2,
            mirrored: bool, out_w in 1usize..34, out_h in 1usize..34,
            coarse: bool,
        ) {
            let p = scrambled_plane(w, h, seed);
            let view = view_by_shares(&p, [l, t, r, b], 0.0, mirrored);
            let (mut fast, mut fast_cov, mut slow, mut slow_cov) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let sub = if coarse { PROBE_SUB } else { SUB };
            p.sample_axis_aligned(&view, out_w, out_h, sub, &mut fast, &mut fast_cov);
            p.sample_rotated(&view, out_w, out_h, sub, None, &mut slow, &mut slow_cov);
            prop_assert_eq!(fast.len(), slow.len());
            for (a, b) in fast.iter().zip(&slow) {
                prop_assert!((a - b).abs() < 0.01, "{} vs {}", a, b);
            }
            prop_assert_eq!(fast_cov, slow_cov);
        }
    }

    /// The samplers keep their working buffers per thread, and an
    /// alignment keeps its sample buffers across probes: a sample taken
    /// after others of every size and both kinds (rotated, unrotated), into
    /// buffers that held them, is the same to the bit as the first.
    #[test]
    fn reused_sampling_buffers_change_no_sample() {
        let big = scrambled_plane(67, 45, 7);
        let small = scrambled_plane(5, 9, 8);
        let views = [
            (
                &big,
                view_by_shares(&big, [0.1, 0.0, 0.9, 1.1], 0.07, true),
                32,
                32,
            ),
            (
                &small,
                view_by_shares(&small, [0.0, 0.0, 1.0, 1.0], 0.0, false),
                3,
                5,
            ),
            (
                &big,
                view_by_shares(&big, [-0.1, 0.2, 1.0, 0.8], 0.0, true),
                33,
                7,
            ),
            (
                &small,
                view_by_shares(&small, [0.2, 0.1, 0.7, 0.9], -0.3, false),
                1,
                1,
            ),
        ];
        let first: Vec<(Vec<f32>, Vec<f32>)> = views
            .iter()
            .map(|(p, v, w, h)| p.sample_with_coverage(v, *w, *h))
            .collect();
        let (mut out, mut cov) = (vec![f32::NAN; 2000], vec![f32::NAN; 3]);
        for _ in 0..3 {
            for ((p, v, w, h), (o, c)) in views.iter().zip(&first).rev() {
                p.sample_with_coverage_into(v, *w, *h, &mut out, &mut cov);
                let bits = |x: &[f32]| x.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&out), bits(o));
                assert_eq!(bits(&cov), bits(c));
            }
        }
    }

    fn gradient(w: usize, h: usize) -> Plane {
        let data = (0..w * h)
            .map(|i| ((i % w) * 255 / w.max(1)) as f32)
            .collect();
        Plane {
            width: w,
            height: h,
            data,
        }
    }

    #[test]
    fn reduction_keeps_aspect_and_mean() {
        let p = gradient(400, 200);
        let mean: f32 = p.data.iter().sum::<f32>() / p.data.len() as f32;
        let r = p.reduced(128);
        assert_eq!((r.width, r.height), (128, 64));
        let rmean: f32 = r.data.iter().sum::<f32>() / r.data.len() as f32;
        assert!((mean - rmean).abs() < 0.5, "{mean} vs {rmean}");
    }

    /// A 60×40 gradient photo on a white `w`×`h` canvas at `(left, top)`,
    /// darker than the padding everywhere, as a photo would be.
    fn framed_gradient(w: usize, h: usize, (left, top): (usize, usize)) -> Vec<f32> {
        let inner = gradient(60, 40);
        let mut data = vec![255.0; w * h];
        for y in 0..40 {
            for x in 0..60 {
                data[(y + top) * w + x + left] = inner.data[y * 60 + x] * 0.8;
            }
        }
        data
    }

    #[test]
    fn trim_finds_white_padding_and_ignores_plain_photos() {
        let data = framed_gradient(100, 80, (10, 20));
        let padded = Plane {
            width: 100,
            height: 80,
            data,
        };
        let r = padded.trimmed_rect().expect("padding trimmed");
        assert_eq!((r.left, r.top, r.right, r.bottom), (10.0, 20.0, 70.0, 60.0));
        let textured = Plane {
            width: 100,
            height: 80,
            data: (0..8000)
                .map(|i| ((i * 37 + i / 100 * 11) % 200) as f32)
                .collect(),
        };
        assert_eq!(textured.trimmed_rect(), None);
    }

    #[test]
    fn loose_trim_goes_past_a_banner_over_the_padding() {
        // A photo in a white frame (10 px left and right, 20 top and
        // bottom), then a banner across the bottom padding and into the
        // photo over 60% of the width.
        let mut data = framed_gradient(80, 80, (10, 20));
        for y in 50..72 {
            for x in 0..48 {
                data[y * 80 + x] = 30.0;
            }
        }
        let p = Plane {
            width: 80,
            height: 80,
            data,
        };
        // The strict trim stops at the banner on the left and at the
        // bottom.
        let strict = p.trimmed_rect().expect("top and right trimmed");
        assert_eq!((strict.left, strict.bottom), (0.0, 72.0));
        // The loose one goes past it on the left (the banner covers under
        // half of a column), stops at its edge at the bottom (it covers
        // over half of a row) and shaves one more line on each trimmed side.
        let loose = p.loose_trimmed_rect().expect("trimmed");
        assert_eq!(
            (loose.left, loose.top, loose.right, loose.bottom),
            (11.0, 21.0, 69.0, 71.0)
        );
        // A letterboxed photo (bars covering half of every column) keeps
        // its sides.
        let mut data = vec![255.0; 80 * 80];
        for y in 20..60 {
            for x in 0..80 {
                data[y * 80 + x] = ((x * 37 + y * 11) % 200) as f32;
            }
        }
        let letterboxed = Plane {
            width: 80,
            height: 80,
            data,
        };
        let loose = letterboxed.loose_trimmed_rect().expect("bars trimmed");
        assert_eq!(
            (loose.left, loose.top, loose.right, loose.bottom),
            (0.0, 21.0, 80.0, 59.0)
        );
        // A photo with no border has none, loose or strict.
        let textured = Plane {
            width: 100,
            height: 80,
            data: (0..8000)
                .map(|i| ((i * 37 + i / 100 * 11) % 200) as f32)
                .collect(),
        };
        assert_eq!(textured.loose_trimmed_rect(), None);
    }

    #[test]
    fn mirrored_view_samples_the_flipped_image() {
        let p = gradient(64, 64);
        let plain = p.sample(&View::of(p.full_rect()), 8, 8);
        let mut v = View::of(p.full_rect());
        v.mirrored = true;
        let flipped = p.sample(&v, 8, 8);
        for y in 0..8 {
            for x in 0..8 {
                assert!((plain[y * 8 + x] - flipped[y * 8 + 7 - x]).abs() < 1e-3);
            }
        }
    }
}
