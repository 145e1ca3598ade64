//! Tmall parser: list (search) pages and item pages.
//!
//! List pages are server-rendered cards, `#J_ItemList div.product[data-id]`
//! (there is no JSON blob). The title is read from `.productTitle a[title]`
//! because the link text is split by highlight spans; "月成交 95笔" is a
//! month's sales. Real list pages come as GBK bytes: decoding happens
//! before this parser (see `charset`).
//!
//! Item pages of 2013–2021 carry `TShop.Setup({…})` (JSON with the item
//! id, the seller's id and URL-encoded nick) and the DOM: `.tb-detail-hd
//! h1`, `.tm-price` (a range), `.slogo-shopname`, `#J_ImgBooth`. Item pages
//! of 2023+ are Taobao's React/SSR build on `detail.tmall.com` (same JSON,
//! same hashed class names), read by the shared Taobao helpers. JSON first,
//! DOM second, field by field, because either may be thinned out by a
//! layout change. Real item pages are GBK; a browser-saved one may put its
//! `<meta charset="gbk">` after 150 KB of injected scripts.
//! Tmall Global pages (`detail.tmall.hk/hk/item.htm`, `list.tmall.hk`)
//! are the same builds under another host and are read here too; their
//! listings get the canonical `detail.tmall.com` item URL (one item id,
//! one listing key, whichever host showed it).
//! Helpers shared with Taobao and 1688 live in [`super::taobao`].

use super::dom::{
    css, drift, finish, first_attr, first_text, full_size_image, img_src, item_page, no_results,
    select,
};
use super::jsobject::{find_key, find_string};
use super::taobao::{
    cny_price, decode_nick, encode_component, id_param, is_click_tracker, item_images, item_parts,
    js_scalar, query_param, sales_from_text, says_no_results, ItemParts,
};
use super::text::{
    absolute_url, collapse_ws, gbk_query_value, parse_count, strip_markup, url_under,
};
use super::{check_coverage, jsobject, Marketplace, PageKind, PageOutcome, Readers};
use crate::model::listing::{Listing, Platform, Seller};
use scraper::Html;
use url::Url;

/// Results per Tmall list page; page N starts at `s = 60 × (N-1)`.
pub const SEARCH_PAGE_SIZE: u32 = 60;

/// The Tmall parser.
pub struct Tmall;

impl Marketplace for Tmall {
    fn platform(&self) -> Platform {
        Platform::Tmall
    }

    fn is_item_page(&self, url: &Url) -> bool {
        let host = url.host_str().unwrap_or_default();
        host.starts_with("detail.") || url.path().ends_with("/item.htm")
    }

    /// No block detection here: `parse_page` asks `block` only when a
    /// page yields no listings.
    fn readers(&self) -> Readers {
        Readers {
            search: parse_list,
            item: parse_item,
        }
    }

    /// The list pages are GBK, so the site's own search form sends the
    /// term GBK-encoded; so do we.
    fn search_url(&self, base: &Url, term: &str, page: u32) -> Url {
        let mut u = url_under(base, "search_product.htm");
        let q = gbk_query_value(term);
        let query = if page > 1 {
            format!("q={q}&s={}", SEARCH_PAGE_SIZE * (page - 1))
        } else {
            format!("q={q}")
        };
        u.set_query(Some(&query));
        u
    }

    fn item_url(&self, id: &str) -> String {
        format!(
            "https://detail.tmall.com/item.htm?id={}",
            encode_component(id)
        )
    }
}

fn parse_list(url: &Url, html: &str) -> PageOutcome {
    let doc = Html::parse_document(html);
    let mut listings: Vec<Listing> = Vec::new();
    // `#J_ItemList` on list pages; shop-search pages reuse the card markup.
    for card in select(&doc, css!("#J_ItemList .product")) {
        if super::budget::spent() {
            break;
        }
        let img_link = select(card, css!(".productImg")).into_iter().next();
        let img_href = img_link
            .and_then(|a| a.value().attr("href"))
            .unwrap_or_default();
        let title_href = first_attr(card, &[css!(".productTitle a")], "href").unwrap_or_default();
        let Some(id) = card
            .value()
            .attr("data-id")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()))
            .or_else(|| query_param(img_href, "id"))
            .or_else(|| query_param(&title_href, "id"))
        else {
            continue;
        };
        if listings.iter().any(|l| l.id == id) {
            continue;
        }
        let title = first_attr(card, &[css!(".productTitle a")], "title")
            .or_else(|| first_text(card, &[css!(".productTitle")]))
            .map(|t| strip_markup(&t))
            .unwrap_or_default();
        let price = first_attr(card, &[css!(".productPrice em")], "title")
            .or_else(|| first_text(card, &[css!(".productPrice em")]))
            .or_else(|| first_text(card, &[css!(".productPrice")]))
            .and_then(|p| cny_price(&p));
        let shop = select(card, css!(".productShop-name")).into_iter().next();
        let shop_href = shop
            .and_then(|a| a.value().attr("href"))
            .unwrap_or_default();
        let nick = first_attr(card, &[css!("[data-nick]")], "data-nick").map(|n| decode_nick(&n));
        let seller = Seller {
            name: shop
                .map(|s| collapse_ws(&s.text().collect::<String>()))
                .filter(|s| !s.is_empty())
                .or(nick),
            id: query_param(img_href, "user_id")
                .or_else(|| query_param(&title_href, "user_id"))
                .or_else(|| query_param(shop_href, "user_number_id")),
            url: absolute_url(shop_href, url),
            ..Seller::default()
        };
        let images = img_link
            .into_iter()
            .flat_map(|a| select(a, css!("img")))
            .chain(select(card, css!(".productImg-wrap img")))
            .find_map(img_src)
            .and_then(|s| full_size_image(&s, url))
            .into_iter()
            .collect();
        // "月成交 95笔" sits in the first span; the rest are reviews and the
        // chat button.
        let sales = select(card, css!(".productStatus span"))
            .into_iter()
            .map(|s| collapse_ws(&s.text().collect::<String>()))
            .find(|t| t.contains("成交") || t.contains("销"))
            .and_then(|t| sales_from_text(&t));
        let listing = finish(Listing {
            price,
            seller,
            images,
            sales,
            sponsored: is_click_tracker(img_href),
            ..Listing::new(Platform::Tmall, Tmall.item_url(&id), id, title, url)
        });
        listings.push(listing);
    }
    if listings.is_empty() {
        if says_no_results(html) {
            return no_results(Platform::Tmall);
        }
        return drift(
            Platform::Tmall,
            url,
            PageKind::Search,
            vec!["#J_ItemList div.product".to_string()],
            "a list page without product cards".to_string(),
        );
    }
    // "共<span>1,234</span>件相关商品"
    let total = first_text(doc.root_element(), &[css!(".j_ResultsNumber span")])
        .or_else(|| first_text(doc.root_element(), &[css!(".j_ResultsNumber")]))
        .and_then(|t| parse_count(&t));
    check_coverage(Platform::Tmall, url, PageKind::Search, listings, total)
}

fn parse_item(url: &Url, html: &str) -> PageOutcome {
    let doc = Html::parse_document(html);
    let setup_text = jsobject::object_after(html, "TShop.Setup");
    let setup = setup_text.and_then(jsobject::parse_literal);
    // JSON when it parses, a scalar scan of the literal when it does not.
    let field = |keys: &[&str]| -> Option<String> {
        setup
            .as_ref()
            .and_then(|v| find_string(v, keys))
            .or_else(|| setup_text.and_then(|t| keys.iter().find_map(|k| js_scalar(t, k))))
    };

    // 2013–2021 build: `TShop.Setup` and its server DOM.
    let server = {
        // The promotion price is the one buyers pay; the struck-through
        // list price is the fallback.
        let price = [
            css!("#J_PromoPrice .tm-price"),
            css!("#J_StrPriceModBox .tm-price"),
            css!(".tm-price"),
        ]
        .iter()
        .filter_map(|s| first_text(doc.root_element(), &[*s]))
        .find_map(|p| cny_price(&p))
        .or_else(|| field(&["reservePrice"]).and_then(|p| cny_price(&p)));
        let shop = select(&doc, css!(".slogo-shopname")).into_iter().next();
        let mut images = item_images(&doc, url, css!("#J_ImgBooth"), css!("#J_UlThumb img"));
        if let Some(pics) = setup
            .as_ref()
            .and_then(|v| find_key(v, "propertyPics"))
            .and_then(|p| p.get("default"))
            .and_then(|d| d.as_array())
        {
            for pic in pics.iter().filter_map(|p| p.as_str()) {
                if let Some(u) = full_size_image(pic, url) {
                    if !images.contains(&u) {
                        images.push(u);
                    }
                }
            }
        }
        ItemParts {
            id: field(&["itemId"]),
            title: first_text(doc.root_element(), &[css!(".tb-detail-hd h1")])
                .or_else(|| field(&["title"]))
                .or_else(|| {
                    first_attr(
                        doc.root_element(),
                        &[css!("meta[property='og:title']")],
                        "content",
                    )
                })
                .map(|t| strip_markup(&t)),
            price,
            seller: Seller {
                name: shop
                    .map(|s| collapse_ws(&s.text().collect::<String>()))
                    .filter(|s| !s.is_empty())
                    .or_else(|| field(&["shopName"]))
                    .or_else(|| field(&["sellerNickName", "sellerNick"]).map(|n| decode_nick(&n))),
                id: field(&["userId", "sellerId"]),
                url: shop
                    .and_then(|s| s.value().attr("href"))
                    .and_then(|h| absolute_url(h, url)),
                ..Seller::default()
            },
            images,
            ..ItemParts::default()
        }
    };
    // 2025+ pages are the Taobao SSR build on detail.tmall.com: its JSON
    // first, then its rendered DOM, then the old build.
    let parts = item_parts(html, &doc, url, server);
    let id = id_param(url).or(parts.id.clone());
    let (Some(id), Some(title)) = (id, parts.title.clone()) else {
        let mut missing = Vec::new();
        if setup_text.is_none() {
            missing.push("TShop.Setup".to_string());
        }
        missing.push(".tb-detail-hd h1".to_string());
        return drift(
            Platform::Tmall,
            url,
            PageKind::Item,
            missing,
            "an item page without a title or item id (looked for TShop.Setup, \
             __ICE_APP_CONTEXT__, .tb-detail-hd h1 and [class*=mainTitle--])"
                .to_string(),
        );
    };
    let listing = parts.into_listing(Platform::Tmall, Tmall.item_url(&id), id, title, url);
    item_page(Platform::Tmall, listing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marketplaces::dom::test_url as u;

    #[test]
    fn search_url_and_item_url() {
        assert_eq!(
            Tmall
                .search_url(&u("https://list.tmall.com/"), "奥罗拉", 2)
                .as_str(),
            "https://list.tmall.com/search_product.htm?q=%B0%C2%C2%DE%C0%AD&s=60"
        );
        assert_eq!(
            Tmall
                .search_url(&u("http://127.0.0.1:9/tmall"), "x", 1)
                .as_str(),
            "http://127.0.0.1:9/tmall/search_product.htm?q=x"
        );
        assert_eq!(
            Tmall.item_url("5"),
            "https://detail.tmall.com/item.htm?id=5"
        );
        assert_eq!(
            Tmall.page_kind(&u("https://detail.tmall.com/item.htm?id=5")),
            PageKind::Item
        );
        assert_eq!(
            Tmall.page_kind(&u("https://list.tmall.com/search_product.htm?q=x")),
            PageKind::Search
        );
    }

    #[test]
    fn card_without_title_attribute_uses_joined_text() {
        let html = r#"<div id="J_ItemList"><div class="product" data-id="9">
          <p class="productPrice"><em><b>&yen;</b>12.50</em></p>
          <p class="productTitle"><a href="//detail.tmall.com/item.htm?id=9&user_id=77"><span class=H>奥罗拉</span> 杯子</a></p>
          <p class="productStatus"><span>月成交 <em>1.5万笔</em></span></p></div></div>"#;
        let out = Tmall.parse(&u("https://list.tmall.com/search_product.htm?q=x"), html);
        let l = &out.listings()[0];
        assert_eq!(l.title, "奥罗拉 杯子");
        assert_eq!(l.price.as_ref().unwrap().amount, 12.5);
        assert_eq!(l.seller.id.as_deref(), Some("77"));
        assert_eq!(l.sales.as_ref().unwrap().count, 15000);
        assert!(l.missing.contains(&"images".to_string()));
    }

    #[test]
    fn setup_that_is_not_json_is_scanned() {
        let html = r#"<div class="tb-detail-hd"><h1>杯子</h1></div>
          <script>TShop.Setup({ api: {fn: function(){}}, "itemId":"42", "userId": 99, "sellerNickName":"%E5%A5%A5"});</script>"#;
        let out = Tmall.parse(&u("https://detail.tmall.com/item.htm?spm=x"), html);
        let l = &out.listings()[0];
        assert_eq!(l.id, "42");
        assert_eq!(l.seller.id.as_deref(), Some("99"));
        assert_eq!(l.seller.name.as_deref(), Some("奥"));
        assert!(l.missing.contains(&"price".to_string()));
    }
}
