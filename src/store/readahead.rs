//! Passing a whole tree on several threads, one key range each, so that
//! a pass from a cold file cache waits on several disk reads at once
//! instead of one at a time, and a pass from a warm one uses every core.
//!
//! sled reads a node from its file when a pass reaches it, one `pread` at
//! a time. A tree written over a year of cycles has its nodes spread over
//! the file, so a pass over it from a cold file cache is a long chain of
//! small random reads: at a million listings, the export's pass over the
//! 558,000 suspect briefs took 5.8–7.4 s cold against 1.2 s warm
//! (BENCHMARKS.md "Stop 43"). The disk answers several reads at once
//! about as fast as one. Stop 43 had helper threads read the key ranges
//! ahead of a pass that still read in key order on its own thread; since
//! stop 51 workers do the pass itself, a range each ([`fold_ranges`]),
//! each into an accumulator of its own, returned in key order: folding
//! them in turn gives what the pass in key order gives, whatever the
//! workers' timing, and the pass's own work (deserializing, ranking) is
//! shared over the cores too (BENCHMARKS.md, "Scale", stop 51).
//!
//! The workers need key ranges of similar size without reading the tree
//! first. Trees keyed by listing (`platform/id`) have ids that are decimal
//! numbers spread fairly evenly, so [`key_ranges`] cuts each platform's
//! span between its first and last key into equal parts of the number
//! their digits spell. Whatever the keys, the ranges
//! cover every key exactly once: uneven ranges only make the work
//! less even, never the pass wrong.

use crate::model::listing::Platform;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Workers of a pass over a big tree. More than the cores: from a cold
/// file cache they wait on the disk, not on the CPU. Measured at a million listings from a cold file
/// cache: 4, 8 and 16 helpers gave 3.7, 3.6 and 3.4 s against 5.9–7.4 s
/// without (BENCHMARKS.md "Stop 43").
pub const READ_AHEAD_THREADS: usize = 8;

/// Smallest store (sled's files, bytes) whose passes are read ahead:
/// below it a cold pass costs little, and threads would cost more.
pub const READ_AHEAD_MIN_STORE_BYTES: u64 = 64 * 1024 * 1024;

/// Ranges each platform's keys are cut into.
pub const PARTS_PER_PLATFORM: u64 = 64;

/// Sorted bounds that cut the key space of `tree` into ranges: for each
/// platform with keys (`platform/…`), its first key's prefix and
/// [`PARTS_PER_PLATFORM`] − 1 points between its first and last key. The
/// ranges are `..b[0]`, `b[0]..b[1]`, …, `b[n-1]..`: together every key,
/// each in one range.
pub fn key_ranges(tree: &sled::Tree) -> Vec<Vec<u8>> {
    let mut bounds: Vec<Vec<u8>> = Vec::new();
    for p in Platform::ALL {
        let start = format!("{}/", p.as_str()).into_bytes();
        // The first key past every `platform/…` key: `/` + 1 is `0`.
        let end = format!("{}0", p.as_str()).into_bytes();
        let mut keys = tree.range(start.clone()..end);
        let Some(Ok((first, _))) = keys.next() else {
            continue;
        };
        // One key: the iterator has nothing left for its back.
        let last = match keys.next_back() {
            Some(Ok((last, _))) => last,
            _ => first.clone(),
        };
        bounds.push(start);
        bounds.extend(between(&first, &last, PARTS_PER_PLATFORM));
    }
    bounds.sort();
    bounds.dedup();
    bounds
}

/// Decimal digits after the common prefix that the cut points are read from.
pub const DIGITS: usize = 15;

/// `parts − 1` keys from `first` to `last`, evenly spaced in the decimal
/// number that the [`DIGITS`] bytes after their common prefix spell
/// (listing ids are decimal; a byte that is not a digit reads as the
/// nearest digit, a missing one as 0), in order; fewer when the keys are
/// that close.
fn between(first: &[u8], last: &[u8], parts: u64) -> Vec<Vec<u8>> {
    let common = first.iter().zip(last).take_while(|(a, b)| a == b).count();
    let number = |k: &[u8]| {
        let mut n = 0u64;
        for i in 0..DIGITS {
            let digit = k
                .get(common + i)
                .map_or(0, |b| b.saturating_sub(b'0').min(9));
            n = n * 10 + u64::from(digit);
        }
        n
    };
    let (lo, hi) = (number(first), number(last));
    let mut out: Vec<Vec<u8>> = Vec::new();
    for i in 1..parts {
        let step = (u128::from(hi.saturating_sub(lo)) * u128::from(i) / u128::from(parts)) as u64;
        let mut k = first[..common].to_vec();
        k.extend_from_slice(format!("{:0width$}", lo + step, width = DIGITS).as_bytes());
        if out.last() != Some(&k) {
            out.push(k);
        }
    }
    out
}

/// The `i`th range of `tree` cut by `bounds` ([`key_ranges`]): `..b[0]`
/// for 0, `b[i-1]..b[i]`, and `b[n-1]..` for n.
fn range_at(tree: &sled::Tree, bounds: &[Vec<u8>], i: usize) -> sled::Iter {
    let lo = match i.checked_sub(1) {
        Some(j) => bounds[j].clone(),
        None => Vec::new(),
    };
    match bounds.get(i) {
        Some(hi) => tree.range(lo..hi.clone()),
        None => tree.range(lo..),
    }
}

/// Passes every record of `tree` on `threads` workers, one of its
/// [`key_ranges`] at a time: each range's records, in key order, go to an
/// accumulator of its own made by `init`, and the accumulators come back
/// in the ranges' order. Folding them in turn is so the pass in key
/// order, whatever the workers' timing: for a pass whose work on a record
/// is its own (the export's over the suspect briefs), the workers share
/// the CPU's cores and the disk's parallel reads. With no threads, one
/// range: the whole tree on the calling thread. The first error of `f` or
/// of the tree ends the pass (the others stop at their next record) and
/// is returned.
pub fn fold_ranges<A, E>(
    tree: &sled::Tree,
    threads: usize,
    init: impl Fn() -> A + Sync,
    f: impl Fn(&mut A, sled::IVec, sled::IVec) -> Result<(), E> + Sync,
    tree_err: impl Fn(sled::Error) -> E + Sync,
) -> Result<Vec<A>, E>
where
    A: Send,
    E: Send,
{
    let pass = |iter: sled::Iter, stop: &AtomicBool| -> Result<A, E> {
        let mut acc = init();
        for item in iter {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let (key, value) = item.map_err(&tree_err)?;
            f(&mut acc, key, value)?;
        }
        Ok(acc)
    };
    let stop = AtomicBool::new(false);
    if threads == 0 {
        return pass(tree.iter(), &stop).map(|a| vec![a]);
    }
    let bounds = key_ranges(tree);
    let slots: Vec<std::sync::Mutex<Option<Result<A, E>>>> =
        (0..=bounds.len()).map(|_| Default::default()).collect();
    let next = AtomicUsize::new(0);
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i > bounds.len() || stop.load(Ordering::Relaxed) {
            break;
        }
        let out = pass(range_at(tree, &bounds, i), &stop);
        if out.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(out);
    };
    std::thread::scope(|scope| {
        for _ in 1..threads {
            // A worker the system cannot start leaves its share to the
            // others.
            let _ = std::thread::Builder::new()
                .name("brief-pass".into())
                .spawn_scoped(scope, work);
        }
        work();
    });
    let mut out = Vec::with_capacity(slots.len());
    for slot in slots {
        match slot.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(Ok(acc)) => out.push(acc),
            Some(Err(e)) => return Err(e),
            // Not passed: only after another range's error, returned
            // above, or a stop that leaves this one out.
            None => {}
        }
    }
    // A range left out without an error would lose records: only a stop
    // leaves one out, and a stop is always an error's.
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_with(keys: &[Vec<u8>]) -> (tempfile::TempDir, sled::Tree) {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let tree = db.open_tree("t").unwrap();
        for k in keys {
            tree.insert(k, &b"v"[..]).unwrap();
        }
        (dir, tree)
    }

    /// Which range (`..b[0]` is 0, `b[n-1]..` is n) a key falls in.
    fn range_of(bounds: &[Vec<u8>], key: &[u8]) -> usize {
        bounds.iter().take_while(|b| b.as_slice() <= key).count()
    }

    /// Every key lies in exactly one range, whatever the keys: listing
    /// keys of several platforms, keys of no platform, the empty key,
    /// bytes past ASCII; and the listing keys of one platform spread over
    /// many ranges, not one.
    #[test]
    fn the_ranges_cover_every_key_once_and_spread_a_platform() {
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for i in 0..2_000u64 {
            keys.push(format!("aliexpress/{}", 1_005_000_000_000_000 + i * 7_919).into_bytes());
            keys.push(format!("taobao/{}", 600_000_000_000 + i * 104_729).into_bytes());
        }
        let (_d, plain) = tree_with(&keys);
        let bounds = key_ranges(&plain);
        let used: std::collections::BTreeSet<usize> = keys
            .iter()
            .filter(|k| k.starts_with(b"aliexpress/"))
            .map(|k| range_of(&bounds, k))
            .collect();
        assert!(used.len() >= 32, "aliexpress keys in {} ranges", used.len());
        // Odd keys beside them: the ranges still hold every key once.
        keys.push(b"1688/6".to_vec());
        keys.push(b"tmall/".to_vec());
        keys.push(Vec::new());
        keys.push(b"meta/x".to_vec());
        keys.push(b"aliexpress".to_vec());
        keys.push(b"aliexpress0".to_vec());
        keys.push(vec![0xff, 0xfe]);
        keys.push(b"aliexpress/\xff\xff\xff\xff\xff\xff\xff\xff\xff".to_vec());
        let (_dir, tree) = tree_with(&keys);
        let bounds = key_ranges(&tree);
        assert!(bounds.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        // Read range by range as the helpers do: every key once.
        let mut seen: Vec<Vec<u8>> = Vec::new();
        for i in 0..=bounds.len() {
            seen.extend(range_at(&tree, &bounds, i).map(|r| r.unwrap().0.to_vec()));
        }
        let mut all = keys.clone();
        all.sort();
        assert_eq!(seen, all);
    }

    /// Keys too close to cut, one key, and an empty tree give ranges that
    /// still cover everything.
    #[test]
    fn close_single_and_no_keys_give_bounds_that_cover_all() {
        let (_d, empty) = tree_with(&[]);
        assert!(key_ranges(&empty).is_empty());
        let (_d, one) = tree_with(&[b"taobao/1".to_vec()]);
        let b = key_ranges(&one);
        assert!(b.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(
            one.range(b[0].clone()..).count(),
            1,
            "the key is in the last range"
        );
        assert_eq!(
            between(b"taobao/12", b"taobao/12", 64),
            vec![b"taobao/12000000000000000".to_vec()]
        );
    }

    /// The workers' accumulators, folded in turn, are the pass in key
    /// order, with or without workers; an error of the pass's function is
    /// returned, not a partial result.
    #[test]
    fn a_fold_over_ranges_is_the_pass_in_key_order() {
        let keys: Vec<Vec<u8>> = (0..5_000u64)
            .map(|i| format!("tmall/{}", 500_000_000_000 + i * 31).into_bytes())
            .chain([b"aliexpress/7".to_vec(), b"zz".to_vec(), Vec::new()])
            .collect();
        let (_dir, tree) = tree_with(&keys);
        let fold = |threads| {
            fold_ranges(
                &tree,
                threads,
                Vec::new,
                |acc: &mut Vec<Vec<u8>>, k, _| {
                    acc.push(k.to_vec());
                    Ok::<_, String>(())
                },
                |e| e.to_string(),
            )
            .unwrap()
        };
        let mut all = keys.clone();
        all.sort();
        assert_eq!(fold(0), vec![all.clone()], "one range, the whole tree");
        for threads in [1, 3, READ_AHEAD_THREADS] {
            let parts = fold(threads);
            assert!(parts.len() > 8, "{} ranges", parts.len());
            assert_eq!(parts.concat(), all, "{threads} workers");
        }
        let failed = fold_ranges(
            &tree,
            4,
            || 0usize,
            |n, k, _| {
                *n += 1;
                if k.as_ref() == b"tmall/500000077500" {
                    Err(format!("bad record {}", String::from_utf8_lossy(&k)))
                } else {
                    Ok(())
                }
            },
            |e| e.to_string(),
        );
        assert_eq!(failed.unwrap_err(), "bad record tmall/500000077500");
    }
}
