//! Multi-index hashing (Norouzi, Punjani & Fleet, 2012) over 128-bit keys:
//! exact Hamming-radius search that does not scan every entry.
//!
//! The key is cut into [`CHUNKS`] 16-bit chunks, each with its own table
//! from chunk value to entry ids. If two keys are within distance `r`, then
//! by the pigeonhole principle at least one chunk differs in at most
//! `r / CHUNKS` bits; so a search probes, in every table, all chunk values
//! within that small radius, and checks the full distance of the
//! candidates it finds, each once (a bitmap of entries seen).
//!
//! Measured on real photo hashes (`cargo bench --bench index_scale`,
//! BENCHMARKS.md), that pays only at tight radii: at 22 bits (2 bits a
//! chunk, 137 probes a table) it is about 1.4× faster than a scan; at the
//! second stage's 39 bits (4 a chunk, 2,517 probes a table) the probes turn
//! up over a third of all entries, photo hashes being far from uniform, and
//! a plain scan of the contiguous keys is 8-10× faster. So [`within`]
//! probes the tables up to [`MAX_PROBE_RADIUS`] bits a chunk and scans
//! beyond.
//!
//! [`within`]: MultiIndex::within

use rustc_hash::FxHashMap as HashMap;

/// Number of 16-bit chunks in a 128-bit key.
pub const CHUNKS: usize = 8;

/// An exact Hamming-radius index of 128-bit keys; entry ids are insertion
/// order.
#[derive(Debug, Default, Clone)]
pub struct MultiIndex {
    keys: Vec<u128>,
    tables: Vec<HashMap<u16, Vec<u32>>>,
}

fn chunk(key: u128, i: usize) -> u16 {
    (key >> (16 * i)) as u16
}

impl MultiIndex {
    pub fn new() -> Self {
        MultiIndex {
            keys: Vec::new(),
            tables: vec![HashMap::default(); CHUNKS],
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Adds a key; returns its id.
    pub fn insert(&mut self, key: u128) -> u32 {
        let id = self.keys.len() as u32;
        self.keys.push(key);
        for (i, table) in self.tables.iter_mut().enumerate() {
            table.entry(chunk(key, i)).or_default().push(id);
        }
        id
    }

    pub fn key(&self, id: u32) -> Option<u128> {
        self.keys.get(id as usize).copied()
    }

    /// All entries within Hamming distance `radius` of `query`, as
    /// `(id, distance)` sorted by id.
    pub fn within(&self, query: u128, radius: u32) -> Vec<(u32, u32)> {
        if radius / CHUNKS as u32 > MAX_PROBE_RADIUS {
            self.scan(query, radius)
        } else {
            self.probe(query, radius)
        }
    }

    /// Every entry within `radius`, through the chunk tables (exact at any
    /// radius; see the module notes for when it pays).
    pub fn probe(&self, query: u128, radius: u32) -> Vec<(u32, u32)> {
        let sub_radius = radius / CHUNKS as u32;
        let mut seen = vec![0u64; self.keys.len().div_ceil(64)];
        let mut found: Vec<(u32, u32)> = Vec::new();
        let mut probe = |table: &HashMap<u16, Vec<u32>>, value: u16| {
            for &id in table.get(&value).map(Vec::as_slice).unwrap_or_default() {
                let (word, bit) = (id as usize / 64, 1u64 << (id % 64));
                if seen[word] & bit == 0 {
                    seen[word] |= bit;
                    let d = (self.keys[id as usize] ^ query).count_ones();
                    if d <= radius {
                        found.push((id, d));
                    }
                }
            }
        };
        for (i, table) in self.tables.iter().enumerate() {
            let q = chunk(query, i);
            for_each_within(q, sub_radius, &mut |v| probe(table, v));
        }
        found.sort_unstable();
        found
    }
}

/// Calls `f` with every 16-bit value within Hamming distance `radius` of
/// `value` (each exactly once).
/// Largest per-chunk radius [`MultiIndex::within`] probes the tables for;
/// wider searches scan the keys (see the module notes).
pub const MAX_PROBE_RADIUS: u32 = 2;

impl MultiIndex {
    /// Every entry within `radius`, by comparing the query with each key.
    pub fn scan(&self, query: u128, radius: u32) -> Vec<(u32, u32)> {
        self.keys
            .iter()
            .enumerate()
            .filter_map(|(id, &k)| {
                let d = (k ^ query).count_ones();
                (d <= radius).then_some((id as u32, d))
            })
            .collect()
    }
}

fn for_each_within(value: u16, radius: u32, f: &mut impl FnMut(u16)) {
    fn recurse(value: u16, from_bit: u32, left: u32, f: &mut impl FnMut(u16)) {
        f(value);
        if left == 0 {
            return;
        }
        for bit in from_bit..16 {
            recurse(value ^ (1 << bit), bit + 1, left - 1, f);
        }
    }
    recurse(value, 0, radius.min(16), f);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn probes_each_neighbour_once() {
        let mut seen = Vec::new();
        for_each_within(0b1010, 2, &mut |v| seen.push(v));
        assert_eq!(seen.len(), 1 + 16 + 120);
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 1 + 16 + 120);
    }

    fn brute(keys: &[u128], q: u128, r: u32) -> Vec<(u32, u32)> {
        keys.iter()
            .enumerate()
            .filter_map(|(i, &k)| {
                let d = (k ^ q).count_ones();
                (d <= r).then_some((i as u32, d))
            })
            .collect()
    }

    /// Keys clustered around a few centres, so that small radii find
    /// something (uniform random 128-bit keys are ~64 bits apart).
    fn clustered() -> impl Strategy<Value = (Vec<u128>, u128, u32)> {
        (
            prop::collection::vec(any::<u128>(), 1..4),
            prop::collection::vec((0usize..4, prop::collection::vec(0u32..128, 0..20)), 1..200),
            (0usize..4, prop::collection::vec(0u32..128, 0..20)),
            0u32..40,
        )
            .prop_map(|(centres, entries, (qc, qflips), r)| {
                let make = |c: usize, flips: &[u32]| {
                    flips
                        .iter()
                        .fold(centres[c % centres.len()], |k, &b| k ^ (1u128 << b))
                };
                let keys = entries.iter().map(|(c, f)| make(*c, f)).collect();
                (keys, make(qc, &qflips), r)
            })
    }

    proptest! {
        #[test]
        fn agrees_with_brute_force((keys, q, r) in clustered()) {
            let mut idx = MultiIndex::new();
            for &k in &keys { idx.insert(k); }
            let expected = brute(&keys, q, r);
            prop_assert_eq!(idx.probe(q, r), expected.clone());
            prop_assert_eq!(idx.scan(q, r), expected.clone());
            prop_assert_eq!(idx.within(q, r), expected);
        }
    }
}
