//! Registration without descent: rotation, scale and shift between a
//! reference and a listing photo estimated at once (Fourier–Mellin), as
//! the start view of the second stage's exact alignment.
//!
//! Both planes are sampled as [`REG_SIDE`]² squares (the reference mirrored
//! as the variant says). The magnitudes of their spectra do not depend on
//! the shift, and a rotation and scale of the image rotate and scale them
//! about the origin: resampled on log-polar axes, that is a shift, which
//! phase correlation finds. With rotation and scale undone, a second phase
//! correlation finds the shift. Every estimate is bounded (rotation within
//! ±[`MAX_ROTATION_DEG`], scale within [`MIN_SCALE`]–[`MAX_SCALE`]) and
//! every number checked finite; `None` when a plane is too small or flat.

use std::sync::Arc;

use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

use super::plane::{Plane, Rect, View};

/// Side of the squares compared (a power of two: the FFT's fastest size;
/// the working planes are at most 64 px a side).
pub const REG_SIDE: usize = 64;

/// Rotations searched for, either way (degrees). Copies are rotated a few
/// degrees; the variants already cover ±3°.
pub const MAX_ROTATION_DEG: f32 = 15.0;

/// Scales searched for (reference size over the copy's): a copy padded by
/// 20% a side down to one cropped by a third.
pub const MIN_SCALE: f32 = 0.6;
pub const MAX_SCALE: f32 = 1.6;

/// Angle bins of the log-polar grid over half a turn (a magnitude spectrum
/// is symmetric through the origin).
const ANGLES: usize = 64;
/// Radius bins of the log-polar grid, from [`R_MIN`] to [`R_MAX`] (in
/// frequency bins).
const RADII: usize = 64;
const R_MIN: f32 = 2.0;
const R_MAX: f32 = (REG_SIDE / 2 - 1) as f32;

/// The forward and inverse FFTs of length [`REG_SIDE`], planned once per
/// thread.
struct Ffts {
    forward: Arc<dyn Fft<f32>>,
    inverse: Arc<dyn Fft<f32>>,
}

thread_local! {
    static FFTS: Ffts = {
        let mut planner = FftPlanner::new();
        Ffts {
            forward: planner.plan_fft_forward(REG_SIDE),
            inverse: planner.plan_fft_inverse(REG_SIDE),
        }
    };
}

/// In-place 2-D FFT of a [`REG_SIDE`]² row-major buffer (unnormalised).
fn fft2(buf: &mut [Complex32], inverse: bool) {
    let n = REG_SIDE;
    FFTS.with(|f| {
        let fft = if inverse { &f.inverse } else { &f.forward };
        fft.process(buf);
        transpose(buf, n);
        fft.process(buf);
        transpose(buf, n);
    });
}

fn transpose(buf: &mut [Complex32], n: usize) {
    for y in 0..n {
        for x in y + 1..n {
            buf.swap(y * n + x, x * n + y);
        }
    }
}

/// A separable Hann window of [`REG_SIDE`] samples a side, one axis.
fn hann() -> [f32; REG_SIDE] {
    let n = REG_SIDE as f32;
    std::array::from_fn(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * (i as f32 + 0.5) / n).cos())
}

/// The image, mean removed and windowed (so that its edges do not look
/// like a cross of strong frequencies), as complex samples.
fn windowed(img: &[f32]) -> Vec<Complex32> {
    let n = REG_SIDE;
    let w = hann();
    let mean = img.iter().sum::<f32>() / img.len().max(1) as f32;
    (0..n * n)
        .map(|i| Complex32::new((img[i] - mean) * w[i % n] * w[i / n], 0.0))
        .collect()
}

/// The magnitude spectrum of `img`, high-passed and compressed (log), on
/// log-polar axes: row = angle (half a turn), column = log radius.
fn log_polar_magnitude(img: &[f32]) -> Vec<f32> {
    let n = REG_SIDE;
    let mut f = windowed(img);
    fft2(&mut f, false);
    // Centred magnitude, high-passed (the spectrum's low frequencies hold
    // most of the energy and barely depend on rotation).
    let centred = |k: usize| (k + n / 2) % n;
    let mut mag = vec![0f32; n * n];
    for ky in 0..n {
        for kx in 0..n {
            let (fx, fy) = (
                centred(kx) as f32 / n as f32 - 0.5,
                centred(ky) as f32 / n as f32 - 0.5,
            );
            let x = (std::f32::consts::PI * fx).cos() * (std::f32::consts::PI * fy).cos();
            let high_pass = (1.0 - x) * (2.0 - x);
            let m = f[ky * n + kx].norm();
            mag[centred(ky) * n + centred(kx)] = if m.is_finite() {
                m.ln_1p() * high_pass
            } else {
                0.0
            };
        }
    }
    let log_step = (R_MAX / R_MIN).ln() / RADII as f32;
    let mut out = vec![0f32; ANGLES * RADII];
    for a in 0..ANGLES {
        let alpha = std::f32::consts::PI * a as f32 / ANGLES as f32;
        let (sin, cos) = alpha.sin_cos();
        for r in 0..RADII {
            let radius = R_MIN * (log_step * r as f32).exp();
            let x = n as f32 / 2.0 + radius * cos;
            let y = n as f32 / 2.0 + radius * sin;
            out[a * RADII + r] = bilinear(&mag, n, x, y, 0.0);
        }
    }
    out
}

/// Bilinear sample of an n×n image at (x, y) (sample centres at integers);
/// `outside` past its edge.
fn bilinear(img: &[f32], n: usize, x: f32, y: f32, outside: f32) -> f32 {
    if !(x >= 0.0 && y >= 0.0 && x <= (n - 1) as f32 && y <= (n - 1) as f32) {
        return outside;
    }
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(n - 1), (y0 + 1).min(n - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let top = img[y0 * n + x0] * (1.0 - fx) + img[y0 * n + x1] * fx;
    let bottom = img[y1 * n + x0] * (1.0 - fx) + img[y1 * n + x1] * fx;
    top * (1.0 - fy) + bottom * fy
}

/// The normalised cross-power spectrum's inverse of `fa` and `fb` (both
/// spectra of n×n images): a peak at the shift between them.
fn correlation_surface(fa: &[Complex32], fb: &[Complex32]) -> Vec<f32> {
    let mut cross: Vec<Complex32> = fa
        .iter()
        .zip(fb)
        .map(|(a, b)| {
            let c = b * a.conj();
            let m = c.norm();
            if m > 1e-12 && m.is_finite() {
                c / m
            } else {
                Complex32::new(0.0, 0.0)
            }
        })
        .collect();
    fft2(&mut cross, true);
    let norm = 1.0 / (REG_SIDE * REG_SIDE) as f32;
    cross.iter().map(|c| c.re * norm).collect()
}

/// The highest point of an n×n (periodic) correlation surface among the
/// shifts `allowed` accepts (signed, in (−n/2, n/2]), refined to a
/// fraction of a sample by a parabola through its neighbours on each axis:
/// (δx, δy, peak height).
fn peak(surface: &[f32], allowed: impl Fn(i32, i32) -> bool) -> Option<(f32, f32, f32)> {
    let n = REG_SIDE as i32;
    let signed = |k: i32| if k > n / 2 { k - n } else { k };
    let mut best: Option<(i32, i32, f32)> = None;
    for y in 0..n {
        for x in 0..n {
            let (dx, dy) = (signed(x), signed(y));
            let v = surface[(y * n + x) as usize];
            if v.is_finite() && allowed(dx, dy) && best.is_none_or(|b| v > b.2) {
                best = Some((dx, dy, v));
            }
        }
    }
    let (dx, dy, v) = best?;
    let at = |x: i32, y: i32| surface[(y.rem_euclid(n) * n + x.rem_euclid(n)) as usize];
    let refine = |minus: f32, plus: f32| {
        let d = minus - 2.0 * v + plus;
        let o = if d < -1e-9 {
            0.5 * (minus - plus) / d
        } else {
            0.0
        };
        if o.is_finite() {
            o.clamp(-0.5, 0.5)
        } else {
            0.0
        }
    };
    let ox = refine(at(dx - 1, dy), at(dx + 1, dy));
    let oy = refine(at(dx, dy - 1), at(dx, dy + 1));
    Some((dx as f32 + ox, dy as f32 + oy, v))
}

/// A [`REG_SIDE`]² square of `plane` centred on `rect`, as wide as its
/// longer side (so that a rotation of the photo is a rotation of the
/// square), mirrored or not; with the square's side in plane pixels.
fn square(plane: &Plane, rect: Rect, mirrored: bool) -> Option<(Vec<f32>, f32)> {
    let side = rect.width().max(rect.height());
    if plane.width < 2
        || plane.height < 2
        || plane.data.len() < plane.width * plane.height
        || !side.is_finite()
        || side < 2.0
    {
        return None;
    }
    let (cx, cy) = rect.centre();
    let view = View {
        rect: Rect {
            left: cx - side / 2.0,
            top: cy - side / 2.0,
            right: cx + side / 2.0,
            bottom: cy + side / 2.0,
        },
        angle_rad: 0.0,
        mirrored,
    };
    let img = plane.sample(&view, REG_SIDE, REG_SIDE);
    if img.len() != REG_SIDE * REG_SIDE || img.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let contrast = super::verify::contrast(&img);
    if !contrast.is_finite() || contrast < super::verify::MIN_CONTRAST {
        return None;
    }
    Some((img, side))
}

/// What registration needs of one side (a listing photo's, once per
/// photo): the square, its side in plane pixels, the rectangle it was
/// centred on, and its spectra.
pub struct Side {
    img: Vec<f32>,
    side_px: f32,
    rect: Rect,
    spectrum: Vec<Complex32>,
    log_polar_spectrum: Vec<Complex32>,
}

impl Side {
    /// The side of `rect` on `plane` (mirrored: as its mirror image), or
    /// `None` when the plane is too small or flat to register.
    pub fn of(plane: &Plane, rect: Rect, mirrored: bool) -> Option<Side> {
        let (img, side_px) = square(plane, rect, mirrored)?;
        let mut spectrum = windowed(&img);
        fft2(&mut spectrum, false);
        let mut log_polar_spectrum: Vec<Complex32> = log_polar_magnitude(&img)
            .into_iter()
            .map(|v| Complex32::new(v, 0.0))
            .collect();
        fft2(&mut log_polar_spectrum, false);
        Some(Side {
            img,
            side_px,
            rect,
            spectrum,
            log_polar_spectrum,
        })
    }
}

/// A registration of a reference to a listing photo.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Registration {
    /// The reference view that the photo's `rect` shows, by the estimate.
    pub view: View,
    /// Rotation (degrees) and scale (reference pixels per photo pixel)
    /// found, before the conversion to the view.
    pub rotation_deg: f32,
    pub scale: f32,
    /// Peak heights of the two phase correlations (rotation and scale;
    /// shift): 1.0 for identical inputs, near 0 for unrelated ones.
    pub rotation_scale_peak: f32,
    pub shift_peak: f32,
}

/// Registers `reference` (its `base` rectangle, mirrored as `mirrored`)
/// to the listing photo's side `query`: the reference view that the
/// photo's rectangle shows, or `None` when the reference cannot be
/// registered (too small, flat, or no finite estimate).
pub fn register(
    reference: &Plane,
    base: Rect,
    mirrored: bool,
    query: &Side,
) -> Option<Registration> {
    let r = Side::of(reference, base, mirrored)?;
    let n = REG_SIDE;
    // Rotation and scale: for a query that shows the reference at
    // `y ↦ s·R(φ)·y + τ`, the query's log-polar magnitude is the
    // reference's shifted by (−φ, ln s) in (angle, log radius) on these
    // axes (the unit test pins the signs).
    let surface = correlation_surface(&r.log_polar_spectrum, &query.log_polar_spectrum);
    let angle_step = 180.0 / ANGLES as f32;
    let log_step = (R_MAX / R_MIN).ln() / RADII as f32;
    let max_angle = (MAX_ROTATION_DEG / angle_step).ceil() as i32;
    let (min_log, max_log) = (
        (MIN_SCALE.ln() / log_step).floor() as i32,
        (MAX_SCALE.ln() / log_step).ceil() as i32,
    );
    // Columns are log radius (x), rows angle (y).
    let (d_log, d_angle, rotation_scale_peak) = peak(&surface, |dx, dy| {
        dy.abs() <= max_angle && (min_log..=max_log).contains(&dx)
    })?;
    let rotation_deg = (-d_angle * angle_step).clamp(-MAX_ROTATION_DEG, MAX_ROTATION_DEG);
    let scale = (d_log * log_step).exp().clamp(MIN_SCALE, MAX_SCALE);
    if !rotation_deg.is_finite() || !scale.is_finite() {
        return None;
    }
    // The reference square with rotation and scale undone:
    // a'(y) = a(s·R(φ)·y), in sample units about the square's centre.
    let (sin, cos) = rotation_deg.to_radians().sin_cos();
    let c = (n as f32 - 1.0) / 2.0;
    let mean = r.img.iter().sum::<f32>() / r.img.len() as f32;
    let undone: Vec<f32> = (0..n * n)
        .map(|i| {
            let (x, y) = ((i % n) as f32 - c, (i / n) as f32 - c);
            let (u, v) = (scale * (cos * x - sin * y), scale * (sin * x + cos * y));
            bilinear(&r.img, n, u + c, v + c, mean)
        })
        .collect();
    let mut spectrum = windowed(&undone);
    fft2(&mut spectrum, false);
    let surface = correlation_surface(&spectrum, &query.spectrum);
    let (dx, dy, shift_peak) = peak(&surface, |_, _| true)?;
    // τ = −s·R(φ)·δ for the peak δ of this surface (the unit test pins
    // the sign), in reference square samples.
    let (dx, dy) = (-dx, -dy);
    let (tx, ty) = (scale * (cos * dx - sin * dy), scale * (sin * dx + cos * dy));
    // To reference plane pixels: a square sample is side_px / n pixels, and
    // the reference square is mirrored (x flipped about its centre) when
    // `mirrored`; a photo pixel is s·(r.side_px / query.side_px) reference
    // pixels.
    let mirror = if mirrored { -1.0 } else { 1.0 };
    let px = r.side_px / n as f32;
    let (bx, by) = base.centre();
    let (cx, cy) = (bx + mirror * px * tx, by + px * ty);
    let pixel_scale = scale * r.side_px / query.side_px;
    let (hw, hh) = (
        pixel_scale * query.rect.width() / 2.0,
        pixel_scale * query.rect.height() / 2.0,
    );
    let view = View {
        rect: Rect {
            left: cx - hw,
            top: cy - hh,
            right: cx + hw,
            bottom: cy + hh,
        },
        angle_rad: mirror * rotation_deg.to_radians(),
        mirrored,
    };
    let finite = [
        view.rect.left,
        view.rect.top,
        view.rect.right,
        view.rect.bottom,
        view.angle_rad,
        rotation_scale_peak,
        shift_peak,
    ]
    .iter()
    .all(|v| v.is_finite());
    finite.then_some(Registration {
        view,
        rotation_deg,
        scale,
        rotation_scale_peak,
        shift_peak,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn astronaut() -> Plane {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(root.join("seeds/images/astronaut-poster.png")).unwrap();
        super::super::decode::decode(&bytes, "astronaut-poster.png")
            .unwrap()
            .plane
    }

    /// A copy of `plane` showing `view` of it (64×64, as a listing photo's
    /// working plane).
    fn copy_of(plane: &Plane, view: &View) -> Plane {
        Plane {
            width: 64,
            height: 64,
            data: plane.sample(view, 64, 64),
        }
    }

    fn view_at(plane: &Plane, share: f32, deg: f32, shift: (f32, f32), mirrored: bool) -> View {
        let (cx, cy) = plane.full_rect().centre();
        let (hw, hh) = (
            plane.width as f32 * share / 2.0,
            plane.height as f32 * share / 2.0,
        );
        let (cx, cy) = (cx + shift.0, cy + shift.1);
        View {
            rect: Rect {
                left: cx - hw,
                top: cy - hh,
                right: cx + hw,
                bottom: cy + hh,
            },
            angle_rad: deg.to_radians(),
            mirrored,
        }
    }

    #[test]
    fn recovers_a_known_rotation_scale_and_shift() {
        let reference = astronaut();
        for (share, deg, shift, mirrored) in [
            (1.0, 0.0, (0.0, 0.0), false),
            (0.8, 5.0, (3.0, -2.0), false),
            (0.85, -4.0, (-2.5, 1.5), true),
            (1.15, 3.0, (1.0, 2.0), false),
        ] {
            let truth = view_at(&reference, share, deg, shift, mirrored);
            let copy = copy_of(&reference, &truth);
            let q = Side::of(&copy, copy.full_rect(), false).unwrap();
            let r = register(&reference, reference.full_rect(), mirrored, &q).unwrap();
            let got = r.view;
            let (tx, ty) = truth.rect.centre();
            let (gx, gy) = got.rect.centre();
            let why = format!("truth {truth:?} got {r:?}");
            assert!(
                (got.angle_rad - truth.angle_rad).to_degrees().abs() < 1.5,
                "{why}"
            );
            assert!(
                (got.rect.width() / truth.rect.width() - 1.0).abs() < 0.05,
                "{why}"
            );
            assert!((gx - tx).abs() < 2.0 && (gy - ty).abs() < 2.0, "{why}");
            assert!(r.shift_peak > 0.2, "{why}");
            // From there the exact alignment finds the copy.
            let thumb = copy.sample(&View::of(copy.full_rect()), 32, 32);
            let a = super::super::verify::align(&reference, &got, &thumb);
            assert!(a.similarity > 0.97, "{why} {a:?}");
        }
    }

    #[test]
    fn an_unrelated_photo_peaks_low() {
        let reference = astronaut();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(root.join("seeds/images/rocket-launch.png")).unwrap();
        let other = super::super::decode::decode(&bytes, "rocket")
            .unwrap()
            .plane;
        let q = Side::of(&other, other.full_rect(), false).unwrap();
        let r = register(&reference, reference.full_rect(), false, &q).unwrap();
        assert!(r.shift_peak < 0.2, "{r:?}");
    }

    #[test]
    fn hostile_planes_give_none_or_a_bounded_result() {
        let reference = astronaut();
        let flat = Plane {
            width: 64,
            height: 64,
            data: vec![7.0; 64 * 64],
        };
        assert!(Side::of(&flat, flat.full_rect(), false).is_none());
        let dot = Plane {
            width: 1,
            height: 1,
            data: vec![200.0],
        };
        assert!(Side::of(&dot, dot.full_rect(), false).is_none());
        let empty = Plane {
            width: 0,
            height: 0,
            data: vec![],
        };
        assert!(Side::of(&empty, empty.full_rect(), true).is_none());
        let q = Side::of(&reference, reference.full_rect(), false).unwrap();
        assert!(register(&dot, dot.full_rect(), false, &q).is_none());
        assert!(register(&flat, flat.full_rect(), true, &q).is_none());
        // A thin strip and a plane of huge values: bounded and finite.
        let strip = Plane {
            width: 64,
            height: 2,
            data: (0..128).map(|i| (i * 37 % 255) as f32).collect(),
        };
        let huge = Plane {
            width: 64,
            height: 64,
            data: (0..4096)
                .map(|i| if i % 3 == 0 { 3e38 } else { 0.0 })
                .collect(),
        };
        for p in [&strip, &huge] {
            if let Some(r) = register(p, p.full_rect(), false, &q) {
                assert!(r.rotation_deg.abs() <= MAX_ROTATION_DEG);
                assert!((MIN_SCALE..=MAX_SCALE).contains(&r.scale));
                assert!(r.view.rect.left.is_finite() && r.shift_peak.is_finite());
            }
        }
    }
}
