//! Block detection: login walls, captchas and punish pages, which are
//! often served with HTTP 200 and must never pass for an empty result.
//!
//! Markers come from real captures (see `shared/marketplaces.md`). The
//! check runs on every page before any parser.

use url::Url;

/// A block and the marker that gave it away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockHit {
    pub marker: &'static str,
    pub reason: &'static str,
}

/// Markers in the page text, with the block they mean. Checked in order.
const TEXT_MARKERS: &[(&str, &str)] = &[
    ("/_____tmd_____/punish", "punish page (anti-bot)"),
    ("x5secdata", "captcha challenge (x5sec)"),
    ("\"action\": \"captcha\"", "captcha challenge"),
    ("\"action\":\"captcha\"", "captcha challenge"),
    ("window._config_", "captcha challenge (slider)"),
    ("nocaptcha", "captcha challenge (slider)"),
    ("login.taobao.com", "login wall"),
    ("login.tmall.com", "login wall"),
    ("login.1688.com", "login wall"),
    ("passport.alibaba.com", "login wall"),
    ("login.aliexpress.com", "login wall"),
];

/// Hosts that are themselves a login wall (a redirect landed there).
const LOGIN_HOSTS: &[&str] = &[
    "login.taobao.com",
    "login.tmall.com",
    "login.1688.com",
    "passport.alibaba.com",
    "login.aliexpress.com",
];

/// Returns the block a page shows, if any.
///
/// Login-host markers in the text count only on small pages or pages that
/// redirect there: a normal page links to its login page in the header, so
/// a bare mention is not a wall.
pub fn detect(url: &Url, text: &str) -> Option<BlockHit> {
    if let Some(host) = url.host_str() {
        if let Some(marker) = LOGIN_HOSTS.iter().find(|h| host.eq_ignore_ascii_case(h)) {
            return Some(BlockHit {
                marker,
                reason: "redirected to a login wall",
            });
        }
    }
    for (marker, reason) in TEXT_MARKERS {
        if !text.contains(marker) {
            continue;
        }
        if (marker.starts_with("login.") || marker.starts_with("passport."))
            && !looks_like_login_wall(text, marker)
        {
            continue;
        }
        return Some(BlockHit { marker, reason });
    }
    None
}

/// A login wall is a page that sends the browser to the login host (a meta
/// refresh, a `location` assignment, a form posting there) or asks for a
/// password. A page that merely links to its login page in the header, as
/// every normal page does, is not a wall.
fn looks_like_login_wall(text: &str, marker: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    if ["type=\"password\"", "type='password'", "type=password"]
        .iter()
        .any(|p| lower.contains(p))
    {
        return true;
    }
    lower.match_indices(marker).any(|(pos, _)| {
        let mut from = pos.saturating_sub(120);
        while !lower.is_char_boundary(from) {
            from -= 1;
        }
        let before = &lower[from..pos];
        ["location", "refresh", "url=", "action="]
            .iter()
            .any(|k| before.contains(k))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn punish_page_at_200_is_blocked() {
        let html = r#"<script>window._config_ = {"action": "captcha", "url": "/_____tmd_____/punish?x5secdata=abc"};</script>"#;
        let hit = detect(&u("https://www.aliexpress.com/w/wholesale-x.html"), html).unwrap();
        assert_eq!(hit.marker, "/_____tmd_____/punish");
    }

    #[test]
    fn login_redirect_host_is_blocked() {
        let hit = detect(
            &u("https://login.taobao.com/member/login.jhtml?redirectURL=x"),
            "",
        )
        .unwrap();
        assert_eq!(hit.marker, "login.taobao.com");
    }

    #[test]
    fn header_link_to_login_is_not_a_block() {
        let mut html = String::from("<a href=\"https://login.taobao.com/\">登录</a>");
        html.push_str(&"<div class=item>x</div>".repeat(400));
        assert!(detect(&u("https://s.taobao.com/search?q=x"), &html).is_none());
    }

    #[test]
    fn small_page_with_login_link_in_header_is_not_a_block() {
        let html = r#"<div class="sn-login-info"><a class="sn-login" href="//login.tmall.com/?redirectURL=x">请登录</a></div><h1>奥罗拉</h1>"#;
        assert!(detect(&u("https://detail.tmall.com/item.htm?id=1"), html).is_none());
    }

    #[test]
    fn meta_refresh_to_login_is_a_block() {
        let html = r#"<meta http-equiv="refresh" content="0;url=https://login.taobao.com/member/login.jhtml">"#;
        let hit = detect(&u("https://s.taobao.com/search?q=x"), html).unwrap();
        assert_eq!(hit.marker, "login.taobao.com");
    }

    #[test]
    fn ordinary_page_is_not_blocked() {
        assert!(detect(&u("https://www.alibaba.com/x"), "<html>ok</html>").is_none());
    }
}
