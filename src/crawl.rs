//! Live crawl planning and execution (in progress).
