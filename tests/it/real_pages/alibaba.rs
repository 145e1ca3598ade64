//! Real-page fixtures: Alibaba.com search and product pages, 2022–2026.
//! Each fixture is ours (AURORA demo offers) and reproduces the structure
//! and quirks of the public page named in the test's doc comment.

use super::support;
use knockoff::marketplaces::PageOutcome;

const SEARCH: &str = "https://www.alibaba.com/trade/search?SearchText=aurora&page=1";

/// Mirrors `Myusico/alibaba-scraper`, `sample_page.html` (2022 search,
/// saved from the server): `window.__page__data__config = {…}` followed by
/// `window.__page__data = window.__page__data__config.props` on the next
/// line, `props.offerResultData.offerList[]` with `information`,
/// `tradePrice`, `supplier`, `image`; only some offers rendered as
/// `div.J-offer-wrapper` cards, plus a card not in the JSON; trustpass
/// supplier hosts; header scripts linking `login.alibaba.com`.
#[test]
fn search_2022_page_data_config_json_and_cards() {
    let outcome = support::parse(
        SEARCH,
        "alibaba/search_2022_page_data_config.html",
        Some("text/html; charset=utf-8"),
    );
    let PageOutcome::Ok { total, .. } = &outcome else {
        panic!("expected Ok, got {outcome:?}");
    };
    assert_eq!(*total, Some(1_005_338));
    let l = support::listings(&outcome);
    assert_eq!(l.len(), 13, "12 JSON offers + 1 card-only offer");
    let first = &l[0];
    assert_eq!(first.id, "1600350000000");
    assert_eq!(
        first.url,
        "https://www.alibaba.com/product-detail/AURORA-Wall-Art-0_1600350000000.html"
    );
    assert_eq!(first.title, "AURORA Handmade Wall Art Frame 0");
    let p = first.price.as_ref().unwrap();
    assert_eq!((p.amount, p.max, p.currency.as_str()), (5.5, None, "USD"));
    assert!(first.sponsored);
    assert_eq!(
        first.seller.url.as_deref(),
        Some("https://aurora-trade0.trustpass.alibaba.com/company_profile.html")
    );
    assert_eq!(first.seller.id, None, "trustpass hosts name no mini-site");
    assert_eq!(
        first.images,
        [
            "https://s.alicdn.com/@sc04/kf/HAur00main.jpg",
            "https://s.alicdn.com/@sc04/kf/HAur00side.jpg"
        ]
    );
    let m = first.moq.as_ref().unwrap();
    assert_eq!((m.quantity, m.unit.as_str()), (10, "Pieces"));

    let range = l.iter().find(|x| x.id == "1600350000007").unwrap();
    let p = range.price.as_ref().unwrap();
    assert_eq!((p.amount, p.max), (6.0, Some(9.0)));
    assert_eq!(range.seller.id.as_deref(), Some("aurora1"));
    assert_eq!(
        range.seller.url.as_deref(),
        Some("https://aurora1.en.alibaba.com/company_profile.html")
    );
    assert_eq!(range.seller.country.as_deref(), Some("China"));
    assert_eq!(range.seller.years, Some(2));

    let card_only = l.last().unwrap();
    assert_eq!(card_only.id, "1600999999999");
    assert_eq!(card_only.title, "AURORA Sponsored Frame 99");
    assert_eq!(card_only.seller.id.as_deref(), Some("aurorasponsor"));
    assert_eq!(card_only.moq.as_ref().unwrap().quantity, 100);
}

/// Mirrors the 2026 search structure read by `omkarcloud/alibaba-scraper`,
/// `alibaba/search.py` + `alibaba/parsers.py` (`window.__page__data_sse10.
/// _offer_list` → `offerResultData.offers[]`, flat keys, `totalCount` as a
/// string, "Min. order: 1.000 pieces" with a locale's thousands dot), and
/// the `.fy23-search-card.searchx-offer-item` cards named by scrapers of
/// the same year (e.g. `alibabaHTML2.txt` selectors: `h2.search-card-e-title
/// a`, `.search-card-e-price-main`, `a.search-card-e-company`,
/// `.search-card-e-supplier__year`). No real 2026 page was available:
/// the fixture follows the documented keys.
#[test]
fn search_2026_sse10_offer_list_and_fy23_cards() {
    let outcome = support::parse(SEARCH, "alibaba/search_2026_sse10_offer_list.html", None);
    let PageOutcome::Ok { total, .. } = &outcome else {
        panic!("expected Ok, got {outcome:?}");
    };
    assert_eq!(*total, Some(4821));
    let l = support::listings(&outcome);
    assert_eq!(l.len(), 11, "10 JSON offers + 1 booth card");
    let a = &l[0];
    assert_eq!(a.id, "1601200000000");
    assert_eq!(a.title, "AURORA Espresso Cup Set 0");
    let p = a.price.as_ref().unwrap();
    assert_eq!((p.amount, p.max, p.currency.as_str()), (2.5, None, "USD"));
    assert_eq!(a.seller.id.as_deref(), Some("aurora-ceramics0"));
    assert_eq!(a.seller.country.as_deref(), Some("CN"));
    assert_eq!(a.seller.years, Some(3));
    assert_eq!(a.sales.as_ref().map(|s| s.count), Some(100));
    assert_eq!(a.images[1], "https://s.alicdn.com/@sc04/kf/HCup00b.png");
    assert!(l[1].sponsored);
    let p = l[1].price.as_ref().unwrap();
    assert_eq!((p.amount, p.max), (1.2, Some(1.8)));
    assert_eq!(l[3].moq.as_ref().unwrap().quantity, 1000);
    let booth = l.last().unwrap();
    assert_eq!(booth.id, "1601299999999");
    assert_eq!(
        booth.url,
        "https://www.alibaba.com/product-detail/AURORA-Booth-Cup_1601299999999.html"
    );
    assert_eq!(
        booth.seller.name.as_deref(),
        Some("Aurora Booth Trading Ltd.")
    );
    assert_eq!(booth.seller.country.as_deref(), Some("CN"));
    assert_eq!(booth.images, ["https://s.alicdn.com/@sc04/kf/HBooth.jpg"]);
}

/// Mirrors `YrayPixels/alibaba-scraper`, `productexample.html` (2026
/// product page saved from the browser, `<main>` only, no scripts):
/// `module_title h1[title]`, `module_company .company-name a` with a
/// tracking query, `.company-life` "6 yrs", `.register-country` "CN ",
/// ladder tiers as utility-class divs ("300 - 1000 pairs" + "GH₵80.51":
/// the visitor's currency), thumbnails as CSS `background-image`, and
/// other sellers' photos in `module_you_may_like`.
#[test]
fn product_2026_saved_dom_tiers_in_visitor_currency() {
    let l = support::parse_listings(
        "https://www.alibaba.com/product-detail/AURORA-Custom-Leather-Sneakers_1600691000001.html",
        "alibaba/product_2026_saved_dom.html",
        None,
    );
    assert_eq!(l.len(), 1);
    let l = &l[0];
    assert_eq!(l.id, "1600691000001");
    assert_eq!(
        l.title,
        "AURORA Custom Leather Sneakers Men Casual Sport Shoes"
    );
    let p = l.price.as_ref().unwrap();
    assert_eq!(
        (p.amount, p.max, p.currency.as_str()),
        (45.96, Some(80.51), "GHS")
    );
    let m = l.moq.as_ref().unwrap();
    assert_eq!((m.quantity, m.unit.as_str()), (300, "pairs"));
    assert_eq!(
        l.seller.name.as_deref(),
        Some("Quanzhou Aurora Shoes Co., Ltd.")
    );
    assert_eq!(l.seller.id.as_deref(), Some("aurorashoes"));
    assert_eq!(
        l.seller.url.as_deref(),
        Some("https://aurorashoes.en.alibaba.com/index.html")
    );
    assert_eq!(
        (l.seller.country.as_deref(), l.seller.years),
        (Some("CN"), Some(6))
    );
    assert_eq!(l.images.len(), 5);
    assert_eq!(l.images[0], "https://s.alicdn.com/@sc04/kf/HSneaker1.jpg");
    assert!(l
        .images
        .iter()
        .all(|i| !i.contains("Other") && !i.contains("Logo")));
    assert!(l.missing.is_empty());
}

/// Mirrors the `window.detailData` product JSON read by
/// `omkarcloud/alibaba-scraper`, `alibaba/parsers.py` (`globalData.product.
/// {productId, subject, moq, price.productLadderPrices[{min, max, price,
/// dollarPrice, formatPrice}], mediaItems}`, `globalData.seller.{companyName,
/// subDomain, companyRegisterCountry, companyJoinYears}`,
/// `globalData.trade.salesVolume`): tiers shown in reais, dollars kept.
#[test]
fn product_detail_data_json_ladder_in_dollars() {
    let l = support::parse_listings(
        "https://www.alibaba.com/product-detail/_1600777000002.html",
        "alibaba/product_detaildata.html",
        None,
    );
    let l = &l[0];
    assert_eq!(l.id, "1600777000002");
    assert_eq!(
        l.url,
        "https://www.alibaba.com/product-detail/AURORA-Stainless-Steel-Vacuum-Flask-500ml_1600777000002.html"
    );
    assert_eq!(l.title, "AURORA Stainless Steel Vacuum Flask 500ml");
    let p = l.price.as_ref().unwrap();
    assert_eq!(
        (p.amount, p.max, p.currency.as_str()),
        (4.0, Some(4.9), "USD")
    );
    let m = l.moq.as_ref().unwrap();
    assert_eq!((m.quantity, m.unit.as_str()), (100, "pieces"));
    assert_eq!(l.seller.id.as_deref(), Some("auroradrink"));
    assert_eq!(l.seller.years, Some(9));
    assert_eq!(l.sales.as_ref().map(|s| s.count), Some(1204));
    assert_eq!(
        l.images,
        [
            "https://s.alicdn.com/@sc04/kf/HFlask1.jpg",
            "https://s.alicdn.com/@sc04/kf/HFlask2.png"
        ]
    );
}

/// A search page with no offers and no "no results" wording is drift,
/// naming the blobs and cards expected.
#[test]
fn search_without_offers_is_drift() {
    let url = support::url(SEARCH);
    let out = knockoff::marketplaces::for_platform(support::platform_of(SEARCH))
        .parse(&url, "<html><body><div id=root></div></body></html>");
    match out {
        PageOutcome::Drift { missing, .. } => {
            assert!(missing.iter().any(|m| m.contains("__page__data_sse10")))
        }
        other => panic!("expected drift, got {other:?}"),
    }
}
