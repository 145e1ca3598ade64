//! brand (in progress).
