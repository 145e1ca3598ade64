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

use super::text::{absolute_url, collapse_ws, parse_price, parse_sales, strip_markup};
use super::{block, check_coverage, jsobject, Marketplace, PageKind, PageOutcome};
use crate::listing::{Listing, Platform, Price, SalesKind, Seller};
use scraper::{ElementRef, Html, Selector};
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
    fn page_kind(&self, url: &Url) -> PageKind {
        if item_id_from_path(url.path()).is_some() {
            PageKind::Item
        } else {
            PageKind::Search
        }
    }

    fn parse(&self, url: &Url, html: &str) -> PageOutcome {
        // parse_page checks this too; checking here keeps `parse` honest
        // when it is called on its own.
        if let Some(hit) = block::detect(url, html) {
            return PageOutcome::Blocked {
                platform: Platform::AliExpress,
                url: url.to_string(),
                marker: hit.marker.to_string(),
                reason: hit.reason.to_string(),
            };
        }
        match self.page_kind(url) {
            PageKind::Search => parse_search(url, html),
            PageKind::Item => parse_item(url, html),
        }
    }

    /// `{base}/w/wholesale-{slug}.html?page={n}`, as the site's own search
    /// box produces (the slug is the term, lower-cased, words joined by
    /// dashes).
    fn search_url(&self, base: &Url, term: &str, page: u32) -> Url {
        let mut u = base.clone();
        let prefix = base.path().trim_end_matches('/').to_string();
        u.set_path(&format!("{prefix}/w/wholesale-{}.html", slug(term)));
        u.set_query(Some(&format!("page={}", page.max(1))));
        u.set_fragment(None);
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
/// `/i/1005006123456789.html`, possibly under a prefix.
fn item_id_from_path(path: &str) -> Option<String> {
    let file = path.rsplit('/').next()?;
    let parent = path.trim_end_matches(file).trim_end_matches('/');
    let dir = parent.rsplit('/').next()?;
    if dir != "item" && dir != "i" {
        return None;
    }
    let id = file.strip_suffix(".html").unwrap_or(file);
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).then(|| id.to_string())
}

// ---------------------------------------------------------------- search

fn parse_search(url: &Url, html: &str) -> PageOutcome {
    let (json, total) = search_json(html);
    let doc = Html::parse_document(html);
    let cards = search_cards(&doc, url);

    let listings = match json {
        Some(items) => {
            let mut listings: Vec<Listing> = items
                .iter()
                .filter_map(|item| listing_from_search_item(item, url))
                .collect();
            merge_cards(&mut listings, cards);
            listings
        }
        None if !cards.is_empty() => cards,
        None => {
            return PageOutcome::Drift {
                platform: Platform::AliExpress,
                url: url.to_string(),
                page: PageKind::Search,
                missing: vec![
                    "mods.itemList.content (_init_data_ or runParams)".to_string(),
                    "product cards (a[href*=/item/])".to_string(),
                ],
                detail: "search page has neither the item-list JSON nor rendered product cards"
                    .to_string(),
            };
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
        let Some(blob) = jsobject::value_after(html, marker) else {
            continue;
        };
        let items = paths
            .iter()
            .find_map(|p| jsobject::at(&blob, p).and_then(Value::as_array));
        if let Some(items) = items {
            let total = TOTAL_PATHS
                .iter()
                .find_map(|p| jsobject::f64_at(&blob, p))
                .filter(|t| *t >= 0.0)
                .map(|t| t as u64);
            return (Some(items.clone()), total);
        }
    }
    (None, None)
}

/// One `itemList.content[]` entry as a listing. Entries without a product
/// id (banners, "related searches" tiles) are skipped.
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
        .and_then(|t| parse_sales(&t, SalesKind::Sold));
    let sponsored =
        jsobject::string_at(item, "productType").is_some_and(|t| t.eq_ignore_ascii_case("ad"));
    Some(finish(Listing {
        platform: Platform::AliExpress,
        url: AliExpress.item_url(&id),
        id,
        title,
        price,
        seller,
        images,
        moq: None,
        sales,
        location: None,
        sponsored,
        source_url: source.to_string(),
        missing: Vec::new(),
    }))
}

/// `prices.salePrice`: the numeric `minPrice` (with `currencyCode`) is
/// preferred over `formattedPrice`, whose decimal separator follows the
/// shopper's locale ("4,99 €").
fn search_item_price(item: &Value) -> Option<Price> {
    for base in ["prices.salePrice", "prices.originalPrice", "salePrice"] {
        let Some(sale) = jsobject::at(item, base) else {
            continue;
        };
        if let Some(text) = sale.as_str() {
            if let Some(p) = parse_price(text, DEFAULT_CURRENCY) {
                return Some(p);
            }
            continue;
        }
        let code = jsobject::string_at(sale, "currencyCode");
        if let Some(amount) = jsobject::f64_at(sale, "minPrice") {
            let max = jsobject::f64_at(sale, "maxPrice").filter(|m| *m > amount);
            let currency = code
                .or_else(|| {
                    jsobject::string_at(sale, "formattedPrice")
                        .and_then(|f| super::text::currency_of(&f).map(str::to_string))
                })
                .unwrap_or_else(|| DEFAULT_CURRENCY.to_string());
            return Some(Price {
                amount,
                max,
                currency,
            });
        }
        if let Some(text) = jsobject::string_at(sale, "formattedPrice") {
            if let Some(mut p) = parse_price(&text, DEFAULT_CURRENCY) {
                if let Some(code) = code {
                    p.currency = code;
                }
                return Some(p);
            }
        }
    }
    None
}

/// Rendered search cards. A card is the largest element around an
/// `/item/<id>.html` link that holds no other item's link, so it works
/// whether the whole card is the link (2023–26) or only its title is.
fn search_cards(doc: &Html, source: &Url) -> Vec<Listing> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for link in select(doc.root_element(), "a[href]") {
        let Some(id) = link
            .value()
            .attr("href")
            .and_then(|h| absolute_url(h, source))
            .and_then(|h| Url::parse(&h).ok())
            .and_then(|u| item_id_from_path(u.path()))
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
        let ids: HashSet<String> = select(ancestor, "a[href]")
            .into_iter()
            .filter_map(|a| {
                a.value()
                    .attr("href")
                    .and_then(|h| absolute_url(h, source))
                    .and_then(|h| Url::parse(&h).ok())
                    .and_then(|u| item_id_from_path(u.path()))
            })
            .collect();
        if ids.len() > 1 || !ids.contains(id) || ancestor.value().name() == "body" {
            break;
        }
        card = ancestor;
    }
    card
}

fn listing_from_card(
    card: ElementRef<'_>,
    link: ElementRef<'_>,
    id: String,
    source: &Url,
) -> Listing {
    let title = first_text(card, &["[class*='--titleText--']", "h3", "h1", "h2"])
        .or_else(|| first_attr(card, &["[class*='--title--'][title]"], "title"))
        .or_else(|| link.value().attr("title").map(collapse_ws))
        .or_else(|| first_attr(card, &["img[alt]"], "alt"))
        .unwrap_or_default();
    let price = first_attr(
        card,
        &[
            "[class*='price-sale'][aria-label]",
            "[class*='price-current'][aria-label]",
        ],
        "aria-label",
    )
    .or_else(|| {
        first_text(
            card,
            &[
                "[class*='price-sale']",
                "[class*='price-current']",
                "[class*='--price--']",
                "[class*='price']",
            ],
        )
    })
    .map(|t| t.replace(' ', ""))
    .and_then(|t| parse_price(&t, DEFAULT_CURRENCY));
    let store_link = select(card, "a[href*='/store/']").into_iter().next();
    let store_url = store_link
        .and_then(|a| a.value().attr("href"))
        .and_then(|h| absolute_url(h, source));
    let seller = Seller {
        name: store_link
            .map(|a| collapse_ws(&a.text().collect::<String>()))
            .filter(|n| !n.is_empty()),
        id: store_url.as_deref().and_then(store_id_from_url),
        url: store_url,
        ..Seller::default()
    };
    let images = card_images(card, source).into_iter().take(1).collect();
    let sales = select(card, "span, div")
        .into_iter()
        .map(|e| collapse_ws(&e.text().collect::<String>()))
        .find(|t| t.len() < 40 && t.to_ascii_lowercase().ends_with(" sold"))
        .and_then(|t| parse_sales(&t, SalesKind::Sold));
    let sponsored = link
        .value()
        .attr("href")
        .is_some_and(|h| h.contains("aem_p4p_click"))
        || !select(card, "[class*='--ad--']").is_empty();
    finish(Listing {
        platform: Platform::AliExpress,
        url: AliExpress.item_url(&id),
        id,
        title,
        price,
        seller,
        images,
        moq: None,
        sales,
        location: None,
        sponsored,
        source_url: source.to_string(),
        missing: Vec::new(),
    })
}

/// JSON listings win; a rendered card fills what its JSON entry lacks,
/// and cards the JSON does not list are kept.
fn merge_cards(listings: &mut Vec<Listing>, cards: Vec<Listing>) {
    for card in cards {
        match listings.iter_mut().find(|l| l.id == card.id) {
            Some(l) => l.merge_from(&card),
            None => listings.push(card),
        }
    }
}

// ------------------------------------------------------------------ item

fn parse_item(url: &Url, html: &str) -> PageOutcome {
    let doc = Html::parse_document(html);
    let url_id = item_id_from_path(url.path());
    let data = jsobject::value_after(html, RUN_PARAMS_BLOB).map(|v| match v.get("data") {
        Some(d) if d.is_object() => d.clone(),
        _ => v,
    });
    let from_json = data.as_ref().and_then(|d| {
        if d.get("titleModule").is_some() || d.get("priceModule").is_some() {
            Some(item_from_modules(d, url))
        } else {
            item_from_components(d, url)
        }
    });
    let from_dom = item_from_dom(&doc, url);

    let mut listing = match (from_json, from_dom) {
        (Some(mut j), Some(d)) => {
            if j.id.is_empty() {
                j.id = d.id.clone();
            }
            j.merge_from(&d);
            j
        }
        (Some(j), None) => j,
        (None, Some(d)) => d,
        (None, None) => {
            return PageOutcome::Drift {
                platform: Platform::AliExpress,
                url: url.to_string(),
                page: PageKind::Item,
                missing: vec![
                    "runParams.data".to_string(),
                    "og:title".to_string(),
                    "title".to_string(),
                ],
                detail: "item page has neither runParams data nor a title".to_string(),
            };
        }
    };
    if listing.id.is_empty() {
        match url_id {
            Some(id) => listing.id = id,
            None => {
                return PageOutcome::Drift {
                    platform: Platform::AliExpress,
                    url: url.to_string(),
                    page: PageKind::Item,
                    missing: vec!["productId".to_string()],
                    detail: "item page names no product id (URL, canonical link or JSON)"
                        .to_string(),
                };
            }
        }
    }
    if listing.title.trim().is_empty() {
        return PageOutcome::Drift {
            platform: Platform::AliExpress,
            url: url.to_string(),
            page: PageKind::Item,
            missing: vec!["title".to_string()],
            detail: format!("item {} has no title in JSON or markup", listing.id),
        };
    }
    listing.url = AliExpress.item_url(&listing.id);
    let listing = finish(listing);
    PageOutcome::Ok {
        platform: Platform::AliExpress,
        page: PageKind::Item,
        listings: vec![listing],
        total: None,
    }
}

/// Server-rendered item data (≤2022): `titleModule`, `priceModule`,
/// `storeModule`, `imageModule`, `pageModule`.
fn item_from_modules(d: &Value, source: &Url) -> Listing {
    let id = [
        "pageModule.productId",
        "actionModule.productId",
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

/// The newer component schema: `data.<name>_<n>.fields`, found by name
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
/// numeric amounts win over formatted text.
fn module_price(m: &Value) -> Option<Price> {
    for (min, max) in [
        ("minActivityAmount", "maxActivityAmount"),
        ("minAmount", "maxAmount"),
    ] {
        if let Some(amount) = jsobject::f64_at(m, &format!("{min}.value")) {
            let currency = jsobject::string_at(m, &format!("{min}.currency"))
                .unwrap_or_else(|| DEFAULT_CURRENCY.to_string());
            let max = jsobject::f64_at(m, &format!("{max}.value")).filter(|v| *v > amount);
            return Some(Price {
                amount,
                max,
                currency,
            });
        }
    }
    ["formatedActivityPrice", "formatedPrice", "formattedPrice"]
        .iter()
        .find_map(|k| jsobject::string_at(m, k))
        .and_then(|t| parse_price(&t, DEFAULT_CURRENCY))
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

/// "1000+" orders in a title module, shown on the page as "1000+ sold".
fn trade_count(m: &Value) -> Option<crate::listing::Sales> {
    ["formatTradeCount", "tradeCount"]
        .iter()
        .find_map(|k| jsobject::string_at(m, k))
        .and_then(|t| parse_sales(&format!("{t} sold"), SalesKind::Sold))
}

/// What the markup alone says: `og:title` (minus the " - AliExpress 21"
/// suffix) or the `h1`, the canonical link, `og:image` and the gallery.
fn item_from_dom(doc: &Html, source: &Url) -> Option<Listing> {
    let root = doc.root_element();
    let title = first_text(root, &["h1"]).or_else(|| {
        first_attr(root, &["meta[property='og:title']"], "content").map(|t| strip_site_suffix(&t))
    })?;
    let id = first_attr(
        root,
        &["link[rel='canonical']", "meta[property='og:url']"],
        "href",
    )
    .or_else(|| first_attr(root, &["meta[property='og:url']"], "content"))
    .and_then(|h| absolute_url(&h, source))
    .and_then(|h| Url::parse(&h).ok())
    .and_then(|u| item_id_from_path(u.path()))
    .or_else(|| item_id_from_path(source.path()))
    .unwrap_or_default();
    let mut images: Vec<String> = first_attr(root, &["meta[property='og:image']"], "content")
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
    Some(listing)
}

/// Product photos in the markup: `/kf/` paths on the photo CDNs, which
/// excludes logos, flags and icons.
fn gallery_images(root: ElementRef<'_>, source: &Url) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for img in select(root, "img") {
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
            select(card, "img")
                .into_iter()
                .find_map(|i| img_src(i).and_then(|s| full_size_image(&s, source))),
        );
    }
    out
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

fn empty_listing(id: String, source: &Url) -> Listing {
    Listing {
        platform: Platform::AliExpress,
        url: if id.is_empty() {
            String::new()
        } else {
            AliExpress.item_url(&id)
        },
        id,
        title: String::new(),
        price: None,
        seller: Seller::default(),
        images: Vec::new(),
        moq: None,
        sales: None,
        location: None,
        sponsored: false,
        source_url: source.to_string(),
        missing: Vec::new(),
    }
}

/// Names the fields this listing's page did not carry.
fn finish(mut l: Listing) -> Listing {
    l.missing = missing_fields(&l);
    l
}

/// The fields of a listing that are absent: `price`, `seller`, `images`,
/// `title`. Shared with the Alibaba.com parser.
pub(crate) fn missing_fields(l: &Listing) -> Vec<String> {
    let mut m = Vec::new();
    if l.title.trim().is_empty() {
        m.push("title".to_string());
    }
    if l.price.is_none() {
        m.push("price".to_string());
    }
    if l.seller.name.is_none() && l.seller.id.is_none() {
        m.push("seller".to_string());
    }
    if l.images.is_empty() {
        m.push("images".to_string());
    }
    m
}

// --------------------------------------------------------------- helpers

/// The store id in `//www.aliexpress.com/store/1103456789`.
fn store_id_from_url(u: &str) -> Option<String> {
    let path = Url::parse(u).ok()?.path().to_string();
    let mut segs = path.split('/').filter(|s| !s.is_empty());
    segs.find(|s| *s == "store")?;
    segs.next()
        .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_string)
}

/// An absolute photo URL without the CDN's resize/format suffix:
/// `//ae01.alicdn.com/kf/Sab.jpg_220x220.jpg_.webp` →
/// `https://ae01.alicdn.com/kf/Sab.jpg`. Only `/kf/` paths are rewritten;
/// other URLs are only made absolute. Shared with the Alibaba.com parser.
pub(crate) fn full_size_image(raw: &str, base: &Url) -> Option<String> {
    let abs = absolute_url(raw, base)?;
    let Some(kf) = abs.find("/kf/") else {
        return Some(abs);
    };
    let tail = &abs[kf..];
    let lower = tail.to_ascii_lowercase();
    let cut = [".jpg_", ".jpeg_", ".png_", ".webp_", ".gif_", ".avif_"]
        .iter()
        .filter_map(|ext| lower.find(ext).map(|p| p + ext.len() - 1))
        .min();
    Some(match cut {
        Some(c) => abs[..kf + c].to_string(),
        None => abs,
    })
}

/// The photo URL of an `img`, including lazy-loading attributes.
pub(crate) fn img_src(img: ElementRef<'_>) -> Option<String> {
    [
        "src",
        "data-src",
        "data-lazy-src",
        "data-original",
        "image-src",
    ]
    .iter()
    .filter_map(|a| img.value().attr(a))
    .map(str::trim)
    .find(|s| !s.is_empty() && !s.starts_with("data:"))
    .map(str::to_string)
}

/// Elements under `el` matching `css`; an unparsable selector matches
/// nothing (selectors here are literals, so that never happens at run
/// time, and a parser must not panic).
pub(crate) fn select<'a>(el: ElementRef<'a>, css: &str) -> Vec<ElementRef<'a>> {
    match Selector::parse(css) {
        Ok(s) => el.select(&s).collect(),
        Err(_) => Vec::new(),
    }
}

/// The collapsed text of the first non-empty element matching any of `css`.
pub(crate) fn first_text(el: ElementRef<'_>, css: &[&str]) -> Option<String> {
    css.iter().find_map(|c| {
        select(el, c)
            .into_iter()
            .map(|e| collapse_ws(&e.text().collect::<String>()))
            .find(|t| !t.is_empty())
    })
}

/// The first non-empty `attr` of an element matching any of `css`.
pub(crate) fn first_attr(el: ElementRef<'_>, css: &[&str], attr: &str) -> Option<String> {
    css.iter().find_map(|c| {
        select(el, c)
            .into_iter()
            .filter_map(|e| e.value().attr(attr))
            .map(collapse_ws)
            .find(|t| !t.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

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
    fn photo_urls_lose_size_suffixes() {
        let base = u("https://www.aliexpress.com/");
        assert_eq!(
            full_size_image("//ae01.alicdn.com/kf/Sab12.jpg_220x220.jpg_.webp", &base).unwrap(),
            "https://ae01.alicdn.com/kf/Sab12.jpg"
        );
        assert_eq!(
            full_size_image("//s.alicdn.com/@sc04/kf/Hx.png_80x80.jpg", &base).unwrap(),
            "https://s.alicdn.com/@sc04/kf/Hx.png"
        );
        assert_eq!(
            full_size_image("https://ae01.alicdn.com/kf/Sab12.webp", &base).unwrap(),
            "https://ae01.alicdn.com/kf/Sab12.webp"
        );
        assert!(full_size_image("", &base).is_none());
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
