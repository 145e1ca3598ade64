//! Letting sled's page cache evict the nodes a pass read. sled 0.34 counts
//! an access to a node against its cache (`CACHE_BYTES`) only once 64
//! accesses have queued up in that node's shard of the cache (there are
//! 256): until then a node it pulled from disk stays in memory, whatever
//! the cache's size. So a pass that reads thousands of records at random
//! (the gauges' refresh after a cycle that found 18,943 listings gone at
//! a million listings) leaves up to 16,384 nodes resident, ~80 MB at a
//! million listings (heaptrack, BENCHMARKS.md "Stop 42"), and they stay
//! until later passes happen to fill those queues.
//!
//! [`settle`] fills every queue: it reads every leaf of a small tree kept
//! for it, [`SETTLE_TREE`], whose leaves lie in every shard, so that each shard
//! counts the accesses queued before and evicts what passes its share of
//! the cache. The nodes it reads are a few hundred bytes each. A pass
//! that reads many records calls [`crate::store::Store::settle_after`] at
//! each read, which settles every [`SETTLE_AFTER_READS`].

/// The tree [`settle`] reads: 4-byte keys in order, empty values.
pub const SETTLE_TREE: &str = "cache_settle";

/// Keys in [`SETTLE_TREE`]. sled splits a leaf past 16 keys, so keys
/// written in order make ~8 a leaf: ~8,000 leaves, about 30 in each of
/// the cache's 256 shards (a node's shard is its page id modulo 256, and
/// sled hands out page ids in sequence).
const SETTLE_KEYS: u32 = 65_536;

/// Keys written a batch at a time when the tree is made (one batch of all
/// of them held ~100 MB while sled applied it).
const BUILD_BATCH: u32 = 512;

/// The fewest keys a leaf of [`SETTLE_TREE`] holds.
const LEAF_KEYS: usize = 8;

/// Times a settle reaches each leaf: with ~30 leaves a shard, three
/// passes queue ~90 accesses in each, past the 64 that make it count.
const PASSES: usize = 3;

/// Smallest store (sled's files, bytes) whose cache
/// [`crate::store::Store::settle_cache`] settles. Below it the nodes a pass
/// can leave resident are few (a 10k-listing daemon peaks under 90 MiB),
/// and making the tree (~2.5 s at first) would cost more than it gives.
pub const SETTLE_MIN_STORE_BYTES: u64 = 64 * 1024 * 1024;

/// Reads after which a long pass settles the cache
/// ([`crate::store::Store::settle_after`]): what stays resident between
/// two settles is at most about as many nodes.
pub const SETTLE_AFTER_READS: u64 = 4_096;

/// Accesses the leaves of [`SETTLE_TREE`] often enough that every shard of
/// sled's cache counts the accesses queued before and evicts what passes
/// its share (see the module). Writes the tree first where it is not
/// whole (a new store, or a build cut short). Returns whether it wrote.
pub fn settle(db: &sled::Db) -> sled::Result<bool> {
    let tree = db.open_tree(SETTLE_TREE)?;
    let built = tree.get(key(SETTLE_KEYS - 1))?.is_none();
    if built {
        let mut next = 0;
        while next < SETTLE_KEYS {
            let end = (next + BUILD_BATCH).min(SETTLE_KEYS);
            let mut batch = sled::Batch::default();
            for i in next..end {
                batch.insert(&key(i), &[]);
            }
            tree.apply_batch(batch)?;
            next = end;
        }
    }
    // One key a leaf: written in order, every leaf holds 8 or 9 keys (a
    // leaf of 17 splits in two, and only the right half grows). A read
    // reaches its leaf as a walk does, for half the time of a walk's
    // `next` at every key.
    for _ in 0..PASSES {
        for i in (0..SETTLE_KEYS).step_by(LEAF_KEYS) {
            tree.get(key(i))?;
        }
    }
    Ok(built)
}

fn key(i: u32) -> [u8; 4] {
    i.to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, sled::Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new()
            .path(dir.path().join("db"))
            .cache_capacity(64 * 1024)
            .open()
            .unwrap();
        (dir, db)
    }

    #[test]
    fn the_tree_is_made_once_whole_and_in_order() {
        let (_dir, db) = db();
        assert!(settle(&db).unwrap());
        assert!(!settle(&db).unwrap());
        let tree = db.open_tree(SETTLE_TREE).unwrap();
        let keys: Vec<u32> = tree
            .iter()
            .keys()
            .map(|k| u32::from_be_bytes(k.unwrap().as_ref().try_into().unwrap()))
            .collect();
        assert_eq!(keys, (0..SETTLE_KEYS).collect::<Vec<_>>());
        assert!(tree.iter().values().all(|v| v.unwrap().is_empty()));
    }

    #[test]
    fn a_build_cut_short_is_completed() {
        let (_dir, db) = db();
        let tree = db.open_tree(SETTLE_TREE).unwrap();
        for i in 0..1000 {
            tree.insert(key(i), &[]).unwrap();
        }
        assert!(settle(&db).unwrap());
        assert_eq!(tree.len(), SETTLE_KEYS as usize);
    }

    #[test]
    fn the_other_trees_are_left_as_they_were() {
        let (_dir, db) = db();
        let listings = db.open_tree("listings").unwrap();
        for i in 0..5000u32 {
            listings
                .insert(format!("aliexpress/{i}"), vec![(i % 251) as u8; 600])
                .unwrap();
        }
        db.insert("meta/schema", "3").unwrap();
        let before: Vec<_> = listings.iter().map(|kv| kv.unwrap()).collect();
        // Reads at random, as a pass does, then settles twice.
        for i in (0..5000u32).rev().step_by(7) {
            assert!(listings.get(format!("aliexpress/{i}")).unwrap().is_some());
        }
        settle(&db).unwrap();
        settle(&db).unwrap();
        let after: Vec<_> = listings.iter().map(|kv| kv.unwrap()).collect();
        assert_eq!(before, after);
        assert_eq!(db.get("meta/schema").unwrap().unwrap(), "3");
    }
}
