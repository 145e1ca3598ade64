//! The one toolkit the five parsers read HTML with: selectors, texts,
//! attributes, photo URLs, the fields a listing lacks, and drift.
//!
//! Selectors are string literals written through [`css!`]: each is parsed
//! once, the first time it is used, and kept for the life of the process.
//! Every `css!` literal in the parser modules is parsed by a unit test
//! (`every_selector_the_parsers_write_parses`), so a typo fails
//! `cargo test`; at run time a selector that does not parse matches
//! nothing, and nothing panics.
//!
//! Functions:
//! - [`select`]: the elements under an element that match a selector;
//! - [`text_of`]: an element's text, whitespace collapsed;
//! - [`first_text`] / [`first_attr`]: the first non-empty text or
//!   attribute under an element, over several selectors in order;
//! - [`img_src`]: an `<img>`'s photo URL, lazy-loading attributes first;
//! - [`full_size_image`]: a photo URL made absolute, without the CDN's
//!   thumbnail suffixes;
//! - [`missing_fields`]: the fields a listing lacks, by drift's names;
//! - [`drift`]: the [`PageOutcome::Drift`] of a page whose data is missing;
//!   [`item_page`] and [`no_results`], the two fixed `Ok` outcomes.

use super::text::{absolute_url, collapse_ws};
use super::{PageKind, PageOutcome};
use crate::model::listing::{Listing, Platform};
use scraper::{ElementRef, Html, Selector};
use std::sync::LazyLock;
use url::Url;

/// A CSS selector written in a parser, parsed once ([`css!`] makes one).
#[derive(Clone, Copy)]
pub(crate) struct Css {
    parsed: &'static LazyLock<Option<Selector>>,
}

impl Css {
    /// Wraps a selector parsed on first use; [`css!`] is the way to make one.
    pub(crate) const fn new(parsed: &'static LazyLock<Option<Selector>>) -> Self {
        Css { parsed }
    }

    /// The parsed selector; `None` for one that does not parse (the test
    /// over every literal keeps that from happening).
    fn get(self) -> Option<&'static Selector> {
        self.parsed.as_ref()
    }
}

/// Parses a selector literal; `None` when it is not valid CSS.
pub(crate) fn parse_css(text: &str) -> Option<Selector> {
    Selector::parse(text).ok()
}

/// A [`Css`] selector from a string literal, parsed once on first use.
macro_rules! css {
    ($text:literal) => {{
        static PARSED: std::sync::LazyLock<Option<scraper::Selector>> =
            std::sync::LazyLock::new(|| $crate::marketplaces::dom::parse_css($text));
        $crate::marketplaces::dom::Css::new(&PARSED)
    }};
}
pub(crate) use css;

/// Where [`select`] looks: under an element (itself included, as scraper
/// does), or a whole document.
pub(crate) trait Scope<'a>: Copy {
    /// The elements in scope matching `selector`.
    fn matching(self, selector: &Selector) -> Vec<ElementRef<'a>>;
}

impl<'a> Scope<'a> for ElementRef<'a> {
    fn matching(self, selector: &Selector) -> Vec<ElementRef<'a>> {
        self.select(selector).collect()
    }
}

impl<'a> Scope<'a> for &'a Html {
    fn matching(self, selector: &Selector) -> Vec<ElementRef<'a>> {
        self.select(selector).collect()
    }
}

/// The elements in `scope` matching `css`; none for a selector that does
/// not parse.
pub(crate) fn select<'a>(scope: impl Scope<'a>, css: Css) -> Vec<ElementRef<'a>> {
    css.get().map(|s| scope.matching(s)).unwrap_or_default()
}

/// An element's text, whitespace collapsed.
pub(crate) fn text_of(el: ElementRef<'_>) -> String {
    collapse_ws(&el.text().collect::<String>())
}

/// The text of the first element matching one of `css` (tried in order)
/// whose text is not empty.
pub(crate) fn first_text(el: ElementRef<'_>, css: &[Css]) -> Option<String> {
    css.iter().find_map(|c| {
        select(el, *c)
            .into_iter()
            .map(text_of)
            .find(|t| !t.is_empty())
    })
}

/// The first non-empty `attr` (whitespace collapsed) of an element
/// matching one of `css` (tried in order).
pub(crate) fn first_attr(el: ElementRef<'_>, css: &[Css], attr: &str) -> Option<String> {
    css.iter().find_map(|c| {
        select(el, *c)
            .into_iter()
            .filter_map(|e| e.value().attr(attr))
            .map(collapse_ws)
            .find(|t| !t.is_empty())
    })
}

/// Where an `<img>` may keep its photo, lazy-loading attributes first:
/// lazy pages put a placeholder in `src`.
const IMG_SOURCE_ATTRS: &[&str] = &[
    "data-src",
    "data-lazy-src",
    "data-ks-lazyload",
    "data-original",
    "image-src",
    "src",
];

/// The photo URL of an `<img>`: the first of [`IMG_SOURCE_ATTRS`] that
/// holds a real URL (not empty, not a `data:` URL, not the 1×1 `s.gif`
/// placeholder).
pub(crate) fn img_src(img: ElementRef<'_>) -> Option<String> {
    IMG_SOURCE_ATTRS
        .iter()
        .filter_map(|a| img.value().attr(a))
        .map(str::trim)
        .find(|s| !s.is_empty() && !s.starts_with("data:") && !s.ends_with("/s.gif"))
        .map(str::to_string)
}

/// Image extensions after which alicdn appends a thumbnail suffix.
const IMAGE_EXTENSIONS: &[&str] = &[
    ".jpg_", ".jpeg_", ".png_", ".webp_", ".gif_", ".heic_", ".avif_",
];

/// An absolute, full-size photo URL, so that one photo seen on a search
/// card and on an item page has one URL. alicdn serves thumbnails by
/// appending a size or format after the real extension
/// (`….jpg_220x220.jpg_.webp`, `….png_80x80.jpg`, `….jpg_460x460q90.jpg`,
/// `….heic_q50.jpg_.webp`, `….png_.avif`), cut after the earliest
/// extension (`a.png_460x460q90.jpg_.webp` is a PNG); on 1688, before it
/// (`…-cib.220x220.jpg`, `…-cib.search.jpg`, `….summ.jpg`), dropped.
/// `None` when `raw` is no URL.
pub(crate) fn full_size_image(raw: &str, base: &Url) -> Option<String> {
    let abs = absolute_url(raw, base)?;
    let file_start = abs.rfind('/').map_or(0, |i| i + 1);
    let file = abs[file_start..].to_ascii_lowercase();
    let cut = IMAGE_EXTENSIONS
        .iter()
        .filter_map(|ext| file.find(ext).map(|p| file_start + p + ext.len() - 1))
        .min();
    let mut url = match cut {
        Some(c) => abs[..c].to_string(),
        None => abs,
    };
    // `name.220x220.jpg` / `name.220x220q90.jpg` / `name.search.jpg` /
    // `name.summ.jpg` → `name.jpg`.
    if let Some(ext_at) = url[file_start..].rfind('.').map(|p| file_start + p) {
        if let Some(size_at) = url[file_start..ext_at].rfind('.').map(|p| file_start + p) {
            let size = &url[size_at + 1..ext_at];
            let is_size = size.split_once('x').is_some_and(|(w, h)| {
                let h = h.split_once('q').map_or(h, |(h, _)| h);
                !w.is_empty()
                    && !h.is_empty()
                    && w.bytes().all(|b| b.is_ascii_digit())
                    && h.bytes().all(|b| b.is_ascii_digit())
            });
            if is_size || size == "search" || size == "summ" {
                url.replace_range(size_at..ext_at, "");
            }
        }
    }
    Some(url)
}

/// A parsed listing with [`Listing::missing`] filled in: the last step of
/// every parser's reading of a listing.
pub(crate) fn finish(mut l: Listing) -> Listing {
    l.missing = missing_fields(&l);
    l
}

/// The fields a listing lacks, by the names drift reports use: `title`,
/// `price`, `seller`, `images`. One list for every parser.
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

/// The drift outcome of a `page` at `url` that lacks the data its parser
/// expects: `missing` names what was expected and not found, `detail`
/// says what the page had instead. Every parser reports drift through
/// here.
pub(crate) fn drift<S: Into<String>>(
    platform: Platform,
    url: &Url,
    page: PageKind,
    missing: impl IntoIterator<Item = S>,
    detail: impl Into<String>,
) -> PageOutcome {
    PageOutcome::Drift {
        platform,
        url: url.to_string(),
        page,
        missing: missing.into_iter().map(Into::into).collect(),
        detail: detail.into(),
    }
}

/// The outcome of an item page read in full: its one listing.
pub(crate) fn item_page(platform: Platform, listing: Listing) -> PageOutcome {
    PageOutcome::Ok {
        platform,
        page: PageKind::Item,
        listings: vec![listing],
        total: None,
    }
}

/// The outcome of a search page that says it has no results.
pub(crate) fn no_results(platform: Platform) -> PageOutcome {
    PageOutcome::Ok {
        platform,
        page: PageKind::Search,
        listings: Vec::new(),
        total: Some(0),
    }
}

/// A URL from a literal, for the parsers' tests.
#[cfg(test)]
pub(crate) fn test_url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parser modules, read as text: every `css!` literal in them is
    /// checked below.
    const PARSER_SOURCES: &[(&str, &str)] = &[
        ("aliexpress.rs", include_str!("aliexpress.rs")),
        ("alibaba.rs", include_str!("alibaba.rs")),
        ("taobao.rs", include_str!("taobao.rs")),
        ("tmall.rs", include_str!("tmall.rs")),
        ("s1688.rs", include_str!("s1688.rs")),
        ("dom.rs", include_str!("dom.rs")),
        ("mod.rs", include_str!("mod.rs")),
        ("block.rs", include_str!("block.rs")),
        ("gone.rs", include_str!("gone.rs")),
    ];

    /// The string literals written as `css!(…)` in `source`: plain
    /// (`"…"`, with `\"` and `\\` escapes) and raw (`r#"…"#`).
    fn css_literals(source: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = source;
        let open = concat!("css", "!(");
        while let Some(at) = rest.find(open) {
            rest = rest[at + open.len()..].trim_start();
            if let Some(raw) = rest.strip_prefix("r#\"") {
                if let Some(end) = raw.find("\"#") {
                    out.push(raw[..end].to_string());
                    rest = &raw[end..];
                }
            } else if let Some(plain) = rest.strip_prefix('"') {
                let mut text = String::new();
                let mut chars = plain.char_indices();
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => text.extend(chars.next().map(|(_, e)| e)),
                        '"' => {
                            rest = &plain[i..];
                            break;
                        }
                        c => text.push(c),
                    }
                }
                out.push(text);
            }
        }
        out
    }

    /// A bad selector is a typo in a literal: this test parses every one
    /// the parsers write, so it fails here and never on a page.
    #[test]
    fn every_selector_the_parsers_write_parses() {
        let mut count = 0;
        for (file, source) in PARSER_SOURCES {
            for css in css_literals(source) {
                assert!(
                    Selector::parse(&css).is_ok(),
                    "{file}: selector {css:?} does not parse"
                );
                count += 1;
            }
            // Selectors are parsed here and only here.
            if *file != "dom.rs" {
                assert!(
                    !source.contains(concat!("Selector", "::parse")),
                    "{file} parses a selector outside dom.rs"
                );
            }
        }
        assert!(count > 100, "only {count} css! literals found");
    }

    #[test]
    fn a_selector_that_does_not_parse_matches_nothing() {
        static BAD: LazyLock<Option<Selector>> = LazyLock::new(|| parse_css("div[[["));
        let doc = Html::parse_document("<div>a</div>");
        assert!(select(doc.root_element(), Css::new(&BAD)).is_empty());
        assert_eq!(first_text(doc.root_element(), &[Css::new(&BAD)]), None);
        assert_eq!(
            first_text(doc.root_element(), &[Css::new(&BAD), css!("div")]),
            Some("a".into())
        );
        assert_eq!(
            css_literals(concat!(
                "css",
                r##"!(r#"a[b="c"]"#) "##,
                "cs",
                r#"s!("d\"e")"#
            )),
            ["a[b=\"c\"]", "d\"e"]
        );
    }

    /// Every thumbnail suffix the parsers met, on AliExpress, Alibaba.com,
    /// Taobao, Tmall and 1688.
    #[test]
    fn photo_urls_lose_size_suffixes() {
        let base = Url::parse("https://www.aliexpress.com/").unwrap();
        for (raw, full) in [
            (
                "//ae01.alicdn.com/kf/Sab12.jpg_220x220.jpg_.webp",
                "https://ae01.alicdn.com/kf/Sab12.jpg",
            ),
            (
                "//s.alicdn.com/@sc04/kf/Hx.png_80x80.jpg",
                "https://s.alicdn.com/@sc04/kf/Hx.png",
            ),
            (
                "https://ae01.alicdn.com/kf/Sab12.webp",
                "https://ae01.alicdn.com/kf/Sab12.webp",
            ),
            (
                "https://ae01.alicdn.com/kf/Sab12.png_.avif",
                "https://ae01.alicdn.com/kf/Sab12.png",
            ),
            (
                "https://ae01.alicdn.com/kf/Sab12.avif_220x220.jpg",
                "https://ae01.alicdn.com/kf/Sab12.avif",
            ),
            (
                "https://img.alicdn.com/imgextra/i1/O1CN01c.heic_q50.jpg_.webp",
                "https://img.alicdn.com/imgextra/i1/O1CN01c.heic",
            ),
            (
                "https://g.search.alicdn.com/img/i4/O1CN01a_!!22.jpg_230x230.jpg",
                "https://g.search.alicdn.com/img/i4/O1CN01a_!!22.jpg",
            ),
            (
                "https://img.alicdn.com/a/O1CN01b.png_460x460q90.jpg_.webp",
                "https://img.alicdn.com/a/O1CN01b.png",
            ),
            ("https://x.cn/a_b.jpg", "https://x.cn/a_b.jpg"),
            (
                "//cbu01.alicdn.com/img/ibank/O1CN01a_!!22-0-cib.220x220.jpg",
                "https://cbu01.alicdn.com/img/ibank/O1CN01a_!!22-0-cib.jpg",
            ),
            (
                "https://cbu01.alicdn.com/img/ibank/b.jpg_460x460q100.jpg_.webp",
                "https://cbu01.alicdn.com/img/ibank/b.jpg",
            ),
            (
                "https://cbu01.alicdn.com/img/ibank/c.search.jpg",
                "https://cbu01.alicdn.com/img/ibank/c.jpg",
            ),
            (
                "https://cbu01.alicdn.com/img/ibank/d.summ.jpg",
                "https://cbu01.alicdn.com/img/ibank/d.jpg",
            ),
            (
                "https://cbu01.alicdn.com/img/ibank/e.310x310q90.jpg",
                "https://cbu01.alicdn.com/img/ibank/e.jpg",
            ),
            (
                "https://sc04.alicdn.com/kf/H1.JPG_350x350.jpg",
                "https://sc04.alicdn.com/kf/H1.JPG",
            ),
        ] {
            assert_eq!(full_size_image(raw, &base).as_deref(), Some(full), "{raw}");
        }
        assert!(full_size_image("", &base).is_none());
    }

    #[test]
    fn img_src_prefers_lazy_attributes_and_skips_placeholders() {
        let doc = Html::parse_document(
            r#"<img id=a src="//x/s.gif" data-ks-lazyload="//x/a.jpg">
               <img id=b src="//x/b.jpg" data-src="">
               <img id=c src="data:image/gif;base64,R0l" data-original="//x/c.jpg">
               <img id=d src="//x/d0.jpg" data-src="//x/d.jpg">
               <img id=e src=" ">"#,
        );
        let src = |id: &str| {
            select(doc.root_element(), css!("img"))
                .into_iter()
                .find(|i| i.value().id() == Some(id))
                .and_then(img_src)
        };
        assert_eq!(src("a").as_deref(), Some("//x/a.jpg"));
        assert_eq!(src("b").as_deref(), Some("//x/b.jpg"));
        assert_eq!(src("c").as_deref(), Some("//x/c.jpg"));
        assert_eq!(src("d").as_deref(), Some("//x/d.jpg"));
        assert_eq!(src("e"), None);
    }

    #[test]
    fn drift_names_what_is_missing_and_where() {
        let url = Url::parse("https://s.taobao.com/search?q=a").unwrap();
        match drift(
            Platform::Taobao,
            &url,
            PageKind::Search,
            ["g_page_config"],
            "no g_page_config",
        ) {
            PageOutcome::Drift {
                platform,
                url: at,
                page,
                missing,
                detail,
            } => {
                assert_eq!(platform, Platform::Taobao);
                assert_eq!(at, url.as_str());
                assert_eq!(page, PageKind::Search);
                assert_eq!(missing, ["g_page_config"]);
                assert_eq!(detail, "no g_page_config");
            }
            other => panic!("{other:?}"),
        }
    }
}
