//! Sellers across listings: repeat offenders (≥ 3 takedowns) and seller
//! networks (sellers joined by a shared store id, a shared contact in
//! their titles, or a reused photo), grouped with union-find.
//!
//! Both are derived from the store on demand, never stored: nothing to
//! keep consistent after a crash. Every group comes with the edges that
//! join it, so an analyst can judge each link (a photo every counterfeiter
//! steals from the brand links sellers that may not know each other).

use crate::file::cases::book::{Case, CaseFacts};
pub use crate::model::seller::{contacts, digest, seller_node, SellerDigests, SellerLinks};
use crate::store::{ListingRecord, PageRecord};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Takedowns that make a seller a repeat offender.
pub const REPEAT_OFFENDER_TAKEDOWNS: usize = 3;

/// A seller with its takedowns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Offender {
    pub seller: String,
    pub takedowns: usize,
    /// Case ids of the takedowns.
    pub cases: Vec<String>,
    pub repeat: bool,
}

/// Sellers by number of listings taken down (distinct listings), most first.
pub fn offenders(cases: &[Case]) -> Vec<Offender> {
    let by = takedowns_by_seller(cases.iter().filter(|c| c.was_taken_down()).map(|c| {
        let seller = seller_node(c.platform, c.seller.as_deref(), c.seller_id.as_deref());
        (seller, c.listing_key(), c.id.clone())
    }));
    let mut out: Vec<Offender> = by
        .into_iter()
        .map(|(seller, (listings, cases))| Offender {
            seller,
            takedowns: listings,
            cases,
            repeat: listings >= REPEAT_OFFENDER_TAKEDOWNS,
        })
        .collect();
    out.sort_by(|a, b| b.takedowns.cmp(&a.takedowns).then(a.seller.cmp(&b.seller)));
    out
}

/// How many sellers are repeat offenders, from cases reduced to their
/// facts (the daemon's gauge; the same count as [`offenders`]).
pub fn repeat_offender_count<'a>(cases: impl IntoIterator<Item = &'a CaseFacts>) -> usize {
    takedowns_by_seller(
        cases
            .into_iter()
            .filter(|c| c.taken_down)
            .map(|c| (c.seller, c.listing, ())),
    )
    .values()
    .filter(|(listings, _)| *listings >= REPEAT_OFFENDER_TAKEDOWNS)
    .count()
}

/// Taken-down cases `(seller, listing, id)` grouped by seller: the number
/// of distinct listings taken down, and the ids of the cases that first
/// took each down, in the order given.
fn takedowns_by_seller<S: Ord, L: Ord, I>(
    taken_down: impl Iterator<Item = (S, L, I)>,
) -> BTreeMap<S, (usize, Vec<I>)> {
    let mut by: BTreeMap<S, (BTreeSet<L>, Vec<I>)> = BTreeMap::new();
    for (seller, listing, id) in taken_down {
        let e = by.entry(seller).or_default();
        if e.0.insert(listing) {
            e.1.push(id);
        }
    }
    by.into_iter()
        .map(|(s, (listings, ids))| (s, (listings.len(), ids)))
        .collect()
}

/// Why two sellers are linked.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Edge {
    pub a: String,
    pub b: String,
    /// `store_id`, `contact` or `photo`.
    pub kind: String,
    /// The shared value (store id, contact, photo sha256).
    pub value: String,
}

/// A group of linked sellers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Network {
    pub sellers: Vec<String>,
    pub edges: Vec<Edge>,
}

/// Union-find over indices, with path halving and union by size.
struct UnionFind {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        if self.size[ra] < self.size[rb] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb] = ra;
        self.size[ra] += self.size[rb];
    }
}

/// The listings networks are drawn over: those whose latest finding is
/// `flag` or `review`. Cleared listings (authorized sellers, unrelated
/// goods) would join counterfeiters to the brand's own stores through the
/// official photos both show.
pub fn suspect_listings(store: &crate::store::Store) -> crate::Result<Vec<ListingRecord>> {
    let mut suspect: BTreeSet<String> = BTreeSet::new();
    // The briefs are exactly the flagged and review findings.
    store.for_each_suspect(|key, _| {
        suspect.insert(key.to_string());
    })?;
    // Read by key: a store's cleared listings (most of its history) are
    // not read at all.
    let mut out = Vec::new();
    for key in &suspect {
        if let Some(rec) = store.listing(key)? {
            out.push(rec);
        }
    }
    Ok(out)
}

/// The latest captures of `listings`' photo URLs, looked up by URL: all
/// [`networks`] reads of the store's pages, without loading every page
/// record.
pub fn photo_pages(
    store: &crate::store::Store,
    listings: &[ListingRecord],
) -> crate::Result<HashMap<String, PageRecord>> {
    let mut out = HashMap::new();
    for url in listings.iter().flat_map(|r| &r.listing.images) {
        if !out.contains_key(url) {
            if let Some(p) = store.page_for_url(url)? {
                out.insert(url.clone(), p);
            }
        }
    }
    Ok(out)
}

/// Seller networks of two or more sellers, largest first. `pages` maps
/// photo URLs to their captures (for photo hashes).
pub fn networks(listings: &[ListingRecord], pages: &HashMap<String, PageRecord>) -> Vec<Network> {
    // Shared value → sellers using it.
    let mut shared: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for rec in listings {
        let links = SellerLinks::of(&rec.listing);
        for (kind, value) in links.values(|url| photo_sha(pages.get(url))) {
            shared
                .entry((kind.into(), value.into()))
                .or_default()
                .insert(links.node.clone());
        }
    }
    let nodes: Vec<String> = shared
        .values()
        .flatten()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let index: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut uf = UnionFind::new(nodes.len());
    let mut edges = Vec::new();
    for ((kind, value), sellers) in &shared {
        let v: Vec<&String> = sellers.iter().collect();
        // A star from the first seller is enough to join them all, and
        // says which value joined them.
        for other in v.iter().skip(1) {
            uf.union(index[v[0].as_str()], index[other.as_str()]);
            edges.push(Edge {
                a: v[0].clone(),
                b: (*other).clone(),
                kind: kind.clone(),
                value: value.clone(),
            });
        }
    }
    let mut groups: BTreeMap<usize, Network> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let root = uf.find(i);
        groups
            .entry(root)
            .or_insert_with(|| Network {
                sellers: Vec::new(),
                edges: Vec::new(),
            })
            .sellers
            .push(n.clone());
    }
    for e in edges {
        let root = uf.find(index[e.a.as_str()]);
        if let Some(g) = groups.get_mut(&root) {
            g.edges.push(e);
        }
    }
    let mut out: Vec<Network> = groups
        .into_values()
        .filter(|g| g.sellers.len() > 1)
        .collect();
    for g in &mut out {
        g.edges.sort();
    }
    out.sort_by(|a, b| {
        b.sellers
            .len()
            .cmp(&a.sellers.len())
            .then(a.sellers.cmp(&b.sellers))
    });
    out
}

/// The SHA-256 a photo URL's capture links sellers by: that of a capture
/// that answered 2xx.
pub fn photo_sha(page: Option<&PageRecord>) -> Option<&str> {
    page.filter(|p| (200..300).contains(&p.status))
        .map(|p| p.sha256.as_str())
}

/// How many [`networks`] listings form, each given as its seller node and
/// the values it shares (`(kind, value)` pairs, or any stand-in for them
/// that is equal exactly when they are, such as the digests of
/// [`SellerDigests`]): the same count as [`networks`], without building
/// the networks' seller lists and edges.
pub fn network_count<N, V, I>(listings: impl Iterator<Item = (N, I)>) -> usize
where
    N: std::hash::Hash + Eq,
    V: std::hash::Hash + Eq,
    I: IntoIterator<Item = V>,
{
    // A big brand's year is ~600,000 suspects, but far fewer sellers and
    // shared values (a seller has many listings; the brand's photos are
    // stolen by many): the maps grow with what is distinct, not with the
    // suspects. Sized for every suspect up front they took ~50 MB, all of
    // it faulted in after every cycle, at the top of the daemon's memory
    // (3x slower too, on suspects of 20,000 sellers; as fast when every
    // value is distinct: BENCHMARKS.md "Stop 35"). foldhash is seeded per
    // process, so page content cannot choose collisions.
    let hasher = foldhash::fast::RandomState::default();
    let mut nodes: HashMap<N, usize, _> = HashMap::with_hasher(hasher.clone());
    let mut first: HashMap<V, usize, _> = HashMap::with_hasher(hasher);
    let mut uf = UnionFind::new(0);
    for (node, values) in listings {
        let next = nodes.len();
        let n = *nodes.entry(node).or_insert(next);
        if n == uf.parent.len() {
            uf.parent.push(n);
            uf.size.push(1);
        }
        for kv in values {
            match first.get(&kv) {
                Some(&m) => uf.union(m, n),
                None => {
                    first.insert(kv, n);
                }
            }
        }
    }
    // Union by size keeps each group's size at its root.
    (0..uf.parent.len())
        .filter(|&i| uf.find(i) == i && uf.size[i] > 1)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_find_joins_transitively() {
        let mut uf = UnionFind::new(4);
        uf.union(0, 1);
        uf.union(2, 3);
        assert_ne!(uf.find(0), uf.find(2));
        uf.union(1, 3);
        assert_eq!(uf.find(0), uf.find(2));
    }
}
