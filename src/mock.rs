//! Loopback mock marketplace for tests and benchmarks (in progress).
