//! Complaint drafting (in progress).
