//! Integration tests of `aftercare-shopify`, built as one test binary: every file of this folder is a
//! module declared below (one binary per crate keeps link time and disk use down; a
//! new file must be declared here, and `cargo test -p xtask` checks that it is).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod api;
mod binding;
mod discount;
mod golden;
mod kit;
mod oauth;
mod privacy;
mod properties;
mod shipments_many;
mod throttling;
mod webhooks;
