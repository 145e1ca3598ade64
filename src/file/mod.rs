//! Findings → what a rights holder files: complaint drafts on a right the
//! platform accepts ([`complaint`]), evidence bundles ([`export`]), and
//! the cases that follow each complaint to removal ([`cases`]).

pub mod cases;
pub mod decisions;
pub mod export;
pub mod network;
pub mod retention;
pub mod tracking;
