//! A listing's entry in the `listings` tree: its record and its latest
//! finding under one sled key.
//!
//! The value is the JSON object of the [`ListingRecord`] with one more
//! field, `finding`, the JSON of the listing's latest
//! [`crate::judge::score::Finding`]. A reader of the record alone
//! (`serde_json::from_slice::<ListingRecord>`) skips that field without
//! building it, and a reader of the finding skips the record's fields.
//!
//! Stores of schema `2` and before kept the findings in a tree of their own
//! (`findings`, [`FINDINGS_TREE`]), a second key a listing: at a million
//! listings that tree was ~110,000 sled pages, each an entry of sled's
//! resident page table (~200 bytes a page, BENCHMARKS.md "Stop 41").
//! [`super::Store::open`] moves them into their listings' entries.

use super::ListingRecord;
use crate::judge::score::Finding;
use crate::judge::signal::Verdict;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The tree stores of schema `2` and before kept the findings in.
pub const FINDINGS_TREE: &str = "findings";

/// The stored value of a listing: its record, and its finding's JSON as it
/// is (none for a listing whose finding was never written).
pub(crate) fn encode(
    rec: &ListingRecord,
    finding: Option<&RawValue>,
) -> serde_json::Result<Vec<u8>> {
    #[derive(Serialize)]
    struct Entry<'a> {
        #[serde(flatten)]
        record: &'a ListingRecord,
        #[serde(skip_serializing_if = "Option::is_none")]
        finding: Option<&'a RawValue>,
    }
    serde_json::to_vec(&Entry {
        record: rec,
        finding,
    })
}

/// The stored value of a listing from its record and its finding's JSON
/// (an error when that is not JSON).
pub(crate) fn encode_json(rec: &ListingRecord, finding_json: &[u8]) -> serde_json::Result<Vec<u8>> {
    encode(rec, Some(serde_json::from_slice(finding_json)?))
}

/// The finding's JSON in a stored value, as it is (`None`: no finding).
pub(crate) fn finding_json(value: &[u8]) -> serde_json::Result<Option<&RawValue>> {
    #[derive(Deserialize)]
    struct Part<'a> {
        #[serde(borrow, default)]
        finding: Option<&'a RawValue>,
    }
    Ok(serde_json::from_slice::<Part>(value)?.finding)
}

/// The finding in a stored value (`None`: no finding).
pub(crate) fn finding(value: &[u8]) -> serde_json::Result<Option<Finding>> {
    #[derive(Deserialize)]
    struct Part {
        #[serde(default)]
        finding: Option<Finding>,
    }
    Ok(serde_json::from_slice::<Part>(value)?.finding)
}

/// The verdict of the finding in a stored value, read without the rest of
/// it (`None`: no finding).
pub(crate) fn verdict(value: &[u8]) -> serde_json::Result<Option<Verdict>> {
    #[derive(Deserialize)]
    struct VerdictOnly {
        verdict: Verdict,
    }
    #[derive(Deserialize)]
    struct Part {
        #[serde(default)]
        finding: Option<VerdictOnly>,
    }
    Ok(serde_json::from_slice::<Part>(value)?
        .finding
        .map(|f| f.verdict))
}

/// The value with the record replaced and the finding kept as it is: what
/// a writer of the record alone (the daemon's tracking) stores. An error
/// when the value is not JSON.
pub(crate) fn with_record(value: &[u8], rec: &ListingRecord) -> serde_json::Result<Vec<u8>> {
    encode(rec, finding_json(value)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{finding as finding_of, listing, now};

    fn record(id: &str) -> ListingRecord {
        ListingRecord {
            listing: listing(id, 2.5),
            first_seen: now(),
            last_seen: now(),
            history: Vec::new(),
            sources: Vec::new(),
            tracking: Some(serde_json::json!({"seen": 3})),
        }
    }

    /// The record and the finding each read back from one value, a record
    /// written alone keeps the finding, and a value without a finding
    /// (an older store's record) reads as one without.
    #[test]
    fn record_and_finding_read_back_from_one_value() {
        let rec = record("7");
        let mut f = finding_of(&rec.listing);
        f.verdict = Verdict::Flag;
        let fjson = serde_json::to_string(&f).unwrap();
        let raw = RawValue::from_string(fjson.clone()).unwrap();
        let value = encode(&rec, Some(&raw)).unwrap();
        assert_eq!(
            serde_json::from_slice::<ListingRecord>(&value).unwrap(),
            rec
        );
        assert_eq!(finding(&value).unwrap(), Some(f.clone()));
        assert_eq!(verdict(&value).unwrap(), Some(Verdict::Flag));
        assert_eq!(finding_json(&value).unwrap().unwrap().get(), fjson);

        let mut moved = rec.clone();
        moved.tracking = Some(serde_json::json!({"seen": 4}));
        let value = with_record(&value, &moved).unwrap();
        assert_eq!(
            serde_json::from_slice::<ListingRecord>(&value).unwrap(),
            moved
        );
        assert_eq!(finding(&value).unwrap(), Some(f));

        let plain = serde_json::to_vec(&rec).unwrap();
        assert_eq!(encode(&rec, None).unwrap(), plain);
        assert_eq!(finding(&plain).unwrap(), None);
        assert_eq!(verdict(&plain).unwrap(), None);
        assert!(finding(b"{\"finding\":{\"verdict\":3}}").is_err());
        assert!(with_record(b"\xff not json", &rec).is_err());
    }
}
