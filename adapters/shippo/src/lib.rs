//! # Shippo Tracking adapter for Aftercare
//!
//! - [`ShippoClient`]: `POST /tracks/` (`Authorization: ShippoToken <key>`) as an
//!   [`aftercare::tracking_source::TrackingSource`]. Shippo has no "stop tracking" call, and
//!   its tracking webhooks are not idempotent (one registration per number: the
//!   registration policy registers once). Paced to the documented per-minute limit, `429`
//!   and `5xx` retried, a lasting `429` a quota error. Shippo needs its carrier token; a
//!   carrier it cannot be told is refused with the reason.
//! - [`ShippoWebhooks`]: Shippo signs nothing by default; its documented protection is a
//!   self-generated `?token=` in the webhook URL (or an IP allowlist), so the source
//!   requires that token (compared in constant time) and refuses anything without it.
//!   De-duplicated on the number and the status object's id; `track_updated` decoded
//!   ([`status::map`]: `status` with `substatus.code`, both verbatim; the history's
//!   details and places; the ETA).

#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod error;
pub mod status;
mod webhooks;

pub use client::{DEFAULT_BASE_URL, ShippoClient, ShippoConfig};
pub use error::ShippoError;
pub use webhooks::{ShippoWebhooks, decode};

/// The source's name in [`TrackingUpdate::source`](aftercare::model::TrackingUpdate::source)
/// and in `/webhooks/{name}`.
pub const SOURCE_NAME: &str = "shippo";
