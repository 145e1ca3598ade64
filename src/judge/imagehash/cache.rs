//! What the hashing code hands to a cache: a reference's hashed variants
//! as bytes ([`PreparedReference`]), the version of the code that computed
//! them ([`code_version`]), and a count of the hashing work done
//! ([`hashing_work`]), so tests can check that a cache saved it.
//!
//! Indexing an official photo ([`super::ReferenceIndex::add_plane`])
//! samples and hashes about a thousand views of it (the grid of crops,
//! rotations and mirror images, and the parts for partial lookups). What
//! that computes is a function of the photo's working plane alone, so it
//! is kept as the plane (exact `f32` bits), the hash of each variant in
//! the order [`super::reference_views`] lists them, and the partial views
//! kept (their positions in [`super::partial_views`]) with their hashes:
//! the views' geometry is cheap and worked out again when the reference is
//! added back. About 33 KB a photo (a 64×64 plane: 16 KB of values, 15.5 KB of
//! variant hashes, up to 1.4 KB of partial ones).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use rayon::prelude::*;

use super::hash::HashPair;
use super::plane::{Plane, Sampler, PLANE_MAX_SIDE_PX};
use super::{partial_views, reference_views, verify, PARTIAL_SAMPLES};

/// Bumped by hand when the cached formats change; the code's own digest
/// ([`code_version`]) covers changes to how anything is computed.
const FORMAT: u32 = 1;

/// First bytes of [`PreparedReference::to_bytes`].
const MAGIC: &[u8; 8] = b"KOREF\x00\x00\x01";

/// The version of the hashing and matching code: a digest of its sources
/// (decoding, planes, hashes, the index, the second stage and its
/// Gauss–Newton refinement), the cache
/// format and the JPEG decoder built in. Anything a cache keeps from this
/// code is keyed by it, so a build that would compute something different
/// never reads what another build computed.
pub fn code_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let sources: [&str; 9] = [
            include_str!("mod.rs"),
            include_str!("cache.rs"),
            include_str!("decode.rs"),
            include_str!("jpeg_dc.rs"),
            include_str!("plane.rs"),
            include_str!("hash.rs"),
            include_str!("mih.rs"),
            include_str!("verify.rs"),
            include_str!("refine.rs"),
        ];
        let mut text = format!(
            "format {FORMAT}\nturbojpeg {}\n",
            cfg!(feature = "turbojpeg")
        );
        for s in sources {
            text.push_str(&crate::fetch::sha256_hex(s.as_bytes()));
            text.push('\n');
        }
        let digest = crate::fetch::sha256_hex(text.as_bytes());
        format!("v{FORMAT}-{}", &digest[..16])
    })
}

static IMAGES_DECODED: AtomicU64 = AtomicU64::new(0);
static REFERENCES_PREPARED: AtomicU64 = AtomicU64::new(0);

/// Hashing work done in this process so far (all threads).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HashingWork {
    /// Images decoded (each followed by hashing, a lookup or an index's
    /// variants), failures included.
    pub images_decoded: u64,
    /// References whose variants were sampled and hashed
    /// ([`PreparedReference::of_plane`]).
    pub references_prepared: u64,
}

impl std::ops::Sub for HashingWork {
    type Output = HashingWork;
    fn sub(self, earlier: HashingWork) -> HashingWork {
        HashingWork {
            images_decoded: self.images_decoded.saturating_sub(earlier.images_decoded),
            references_prepared: self
                .references_prepared
                .saturating_sub(earlier.references_prepared),
        }
    }
}

/// The hashing work done in this process so far: take it before and after
/// something and subtract.
pub fn hashing_work() -> HashingWork {
    HashingWork {
        images_decoded: IMAGES_DECODED.load(Ordering::Relaxed),
        references_prepared: REFERENCES_PREPARED.load(Ordering::Relaxed),
    }
}

/// Counts one decode (called by [`super::decode::decode`]).
pub(crate) fn count_decode() {
    IMAGES_DECODED.fetch_add(1, Ordering::Relaxed);
}

/// A reference photo's indexed hashes, computed once: see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedReference {
    pub(crate) plane: Plane,
    /// One hash per [`reference_views`] of the plane, in its order.
    pub(crate) variants: Vec<HashPair>,
    /// The textured [`partial_views`] of the plane (by position) and their
    /// hashes.
    pub(crate) partial: Vec<(u32, HashPair)>,
}

impl PreparedReference {
    /// Samples and hashes every variant of a reference's working plane:
    /// the costly part of indexing a reference.
    pub fn of_plane(plane: Plane) -> PreparedReference {
        REFERENCES_PREPARED.fetch_add(1, Ordering::Relaxed);
        let sampler = Sampler::new(&plane);
        let variants: Vec<HashPair> = reference_views(&plane)
            .par_iter()
            .map(|(_, view)| HashPair::of_sampled(&sampler, view))
            .collect();
        // Only a textured part can make a partial match, so only textured
        // parts are indexed (at half the samples a match needs: the
        // alignment moves the view).
        let partial: Vec<(u32, HashPair)> = partial_views(&plane)
            .into_par_iter()
            .enumerate()
            .filter(|(_, (_, _, _, view))| {
                let t = sampler.sample(view, verify::VERIFY_SIDE, verify::VERIFY_SIDE);
                verify::independent_samples(&t, verify::VERIFY_SIDE) >= PARTIAL_SAMPLES / 2.0
            })
            .map(|(i, (_, _, _, view))| (i as u32, HashPair::of_sampled(&sampler, &view)))
            .collect();
        drop(sampler);
        PreparedReference {
            plane,
            variants,
            partial,
        }
    }

    /// The bytes a cache keeps: [`MAGIC`], width and height (u16), the
    /// plane's values (f32), the variants' count (u32) and hashes (u128),
    /// the partial views' count (u32) and each one's position (u32) and
    /// hash (u128); little-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let p = &self.plane;
        let mut out = Vec::with_capacity(
            MAGIC.len() + 4 + 4 * p.data.len() + 4 + 16 * self.variants.len() + 4,
        );
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(p.width as u16).to_le_bytes());
        out.extend_from_slice(&(p.height as u16).to_le_bytes());
        for v in &p.data {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&(self.variants.len() as u32).to_le_bytes());
        for h in &self.variants {
            out.extend_from_slice(&h.as_u128().to_le_bytes());
        }
        out.extend_from_slice(&(self.partial.len() as u32).to_le_bytes());
        for (i, h) in &self.partial {
            out.extend_from_slice(&i.to_le_bytes());
            out.extend_from_slice(&h.as_u128().to_le_bytes());
        }
        out
    }

    /// Reads back [`Self::to_bytes`]; `None` for anything else (another
    /// format, cut short, trailing bytes, a plane larger than a working
    /// plane can be, a value that is not finite, counts that do not fit
    /// the plane's views, partial positions out of order or range). A
    /// caller treats `None` as a miss and hashes the photo again.
    pub fn from_bytes(bytes: &[u8]) -> Option<PreparedReference> {
        let mut r = Reader(bytes);
        if r.take(MAGIC.len())? != MAGIC {
            return None;
        }
        let width = usize::from(r.u16()?);
        let height = usize::from(r.u16()?);
        let max = PLANE_MAX_SIDE_PX as usize;
        if !(1..=max).contains(&width) || !(1..=max).contains(&height) {
            return None;
        }
        let mut data = Vec::with_capacity(width * height);
        for _ in 0..width * height {
            let v = f32::from_le_bytes(r.take(4)?.try_into().ok()?);
            if !v.is_finite() {
                return None;
            }
            data.push(v);
        }
        let plane = Plane {
            width,
            height,
            data,
        };
        let n = r.u32()? as usize;
        if n != reference_views(&plane).len() {
            return None;
        }
        let variants = (0..n)
            .map(|_| r.u128().map(HashPair::from_u128))
            .collect::<Option<Vec<_>>>()?;
        let views = partial_views(&plane).len();
        let n = r.u32()? as usize;
        if n > views {
            return None;
        }
        let mut partial = Vec::with_capacity(n);
        for _ in 0..n {
            let i = r.u32()?;
            let after_last = partial.last().is_none_or(|&(last, _)| i > last);
            if i as usize >= views || !after_last {
                return None;
            }
            partial.push((i, HashPair::from_u128(r.u128()?)));
        }
        if !r.0.is_empty() {
            return None;
        }
        Some(PreparedReference {
            plane,
            variants,
            partial,
        })
    }
}

/// Reads little-endian values off the front of a byte slice.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u128(&mut self) -> Option<u128> {
        Some(u128::from_le_bytes(self.take(16)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::super::ReferenceIndex;
    use super::*;

    fn photo() -> Vec<u8> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        std::fs::read(root.join("watchlists/demo/official/espresso-cup.jpg")).unwrap()
    }

    /// A prepared reference read back from its bytes indexes as the photo
    /// itself does: same lookups, same results.
    #[test]
    fn prepared_reference_round_trips_and_indexes_the_same() {
        let bytes = photo();
        let plane = super::super::decode::decode(&bytes, "cup").unwrap().plane;
        let prepared = PreparedReference::of_plane(plane.clone());
        let back = PreparedReference::from_bytes(&prepared.to_bytes()).unwrap();
        assert_eq!(back, prepared);
        let mut direct = ReferenceIndex::new();
        direct.add_plane("cup.jpg", &plane);
        let mut cached = ReferenceIndex::new();
        cached.add_prepared("cup.jpg", &back);
        assert_eq!(direct.entries.len(), cached.entries.len());
        for side in 0..4 {
            assert_eq!(direct.partial[side].1.len(), cached.partial[side].1.len());
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for f in ["espresso-cup-q35.jpg", "rocket-launch-half.jpg"] {
            let b = std::fs::read(root.join("seeds/images").join(f)).unwrap();
            assert_eq!(
                direct.best_match_bytes(&b, f).unwrap(),
                cached.best_match_bytes(&b, f).unwrap(),
                "{f}"
            );
        }
    }

    /// Damaged bytes are a miss, never a panic.
    #[test]
    fn damaged_bytes_are_refused() {
        let plane = super::super::decode::decode(&photo(), "cup").unwrap().plane;
        let good = PreparedReference::of_plane(plane).to_bytes();
        assert!(PreparedReference::from_bytes(&[]).is_none());
        for cut in [1, 8, 12, 100, good.len() / 2, good.len() - 1] {
            assert!(
                PreparedReference::from_bytes(&good[..cut]).is_none(),
                "{cut}"
            );
        }
        let mut longer = good.clone();
        longer.push(0);
        assert!(PreparedReference::from_bytes(&longer).is_none());
        // Another width: the counts no longer fit the plane.
        let mut wide = good.clone();
        wide[8] ^= 1;
        assert!(PreparedReference::from_bytes(&wide).is_none());
        // A NaN in the plane.
        let mut nan = good.clone();
        nan[12..16].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(PreparedReference::from_bytes(&nan).is_none());
        // Every byte flipped in turn (a sample of them): refused or read,
        // never a panic.
        for i in (0..good.len()).step_by(97) {
            let mut b = good.clone();
            b[i] ^= 0xA5;
            let _ = PreparedReference::from_bytes(&b);
        }
    }
}
