//! Shared pieces of the reference integration's binaries.

pub mod feedback;
pub mod tracking;
pub mod worker;
