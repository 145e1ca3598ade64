//! AliExpress parser: search pages and item pages of aliexpress.com.
//!
//! Search pages carry their whole result list as JSON in a script, in one
//! of two layouts (see `shared/marketplaces.md`):
//! - 2023–26: `window._dida_config_._init_data_= { data: {…} }` with the
//!   items at `data.data.root.fields.mods.itemList.content[]`;
//! - older: `window.runParams = {"mods":{"itemList":{"content":[…]}}}`.
//!
//! Some builds also render the first cards server-side. Their class names
//! are hashed build names (`multi--titleText--nXeOvyr`) that change with
//! every build, so cards are found by what is stable: a link to
//! `/item/<id>.html`, and class-name *prefixes* (`--titleText--`,
//! `--price-sale--`). The JSON wins where both describe an item; cards the
//! JSON lacks are kept.
//!
//! Item pages come in three generations: server-rendered
//! `window.runParams = { data: {titleModule, priceModule, storeModule,
//! imageModule, pageModule} }` (≤2022); the "component" schema where the
//! same facts sit under `data.<name>_<n>.fields` (`titleBanner_*`,
//! `price_*`, `storeRecommend_*`, `imageView_*`); and the 2026
//! client-rendered page with only `og:title`, `og:image`, the canonical
//! link and an image list. Whatever a page does not carry is named in
//! [`Listing::missing`] rather than reported as an error.
//!
//! Item URLs are always built from the product id: card links carry
//! tracking parameters (`algo_pvid`, `pdp_npi`, `aem_p4p_click`).
//! Photo URLs lose their size/format suffix (`S….jpg_220x220.jpg_.webp`)
//! so that the full-size photo is fetched and hashed.

use super::dom::{
    css, drift, finish, first_attr, first_text, full_size_image, img_src, item_page, select,
};
use super::text::{absolute_url, collapse_ws, strip_markup, url_under};
use super::{check_coverage, jsobject, Marketplace, PageKind, PageOutcome, Readers};
use crate::model::listing::{Listing, Platform, Price, SalesKind, Seller};
use scraper::{ElementRef, Html};
use serde_json::{Map, Value};
use std::collections::HashSet;
use url::Url;

/// Canonical item URL host; `/item/{id}.html` is appended.
const ITEM_URL_BASE: &str = "https://www.aliexpress.com";

/// The script variable of 2023–26 search pages.
const DIDA_BLOB: &str = "window._dida_config_._init_data_";
/// The script variable of older search pages and of item pages.
const RUN_PARAMS_BLOB: &str = "window.runParams";

/// Where the item array sits inside the `_init_data_` object, newest first.
const DIDA_ITEM_PATHS: &[&str] = &[
    "data.data.root.fields.mods.itemList.content",
    "data.root.fields.mods.itemList.content",
];
/// Where the item array sits inside an older `runParams` object.
const RUN_PARAMS_ITEM_PATHS: &[&str] = &[
    "mods.itemList.content",
    "data.mods.itemList.content",
    "data.root.fields.mods.itemList.content",
    "items",
];
/// Where the result total sits, relative to the blob's object.
const TOTAL_PATHS: &[&str] = &[
    "data.data.root.fields.pageInfo.totalResults",
    "data.root.fields.pageInfo.totalResults",
    "pageInfo.totalResults",
    "resultCount",
];

/// Prices on aliexpress.com are shown in USD unless the page says otherwise.
const DEFAULT_CURRENCY: &str = "USD";

/// The AliExpress parser.
pub struct AliExpress;

impl Marketplace for AliExpress {
    fn platform(&self) -> Platform {
        Platform::AliExpress
    }

    /// `/item/<id>.html` (and the mobile `/i/<id>.html`) are item pages;
    /// everything else (`/w/wholesale-…`, `/wholesale?SearchText=`) is a
    /// search. The path may sit under a prefix (a loopback mock).
    fn is_item_page(&self, url: &Url) -> bool {
        item_id_from_path(url.path()).is_some()
    }

    fn readers(&self) -> Readers {
        Readers {
            search: parse_search,
            item: parse_item,
        }
    }

    /// `{base}/w/wholesale-{slug}.html?page={n}`, as the site's own search
    /// box produces (the slug is the term, lower-cased, words joined by
    /// dashes).
    fn search_url(&self, base: &Url, term: &str, page: u32) -> Url {
        let mut u = url_under(base, &format!("w/wholesale-{}.html", slug(term)));
        u.set_query(Some(&format!("page={}", page.max(1))));
        u
    }

    fn item_url(&self, id: &str) -> String {
        format!("{ITEM_URL_BASE}/item/{}.html", id.trim())
    }
}

/// The search slug for a term: lower case, runs of anything but letters
/// and digits become one dash. Non-ASCII letters (奥罗拉) are kept; the URL
/// layer percent-encodes them.
fn slug(term: &str) -> String {
    let mut out = String::new();
    for c in term.trim().chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// The product id in an item path: `/item/1005006123456789.html` or
/// `/i/1005006123456789.html`, possibly under a prefix, and the 2018–19
/// form with a title slug, `/item/Aurora-Cup-Set/32812345678.html`.
fn item_id_from_path(path: &str) -> Option<String> {
    let mut segs = path.rsplit('/');
    let file = segs.next()?;
    let dir = segs.next()?;
    let grand = segs.next().unwrap_or("");
    let under_item = dir == "item" || dir == "i" || (grand == "item" && !dir.is_empty());
    if !under_item {
        return None;
    }
    let id = file.strip_suffix(".html").unwrap_or(file);
    (!id.is_empty() && id.len() <= 24 && id.bytes().all(|b| b.is_ascii_digit()))
        .then(|| id.to_string())
}

// ---------------------------------------------------------------- search

fn parse_search(url: &Url, html: &str) -> PageOutcome {
    let (json, total) = search_json(html);
    let doc = Html::parse_document(html);
    // aliexpress.ru draws its own cards (`div[data-product-id]`); where
    // they exist, every other item link on the page belongs to them or to
    // a recommendation block.
    let ru = ru_cards(&doc, url);
    let cards = if ru.is_empty() {
        search_cards(&doc, url)
    } else {
        ru
    };

    let listings = match json {
        Some(items) => {
            // The first entry of an id wins; a rendered card fills what
            // its JSON entry lacks, and cards the JSON does not list are
            // kept.
            let mut seen = std::collections::HashSet::new();
            let mut listings: Vec<Listing> = Vec::new();
            for l in items
                .iter()
                .filter_map(|item| listing_from_search_item(item, url))
            {
                if super::budget::spent() {
                    break;
                }
                if seen.insert(l.id.clone()) {
                    listings.push(l);
                }
            }
            super::merge_cards(&mut listings, cards);
            listings
        }
        None if !cards.is_empty() => cards,
        None => {
            return drift(
                Platform::AliExpress,
                url,
                PageKind::Search,
                vec![
                    "mods.itemList.content (_init_data_ or runParams)".to_string(),
                    "product cards (a[href*=/item/], div[data-product-id])".to_string(),
                ],
                "search page has neither the item-list JSON nor rendered product cards".to_string(),
            );
        }
    };
    check_coverage(Platform::AliExpress, url, PageKind::Search, listings, total)
}

/// The item array from whichever search blob the page carries, and the
/// result total. `None` when no blob holds an item array (an empty array
/// is a real "no results" page and is returned as such).
fn search_json(html: &str) -> (Option<Vec<Value>>, Option<u64>) {
    for (marker, paths) in [
        (DIDA_BLOB, DIDA_ITEM_PATHS),
        (RUN_PARAMS_BLOB, RUN_PARAMS_ITEM_PATHS),
    ] {
        let Some(blob) = page_blob(html, marker) else {
            continue;
        };
        let items = paths
            .iter()
            .find_map(|p| jsobject::at(&blob, p).and_then(Value::as_array));
        if let Some(items) = items {
            let total = TOTAL_PATHS
                .iter()
                .find_map(|p| jsobject::f64_at(&blob, p))
                .filter(|t| t.is_finite() && *t >= 0.0 && *t < 1e12)
                .map(|t| t as u64);
            return (Some(items.clone()), total);
        }
    }
    (None, None)
}

/// One `itemList.content[]` (or 2019 `items[]`) entry as a listing.
/// Entries without a product id (banners, "related searches" tiles) are
/// skipped.
fn listing_from_search_item(item: &Value, source: &Url) -> Option<Listing> {
    let id = ["productId", "itemId", "redirectedId"]
        .iter()
        .find_map(|k| jsobject::string_at(item, k))
        .filter(|id| id.bytes().all(|b| b.is_ascii_digit()))?;
    let title = ["title.displayTitle", "title.seoTitle", "title", "subject"]
        .iter()
        .find_map(|k| jsobject::string_at(item, k))
        .map(|t| strip_markup(&t))
        .unwrap_or_default();
    let price = search_item_price(item);
    let store = |keys: &[&str]| keys.iter().find_map(|k| jsobject::string_at(item, k));
    let store_url = store(&["store.storeUrl", "store.storeURL", "storeUrl"])
        .and_then(|u| absolute_url(&u, source));
    let store_id = store(&["store.storeId", "store.storeNum", "storeId"])
        .or_else(|| store_url.as_deref().and_then(store_id_from_url));
    let seller = Seller {
        name: store(&["store.storeName", "storeName"]),
        id: store_id,
        url: store_url,
        ..Seller::default()
    };
    let images = [
        "image.imgUrl",
        "image.imageUrl",
        "imageUrl",
        "imgUrl",
        "image",
    ]
    .iter()
    .find_map(|k| jsobject::string_at(item, k))
    .and_then(|u| full_size_image(&u, source))
    .into_iter()
    .collect();
    let sales = ["trade.tradeDesc", "tradeDesc", "trade.realTradeCount"]
        .iter()
        .find_map(|k| jsobject::string_at(item, k))
        .and_then(|t| sales_from_text(&t));
    let sponsored =
        jsobject::string_at(item, "productType").is_some_and(|t| t.eq_ignore_ascii_case("ad"));
    Some(finish(Listing {
        price,
        seller,
        images,
        sales,
        sponsored,
        title,
        ..empty_listing(id, source)
    }))
}

/// `prices.salePrice`: the numeric `minPrice` (with `currencyCode`) is
/// preferred over `formattedPrice`, whose grouping and decimal mark
/// follow the shopper's locale (`ARS 1.515,50`, `4,99 €`). 2019 pages
/// carry only a formatted `price` ("US $1.23 - 4.56").
fn search_item_price(item: &Value) -> Option<Price> {
    for base in [
        "prices.salePrice",
        "prices.originalPrice",
        "salePrice",
        "price",
    ] {
        let Some(sale) = jsobject::at(item, base) else {
            continue;
        };
        if let Some(text) = sale.as_str() {
            if let Some(p) = parse_local_price(text, DEFAULT_CURRENCY) {
                return Some(p);
            }
            continue;
        }
        let code = jsobject::string_at(sale, "currencyCode");
        if let Some(amount) = jsobject::f64_at(sale, "minPrice").filter(|a| valid_amount(*a)) {
            let max =
                jsobject::f64_at(sale, "maxPrice").filter(|m| *m > amount && valid_amount(*m));
            let currency = code
                .or_else(|| {
                    jsobject::string_at(sale, "formattedPrice")
                        .and_then(|f| local_currency(&f).map(str::to_string))
                })
                .unwrap_or_else(|| DEFAULT_CURRENCY.to_string());
            return Some(Price {
                amount,
                max,
                currency,
            });
        }
        if let Some(text) = jsobject::string_at(sale, "formattedPrice") {
            if let Some(mut p) = parse_local_price(&text, DEFAULT_CURRENCY) {
                if let Some(code) = code {
                    p.currency = code;
                }
                return Some(p);
            }
        }
    }
    None
}

/// The product id an `a[href]` points at: `/item/<id>.html` on any host,
/// or a bundle-deal link naming it in `productIds=`.
fn link_item_id(href: &str, source: &Url) -> Option<String> {
    let abs = absolute_url(href, source)?;
    let u = Url::parse(&abs).ok()?;
    item_id_from_path(u.path()).or_else(|| {
        u.path()
            .contains("BundleDeals")
            .then(|| product_id_param(&abs))
            .flatten()
    })
}

/// Rendered search cards. A card is the largest element around an item
/// link that holds no other item's link, so it works whether the whole
/// card is the link (2023–26) or only its title is.
fn search_cards(doc: &Html, source: &Url) -> Vec<Listing> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for link in select(doc.root_element(), css!("a[href]")) {
        if super::budget::spent() {
            break;
        }
        let Some(id) = link
            .value()
            .attr("href")
            .and_then(|h| link_item_id(h, source))
        else {
            continue;
        };
        if !seen.insert(id.clone()) {
            continue;
        }
        let card = card_around(link, &id, source);
        out.push(listing_from_card(card, link, id, source));
    }
    out
}

fn card_around<'a>(link: ElementRef<'a>, id: &str, source: &Url) -> ElementRef<'a> {
    let mut card = link;
    for ancestor in link.ancestors().filter_map(ElementRef::wrap) {
        let ids: HashSet<String> = select(ancestor, css!("a[href]"))
            .into_iter()
            .filter_map(|a| a.value().attr("href").and_then(|h| link_item_id(h, source)))
            .collect();
        if ids.len() > 1 || !ids.contains(id) || ancestor.value().name() == "body" {
            break;
        }
        card = ancestor;
    }
    card
}

/// A short text that names a currency and a number: a price, not a title
/// that happens to hold digits.
fn looks_like_price(t: &str) -> bool {
    t.chars().count() <= 32 && t.bytes().any(|b| b.is_ascii_digit()) && local_currency(t).is_some()
}

/// "700+ sold" in the shopper's language.
fn is_sales_text(t: &str) -> bool {
    let l = t.to_lowercase();
    t.chars().count() < 40
        && l.bytes().any(|b| b.is_ascii_digit())
        && [
            "sold",
            "vendid",
            "verkauft",
            "vendu",
            "продан",
            "купил",
            "venduti",
            "sprzedan",
            "verkocht",
            "satıldı",
            "販売",
        ]
        .iter()
        .any(|w| l.contains(w))
}

fn listing_from_card(
    card: ElementRef<'_>,
    link: ElementRef<'_>,
    id: String,
    source: &Url,
) -> Listing {
    let title = first_text(
        card,
        &[
            css!("[class*='--titleText--']"),
            css!("h3"),
            css!("h1"),
            css!("h2"),
        ],
    )
    .or_else(|| {
        first_attr(
            card,
            &[
                css!("[class*='--title--'][title]"),
                css!("[role='heading'][title]"),
            ],
            "title",
        )
    })
    .or_else(|| link.value().attr("title").map(collapse_ws))
    .or_else(|| first_attr(card, &[css!("img[alt]")], "alt"))
    .unwrap_or_default();
    let price = first_attr(
        card,
        &[
            css!("[class*='price-sale'][aria-label]"),
            css!("[class*='price-current'][aria-label]"),
        ],
        "aria-label",
    )
    .or_else(|| {
        first_text(
            card,
            &[
                css!("[class*='price-sale']"),
                css!("[class*='price-current']"),
                css!("[class*='--price--']"),
            ],
        )
    })
    .or_else(|| {
        // 2026 builds hash every class name (`lk_gm`): the sale price is
        // the element whose aria-label reads as a price.
        select(card, css!("[aria-label]"))
            .into_iter()
            .filter_map(|e| e.value().attr("aria-label").map(collapse_ws))
            .find(|t| looks_like_price(t))
    })
    .or_else(|| first_text(card, &[css!("[class*='price']")]))
    .and_then(|t| parse_local_price(&t, DEFAULT_CURRENCY));
    let seller = seller_from_link(card, source);
    let images = card_images(card, source).into_iter().take(1).collect();
    let sales = card_sales(card);
    let sponsored = link
        .value()
        .attr("href")
        .is_some_and(|h| h.contains("aem_p4p_click") || h.contains("search_p4p_id"))
        || !select(card, css!("[class*='--ad--']")).is_empty();
    finish(Listing {
        price,
        seller,
        images,
        sales,
        sponsored,
        title,
        ..empty_listing(id, source)
    })
}

/// The sales text of a card. Spans first: a `div` may hold the rating
/// and the sales together ("4.9" + "332 sold").
fn card_sales(card: ElementRef<'_>) -> Option<crate::model::listing::Sales> {
    [css!("span"), css!("div")].iter().find_map(|css| {
        select(card, *css)
            .into_iter()
            .map(|e| collapse_ws(&e.text().collect::<String>()))
            .find(|t| is_sales_text(t))
            .and_then(|t| sales_from_text(&t))
    })
}

/// The first link to an AliExpress store (`/store/<number>`) in `el`
/// with its absolute URL; app-store links ("Google Play") are not stores.
fn store_link<'a>(el: ElementRef<'a>, source: &Url) -> Option<(ElementRef<'a>, String)> {
    select(el, css!("a[href*='/store/']"))
        .into_iter()
        .find_map(|a| {
            let url = a
                .value()
                .attr("href")
                .and_then(|h| absolute_url(h, source))?;
            let host = Url::parse(&url).ok()?.host_str()?.to_ascii_lowercase();
            let ali = ["aliexpress.com", "aliexpress.ru", "aliexpress.us"]
                .iter()
                .any(|d| host == *d || host.ends_with(&format!(".{d}")));
            (ali && store_id_from_url(&url).is_some()).then_some((a, url))
        })
}

/// The seller a card or page names through its store link.
fn seller_from_link(el: ElementRef<'_>, source: &Url) -> Seller {
    match store_link(el, source) {
        Some((a, url)) => Seller {
            name: Some(collapse_ws(&a.text().collect::<String>())).filter(|n| !n.is_empty()),
            id: store_id_from_url(&url),
            url: Some(url),
            ..Seller::default()
        },
        None => Seller::default(),
    }
}

/// aliexpress.ru's React cards: `div[data-product-id]` with hashed
/// `red-snippet_RedSnippet__*` classes. The page mixes recommendation
/// blocks ("Selected for you", `data-w-spm-c="rcmdprod"`) into the same
/// grid markup; when the page marks any card as a search result
/// (`search_results`), only those are results.
fn ru_cards(doc: &Html, source: &Url) -> Vec<Listing> {
    let cards = select(doc.root_element(), css!("[data-product-id]"));
    let area = |c: &ElementRef<'_>| {
        c.value()
            .attr("data-w-spm-c")
            .or_else(|| c.value().attr("data-w-page-area"))
            .unwrap_or("")
            .to_string()
    };
    let marked = cards.iter().any(|c| area(c) == "search_results");
    let mut out: Vec<Listing> = Vec::new();
    for card in cards {
        if super::budget::spent() {
            break;
        }
        if marked && area(&card) != "search_results" {
            continue;
        }
        let Some(id) = card
            .value()
            .attr("data-product-id")
            .map(str::trim)
            .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        if out.iter().any(|l| l.id == id) {
            continue;
        }
        let title = first_attr(
            card,
            &[css!("[class*='__title'][title]"), css!("[title]")],
            "title",
        )
        .or_else(|| first_text(card, &[css!("[class*='__title']")]))
        .or_else(|| first_attr(card, &[css!("img[alt]")], "alt"))
        .unwrap_or_default();
        // The old (struck-through) price comes first in the markup; the
        // current one is `priceNew`.
        let price = first_text(
            card,
            &[
                css!("[class*='priceNew']"),
                css!("[class*='price-new']"),
                css!("[class*='price']"),
            ],
        )
        .and_then(|t| parse_local_price(&t, DEFAULT_CURRENCY));
        let seller = seller_from_link(card, source);
        out.push(finish(Listing {
            price,
            seller,
            images: card_images(card, source).into_iter().take(1).collect(),
            sales: card_sales(card),
            sponsored: card.value().attr("data-ad") == Some("ad"),
            ..Listing::new(
                Platform::AliExpress,
                AliExpress.item_url(id),
                id.to_string(),
                title,
                source,
            )
        }));
    }
    out
}

// ------------------------------------------------------------------ item

/// The photo list of 2024–26 client-rendered item pages, their only
/// embedded data (`window._d_c_.DCData = {"imagePathList": […]}`).
const DC_DATA_BLOB: &str = "window._d_c_.DCData";

fn parse_item(url: &Url, html: &str) -> PageOutcome {
    let doc = Html::parse_document(html);
    let url_id = item_id_from_path(url.path());
    let data = page_blob(html, RUN_PARAMS_BLOB).map(|v| match v.get("data") {
        Some(d) if d.is_object() => d.clone(),
        _ => v,
    });
    let from_json = data.as_ref().and_then(|d| item_from_data(d, url));
    let mut from_dom = item_from_dom(&doc, url);
    if let Some(dom) = from_dom.as_mut() {
        // The client-rendered build's gallery: it leads, og:image (its
        // first photo) and any rendered photos follow.
        let dc = page_blob(html, DC_DATA_BLOB)
            .and_then(|dc| dc.get("imagePathList").map(|l| image_list(l, url)))
            .unwrap_or_default();
        if !dc.is_empty() {
            let rest = std::mem::replace(&mut dom.images, dc);
            for img in rest {
                if !dom.images.contains(&img) {
                    dom.images.push(img);
                }
            }
        }
    }

    let mut listing = match (from_json, from_dom) {
        (Some(mut j), Some(mut d)) => {
            if j.id.is_empty() {
                j.id = d.id.clone();
            }
            // Photos in the markup of a server-rendered page are mostly the
            // description's; the JSON gallery is the product's.
            if !j.images.is_empty() {
                d.images.clear();
            }
            j.merge_from(&d);
            j
        }
        (Some(j), None) => j,
        (None, Some(d)) => d,
        (None, None) => {
            return drift(
                Platform::AliExpress,
                url,
                PageKind::Item,
                vec![
                    "runParams.data".to_string(),
                    "og:title".to_string(),
                    "title".to_string(),
                ],
                "item page has neither runParams data nor a title".to_string(),
            );
        }
    };
    if listing.id.is_empty() {
        match url_id {
            Some(id) => listing.id = id,
            None => {
                return drift(
                    Platform::AliExpress,
                    url,
                    PageKind::Item,
                    vec!["productId".to_string()],
                    "item page names no product id (URL, canonical link, og:url, \
                             app link or JSON)"
                        .to_string(),
                );
            }
        }
    }
    if listing.title.trim().is_empty() {
        return drift(
            Platform::AliExpress,
            url,
            PageKind::Item,
            vec!["title".to_string()],
            format!("item {} has no title in JSON or markup", listing.id),
        );
    }
    listing.url = AliExpress.item_url(&listing.id);
    let listing = finish(listing);
    item_page(Platform::AliExpress, listing)
}

/// `runParams.data` in whichever schema the build used; `None` when it
/// holds none the parser knows (the empty `{}` of client-rendered builds).
fn item_from_data(d: &Value, source: &Url) -> Option<Listing> {
    if d.get("titleModule").is_some() || d.get("priceModule").is_some() {
        Some(item_from_modules(d, source))
    } else if d.get("productInfoComponent").is_some() || d.get("priceComponent").is_some() {
        Some(item_from_named_components(d, source))
    } else if d.get("PRODUCT_TITLE").is_some() || d.get("GLOBAL_DATA").is_some() {
        Some(item_from_new_detail(d, source))
    } else {
        item_from_components(d, source)
    }
}

/// Server-rendered item data (≤2022): `titleModule`, `priceModule`,
/// `storeModule`, `imageModule`, `pageModule`.
fn item_from_modules(d: &Value, source: &Url) -> Listing {
    let id = [
        "pageModule.productId",
        "actionModule.productId",
        "storeModule.productId",
        "productId",
    ]
    .iter()
    .find_map(|k| jsobject::string_at(d, k))
    .unwrap_or_default();
    let title = ["titleModule.subject", "pageModule.title"]
        .iter()
        .find_map(|k| jsobject::string_at(d, k))
        .map(|t| strip_markup(&t))
        .unwrap_or_default();
    let price = jsobject::at(d, "priceModule").and_then(module_price);
    let seller = jsobject::at(d, "storeModule")
        .map(|s| store_fields(s, source))
        .unwrap_or_default();
    let images = jsobject::at(d, "imageModule.imagePathList")
        .map(|v| image_list(v, source))
        .unwrap_or_default();
    let sales = jsobject::at(d, "titleModule").and_then(trade_count);
    let mut listing = empty_listing(id, source);
    listing.title = title;
    listing.price = price;
    listing.seller = seller;
    listing.images = images;
    listing.sales = sales;
    listing
}

/// The 2023 "component" build: `productInfoComponent`, `priceComponent`
/// (`discountPrice` / `origPrice`), `sellerComponent`, `imageComponent`,
/// `tradeComponent` directly under `data`.
fn item_from_named_components(d: &Value, source: &Url) -> Listing {
    let id = [
        "productInfoComponent.idStr",
        "productInfoComponent.id",
        "productId",
    ]
    .iter()
    .find_map(|k| jsobject::string_at(d, k))
    .unwrap_or_default();
    let mut listing = empty_listing(id, source);
    listing.title = [
        "productInfoComponent.subject",
        "displayTitleComponent.title",
    ]
    .iter()
    .find_map(|k| jsobject::string_at(d, k))
    .map(|t| strip_markup(&t))
    .unwrap_or_default();
    listing.price = ["priceComponent.discountPrice", "priceComponent.origPrice"]
        .iter()
        .filter_map(|k| jsobject::at(d, k))
        .find_map(module_price)
        .or_else(|| {
            [
                "priceComponent.discountPrice.actCurrencyFormatPrice",
                "priceComponent.origPrice.currencyFormatPrice",
            ]
            .iter()
            .filter_map(|k| jsobject::string_at(d, k))
            .find_map(|t| parse_local_price(&t, DEFAULT_CURRENCY))
        });
    if let Some(s) = jsobject::at(d, "sellerComponent") {
        listing.seller = store_fields(s, source);
    }
    listing.images = jsobject::at(d, "imageComponent.imagePathList")
        .map(|v| image_list(v, source))
        .unwrap_or_default();
    listing.sales = jsobject::at(d, "tradeComponent").and_then(trade_count);
    listing
}

/// The 2024+ "new detail" schema (also what the page's XHR answers):
/// `GLOBAL_DATA.globalData`, `PRODUCT_TITLE`, `PRICE`, `HEADER_IMAGE_PC`,
/// `SHOP_CARD_PC`, `PC_RATING`.
fn item_from_new_detail(d: &Value, source: &Url) -> Listing {
    let id = jsobject::string_at(d, "GLOBAL_DATA.globalData.productId").unwrap_or_default();
    let mut listing = empty_listing(id, source);
    listing.title = ["PRODUCT_TITLE.text", "GLOBAL_DATA.globalData.subject"]
        .iter()
        .find_map(|k| jsobject::string_at(d, k))
        .map(|t| strip_markup(&t))
        .unwrap_or_default();
    listing.price = jsobject::at(d, "PRICE.targetSkuPriceInfo").and_then(|p| {
        ["salePrice", "originalPrice"]
            .iter()
            .find_map(|k| amount_price(p.get(*k)?))
            .or_else(|| {
                ["salePriceString", "originalPriceString"]
                    .iter()
                    .filter_map(|k| jsobject::string_at(p, k))
                    .find_map(|t| parse_local_price(&t, DEFAULT_CURRENCY))
            })
    });
    if let Some(shop) = jsobject::at(d, "SHOP_CARD_PC") {
        let info = shop.get("sellerInfo").unwrap_or(shop);
        let mut seller = store_fields(info, source);
        seller.name = seller
            .name
            .or_else(|| jsobject::string_at(shop, "storeName"));
        listing.seller = seller;
    }
    listing.images = jsobject::at(d, "HEADER_IMAGE_PC.imagePathList")
        .map(|v| image_list(v, source))
        .unwrap_or_default();
    listing.sales = jsobject::string_at(d, "PC_RATING.otherText").and_then(|t| sales_from_text(&t));
    listing
}

/// `{"value": 4.99, "currency": "EUR"}` as a price.
fn amount_price(v: &Value) -> Option<Price> {
    let amount = jsobject::f64_at(v, "value").filter(|a| valid_amount(*a))?;
    Some(Price {
        amount,
        max: None,
        currency: jsobject::string_at(v, "currency")
            .unwrap_or_else(|| DEFAULT_CURRENCY.to_string()),
    })
}

fn valid_amount(a: f64) -> bool {
    a.is_finite() && a > 0.0 && a < MAX_PRICE
}

/// The mobile-site schema: `data.<name>_<n>.fields`, found by name
/// prefix because the numeric suffix changes per build. `None` when no
/// component the parser knows is present.
fn item_from_components(d: &Value, source: &Url) -> Option<Listing> {
    let map = d.as_object()?;
    let title_f = component(map, &["titleBanner_", "title_", "productTitle_"]);
    let price_f = component(map, &["price_", "priceModule_"]);
    let store_f = component(
        map,
        &["storeRecommend_", "storeInfo_", "shopInfo_", "store_"],
    );
    let image_f = component(map, &["imageView_", "image_", "gallery_"]);
    if title_f.is_none() && price_f.is_none() && store_f.is_none() && image_f.is_none() {
        return None;
    }
    let id = map
        .iter()
        .filter(|(k, _)| k.starts_with("root"))
        .find_map(|(_, v)| jsobject::string_at(v, "fields.productId"))
        .or_else(|| {
            map.values()
                .find_map(|v| jsobject::string_at(v, "fields.productId"))
        })
        .unwrap_or_default();
    let mut listing = empty_listing(id, source);
    if let Some(f) = title_f {
        listing.title = ["subject", "title"]
            .iter()
            .find_map(|k| jsobject::string_at(f, k))
            .map(|t| strip_markup(&t))
            .unwrap_or_default();
        listing.sales = trade_count(f);
    }
    listing.price = price_f.and_then(module_price);
    if let Some(f) = store_f {
        listing.seller = store_fields(f, source);
    }
    if let Some(f) = image_f {
        for key in ["imageList", "imagePathList"] {
            if let Some(list) = f.get(key) {
                listing.images = image_list(list, source);
                break;
            }
        }
        if listing.images.is_empty() {
            if let Some(main) = jsobject::string_at(f, "mainImage") {
                listing.images.extend(full_size_image(&main, source));
            }
        }
    }
    Some(listing)
}

fn component<'a>(map: &'a Map<String, Value>, prefixes: &[&str]) -> Option<&'a Value> {
    prefixes.iter().find_map(|p| {
        map.iter()
            .find(|(k, v)| k.starts_with(p) && v.get("fields").is_some())
            .and_then(|(_, v)| v.get("fields"))
    })
}

/// A price module: the activity (sale) price wins over the list price;
/// numeric amounts win over formatted text, which follows the shopper's
/// locale (`€ 97,39 - 128,72`).
fn module_price(m: &Value) -> Option<Price> {
    for (min, max) in [
        ("minActivityAmount", "maxActivityAmount"),
        ("minAmount", "maxAmount"),
    ] {
        if let Some(amount) =
            jsobject::f64_at(m, &format!("{min}.value")).filter(|a| valid_amount(*a))
        {
            let currency = jsobject::string_at(m, &format!("{min}.currency"))
                .unwrap_or_else(|| DEFAULT_CURRENCY.to_string());
            let max = jsobject::f64_at(m, &format!("{max}.value"))
                .filter(|v| *v > amount && valid_amount(*v));
            return Some(Price {
                amount,
                max,
                currency,
            });
        }
    }
    ["formatedActivityPrice", "formatedPrice", "formattedPrice"]
        .iter()
        .filter_map(|k| jsobject::string_at(m, k))
        .find_map(|t| parse_local_price(&t, DEFAULT_CURRENCY))
}

fn store_fields(s: &Value, source: &Url) -> Seller {
    let url = ["storeURL", "storeUrl", "storeLink"]
        .iter()
        .find_map(|k| jsobject::string_at(s, k))
        .and_then(|u| absolute_url(&u, source));
    let id = ["storeNum", "storeId"]
        .iter()
        .find_map(|k| jsobject::string_at(s, k))
        .or_else(|| url.as_deref().and_then(store_id_from_url));
    Seller {
        name: ["storeName", "shopName"]
            .iter()
            .find_map(|k| jsobject::string_at(s, k)),
        id,
        url,
        country: jsobject::string_at(s, "countryCompleteName"),
        years: None,
    }
}

/// "1000+" orders in a title or trade module, shown on the page as
/// "1000+ sold".
fn trade_count(m: &Value) -> Option<crate::model::listing::Sales> {
    let t = ["formatTradeCount", "tradeCount"]
        .iter()
        .find_map(|k| jsobject::string_at(m, k))?;
    let t = if t.bytes().any(|b| b.is_ascii_alphabetic()) {
        t
    } else {
        format!("{t} sold")
    };
    sales_from_text(&t)
}

/// A sales text in the shopper's language: "4,000+ sold",
/// "10.000+ verkauft", "1.000+ vendidos", "5 mil+ vendidos", "1.2k sold",
/// "332 продано". The number is read with locale grouping (`10.000` is
/// ten thousand, not ten).
fn sales_from_text(text: &str) -> Option<crate::model::listing::Sales> {
    let text = collapse_ws(&text.replace('\u{a0}', " "));
    let (value, end) = local_number(&text)?;
    let rest = text[end..].trim_start().to_lowercase();
    let mult = if rest.starts_with('k') || rest.starts_with("mil") || rest.starts_with("тыс") {
        1_000.0
    } else if rest.starts_with('万') {
        10_000.0
    } else {
        1.0
    };
    let n = (value * mult).round();
    (0.0..1e12)
        .contains(&n)
        .then_some(crate::model::listing::Sales {
            count: n as u64,
            kind: SalesKind::Sold,
            text,
        })
}

/// What the markup alone says: the product heading or `og:title` (minus
/// the site's decorations), the id from the canonical link, `og:url`,
/// `itemprop=url` or the app links (`aliexpress://product/detail?productId=`),
/// `og:image`, a rendered price and store, and the gallery.
fn item_from_dom(doc: &Html, source: &Url) -> Option<Listing> {
    let root = doc.root_element();
    let og_title = first_attr(root, &[css!("meta[property='og:title']")], "content")
        .map(|t| clean_og_title(&t))
        .filter(|t| !t.is_empty());
    // A hidden `<h1>Aliexpress</h1>` sits in the header of 2024–26 pages:
    // only a heading that is not the site's name is the product's.
    let heading = || {
        select(root, css!("h1"))
            .into_iter()
            .map(|h| collapse_ws(&h.text().collect::<String>()))
            .find(|t| !t.is_empty() && !t.eq_ignore_ascii_case("aliexpress"))
    };
    let title = first_text(root, &[css!("[data-pl='product-title']")])
        .or(og_title)
        .or_else(heading)?;
    let id = first_attr(root, &[css!("link[rel='canonical']")], "href")
        .and_then(|h| item_id_from_url(&h, source))
        .or_else(|| {
            first_attr(
                root,
                &[
                    css!("meta[property='og:url']"),
                    css!("meta[itemprop='url']"),
                ],
                "content",
            )
            .and_then(|h| item_id_from_url(&h, source))
        })
        .or_else(|| {
            first_attr(
                root,
                &[
                    css!("meta[property='al:android:url']"),
                    css!("meta[property='al:iphone:url']"),
                ],
                "content",
            )
            .and_then(|h| product_id_param(&h))
        })
        .or_else(|| item_id_from_path(source.path()))
        .unwrap_or_default();
    let mut images: Vec<String> = first_attr(root, &[css!("meta[property='og:image']")], "content")
        .and_then(|u| full_size_image(&u, source))
        .into_iter()
        .collect();
    for img in gallery_images(root, source) {
        if !images.contains(&img) {
            images.push(img);
        }
    }
    let mut listing = empty_listing(id, source);
    listing.title = title;
    listing.images = images;
    listing.price = first_text(
        root,
        &[
            css!("[class*='product-price-current']"),
            css!("[class*='price--current']"),
            css!(".product-price-value"),
            css!(".uniform-banner-box-price"),
        ],
    )
    .and_then(|t| parse_local_price(&t, DEFAULT_CURRENCY));
    listing.seller = seller_from_link(root, source);
    Some(listing)
}

/// The product id of an item URL, protocol-relative or not, on any
/// locale host.
fn item_id_from_url(raw: &str, source: &Url) -> Option<String> {
    let abs = absolute_url(raw, source)?;
    item_id_from_path(Url::parse(&abs).ok()?.path())
}

/// `productId=` (or `productIds=1005…:sku`) in a URL's query: the app
/// links of item pages and the bundle-deal links of search cards.
fn product_id_param(raw: &str) -> Option<String> {
    let u = Url::parse(raw.trim()).ok()?;
    let v = u
        .query_pairs()
        .find(|(k, _)| k == "productId" || k == "productIds")?
        .1
        .to_string();
    let id = v.split([':', ',']).next().unwrap_or("").trim().to_string();
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).then_some(id)
}

/// Product photos in the markup: `/kf/` paths on the photo CDNs, which
/// excludes logos, flags and icons.
fn gallery_images(root: ElementRef<'_>, source: &Url) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for img in select(root, css!("img")) {
        if let Some(u) = img_src(img).and_then(|s| full_size_image(&s, source)) {
            if u.contains("/kf/") && !out.contains(&u) {
                out.push(u);
            }
        }
    }
    out
}

fn card_images(card: ElementRef<'_>, source: &Url) -> Vec<String> {
    let mut out = gallery_images(card, source);
    if out.is_empty() {
        out.extend(
            select(card, css!("img"))
                .into_iter()
                .find_map(|i| img_src(i).and_then(|s| full_size_image(&s, source))),
        );
    }
    out
}

/// `og:title` without the site's decorations: the " - AliExpress 21"
/// suffix, and on 2019–2020 builds the price prefix and category suffix
/// (`€97.39 40% OFF|<title>|<category>|   - AliExpress`).
fn clean_og_title(title: &str) -> String {
    let t = strip_site_suffix(title);
    let parts: Vec<&str> = t
        .split('|')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() >= 2
        && parts[0].bytes().any(|b| b.is_ascii_digit())
        && (parts[0].contains('%') || local_currency(parts[0]).is_some())
    {
        return parts[1].to_string();
    }
    t.trim_end_matches('|').trim().to_string()
}

fn strip_site_suffix(title: &str) -> String {
    let t = collapse_ws(title);
    match t.rfind(" - AliExpress") {
        Some(pos)
            if t[pos + " - AliExpress".len()..]
                .trim()
                .bytes()
                .all(|b| b.is_ascii_digit()) =>
        {
            t[..pos].trim().to_string()
        }
        _ => t,
    }
}

fn image_list(v: &Value, source: &Url) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in v.as_array().into_iter().flatten() {
        let raw = match item {
            Value::String(s) => Some(s.clone()),
            other => ["imageUrl", "imgUrl", "url"]
                .iter()
                .find_map(|k| jsobject::string_at(other, k)),
        };
        if let Some(u) = raw.and_then(|r| full_size_image(&r, source)) {
            if !out.contains(&u) {
                out.push(u);
            }
        }
    }
    out
}

/// A listing of an item page with only its id so far.
fn empty_listing(id: String, source: &Url) -> Listing {
    let url = if id.is_empty() {
        String::new()
    } else {
        AliExpress.item_url(&id)
    };
    Listing::new(Platform::AliExpress, url, id, String::new(), source)
}

// ---------------------------------------------------------------- prices

/// The largest price believed: anything above is a parsing accident (a
/// phone number, an order id run into a price) or a hostile page.
const MAX_PRICE: f64 = 10_000_000.0;

/// Currency symbols as AliExpress prints them, longest first so that
/// `US $` wins over `$` and `R$` over `$`. AliExpress never sells in
/// yuan abroad: `¥`/`￥` on its locale sites is the Japanese yen.
const CURRENCY_SYMBOLS: &[(&str, &str)] = &[
    ("US $", "USD"),
    ("US$", "USD"),
    ("CA $", "CAD"),
    ("C$", "CAD"),
    ("AU $", "AUD"),
    ("A$", "AUD"),
    ("NZ$", "NZD"),
    ("MX$", "MXN"),
    ("HK$", "HKD"),
    ("R$", "BRL"),
    ("руб", "RUB"),
    ("₽", "RUB"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("₪", "ILS"),
    ("₩", "KRW"),
    ("₴", "UAH"),
    ("₸", "KZT"),
    ("₺", "TRY"),
    ("₹", "INR"),
    ("zł", "PLN"),
    ("Kč", "CZK"),
    ("¥", "JPY"),
    ("￥", "JPY"),
    ("$", "USD"),
];

/// ISO 4217 codes AliExpress shows in formatted prices (`ARS 1.515,50`,
/// `10.88 GEL`). A run of three capitals is only taken for a currency
/// when it is one of these, so "USB" or "LED" in a title is not one.
const CURRENCY_CODES: &[&str] = &[
    "USD", "EUR", "GBP", "RUB", "BRL", "ARS", "CLP", "COP", "MXN", "PEN", "UYU", "GEL", "AMD",
    "AZN", "BYN", "KZT", "KGS", "UZS", "MDL", "UAH", "ILS", "JPY", "KRW", "PLN", "CZK", "HUF",
    "RON", "BGN", "SEK", "NOK", "DKK", "CHF", "TRY", "INR", "IDR", "THB", "VND", "MYR", "PHP",
    "SGD", "AUD", "NZD", "CAD", "HKD", "TWD", "SAR", "AED", "QAR", "KWD", "MAD", "EGP", "NGN",
    "ZAR", "CNY", "RSD",
];

/// The ISO code a formatted AliExpress price names: an ISO code first
/// (`ARS`, `GEL`), then a symbol (`R$`, `€`, `₪`, `руб.`).
pub(crate) fn local_currency(text: &str) -> Option<&'static str> {
    let mut word = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_uppercase() {
            word.push(c);
            continue;
        }
        if word.len() == 3 {
            if let Some(code) = CURRENCY_CODES.iter().find(|c| **c == word) {
                return Some(code);
            }
        }
        word.clear();
    }
    CURRENCY_SYMBOLS
        .iter()
        .find(|(sym, _)| text.contains(sym))
        .map(|(_, code)| *code)
}

/// Parses a price as a locale formats it: `ARS 1.515,50` (dot thousands,
/// comma decimals), `10.88 GEL`, `€ 12,34`, `R$ 45,90`, `US $4.99`,
/// `1 234,56 руб.`, `CHF 1'234.50`, and ranges (`€ 97,39 - 128,72`).
/// The currency is the one the text names, else `default_currency`.
/// Amounts that are not finite, not positive or absurdly large are
/// refused (`None`).
pub(crate) fn parse_local_price(text: &str, default_currency: &str) -> Option<Price> {
    let text = text.replace('\u{a0}', " ").replace("&nbsp;", " ");
    let currency = local_currency(&text)
        .unwrap_or(default_currency)
        .to_string();
    let (amount, end) = local_number(&text)?;
    let max = text[end..]
        .trim_start()
        .strip_prefix(['-', '~', '–', '—'])
        .and_then(local_number)
        .map(|(v, _)| v)
        .filter(|v| *v > amount && *v < MAX_PRICE);
    (amount.is_finite() && amount > 0.0 && amount < MAX_PRICE).then_some(Price {
        amount,
        max,
        currency,
    })
}

/// The first number in `text` in any locale's grouping, and the byte
/// offset after it. Separators: `.` `,` `'` and spaces between digits.
/// With both `.` and `,` the last one is the decimal mark; a single kind
/// of mark is a thousands separator when it repeats or when exactly three
/// digits follow it (`1.515`, `12,000`), else the decimal mark.
fn local_number(text: &str) -> Option<(f64, usize)> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let mut end = start;
    let mut raw = String::new();
    let mut chars = text[start..].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next_is_digit = chars.peek().is_some_and(|(_, n)| n.is_ascii_digit());
        let mark = matches!(c, '.' | ',');
        // A space groups thousands only before any decimal mark and only
        // ahead of exactly three digits: "1 234,56", not "4.9 332".
        let space = matches!(c, '\'' | ' ' | '\u{202f}' | '\u{2009}')
            && !raw.contains(['.', ','])
            && three_digits_follow(&text[start + i + c.len_utf8()..]);
        if c.is_ascii_digit() || ((mark || space) && next_is_digit) {
            raw.push(c);
            end = start + i + c.len_utf8();
        } else {
            break;
        }
    }
    let raw: String = raw
        .chars()
        .filter(|c| !matches!(c, '\'' | ' ' | '\u{202f}' | '\u{2009}'))
        .collect();
    let last_dot = raw.rfind('.');
    let last_comma = raw.rfind(',');
    let decimal = match (last_dot, last_comma) {
        (Some(d), Some(c)) => Some(if d > c { '.' } else { ',' }),
        (Some(_), None) => decimal_if_single(&raw, '.'),
        (None, Some(_)) => decimal_if_single(&raw, ','),
        (None, None) => None,
    };
    let number: String = raw
        .chars()
        .filter_map(|c| match c {
            d if d.is_ascii_digit() => Some(d),
            m if Some(m) == decimal => Some('.'),
            _ => None,
        })
        .collect();
    number
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(|v| (v, end))
}

fn three_digits_follow(rest: &str) -> bool {
    let b = rest.as_bytes();
    b.len() >= 3
        && b[..3].iter().all(u8::is_ascii_digit)
        && !b.get(3).is_some_and(u8::is_ascii_digit)
}

/// `Some(mark)` when the only kind of mark in `raw` is a decimal mark.
fn decimal_if_single(raw: &str, mark: char) -> Option<char> {
    let count = raw.matches(mark).count();
    let after = raw.rsplit(mark).next().map_or(0, str::len);
    let before = raw.split(mark).next().unwrap_or("");
    let thousands = count > 1 || (after == 3 && !before.is_empty() && before != "0");
    (!thousands).then_some(mark)
}

// --------------------------------------------------------------- helpers

/// How deeply a page's script object may nest before it is refused: real
/// AliExpress blobs nest about 15 levels; a hostile page could nest
/// thousands, and the JSON5 fallback parser recurses once per level.
const MAX_BLOB_DEPTH: usize = 128;

/// The object literal a script assigns after `marker`, parsed; `None`
/// when absent, unparsable or nested deeper than [`MAX_BLOB_DEPTH`].
fn page_blob(html: &str, marker: &str) -> Option<Value> {
    let text = jsobject::object_after(html, marker)?;
    let (mut depth, mut max) = (0usize, 0usize);
    let mut quote: Option<u8> = None;
    let mut escaped = false;
    for &b in text.as_bytes() {
        if let Some(q) = quote {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                _ if b == q => quote = None,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' | b'\'' | b'`' => quote = Some(b),
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    (max <= MAX_BLOB_DEPTH)
        .then(|| jsobject::parse_literal(text))
        .flatten()
}

/// The store id in `//www.aliexpress.com/store/1103456789`.
fn store_id_from_url(u: &str) -> Option<String> {
    let path = Url::parse(u).ok()?.path().to_string();
    let mut segs = path.split('/').filter(|s| !s.is_empty());
    segs.find(|s| *s == "store")?;
    segs.next()
        .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marketplaces::dom::test_url as u;

    #[test]
    fn page_kind_comes_from_the_path_even_under_a_prefix() {
        let ae = AliExpress;
        assert_eq!(
            ae.page_kind(&u("https://www.aliexpress.com/item/1005006123456789.html")),
            PageKind::Item
        );
        assert_eq!(
            ae.page_kind(&u(
                "http://127.0.0.1:8080/aliexpress/item/1005006123456789.html"
            )),
            PageKind::Item
        );
        assert_eq!(
            ae.page_kind(&u(
                "https://www.aliexpress.com/w/wholesale-aurora.html?page=2"
            )),
            PageKind::Search
        );
        assert_eq!(
            ae.page_kind(&u("https://www.aliexpress.com/item/not-a-number.html")),
            PageKind::Search
        );
    }

    #[test]
    fn search_url_keeps_prefix_and_slugs_the_term() {
        let ae = AliExpress;
        let s = ae.search_url(&u("https://www.aliexpress.com"), "Aurora  Espresso Cup", 2);
        assert_eq!(
            s.as_str(),
            "https://www.aliexpress.com/w/wholesale-aurora-espresso-cup.html?page=2"
        );
        let s = ae.search_url(&u("http://127.0.0.1:8080/aliexpress/"), "aurora", 1);
        assert_eq!(
            s.as_str(),
            "http://127.0.0.1:8080/aliexpress/w/wholesale-aurora.html?page=1"
        );
        let s = ae.search_url(&u("https://www.aliexpress.com/"), "奥罗拉 1:1", 1);
        assert_eq!(
            s.as_str(),
            "https://www.aliexpress.com/w/wholesale-%E5%A5%A5%E7%BD%97%E6%8B%89-1-1.html?page=1"
        );
    }

    #[test]
    fn og_title_suffix_is_removed_only_when_it_is_the_site_name() {
        assert_eq!(strip_site_suffix("Cup - AliExpress 21"), "Cup");
        assert_eq!(strip_site_suffix("Cup - AliExpress"), "Cup");
        assert_eq!(
            strip_site_suffix("Cup - AliExpress Edition Box"),
            "Cup - AliExpress Edition Box"
        );
    }

    #[test]
    fn store_ids_come_from_store_urls() {
        assert_eq!(
            store_id_from_url("https://www.aliexpress.com/store/1103456789").as_deref(),
            Some("1103456789")
        );
        assert_eq!(
            store_id_from_url("https://www.aliexpress.com/item/1.html"),
            None
        );
    }

    #[test]
    fn locale_formatted_prices_defer_to_numbers() {
        let item: Value = serde_json::json!({"prices":{"salePrice":
            {"currencyCode":"EUR","minPrice":4.99,"formattedPrice":"4,99 €"}}});
        let p = search_item_price(&item).unwrap();
        assert_eq!((p.amount, p.currency.as_str()), (4.99, "EUR"));
    }

    #[test]
    fn a_card_without_json_is_parsed_from_hashed_classes() {
        let html = r#"<html><body><div class="list--gallery--C2f2tvm">
          <a class="multi--container--1UZxxHY" href="//www.aliexpress.com/item/1005000000000001.html?algo_pvid=x">
            <img src="//ae01.alicdn.com/kf/Sx1.jpg_220x220.jpg_.webp">
            <div class="multi--title--G7dOCj3" title="Aurora Mug"><h3 class="multi--titleText--abc">Aurora Mug</h3></div>
            <div class="multi--price-sale--U-S0jtj"><span>US $</span><span>3</span><span>.</span><span>10</span></div>
            <span class="multi--trade--Ktbl2jB">12 sold</span>
          </a>
          <a href="//www.aliexpress.com/store/42"><span>Mug Shop</span></a>
        </div></body></html>"#;
        let src = u("https://www.aliexpress.com/w/wholesale-aurora.html?page=1");
        let out = AliExpress.parse(&src, html);
        let l = &out.listings()[0];
        assert_eq!(l.id, "1005000000000001");
        assert_eq!(
            l.url,
            "https://www.aliexpress.com/item/1005000000000001.html"
        );
        assert_eq!(l.title, "Aurora Mug");
        assert_eq!(l.price.as_ref().unwrap().amount, 3.10);
        assert_eq!(l.images, vec!["https://ae01.alicdn.com/kf/Sx1.jpg"]);
        assert_eq!(l.sales.as_ref().unwrap().count, 12);
    }

    #[test]
    fn local_prices_read_grouping_and_currency() {
        let cases: &[(&str, f64, Option<f64>, &str)] = &[
            ("ARS 1.515,50", 1515.5, None, "ARS"),
            ("10.88\u{a0}GEL", 10.88, None, "GEL"),
            ("10.88&nbsp;GEL", 10.88, None, "GEL"),
            ("€ 12,34", 12.34, None, "EUR"),
            ("R$ 45,90", 45.9, None, "BRL"),
            ("US $4.99", 4.99, None, "USD"),
            ("₪ 1,234.50", 1234.5, None, "ILS"),
            ("1 234,56 руб.", 1234.56, None, "RUB"),
            ("2 599 ₽", 2599.0, None, "RUB"),
            ("€ 97,39 - 128,72", 97.39, Some(128.72), "EUR"),
            ("US $1.23 - 4.56", 1.23, Some(4.56), "USD"),
            ("CHF 1'234.50", 1234.5, None, "CHF"),
            ("￥1,280", 1280.0, None, "JPY"),
            ("$0.99", 0.99, None, "USD"),
        ];
        for (text, amount, max, currency) in cases {
            let p = parse_local_price(text, "USD").unwrap_or_else(|| panic!("{text}"));
            assert_eq!(
                (p.amount, p.max, p.currency.as_str()),
                (*amount, *max, *currency),
                "{text}"
            );
        }
    }

    #[test]
    fn hostile_prices_are_refused() {
        for text in ["US $0", "€ 0,00", "US $99999999999", "free", "", "US $-"] {
            assert!(parse_local_price(text, "USD").is_none(), "{text}");
        }
        let item =
            serde_json::json!({"prices":{"salePrice":{"minPrice":-3.0,"formattedPrice":"x"}}});
        assert!(search_item_price(&item).is_none());
        let m = serde_json::json!({"minAmount":{"value":1e300,"currency":"USD"}});
        assert!(module_price(&m).is_none());
    }

    #[test]
    fn sales_read_locale_grouping() {
        for (text, n) in [
            ("4,000+ sold", 4000),
            ("10.000+ verkauft", 10000),
            ("1.000+ vendidos", 1000),
            ("5 mil+ vendidos", 5000),
            ("1.2k sold", 1200),
            ("332 sold", 332),
        ] {
            assert_eq!(sales_from_text(text).map(|s| s.count), Some(n), "{text}");
        }
    }

    #[test]
    fn ids_come_from_app_links_and_old_slug_paths() {
        assert_eq!(
            product_id_param("aliexpress://product/detail?productId=1005006180026951&fbsrc=x")
                .as_deref(),
            Some("1005006180026951")
        );
        assert_eq!(
            product_id_param(
                "https://www.aliexpress.com/ssr/300000512/BundleDeals2?productIds=1005009116551268:12000047975720208"
            )
            .as_deref(),
            Some("1005009116551268")
        );
        assert_eq!(
            item_id_from_path("/item/Aurora-Cup-Set/32812345678.html").as_deref(),
            Some("32812345678")
        );
        // Only the app link names the product: the page URL is a short link.
        let html = r#"<html><head>
            <meta property="og:title" content="Aurora Cup - AliExpress 21">
            <meta property="al:android:url" content="aliexpress://product/detail?productId=1005000000000777&amp;fbsrc=a">
            </head><body><h1>Aliexpress</h1></body></html>"#;
        let l = item_from_dom(
            &Html::parse_document(html),
            &u("https://a.aliexpress.com/_mKxyz"),
        )
        .unwrap();
        assert_eq!(
            (l.id.as_str(), l.title.as_str()),
            ("1005000000000777", "Aurora Cup")
        );
    }

    #[test]
    fn og_title_decorations_are_removed() {
        assert_eq!(
            clean_og_title("€97.39 40% OFF|Aurora Cup Set|Cups|   - AliExpress"),
            "Aurora Cup Set"
        );
        assert_eq!(
            clean_og_title("Aurora | Cup - AliExpress 509"),
            "Aurora | Cup"
        );
    }

    #[test]
    fn deeply_nested_blobs_are_refused_without_recursing() {
        let deep = format!(
            "<script>window.runParams = {{a:{}1{}}};</script>",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(page_blob(&deep, RUN_PARAMS_BLOB).is_none());
        let out = AliExpress.parse(&u("https://www.aliexpress.com/w/wholesale-x.html"), &deep);
        assert!(matches!(out, PageOutcome::Drift { .. }));
        let ok = "<script>window.runParams = {a: ['x]', {b: \"}\"}]};</script>";
        assert!(page_blob(ok, RUN_PARAMS_BLOB).is_some());
    }

    #[test]
    fn an_empty_item_list_is_a_real_no_results_page() {
        let html = r#"<script>window.runParams = {"mods":{"itemList":{"content":[]}},"resultCount":0};</script>"#;
        let out = AliExpress.parse(&u("https://www.aliexpress.com/w/wholesale-zzzz.html"), html);
        assert!(
            matches!(out, PageOutcome::Ok { ref listings, total: Some(0), .. } if listings.is_empty())
        );
    }

    #[test]
    fn an_item_page_without_data_or_title_is_drift() {
        let out = AliExpress.parse(
            &u("https://www.aliexpress.com/item/1005000000000001.html"),
            "<html><head></head><body><div id=root></div></body></html>",
        );
        assert!(matches!(
            out,
            PageOutcome::Drift {
                page: PageKind::Item,
                ..
            }
        ));
    }
}
