//! The one integration-test binary of `aftercare-freshdesk`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rate_limits;
mod tickets;
