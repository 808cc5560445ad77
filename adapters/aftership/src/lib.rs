//! # AfterShip Tracking adapter for Aftercare
//!
//! - [`AfterShipClient`]: the Tracking API (`as-api-key`, date-versioned base URL, default
//!   `2026-07`) as an [`aftercare::tracking_source::TrackingSource`]: `POST /trackings`
//!   (a number AfterShip already tracks — meta code 4003 — is a success), stop by
//!   `mark-as-completed` or `DELETE`; paced to the documented per-endpoint limits, `429` and
//!   `5xx` retried with `Retry-After`/`X-RateLimit-Reset`, a lasting `429` reported as a
//!   quota error so the registration policy backs off.
//! - [`AfterShipWebhooks`]: a [`WebhookSource`](aftercare::webhook::WebhookSource):
//!   `aftership-hmac-sha256` (base64 HMAC-SHA256 of the raw body with the webhook secret)
//!   verified before anything is parsed, de-duplicated on `event_id`, `tracking_update`
//!   decoded into a [`TrackingUpdate`](aftercare::model::TrackingUpdate) with the tag and
//!   subtag mapped ([`status::map`]) and kept verbatim, the checkpoints' text and places, the
//!   latest estimate and the pickup location.
//!
//! ```
//! use aftercare::webhook::{RawHeaders, Secret, WebhookRequest, WebhookSource};
//! use aftercare_aftership::AfterShipWebhooks;
//! let hooks = AfterShipWebhooks::new(Secret::from("whsec"));
//! let headers = RawHeaders::from_pairs([("aftership-hmac-sha256", "bm90IGl0")]);
//! let req = WebhookRequest::new(&headers, b"{}", chrono::Utc::now());
//! assert!(hooks.verify(&req).is_err());
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod error;
mod payload;
pub mod status;
mod webhooks;

pub use client::{AfterShipClient, AfterShipConfig, DEFAULT_BASE_URL};
pub use error::AfterShipError;
pub use webhooks::{AfterShipWebhooks, LEGACY_SIGNATURE_HEADER, SIGNATURE_HEADER, decode};

/// The source's name in [`TrackingUpdate::source`](aftercare::model::TrackingUpdate::source)
/// and in `/webhooks/{name}`.
pub const SOURCE_NAME: &str = "aftership";
