//! # EasyPost Trackers adapter for Aftercare
//!
//! - [`EasyPostClient`]: the v2 API (HTTP Basic, the API key as user name) as an
//!   [`aftercare::tracking_source::TrackingSource`]: `POST /trackers` (EasyPost itself
//!   returns the existing tracker for a code and carrier it already tracks), `DELETE
//!   /trackers/{id}` for one tracked too long (trackers end on their own on delivery);
//!   paced, `429`/`5xx` retried with `Retry-After`, a lasting `429` a quota error.
//! - [`EasyPostWebhooks`]: `X-Hmac-Signature: hmac-sha256-hex=<hex>`, HMAC-SHA256 of the raw
//!   body keyed with the **NFKD-normalised** webhook secret, as EasyPost's client libraries
//!   compute it (their official vector is a test); the raw bytes are verified, so the
//!   `"weight"` rewrite the Node library needs after re-serialising is not needed here.
//!   De-duplicated on the event id; `tracker.created` / `tracker.updated` decoded into a
//!   [`TrackingUpdate`](aftercare::model::TrackingUpdate) ([`status::map`]: `status` with
//!   `status_detail`, both kept verbatim; the tracking details' messages and places; the
//!   estimate).

#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod error;
mod payload;
pub mod status;
mod webhooks;

pub use client::{DEFAULT_BASE_URL, EasyPostClient, EasyPostConfig};
pub use error::EasyPostError;
pub use webhooks::{
    EasyPostWebhooks, SIGNATURE_HEADER, SIGNATURE_PREFIX, decode, normalize_secret,
};

/// The source's name in [`TrackingUpdate::source`](aftercare::model::TrackingUpdate::source)
/// and in `/webhooks/{name}`.
pub const SOURCE_NAME: &str = "easypost";
