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
pub use crate::judge::complaint::complaint_key;

/// The id of complaint number `n`.
pub fn complaint_id(n: u64) -> String {
    format!("C-{n:06}")
}

/// Where the highest complaint number given so far is kept, in the store's
/// default tree (beside `meta/schema`), as decimal text. It is written in
/// the same sled transaction as the complaint record that takes the number,
/// so numbering a new complaint reads one key instead of every complaint.
pub const LAST_NUMBER_KEY: &str = "meta/complaint_number";

/// The highest complaint number given so far, read from
/// [`LAST_NUMBER_KEY`]. A store written before that key existed (or one
/// whose value does not read as a number) has its complaint records
/// scanned once for the highest number; the next complaint numbered
/// stores the key. `reads` counts the complaint records read.
pub fn last_number(
    meta: &sled::Tree,
    complaints: &sled::Tree,
    reads: &dyn Fn(u64),
) -> Result<u64, sled::Error> {
    if let Some(n) = meta
        .get(LAST_NUMBER_KEY)?
        .and_then(|v| std::str::from_utf8(&v).ok()?.trim().parse::<u64>().ok())
    {
        return Ok(n);
    }
    let mut max = 0;
    let mut read = 0;
    for item in complaints.iter() {
        let (_, v) = item?;
        read += 1;
        // An unreadable record has no number to keep clear of; it is
        // reported where it is used (export), not here.
        if let Ok(rec) = serde_json::from_slice::<ComplaintRecord>(&v) {
            max = max.max(rec.number);
        }
    }
    reads(read);
    Ok(max)
}

/// The value stored under [`LAST_NUMBER_KEY`] for number `n`.
pub fn last_number_value(n: u64) -> Vec<u8> {
    n.to_string().into_bytes()
}
