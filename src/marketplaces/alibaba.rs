//! Alibaba.com parser (B2B): search pages and product pages, 2018–2026.
//!
//! Search pages keep the full offer list as page JSON and render only
//! some offers as cards (8 of ~29 on a real capture), so the JSON is read
//! first, then the rendered cards (a browser-saved page holds the DOM after
//! scripts ran), then the server cards; cards fill what the JSON lacks or
//! add offers it does not list (top sponsored cards come from another feed).
//! The JSON moved over the years:
//! - 2018–2022: `window.__page__data__config = {props: {offerResultData:
//!   {offerList: [{information, tradePrice, supplier, image}]}}}`;
//! - 2023–2026: `window.__page__data_sse10._offer_list = {offerResultData:
//!   {offers: [{productId, title, price, moq, companyName, …}], totalCount}}`
//!   (flat offers; some builds assign the whole `window.__page__data_sse10`).
//!
//! Cards: `div.J-offer-wrapper` (2018–2022), `.fy23-search-card` /
//! `.searchx-offer-item` (2023–2026).
//!
//! Product pages: `window.detailData = {globalData: {product, seller,
//! trade}}` first, then the DOM: `.product-title-container h1`, tiered
//! prices under `[data-module-name=module_price] .price-item` ("300 - 1000
//! pairs" + "GH₵80.51": the visitor's currency, not always dollars),
//! `.company-name`, `.company-life` ("6 yrs"), `.register-country`, and the
//! photos of `module_productImage` (thumbnails are CSS backgrounds).
//!
//! B2B specifics: prices are ranges, every offer has a minimum order, and
//! the supplier shows its years on the platform and its country. A
//! supplier's id is the sub-domain of its mini-site
//! (`shengdatrade.en.alibaba.com`), the only stable handle a search page
//! gives.
//!
//! Listing URLs are `https://www.alibaba.com/product-detail/<slug>_<id>.html`
//! from the offer's own link with tracking parameters (`spm`) dropped; with
//! no usable link the slug is left empty, which the site accepts.
//!
//! The end of this module holds small helpers shared with the 1688 parser
//! (the other B2B site): bounded JSON search, prices with currency symbols,
//! full-size photo URLs.

use super::dom::{
    css, drift, finish, first_attr, first_text, full_size_image, img_src, item_page, no_results,
    select, text_of,
};
use super::text::{
    absolute_url, collapse_ws, currency_of, first_number, parse_price, strip_markup, url_under,
};
use super::{check_coverage, jsobject, Marketplace, PageKind, PageOutcome, Readers};
use crate::model::listing::{Listing, Moq, Platform, Price, Sales, SalesKind, Seller};
use scraper::{ElementRef, Html};
use serde_json::Value;
use std::collections::HashSet;
use url::Url;

/// Canonical product URL host.
const SITE: &str = "https://www.alibaba.com";
/// The script variable holding search results, 2018–2022.
const PAGE_DATA_BLOB: &str = "window.__page__data__config";
/// Where the offer array sits in that object, newest first.
const OFFER_LIST_PATHS: &[&str] = &[
    "props.offerResultData.offerList",
    "offerResultData.offerList",
];
/// The 2023–2026 search data, most specific assignment first.
const SSE_BLOBS: &[&str] = &[
    "window.__page__data_sse10._offer_list",
    "window.__page__data_sse10",
];
/// Alibaba.com quotes FOB prices in USD unless it says otherwise.
const DEFAULT_CURRENCY: &str = "USD";

/// The Alibaba.com parser.
pub struct Alibaba;

impl Marketplace for Alibaba {
    fn platform(&self) -> Platform {
        Platform::Alibaba
    }

    /// `/product-detail/…_<id>.html` is a product page; search lives under
    /// `/trade/search` (and `/showroom/…`, `/premium/…`, `/countrysearch/…`,
    /// `/catalog/…`). A path prefix is allowed.
    fn is_item_page(&self, url: &Url) -> bool {
        url.path().contains("/product-detail/") || url.path().contains("/p-detail/")
    }

    fn readers(&self) -> Readers {
        Readers {
            search: parse_search,
            item: parse_product,
        }
    }

    /// `{base}/trade/search?SearchText={term}&page={n}`.
    fn search_url(&self, base: &Url, term: &str, page: u32) -> Url {
        let mut u = url_under(base, "trade/search");
        u.query_pairs_mut()
            .append_pair("SearchText", term.trim())
            .append_pair("page", &page.max(1).to_string());
        u
    }

    /// The product URL with an empty slug (`/product-detail/_<id>.html`);
    /// listings carry the slugged URL from the page where they have one.
    fn item_url(&self, id: &str) -> String {
        format!("{SITE}/product-detail/_{}.html", id.trim())
    }
}

/// The offer id at the end of a product path: `…/Some-Slug_1600123456789.html`.
fn id_from_product_path(path: &str) -> Option<String> {
    let file = path.rsplit('/').next()?.strip_suffix(".html")?;
    let id = file.rsplit('_').next()?;
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).then(|| id.to_string())
}

/// The offer id named by a product link, if it is one.
fn id_from_link(link: &str, source: &Url) -> Option<String> {
    let abs = absolute_url(link, source)?;
    id_from_product_path(Url::parse(&abs).ok()?.path())
}

/// The canonical product URL: the offer's own link made absolute, without
/// query or fragment, if it ends in `_<id>.html`; else built from the id.
fn product_url(link: Option<&str>, id: &str, source: &Url) -> String {
    link.and_then(|l| absolute_url(l, source))
        .and_then(|l| Url::parse(&l).ok())
        .filter(|u| id_from_product_path(u.path()).as_deref() == Some(id))
        .map(|mut u| {
            u.set_query(None);
            u.set_fragment(None);
            // Links on a loopback mock keep their host; real ones are https.
            u.to_string()
        })
        .unwrap_or_else(|| Alibaba.item_url(id))
}

/// A supplier's mini-site sub-domain: `shengdatrade` in
/// `//shengdatrade.en.alibaba.com/company_profile.html` (also the mobile
/// `m.en.` and the older `trustpass.` hosts... only `.en.` names a
/// stable sub-domain).
fn supplier_id(href: &str) -> Option<String> {
    let host = Url::parse(href).ok()?.host_str()?.to_ascii_lowercase();
    let sub = host
        .strip_suffix(".en.alibaba.com")
        .map(|s| s.strip_suffix(".m").unwrap_or(s))?;
    (!sub.is_empty() && !sub.contains('.')).then(|| sub.to_string())
}

/// A supplier link without its tracking query (`?from=detail&productId=…`)
/// and `#top-nav-bar` fragment.
fn supplier_url(href: &str, source: &Url) -> Option<String> {
    let abs = absolute_url(href, source)?;
    Some(match Url::parse(&abs) {
        Ok(mut u) => {
            u.set_fragment(None);
            u.set_query(None);
            u.to_string()
        }
        Err(_) => abs,
    })
}

/// "3 yrs", "3", "11 YRS" → years.
fn years(text: &str) -> Option<u32> {
    let (n, _) = first_number(text)?;
    (0.0..200.0).contains(&n).then_some(n as u32)
}

// ---------------------------------------------------------------- search

fn parse_search(url: &Url, html: &str) -> PageOutcome {
    let (mut listings, total) = json_offers(html, url);
    let doc = Html::parse_document(html);
    // JSON listings win; a rendered card fills what its JSON entry
    // lacks, and cards the JSON does not list are kept.
    super::merge_cards(&mut listings, search_cards(&doc, url));
    if listings.is_empty() {
        if says_no_results(html) || total == Some(0) {
            return no_results(Platform::Alibaba);
        }
        return drift(
            Platform::Alibaba,
            url,
            PageKind::Search,
            vec![
                "props.offerResultData.offerList (window.__page__data__config)".to_string(),
                "offerResultData.offers (window.__page__data_sse10._offer_list)".to_string(),
                "offer cards (.fy23-search-card, .searchx-offer-item, div.J-offer-wrapper)"
                    .to_string(),
            ],
            "search page has neither offer JSON nor rendered offer cards".to_string(),
        );
    }
    check_coverage(Platform::Alibaba, url, PageKind::Search, listings, total)
}

/// "No results": the page says so, in the words the site uses.
fn says_no_results(html: &str) -> bool {
    [
        "did not match any products",
        "No results found for",
        "no-result-tips",
    ]
    .iter()
    .any(|m| html.contains(m))
}

/// The offers of whichever search JSON the page carries, and the total it
/// claims.
fn json_offers(html: &str, source: &Url) -> (Vec<Listing>, Option<u64>) {
    let count = |v: &Value, paths: &[&str]| {
        paths
            .iter()
            .find_map(|p| jsobject::f64_at(v, p))
            .filter(|t| t.is_finite() && *t >= 0.0 && *t < 1e12)
            .map(|t| t as u64)
    };
    if let Some(blob) = jsobject::value_after(html, PAGE_DATA_BLOB) {
        if let Some(offers) = OFFER_LIST_PATHS
            .iter()
            .find_map(|p| jsobject::at(&blob, p).and_then(Value::as_array))
        {
            let listings = dedup(offers.iter().filter_map(|o| listing_from_offer(o, source)));
            let total = count(&blob, &["props.offerTotalCount", "offerTotalCount"]);
            return (listings, total);
        }
    }
    for marker in SSE_BLOBS {
        let Some(blob) = jsobject::value_after(html, marker) else {
            continue;
        };
        let root = ["_offer_list.offerResultData", "offerResultData"]
            .iter()
            .find_map(|p| jsobject::at(&blob, p));
        let Some(root) = root else { continue };
        let offers = ["offers", "offerList"]
            .iter()
            .find_map(|k| root.get(*k).and_then(Value::as_array));
        if let Some(offers) = offers {
            let listings = dedup(
                offers
                    .iter()
                    .filter_map(|o| listing_from_flat_offer(o, source)),
            );
            return (listings, count(root, &["totalCount"]));
        }
    }
    (Vec::new(), None)
}

/// Listings with the first of each id kept.
fn dedup(it: impl Iterator<Item = Listing>) -> Vec<Listing> {
    let mut seen = HashSet::new();
    it.filter(|l| seen.insert(l.id.clone())).collect()
}

/// One 2018–2022 `offerList[]` entry as a listing; entries without an id
/// are skipped.
fn listing_from_offer(o: &Value, source: &Url) -> Option<Listing> {
    let link = jsobject::string_at(o, "information.productUrl");
    let id = [
        "information.id",
        "information.productId",
        "tracelog.productId",
        "id",
    ]
    .iter()
    .find_map(|k| jsobject::string_at(o, k))
    .or_else(|| link.as_deref().and_then(|l| id_from_link(l, source)))
    .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))?;
    let title = [
        "information.puretitle",
        "information.enPureTitle",
        "information.title",
        "title",
    ]
    .iter()
    .find_map(|k| jsobject::string_at(o, k))
    .map(|t| strip_markup(&t))
    .unwrap_or_default();
    let price = [
        "tradePrice.price",
        "tradePrice.priceV2",
        "promotionInfo.price",
    ]
    .iter()
    .find_map(|k| jsobject::string_at(o, k))
    .and_then(|t| price_of(&t, DEFAULT_CURRENCY));
    let moq = jsobject::string_at(o, "tradePrice.minOrder").and_then(|t| {
        let mut m = moq_of(&t)?;
        if !t.chars().any(char::is_alphabetic) {
            if let Some(unit) = jsobject::string_at(o, "tradePrice.unit") {
                m.unit = unit;
            }
        }
        Some(m)
    });
    let href = jsobject::string_at(o, "supplier.supplierHref");
    let seller_url = href.as_deref().and_then(|h| supplier_url(h, source));
    let seller = Seller {
        name: jsobject::string_at(o, "supplier.supplierName"),
        id: seller_url.as_deref().and_then(supplier_id),
        url: seller_url,
        country: jsobject::string_at(o, "supplier.supplierCountry.name")
            .or_else(|| jsobject::string_at(o, "supplier.supplierCountry")),
        years: jsobject::string_at(o, "supplier.supplierYear").and_then(|y| years(&y)),
    };
    let mut images: Vec<String> = Vec::new();
    let main = jsobject::string_at(o, "image.mainImage");
    let multi = string_list(jsobject::at(o, "image.multiImage"));
    push_images(&mut images, main.into_iter().chain(multi), source);
    let sponsored = ["information.ad", "information.adP4p"]
        .iter()
        .any(|k| jsobject::at(o, k).and_then(Value::as_bool) == Some(true));
    Some(finish(Listing {
        price,
        seller,
        images,
        moq,
        sponsored,
        ..offer(id, link.as_deref(), title, source)
    }))
}

/// One 2023–2026 flat offer (`offerResultData.offers[]`): `productId`,
/// `title` (with `<strong>` highlights), `productUrl`, `price` ("$6.0~7.0",
/// "US $1.20", "€2.61-3.38"), `moq` ("Min. order: 2 pieces"), `mainImage`,
/// `multiImage`, `companyName`, `supplierHomeHref`, `countryCode`,
/// `goldSupplierYears`, `soldOrder`, and ad flags.
fn listing_from_flat_offer(o: &Value, source: &Url) -> Option<Listing> {
    let s = |k: &str| jsobject::string_at(o, k);
    let link = s("productUrl").or_else(|| s("action"));
    let id = s("productId")
        .or_else(|| s("id"))
        .or_else(|| link.as_deref().and_then(|l| id_from_link(l, source)))
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))?;
    let title = ["title", "enPureTitle", "puretitle", "subject"]
        .iter()
        .find_map(|k| s(k))
        .map(|t| strip_markup(&t))
        .unwrap_or_default();
    let price = [
        "promotionPrice",
        "price",
        "priceV2",
        "localOriginalPriceRangeStr",
    ]
    .iter()
    .filter_map(|k| s(k))
    .find_map(|t| price_of(&t, DEFAULT_CURRENCY));
    let moq = ["moq", "moqV2", "minOrder"]
        .iter()
        .filter_map(|k| s(k))
        .find_map(|t| moq_of(&t));
    let href = s("supplierHomeHref").or_else(|| s("supplierHref"));
    let seller_url = href.as_deref().and_then(|h| supplier_url(h, source));
    let seller = Seller {
        name: s("companyName").map(|n| strip_markup(&n)),
        id: seller_url.as_deref().and_then(supplier_id),
        url: seller_url,
        country: s("countryCode").or_else(|| s("supplierCountry")),
        years: s("goldSupplierYears")
            .or_else(|| s("supplierYear"))
            .and_then(|y| years(&y)),
    };
    let mut images: Vec<String> = Vec::new();
    let main = s("mainImage");
    let multi = string_list(o.get("multiImage"));
    push_images(&mut images, main.into_iter().chain(multi), source);
    let sales = s("soldOrder").and_then(|t| {
        let (n, _) = first_number(&t)?;
        (0.0..1e12).contains(&n).then(|| Sales {
            count: n as u64,
            kind: SalesKind::Sold,
            text: collapse_ws(&t),
        })
    });
    let sponsored = ["isP4P", "isShowAd", "isNewAd", "adP4p"]
        .iter()
        .any(|k| o.get(*k).is_some_and(truthy));
    Some(finish(Listing {
        price,
        seller,
        images,
        moq,
        sales,
        sponsored,
        ..offer(id, link.as_deref(), title, source)
    }))
}

/// `true`, `"true"`, non-zero numbers.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => s == "true" || s == "1",
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

/// The strings of a JSON array (others skipped).
fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Appends full-size absolute photos, without duplicates.
fn push_images(images: &mut Vec<String>, raws: impl IntoIterator<Item = String>, base: &Url) {
    for raw in raws {
        if let Some(u) = full_size_image(&raw, base) {
            if !images.contains(&u) {
                images.push(u);
            }
        }
    }
}

/// Rendered offer cards of every vintage. The 2018–2022 wrapper class
/// repeats on nested elements, so the element that names the offer
/// (`[data-content=productItem][data-pid]`) is preferred, then the
/// innermost `.J-offer-wrapper`; 2023–2026 cards are
/// `.fy23-search-card` / `.searchx-offer-item` / `.fy26-product-card-wrapper`.
fn search_cards(doc: &Html, source: &Url) -> Vec<Listing> {
    let root = doc.root_element();
    let mut cards = select(root, css!("[data-content='productItem'][data-pid]"));
    if cards.is_empty() {
        cards = select(root, css!(".J-offer-wrapper"))
            .into_iter()
            .filter(|c| select(*c, css!(".J-offer-wrapper")).is_empty())
            .collect();
    }
    let modern: Vec<ElementRef<'_>> = select(
        root,
        css!(".fy23-search-card, .searchx-offer-item, .fy26-product-card-wrapper"),
    )
    .into_iter()
    .filter(|c| {
        select(
            *c,
            css!(".fy23-search-card, .searchx-offer-item, .fy26-product-card-wrapper"),
        )
        .is_empty()
    })
    .collect();
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let old = cards
        .into_iter()
        .filter_map(|c| listing_from_card(c, source));
    let new = modern
        .into_iter()
        .filter_map(|c| listing_from_modern_card(c, source));
    for l in old.chain(new) {
        if seen.insert(l.id.clone()) {
            out.push(l);
        }
    }
    out
}

fn listing_from_card(card: ElementRef<'_>, source: &Url) -> Option<Listing> {
    let link = first_attr(
        card,
        &[
            css!("a.elements-title-normal[href]"),
            css!("a[href*='/product-detail/']"),
        ],
        "href",
    );
    let id = card
        .value()
        .attr("data-pid")
        .map(str::trim)
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_string)
        .or_else(|| link.as_deref().and_then(|l| id_from_link(l, source)))?;
    let title = first_attr(
        card,
        &[css!("a.elements-title-normal[title]"), css!("h2[title]")],
        "title",
    )
    .or_else(|| first_text(card, &[css!(".elements-title-normal"), css!("h2")]))
    .unwrap_or_default();
    let price = first_attr(
        card,
        &[css!(".elements-offer-price-normal[title]")],
        "title",
    )
    .or_else(|| {
        first_text(
            card,
            &[
                css!(".elements-offer-price-normal"),
                css!("[class*='offer-price']"),
            ],
        )
    })
    .and_then(|t| price_of(&t, DEFAULT_CURRENCY));
    let moq = first_text(
        card,
        &[
            css!(".element-offer-minorder-normal__value"),
            css!("[class*='minorder']"),
        ],
    )
    .and_then(|t| moq_of(&t));
    let company = select(card, css!("[class*='seller-company']"))
        .into_iter()
        .next();
    let href = company
        .and_then(|c| c.value().attr("href").map(str::to_string))
        .or_else(|| first_attr(card, &[css!("a[href*='.en.alibaba.com']")], "href"));
    let seller_url = href.as_deref().and_then(|h| supplier_url(h, source));
    let seller = Seller {
        name: company.and_then(|c| {
            c.value()
                .attr("title")
                .map(collapse_ws)
                .filter(|t| !t.is_empty())
                .or_else(|| Some(text_of(c)).filter(|t| !t.is_empty()))
        }),
        id: seller_url.as_deref().and_then(supplier_id),
        url: seller_url,
        country: first_attr(card, &[css!(".seller-tag__country[title]")], "title")
            .or_else(|| first_text(card, &[css!(".seller-tag__country")])),
        years: first_text(card, &[css!(".seller-tag__year")]).and_then(|t| years(&t)),
    };
    let images = card_image(card, source).into_iter().collect();
    Some(finish(Listing {
        price,
        seller,
        images,
        moq,
        ..offer(id, link.as_deref(), title, source)
    }))
}

/// A card's product photo: the first image from the product store
/// (`/kf/`), lazy attributes included.
fn card_image(card: ElementRef<'_>, source: &Url) -> Option<String> {
    select(card, css!("img"))
        .into_iter()
        .filter_map(|i| img_src(i).and_then(|s| full_size_image(&s, source)))
        .find(|u| u.contains("/kf/"))
}

/// A 2023–2026 card (`.fy23-search-card`, `.searchx-offer-item`):
/// `h2.search-card-e-title a` (or `.searchx-product-e-title a`) links the
/// product, `.search-card-e-price-main` / `.searchx-product-price-price-main`
/// the price, `a.search-card-e-company` the supplier,
/// `.search-card-m-sale-features__item` / `.searchx-moq` the minimum order,
/// `.search-card-e-supplier__year` "11 yrs" and the country code, an ad
/// badge `.search-card-e-ad` / `[data-ad]`.
fn listing_from_modern_card(card: ElementRef<'_>, source: &Url) -> Option<Listing> {
    let link = first_attr(
        card,
        &[
            css!("h2 a[href*='/product-detail/']"),
            css!("a[href*='/product-detail/']"),
        ],
        "href",
    );
    let id = link
        .as_deref()
        .and_then(|l| id_from_link(l, source))
        .or_else(|| {
            ["data-ctrdot", "data-product-id", "data-pid"]
                .iter()
                .filter_map(|a| card.value().attr(a))
                .map(str::trim)
                .find(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .map(str::to_string)
        })?;
    let title = first_attr(card, &[css!("h2 a[title]"), css!("h2[title]")], "title")
        .or_else(|| {
            first_text(
                card,
                &[
                    css!("h2"),
                    css!("[class*='e-title']"),
                    css!("[class*='title']"),
                ],
            )
        })
        .unwrap_or_default();
    let price = first_text(
        card,
        &[
            css!(".search-card-e-price-main"),
            css!(".searchx-product-price-price-main"),
            css!("[class*='price-main']"),
            css!("[class*='price']"),
        ],
    )
    .and_then(|t| price_of(&t, DEFAULT_CURRENCY));
    let moq = select(card, css!(".search-card-m-sale-features__item, .searchx-moq, [class*='moq'], [class*='min-order']"))
    .into_iter()
    .map(text_of)
    .find(|t| t.contains("Min") || t.chars().any(|c| c.is_ascii_digit()))
    .and_then(|t| moq_of(&t));
    let company = select(card, css!("a.search-card-e-company, [class*='e-company'], [class*='company-name'], [class*='supplier-name']"))
    .into_iter()
    .next();
    let seller_url = company
        .and_then(|c| c.value().attr("href"))
        .or_else(|| {
            select(card, css!("a[href*='.en.alibaba.com']"))
                .into_iter()
                .find_map(|a| a.value().attr("href"))
        })
        .and_then(|h| supplier_url(h, source));
    let year_el = select(
        card,
        css!(".search-card-e-supplier__year, [class*='supplier__year'], [class*='supplier-year']"),
    )
    .into_iter()
    .next();
    // "11 yrs" and "CN Supplier" are separate text nodes.
    let year_box = year_el.map(|e| {
        e.text()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    });
    let seller = Seller {
        name: company.map(text_of).filter(|t| !t.is_empty()),
        id: seller_url.as_deref().and_then(supplier_id),
        url: seller_url,
        country: year_box.as_deref().and_then(country_code_in),
        years: year_box.as_deref().and_then(years),
    };
    let sponsored = !select(
        card,
        css!(".search-card-e-ad, [class*='ad-tag'], [data-ad='true']"),
    )
    .is_empty();
    Some(finish(Listing {
        price,
        seller,
        images: card_image(card, source).into_iter().collect(),
        moq,
        sponsored,
        ..Listing::new(
            Platform::Alibaba,
            product_url(link.as_deref(), &id, source),
            id,
            strip_markup(&title),
            source,
        )
    }))
}

/// The two-letter country code in "11 yrs CN Supplier".
fn country_code_in(text: &str) -> Option<String> {
    text.split_whitespace()
        .find(|w| w.len() == 2 && w.bytes().all(|b| b.is_ascii_uppercase()))
        .map(str::to_string)
}

// --------------------------------------------------------------- product

fn parse_product(url: &Url, html: &str) -> PageOutcome {
    let doc = Html::parse_document(html);
    let root = doc.root_element();
    let canonical = first_attr(root, &[css!("link[rel='canonical']")], "href")
        .and_then(|h| absolute_url(&h, url))
        .and_then(|h| Url::parse(&h).ok());
    let data = jsobject::value_after(html, "window.detailData");
    let global = data.as_ref().and_then(|d| d.get("globalData"));
    let from_json = global.map(|g| product_from_detail_data(g, url));
    let id = id_from_product_path(url.path())
        .or_else(|| {
            canonical
                .as_ref()
                .and_then(|c| id_from_product_path(c.path()))
        })
        .or_else(|| from_json.as_ref().and_then(|l| l.id.clone()));
    let Some(id) = id else {
        return drift(
            Platform::Alibaba,
            url,
            PageKind::Item,
            vec!["product id (URL, canonical link, window.detailData)"],
            "no product id",
        );
    };
    let dom = product_from_dom(root, url);
    let title = from_json
        .as_ref()
        .and_then(|j| j.title.clone())
        .or(dom.title.clone());
    let Some(title) = title else {
        return drift(
            Platform::Alibaba,
            url,
            PageKind::Item,
            vec![
                "window.detailData.globalData.product.subject",
                ".product-title-container h1",
                "og:title",
            ],
            "product page has no title",
        );
    };
    let parts = match from_json {
        Some(j) => j.or(dom),
        None => dom,
    };
    let link = canonical
        .map(|c| c.to_string())
        .unwrap_or_else(|| url.to_string());
    let listing = finish(Listing {
        price: parts.price,
        seller: parts.seller,
        images: parts.images,
        moq: parts.moq,
        sales: parts.sales,
        ..Listing::new(
            Platform::Alibaba,
            product_url(Some(&link), &id, url),
            id,
            strip_markup(&title),
            url,
        )
    });
    item_page(Platform::Alibaba, listing)
}

/// What one source of a product page says (JSON or DOM), merged field by
/// field.
#[derive(Debug, Default)]
struct ProductParts {
    id: Option<String>,
    title: Option<String>,
    price: Option<Price>,
    moq: Option<Moq>,
    seller: Seller,
    images: Vec<String>,
    sales: Option<Sales>,
}

impl ProductParts {
    fn or(mut self, other: ProductParts) -> ProductParts {
        self.id = self.id.or(other.id);
        self.title = self.title.or(other.title);
        self.price = self.price.or(other.price);
        self.moq = self.moq.or(other.moq);
        let (s, o) = (&mut self.seller, other.seller);
        s.name = s.name.take().or(o.name);
        s.id = s.id.take().or(o.id);
        s.url = s.url.take().or(o.url);
        s.country = s.country.take().or(o.country);
        s.years = s.years.or(o.years);
        if self.images.is_empty() {
            self.images = other.images;
        }
        self.sales = self.sales.or(other.sales);
        self
    }
}

/// `window.detailData.globalData`: `product.{productId, subject, moq,
/// price.{productLadderPrices[{min, max, price, dollarPrice, formatPrice}],
/// productRangePrices, unit, unitEven}, mediaItems[{type, imageUrl.big}]}`,
/// `seller.{companyName, subDomain, companyRegisterCountry,
/// companyJoinYears, homeUrl}`, `trade.salesVolume`.
fn product_from_detail_data(g: &Value, source: &Url) -> ProductParts {
    let s = |p: &str| jsobject::string_at(g, p);
    let ladder: Vec<&Value> = jsobject::at(g, "product.price.productLadderPrices")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    // Dollars when every tier has them (the page's own currency varies
    // with the visitor), else the shown price in the currency its
    // formatted text names.
    let dollars: Vec<f64> = ladder
        .iter()
        .filter_map(|t| jsobject::f64_at(t, "dollarPrice"))
        .filter(|p| valid_amount(*p))
        .collect();
    let price = if !dollars.is_empty() && dollars.len() == ladder.len() {
        range_price(&dollars, DEFAULT_CURRENCY)
    } else {
        let shown: Vec<f64> = ladder
            .iter()
            .filter_map(|t| jsobject::f64_at(t, "price"))
            .filter(|p| valid_amount(*p))
            .collect();
        let currency = ladder
            .iter()
            .filter_map(|t| jsobject::string_at(t, "formatPrice"))
            .find_map(|f| currency_in(&f))
            .unwrap_or(DEFAULT_CURRENCY);
        range_price(&shown, currency)
    }
    .or_else(|| {
        let low = jsobject::f64_at(g, "product.price.productRangePrices.dollarPriceRangeLow")
            .filter(|p| valid_amount(*p))?;
        let high = jsobject::f64_at(g, "product.price.productRangePrices.dollarPriceRangeHigh")
            .filter(|p| valid_amount(*p) && *p >= low);
        Some(Price {
            amount: low,
            max: high.filter(|h| *h > low),
            currency: DEFAULT_CURRENCY.to_string(),
        })
    })
    .or_else(|| {
        [
            "product.price.formatLadderPrice",
            "product.price.productRangePrices.priceRangeText",
        ]
        .iter()
        .filter_map(|p| s(p))
        .find_map(|t| price_of(&t, DEFAULT_CURRENCY))
    });
    let unit = s("product.price.unitEven")
        .or_else(|| s("product.price.unit"))
        .unwrap_or_else(|| "pieces".to_string());
    let moq = jsobject::f64_at(g, "product.moq")
        .or_else(|| {
            ladder
                .iter()
                .filter_map(|t| jsobject::f64_at(t, "min"))
                .fold(None, |m: Option<f64>, q| Some(m.map_or(q, |m| m.min(q))))
        })
        .filter(|q| q.is_finite() && *q > 0.0 && *q < 1e12)
        .map(|q| Moq {
            quantity: q as u64,
            unit,
        });
    let sub = s("seller.subDomain").map(|d| {
        d.trim_end_matches('/')
            .trim_start_matches("https://")
            .trim_start_matches("//")
            .to_string()
    });
    let seller_url = sub
        .as_deref()
        .map(|d| {
            if d.contains('.') {
                format!("https://{d}/")
            } else {
                format!("https://{d}.en.alibaba.com/")
            }
        })
        .or_else(|| s("seller.homeUrl").and_then(|h| supplier_url(&h, source)));
    let mut images = Vec::new();
    if let Some(items) = jsobject::at(g, "product.mediaItems").and_then(Value::as_array) {
        let raws = items
            .iter()
            .filter(|m| jsobject::string_at(m, "type").as_deref() != Some("video"))
            .filter_map(|m| {
                ["imageUrl.big", "imageUrl.normal", "imageUrl"]
                    .iter()
                    .find_map(|k| jsobject::string_at(m, k))
            });
        push_images(&mut images, raws, source);
    }
    ProductParts {
        id: s("product.productId").filter(|i| i.bytes().all(|b| b.is_ascii_digit())),
        title: s("product.subject"),
        price,
        moq,
        seller: Seller {
            name: s("seller.companyName"),
            id: seller_url.as_deref().and_then(supplier_id),
            url: seller_url,
            country: s("seller.companyRegisterCountry"),
            years: s("seller.companyJoinYears").and_then(|y| years(&y)),
        },
        images,
        sales: s("trade.salesVolume").and_then(|t| {
            let (n, _) = first_number(&t)?;
            (0.0..1e12).contains(&n).then(|| Sales {
                count: n as u64,
                kind: SalesKind::Sold,
                text: collapse_ws(&t),
            })
        }),
    }
}

/// The product as the page's DOM shows it (server-rendered or saved by a
/// browser).
fn product_from_dom(root: ElementRef<'_>, url: &Url) -> ProductParts {
    let title = first_attr(
        root,
        &[
            css!(".product-title-container h1[title]"),
            css!("[data-module-name='module_title'] h1[title]"),
        ],
        "title",
    )
    .or_else(|| first_text(root, &[css!(".product-title-container h1"), css!("h1")]))
    .or_else(|| first_attr(root, &[css!("meta[property='og:title']")], "content"));
    let (price, moq) = tier_prices(root);
    let company = select(root, css!(".company-name")).into_iter().next();
    let company_link = company.and_then(|c| select(c, css!("a[href]")).into_iter().next());
    let seller_url = company_link
        .and_then(|a| a.value().attr("href"))
        .and_then(|h| supplier_url(h, url));
    let card = select(root, css!("[data-module-name='module_company']"))
        .into_iter()
        .next()
        .or(company);
    let seller = Seller {
        name: company_link
            .and_then(|a| a.value().attr("title").map(collapse_ws))
            .filter(|t| !t.is_empty())
            .or_else(|| company.map(text_of))
            .filter(|t| !t.is_empty()),
        id: seller_url.as_deref().and_then(supplier_id),
        url: seller_url,
        country: card.and_then(|c| {
            first_attr(c, &[css!("[class*='country'][title]")], "title")
                .or_else(|| first_text(c, &[css!(".register-country"), css!("[class*='country']")]))
        }),
        years: card
            .and_then(|c| first_text(c, &[css!(".company-life"), css!("[class*='year']")]))
            .and_then(|t| years(&t)),
    };
    let mut images: Vec<String> = Vec::new();
    let gallery = select(root, css!("[data-module-name='module_productImage']"))
        .into_iter()
        .next();
    match gallery {
        Some(g) => {
            // Thumbnails are CSS backgrounds, the main photo an <img>.
            let mut raws: Vec<String> = select(g, css!("[style*='background-image']"))
                .into_iter()
                .filter_map(|e| css_url(e.value().attr("style")?))
                .collect();
            raws.extend(select(g, css!("img")).into_iter().filter_map(img_src));
            let og = first_attr(root, &[css!("meta[property='og:image']")], "content");
            push_images(
                &mut images,
                raws.into_iter().chain(og).filter(|s| s.contains("/kf/")),
                url,
            );
        }
        None => {
            let og = first_attr(root, &[css!("meta[property='og:image']")], "content");
            let imgs = select(root, css!("img"))
                .into_iter()
                .filter(|i| !i.value().attr("class").is_some_and(|c| c.contains("logo")))
                .filter_map(img_src)
                .filter(|s| s.contains("alicdn") && s.contains("/kf/"));
            push_images(&mut images, og.into_iter().chain(imgs), url);
        }
    }
    ProductParts {
        id: None,
        title,
        price,
        moq,
        seller,
        images,
        sales: None,
    }
}

/// The URL inside `background-image: url("…")`.
fn css_url(style: &str) -> Option<String> {
    let start = style.find("url(")? + 4;
    let rest = &style[start..];
    let end = rest.find(')')?;
    let inner = rest[..end].trim().trim_matches(['"', '\'']).trim();
    (!inner.is_empty()).then(|| inner.to_string())
}

/// Tiered prices: the price range over all tiers, and the minimum order as
/// the smallest tier's lower bound ("300 - 1000 pairs" → 300 pairs). Each
/// tier shows a quantity ("300 - 1000 pairs", ">= 5001 pairs") and a price
/// ("US$8.51", "GH₵80.51"); older builds mark them `.quality` / `.price`,
/// 2024–2026 builds use utility classes only, so the texts are told apart
/// by their content. Pages without tiers show one price or range.
fn tier_prices(root: ElementRef<'_>) -> (Option<Price>, Option<Moq>) {
    let module = select(root, css!("[data-module-name='module_price']"))
        .into_iter()
        .next();
    let Some(module) = module else {
        return (None, None);
    };
    let mut amounts = Vec::new();
    let mut currency: Option<&'static str> = None;
    let mut moq: Option<Moq> = None;
    for item in select(module, css!(".price-item")) {
        let texts: Vec<String> = item
            .text()
            .map(collapse_ws)
            .filter(|t| !t.is_empty())
            .collect();
        let price_text = first_text(item, &[css!(".price")])
            .or_else(|| texts.iter().find(|t| currency_in(t).is_some()).cloned());
        let qty_text =
            first_text(item, &[css!(".quality"), css!("[class*='quantity']")]).or_else(|| {
                texts
                    .iter()
                    .find(|t| currency_in(t).is_none() && t.chars().any(|c| c.is_ascii_digit()))
                    .cloned()
            });
        if let Some(p) = price_text
            .as_deref()
            .and_then(|t| price_of(t, DEFAULT_CURRENCY))
        {
            currency = currency.or(price_text.as_deref().and_then(currency_in));
            amounts.push(p.amount);
        }
        if let Some(q) = qty_text {
            if let Some((n, _)) = first_number(&q).filter(|(n, _)| n.is_finite() && *n > 0.0) {
                let unit = q
                    .trim_end()
                    .rsplit(|c: char| c.is_ascii_digit() || c == '-' || c == '>' || c == '=')
                    .next()
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                    .unwrap_or("pieces")
                    .to_string();
                if moq.as_ref().is_none_or(|m| (n as u64) < m.quantity) {
                    moq = Some(Moq {
                        quantity: n as u64,
                        unit,
                    });
                }
            }
        }
    }
    if amounts.is_empty() {
        let price = first_text(module, &[css!(".price"), css!("[class*='price']")])
            .and_then(|t| price_of(&t, DEFAULT_CURRENCY));
        return (price, moq);
    }
    (
        range_price(&amounts, currency.unwrap_or(DEFAULT_CURRENCY)),
        moq,
    )
}

/// A listing of an offer read from `source`, its URL the offer's link
/// when that is an Alibaba.com product page.
fn offer(id: String, link: Option<&str>, title: String, source: &Url) -> Listing {
    let url = product_url(link, &id, source);
    Listing::new(Platform::Alibaba, url, id, title, source)
}

/// A minimum order: "Min. order: 2 pieces", "500 Pieces", "1.000 pieces"
/// (a locale's thousands dot: an order is never fractional).
fn moq_of(text: &str) -> Option<Moq> {
    let t = text.trim();
    let t = t.rsplit(':').next().unwrap_or(t).trim();
    let t = t.trim_end_matches(')').trim();
    let start = t.find(|c: char| c.is_ascii_digit())?;
    let num_end = t[start..]
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .map_or(t.len(), |e| start + e);
    let digits: String = t[start..num_end]
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let raw = &t[start..num_end];
    // "1.5" is not an order; "1.000" / "1,000" are thousands.
    let quantity: u64 = if raw.contains(['.', ','])
        && raw.rsplit(['.', ',']).next().is_some_and(|g| g.len() == 3)
    {
        digits.parse().ok()?
    } else {
        first_number(raw).map(|(n, _)| n as u64)?
    };
    if quantity == 0 {
        return None;
    }
    let unit = collapse_ws(
        t[num_end..]
            .trim()
            .trim_start_matches(['/', '(', ')'])
            .trim(),
    );
    Some(Moq {
        quantity,
        unit: if unit.is_empty() {
            "pieces".to_string()
        } else {
            unit
        },
    })
}

// ------------------------------------------- shared B2B helpers (1688 too)

/// The largest price believed: anything above is a parsing accident or a
/// hostile page.
pub(crate) const MAX_PRICE: f64 = 10_000_000.0;

/// A price amount worth keeping: finite, positive, not absurd.
pub(crate) fn valid_amount(a: f64) -> bool {
    a.is_finite() && a > 0.0 && a < MAX_PRICE
}

/// Currency symbols and codes as B2B pages print them, most specific
/// first (`GH₵`, `US$` before `$`). Alibaba.com prices follow the
/// visitor's currency.
const CURRENCY_MARKS: &[(&str, &str)] = &[
    ("US$", "USD"),
    ("US $", "USD"),
    ("GH₵", "GHS"),
    ("₵", "GHS"),
    ("HK$", "HKD"),
    ("NT$", "TWD"),
    ("MX$", "MXN"),
    ("NZ$", "NZD"),
    ("R$", "BRL"),
    ("S$", "SGD"),
    ("A$", "AUD"),
    ("C$", "CAD"),
    ("₹", "INR"),
    ("₦", "NGN"),
    ("₱", "PHP"),
    ("₩", "KRW"),
    ("₽", "RUB"),
    ("₺", "TRY"),
    ("฿", "THB"),
    ("₫", "VND"),
    ("zł", "PLN"),
];

/// The currency a price text names, if it names one.
pub(crate) fn currency_in(text: &str) -> Option<&'static str> {
    CURRENCY_MARKS
        .iter()
        .find(|(mark, _)| text.contains(mark))
        .map(|(_, code)| *code)
        .or_else(|| currency_of(text))
}

/// A price or range as shown, with its currency, validated (finite,
/// positive, not absurd; a "max" below the amount is dropped).
pub(crate) fn price_of(text: &str, default_currency: &str) -> Option<Price> {
    let p = parse_price(text, default_currency)?;
    if !valid_amount(p.amount) {
        return None;
    }
    Some(Price {
        amount: p.amount,
        max: p.max.filter(|m| valid_amount(*m) && *m > p.amount),
        currency: currency_in(text).unwrap_or(default_currency).to_string(),
    })
}

/// The range over several amounts (invalid ones skipped).
pub(crate) fn range_price(amounts: &[f64], currency: &str) -> Option<Price> {
    let valid: Vec<f64> = amounts
        .iter()
        .copied()
        .filter(|a| valid_amount(*a))
        .collect();
    let min = valid.iter().copied().reduce(f64::min)?;
    let max = valid.iter().copied().reduce(f64::max)?;
    Some(Price {
        amount: min,
        max: (max > min).then_some(max),
        currency: currency.to_string(),
    })
}

/// Parses a JavaScript object literal that JSON and JSON5 both refuse
/// because of bare numeric keys (`{5931007583129:0.6}`, as 1688 offer pages
/// write SKU maps): such keys are quoted outside strings, then parsed.
pub(crate) fn parse_lenient(text: &str) -> Option<Value> {
    if let Some(v) = jsobject::parse_literal(text) {
        return Some(v);
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 64);
    let mut i = 0;
    let mut last = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' => {
                let q = bytes[i];
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'{' | b',' => {
                let mut j = i + 1;
                while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                    j += 1;
                }
                let start = j;
                while j < bytes.len() && bytes[j].is_ascii_digit() {
                    j += 1;
                }
                let end = j;
                while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                    j += 1;
                }
                if end > start && bytes.get(j) == Some(&b':') {
                    out.push_str(&text[last..start]);
                    out.push('"');
                    out.push_str(&text[start..end]);
                    out.push('"');
                    last = end;
                }
                i = end.max(i + 1);
            }
            _ => i += 1,
        }
    }
    out.push_str(&text[last.min(text.len())..]);
    jsobject::parse_literal(&out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marketplaces::dom::test_url as u;

    #[test]
    fn search_url_keeps_prefix_and_encodes_the_term() {
        let s = Alibaba.search_url(&u("https://www.alibaba.com"), "aurora espresso cup", 1);
        assert_eq!(
            s.as_str(),
            "https://www.alibaba.com/trade/search?SearchText=aurora+espresso+cup&page=1"
        );
        let s = Alibaba.search_url(&u("http://127.0.0.1:8080/alibaba/?x=1"), "aurora", 3);
        assert_eq!(
            s.as_str(),
            "http://127.0.0.1:8080/alibaba/trade/search?SearchText=aurora&page=3"
        );
    }

    #[test]
    fn product_ids_and_urls_come_from_the_path() {
        assert_eq!(
            id_from_product_path("/product-detail/AURORA-Cup-1-1_1600123456789.html").as_deref(),
            Some("1600123456789")
        );
        assert_eq!(id_from_product_path("/product-detail/no-id.html"), None);
        let src = u("https://www.alibaba.com/trade/search?SearchText=a");
        assert_eq!(
            product_url(
                Some("//www.alibaba.com/product-detail/A-B_16001.html?spm=a2700.x&s=p"),
                "16001",
                &src
            ),
            "https://www.alibaba.com/product-detail/A-B_16001.html"
        );
        // A link that names another offer is not trusted.
        assert_eq!(
            product_url(
                Some("//www.alibaba.com/product-detail/A_99.html"),
                "16001",
                &src
            ),
            "https://www.alibaba.com/product-detail/_16001.html"
        );
        assert_eq!(
            Alibaba.page_kind(&u("http://127.0.0.1:1/alibaba/product-detail/x_1.html")),
            PageKind::Item
        );
    }

    #[test]
    fn supplier_ids_are_mini_site_subdomains() {
        assert_eq!(
            supplier_id("https://shengdatrade.en.alibaba.com/company_profile.html").as_deref(),
            Some("shengdatrade")
        );
        assert_eq!(supplier_id("https://www.alibaba.com/x"), None);
        assert_eq!(years("11 yrs"), Some(11));
        assert_eq!(years("new"), None);
    }

    #[test]
    fn a_single_price_module_without_tiers_still_gives_a_price() {
        let html = r#"<div class="product-title-container"><h1>Cup</h1></div>
            <div data-module-name="module_price"><div class="price">$3.50 - $4.00</div></div>"#;
        let out = Alibaba.parse(
            &u("https://www.alibaba.com/product-detail/Cup_1600000000001.html"),
            html,
        );
        let l = &out.listings()[0];
        assert_eq!(l.id, "1600000000001");
        let p = l.price.as_ref().unwrap();
        assert_eq!((p.amount, p.max), (3.5, Some(4.0)));
        assert!(l.missing.contains(&"seller".to_string()));
    }

    #[test]
    fn cards_alone_are_parsed_when_the_json_is_missing() {
        let html = r#"<div class="J-offer-wrapper"><div class="J-offer-wrapper" data-content="productItem" data-pid="1600000000002">
            <a class="elements-title-normal" href="//www.alibaba.com/product-detail/Mug_1600000000002.html?spm=1" title="Aurora Mug"></a>
            <span class="elements-offer-price-normal" title="$0.50-$0.80">$0.50-0.80</span>
            <span class="element-offer-minorder-normal__value">1000 Pieces</span>
            <a class="seller-tag__year">2 yrs</a><span class="seller-tag__country" title="CN">CN</span>
            <a class="organic-gallery-offer__seller-company" href="//mugco.en.alibaba.com/company_profile.html#top" title="Mug Co.">Mug Co.</a>
            <img src="//s.alicdn.com/@sc04/kf/Hm.jpg_300x300.jpg"></div></div>"#;
        let out = Alibaba.parse(
            &u("https://www.alibaba.com/trade/search?SearchText=aurora&page=1"),
            html,
        );
        let l = &out.listings()[0];
        assert_eq!(
            l.url,
            "https://www.alibaba.com/product-detail/Mug_1600000000002.html"
        );
        assert_eq!(l.moq.as_ref().unwrap().quantity, 1000);
        assert_eq!(l.seller.id.as_deref(), Some("mugco"));
        assert_eq!(
            l.seller.url.as_deref(),
            Some("https://mugco.en.alibaba.com/company_profile.html")
        );
        assert_eq!(l.images, vec!["https://s.alicdn.com/@sc04/kf/Hm.jpg"]);
    }

    #[test]
    fn hostile_numbers_and_nesting_are_bounded() {
        assert!(price_of("US$0.00", "USD").is_none());
        assert!(price_of("$99999999999", "USD").is_none());
        let p = price_of("GH₵80.51 - GH₵45.00", "USD").unwrap();
        assert_eq!((p.amount, p.max, p.currency.as_str()), (80.51, None, "GHS"));
        assert!(range_price(&[f64::NAN, -1.0, f64::INFINITY], "USD").is_none());
        let mut deep = String::new();
        for _ in 0..100 {
            deep.push_str("{\"a\":");
        }
        deep.push_str("{\"needle\":1}");
        for _ in 0..100 {
            deep.push('}');
        }
        if let Ok(v) = serde_json::from_str::<Value>(&deep) {
            assert!(
                jsobject::find_key(&v, "needle").is_none(),
                "search stops at depth 64"
            );
        }
    }

    #[test]
    fn numeric_keys_and_photo_suffixes() {
        let v = parse_lenient(r#"{"w":{5931007583129:0.6, 12:"x"},"s":"{1:2}"}"#).unwrap();
        assert_eq!(v["w"]["5931007583129"], 0.6);
        assert_eq!(v["s"], "{1:2}");
        let base = u("https://s.1688.com/");
        assert_eq!(
            full_size_image(
                "//cbu01.alicdn.com/img/ibank/O1CN01a_!!22-0-cib.220x220.jpg",
                &base
            )
            .unwrap(),
            "https://cbu01.alicdn.com/img/ibank/O1CN01a_!!22-0-cib.jpg"
        );
        assert_eq!(
            full_size_image(
                "https://cbu01.alicdn.com/img/ibank/b.jpg_460x460q100.jpg_.webp",
                &base
            )
            .unwrap(),
            "https://cbu01.alicdn.com/img/ibank/b.jpg"
        );
        assert_eq!(
            full_size_image("https://cbu01.alicdn.com/img/ibank/c.search.jpg", &base).unwrap(),
            "https://cbu01.alicdn.com/img/ibank/c.jpg"
        );
        assert_eq!(moq_of("Min. order: 1.000 pieces").unwrap().quantity, 1000);
        assert_eq!(moq_of("Min. order: 2 pieces").unwrap().quantity, 2);
    }
}
