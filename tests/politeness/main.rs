//! Politeness as a server sees it: the live fetcher and the crawl against
//! a loopback mock market, with assertions on when requests arrived (never
//! faster than a host's rate, nothing before a `Retry-After` passed).
//!
//! A binary of its own: these assertions are timings, and the heavier
//! tests of `tests/it` (Chromium, the image evaluation) running in the
//! same process starved the mock's thread enough to stamp arrivals late
//! in bunches. Here only these tests share the process.

// The crawl tests read the real-page fixtures through the same helpers
// as tests/it; only part of them is used here.
#[path = "../it/real_pages/support.rs"]
#[allow(dead_code)]
mod support;

#[path = "../fixtures/warc_reader.rs"]
mod warc_reader;

mod crawl;
mod fetch_live;
