//! Scoring: signals with evidence → a score, a verdict and reasons.
//!
//! Every point of a score comes from a [`Signal`] that carries its
//! evidence, so a finding can always say why. The weights:
//!
//! | signal | points | evidence |
//! |---|---|---|
//! | mark in title, as written (exact, full-width letters) | 35 | mark, variant, rule |
//! | mark in title, disguised (leetspeak, look-alikes, spacing, fuzzy) | 45 | mark, variant, rule, edits — disguise is itself a sign of evasion |
//! | mark that is a common word, written as such or as an innocent variant (exact, full-width, spaced out, fuzzy), without context | 10 | as above; context = a product keyword, an official photo, an indicator term, or goods of a class the mark is registered for |
//! | listing photo matches an official photo | 40 | photo URL, official photo, Hamming distance, transform |
//! | counterfeit indicator term ("replica", "1:1", "高仿") | 30, +10 per further term, max 40 | the terms |
//! | price ≥ 50% below the reference price | 15 | price, reference, % below |
//! | price ≥ 70% below the reference price | 25 | price, reference, % below |
//! | price on a wholesale platform, product without a wholesale price | 0 (a note: the rule was not applied) | price, product, platform |
//! | seller not on the authorized list | 5 | seller |
//! | accessory context ("compatible with", "for AURORA") | −10, verdict at most `review` | the phrase |
//!
//! **Common words.** A mark that is also an everyday word ("aurora") needs
//! context before it counts, and so do the variants an innocent title
//! produces on its own: a plural or a typo ("Auroras", fuzzy), full-width
//! letters from a Chinese input method, and letter-spacing as a style
//! ("A U R O R A lamp"). Leetspeak ("4URORA"), look-alike letters from
//! other scripts and multi-letter look-alikes ("rn" for "m", as in
//! "Nirnbus") are never how the everyday word is written: they exist to
//! get past a filter, so they keep 45 points without context. Context is
//! per mark for the goods rule: the title names goods (`[goods_terms]` of
//! the watchlist) in a Nice class that an unexpired trademark right of
//! that mark covers ("Aurora Cat Toy": toy → class 28, registered in 28);
//! the mark signal's reason and evidence name the word, the class and the
//! right.
//!
//! **Reference price.** Retail platforms (AliExpress, Taobao, Tmall)
//! compare with the product's MSRP. Alibaba.com and 1688 sell wholesale:
//! their unit prices are compared with the product's `wholesale` price,
//! and without one the price rule is not applied there (a 0-point signal
//! says so). A price that is not a finite positive amount is ignored.
//!
//! The score is clamped to 0..=100. Verdicts: an authorized seller is
//! `clear` whatever else fired; a listing with neither the mark nor an
//! official photo is `clear` (an indicator word alone is not about our
//! brand); otherwise `flag` at [`FLAG_AT`] points and above, `review` at
//! [`REVIEW_AT`] and above, `clear` below. Adding a signal never lowers the
//! verdict, except the accessory context, which exists to cap it.
//!
//! **Priority** orders the work, never the verdict (see [`priority`]):
//! the score, plus up to [`SALES_PRIORITY_MAX`] points for sales
//! (`10 × log10(1 + units sold)`), for flagged and review findings; a
//! cleared finding's priority is its score.

use crate::judge::brand::{MarkHit, MatchRule};
use crate::judge::complaint::{Draft, RuleFailure};
use crate::judge::imagehash::ImageMatch;
pub use crate::judge::signal::{
    alignment_note, textured_exception, PhotoEvidence, Signal, SignalKind, Verdict,
};
use crate::model::listing::{Listing, Platform, Price, SalesKind};
use serde::{Deserialize, Serialize};

/// Score at which a listing is flagged.
pub const FLAG_AT: u32 = 60;
/// Score at which a listing needs review.
pub const REVIEW_AT: u32 = 30;
/// Most priority points sales can add (reached at 9,999 units).
pub const SALES_PRIORITY_MAX: u32 = 40;

/// Everything the scan concluded about one listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    pub platform: Platform,
    pub listing_id: String,
    pub url: String,
    pub title: String,
    pub seller: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller_id: Option<String>,
    pub price: Option<Price>,
    pub score: u32,
    pub verdict: Verdict,
    /// Order of work among findings: the score raised by sales (see
    /// [`priority`]). Findings stored before it existed load as 0.
    #[serde(default)]
    pub priority: u32,
    /// One line per signal, strongest first.
    pub reasons: Vec<String>,
    pub signals: Vec<Signal>,
    /// Draft complaints (flagged findings only).
    pub drafts: Vec<Draft>,
    /// Why no draft could be made, rule by rule (flagged findings with no
    /// valid right: `needs_right`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs_right: Vec<RuleFailure>,
    /// The product the listing was compared with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// Photos matching official photos.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<PhotoEvidence>,
    /// Problems met while examining the listing (a photo that would not
    /// decode); the finding stands on what could be examined.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// Pages the listing was read from.
    pub source_urls: Vec<String>,
    /// The analyst's decision in force on this listing (see
    /// [`crate::file::decisions`], which keeps them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<crate::judge::decision::Decision>,
}

impl Finding {
    /// The store key of the listing.
    pub fn key(&self) -> String {
        crate::model::listing::listing_key(self.platform, &self.listing_id)
    }

    /// The one draft this listing is filed with (findings stored before
    /// one complaint per listing may hold several: the same order picks).
    pub fn filing_draft(&self) -> Option<&Draft> {
        crate::judge::complaint::best(&self.drafts)
    }

    /// The key of the complaint this listing is filed under (its filing
    /// draft's platform, right and listing), if any right carries one.
    pub fn complaint_key(&self) -> Option<String> {
        self.filing_draft().map(|d| {
            crate::judge::complaint::complaint_key(self.platform, &d.right_id, &self.listing_id)
        })
    }
}

/// Goods named in a title that fall in a Nice class a trademark of the
/// mark is registered for: context for a common-word mark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoodsClass {
    /// The registered mark ("AURORA").
    pub mark: String,
    /// The goods word of the watchlist found in the title ("toy").
    pub term: String,
    /// The Nice class of those goods.
    pub class: u8,
    /// The id of the trademark right covering that class.
    pub right: String,
}

/// What the matchers found for one listing: the input of [`score`].
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub marks: Vec<MarkHit>,
    /// Whether each hit's mark is a common word.
    pub common_word_marks: Vec<String>,
    /// Goods in the title of a class a trademark of the hit's mark covers.
    pub goods_classes: Vec<GoodsClass>,
    pub indicators: Vec<String>,
    pub accessory: Vec<String>,
    /// Product keywords found in the title.
    pub product_keywords: Vec<String>,
    /// Best official-photo match per listing photo that matched.
    pub photos: Vec<(String, String, ImageMatch)>,
    /// MSRP of the product the listing was compared with, in the listing's
    /// currency where a rate is known: (product name, msrp amount, currency).
    pub msrp: Option<(String, f64, String)>,
    /// Wholesale price of that product, when the watchlist gives one:
    /// (product name, amount, currency). Used on wholesale platforms.
    pub wholesale: Option<(String, f64, String)>,
    pub authorized: bool,
}

/// Alibaba.com and 1688 sell wholesale: unit prices there are not retail.
pub fn is_wholesale(platform: Platform) -> bool {
    matches!(platform, Platform::Alibaba | Platform::S1688)
}

/// Whether a hit of a common-word mark by this rule is a way the everyday
/// word gets written anyway, so that it needs context (see the module
/// table). Leetspeak and look-alike letters are deliberate.
pub fn needs_context(rule: MatchRule) -> bool {
    match rule {
        MatchRule::Exact | MatchRule::Width | MatchRule::Spaced | MatchRule::Fuzzy => true,
        MatchRule::Confusable | MatchRule::Leetspeak | MatchRule::MultiLetter => false,
    }
}

/// Units a sales figure stands for: the count, or for turnover in yuan
/// the turnover divided by the listing's unit price in yuan (none without
/// a usable price).
pub fn units_sold(listing: &Listing) -> Option<f64> {
    let sales = listing.sales.as_ref()?;
    let count = sales.count as f64;
    match sales.kind {
        SalesKind::Sold | SalesKind::Buyers | SalesKind::Monthly => Some(count),
        SalesKind::TurnoverCny => {
            let price = listing.price.as_ref().filter(|p| usable_price(p.amount))?;
            let cny = convert(price.amount, &price.currency, "CNY").filter(|v| usable_price(*v))?;
            Some(count / cny)
        }
    }
}

/// The order of work: for a flagged or review finding, the score plus
/// `min(40, round(10 × log10(1 + units)))` for its sales ([`units_sold`]:
/// 9 units add 10, 99 add 20, 999 add 30, 9,999 and more add 40); for a
/// cleared finding, the score alone (nothing to act on). Sales never
/// change the verdict; findings are listed by verdict, then priority.
pub fn priority(score: u32, verdict: Verdict, listing: &Listing) -> u32 {
    if verdict == Verdict::Clear {
        return score;
    }
    let boost = units_sold(listing)
        .filter(|u| u.is_finite() && *u > 0.0)
        .map(|u| ((10.0 * (1.0 + u).log10()).round() as u32).min(SALES_PRIORITY_MAX))
        .unwrap_or(0);
    score + boost
}

/// A price that can be compared: finite and above zero.
fn usable_price(amount: f64) -> bool {
    amount.is_finite() && amount > 0.0
}

/// Approximate exchange rates to USD, enough for "far below MSRP".
pub const USD_PER_UNIT: &[(&str, f64)] = &[
    ("USD", 1.0),
    ("CNY", 0.14),
    ("EUR", 1.08),
    ("GBP", 1.27),
    ("RUB", 0.011),
    ("JPY", 0.0066),
    ("KRW", 0.00073),
    ("BRL", 0.18),
];

/// Converts an amount between currencies with [`USD_PER_UNIT`].
pub fn convert(amount: f64, from: &str, to: &str) -> Option<f64> {
    let rate = |c: &str| {
        USD_PER_UNIT
            .iter()
            .find(|(code, _)| code.eq_ignore_ascii_case(c))
            .map(|(_, r)| *r)
    };
    Some(amount * rate(from)? / rate(to)?)
}

/// Turns evidence into signals, a score and a verdict.
pub fn score(listing: &Listing, ev: &Evidence) -> (u32, Verdict, Vec<Signal>) {
    let mut signals = Vec::new();
    let seller = listing
        .seller
        .name
        .clone()
        .or_else(|| listing.seller.id.clone())
        .unwrap_or_else(|| "(unknown seller)".into());
    if ev.authorized {
        signals.push(Signal {
            kind: SignalKind::AuthorizedSeller,
            points: 0,
            reason: format!("seller \"{seller}\" is on the authorized list"),
            evidence: serde_json::json!({ "seller": seller }),
        });
        return (0, Verdict::Clear, signals);
    }
    let has_context =
        !ev.product_keywords.is_empty() || !ev.photos.is_empty() || !ev.indicators.is_empty();
    for hit in &ev.marks {
        let disguised = !matches!(hit.rule, MatchRule::Exact | MatchRule::Width);
        let common = ev.common_word_marks.iter().any(|m| m == &hit.mark);
        let goods: Vec<&GoodsClass> = if common {
            ev.goods_classes
                .iter()
                .filter(|g| g.mark == hit.mark)
                .collect()
        } else {
            Vec::new()
        };
        let (points, note) =
            if common && needs_context(hit.rule) && !has_context && goods.is_empty() {
                let what = if matches!(hit.rule, MatchRule::Exact | MatchRule::Width) {
                    "a common word"
                } else {
                    "a variant of a common word"
                };
                (
                    10,
                    format!(" — {what}, and nothing else says it is the brand's product"),
                )
            } else if common && !has_context {
                // The goods are what makes it count: say so.
                (if disguised { 45 } else { 35 }, goods_note(&goods))
            } else {
                (if disguised { 45 } else { 35 }, String::new())
            };
        let mut evidence = serde_json::to_value(hit).unwrap_or_default();
        if let (Some(obj), false) = (evidence.as_object_mut(), goods.is_empty()) {
            obj.insert(
                "goods_classes".into(),
                serde_json::to_value(&goods).unwrap_or_default(),
            );
        }
        signals.push(Signal {
            kind: SignalKind::Mark,
            points,
            reason: format!("{}{note}", hit.describe()),
            evidence,
        });
    }
    // One photo is enough evidence; more photos add no points.
    if let Some((url, sha, m)) = ev.photos.first() {
        let transform = m
            .transform
            .as_ref()
            .map(|t| format!(", {t}"))
            .unwrap_or_default();
        let aligned = alignment_note(m.similarity, m.detail, m.independent_samples);
        signals.push(Signal {
            kind: SignalKind::Photo,
            points: 40,
            reason: format!(
                "photo matches official image {} (distance {}/{}{transform}{aligned})",
                m.reference, m.distance, m.bits
            ),
            evidence: serde_json::json!({
                "url": url, "sha256": sha, "reference": m.reference,
                "distance": m.distance, "bits": m.bits, "transform": m.transform,
                "similarity": m.similarity, "detail": m.detail,
                "independent_samples": m.independent_samples,
            }),
        });
    }
    if !ev.indicators.is_empty() {
        let points = (30 + 10 * (ev.indicators.len() as i32 - 1)).min(40);
        let quoted: Vec<String> = ev.indicators.iter().map(|t| format!("\"{t}\"")).collect();
        signals.push(Signal {
            kind: SignalKind::Indicator,
            points,
            reason: format!(
                "counterfeit indicator term{} {}",
                if quoted.len() == 1 { "" } else { "s" },
                quoted.join(", ")
            ),
            evidence: serde_json::json!({ "terms": ev.indicators }),
        });
    }
    signals.extend(price_signal(listing, ev));
    let brand_evidence = !ev.marks.is_empty() || !ev.photos.is_empty();
    if brand_evidence {
        signals.push(Signal {
            kind: SignalKind::UnauthorizedSeller,
            points: 5,
            reason: format!("seller \"{seller}\" not on authorized list"),
            evidence: serde_json::json!({ "seller": seller, "seller_id": listing.seller.id }),
        });
    }
    if brand_evidence && !ev.accessory.is_empty() {
        signals.push(Signal {
            kind: SignalKind::Accessory,
            points: -10,
            reason: format!(
                "accessory context \"{}\": at most review",
                ev.accessory.join("\", \"")
            ),
            evidence: serde_json::json!({ "phrases": ev.accessory }),
        });
    }
    let total: i32 = signals.iter().map(|s| s.points).sum();
    let score = total.clamp(0, 100) as u32;
    let mut verdict = if !brand_evidence {
        Verdict::Clear
    } else if score >= FLAG_AT {
        Verdict::Flag
    } else if score >= REVIEW_AT {
        Verdict::Review
    } else {
        Verdict::Clear
    };
    if !ev.accessory.is_empty() && verdict == Verdict::Flag {
        verdict = Verdict::Review;
    }
    signals.sort_by_key(|s| std::cmp::Reverse(s.points));
    (score, verdict, signals)
}

/// " — goods "toy", "toys" in Nice class 28, covered by cn-tm-aurora"
/// (one clause per class), or "" without goods.
fn goods_note(goods: &[&GoodsClass]) -> String {
    let mut classes: Vec<(u8, Vec<&str>, Vec<&str>)> = Vec::new();
    for g in goods {
        let i = match classes.iter().position(|(c, _, _)| *c == g.class) {
            Some(i) => i,
            None => {
                classes.push((g.class, Vec::new(), Vec::new()));
                classes.len() - 1
            }
        };
        let (_, terms, rights) = &mut classes[i];
        if !terms.contains(&g.term.as_str()) {
            terms.push(&g.term);
        }
        if !rights.contains(&g.right.as_str()) {
            rights.push(&g.right);
        }
    }
    classes
        .iter()
        .map(|(class, terms, rights)| {
            let quoted: Vec<String> = terms.iter().map(|t| format!("\"{t}\"")).collect();
            format!(
                " — goods {} in Nice class {class}, covered by {}",
                quoted.join(", "),
                rights.join(", ")
            )
        })
        .collect()
}

/// The price signal: the listing's price against the product's reference
/// price (MSRP on retail platforms, the wholesale price on wholesale ones),
/// or a 0-point note when a wholesale platform has no reference to use.
/// `None` when there is nothing to compare or the price is not far below.
fn price_signal(listing: &Listing, ev: &Evidence) -> Option<Signal> {
    let price = listing.price.as_ref()?;
    // Parsers drop such prices already; a stored or hand-made listing may
    // still carry one, and "103% below MSRP" helps nobody.
    if !usable_price(price.amount) {
        return None;
    }
    let wholesale = is_wholesale(listing.platform);
    let (product, reference, currency) = if wholesale {
        match (&ev.wholesale, &ev.msrp) {
            (Some(w), _) => w,
            (None, Some((product, _, _))) => {
                return Some(Signal {
                    kind: SignalKind::Price,
                    points: 0,
                    reason: format!(
                        "price rule not applied: {} is a wholesale platform and \
                         \"{product}\" has no wholesale price to compare {price} with",
                        listing.platform
                    ),
                    evidence: serde_json::json!({
                        "applied": false, "platform": listing.platform,
                        "price": price.amount, "currency": price.currency,
                        "product": product,
                    }),
                })
            }
            (None, None) => return None,
        }
    } else {
        ev.msrp.as_ref()?
    };
    let here = convert(*reference, currency, &price.currency).filter(|v| usable_price(*v))?;
    let below = 1.0 - price.amount / here;
    let points = if below >= 0.7 {
        25
    } else if below >= 0.5 {
        15
    } else {
        return None;
    };
    let reference_text = if currency.eq_ignore_ascii_case(&price.currency) {
        format!("{reference:.2}")
    } else {
        format!("{reference:.2} {currency} (≈{here:.2} {})", price.currency)
    };
    // A positive price is never "100% below": 99.6% shows as 99%.
    let below_pct = (below * 100.0).round().min(99.0);
    Some(if wholesale {
        // No "msrp" keys: a complaint must not call a wholesale price MSRP.
        Signal {
            kind: SignalKind::Price,
            points,
            reason: format!(
                "price {:.2} {} is {below_pct:.0}% below the wholesale price {reference_text}",
                price.amount, price.currency,
            ),
            evidence: serde_json::json!({
                "price": price.amount, "currency": price.currency,
                "product": product, "wholesale": reference, "wholesale_currency": currency,
                "below_wholesale_pct": below_pct,
            }),
        }
    } else {
        Signal {
            kind: SignalKind::Price,
            points,
            reason: format!(
                "price {:.2} {} is {below_pct:.0}% below MSRP {reference_text}",
                price.amount, price.currency,
            ),
            evidence: serde_json::json!({
                "price": price.amount, "currency": price.currency,
                "product": product, "msrp": reference, "msrp_currency": currency,
                "below_pct": below_pct,
            }),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::listing::Seller;
    use proptest::prelude::*;

    fn listing(price: Option<f64>) -> Listing {
        Listing {
            platform: Platform::AliExpress,
            id: "1".into(),
            url: "https://www.aliexpress.com/item/1.html".into(),
            title: "t".into(),
            price: price.map(|amount| Price {
                amount,
                max: None,
                currency: "USD".into(),
            }),
            seller: Seller {
                name: Some("Shop".into()),
                ..Seller::default()
            },
            images: vec![],
            moq: None,
            sales: None,
            location: None,
            sponsored: false,
            source_url: String::new(),
            missing: vec![],
        }
    }

    fn hit(rule: MatchRule) -> MarkHit {
        MarkHit {
            mark: "AURORA".into(),
            term: "AURORA".into(),
            variant: "Aurora".into(),
            rule,
            edits: 0,
            start: 0,
            end: 6,
        }
    }

    fn photo() -> (String, String, ImageMatch) {
        (
            "https://x/1.jpg".into(),
            "ab".into(),
            ImageMatch {
                reference: "espresso-cup.jpg".into(),
                distance: 4,
                bits: 64,
                is_match: true,
                transform: None,
                similarity: Some(0.991),
                detail: Some(0.962),
                independent_samples: Some(3.0),
            },
        )
    }

    #[test]
    fn alignment_note_explains_a_textured_match_only_when_it_mattered() {
        assert_eq!(alignment_note(None, None, Some(40.0)), "");
        let usual = alignment_note(Some(0.981), Some(0.953), Some(40.0));
        assert_eq!(usual, "; aligned: grey levels 0.981, fine detail 0.953");
        let textured = alignment_note(Some(0.849), Some(0.958), Some(231.4));
        assert!(textured.starts_with("; aligned: grey levels 0.849, fine detail 0.958"));
        assert!(textured.contains("textured photo, 231 independent samples"));
        // A smooth photo never gets the note (it could not have matched so).
        let smooth = alignment_note(Some(0.95), Some(0.80), Some(2.0));
        assert!(!smooth.contains("textured"), "{smooth}");
    }

    #[test]
    fn clear_counterfeit_is_flagged_with_reasons() {
        let ev = Evidence {
            marks: vec![hit(MatchRule::Exact)],
            indicators: vec!["1:1".into()],
            photos: vec![photo()],
            msrp: Some(("Cup".into(), 39.0, "USD".into())),
            ..Evidence::default()
        };
        let (score, verdict, signals) = score(&listing(Some(3.2)), &ev);
        assert_eq!(verdict, Verdict::Flag);
        assert_eq!(score, 100);
        let reasons: Vec<&str> = signals.iter().map(|s| s.reason.as_str()).collect();
        assert!(
            reasons.contains(&"price 3.20 USD is 92% below MSRP 39.00"),
            "{reasons:?}"
        );
        assert!(
            reasons.contains(
                &"photo matches official image espresso-cup.jpg \
                  (distance 4/64; aligned: grey levels 0.991, fine detail 0.962)"
            ),
            "{reasons:?}"
        );
        assert!(reasons.contains(&"seller \"Shop\" not on authorized list"));
    }

    #[test]
    fn authorized_seller_is_cleared() {
        let ev = Evidence {
            marks: vec![hit(MatchRule::Exact)],
            photos: vec![photo()],
            authorized: true,
            ..Evidence::default()
        };
        let (_, verdict, signals) = score(&listing(Some(39.0)), &ev);
        assert_eq!(verdict, Verdict::Clear);
        assert!(signals[0].reason.contains("authorized list"));
    }

    #[test]
    fn indicator_without_brand_is_clear() {
        let ev = Evidence {
            indicators: vec!["replica".into()],
            ..Evidence::default()
        };
        assert_eq!(score(&listing(Some(1.0)), &ev).1, Verdict::Clear);
    }

    #[test]
    fn common_word_without_context_is_clear() {
        let ev = Evidence {
            marks: vec![hit(MatchRule::Exact)],
            common_word_marks: vec!["AURORA".into()],
            ..Evidence::default()
        };
        assert_eq!(score(&listing(Some(12.0)), &ev).1, Verdict::Clear);
    }

    #[test]
    fn accessory_is_at_most_review() {
        let ev = Evidence {
            marks: vec![hit(MatchRule::Exact)],
            indicators: vec!["AAA".into()],
            accessory: vec!["compatible with".into()],
            product_keywords: vec!["cup".into()],
            ..Evidence::default()
        };
        assert_eq!(score(&listing(Some(1.0)), &ev).1, Verdict::Review);
    }

    #[test]
    fn currency_conversion() {
        let v = convert(100.0, "CNY", "USD").unwrap();
        assert!((v - 14.0).abs() < 1e-9);
        assert!(convert(1.0, "XXX", "USD").is_none());
    }

    /// What else a title carries besides the mark, in the case tables.
    #[derive(Debug, Clone, Copy)]
    enum Ctx {
        Nothing,
        Keyword,
        Photo,
        Indicator,
        /// Goods of a class a right of AURORA covers.
        Goods,
        /// Goods of a class a right of another mark covers.
        GoodsOfOtherMark,
    }

    fn goods(mark: &str) -> GoodsClass {
        GoodsClass {
            mark: mark.into(),
            term: "toy".into(),
            class: 28,
            right: "cn-tm-aurora".into(),
        }
    }

    /// The evidence the scan would build for `title` with the real mark
    /// matcher, AURORA being a common word, plus `ctx`.
    fn evidence_for(title: &str, ctx: Ctx) -> Evidence {
        let matcher = crate::judge::brand::MarkMatcher::new([("AURORA", &[] as &[String])]);
        let marks = matcher.find(title);
        assert_eq!(marks.len(), 1, "{title}: {marks:?}");
        let mut ev = Evidence {
            marks,
            common_word_marks: vec!["AURORA".into()],
            msrp: Some(("Cup".into(), 39.0, "USD".into())),
            ..Evidence::default()
        };
        match ctx {
            Ctx::Nothing => {}
            Ctx::Keyword => ev.product_keywords.push("cup".into()),
            Ctx::Photo => ev.photos.push(photo()),
            Ctx::Indicator => ev.indicators.push("replica".into()),
            Ctx::Goods => ev.goods_classes.push(goods("AURORA")),
            Ctx::GoodsOfOtherMark => ev.goods_classes.push(goods("APEX")),
        }
        ev
    }

    fn points_of(signals: &[Signal], kind: SignalKind) -> Option<i32> {
        signals.iter().find(|s| s.kind == kind).map(|s| s.points)
    }

    /// The common-word rule, case by case: which hits of an everyday-word
    /// mark need context, and what counts as context.
    #[test]
    fn common_word_rule_table() {
        use Ctx::*;
        use Verdict::*;
        // (title, context, rule the matcher must report, mark points, verdict)
        let cases: &[(&str, Ctx, MatchRule, i32, Verdict)] = &[
            (
                "Aurora Borealis Night Lamp",
                Nothing,
                MatchRule::Exact,
                10,
                Clear,
            ),
            (
                "ＡＵＲＯＲＡ Night Lamp",
                Nothing,
                MatchRule::Width,
                10,
                Clear,
            ),
            // A plural or a typo of the everyday word is still the word.
            ("Auroras Night Lamp", Nothing, MatchRule::Fuzzy, 10, Clear),
            ("Aurorra Night Lamp", Nothing, MatchRule::Fuzzy, 10, Clear),
            // Letter-spacing is a style of its own.
            (
                "A U R O R A Night Lamp",
                Nothing,
                MatchRule::Spaced,
                10,
                Clear,
            ),
            // Nobody writes the everyday word so: deliberate evasion.
            (
                "4URORA Night Lamp",
                Nothing,
                MatchRule::Leetspeak,
                45,
                Review,
            ),
            (
                "\u{410}urora Night Lamp",
                Nothing,
                MatchRule::Confusable,
                45,
                Review,
            ),
            // Context makes every hit count in full.
            ("Aurora Espresso Cup", Keyword, MatchRule::Exact, 35, Review),
            (
                "Auroras Espresso Cup",
                Keyword,
                MatchRule::Fuzzy,
                45,
                Review,
            ),
            ("Aurora replica", Indicator, MatchRule::Exact, 35, Flag),
            ("Auroras", Photo, MatchRule::Fuzzy, 45, Flag),
            // Goods in a class the mark is registered for are context.
            ("Aurora Cat Toy", Goods, MatchRule::Exact, 35, Review),
            ("Auroras Cat Toy", Goods, MatchRule::Fuzzy, 45, Review),
            // ... but only the mark's own registrations.
            (
                "Aurora Cat Toy",
                GoodsOfOtherMark,
                MatchRule::Exact,
                10,
                Clear,
            ),
            (
                "Auroras Cat Toy",
                GoodsOfOtherMark,
                MatchRule::Fuzzy,
                10,
                Clear,
            ),
        ];
        for (title, ctx, rule, points, verdict) in cases {
            let ev = evidence_for(title, *ctx);
            assert_eq!(ev.marks[0].rule, *rule, "{title}");
            let (_, v, signals) = score(&listing(None), &ev);
            assert_eq!(
                points_of(&signals, SignalKind::Mark),
                Some(*points),
                "{title} {ctx:?}: {signals:#?}"
            );
            assert_eq!(v, *verdict, "{title} {ctx:?}");
        }
    }

    /// The same hits of a mark that is not a common word never need context.
    #[test]
    fn marks_that_are_not_common_words_need_no_context() {
        for (title, points) in [
            ("Aurora Night Lamp", 35),
            ("Auroras Night Lamp", 45),
            ("A U R O R A Night Lamp", 45),
        ] {
            let mut ev = evidence_for(title, Ctx::Nothing);
            ev.common_word_marks.clear();
            let (_, _, signals) = score(&listing(None), &ev);
            assert_eq!(
                points_of(&signals, SignalKind::Mark),
                Some(points),
                "{title}"
            );
        }
    }

    #[test]
    fn goods_class_context_names_word_class_and_right() {
        let ev = evidence_for("Aurora Cat Toy", Ctx::Goods);
        let (_, _, signals) = score(&listing(None), &ev);
        let mark = signals.iter().find(|s| s.kind == SignalKind::Mark).unwrap();
        assert_eq!(
            mark.reason,
            "title matches mark \"AURORA\" (exact: \"Aurora\") — goods \"toy\" in Nice \
             class 28, covered by cn-tm-aurora"
        );
        assert_eq!(
            mark.evidence["goods_classes"],
            serde_json::json!([{"mark": "AURORA", "term": "toy", "class": 28, "right": "cn-tm-aurora"}])
        );
        // A variant without context says what it is.
        let ev = evidence_for("Auroras Night Lamp", Ctx::Nothing);
        let (_, _, signals) = score(&listing(None), &ev);
        assert!(
            signals[0].reason.ends_with(
                "— a variant of a common word, and nothing else says it is the brand's product"
            ),
            "{}",
            signals[0].reason
        );
    }

    fn priced(platform: Platform, amount: f64, currency: &str) -> Listing {
        let mut l = listing(Some(amount));
        l.platform = platform;
        l.price.as_mut().unwrap().currency = currency.into();
        l
    }

    /// The price rule, case by case: retail platforms compare with the
    /// MSRP (39 USD), wholesale ones with the wholesale price when there
    /// is one and not at all otherwise. Mark (35) + product keyword +
    /// seller (5) = 40 before the price.
    #[test]
    fn price_rule_table() {
        use Platform::*;
        use Verdict::*;
        // (platform, price, currency, wholesale USD, price points, note, score, verdict)
        type Row = (
            Platform,
            f64,
            &'static str,
            Option<f64>,
            Option<i32>,
            bool,
            u32,
            Verdict,
        );
        let cases: &[Row] = &[
            (AliExpress, 3.2, "USD", None, Some(25), false, 65, Flag),
            (AliExpress, 15.0, "USD", None, Some(15), false, 55, Review),
            (AliExpress, 30.0, "USD", None, None, false, 40, Review),
            // Retail keeps the MSRP even when a wholesale price is known.
            (AliExpress, 3.2, "USD", Some(9.0), Some(25), false, 65, Flag),
            (Taobao, 20.0, "CNY", Some(9.0), Some(25), false, 65, Flag),
            (Tmall, 200.0, "CNY", None, None, false, 40, Review),
            // Wholesale without a wholesale price: not applied, and said so.
            (Alibaba, 3.2, "USD", None, Some(0), true, 40, Review),
            (S1688, 5.0, "CNY", None, Some(0), true, 40, Review),
            // Wholesale with one: compared with it.
            (Alibaba, 3.2, "USD", Some(9.0), Some(15), false, 55, Review),
            (Alibaba, 2.0, "USD", Some(9.0), Some(25), false, 65, Flag),
            (Alibaba, 8.5, "USD", Some(9.0), None, false, 40, Review),
            (S1688, 20.0, "CNY", Some(9.0), Some(15), false, 55, Review),
            // Not a price: ignored, no points, no "103% below".
            (AliExpress, -1.2, "USD", None, None, false, 40, Review),
            (AliExpress, 0.0, "USD", None, None, false, 40, Review),
            (AliExpress, f64::NAN, "USD", None, None, false, 40, Review),
            (
                AliExpress,
                f64::NEG_INFINITY,
                "USD",
                None,
                None,
                false,
                40,
                Review,
            ),
            (Alibaba, -3.0, "USD", Some(9.0), None, false, 40, Review),
            (Alibaba, 0.0, "USD", None, None, false, 40, Review),
        ];
        for (platform, amount, currency, wholesale, points, note, total, verdict) in cases {
            let mut ev = evidence_for("Aurora Espresso Cup", Ctx::Keyword);
            ev.wholesale = wholesale.map(|w| ("Cup".into(), w, "USD".into()));
            let l = priced(*platform, *amount, currency);
            let (s, v, signals) = score(&l, &ev);
            let case = format!("{platform} {amount} {currency} wholesale {wholesale:?}");
            assert_eq!(
                points_of(&signals, SignalKind::Price),
                *points,
                "{case}: {signals:#?}"
            );
            let noted = signals
                .iter()
                .any(|s| s.reason.starts_with("price rule not applied"));
            assert_eq!(noted, *note, "{case}");
            assert_eq!((s, v), (*total, *verdict), "{case}");
        }
    }

    #[test]
    fn wholesale_price_reason_and_evidence_never_say_msrp() {
        let mut ev = evidence_for("Aurora Espresso Cup", Ctx::Keyword);
        ev.wholesale = Some(("Cup".into(), 9.0, "USD".into()));
        let (_, _, signals) = score(&priced(Platform::Alibaba, 2.0, "USD"), &ev);
        let price = signals
            .iter()
            .find(|s| s.kind == SignalKind::Price)
            .unwrap();
        assert_eq!(
            price.reason,
            "price 2.00 USD is 78% below the wholesale price 9.00"
        );
        assert!(price.evidence.get("msrp").is_none(), "{}", price.evidence);
        assert_eq!(price.evidence["wholesale"], 9.0);
        let ev = evidence_for("Aurora Espresso Cup", Ctx::Keyword);
        let (_, _, signals) = score(&priced(Platform::S1688, 5.0, "CNY"), &ev);
        let note = signals
            .iter()
            .find(|s| s.kind == SignalKind::Price)
            .unwrap();
        assert_eq!(
            note.reason,
            "price rule not applied: 1688 is a wholesale platform and \"Cup\" has no \
             wholesale price to compare 5.00 CNY with"
        );
        assert_eq!(note.evidence["applied"], false);
    }

    /// Regression: a negative price once read "103% below MSRP".
    #[test]
    fn negative_or_zero_price_gets_no_points() {
        for amount in [-1.2, 0.0, -0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let ev = Evidence {
                marks: vec![hit(MatchRule::Exact)],
                msrp: Some(("Cup".into(), 39.0, "USD".into())),
                ..Evidence::default()
            };
            let (score, _, signals) = score(&listing(Some(amount)), &ev);
            assert!(
                signals.iter().all(|s| s.kind != SignalKind::Price),
                "{amount}: {signals:#?}"
            );
            assert_eq!(score, 40, "{amount}");
        }
        // A tiny positive price is "99% below", never "100%".
        let ev = Evidence {
            marks: vec![hit(MatchRule::Exact)],
            msrp: Some(("Cup".into(), 39.0, "USD".into())),
            ..Evidence::default()
        };
        let (_, _, signals) = score(&listing(Some(0.01)), &ev);
        assert!(signals
            .iter()
            .any(|s| s.reason == "price 0.01 USD is 99% below MSRP 39.00"));
    }

    fn with_sales(count: u64, kind: SalesKind, price: Option<f64>) -> Listing {
        let mut l = listing(price);
        l.sales = Some(crate::model::listing::Sales {
            count,
            kind,
            text: String::new(),
        });
        l
    }

    /// Priority = score + min(40, round(10 log10(1 + units))) unless clear.
    #[test]
    fn priority_table() {
        use SalesKind::*;
        use Verdict::*;
        // (score, verdict, sales, unit price in USD, priority)
        type Row = (u32, Verdict, Option<(u64, SalesKind)>, Option<f64>, u32);
        let cases: &[Row] = &[
            (65, Flag, None, None, 65),
            (65, Flag, Some((0, Sold)), None, 65),
            (65, Flag, Some((9, Sold)), None, 75),
            (65, Flag, Some((99, Buyers)), None, 85),
            (65, Flag, Some((999, Monthly)), None, 95),
            (65, Flag, Some((9_999, Sold)), None, 105),
            (65, Flag, Some((u64::MAX, Sold)), None, 105),
            (40, Review, Some((99, Sold)), None, 60),
            // Turnover in yuan: units = turnover / unit price in yuan.
            (40, Review, Some((24_000, TurnoverCny)), Some(3.36), 70),
            (40, Review, Some((24_000, TurnoverCny)), None, 40),
            (40, Review, Some((24_000, TurnoverCny)), Some(-1.0), 40),
            // Cleared: nothing to act on, sales add nothing.
            (15, Clear, Some((9_999, Sold)), None, 15),
        ];
        for (score, verdict, sales, price, want) in cases {
            let l = match sales {
                Some((n, kind)) => with_sales(*n, *kind, *price),
                None => listing(*price),
            };
            assert_eq!(
                priority(*score, *verdict, &l),
                *want,
                "{score} {verdict:?} {sales:?} {price:?}"
            );
        }
    }

    /// Sales raise priority, never the verdict or the score.
    #[test]
    fn sales_never_change_score_or_verdict() {
        let ev = evidence_for("Aurora Espresso Cup", Ctx::Keyword);
        let quiet = score(&listing(Some(30.0)), &ev);
        let busy = score(&with_sales(1_000_000, SalesKind::Sold, Some(30.0)), &ev);
        assert_eq!((quiet.0, quiet.1), (busy.0, busy.1));
    }

    /// Findings stored before `priority` existed still load.
    #[test]
    fn finding_without_priority_loads_as_zero() {
        let f = Finding {
            platform: Platform::AliExpress,
            listing_id: "1".into(),
            url: "u".into(),
            title: "t".into(),
            seller: None,
            seller_id: None,
            price: None,
            score: 40,
            verdict: Verdict::Review,
            priority: 60,
            reasons: vec![],
            signals: vec![],
            drafts: vec![],
            needs_right: vec![],
            product: None,
            photos: vec![],
            errors: vec![],
            source_urls: vec![],
            decision: None,
        };
        let mut json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["priority"], 60);
        json.as_object_mut().unwrap().remove("priority");
        let old: Finding = serde_json::from_value(json).unwrap();
        assert_eq!(old.priority, 0);
        assert_eq!(old.score, 40);
    }

    proptest! {
        /// Adding a photo match or an indicator never lowers the score or
        /// the verdict.
        #[test]
        fn more_evidence_never_lowers_the_verdict(
            mark in any::<bool>(), ind in 0usize..3, price in proptest::option::of(-5.0f64..200.0),
            common in any::<bool>(), accessory in any::<bool>(), fuzzy in any::<bool>(),
            platform in 0usize..5, wholesale in proptest::option::of(1.0f64..50.0),
            goods in any::<bool>(),
        ) {
            let rule = if fuzzy { MatchRule::Fuzzy } else { MatchRule::Exact };
            let base = Evidence {
                marks: if mark { vec![hit(rule)] } else { vec![] },
                common_word_marks: if common { vec!["AURORA".into()] } else { vec![] },
                goods_classes: if goods { vec![super::tests::goods("AURORA")] } else { vec![] },
                indicators: (0..ind).map(|i| format!("t{i}")).collect(),
                accessory: if accessory { vec!["for".into()] } else { vec![] },
                msrp: Some(("Cup".into(), 39.0, "USD".into())),
                wholesale: wholesale.map(|w| ("Cup".into(), w, "USD".into())),
                ..Evidence::default()
            };
            let mut l = listing(price);
            l.platform = Platform::ALL[platform];
            let (s0, v0, _) = score(&l, &base);
            let mut more = base.clone();
            more.photos.push(photo());
            let (s1, v1, _) = score(&l, &more);
            prop_assert!(s1 >= s0);
            prop_assert!(v1 <= v0, "{:?} -> {:?}", v0, v1);
            let mut more = base.clone();
            more.indicators.push("extra".into());
            let (s2, v2, _) = score(&l, &more);
            prop_assert!(s2 >= s0);
            prop_assert!(v2 <= v0);
        }
    }
}
