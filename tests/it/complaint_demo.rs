//! The demo case of issue 6, through the real scanner (mark matching,
//! scoring, drafting): a watchlist with a US-only trademark yields drafts
//! for AliExpress and Alibaba.com listings and `needs_right` ("Taobao
//! accepts only rights valid in China") for Taobao, Tmall and 1688 listings,
//! until a CN right is added.

use chrono::NaiveDate;
use knockoff::fetch::replay::ReplayFetcher;
use knockoff::judge::complaint::{ReasonCode, Rule};
use knockoff::judge::score::Verdict;
use knockoff::model::listing::{Listing, Platform, Price, Seller};
use knockoff::model::recording::Recording;
use knockoff::model::watchlist::Watchlist;
use knockoff::run::scan::Scanner;
use std::path::Path;

const US_ONLY: &str = r#"
[brand]
name = "AURORA"
rights_holder = "Aurora Outfitters Ltd."

[[marks]]
mark = "AURORA"
aliases = ["奥罗拉"]

[matching]
indicators = ["replica", "1:1", "高仿"]

[[products]]
name = "Aurora Barista Espresso Cup"
category = "drinkware"
msrp = { amount = 39.00, currency = "USD" }
keywords = ["espresso cup", "咖啡杯"]

[categories]
"drinkware" = [21]

[[rights]]
id = "us-tm-aurora"
kind = "trademark"
jurisdiction = "US"
registration_number = "6123456"
mark = "AURORA"
classes = [16, 21, 28]
expires = 2032-03-14
certificate = "certificates/us-6123456.pdf"
"#;

const CN_RIGHT: &str = r#"
[[rights]]
id = "cn-tm-aurora"
kind = "trademark"
jurisdiction = "CN"
registration_number = "41234567"
mark = "AURORA"
classes = [16, 21, 28]
expires = 2031-09-27
certificate = "certificates/cn-41234567.pdf"
"#;

fn listing(platform: Platform, id: &str, title: &str, price: f64, currency: &str) -> Listing {
    Listing {
        platform,
        id: id.into(),
        url: format!("https://example.invalid/{}/{id}", platform.as_str()),
        title: title.into(),
        price: Some(Price {
            amount: price,
            max: None,
            currency: currency.into(),
        }),
        seller: Seller {
            name: Some("Some Shop".into()),
            ..Seller::default()
        },
        images: Vec::new(),
        moq: None,
        sales: None,
        location: None,
        sponsored: false,
        source_url: String::new(),
        missing: Vec::new(),
    }
}

fn listings() -> Vec<Listing> {
    vec![
        listing(
            Platform::AliExpress,
            "1005001",
            "AURORA espresso cup replica 1:1",
            3.5,
            "USD",
        ),
        listing(
            Platform::Alibaba,
            "1600001",
            "Auorra espresso cup replica wholesale",
            1.2,
            "USD",
        ),
        listing(Platform::Taobao, "7001", "奥罗拉 咖啡杯 高仿", 20.0, "CNY"),
        listing(
            Platform::Tmall,
            "8001",
            "AURORA 咖啡杯 高仿 1:1",
            25.0,
            "CNY",
        ),
        listing(
            Platform::S1688,
            "9001",
            "AURORA espresso cup 高仿 批发",
            8.0,
            "CNY",
        ),
    ]
}

#[test]
fn us_only_trademark_needs_a_chinese_right_on_taobao_tmall_and_1688() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("manifest.toml"), "").unwrap();
    let fetcher = ReplayFetcher::new(Recording::open(tmp.path()).unwrap());
    let date = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();

    let wl = Watchlist::from_str(Path::new("demo.toml"), US_ONLY).unwrap();
    let scanner = Scanner::new(&wl, &fetcher, date).unwrap();
    for l in listings() {
        let f = scanner.evaluate(&l, Vec::new(), &[]);
        assert_eq!(f.verdict, Verdict::Flag, "{}: {:?}", l.title, f.reasons);
        if l.platform.china_only() {
            assert!(f.drafts.is_empty(), "{}", l.title);
            assert_eq!(f.needs_right.len(), 1, "{:?}", f.needs_right);
            assert_eq!(f.needs_right[0].rule, Rule::Jurisdiction);
            let platform = match l.platform {
                Platform::Taobao => "Taobao",
                Platform::Tmall => "Tmall",
                _ => "1688",
            };
            assert!(
                f.needs_right[0]
                    .message
                    .contains(&format!("{platform} accepts only rights valid in China")),
                "{}",
                f.needs_right[0].message
            );
        } else {
            assert!(f.needs_right.is_empty(), "{:?}", f.needs_right);
            assert_eq!(f.drafts.len(), 1);
            let d = &f.drafts[0];
            assert_eq!(d.right_id, "us-tm-aurora");
            assert_eq!(d.reason_code, ReasonCode::TrademarkCounterfeit);
            if l.platform == Platform::Alibaba {
                // Wholesale: its unit prices are never set against the
                // retail MSRP (issue 17); this product has no wholesale price.
                assert!(
                    !d.reason_en.contains("MSRP") && !d.reason_en.contains("retail price"),
                    "{}",
                    d.reason_en
                );
                assert!(f
                    .reasons
                    .iter()
                    .any(|r| r.starts_with("price rule not applied")));
            } else {
                assert!(
                    d.reason_en.contains("below the retail price"),
                    "{}",
                    d.reason_en
                );
            }
        }
    }

    let wl =
        Watchlist::from_str(Path::new("demo.toml"), &format!("{US_ONLY}\n{CN_RIGHT}")).unwrap();
    let scanner = Scanner::new(&wl, &fetcher, date).unwrap();
    for l in listings() {
        let f = scanner.evaluate(&l, Vec::new(), &[]);
        assert!(f.needs_right.is_empty(), "{}: {:?}", l.title, f.needs_right);
        let rights: Vec<&str> = f.drafts.iter().map(|d| d.right_id.as_str()).collect();
        if l.platform.china_only() {
            assert_eq!(rights, vec!["cn-tm-aurora"], "{}", l.title);
            assert!(
                f.drafts[0].reason_zh.contains("注册号41234567"),
                "{}",
                f.drafts[0].reason_zh
            );
        } else {
            // One complaint per listing: the Chinese registration is filed,
            // the US one is named as the alternative.
            assert_eq!(rights, vec!["cn-tm-aurora"], "{}", l.title);
            let alts: Vec<&str> = f.drafts[0]
                .alternatives
                .iter()
                .map(|a| a.right_id.as_str())
                .collect();
            assert_eq!(alts, vec!["us-tm-aurora"], "{}", l.title);
        }
    }
}
