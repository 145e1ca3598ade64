//! Complaint drafting: which IP right a flagged listing can rest on, whether
//! the platform would accept it, and the reason text.
//!
//! Rules follow Alibaba's IP Protection Platform (see
//! `shared/marketplaces.md`). Each rule is a typed check ([`Rule`]) with a
//! message a lawyer understands. A right is *applicable* to a finding when
//! the finding holds the kind of evidence the right needs (a mark in the
//! title for a trademark, a copied official photo for a copyright or a
//! design patent); an applicable right that fails a rule is reported, never
//! drafted. A flagged finding with no valid right is `needs_right`.

use crate::brand::MarkHit;
use crate::listing::Platform;
use crate::score::PhotoEvidence;
use crate::watchlist::{FilerRole, Right, RightKind, Watchlist};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A check a complaint must pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Taobao, Tmall and 1688 accept only rights valid in China.
    Jurisdiction,
    /// The right must not be expired on the filing date.
    NotExpired,
    /// A trademark's Nice classes must cover the product's category.
    ClassesCoverGoods,
    /// The reason must fit the right (copyright needs the published source
    /// of the photo; a utility patent needs an analysis report).
    ReasonFitsRight,
    /// An agent filing for the owner needs an authorization on record.
    AgentAuthorization,
    /// No right of a kind the evidence supports is in the watchlist.
    NoApplicableRight,
}

/// Why a right cannot carry a complaint for a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleFailure {
    /// The right that failed (empty for [`Rule::NoApplicableRight`]).
    pub right_id: String,
    pub rule: Rule,
    pub message: String,
}

/// The reason code of a complaint; the IPP lists reasons per right type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::TrademarkUnauthorizedUse => "trademark_unauthorized_use",
            ReasonCode::TrademarkCounterfeit => "trademark_counterfeit",
            ReasonCode::CopyrightImageTheft => "copyright_image_theft",
            ReasonCode::DesignPatentInfringement => "design_patent_infringement",
            ReasonCode::PatentInfringement => "patent_infringement",
        }
    }
}

/// A draft complaint for one listing on one right.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Reason text, English.
    pub reason_en: String,
    /// Reason text, Chinese.
    pub reason_zh: String,
}

/// What a finding offers as grounds for a complaint.
#[derive(Debug, Clone, Default)]
pub struct Grounds<'a> {
    pub platform: Option<Platform>,
    pub listing_url: &'a str,
    pub marks: &'a [MarkHit],
    pub photos: &'a [PhotoEvidence],
    /// Indicator terms, or a price far below MSRP: the goods are fake,
    /// not merely using the mark.
    pub counterfeit_signs: Vec<String>,
    /// The product compared with, and its category.
    pub product: Option<(&'a str, &'a str)>,
    /// Where the matched official photo is published.
    pub photo_published_at: Vec<String>,
}

/// Drafts complaints on every right that is applicable and valid; returns
/// the drafts, and the failures (rule by rule) when there is no draft.
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
            let (reason_en, reason_zh) = reason_text(wl, right, reason, g);
            drafts.push(Draft {
                platform,
                complaint_type: "product_listing".into(),
                right_id: right.id.clone(),
                right_kind: right.kind,
                registration_number: right.registration_number.clone(),
                jurisdiction: right.jurisdiction.clone(),
                reason_code: reason,
                listing_url: g.listing_url.to_string(),
                reason_en,
                reason_zh,
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
    (drafts, failures)
}

/// The reason a right supports given the evidence, if any.
fn applicable_reason(right: &Right, g: &Grounds<'_>) -> Option<ReasonCode> {
    match right.kind {
        RightKind::Trademark => {
            let marks: Vec<&MarkHit> = match &right.mark {
                Some(m) => g
                    .marks
                    .iter()
                    .filter(|h| h.mark.eq_ignore_ascii_case(m))
                    .collect(),
                None => g.marks.iter().collect(),
            };
            if marks.is_empty() {
                None
            } else if g.counterfeit_signs.is_empty() && g.photos.is_empty() {
                Some(ReasonCode::TrademarkUnauthorizedUse)
            } else {
                Some(ReasonCode::TrademarkCounterfeit)
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

/// Every rule a right fails for this complaint.
pub fn check(
    wl: &Watchlist,
    right: &Right,
    platform: Platform,
    reason: ReasonCode,
    g: &Grounds<'_>,
    filing_date: NaiveDate,
) -> Vec<RuleFailure> {
    let mut out = Vec::new();
    let mut fail = |rule: Rule, message: String| {
        out.push(RuleFailure {
            right_id: right.id.clone(),
            rule,
            message,
        })
    };
    if platform.china_only() && !right.jurisdiction.eq_ignore_ascii_case("CN") {
        fail(
            Rule::Jurisdiction,
            format!(
                "{} accepts only rights valid in China; right {} is registered in {}",
                platform_name(platform),
                right.id,
                right.jurisdiction
            ),
        );
    }
    if let Some(expires) = right.expires {
        if expires < filing_date {
            fail(
                Rule::NotExpired,
                format!(
                    "right {} expired on {expires}; the filing date is {filing_date}",
                    right.id
                ),
            );
        }
    }
    if right.kind == RightKind::Trademark {
        if let Some((product, category)) = g.product {
            match wl.categories.get(category) {
                Some(classes) if !classes.iter().any(|c| right.classes.contains(c)) => fail(
                    Rule::ClassesCoverGoods,
                    format!(
                        "trademark {} covers Nice classes {:?}, but {product} ({category}) falls in {:?}",
                        right.id, right.classes, classes
                    ),
                ),
                Some(_) => {}
                None => fail(
                    Rule::ClassesCoverGoods,
                    format!("category \"{category}\" of {product} has no Nice classes in [categories], so class coverage of trademark {} cannot be shown", right.id),
                ),
            }
        }
    }
    match reason {
        ReasonCode::CopyrightImageTheft if g.photo_published_at.is_empty() => fail(
            Rule::ReasonFitsRight,
            format!("a copyright complaint must show where the official photo is published: add image_urls to the product in the watchlist (right {})", right.id),
        ),
        ReasonCode::PatentInfringement if right.analysis_report.is_none() => fail(
            Rule::ReasonFitsRight,
            format!("patent {} needs an infringement analysis report (analysis_report in the watchlist)", right.id),
        ),
        _ => {}
    }
    if let Some(filer) = &wl.brand.filer {
        if filer.role == FilerRole::Agent
            && filer
                .authorization
                .as_deref()
                .is_none_or(|a| a.trim().is_empty())
        {
            fail(
                Rule::AgentAuthorization,
                format!("{} files as an agent for {} but no authorization is on record (brand.filer.authorization)", filer.name, wl.brand.rights_holder),
            );
        }
    }
    out
}

fn platform_name(p: Platform) -> &'static str {
    match p {
        Platform::AliExpress => "AliExpress",
        Platform::Alibaba => "Alibaba.com",
        Platform::Taobao => "Taobao",
        Platform::Tmall => "Tmall",
        Platform::S1688 => "1688",
    }
}

/// Reason text in English and Chinese, with the specifics of the case.
fn reason_text(
    wl: &Watchlist,
    right: &Right,
    reason: ReasonCode,
    g: &Grounds<'_>,
) -> (String, String) {
    let holder = &wl.brand.rights_holder;
    let reg = &right.registration_number;
    let mark_bits: Vec<String> = g
        .marks
        .iter()
        .map(|h| format!("\"{}\" ({})", h.variant, h.rule.as_str()))
        .collect();
    let photo_bits: Vec<String> = g
        .photos
        .iter()
        .map(|p| {
            format!(
                "{} (Hamming distance {}/{})",
                p.reference, p.distance, p.bits
            )
        })
        .collect();
    let signs = g.counterfeit_signs.join("; ");
    match reason {
        ReasonCode::TrademarkUnauthorizedUse => (
            format!("The listing uses the mark {} of {holder} (registration {reg}, {}) as {} without authorization.", right.mark.as_deref().unwrap_or(""), right.jurisdiction, mark_bits.join(", ")),
            format!("该商品未经授权使用{holder}的注册商标{}（注册号{reg}，{}），标题中写作{}。", right.mark.as_deref().unwrap_or(""), right.jurisdiction, mark_bits.join("、")),
        ),
        ReasonCode::TrademarkCounterfeit => (
            format!(
                "The listing offers counterfeit goods bearing the mark {} of {holder} (registration {reg}, {}): title uses {}{}{}.",
                right.mark.as_deref().unwrap_or(""),
                right.jurisdiction,
                mark_bits.join(", "),
                if photo_bits.is_empty() { String::new() } else { format!("; photos copy official image {}", photo_bits.join(", ")) },
                if signs.is_empty() { String::new() } else { format!("; {signs}") },
            ),
            format!(
                "该商品为假冒{holder}注册商标{}（注册号{reg}，{}）的商品：标题使用{}{}{}。",
                right.mark.as_deref().unwrap_or(""),
                right.jurisdiction,
                mark_bits.join("、"),
                if photo_bits.is_empty() { String::new() } else { format!("；商品图片与官方图片{}相同", photo_bits.join("、")) },
                if signs.is_empty() { String::new() } else { format!("；{signs}") },
            ),
        ),
        ReasonCode::CopyrightImageTheft => (
            format!("The listing uses photographs owned by {holder} without permission: {}; the originals are published at {}.", photo_bits.join(", "), g.photo_published_at.join(", ")),
            format!("该商品未经许可使用{holder}拥有著作权的图片：{}；原图发表于{}。", photo_bits.join("、"), g.photo_published_at.join("、")),
        ),
        ReasonCode::DesignPatentInfringement => (
            format!("The product shown is identical or similar to design patent {reg} of {holder}; side-by-side comparison attached ({}).", photo_bits.join(", ")),
            format!("该商品外观与{holder}的外观设计专利{reg}相同或近似，附对比图（{}）。", photo_bits.join("、")),
        ),
        ReasonCode::PatentInfringement => (
            format!("The product infringes patent {reg} of {holder}; see the attached infringement analysis report {}.", right.analysis_report.as_deref().unwrap_or("")),
            format!("该商品侵犯{holder}的专利{reg}，详见附件侵权分析报告{}。", right.analysis_report.as_deref().unwrap_or("")),
        ),
    }
}
