//! Block pages told from ordinary pages by their shape: the lessons of
//! real captures, where ordinary pages mention every block marker there is
//! (login hosts in header scripts, `/_____tmd_____/punish?...x5secdata=`
//! in script configuration) and real punish pages are 85–130 KB of script
//! around one sentence and a slider.

use super::support::{self, parse};
use knockoff::marketplaces::block::{self, Evidence, ResponseFacts};
use knockoff::marketplaces::{self, PageOutcome};

fn blocked(outcome: &PageOutcome) -> (&str, Evidence) {
    match outcome {
        PageOutcome::Blocked {
            marker, found_in, ..
        } => (marker.as_str(), *found_in),
        other => panic!("expected blocked, got {other:?}"),
    }
}

/// An ordinary search page whose scripts carry a login app's URLs and an
/// AJAX endpoint whose anti-bot fallback `redirectURL` is a punish URL,
/// plus a JSONP punish callback; its header links to `login.aliexpress.com`.
/// Mirrors the header scripts of real AliExpress pages (the 2022–2026
/// search and item pages studied for issue 16: the punish fallback of
/// `window._dida_config_` builds, e.g. the public scraper sample that
/// pulls `//www.aliexpress.com/.../punish?x5secdata=` out of an ordinary
/// search response). Listings found means not blocked, ever.
#[test]
fn listings_with_punish_urls_and_login_hosts_in_scripts_are_listings() {
    let url = "https://www.aliexpress.com/w/wholesale-aurora.html?page=1";
    let rel = "blocks/aliexpress-search-with-punish-and-login-urls.html";
    let listings = support::parse_listings(url, rel, Some("text/html; charset=utf-8"));
    assert!(listings.len() >= 5, "{}", listings.len());
    // The fetcher asks the same question and gets the same answer.
    let page = support::fixture(rel);
    let hit = marketplaces::classify_page(
        &support::url(url),
        &page,
        Some("text/html"),
        ResponseFacts::default(),
    );
    assert_eq!(hit, None);
}

/// A punish page of ~90 KB, nearly all inline script (the TMD slider's
/// SDK), with `window._config_ = {"action":"captcha",...}` (whose config
/// itself names a login URL), the `nocaptcha`/`nc_1_wrapper` slider, and
/// one sentence of text. Mirrors the shape of AliExpress and 1688 punish
/// pages (`g.alicdn.com/sd/punish/waf_ssr_v2`) as real captures show them.
#[test]
fn a_real_shaped_punish_page_of_90_kb_is_blocked() {
    let rel = "blocks/aliexpress-punish-100k.html";
    assert!(support::fixture(rel).len() > 85_000);
    let out = parse(
        "https://www.aliexpress.com/w/wholesale-aurora.html?page=3",
        rel,
        Some("text/html; charset=utf-8"),
    );
    let (marker, found_in) = blocked(&out);
    assert_eq!(found_in, Evidence::MainContent);
    assert!(marker.contains("captcha"), "{marker}");
}

/// The same punish page under another platform's URL is still a block:
/// the check is shared, not per parser.
#[test]
fn punish_page_is_blocked_on_every_platform() {
    for url in [
        "https://s.1688.com/selloffer/offer_search.htm?keywords=aurora",
        "https://s.taobao.com/search?q=aurora",
        "https://list.tmall.com/search_product.htm?q=aurora",
        "https://www.alibaba.com/trade/search?SearchText=aurora",
        "https://www.aliexpress.com/item/1005006123456789.html",
    ] {
        let out = parse(url, "blocks/aliexpress-punish-100k.html", None);
        assert!(matches!(out, PageOutcome::Blocked { .. }), "{url}: {out:?}");
    }
}

/// A capture whose request was redirected into the login host: the final
/// URL decides, whatever the body.
#[test]
fn a_redirect_into_a_login_host_is_blocked() {
    let url = support::url("https://s.taobao.com/search?q=aurora");
    let fin = support::url("https://login.taobao.com/member/login.jhtml?redirectURL=x");
    let facts = ResponseFacts {
        final_url: Some(&fin),
        status: Some(200),
    };
    let body = support::fixture("blocks/taobao-search-no-results.html");
    let out = marketplaces::parse_response(
        knockoff::model::listing::Platform::Taobao,
        &url,
        &body,
        None,
        facts,
    );
    let (marker, found_in) = blocked(&out);
    assert_eq!(marker, "login.taobao.com");
    assert_eq!(found_in, Evidence::Redirect);
}

/// An empty shell whose only script sends the browser to the login host
/// (how a search answers an anonymous client that has no cookie yet).
#[test]
fn a_script_redirect_into_a_login_host_is_blocked() {
    let out = parse(
        "https://s.taobao.com/search?q=aurora",
        "blocks/taobao-login-redirect-script.html",
        None,
    );
    let (marker, found_in) = blocked(&out);
    assert_eq!(marker, "login.taobao.com");
    assert_eq!(found_in, Evidence::Redirect);
}

/// A login form as the page's content (password field, form posting to
/// the login host, the login app's `loginFormData`), served under the
/// search URL.
#[test]
fn a_login_form_as_main_content_is_blocked() {
    let out = parse(
        "https://s.1688.com/selloffer/offer_search.htm?keywords=aurora",
        "blocks/1688-login-form.html",
        None,
    );
    let (marker, found_in) = blocked(&out);
    assert_eq!(marker, "login.1688.com");
    assert_eq!(found_in, Evidence::MainContent);
}

/// A real "no results" page links to the login host in its header and is
/// empty, not blocked and not drift.
#[test]
fn a_no_results_page_is_empty() {
    let out = parse(
        "https://s.taobao.com/search?q=zzqxaurora",
        "blocks/taobao-search-no-results.html",
        None,
    );
    match out {
        PageOutcome::Ok { listings, .. } => assert!(listings.is_empty()),
        other => panic!("expected an empty result, got {other:?}"),
    }
}

/// A refusal page behind a 403: blocked by its status, with a small page.
#[test]
fn a_403_refusal_page_is_blocked_by_status() {
    let url = support::url("https://www.alibaba.com/trade/search?SearchText=aurora");
    let body = support::fixture("blocks/alibaba-403-access-denied.html");
    let facts = ResponseFacts {
        final_url: None,
        status: Some(403),
    };
    let out = marketplaces::parse_response(
        knockoff::model::listing::Platform::Alibaba,
        &url,
        &body,
        None,
        facts,
    );
    let (_, found_in) = blocked(&out);
    // Its title says it before its status does.
    assert!(matches!(found_in, Evidence::Title | Evidence::Status));
}

/// A page with no listing, no block shape, only header login links: drift
/// (the layout is unknown), never blocked and never zero listings silently.
#[test]
fn an_unknown_layout_with_login_links_is_drift() {
    let html = r#"<!DOCTYPE html><html><head><title>AliExpress</title>
<script>var conf = {"loginUrl":"https://login.aliexpress.com/","redirectURL":"https://www.aliexpress.com/_____tmd_____/punish?x5secdata=1"};</script>
</head><body><a href="https://login.aliexpress.com/">Sign in</a><div id="root"></div></body></html>"#;
    let url = support::url("https://www.aliexpress.com/w/wholesale-aurora.html");
    let out = marketplaces::parse_page(
        knockoff::model::listing::Platform::AliExpress,
        &url,
        html.as_bytes(),
        None,
    );
    assert!(matches!(out, PageOutcome::Drift { .. }), "{out:?}");
    assert_eq!(block::classify(&url, ResponseFacts::default(), html), None);
}

/// A punish page as a browser rendered and saved it (2026, Korean locale):
/// no `window._config_` left, the slider rendered into `#nocaptcha` /
/// `#nc_1_wrapper` / `#nc_1_n1z`, the `nocaptcha/initialize.jsonp` and
/// AWSC scripts in the head, a `_____tmd_____/verify/` form and a feedback
/// link carrying `x5secdata`, under a search URL. Mirrors
/// gihoan1209-lgtm/sourcingkey, `aliexpress_debug.html`.
#[test]
fn a_browser_saved_punish_page_is_blocked_by_its_slider() {
    let rel = "blocks/aliexpress-punish-rendered-2026.html";
    let out = parse(
        "https://www.aliexpress.com/w/wholesale-aurora.html?page=1",
        rel,
        None,
    );
    let (marker, found_in) = blocked(&out);
    assert_eq!(found_in, Evidence::MainContent);
    assert_eq!(marker, "#nocaptcha");
}
