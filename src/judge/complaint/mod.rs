//! Complaint drafting: which IP right a flagged listing can rest on, whether
//! the platform would accept it, and the reason text.
//!
//! Rules follow Alibaba's IP Protection Platform (see
//! `shared/marketplaces.md`). Each rule is a typed check ([`Rule`], in
//! [`rules`]) with a message a lawyer understands. A right is *applicable*
//! to a finding when the finding holds the kind of evidence the right needs
//! (a mark in the title for a trademark, a copied official photo for a
//! copyright or a design patent); an applicable right that fails a rule is
//! reported, never drafted. A flagged finding with no valid right is
//! `needs_right`, with every rule that failed.
//!
//! Main types: [`Grounds`] (what a finding offers) → [`draft`] →
//! [`Draft`] (one listing on one right, reason text in English and
//! Chinese, in [`reason`]) or [`RuleFailure`]s.

pub mod reason;
pub mod rules;

use crate::judge::brand::MarkHit;
use crate::judge::signal::{PhotoEvidence, Signal, SignalKind};
use crate::model::listing::Platform;
use crate::model::watchlist::{Right, RightKind, Watchlist};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use reason::{batch_reason, reason_text, ListingFacts, ReasonText};
pub use rules::check;

/// A check a complaint must pass.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Taobao, Tmall and 1688 accept only rights valid in China.
    Jurisdiction,
    /// The right must not be expired on the filing date.
    NotExpired,
    /// A trademark's Nice classes must cover the product's category.
    ClassesCoverGoods,
    /// The reason must fit the right (copyright needs the published source
    /// of the photo; a design patent needs images to set side by side; a
    /// utility patent needs an analysis report).
    ReasonFitsRight,
    /// An agent filing for the owner needs an authorization on record.
    AgentAuthorization,
    /// A trademark complaint attaches the registration certificate.
    CertificateOnRecord,
    /// No right of a kind the evidence supports is in the watchlist.
    NoApplicableRight,
    /// IPP rejected the right's verification: it carries no complaint.
    IppVerified,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Jurisdiction => "jurisdiction",
            Rule::NotExpired => "not_expired",
            Rule::ClassesCoverGoods => "classes_cover_goods",
            Rule::ReasonFitsRight => "reason_fits_right",
            Rule::AgentAuthorization => "agent_authorization",
            Rule::CertificateOnRecord => "certificate_on_record",
            Rule::NoApplicableRight => "no_applicable_right",
            Rule::IppVerified => "ipp_verified",
        }
    }
}

/// Why a right cannot carry a complaint for a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RuleFailure {
    /// The right that failed (empty for [`Rule::NoApplicableRight`]).
    pub right_id: String,
    pub rule: Rule,
    pub message: String,
}

/// The reason code of a complaint; the IPP lists reasons per right type.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// Trademark: the listing uses the mark without authorization.
    TrademarkUnauthorizedUse,
    /// Trademark: the goods are counterfeit.
    TrademarkCounterfeit,
    /// Copyright: the listing uses the rights holder's photo.
    CopyrightImageTheft,
    /// Design patent: the product looks like the patented design.
    DesignPatentInfringement,
    /// Utility or invention patent, backed by an analysis report.
    PatentInfringement,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 5] = [
        ReasonCode::TrademarkUnauthorizedUse,
        ReasonCode::TrademarkCounterfeit,
        ReasonCode::CopyrightImageTheft,
        ReasonCode::DesignPatentInfringement,
        ReasonCode::PatentInfringement,
    ];

    /// The reason as IPP's complaint form lists it for the right's type
    /// (English form, then Chinese form).
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            ReasonCode::TrademarkUnauthorizedUse => (
                "Trademark infringement: unauthorized use of the trademark in product information",
                "商标侵权：商品信息中未经授权使用商标",
            ),
            ReasonCode::TrademarkCounterfeit => (
                "Trademark infringement: counterfeit goods",
                "商标侵权：假冒商品",
            ),
            ReasonCode::CopyrightImageTheft => (
                "Copyright infringement: unauthorized use of pictures",
                "著作权侵权：盗用图片",
            ),
            ReasonCode::DesignPatentInfringement => {
                ("Design patent infringement", "外观设计专利侵权")
            }
            ReasonCode::PatentInfringement => (
                "Invention or utility model patent infringement",
                "发明或实用新型专利侵权",
            ),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::TrademarkUnauthorizedUse => "trademark_unauthorized_use",
            ReasonCode::TrademarkCounterfeit => "trademark_counterfeit",
            ReasonCode::CopyrightImageTheft => "copyright_image_theft",
            ReasonCode::DesignPatentInfringement => "design_patent_infringement",
            ReasonCode::PatentInfringement => "patent_infringement",
        }
    }

    /// The right type a reason belongs to (IPP lists reasons per type).
    pub fn right_kind(self) -> RightKind {
        match self {
            ReasonCode::TrademarkUnauthorizedUse | ReasonCode::TrademarkCounterfeit => {
                RightKind::Trademark
            }
            ReasonCode::CopyrightImageTheft => RightKind::Copyright,
            ReasonCode::DesignPatentInfringement => RightKind::DesignPatent,
            ReasonCode::PatentInfringement => RightKind::Patent,
        }
    }
}

/// A draft complaint for one listing on one right.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Draft {
    pub platform: Platform,
    /// Product listing (not store front).
    pub complaint_type: String,
    pub right_id: String,
    pub right_kind: RightKind,
    pub registration_number: String,
    pub jurisdiction: String,
    pub reason_code: ReasonCode,
    pub listing_url: String,
    /// Reason text, English: the statement followed by the details.
    pub reason_en: String,
    /// Reason text, Chinese.
    pub reason_zh: String,
    /// What the complaint asserts on this right, shared by every listing of
    /// a batch (English).
    #[serde(default)]
    pub statement_en: String,
    #[serde(default)]
    pub statement_zh: String,
    /// The specifics of this listing: mark variant, photo and distance,
    /// price against MSRP, what differs.
    #[serde(default)]
    pub details_en: String,
    #[serde(default)]
    pub details_zh: String,
    /// Documents the filer attaches: certificate, analysis report, agent
    /// authorization, where the official photo is published.
    #[serde(default)]
    pub attachments: Vec<String>,
    /// Other rights that would also carry this listing, listed with the
    /// complaint and not filed (one complaint per listing).
    #[serde(default)]
    pub alternatives: Vec<Alternative>,
    /// This listing's own facts (its per-URL line), as data.
    #[serde(default)]
    pub facts: ListingFacts,
    /// Why the complaint is held, not batched: its right is not approved
    /// by IPP yet ("right cn-tm is pending since 2026-11-20").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<String>,
}

/// A right that would also carry a complaint, named with the one filed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Alternative {
    pub right_id: String,
    pub right_kind: RightKind,
    pub jurisdiction: String,
    pub registration_number: String,
    pub reason_code: ReasonCode,
}

impl From<&Draft> for Alternative {
    fn from(d: &Draft) -> Self {
        Alternative {
            right_id: d.right_id.clone(),
            right_kind: d.right_kind,
            jurisdiction: d.jurisdiction.clone(),
            registration_number: d.registration_number.clone(),
            reason_code: d.reason_code,
        }
    }
}

/// How a right ranks for filing, lower first; see [`select`].
fn preference(d: &Draft) -> (u8, u8, u8) {
    let kind_rank = match d.right_kind {
        RightKind::Trademark => 0,
        RightKind::Copyright => 1,
        RightKind::DesignPatent => 2,
        RightKind::Patent => 3,
    };
    (
        u8::from(d.held.is_some()),
        kind_rank,
        u8::from(!rules::valid_in_china(&d.jurisdiction)),
    )
}

/// Picks the one right a listing is filed on from the valid drafts, in
/// this order:
///
/// 1. **Trademark** first: a listing using the mark is a trademark case
///    (counterfeit goods or unauthorized use), the reason IPP handles
///    fastest and the one the Good-Faith figures are kept for;
/// 2. **copyright** only when no trademark carries it (a stolen photo
///    without the mark);
/// 3. **design patent** after that (side-by-side images of the design);
/// 4. **utility/invention patent** last, and only with an analysis report
///    on file (the rules refuse it otherwise);
///
/// a right IPP has approved before one still pending (a pending right's
/// complaint is held, not batched, until it is approved), and within a
/// kind, a right valid in mainland China before a foreign one
/// (IPP accepts foreign rights on AliExpress and Alibaba.com, but a Chinese
/// registration is the one it verifies most readily), then the order of
/// the watchlist. The others become [`Alternative`]s of the chosen draft.
pub fn select(mut drafts: Vec<Draft>) -> Option<Draft> {
    // Stable: equal preference keeps the watchlist order.
    drafts.sort_by_key(preference);
    let mut it = drafts.into_iter();
    let mut chosen = it.next()?;
    chosen
        .alternatives
        .extend(it.map(|d| Alternative::from(&d)));
    Some(chosen)
}

/// The key of a complaint: one per platform, right and listing
/// (`taobao/cn-tm/123`), as the store's `complaints` tree and the case
/// book key it.
pub fn complaint_key(platform: Platform, right_id: &str, listing_id: &str) -> String {
    format!("{}/{right_id}/{listing_id}", platform.as_str())
}

/// The draft to file among stored drafts: findings stored before one
/// complaint per listing may hold several; the same order picks one.
pub fn best(drafts: &[Draft]) -> Option<&Draft> {
    drafts
        .iter()
        .enumerate()
        .min_by_key(|(i, d)| (preference(d), *i))
        .map(|(_, d)| d)
}

/// A listing's price set against the product's MSRP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PriceGap {
    pub price: f64,
    pub currency: String,
    pub msrp: f64,
    pub msrp_currency: String,
    /// Percent below MSRP (after currency conversion).
    pub below_pct: f64,
}

/// What a finding offers as grounds for a complaint.
#[derive(Debug, Clone, Default)]
pub struct Grounds<'a> {
    pub platform: Option<Platform>,
    pub listing_url: &'a str,
    pub marks: &'a [MarkHit],
    pub photos: &'a [PhotoEvidence],
    /// Indicator terms, or a price far below MSRP: the goods are fake,
    /// not merely using the mark (one line each, as the score reads).
    pub counterfeit_signs: Vec<String>,
    /// The product compared with, and its category.
    pub product: Option<(&'a str, &'a str)>,
    /// Where the matched official photo is published.
    pub photo_published_at: Vec<String>,
    /// Counterfeit indicator terms in the title ("replica", "高仿"), as data
    /// so the Chinese text can name them too.
    pub indicators: Vec<String>,
    /// Price against MSRP, when the score compared them.
    pub price_gap: Option<PriceGap>,
    /// The seller, named in the details (not on the authorized list).
    pub seller: Option<String>,
}

impl Grounds<'_> {
    /// Fills `indicators`, `price_gap` and `seller` from the score's
    /// signals, whose evidence carries them as data.
    pub fn with_signals(mut self, signals: &[Signal]) -> Self {
        for s in signals {
            match s.kind {
                SignalKind::Indicator => {
                    if let Some(terms) = s.evidence.get("terms").and_then(|t| t.as_array()) {
                        self.indicators = terms
                            .iter()
                            .filter_map(|t| t.as_str().map(str::to_string))
                            .collect();
                    }
                }
                SignalKind::Price => {
                    let e = &s.evidence;
                    let num = |k: &str| e.get(k).and_then(|v| v.as_f64());
                    let text = |k: &str| e.get(k).and_then(|v| v.as_str()).map(str::to_string);
                    if let (
                        Some(price),
                        Some(currency),
                        Some(msrp),
                        Some(msrp_currency),
                        Some(pct),
                    ) = (
                        num("price"),
                        text("currency"),
                        num("msrp"),
                        text("msrp_currency"),
                        num("below_pct"),
                    ) {
                        self.price_gap = Some(PriceGap {
                            price,
                            currency,
                            msrp,
                            msrp_currency,
                            below_pct: pct,
                        });
                    }
                }
                SignalKind::UnauthorizedSeller => {
                    self.seller = s
                        .evidence
                        .get("seller")
                        .and_then(|v| v.as_str())
                        .map(str::to_string);
                }
                _ => {}
            }
        }
        self
    }

    /// True when something says the goods are fake, not merely branded.
    fn counterfeit(&self) -> bool {
        !self.counterfeit_signs.is_empty()
            || !self.indicators.is_empty()
            || self.price_gap.is_some()
            || !self.photos.is_empty()
    }
}

/// Drafts the one complaint a flagged listing is filed with: every right
/// that is applicable and valid is drafted, [`select`] keeps the best and
/// names the others as alternatives. Returns at most one draft, and the
/// failures (rule by rule) when there is none.
pub fn draft(
    wl: &Watchlist,
    g: &Grounds<'_>,
    filing_date: NaiveDate,
) -> (Vec<Draft>, Vec<RuleFailure>) {
    let Some(platform) = g.platform else {
        return (Vec::new(), Vec::new());
    };
    let mut drafts = Vec::new();
    let mut failures = Vec::new();
    let mut applicable = 0;
    for right in &wl.rights {
        let Some(reason) = applicable_reason(right, g) else {
            continue;
        };
        applicable += 1;
        let fails = check(wl, right, platform, reason, g, filing_date);
        if fails.is_empty() {
            let text = reason_text(wl, right, reason, g);
            drafts.push(Draft {
                platform,
                complaint_type: "product_listing".into(),
                right_id: right.id.clone(),
                right_kind: right.kind,
                registration_number: right.registration_number.clone(),
                jurisdiction: right.jurisdiction.clone(),
                reason_code: reason,
                listing_url: g.listing_url.to_string(),
                reason_en: text.full_en(),
                reason_zh: text.full_zh(),
                statement_en: text.statement_en,
                statement_zh: text.statement_zh,
                details_en: text.details_en,
                details_zh: text.details_zh,
                facts: text.facts,
                attachments: attachments(wl, right, reason, g),
                alternatives: Vec::new(),
                held: right.held_reason(),
            });
        } else {
            failures.extend(fails);
        }
    }
    if applicable == 0 {
        failures.push(RuleFailure {
            right_id: String::new(),
            rule: Rule::NoApplicableRight,
            message: "no right in the watchlist fits the evidence (a trademark needs the mark in the title; a copyright or design patent needs a copied official photo)".into(),
        });
    }
    if !drafts.is_empty() {
        failures.clear();
    }
    (select(drafts).into_iter().collect(), failures)
}

/// The reason a right supports given the evidence, if any.
pub fn applicable_reason(right: &Right, g: &Grounds<'_>) -> Option<ReasonCode> {
    match right.kind {
        RightKind::Trademark => {
            let marks = marks_for(right, g);
            if marks.is_empty() {
                None
            } else if g.counterfeit() {
                Some(ReasonCode::TrademarkCounterfeit)
            } else {
                Some(ReasonCode::TrademarkUnauthorizedUse)
            }
        }
        RightKind::Copyright => (!g.photos.is_empty()).then_some(ReasonCode::CopyrightImageTheft),
        RightKind::DesignPatent => {
            (!g.photos.is_empty()).then_some(ReasonCode::DesignPatentInfringement)
        }
        RightKind::Patent => {
            (!g.marks.is_empty() || !g.photos.is_empty()).then_some(ReasonCode::PatentInfringement)
        }
    }
}

/// The mark hits a trademark right covers (all hits when the right names no
/// mark).
pub(crate) fn marks_for<'g>(right: &Right, g: &Grounds<'g>) -> Vec<&'g MarkHit> {
    match &right.mark {
        Some(m) => g
            .marks
            .iter()
            .filter(|h| h.mark.eq_ignore_ascii_case(m))
            .collect(),
        None => g.marks.iter().collect(),
    }
}

/// The documents a complaint on this right is filed with: the right's
/// documents of the register (certificate, proof of ownership, claim
/// statement; the analysis report for a patent complaint), the filer's
/// (power of attorney, ID or business licence), and the comparison image
/// where images are compared. Each is `role: path`; the export copies the
/// files into the bundle's `documents/`.
fn attachments(wl: &Watchlist, right: &Right, reason: ReasonCode, g: &Grounds<'_>) -> Vec<String> {
    let mut out: Vec<String> = wl
        .documents_for(&right.id)
        .into_iter()
        .filter(|d| {
            d.role != "infringement analysis report" || reason == ReasonCode::PatentInfringement
        })
        .map(|d| format!("{}: {}", d.role, d.path))
        .collect();
    if matches!(
        reason,
        ReasonCode::DesignPatentInfringement | ReasonCode::TrademarkCounterfeit
    ) && !g.photos.is_empty()
    {
        out.push("side-by-side comparison image (evidence bundle)".into());
    }
    out
}

/// Display name of a platform, as the IPP forms write it.
pub fn platform_name(p: Platform) -> &'static str {
    match p {
        Platform::AliExpress => "AliExpress",
        Platform::Alibaba => "Alibaba.com",
        Platform::Taobao => "Taobao",
        Platform::Tmall => "Tmall",
        Platform::S1688 => "1688",
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Watchlists and grounds for the rule and reason tests.
    use super::*;
    use crate::judge::brand::MatchRule;
    use std::path::Path;

    pub const BASE: &str = r#"
[brand]
name = "AURORA"
rights_holder = "Aurora Outfitters Ltd."

[[marks]]
mark = "AURORA"
aliases = ["奥罗拉"]

[[products]]
name = "Aurora Barista Espresso Cup"
category = "drinkware"
msrp = { amount = 39.00, currency = "USD" }
image_urls = ["https://aurora-outfitters.example/products/barista-espresso-cup"]

[categories]
"drinkware" = [21]
"model kits" = [28]
"#;

    pub fn watchlist(extra: &str) -> Watchlist {
        Watchlist::from_str(Path::new("w.toml"), &format!("{BASE}\n{extra}")).unwrap()
    }

    pub const US_TM: &str = r#"
[[rights]]
id = "us-tm"
kind = "trademark"
jurisdiction = "US"
registration_number = "6123456"
mark = "AURORA"
classes = [16, 21, 28]
expires = 2032-03-14
certificate = "certificates/us.pdf"
"#;

    pub const CN_TM: &str = r#"
[[rights]]
id = "cn-tm"
kind = "trademark"
jurisdiction = "CN"
registration_number = "41234567"
mark = "AURORA"
classes = [16, 21, 28]
expires = 2031-09-27
certificate = "certificates/cn.pdf"
"#;

    pub const COPYRIGHT: &str = r#"
[[rights]]
id = "us-copyright"
kind = "copyright"
jurisdiction = "US"
registration_number = "VA0002345678"
claim_statement = "documents/copyright-claim.pdf"
"#;

    pub const DESIGN: &str = r#"
[[rights]]
id = "cn-design"
kind = "design_patent"
jurisdiction = "CN"
registration_number = "ZL202130123456.7"
expires = 2036-01-01
certificate = "certificates/design.pdf"
"#;

    pub const PATENT: &str = r#"
[[rights]]
id = "cn-utility"
kind = "patent"
jurisdiction = "CN"
registration_number = "ZL202120654321.0"
expires = 2031-01-01
certificate = "certificates/utility.pdf"
"#;

    pub fn hit(variant: &str, rule: MatchRule) -> MarkHit {
        MarkHit {
            mark: "AURORA".into(),
            term: "AURORA".into(),
            variant: variant.into(),
            rule,
            edits: u32::from(rule == MatchRule::Fuzzy),
            start: 0,
            end: variant.len(),
        }
    }

    pub fn photo() -> PhotoEvidence {
        PhotoEvidence {
            url: "https://ae01.alicdn.com/kf/cup.jpg".into(),
            sha256: "ab".repeat(32),
            reference: "espresso-cup.jpg".into(),
            distance: 4,
            bits: 128,
            transform: Some("mirrored".into()),
            similarity: Some(0.987),
            detail: Some(0.941),
            independent_samples: Some(2.5),
        }
    }

    pub fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;
    use crate::judge::brand::MatchRule;

    fn grounds<'a>(
        platform: Platform,
        marks: &'a [MarkHit],
        photos: &'a [PhotoEvidence],
    ) -> Grounds<'a> {
        Grounds {
            platform: Some(platform),
            listing_url: "https://www.aliexpress.com/item/1005001.html",
            marks,
            photos,
            product: Some(("Aurora Barista Espresso Cup", "drinkware")),
            photo_published_at: vec![
                "https://aurora-outfitters.example/products/barista-espresso-cup".into(),
            ],
            ..Grounds::default()
        }
    }

    /// The demo case of issue 6: a US-only trademark carries complaints on
    /// AliExpress and Alibaba.com, and nothing on Taobao, Tmall or 1688
    /// until a Chinese right is added.
    #[test]
    fn us_only_trademark_drafts_abroad_and_needs_right_in_china() {
        let wl = watchlist(US_TM);
        let marks = [hit("Auorra", MatchRule::Fuzzy)];
        for p in [Platform::AliExpress, Platform::Alibaba] {
            let (drafts, fails) = draft(&wl, &grounds(p, &marks, &[]), date());
            assert_eq!(drafts.len(), 1, "{p}: {fails:?}");
            assert_eq!(drafts[0].right_id, "us-tm");
            assert!(fails.is_empty());
        }
        for p in [Platform::Taobao, Platform::Tmall, Platform::S1688] {
            let (drafts, fails) = draft(&wl, &grounds(p, &marks, &[]), date());
            assert!(drafts.is_empty(), "{p}");
            assert_eq!(fails.len(), 1, "{fails:?}");
            assert_eq!(fails[0].rule, Rule::Jurisdiction);
            let name = platform_name(p);
            assert!(
                fails[0]
                    .message
                    .contains(&format!("{name} accepts only rights valid in China")),
                "{}",
                fails[0].message
            );
        }
        let wl = watchlist(&format!("{US_TM}\n{CN_TM}"));
        for p in [Platform::Taobao, Platform::Tmall, Platform::S1688] {
            let (drafts, fails) = draft(&wl, &grounds(p, &marks, &[]), date());
            assert_eq!(drafts.len(), 1, "{p}: {fails:?}");
            assert_eq!(drafts[0].right_id, "cn-tm");
        }
        // Abroad, both rights would carry it: one complaint, on the
        // Chinese registration, with the US one named as the alternative.
        let (drafts, _) = draft(&wl, &grounds(Platform::AliExpress, &marks, &[]), date());
        assert_eq!(drafts.len(), 1);
        assert_eq!(drafts[0].right_id, "cn-tm");
        let alt: Vec<&str> = drafts[0]
            .alternatives
            .iter()
            .map(|a| a.right_id.as_str())
            .collect();
        assert_eq!(alt, ["us-tm"]);
    }

    /// Right selection across platforms and rights: one complaint per
    /// listing, on the right the documented order puts first, whatever
    /// order the watchlist lists them in.
    #[test]
    fn right_selection_table() {
        use Platform::*;
        let photos = [photo()];
        let mark = [hit("AURORA", MatchRule::Exact)];
        let all = format!("{COPYRIGHT}\n{US_TM}\n{DESIGN}\n{CN_TM}");
        let foreign = format!("{COPYRIGHT}\n{US_TM}\n{DESIGN}");
        let no_tm = format!("{DESIGN}\n{COPYRIGHT}");
        // (watchlist, platform, mark in title, copied photo) → (filed, alternatives)
        type Row<'a> = (
            &'a str,
            Platform,
            bool,
            bool,
            Option<&'a str>,
            &'a [&'a str],
        );
        let table: &[Row] = &[
            // The mark on the goods: the trademark, Chinese one first.
            (
                &all,
                AliExpress,
                true,
                true,
                Some("cn-tm"),
                &["us-tm", "us-copyright", "cn-design"],
            ),
            (&all, Alibaba, true, false, Some("cn-tm"), &["us-tm"]),
            // China-only platforms: only the Chinese rights are valid.
            (&all, Taobao, true, true, Some("cn-tm"), &["cn-design"]),
            (&all, S1688, true, false, Some("cn-tm"), &[]),
            (
                &foreign,
                AliExpress,
                true,
                true,
                Some("us-tm"),
                &["us-copyright", "cn-design"],
            ),
            // A foreign trademark cannot be filed on Tmall; the Chinese
            // design patent can when the photo is copied.
            (&foreign, Tmall, true, true, Some("cn-design"), &[]),
            (&foreign, Tmall, true, false, None, &[]),
            // A stolen photo without the mark: copyright before design.
            (
                &all,
                AliExpress,
                false,
                true,
                Some("us-copyright"),
                &["cn-design"],
            ),
            (
                &no_tm,
                Alibaba,
                false,
                true,
                Some("us-copyright"),
                &["cn-design"],
            ),
            // Nothing the rights rest on.
            (&all, AliExpress, false, false, None, &[]),
        ];
        for (i, (extra, platform, with_mark, with_photo, filed, alts)) in table.iter().enumerate() {
            let wl = watchlist(extra);
            let m: &[MarkHit] = if *with_mark { &mark } else { &[] };
            let p: &[PhotoEvidence] = if *with_photo { &photos } else { &[] };
            let (drafts, _) = draft(&wl, &grounds(*platform, m, p), date());
            assert!(drafts.len() <= 1, "row {i}: {drafts:?}");
            assert_eq!(
                drafts.first().map(|d| d.right_id.as_str()),
                *filed,
                "row {i}"
            );
            let got: Vec<&str> = drafts
                .first()
                .map(|d| d.alternatives.iter().map(|a| a.right_id.as_str()).collect())
                .unwrap_or_default();
            assert_eq!(got, *alts, "row {i}");
            // `best` over the stored drafts of older stores agrees.
            if let Some(d) = drafts.first() {
                let mut many = vec![d.clone()];
                for a in &d.alternatives {
                    let mut other = d.clone();
                    other.right_id = a.right_id.clone();
                    other.right_kind = a.right_kind;
                    other.jurisdiction = a.jurisdiction.clone();
                    many.insert(0, other);
                }
                assert_eq!(best(&many).map(|b| b.right_id.as_str()), *filed, "row {i}");
            }
        }
    }

    /// IPP's verification state: an approved right is filed before a
    /// pending one; a pending right's complaint is held; a rejected right
    /// carries nothing.
    #[test]
    fn ipp_verification_state_decides_what_is_filed_and_held() {
        let marks = [hit("AURORA", MatchRule::Exact)];
        let g = grounds(Platform::AliExpress, &marks, &[]);
        let pending_cn = CN_TM.replace(
            "certificate = \"certificates/cn.pdf\"\n",
            "certificate = \"certificates/cn.pdf\"\nipp = { status = \"pending\", since = 2026-02-20 }\n",
        );
        // The approved US right is filed; the pending Chinese one is named.
        let wl = watchlist(&format!("{US_TM}\n{pending_cn}"));
        let (drafts, _) = draft(&wl, &g, date());
        assert_eq!(drafts[0].right_id, "us-tm");
        assert_eq!(drafts[0].held, None);
        assert_eq!(drafts[0].alternatives[0].right_id, "cn-tm");
        // Only the pending right: drafted, but held.
        let wl = watchlist(&pending_cn);
        let (drafts, _) = draft(&wl, &g, date());
        let held = drafts[0].held.as_deref().unwrap();
        assert!(held.contains("pending since 2026-02-20"), "{held}");
        // A rejected right fails its rule.
        let wl = watchlist(&pending_cn.replace("pending", "rejected"));
        let (drafts, fails) = draft(&wl, &g, date());
        assert!(drafts.is_empty());
        assert_eq!(fails[0].rule, Rule::IppVerified);
    }

    #[test]
    fn needs_right_lists_every_failed_rule_of_every_right() {
        let expired_us = US_TM.replace("2032-03-14", "2020-01-01");
        let wl = watchlist(&expired_us);
        let marks = [hit("AURORA", MatchRule::Exact)];
        let (drafts, fails) = draft(&wl, &grounds(Platform::Taobao, &marks, &[]), date());
        assert!(drafts.is_empty());
        let rules: Vec<Rule> = fails.iter().map(|f| f.rule).collect();
        assert_eq!(rules, vec![Rule::Jurisdiction, Rule::NotExpired]);
    }

    #[test]
    fn no_applicable_right_is_reported() {
        let wl = watchlist(US_TM);
        // A copied photo but no mark, and no copyright in the watchlist.
        let photos = [photo()];
        let (drafts, fails) = draft(&wl, &grounds(Platform::AliExpress, &[], &photos), date());
        assert!(drafts.is_empty());
        assert_eq!(fails[0].rule, Rule::NoApplicableRight);
    }

    #[test]
    fn no_platform_no_draft() {
        let wl = watchlist(US_TM);
        let marks = [hit("AURORA", MatchRule::Exact)];
        let g = Grounds {
            platform: None,
            ..grounds(Platform::AliExpress, &marks, &[])
        };
        assert_eq!(draft(&wl, &g, date()), (Vec::new(), Vec::new()));
    }

    #[test]
    fn with_signals_reads_price_indicators_and_seller() {
        let signals = vec![
            Signal {
                kind: SignalKind::Indicator,
                points: 30,
                reason: String::new(),
                evidence: serde_json::json!({"terms": ["replica", "高仿"]}),
            },
            Signal {
                kind: SignalKind::Price,
                points: 25,
                reason: String::new(),
                evidence: serde_json::json!({"price": 3.1, "currency": "USD", "product": "Cup", "msrp": 39.0, "msrp_currency": "USD", "below_pct": 92.0}),
            },
            Signal {
                kind: SignalKind::UnauthorizedSeller,
                points: 5,
                reason: String::new(),
                evidence: serde_json::json!({"seller": "Shop X", "seller_id": null}),
            },
        ];
        let g = Grounds::default().with_signals(&signals);
        assert_eq!(g.indicators, vec!["replica", "高仿"]);
        assert_eq!(g.price_gap.as_ref().map(|p| p.below_pct), Some(92.0));
        assert_eq!(g.seller.as_deref(), Some("Shop X"));
    }

    #[test]
    fn reason_codes_follow_evidence_and_right_kind() {
        let marks = [hit("AURORA", MatchRule::Exact)];
        let photos = [photo()];
        let tm: Right = watchlist(US_TM).rights[0].clone();
        assert_eq!(
            applicable_reason(&tm, &grounds(Platform::AliExpress, &marks, &[])),
            Some(ReasonCode::TrademarkUnauthorizedUse)
        );
        assert_eq!(
            applicable_reason(&tm, &grounds(Platform::AliExpress, &marks, &photos)),
            Some(ReasonCode::TrademarkCounterfeit)
        );
        assert_eq!(
            applicable_reason(&tm, &grounds(Platform::AliExpress, &[], &photos)),
            None
        );
        for code in ReasonCode::ALL {
            assert!(code.as_str().starts_with(match code.right_kind() {
                RightKind::Trademark => "trademark_",
                RightKind::Copyright => "copyright_",
                RightKind::DesignPatent => "design_patent_",
                RightKind::Patent => "patent_",
            }));
        }
    }
}
