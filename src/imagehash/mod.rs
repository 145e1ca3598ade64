//! Perceptual image hashing and nearest-official-photo matching.
//!
//! Placeholder API; the real implementation lands with the image issue.

use crate::error::{Error, Result};

/// Hashes of one decoded image.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ImageHashes {
    pub width: u32,
    pub height: u32,
    /// 64-bit hashes by kind.
    pub hashes: Vec<(String, u64)>,
}

/// Decodes and hashes image bytes. `source_name` names the file or URL in errors.
pub fn hash_image(bytes: &[u8], source_name: &str) -> Result<ImageHashes> {
    let img = image::load_from_memory(bytes).map_err(|e| Error::Image {
        source_name: source_name.to_string(),
        message: e.to_string(),
    })?;
    Ok(ImageHashes {
        width: img.width(),
        height: img.height(),
        hashes: Vec::new(),
    })
}

/// The best official photo for a listing photo.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ImageMatch {
    /// Name of the reference (official photo file name).
    pub reference: String,
    /// Hamming distance of the best hash kind.
    pub distance: u32,
    /// Bits in the hash (64).
    pub bits: u32,
    /// Distance at or below the threshold.
    pub is_match: bool,
    /// The transform the match needed ("mirrored", "after trimming border"), if any.
    pub transform: Option<String>,
}

/// An index of reference (official) photo hashes.
#[derive(Debug, Default)]
pub struct ReferenceIndex {
    refs: Vec<(String, ImageHashes)>,
}

impl ReferenceIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a reference photo from its bytes.
    pub fn add_bytes(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let h = hash_image(bytes, name)?;
        self.refs.push((name.to_string(), h));
        Ok(())
    }

    /// Number of references.
    pub fn len(&self) -> usize {
        self.refs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.refs.is_empty()
    }

    /// Best match for a listing photo's bytes.
    pub fn best_match_bytes(&self, bytes: &[u8], source_name: &str) -> Result<Option<ImageMatch>> {
        let _ = hash_image(bytes, source_name)?;
        Ok(None)
    }
}
