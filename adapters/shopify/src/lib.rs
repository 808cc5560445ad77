//! # Shopify adapter for Aftercare
//!
//! - [`ShopifyWebhooks`]: a [`WebhookSource`](aftercare::webhook::WebhookSource) verifying
//!   `X-Shopify-Hmac-Sha256` on the raw body (several secrets during a rotation) and decoding
//!   `orders/*`, `fulfillments/*`, `fulfillment_events/create`, `customers/update`,
//!   `app/uninstalled` and the compliance topics into
//!   [`PlatformEvent`](aftercare::model::PlatformEvent)s.
//! - [`ShopifyClient`]: the Admin GraphQL API with cost-based pacing shared by every task
//!   using the client, implementing [`OrderSource`](aftercare::platform::OrderSource),
//!   [`CustomerDirectory`](aftercare::platform::CustomerDirectory) and
//!   [`OrderAnnotator`](aftercare::platform::OrderAnnotator); idempotent webhook
//!   registration ([`ShopifyClient::ensure_webhooks`]); a REST helper for the legacy API.
//! - [`OAuthApp`]: the OAuth install flow (callback HMAC, code exchange).
//!
//! ```
//! use aftercare::webhook::{Secret, WebhookSource, WebhookRequest};
//! use aftercare_shopify::ShopifyWebhooks;
//! let src = ShopifyWebhooks::new(Secret::from("app client secret")).for_shop("demo.myshopify.com");
//! let body = br##"{"id":820982911946154500,"admin_graphql_api_id":"gid://shopify/Order/820982911946154500","order_number":1042,"name":"#1042","updated_at":"2024-05-03T14:22:11-04:00"}"##;
//! let headers = src.sign_for_test("orders/updated", "demo.myshopify.com", "b54557e4", body);
//! let req = WebhookRequest::new(&headers, body, chrono::Utc::now());
//! let verified = src.verify(&req).unwrap();
//! let events = aftercare_shopify::decode_topic(verified.topic.as_deref().unwrap(), verified.shop.as_deref(), body).unwrap();
//! assert_eq!(events[0].kind(), "order_updated");
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod api;
mod client;
mod convert;
mod discount;
mod error;
mod fast;
pub mod install;
pub mod oauth;
pub mod payload;
mod subscriptions;
pub mod throttle;
mod webhooks;

pub use api::{MAX_QUERY_COST, NODES_MAX_IDS, SHIPMENTS_COST_PER_ORDER};
pub use client::{DEFAULT_API_VERSION, RestPage, ShopifyClient, ShopifyConfig};
pub use convert::{gid, numeric_id, parse_money, shipment_status};
pub use error::ShopifyError;
pub use install::{InstallDone, InstallStart, ShopifyInstaller};
pub use oauth::{AccessToken, Callback, OAuthApp, OAuthRejection};
pub use subscriptions::{AFTERCARE_TOPICS, SubscriptionReport, topic_enum};
pub use webhooks::{DedupeKey, ShopifyWebhooks, decode_topic};

/// Re-exported: its types appear in this crate's public signatures, so an integration can
/// use the very version this crate was built with.
pub use url;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
