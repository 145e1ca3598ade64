//! The signals a score is made of, each with its points and evidence, the
//! photo evidence behind a photo match, and the verdict they lead to. The score adds them up
//! ([`crate::judge::score`]); a complaint cites them
//! ([`crate::judge::complaint`]).

use serde::{Deserialize, Serialize};

/// What a finding concludes.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Flag,
    Review,
    Clear,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Flag => "flag",
            Verdict::Review => "review",
            Verdict::Clear => "clear",
        }
    }
}

/// The kind of a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    Mark,
    Photo,
    Indicator,
    Price,
    UnauthorizedSeller,
    AuthorizedSeller,
    Accessory,
}

/// One signal that fired, with its points and evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Signal {
    pub kind: SignalKind,
    pub points: i32,
    /// One line a person reads.
    pub reason: String,
    /// Machine-readable evidence (mark and variant, photo and distance...).
    pub evidence: serde_json::Value,
}

/// A photo of the listing that matched an official photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PhotoEvidence {
    /// The listing photo's URL.
    pub url: String,
    /// SHA-256 of the photo bytes as fetched.
    pub sha256: String,
    /// Official photo file name.
    pub reference: String,
    pub distance: u32,
    pub bits: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<String>,
    /// Correlation of grey levels after aligning the official photo to the
    /// listing photo (1.0 = identical up to brightness and contrast).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f32>,
    /// Correlation of fine detail at that alignment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<f32>,
    /// Independent samples of the aligned official photo: a textured photo
    /// (8 or more) matches with either correlation lower (see
    /// `imagehash::scores_match`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub independent_samples: Option<f32>,
}

/// "; aligned: grey levels 0.981, fine detail 0.953" when the second stage
/// compared the photos, else "". When one correlation is under its usual
/// threshold (a textured official photo matched on the other), the note
/// says so, with the photo's independent samples.
pub fn alignment_note(
    similarity: Option<f32>,
    detail: Option<f32>,
    independent_samples: Option<f32>,
) -> String {
    match (similarity, detail) {
        (Some(s), Some(d)) => {
            let textured = match textured_exception(similarity, detail, independent_samples) {
                Some(n) => format!(
                    " (textured photo, {n:.0} independent samples: \
                     either correlation alone is strong evidence)"
                ),
                None => String::new(),
            };
            format!("; aligned: grey levels {s:.3}, fine detail {d:.3}{textured}")
        }
        _ => String::new(),
    }
}

/// The official photo's independent samples when a match rested on the
/// textured rule (`imagehash::scores_match`): one correlation under its
/// usual threshold, the photo textured. `None` for every other match.
pub fn textured_exception(
    similarity: Option<f32>,
    detail: Option<f32>,
    independent_samples: Option<f32>,
) -> Option<f32> {
    use crate::judge::imagehash::{MATCH_DETAIL, MATCH_SIMILARITY, TEXTURED_SAMPLES};
    match (similarity, detail, independent_samples) {
        (Some(s), Some(d), Some(n))
            if n >= TEXTURED_SAMPLES && (s < MATCH_SIMILARITY || d < MATCH_DETAIL) =>
        {
            Some(n)
        }
        _ => None,
    }
}
