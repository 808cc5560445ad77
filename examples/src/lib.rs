//! Shared pieces of the reference integration's binaries.

pub mod backfill;
pub mod cli;
pub mod config;
pub mod desk;
pub mod feedback;
pub mod inbound;
pub mod platform;
pub mod plugin;
pub mod real;
pub mod tracking;
pub mod tracking_source;
pub mod worker;
