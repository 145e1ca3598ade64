//! Block pages: punish/captcha pages, login walls and refusal pages, told
//! from ordinary pages by their *shape*, never by a mention.
//!
//! Real marketplace pages mention every block marker there is: header
//! scripts link `login.aliexpress.com`, `login.taobao.com` and
//! `passport.alibaba.com`; script configuration embeds
//! `/_____tmd_____/punish?...x5secdata=...` as the fallback `redirectURL`
//! of an AJAX endpoint or a JSONP punish callback. So:
//!
//! - this check runs only on a page whose parser found no listing
//!   ([`crate::marketplaces::parse_page`]): listings found means not
//!   blocked, ever;
//! - a page is a block page only when the block is its *main content*:
//!   the request was redirected into a login host or a punish path; or the
//!   page's visible text is small (real punish pages are 85–130 KB, nearly
//!   all script) and the page carries the captcha itself (a
//!   `window._config_` whose `action` is `captcha`, the slider's
//!   `nocaptcha`/`nc_1_wrapper` elements, the punish script) or a login
//!   form (a password field, a form posting to a login host, the login
//!   app's `loginFormData`); or a refusal status (403, 429, 503) with a
//!   small page.
//!
//! The live fetcher asks the same question through
//! [`crate::marketplaces::classify_page`], so a crawl and a scan never
//! disagree on what was a block.

use scraper::{Html, Node};
use serde::Serialize;
use url::Url;

/// Where the evidence of a block was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// The URL the page came from (after redirects) is a login host or a
    /// punish path.
    Redirect,
    /// The page's title names the block.
    Title,
    /// The page's main content is the captcha, slider or login form.
    MainContent,
    /// A refusal status with a small page.
    Status,
}

impl Evidence {
    /// Words for a report: "redirect", "title", "main content", "status".
    pub fn describe(self) -> &'static str {
        match self {
            Evidence::Redirect => "redirect",
            Evidence::Title => "title",
            Evidence::MainContent => "main content",
            Evidence::Status => "status",
        }
    }
}

/// A block and what gave it away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockHit {
    /// The marker that gave the block away (`/_____tmd_____/punish`,
    /// `login.taobao.com`, `#nocaptcha`, `HTTP 429`).
    pub marker: String,
    pub reason: &'static str,
    pub found_in: Evidence,
}

/// What is known of the response besides its text.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResponseFacts<'a> {
    /// The URL the body came from after redirects, when it differs from
    /// the one asked for.
    pub final_url: Option<&'a Url>,
    /// The HTTP status, when known.
    pub status: Option<u16>,
}

/// Hosts that are themselves a login wall.
pub const LOGIN_HOSTS: &[&str] = &[
    "login.taobao.com",
    "login.tmall.com",
    "login.tmall.hk",
    "login.1688.com",
    "login.alibaba.com",
    "passport.alibaba.com",
    "passport.aliexpress.com",
    "login.aliexpress.com",
    "login.aliexpress.ru",
    "passport.taobao.com",
];

/// The path every Alibaba Group anti-bot (TMD) punish page lives under.
pub const PUNISH_PATH: &str = "/_____tmd_____/punish";

/// Visible text (outside scripts and styles) above which a page is a real
/// page with content, not a block page. Real punish pages carry one or two
/// sentences ("Sorry, we have detected unusual traffic from your network.
/// Please slide to verify"); real login pages a form with its labels and
/// a footer, well under this.
pub const MAX_BLOCK_TEXT_CHARS: usize = 3_000;

/// Elements of the TMD slider captcha, as its punish page renders them.
const SLIDER_IDS: &[&str] = &["nocaptcha", "nc_1_wrapper", "nc_1_n1z", "baxia-punish"];
/// Scripts only a punish page loads.
///
/// Not `awsc.js` or `baxia`: ordinary pages load those security clients too.
const PUNISH_SCRIPTS: &[&str] = &["/sd/punish/", "punish.js"];
/// Titles of block pages (lower-cased substrings).
const BLOCK_TITLES: &[(&str, &str)] = &[
    ("captcha interception", "punish page (anti-bot)"),
    ("unusual traffic", "punish page (anti-bot)"),
    ("验证码拦截", "punish page (anti-bot)"),
    ("滑动验证", "captcha challenge (slider)"),
    ("访问被拒绝", "access denied"),
    ("access denied", "access denied"),
    ("too many requests", "rate limited"),
];

/// Returns the block a page shows, if any. `url` is the URL the page was
/// asked for; `text` the decoded page. Call it only on a page that holds
/// no listing (see the module docs).
pub fn classify(url: &Url, facts: ResponseFacts<'_>, text: &str) -> Option<BlockHit> {
    for u in [Some(url), facts.final_url].into_iter().flatten() {
        if let Some(hit) = redirect_hit(u) {
            return Some(hit);
        }
    }
    let page = PageShape::of(text);
    if page.visible_chars > MAX_BLOCK_TEXT_CHARS {
        return None;
    }
    if let Some(hit) = page.captcha() {
        return Some(hit);
    }
    if let Some(hit) = page.login_form() {
        return Some(hit);
    }
    if let Some(hit) = page.login_redirect() {
        return Some(hit);
    }
    if let Some((title, reason)) = page.block_title() {
        return Some(BlockHit {
            marker: title,
            reason,
            found_in: Evidence::Title,
        });
    }
    match facts.status {
        Some(s @ (403 | 429 | 503)) => Some(BlockHit {
            marker: format!("HTTP {s}"),
            reason: match s {
                403 => "access refused (HTTP 403)",
                429 => "rate limited (HTTP 429)",
                _ => "service refused (HTTP 503)",
            },
            found_in: Evidence::Status,
        }),
        _ => None,
    }
}

/// A URL that is a login host or a punish path.
fn redirect_hit(url: &Url) -> Option<BlockHit> {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    if let Some(h) = LOGIN_HOSTS.iter().find(|h| host == **h) {
        return Some(BlockHit {
            marker: (*h).to_string(),
            reason: "redirected to a login wall",
            found_in: Evidence::Redirect,
        });
    }
    if url.path().contains(PUNISH_PATH) {
        return Some(BlockHit {
            marker: PUNISH_PATH.to_string(),
            reason: "redirected to a punish page (anti-bot)",
            found_in: Evidence::Redirect,
        });
    }
    None
}

/// What the block check needs of a page, read in one pass over its DOM.
struct PageShape {
    title: String,
    visible_chars: usize,
    /// Text of inline scripts (bounded: see [`MAX_SCRIPT_CHARS`]).
    scripts: String,
    /// Inline scripts of under [`SHORT_SCRIPT_CHARS`], lower-cased: a
    /// redirect shell's whole logic fits in one.
    short_scripts: Vec<String>,
    /// `src` of external scripts.
    script_srcs: Vec<String>,
    /// ids and classes present.
    ids: Vec<String>,
    has_password_input: bool,
    /// `action` of every form, lower-cased.
    form_actions: Vec<String>,
    /// `content` of `<meta http-equiv=refresh>`, lower-cased.
    meta_refresh: Vec<String>,
}

/// Inline script text kept for the block check. A punish page's config
/// sits in its first few KB; a page with megabytes of script is not a
/// block page anyway (its visible text decides), so this only bounds work.
const MAX_SCRIPT_CHARS: usize = 256 * 1024;

/// A script this short that both names a login (or punish) URL and moves
/// `location` is a redirect shell, however it builds the URL.
const SHORT_SCRIPT_CHARS: usize = 2_000;

/// Ways a script sends the browser elsewhere.
const LOCATION_MOVES: &[&str] = &[
    "location.href=",
    "location.href =",
    "location.replace(",
    "location=",
    "location =",
    "location.assign(",
];

impl PageShape {
    fn of(text: &str) -> PageShape {
        let doc = Html::parse_document(text);
        let mut shape = PageShape {
            title: String::new(),
            visible_chars: 0,
            scripts: String::new(),
            short_scripts: Vec::new(),
            script_srcs: Vec::new(),
            ids: Vec::new(),
            has_password_input: false,
            form_actions: Vec::new(),
            meta_refresh: Vec::new(),
        };
        for node in doc.tree.nodes() {
            if super::budget::spent() {
                break;
            }
            match node.value() {
                Node::Element(el) => {
                    let name = el.name();
                    if let Some(id) = el.id() {
                        shape.ids.push(id.to_ascii_lowercase());
                    }
                    match name {
                        "script" => {
                            if let Some(src) = el.attr("src") {
                                shape.script_srcs.push(src.to_string());
                            }
                        }
                        "input"
                            if el
                                .attr("type")
                                .is_some_and(|t| t.eq_ignore_ascii_case("password")) =>
                        {
                            shape.has_password_input = true;
                        }
                        "form" => {
                            if let Some(a) = el.attr("action") {
                                shape.form_actions.push(a.to_ascii_lowercase());
                            }
                        }
                        "meta"
                            if el
                                .attr("http-equiv")
                                .is_some_and(|h| h.eq_ignore_ascii_case("refresh")) =>
                        {
                            if let Some(c) = el.attr("content") {
                                shape.meta_refresh.push(c.to_ascii_lowercase());
                            }
                        }
                        _ => {}
                    }
                }
                Node::Text(t) => {
                    let parent = node
                        .parent()
                        .and_then(|p| p.value().as_element().map(|e| e.name()));
                    match parent {
                        Some("script") => {
                            if shape.scripts.len() < MAX_SCRIPT_CHARS {
                                shape.scripts.push_str(t);
                                shape.scripts.push('\n');
                            }
                            if t.len() < SHORT_SCRIPT_CHARS {
                                shape.short_scripts.push(t.to_ascii_lowercase());
                            }
                        }
                        Some("style" | "noscript" | "template") => {}
                        Some("title") => shape.title.push_str(t),
                        _ => {
                            shape.visible_chars += t.chars().filter(|c| !c.is_whitespace()).count();
                        }
                    }
                }
                _ => {}
            }
        }
        shape
    }

    /// The TMD captcha as the page's content: its config, its slider, or
    /// its script.
    fn captcha(&self) -> Option<BlockHit> {
        if let Some(action) = config_action(&self.scripts) {
            if action.eq_ignore_ascii_case("captcha") || action.starts_with("captcha") {
                return Some(BlockHit {
                    marker: "window._config_.action = \"captcha\"".into(),
                    reason: "punish page (anti-bot captcha)",
                    found_in: Evidence::MainContent,
                });
            }
        }
        if let Some(id) = self.ids.iter().find(|id| SLIDER_IDS.contains(&id.as_str())) {
            return Some(BlockHit {
                marker: format!("#{id}"),
                reason: "captcha challenge (slider)",
                found_in: Evidence::MainContent,
            });
        }
        if let Some(src) = self
            .script_srcs
            .iter()
            .find(|s| PUNISH_SCRIPTS.iter().any(|p| s.contains(p)))
        {
            return Some(BlockHit {
                marker: src.clone(),
                reason: "punish page (anti-bot script)",
                found_in: Evidence::MainContent,
            });
        }
        None
    }

    /// A login form as the page's content.
    fn login_form(&self) -> Option<BlockHit> {
        if let Some(action) = self
            .form_actions
            .iter()
            .find(|a| login_host_in(a).is_some())
        {
            return Some(BlockHit {
                marker: login_host_in(action).unwrap_or_default().to_string(),
                reason: "login wall (a sign-in form instead of the page)",
                found_in: Evidence::MainContent,
            });
        }
        if self.has_password_input || self.scripts.contains("loginFormData") {
            let marker = login_host_in(&self.scripts.to_ascii_lowercase())
                .unwrap_or("password field")
                .to_string();
            return Some(BlockHit {
                marker,
                reason: "login wall (a sign-in form instead of the page)",
                found_in: Evidence::MainContent,
            });
        }
        None
    }

    /// A small page that sends the browser to a login host at once: a meta
    /// refresh, or a script assigning `location` to a login URL.
    fn login_redirect(&self) -> Option<BlockHit> {
        for content in &self.meta_refresh {
            if let Some(h) = login_host_in(content) {
                return Some(BlockHit {
                    marker: h.to_string(),
                    reason: "redirected to a login wall (meta refresh)",
                    found_in: Evidence::Redirect,
                });
            }
            if content.contains(PUNISH_PATH) {
                return Some(BlockHit {
                    marker: PUNISH_PATH.into(),
                    reason: "redirected to a punish page (meta refresh)",
                    found_in: Evidence::Redirect,
                });
            }
        }
        for script in &self.short_scripts {
            if !LOCATION_MOVES.iter().any(|m| script.contains(m)) {
                continue;
            }
            if let Some(h) = LOGIN_HOSTS
                .iter()
                .find(|h| script.contains(&format!("//{h}")))
            {
                return Some(BlockHit {
                    marker: (*h).to_string(),
                    reason: "redirected to a login wall (script)",
                    found_in: Evidence::Redirect,
                });
            }
        }
        let lower = self.scripts.to_ascii_lowercase();
        for assign in LOCATION_MOVES {
            for (pos, _) in lower.match_indices(assign) {
                let after = &lower[pos + assign.len()..];
                let target: String = after.chars().take(160).collect();
                let target = target.trim_start_matches([' ', '"', '\'']);
                if let Some(h) = LOGIN_HOSTS.iter().find(|h| {
                    target.starts_with(&format!("https://{h}"))
                        || target.starts_with(&format!("//{h}"))
                        || target.starts_with(&format!("http://{h}"))
                }) {
                    return Some(BlockHit {
                        marker: (*h).to_string(),
                        reason: "redirected to a login wall (script)",
                        found_in: Evidence::Redirect,
                    });
                }
                if target.starts_with(PUNISH_PATH)
                    || target
                        .split('?')
                        .next()
                        .is_some_and(|t| t.contains(PUNISH_PATH))
                {
                    return Some(BlockHit {
                        marker: PUNISH_PATH.into(),
                        reason: "redirected to a punish page (script)",
                        found_in: Evidence::Redirect,
                    });
                }
            }
        }
        None
    }

    fn block_title(&self) -> Option<(String, &'static str)> {
        let lower = self.title.to_lowercase();
        BLOCK_TITLES
            .iter()
            .find(|(t, _)| lower.contains(t))
            .map(|(_, reason)| (self.title.trim().to_string(), *reason))
    }
}

/// The login host named in `s`, if any.
fn login_host_in(s: &str) -> Option<&'static str> {
    LOGIN_HOSTS.iter().copied().find(|h| s.contains(h))
}

/// The `action` of a `window._config_` object in the page's scripts (the
/// TMD punish page's configuration), read as a value, not searched as text.
fn config_action(scripts: &str) -> Option<String> {
    let value = super::jsobject::value_after(scripts, "window._config_")?;
    value
        .get("action")
        .and_then(|a| a.as_str())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn hit(url: &str, html: &str) -> Option<BlockHit> {
        classify(&u(url), ResponseFacts::default(), html)
    }

    #[test]
    fn punish_config_is_a_block() {
        let html = r#"<html><head><title>x</title><script>window._config_ = {"action": "captcha", "url": "/_____tmd_____/punish?x5secdata=abc"};</script></head><body><p>Please slide to verify</p></body></html>"#;
        let h = hit("https://www.aliexpress.com/w/wholesale-x.html", html).unwrap();
        assert_eq!(h.found_in, Evidence::MainContent);
        assert!(h.marker.contains("captcha"), "{h:?}");
    }

    #[test]
    fn login_redirect_host_is_blocked() {
        let h = hit(
            "https://login.taobao.com/member/login.jhtml?redirectURL=x",
            "",
        )
        .unwrap();
        assert_eq!(h.marker, "login.taobao.com");
        assert_eq!(h.found_in, Evidence::Redirect);
    }

    #[test]
    fn final_url_on_a_punish_path_is_blocked() {
        let fin = u("https://www.aliexpress.com/w/x.html/_____tmd_____/punish?x5secdata=1");
        let facts = ResponseFacts {
            final_url: Some(&fin),
            status: Some(200),
        };
        let h = classify(&u("https://www.aliexpress.com/w/x.html"), facts, "<p>x</p>").unwrap();
        assert_eq!(h.found_in, Evidence::Redirect);
        assert_eq!(h.marker, PUNISH_PATH);
    }

    #[test]
    fn mentions_in_scripts_are_not_a_block() {
        let html = r#"<html><head><script>var c = {loginUrl: "https://login.aliexpress.com/", redirectURL: "https://www.aliexpress.com/_____tmd_____/punish?x5secdata=1", nocaptcha: true};</script></head><body><a href="https://login.aliexpress.com/">Sign in</a><p>nothing found here</p></body></html>"#;
        assert_eq!(hit("https://www.aliexpress.com/w/x.html", html), None);
    }

    #[test]
    fn meta_refresh_to_login_is_a_block() {
        let html = r#"<meta http-equiv="refresh" content="0;url=https://login.taobao.com/member/login.jhtml">"#;
        let h = hit("https://s.taobao.com/search?q=x", html).unwrap();
        assert_eq!(h.marker, "login.taobao.com");
        assert_eq!(h.found_in, Evidence::Redirect);
    }

    #[test]
    fn a_page_with_much_text_is_never_a_block() {
        let mut html = String::from(r#"<div id="nocaptcha"></div>"#);
        html.push_str(&"<p>ordinary words on an ordinary page</p>".repeat(200));
        assert_eq!(hit("https://www.aliexpress.com/w/x.html", &html), None);
    }

    #[test]
    fn refusal_status_with_a_small_page_is_a_block() {
        let facts = ResponseFacts {
            final_url: None,
            status: Some(429),
        };
        let h = classify(
            &u("https://www.alibaba.com/trade/search"),
            facts,
            "<p>slow down</p>",
        )
        .unwrap();
        assert_eq!(h.found_in, Evidence::Status);
        assert_eq!(h.marker, "HTTP 429");
    }

    #[test]
    fn ordinary_small_page_is_not_blocked() {
        assert_eq!(hit("https://www.alibaba.com/x", "<html>ok</html>"), None);
    }
}
