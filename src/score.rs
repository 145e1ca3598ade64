//! Scoring: signals with evidence → a score, a verdict and reasons.
//!
//! Every point of a score comes from a [`Signal`] that carries its
//! evidence, so a finding can always say why. The weights:
//!
//! | signal | points | evidence |
//! |---|---|---|
//! | mark in title, as written | 35 | mark, variant, rule |
//! | mark in title, disguised (leetspeak, look-alikes, spacing, fuzzy) | 45 | mark, variant, rule, edits — disguise is itself a sign of evasion |
//! | mark that is a common word, without product context | 10 | as above; context = a product keyword, an official photo or an indicator term |
//! | listing photo matches an official photo | 40 | photo URL, official photo, Hamming distance, transform |
//! | counterfeit indicator term ("replica", "1:1", "高仿") | 30, +10 per further term, max 40 | the terms |
//! | price ≥ 50% below MSRP | 15 | price, MSRP, % below |
//! | price ≥ 70% below MSRP | 25 | price, MSRP, % below |
//! | seller not on the authorized list | 5 | seller |
//! | accessory context ("compatible with", "for AURORA") | −10, verdict at most `review` | the phrase |
//!
//! The score is clamped to 0..=100. Verdicts: an authorized seller is
//! `clear` whatever else fired; a listing with neither the mark nor an
//! official photo is `clear` (an indicator word alone is not about our
//! brand); otherwise `flag` at [`FLAG_AT`] points and above, `review` at
//! [`REVIEW_AT`] and above, `clear` below. Adding a signal never lowers the
//! verdict, except the accessory context, which exists to cap it.

use crate::brand::{MarkHit, MatchRule};
use crate::complaint::{Draft, RuleFailure};
use crate::imagehash::ImageMatch;
use crate::listing::{Listing, Platform, Price};
use serde::{Deserialize, Serialize};

/// Score at which a listing is flagged.
pub const FLAG_AT: u32 = 60;
/// Score at which a listing needs review.
pub const REVIEW_AT: u32 = 30;

/// What a finding concludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Flag,
    Review,
    Clear,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Flag => "flag",
            Verdict::Review => "review",
            Verdict::Clear => "clear",
        }
    }
}

/// The kind of a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    Mark,
    Photo,
    Indicator,
    Price,
    UnauthorizedSeller,
    AuthorizedSeller,
    Accessory,
}

/// One signal that fired, with its points and evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub kind: SignalKind,
    pub points: i32,
    /// One line a person reads.
    pub reason: String,
    /// Machine-readable evidence (mark and variant, photo and distance...).
    pub evidence: serde_json::Value,
}

/// A photo of the listing that matched an official photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoEvidence {
    /// The listing photo's URL.
    pub url: String,
    /// SHA-256 of the photo bytes as fetched.
    pub sha256: String,
    /// Official photo file name.
    pub reference: String,
    pub distance: u32,
    pub bits: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<String>,
    /// Correlation of grey levels after aligning the official photo to the
    /// listing photo (1.0 = identical up to brightness and contrast).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f32>,
    /// Correlation of fine detail at that alignment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<f32>,
    /// Independent samples of the aligned official photo: a textured photo
    /// (8 or more) matches with either correlation lower (see
    /// `imagehash::scores_match`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub independent_samples: Option<f32>,
}

/// "; aligned: grey levels 0.981, fine detail 0.953" when the second stage
/// compared the photos, else "". When one correlation is under its usual
/// threshold (a textured official photo matched on the other), the note
/// says so, with the photo's independent samples.
pub fn alignment_note(
    similarity: Option<f32>,
    detail: Option<f32>,
    independent_samples: Option<f32>,
) -> String {
    match (similarity, detail) {
        (Some(s), Some(d)) => {
            let textured = match textured_exception(similarity, detail, independent_samples) {
                Some(n) => format!(
                    " (textured photo, {n:.0} independent samples: \
                     either correlation alone is strong evidence)"
                ),
                None => String::new(),
            };
            format!("; aligned: grey levels {s:.3}, fine detail {d:.3}{textured}")
        }
        _ => String::new(),
    }
}

/// The official photo's independent samples when a match rested on the
/// textured rule (`imagehash::scores_match`): one correlation under its
/// usual threshold, the photo textured. `None` for every other match.
pub fn textured_exception(
    similarity: Option<f32>,
    detail: Option<f32>,
    independent_samples: Option<f32>,
) -> Option<f32> {
    use crate::imagehash::{MATCH_DETAIL, MATCH_SIMILARITY, TEXTURED_SAMPLES};
    match (similarity, detail, independent_samples) {
        (Some(s), Some(d), Some(n))
            if n >= TEXTURED_SAMPLES && (s < MATCH_SIMILARITY || d < MATCH_DETAIL) =>
        {
            Some(n)
        }
        _ => None,
    }
}

/// Everything the scan concluded about one listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

impl Finding {
    /// The store key of the listing.
    pub fn key(&self) -> String {
        crate::listing::listing_key(self.platform, &self.listing_id)
    }

    /// The one draft this listing is filed with (findings stored before
    /// one complaint per listing may hold several: the same order picks).
    pub fn filing_draft(&self) -> Option<&Draft> {
        crate::complaint::best(&self.drafts)
    }
}

/// What the matchers found for one listing: the input of [`score`].
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub marks: Vec<MarkHit>,
    /// Whether each hit's mark is a common word.
    pub common_word_marks: Vec<String>,
    pub indicators: Vec<String>,
    pub accessory: Vec<String>,
    /// Product keywords found in the title.
    pub product_keywords: Vec<String>,
    /// Best official-photo match per listing photo that matched.
    pub photos: Vec<(String, String, ImageMatch)>,
    /// MSRP of the product the listing was compared with, in the listing's
    /// currency where a rate is known: (product name, msrp amount, currency).
    pub msrp: Option<(String, f64, String)>,
    pub authorized: bool,
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
        let (points, note) = if common && !has_context && !disguised {
            (
                10,
                " — a common word, and nothing else says it is the brand's product",
            )
        } else if disguised {
            (45, "")
        } else {
            (35, "")
        };
        signals.push(Signal {
            kind: SignalKind::Mark,
            points,
            reason: format!("{}{note}", hit.describe()),
            evidence: serde_json::to_value(hit).unwrap_or_default(),
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
    if let (Some(price), Some((product, msrp, currency))) = (&listing.price, &ev.msrp) {
        if let Some(msrp_here) = convert(*msrp, currency, &price.currency) {
            let below = 1.0 - price.amount / msrp_here;
            let points = if below >= 0.7 {
                25
            } else if below >= 0.5 {
                15
            } else {
                0
            };
            if points > 0 {
                let msrp_text = if currency.eq_ignore_ascii_case(&price.currency) {
                    format!("{msrp:.2}")
                } else {
                    format!("{msrp:.2} {currency} (≈{msrp_here:.2} {})", price.currency)
                };
                signals.push(Signal {
                    kind: SignalKind::Price,
                    points,
                    reason: format!(
                        "price {:.2} {} is {:.0}% below MSRP {msrp_text}",
                        price.amount,
                        price.currency,
                        below * 100.0
                    ),
                    evidence: serde_json::json!({
                        "price": price.amount, "currency": price.currency,
                        "product": product, "msrp": msrp, "msrp_currency": currency,
                        "below_pct": (below * 100.0).round(),
                    }),
                });
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::Seller;
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

    proptest! {
        /// Adding a photo match or an indicator never lowers the score or
        /// the verdict.
        #[test]
        fn more_evidence_never_lowers_the_verdict(
            mark in any::<bool>(), ind in 0usize..3, price in proptest::option::of(0.5f64..200.0),
            common in any::<bool>(), accessory in any::<bool>(),
        ) {
            let base = Evidence {
                marks: if mark { vec![hit(MatchRule::Exact)] } else { vec![] },
                common_word_marks: if common { vec!["AURORA".into()] } else { vec![] },
                indicators: (0..ind).map(|i| format!("t{i}")).collect(),
                accessory: if accessory { vec!["for".into()] } else { vec![] },
                msrp: Some(("Cup".into(), 39.0, "USD".into())),
                ..Evidence::default()
            };
            let l = listing(price);
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
