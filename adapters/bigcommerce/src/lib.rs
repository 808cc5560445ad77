//! # BigCommerce adapter for Aftercare
//!
//! - [`BigCommerceWebhooks`]: a [`WebhookSource`](aftercare::webhook::WebhookSource)
//!   verifying BigCommerce's Standard Webhooks signatures (`webhook-id`,
//!   `webhook-timestamp`, `webhook-signature`; HMAC-SHA256 keyed with the app's client
//!   secret as raw bytes; 5-minute replay window; rotation), binding each callback to the
//!   configured store (`producer: "stores/{store_hash}"`, signed) and de-duplicating on
//!   `webhook-id`.
//! - [`BigCommerceHydrator`]: BigCommerce callbacks carry only ids
//!   (`{"scope":"store/order/created","data":{"type":"order","id":250},...}`); the hydrator
//!   builds the events from the REST API when the inbox processes the entry
//!   (`InboxProcessor::hydrator`), with the inbox's retries when the API is down.
//! - [`BigCommerceClient`]: `https://api.bigcommerce.com/stores/{store_hash}/v2|v3/...` with
//!   `X-Auth-Token`, paced by the store-wide quota headers (`X-Rate-Limit-*`) through the
//!   sdk's [`QuotaGate`](aftercare::platform::limits::QuotaGate); implements
//!   [`OrderSource`](aftercare::platform::OrderSource),
//!   [`CustomerDirectory`](aftercare::platform::CustomerDirectory) and
//!   [`OrderAnnotator`](aftercare::platform::OrderAnnotator) (idempotent),
//!   [`DiscountCodes`](aftercare::platform::discount::DiscountCodes) (v2 coupons), and keeps webhook
//!   subscriptions ([`BigCommerceClient::ensure_hooks`]).
//!
//! ```no_run
//! use std::sync::Arc;
//! use aftercare::webhook::Secret;
//! use aftercare_bigcommerce::{AFTERCARE_SCOPES, BigCommerceClient, BigCommerceConfig, BigCommerceHydrator, BigCommerceWebhooks};
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = BigCommerceClient::new(BigCommerceConfig::new("abc123", "access-token"))?;
//! client.ensure_hooks("https://app.example.com/webhooks/bigcommerce", AFTERCARE_SCOPES).await?;
//! let source = Arc::new(BigCommerceWebhooks::new(Secret::from("client-secret"), "abc123"));
//! let hydrator = Arc::new(BigCommerceHydrator::new(client.clone()));
//! // WebhookRoutes::new(..).source("bigcommerce", source.clone());
//! // InboxProcessor::new(..).source("bigcommerce", source).hydrator("bigcommerce", hydrator);
//! # let _ = (source, hydrator); Ok(()) }
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
mod webhooks;

pub use api::{DEFAULT_NAMESPACE, TAGS_KEY};
pub use client::{API_ROOT, BigCommerceClient, BigCommerceConfig};
pub use convert::{ORDER_STATUSES, map_status, parse_date, status_of};
pub use error::BigCommerceError;
pub use hooks::{AFTERCARE_SCOPES, HookReport};
pub use hydrate::BigCommerceHydrator;
pub use webhooks::{
    BigCommerceWebhooks, META_HASH, META_HOOK_SCOPE, OrderChange, SCOPE_HEADER, STORE_HEADER, Thin,
    parse_callback,
};

/// Re-exported: its types appear in this crate's public signatures, so an integration can
/// use the very version this crate was built with.
pub use url;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
