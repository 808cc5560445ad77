//! # Salla adapter for Aftercare
//!
//! Salla is Saudi Arabia's largest shop platform; Arabic is its first language, and this
//! adapter's (orders default to the `ar` locale).
//!
//! - [`SallaWebhooks`]: a [`WebhookSource`](aftercare::webhook::WebhookSource) bound to
//!   one store (merchant): the app's security strategy ([`Security`]: `X-Salla-Signature`
//!   hex HMAC of the raw body; an `Authorization` token compared in constant time, with or
//!   without `Bearer `; or none, only when chosen explicitly, with a warning), the
//!   `{event, merchant, created_at, data}` envelope with the merchant bound to the
//!   configured store, de-duplication on the SHA-256 of the raw body (Salla sends no
//!   delivery id), and order, shipment, customer and app events ([`decode_topic`]).
//! - [`SallaHydrator`]: stores the tokens of `app.store.authorize` and stops the client on
//!   `app.uninstalled`.
//! - [`SallaClient`] + [`SallaApi`]: the Admin API v2 with the store's bearer token from an
//!   [`aftercare::platform::token::TokenHolder`] (refreshed once under concurrency with
//!   [`SallaRefresher`]; the single-use refresh token stored before use; a refused refresh
//!   stops it with a "revoked" reason), `per_page` ≤ 60, the leaky bucket announced in
//!   `X-RateLimit-*` and `Retry-After`; [`OrderSource`](aftercare::platform::OrderSource),
//!   [`CustomerDirectory`](aftercare::platform::CustomerDirectory) and an idempotent
//!   [`OrderAnnotator`](aftercare::platform::OrderAnnotator) (order histories and tags).

#![cfg_attr(docsrs, feature(doc_cfg))]
mod api;
mod client;
pub mod convert;
mod coupons;
mod error;
mod hydrate;
pub mod payload;
mod webhooks;

pub use api::SallaApi;
pub use client::{
    API_BASE, MAX_PAGE_SIZE, QUOTA_HEADERS, SallaClient, SallaConfig, SallaRefresher, TOKEN_URL,
};
pub use convert::{map_status, parse_time};
pub use error::SallaError;
pub use hydrate::SallaHydrator;
pub use webhooks::{
    AUTHORIZE_EVENT, SIGNATURE_HEADER, STRATEGY_HEADER, SallaWebhooks, SallaWebhooksBuilder,
    Security, TOKEN_HEADER, decode_topic,
};

/// The source name the reference binaries register Salla webhooks under
/// (`/webhooks/salla`).
pub const SOURCE_NAME: &str = "salla";

/// Re-exported: its types appear in this crate's public signatures, so an integration can
/// use the very version this crate was built with.
pub use url;
