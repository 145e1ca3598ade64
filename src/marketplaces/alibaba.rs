//! Alibaba.com parser (B2B): search pages and product pages.
//!
//! Search pages render only some offers as cards (`div.J-offer-wrapper`,
//! 8 of ~29 on a real capture); the full list is JSON in
//! `window.__page__data__config.props.offerResultData.offerList[]` (see
//! `shared/marketplaces.md`). So the JSON is read first, and cards fill
//! what it lacks or add offers it does not list (top sponsored cards come
//! from a different feed).
//!
//! B2B specifics: prices are ranges ("$1.20-1.80"), every offer has a
//! minimum order ("500 Pieces"), and the supplier shows its years on the
//! platform and its country. A supplier's id is the sub-domain of its
//! mini-site (`shengdatrade.en.alibaba.com`), the only stable handle a
//! search page gives.
//!
//! Product pages: `.product-title-container h1`, tiered prices under
//! `[data-module-name=module_price] .price-item` ("500 - 1999 pieces" +
//! "$1.80"), `.company-name`, photos `img[src*=alicdn]`.
//!
//! Listing URLs are `https://www.alibaba.com/product-detail/<slug>_<id>.html`
//! from the offer's own link with tracking parameters (`spm`) dropped; with
//! no usable link the slug is left empty, which the site accepts.

use super::aliexpress::{first_attr, first_text, full_size_image, img_src, missing_fields, select};
use super::text::{
    absolute_url, collapse_ws, currency_of, first_number, parse_moq, parse_price, strip_markup,
};
use super::{block, check_coverage, jsobject, Marketplace, PageKind, PageOutcome};
use crate::listing::{Listing, Moq, Platform, Price, Seller};
use scraper::{ElementRef, Html};
use serde_json::Value;
use std::collections::HashSet;
use url::Url;

/// Canonical product URL host.
const SITE: &str = "https://www.alibaba.com";
/// The script variable holding search results.
const PAGE_DATA_BLOB: &str = "window.__page__data__config";
/// Where the offer array sits in that object, newest first.
const OFFER_LIST_PATHS: &[&str] = &[
    "props.offerResultData.offerList",
    "offerResultData.offerList",
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
    /// `/trade/search` (and `/showroom/…`). A path prefix is allowed.
    fn page_kind(&self, url: &Url) -> PageKind {
        if url.path().contains("/product-detail/") || url.path().contains("/p-detail/") {
            PageKind::Item
        } else {
            PageKind::Search
        }
    }

    fn parse(&self, url: &Url, html: &str) -> PageOutcome {
        if let Some(hit) = block::detect(url, html) {
            return PageOutcome::Blocked {
                platform: Platform::Alibaba,
                url: url.to_string(),
                marker: hit.marker.to_string(),
                reason: hit.reason.to_string(),
            };
        }
        match self.page_kind(url) {
            PageKind::Search => parse_search(url, html),
            PageKind::Item => parse_product(url, html),
        }
    }

    /// `{base}/trade/search?SearchText={term}&page={n}`.
    fn search_url(&self, base: &Url, term: &str, page: u32) -> Url {
        let mut u = base.clone();
        let prefix = base.path().trim_end_matches('/').to_string();
        u.set_path(&format!("{prefix}/trade/search"));
        u.set_query(None);
        u.set_fragment(None);
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
/// `//shengdatrade.en.alibaba.com/company_profile.html`.
fn supplier_id(href: &str) -> Option<String> {
    let host = Url::parse(href).ok()?.host_str()?.to_ascii_lowercase();
    let sub = host.strip_suffix(".en.alibaba.com")?;
    (!sub.is_empty() && !sub.contains('.')).then(|| sub.to_string())
}

/// A supplier link without its `#top-nav-bar` fragment.
fn supplier_url(href: &str, source: &Url) -> Option<String> {
    let abs = absolute_url(href, source)?;
    Some(match Url::parse(&abs) {
        Ok(mut u) => {
            u.set_fragment(None);
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
    let blob = jsobject::value_after(html, PAGE_DATA_BLOB);
    let offers = blob.as_ref().and_then(|b| {
        OFFER_LIST_PATHS
            .iter()
            .find_map(|p| jsobject::at(b, p).and_then(Value::as_array))
    });
    let total = blob.as_ref().and_then(|b| {
        ["props.offerTotalCount", "offerTotalCount"]
            .iter()
            .find_map(|p| jsobject::f64_at(b, p))
            .filter(|t| *t >= 0.0)
            .map(|t| t as u64)
    });
    let doc = Html::parse_document(html);
    let cards = search_cards(&doc, url);

    let listings = match offers {
        Some(offers) => {
            let mut listings: Vec<Listing> = offers
                .iter()
                .filter_map(|o| listing_from_offer(o, url))
                .collect();
            for card in cards {
                match listings.iter_mut().find(|l| l.id == card.id) {
                    Some(l) => l.merge_from(&card),
                    None => listings.push(card),
                }
            }
            listings
        }
        None if !cards.is_empty() => cards,
        None => {
            return PageOutcome::Drift {
                platform: Platform::Alibaba,
                url: url.to_string(),
                page: PageKind::Search,
                missing: vec![
                    "props.offerResultData.offerList (__page__data__config)".to_string(),
                    "offer cards (div.J-offer-wrapper)".to_string(),
                ],
                detail: "search page has neither the offerList JSON nor rendered offer cards"
                    .to_string(),
            };
        }
    };
    check_coverage(Platform::Alibaba, url, PageKind::Search, listings, total)
}

/// One `offerList[]` entry as a listing; entries without an id are skipped.
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
    .or_else(|| {
        link.as_deref()
            .and_then(|l| absolute_url(l, source))
            .and_then(|l| Url::parse(&l).ok())
            .and_then(|u| id_from_product_path(u.path()))
    })
    .filter(|id| id.bytes().all(|b| b.is_ascii_digit()))?;
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
    .and_then(|t| parse_price(&t, DEFAULT_CURRENCY));
    let moq = jsobject::string_at(o, "tradePrice.minOrder").and_then(|t| {
        let mut m = parse_moq(&t)?;
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
    let multi = jsobject::at(o, "image.multiImage")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    for raw in main.into_iter().chain(multi) {
        if let Some(u) = full_size_image(&raw, source) {
            if !images.contains(&u) {
                images.push(u);
            }
        }
    }
    Some(finish(Listing {
        platform: Platform::Alibaba,
        url: product_url(link.as_deref(), &id, source),
        id,
        title,
        price,
        seller,
        images,
        moq,
        sales: None,
        location: None,
        sponsored: false,
        source_url: source.to_string(),
        missing: Vec::new(),
    }))
}

/// Rendered offer cards. The wrapper class repeats on nested elements, so
/// the element that names the offer (`[data-content=productItem][data-pid]`)
/// is preferred, then the innermost `.J-offer-wrapper`.
fn search_cards(doc: &Html, source: &Url) -> Vec<Listing> {
    let root = doc.root_element();
    let mut cards = select(root, "[data-content='productItem'][data-pid]");
    if cards.is_empty() {
        cards = select(root, ".J-offer-wrapper")
            .into_iter()
            .filter(|c| select(*c, ".J-offer-wrapper").is_empty())
            .collect();
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for card in cards {
        if let Some(l) = listing_from_card(card, source) {
            if seen.insert(l.id.clone()) {
                out.push(l);
            }
        }
    }
    out
}

fn listing_from_card(card: ElementRef<'_>, source: &Url) -> Option<Listing> {
    let link = first_attr(
        card,
        &[
            "a.elements-title-normal[href]",
            "a[href*='/product-detail/']",
        ],
        "href",
    );
    let id = card
        .value()
        .attr("data-pid")
        .map(str::trim)
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_string)
        .or_else(|| {
            link.as_deref()
                .and_then(|l| absolute_url(l, source))
                .and_then(|l| Url::parse(&l).ok())
                .and_then(|u| id_from_product_path(u.path()))
        })?;
    let title = first_attr(
        card,
        &["a.elements-title-normal[title]", "h2[title]"],
        "title",
    )
    .or_else(|| first_text(card, &[".elements-title-normal", "h2"]))
    .unwrap_or_default();
    let price = first_attr(card, &[".elements-offer-price-normal[title]"], "title")
        .or_else(|| {
            first_text(
                card,
                &[".elements-offer-price-normal", "[class*='offer-price']"],
            )
        })
        .and_then(|t| parse_price(&t, DEFAULT_CURRENCY));
    let moq = first_text(
        card,
        &[
            ".element-offer-minorder-normal__value",
            "[class*='minorder']",
        ],
    )
    .and_then(|t| parse_moq(t.trim_start_matches("Min. order:").trim()));
    let company = select(card, "[class*='seller-company']").into_iter().next();
    let href = company
        .and_then(|c| c.value().attr("href").map(str::to_string))
        .or_else(|| first_attr(card, &["a[href*='.en.alibaba.com']"], "href"));
    let seller_url = href.as_deref().and_then(|h| supplier_url(h, source));
    let seller = Seller {
        name: company.and_then(|c| {
            c.value()
                .attr("title")
                .map(collapse_ws)
                .filter(|t| !t.is_empty())
                .or_else(|| {
                    Some(collapse_ws(&c.text().collect::<String>())).filter(|t| !t.is_empty())
                })
        }),
        id: seller_url.as_deref().and_then(supplier_id),
        url: seller_url,
        country: first_attr(card, &[".seller-tag__country[title]"], "title")
            .or_else(|| first_text(card, &[".seller-tag__country"])),
        years: first_text(card, &[".seller-tag__year"]).and_then(|t| years(&t)),
    };
    let images = select(card, "img")
        .into_iter()
        .filter_map(|i| img_src(i).and_then(|s| full_size_image(&s, source)))
        .find(|u| u.contains("/kf/"))
        .into_iter()
        .collect();
    Some(finish(Listing {
        platform: Platform::Alibaba,
        url: product_url(link.as_deref(), &id, source),
        id,
        title,
        price,
        seller,
        images,
        moq,
        sales: None,
        location: None,
        sponsored: false,
        source_url: source.to_string(),
        missing: Vec::new(),
    }))
}

// --------------------------------------------------------------- product

fn parse_product(url: &Url, html: &str) -> PageOutcome {
    let doc = Html::parse_document(html);
    let root = doc.root_element();
    let canonical = first_attr(root, &["link[rel='canonical']"], "href")
        .and_then(|h| absolute_url(&h, url))
        .and_then(|h| Url::parse(&h).ok());
    let id = id_from_product_path(url.path())
        .or_else(|| {
            canonical
                .as_ref()
                .and_then(|c| id_from_product_path(c.path()))
        })
        .or_else(|| {
            jsobject::value_after(html, "window.detailData.globalData")
                .and_then(|v| jsobject::string_at(&v, "product.productId"))
        });
    let Some(id) = id else {
        return drift_item(
            url,
            vec!["product id (URL or canonical link)"],
            "no product id",
        );
    };
    let title = first_attr(root, &[".product-title-container h1[title]"], "title")
        .or_else(|| first_text(root, &[".product-title-container h1", "h1"]))
        .or_else(|| first_attr(root, &["meta[property='og:title']"], "content"));
    let Some(title) = title else {
        return drift_item(
            url,
            vec![".product-title-container h1", "og:title"],
            "product page has no title",
        );
    };
    let (price, moq) = tier_prices(root);
    let company = select(root, ".company-name").into_iter().next();
    let company_link = company.and_then(|c| select(c, "a[href]").into_iter().next());
    let seller_url = company_link
        .and_then(|a| a.value().attr("href"))
        .and_then(|h| supplier_url(h, url));
    let card = select(root, "[data-module-name='module_company']")
        .into_iter()
        .next()
        .or(company);
    let seller = Seller {
        name: company_link
            .and_then(|a| a.value().attr("title").map(collapse_ws))
            .filter(|t| !t.is_empty())
            .or_else(|| company.map(|c| collapse_ws(&c.text().collect::<String>())))
            .filter(|t| !t.is_empty()),
        id: seller_url.as_deref().and_then(supplier_id),
        url: seller_url,
        country: card.and_then(|c| {
            first_attr(c, &["[class*='country'][title]"], "title")
                .or_else(|| first_text(c, &["[class*='country']"]))
        }),
        years: card
            .and_then(|c| first_text(c, &["[class*='year']"]))
            .and_then(|t| years(&t)),
    };
    let mut images: Vec<String> = Vec::new();
    let og = first_attr(root, &["meta[property='og:image']"], "content");
    let imgs = select(root, "img")
        .into_iter()
        .filter_map(img_src)
        .filter(|s| s.contains("alicdn") && s.contains("/kf/"));
    for raw in og.into_iter().chain(imgs) {
        if let Some(u) = full_size_image(&raw, url) {
            if !images.contains(&u) {
                images.push(u);
            }
        }
    }
    let link = canonical
        .map(|c| c.to_string())
        .unwrap_or_else(|| url.to_string());
    let listing = finish(Listing {
        platform: Platform::Alibaba,
        url: product_url(Some(&link), &id, url),
        id,
        title: strip_markup(&title),
        price,
        seller,
        images,
        moq,
        sales: None,
        location: None,
        sponsored: false,
        source_url: url.to_string(),
        missing: Vec::new(),
    });
    PageOutcome::Ok {
        platform: Platform::Alibaba,
        page: PageKind::Item,
        listings: vec![listing],
        total: None,
    }
}

/// Tiered prices: the price range over all tiers, and the minimum order as
/// the smallest tier's lower bound ("500 - 1999 pieces" → 500 pieces).
/// Pages without tiers show one price or range under the price module.
fn tier_prices(root: ElementRef<'_>) -> (Option<Price>, Option<Moq>) {
    let module = select(root, "[data-module-name='module_price']")
        .into_iter()
        .next();
    let Some(module) = module else {
        return (None, None);
    };
    let mut amounts = Vec::new();
    let mut currency = None;
    let mut moq: Option<Moq> = None;
    for item in select(module, ".price-item") {
        let Some(text) = first_text(item, &[".price", "[class*='price']"]) else {
            continue;
        };
        if let Some(p) = parse_price(&text, DEFAULT_CURRENCY) {
            currency = currency.or(currency_of(&text).map(str::to_string));
            amounts.push(p.amount);
        }
        if let Some(q) = first_text(item, &[".quality", "[class*='quantity']"]) {
            if let Some((n, _)) = first_number(&q) {
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
        let price = first_text(module, &[".price", "[class*='price']"])
            .and_then(|t| parse_price(&t, DEFAULT_CURRENCY));
        return (price, moq);
    }
    let min = amounts.iter().copied().fold(f64::INFINITY, f64::min);
    let max = amounts.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let price = Price {
        amount: min,
        max: (max > min).then_some(max),
        currency: currency.unwrap_or_else(|| DEFAULT_CURRENCY.to_string()),
    };
    (Some(price), moq)
}

fn drift_item(url: &Url, missing: Vec<&str>, detail: &str) -> PageOutcome {
    PageOutcome::Drift {
        platform: Platform::Alibaba,
        url: url.to_string(),
        page: PageKind::Item,
        missing: missing.into_iter().map(str::to_string).collect(),
        detail: detail.to_string(),
    }
}

fn finish(mut l: Listing) -> Listing {
    l.missing = missing_fields(&l);
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

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
}
