//! The traits a shop-platform adapter implements: read orders, customers and shipments, and
//! write back to the shop; and what every platform adapter shares: [`links`] (`Link`
//! header paging), [`limits`] (quota headers, `Retry-After`, a gate that never exceeds a
//! quota), [`thin`] (webhooks that carry only ids, hydrated from the inbox), [`poll`]
//! (catch-up polling for webhooks that never arrive) and [`token`] (an app's OAuth tokens
//! per store: sealed at rest, refreshed once under concurrency, revocation as a stop);
//! [`WebhooksOnly`] stands in for an API client when there is no token. Money parsing is in
//! [`crate::money`]. `docs/adding-a-platform.md` walks through adding a platform.

pub mod discount;
pub mod known;
pub mod limits;
pub mod links;
pub mod poll;
pub mod thin;
pub mod token;
pub mod webhooks_only;

pub use webhooks_only::WebhooksOnly;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;

use crate::Error;
use crate::model::{Customer, CustomerId, Order, OrderId, Shipment};

/// Reads orders and their shipments from a shop.
///
/// Pagination and rate limits are the adapter's business: `updated_since` yields orders one
/// by one as pages arrive, pacing itself to the platform's limits.
#[async_trait]
pub trait OrderSource: Send + Sync {
    /// One order, or `None` if the shop has no such order.
    async fn order(&self, id: &OrderId) -> Result<Option<Order>, Error>;

    /// Every order updated at or after `since`, oldest first where the platform allows,
    /// as a stream that fetches page after page.
    fn updated_since(&self, since: DateTime<Utc>) -> BoxStream<'_, Result<Order, Error>>;

    /// An order's shipments with their tracking and events.
    async fn shipments(&self, order: &OrderId) -> Result<Vec<Shipment>, Error>;
}

/// Looks customers up.
#[async_trait]
pub trait CustomerDirectory: Send + Sync {
    /// One customer, or `None`.
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, Error>;
}

/// Writes back to the shop: tags, notes, metafields.
#[async_trait]
pub trait OrderAnnotator: Send + Sync {
    /// Adds tags to an order (tags already there stay, and adding one twice is a no-op).
    async fn add_order_tags(&self, order: &OrderId, tags: &[String]) -> Result<(), Error>;

    /// Adds tags to a customer.
    async fn add_customer_tags(&self, customer: &CustomerId, tags: &[String]) -> Result<(), Error>;

    /// Appends a line to the order's note.
    async fn append_order_note(&self, order: &OrderId, line: &str) -> Result<(), Error>;

    /// Sets a metafield on an order (`namespace.key` = `value`, typed as the platform wants).
    async fn set_order_metafield(
        &self,
        order: &OrderId,
        namespace: &str,
        key: &str,
        value: &str,
    ) -> Result<(), Error>;
}
