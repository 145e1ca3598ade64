//! S1688 parser (placeholder until its issue lands: reports every page as drift).

use super::{Marketplace, PageKind, PageOutcome};
use crate::listing::{listing_key, Platform};
use url::Url;

/// The S1688 parser.
pub struct S1688;

impl Marketplace for S1688 {
    fn platform(&self) -> Platform {
        Platform::S1688
    }

    fn page_kind(&self, _url: &Url) -> PageKind {
        PageKind::Search
    }

    fn parse(&self, url: &Url, _html: &str) -> PageOutcome {
        PageOutcome::Drift {
            platform: Platform::S1688,
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
        listing_key(Platform::S1688, id)
    }
}
