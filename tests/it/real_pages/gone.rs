//! "Item unavailable" pages told from live item pages by their shape
//! (`marketplaces::classify_gone_page`), as the daemon's removal check
//! asks it of a 200 answer.
//!
//! No full capture of a removed item's page was found in the public
//! repositories searched (the code corpus, exact-string search for each
//! notice sentence): what is public are scrapers' checks, which name the
//! notice sentence and the element real pages hold it in. Each fixture is
//! ours, built around that element with a normal page's header, footer and
//! scripts full of other URLs (login, search, punish fallback,
//! recommendation APIs), GBK where the platform's pages are GBK. Alibaba.com
//! has no public source: its fixture follows the platform's documented
//! wording only.

use super::support;
use knockoff::marketplaces::block::{Evidence, ResponseFacts};
use knockoff::marketplaces::{self, gone::GoneHit};

fn gone(url: &str, rel: &str, content_type: Option<&str>) -> Option<GoneHit> {
    marketplaces::classify_gone_page(
        &support::url(url),
        &support::fixture(rel),
        content_type,
        ResponseFacts {
            final_url: None,
            status: Some(200),
        },
    )
}

/// Taobao's removed-item page: `<div class="error-notice-hd">很抱歉，您查看的
/// 宝贝不存在，可能已下架或者被转移。</div>` inside `#error-notice`
/// (`error-notice-text-wrap error1`), GBK, with the site-nav login links.
/// Mirrors the markup that public scrapers match: the regex on
/// `<div class="error-notice-hd">很抱歉，您查看的宝贝不存在…</div>` and a
/// reproduction of the whole block with its "您可以：" advice list (found
/// by exact-string search of `class="error-notice-hd"`, index ids
/// 49031819684 and 14382070519), and `fetcher.find('div',
/// class_='error-notice-hd', …)` (id 31849292270).
#[test]
fn taobao_error_notice_page_is_a_removal() {
    let hit = gone(
        "https://item.taobao.com/item.htm?id=600000000001",
        "gone/taobao-error-notice-gbk.html",
        Some("text/html"),
    )
    .expect("removal");
    assert!(hit.marker.contains("宝贝不存在"), "{hit:?}");
    assert_eq!(hit.found_in, Evidence::MainContent);
}

/// Tmall's page: `.errorDetail h2` = `很抱歉，您查看的商品找不到了！`, GBK,
/// with the mall header's search form and login link. Mirrors the checks
/// `response.doc('.errorDetail h2').text() == u'很抱歉，您查看的商品找不到了！'`
/// (exact-string search, id 37077496967) and `strstr($html, '<div
/// class="errorDetail">')` for Tmall (id 11677614804).
#[test]
fn tmall_error_detail_page_is_a_removal() {
    let hit = gone(
        "https://detail.tmall.com/item.htm?id=600000000009",
        "gone/tmall-error-detail-gbk.html",
        None,
    )
    .expect("removal");
    assert!(hit.marker.contains("商品找不到了"), "{hit:?}");
    assert_eq!(hit.found_in, Evidence::MainContent);
}

/// 1688's offline offer: `h3.mod-detail-offline-title` = `商品已下架` in
/// `.mod-detail-offline`, GBK, an `iDetailConfig` with no offer data.
/// Mirrors the selector `h3.mod-detail-offline-title` with text `商品已下架`
/// of a public 1688 scraper and its test fixture `<h3
/// class="mod-detail-offline-title">商品已下架</h3>` (ids 70316721519,
/// 69001857914), and Jsoup checks of `.mod-Detail-offline-title` containing
/// `下架` (id 49832056697).
#[test]
fn s1688_offline_offer_is_a_removal() {
    let hit = gone(
        "https://detail.1688.com/offer/700000000001.html",
        "gone/s1688-offline-gbk.html",
        None,
    )
    .expect("removal");
    assert_eq!(hit.marker, "该商品已下架");
    assert_eq!(hit.found_in, Evidence::MainContent);
}

/// AliExpress's not-found page: title `Page Not Found - Aliexpress.com`,
/// the notice `Sorry, the page you requested can not be found:(` in a
/// `<span>` (recommendations load by script), and a `runParams` whose
/// `i18nMap` carries the same sentence. Mirrors
/// LucasFernandez111/TELEGRAM-PRODUCT-PUBLISHER
/// `src/services/scraping/tasks/task.aliexpress.ts` (the title), the
/// checks `>Sorry, the page you requested can not be found:(</span>` and an
/// XPath on that span's text (ids 47790677337, 21302272717).
#[test]
fn aliexpress_page_not_found_is_a_removal() {
    let hit = gone(
        "https://www.aliexpress.com/item/1005006000000001.html",
        "gone/aliexpress-page-not-found.html",
        Some("text/html; charset=utf-8"),
    )
    .expect("removal");
    assert_eq!(hit.found_in, Evidence::MainContent);
    assert!(hit.marker.contains("can not be found"), "{hit:?}");
}

/// Alibaba.com: no public capture or scraper check was found; the fixture
/// uses the platform's documented wording ("This product is no longer
/// available") in a product-offline block between the site header and
/// footer. The item parser reads the notice's `<h1>` as a title, with no
/// price, seller or photo: a listing without listing data, which does not
/// hide the removal.
#[test]
fn alibaba_product_no_longer_available_is_a_removal() {
    let hit = gone(
        "https://www.alibaba.com/product-detail/Aurora-Cup_1600000000001.html",
        "gone/alibaba-product-no-longer-available.html",
        None,
    )
    .expect("removal");
    assert_eq!(hit.marker, "This product is no longer available");
}

/// Live item pages are never removals, whatever they say: a real
/// AliExpress item page's `runParams` holds the not-found sentences in its
/// `i18nMap` (a 2019 item page's `PAGE_NOT_FOUND_RCMD_TITLE`, id
/// 35124459495), variants may be sold out and "similar items" blocks list
/// other offers. Every item fixture of every platform holds a listing, so
/// none is gone.
#[test]
fn live_item_pages_of_every_platform_are_not_removals() {
    for (url, rel) in [
        (
            "https://www.aliexpress.com/item/1005006123456789.html",
            "aliexpress/item_2024_es_csr.html",
        ),
        (
            "https://www.aliexpress.com/item/1005006123456789.html",
            "aliexpress/item_2023_de_components.html",
        ),
        (
            "https://www.aliexpress.com/item/1005006123456789.html",
            "aliexpress/item_2020_he_modules_saved.html",
        ),
        (
            "https://item.taobao.com/item.htm?id=600000000001",
            "taobao/item-2026-ssr.html",
        ),
        (
            "https://detail.tmall.com/item.htm?id=600000000009",
            "tmall/item-2026-ssr.html",
        ),
        (
            "https://detail.1688.com/offer/700000000001.html",
            "1688/offer_2026_window_context.html",
        ),
        (
            "https://www.alibaba.com/product-detail/x_1600000000001.html",
            "alibaba/product_detaildata.html",
        ),
    ] {
        // A sold-out variant and a similar-items block do not change that.
        let mut page = support::fixture(rel);
        page.extend_from_slice(
            "<div class=\"similar-items\"><h3>Similar items</h3><p>Sold out</p>\
             <p>Sorry, this item is no longer available</p><p>此宝贝已下架</p></div>"
                .as_bytes(),
        );
        let hit = marketplaces::classify_gone_page(
            &support::url(url),
            &page,
            None,
            ResponseFacts::default(),
        );
        assert_eq!(hit, None, "{rel}");
    }
}

/// A block page is not a removal, nor is a search page with no results.
#[test]
fn block_pages_and_empty_searches_are_not_removals() {
    for (url, rel) in [
        (
            "https://www.aliexpress.com/item/1005006123456789.html",
            "blocks/aliexpress-punish-100k.html",
        ),
        (
            "https://s.taobao.com/search?q=zzqxaurora",
            "blocks/taobao-search-no-results.html",
        ),
    ] {
        assert_eq!(gone(url, rel, None), None, "{rel}");
    }
}

/// The notice sentence only in a script of a page with no listing (an
/// item page the parser could not read) is not a removal.
#[test]
fn a_notice_only_in_scripts_is_not_a_removal() {
    let page = String::from_utf8(support::fixture("gone/aliexpress-page-not-found.html"))
        .unwrap()
        .replace(
            "<span>Sorry, the page you requested can not be found:(</span>",
            "<span>Aurora espresso cup</span>",
        )
        .replace("Page Not Found - Aliexpress.com", "Aurora cup - AliExpress");
    let hit = marketplaces::classify_gone_page(
        &support::url("https://www.aliexpress.com/item/1005006000000001.html"),
        page.as_bytes(),
        None,
        ResponseFacts::default(),
    );
    assert_eq!(hit, None);
}
