//! The wiring: the command line ([`cli`]), a one-shot [`scan`], one daemon
//! [`cycle`], the long-lived [`daemon`] and the analyst's [`desk`]. Only
//! this layer starts things; everything below is called from here.

pub mod access;
pub mod cases;
pub mod cli;
pub mod cycle;
pub mod daemon;
pub mod desk;
pub mod exit;
pub mod memory;
pub mod ndjson;
pub mod scan;
