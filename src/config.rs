//! Crawl configuration (`--config knockoff.toml`) (in progress).
