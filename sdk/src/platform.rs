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

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

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

    /// The shipments of several orders, in one platform request where the platform allows
    /// a batch (Shopify's `nodes(ids:)`), else one request per order.
    ///
    /// The map is keyed by the ids asked (each once, however often it was asked). An order
    /// the shop does not know is absent from the map where the platform says so; an order it
    /// knows without any shipment maps to an empty list. Each list equals what
    /// [`shipments`](Self::shipments) answers for that order.
    ///
    /// The default asks [`shipments`](Self::shipments) for each order, at most
    /// [`SHIPMENTS_CONCURRENCY`] at a time, and returns the first error (the requests still
    /// in flight are dropped); since `shipments` cannot tell an unknown order from one
    /// without shipments, the default maps every order asked, unknown ones to an empty list.
    /// A client that can batch overrides it; a wrapper that delegates [`OrderSource`] must
    /// forward it, or the batch silently becomes one request per order.
    async fn shipments_many(
        &self,
        orders: &[OrderId],
    ) -> Result<HashMap<OrderId, Vec<Shipment>>, Error> {
        let mut seen = std::collections::HashSet::with_capacity(orders.len());
        // Futures are lazy: built here, run `SHIPMENTS_CONCURRENCY` at a time below.
        let reads: Vec<BoxFuture<'_, Result<(OrderId, Vec<Shipment>), Error>>> = orders
            .iter()
            .filter(|o| seen.insert(*o))
            .map(|order| {
                Box::pin(async move { Ok((order.clone(), self.shipments(order).await?)) }) as _
            })
            .collect();
        stream::iter(reads)
            .buffer_unordered(SHIPMENTS_CONCURRENCY)
            .try_collect()
            .await
    }
}

/// How many `shipments` requests the default [`OrderSource::shipments_many`] keeps in
/// flight at once.
pub const SHIPMENTS_CONCURRENCY: usize = 4;

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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::model::ShipmentStatus;

    /// A platform client with only `shipments`: one shipment per order, after a short wait,
    /// counting calls and the most in flight at once; `fail` answers an error at once.
    #[derive(Default)]
    struct OnlyShipments {
        fail: Option<OrderId>,
        calls: Mutex<Vec<OrderId>>,
        in_flight: AtomicUsize,
        peak: AtomicUsize,
    }

    #[async_trait]
    impl OrderSource for OnlyShipments {
        async fn order(&self, _id: &OrderId) -> Result<Option<Order>, Error> {
            Ok(None)
        }
        fn updated_since(&self, _since: DateTime<Utc>) -> BoxStream<'_, Result<Order, Error>> {
            stream::empty().boxed()
        }
        async fn shipments(&self, order: &OrderId) -> Result<Vec<Shipment>, Error> {
            self.calls.lock().unwrap().push(order.clone());
            if self.fail.as_ref() == Some(order) {
                return Err(Error::Platform {
                    operation: format!("read the shipments of order {order}"),
                    status: Some(503),
                    message: "down".into(),
                    retryable: true,
                });
            }
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(10)).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            Ok(vec![Shipment::new(
                format!("s-{order}"),
                order.clone(),
                ShipmentStatus::InTransit,
            )])
        }
    }

    fn ids(n: usize) -> Vec<OrderId> {
        (1..=n).map(|i| OrderId::new(i.to_string())).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn the_default_batch_asks_each_order_a_few_at_a_time() {
        let shop = OnlyShipments::default();
        let mut asked = ids(10);
        asked.push(OrderId::new("3")); // asked twice, fetched once
        let got = shop.shipments_many(&asked).await.unwrap();
        assert_eq!(got.len(), 10);
        for id in ids(10) {
            assert_eq!(
                got[&id],
                vec![Shipment::new(
                    format!("s-{id}"),
                    id.clone(),
                    ShipmentStatus::InTransit
                )]
            );
        }
        assert_eq!(shop.calls.lock().unwrap().len(), 10);
        assert_eq!(
            shop.peak.load(Ordering::SeqCst),
            SHIPMENTS_CONCURRENCY,
            "a few at a time, not one by one nor all at once"
        );
        assert!(shop.shipments_many(&[]).await.unwrap().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn the_default_batch_stops_at_the_first_error() {
        let shop = OnlyShipments {
            fail: Some(OrderId::new("3")),
            ..OnlyShipments::default()
        };
        let e = shop.shipments_many(&ids(10)).await.unwrap_err();
        assert!(e.is_retryable());
        assert!(e.to_string().contains("order 3"), "{e}");
        let calls = shop.calls.lock().unwrap().len();
        assert!(
            calls < 10,
            "no order is asked after the error ({calls} asked)"
        );
    }
}
