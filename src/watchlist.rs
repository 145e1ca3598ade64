//! watchlist (in progress).
