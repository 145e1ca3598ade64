//! Shared helpers: load a fixture and run it through the same path as a
//! scan (`marketplaces::parse_page`: charset, parser, then block check).

use knockoff::marketplaces::{self, PageOutcome};
use knockoff::model::listing::{Listing, Platform};
use std::path::PathBuf;
use url::Url;

/// The bytes of `tests/fixtures/real/<rel>`.
pub fn fixture(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/real")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses fixture `rel` as if fetched from `url` with `content_type`.
pub fn parse(url: &str, rel: &str, content_type: Option<&str>) -> PageOutcome {
    let (platform, parsed) = marketplaces::platform_for_url(url).expect("known host");
    marketplaces::parse_page(platform, &parsed, &fixture(rel), content_type)
}

/// The listings of an outcome, or a panic that shows the outcome.
pub fn listings(outcome: &PageOutcome) -> &[Listing] {
    match outcome {
        PageOutcome::Ok { listings, .. } if !listings.is_empty() => listings,
        other => panic!("expected listings, got {other:?}"),
    }
}

/// Parses and expects listings of `platform`.
pub fn parse_listings(url: &str, rel: &str, content_type: Option<&str>) -> Vec<Listing> {
    let outcome = parse(url, rel, content_type);
    let out = listings(&outcome).to_vec();
    let (platform, _) = marketplaces::platform_for_url(url).unwrap();
    assert!(out.iter().all(|l| l.platform == platform));
    out
}

#[allow(dead_code)]
pub fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

#[allow(dead_code)]
pub fn platform_of(url: &str) -> Platform {
    marketplaces::platform_for_url(url).unwrap().0
}
