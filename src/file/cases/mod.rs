//! Complaint cases: states and their history, platform deadlines in
//! business days, the Good-Faith monitor, and complaint ids.
//!
//! - [`state`]: the lifecycle and its legal moves;
//! - [`book`]: cases in the store, created from flagged findings' drafts;
//! - [`deadline`]: working days against a holiday calendar;
//! - [`goodfaith`]: takedown rate and counter-notice share over 3 months;
//! - [`ids`]: one complaint id per platform, right and listing, kept across
//!   exports.
//!
//! The `knockoff cases` command is [`crate::run::cases`].

pub mod book;
pub mod deadline;
pub mod goodfaith;
pub mod ids;
pub mod state;
