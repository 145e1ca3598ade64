//! The ground: the types the pipeline passes along and the files they are
//! loaded from (watchlist, config, recording manifest), with the typed
//! error. No network, no store; nothing here imports another layer.

pub mod config;
pub mod error;
pub mod listing;
pub mod recording;
pub mod seller;
pub mod watchlist;
