//! # Aftercare
//!
//! Post-purchase customer success for any shop platform: share live tracking links when an
//! order ships, keep the customer informed as the shipment moves, ask for satisfaction after
//! delivery, and act on the answers, with consent, opt-outs and quiet hours respected.
//!
//! This crate is the core. It names no platform: shop platforms, messaging providers and
//! storage backends are adapters (separate crates) implementing the traits here.
//!
//! - [`model`]: orders, customers, shipments, [`PlatformEvent`](model::PlatformEvent),
//!   messages, surveys.
//! - [`webhook`]: verification of signed webhooks on raw bytes (three signing families,
//!   secret rotation, replay window, size limit) and the [`WebhookSource`](webhook::WebhookSource) trait.
//! - [`platform`] holds [`OrderSource`](platform::OrderSource),
//!   [`CustomerDirectory`](platform::CustomerDirectory) and [`OrderAnnotator`](platform::OrderAnnotator).
//! - [`channel`]: [`MessageChannel`](channel::MessageChannel) and its classified errors.
//! - [`helpdesk`]: the [`Helpdesk`](helpdesk::Helpdesk) trait support desks implement.
//! - [`store`]: inbox, outbox, ledger, consent, surveys, redaction.
//! - [`inbox`]: processing stored webhooks with retries and dead letters.
//! - [`dispatch`]: sending due messages at most once per key.
//! - [`flows`]: the business rules, written against the traits only — tracking links and
//!   shipment updates, feedback surveys and their follow-up, replies (opt-outs), delivery
//!   reports, privacy and retention.
//! - `http` (feature `axum`): the webhook router (with subscription handshakes), the tracking
//!   and survey pages, the dashboard.
//! - `conformance` (feature `conformance`): the storage test suite every backend runs.
//!
//! ```
//! use aftercare::webhook::{Verifier, Scheme, Secret, RawHeaders};
//! let v = Verifier::new(Scheme::StandardWebhooks, Secret::from_standard_webhooks("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap());
//! let headers = v.sign_with_id("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
//! assert_eq!(headers.get_str("webhook-signature"), Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod backoff;
pub mod branding;
pub mod carrier;
pub mod channel;
pub mod clock;
pub mod config;
pub mod content;
pub mod dispatch;
pub mod email_reply;
mod error;
pub mod flows;
pub mod helpdesk;
pub mod html;
pub mod inbox;
pub mod l10n;
pub mod links;
pub mod model;
pub mod money;
pub mod optout;
pub mod platform;
pub mod prelude;
pub mod ratelimit;
pub mod reply;
pub mod report;
pub mod retention;
pub mod sms;
pub mod store;
pub mod tenancy;
pub mod token;
pub mod tracking_source;
pub mod tz;
pub mod uncertain;
pub mod webhook;
pub mod work;

#[cfg(feature = "axum")]
pub mod http;

#[cfg(feature = "axum")]
pub mod stack;

#[cfg(feature = "schemars")]
pub mod schema;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use error::{BoxError, Error};

// Crates whose types appear in the public API, re-exported so an integration uses the same
// versions (see "Semver policy" in ARCHITECTURE.md: a major upgrade of one of these is a
// breaking change of this crate).
pub use ::async_trait::async_trait;
#[cfg(feature = "axum")]
pub use axum;
pub use chrono;
pub use chrono_tz;
pub use futures;
