//! # Nuvemshop / Tiendanube adapter for Aftercare
//!
//! - [`NuvemshopWebhooks`]: a [`WebhookSource`](aftercare::webhook::WebhookSource)
//!   verifying `X-Linkedstore-HMAC-SHA256` (lowercase hex HMAC-SHA256 of the raw body with
//!   the app's secret), binding each notification to the configured store (`store_id` in
//!   the signed body) and app (`app/uninstalled` names the app's id); LGPD topics
//!   (`store/redact`, `customers/redact`, `customers/data_request`) on their own routes.
//! - [`NuvemshopHydrator`]: notifications carry only ids
//!   (`{"store_id":123,"event":"order/paid","id":450789469}`); the hydrator reads the order
//!   from the API when the inbox processes the entry, with the inbox's retries.
//! - [`NuvemshopClient`]: `https://api.tiendanube.com/v1/{store_id}/...` with
//!   `Authentication: bearer` and the mandatory `User-Agent`, paced by the leaky bucket's
//!   headers, pausing on `402` (a suspended store) instead of failing in a storm;
//!   implements [`OrderSource`](aftercare::platform::OrderSource),
//!   [`CustomerDirectory`](aftercare::platform::CustomerDirectory) and
//!   [`OrderAnnotator`](aftercare::platform::OrderAnnotator) (idempotent, into
//!   `owner_note`), and keeps webhook subscriptions ([`NuvemshopClient::ensure_hooks`]).
//! - Discount codes: `NuvemshopClient` implements
//!   [`DiscountCodes`](aftercare::platform::discount::DiscountCodes) with single-use coupons
//!   (`POST /coupons`; codes of letters and digits only: give the recovery flow
//!   `DiscountOffer::with_joined(true)`, `SORRY7KQ2M9XW4P`).
//! - [`NuvemshopShop`]: the recommended setup, with catch-up polling on by default.
//!
//! ```no_run
//! use aftercare::webhook::Secret;
//! use aftercare_nuvemshop::{NuvemshopClient, NuvemshopConfig, NuvemshopShop, NuvemshopWebhooks, aftercare_events};
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = NuvemshopClient::new(NuvemshopConfig::new("123456", "access-token", "Aftercare (ops@example.com)"))?;
//! client.ensure_hooks("https://app.example.com/webhooks/nuvemshop", &aftercare_events()).await?;
//! let shop = NuvemshopShop::new(NuvemshopWebhooks::new(Secret::from("app-secret"), "4815", "123456"), client)?;
//! // WebhookRoutes::new(..).source("nuvemshop", shop.webhooks());
//! // shop.processor(InboxProcessor::new(..)); shop.catch_up(store, clock)
//! # let _ = shop; Ok(()) }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod api;
mod client;
mod convert;
mod coupons;
mod error;
mod hooks;
mod hydrate;
pub mod install;
pub mod payload;
mod shop;
mod webhooks;

pub use api::NOTE_PREFIX;
pub use client::{API_ROOT, API_ROOT_BR, NuvemshopClient, NuvemshopConfig, QUOTA_HEADERS};
pub use convert::{
    SHIPPING_STATUSES, customer, map_status, order, order_events, parse_date, shipment_of,
};
pub use error::NuvemshopError;
pub use hooks::{HookReport, aftercare_events};
pub use hydrate::NuvemshopHydrator;
pub use shop::{NuvemshopShop, POLLER_NAME, SOURCE_NAME};
pub use webhooks::{
    EVENT_HEADER, NuvemshopWebhooks, ORDER_EVENTS, PrivacyTopic, SIGNATURE_HEADER, STORE_HEADER,
    Thin, parse_notification,
};

/// Re-exported: its types appear in this crate's public signatures, so an integration can
/// use the very version this crate was built with.
pub use url;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
