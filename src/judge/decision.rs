//! An analyst's decision on a listing or a seller: what was decided, by
//! whom, when, why, and on which version of the listing. The decisions are
//! kept and applied by [`crate::file::decisions`]; a finding carries its
//! own.

use crate::judge::signal::Verdict;
use crate::model::listing::{Listing, Platform};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest note kept with a decision, in characters.
pub const MAX_NOTE_CHARS: usize = 2_000;

/// What the analyst decided about a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Confirmed,
    Dismissed,
}

/// Why a listing was dismissed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DismissReason {
    FalsePositive,
    GenuineProduct,
    AuthorisedReseller,
    NotOurBrand,
}

impl DismissReason {
    pub const ALL: [DismissReason; 4] = [
        DismissReason::FalsePositive,
        DismissReason::GenuineProduct,
        DismissReason::AuthorisedReseller,
        DismissReason::NotOurBrand,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DismissReason::FalsePositive => "false_positive",
            DismissReason::GenuineProduct => "genuine_product",
            DismissReason::AuthorisedReseller => "authorised_reseller",
            DismissReason::NotOurBrand => "not_our_brand",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DismissReason::FalsePositive => "false positive",
            DismissReason::GenuineProduct => "genuine product",
            DismissReason::AuthorisedReseller => "authorised reseller",
            DismissReason::NotOurBrand => "not our brand",
        }
    }

    pub fn parse(s: &str) -> Option<DismissReason> {
        let s = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        DismissReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// What a decision was made on: a change to any of these puts the listing
/// back in the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Fingerprint {
    pub title: String,
    /// Photo URLs, sorted.
    pub photos: Vec<String>,
    /// `amount currency` (and `–max`), as shown.
    pub price: Option<String>,
    pub seller: Option<String>,
}

impl Fingerprint {
    pub fn of(l: &Listing) -> Fingerprint {
        let mut photos = l.images.clone();
        photos.sort();
        photos.dedup();
        Fingerprint {
            title: l.title.trim().to_string(),
            photos,
            price: l.price.as_ref().map(|p| match p.max {
                Some(max) => format!("{}–{max} {}", p.amount, p.currency),
                None => format!("{} {}", p.amount, p.currency),
            }),
            seller: l
                .seller
                .id
                .clone()
                .or_else(|| l.seller.name.clone())
                .map(|s| s.trim().to_string()),
        }
    }

    /// The fields that differ from `now`, by name.
    pub fn changed(&self, now: &Fingerprint) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.title != now.title {
            out.push("title");
        }
        if self.photos != now.photos {
            out.push("photos");
        }
        if self.price != now.price {
            out.push("price");
        }
        if self.seller != now.seller {
            out.push("seller");
        }
        out
    }
}

/// One decision on a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Decision {
    pub key: String,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<DismissReason>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    pub by: String,
    pub at: DateTime<Utc>,
    /// The listing as the analyst saw it.
    pub fingerprint: Fingerprint,
    /// The verdict and score before the decision.
    pub verdict_before: Verdict,
    pub score_before: u32,
    /// Earlier decisions on this listing, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<Decision>,
}

impl Decision {
    /// One line for tables and reports: `dismissed (genuine product) by
    /// ana at 2026-12-03 10:00 UTC: note`.
    pub fn summary(&self) -> String {
        let what = match (self.action, self.reason) {
            (Action::Dismissed, Some(r)) => format!("dismissed ({})", r.label()),
            (Action::Dismissed, None) => "dismissed".to_string(),
            (Action::Confirmed, _) => "confirmed".to_string(),
        };
        let mut s = format!(
            "{what} by {} at {}",
            self.by,
            self.at.format("%Y-%m-%d %H:%M UTC")
        );
        if !self.note.is_empty() {
            s.push_str(": ");
            s.push_str(&self.note);
        }
        s
    }
}

/// A mark an analyst put on a seller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SellerStatus {
    Authorised,
    Watched,
    /// A mark taken back.
    Cleared,
}

impl SellerStatus {
    pub fn parse(s: &str) -> Option<SellerStatus> {
        match s.trim().to_ascii_lowercase().as_str() {
            "authorised" | "authorized" => Some(SellerStatus::Authorised),
            "watched" | "watch" => Some(SellerStatus::Watched),
            "cleared" | "none" | "unmark" => Some(SellerStatus::Cleared),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SellerStatus::Authorised => "authorised",
            SellerStatus::Watched => "watched",
            SellerStatus::Cleared => "cleared",
        }
    }
}

/// An analyst's mark on a seller of one platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SellerMark {
    pub platform: Platform,
    /// The seller's store id, or its name when the page gives no id.
    pub seller: String,
    pub status: SellerStatus,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    pub by: String,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<SellerMark>,
}

/// The key of a seller: `platform:seller` (id or name, trimmed,
/// lower-cased).
pub fn seller_key(platform: Platform, seller: &str) -> String {
    format!("{}:{}", platform.as_str(), seller.trim().to_lowercase())
}

/// The seller identity of a listing (store id, else name).
pub fn listing_seller(l: &Listing) -> Option<String> {
    l.seller
        .id
        .clone()
        .or_else(|| l.seller.name.clone())
        .filter(|s| !s.trim().is_empty())
}

/// Cuts a note to [`MAX_NOTE_CHARS`] and drops control characters.
pub fn clean_note(note: &str) -> String {
    note.chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .take(MAX_NOTE_CHARS)
        .collect::<String>()
        .trim()
        .to_string()
}
