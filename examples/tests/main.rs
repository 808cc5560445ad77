//! Integration tests of `aftercare-examples`, built as one test binary: every file of this folder is a
//! module declared below (one binary per crate keeps link time and disk use down; a
//! new file must be declared here, and `cargo test -p xtask` checks that it is).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../adapters/postgres/tests/support/mod.rs"]
mod pg;
#[path = "../../adapters/smtp/tests/common/server.rs"]
mod smtp_server;

mod check_config;
mod crash_safety;
mod custom_channel;
mod feedback_demo;
mod feedback_real_store;
mod new_integrator;
mod real_store;
mod real_store_magento;
mod real_store_woo;
mod support;
mod tracking_demo;
