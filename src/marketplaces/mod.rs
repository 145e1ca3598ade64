//! Marketplace parsers: one module per platform behind one trait.
//!
//! Parsers are pure functions from a page (URL + bytes) to a
//! [`PageOutcome`]: listings, or a typed reason why there are none
//! ([`PageOutcome::Blocked`], [`PageOutcome::Drift`]). A block or a layout
//! change is never reported as zero listings.
//!
//! Shared helpers live beside the trait: [`charset`] (decode bytes),
//! [`block`] (login walls, captchas, punish pages), [`gone`] ("item
//! unavailable" pages: a listing taken down), [`jsobject`] (pull the
//! JSON a page assigns to a JavaScript variable), [`text`] (numbers,
//! prices, URLs), [`budget`] (the CPU time one page may cost), and
//! [`dom`], the one toolkit every parser reads HTML with (selectors
//! checked by a test, photo URLs, missing fields, the drift builder).
//! Site quirks stay in the site's module.

pub mod alibaba;
pub mod aliexpress;
pub mod block;
pub mod budget;
pub mod charset;
pub(crate) mod dom;
pub mod gone;
pub mod jsobject;
pub mod s1688;
pub mod taobao;
pub mod text;
pub mod tmall;

use crate::model::error::{Error, Result};
use crate::model::listing::{Listing, Platform};
use serde::{Deserialize, Serialize};
use url::Url;

/// What kind of page a URL is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PageKind {
    Search,
    Item,
}

/// The result of parsing one page.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum PageOutcome {
    /// The page was understood. `listings` may legitimately be empty (a
    /// search with no results says so on the page).
    Ok {
        platform: Platform,
        page: PageKind,
        listings: Vec<Listing>,
        /// Total results the page claims, where it says.
        #[serde(skip_serializing_if = "Option::is_none")]
        total: Option<u64>,
    },
    /// The marketplace refused us: login wall, captcha, punish page. Only
    /// ever said of a page that holds no listing (see [`block`]).
    Blocked {
        platform: Platform,
        url: String,
        /// The marker that gave the block away (`/_____tmd_____/punish`,
        /// `login.taobao.com`, `#nocaptcha`).
        marker: String,
        reason: String,
        /// Where the marker was found: `redirect`, `title`,
        /// `main_content` or `status`.
        found_in: block::Evidence,
    },
    /// The page is of a known kind but lacks the data the parser expects:
    /// the layout changed.
    Drift {
        platform: Platform,
        url: String,
        page: PageKind,
        /// The fields or blobs that were expected and not found.
        missing: Vec<String>,
        detail: String,
    },
}

impl PageOutcome {
    /// The listings of an `Ok` outcome; empty otherwise.
    pub fn listings(&self) -> &[Listing] {
        match self {
            PageOutcome::Ok { listings, .. } => listings,
            _ => &[],
        }
    }
}

/// One platform's parser.
pub trait Marketplace: Send + Sync {
    /// The platform this parser reads.
    fn platform(&self) -> Platform;

    /// Whether a URL of this platform is an item page (else a search page).
    fn is_item_page(&self, url: &Url) -> bool;

    /// This platform's readers of search pages and of item pages.
    fn readers(&self) -> Readers;

    /// The search URL for a term and 1-based page number, under `base`
    /// (which may carry a path prefix, kept).
    fn search_url(&self, base: &Url, term: &str, page: u32) -> Url;

    /// The canonical item URL for an id.
    fn item_url(&self, id: &str) -> String;

    /// Classifies a URL of this platform as a search or an item page.
    fn page_kind(&self, url: &Url) -> PageKind {
        if self.is_item_page(url) {
            PageKind::Item
        } else {
            PageKind::Search
        }
    }

    /// Parses a decoded page with the reader for its kind. Pure: no I/O,
    /// no clock.
    fn parse(&self, url: &Url, html: &str) -> PageOutcome {
        let readers = self.readers();
        match self.page_kind(url) {
            PageKind::Search => (readers.search)(url, html),
            PageKind::Item => (readers.item)(url, html),
        }
    }
}

/// A page reader: a parser's function for one kind of page.
pub type PageReader = fn(&Url, &str) -> PageOutcome;

/// A parser's page readers, one per kind of page.
#[derive(Clone, Copy)]
pub struct Readers {
    pub search: PageReader,
    pub item: PageReader,
}

/// The parser for a platform.
pub fn for_platform(platform: Platform) -> &'static dyn Marketplace {
    match platform {
        Platform::AliExpress => &aliexpress::AliExpress,
        Platform::Alibaba => &alibaba::Alibaba,
        Platform::Taobao => &taobao::Taobao,
        Platform::Tmall => &tmall::Tmall,
        Platform::S1688 => &s1688::S1688,
    }
}

/// The platform for a URL, chosen from its host.
pub fn platform_for_url(url: &str) -> Result<(Platform, Url)> {
    let parsed =
        Url::parse(&crate::model::recording::normalize_url(url)).map_err(|e| Error::Url {
            url: url.to_string(),
            message: e.to_string(),
        })?;
    let host = parsed.host_str().unwrap_or_default().to_string();
    let platform = Platform::from_host(&host).ok_or_else(|| Error::UnknownHost {
        url: url.to_string(),
        host: host.clone(),
    })?;
    Ok((platform, parsed))
}

/// Decodes a page's bytes and parses it with the right platform's parser:
/// the full path from a capture to an outcome.
///
/// The parser runs first: a page that holds listings is never blocked,
/// whatever its scripts mention. Only a page without listings is asked
/// whether it is a block page ([`block::classify`]), and otherwise keeps
/// the parser's verdict (drift, or empty when the page says so).
pub fn parse_page(
    platform: Platform,
    url: &Url,
    body: &[u8],
    content_type: Option<&str>,
) -> PageOutcome {
    parse_response(
        platform,
        url,
        body,
        content_type,
        block::ResponseFacts::default(),
    )
}

/// [`parse_page`] with what else is known of the response (the URL it
/// came from after redirects, its status): what the live fetcher and a
/// live scan use.
pub fn parse_response(
    platform: Platform,
    url: &Url,
    body: &[u8],
    content_type: Option<&str>,
    facts: block::ResponseFacts<'_>,
) -> PageOutcome {
    parse_response_within(
        platform,
        url,
        body,
        content_type,
        facts,
        budget::PAGE_CPU_BUDGET,
    )
}

/// [`parse_response`] with a CPU-time budget of `limit` instead of
/// [`budget::PAGE_CPU_BUDGET`]. A page that uses it up is reported as drift
/// that names the limit (whatever was parsed by then is dropped: a page
/// read in part would look like a page with fewer listings).
pub fn parse_response_within(
    platform: Platform,
    url: &Url,
    body: &[u8],
    content_type: Option<&str>,
    facts: block::ResponseFacts<'_>,
    limit: std::time::Duration,
) -> PageOutcome {
    let budget = budget::start(limit);
    let outcome = parse_budgeted(platform, url, body, content_type, facts);
    if budget.exceeded() {
        return dom::drift(
            platform,
            url,
            for_platform(platform).page_kind(url),
            ["parsing within its time budget"],
            format!(
                "refused: parsing this page took more than {} ms of CPU time (limit {} ms, \
                 marketplaces::budget::PAGE_CPU_BUDGET); real pages take under 150 ms",
                budget.limit().as_millis(),
                budget.limit().as_millis()
            ),
        );
    }
    outcome
}

fn parse_budgeted(
    platform: Platform,
    url: &Url,
    body: &[u8],
    content_type: Option<&str>,
    facts: block::ResponseFacts<'_>,
) -> PageOutcome {
    let decoded = charset::decode(body, content_type);
    if budget::spent() {
        return PageOutcome::Ok {
            platform,
            page: for_platform(platform).page_kind(url),
            listings: Vec::new(),
            total: None,
        };
    }
    if let Some(depth) = too_deep(&decoded.text) {
        return dom::drift(
            platform,
            url,
            for_platform(platform).page_kind(url),
            ["markup within limits"],
            format!(
                "refused: elements nested at least {depth} deep (limit {MAX_MARKUP_DEPTH}); \
                 real pages stay under 100, and an HTML parser's work grows with depth \
                 squared"
            ),
        );
    }
    let mut outcome = for_platform(platform).parse(url, &decoded.text);
    if let PageOutcome::Ok { listings, .. } = &mut outcome {
        listings.iter_mut().for_each(validate_numbers);
    }
    if !outcome.listings().is_empty() {
        return outcome;
    }
    match block::classify(url, facts, &decoded.text) {
        Some(hit) => PageOutcome::Blocked {
            platform,
            url: url.to_string(),
            marker: hit.marker,
            reason: hit.reason.to_string(),
            found_in: hit.found_in,
        },
        None => match outcome {
            // A parser's own block guess without the shape of a block page
            // is a page it could not read.
            PageOutcome::Blocked { marker, reason, .. } => dom::drift(
                platform,
                url,
                for_platform(platform).page_kind(url),
                ["listings"],
                format!(
                    "no listing found; the parser suspected {reason} ({marker}), \
                     but the page does not have a block page's shape"
                ),
            ),
            other => other,
        },
    }
}

/// Merges cards into `listings` by listing id: a listing already there
/// (the page's JSON, or an earlier card of the same id) keeps its fields
/// and takes what it lacks from the card; a new id is appended. Linear in
/// the cards (a page of 20,000 cards was quadratic with a search per card),
/// and it stops when the page's [`budget`] is spent.
pub(crate) fn merge_cards(listings: &mut Vec<Listing>, cards: impl IntoIterator<Item = Listing>) {
    let mut at: std::collections::HashMap<String, usize> = listings
        .iter()
        .enumerate()
        .map(|(i, l)| (l.id.clone(), i))
        .collect();
    for card in cards {
        if budget::spent() {
            break;
        }
        match at.get(&card.id) {
            Some(&i) => listings[i].merge_from(&card),
            None => {
                at.insert(card.id.clone(), listings.len());
                listings.push(card);
            }
        }
    }
}

/// Deepest element nesting a page may have before any HTML parser sees it.
/// Real marketplace pages nest under 100 deep; an HTML tree builder checks
/// its stack of open elements on every tag, so a page of 100,000 unclosed
/// `<div>`s (600 KB) costs its square (found by the fuzz harness: 8,205
/// nested divs took 0.6 s; the 8 MiB page cap would allow hours).
pub const MAX_MARKUP_DEPTH: usize = 1_000;

/// Elements that never nest: void elements, and those whose end tag is
/// implied by the next one of their kind (`<li>`, `<p>`, `<td>`...) or that
/// the parser merges (`<html>`, `<body>`). Every other start tag, known or
/// not (`<hea>` nests like `<div>`), counts towards the depth.
const NON_NESTING_TAGS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "param", "keygen", "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th",
    "thead", "tbody", "tfoot", "rb", "rt", "rtc", "rp", "html", "head", "body", "colgroup",
    "caption", "frame", "frameset", "image", "isindex", "menuitem",
];

/// How far down the stack of open elements an end tag looks for its start
/// tag; an end tag matching none of them is ignored, as an HTML parser
/// ignores a stray end tag (bounds the pass to linear time).
const END_TAG_REACH: usize = 64;

/// Longest tag name the markup pre-check reads (real names are short; a
/// longer one is an element nothing closes, as in the HTML parser).
const MAX_TAG_NAME: usize = 64;

/// `Some(depth)` when the page nests elements (all but
/// [`NON_NESTING_TAGS`]) deeper than
/// [`MAX_MARKUP_DEPTH`]: one linear pass over the tags, outside scripts.
/// An end tag closes its own element (and those opened inside it), never
/// an unrelated one: a stray `</div>` leaves the depth as it is, as it
/// leaves an HTML parser's stack (the fuzz harness found 8,194 `<ul>`
/// "closed" by as many stray `</div>`s, 134 KB that took 2 s to parse).
fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let lower_at = |i: usize, word: &str| {
        bytes.len() >= i + word.len()
            && bytes[i..i + word.len()].eq_ignore_ascii_case(word.as_bytes())
    };
    let mut open: Vec<&[u8]> = Vec::new();
    // Open `<svg>` and `<math>` elements: inside them `<x/>` closes itself.
    let mut foreign = 0usize;
    let is_foreign =
        |name: &[u8]| name.eq_ignore_ascii_case(b"svg") || name.eq_ignore_ascii_case(b"math");
    let mut i = 0;
    while let Some(off) = memchr_lt(&bytes[i..]) {
        i += off + 1;
        if lower_at(i, "script") || lower_at(i, "style") {
            // Skip to the matching end tag: script text is not markup.
            let end = if lower_at(i, "script") {
                "</script"
            } else {
                "</style"
            };
            match find_ci(&bytes[i..], end) {
                Some(e) => i += e + end.len(),
                None => break,
            }
            continue;
        }
        let closing = bytes.get(i) == Some(&b'/');
        let start = if closing { i + 1 } else { i };
        // A tag starts with a letter (`<3` is text), and its name runs to
        // whitespace, `/` or `>` as the HTML tokenizer reads it: `<li<` is
        // an element named `li<` that `</li>` does not close (the fuzz
        // harness found 8,000 of them nested, 116 KB in 0.5 s). The name is
        // read for at most MAX_TAG_NAME bytes.
        if !bytes.get(start).is_some_and(u8::is_ascii_alphabetic) {
            continue;
        }
        let scan_end = bytes.len().min(start + MAX_TAG_NAME);
        let name_end = bytes[start..scan_end]
            .iter()
            .position(|b| matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' | b'/' | b'>'))
            .map_or(scan_end, |p| start + p);
        let name: &[u8] = &bytes[start..name_end];
        // Everything up to the next `>` belongs to this tag (attributes,
        // stray `<`s); a tag that never ends swallows the rest of the page
        // (the tokenizer drops it at the end of the file), so nothing after
        // it nests. Each byte is looked at once: the pass is linear.
        let Some(gt) = bytes[name_end..]
            .iter()
            .position(|&b| b == b'>')
            .map(|p| name_end + p)
        else {
            break;
        };
        i = gt + 1;
        if NON_NESTING_TAGS
            .iter()
            .any(|t| t.as_bytes().eq_ignore_ascii_case(name))
        {
            continue;
        }
        if closing {
            let reach = open.len().saturating_sub(END_TAG_REACH);
            if let Some(k) = open[reach..]
                .iter()
                .rposition(|o| o.eq_ignore_ascii_case(name))
            {
                foreign -= open[reach + k..].iter().filter(|o| is_foreign(o)).count();
                open.truncate(reach + k);
            }
            continue;
        }
        // `<x/>` closes itself only inside SVG or MathML: an HTML parser
        // ignores the slash on an HTML (or unknown) element, which stays
        // open (the fuzz harness found 8,192 `<bos:/>` nested that way,
        // 125 KB that took 0.5 s).
        let self_closing = foreign > 0 && bytes[gt - 1] == b'/';
        if !self_closing {
            foreign += usize::from(is_foreign(name));
            open.push(name);
            if open.len() > MAX_MARKUP_DEPTH {
                return Some(open.len());
            }
        }
    }
    None
}

fn memchr_lt(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'<')
}

/// Case-insensitive position of an ASCII `needle` in `hay`.
fn find_ci(hay: &[u8], needle: &str) -> Option<usize> {
    let n = needle.as_bytes();
    hay.windows(n.len()).position(|w| w.eq_ignore_ascii_case(n))
}

/// The highest price a listing may state, in any currency: a page claiming
/// more is hostile or broken (the largest real unit prices, in KRW or
/// IDR, stay far below it).
pub const MAX_PRICE: f64 = 1e10;

/// Numbers from a page are hostile: a price that is not finite, not
/// positive or absurd (`NaN`, `Infinity`, a 400-digit number, `-3`) is
/// dropped, and the listing says its price is missing. Every parser's
/// listings pass through here, so no such number reaches the store.
pub fn validate_numbers(listing: &mut Listing) {
    let Some(price) = &mut listing.price else {
        return;
    };
    let valid = |v: f64| v.is_finite() && v > 0.0 && v < MAX_PRICE;
    if !valid(price.amount) {
        tracing::warn!(
            url = %listing.url,
            amount = %price.amount,
            "price dropped: not a finite positive amount"
        );
        listing.price = None;
        if !listing.missing.iter().any(|m| m == "price") {
            listing.missing.push("price".into());
        }
        return;
    }
    if price.max.is_some_and(|m| !valid(m) || m < price.amount) {
        price.max = None;
    }
}

/// Is this fetched page a block page? The one question the live fetcher
/// and the scan share: the page is parsed as the scan would parse it (the
/// platform from the URL's host), and a page with listings is never a
/// block. `None` for a page that is not a block, or not a marketplace page.
pub fn classify_page(
    url: &Url,
    body: &[u8],
    content_type: Option<&str>,
    facts: block::ResponseFacts<'_>,
) -> Option<block::BlockHit> {
    let budget = budget::start(budget::PAGE_CPU_BUDGET);
    let decoded = charset::decode(body, content_type);
    if too_deep(&decoded.text).is_some() {
        return None;
    }
    if let Some(p) = url.host_str().and_then(Platform::from_host) {
        if !for_platform(p)
            .parse(url, &decoded.text)
            .listings()
            .is_empty()
        {
            return None;
        }
    }
    let hit = block::classify(url, facts, &decoded.text);
    // A page over budget is not judged: the scan reports it as over the
    // limit, and the fetcher keeps it as an ordinary page.
    hit.filter(|_| !budget.exceeded())
}

/// Does this fetched item page show the listing taken down? The daemon's
/// removal check for a page that answered 200: decoded and parsed as a
/// scan would, and only a page with no listing that is not a block page
/// is asked [`gone::classify_gone`]. `None` for a live listing, a block
/// page, a page of no known platform, or one without the notice's shape.
pub fn classify_gone_page(
    url: &Url,
    body: &[u8],
    content_type: Option<&str>,
    facts: block::ResponseFacts<'_>,
) -> Option<gone::GoneHit> {
    let platform = url.host_str().and_then(Platform::from_host)?;
    let budget = budget::start(budget::PAGE_CPU_BUDGET);
    let decoded = charset::decode(body, content_type);
    if too_deep(&decoded.text).is_some() {
        return None;
    }
    // A listing with data (a price, a seller or a photo) is a live
    // listing. A parser may still make a bare "listing" of a notice page's
    // heading (the title alone): that is no listing data.
    if for_platform(platform)
        .parse(url, &decoded.text)
        .listings()
        .iter()
        .any(has_listing_data)
    {
        return None;
    }
    if block::classify(url, facts, &decoded.text).is_some() {
        return None;
    }
    // A page over budget is not judged gone: a takedown is only ever
    // recorded on a page read in full.
    gone::classify_gone(platform, url, facts, &decoded.text).filter(|_| !budget.exceeded())
}

/// True when a listing carries more than a title: a price, a seller or a
/// photo.
fn has_listing_data(l: &Listing) -> bool {
    l.price.is_some() || l.seller.name.is_some() || l.seller.id.is_some() || !l.images.is_empty()
}

/// Reports a page of a known kind with too few of the fields a parser
/// expects as drift. `listings` that lack a price on most cards mean the
/// price markup moved.
pub fn check_coverage(
    platform: Platform,
    url: &Url,
    page: PageKind,
    listings: Vec<Listing>,
    total: Option<u64>,
) -> PageOutcome {
    if page == PageKind::Search && listings.len() >= 3 {
        let n = listings.len();
        let mut missing = Vec::new();
        let priced = listings.iter().filter(|l| l.price.is_some()).count();
        if priced * 2 < n {
            missing.push("price".to_string());
        }
        let titled = listings
            .iter()
            .filter(|l| !l.title.trim().is_empty())
            .count();
        if titled * 2 < n {
            missing.push("title".to_string());
        }
        if !missing.is_empty() {
            let detail = format!(
                "most of {n} listings lack {}: the layout has probably changed",
                missing.join(", ")
            );
            return dom::drift(platform, url, page, missing, detail);
        }
    }
    PageOutcome::Ok {
        platform,
        page,
        listings,
        total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(file: &str) -> Vec<u8> {
        std::fs::read(format!("{}/seeds/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    /// Issue 19: the per-page CPU budget. A page over it is reported as
    /// over the limit, never as a page with fewer listings, and the next
    /// page gets a budget of its own.
    #[test]
    fn a_page_over_its_cpu_budget_is_reported_and_the_next_page_parses() {
        let url = Url::parse("https://www.aliexpress.com/w/wholesale-aurora.html?page=1").unwrap();
        let page = seed("aliexpress/search-aurora-p1.html");
        let facts = block::ResponseFacts::default();
        match parse_response_within(
            Platform::AliExpress,
            &url,
            &page,
            None,
            facts,
            std::time::Duration::ZERO,
        ) {
            PageOutcome::Drift {
                missing, detail, ..
            } => {
                assert_eq!(missing, ["parsing within its time budget"]);
                assert!(detail.contains("limit 0 ms"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        assert!(!budget::spent(), "the budget ends with its page");
        assert!(!parse_page(Platform::AliExpress, &url, &page, None)
            .listings()
            .is_empty());
    }

    /// Once the budget is spent, every parser stops walking its page: the
    /// embedded-data scan and the card loops give nothing more, so an
    /// over-budget page winds down in the time of one step.
    #[test]
    fn parsers_stop_walking_a_page_once_its_budget_is_spent() {
        for (platform, url, file) in [
            (
                Platform::AliExpress,
                "https://www.aliexpress.com/w/wholesale-aurora.html?page=1",
                "aliexpress/search-aurora-p1.html",
            ),
            (
                Platform::Alibaba,
                "https://www.alibaba.com/trade/search?SearchText=aurora&page=1",
                "alibaba/search-aurora-p1.html",
            ),
            (
                Platform::Taobao,
                "https://s.taobao.com/search?q=%E5%A5%A5%E7%BD%97%E6%8B%89",
                "taobao/search-aoluola.html",
            ),
            (
                Platform::Taobao,
                "https://s.taobao.com/search?q=aurora",
                "taobao/search-aurora-dom.html",
            ),
            (
                Platform::Tmall,
                "https://list.tmall.com/search_product.htm?q=%B0%C2%C2%DE%C0%AD",
                "tmall/list-aoluola.gbk.html",
            ),
            (
                Platform::S1688,
                "https://s.1688.com/selloffer/offer_search.htm?keywords=%B0%C2%C2%DE%C0%AD",
                "1688/search-aoluola.gbk.html",
            ),
        ] {
            let url = Url::parse(url).unwrap();
            let text = charset::decode(&seed(file), None).text;
            let parser = for_platform(platform);
            assert!(!parser.parse(&url, &text).listings().is_empty(), "{file}");
            let _spent = budget::start(std::time::Duration::ZERO);
            assert!(
                parser.parse(&url, &text).listings().is_empty(),
                "{file}: a spent budget still read listings"
            );
        }
    }

    /// Regression (issue 19, finding 1): an embedded price of `"NaN"`,
    /// `"Infinity"`, a 400-digit number or a negative one reached the store
    /// as `null` and broke every later scan of the data folder. Such a
    /// price is dropped at parse time and the listing says it is missing.
    #[test]
    fn hostile_prices_are_dropped_at_parse_time() {
        let seed = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/seeds/aliexpress/search-aurora-p1.html"
        ))
        .unwrap();
        let url = Url::parse("https://www.aliexpress.com/w/wholesale-aurora.html?page=1").unwrap();
        let huge = format!("1{}", "0".repeat(400));
        for bad in [
            "\"NaN\"",
            "\"Infinity\"",
            "\"inf\"",
            huge.as_str(),
            "-4.99",
            "0",
        ] {
            let page = seed
                .replace("\"minPrice\":4.99", &format!("\"minPrice\":{bad}"))
                .replace("US $4.99", "US $");
            let out = parse_page(Platform::AliExpress, &url, page.as_bytes(), None);
            let listings = out.listings();
            assert!(!listings.is_empty(), "{bad}: {out:?}");
            for l in listings {
                if let Some(p) = &l.price {
                    assert!(p.amount.is_finite() && p.amount > 0.0, "{bad}: {p:?}");
                }
                // Whatever is stored can be read back.
                let json = serde_json::to_string(l).unwrap();
                let back: Listing = serde_json::from_str(&json).unwrap();
                assert_eq!(back.price.is_some(), l.price.is_some(), "{bad}");
            }
        }
    }

    /// Found by the fuzz harness (benches/fuzz.rs, parse_alibaba input
    /// 3168): thousands of unclosed `<div data-...>` made the HTML parser
    /// and selectors quadratic. Such a page is refused before parsing.
    #[test]
    fn deeply_nested_markup_is_refused_before_parsing() {
        let url = Url::parse("https://www.alibaba.com/trade/search?SearchText=aurora").unwrap();
        let page = format!(
            "<html><body>{}<script>var s = '<div>';</script></body></html>",
            "<div data-x=\"1\">".repeat(50_000)
        );
        match parse_page(Platform::Alibaba, &url, page.as_bytes(), None) {
            PageOutcome::Drift { detail, .. } => assert!(detail.contains("nested"), "{detail}"),
            other => panic!("{other:?}"),
        }
        // Balanced and script-held markup is fine, and so are icons: inside
        // SVG, `<path/>` closes itself.
        let fine = format!(
            "<script>{}</script>{}<svg>{}</svg>",
            "<div>".repeat(5_000),
            "<div></div><br/><span>x</span>".repeat(5_000),
            "<g><path d='M0 0'/><circle r=1 /></g>".repeat(3_000)
        );
        assert_eq!(too_deep(&fine), None);
        // Found by the fuzz harness (parse_alibaba input 617362): outside
        // SVG and MathML the slash closes nothing, as in the HTML parser.
        assert!(too_deep(&"<bos:/>".repeat(8_192)).is_some());
        // Found by the fuzz harness (parse_taobao input 84056): `<li</a></li>`
        // opens an element named `li<` that `</li>` does not close.
        assert!(too_deep(&"<li</a></li>\n".repeat(8_000)).is_some());
        assert_eq!(too_deep(&"<li>x</li>\n".repeat(8_000)), None);
        // `<3` and `< b` are text, not tags.
        assert_eq!(too_deep(&"a <3 b < c".repeat(5_000)), None);
        // A tag runs to its `>`: `<a<a<a…` with no `>` is one unfinished
        // tag, which the tokenizer drops (linear: each byte looked at once).
        assert_eq!(too_deep(&"<a".repeat(200_000)), None);
        assert!(
            too_deep(&"<a<b>".repeat(2_000)).is_some(),
            "`a<b` elements nest"
        );
        assert!(too_deep(&"<div/>".repeat(1_001)).is_some());
        assert_eq!(
            too_deep(&format!(
                "<svg>{}</svg>{}",
                "<x/>".repeat(2_000),
                "<p>a</p>".repeat(10)
            )),
            None
        );
        assert_eq!(too_deep(&"<div><DIV>".repeat(600)), Some(1_001));
        // Found by the fuzz harness (parse_aliexpress input 59543): an
        // unknown element nests like any other.
        assert!(too_deep(&"<html>\n<hea>\n".repeat(3_000)).is_some());
        assert_eq!(too_deep(&"<li>x<p>y<br><img src=a>".repeat(5_000)), None);
        // Tags without `>`: no rescan per tag (linear; a quadratic scan of
        // these 2 MB would take minutes).
        assert_eq!(too_deep(&"<x</x".repeat(250_000)), None);
        // Found by the fuzz harness (gone input 32451): stray end tags of
        // another element close nothing.
        assert!(too_deep(&"<ul><li>x</div>".repeat(2_000)).is_some());
        assert_eq!(too_deep(&"<ul><li>x</li></ul></div>".repeat(2_000)), None);
        assert_eq!(
            too_deep(&"<div><span><b>x</div>".repeat(2_000)),
            None,
            "an end tag closes what was opened inside its element"
        );
        // Stray end tags cannot make the pass quadratic.
        let stray = format!("{}{}", "<div>".repeat(999), "</zz>".repeat(400_000));
        assert_eq!(too_deep(&stray), None);
    }

    #[test]
    fn validate_numbers_keeps_good_prices_and_drops_bad_maxima() {
        let mut l = Listing {
            price: Some(crate::model::listing::Price {
                amount: 5.0,
                max: Some(f64::NAN),
                currency: "CNY".into(),
            }),
            seller: Default::default(),
            images: vec![],
            missing: vec![],
            ..Listing::new(
                Platform::Taobao,
                "https://item.taobao.com/item.htm?id=1".into(),
                "1".into(),
                "t".into(),
                "",
            )
        };
        validate_numbers(&mut l);
        let p = l.price.clone().unwrap();
        assert_eq!((p.amount, p.max), (5.0, None));
        l.price.as_mut().unwrap().amount = f64::INFINITY;
        validate_numbers(&mut l);
        assert!(l.price.is_none());
        assert_eq!(l.missing, ["price"]);
    }
}
