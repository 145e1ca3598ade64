//! 1688 parser (Alibaba's domestic wholesale site): search cards and offer
//! pages.
//!
//! Search cards are `div.smart_ui_offer.offer_item` (older builds:
//! `.sm-offer-item`). The offer id is only in the analytics attribute
//! `.offer_exp[data-aplus-report]` (`object_id@<id>^…`), because paid
//! cards link to `dj.1688.com/ci_bb` click trackers; the canonical URL is
//! built from the id. `span.price_num` is split by comment nodes
//! (`1<!-- -->.74`), so its text nodes are joined. `span.location` holds the
//! turnover ("成交2.4万+元" = 24,000 yuan), despite its name. The seller's
//! login id is URL-encoded in `span.J_WangWang[data-nick]`.
//!
//! Offer pages embed their data as JSON (`window.runParams`, on newer
//! builds `window.__INIT_DATA`, on older ones `iDetailConfig`); the same
//! fields sit at different depths across versions, so they are found by
//! key. The DOM title is the fallback.
//!
//! Search keywords are sent GBK-encoded, as the site's own search box does.

use super::taobao::{
    attr_in, attr_in_doc, decode_nick, drift_for, find_key, find_string, id_from_path, image_url,
    is_click_tracker, item_images, lazy_src, missing_fields, ok_empty, price_range,
    sales_from_text, says_no_results, sel, sign_in_form, text_in, text_in_doc, url_under,
};
use super::text::{absolute_url, collapse_ws, first_number, parse_moq, parse_price, strip_markup};
use super::{check_coverage, jsobject, Marketplace, PageKind, PageOutcome};
use crate::listing::{Listing, Moq, Platform, Seller};
use scraper::{ElementRef, Html};
use serde_json::Value;
use url::Url;

/// The JavaScript variables 1688 offer pages have used for their data,
/// newest first.
const OFFER_BLOBS: &[&str] = &["window.runParams", "window.__INIT_DATA", "iDetailConfig"];

/// The 1688 parser.
pub struct S1688;

impl Marketplace for S1688 {
    fn platform(&self) -> Platform {
        Platform::S1688
    }

    fn page_kind(&self, url: &Url) -> PageKind {
        let host = url.host_str().unwrap_or_default();
        if host.starts_with("detail.") || url.path().contains("/offer/") {
            PageKind::Item
        } else {
            PageKind::Search
        }
    }

    fn parse(&self, url: &Url, html: &str) -> PageOutcome {
        let mut markers = vec!["smart_ui_offer", "offer_item"];
        markers.extend(OFFER_BLOBS);
        if let Some(blocked) = sign_in_form(Platform::S1688, url, html, &markers) {
            return blocked;
        }
        match self.page_kind(url) {
            PageKind::Search => parse_search(url, html),
            PageKind::Item => parse_offer(url, html),
        }
    }

    fn search_url(&self, base: &Url, term: &str, page: u32) -> Url {
        let mut u = url_under(base, "selloffer/offer_search.htm");
        let (gbk, _, _) = encoding_rs::GBK.encode(term.trim());
        let keywords: String = url::form_urlencoded::byte_serialize(&gbk).collect();
        let query = if page > 1 {
            format!("keywords={keywords}&beginPage={page}")
        } else {
            format!("keywords={keywords}")
        };
        u.set_query(Some(&query));
        u
    }

    fn item_url(&self, id: &str) -> String {
        let id: String = id
            .trim()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        format!("https://detail.1688.com/offer/{id}.html")
    }
}

fn parse_search(url: &Url, html: &str) -> PageOutcome {
    let doc = Html::parse_document(html);
    let mut listings: Vec<Listing> = Vec::new();
    for card in doc.select(&sel(".smart_ui_offer, .offer_item, .sm-offer-item")) {
        let Some(listing) = card_listing(card, url) else {
            continue;
        };
        if !listings.iter().any(|l| l.id == listing.id) {
            listings.push(listing);
        }
    }
    if listings.is_empty() {
        if says_no_results(html) {
            return ok_empty(Platform::S1688);
        }
        return drift_for(
            Platform::S1688,
            url,
            PageKind::Search,
            vec!["div.smart_ui_offer.offer_item".to_string()],
            "a search page without offer cards".to_string(),
        );
    }
    check_coverage(Platform::S1688, url, PageKind::Search, listings, None)
}

/// The offer id in an analytics attribute: `object_id@612345678901^…`.
fn object_id(report: &str) -> Option<String> {
    let rest = &report[report.find("object_id@")? + "object_id@".len()..];
    let id: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (!id.is_empty()).then_some(id)
}

fn card_listing(card: ElementRef<'_>, page: &Url) -> Option<Listing> {
    let links: Vec<&str> = card
        .select(&sel("a[href]"))
        .filter_map(|a| a.value().attr("href"))
        .collect();
    let id = card
        .select(&sel("[data-aplus-report]"))
        .chain(std::iter::once(card))
        .filter_map(|e| e.value().attr("data-aplus-report"))
        .find_map(object_id)
        .or_else(|| {
            ["data-offerid", "offerid", "data-offer-id"]
                .iter()
                .find_map(|a| card.value().attr(a))
                .map(str::trim)
                .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()))
                .map(str::to_string)
        })
        .or_else(|| {
            links.iter().find_map(|h| {
                Url::parse(&format!("https:{}", h.trim_start_matches("https:")))
                    .ok()
                    .filter(|u| u.host_str() == Some("detail.1688.com"))
                    .and_then(|u| id_from_path(u.path()))
            })
        })?;
    let title = attr_in(card, "span.subject", "title")
        .or_else(|| text_in(card, ".subject"))
        .or_else(|| attr_in(card, ".title a", "title"))
        .or_else(|| text_in(card, ".title"))
        .map(|t| strip_markup(&t))
        .unwrap_or_default();
    // Join the price's text nodes: React splits "1.74" into "1" and ".74"
    // with an empty comment between them.
    let price = card
        .select(&sel("span.price_num, .price_num, .sm-offer-priceNum"))
        .map(|e| e.text().collect::<String>())
        .map(|t| t.split_whitespace().collect::<String>())
        .find(|t| !t.is_empty())
        .and_then(|t| parse_price(&t, "CNY"));
    let main_img = card
        .select(&sel(".mainPic img, .img img, img"))
        .find_map(|img| lazy_src(img, &["data-lazy-src", "data-src", "src"]));
    let nick = attr_in(card, ".J_WangWang", "data-nick").map(|n| decode_nick(&n));
    let company = card
        .select(&sel(
            ".company_name a, a.company_name, .company-name a, .sm-offer-companyName",
        ))
        .next();
    let seller = Seller {
        name: company
            .and_then(|c| c.value().attr("title").map(str::to_string))
            .or_else(|| company.map(|c| collapse_ws(&c.text().collect::<String>())))
            .filter(|n| !n.is_empty())
            .or_else(|| nick.clone()),
        id: nick,
        url: company
            .and_then(|c| c.value().attr("href"))
            .filter(|h| !is_click_tracker(h))
            .and_then(|h| absolute_url(h, page)),
        ..Seller::default()
    };
    // `span.location` is the turnover on current cards; on older ones it
    // was the city. Tell them apart by the digits.
    let loc_text = text_in(card, "span.location");
    let (sales, mut location) = match loc_text {
        Some(t) if first_number(&t).is_some() => (sales_from_text(&t), None),
        Some(t) => (None, Some(t)),
        None => (None, None),
    };
    if location.is_none() {
        location = text_in(card, ".sm-offer-location, .offer_location");
    }
    let moq = card
        .select(&sel("*"))
        .filter(|e| e.children().any(|c| c.value().is_text()))
        .map(|e| collapse_ws(&e.text().collect::<String>()))
        .find(|t| t.starts_with('≥') || t.contains("起批") || t.contains("起订"))
        .and_then(|t| parse_moq(&t))
        .map(|m| Moq {
            unit: m
                .unit
                .trim_end_matches("起批")
                .trim_end_matches("起订")
                .trim()
                .to_string(),
            ..m
        });
    let mut listing = Listing {
        platform: Platform::S1688,
        url: S1688.item_url(&id),
        id,
        title,
        price,
        seller,
        images: main_img
            .and_then(|s| image_url(&s, page))
            .into_iter()
            .collect(),
        moq,
        sales,
        location,
        sponsored: links.iter().any(|h| is_click_tracker(h)),
        source_url: page.to_string(),
        missing: Vec::new(),
    };
    listing.missing = missing_fields(&listing);
    Some(listing)
}

fn parse_offer(url: &Url, html: &str) -> PageOutcome {
    let doc = Html::parse_document(html);
    let blob: Option<Value> = OFFER_BLOBS
        .iter()
        .find_map(|m| jsobject::value_after(html, m));
    let field = |keys: &[&str]| blob.as_ref().and_then(|v| find_string(v, keys));

    let id = id_from_path(url.path()).or_else(|| field(&["offerId", "offerid"]));
    let title = field(&["offerTitle", "subject"])
        .or_else(|| text_in_doc(&doc, "h1.d-title, .title-text, .od-pc-offer-title h1, h1"))
        .or_else(|| attr_in_doc(&doc, "meta[property='og:title']", "content"))
        .map(|t| strip_markup(&t));
    let (Some(id), Some(title)) = (id, title) else {
        return drift_for(
            Platform::S1688,
            url,
            PageKind::Item,
            vec!["window.runParams".to_string(), "title".to_string()],
            "an offer page without its data blob or a title".to_string(),
        );
    };

    // Tiered prices: [{beginAmount, price}] — the range is their span and
    // the smallest tier's quantity is the minimum order.
    let tiers: Vec<(f64, Option<f64>)> = blob
        .as_ref()
        .and_then(|v| {
            [
                "skuRangePrices",
                "priceRanges",
                "currentPrices",
                "priceRange",
            ]
            .iter()
            .find_map(|k| find_key(v, k).and_then(Value::as_array))
        })
        .map(|arr| {
            arr.iter()
                .filter_map(|t| {
                    let price = jsobject::f64_at(t, "price")?;
                    Some((price, jsobject::f64_at(t, "beginAmount")))
                })
                .collect()
        })
        .unwrap_or_default();
    let price = price_range(&tiers.iter().map(|t| t.0).collect::<Vec<_>>(), "CNY")
        .or_else(|| {
            field(&["priceDisplay", "refPrice", "price"]).and_then(|p| parse_price(&p, "CNY"))
        })
        .or_else(|| {
            text_in_doc(&doc, ".price-text, .price-now").and_then(|p| parse_price(&p, "CNY"))
        });
    let unit = field(&["offerUnit", "unit"]).unwrap_or_else(|| "件".to_string());
    let moq = tiers
        .iter()
        .filter_map(|t| t.1)
        .fold(None, |min: Option<f64>, q| {
            Some(min.map_or(q, |m| m.min(q)))
        })
        .or_else(|| field(&["beginAmount"]).and_then(|b| b.parse().ok()))
        .filter(|q| q.is_finite() && *q > 0.0)
        .map(|q| Moq {
            quantity: q as u64,
            unit: unit.clone(),
        });

    let seller = Seller {
        name: field(&["companyName"])
            .or_else(|| text_in_doc(&doc, ".company-name, .company-name-text")),
        id: field(&["sellerLoginId", "loginId"]).map(|n| decode_nick(&n)),
        url: field(&["sellerWinportUrl", "winportUrl"]).and_then(|h| absolute_url(&h, url)),
        ..Seller::default()
    };

    let mut images: Vec<String> = Vec::new();
    if let Some(v) = blob.as_ref() {
        let list = ["images", "offerImgList", "imageList"]
            .iter()
            .find_map(|k| find_key(v, k).and_then(Value::as_array));
        for img in list.into_iter().flatten() {
            let raw = match img {
                Value::String(s) => Some(s.clone()),
                other => find_string(other, &["fullPathImageURI", "originalImageURI", "imageURI"]),
            };
            if let Some(u) = raw.and_then(|r| image_url(&r, url)) {
                if !images.contains(&u) {
                    images.push(u);
                }
            }
        }
    }
    if images.is_empty() {
        images = item_images(
            &doc,
            url,
            ".detail-gallery-img, #dt-tab img",
            ".tab-trigger img",
        );
    }

    let mut listing = Listing {
        platform: Platform::S1688,
        url: S1688.item_url(&id),
        id,
        title,
        price,
        seller,
        images,
        moq,
        sales: field(&["saledCount", "saleCount"])
            .and_then(|s| super::text::parse_sales(&s, crate::listing::SalesKind::Sold)),
        location: field(&["location", "sendArea"]),
        sponsored: false,
        source_url: url.to_string(),
        missing: Vec::new(),
    };
    listing.missing = missing_fields(&listing);
    PageOutcome::Ok {
        platform: Platform::S1688,
        page: PageKind::Item,
        listings: vec![listing],
        total: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn search_url_is_gbk_encoded() {
        assert_eq!(
            S1688
                .search_url(&u("https://s.1688.com/"), "奥罗拉", 1)
                .as_str(),
            "https://s.1688.com/selloffer/offer_search.htm?keywords=%B0%C2%C2%DE%C0%AD"
        );
        assert_eq!(
            S1688
                .search_url(&u("http://127.0.0.1:1/1688/"), "AURORA cup", 2)
                .as_str(),
            "http://127.0.0.1:1/1688/selloffer/offer_search.htm?keywords=AURORA+cup&beginPage=2"
        );
        assert_eq!(
            S1688.item_url("612"),
            "https://detail.1688.com/offer/612.html"
        );
        assert_eq!(
            S1688.page_kind(&u("https://detail.1688.com/offer/612.html")),
            PageKind::Item
        );
    }

    #[test]
    fn object_id_is_read_from_the_report() {
        assert_eq!(
            object_id("object_id@612^object_type@offer").as_deref(),
            Some("612")
        );
        assert_eq!(object_id("object_type@offer"), None);
    }

    #[test]
    fn older_card_with_city_in_location_and_offer_link() {
        let html = r#"<div class="sm-offer-item"><a href="https://detail.1688.com/offer/777.html"><img src="//cbu01.alicdn.com/img/ibank/a.jpg_220x220.jpg"></a>
          <span class="subject">奥罗拉 杯</span><span class="price_num">3<!-- -->.5</span><span class="location">浙江 义乌</span>
          <span>≥10件起批</span></div>"#;
        let out = S1688.parse(
            &u("https://s.1688.com/selloffer/offer_search.htm?keywords=x"),
            html,
        );
        let l = &out.listings()[0];
        assert_eq!(l.id, "777");
        assert_eq!(l.price.as_ref().unwrap().amount, 3.5);
        assert_eq!(l.location.as_deref(), Some("浙江 义乌"));
        assert!(l.sales.is_none());
        assert_eq!(
            l.moq.as_ref().map(|m| (m.quantity, m.unit.as_str())),
            Some((10, "件"))
        );
        assert_eq!(l.images, ["https://cbu01.alicdn.com/img/ibank/a.jpg"]);
    }

    #[test]
    fn offer_page_with_legacy_config() {
        let html = r#"<script>var iDetailConfig = {"offerid":"888","refPrice":"1.50-1.74","beginAmount":"2","unit":"个","loginId":"%E5%8E%82"};</script><h1 class="d-title">杯</h1>"#;
        let out = S1688.parse(&u("https://detail.1688.com/offer/888.html"), html);
        let l = &out.listings()[0];
        assert_eq!(l.title, "杯");
        assert_eq!(
            l.price.as_ref().map(|p| (p.amount, p.max)),
            Some((1.5, Some(1.74)))
        );
        assert_eq!(
            l.moq.as_ref().map(|m| (m.quantity, m.unit.as_str())),
            Some((2, "个"))
        );
        assert_eq!(l.seller.id.as_deref(), Some("厂"));
    }
}
