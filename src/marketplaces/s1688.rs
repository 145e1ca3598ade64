//! 1688 parser (Alibaba's domestic wholesale site): search pages and offer
//! pages, 2018–2026.
//!
//! Search pages: the offers are page JSON first — the 2024 SEM list
//! (`p4psearch.1688.com/page.html`) assigns `var pageConfig = {…,
//! "listOffer": [{offerid, title, strPriceMoney, imgUrl, loginId,
//! attr.company, isP4P}]}`; 2025–2026 builds fill `window.data`
//! (`offerV2Showed.offerList`, `offerresultData.data.offerList`) — then the
//! cards. Cards of every vintage: `div.smart_ui_offer.offer_item` inside a
//! `div.offer_exp` whose `data-aplus-report` names the offer
//! (`object_id@<id>^_p_isad@1^…`; paid cards link to `dj.1688.com/ci_bb`
//! click trackers), 2024–2026 `a.ocms-fusion-1688-pc-pc-ad-common-offer-2024`
//! / `.search-offer-wrapper` cards, and the hashed React cards
//! (`searchOfferWrapper--…` with `data-renderkey="…_<id>"`). The canonical
//! URL is built from the id. `span.price_num` is split by comment nodes
//! (`1<!-- -->.74`) and newer prices by elements (`327` + `.5`), so text
//! nodes are joined. `span.location` holds the turnover ("成交2.4万+元"),
//! despite its name. The seller's login id is URL-encoded in
//! `span.J_WangWang[data-nick]`.
//!
//! Offer pages: 2026 builds assign `window.context=(function(b,d){…})
//! (window.contextPath,{"result":{"data":{…},"global":{…}}})` — a JS literal
//! with bare numeric keys — holding `gallery.fields.{subject, offerImgList}`,
//! `productTitle.fields.{title, saleNum, shopInfo.companyName}`,
//! `mainPrice.fields.priceModel.currentPrices[{price, beginAmount}]` and
//! `global.globalData.model.{sellerModel, tradeModel, offerDetail}`; older
//! ones `window.runParams`, `window.__INIT_DATA`, `iDetailConfig`. The DOM
//! title is the fallback. GBK pages are decoded by `charset.rs`.
//!
//! Search keywords are sent GBK-encoded, as the site's own search box does.

use super::alibaba::{parse_lenient, price_of, range_price, valid_amount};
use super::dom::{
    css, drift, finish, first_attr, first_text, full_size_image, img_src, item_page,
    missing_fields, no_results, select, text_of,
};
use super::jsobject::{find_key, find_string};
use super::taobao::{is_click_tracker, says_no_results};
use super::text::{
    absolute_url, collapse_ws, first_number, gbk_query_value, parse_count, strip_markup, url_under,
};
use super::{check_coverage, jsobject, Marketplace, PageKind, PageOutcome, Readers};
use crate::model::listing::{Listing, Moq, Platform, Sales, SalesKind, Seller};
use scraper::{ElementRef, Html};
use serde_json::Value;
use std::collections::HashSet;
use url::Url;

/// The JavaScript variables older 1688 offer pages used for their data,
/// newest first (2026 pages use `window.context`, read separately).
const OFFER_BLOBS: &[&str] = &["window.runParams", "window.__INIT_DATA", "iDetailConfig"];
/// Prices on 1688 are yuan.
const CNY: &str = "CNY";

/// The 1688 parser.
pub struct S1688;

impl Marketplace for S1688 {
    fn platform(&self) -> Platform {
        Platform::S1688
    }

    fn is_item_page(&self, url: &Url) -> bool {
        let host = url.host_str().unwrap_or_default();
        host.starts_with("detail.") || url.path().contains("/offer/")
    }

    fn readers(&self) -> Readers {
        Readers {
            search: parse_search,
            item: parse_offer,
        }
    }

    fn search_url(&self, base: &Url, term: &str, page: u32) -> Url {
        let mut u = url_under(base, "selloffer/offer_search.htm");
        let keywords = gbk_query_value(term);
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

// ---------------------------------------------------------------- search

fn parse_search(url: &Url, html: &str) -> PageOutcome {
    let mut listings = json_offers(html, url);
    let doc = Html::parse_document(html);
    // JSON listings win; a rendered card fills what its JSON entry
    // lacks, and cards the JSON does not list are kept.
    super::merge_cards(&mut listings, search_cards(&doc, url));
    if listings.is_empty() {
        if says_no_results(html) {
            return no_results(Platform::S1688);
        }
        return drift(Platform::S1688, url, PageKind::Search, vec!["div.smart_ui_offer.offer_item".to_string()], "a search page with neither offer JSON (pageConfig.listOffer, window.data) nor offer cards (div.smart_ui_offer.offer_item, .search-offer-wrapper, [class*=searchOfferWrapper])".to_string());
    }
    check_coverage(Platform::S1688, url, PageKind::Search, listings, None)
}

/// Offers from the search page's JSON, whichever build assigned it.
fn json_offers(html: &str, page: &Url) -> Vec<Listing> {
    let mut lists: Vec<Value> = Vec::new();
    if let Some(cfg) = jsobject::value_after(html, "var pageConfig") {
        if let Some(list) = cfg.get("listOffer") {
            lists.push(list.clone());
        }
    }
    if let Some(data) = jsobject::value_after(html, "window.data") {
        for path in [
            "offerV2Showed.offerList",
            "offerresultData.data.offerList",
            "offerV2.response.data.OFFER.items",
            "offerList",
        ] {
            if let Some(list) = jsobject::at(&data, path) {
                lists.push(list.clone());
                break;
            }
        }
    }
    let mut seen = HashSet::new();
    lists
        .iter()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|o| listing_from_json_offer(o, page))
        .filter(|l| seen.insert(l.id.clone()))
        .collect()
}

/// One offer object of the search JSON: `offerid`/`offerId`, `title`
/// (with `<font color=red>` highlights), `strPriceMoney` / `priceInfo.price`,
/// `imgUrl` (`….220x220.jpg`), `loginId`, `attr.company.{name, province,
/// city}`, `attr.tradeQuantity.{quantityBegin, unit}`, `isP4P` /
/// `itemType: "p4p"` for paid placements.
fn listing_from_json_offer(o: &Value, page: &Url) -> Option<Listing> {
    let s = |k: &str| jsobject::string_at(o, k);
    let id = ["offerid", "offerId", "id", "attr.id"]
        .iter()
        .find_map(|k| s(k))
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))?;
    let title = ["title", "subject", "information.subject"]
        .iter()
        .find_map(|k| s(k))
        .map(|t| strip_markup(&t))
        .unwrap_or_default();
    let price = [
        "strPriceMoney",
        "priceInfo.price",
        "price",
        "tradePrice.offerPrice.value",
    ]
    .iter()
    .filter_map(|k| s(k))
    .find_map(|t| price_of(&t, CNY))
    .or_else(|| split_price(jsobject::at(o, "attr.tradePrice.offerPrice.value")?));
    let image = [
        "imgUrl",
        "offerPicUrl",
        "image.imgUrl",
        "picUrl",
        "imageUrl",
    ]
    .iter()
    .find_map(|k| s(k))
    .and_then(|u| full_size_image(&u, page));
    let province = s("attr.company.province").or_else(|| s("province"));
    let city = s("attr.company.city").or_else(|| s("city"));
    let location = match (province, city) {
        (Some(p), Some(c)) => Some(format!("{p} {c}")),
        (p, c) => p.or(c),
    };
    let moq = jsobject::f64_at(o, "attr.tradeQuantity.quantityBegin")
        .or_else(|| jsobject::f64_at(o, "quantityBegin"))
        .filter(|q| q.is_finite() && *q > 0.0 && *q < 1e12)
        .map(|q| Moq {
            quantity: q as u64,
            unit: s("attr.tradeQuantity.unit").unwrap_or_else(|| "件".to_string()),
        });
    let sponsored = ["isP4P", "p4P", "isP4p"]
        .iter()
        .any(|k| o.get(*k).and_then(Value::as_bool) == Some(true))
        || s("itemType").as_deref() == Some("p4p");
    let listing = finish(Listing {
        price,
        seller: Seller {
            name: s("attr.company.name")
                .or_else(|| s("companyName"))
                .or_else(|| s("shop.text")),
            id: s("loginId").or_else(|| s("attr.aliTalk.loginId")),
            ..Seller::default()
        },
        images: image.into_iter().collect(),
        moq,
        location,
        sponsored,
        ..Listing::new(Platform::S1688, S1688.item_url(&id), id, title, page)
    });
    Some(listing)
}

/// `{"integer": 1, "decimals": 74}` → ¥1.74.
fn split_price(v: &Value) -> Option<crate::model::listing::Price> {
    let int = jsobject::f64_at(v, "integer")?;
    let dec = jsobject::string_at(v, "decimals").unwrap_or_default();
    price_of(&format!("{int}.{dec}"), CNY)
}

/// Every offer card on the page, of any vintage, first of each id kept.
fn search_cards(doc: &Html, page: &Url) -> Vec<Listing> {
    let root = doc.root_element();
    let mut cards: Vec<ElementRef<'_>> = select(root, css!(".smart_ui_offer, .offer_item, .sm-offer-item, a.ocms-fusion-1688-pc-pc-ad-common-offer-2024, .search-offer-wrapper, .search-offer-item, [class*='searchOfferWrapper']"));
    // A card nested in another card is the same offer: keep the outer one
    // only where both match (the 2024 anchor wraps `.search-offer-item`).
    let set: HashSet<_> = cards.iter().map(|c| c.id()).collect();
    cards.retain(|c| !c.ancestors().any(|a| set.contains(&a.id())));
    // The 2024 card is an `<a>` holding another `<a>` (the shop link);
    // HTML parsing splits it into an empty anchor and a clone with the
    // same attributes around the content, so cards of one id are merged.
    let mut out: Vec<Listing> = Vec::new();
    super::merge_cards(
        &mut out,
        cards.into_iter().filter_map(|c| card_listing(c, page)),
    );
    out.iter_mut().for_each(|o| o.missing = missing_fields(o));
    out
}

/// The offer id in an analytics attribute: `object_id@612345678901^…`.
fn object_id(report: &str) -> Option<String> {
    let rest = &report[report.find("object_id@")? + "object_id@".len()..];
    let id: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (!id.is_empty()).then_some(id)
}

/// An offer id from a link: `detail.1688.com/offer/<id>.html` or the 2026
/// mobile detail `…?offerId=<id>`.
fn id_from_link(href: &str, page: &Url) -> Option<String> {
    let abs = absolute_url(href, page)?;
    let u = Url::parse(&abs).ok()?;
    let host = u.host_str().unwrap_or_default();
    if !host.ends_with("1688.com") {
        return None;
    }
    if let Some((_, v)) = u
        .query_pairs()
        .find(|(k, _)| k == "offerId" || k == "offerIds")
    {
        let id: String = v.chars().take_while(char::is_ascii_digit).collect();
        if !id.is_empty() {
            return Some(id);
        }
    }
    let rest = &u.path()[u.path().find("/offer/")? + "/offer/".len()..];
    let id: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (!id.is_empty()).then_some(id)
}

/// A URL-encoded login id decoded: UTF-8 on current cards (`%E8%8D%A3…`),
/// GBK on older GBK pages (`%B0%C2…`).
fn decode_nick(raw: &str) -> String {
    let bytes = raw.trim().as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    let text = match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => {
            let (cow, _, _) = encoding_rs::GBK.decode(e.as_bytes());
            cow.into_owned()
        }
    };
    collapse_ws(&text)
}

/// The joined text nodes of an element whose digits are split by comments
/// or child elements ("1" + ".74", "327" + ".5").
fn joined_text(el: ElementRef<'_>) -> String {
    el.text().collect::<String>().split_whitespace().collect()
}

fn card_listing(card: ElementRef<'_>, page: &Url) -> Option<Listing> {
    let links: Vec<String> = std::iter::once(card)
        .chain(select(card, css!("a[href]")))
        .filter_map(|a| a.value().attr("href").map(str::to_string))
        .collect();
    // The report sits on the card, inside it, or (2018–2024 cards) on the
    // `div.offer_exp` that wraps it.
    let reports: Vec<String> = std::iter::once(card)
        .chain(select(card, css!("[data-aplus-report]")))
        .chain(card.ancestors().filter_map(ElementRef::wrap).take(3))
        .filter_map(|e| e.value().attr("data-aplus-report").map(str::to_string))
        .collect();
    let id = reports
        .iter()
        .find_map(|r| object_id(r))
        .or_else(|| {
            card.value()
                .attr("data-renderkey")
                .and_then(|k| k.rsplit('_').next())
                .filter(|s| s.len() >= 6 && s.bytes().all(|b| b.is_ascii_digit()))
                .map(str::to_string)
        })
        .or_else(|| {
            ["data-offerid", "offerid", "data-offer-id"]
                .iter()
                .find_map(|a| card.value().attr(a))
                .map(str::trim)
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .map(str::to_string)
        })
        .or_else(|| links.iter().find_map(|h| id_from_link(h, page)))?;
    let title = first_attr(
        card,
        &[css!("span.subject[title]"), css!(".title a[title]")],
        "title",
    )
    .or_else(|| {
        first_text(
            card,
            &[
                css!(".subject"),
                css!(".title-text"),
                css!("[class*='titleText']"),
                css!(".title"),
                css!("[class*='title']"),
            ],
        )
    })
    .map(|t| strip_markup(&t))
    .unwrap_or_default();
    let price = select(
        card,
        css!("span.price_num, .price_num, .sm-offer-priceNum, .price-item, [class*='priceItem']"),
    )
    .into_iter()
    .map(joined_text)
    .find(|t| t.chars().any(|c| c.is_ascii_digit()))
    .and_then(|t| price_of(&t, CNY));
    let main_img = select(card, css!(".mainPic img, .img img, img"))
        .into_iter()
        .find_map(img_src);
    let nick = select(card, css!(".J_WangWang[data-nick]"))
        .into_iter()
        .find_map(|e| e.value().attr("data-nick").map(decode_nick))
        .filter(|n| !n.is_empty());
    let company = select(card, css!(".company_name a, a.company_name, .company-name a, .sm-offer-companyName, .offer-shop-row a, .offer-shop-row .desc-text, [class*='shopName']"))
    .into_iter()
    .find(|c| c.value().attr("title").is_some() || !text_of(*c).is_empty());
    // A shop front link (`http://<shop>.1688.com`), wherever the card's
    // markup put it.
    let shop = select(card, css!("a[href]")).into_iter().find(|a| {
        a.value()
            .attr("href")
            .and_then(|h| absolute_url(h, page))
            .and_then(|h| Url::parse(&h).ok())
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .is_some_and(|h| {
                h.ends_with(".1688.com")
                    && ![
                        "detail.",
                        "dj.",
                        "air.",
                        "m.",
                        "s.",
                        "detail.m.",
                        "winport.m.",
                    ]
                    .iter()
                    .any(|p| h.starts_with(p))
            })
    });
    let seller = Seller {
        name: company
            .and_then(|c| c.value().attr("title").map(str::to_string))
            .or_else(|| company.map(text_of))
            .or_else(|| shop.map(text_of))
            .filter(|n| !n.is_empty())
            .or_else(|| nick.clone()),
        id: nick,
        url: shop
            .or(company)
            .and_then(|c| c.value().attr("href"))
            .filter(|h| !is_click_tracker(h))
            .and_then(|h| absolute_url(h, page)),
        ..Seller::default()
    };
    // `span.location` is the turnover on 2018–2024 cards; on older ones it
    // was the city. Tell them apart by the digits. Newer cards list
    // "已售500+件" / "2.4万+件" among their description texts.
    let loc_text = first_text(card, &[css!("span.location")]);
    let (mut sales, mut location) = match loc_text {
        Some(t) if first_number(&t).is_some() => (sales_from_text(&t), None),
        Some(t) => (None, Some(t)),
        None => (None, None),
    };
    if location.is_none() {
        location = first_text(card, &[css!(".sm-offer-location"), css!(".offer_location")]);
    }
    // Each element's own text (not its descendants'), so that "已售500+件"
    // is not read together with the price beside it.
    let texts: Vec<String> = select(card, css!("*"))
        .into_iter()
        .map(|e| {
            collapse_ws(
                &e.children()
                    .filter_map(|c| c.value().as_text().map(|t| t.to_string()))
                    .collect::<String>(),
            )
        })
        .filter(|t| !t.is_empty())
        .collect();
    if sales.is_none() {
        sales = texts
            .iter()
            .filter(|t| !t.contains("起批") && !t.contains("起订"))
            .filter(|t| t.starts_with("已售") || (t.ends_with('件') && t.contains('+')))
            .find_map(|t| sales_from_text(t));
    }
    let moq = texts
        .iter()
        .find(|t| t.starts_with('≥') || t.contains("起批") || t.contains("起订"))
        .and_then(|t| moq_of(t));
    let sponsored = links.iter().any(|h| is_click_tracker(h))
        || reports.iter().any(|r| r.contains("_p_isad@1"));
    let listing = finish(Listing {
        price,
        seller,
        images: main_img
            .and_then(|s| full_size_image(&s, page))
            .into_iter()
            .collect(),
        moq,
        sales,
        location,
        sponsored,
        ..Listing::new(Platform::S1688, S1688.item_url(&id), id, title, page)
    });
    Some(listing)
}

/// "≥10件起批", "1件起批", "3个起订" → quantity and unit.
fn moq_of(text: &str) -> Option<Moq> {
    let (n, end) = first_number(text)?;
    if !(1.0..1e12).contains(&n) {
        return None;
    }
    let unit = text[end..]
        .trim()
        .trim_end_matches("起批")
        .trim_end_matches("起订")
        .trim();
    Some(Moq {
        quantity: n as u64,
        unit: if unit.is_empty() { "件" } else { unit }.to_string(),
    })
}

/// A sales text with the kind its wording names: "成交2.4万+元" is yuan
/// traded, "已售500+件" / "2.4万+件" units sold.
fn sales_from_text(text: &str) -> Option<Sales> {
    let count = parse_count(text)?;
    let kind = if text.contains('元') {
        SalesKind::TurnoverCny
    } else if text.contains('月') {
        SalesKind::Monthly
    } else {
        SalesKind::Sold
    };
    Some(Sales {
        count,
        kind,
        text: collapse_ws(text),
    })
}

// ----------------------------------------------------------------- offer

/// The object the 2026 offer page passes to its `window.context` builder:
/// `window.context=(function(b,d){…})(window.contextPath,{…});`.
fn window_context(html: &str) -> Option<Value> {
    let at = html.find("window.context=")? + "window.context=".len();
    let rest = html.get(at..)?;
    // The builder function is short; the call's data argument follows it.
    let head = rest.get(..rest.len().min(4000)).unwrap_or(rest);
    head.find("(window.contextPath,")?;
    let literal = jsobject::object_after(rest, "(window.contextPath,")?;
    parse_lenient(literal)
}

/// A value at `path` under `root`, as a trimmed non-empty string.
fn at_str(root: &Value, path: &str) -> Option<String> {
    jsobject::string_at(root, path)
}

fn parse_offer(url: &Url, html: &str) -> PageOutcome {
    let doc = Html::parse_document(html);
    let root = doc.root_element();
    let context = window_context(html);
    let blob: Option<Value> = context.clone().or_else(|| {
        OFFER_BLOBS
            .iter()
            .find_map(|m| jsobject::value_after(html, m))
    });
    let field = |keys: &[&str]| blob.as_ref().and_then(|v| find_string(v, keys));
    // 2026 paths, explicit because the same keys recur in recommendations.
    let ctx = |paths: &[&str]| {
        context
            .as_ref()
            .and_then(|c| paths.iter().find_map(|p| at_str(c, p)))
    };

    let canonical = first_attr(root, &[css!("link[rel='canonical']")], "href");
    let id = id_from_link(url.as_str(), url)
        .or_else(|| canonical.as_deref().and_then(|c| id_from_link(c, url)))
        .or_else(|| {
            ctx(&[
                "result.global.globalData.model.offerDetail.offerId",
                "result.data.gallery.fields.offerId",
            ])
        })
        .or_else(|| field(&["offerId", "offerid"]))
        .filter(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()));
    let title = ctx(&[
        "result.data.productTitle.fields.title",
        "result.data.gallery.fields.subject",
        "result.global.globalData.model.offerDetail.subject",
    ])
    .or_else(|| field(&["offerTitle", "subject"]))
    .or_else(|| {
        first_text(
            root,
            &[
                css!("h1.d-title"),
                css!(".title-text"),
                css!(".od-pc-offer-title h1"),
                css!("#mod-detail-title h1"),
            ],
        )
    })
    .or_else(|| first_attr(root, &[css!("meta[property='og:title']")], "content"))
    .map(|t| strip_markup(&t))
    .filter(|t| !t.is_empty());
    let (Some(id), Some(title)) = (id, title) else {
        return drift(Platform::S1688, url, PageKind::Item, vec!["window.runParams".to_string(), "title".to_string()], "an offer page without its data blob (window.context, window.runParams, iDetailConfig) or a title".to_string());
    };

    // Tiered prices: [{beginAmount, price}] — the range is their span and
    // the smallest tier's quantity is the minimum order.
    let tier_list = context
        .as_ref()
        .and_then(|c| {
            [
                "result.data.mainPrice.fields.priceModel.currentPrices",
                "result.global.globalData.model.tradeModel.offerPriceModel.currentPrices",
            ]
            .iter()
            .find_map(|p| jsobject::at(c, p).and_then(Value::as_array))
        })
        .or_else(|| {
            blob.as_ref().and_then(|v| {
                [
                    "skuRangePrices",
                    "priceRanges",
                    "currentPrices",
                    "priceRange",
                ]
                .iter()
                .find_map(|k| find_key(v, k).and_then(Value::as_array))
            })
        });
    let tiers: Vec<(f64, Option<f64>)> = tier_list
        .map(|arr| {
            arr.iter()
                .filter_map(|t| {
                    let price = jsobject::f64_at(t, "price").filter(|p| valid_amount(*p))?;
                    Some((price, jsobject::f64_at(t, "beginAmount")))
                })
                .collect()
        })
        .unwrap_or_default();
    let price = range_price(&tiers.iter().map(|t| t.0).collect::<Vec<_>>(), CNY)
        .or_else(|| {
            ctx(&["result.global.globalData.model.tradeModel.priceDisplay"])
                .or_else(|| field(&["priceDisplay", "refPrice", "price"]))
                .and_then(|p| price_of(&p, CNY))
        })
        .or_else(|| {
            first_text(root, &[css!(".price-text"), css!(".price-now")])
                .and_then(|p| price_of(&p, CNY))
        });
    let unit = ctx(&[
        "result.global.globalData.model.tradeModel.unit",
        "result.data.productTitle.fields.unit",
    ])
    .or_else(|| field(&["offerUnit", "unit"]))
    .unwrap_or_else(|| "件".to_string());
    let moq = ctx(&["result.global.globalData.model.tradeModel.beginAmount"])
        .and_then(|b| b.parse::<f64>().ok())
        .or_else(|| {
            tiers
                .iter()
                .filter_map(|t| t.1)
                .fold(None, |min: Option<f64>, q| {
                    Some(min.map_or(q, |m| m.min(q)))
                })
        })
        .or_else(|| field(&["beginAmount"]).and_then(|b| b.parse().ok()))
        .filter(|q| q.is_finite() && *q > 0.0 && *q < 1e12)
        .map(|q| Moq {
            quantity: q as u64,
            unit: unit.clone(),
        });

    let seller = Seller {
        name: ctx(&[
            "result.global.globalData.model.sellerModel.companyName",
            "result.data.productTitle.fields.shopInfo.companyName",
        ])
        .or_else(|| field(&["companyName"]))
        .or_else(|| first_text(root, &[css!(".company-name"), css!(".company-name-text")])),
        id: ctx(&["result.global.globalData.model.sellerModel.loginId"])
            .or_else(|| field(&["sellerLoginId", "loginId"]))
            .map(|n| decode_nick(&unescape_u(&n)))
            .filter(|n| !n.is_empty()),
        url: ctx(&["result.global.globalData.model.sellerModel.winportUrl"])
            .or_else(|| field(&["sellerWinportUrl", "winportUrl", "companySiteLink"]))
            .and_then(|h| absolute_url(&h, url)),
        ..Seller::default()
    };

    let mut images: Vec<String> = Vec::new();
    let push = |images: &mut Vec<String>, raw: Option<String>| {
        if let Some(u) = raw.and_then(|r| full_size_image(&r, url)) {
            if !images.contains(&u) {
                images.push(u);
            }
        }
    };
    let list = context
        .as_ref()
        .and_then(|c| {
            [
                "result.data.gallery.fields.offerImgList",
                "result.data.gallery.fields.mainImage",
            ]
            .iter()
            .find_map(|p| jsobject::at(c, p).and_then(Value::as_array))
        })
        .or_else(|| {
            blob.as_ref().and_then(|v| {
                ["images", "offerImgList", "imageList"]
                    .iter()
                    .find_map(|k| find_key(v, k).and_then(Value::as_array))
            })
        });
    for img in list.into_iter().flatten().take(64) {
        push(
            &mut images,
            match img {
                Value::String(s) => Some(s.clone()),
                other => find_string(other, &["fullPathImageURI", "originalImageURI", "imageURI"]),
            },
        );
    }
    if images.is_empty() {
        let gallery = select(
            root,
            css!(".detail-gallery-img, #dt-tab img, .tab-trigger img"),
        );
        for img in gallery {
            push(
                &mut images,
                img_src(img).or_else(|| {
                    img.value()
                        .attr("data-imgs")
                        .and_then(jsobject::parse_literal)
                        .and_then(|v| jsobject::string_at(&v, "original"))
                }),
            );
        }
        push(
            &mut images,
            first_attr(root, &[css!("meta[property='og:image']")], "content"),
        );
    }

    let sales = ctx(&["result.data.productTitle.fields.saleNum"])
        .map(|n| format!("已售{n}"))
        .or_else(|| field(&["saledCount", "saleCount"]))
        .and_then(|s| sales_from_text(&s));
    let location = ctx(&[
        "result.data.shippingServices.fields.location",
        "result.global.globalData.model.detailDescription.freightInfo.location",
    ])
    .or_else(|| field(&["location", "sendArea"]));
    let listing = finish(Listing {
        price,
        seller,
        images,
        moq,
        sales,
        location,
        ..Listing::new(Platform::S1688, S1688.item_url(&id), id, title, url)
    });
    item_page(Platform::S1688, listing)
}

/// Decodes literal `\uXXXX` sequences left in a string that was escaped
/// twice (`"\\u9E64\\u6765"` in 2026 page parameters).
fn unescape_u(s: &str) -> String {
    if !s.contains("\\u") {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find("\\u") {
        out.push_str(&rest[..p]);
        let hex = rest.get(p + 2..p + 6);
        match hex
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32)
        {
            Some(c) => {
                out.push(c);
                rest = &rest[p + 6..];
            }
            None => {
                out.push_str("\\u");
                rest = &rest[p + 2..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marketplaces::dom::test_url as u;

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
