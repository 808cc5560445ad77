//! Shared pieces of the reference integration's binaries.

pub mod worker;
