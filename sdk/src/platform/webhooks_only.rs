//! A platform without API access: everything comes from its webhooks.
//!
//! A shop's order webhooks carry the order, its customer and its shipments, so the tracking
//! flow can send its messages with no Admin API token at all ([`super::known`] keeps what
//! the webhooks said). [`WebhooksOnly`] stands where the API client would: every read
//! answers a refusal that retrying cannot cure, so what needs the API degrades the way a
//! revoked token does and says why:
//!
//! | needs the API | without it |
//! |---|---|
//! | an order no webhook carried (a shipment before its order) | the inbox entry is dead-lettered with this error |
//! | a customer record the order did not embed | the message uses the order's email, phone and locale |
//! | a shipment's details the webhook left out (estimate, carrier) | the message and page use what the webhooks said |
//! | catch-up polling, backfill | nothing to poll: do not configure them |

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::{self, BoxStream, StreamExt};

use super::{CustomerDirectory, OrderSource};
use crate::Error;
use crate::model::{Customer, CustomerId, Order, OrderId, Shipment};

/// An API client that has no API: every read is refused, not retried. See the module docs.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct WebhooksOnly;

impl WebhooksOnly {
    /// The stand-in.
    pub fn new() -> Self {
        Self
    }

    fn refuse(operation: String) -> Error {
        Error::Platform {
            operation,
            status: None,
            message: "no API access is configured (webhooks only): give the platform an API token to read what its webhooks did not carry".into(),
            retryable: false,
        }
    }
}

#[async_trait]
impl OrderSource for WebhooksOnly {
    async fn order(&self, id: &OrderId) -> Result<Option<Order>, Error> {
        Err(Self::refuse(format!("read order {id}")))
    }

    fn updated_since(&self, _since: DateTime<Utc>) -> BoxStream<'_, Result<Order, Error>> {
        stream::once(async { Err(Self::refuse("list orders updated since a time".into())) }).boxed()
    }

    async fn shipments(&self, order: &OrderId) -> Result<Vec<Shipment>, Error> {
        Err(Self::refuse(format!("read the shipments of order {order}")))
    }

    /// One refusal for the whole batch (the default would ask, and be refused, per order);
    /// nothing asked, nothing refused.
    async fn shipments_many(
        &self,
        orders: &[OrderId],
    ) -> Result<HashMap<OrderId, Vec<Shipment>>, Error> {
        if orders.is_empty() {
            return Ok(HashMap::new());
        }
        Err(Self::refuse(format!(
            "read the shipments of {} orders",
            orders.len()
        )))
    }
}

#[async_trait]
impl CustomerDirectory for WebhooksOnly {
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, Error> {
        Err(Self::refuse(format!("read customer {id}")))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_read_is_refused_for_good_and_says_what_to_do() {
        let api = WebhooksOnly::new();
        let e = api.order(&OrderId::new("1")).await.unwrap_err();
        assert!(!e.is_retryable());
        assert!(e.to_string().contains("API token"), "{e}");
        assert!(
            !api.shipments(&OrderId::new("1"))
                .await
                .unwrap_err()
                .is_retryable()
        );
        assert!(
            !api.customer(&CustomerId::new("7"))
                .await
                .unwrap_err()
                .is_retryable()
        );
        let e = api
            .shipments_many(&[OrderId::new("1"), OrderId::new("2")])
            .await
            .unwrap_err();
        assert!(!e.is_retryable());
        assert!(e.to_string().contains("API token"), "{e}");
        let all: Vec<_> = api.updated_since(Utc::now()).collect().await;
        assert_eq!(all.len(), 1);
        assert!(all[0].is_err());
    }
}
