//! Integration tests of `aftercare-bigcommerce`, built as one test binary: every file of this
//! folder is a module declared below (one binary per crate keeps link time and disk use
//! down; a new file must be declared here, and `cargo xtask test-layout` checks that it is).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod api;
mod coupons;
mod e2e;
mod hooks;
mod hydrate;
mod install;
mod kit;
mod webhooks;
