//! Real-page fixtures: taobao (filled in by the real-pages work).
