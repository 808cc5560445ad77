//! # 17TRACK adapter for Aftercare
//!
//! - [`SeventeenTrackClient`]: the Tracking API v2.2 (`17token` header, every call a POST
//!   of a JSON array, at most 40 numbers) as an
//!   [`aftercare::tracking_source::TrackingSource`]: `register` (a number already
//!   registered, `-18019901`, is a success and costs no quota), `stoptrack`; paced to 3
//!   requests a second, `429`/`5xx` retried, a lasting `429` a quota error.
//! - [`SeventeenTrackWebhooks`]: the push webhook, signed in the `sign` header. 17TRACK's
//!   scheme could not be confirmed from its documentation here ([`SignScheme`]): the default
//!   is the one quoted from its v2 docs (hex SHA-256 of `body + "/" + key`), the other an
//!   HMAC seen in integrations; confirm with a real push. `TRACKING_UPDATED` is decoded
//!   (`data` as an object or an array) into a
//!   [`TrackingUpdate`](aftercare::model::TrackingUpdate) with `status`/`sub_status` mapped
//!   ([`status::map`]) and kept verbatim, the providers' events, the estimate.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod error;
pub mod status;
mod webhooks;

pub use client::{DEFAULT_BASE_URL, SeventeenTrackClient, SeventeenTrackConfig};
pub use error::SeventeenTrackError;
pub use webhooks::{SIGN_HEADER, SeventeenTrackWebhooks, SignScheme, decode};

/// The source's name in [`TrackingUpdate::source`](aftercare::model::TrackingUpdate::source)
/// and in `/webhooks/{name}`.
pub const SOURCE_NAME: &str = "17track";
