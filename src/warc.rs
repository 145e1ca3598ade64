//! WARC/1.1 writer for live-crawl captures (in progress).
