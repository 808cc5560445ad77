//! Thin notifications into events: [`NuvemshopHydrator`] reads the order a notification
//! names from the store's API, from the inbox (never on the request path).

use std::collections::HashMap;
use std::sync::Arc;

use aftercare::Error;
use aftercare::model::PlatformEvent;
use aftercare::platform::thin::Hydrator;
use aftercare::store::InboxEntry;
use async_trait::async_trait;

use crate::client::NuvemshopClient;
use crate::convert;
use crate::error::NuvemshopError;
use crate::webhooks::{NuvemshopWebhooks, Thin, parse_notification};

/// Builds the events of stored Nuvemshop notifications with the store's API. Register it
/// with `InboxProcessor::hydrator("nuvemshop", Arc::new(hydrator))`.
///
/// Every entry is first checked as [`parse_notification`] says. Then:
///
/// | event | requests | events |
/// |---|---|---|
/// | `order/*` | `GET /orders/{id}` | as [`convert::order_events`] says |
/// | `app/suspended` | none | `unrecognized` (the client pauses at its first `402`) |
/// | `app/resumed` | none | `unrecognized`; the client's pause ends |
/// | `app/uninstalled`, LGPD topics, others | none | as [`NuvemshopWebhooks`] decodes them |
///
/// An order the store does not have (404) is a decode error, not "no events": Nuvemshop
/// cancels orders rather than deleting them, so a signed notification naming an order the
/// store never had is wrong, and is dead-lettered with the reason. A 402, 429, 5xx or
/// timeout is a retryable error: the inbox retries later.
#[derive(Clone, Debug)]
pub struct NuvemshopHydrator {
    source: Arc<NuvemshopWebhooks>,
    clients: HashMap<String, NuvemshopClient>,
}

impl NuvemshopHydrator {
    /// A hydrator for the store of `client`, checking entries as `source` does.
    pub fn new(source: Arc<NuvemshopWebhooks>, client: NuvemshopClient) -> Self {
        Self {
            source,
            clients: HashMap::new(),
        }
        .add_client(client)
    }

    /// Hydrates one more store's notifications with its client.
    pub fn add_client(mut self, client: NuvemshopClient) -> Self {
        self.clients.insert(client.store_id().to_owned(), client);
        self
    }
}

#[async_trait]
impl Hydrator for NuvemshopHydrator {
    async fn hydrate(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        let (store, thin) = parse_notification(
            entry,
            |s| self.source.serves(s) && self.clients.contains_key(s),
            self.source.app_id(),
        )?;
        let Some(client) = self.clients.get(&store) else {
            return Err(Error::decode(
                "nuvemshop notification",
                format!("no client for store `{store}`"),
            ));
        };
        match thin {
            Thin::Order { event, id } => {
                let Some(order) = client.fetch_order(id.as_str()).await? else {
                    return Err(NuvemshopError::decode(
                        format!("nuvemshop {event}"),
                        format!("store `{store}` has no order `{id}` (404)"),
                    )
                    .into());
                };
                if order.id != id {
                    return Err(NuvemshopError::decode(
                        format!("nuvemshop {event}"),
                        format!(
                            "asked for order `{id}`, the API answered order `{}`",
                            order.id
                        ),
                    )
                    .into());
                }
                Ok(convert::order_events(&event, &order, &store)?)
            }
            Thin::AppResumed => {
                client.resume();
                Ok(Thin::AppResumed.events(&store))
            }
            other => Ok(other.events(&store)),
        }
    }
}
