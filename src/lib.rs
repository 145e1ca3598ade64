//! knockoff: hunts counterfeits of a brand on Alibaba Group marketplaces.
//!
//! The pipeline (see `ARCHITECTURE.md`):
//!
//! ```text
//! watchlist ─► plan ─► Fetcher (live | replay) ─► marketplaces::parse
//!   ─► store (sled) ─► index (tantivy) + imagehash ─► score ─► drafts
//! ```
//!
//! Every stage is a library module so that tests and the thin binary call
//! the same code. Errors are typed ([`Error`]) and carry the file, URL or
//! field they are about.

pub mod brand;
pub mod cases;
pub mod cli;
pub mod complaint;
pub mod config;
pub mod crawl;
pub mod cycle;
pub mod daemon;
pub mod desk;
pub mod error;
pub mod export;
pub mod fetch;
pub mod hashcache;
pub mod imagehash;
pub mod index;
pub mod listing;
pub mod marketplaces;
pub mod mock;
pub mod recording;
pub mod scan;
pub mod score;
pub mod store;
pub mod warc;
pub mod watchlist;

pub use error::{Error, Result};
