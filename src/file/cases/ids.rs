//! Complaint ids: one per platform, right and listing (`C-000001`), kept
//! in the store's `complaints` tree across exports, so a listing is never
//! filed twice under two numbers.

use crate::model::listing::Platform;
use serde::{Deserialize, Serialize};

/// The sled tree of complaint ids.
pub const COMPLAINTS_TREE: &str = "complaints";

/// The id a complaint keeps across exports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintRecord {
    pub id: String,
    pub number: u64,
    pub platform: Platform,
    pub right_id: String,
    pub listing_id: String,
}

/// The key of a complaint in [`COMPLAINTS_TREE`].
pub fn complaint_key(platform: Platform, right_id: &str, listing_id: &str) -> String {
    format!("{}/{right_id}/{listing_id}", platform.as_str())
}

/// The id of complaint number `n`.
pub fn complaint_id(n: u64) -> String {
    format!("C-{n:06}")
}
