//! The one integration-test binary of `aftercare-mailgun`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod webhooks;
