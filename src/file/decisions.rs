//! An analyst's decisions on listings and sellers, kept in the data folder
//! with who, when and why, and applied to findings by the desk at once and
//! by every later scan and daemon cycle.
//!
//! - **Confirm** a listing: its case is approved (opened first when the
//!   finding has a complaint draft); a `review` finding is raised to `flag`
//!   and gets its complaint draft and case at the next scan.
//! - **Dismiss** a listing with a reason (false positive, genuine product,
//!   authorised reseller, not our brand): its finding is cleared and its
//!   unfiled case withdrawn. The dismissal holds while the listing is the
//!   one the analyst saw: its [`Fingerprint`] (title, photos, price,
//!   seller). A change to any of them puts it back in the queue, with the
//!   old decision shown.
//! - **Mark a seller** authorised (cleared like a seller of the watchlist's
//!   `[authorized_sellers]`) or watched (shown in the queue and on the
//!   sellers page).
//!
//! Trees: `decisions` (listing key → [`Decision`]), `seller_marks`
//! (`platform:seller` → [`SellerMark`]). Each keeps the earlier decisions
//! of its key in `earlier`, so nothing an analyst said is lost.

use crate::file::cases::book::CaseBook;
use crate::file::cases::state::CaseState;
pub use crate::judge::decision::{
    clean_note, listing_seller, seller_key, Action, Decision, DismissReason, Fingerprint,
    SellerMark, SellerStatus, MAX_NOTE_CHARS,
};
use crate::judge::score::{Finding, Verdict};
use crate::model::error::Result;
use crate::model::listing::{Listing, Platform};
use crate::store::Store;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The store tree of listing decisions.
pub const DECISIONS_TREE: &str = "decisions";
/// The store tree of seller marks.
pub const SELLER_MARKS_TREE: &str = "seller_marks";
/// Earlier decisions kept per listing or seller.
const MAX_EARLIER: usize = 50;

/// The seller identity of a finding (store id, else name).
pub fn finding_seller(f: &Finding) -> Option<String> {
    f.seller_id
        .clone()
        .or_else(|| f.seller.clone())
        .filter(|s| !s.trim().is_empty())
}

/// Everything decided, loaded once for a scan or a page.
#[derive(Debug, Clone, Default)]
pub struct Decisions {
    pub listings: std::collections::BTreeMap<String, Decision>,
    pub sellers: std::collections::BTreeMap<String, SellerMark>,
}

impl Decisions {
    pub fn load(store: &Store) -> Result<Decisions> {
        Ok(Decisions {
            listings: store.all_in(DECISIONS_TREE)?.into_iter().collect(),
            sellers: store.all_in(SELLER_MARKS_TREE)?.into_iter().collect(),
        })
    }

    /// The mark on a listing's seller (by id, then by name).
    pub fn seller_mark(
        &self,
        platform: Platform,
        id: Option<&str>,
        name: Option<&str>,
    ) -> Option<&SellerMark> {
        [id, name]
            .into_iter()
            .flatten()
            .filter(|s| !s.trim().is_empty())
            .find_map(|s| self.sellers.get(&seller_key(platform, s)))
            .filter(|m| m.status != SellerStatus::Cleared)
    }

    /// True when the analyst confirmed this listing as it is now.
    pub fn confirms(&self, listing: &Listing) -> bool {
        self.listings.get(&listing.key()).is_some_and(|d| {
            d.action == Action::Confirmed
                && d.fingerprint.changed(&Fingerprint::of(listing)).is_empty()
        })
    }

    /// Applies the decisions to a fresh finding of `listing` (a scan's):
    /// an authorised seller clears it; a dismissal clears it while the
    /// listing is unchanged; a confirmation raises a review to flag. The
    /// finding's `decision` says which, and a stale dismissal is named in
    /// its reasons.
    pub fn apply(&self, listing: &Listing, finding: &mut Finding) {
        if let Some(mark) = self.seller_mark(
            listing.platform,
            listing.seller.id.as_deref(),
            listing.seller.name.as_deref(),
        ) {
            if mark.status == SellerStatus::Authorised {
                clear_for_seller(finding, mark);
                return;
            }
        }
        let Some(d) = self.listings.get(&listing.key()) else {
            return;
        };
        let changed = d.fingerprint.changed(&Fingerprint::of(listing));
        if !changed.is_empty() {
            finding.reasons.insert(
                0,
                format!(
                    "{} — the listing changed since ({}): decide again",
                    d.summary(),
                    changed.join(", ")
                ),
            );
            return;
        }
        apply_decision(finding, d);
    }
}

/// A finding as a decision leaves it.
pub fn apply_decision(finding: &mut Finding, d: &Decision) {
    match d.action {
        Action::Dismissed => {
            finding.verdict = Verdict::Clear;
            finding.drafts.clear();
            finding.needs_right.clear();
            finding.priority = 0;
        }
        Action::Confirmed => {
            if finding.verdict != Verdict::Flag {
                finding.verdict = Verdict::Flag;
            }
        }
    }
    let line = d.summary();
    finding.reasons.retain(|r| r != &line);
    finding.reasons.insert(0, line);
    finding.decision = Some(d.clone().without_earlier());
}

fn clear_for_seller(finding: &mut Finding, mark: &SellerMark) {
    finding.verdict = Verdict::Clear;
    finding.drafts.clear();
    finding.needs_right.clear();
    finding.priority = 0;
    let line = format!(
        "seller \"{}\" authorised by {} at {}{}",
        mark.seller,
        mark.by,
        mark.at.format("%Y-%m-%d %H:%M UTC"),
        if mark.note.is_empty() {
            String::new()
        } else {
            format!(": {}", mark.note)
        }
    );
    finding.reasons.retain(|r| r != &line);
    finding.reasons.insert(0, line);
}

impl Decision {
    fn without_earlier(mut self) -> Decision {
        self.earlier.clear();
        self
    }
}

/// The earlier decisions of a key once `previous` is replaced: its own
/// earlier ones, then itself, the newest [`MAX_EARLIER`] kept.
fn history<T>(mut previous: T, earlier_of: fn(&mut T) -> &mut Vec<T>) -> Vec<T> {
    let mut earlier = std::mem::take(earlier_of(&mut previous));
    earlier.push(previous);
    if earlier.len() > MAX_EARLIER {
        earlier.drain(..earlier.len() - MAX_EARLIER);
    }
    earlier
}

/// What a decision did, for the desk's answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Outcome {
    pub decided: Vec<String>,
    /// Cases approved (confirm) or withdrawn (dismiss).
    pub cases: Vec<String>,
    /// Confirmed review findings whose case the next scan drafts.
    pub pending_draft: Vec<String>,
    pub problems: Vec<String>,
}

/// Records a decision on each listing of `keys` and applies it: the
/// finding is updated in the store, and the listing's case approved
/// (confirm) or withdrawn while unfiled (dismiss). A key with no finding is
/// a problem named in the outcome; the others are decided.
pub fn decide(
    store: &Store,
    keys: &[String],
    action: Action,
    reason: Option<DismissReason>,
    note: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    let book = CaseBook::open(store)?;
    let note = clean_note(note);
    let mut out = Outcome::default();
    for key in keys {
        let Some(mut finding) = store.finding(key)? else {
            out.problems.push(format!("no listing {key}"));
            continue;
        };
        let Some(record) = store.listing(key)? else {
            out.problems.push(format!("no listing record {key}"));
            continue;
        };
        let previous: Option<Decision> = store.get_in(DECISIONS_TREE, key)?;
        let (verdict_before, score_before) = match &previous {
            // The verdict the scan gave, not the one a decision made.
            Some(p) => (p.verdict_before, p.score_before),
            None => (finding.verdict, finding.score),
        };
        let earlier = previous
            .map(|p| history(p, |d: &mut Decision| &mut d.earlier))
            .unwrap_or_default();
        let decision = Decision {
            key: key.clone(),
            action,
            reason: if action == Action::Dismissed {
                reason
            } else {
                None
            },
            note: note.clone(),
            by: by.to_string(),
            at: now,
            fingerprint: Fingerprint::of(&record.listing),
            verdict_before,
            score_before,
            earlier,
        };
        store.put_in(DECISIONS_TREE, key, &decision)?;
        // Back to the scan's verdict before applying: a dismissal after a
        // confirmation (or the other way) starts from what the scan found.
        if finding.decision.is_some() {
            finding.verdict = verdict_before;
            finding
                .reasons
                .retain(|r| !(r.starts_with("confirmed by ") || r.starts_with("dismissed ")));
        }
        apply_decision(&mut finding, &decision);
        store.put_finding(&finding)?;
        out.decided.push(key.clone());
        match action {
            Action::Dismissed => {
                for case in book.all()?.into_iter().filter(|c| {
                    c.listing_key() == *key
                        && matches!(c.state, CaseState::Drafted | CaseState::Approved)
                }) {
                    let why = format!("dismissed: {}", decision.summary());
                    match book.move_case(&case.id, CaseState::Withdrawn, now, Some(&why), by, None)
                    {
                        Ok(c) => out.cases.push(c.id),
                        Err(e) => out.problems.push(format!("{}: {e}", case.id)),
                    }
                }
            }
            Action::Confirmed => {
                let seen = record.last_seen;
                if finding.filing_draft().is_some() {
                    book.open_cases(&finding, seen, None, by)?;
                    for case in book
                        .all()?
                        .into_iter()
                        .filter(|c| c.listing_key() == *key && c.state == CaseState::Drafted)
                    {
                        match book.move_case(&case.id, CaseState::Approved, now, None, by, None) {
                            Ok(c) => out.cases.push(c.id),
                            Err(e) => out.problems.push(format!("{}: {e}", case.id)),
                        }
                    }
                } else {
                    out.pending_draft.push(key.clone());
                }
            }
        }
    }
    store.flush()?;
    Ok(out)
}

/// Marks a seller and applies the mark to the findings of its listings
/// now: authorised clears them and withdraws their unfiled cases.
pub fn mark_seller(
    store: &Store,
    platform: Platform,
    seller: &str,
    status: SellerStatus,
    note: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    let key = seller_key(platform, seller);
    let previous: Option<SellerMark> = store.get_in(SELLER_MARKS_TREE, &key)?;
    let earlier = previous
        .map(|p| history(p, |m: &mut SellerMark| &mut m.earlier))
        .unwrap_or_default();
    let mark = SellerMark {
        platform,
        seller: seller.trim().to_string(),
        status,
        note: clean_note(note),
        by: by.to_string(),
        at: now,
        earlier,
    };
    store.put_in(SELLER_MARKS_TREE, &key, &mark)?;
    let mut out = Outcome::default();
    if status == SellerStatus::Authorised {
        let book = CaseBook::open(store)?;
        for mut f in store.findings()? {
            let same = f.platform == platform
                && [f.seller_id.as_deref(), f.seller.as_deref()]
                    .into_iter()
                    .flatten()
                    .any(|s| seller_key(platform, s) == key);
            if !same {
                continue;
            }
            clear_for_seller(&mut f, &mark);
            store.put_finding(&f)?;
            out.decided.push(f.key());
            for case in book.all()?.into_iter().filter(|c| {
                c.listing_key() == f.key()
                    && matches!(c.state, CaseState::Drafted | CaseState::Approved)
            }) {
                let why = format!("seller {} authorised by {by}", mark.seller);
                match book.move_case(&case.id, CaseState::Withdrawn, now, Some(&why), by, None) {
                    Ok(c) => out.cases.push(c.id),
                    Err(e) => out.problems.push(format!("{}: {e}", case.id)),
                }
            }
        }
    }
    store.flush()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing() -> Listing {
        Listing {
            platform: Platform::AliExpress,
            id: "1".into(),
            url: "https://www.aliexpress.com/item/1.html".into(),
            title: "AURORA cup".into(),
            price: Some(crate::model::listing::Price {
                amount: 3.5,
                max: None,
                currency: "USD".into(),
            }),
            seller: crate::model::listing::Seller {
                name: Some("Shop".into()),
                ..Default::default()
            },
            images: vec![
                "https://ae01.alicdn.com/kf/b.jpg".into(),
                "https://ae01.alicdn.com/kf/a.jpg".into(),
            ],
            moq: None,
            sales: None,
            location: None,
            sponsored: false,
            source_url: String::new(),
            missing: Vec::new(),
        }
    }

    #[test]
    fn a_fingerprint_names_what_changed() {
        let a = Fingerprint::of(&listing());
        let mut l = listing();
        l.images.reverse();
        assert!(
            a.changed(&Fingerprint::of(&l)).is_empty(),
            "photo order is no change"
        );
        l.title = "AURORA cup 2".into();
        l.price.as_mut().unwrap().amount = 3.0;
        assert_eq!(a.changed(&Fingerprint::of(&l)), ["title", "price"]);
        l.seller.id = Some("77".into());
        assert!(a.changed(&Fingerprint::of(&l)).contains(&"seller"));
    }

    fn finding(l: &Listing, verdict: Verdict) -> Finding {
        Finding {
            platform: l.platform,
            listing_id: l.id.clone(),
            url: l.url.clone(),
            title: l.title.clone(),
            seller: l.seller.name.clone(),
            seller_id: None,
            price: l.price.clone(),
            score: 80,
            verdict,
            priority: 90,
            reasons: vec!["title matches mark".into()],
            signals: Vec::new(),
            drafts: Vec::new(),
            needs_right: Vec::new(),
            product: None,
            photos: Vec::new(),
            errors: Vec::new(),
            source_urls: Vec::new(),
            decision: None,
        }
    }

    fn dismissal(l: &Listing) -> Decision {
        Decision {
            key: l.key(),
            action: Action::Dismissed,
            reason: Some(DismissReason::GenuineProduct),
            note: "bought one".into(),
            by: "ana".into(),
            at: DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
                .unwrap()
                .into(),
            fingerprint: Fingerprint::of(l),
            verdict_before: Verdict::Flag,
            score_before: 80,
            earlier: Vec::new(),
        }
    }

    /// A dismissal clears the listing while it is the one the analyst saw;
    /// a new price puts it back in the queue with the old decision named.
    #[test]
    fn a_dismissal_holds_until_the_listing_changes() {
        let l = listing();
        let mut decided = Decisions::default();
        decided.listings.insert(l.key(), dismissal(&l));
        let mut f = finding(&l, Verdict::Flag);
        decided.apply(&l, &mut f);
        assert_eq!(f.verdict, Verdict::Clear);
        assert!(
            f.reasons[0].starts_with("dismissed (genuine product) by ana"),
            "{:?}",
            f.reasons
        );
        assert!(f.decision.is_some());

        let mut changed = listing();
        changed.price.as_mut().unwrap().amount = 2.0;
        let mut f = finding(&changed, Verdict::Flag);
        decided.apply(&changed, &mut f);
        assert_eq!(
            f.verdict,
            Verdict::Flag,
            "a changed listing is decided again"
        );
        assert!(f.decision.is_none());
        assert!(
            f.reasons[0].contains("changed since (price)"),
            "{:?}",
            f.reasons
        );
    }

    /// A seller the analyst authorised is cleared like a watchlist one; a
    /// watched seller is only marked.
    #[test]
    fn an_authorised_seller_is_cleared_and_a_watched_one_is_not() {
        let l = listing();
        let mut decided = Decisions::default();
        let mark = |status| SellerMark {
            platform: Platform::AliExpress,
            seller: "Shop".into(),
            status,
            note: String::new(),
            by: "ana".into(),
            at: Utc::now(),
            earlier: Vec::new(),
        };
        decided.sellers.insert(
            seller_key(Platform::AliExpress, "shop"),
            mark(SellerStatus::Watched),
        );
        let mut f = finding(&l, Verdict::Flag);
        decided.apply(&l, &mut f);
        assert_eq!(f.verdict, Verdict::Flag);
        decided.sellers.insert(
            seller_key(Platform::AliExpress, "SHOP "),
            mark(SellerStatus::Authorised),
        );
        decided.apply(&l, &mut f);
        assert_eq!(f.verdict, Verdict::Clear);
        assert!(
            f.reasons[0].contains("authorised by ana"),
            "{:?}",
            f.reasons
        );
        // Another platform's seller of the same name is not.
        let mut other = listing();
        other.platform = Platform::Taobao;
        let mut f = finding(&other, Verdict::Flag);
        decided.apply(&other, &mut f);
        assert_eq!(f.verdict, Verdict::Flag);
    }

    #[test]
    fn dismiss_reasons_and_seller_statuses_parse() {
        assert_eq!(
            DismissReason::parse("genuine-product"),
            Some(DismissReason::GenuineProduct)
        );
        assert_eq!(
            DismissReason::parse("Not our brand"),
            Some(DismissReason::NotOurBrand)
        );
        assert_eq!(DismissReason::parse("whatever"), None);
        assert_eq!(
            SellerStatus::parse("authorized"),
            Some(SellerStatus::Authorised)
        );
        assert_eq!(clean_note("a\u{0}b\u{1b}[31m"), "ab[31m");
        assert_eq!(clean_note(&"x".repeat(5_000)).len(), MAX_NOTE_CHARS);
    }
}
