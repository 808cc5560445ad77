//! Shared pieces of the reference integration's binaries.

pub mod tracking;
pub mod worker;
