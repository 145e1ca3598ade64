//! Reason texts, in English and Chinese, in the platform's terms.
//!
//! A complaint's text has two parts:
//!
//! - the **statement**: what is asserted, on which right, with which IPP
//!   reason. It names nothing of one listing, so it is true of every
//!   listing of a batch (a batch is one platform, one right, one reason);
//! - the **details** of one listing: the mark as its title writes it, the
//!   official photo it copies and where that is published, its price
//!   against the retail price, the counterfeit words in its title. They go
//!   in the per-URL table of the batch (CSV), the complaint's JSON and the
//!   report, never into the batch reason.
//!
//! [`batch_reason`] is the statement, then what is true of *every* listing
//! of the batch (each is priced far below retail; each title calls itself
//! a replica; each copies an official photo), within
//! [`BATCH_REASON_BUDGET`] characters. Product differences are product
//! facts (price, the seller's own words), never photo edits; hashes and
//! correlations stay in the evidence; the Chinese text is Chinese apart
//! from the mark, its variants and registration numbers.

use super::{marks_for, Draft, Grounds, ReasonCode};
use crate::judge::brand::MarkHit;
use crate::model::watchlist::{Right, Watchlist};
use serde::{Deserialize, Serialize};

/// Most characters of a batch reason, per language. IPP's complaint form
/// takes the reason in its "Supplement infringement reason(s)" field
/// (ipp.alibabagroup.com, "How to submit a trademark complaint", step 7)
/// and publishes no limit for it; this budget keeps a batch reason to a
/// short paragraph a reviewer reads whole.
pub const BATCH_REASON_BUDGET: usize = 1_000;

/// The reason text of one complaint.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReasonText {
    pub statement_en: String,
    pub statement_zh: String,
    pub details_en: String,
    pub details_zh: String,
    pub facts: ListingFacts,
}

impl ReasonText {
    pub fn full_en(&self) -> String {
        join_en(&self.statement_en, &self.details_en)
    }
    pub fn full_zh(&self) -> String {
        format!("{}{}", self.statement_zh, self.details_zh)
    }
}

/// One listing's own facts, as data: what its per-URL line says.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ListingFacts {
    /// The mark as the title writes it ("Auorra"), one per hit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mark_as_written: Vec<String>,
    /// The listing photo that copies an official photo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_url: Option<String>,
    /// The official photo it copies (file name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub official_photo: Option<String>,
    /// Where the rights holder published that official photo.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub published_at: Vec<String>,
    /// Price against the retail price, when far below it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_gap: Option<super::PriceGap>,
    /// Counterfeit words in the title ("replica", "高仿").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub counterfeit_terms: Vec<String>,
}

/// One part of a reason (a sentence, a phrase) in both languages. Every
/// part is made by one call with both texts, so the English and the
/// Chinese have the same parts in the same order and cannot drift apart.
#[derive(Debug, Clone, PartialEq)]
struct Both {
    en: String,
    zh: String,
}

fn both(en: impl Into<String>, zh: impl Into<String>) -> Both {
    Both {
        en: en.into(),
        zh: zh.into(),
    }
}

/// Parts joined per language: English with spaces, Chinese without.
fn join(parts: &[Both], en_sep: &str) -> Both {
    let en: Vec<&str> = parts.iter().map(|p| p.en.as_str()).collect();
    let zh: Vec<&str> = parts.iter().map(|p| p.zh.as_str()).collect();
    both(en.join(en_sep), zh.concat())
}

fn join_en(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (_, true) => a.to_string(),
        (true, false) => b.to_string(),
        (false, false) => format!("{a} {b}"),
    }
}

/// A jurisdiction code as Chinese text writes it.
fn jurisdiction_zh(code: &str) -> String {
    let c = code.trim().to_ascii_uppercase();
    let name = match c.as_str() {
        "CN" | "CHN" | "PRC" => "中国",
        "US" | "USA" => "美国",
        "EU" | "EM" | "EUIPO" => "欧盟",
        "GB" | "UK" => "英国",
        "DE" => "德国",
        "FR" => "法国",
        "IT" => "意大利",
        "ES" => "西班牙",
        "JP" => "日本",
        "KR" => "韩国",
        "HK" => "中国香港",
        "MO" => "中国澳门",
        "TW" => "中国台湾",
        "AU" => "澳大利亚",
        "CA" => "加拿大",
        "WO" | "WIPO" => "国际注册",
        _ => return c,
    };
    name.to_string()
}

/// A currency code as Chinese text writes it.
pub fn currency_zh(code: &str) -> String {
    let name = match code.trim().to_ascii_uppercase().as_str() {
        "CNY" | "RMB" => "元",
        "USD" => "美元",
        "EUR" => "欧元",
        "GBP" => "英镑",
        "JPY" => "日元",
        "KRW" => "韩元",
        "RUB" => "卢布",
        "BRL" => "雷亚尔",
        "HKD" => "港元",
        "AUD" => "澳元",
        "CAD" => "加元",
        _ => return code.trim().to_string(),
    };
    name.to_string()
}

/// The counterfeit words of a title that are Chinese (kept verbatim in the
/// Chinese text; Latin ones are summed up as "仿品").
fn has_han(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

fn quoted(items: &[String], open: &str, close: &str, sep: &str) -> String {
    items
        .iter()
        .map(|t| format!("{open}{t}{close}"))
        .collect::<Vec<_>>()
        .join(sep)
}

/// The statement of a reason: listing-independent, true of a whole batch.
fn statement(wl: &Watchlist, right: &Right, reason: ReasonCode) -> Both {
    let holder = &wl.brand.rights_holder;
    let holder_zh = wl
        .brand
        .rights_holder_zh
        .as_deref()
        .filter(|h| !h.trim().is_empty())
        .unwrap_or("权利人");
    let reg = &right.registration_number;
    let jur = &right.jurisdiction;
    let jur_zh = jurisdiction_zh(jur);
    let mark = right.mark.as_deref().unwrap_or(&wl.brand.name);
    let classes: Vec<String> = right.classes.iter().map(|c| c.to_string()).collect();
    let classes = if classes.is_empty() {
        both("", "")
    } else {
        both(
            format!(", Nice classes {}", classes.join(", ")),
            format!("，核定使用商品第{}类", classes.join("、")),
        )
    };
    let until = match right.expires {
        Some(d) => both(format!(", valid until {d}"), format!("，有效期至{d}")),
        None => both("", ""),
    };
    let (classes_en, classes_zh, until_en, until_zh) =
        (&classes.en, &classes.zh, &until.en, &until.zh);
    match reason {
        ReasonCode::TrademarkCounterfeit => both(
            format!(
                "Each listing below offers counterfeit goods bearing the trademark {mark} registered to {holder} ({jur} registration {reg}{classes_en}{until_en}). {holder} has not authorized these sellers, and the goods are not its products."
            ),
            format!(
                "下列商品均为假冒{holder_zh}注册商标{mark}（{jur_zh}注册号{reg}{classes_zh}{until_zh}）的商品。权利人未授权上述卖家，相关商品并非权利人的产品。"
            ),
        ),
        ReasonCode::TrademarkUnauthorizedUse => both(
            format!(
                "Each listing below uses the trademark {mark} registered to {holder} ({jur} registration {reg}{classes_en}{until_en}) in its product information without authorization."
            ),
            format!(
                "下列商品均在商品信息中未经授权使用{holder_zh}注册商标{mark}（{jur_zh}注册号{reg}{classes_zh}{until_zh}）。"
            ),
        ),
        ReasonCode::CopyrightImageTheft => both(
            format!(
                "Each listing below uses, without permission, a photograph whose copyright belongs to {holder} ({jur} registration {reg}). For each listing, the attached table names the official photograph copied and the page where {holder} published it."
            ),
            format!(
                "下列商品均未经许可使用{holder_zh}享有著作权的图片（{jur_zh}登记号{reg}）。附表逐条列明被盗用的官方图片及其发表页面。"
            ),
        ),
        ReasonCode::DesignPatentInfringement => both(
            format!(
                "The product in each listing below is identical or similar to design patent {reg} of {holder} ({jur}{until_en}). Side-by-side images of the patented design and each listing are attached."
            ),
            format!(
                "下列商品外观均与{holder_zh}的外观设计专利{reg}（{jur_zh}{until_zh}）相同或近似，附专利图片与商品图片对比图。"
            ),
        ),
        ReasonCode::PatentInfringement => both(
            format!(
                "The product in each listing below infringes patent {reg} of {holder} ({jur}{until_en}). The attached infringement analysis report compares it with the claims."
            ),
            format!(
                "下列商品均侵犯{holder_zh}的专利{reg}（{jur_zh}{until_zh}），详见附件侵权分析报告。"
            ),
        ),
    }
}

/// What differs from the genuine product: product facts only.
fn differences(f: &ListingFacts) -> Vec<Both> {
    let mut parts = Vec::new();
    if let Some(gap) = &f.price_gap {
        parts.push(both(
            format!(
                "it is priced {:.2} {}, {:.0}% below the retail price of {:.2} {}",
                gap.price, gap.currency, gap.below_pct, gap.msrp, gap.msrp_currency
            ),
            format!(
                "售价{:.2}{}，比正品零售价{:.2}{}低{:.0}%",
                gap.price,
                currency_zh(&gap.currency),
                gap.msrp,
                currency_zh(&gap.msrp_currency),
                gap.below_pct
            ),
        ));
    }
    if !f.counterfeit_terms.is_empty() {
        let han: Vec<String> = f
            .counterfeit_terms
            .iter()
            .filter(|t| has_han(t))
            .cloned()
            .collect();
        parts.push(both(
            format!(
                "its title calls it {}",
                quoted(&f.counterfeit_terms, "\"", "\"", ", ")
            ),
            if han.is_empty() {
                "标题自称仿品".to_string()
            } else {
                format!("标题自称{}", quoted(&han, "“", "”", "、"))
            },
        ));
    }
    parts
}

/// The per-URL line of one listing, from its facts, sentence by sentence.
fn details(reason: ReasonCode, f: &ListingFacts) -> Vec<Both> {
    let mut parts: Vec<Both> = Vec::new();
    let trademark = matches!(
        reason,
        ReasonCode::TrademarkCounterfeit | ReasonCode::TrademarkUnauthorizedUse
    );
    if trademark && !f.mark_as_written.is_empty() {
        parts.push(both(
            format!(
                "The title uses the mark as {}.",
                quoted(&f.mark_as_written, "\"", "\"", ", ")
            ),
            format!(
                "标题使用商标{}。",
                quoted(&f.mark_as_written, "“", "”", "、")
            ),
        ));
    }
    if let Some(official) = &f.official_photo {
        let photo = f.photo_url.as_deref().unwrap_or("a listing photo");
        let published = if f.published_at.is_empty() {
            String::new()
        } else {
            format!(", published at {}", f.published_at.join(", "))
        };
        // The Chinese text names no URL or file: the table beside it does.
        match reason {
            ReasonCode::CopyrightImageTheft => parts.push(both(
                format!("Its photo {photo} copies the official photograph {official}{published}."),
                "商品图片盗用权利人的官方图片（原图及发表页面见附表）。",
            )),
            ReasonCode::DesignPatentInfringement => parts.push(both(
                format!("Its photo {photo} shows the design of the official photograph {official}."),
                "商品图片与权利人官方产品图片外观一致（见对比图）。",
            )),
            ReasonCode::TrademarkCounterfeit => parts.push(both(
                format!("Its photo {photo} is the rights holder's official photograph {official}, used to pass the goods off as genuine."),
                "商品图片盗用权利人官方图片，冒充正品。",
            )),
            ReasonCode::TrademarkUnauthorizedUse | ReasonCode::PatentInfringement => {}
        }
    }
    if trademark {
        let diffs = differences(f);
        if !diffs.is_empty() {
            let en: Vec<&str> = diffs.iter().map(|d| d.en.as_str()).collect();
            let zh: Vec<&str> = diffs.iter().map(|d| d.zh.as_str()).collect();
            parts.push(both(
                format!("What differs from the genuine product: {}.", en.join("; ")),
                format!("与正品的差异：{}。", zh.join("；")),
            ));
        }
    }
    parts
}

/// The facts of one listing for a complaint on `right`.
pub fn facts(right: &Right, reason: ReasonCode, g: &Grounds<'_>) -> ListingFacts {
    let marks: Vec<&MarkHit> = marks_for(right, g);
    let mut mark_as_written: Vec<String> = Vec::new();
    for h in marks {
        if !mark_as_written.contains(&h.variant) {
            mark_as_written.push(h.variant.clone());
        }
    }
    let photo = g.photos.first();
    let counterfeit = reason == ReasonCode::TrademarkCounterfeit;
    ListingFacts {
        mark_as_written,
        photo_url: photo.map(|p| p.url.clone()),
        official_photo: photo.map(|p| p.reference.clone()),
        published_at: if photo.is_some() {
            g.photo_published_at.clone()
        } else {
            Vec::new()
        },
        price_gap: if counterfeit {
            g.price_gap.clone()
        } else {
            None
        },
        counterfeit_terms: if counterfeit {
            g.indicators.clone()
        } else {
            Vec::new()
        },
    }
}

/// Reason text in English and Chinese: the statement and this listing's
/// details.
pub fn reason_text(
    wl: &Watchlist,
    right: &Right,
    reason: ReasonCode,
    g: &Grounds<'_>,
) -> ReasonText {
    let statement = statement(wl, right, reason);
    let facts = facts(right, reason, g);
    let details = join(&details(reason, &facts), " ");
    ReasonText {
        statement_en: statement.en,
        statement_zh: statement.zh,
        details_en: details.en,
        details_zh: details.zh,
        facts,
    }
}

/// The reason of a batch, English and Chinese: the statement (the same for
/// every draft of a batch), then the facts every listing of the batch
/// shares, then where the per-URL facts are. Sentences that would pass
/// [`BATCH_REASON_BUDGET`] are left out (the per-URL table has them).
pub fn batch_reason(drafts: &[&Draft], table: &str) -> (String, String) {
    let Some(first) = drafts.first() else {
        return (String::new(), String::new());
    };
    let mut parts = vec![both(first.statement_en.clone(), first.statement_zh.clone())];
    let all = |f: &dyn Fn(&ListingFacts) -> bool| drafts.iter().all(|d| f(&d.facts));
    if all(&|f| f.price_gap.is_some()) {
        let least = drafts
            .iter()
            .filter_map(|d| d.facts.price_gap.as_ref().map(|g| g.below_pct))
            .fold(f64::INFINITY, f64::min);
        parts.push(both(
            format!(
                "Every listing is priced at least {least:.0}% below the rights holder's retail price."
            ),
            format!("所有商品售价均比正品零售价低{least:.0}%以上。"),
        ));
    }
    if all(&|f| !f.counterfeit_terms.is_empty()) {
        parts.push(both(
            "Every listing's title describes the goods as a replica or copy.",
            "所有商品标题均自称仿品。",
        ));
    }
    if first.reason_code == ReasonCode::TrademarkCounterfeit && all(&|f| f.official_photo.is_some())
    {
        parts.push(both(
            "Every listing shows a photograph copied from the rights holder's official product photos.",
            "所有商品均盗用权利人的官方产品图片。",
        ));
    }
    let what = match first.reason_code {
        ReasonCode::TrademarkCounterfeit | ReasonCode::TrademarkUnauthorizedUse => both(
            "the mark as written, the photograph copied, the price",
            "商标写法、被盗用的图片、售价",
        ),
        ReasonCode::CopyrightImageTheft => both(
            "the listing photograph, the official photograph it copies and where that is published",
            "商品图片、被盗用的官方图片及其发表页面",
        ),
        ReasonCode::DesignPatentInfringement | ReasonCode::PatentInfringement => {
            both("the listing photograph compared", "用于比对的商品图片")
        }
    };
    parts.push(both(
        format!(
            "The facts of each listing ({}) are listed in the attached table {table}.",
            what.en
        ),
        format!("各商品的具体情况（{}）见附表。", what.zh),
    ));
    let text = fit(parts);
    (text.en, text.zh)
}

/// Joins sentences, leaving out middle ones while either language would
/// pass the budget (the statement, first, and the pointer to the table,
/// last, stay). A sentence is left out of both languages or of neither.
fn fit(mut parts: Vec<Both>) -> Both {
    let over = |parts: &[Both]| {
        let text = join(parts, " ");
        text.en.chars().count() > BATCH_REASON_BUDGET
            || text.zh.chars().count() > BATCH_REASON_BUDGET
    };
    while parts.len() > 2 && over(&parts) {
        parts.remove(parts.len() - 2);
    }
    join(&parts, " ")
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::{draft, PriceGap};
    use super::*;
    use crate::judge::brand::MatchRule;
    use crate::judge::signal::PhotoEvidence;
    use crate::model::listing::Platform;

    const PATENT_WITH_REPORT: &str = r#"
[[rights]]
id = "cn-utility"
kind = "patent"
jurisdiction = "CN"
registration_number = "ZL202120654321.0"
expires = 2031-01-01
certificate = "certificates/utility.pdf"
analysis_report = "reports/fto-2026.pdf"
"#;

    fn counterfeit_grounds<'a>(marks: &'a [MarkHit], photos: &'a [PhotoEvidence]) -> Grounds<'a> {
        Grounds {
            platform: Some(Platform::AliExpress),
            listing_url: "https://www.aliexpress.com/item/1005001.html",
            marks,
            photos,
            product: Some(("Aurora Barista Espresso Cup", "drinkware")),
            photo_published_at: vec![
                "https://aurora-outfitters.example/products/barista-espresso-cup".into(),
            ],
            indicators: vec!["replica".into(), "高仿".into()],
            price_gap: Some(PriceGap {
                price: 3.1,
                currency: "USD".into(),
                msrp: 39.0,
                msrp_currency: "USD".into(),
                below_pct: 92.0,
            }),
            seller: Some("Shenzhen Copy Co".into()),
            ..Grounds::default()
        }
    }

    fn only(wl: &Watchlist, g: &Grounds<'_>) -> Draft {
        let (mut drafts, f) = draft(wl, g, date());
        assert_eq!(drafts.len(), 1, "{f:?}");
        drafts.remove(0)
    }

    /// Latin words of a Chinese text that are not the mark, one of its
    /// variants, or a registration number.
    pub(crate) fn stray_latin(zh: &str, allowed: &[&str]) -> Vec<String> {
        zh.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
            .filter(|w| w.chars().any(|c| c.is_ascii_alphabetic()))
            .filter(|w| {
                !allowed.iter().any(|a| a.eq_ignore_ascii_case(w))
                    && !w.starts_with("ZL")
                    && !w.starts_with("VA")
            })
            .map(str::to_string)
            .collect()
    }

    const JARGON: &[&str] = &[
        "hash", "hamming", "correlat", "distance", "mirrored", "cropped", "trimming",
    ];

    #[test]
    fn trademark_counterfeit_states_the_right_and_keeps_facts_per_listing() {
        let wl = watchlist(US_TM);
        let marks = [hit("Auorra", MatchRule::Fuzzy)];
        let photos = [photo()];
        let d = only(&wl, &counterfeit_grounds(&marks, &photos));
        assert_eq!(d.reason_code, ReasonCode::TrademarkCounterfeit);
        for needle in [
            "counterfeit goods bearing the trademark AURORA registered to Aurora Outfitters Ltd.",
            "US registration 6123456",
            "Nice classes 16, 21, 28",
        ] {
            assert!(
                d.statement_en.contains(needle),
                "{needle:?} in {}",
                d.statement_en
            );
        }
        // Nothing of one listing in the statement.
        for not in ["Auorra", "3.10", "replica", "espresso", "aliexpress"] {
            assert!(
                !d.statement_en.contains(not),
                "{not:?} in {}",
                d.statement_en
            );
        }
        for needle in [
            "\"Auorra\"",
            "priced 3.10 USD, 92% below the retail price of 39.00 USD",
            "\"replica\", \"高仿\"",
            "official photograph espresso-cup.jpg",
        ] {
            assert!(
                d.details_en.contains(needle),
                "{needle:?} in {}",
                d.details_en
            );
        }
        // Product differences are product facts: no photo edits, no
        // seller, no hash jargon.
        let all_en = d.reason_en.to_lowercase();
        for j in JARGON.iter().chain(&["shenzhen copy co"]) {
            assert!(!all_en.contains(j), "{j:?} in {}", d.reason_en);
        }
        for needle in [
            "假冒",
            "美国注册号6123456",
            "“Auorra”",
            "低92%",
            "美元",
            "“高仿”",
        ] {
            assert!(
                d.reason_zh.contains(needle),
                "{needle:?} in {}",
                d.reason_zh
            );
        }
        assert_eq!(
            stray_latin(&d.reason_zh, &["AURORA", "Auorra"]),
            Vec::<String>::new(),
            "{}",
            d.reason_zh
        );
        assert_eq!(d.facts.mark_as_written, ["Auorra"]);
        assert_eq!(d.facts.price_gap.as_ref().map(|g| g.below_pct), Some(92.0));
        assert!(d
            .attachments
            .iter()
            .any(|a| a == "registration certificate: certificates/us.pdf"));
    }

    #[test]
    fn chinese_holder_name_is_used_when_given() {
        let wl = watchlist(US_TM);
        let marks = [hit("AURORA", MatchRule::Exact)];
        let d = only(&wl, &counterfeit_grounds(&marks, &[]));
        assert!(d.statement_zh.contains("权利人"), "{}", d.statement_zh);
        assert!(!d.statement_zh.contains("Outfitters"), "{}", d.statement_zh);
        let text = format!("{BASE}\n{US_TM}").replace(
            "rights_holder = \"Aurora Outfitters Ltd.\"",
            "rights_holder = \"Aurora Outfitters Ltd.\"\nrights_holder_zh = \"奥罗拉户外用品有限公司\"",
        );
        let wl = Watchlist::from_str(std::path::Path::new("w.toml"), &text).unwrap();
        let d = only(&wl, &counterfeit_grounds(&marks, &[]));
        assert!(
            d.statement_zh
                .contains("奥罗拉户外用品有限公司注册商标AURORA"),
            "{}",
            d.statement_zh
        );
    }

    #[test]
    fn trademark_unauthorized_use_without_counterfeit_signs() {
        let wl = watchlist(US_TM);
        let marks = [hit("AURORA", MatchRule::Exact)];
        let g = Grounds {
            platform: Some(Platform::Alibaba),
            listing_url: "https://www.alibaba.com/product-detail/x_1600.html",
            marks: &marks,
            product: Some(("Aurora Barista Espresso Cup", "drinkware")),
            ..Grounds::default()
        };
        let d = only(&wl, &g);
        assert_eq!(d.reason_code, ReasonCode::TrademarkUnauthorizedUse);
        assert!(
            d.statement_en.contains("without authorization"),
            "{}",
            d.statement_en
        );
        assert!(d.details_en.contains("\"AURORA\""), "{}", d.details_en);
        assert!(!d.details_en.contains("differs"), "{}", d.details_en);
        assert!(d.reason_zh.contains("未经授权使用"), "{}", d.reason_zh);
    }

    #[test]
    fn copyright_names_the_photo_and_where_it_is_published_per_listing() {
        let wl = watchlist(COPYRIGHT);
        let photos = [photo()];
        let d = only(&wl, &counterfeit_grounds(&[], &photos));
        assert_eq!(d.reason_code, ReasonCode::CopyrightImageTheft);
        assert!(
            d.details_en.contains(
                "copies the official photograph espresso-cup.jpg, published at https://aurora-outfitters.example/products/barista-espresso-cup"
            ),
            "{}",
            d.details_en
        );
        // The statement holds for any listing: no product page in it.
        assert!(!d.statement_en.contains("https://"), "{}", d.statement_en);
        // A copyright claim carries no counterfeit product differences.
        assert!(!d.details_en.contains("differs"), "{}", d.details_en);
        assert!(d.facts.price_gap.is_none());
        assert_eq!(
            d.facts.published_at,
            ["https://aurora-outfitters.example/products/barista-espresso-cup"]
        );
        assert_eq!(
            stray_latin(&d.reason_zh, &[]),
            Vec::<String>::new(),
            "{}",
            d.reason_zh
        );
    }

    #[test]
    fn design_patent_attaches_side_by_side() {
        let wl = watchlist(DESIGN);
        let photos = [photo()];
        let d = only(&wl, &counterfeit_grounds(&[], &photos));
        assert_eq!(d.reason_code, ReasonCode::DesignPatentInfringement);
        assert!(
            d.statement_en.contains("design patent ZL202130123456.7"),
            "{}",
            d.statement_en
        );
        assert!(
            d.statement_en.contains("Side-by-side images"),
            "{}",
            d.statement_en
        );
        assert!(
            d.statement_zh.contains("外观设计专利ZL202130123456.7"),
            "{}",
            d.statement_zh
        );
        assert!(d.attachments.iter().any(|a| a.contains("side-by-side")));
        for j in JARGON {
            assert!(
                !d.reason_en.to_lowercase().contains(j),
                "{j} in {}",
                d.reason_en
            );
        }
    }

    #[test]
    fn patent_cites_the_analysis_report() {
        let wl = watchlist(PATENT_WITH_REPORT);
        let marks = [hit("AURORA", MatchRule::Exact)];
        let d = only(&wl, &counterfeit_grounds(&marks, &[]));
        assert_eq!(d.reason_code, ReasonCode::PatentInfringement);
        assert!(
            d.statement_en.contains("infringement analysis report"),
            "{}",
            d.statement_en
        );
        assert!(
            d.statement_zh.contains("侵权分析报告"),
            "{}",
            d.statement_zh
        );
        assert!(d
            .attachments
            .iter()
            .any(|a| a == "infringement analysis report: reports/fto-2026.pdf"));
    }

    #[test]
    fn batch_reason_says_only_what_every_listing_shares() {
        let wl = watchlist(US_TM);
        let marks = [hit("Auorra", MatchRule::Fuzzy)];
        let photos = [photo()];
        let a = only(&wl, &counterfeit_grounds(&marks, &photos));
        let mut g2 = counterfeit_grounds(&marks, &[]);
        g2.listing_url = "https://www.aliexpress.com/item/1005002.html";
        g2.indicators.clear();
        if let Some(p) = g2.price_gap.as_mut() {
            p.below_pct = 75.0;
            p.price = 9.75;
        }
        let b = only(&wl, &g2);
        let (en, zh) = batch_reason(&[&a, &b], "t.csv");
        assert_eq!(en.matches("counterfeit goods bearing").count(), 1, "{en}");
        // Both are far below retail: the smaller gap is true of both.
        assert!(en.contains("at least 75% below"), "{en}");
        assert!(zh.contains("低75%以上"), "{zh}");
        // Only the first has a copied photo and "replica": not said.
        assert!(!en.contains("replica"), "{en}");
        assert!(!en.contains("shows a photograph copied"), "{en}");
        assert!(!en.contains("1005001"), "{en}");
        assert!(en.contains("t.csv"), "{en}");
        assert!(en.chars().count() <= BATCH_REASON_BUDGET);
        assert!(zh.chars().count() <= BATCH_REASON_BUDGET);
        assert_eq!(stray_latin(&zh, &["AURORA"]), Vec::<String>::new(), "{zh}");
        // With the photo and the word on both, both are said.
        let (en, _) = batch_reason(&[&a, &a], "t.csv");
        assert!(en.contains("replica or copy"), "{en}");
        assert!(en.contains("shows a photograph copied"), "{en}");
        assert_eq!(batch_reason(&[], "t.csv"), (String::new(), String::new()));
    }

    #[test]
    fn fit_keeps_statement_and_pointer_within_budget_in_both_languages() {
        let long = "x".repeat(600);
        let parts = vec![
            both("S.", "甲。"),
            both(long.clone(), "长"),
            both("short.", "很".repeat(999)),
            both("P.", "乙。"),
        ];
        let out = fit(parts);
        assert!(
            out.en.starts_with("S.") && out.en.ends_with("P."),
            "{}",
            out.en
        );
        assert!(out.en.chars().count() <= BATCH_REASON_BUDGET);
        assert!(out.zh.chars().count() <= BATCH_REASON_BUDGET);
        // The long Chinese sentence is dropped, and its English with it:
        // a sentence is in both languages or in neither.
        assert_eq!(out.en, format!("S. {long} P."));
        assert_eq!(out.zh, "甲。长乙。");
    }

    /// Sentences of an English text: a full stop at the end or before a
    /// space (URLs and file names keep theirs).
    fn en_sentences(s: &str) -> usize {
        s.matches(". ").count() + usize::from(s.ends_with('.'))
    }

    #[test]
    fn english_and_chinese_say_the_same_sentences_for_every_reason_and_facts() {
        let reasons = [
            ReasonCode::TrademarkCounterfeit,
            ReasonCode::TrademarkUnauthorizedUse,
            ReasonCode::CopyrightImageTheft,
            ReasonCode::DesignPatentInfringement,
            ReasonCode::PatentInfringement,
        ];
        let mut checked = 0;
        for reason in reasons {
            for bits in 0u32..32 {
                let on = |i: u32| bits & (1 << i) != 0;
                let facts = ListingFacts {
                    mark_as_written: if on(0) { vec!["Auorra".into()] } else { vec![] },
                    photo_url: on(1).then(|| "https://ae01.alicdn.com/kf/S1.jpg".into()),
                    official_photo: on(1).then(|| "front.jpg".into()),
                    published_at: if on(2) && on(1) {
                        vec!["https://aurora.example/shop".into()]
                    } else {
                        vec![]
                    },
                    price_gap: on(3).then(|| PriceGap {
                        price: 9.5,
                        currency: "USD".into(),
                        msrp: 89.0,
                        msrp_currency: "USD".into(),
                        below_pct: 89.3,
                    }),
                    counterfeit_terms: if on(4) {
                        vec!["replica".into(), "高仿".into()]
                    } else {
                        vec![]
                    },
                };
                let text = join(&details(reason, &facts), " ");
                assert_eq!(
                    en_sentences(&text.en),
                    text.zh.matches('。').count(),
                    "{reason:?} {facts:?}:\n{}\n{}",
                    text.en,
                    text.zh
                );
                assert_eq!(text.en.is_empty(), text.zh.is_empty());
                checked += 1;
            }
        }
        assert_eq!(checked, 160);
    }
}
