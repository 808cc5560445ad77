//! `action.*` webhooks carry only a hook's argument: the order hooks' is an order id, and
//! the order is read from the API when the entry is processed, never on the request path.

use std::sync::Arc;

use aftercare::Error;
use aftercare::model::PlatformEvent;
use aftercare::platform::thin::Hydrator;
use aftercare::store::InboxEntry;
use aftercare::webhook::WebhookSource;
use async_trait::async_trait;

use crate::client::WooClient;
use crate::webhooks::{WooWebhooks, action_order_id, is_order_hook};

/// Builds the events of WooCommerce webhooks from the inbox: an `action.<hook>` webhook
/// of an order hook ([`is_order_hook`], e.g. `action.woocommerce_order_status_completed`,
/// body `{"action": "...", "arg": 723}`) is the order read with `GET /orders/{arg}` and
/// decoded as an `order.updated` would be; every other topic is decoded from its body by
/// the source. Register it with the processor under the source's name
/// ([`aftercare::inbox::InboxProcessor::hydrator`]); an API outage then retries the entry
/// with the inbox's backoff. An order deleted since yields no events.
#[derive(Clone, Debug)]
pub struct WooHydrator {
    source: Arc<WooWebhooks>,
    client: WooClient,
}

impl WooHydrator {
    /// A hydrator decoding with `source` and reading orders with `client`.
    pub fn new(source: Arc<WooWebhooks>, client: WooClient) -> Self {
        Self { source, client }
    }
}

#[async_trait]
impl Hydrator for WooHydrator {
    async fn hydrate(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        let Some(topic) = entry.topic.as_deref() else {
            return self.source.decode(entry);
        };
        let Some(hook) = topic.strip_prefix("action.") else {
            return self.source.decode(entry);
        };
        let arg = action_order_id(topic, &entry.body)?;
        if !is_order_hook(hook) {
            return self.source.decode(entry);
        }
        let id = arg.ok_or_else(|| {
            Error::decode(
                format!("woocommerce {topic}"),
                "the hook's argument is not an order id",
            )
        })?;
        let Some(order) = self.client.woo_order(&id).await? else {
            tracing::info!(order = %id, topic, "the order of an action webhook is gone; nothing to report");
            return Ok(Vec::new());
        };
        Ok(order.events(false, self.source.mapping()))
    }
}
