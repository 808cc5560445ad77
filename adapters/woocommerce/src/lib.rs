//! # WooCommerce adapter for Aftercare
//!
//! - [`WooWebhooks`]: a [`WebhookSource`](aftercare::webhook::WebhookSource) bound to one
//!   site: `X-WC-Webhook-Signature` verified on the raw body (the secret decoded as
//!   WordPress decodes it, several secrets for several webhooks and rotations), the unsigned
//!   ping answered without storing, `X-WC-Webhook-Source` bound to the configured site,
//!   de-duplication on the resource's id and modification time, and `order.*`,
//!   `customer.*` and `action.*` decoded into
//!   [`PlatformEvent`](aftercare::model::PlatformEvent)s (paid and shipped derived from the
//!   order, see [`convert`]).
//! - [`WooClient`]: the `wc/v3` REST API (Basic auth over HTTPS or query-string keys,
//!   timeouts, retries, `Retry-After`, a client-side pace, optional quota headers),
//!   implementing [`OrderSource`](aftercare::platform::OrderSource) (paging by
//!   modification time), [`CustomerDirectory`](aftercare::platform::CustomerDirectory)
//!   and an idempotent [`OrderAnnotator`](aftercare::platform::OrderAnnotator) (notes;
//!   tags and metafields as order meta).
//! - [`WooHydrator`] for `action.*` webhooks, which carry only an order id.
//! - [`WooShop`]: the recommended setup, with catch-up polling on
//!   ([`catch_up_poller`]): WooCommerce never retries a failed webhook.
//!
//! ```
//! use aftercare::webhook::{Secret, WebhookRequest, WebhookSource};
//! use aftercare_woocommerce::WooWebhooks;
//! let src = WooWebhooks::new("https://shop.example/", Secret::from("s3cret")).unwrap();
//! // The ping WooCommerce sends when a webhook is saved: answered, not stored.
//! let ping = aftercare::webhook::RawHeaders::from_pairs([("Content-Type", "application/x-www-form-urlencoded")]);
//! let req = WebhookRequest::new(&ping, b"webhook_id=15", chrono::Utc::now());
//! assert!(matches!(src.preflight(&req), Some(Ok(_))));
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod api;
mod client;
pub mod convert;
mod coupons;
mod entities;
mod error;
mod hydrate;
pub mod install;
pub mod payload;
mod shop;
mod site;
mod webhooks;

pub use client::{Auth, WooClient, WooConfig};
pub use convert::{ConsentMeta, Mapping, map_status, to_bcp47};
pub use coupons::CODE_EXISTS;
pub use entities::wp_specialchars_decode;
pub use error::WooError;
pub use hydrate::WooHydrator;
pub use shop::{POLLER_NAME, SOURCE_NAME, WooShop, catch_up_poller};
pub use site::Site;
pub use webhooks::{
    DELIVERY_ID_HEADER, EVENT_HEADER, RESOURCE_HEADER, SIGNATURE_HEADER, SOURCE_HEADER,
    TOPIC_HEADER, WEBHOOK_ID_HEADER, WooWebhooks, WooWebhooksBuilder, decode_topic, is_order_hook,
};

/// Re-exported: its types appear in this crate's public signatures, so an integration can
/// use the very version this crate was built with.
pub use url;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
