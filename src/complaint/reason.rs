//! Reason texts, in English and Chinese, filled with the specifics of the
//! case: which mark variant, which official photo at what distance, price
//! against MSRP, and what differs from the genuine product.
//!
//! A text has two parts: the *statement* (what is asserted on which right;
//! the same for every listing of a batch) and the *details* of one listing.
//! A batch's paste-ready text is the statement followed by the numbered
//! details of each listing ([`batch_reason`]).

use super::{marks_for, Draft, Grounds, ReasonCode};
use crate::brand::{MarkHit, MatchRule};
use crate::score::PhotoEvidence;
use crate::watchlist::{Right, Watchlist};

/// The reason text of one complaint.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReasonText {
    pub statement_en: String,
    pub statement_zh: String,
    pub details_en: String,
    pub details_zh: String,
}

impl ReasonText {
    pub fn full_en(&self) -> String {
        join_en(&self.statement_en, &self.details_en)
    }
    pub fn full_zh(&self) -> String {
        format!("{}{}", self.statement_zh, self.details_zh)
    }
}

fn join_en(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (_, true) => a.to_string(),
        (true, false) => b.to_string(),
        (false, false) => format!("{a} {b}"),
    }
}

fn rule_zh(rule: MatchRule) -> &'static str {
    match rule {
        MatchRule::Exact => "完全相同",
        MatchRule::Width => "全角字母",
        MatchRule::Confusable => "形近字母替换",
        MatchRule::Spaced => "字母间加空格",
        MatchRule::Leetspeak => "以数字代替字母",
        MatchRule::MultiLetter => "多字母形近替换",
        MatchRule::Fuzzy => "拼写变体",
    }
}

fn mark_en(h: &MarkHit) -> String {
    let edits = if h.edits > 0 {
        format!(", {} edit{}", h.edits, if h.edits == 1 { "" } else { "s" })
    } else {
        String::new()
    };
    format!("\"{}\" ({}{edits})", h.variant, h.rule.as_str())
}

fn mark_zh(h: &MarkHit) -> String {
    format!("“{}”（{}）", h.variant, rule_zh(h.rule))
}

fn photo_en(p: &PhotoEvidence) -> String {
    let t = p
        .transform
        .as_deref()
        .map(|t| format!(", {t}"))
        .unwrap_or_default();
    let aligned = match (p.similarity, p.detail) {
        (Some(s), Some(d)) => format!(
            "; aligned to it, the two correlate at {s:.3} in grey levels and {d:.3} in fine detail, 1 being identical"
        ),
        _ => String::new(),
    };
    format!(
        "listing photo {} copies official photo {} (perceptual-hash Hamming distance {}/{}{t}{aligned})",
        p.url, p.reference, p.distance, p.bits
    )
}

fn photo_zh(p: &PhotoEvidence) -> String {
    let t = p
        .transform
        .as_deref()
        .map(|t| format!("，{t}"))
        .unwrap_or_default();
    let aligned = match (p.similarity, p.detail) {
        (Some(s), Some(d)) => {
            format!("；对齐后灰度相关系数{s:.3}，细节相关系数{d:.3}（1为完全相同）")
        }
        _ => String::new(),
    };
    format!(
        "商品图片{}复制了官方图片{}（感知哈希汉明距离{}/{}{t}{aligned}）",
        p.url, p.reference, p.distance, p.bits
    )
}

/// "what differs" from the genuine product, one item each.
fn differences(right: &Right, g: &Grounds<'_>) -> (Vec<String>, Vec<String>) {
    let mut en = Vec::new();
    let mut zh = Vec::new();
    if let Some(mark) = &right.mark {
        for h in marks_for(right, g) {
            if h.rule != MatchRule::Exact && !h.variant.eq_ignore_ascii_case(mark) {
                en.push(format!(
                    "the mark is written \"{}\" instead of \"{mark}\"",
                    h.variant
                ));
                zh.push(format!("商标写作“{}”而非“{mark}”", h.variant));
            }
        }
    }
    for p in g.photos {
        if let Some(t) = &p.transform {
            en.push(format!("the official photo {} is {t}", p.reference));
            zh.push(format!("官方图片{}经过处理（{t}）", p.reference));
        }
    }
    if let Some(gap) = &g.price_gap {
        en.push(format!(
            "the price {:.2} {} is {:.0}% below the MSRP of {:.2} {}",
            gap.price, gap.currency, gap.below_pct, gap.msrp, gap.msrp_currency
        ));
        zh.push(format!(
            "售价{:.2} {}比建议零售价{:.2} {}低{:.0}%",
            gap.price, gap.currency, gap.msrp, gap.msrp_currency, gap.below_pct
        ));
    }
    if let Some(seller) = &g.seller {
        en.push(format!(
            "the seller \"{seller}\" is not authorized by the rights holder"
        ));
        zh.push(format!("卖家“{seller}”未获权利人授权"));
    }
    (en, zh)
}

/// Reason text in English and Chinese, with the specifics of the case.
pub fn reason_text(
    wl: &Watchlist,
    right: &Right,
    reason: ReasonCode,
    g: &Grounds<'_>,
) -> ReasonText {
    let holder = &wl.brand.rights_holder;
    let reg = &right.registration_number;
    let jur = &right.jurisdiction;
    let mark = right.mark.as_deref().unwrap_or(&wl.brand.name);
    let classes = right
        .classes
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let until_en = right
        .expires
        .map(|d| format!(", valid until {d}"))
        .unwrap_or_default();
    let until_zh = right
        .expires
        .map(|d| format!("，有效期至{d}"))
        .unwrap_or_default();
    let marks: Vec<&MarkHit> = marks_for(right, g);
    let marks_en: Vec<String> = marks.iter().map(|h| mark_en(h)).collect();
    let marks_zh: Vec<String> = marks.iter().map(|h| mark_zh(h)).collect();
    let photos_en: Vec<String> = g.photos.iter().map(photo_en).collect();
    let photos_zh: Vec<String> = g.photos.iter().map(photo_zh).collect();
    let (diff_en, diff_zh) = differences(right, g);
    // The product is a detail, not part of the statement: one batch can
    // hold listings of several products.
    let mut d_en: Vec<String> = Vec::new();
    let mut d_zh: Vec<String> = Vec::new();
    if let Some((p, c)) = g.product {
        d_en.push(format!("presented as {p} ({c})"));
        d_zh.push(format!("涉案商品对应{p}（{c}）"));
    }
    let mut push = |en: String, zh: String| {
        d_en.push(en);
        d_zh.push(zh);
    };
    let (statement_en, statement_zh) = match reason {
        ReasonCode::TrademarkUnauthorizedUse | ReasonCode::TrademarkCounterfeit => {
            if !marks_en.is_empty() {
                push(
                    format!("the title uses the mark as {}", marks_en.join(", ")),
                    format!("标题使用商标{}", marks_zh.join("、")),
                );
            }
            if reason == ReasonCode::TrademarkCounterfeit {
                for (en, zh) in photos_en.iter().zip(&photos_zh) {
                    push(en.clone(), zh.clone());
                }
                if !g.indicators.is_empty() {
                    let q = |open: &str, close: &str| {
                        g.indicators
                            .iter()
                            .map(|t| format!("{open}{t}{close}"))
                            .collect::<Vec<_>>()
                    };
                    push(
                        format!("the title advertises {}", q("\"", "\"").join(", ")),
                        format!("标题自称{}", q("“", "”").join("、")),
                    );
                } else if g.price_gap.is_none() {
                    // Signals as the score worded them (English only).
                    for sign in &g.counterfeit_signs {
                        push(sign.clone(), sign.clone());
                    }
                }
            }
            let verb_en = if reason == ReasonCode::TrademarkCounterfeit {
                "offers counterfeit goods bearing"
            } else {
                "uses without authorization"
            };
            let verb_zh = if reason == ReasonCode::TrademarkCounterfeit {
                "销售假冒"
            } else {
                "未经授权使用"
            };
            (
                format!(
                    "The listing {verb_en} the registered trademark {mark} of {holder} ({jur} registration {reg}, Nice classes {classes}{until_en})."
                ),
                format!(
                    "该商品{verb_zh}{holder}的注册商标{mark}（{jur}注册号{reg}，尼斯分类第{classes}类{until_zh}）。"
                ),
            )
        }
        ReasonCode::CopyrightImageTheft => {
            for (en, zh) in photos_en.iter().zip(&photos_zh) {
                push(en.clone(), zh.clone());
            }
            let published = g.photo_published_at.join(", ");
            (
                format!(
                    "The listing uses photographs whose copyright belongs to {holder} ({jur} registration {reg}) without permission; the originals are published at {published}."
                ),
                format!(
                    "该商品未经许可使用{holder}享有著作权的图片（{jur}登记号{reg}），原图发表于{}。",
                    g.photo_published_at.join("、")
                ),
            )
        }
        ReasonCode::DesignPatentInfringement => {
            for (en, zh) in photos_en.iter().zip(&photos_zh) {
                push(en.clone(), zh.clone());
            }
            (
                format!(
                    "The product shown is identical or similar to design patent {reg} of {holder} ({jur}{until_en}); side-by-side images of the patented design and the listing are attached."
                ),
                format!(
                    "该商品外观与{holder}的外观设计专利{reg}（{jur}{until_zh}）相同或近似，附专利图片与商品图片对比图。"
                ),
            )
        }
        ReasonCode::PatentInfringement => {
            let report = right.analysis_report.as_deref().unwrap_or("");
            (
                format!(
                    "The product infringes patent {reg} of {holder} ({jur}{until_en}); the attached infringement analysis report {report} compares it with the claims."
                ),
                format!(
                    "该商品侵犯{holder}的专利{reg}（{jur}{until_zh}），详见附件侵权分析报告{report}。"
                ),
            )
        }
    };
    if !diff_en.is_empty() && reason != ReasonCode::PatentInfringement {
        push(
            format!(
                "what differs from the genuine product: {}",
                diff_en.join("; ")
            ),
            format!("与正品的差异：{}", diff_zh.join("；")),
        );
    }
    let details_en = if d_en.is_empty() {
        String::new()
    } else {
        let text = d_en.join("; ");
        let mut chars = text.chars();
        let first: String = chars
            .next()
            .map(|c| c.to_uppercase().collect())
            .unwrap_or_default();
        format!("{first}{}.", chars.as_str())
    };
    let details_zh = if d_zh.is_empty() {
        String::new()
    } else {
        format!("{}。", d_zh.join("；"))
    };
    ReasonText {
        statement_en,
        statement_zh,
        details_en,
        details_zh,
    }
}

/// The paste-ready reason of a batch: the shared statement, then each
/// listing's details, numbered in URL order. Drafts from older stores
/// without a statement fall back to their full reason text.
pub fn batch_reason(drafts: &[&Draft]) -> (String, String) {
    let Some(first) = drafts.first() else {
        return (String::new(), String::new());
    };
    let statement_en = if first.statement_en.is_empty() {
        String::new()
    } else {
        format!("{}\n", first.statement_en)
    };
    let statement_zh = if first.statement_zh.is_empty() {
        String::new()
    } else {
        format!("{}\n", first.statement_zh)
    };
    let mut en = statement_en;
    let mut zh = statement_zh;
    for (i, d) in drafts.iter().enumerate() {
        let de = if d.statement_en.is_empty() {
            &d.reason_en
        } else {
            &d.details_en
        };
        let dz = if d.statement_zh.is_empty() {
            &d.reason_zh
        } else {
            &d.details_zh
        };
        en.push_str(&format!("{}. {}: {}\n", i + 1, d.listing_url, de));
        zh.push_str(&format!("{}. {}：{}\n", i + 1, d.listing_url, dz));
    }
    (en, zh)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::{draft, PriceGap};
    use super::*;
    use crate::listing::Platform;

    const ALL_RIGHTS: &str = r#"
[[rights]]
id = "us-copyright"
kind = "copyright"
jurisdiction = "US"
registration_number = "VA0002345678"

[[rights]]
id = "cn-design"
kind = "design_patent"
jurisdiction = "CN"
registration_number = "ZL202130123456.7"
expires = 2036-01-01

[[rights]]
id = "cn-utility"
kind = "patent"
jurisdiction = "CN"
registration_number = "ZL202120654321.0"
expires = 2031-01-01
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

    fn by_code(drafts: &[Draft], code: ReasonCode) -> &Draft {
        drafts
            .iter()
            .find(|d| d.reason_code == code)
            .unwrap_or_else(|| panic!("no {code:?} draft in {drafts:#?}"))
    }

    #[test]
    fn trademark_counterfeit_names_variant_photo_price_and_differences() {
        let wl = watchlist(US_TM);
        let marks = [hit("Auorra", MatchRule::Fuzzy)];
        let photos = [photo()];
        let (drafts, f) = draft(&wl, &counterfeit_grounds(&marks, &photos), date());
        assert!(f.is_empty(), "{f:?}");
        let d = by_code(&drafts, ReasonCode::TrademarkCounterfeit);
        for needle in [
            "counterfeit goods bearing the registered trademark AURORA of Aurora Outfitters Ltd.",
            "US registration 6123456",
            "Nice classes 16, 21, 28",
            "\"Auorra\" (fuzzy, 1 edit)",
            "official photo espresso-cup.jpg (perceptual-hash Hamming distance 4/128, mirrored; \
             aligned to it, the two correlate at 0.987 in grey levels and 0.941 in fine detail",
            "\"replica\", \"高仿\"",
            "the price 3.10 USD is 92% below the MSRP of 39.00 USD",
            "written \"Auorra\" instead of \"AURORA\"",
            "seller \"Shenzhen Copy Co\" is not authorized",
        ] {
            assert!(
                d.reason_en.contains(needle),
                "missing {needle:?} in {}",
                d.reason_en
            );
        }
        for needle in [
            "假冒",
            "注册号6123456",
            "“Auorra”（拼写变体）",
            "汉明距离4/128",
            "低92%",
            "“Auorra”而非“AURORA”",
            "卖家“Shenzhen Copy Co”未获权利人授权",
        ] {
            assert!(
                d.reason_zh.contains(needle),
                "missing {needle:?} in {}",
                d.reason_zh
            );
        }
        assert_eq!(d.reason_en, format!("{} {}", d.statement_en, d.details_en));
        assert!(d
            .attachments
            .iter()
            .any(|a| a == "certificate: certificates/us.pdf"));
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
        let (drafts, _) = draft(&wl, &g, date());
        let d = by_code(&drafts, ReasonCode::TrademarkUnauthorizedUse);
        assert!(
            d.reason_en
                .contains("uses without authorization the registered trademark AURORA"),
            "{}",
            d.reason_en
        );
        assert!(
            d.reason_en.contains("\"AURORA\" (exact)"),
            "{}",
            d.reason_en
        );
        assert!(!d.reason_en.contains("what differs"), "{}", d.reason_en);
        assert!(d.reason_zh.contains("未经授权使用"), "{}", d.reason_zh);
        assert!(
            d.reason_zh.contains("“AURORA”（完全相同）"),
            "{}",
            d.reason_zh
        );
    }

    #[test]
    fn copyright_cites_where_the_photo_is_published() {
        let wl = watchlist(ALL_RIGHTS);
        let photos = [photo()];
        let (drafts, f) = draft(&wl, &counterfeit_grounds(&[], &photos), date());
        assert!(f.is_empty(), "{f:?}");
        let d = by_code(&drafts, ReasonCode::CopyrightImageTheft);
        assert!(
            d.reason_en.contains(
                "published at https://aurora-outfitters.example/products/barista-espresso-cup"
            ),
            "{}",
            d.reason_en
        );
        assert!(
            d.reason_en
                .contains("copies official photo espresso-cup.jpg"),
            "{}",
            d.reason_en
        );
        assert!(
            d.reason_zh.contains(
                "原图发表于https://aurora-outfitters.example/products/barista-espresso-cup"
            ),
            "{}",
            d.reason_zh
        );
        assert!(d
            .attachments
            .iter()
            .any(|a| a.starts_with("official photo published at: https://")));
    }

    #[test]
    fn design_patent_attaches_side_by_side() {
        let wl = watchlist(ALL_RIGHTS);
        let photos = [photo()];
        let (drafts, _) = draft(&wl, &counterfeit_grounds(&[], &photos), date());
        let d = by_code(&drafts, ReasonCode::DesignPatentInfringement);
        assert!(
            d.reason_en.contains("design patent ZL202130123456.7"),
            "{}",
            d.reason_en
        );
        assert!(
            d.reason_en.contains("side-by-side images"),
            "{}",
            d.reason_en
        );
        assert!(
            d.reason_en
                .contains("the official photo espresso-cup.jpg is mirrored"),
            "{}",
            d.reason_en
        );
        assert!(
            d.reason_zh.contains("外观设计专利ZL202130123456.7"),
            "{}",
            d.reason_zh
        );
        assert!(d.attachments.iter().any(|a| a.contains("side-by-side")));
    }

    #[test]
    fn patent_cites_the_analysis_report() {
        let wl = watchlist(ALL_RIGHTS);
        let marks = [hit("AURORA", MatchRule::Exact)];
        let (drafts, _) = draft(&wl, &counterfeit_grounds(&marks, &[]), date());
        let d = by_code(&drafts, ReasonCode::PatentInfringement);
        assert!(
            d.reason_en
                .contains("infringement analysis report reports/fto-2026.pdf"),
            "{}",
            d.reason_en
        );
        assert!(
            d.reason_zh.contains("侵权分析报告reports/fto-2026.pdf"),
            "{}",
            d.reason_zh
        );
        assert!(d
            .attachments
            .iter()
            .any(|a| a == "infringement analysis report: reports/fto-2026.pdf"));
    }

    #[test]
    fn batch_reason_numbers_the_listings_after_one_statement() {
        let wl = watchlist(US_TM);
        let marks = [hit("Auorra", MatchRule::Fuzzy)];
        let (a, _) = draft(&wl, &counterfeit_grounds(&marks, &[]), date());
        let mut g2 = counterfeit_grounds(&marks, &[]);
        g2.listing_url = "https://www.aliexpress.com/item/1005002.html";
        let (b, _) = draft(&wl, &g2, date());
        let (en, zh) = batch_reason(&[&a[0], &b[0]]);
        assert_eq!(
            en.matches("The listing offers counterfeit goods").count(),
            1,
            "{en}"
        );
        assert!(
            en.contains("1. https://www.aliexpress.com/item/1005001.html: Presented as Aurora Barista Espresso Cup (drinkware); the title uses"),
            "{en}"
        );
        assert!(
            en.contains("2. https://www.aliexpress.com/item/1005002.html: "),
            "{en}"
        );
        assert!(
            zh.contains("2. https://www.aliexpress.com/item/1005002.html："),
            "{zh}"
        );
        assert_eq!(batch_reason(&[]), (String::new(), String::new()));
    }
}
