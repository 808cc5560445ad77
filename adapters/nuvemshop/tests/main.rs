//! Integration tests of `aftercare-nuvemshop`, built as one test binary: every file of this
//! folder is a module declared below (`cargo xtask test-layout` checks it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod client;
mod coupons;
mod e2e;
mod install;
mod kit;
mod webhooks;
