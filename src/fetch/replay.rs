//! Replay: a [`Fetcher`] that answers from a [`Recording`] by URL.
//!
//! An unknown URL is a 404 capture (as a server would answer), so the scan
//! treats it like any other missing page.

use super::{Capture, FetchError, Fetcher, ResourceKind};
use crate::model::recording::Recording;
use chrono::Utc;

/// Answers requests from a recording folder.
#[derive(Debug, Clone)]
pub struct ReplayFetcher {
    recording: Recording,
}

impl ReplayFetcher {
    pub fn new(recording: Recording) -> ReplayFetcher {
        ReplayFetcher { recording }
    }

    pub fn recording(&self) -> &Recording {
        &self.recording
    }
}

#[async_trait::async_trait]
impl Fetcher for ReplayFetcher {
    async fn fetch(&self, url: &str, _kind: ResourceKind) -> Result<Capture, FetchError> {
        let Some(page) = self.recording.find(url) else {
            return Ok(Capture::new(
                url,
                404,
                Some("text/plain".into()),
                Utc::now(),
                b"not in recording".to_vec(),
            ));
        };
        let body = self
            .recording
            .read_body(page)
            .map_err(|e| FetchError::Network {
                url: url.to_string(),
                message: e.to_string(),
            })?;
        Ok(Capture::new(
            url,
            page.status,
            Some(page.content_type.clone()),
            page.captured_at,
            body,
        ))
    }
}
