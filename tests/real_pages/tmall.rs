//! Real-page fixtures: tmall (filled in by the real-pages work).
