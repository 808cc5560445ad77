//! The one integration-test binary of `aftercare-postmark`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod events;
mod inbound;
mod send;
