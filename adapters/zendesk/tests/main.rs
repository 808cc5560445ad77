//! The one integration-test binary of `aftercare-zendesk`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod tickets;
