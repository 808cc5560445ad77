//! # ikas adapter for Aftercare
//!
//! - [`IkasWebhooks`]: a [`WebhookSource`](aftercare::webhook::WebhookSource) verifying
//!   ikas's webhooks exactly as ikas's official Node client does
//!   (`validateIkasWebhookSignature`: lowercase hex HMAC-SHA256 of the body's `data` string
//!   with the app's client secret), in constant time, and treating the rest of the body —
//!   `scope`, `merchantId`, `id`, `createdAt` — as unsigned claims: the merchant is bound to
//!   the configuration (and to `data.merchantId` when the entity names it), and each scope's
//!   decoder requires its entity's fields.
//! - [`IkasClient`]: the Admin GraphQL API (`Authorization: Bearer`, client-credentials
//!   tokens fetched once under concurrency, the 50-per-10-s limit, `429` waits), with
//!   [`OrderSource`](aftercare::platform::OrderSource) (`listOrder` by `updatedAt`, packages
//!   and their `trackingInfo` as shipments), [`CustomerDirectory`](aftercare::platform::CustomerDirectory)
//!   and [`OrderAnnotator`](aftercare::platform::OrderAnnotator) (order timeline entries).
//! - ikas sends no package (shipment) webhook: tracking changes arrive as
//!   `store/order/updated`, and [`IkasShop`] runs the sdk's catch-up poller by default.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod api;
mod client;
mod convert;
mod error;
pub mod payload;
mod shop;
mod webhooks;

pub use client::{GRAPHQL_URL, IkasAuth, IkasClient, IkasConfig};
pub use convert::{
    PACKAGE_STATUSES, customer, map_status, order, order_events, parse_date, shipments,
};
pub use error::IkasError;
pub use shop::{IkasShop, POLLER_NAME, SOURCE_NAME};
pub use webhooks::{
    CUSTOMER_SCOPES, IkasWebhooks, META_AUTHORIZED_APP, META_DELIVERY_ID, ORDER_SCOPES,
};

/// Re-exported: its types appear in this crate's public signatures, so an integration can
/// use the very version this crate was built with.
pub use url;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
