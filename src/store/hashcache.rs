//! Caches of hashing work in the store, so a cycle pays for the photos
//! that changed, not for every photo it sees again.
//!
//! | tree | key | value |
//! |---|---|---|
//! | `hash_references` | [`code_version`] `/` SHA-256 of an official photo | [`PreparedReference::to_bytes`]: its plane and hashed variants |
//! | `hash_matches` | [`official_fingerprint`] `/` SHA-256 of a listing photo | [`CachedMatch`] (JSON): what matching the photo against the official photos found |
//! | `hash_photos` | [`code_version`] `/` SHA-256 of a photo | [`CachedHashes`] (JSON): its hashes, for relisting checks |
//!
//! Everything is keyed by content: a photo whose bytes change is a new
//! key. The hashing code's version is in every key (directly, or through
//! the official set's fingerprint), so a build that would hash or match
//! differently never reads another build's results. Changing, adding,
//! removing, renaming or reordering an official photo changes the
//! fingerprint, so every listing photo is matched again against the new
//! set (and only the changed official photo is hashed again).
//!
//! A cache entry that cannot be read back, or a store that fails to read
//! or write one, is a miss: the work is done again (and the entry written
//! over), with a warning; it never stops a scan.
//!
//! Entries no scan will read again are dropped when a scan first runs
//! with another code version or official set ([`forget_stale`]): those of
//! other code versions, and the match results of other official sets. Two
//! watchlists scanned in turn into one folder would so drop each other's
//! match results at every switch (one brand, one folder is the rule). An
//! official photo's older versions stay (about 33 KB each), so putting a
//! photo back costs nothing.

use crate::fetch::sha256_hex;
use crate::judge::imagehash::hash::HashPair;
use crate::judge::imagehash::{code_version, decode, ImageHashes, ImageMatch, PreparedReference};
use crate::model::error::{Error, Result};
use crate::store::Store;
use serde::{Deserialize, Serialize};

/// Official photos' prepared references.
pub const REFERENCES: &str = "hash_references";
/// Listing photos' match results, per official set.
pub const MATCHES: &str = "hash_matches";
/// Photos' hashes (relisting checks).
pub const PHOTOS: &str = "hash_photos";

/// Reads a cache entry; a failing store is a miss (with a warning).
fn get(store: &Store, tree: &str, key: &str) -> Option<Vec<u8>> {
    match store.get_raw_in(tree, key) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(tree, key, "cache not read, computing again: {e}");
            None
        }
    }
}

/// Writes a cache entry; a failing store loses the entry (with a warning).
fn put(store: &Store, tree: &str, key: &str, bytes: &[u8]) {
    if let Err(e) = store.put_raw_in(tree, key, bytes) {
        tracing::warn!(tree, key, "cache entry not written: {e}");
    }
}

/// The key under which each tree records what it was last pruned for.
/// No cache key starts with `!`.
const PRUNED_FOR: &str = "!pruned-for";

/// Drops what no scan of this build with this official set (of
/// `fingerprint`) reads: entries of other code versions, and match results
/// of other official sets. A tree is only walked when the version or set
/// differs from the last time (recorded in it under [`PRUNED_FOR`]), so
/// this costs nothing from one cycle to the next. Failures are warnings.
pub fn forget_stale(store: &Store, fingerprint: &str) {
    for (tree, current) in [
        (REFERENCES, code_version()),
        (PHOTOS, code_version()),
        (MATCHES, fingerprint),
    ] {
        if get(store, tree, PRUNED_FOR).as_deref() == Some(current.as_bytes()) {
            continue;
        }
        let prefix = format!("{current}/");
        let keep = |k: &[u8]| k == PRUNED_FOR.as_bytes() || k.starts_with(prefix.as_bytes());
        match store.retain_in(tree, keep) {
            Ok(removed) => {
                if removed > 0 {
                    tracing::info!(
                        tree,
                        removed,
                        "cache entries of another version or official set dropped"
                    );
                }
                put(store, tree, PRUNED_FOR, current.as_bytes());
            }
            Err(e) => tracing::warn!(tree, "stale cache entries not dropped: {e}"),
        }
    }
}

fn unreadable(tree: &str, key: &str) {
    tracing::warn!(tree, key, "unreadable cache entry skipped, computing again");
}

/// The key of an official photo's prepared reference.
pub fn reference_key(sha256: &str) -> String {
    format!("{}/{sha256}", code_version())
}

/// An official photo's hashed variants: from the store's cache when it
/// has them for these bytes (by `sha256`, theirs) and this code, else
/// decoded and hashed (and kept there). `name` names the photo in errors:
/// bytes that do not decode are an error, as for
/// [`crate::judge::imagehash::ReferenceIndex::add_bytes`].
pub fn prepared_reference(
    store: Option<&Store>,
    sha256: &str,
    bytes: &[u8],
    name: &str,
) -> Result<PreparedReference> {
    let key = reference_key(sha256);
    if let Some(cached) = store.and_then(|s| get(s, REFERENCES, &key)) {
        match PreparedReference::from_bytes(&cached) {
            Some(p) => return Ok(p),
            None => unreadable(REFERENCES, &key),
        }
    }
    let prepared = PreparedReference::of_plane(decode::decode(bytes, name)?.plane);
    if let Some(store) = store {
        put(store, REFERENCES, &key, &prepared.to_bytes());
    }
    Ok(prepared)
}

/// The fingerprint of a set of official photos, `(name, sha256)` in the
/// order they are indexed, and of the matching code ([`code_version`]):
/// what a listing photo's match result depends on besides its bytes.
pub fn official_fingerprint<'a>(officials: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let set: Vec<(&str, &str)> = officials.into_iter().collect();
    let text = serde_json::json!({"matcher": code_version(), "officials": set}).to_string();
    sha256_hex(text.as_bytes())
}

/// The key of a listing photo's match result against an official set.
pub fn match_key(fingerprint: &str, sha256: &str) -> String {
    format!("{fingerprint}/{sha256}")
}

/// What matching a photo's bytes against an official set found, as kept
/// in `hash_matches`. Correlations are kept as their `f32` bits, so a
/// finding made from the cache is the one made without it, to the bit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum CachedMatch {
    /// A confirmed match (see [`ImageMatch`]).
    Matched {
        reference: String,
        distance: u32,
        bits: u32,
        transform: Option<String>,
        similarity_bits: Option<u32>,
        detail_bits: Option<u32>,
        independent_samples_bits: Option<u32>,
    },
    /// Nothing matched.
    NoMatch,
    /// The bytes did not decode: the decoder's message (without the URL,
    /// which differs between listings that show the same bytes).
    Failed { message: String },
}

impl CachedMatch {
    /// The entry for a lookup's outcome; `None` for an error that is not
    /// the image's own (not worth keeping).
    pub fn of(outcome: &Result<Option<ImageMatch>>) -> Option<CachedMatch> {
        Some(match outcome {
            Ok(Some(m)) if m.is_match => CachedMatch::Matched {
                reference: m.reference.clone(),
                distance: m.distance,
                bits: m.bits,
                transform: m.transform.clone(),
                similarity_bits: m.similarity.map(f32::to_bits),
                detail_bits: m.detail.map(f32::to_bits),
                independent_samples_bits: m.independent_samples.map(f32::to_bits),
            },
            Ok(_) => CachedMatch::NoMatch,
            Err(Error::Image { message, .. }) => CachedMatch::Failed {
                message: message.clone(),
            },
            Err(_) => return None,
        })
    }

    /// The lookup's outcome again, for a photo at `url`: a match, `None`
    /// for no match, or the decoder's error naming the URL.
    pub fn outcome(&self, url: &str) -> Result<Option<ImageMatch>> {
        match self {
            CachedMatch::Matched {
                reference,
                distance,
                bits,
                transform,
                similarity_bits,
                detail_bits,
                independent_samples_bits,
            } => Ok(Some(ImageMatch {
                reference: reference.clone(),
                distance: *distance,
                bits: *bits,
                is_match: true,
                transform: transform.clone(),
                similarity: similarity_bits.map(f32::from_bits),
                detail: detail_bits.map(f32::from_bits),
                independent_samples: independent_samples_bits.map(f32::from_bits),
            })),
            CachedMatch::NoMatch => Ok(None),
            CachedMatch::Failed { message } => Err(Error::Image {
                source_name: url.to_string(),
                message: message.clone(),
            }),
        }
    }
}

/// A listing photo's cached match result against the official set of
/// `fingerprint`; `None` when there is none, or it does not read back, or
/// it names an official photo not in `references` (a damaged entry).
pub fn cached_match(
    store: &Store,
    fingerprint: &str,
    sha256: &str,
    references: &[&str],
) -> Option<CachedMatch> {
    let key = match_key(fingerprint, sha256);
    let bytes = get(store, MATCHES, &key)?;
    match serde_json::from_slice::<CachedMatch>(&bytes) {
        Ok(CachedMatch::Matched { reference, .. }) if !references.contains(&reference.as_str()) => {
            unreadable(MATCHES, &key);
            None
        }
        Ok(m) => Some(m),
        Err(_) => {
            unreadable(MATCHES, &key);
            None
        }
    }
}

/// Keeps a listing photo's match result against the official set of
/// `fingerprint`.
pub fn keep_match(store: &Store, fingerprint: &str, sha256: &str, result: &CachedMatch) {
    match serde_json::to_vec(result) {
        Ok(json) => put(store, MATCHES, &match_key(fingerprint, sha256), &json),
        Err(e) => tracing::warn!("cache entry not written: {e}"),
    }
}

/// A photo's hashes as kept in `hash_photos`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum CachedHashes {
    /// Width and height, and the `[phash, dhash]` of the whole photo and,
    /// when it has a plain border, of its trimmed part.
    Hashed {
        width: u32,
        height: u32,
        whole: [u64; 2],
        trimmed: Option<[u64; 2]>,
    },
    /// The bytes did not decode.
    Failed,
}

impl CachedHashes {
    pub fn of(hashes: &ImageHashes) -> CachedHashes {
        CachedHashes::Hashed {
            width: hashes.width,
            height: hashes.height,
            whole: [hashes.whole.phash, hashes.whole.dhash],
            trimmed: hashes.trimmed.map(|t| [t.phash, t.dhash]),
        }
    }

    fn hashes(&self) -> Option<ImageHashes> {
        let pair = |[phash, dhash]: [u64; 2]| HashPair { phash, dhash };
        match self {
            CachedHashes::Hashed {
                width,
                height,
                whole,
                trimmed,
            } => Some(ImageHashes::from_pairs(
                *width,
                *height,
                pair(*whole),
                trimmed.map(pair),
            )),
            CachedHashes::Failed => None,
        }
    }
}

/// The key of a photo's hashes.
pub fn photo_key(sha256: &str) -> String {
    format!("{}/{sha256}", code_version())
}

/// Keeps a photo's hashes (or that it did not decode).
pub fn keep_photo_hashes(store: &Store, sha256: &str, hashes: &CachedHashes) {
    match serde_json::to_vec(hashes) {
        Ok(json) => put(store, PHOTOS, &photo_key(sha256), &json),
        Err(e) => tracing::warn!("cache entry not written: {e}"),
    }
}

/// A stored photo's hashes (its bytes' SHA-256 `sha256`; `name` for
/// logs): from the cache when it has them, else hashed from its stored
/// bytes (read only then) and kept. `None` when the bytes do not decode,
/// or are not stored (then nothing is kept).
pub fn photo_hashes(store: &Store, sha256: &str, name: &str) -> Option<ImageHashes> {
    let key = photo_key(sha256);
    if let Some(cached) = get(store, PHOTOS, &key) {
        match serde_json::from_slice::<CachedHashes>(&cached) {
            Ok(c) => return c.hashes(),
            Err(_) => unreadable(PHOTOS, &key),
        }
    }
    // Bytes that cannot be had are not a result to keep; a read that
    // fails is said, not taken for a photo never stored.
    let bytes = match store.blob(sha256) {
        Ok(bytes) => bytes?,
        Err(e) => {
            tracing::warn!(sha256, photo = name, "stored photo not read: {e}");
            return None;
        }
    };
    let hashed = crate::judge::imagehash::hash_image(&bytes, name);
    let entry = match &hashed {
        Ok(h) => CachedHashes::of(h),
        Err(_) => CachedHashes::Failed,
    };
    keep_photo_hashes(store, sha256, &entry);
    hashed.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(name: &str) -> Vec<u8> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        std::fs::read(root.join("seeds/images").join(name)).unwrap()
    }

    /// A damaged entry of each cache is a miss: the work is done again,
    /// its result is the right one, and the entry is written over.
    #[test]
    fn damaged_entries_are_computed_again() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let bytes = seed("espresso-cup-q35.jpg");
        let sha = sha256_hex(&bytes);

        let first = prepared_reference(Some(&store), &sha, &bytes, "cup").unwrap();
        store
            .put_raw_in(REFERENCES, &reference_key(&sha), b"\x00garbage")
            .unwrap();
        let before = crate::judge::imagehash::hashing_work();
        let again = prepared_reference(Some(&store), &sha, &bytes, "cup").unwrap();
        assert!(
            crate::judge::imagehash::hashing_work().references_prepared
                > before.references_prepared
        );
        assert_eq!(again, first);
        let kept = store.get_raw_in(REFERENCES, &reference_key(&sha)).unwrap();
        assert_eq!(kept, Some(first.to_bytes()));

        store.put_blob(&sha, &bytes).unwrap();
        let hashes = photo_hashes(&store, &sha, "cup").unwrap();
        store
            .put_raw_in(PHOTOS, &photo_key(&sha), b"{\"result\":")
            .unwrap();
        assert_eq!(photo_hashes(&store, &sha, "cup"), Some(hashes));
        let bad = sha256_hex(b"not an image");
        store.put_blob(&bad, b"not an image").unwrap();
        assert_eq!(photo_hashes(&store, &bad, "x"), None);
        assert_eq!(photo_hashes(&store, &bad, "x"), None);

        let fp = official_fingerprint([("cup.jpg", sha.as_str())]);
        store
            .put_raw_in(MATCHES, &match_key(&fp, &sha), b"[1,2")
            .unwrap();
        assert_eq!(cached_match(&store, &fp, &sha, &["cup.jpg"]), None);
        // A match naming an official photo the set lacks is damage too.
        let other = CachedMatch::Matched {
            reference: "lamp.jpg".into(),
            distance: 3,
            bits: 128,
            transform: None,
            similarity_bits: Some(0.99f32.to_bits()),
            detail_bits: None,
            independent_samples_bits: None,
        };
        keep_match(&store, &fp, &sha, &other);
        assert_eq!(cached_match(&store, &fp, &sha, &["cup.jpg"]), None);
        assert_eq!(
            cached_match(&store, &fp, &sha, &["cup.jpg", "lamp.jpg"]),
            Some(other)
        );
    }

    /// Match results of another official set and entries of another code
    /// version are dropped once; the current ones stay.
    #[test]
    fn stale_entries_are_dropped_when_the_set_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let (old, new) = (
            official_fingerprint([("a", "1")]),
            official_fingerprint([("a", "2")]),
        );
        keep_match(&store, &old, "aa", &CachedMatch::NoMatch);
        keep_match(&store, &new, "aa", &CachedMatch::NoMatch);
        keep_photo_hashes(&store, "aa", &CachedHashes::Failed);
        store.put_raw_in(PHOTOS, "v0-old/aa", b"{}").unwrap();
        store.put_raw_in(REFERENCES, "v0-old/aa", b"").unwrap();
        let keys = |tree: &str| -> Vec<String> {
            store
                .dump_tree(tree)
                .unwrap()
                .into_iter()
                .map(|(k, _)| k)
                .collect()
        };
        forget_stale(&store, &new);
        assert_eq!(
            keys(MATCHES),
            [PRUNED_FOR.to_string(), match_key(&new, "aa")]
        );
        assert_eq!(keys(PHOTOS), [PRUNED_FOR.to_string(), photo_key("aa")]);
        assert_eq!(keys(REFERENCES), [PRUNED_FOR.to_string()]);
        // Recorded: the next scan with the same set walks nothing.
        keep_match(&store, &old, "bb", &CachedMatch::NoMatch);
        forget_stale(&store, &new);
        assert!(keys(MATCHES).contains(&match_key(&old, "bb")));
        assert_eq!(
            cached_match(&store, &new, "aa", &[]),
            Some(CachedMatch::NoMatch)
        );
    }

    /// The fingerprint changes with any official photo's bytes, name or
    /// place in the set.
    #[test]
    fn fingerprint_follows_the_official_set() {
        let a = official_fingerprint([("a.jpg", "11"), ("b.jpg", "22")]);
        assert_eq!(a, official_fingerprint([("a.jpg", "11"), ("b.jpg", "22")]));
        for other in [
            official_fingerprint([("a.jpg", "11"), ("b.jpg", "23")]),
            official_fingerprint([("a.jpg", "11"), ("c.jpg", "22")]),
            official_fingerprint([("b.jpg", "22"), ("a.jpg", "11")]),
            official_fingerprint([("a.jpg", "11")]),
        ] {
            assert_ne!(a, other);
        }
    }

    /// A decoding failure comes back with the URL it is asked for.
    #[test]
    fn a_cached_failure_names_the_url_asked_for() {
        let err: Result<Option<ImageMatch>> = Err(Error::Image {
            source_name: "https://a/1.jpg".into(),
            message: "JPEG data truncated".into(),
        });
        let cached = CachedMatch::of(&err).unwrap();
        assert_eq!(
            cached.outcome("https://b/2.jpg").unwrap_err().to_string(),
            "image https://b/2.jpg: JPEG data truncated"
        );
        assert_eq!(CachedMatch::of(&Err(Error::Other("disk".into()))), None);
    }
}
