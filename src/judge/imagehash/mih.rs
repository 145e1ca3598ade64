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
//! The tables are built on the first probe, not as keys are added: the
//! matcher looks up at the wide radius only, so in a daemon they would
//! be memory never read (~34 MB of hash maps for the scale bench's 500
//! references, 262,000 keys; BENCHMARKS.md, "Scale", stop 51). Built,
//! they are two flat arrays a chunk (ids grouped by the chunk's value),
//! 4 bytes a key.
//!
//! [`within`]: MultiIndex::within

use std::sync::OnceLock;

/// Number of 16-bit chunks in a 128-bit key.
pub const CHUNKS: usize = 8;

/// An exact Hamming-radius index of 128-bit keys; entry ids are insertion
/// order.
#[derive(Debug, Default, Clone)]
pub struct MultiIndex {
    /// Each key's low and high 64 bits, apart: a scan XORs and counts
    /// whole lines of either (see [`MultiIndex::scan`]).
    low: Vec<u64>,
    high: Vec<u64>,
    /// Built by the first [`MultiIndex::probe`], dropped by an insert.
    tables: OnceLock<ChunkTables>,
}

/// For each of the [`CHUNKS`] chunks, the entry ids grouped by the
/// chunk's value, ascending within a group: the ids whose chunk `t` is
/// `v` are `ids[t][starts[t][v]..starts[t][v + 1]]`.
#[derive(Debug, Clone)]
struct ChunkTables {
    starts: Vec<Vec<u32>>,
    ids: Vec<Vec<u32>>,
}

impl ChunkTables {
    /// Groups every key's id by each chunk's value (a counting sort).
    fn build(low: &[u64], high: &[u64]) -> ChunkTables {
        let keys = || {
            low.iter()
                .zip(high)
                .map(|(&l, &h)| (h as u128) << 64 | l as u128)
        };
        let (mut starts, mut ids) = (Vec::with_capacity(CHUNKS), Vec::with_capacity(CHUNKS));
        for t in 0..CHUNKS {
            let mut start = vec![0u32; (1 << 16) + 1];
            for key in keys() {
                start[chunk(key, t) as usize + 1] += 1;
            }
            for v in 0..1 << 16 {
                start[v + 1] += start[v];
            }
            let mut next = start.clone();
            let mut group = vec![0u32; low.len()];
            for (id, key) in keys().enumerate() {
                let slot = &mut next[chunk(key, t) as usize];
                group[*slot as usize] = id as u32;
                *slot += 1;
            }
            starts.push(start);
            ids.push(group);
        }
        ChunkTables { starts, ids }
    }

    /// The ids whose chunk `t` is `value`.
    fn group(&self, t: usize, value: u16) -> &[u32] {
        let (from, to) = (
            self.starts[t][value as usize],
            self.starts[t][value as usize + 1],
        );
        &self.ids[t][from as usize..to as usize]
    }
}

fn chunk(key: u128, i: usize) -> u16 {
    (key >> (16 * i)) as u16
}

impl MultiIndex {
    pub fn new() -> Self {
        MultiIndex {
            low: Vec::new(),
            high: Vec::new(),
            tables: OnceLock::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.low.len()
    }

    pub fn is_empty(&self) -> bool {
        self.low.is_empty()
    }

    /// Adds a key; returns its id.
    pub fn insert(&mut self, key: u128) -> u32 {
        let id = self.low.len() as u32;
        self.low.push(key as u64);
        self.high.push((key >> 64) as u64);
        self.tables.take();
        id
    }

    pub fn key(&self, id: u32) -> Option<u128> {
        let (low, high) = (self.low.get(id as usize)?, self.high.get(id as usize)?);
        Some((*high as u128) << 64 | *low as u128)
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
        let mut seen = vec![0u64; self.len().div_ceil(64)];
        let mut found: Vec<(u32, u32)> = Vec::new();
        let tables = self
            .tables
            .get_or_init(|| ChunkTables::build(&self.low, &self.high));
        let mut probe = |t: usize, value: u16| {
            for &id in tables.group(t, value) {
                let (word, bit) = (id as usize / 64, 1u64 << (id % 64));
                if seen[word] & bit == 0 {
                    seen[word] |= bit;
                    let (low, high) = (self.low[id as usize], self.high[id as usize]);
                    let d = (low ^ query as u64).count_ones()
                        + (high ^ (query >> 64) as u64).count_ones();
                    if d <= radius {
                        found.push((id, d));
                    }
                }
            }
        };
        for t in 0..CHUNKS {
            for_each_within(chunk(query, t), sub_radius, &mut |v| probe(t, v));
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
    /// Every entry within `radius`, by comparing the query with each key:
    /// [`distances`] over blocks of [`SCAN_BLOCK`] keys, then the entries
    /// within `radius` picked out of the blocks that hold any.
    pub fn scan(&self, query: u128, radius: u32) -> Vec<(u32, u32)> {
        let mut found = Vec::new();
        let mut d = [0u8; SCAN_BLOCK];
        let blocks = self
            .low
            .chunks(SCAN_BLOCK)
            .zip(self.high.chunks(SCAN_BLOCK));
        for (block, (low, high)) in blocks.enumerate() {
            let d = &mut d[..low.len()];
            distances(low, high, query, d);
            // Most blocks hold no key within `radius` (a reference's
            // variants are neighbours in id order, and so are their
            // distances): one vector minimum rules a block out.
            if d.iter().min().is_none_or(|&m| m as u32 > radius) {
                continue;
            }
            let first = block * SCAN_BLOCK;
            for (i, &x) in d.iter().enumerate() {
                if x as u32 <= radius {
                    found.push(((first + i) as u32, x as u32));
                }
            }
        }
        found
    }
}

/// Keys a scan compares at a time ([`distances`]).
const SCAN_BLOCK: usize = 256;

/// The Hamming distance of `query` to each key given by its `low` and
/// `high` halves, into `out` (as long as the shortest). A loop of XORs
/// and bit counts alone, which the compiler runs in vector lanes where
/// the CPU has AVX2 (`multiversion`, chosen at run time). A reference has
/// 486 variant keys, 972 with a trimmed part, so 500 references have
/// 243,000–486,000, scanned two to four times for every photo: the scan
/// was a fifth of a photo's matching at 500 references (BENCHMARKS.md,
/// "stop 47").
#[multiversion::multiversion(targets("x86_64+avx2+popcnt", "x86_64+popcnt"))]
fn distances(low: &[u64], high: &[u64], query: u128, out: &mut [u8]) {
    let (ql, qh) = (query as u64, (query >> 64) as u64);
    for ((o, &l), &h) in out.iter_mut().zip(low).zip(high) {
        *o = ((l ^ ql).count_ones() + (h ^ qh).count_ones()) as u8;
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

    /// A scan over many blocks of [`SCAN_BLOCK`] keys, the last one short,
    /// with the keys within reach in some blocks only (as a reference's
    /// variants are): the same entries as comparing every key.
    #[test]
    fn a_scan_over_many_blocks_finds_what_comparing_every_key_finds() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let query = (next() as u128) << 64 | next() as u128;
        let keys: Vec<u128> = (0..SCAN_BLOCK * 5 + 37)
            .map(|i| {
                if (SCAN_BLOCK * 2..SCAN_BLOCK * 2 + 40).contains(&i) || i % 301 == 0 {
                    // Near the query: up to 45 bits flipped.
                    (0..next() % 46).fold(query, |k, _| k ^ (1u128 << (next() % 128)))
                } else {
                    (next() as u128) << 64 | next() as u128
                }
            })
            .collect();
        let mut idx = MultiIndex::new();
        for &k in &keys {
            idx.insert(k);
        }
        for radius in [0, 10, 22, 39, 64, 128] {
            let expected = brute(&keys, query, radius);
            assert_eq!(idx.scan(query, radius), expected, "radius {radius}");
        }
        assert!(!brute(&keys, query, 39).is_empty());
    }

    /// The tables a probe built are rebuilt after another insert: a key
    /// added after a probe is found by the next one.
    #[test]
    fn a_probe_after_an_insert_finds_the_new_key() {
        let mut idx = MultiIndex::new();
        let first = 0x0123_4567_89ab_cdef_0011_2233_4455_6677u128;
        idx.insert(first);
        assert_eq!(idx.probe(first ^ 0b101, 2), vec![(0, 2)]);
        let second = first ^ (1u128 << 100);
        idx.insert(second);
        assert_eq!(idx.probe(first ^ 0b101, 3), vec![(0, 2), (1, 3)]);
        assert_eq!(idx.probe(second, 0), vec![(1, 0)]);
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
