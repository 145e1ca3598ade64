//! Parser tests on every Taobao, Tmall and 1688 seed page: field by field,
//! one charset case per encoding, blocks, drift (a seed page mutated in the
//! test) and click trackers never used as listing URLs.
//!
//! Pages go through `marketplaces::parse_page` with the content type the
//! manifest records, i.e. the same path as a replayed scan.

use knockoff::marketplaces::{self, PageKind, PageOutcome};
use knockoff::model::listing::{Listing, Platform, SalesKind};
use knockoff::model::recording::Manifest;
use std::path::{Path, PathBuf};
use url::Url;

/// One seed page: URL as captured, file under seeds/, Content-Type header.
struct Seed {
    url: &'static str,
    file: &'static str,
    content_type: &'static str,
}

const TAOBAO_JSON: Seed = Seed {
    url: "https://s.taobao.com/search?q=%E5%A5%A5%E7%BD%97%E6%8B%89",
    file: "taobao/search-aoluola.html",
    content_type: "text/html; charset=utf-8",
};
const TAOBAO_DOM: Seed = Seed {
    url: "https://s.taobao.com/search?q=aurora",
    file: "taobao/search-aurora-dom.html",
    content_type: "text/html;charset=UTF-8",
};
const TAOBAO_ITEM: Seed = Seed {
    url: "https://item.taobao.com/item.htm?id=681234567001",
    file: "taobao/item-681234567001.html",
    content_type: "text/html; charset=utf-8",
};
const TAOBAO_LOGIN: Seed = Seed {
    url: "https://s.taobao.com/search?q=%E5%A5%A5%E7%BD%97%E6%8B%89%E5%92%96%E5%95%A1%E6%9D%AF",
    file: "taobao/login-wall.html",
    content_type: "text/html;charset=UTF-8",
};
const TAOBAO_PUNISH: Seed = Seed {
    url: "https://s.taobao.com/search?q=%E5%A5%A5%E7%BD%97%E6%8B%89&s=44",
    file: "taobao/punish.html",
    content_type: "text/html; charset=utf-8",
};
const TMALL_LIST: Seed = Seed {
    url: "https://list.tmall.com/search_product.htm?q=%B0%C2%C2%DE%C0%AD",
    file: "tmall/list-aoluola.gbk.html",
    content_type: "text/html;charset=gbk",
};
const TMALL_ITEM_FLAGSHIP: Seed = Seed {
    url: "https://detail.tmall.com/item.htm?id=652345678101",
    file: "tmall/item-652345678101.html",
    content_type: "text/html;charset=gbk",
};
const TMALL_ITEM_COPY: Seed = Seed {
    url: "https://detail.tmall.com/item.htm?id=652345678104",
    file: "tmall/item-652345678104.html",
    content_type: "text/html",
};
const S1688_SEARCH: Seed = Seed {
    url: "https://s.1688.com/selloffer/offer_search.htm?keywords=%B0%C2%C2%DE%C0%AD",
    file: "1688/search-aoluola.gbk.html",
    content_type: "text/html",
};
const S1688_OFFER: Seed = Seed {
    url: "https://detail.1688.com/offer/612345678902.html",
    file: "1688/offer-612345678902.html",
    content_type: "text/html;charset=utf-8",
};
const S1688_PUNISH: Seed = Seed {
    url: "https://s.1688.com/selloffer/offer_search.htm?keywords=%B0%C2%C2%DE%C0%AD&beginPage=2",
    file: "1688/punish-page2.html",
    content_type: "text/html; charset=utf-8",
};

const ALL: [&Seed; 11] = [
    &TAOBAO_JSON,
    &TAOBAO_DOM,
    &TAOBAO_ITEM,
    &TAOBAO_LOGIN,
    &TAOBAO_PUNISH,
    &TMALL_LIST,
    &TMALL_ITEM_FLAGSHIP,
    &TMALL_ITEM_COPY,
    &S1688_SEARCH,
    &S1688_OFFER,
    &S1688_PUNISH,
];

fn seeds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds")
}

fn bytes(seed: &Seed) -> Vec<u8> {
    let path = seeds_dir().join(seed.file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn url(seed: &Seed) -> Url {
    Url::parse(seed.url).unwrap()
}

fn platform(seed: &Seed) -> Platform {
    marketplaces::platform_for_url(seed.url).unwrap().0
}

/// Parses a seed page the way replay does.
fn parse(seed: &Seed) -> PageOutcome {
    marketplaces::parse_page(
        platform(seed),
        &url(seed),
        &bytes(seed),
        Some(seed.content_type),
    )
}

/// The seed page as text (decoded like replay would), for mutation.
fn text(seed: &Seed) -> String {
    marketplaces::charset::decode(&bytes(seed), Some(seed.content_type)).text
}

/// Parses mutated text with the seed's platform parser (blocks first).
fn parse_text(seed: &Seed, html: &str) -> PageOutcome {
    marketplaces::parse_page(
        platform(seed),
        &url(seed),
        html.as_bytes(),
        Some("text/html; charset=utf-8"),
    )
}

fn ok(seed: &Seed) -> (Vec<Listing>, Option<u64>, PageKind) {
    match parse(seed) {
        PageOutcome::Ok {
            listings,
            total,
            page,
            ..
        } => (listings, total, page),
        other => panic!("{}: expected listings, got {other:?}", seed.file),
    }
}

fn by_id<'a>(listings: &'a [Listing], id: &str) -> &'a Listing {
    listings
        .iter()
        .find(|l| l.id == id)
        .unwrap_or_else(|| panic!("no listing {id}"))
}

fn price(l: &Listing) -> (f64, Option<f64>, &str) {
    let p = l.price.as_ref().expect("price");
    (p.amount, p.max, p.currency.as_str())
}

fn sales(l: &Listing) -> (u64, SalesKind) {
    let s = l.sales.as_ref().expect("sales");
    (s.count, s.kind)
}

fn drift_missing(outcome: PageOutcome) -> (PageKind, Vec<String>) {
    match outcome {
        PageOutcome::Drift { page, missing, .. } => (page, missing),
        other => panic!("expected drift, got {other:?}"),
    }
}

// --- Taobao ---------------------------------------------------------------

#[test]
fn taobao_json_search_field_by_field() {
    let (listings, total, page) = ok(&TAOBAO_JSON);
    assert_eq!(page, PageKind::Search);
    assert_eq!(total, Some(127));
    let ids: Vec<&str> = listings.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "681234567001",
            "681234567002",
            "681234567003",
            "681234567004",
            "681234567005"
        ]
    );

    let cup = by_id(&listings, "681234567001");
    assert_eq!(cup.platform, Platform::Taobao);
    assert_eq!(cup.url, "https://item.taobao.com/item.htm?id=681234567001");
    assert_eq!(
        cup.title,
        "奥罗拉咖啡杯 高仿 1:1 AURORA意式浓缩杯 陶瓷 专柜同款"
    );
    assert_eq!(price(cup), (25.0, None, "CNY"));
    assert_eq!(sales(cup), (7261, SalesKind::Buyers));
    assert_eq!(cup.sales.as_ref().unwrap().text, "7261人付款");
    assert_eq!(cup.seller.name.as_deref(), Some("潮品杯具馆"));
    assert_eq!(cup.seller.id.as_deref(), Some("2206712345001"));
    assert_eq!(
        cup.seller.url.as_deref(),
        Some("https://store.taobao.com/shop/view_shop.htm?user_number_id=2206712345001")
    );
    assert_eq!(cup.location.as_deref(), Some("浙江 金华"));
    assert_eq!(
        cup.images,
        ["https://g.search.alicdn.com/img/bao/uploaded/i4/i2/2206712345001/O1CN01Kx7aQd1TzX3vA9B0m_!!2206712345001.jpg"]
    );
    assert!(!cup.sponsored);
    assert!(cup.missing.is_empty(), "{:?}", cup.missing);
    assert_eq!(cup.source_url, TAOBAO_JSON.url);

    // The p4p ad links to a click tracker; the listing URL comes from nid.
    let rocket = by_id(&listings, "681234567002");
    assert!(rocket.sponsored);
    assert_eq!(
        rocket.url,
        "https://item.taobao.com/item.htm?id=681234567002"
    );
    assert_eq!(
        rocket.title,
        "AURORA 奥罗拉 猎鹰火箭模型 原单 1:48 拼装模型 航天发射"
    );
    assert_eq!(price(rocket), (138.0, None, "CNY"));
    assert_eq!(sales(rocket), (312, SalesKind::Buyers));
    assert_eq!(rocket.location.as_deref(), Some("广东 汕头"));

    let poster = by_id(&listings, "681234567003");
    assert_eq!(sales(poster), (12000, SalesKind::Buyers));
    assert_eq!(price(poster), (19.9, None, "CNY"));
    assert_eq!(poster.seller.name.as_deref(), Some("墨韵画廊"));

    let coaster = by_id(&listings, "681234567004");
    assert_eq!(
        coaster.title,
        "适用于奥罗拉咖啡杯 硅胶杯垫 隔热防滑杯套 多色可选"
    );
    let lamp = by_id(&listings, "681234567005");
    assert!(lamp.title.contains("aurora"));
    assert_eq!(price(lamp), (45.0, None, "CNY"));
}

#[test]
fn taobao_rendered_dom_search_field_by_field() {
    let (listings, total, _) = ok(&TAOBAO_DOM);
    assert_eq!(total, None);
    assert_eq!(listings.len(), 3);

    // Same item as on the JSON page: same id, URL and (size-suffix-free)
    // photo URL, so the two views merge.
    let cup = by_id(&listings, "681234567001");
    assert_eq!(
        cup.title,
        "奥罗拉咖啡杯 高仿 1:1 AURORA意式浓缩杯 陶瓷 专柜同款"
    );
    assert_eq!(cup.url, "https://item.taobao.com/item.htm?id=681234567001");
    assert_eq!(price(cup), (25.0, None, "CNY"));
    assert_eq!(sales(cup), (7261, SalesKind::Buyers));
    assert_eq!(cup.seller.name.as_deref(), Some("潮品杯具馆"));
    assert_eq!(cup.seller.id.as_deref(), Some("2206712345001"));
    assert_eq!(cup.location.as_deref(), Some("浙江 金华"));
    let (json_listings, _, _) = ok(&TAOBAO_JSON);
    assert_eq!(cup.images, by_id(&json_listings, "681234567001").images);

    let set = by_id(&listings, "681234567006");
    assert!(set.sponsored);
    assert_eq!(set.url, "https://item.taobao.com/item.htm?id=681234567006");
    assert_eq!(set.title, "AURORA 奥罗拉 意式咖啡杯 A货 陶瓷杯碟套装 送礼");
    assert_eq!(price(set), (32.0, None, "CNY"));
    assert_eq!(sales(set), (856, SalesKind::Buyers));
    assert_eq!(set.location.as_deref(), Some("江西 景德镇"));
    assert_eq!(
        set.images,
        ["https://g.search.alicdn.com/img/bao/uploaded/i4/i2/2203344556006/O1CN01Zq4nHe1Wd8LpX6sTc_!!2203344556006.jpg"]
    );

    let case = by_id(&listings, "681234567007");
    assert_eq!(
        case.title,
        "Aurora极光渐变 猫咪手机壳 iPhone15 磨砂软壳 女款"
    );
    assert_eq!(case.seller.name.as_deref(), Some("壳子星球"));
}

#[test]
fn taobao_item_page_field_by_field() {
    let (listings, _, page) = ok(&TAOBAO_ITEM);
    assert_eq!(page, PageKind::Item);
    assert_eq!(listings.len(), 1);
    let l = &listings[0];
    assert_eq!(l.id, "681234567001");
    assert_eq!(l.url, "https://item.taobao.com/item.htm?id=681234567001");
    assert_eq!(
        l.title,
        "奥罗拉咖啡杯 高仿 1:1 AURORA意式浓缩杯 陶瓷 专柜同款"
    );
    assert_eq!(price(l), (25.0, Some(39.0), "CNY"));
    assert_eq!(l.seller.name.as_deref(), Some("潮品杯具馆"));
    // From g_config, a JS literal that is not JSON (`+new Date`).
    assert_eq!(l.seller.id.as_deref(), Some("2206712345001"));
    assert_eq!(
        l.seller.url.as_deref(),
        Some("https://shop113456789.taobao.com")
    );
    assert_eq!(
        l.images,
        [
            "https://gd1.alicdn.com/imgextra/i1/2206712345001/O1CN01Kx7aQd1TzX3vA9B0m_!!2206712345001.jpg",
            "https://img.alicdn.com/imgextra/i1/2206712345001/O1CN01Hq2Wxe1TzX3wFg7kP_!!2206712345001.jpg",
        ]
    );
    assert_eq!(l.missing, Vec::<String>::new());
}

#[test]
fn taobao_item_shop_name_falls_back_to_escaped_g_config() {
    let html = text(&TAOBAO_ITEM);
    let start = html.find("<div id=\"J_ShopInfo\"").unwrap();
    let end = html[start..].find("</div></div>").unwrap() + start;
    let mutated = format!("{}{}", &html[..start], &html[end..]);
    match parse_text(&TAOBAO_ITEM, &mutated) {
        PageOutcome::Ok { listings, .. } => {
            assert_eq!(listings[0].seller.name.as_deref(), Some("潮品杯具馆"));
        }
        other => panic!("{other:?}"),
    }
}

// --- Tmall ----------------------------------------------------------------

#[test]
fn tmall_gbk_list_field_by_field() {
    let (listings, total, page) = ok(&TMALL_LIST);
    assert_eq!(page, PageKind::Search);
    assert_eq!(total, Some(6));
    assert_eq!(listings.len(), 6);

    let flagship = by_id(&listings, "652345678101");
    assert_eq!(flagship.platform, Platform::Tmall);
    assert_eq!(
        flagship.url,
        "https://detail.tmall.com/item.htm?id=652345678101"
    );
    assert_eq!(
        flagship.title,
        "奥罗拉官方旗舰店 AURORA 意式浓缩咖啡杯 骨瓷 80ml 咖啡师系列"
    );
    assert_eq!(price(flagship), (279.0, None, "CNY"));
    assert_eq!(sales(flagship), (95, SalesKind::Monthly));
    assert_eq!(flagship.sales.as_ref().unwrap().text, "月成交 95笔");
    assert_eq!(flagship.seller.name.as_deref(), Some("奥罗拉官方旗舰店"));
    assert_eq!(flagship.seller.id.as_deref(), Some("2212345678900"));
    assert_eq!(
        flagship.images,
        ["https://img.alicdn.com/imgextra/i1/2212345678900/O1CN01Au7rOr1FsHpE8cQxZ_!!2212345678900.png"]
    );
    assert!(flagship.missing.is_empty(), "{:?}", flagship.missing);

    let copy = by_id(&listings, "652345678104");
    assert_eq!(copy.title, "AURORA 奥罗拉 咖啡杯 复刻 意式浓缩杯 陶瓷小杯");
    assert_eq!(price(copy), (39.0, None, "CNY"));
    assert_eq!(sales(copy), (643, SalesKind::Monthly));
    assert_eq!(copy.seller.name.as_deref(), Some("杯语家居专营店"));

    let poster = by_id(&listings, "652345678103");
    assert_eq!(sales(poster), (2380, SalesKind::Monthly));
    assert_eq!(price(poster), (29.9, None, "CNY"));

    let candle = by_id(&listings, "652345678106");
    assert_eq!(candle.seller.name.as_deref(), Some("极光生活旗舰店"));
}

#[test]
fn tmall_item_labelled_gbk_but_utf8_bytes() {
    let decoded = marketplaces::charset::decode(
        &bytes(&TMALL_ITEM_FLAGSHIP),
        Some(TMALL_ITEM_FLAGSHIP.content_type),
    );
    assert_eq!(
        decoded.source,
        marketplaces::charset::CharsetSource::Validated
    );
    let (listings, _, page) = ok(&TMALL_ITEM_FLAGSHIP);
    assert_eq!(page, PageKind::Item);
    let l = &listings[0];
    assert_eq!(l.id, "652345678101");
    assert_eq!(
        l.title,
        "奥罗拉官方旗舰店 AURORA 意式浓缩咖啡杯 骨瓷 80ml 咖啡师系列"
    );
    assert_eq!(price(l), (279.0, None, "CNY"));
    assert_eq!(l.seller.name.as_deref(), Some("奥罗拉官方旗舰店"));
    assert_eq!(l.seller.id.as_deref(), Some("2212345678900"));
    assert_eq!(l.seller.url.as_deref(), Some("https://aurora.tmall.com"));
    assert_eq!(
        l.images,
        ["https://img.alicdn.com/imgextra/i1/2212345678900/O1CN01Au7rOr1FsHpE8cQxZ_!!2212345678900.png"]
    );
}

#[test]
fn tmall_item_without_any_charset_is_utf8() {
    let decoded = marketplaces::charset::decode(&bytes(&TMALL_ITEM_COPY), Some("text/html"));
    assert_eq!(
        decoded.source,
        marketplaces::charset::CharsetSource::Default
    );
    let (listings, _, _) = ok(&TMALL_ITEM_COPY);
    let l = &listings[0];
    assert_eq!(l.id, "652345678104");
    assert_eq!(l.url, "https://detail.tmall.com/item.htm?id=652345678104");
    assert_eq!(l.title, "AURORA 奥罗拉 咖啡杯 复刻 意式浓缩杯 陶瓷小杯");
    assert_eq!(price(l), (39.0, Some(59.0), "CNY"));
    assert_eq!(l.seller.name.as_deref(), Some("杯语家居专营店"));
    assert_eq!(l.seller.id.as_deref(), Some("2217788990104"));
    assert_eq!(
        l.images,
        [
            "https://img.alicdn.com/imgextra/i1/2217788990104/O1CN01Cp3hAl1VbX8uRt2Qe_!!2217788990104.jpg",
            "https://img.alicdn.com/imgextra/i1/2217788990104/O1CN01Wm9kTr1VbX8vAe5Lh_!!2217788990104.jpg",
        ]
    );
}

#[test]
fn tmall_item_seller_falls_back_to_url_encoded_nick() {
    let html = text(&TMALL_ITEM_COPY).replace("slogo-shopname", "slogo-renamed");
    match parse_text(&TMALL_ITEM_COPY, &html) {
        PageOutcome::Ok { listings, .. } => {
            assert_eq!(listings[0].seller.name.as_deref(), Some("杯语家居专营店"));
            assert_eq!(listings[0].seller.url, None);
        }
        other => panic!("{other:?}"),
    }
}

// --- 1688 -----------------------------------------------------------------

#[test]
fn s1688_gbk_search_cards_field_by_field() {
    let (listings, _, page) = ok(&S1688_SEARCH);
    assert_eq!(page, PageKind::Search);
    assert_eq!(listings.len(), 6);

    let cup = by_id(&listings, "612345678901");
    assert_eq!(cup.platform, Platform::S1688);
    assert_eq!(cup.url, "https://detail.1688.com/offer/612345678901.html");
    assert_eq!(
        cup.title,
        "奥罗拉 AURORA 意式咖啡杯 原单 陶瓷浓缩杯 批发 一件代发"
    );
    assert_eq!(price(cup), (8.5, None, "CNY"));
    assert_eq!(sales(cup), (24000, SalesKind::TurnoverCny));
    assert_eq!(cup.sales.as_ref().unwrap().text, "成交2.4万+元");
    assert_eq!(cup.seller.id.as_deref(), Some("义乌市杯具工艺品厂"));
    assert_eq!(cup.seller.name.as_deref(), Some("义乌市杯具工艺品厂"));
    // The company link of a paid card is the click tracker: not a shop URL.
    assert_eq!(cup.seller.url, None);
    assert!(cup.sponsored);
    let moq = cup.moq.as_ref().unwrap();
    assert_eq!((moq.quantity, moq.unit.as_str()), (2, "件"));
    assert_eq!(
        cup.images,
        ["https://cbu01.alicdn.com/img/ibank/O1CN01yW3fXk1Hn7QmT2bRc_!!2208112233901-0-cib.jpg"]
    );

    // "1<!-- -->.74": the price is split by a comment node.
    let poster = by_id(&listings, "612345678903");
    assert_eq!(price(poster), (1.74, None, "CNY"));
    assert_eq!(sales(poster), (56000, SalesKind::TurnoverCny));
    assert_eq!(
        poster.seller.name.as_deref(),
        Some("金华市墨彩印刷有限公司")
    );
    assert_eq!(poster.seller.id.as_deref(), Some("金华墨彩印刷"));
    assert_eq!(
        poster.seller.url.as_deref(),
        Some("https://detail.1688.com/offer/612345678903.html")
    );
    assert!(!poster.sponsored);

    let rocket = by_id(&listings, "612345678902");
    assert_eq!(sales(rocket), (8600, SalesKind::TurnoverCny));
    let lamp = by_id(&listings, "612345678905");
    assert_eq!(sales(lamp), (187000, SalesKind::TurnoverCny));
    assert!(lamp.sponsored);
    let webp = by_id(&listings, "612345678906");
    assert_eq!(
        webp.images,
        ["https://cbu01.alicdn.com/img/ibank/O1CN01Ek7rUy1Hn7QsJ8cDr_!!2208556677906-0-cib.webp"]
    );
}

#[test]
fn s1688_offer_page_from_run_params() {
    let (listings, _, page) = ok(&S1688_OFFER);
    assert_eq!(page, PageKind::Item);
    let l = &listings[0];
    assert_eq!(l.id, "612345678902");
    assert_eq!(l.url, "https://detail.1688.com/offer/612345678902.html");
    assert_eq!(l.title, "奥罗拉猎鹰火箭模型 复刻版 合金 航天模型 厂家直销");
    assert_eq!(price(l), (38.5, Some(46.0), "CNY"));
    let moq = l.moq.as_ref().unwrap();
    assert_eq!((moq.quantity, moq.unit.as_str()), (2, "件"));
    assert_eq!(l.seller.name.as_deref(), Some("汕头市澄海区宏翔模型玩具厂"));
    assert_eq!(l.seller.id.as_deref(), Some("汕头澄海宏翔模型玩具厂"));
    assert_eq!(l.seller.url.as_deref(), Some("https://hxmx-toys.1688.com/"));
    assert_eq!(sales(l), (186, SalesKind::Sold));
    assert_eq!(l.location.as_deref(), Some("广东 汕头"));
    assert_eq!(
        l.images,
        [
            "https://cbu01.alicdn.com/img/ibank/O1CN01Lr6pYd1Hn7QoB4sKv_!!2208445566902-0-cib.jpg",
            "https://cbu01.alicdn.com/img/ibank/O1CN01Mf4tZc1Hn7QuL2eFq_!!2208445566902-0-cib.jpg",
        ]
    );
}

// --- Charset: one test per encoding case ----------------------------------

#[test]
fn charset_gbk_bytes_with_header_label() {
    let raw = bytes(&TMALL_LIST);
    assert!(
        std::str::from_utf8(&raw).is_err(),
        "the seed must be GBK bytes"
    );
    let d = marketplaces::charset::decode(&raw, Some(TMALL_LIST.content_type));
    assert_eq!(d.source, marketplaces::charset::CharsetSource::Header);
    assert!(!d.had_errors);
    let (listings, _, _) = ok(&TMALL_LIST);
    assert!(listings.iter().all(|l| !l.title.contains('\u{FFFD}')));
    assert!(
        listings
            .iter()
            .filter(|l| l.title.contains("奥罗拉"))
            .count()
            >= 5
    );
}

#[test]
fn charset_gbk_bytes_with_meta_label_only() {
    let raw = bytes(&S1688_SEARCH);
    assert!(
        std::str::from_utf8(&raw).is_err(),
        "the seed must be GBK bytes"
    );
    let d = marketplaces::charset::decode(&raw, Some(S1688_SEARCH.content_type));
    assert_eq!(d.source, marketplaces::charset::CharsetSource::Meta);
    assert!(!d.had_errors);
    let (listings, _, _) = ok(&S1688_SEARCH);
    assert!(listings.iter().all(|l| !l.title.contains('\u{FFFD}')));
}

#[test]
fn charset_utf8_bytes_labelled_gbk_and_unlabelled() {
    // Both item pages decode to the same Chinese whichever label they carry.
    for seed in [&TMALL_ITEM_FLAGSHIP, &TMALL_ITEM_COPY] {
        let raw = bytes(seed);
        assert!(
            std::str::from_utf8(&raw).is_ok(),
            "{} must be UTF-8",
            seed.file
        );
        let (listings, _, _) = ok(seed);
        assert!(listings[0].title.contains("奥罗拉"), "{}", seed.file);
    }
}

// --- Blocks ---------------------------------------------------------------

fn blocked(seed: &Seed) -> (String, String) {
    match parse(seed) {
        PageOutcome::Blocked {
            platform: p,
            url: u,
            marker,
            reason,
            ..
        } => {
            assert_eq!(p, platform(seed));
            assert_eq!(u, seed.url);
            (marker, reason)
        }
        other => panic!("{}: expected blocked, got {other:?}", seed.file),
    }
}

#[test]
fn taobao_login_wall_is_blocked() {
    let (marker, reason) = blocked(&TAOBAO_LOGIN);
    assert_eq!(marker, "login.taobao.com");
    assert!(reason.contains("login"), "{reason}");
}

#[test]
fn taobao_punish_page_is_blocked() {
    // The page's own captcha config decides, not a punish URL it names.
    let (marker, _) = blocked(&TAOBAO_PUNISH);
    assert!(marker.contains("captcha"), "{marker}");
}

#[test]
fn s1688_slider_captcha_is_blocked() {
    // The page's own captcha config decides, not a punish URL it names.
    let (marker, _) = blocked(&S1688_PUNISH);
    assert!(marker.contains("captcha"), "{marker}");
}

#[test]
fn header_login_links_on_real_pages_are_not_walls() {
    // Every data page links to its login host in the top bar.
    for seed in [&TAOBAO_JSON, &TAOBAO_DOM, &TMALL_LIST, &S1688_SEARCH] {
        assert!(text(seed).contains("login."), "{}", seed.file);
        assert!(
            matches!(parse(seed), PageOutcome::Ok { .. }),
            "{}",
            seed.file
        );
    }
}

// --- Drift ----------------------------------------------------------------

#[test]
fn taobao_without_g_page_config_is_drift() {
    let html = text(&TAOBAO_JSON).replace("g_page_config = ", "g_srp_data = ");
    let (page, missing) = drift_missing(parse_text(&TAOBAO_JSON, &html));
    assert_eq!(page, PageKind::Search);
    assert!(
        missing.contains(&"g_page_config".to_string()),
        "{missing:?}"
    );
    assert!(
        missing.contains(&"#mainsrp-itemlist .item".to_string()),
        "{missing:?}"
    );
}

#[test]
fn taobao_blob_without_auctions_is_drift() {
    let html = text(&TAOBAO_JSON).replace("\"auctions\":", "\"itemsArray\":");
    let (_, missing) = drift_missing(parse_text(&TAOBAO_JSON, &html));
    assert!(
        missing.contains(&"mods.itemlist.data.auctions".to_string()),
        "{missing:?}"
    );
}

#[test]
fn taobao_prices_stripped_is_drift() {
    let html = text(&TAOBAO_JSON).replace("\"view_price\":", "\"view_price_v2\":");
    let (page, missing) = drift_missing(parse_text(&TAOBAO_JSON, &html));
    assert_eq!(page, PageKind::Search);
    assert_eq!(missing, ["price"]);

    let html = text(&TAOBAO_DOM).replace("class=\"price ", "class=\"cost ");
    let (_, missing) = drift_missing(parse_text(&TAOBAO_DOM, &html));
    assert_eq!(missing, ["price"]);
}

#[test]
fn tmall_list_drift_cases() {
    let html = text(&TMALL_LIST).replace("J_ItemList", "J_ItemGrid");
    let (page, missing) = drift_missing(parse_text(&TMALL_LIST, &html));
    assert_eq!(page, PageKind::Search);
    assert_eq!(missing, ["#J_ItemList div.product"]);

    let html = text(&TMALL_LIST).replace("productPrice", "productCost");
    let (_, missing) = drift_missing(parse_text(&TMALL_LIST, &html));
    assert_eq!(missing, ["price"]);
}

#[test]
fn s1688_search_drift_cases() {
    let html = text(&S1688_SEARCH)
        .replace("smart_ui_offer offer_item", "offer-card-v3")
        .replace("offer_exp", "offer-exp");
    let (_, missing) = drift_missing(parse_text(&S1688_SEARCH, &html));
    assert_eq!(missing, ["div.smart_ui_offer.offer_item"]);

    let html = text(&S1688_SEARCH).replace("price_num", "price-num-v2");
    let (_, missing) = drift_missing(parse_text(&S1688_SEARCH, &html));
    assert_eq!(missing, ["price"]);
}

#[test]
fn item_pages_without_blob_or_title_are_drift() {
    let html = text(&TMALL_ITEM_COPY)
        .replace("TShop.Setup", "TShop.Init")
        .replace("tb-detail-hd", "detail-hd-v2");
    let (page, missing) = drift_missing(parse_text(&TMALL_ITEM_COPY, &html));
    assert_eq!(page, PageKind::Item);
    assert_eq!(missing, ["TShop.Setup", ".tb-detail-hd h1"]);

    let html = text(&S1688_OFFER)
        .replace("window.runParams", "window.offerData")
        .replace("title-text", "t-v2");
    let (_, missing) = drift_missing(parse_text(&S1688_OFFER, &html));
    assert_eq!(missing, ["window.runParams", "title"]);

    let html = text(&TAOBAO_ITEM)
        .replace("g_config", "g_cfg_v2")
        .replace("tb-main-title", "tb-title-v2");
    let (_, missing) = drift_missing(parse_text(&TAOBAO_ITEM, &html));
    assert_eq!(missing, ["g_config", ".tb-main-title"]);
}

// --- Click trackers and the manifest --------------------------------------

#[test]
fn click_trackers_never_become_listing_urls() {
    let mut seen = 0;
    for seed in ALL {
        let outcome = parse(seed);
        for l in outcome.listings() {
            seen += 1;
            let prefix = match l.platform {
                Platform::Taobao => "https://item.taobao.com/item.htm?id=",
                Platform::Tmall => "https://detail.tmall.com/item.htm?id=",
                Platform::S1688 => "https://detail.1688.com/offer/",
                other => panic!("unexpected platform {other}"),
            };
            assert!(l.url.starts_with(prefix), "{}", l.url);
            assert!(l.url.contains(&l.id), "{}", l.url);
            for u in std::iter::once(&l.url)
                .chain(&l.images)
                .chain(&l.seller.url)
            {
                assert!(!u.contains("click.simba"), "{u}");
                assert!(!u.contains("dj.1688.com"), "{u}");
                assert!(u.starts_with("https://"), "{u}");
            }
        }
    }
    // The seeds hold click trackers, so this test has something to reject.
    assert!(text(&TAOBAO_JSON).contains("click.simba.taobao.com"));
    assert!(text(&S1688_SEARCH).contains("dj.1688.com/ci_bb"));
    assert_eq!(seen, 5 + 3 + 1 + 6 + 1 + 1 + 6 + 1);
}

#[test]
fn search_urls_rebuild_the_recorded_urls() {
    let base = |s: &str| Url::parse(s).unwrap();
    let tb = marketplaces::for_platform(Platform::Taobao);
    assert_eq!(
        tb.search_url(&base("https://s.taobao.com/"), "奥罗拉", 1)
            .as_str(),
        TAOBAO_JSON.url
    );
    assert_eq!(
        tb.search_url(&base("https://s.taobao.com/"), "aurora", 1)
            .as_str(),
        TAOBAO_DOM.url
    );
    assert_eq!(
        tb.search_url(&base("https://s.taobao.com/"), "奥罗拉", 2)
            .as_str(),
        TAOBAO_PUNISH.url
    );
    let tm = marketplaces::for_platform(Platform::Tmall);
    assert_eq!(
        tm.search_url(&base("https://list.tmall.com/"), "奥罗拉", 1)
            .as_str(),
        TMALL_LIST.url
    );
    let al = marketplaces::for_platform(Platform::S1688);
    assert_eq!(
        al.search_url(&base("https://s.1688.com/"), "奥罗拉", 1)
            .as_str(),
        S1688_SEARCH.url
    );
    assert_eq!(
        al.search_url(&base("https://s.1688.com/"), "奥罗拉", 2)
            .as_str(),
        S1688_PUNISH.url
    );
    assert_eq!(al.item_url("612345678902"), S1688_OFFER.url);
}

#[test]
fn manifest_records_every_china_page_with_its_content_type() {
    let path = seeds_dir().join("manifest.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let manifest: Manifest = toml::from_str(&text).unwrap();
    for seed in ALL {
        let entries: Vec<_> = manifest
            .page
            .iter()
            .filter(|p| knockoff::model::recording::normalize_url(&p.url) == seed.url)
            .collect();
        assert_eq!(entries.len(), 1, "{}: one manifest entry", seed.url);
        assert_eq!(entries[0].file, seed.file);
        assert_eq!(entries[0].content_type, seed.content_type);
        assert_eq!(entries[0].status, 200);
    }
    // Every photo a china listing names is recorded and its file exists.
    for seed in ALL {
        for l in parse(seed).listings() {
            for img in &l.images {
                let entry = manifest
                    .page
                    .iter()
                    .find(|p| knockoff::model::recording::normalize_url(&p.url) == *img)
                    .unwrap_or_else(|| panic!("{}: photo {img} not in the manifest", l.id));
                assert!(entry.content_type.starts_with("image/"), "{img}");
                assert!(seeds_dir().join(&entry.file).is_file(), "{}", entry.file);
            }
        }
    }
}
