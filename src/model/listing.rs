//! Domain types shared by every stage: platforms, listings, prices, sellers.
//!
//! No I/O here. A [`Listing`] is what a marketplace parser extracts from one
//! page; fields a page does not carry are `None` and named in
//! [`Listing::missing`], so "not on this page" is never confused with
//! "parser failed".

use serde::{Deserialize, Serialize};
use std::fmt;

/// The five marketplaces of Alibaba Group's IP Protection Platform.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    #[serde(rename = "aliexpress")]
    AliExpress,
    #[serde(rename = "alibaba")]
    Alibaba,
    Taobao,
    Tmall,
    #[serde(rename = "1688")]
    S1688,
}

impl Platform {
    /// All platforms, in a stable order used for reports.
    pub const ALL: [Platform; 5] = [
        Platform::AliExpress,
        Platform::Alibaba,
        Platform::Taobao,
        Platform::Tmall,
        Platform::S1688,
    ];

    /// The short name used in watchlists, configs, keys and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::AliExpress => "aliexpress",
            Platform::Alibaba => "alibaba",
            Platform::Taobao => "taobao",
            Platform::Tmall => "tmall",
            Platform::S1688 => "1688",
        }
    }

    /// Parses the short name (case-insensitive).
    pub fn from_name(name: &str) -> Option<Platform> {
        Platform::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(name.trim()))
    }

    /// The platform whose site this host belongs to (`www.aliexpress.com`,
    /// `s.taobao.com`, `detail.1688.com`, ...). Tmall Global's hosts
    /// (`detail.tmall.hk`, `list.tmall.hk`) are Tmall: the same item ids,
    /// pages and IPP complaint channel.
    pub fn from_host(host: &str) -> Option<Platform> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let under = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
        if under("aliexpress.com") || under("aliexpress.us") || under("aliexpress.ru") {
            Some(Platform::AliExpress)
        } else if under("alibaba.com") {
            Some(Platform::Alibaba)
        } else if under("taobao.com") {
            Some(Platform::Taobao)
        } else if under("tmall.com") || under("tmall.hk") {
            Some(Platform::Tmall)
        } else if under("1688.com") {
            Some(Platform::S1688)
        } else {
            None
        }
    }

    /// Taobao, Tmall and 1688 serve mainland China and accept only rights
    /// valid there (IPP rules).
    pub fn china_only(self) -> bool {
        matches!(self, Platform::Taobao | Platform::Tmall | Platform::S1688)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A price or a price range in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Price {
    /// The lowest price shown.
    pub amount: f64,
    /// The highest price shown, for a range ("8.51 - 12.00").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// ISO 4217 code (`USD`, `CNY`, ...).
    pub currency: String,
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.max {
            Some(max) if max > self.amount => {
                write!(f, "{:.2}-{:.2} {}", self.amount, max, self.currency)
            }
            _ => write!(f, "{:.2} {}", self.amount, self.currency),
        }
    }
}

/// The seller (store, shop, supplier) behind a listing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Seller {
    /// Display name of the store or shop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The platform's id for the store or seller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Link to the store front.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Country or region the supplier states (Alibaba.com).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Years on the platform (Alibaba.com supplier tag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub years: Option<u32>,
}

/// Minimum order quantity ("50 Pieces").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Moq {
    pub quantity: u64,
    pub unit: String,
}

/// Sales figures as the page states them, parsed to a number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Sales {
    /// The number: units sold, buyers, monthly sales, or yuan traded.
    pub count: u64,
    /// What the number counts.
    pub kind: SalesKind,
    /// The text as shown on the page ("4000+ sold", "7261人付款").
    pub text: String,
}

/// What a sales figure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SalesKind {
    /// Units sold ("4000+ sold").
    Sold,
    /// Buyers who paid ("7261人付款").
    Buyers,
    /// Sales in the last month ("月成交 95笔").
    Monthly,
    /// Turnover in yuan ("成交2.4万+元").
    TurnoverCny,
}

/// One listing as a parser saw it on one page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Listing {
    pub platform: Platform,
    /// The platform's item id (`productId`, `nid`, offer id).
    pub id: String,
    /// Canonical item URL built from the id (never a click tracker).
    pub url: String,
    /// Title without highlight markup.
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Price>,
    #[serde(default)]
    pub seller: Seller,
    /// Absolute photo URLs, main photo first.
    #[serde(default)]
    pub images: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moq: Option<Moq>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sales: Option<Sales>,
    /// Where the item ships from (Taobao `item_loc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Paid placement (AliExpress `productType:"ad"`, Taobao `p4p`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sponsored: bool,
    /// The page this listing was read from.
    pub source_url: String,
    /// Fields this page does not carry (e.g. price on a 2026 AliExpress
    /// item page, which loads it later by XHR).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

impl Listing {
    /// A listing with what every page gives: its platform, canonical URL,
    /// id, title and the page it was read from. Everything else is empty;
    /// a parser sets what it read with struct update syntax
    /// (`Listing { price, ..Listing::new(…) }`).
    pub fn new(
        platform: Platform,
        url: String,
        id: String,
        title: String,
        source_url: impl ToString,
    ) -> Listing {
        Listing {
            platform,
            id,
            url,
            title,
            price: None,
            seller: Seller::default(),
            images: Vec::new(),
            moq: None,
            sales: None,
            location: None,
            sponsored: false,
            source_url: source_url.to_string(),
            missing: Vec::new(),
        }
    }

    /// The store key: `platform/id`, unique per listing.
    pub fn key(&self) -> String {
        listing_key(self.platform, &self.id)
    }

    /// Fills fields this listing lacks from another view of the same item
    /// (a search card merged with its item page). Values already present win,
    /// except that a longer image list replaces a shorter one.
    pub fn merge_from(&mut self, other: &Listing) {
        if self.title.trim().is_empty() {
            self.title = other.title.clone();
        }
        if self.price.is_none() {
            self.price = other.price.clone();
        }
        let s = &mut self.seller;
        let o = &other.seller;
        s.name = s.name.take().or_else(|| o.name.clone());
        s.id = s.id.take().or_else(|| o.id.clone());
        s.url = s.url.take().or_else(|| o.url.clone());
        s.country = s.country.take().or_else(|| o.country.clone());
        s.years = s.years.or(o.years);
        for img in &other.images {
            if !self.images.contains(img) {
                self.images.push(img.clone());
            }
        }
        if self.moq.is_none() {
            self.moq = other.moq.clone();
        }
        if self.sales.is_none() {
            self.sales = other.sales.clone();
        }
        if self.location.is_none() {
            self.location = other.location.clone();
        }
        self.sponsored |= other.sponsored;
        self.missing.retain(|field| other.missing.contains(field));
    }
}

/// The store key for a listing: `platform/id`.
pub fn listing_key(platform: Platform, id: &str) -> String {
    format!("{}/{}", platform.as_str(), id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_from_host_accepts_subdomains_only() {
        assert_eq!(
            Platform::from_host("www.aliexpress.com"),
            Some(Platform::AliExpress)
        );
        assert_eq!(
            Platform::from_host("detail.1688.com"),
            Some(Platform::S1688)
        );
        assert_eq!(Platform::from_host("s.taobao.com"), Some(Platform::Taobao));
        assert_eq!(Platform::from_host("notaobao.com"), None);
        assert_eq!(Platform::from_host("example.com"), None);
    }

    /// Tmall Global (`tmall.hk`) is Tmall, not an unknown host.
    #[test]
    fn tmall_global_hosts_are_tmall() {
        for host in [
            "detail.tmall.hk",
            "list.tmall.hk",
            "tmall.hk",
            "DETAIL.TMALL.HK.",
        ] {
            assert_eq!(Platform::from_host(host), Some(Platform::Tmall), "{host}");
        }
        assert_eq!(Platform::from_host("nottmall.hk"), None);
        assert_eq!(Platform::from_host("tmall.hk.example.com"), None);
        assert_eq!(Platform::from_host("example.com"), None);
    }

    #[test]
    fn platform_names_round_trip() {
        for p in Platform::ALL {
            assert_eq!(Platform::from_name(p.as_str()), Some(p));
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.as_str()));
        }
    }
}
