//! Taobao parser (search and item pages), plus the helpers its sister sites
//! Tmall and 1688 share with it: one Alibaba China stack, so the same
//! quirks recur (`alicdn` size suffixes on photos, `\u`-escaped JavaScript
//! literals, URL-encoded nicks, sales counted as "人付款" or "月成交").
//!
//! Search pages: every source the page has is read and merged by item id,
//! because a browser-saved page carries more than one:
//! 1. `g_page_config = {…};` → `mods.itemlist.data.auctions[]` (the server's
//!    first batch; 36 of the 48 cards a 2018 page showed);
//! 2. the rendered DOM `#mainsrp-itemlist .items .item` (adds the row that
//!    came later by XHR, `data-category="personalityData"`);
//! 3. the 2023–2025 React cards whose class names are hashed build names
//!    (`Card--doubleCardWrapper--L2XFE73`, `doubleCardWrapperAdapt--…`),
//!    matched by their stable part.
//!
//! Item pages, JSON first: the 2025 SSR build's `__ICE_APP_CONTEXT__`
//! (`loaderData.home.data.res.{item,seller,componentsVO}`), then the React
//! DOM (`mainTitle--…`, `highlightPrice--…`, `shopName--…`,
//! `thumbnailPic--…`), then the server DOM of 2013–2021:
//! `.tb-main-title[data-title]`, `#J_StrPrice .tb-rmb-num`,
//! `.tb-shop-name a[title]`, `#J_ImgBooth`, and `g_config = {…}`, a
//! JavaScript literal (it holds `+new Date` and function calls, so its
//! scalars are read one by one when it does not parse as JSON5).
//!
//! Listing URLs are always built from the item id: search results link to
//! `click.simba.taobao.com` trackers for paid placements.

use super::dom::{
    css, drift, finish, first_attr, first_text, full_size_image, img_src, item_page,
    missing_fields, no_results, select, text_of, Css,
};
use super::jsobject::find_key;
use super::text::{absolute_url, collapse_ws, parse_price, parse_sales, strip_markup, url_under};
use super::{check_coverage, jsobject, Marketplace, PageKind, PageOutcome, Readers};
use crate::model::listing::{Listing, Platform, Price, Sales, SalesKind, Seller};
use scraper::{ElementRef, Html};
use serde_json::Value;
use url::Url;

/// Results per Taobao search page; page N starts at `s = 44 × (N-1)`.
pub const SEARCH_PAGE_SIZE: u32 = 44;

/// Canonical item URL prefix; the id is appended.
const ITEM_URL_PREFIX: &str = "https://item.taobao.com/item.htm?id=";

/// The Taobao parser.
pub struct Taobao;

impl Marketplace for Taobao {
    fn platform(&self) -> Platform {
        Platform::Taobao
    }

    fn is_item_page(&self, url: &Url) -> bool {
        let host = url.host_str().unwrap_or_default();
        let path = url.path();
        host.starts_with("item.") || path.ends_with("/item.htm") || path.starts_with("/item/")
    }

    /// No block detection here: `parse_page` asks `block` only when a
    /// page yields no listings, because real data pages mention login
    /// hosts and punish URLs in their scripts.
    fn readers(&self) -> Readers {
        Readers {
            search: parse_search,
            item: parse_item,
        }
    }

    fn search_url(&self, base: &Url, term: &str, page: u32) -> Url {
        let mut u = url_under(base, "search");
        {
            let mut q = u.query_pairs_mut();
            q.append_pair("q", term);
            if page > 1 {
                q.append_pair("s", &(SEARCH_PAGE_SIZE * (page - 1)).to_string());
            }
        }
        u
    }

    fn item_url(&self, id: &str) -> String {
        format!("{ITEM_URL_PREFIX}{}", encode_component(id))
    }
}

fn parse_search(url: &Url, html: &str) -> PageOutcome {
    let mut missing = Vec::new();
    let mut detail = String::new();
    let mut listings: Vec<Listing> = Vec::new();
    let mut total = None;
    let mut auctions_seen = 0;
    let mut page_says_empty = false;
    if html.contains("g_page_config") {
        match jsobject::value_after(html, "g_page_config") {
            Some(cfg) => {
                if let Some(auctions) =
                    jsobject::at(&cfg, "mods.itemlist.data.auctions").and_then(Value::as_array)
                {
                    auctions_seen = auctions.len();
                    listings = auctions
                        .iter()
                        .filter_map(|a| auction_listing(a, url))
                        .collect();
                    total = search_total(&cfg);
                } else if jsobject::string_at(&cfg, "mods.nores.status").as_deref() == Some("show")
                {
                    page_says_empty = true;
                } else {
                    missing.push("mods.itemlist.data.auctions".to_string());
                    detail.push_str("g_page_config has no mods.itemlist.data.auctions");
                }
            }
            None => {
                missing.push("g_page_config".to_string());
                detail.push_str("g_page_config is present but does not parse");
            }
        }
    } else {
        missing.push("g_page_config".to_string());
        detail.push_str("no g_page_config");
    }

    // A browser-saved page holds the rendered DOM as well: the blob has the
    // first batch only (36 of 48 on a 2018 page; the personalised row of 12
    // came later by XHR and exists only as cards), so the cards are merged
    // in rather than used as a fallback.
    let doc = Html::parse_document(html);
    for card in dom_cards(&doc, url)
        .into_iter()
        .chain(hashed_cards(&doc, url))
    {
        if super::budget::spent() {
            break;
        }
        merge_into(&mut listings, card);
    }
    if !listings.is_empty() {
        return check_coverage(Platform::Taobao, url, PageKind::Search, listings, total);
    }
    if auctions_seen > 0 {
        return drift(
            Platform::Taobao,
            url,
            PageKind::Search,
            ["nid"],
            format!("{auctions_seen} auctions in g_page_config, none with an item id"),
        );
    }
    if page_says_empty || says_no_results(html) {
        return no_results(Platform::Taobao);
    }
    missing.push("#mainsrp-itemlist .item".to_string());
    missing.push("a[class*=doubleCardWrapper]".to_string());
    let shell = if html.contains("id=\"root\"") && html.contains("pc-search") {
        "; the page is the client-rendered shell (an empty #root filled by a script), \
         whose results come later by XHR"
    } else {
        ""
    };
    drift(
        Platform::Taobao,
        url,
        PageKind::Search,
        missing,
        format!("{detail}, and no result cards in the DOM{shell}"),
    )
}

/// Adds `card` to `listings`, or fills the fields an earlier view of the
/// same item lacks (JSON first, cards second).
pub(crate) fn merge_into(listings: &mut Vec<Listing>, card: Listing) {
    match listings.iter_mut().find(|l| l.id == card.id) {
        Some(known) => {
            known.merge_from(&card);
            known.missing = missing_fields(known);
        }
        None => listings.push(card),
    }
}
/// The result count a search page states (`pager.totalCount`).
fn search_total(cfg: &Value) -> Option<u64> {
    [
        "mods.pager.data.totalCount",
        "mods.sortbar.data.pager.totalCount",
    ]
    .iter()
    .find_map(|p| jsobject::f64_at(cfg, p))
    .filter(|n| *n >= 0.0)
    .map(|n| n as u64)
}

/// One `auctions[]` entry of `g_page_config`.
fn auction_listing(a: &Value, page: &Url) -> Option<Listing> {
    let id = jsobject::string_at(a, "nid")?;
    let title = jsobject::string_at(a, "raw_title")
        .or_else(|| jsobject::string_at(a, "title"))
        .map(|t| strip_markup(&t))
        .unwrap_or_default();
    let price = jsobject::string_at(a, "view_price").and_then(|p| cny_price(&p));
    let user_id = jsobject::string_at(a, "user_id");
    let seller = Seller {
        name: jsobject::string_at(a, "nick").map(|n| strip_markup(&n)),
        url: jsobject::string_at(a, "shopLink")
            .and_then(|l| absolute_url(&l, page))
            .or_else(|| user_id.as_deref().map(shop_url)),
        id: user_id,
        ..Seller::default()
    };
    let images = jsobject::string_at(a, "pic_url")
        .and_then(|p| full_size_image(&p, page))
        .into_iter()
        .collect();
    let detail = jsobject::string_at(a, "detail_url").unwrap_or_default();
    let sponsored = a.get("p4p").is_some_and(truthy) || is_click_tracker(&detail);
    let listing = finish(Listing {
        price,
        seller,
        images,
        sales: jsobject::string_at(a, "view_sales").and_then(|s| sales_from_text(&s)),
        location: jsobject::string_at(a, "item_loc"),
        sponsored,
        ..Listing::new(Platform::Taobao, Taobao.item_url(&id), id, title, page)
    });
    Some(listing)
}

/// The server-rendered result cards (`#mainsrp-itemlist .items .item`).
fn dom_cards(doc: &Html, page: &Url) -> Vec<Listing> {
    let mut out: Vec<Listing> = Vec::new();
    for card in select(doc, css!("#mainsrp-itemlist .items .item")) {
        if super::budget::spent() {
            break;
        }
        let Some(id) = first_attr(card, &[css!("a[data-nid]")], "data-nid")
            .or_else(|| card.value().attr("data-nid").map(str::to_string))
            .or_else(|| {
                select(card, css!("a[href]"))
                    .into_iter()
                    .find_map(|a| a.value().attr("href").and_then(|h| query_param(h, "id")))
            })
        else {
            continue;
        };
        if out.iter().any(|l| l.id == id) {
            continue;
        }
        let title = first_text(card, &[css!(".row-2.title a")])
            .or_else(|| first_text(card, &[css!(".title a")]))
            .or_else(|| first_attr(card, &[css!("img")], "alt"))
            .unwrap_or_default();
        let price = first_text(card, &[css!(".price strong")])
            .or_else(|| first_text(card, &[css!(".price")]))
            .and_then(|p| cny_price(&p));
        let shop = select(card, css!(".shopname")).into_iter().next();
        let seller = Seller {
            // The shop link holds icon spans before the name: the last
            // non-empty text node is the name.
            name: shop.and_then(|s| {
                s.text()
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .last()
                    .map(str::to_string)
            }),
            id: shop.and_then(|s| s.value().attr("data-userid").map(str::to_string)),
            url: shop
                .and_then(|s| s.value().attr("href").or(s.value().attr("data-href")))
                .and_then(|h| absolute_url(h, page)),
            ..Seller::default()
        };
        let images = select(card, css!("img"))
            .into_iter()
            .next()
            .and_then(|img| img_src(img))
            .and_then(|s| full_size_image(&s, page))
            .into_iter()
            .collect();
        let sponsored = select(card, css!("a[href]"))
            .into_iter()
            .any(|a| a.value().attr("href").is_some_and(is_click_tracker));
        let listing = finish(Listing {
            price,
            seller,
            images,
            sales: first_text(card, &[css!(".deal-cnt")]).and_then(|s| sales_from_text(&s)),
            location: first_text(card, &[css!(".location")]),
            sponsored,
            ..Listing::new(Platform::Taobao, Taobao.item_url(&id), id, title, page)
        });
        out.push(listing);
    }
    out
}

/// The React result cards, whose class names end in a per-build hash,
/// matched by their stable part: `Card--doubleCardWrapper--L2XFE73` (2023),
/// `CardV2--doubleCardWrapper--…` and `doubleCardWrapperAdapt--mEcC7olq`
/// (2024–2025). Paid cards link to a `click.simba.taobao.com` tracker that
/// names no item: 2024+ builds carry the id as `id="item_id_<id>"`; a card
/// with no id anywhere cannot be given a canonical URL and is skipped.
fn hashed_cards(doc: &Html, page: &Url) -> Vec<Listing> {
    let mut out: Vec<Listing> = Vec::new();
    for card in select(doc, css!(r#"[class*="doubleCardWrapper"]"#)) {
        if super::budget::spent() {
            break;
        }
        // The outer <a> of a card, not its inner `doubleCard--` box.
        if card
            .value()
            .attr("class")
            .is_some_and(|c| !c.contains("doubleCardWrapper"))
        {
            continue;
        }
        let href = card
            .value()
            .attr("href")
            .map(str::to_string)
            .or_else(|| first_attr(card, &[css!("a[href]")], "href"))
            .unwrap_or_default();
        let Some(id) = card_id(card, &href) else {
            continue;
        };
        // The shop link nested in the card's <a> makes the HTML parser
        // close the card early and re-open clones of it (same class, id
        // and href) around the rest of its content: one item, several
        // elements, each holding part of the fields, merged below.
        let price = {
            let int = first_text(card, &[css!(r#"[class*="priceInt"]"#)]);
            let frac = first_text(card, &[css!(r#"[class*="priceFloat"]"#)]).unwrap_or_default();
            int.map(|i| format!("{i}{frac}"))
                .or_else(|| first_text(card, &[css!(r#"[class*="innerPriceWrapper"]"#)]))
                .or_else(|| first_text(card, &[css!(r#"[class*="priceWrapper"]"#)]))
                .and_then(|p| cny_price(&p))
        };
        let location = {
            let parts: Vec<String> = select(card, css!(r#"[class*="procity"]"#))
                .into_iter()
                .map(|e| collapse_ws(&e.text().collect::<String>()))
                .filter(|t| !t.is_empty())
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        };
        let shop = card_shop(card);
        let title = first_attr(card, &[css!(r#"[class*="title--"][title]"#)], "title")
            .or_else(|| first_text(card, &[css!(r#"[class*="Title--title"]"#)]))
            .or_else(|| first_text(card, &[css!(r#"[class*="title--"]"#)]))
            .or_else(|| card.value().attr("title").map(str::to_string))
            .map(|t| strip_markup(&t))
            .unwrap_or_default();
        let image = select(
            card,
            css!(r#"img[class*="ainPic"], img[class*="ainP4pPic"]"#),
        )
        .into_iter()
        .chain(select(card, css!("img")))
        .find_map(img_src)
        .and_then(|s| full_size_image(&s, page));
        let sponsored = is_click_tracker(&href)
            || select(card, css!(r#"[class*="P4p"], [class*="p4p"]"#))
                .into_iter()
                .next()
                .is_some();
        let listing = finish(Listing {
            price,
            seller: Seller {
                name: shop.and_then(shop_name),
                url: shop
                    .and_then(|s| {
                        s.value()
                            .attr("href")
                            .map(str::to_string)
                            .or_else(|| first_attr(s, &[css!("a[href]")], "href"))
                    })
                    .and_then(|h| absolute_url(&h, page)),
                ..Seller::default()
            },
            images: image.into_iter().collect(),
            sales: first_text(card, &[css!(r#"[class*="realSales"]"#)])
                .and_then(|s| sales_from_text(&s)),
            location,
            sponsored,
            ..Listing::new(Platform::Taobao, Taobao.item_url(&id), id, title, page)
        });
        merge_into(&mut out, listing);
    }
    out
}

/// The item id of a React card: the link's `id` parameter, the card's
/// `id="item_id_<id>"`, or a `data-id`/`data-nid` on it or inside it.
fn card_id(card: ElementRef<'_>, href: &str) -> Option<String> {
    let digits = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && s.len() <= 24 && s.chars().all(|c| c.is_ascii_digit()))
            .then(|| s.to_string())
    };
    query_param(href, "id")
        .and_then(|v| digits(&v))
        .or_else(|| {
            card.value()
                .attr("id")
                .and_then(|v| v.strip_prefix("item_id_"))
                .and_then(digits)
        })
        .or_else(|| {
            ["data-id", "data-nid", "data-item-id"]
                .iter()
                .find_map(|a| {
                    card.value().attr(a).and_then(digits).or_else(|| {
                        card.descendants()
                            .filter_map(ElementRef::wrap)
                            .find_map(|e| e.value().attr(a).and_then(digits))
                    })
                })
        })
}

/// The shop link of a React card. It is an <a> inside the card's <a>;
/// HTML parsing closes the card there, so the link may follow the card
/// as a sibling instead of sitting inside it.
fn card_shop(card: ElementRef<'_>) -> Option<ElementRef<'_>> {
    let shop_sel =
        css!(r#"[class*="ShopInfo--shopName"], [class*="shopNameText"], [class*="shopName--"]"#);
    let is_shop = |e: &ElementRef<'_>| {
        e.value().attr("class").is_some_and(|c| {
            c.contains("ShopInfo--shopName")
                || c.contains("shopNameText")
                || c.contains("shopName--")
        })
    };
    select(card, shop_sel).into_iter().next().or_else(|| {
        card.next_siblings()
            .filter_map(ElementRef::wrap)
            .take(8)
            .take_while(|e| {
                !e.value()
                    .attr("class")
                    .is_some_and(|c| c.contains("doubleCardWrapper"))
            })
            .find_map(|e| {
                if is_shop(&e) {
                    Some(e)
                } else {
                    select(e, shop_sel).into_iter().next()
                }
            })
    })
}

fn parse_item(url: &Url, html: &str) -> PageOutcome {
    let doc = Html::parse_document(html);
    let config = jsobject::object_after(html, "g_config");
    let cfg = |key: &str| config.and_then(|c| js_scalar(c, key));

    // Embedded JSON (2025+ SSR builds), then the rendered React DOM, then
    // the server DOM of the 2013–2021 build with its `g_config`.
    let server = {
        let shop_link = select(&doc, css!(".tb-shop-name a")).into_iter().next();
        ItemParts {
            id: cfg("itemId"),
            title: first_attr(
                doc.root_element(),
                &[css!(".tb-main-title[data-title]")],
                "data-title",
            )
            .or_else(|| first_text(doc.root_element(), &[css!(".tb-main-title")]))
            .or_else(|| cfg("title"))
            .map(|t| strip_markup(&t)),
            price: [
                css!("#J_PromoPriceNum"),
                css!("#J_StrPrice .tb-rmb-num"),
                css!(".tb-rmb-num"),
            ]
            .iter()
            .filter_map(|s| first_text(doc.root_element(), &[*s]))
            .find_map(|p| cny_price(&p)),
            seller: Seller {
                name: shop_link
                    .and_then(|a| a.value().attr("title").map(str::to_string))
                    .or_else(|| shop_link.map(|a| collapse_ws(&a.text().collect::<String>())))
                    .filter(|n| !n.is_empty())
                    .or_else(|| cfg("shopName")),
                id: cfg("sellerId"),
                url: shop_link
                    .and_then(|a| a.value().attr("href"))
                    .and_then(|h| absolute_url(h, url)),
                ..Seller::default()
            },
            images: item_images(&doc, url, css!("#J_ImgBooth"), css!("#J_UlThumb img")),
            ..ItemParts::default()
        }
    };
    let parts = item_parts(html, &doc, url, server);
    let id = id_param(url)
        .or(parts.id.clone())
        .or_else(|| id_from_path(url.path()));
    let (Some(id), Some(title)) = (id, parts.title.clone()) else {
        let mut missing = Vec::new();
        if config.is_none() && !html.contains("__ICE_APP_CONTEXT__") {
            missing.push("g_config".to_string());
        }
        missing.push(".tb-main-title".to_string());
        return drift(
            Platform::Taobao,
            url,
            PageKind::Item,
            missing,
            "an item page without a title or item id (looked for g_config, \
             __ICE_APP_CONTEXT__, .tb-main-title and [class*=mainTitle--])"
                .to_string(),
        );
    };
    let listing = parts.into_listing(Platform::Taobao, Taobao.item_url(&id), id, title, url);
    item_page(Platform::Taobao, listing)
}

/// What an item page says about its item, gathered from one source (a
/// JSON blob, the rendered DOM, the server DOM) so that sources can be
/// merged field by field.
#[derive(Debug, Default, Clone)]
pub(crate) struct ItemParts {
    pub id: Option<String>,
    pub title: Option<String>,
    pub price: Option<Price>,
    pub seller: Seller,
    pub images: Vec<String>,
    pub sales: Option<Sales>,
    pub location: Option<String>,
}

impl ItemParts {
    /// These parts, with gaps filled from `other`.
    pub(crate) fn or(mut self, other: ItemParts) -> ItemParts {
        self.id = self.id.or(other.id);
        self.title = self.title.or(other.title);
        self.price = self.price.or(other.price);
        self.seller.name = self.seller.name.or(other.seller.name);
        self.seller.id = self.seller.id.or(other.seller.id);
        self.seller.url = self.seller.url.or(other.seller.url);
        for img in other.images {
            if !self.images.contains(&img) {
                self.images.push(img);
            }
        }
        self.sales = self.sales.or(other.sales);
        self.location = self.location.or(other.location);
        self
    }

    /// The listing, once the id and title are known.
    pub(crate) fn into_listing(
        self,
        platform: Platform,
        item_url: String,
        id: String,
        title: String,
        page: &Url,
    ) -> Listing {
        finish(Listing {
            price: self.price,
            seller: self.seller,
            images: self.images,
            sales: self.sales,
            location: self.location,
            ..Listing::new(platform, item_url, id, title, page)
        })
    }
}

/// The item in the JSON a 2025+ item page embeds for its SSR app:
/// `window.__ICE_APP_CONTEXT__` (assigned from a local `var b = {…}` in
/// `tbpc-pc-detail-ssr-2025`, under `loaderData.home.data.res`) or
/// `window.__INIT_DATA__`. Taobao and Tmall share the build.
pub(crate) fn embedded_item(html: &str, page: &Url) -> ItemParts {
    let Some(res) = ice_context(html)
        .as_ref()
        .and_then(|v| item_root(v).cloned())
        .or_else(|| {
            jsobject::value_after(html, "__INIT_DATA__").and_then(|v| item_root(&v).cloned())
        })
    else {
        return ItemParts::default();
    };
    let s = |path: &str| jsobject::string_at(&res, path);
    let price = [
        "componentsVO.priceVO.extraPrice",
        "componentsVO.priceVO.price",
        "priceVO.extraPrice",
        "priceVO.price",
    ]
    .iter()
    .filter(|p| jsobject::string_at(&res, &format!("{p}.hiddenPrice")).as_deref() != Some("true"))
    .filter_map(|p| jsobject::string_at(&res, &format!("{p}.priceText")))
    .find_map(|t| cny_price(&t));
    let images: Vec<String> = ["item.images", "componentsVO.headImageVO.images"]
        .iter()
        .filter_map(|p| jsobject::at(&res, p).and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|u| full_size_image(u, page))
        .fold(Vec::new(), |mut acc, u| {
            if !acc.contains(&u) {
                acc.push(u);
            }
            acc
        });
    ItemParts {
        id: s("item.itemId").filter(|v| v.chars().all(|c| c.is_ascii_digit())),
        title: s("item.title")
            .or_else(|| s("componentsVO.titleVO.title.title"))
            .map(|t| strip_markup(&t)),
        price,
        seller: Seller {
            name: s("seller.shopName")
                .or_else(|| s("componentsVO.storeCardVO.shopName"))
                .or_else(|| s("seller.sellerNick")),
            id: s("seller.sellerId").or_else(|| s("seller.userId")),
            url: s("seller.pcShopUrl")
                .or_else(|| s("componentsVO.storeCardVO.shopUrl"))
                .and_then(|u| absolute_url(&u, page)),
            ..Seller::default()
        },
        images,
        sales: s("componentsVO.titleVO.salesDesc").and_then(|t| sales_from_text(&t)),
        location: s("componentsVO.deliveryVO.deliveryFromAddr"),
    }
}

/// The object assigned to `window.__ICE_APP_CONTEXT__`: either directly
/// or, in the 2025 build, through a local (`var a = window.__ICE_APP_CONTEXT__
/// || {};var b = {…};… window.__ICE_APP_CONTEXT__=b;`).
fn ice_context(html: &str) -> Option<Value> {
    let mut from = 0;
    // A handful of mentions at most; bounded so that a hostile page with
    // thousands of them costs nothing.
    for _ in 0..16 {
        let rest = html.get(from..)?;
        let pos = rest.find("__ICE_APP_CONTEXT__")? + "__ICE_APP_CONTEXT__".len();
        from += pos;
        let after = &rest[pos..];
        // Look a short way past the mention only (char-safe: the page is
        // mostly Chinese text).
        let near = after
            .char_indices()
            .nth(200)
            .map_or(after.len(), |(i, _)| i);
        for marker in ["var b =", "var b=", "="] {
            let Some(at) = after[..near].find(marker) else {
                continue;
            };
            let here = &after[at..];
            // The literal must follow the marker itself, not a later `=`
            // that `object_after` would also accept.
            let starts_here = |o: &&str| {
                let offset = o.as_ptr() as usize - here.as_ptr() as usize;
                here[marker.len()..offset].trim().is_empty()
            };
            if let Some(v) = jsobject::object_after(here, marker)
                .filter(starts_here)
                .filter(|o| o.len() > 2)
                .and_then(jsobject::parse_literal)
                .filter(|v| item_root(v).is_some())
            {
                return Some(v);
            }
        }
    }
    None
}

/// The object that holds `item` (and `seller`) in an item page blob.
fn item_root(v: &Value) -> Option<&Value> {
    let has_item = |r: &&Value| r.get("item").is_some_and(Value::is_object);
    jsobject::at(v, "loaderData.home.data.res")
        .filter(has_item)
        .or_else(|| find_key(v, "res").filter(has_item))
        .or_else(|| Some(v).filter(has_item))
}

/// An item page's facts, newest build first: the SSR JSON, then the
/// React DOM, then what the old server-rendered build showed (`server`),
/// field by field. Shared by Taobao and Tmall (one stack).
pub(crate) fn item_parts(html: &str, doc: &Html, page: &Url, server: ItemParts) -> ItemParts {
    embedded_item(html, page)
        .or(rendered_item(doc, page))
        .or(server)
}

/// The numeric `id` parameter of an item URL.
pub(crate) fn id_param(url: &Url) -> Option<String> {
    query_param(url.as_str(), "id").filter(|v| v.chars().all(|c| c.is_ascii_digit()))
}

/// The item as the 2023–2026 React item pages render it, class names
/// matched by their stable part: `ItemHeader--mainTitle--…` (2023) or
/// `mainTitle--R75fTcZL` (2025), the highlighted price (`券后`, what a
/// buyer pays) before the struck one, `ShopHeader--shopName--…` /
/// `shopName--…`, and the gallery's `thumbnailPic--…` images.
pub(crate) fn rendered_item(doc: &Html, page: &Url) -> ItemParts {
    let title = first_attr(
        doc.root_element(),
        &[css!(r#"[class*="mainTitle--"][title]"#)],
        "title",
    )
    .or_else(|| first_text(doc.root_element(), &[css!(r#"[class*="mainTitle--"]"#)]))
    .map(|t| strip_markup(&t));
    let price = [
        css!(r#"[class*="highlightPrice--"] [class*="text--"]"#),
        css!(r#"[class*="Price--priceText"]"#),
        css!(r#"[class*="priceText--"]"#),
        css!(r#"[class*="subPrice--"] [class*="text--"]"#),
    ]
    .iter()
    .filter_map(|css| {
        select(doc, *css)
            .into_iter()
            .map(text_of)
            .find(|t| t.chars().any(|c| c.is_ascii_digit()))
    })
    .find_map(|t| cny_price(&t));
    let shop = select(
        doc,
        css!(r#"[class*="shopName--"], [class*="ShopHeader--shopName"]"#),
    )
    .into_iter()
    .next();
    let shop_link = select(
        doc,
        css!(r#"a[class*="shopName"], a[class*="ShopHeader--"]"#),
    )
    .into_iter()
    .next();
    let mut images: Vec<String> = Vec::new();
    for img in select(
        doc,
        css!(
            r#"img[class*="thumbnailPic"], img[class*="mainPic--"], img[class*="PicGallery--mainPic"]"#
        ),
    ) {
        if let Some(u) = img_src(img).and_then(|s| full_size_image(&s, page)) {
            if !images.contains(&u) {
                images.push(u);
            }
        }
    }
    ItemParts {
        id: None,
        title,
        price,
        seller: Seller {
            name: shop.and_then(shop_name),
            url: shop_link
                .and_then(|a| a.value().attr("href"))
                .and_then(|h| absolute_url(h, page)),
            ..Seller::default()
        },
        images,
        sales: None,
        location: None,
    }
}

/// A shop's name: its element's `title`, else its text.
fn shop_name(shop: ElementRef<'_>) -> Option<String> {
    let name = shop
        .value()
        .attr("title")
        .map(str::to_string)
        .unwrap_or_else(|| collapse_ws(&shop.text().collect::<String>()));
    (!name.is_empty()).then_some(name)
}

/// A CNY price from page text, or nothing when the number is not a
/// plausible price (pages are hostile input: no NaN, zero, negative or
/// absurd amounts).
pub(crate) fn cny_price(text: &str) -> Option<Price> {
    sane_price(parse_price(text, "CNY")?)
}

/// `p` when its amount is finite, positive and below a billion; a `max`
/// that is not a plausible upper bound is dropped.
pub(crate) fn sane_price(mut p: Price) -> Option<Price> {
    const ABSURD: f64 = 1e9;
    if !(p.amount.is_finite() && p.amount > 0.0 && p.amount < ABSURD) {
        return None;
    }
    p.max = p
        .max
        .filter(|m| m.is_finite() && *m > p.amount && *m < ABSURD);
    Some(p)
}
// ---------------------------------------------------------------------------
// Helpers shared by the Taobao, Tmall and 1688 parsers.
// ---------------------------------------------------------------------------

/// The main photo and thumbnails of an item page, absolute, full size,
/// without duplicates.
pub(crate) fn item_images(doc: &Html, page: &Url, booth: Css, thumbs: Css) -> Vec<String> {
    let mut images: Vec<String> = Vec::new();
    let booth_imgs = select(doc, booth).into_iter().filter_map(|img| {
        img_src(img).or_else(|| {
            // `#J_ImgBooth` is sometimes the wrapper, not the <img>.
            select(img, css!("img")).into_iter().find_map(img_src)
        })
    });
    let thumb_imgs = select(doc, thumbs).into_iter().filter_map(img_src);
    for raw in booth_imgs.chain(thumb_imgs) {
        if let Some(u) = full_size_image(&raw, page) {
            if !images.contains(&u) {
                images.push(u);
            }
        }
    }
    images
}

/// A sales text parsed with the kind its wording names: "7261人付款" are
/// buyers, "月成交 95笔" / "月销 300+" a month's sales, "成交2.4万+元"
/// yuan traded, anything else units sold.
pub(crate) fn sales_from_text(text: &str) -> Option<Sales> {
    let kind = if text.contains('元') {
        SalesKind::TurnoverCny
    } else if text.contains('月') {
        SalesKind::Monthly
    } else if ["人付款", "人收货", "人购买", "人已购"]
        .iter()
        .any(|w| text.contains(w))
    {
        SalesKind::Buyers
    } else {
        SalesKind::Sold
    };
    parse_sales(text, kind)
}

/// A click tracker that does not name the item (paid placements).
pub(crate) fn is_click_tracker(href: &str) -> bool {
    let h = href.to_ascii_lowercase();
    [
        "click.simba.taobao.com",
        "dj.1688.com/ci_bb",
        "click.mz.simba.taobao.com",
        "s.click.taobao.com",
    ]
    .iter()
    .any(|t| h.contains(t))
}

/// A query parameter of a possibly protocol-relative or relative URL.
pub(crate) fn query_param(href: &str, name: &str) -> Option<String> {
    let base = Url::parse("https://base.invalid/").ok()?;
    let u = if let Some(rest) = href.trim().strip_prefix("//") {
        Url::parse(&format!("https://{rest}")).ok()?
    } else {
        base.join(href.trim()).ok()?
    };
    u.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The first run of digits after `/item/` or `/offer/` in a path.
pub(crate) fn id_from_path(path: &str) -> Option<String> {
    ["/item/", "/offer/"].iter().find_map(|p| {
        let rest = &path[path.find(p)? + p.len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        (!digits.is_empty()).then_some(digits)
    })
}

/// Percent-encodes an id for use in a query value.
pub(crate) fn encode_component(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.trim().as_bytes()).collect()
}

/// A Taobao shop front from the seller's numeric user id.
fn shop_url(user_id: &str) -> String {
    format!(
        "https://store.taobao.com/shop/view_shop.htm?user_number_id={}",
        encode_component(user_id)
    )
}

/// JSON truthiness as the sites use it (`1`, `"1"`, `true`, `"true"`).
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => matches!(s.trim(), "1" | "true" | "yes"),
        _ => false,
    }
}

/// Decodes a URL-encoded nick (`%E5%A5%A5…`, `+` for space). The bytes are
/// UTF-8 on current pages and GBK on older ones; both are accepted.
pub(crate) fn decode_nick(raw: &str) -> String {
    let bytes = raw.trim().as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => {
            let bytes = e.into_bytes();
            let (text, _, _) = encoding_rs::GB18030.decode(&bytes);
            text.into_owned()
        }
    }
}

/// Reads one scalar (`key: 'value'`, `"key":"value"`, `key: 123`) from a
/// JavaScript object literal that is not valid JSON5, decoding `\u` and
/// `\x` escapes. The key must stand as a whole word.
pub(crate) fn js_scalar(literal: &str, key: &str) -> Option<String> {
    let bytes = literal.as_bytes();
    let mut from = 0;
    while let Some(pos) = literal[from..].find(key) {
        let start = from + pos;
        let end = start + key.len();
        from = end;
        let before = start.checked_sub(1).map(|i| bytes[i]);
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$') {
            continue;
        }
        let mut rest = &literal[end..];
        rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest);
        let Some(after_colon) = rest.trim_start().strip_prefix(':') else {
            continue;
        };
        let value = after_colon.trim_start();
        if let Some(q) = value.chars().next().filter(|c| *c == '\'' || *c == '"') {
            let body = &value[1..];
            let mut escaped = false;
            for (i, c) in body.char_indices() {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    let s = unescape_js(&body[..i]);
                    return (!s.trim().is_empty()).then(|| s.trim().to_string());
                }
            }
            return None;
        }
        let token: String = value
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            .collect();
        return (!token.is_empty() && token != "null" && token != "undefined").then_some(token);
    }
    None
}

/// Decodes JavaScript string escapes (`\u5965`, surrogate pairs, `\x41`,
/// `\n`, `\'`). Malformed escapes are kept as written.
pub(crate) fn unescape_js(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    let mut pending_high: Option<u32> = None;
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16) {
                    Ok(code @ 0xD800..=0xDBFF) => pending_high = Some(code),
                    Ok(code @ 0xDC00..=0xDFFF) => {
                        if let Some(high) = pending_high.take() {
                            let combined = 0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00);
                            out.extend(char::from_u32(combined));
                        }
                    }
                    Ok(code) => out.extend(char::from_u32(code)),
                    Err(_) => {
                        out.push_str("\\u");
                        out.push_str(&hex);
                    }
                }
            }
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => {
                        out.push_str("\\x");
                        out.push_str(&hex);
                    }
                }
            }
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Search pages that state there are no results ("没有找到", "没找到与").
pub(crate) fn says_no_results(html: &str) -> bool {
    ["没有找到与", "没找到与", "没有找到相关", "抱歉，没有找到"]
        .iter()
        .any(|m| html.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marketplaces::dom::test_url as u;

    #[test]
    fn search_url_keeps_prefix_and_pages_by_44() {
        let t = Taobao;
        assert_eq!(
            t.search_url(&u("https://s.taobao.com/"), "奥罗拉", 1)
                .as_str(),
            "https://s.taobao.com/search?q=%E5%A5%A5%E7%BD%97%E6%8B%89"
        );
        assert_eq!(
            t.search_url(&u("http://127.0.0.1:8080/taobao/"), "AURORA cup", 3)
                .as_str(),
            "http://127.0.0.1:8080/taobao/search?q=AURORA+cup&s=88"
        );
        assert_eq!(t.item_url("123"), "https://item.taobao.com/item.htm?id=123");
    }

    #[test]
    fn page_kinds() {
        let t = Taobao;
        assert_eq!(
            t.page_kind(&u("https://item.taobao.com/item.htm?id=1")),
            PageKind::Item
        );
        assert_eq!(
            t.page_kind(&u("https://s.taobao.com/search?q=x")),
            PageKind::Search
        );
        assert_eq!(
            t.page_kind(&u("https://world.taobao.com/item/12.htm")),
            PageKind::Item
        );
    }

    #[test]
    fn sales_kinds_follow_the_wording() {
        let s = sales_from_text("7261人付款").unwrap();
        assert_eq!((s.count, s.kind), (7261, SalesKind::Buyers));
        let s = sales_from_text("月成交 95笔").unwrap();
        assert_eq!((s.count, s.kind), (95, SalesKind::Monthly));
        let s = sales_from_text("成交2.4万+元").unwrap();
        assert_eq!((s.count, s.kind), (24000, SalesKind::TurnoverCny));
        let s = sales_from_text("1万+人付款").unwrap();
        assert_eq!((s.count, s.kind), (10000, SalesKind::Buyers));
        assert!(sales_from_text("暂无").is_none());
    }

    #[test]
    fn js_scalars_from_a_non_json_literal() {
        let lit = r"{ startTime: +new Date, itemId: '681234567001', sellerId : 2206712345001,
            shopName: '\u6f6e\u54c1 \x41', idleItem: false, sibUrl: '//a.b/c?x=1', notitemId: 'no' }";
        assert_eq!(js_scalar(lit, "itemId").as_deref(), Some("681234567001"));
        assert_eq!(js_scalar(lit, "sellerId").as_deref(), Some("2206712345001"));
        assert_eq!(js_scalar(lit, "shopName").as_deref(), Some("潮品 A"));
        assert_eq!(js_scalar(lit, "missing"), None);
        assert_eq!(js_scalar(r#"{"a":"x\"y"}"#, "a").as_deref(), Some("x\"y"));
    }

    #[test]
    fn surrogate_pairs_decode() {
        assert_eq!(unescape_js(r"\ud83d\ude80 ok"), "🚀 ok");
        assert_eq!(unescape_js(r"bad \uZZZZ"), r"bad \uZZZZ");
    }

    #[test]
    fn nicks_decode_from_utf8_and_gbk() {
        assert_eq!(decode_nick("%E5%A5%A5%E7%BD%97%E6%8B%89"), "奥罗拉");
        // 奥罗拉 in GBK
        assert_eq!(decode_nick("%B0%C2%C2%DE%C0%AD"), "奥罗拉");
        assert_eq!(decode_nick("a+b%2"), "a b%2");
        assert_eq!(decode_nick("100%"), "100%");
    }

    #[test]
    fn click_trackers_are_recognised() {
        assert!(is_click_tracker("//click.simba.taobao.com/cc_im?p=x"));
        assert!(is_click_tracker("https://dj.1688.com/ci_bb?a=1"));
        assert!(!is_click_tracker("//item.taobao.com/item.htm?id=1"));
    }

    #[test]
    fn hashed_react_cards_are_read() {
        let html = r#"<div><a class="Card--doubleCardWrapper--L2XFE73" href="//item.taobao.com/item.htm?id=7001&ns=1">
          <div class="MainPic--mainPicWrapper--iv9Yv90"><img class="MainPic--mainPic--rcLNaCv" src="https://g-search1.alicdn.com/img/bao/uploaded/i4/O1CN01x.jpg_460x460q90.jpg_.webp"></div>
          <div class="Title--title--jCOPvpf"><span>AURORA <span class="">奥罗拉</span>咖啡杯</span></div>
          <span class="Price--priceInt--ZlsSi_M">25</span><span class="Price--priceFloat--h2RR0RK">.50</span>
          <span class="Price--realSales--FhTZc7U">300+人付款</span>
          <div class="Price--procity--_7Vt3mX"><span>浙江</span></div><div class="Price--procity--_7Vt3mX"><span>金华</span></div>
          <a class="ShopInfo--shopName--rg6mGmy" href="//store.taobao.com/shop/view_shop.htm?appUid=x">杯具馆</a></a></div>"#;
        let out = Taobao.parse(&u("https://s.taobao.com/search?q=AURORA"), html);
        let l = &out.listings()[0];
        assert_eq!(l.id, "7001");
        assert_eq!(l.title, "AURORA 奥罗拉咖啡杯");
        assert_eq!(l.price.as_ref().unwrap().amount, 25.5);
        assert_eq!(l.sales.as_ref().unwrap().count, 300);
        assert_eq!(l.location.as_deref(), Some("浙江 金华"));
        assert_eq!(l.seller.name.as_deref(), Some("杯具馆"));
        assert_eq!(
            l.images,
            ["https://g-search1.alicdn.com/img/bao/uploaded/i4/O1CN01x.jpg"]
        );
    }

    #[test]
    fn empty_result_page_is_ok_not_drift() {
        let html = r#"<script>g_page_config = {"mods":{"itemlist":{"status":"hide"},"nores":{"status":"show"}}};</script>"#;
        let out = Taobao.parse(&u("https://s.taobao.com/search?q=zzz"), html);
        assert!(matches!(out, PageOutcome::Ok { ref listings, .. } if listings.is_empty()));
    }

    #[test]
    fn unparseable_blob_and_no_cards_is_drift() {
        let html = "<script>g_page_config = {\"mods\": {oops</script>";
        match Taobao.parse(&u("https://s.taobao.com/search?q=x"), html) {
            PageOutcome::Drift { missing, .. } => {
                assert!(missing.contains(&"g_page_config".to_string()))
            }
            other => panic!("expected drift, got {other:?}"),
        }
    }

    #[test]
    fn hostile_prices_are_rejected() {
        assert!(cny_price("¥0.00").is_none());
        assert!(cny_price("NaN").is_none());
        assert!(cny_price("99999999999").is_none());
        let p = cny_price("12.50-1e400").unwrap();
        assert_eq!((p.amount, p.max), (12.5, None));
    }

    #[test]
    fn ice_mentions_next_to_multibyte_text_do_not_panic() {
        // A mention ~200 bytes before a three-byte character (a real page
        // panicked on a byte-indexed window here).
        let html = format!(
            "<script>window.__ICE_APP_CONTEXT__ {}众众众</script>",
            "x".repeat(190)
        );
        assert!(ice_context(&html).is_none());
        let html = r#"<script>var a = window.__ICE_APP_CONTEXT__ || {};var b = {"loaderData":{"home":{"data":{"res":{"item":{"itemId":"5","title":"杯"}}}}}};</script>"#;
        let parts = embedded_item(html, &u("https://item.taobao.com/item.htm?id=5"));
        assert_eq!(parts.title.as_deref(), Some("杯"));
    }

    #[test]
    fn deep_json_is_bounded() {
        let deep = "[".repeat(5000) + &"]".repeat(5000);
        let v: Value = serde_json::from_str(&format!("{{\"a\":{deep}}}")).unwrap_or(Value::Null);
        assert!(find_key(&v, "x").is_none());
    }

    /// The login wall check is block.rs's now (one implementation for
    /// every parser and the fetcher); this keeps Taobao's two cases.
    #[test]
    fn header_login_link_is_not_a_sign_in_wall() {
        use super::super::block::{classify, ResponseFacts};
        let url = u("https://s.taobao.com/search?q=x");
        let html =
            r#"<a href="https://login.taobao.com/">登录</a><div id="mainsrp-itemlist"></div>"#;
        assert!(classify(&url, ResponseFacts::default(), html).is_none());
        let wall = r#"<form id="login-form" action="https://login.taobao.com/newlogin/login.do"><input type="password"></form>"#;
        assert!(classify(&url, ResponseFacts::default(), wall).is_some());
    }
}
