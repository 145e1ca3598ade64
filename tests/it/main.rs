//! knockoff's integration tests, compiled as one test binary (one link of
//! tantivy, reqwest, image and the crate instead of one per file: the
//! layout large Rust projects use to cut test build time). A module per
//! area; run one with `cargo test --test it AREA::` (e.g.
//! `cargo test --test it desk::`).
//!
//! Two areas are binaries of their own, because tests running beside
//! them in one process would disturb what they measure:
//! `tests/politeness/` (request timings seen by a loopback server) and
//! `tests/daemon_cycles.rs` (the process's hashing work,
//! `knockoff::judge::imagehash::hashing_work`).

#[path = "../fixtures/daemon/support.rs"]
mod daemon_support;

#[path = "../fixtures/warc_reader.rs"]
mod warc_reader;

mod cases_lifecycle;
mod cli_bad_input;
mod cli_export;
mod complaint_demo;
mod crawl_mock;
mod daemon_live;
mod daemon_process;
mod desk;
mod export_bundle;
mod filing;
mod imagehash_eval;
mod imagehash_hostile;
mod imagehash_transforms;
mod jpeg_dc;
mod layout;
mod live_scan;
mod ndjson_schema;
mod parse_aliexpress_alibaba;
mod parse_china_platforms;
mod real_pages;
mod retention;
mod scan_seeds;
mod screenshots;
mod warc_evidence;
