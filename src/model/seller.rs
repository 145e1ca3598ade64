//! What links a listing's seller to other sellers: the name it goes by,
//! its store id, the contacts its title gives away and its photos, as
//! strings ([`SellerLinks`]) and as 64-bit digests ([`SellerDigests`]),
//! which the store keeps beside each suspect listing and the daemon keeps
//! in memory for its seller-network gauge (`file::network` groups them).

use crate::model::listing::{Listing, Platform};
use std::collections::BTreeSet;

/// The name a seller goes by in reports: `platform:name` (or the store id).
pub fn seller_node(platform: Platform, name: Option<&str>, id: Option<&str>) -> String {
    let who = name
        .filter(|n| !n.trim().is_empty())
        .or(id)
        .unwrap_or("(unknown seller)");
    format!("{}:{}", platform.as_str(), who.trim())
}

/// What can link one listing's seller to others (the seller networks of
/// `file::network`): its
/// seller node, its store id and the contacts in its title, and its photo
/// URLs (whose captures' hashes link it). Small enough to keep for every
/// suspect listing in memory (the daemon's seller-network gauge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SellerLinks {
    pub node: String,
    /// `(kind, value)`: `store_id` and `contact` values.
    pub fixed: Vec<(&'static str, String)>,
    pub photos: Vec<String>,
}

impl SellerLinks {
    /// The links of a listing. Suspect briefs keep their digests in the
    /// store (`crate::store::briefs`): a change to what they hold needs a
    /// new `crate::store::briefs::LINKS_VERSION`, so stored ones are
    /// rebuilt.
    pub fn of(l: &Listing) -> SellerLinks {
        let node = seller_node(l.platform, l.seller.name.as_deref(), l.seller.id.as_deref());
        let mut fixed = Vec::new();
        if let Some(id) = l.seller.id.as_deref().filter(|s| !s.trim().is_empty()) {
            fixed.push(("store_id", format!("{}:{}", l.platform, id.trim())));
        }
        for c in contacts(&l.title) {
            fixed.push(("contact", c));
        }
        SellerLinks {
            node,
            fixed,
            photos: l.images.clone(),
        }
    }

    /// Every `(kind, value)` this listing shares, photos by the hash
    /// `photo_sha` gives their URL (none: not linked by that photo).
    pub fn values<'a>(
        &'a self,
        photo_sha: impl Fn(&str) -> Option<&'a str> + 'a,
    ) -> impl Iterator<Item = (&'static str, &'a str)> + 'a {
        self.fixed.iter().map(|(k, v)| (*k, v.as_str())).chain(
            self.photos
                .iter()
                .filter_map(move |u| photo_sha(u).map(|sha| ("photo", sha))),
        )
    }
}

/// [`SellerLinks`] as 64-bit digests, for keeping every suspect listing's
/// links in memory at a fixed small size (the daemon's seller-network
/// gauge): the node, each `(kind, value)` it shares, and its photo URLs
/// (whose hashes are looked up by URL digest). Two different strings
/// share a digest with probability about 2⁻⁶⁴ per pair; for a gauge over
/// millions of values that is a miscount once in billions of brands.
///
/// Kept in one allocation (the node, the number of shared values, their
/// digests, then the photo URLs' digests): a suspect costs the daemon
/// about 80 bytes, and a big brand has hundreds of thousands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SellerDigests {
    all: Box<[u64]>,
}

impl SellerDigests {
    pub fn of(links: &SellerLinks) -> SellerDigests {
        let mut all = Vec::with_capacity(2 + links.fixed.len() + links.photos.len());
        all.push(digest("node", &links.node));
        all.push(links.fixed.len() as u64);
        all.extend(links.fixed.iter().map(|(k, v)| digest(k, v)));
        all.extend(links.photos.iter().map(|u| digest("url", u)));
        SellerDigests {
            all: all.into_boxed_slice(),
        }
    }

    /// The digests as one sequence (what [`DigestsView::of_raw`] reads
    /// back), for keeping them in the store.
    pub fn raw(&self) -> &[u64] {
        &self.all
    }

    /// The digests, borrowed.
    pub fn view(&self) -> DigestsView<'_> {
        DigestsView { all: &self.all }
    }
}

/// [`SellerDigests`] borrowed, or kept in a larger sequence (the daemon
/// keeps every suspect's in one arena).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestsView<'a> {
    all: &'a [u64],
}

impl<'a> DigestsView<'a> {
    /// The view of a sequence [`SellerDigests::raw`] gave; `None` when the
    /// sequence is not one (too short, or a count past its end: a damaged
    /// record).
    pub fn of_raw(all: &'a [u64]) -> Option<DigestsView<'a>> {
        let fixed = usize::try_from(*all.get(1)?).ok()?;
        (fixed <= all.len() - 2).then_some(DigestsView { all })
    }

    /// The digests as one sequence ([`SellerDigests::raw`]).
    pub fn raw(self) -> &'a [u64] {
        self.all
    }

    /// The digest of the seller's node.
    pub fn node(self) -> u64 {
        self.all[0]
    }

    /// The digests of the `(kind, value)` pairs other than photos.
    fn fixed(self) -> &'a [u64] {
        &self.all[2..2 + self.fixed_len()]
    }

    /// The digests of the photo URLs, in the order of [`SellerLinks::photos`].
    pub fn photos(self) -> &'a [u64] {
        &self.all[2 + self.fixed_len()..]
    }

    fn fixed_len(self) -> usize {
        // `of_raw` checked it is within the slice.
        self.all[1] as usize
    }

    /// The digests of every `(kind, value)` this listing shares, photos
    /// by the digest of their hash that `photo` gives for a URL digest.
    pub fn values(self, photo: impl Fn(u64) -> Option<u64> + 'a) -> impl Iterator<Item = u64> + 'a {
        self.fixed()
            .iter()
            .copied()
            .chain(self.photos().iter().filter_map(move |&u| photo(u)))
    }
}

/// A stable 64-bit digest of a `(kind, value)` pair (SipHash with fixed
/// keys: the same in every run of a build).
pub fn digest(kind: &str, value: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    #[allow(deprecated)]
    let mut h = std::hash::SipHasher::new();
    kind.hash(&mut h);
    value.hash(&mut h);
    h.finish()
}

/// Contacts a title gives away: e-mail addresses, WeChat/WhatsApp ids
/// after their marker, and mainland mobile numbers (11 digits from 1).
pub fn contacts(text: &str) -> Vec<String> {
    let mut out = BTreeSet::new();
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || ",;，；()（）[]【】".contains(c))
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        let lw = w.to_lowercase();
        if let Some(at) = lw.find('@') {
            let (user, domain) = lw.split_at(at);
            if !user.is_empty() && domain.len() > 3 && domain.contains('.') {
                out.insert(format!("email:{}", lw.trim_end_matches('.')));
            }
        }
        for marker in ["wechat", "weixin", "微信", "whatsapp", "vx", "wa"] {
            let Some(after) = lw.strip_prefix(marker) else {
                continue;
            };
            let separated = after.starts_with([':', '：', '-', '_']);
            let rest = after.trim_start_matches([':', '：', '-', '_']);
            // Short markers ("vx", "wa") start ordinary words too ("wall"):
            // they count only with a separator or on their own.
            let long = marker.chars().count() > 2;
            let id = if rest.is_empty() {
                words.get(i + 1).map(|s| s.to_lowercase())
            } else if separated || long {
                Some(rest.to_string())
            } else {
                None
            };
            if let Some(id) = id.filter(|s| s.chars().count() >= 5) {
                out.insert(format!("chat:{id}"));
            }
            break;
        }
        let digits: String = w.chars().filter(|c| c.is_ascii_digit()).collect();
        if digits.len() == 11
            && digits.starts_with('1')
            && w.chars()
                .all(|c| c.is_ascii_digit() || c == '-' || c == '+')
        {
            out.insert(format!("phone:{digits}"));
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Digests read back from the store are checked: a damaged sequence
    /// is none (the daemon then reads the listing), never a panic.
    #[test]
    fn damaged_digest_sequences_are_refused() {
        for bad in [&[][..], &[7], &[7, 2, 1], &[7, u64::MAX, 1, 2]] {
            assert_eq!(DigestsView::of_raw(bad), None, "{bad:?}");
        }
        let v = DigestsView::of_raw(&[7, 1, 11, 21, 22]).unwrap();
        assert_eq!((v.node(), v.photos()), (7, &[21, 22][..]));
        assert_eq!(v.values(|u| Some(u + 1)).collect::<Vec<_>>(), [11, 22, 23]);
    }

    #[test]
    fn contacts_are_found_in_titles() {
        assert_eq!(
            contacts("AURORA cup wechat: aurora8888 call 138-0013-8000 sales@cheap.example"),
            vec![
                "chat:aurora8888".to_string(),
                "email:sales@cheap.example".into(),
                "phone:13800138000".into()
            ]
        );
        assert_eq!(
            contacts("微信:abc12345 杯子"),
            vec!["chat:abc12345".to_string()]
        );
        assert_eq!(
            contacts("vx:cupking88 wall art"),
            vec!["chat:cupking88".to_string()]
        );
        assert!(contacts("Aurora Espresso Cup 80ml wall wax").is_empty());
    }
}
