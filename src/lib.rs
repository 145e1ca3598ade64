//! knockoff: hunts counterfeits of a brand on Alibaba Group marketplaces.
//!
//! The folders are the pipeline, and each imports only the ones above it
//! in this list (a test, `tests/it/layout.rs`, fails on any arrow that
//! points up and on any cycle):
//!
//! ```text
//! model         listing, watchlist, config, recording, error: types and their files
//! marketplaces  page bytes → listings, or blocked / drift
//! fetch         getting bytes: http, replay, record, warc, crawl, mock market
//! judge         listings → findings: brand marks, imagehash, index, score
//! store         the sled store and the hashing caches kept in it
//! file          findings → complaints, evidence bundles, cases
//! run           wiring: cli, scan, cycle, daemon, desk
//! ```
//!
//! See `ARCHITECTURE.md`. Every stage is a library module so that tests
//! and the thin binary call the same code. Errors are typed ([`Error`])
//! and carry the file, URL or field they are about.

pub mod model;

pub mod marketplaces;

pub mod fetch;

pub mod judge;

pub mod store;

pub mod file;

pub mod run;

pub use model::error::{Error, Result};
