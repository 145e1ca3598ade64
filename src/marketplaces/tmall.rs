//! Tmall parser (placeholder until its issue lands: reports every page as drift).

use super::{Marketplace, PageKind, PageOutcome};
use crate::listing::{listing_key, Platform};
use url::Url;

/// The Tmall parser.
pub struct Tmall;

impl Marketplace for Tmall {
    fn platform(&self) -> Platform {
        Platform::Tmall
    }

    fn page_kind(&self, _url: &Url) -> PageKind {
        PageKind::Search
    }

    fn parse(&self, url: &Url, _html: &str) -> PageOutcome {
        PageOutcome::Drift {
            platform: Platform::Tmall,
            url: url.to_string(),
            page: self.page_kind(url),
            missing: vec!["parser".into()],
            detail: "no parser for this platform yet".into(),
        }
    }

    fn search_url(&self, base: &Url, term: &str, _page: u32) -> Url {
        let mut u = base.clone();
        u.query_pairs_mut().append_pair("q", term);
        u
    }

    fn item_url(&self, id: &str) -> String {
        listing_key(Platform::Tmall, id)
    }
}
