//! Real-page fixtures: blocks (filled in by the real-pages work).
