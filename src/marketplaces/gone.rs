//! "Item unavailable" pages: a listing taken down, as each platform shows
//! it (usually HTTP 200, not 404), told from ordinary pages by its *shape*,
//! never by a mention.
//!
//! A false removal closes a case wrongly, so the rules are those of
//! [`super::block`]:
//!
//! - the check runs only on a page whose parser found no listing
//!   ([`crate::marketplaces::classify_gone_page`]) and that is not a block
//!   page: listings found means not removed, ever, whatever a variant's
//!   "sold out" or a "similar items" block says;
//! - the notice must be the page's *main content*: the platform's own
//!   notice sentence in visible text (never in scripts: real AliExpress
//!   item pages carry "Sorry, the page you requested can not be found" in
//!   the `i18nMap` of every live item), and either inside the platform's
//!   notice element (Taobao `error-notice-hd`, `tb-off-sale`; Tmall
//!   `errorDetail`, `sold-out-tit`; 1688 `mod-detail-offline-title`), in
//!   the title, or on a page whose visible text is small
//!   ([`MAX_GONE_TEXT_CHARS`]);
//! - or the request was redirected to the platform's error host or path
//!   (`err.taobao.com/error1.html`, a `/error` or `notfound` path). A
//!   redirect to the home or a search page is *not* a removal: public link
//!   checkers treat it as "redirected away", uncertain (geo and language
//!   redirects do the same).
//!
//! What decided is kept in [`GoneHit`] and goes into the case's proof.

use super::block::{Evidence, ResponseFacts};
use crate::model::listing::Platform;
use scraper::{Html, Node};
use url::Url;

/// A removal notice and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoneHit {
    /// The notice sentence, element or URL that decided.
    pub marker: String,
    pub found_in: Evidence,
}

impl GoneHit {
    /// `"此宝贝已下架" in main content`: for a proof and a case's history.
    pub fn describe(&self) -> String {
        format!("\"{}\" in {}", self.marker, self.found_in.describe())
    }
}

/// Visible text (outside scripts and styles, whitespace not counted) up to
/// which a page carrying a notice sentence anywhere in its visible text is
/// that notice. Real "item unavailable" pages are a header, the sentence,
/// a few suggestions and a footer (recommendations load by script); an
/// item page is well over this.
pub const MAX_GONE_TEXT_CHARS: usize = 3_000;

/// Visible text read from a page at most; a notice page is far smaller,
/// and this only bounds work on hostile input.
const MAX_VISIBLE_CHARS: usize = 200_000;

/// The notice sentences of each platform, as their pages write them.
fn notices(platform: Platform) -> &'static [&'static str] {
    match platform {
        Platform::AliExpress => &[
            "Sorry, this item is no longer available",
            "This item is no longer available",
            "Sorry, the page you requested can not be found",
            "the item you requested is not available",
            "This product is no longer available",
        ],
        Platform::Alibaba => &[
            "This product is no longer available",
            "product has been removed",
            "This product has been removed",
            "The product you are looking for is no longer available",
        ],
        Platform::Taobao => &[
            "此宝贝已下架",
            "很抱歉，您查看的宝贝不存在，可能已下架或者被转移",
            "您查看的宝贝不存在",
            "宝贝不存在",
        ],
        Platform::Tmall => &[
            "很抱歉，您查看的商品找不到了",
            "此商品已下架",
            "您查看的商品找不到了",
        ],
        Platform::S1688 => &[
            "该商品已下架",
            "商品已下架",
            "商品已失效",
            "您要访问的页面不存在",
        ],
    }
}

/// Elements (id or class, lower case) that hold the notice on real pages.
fn notice_elements(platform: Platform) -> &'static [&'static str] {
    match platform {
        Platform::Taobao => &[
            "error-notice-hd",
            "error-notice",
            "tb-off-sale",
            "j_toffsale",
        ],
        Platform::Tmall => &["errordetail", "sold-out-tit", "sold-out-recommend"],
        Platform::S1688 => &["mod-detail-offline-title", "mod-detail-offline"],
        Platform::AliExpress => &["not-found", "page-not-found", "product-not-found"],
        Platform::Alibaba => &["product-not-found", "offline-product", "product-offline"],
    }
}

/// Hosts a platform sends a removed item's request to.
const ERROR_HOSTS: &[&str] = &["err.taobao.com", "err.tmall.com", "error.taobao.com"];

/// Returns the removal a page shows, if any. `url` is the item URL asked
/// for; `facts` what else is known of the response; `text` the decoded
/// page. Call it only on a page that holds no listing and is not a block
/// page (see the module docs).
pub fn classify_gone(
    platform: Platform,
    url: &Url,
    facts: ResponseFacts<'_>,
    text: &str,
) -> Option<GoneHit> {
    if let Some(fin) = facts.final_url {
        if let Some(hit) = redirect_hit(url, fin) {
            return Some(hit);
        }
    }
    let page = NoticeShape::of(text, notice_elements(platform));
    for notice in notices(platform) {
        if page.in_notice_element.iter().any(|t| contains(t, notice)) {
            return Some(GoneHit {
                marker: (*notice).to_string(),
                found_in: Evidence::MainContent,
            });
        }
        if contains(&page.title, notice) {
            return Some(GoneHit {
                marker: (*notice).to_string(),
                found_in: Evidence::Title,
            });
        }
        if page.visible_chars <= MAX_GONE_TEXT_CHARS && contains(&page.visible, notice) {
            return Some(GoneHit {
                marker: (*notice).to_string(),
                found_in: Evidence::MainContent,
            });
        }
    }
    None
}

/// Case-insensitive for ASCII, whitespace-normalised containment.
fn contains(hay: &str, needle: &str) -> bool {
    normalise(hay).contains(&normalise(needle))
}

fn normalise(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
}

/// A redirect away from the item to an error host or path.
fn redirect_hit(asked: &Url, fin: &Url) -> Option<GoneHit> {
    if fin.path() == asked.path() && fin.host_str() == asked.host_str() {
        return None;
    }
    let host = fin.host_str().unwrap_or_default().to_ascii_lowercase();
    if let Some(h) = ERROR_HOSTS.iter().find(|h| host == **h) {
        return Some(GoneHit {
            marker: (*h).to_string(),
            found_in: Evidence::Redirect,
        });
    }
    let path = fin.path().to_ascii_lowercase();
    let error_path = path.split('/').any(|seg| {
        let stem = seg.split('.').next().unwrap_or_default();
        stem == "error"
            || stem.starts_with("error") && stem[5..].chars().all(|c| c.is_ascii_digit())
            || stem == "notfound"
            || stem == "not-found"
            || stem == "404"
    });
    if error_path {
        return Some(GoneHit {
            marker: fin.path().chars().take(200).collect(),
            found_in: Evidence::Redirect,
        });
    }
    None
}

/// What the removal check needs of a page, read in one pass over its DOM.
struct NoticeShape {
    title: String,
    /// Visible text, bounded by [`MAX_VISIBLE_CHARS`].
    visible: String,
    visible_chars: usize,
    /// Visible text inside each notice element.
    in_notice_element: Vec<String>,
}

impl NoticeShape {
    fn of(text: &str, elements: &[&str]) -> NoticeShape {
        let doc = Html::parse_document(text);
        let mut shape = NoticeShape {
            title: String::new(),
            visible: String::new(),
            visible_chars: 0,
            in_notice_element: Vec::new(),
        };
        for node in doc.tree.nodes() {
            if super::budget::spent() {
                break;
            }
            match node.value() {
                Node::Element(el) => {
                    let named = el
                        .id()
                        .into_iter()
                        .chain(el.classes())
                        .any(|n| elements.contains(&n.to_ascii_lowercase().as_str()));
                    if named {
                        let mut inner = String::new();
                        for d in node.descendants() {
                            if let Node::Text(t) = d.value() {
                                let hidden = d.ancestors().any(|a| {
                                    a.value().as_element().is_some_and(|e| {
                                        matches!(
                                            e.name(),
                                            "script" | "style" | "noscript" | "template"
                                        )
                                    })
                                });
                                if !hidden && inner.len() < 4_096 {
                                    inner.push_str(t);
                                    inner.push(' ');
                                }
                            }
                        }
                        if shape.in_notice_element.len() < 64 {
                            shape.in_notice_element.push(inner);
                        }
                    }
                }
                Node::Text(t) => {
                    let parent = node
                        .parent()
                        .and_then(|p| p.value().as_element().map(|e| e.name()));
                    match parent {
                        Some("script" | "style" | "noscript" | "template") => {}
                        Some("title") => shape.title.push_str(t),
                        _ => {
                            shape.visible_chars += t.chars().filter(|c| !c.is_whitespace()).count();
                            if shape.visible.len() < MAX_VISIBLE_CHARS {
                                shape.visible.push_str(t);
                                shape.visible.push(' ');
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        shape
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn hit(p: Platform, url: &str, html: &str) -> Option<GoneHit> {
        classify_gone(p, &u(url), ResponseFacts::default(), html)
    }

    #[test]
    fn a_notice_in_scripts_only_is_not_a_removal() {
        let html = r#"<html><head><title>Aurora cup</title><script>window.runParams = {"i18nMap":{"PAGE_NOT_FOUND_RCMD_TITLE":"Sorry, the page you requested can not be found:("}};</script></head><body><p>x</p></body></html>"#;
        assert_eq!(
            hit(
                Platform::AliExpress,
                "https://www.aliexpress.com/item/1.html",
                html
            ),
            None
        );
    }

    #[test]
    fn sold_out_words_are_not_a_notice() {
        let html = "<html><body><p>Sold out</p><p>Similar items</p><p>This color is sold out</p></body></html>";
        for p in [Platform::AliExpress, Platform::Alibaba] {
            assert_eq!(hit(p, "https://www.aliexpress.com/item/1.html", html), None);
        }
    }

    #[test]
    fn a_notice_in_a_big_page_counts_only_in_its_element() {
        let filler = "<p>推荐宝贝 女装 新款 包邮</p>".repeat(400);
        let loose = format!("<html><body>{filler}<p>此宝贝已下架</p></body></html>");
        assert_eq!(
            hit(
                Platform::Taobao,
                "https://item.taobao.com/item.htm?id=1",
                &loose
            ),
            None
        );
        let boxed = format!(
            "<html><body>{filler}<div class=\"tb-off-sale J_TOffSale\"><p class=\"tb-hint\"><strong>此宝贝已下架</strong></p></div></body></html>"
        );
        let h = hit(
            Platform::Taobao,
            "https://item.taobao.com/item.htm?id=1",
            &boxed,
        )
        .unwrap();
        assert_eq!(h.marker, "此宝贝已下架");
        assert_eq!(h.found_in, Evidence::MainContent);
    }

    #[test]
    fn redirects_to_error_pages_count_and_to_home_or_search_do_not() {
        let asked = u("https://item.taobao.com/item.htm?id=1");
        let check = |fin: &str| {
            let f = u(fin);
            classify_gone(
                Platform::Taobao,
                &asked,
                ResponseFacts {
                    final_url: Some(&f),
                    status: Some(200),
                },
                "<html></html>",
            )
        };
        assert_eq!(
            check("https://err.taobao.com/error1.html").unwrap().marker,
            "err.taobao.com"
        );
        assert_eq!(
            check("https://item.taobao.com/error/notfound.htm")
                .unwrap()
                .found_in,
            Evidence::Redirect
        );
        assert_eq!(check("https://www.taobao.com/"), None);
        assert_eq!(check("https://s.taobao.com/search?q=aurora"), None);
        assert_eq!(check("https://item.taobao.com/item.htm?id=1&spm=x"), None);
        // "errors-and-omissions" is not an error page.
        assert_eq!(check("https://www.taobao.com/markets/errors-policy"), None);
    }
}
