//! The one integration-test binary of `aftercare-gorgias`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod tickets;
