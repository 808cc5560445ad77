//! Integration tests of `aftercare-sqlite`, built as one test binary: every file of this folder is a
//! module declared below (one binary per crate keeps link time and disk use down; a
//! new file must be declared here, and `cargo test -p xtask` checks that it is).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod compression;
mod conformance;
mod dedupe;
mod group_commit;
mod migrations;
mod settings;
mod shops;
