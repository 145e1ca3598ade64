//! Real-page fixtures: alibaba (filled in by the real-pages work).
