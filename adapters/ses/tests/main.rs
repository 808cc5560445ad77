//! The one integration-test binary of `aftercare-ses`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod sns;
mod subscriptions;
