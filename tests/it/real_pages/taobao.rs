//! Real-page fixtures: Taobao search pages (2018 server and browser-saved,
//! 2023 and 2025 React builds, the 2026 client-rendered shell) and item
//! pages (2020 browser-saved, 2026 SSR). Each fixture is ours (AURORA
//! demo data) and reproduces the structure and quirks of the public page
//! named in its test's doc comment.

use super::support;
use knockoff::marketplaces::{PageKind, PageOutcome};
use knockoff::model::listing::{Listing, SalesKind};

fn by_id<'a>(listings: &'a [Listing], id: &str) -> &'a Listing {
    listings
        .iter()
        .find(|l| l.id == id)
        .unwrap_or_else(|| panic!("no listing {id}"))
}

/// Mirrors repository Python3WebSpider/ScrapyPyppeteerDeprecated,
/// `taobao.html` (2018): a search page saved from a browser after
/// rendering. `g_page_config` holds the server's first 36 auctions; the
/// DOM `#mainsrp-itemlist .items` holds 48 cards, the last 12 a
/// personalised row (`data-category="personalityData"`) fetched later by
/// XHR. Titles carry `\u003cspan class\u003dH\u003e` highlight escapes in
/// the JSON and `<span class="H">` in the DOM; photos are protocol-relative
/// with a `_180x180.jpg_.webp` thumbnail in `src` and the original in
/// `data-src`; the top bar links `login.taobao.com`.
#[test]
fn search_2018_browser_saved_merges_blob_and_cards() {
    let out = support::parse(
        "https://s.taobao.com/search?q=AURORA",
        "taobao/search-2018-rendered.html",
        None,
    );
    let PageOutcome::Ok { total, .. } = &out else {
        panic!("expected Ok, got {out:?}");
    };
    assert_eq!(*total, Some(4072));
    let listings = support::listings(&out);
    assert_eq!(listings.len(), 48, "36 from the blob + 12 rendered only");

    let first = &listings[0];
    assert_eq!(first.id, "580000000100");
    assert_eq!(
        first.url,
        "https://item.taobao.com/item.htm?id=580000000100"
    );
    assert_eq!(first.title, "AURORA奥罗拉 保温杯 1号 不锈钢");
    let price = first.price.as_ref().unwrap();
    assert_eq!((price.amount, price.currency.as_str()), (59.0, "CNY"));
    assert_eq!(first.seller.name.as_deref(), Some("奥罗拉旗舰店"));
    assert_eq!(first.seller.id.as_deref(), Some("2200000000"));
    assert_eq!(
        first.seller.url.as_deref(),
        Some("https://store.taobao.com/shop/view_shop.htm?user_number_id=2200000000")
    );
    assert_eq!(
        first.images,
        ["https://g-search1.alicdn.com/img/bao/uploaded/i4/i1/2200000000/O1CN01Aur0000_!!2200000000-0-item_pic.jpg"]
    );
    let sales = first.sales.as_ref().unwrap();
    assert_eq!((sales.count, sales.kind), (37, SalesKind::Buyers));
    assert_eq!(first.location.as_deref(), Some("浙江 杭州"));
    assert!(first.missing.is_empty(), "{:?}", first.missing);

    // A card of the personalised row: only in the DOM.
    let extra = by_id(listings, "590000000211");
    assert_eq!(extra.title, "奥罗拉 AURORA 保温杯 推荐款12");
    assert_eq!(extra.price.as_ref().unwrap().amount, 131.5);
    assert_eq!(extra.seller.name.as_deref(), Some("aurora_outlet"));
    assert_eq!(extra.seller.id.as_deref(), Some("3300000011"));
    assert_eq!(extra.sales.as_ref().unwrap().count, 14);
    assert_eq!(extra.location.as_deref(), Some("福建 泉州"));
    assert_eq!(
        extra.images,
        ["https://g-search3.alicdn.com/img/bao/uploaded/i4/i4/3300000011/O1CN01Aur0047_!!3300000011-0-item_pic.jpg"]
    );
    assert!(listings.iter().all(|l| !l.sponsored));
    assert!(listings.iter().all(|l| l.missing.is_empty()));
}

/// Mirrors repository TangAndLi/spidercode, `taobao.html` (2018): a
/// server-rendered `s.taobao.com/list` page (`pageName:"listsrp"`) whose
/// 60 auctions are only in a one-line `g_page_config`; the DOM is an empty
/// shell. The two paid entries (`"p4p":1`, `detail_url` a
/// `click.simba.taobao.com` tracker with `\u003d`/`\u0026` escapes) follow
/// repository goxp49/My_Scrapy, `xxx.js` (a dump of the same blob).
#[test]
fn search_2018_server_blob_only() {
    let out = support::parse(
        "https://s.taobao.com/list?q=AURORA",
        "taobao/search-2018-server.html",
        Some("text/html; charset=utf-8"),
    );
    let PageOutcome::Ok { total, page, .. } = &out else {
        panic!("expected Ok, got {out:?}");
    };
    assert_eq!((*page, *total), (PageKind::Search, Some(30744)));
    let listings = support::listings(&out);
    assert_eq!(listings.len(), 60);
    let ad = &listings[0];
    assert!(ad.sponsored);
    assert_eq!(ad.url, "https://item.taobao.com/item.htm?id=571000000300");
    assert_eq!(ad.title, "AURORA奥罗拉 保温杯 1号 不锈钢");
    assert!(!listings[2].sponsored);
    assert_eq!(listings.iter().filter(|l| l.sponsored).count(), 2);
    let last = &listings[59];
    assert_eq!(last.id, "571000000359");
    assert_eq!(last.price.as_ref().unwrap().amount, 118.0);
    assert_eq!(last.sales.as_ref().unwrap().count, 2220);
    assert_eq!(last.seller.name.as_deref(), Some("AURORA官方店"));
    assert_eq!(
        last.seller.url.as_deref(),
        Some("https://store.taobao.com/shop/view_shop.htm?user_number_id=2200000059")
    );
}

/// Mirrors the 2023 React search build as scrapers of that year record it
/// (card markup quoted in public spiders, e.g. an `<a
/// class="Card--doubleCardWrapper--L2XFE73" href="https://click.simba...">`
/// paid card in a scrapy spider's comments, and the lsgd002/Spider
/// selectors `div.Content--content--sgSCZ12`, `Price--priceInt--ZlsSi_M`,
/// `ShopInfo--TextAndPic--yH0AZfx > a`); no whole saved page of this build
/// was found. 48 cards in `Content--contentInner`; the shop link is an <a>
/// nested in the card's <a> (the HTML parser splits them); 6 paid cards
/// link to a `click.simba.taobao.com` tracker and carry no item id at all.
/// Those are the cards a parser cannot canonicalise: 42 of 48.
#[test]
fn search_2023_react_cards_without_ids_are_the_paid_ones() {
    let listings = support::parse_listings(
        "https://s.taobao.com/search?q=AURORA",
        "taobao/search-2023-react.html",
        None,
    );
    assert_eq!(listings.len(), 42);
    assert!(listings.iter().all(|l| !l.sponsored));
    let l = by_id(&listings, "700000000401");
    assert_eq!(l.url, "https://item.taobao.com/item.htm?id=700000000401");
    assert_eq!(l.title, "AURORA奥罗拉陶瓷马克杯 2");
    assert_eq!(l.price.as_ref().unwrap().amount, 30.9);
    assert_eq!(l.seller.name.as_deref(), Some("aurora_outlet"));
    assert_eq!(
        l.seller.url.as_deref(),
        Some(
            "https://store.taobao.com/shop/view_shop.htm?appUid=RAzN8H2200100001&spm=a21n57.1.0.0"
        )
    );
    assert_eq!(l.sales.as_ref().unwrap().count, 200);
    assert_eq!(l.location.as_deref(), Some("广东 深圳"));
    assert_eq!(
        l.images,
        ["https://g-search2.alicdn.com/img/bao/uploaded/i4/i2/2200100001/O1CN01Rx0001_!!2200100001.jpg"]
    );
    // A Tmall item on the Taobao search page gets the canonical Taobao URL.
    let t = by_id(&listings, "700000000400");
    assert_eq!(t.url, "https://item.taobao.com/item.htm?id=700000000400");
    assert_eq!(t.location.as_deref(), Some("浙江 杭州"));
    // The last card's shop link: the split must not leak into the next card.
    let last = by_id(&listings, "700000000447");
    assert_eq!(last.seller.name.as_deref(), Some("AURORA官方店"));
    assert!(
        listings.iter().all(|l| l.missing.is_empty()),
        "{listings:?}"
    );
}

/// Mirrors the 2024–2025 build (`main-search/pc-search-2024`):
/// `div.tbpc-col.search-content-col > a.doubleCardWrapperAdapt--mEcC7olq`
/// with `id="item_id_<id>"`, title in `.title--…[title]`, price split in
/// `priceInt--`/`priceFloat--`, shop `shopNameText--`, paid cards with
/// `img.mainP4pPic--jbnK3QAX` linking to `click.simba.taobao.com`
/// (selectors recorded by public 2025 scrapers, e.g. a Tampermonkey ad
/// hider's `img.mainP4pPic--jbnK3QAX` → `a.doubleCardWrapperAdapt--mEcC7olq`
/// → `div.tbpc-col.search-content-col`). The id attribute makes all 48
/// cards, paid ones included, canonical.
#[test]
fn search_2025_adapt_cards_with_item_id_attribute() {
    let listings = support::parse_listings(
        "https://s.taobao.com/search?q=AURORA",
        "taobao/search-2025-adapt.html",
        None,
    );
    assert_eq!(listings.len(), 48);
    let ads: Vec<&str> = listings
        .iter()
        .filter(|l| l.sponsored)
        .map(|l| l.id.as_str())
        .collect();
    assert_eq!(
        ads,
        [
            "810000000500",
            "810000000507",
            "810000000515",
            "810000000523"
        ]
    );
    let ad = by_id(&listings, "810000000507");
    assert_eq!(ad.url, "https://item.taobao.com/item.htm?id=810000000507");
    assert_eq!(ad.title, "AURORA奥罗拉 陶瓷马克杯 8号");
    assert_eq!(ad.price.as_ref().unwrap().amount, 46.5);
    assert_eq!(ad.seller.name.as_deref(), Some("aurora_outlet"));
    assert_eq!(ad.sales.as_ref().unwrap().count, 9);
    assert_eq!(
        ad.images,
        ["https://g-search2.alicdn.com/img/bao/uploaded/i4/i4/2200300007/O1CN01Vb0007_!!2200300007.jpg"]
    );
    let plain = by_id(&listings, "810000000504");
    assert!(!plain.sponsored);
    assert_eq!(plain.location.as_deref(), Some("上海"));
    assert!(listings.iter().all(|l| l.missing.is_empty()));
}

/// Mirrors repository chihuahuafanclub/priceComparison,
/// `taobao_search.html` (2026): the client-rendered search shell (an empty
/// `<div id="root">`, skeleton `boneClass_*` boxes and the
/// `pc-search-2024` script), saved as UTF-16LE with a BOM. There is no
/// listing data on the page: drift, saying why.
#[test]
fn search_2026_client_shell_is_drift_not_empty() {
    match support::parse(
        "https://s.taobao.com/search?q=AURORA",
        "taobao/search-2026-shell-utf16.html",
        None,
    ) {
        PageOutcome::Drift {
            page,
            missing,
            detail,
            ..
        } => {
            assert_eq!(page, PageKind::Search);
            assert!(
                missing.contains(&"g_page_config".to_string()),
                "{missing:?}"
            );
            assert!(detail.contains("client-rendered shell"), "{detail}");
        }
        other => panic!("expected drift, got {other:?}"),
    }
}

/// Mirrors repository jshemas/openGraphScraperPages, `taobao.html` (saved
/// from Chrome 83 in 2020): an item page whose bytes are UTF-8 while its
/// `<meta charset="gbk">` (declared after ~150 KB of scripts the page had
/// injected into <head>) says GBK; `g_config` is a JavaScript literal with
/// `+new Date` and a `\u`-escaped shop name; the price is a range in
/// `#J_StrPrice .tb-rmb-num`; thumbnails carry `_50x50.jpg_.webp`.
#[test]
fn item_2020_browser_saved() {
    for content_type in [None, Some("text/html; charset=GBK")] {
        let listings = support::parse_listings(
            "https://item.taobao.com/item.htm?spm=a1z10.1-c.w4004-1.2&id=612345678901",
            "taobao/item-2020-rendered.html",
            content_type,
        );
        assert_eq!(listings.len(), 1);
        let l = &listings[0];
        assert_eq!(l.id, "612345678901");
        assert_eq!(l.url, "https://item.taobao.com/item.htm?id=612345678901");
        assert_eq!(l.title, "AURORA奥罗拉 真空保温杯 316不锈钢 大容量");
        let p = l.price.as_ref().unwrap();
        assert_eq!(
            (p.amount, p.max, p.currency.as_str()),
            (149.0, Some(159.0), "CNY")
        );
        assert_eq!(l.seller.name.as_deref(), Some("奥罗拉杯具AURORA"));
        assert_eq!(l.seller.id.as_deref(), Some("2206712345"));
        assert_eq!(
            l.seller.url.as_deref(),
            Some("https://aurora-cups.taobao.com")
        );
        assert_eq!(l.images.len(), 5);
        assert_eq!(
            l.images[0],
            "https://gd4.alicdn.com/imgextra/i4/2206712345/O1CN01Th1mb_!!2206712345.jpg"
        );
        assert!(l
            .images
            .iter()
            .all(|i| i.starts_with("https://gd") && i.ends_with(".jpg")));
        assert!(l.missing.is_empty());
    }
}

/// Mirrors repository MARSAIalpha/ideakeeper, `debug_tb_desktop.html`
/// (2026-02): the `tbpc-pc-detail-ssr-2025` item page. The data is in
/// `window.__ICE_APP_CONTEXT__`, assigned from a local
/// (`var a = window.__ICE_APP_CONTEXT__ || {};var b = {…}`) with the item
/// under `loaderData.home.data.res` (`item`, `seller`, `componentsVO`);
/// the DOM has hashed classes (`mainTitle--R75fTcZL`,
/// `highlightPrice--…` with the coupon price 券后 before the struck
/// 优惠前 one, `shopName--cSjM9uKk`, `thumbnailPic--QasTmWDm` with
/// `.heic_q50.jpg_.webp` thumbnails). A punish slider iframe
/// (`_____tmd_____/punish?x5secdata=…`) sits over the readable page, and
/// the top bar links `login.taobao.com`.
#[test]
fn item_2026_ssr_ice_context() {
    let listings = support::parse_listings(
        "https://item.taobao.com/item.htm?id=1021700000001&app=chrome",
        "taobao/item-2026-ssr.html",
        None,
    );
    let l = &listings[0];
    assert_eq!(l.id, "1021700000001");
    assert_eq!(l.url, "https://item.taobao.com/item.htm?id=1021700000001");
    assert_eq!(l.title, "AURORA奥罗拉 陶瓷马克杯 手绘款 情侣礼盒");
    let p = l.price.as_ref().unwrap();
    assert_eq!((p.amount, p.max, p.currency.as_str()), (341.0, None, "CNY"));
    assert_eq!(l.seller.name.as_deref(), Some("奥罗拉杯具AURORA"));
    assert_eq!(l.seller.id.as_deref(), Some("2206700000"));
    assert_eq!(
        l.seller.url.as_deref(),
        Some("https://shop115087308.taobao.com")
    );
    assert_eq!(
        l.images[..2],
        [
            "https://img.alicdn.com/imgextra/i1/2206700000/O1CN01Ice0Xq_!!2206700000.heic",
            "https://img.alicdn.com/imgextra/i2/2206700000/O1CN01Ice1Xq_!!2206700000.jpg",
        ]
    );
    // The gallery thumbnails are the same five photos: no duplicates.
    assert_eq!(l.images.len(), 6, "{:?}", l.images);
    let s = l.sales.as_ref().unwrap();
    assert_eq!((s.count, s.kind), (1, SalesKind::Sold));
    assert_eq!(l.location.as_deref(), Some("广东深圳"));
    assert!(l.missing.is_empty());
}
