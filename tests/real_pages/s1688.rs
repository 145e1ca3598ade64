//! Real-page fixtures: s1688 (filled in by the real-pages work).
