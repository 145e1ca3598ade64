//! Real-page fixtures: aliexpress (filled in by the real-pages work).
