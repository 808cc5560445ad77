//! Thin callbacks into events: [`BigCommerceHydrator`] fetches what a callback names from
//! the store's API, from the inbox (never on the request path).

use std::collections::HashMap;

use aftercare::Error;
use aftercare::model::PlatformEvent;
use aftercare::platform::thin::Hydrator;
use aftercare::store::InboxEntry;
use async_trait::async_trait;

use crate::client::BigCommerceClient;
use crate::convert;
use crate::webhooks::{OrderChange, Thin, parse_callback};

/// Builds the events of stored BigCommerce callbacks with the store's API. Register it with
/// `InboxProcessor::hydrator("bigcommerce", Arc::new(hydrator))` under the source's name.
///
/// Every entry is first checked as [`parse_callback`] says (a wrong store, a body of another
/// shape or a scope its hook does not cover is a decode error: dead-lettered). Then:
///
/// | scope | requests | events |
/// |---|---|---|
/// | `store/order/created` | `GET /v2/orders/{id}`, `/products`, `/shipments` | `order_created`, then a `shipment_updated` per shipment when the order status speaks of parcels (shipped, partially shipped, awaiting pickup, completed, cancelled, declined) |
/// | `store/order/updated`, `store/order/statusUpdated` | the same | `order_updated` (`order_cancelled` for a cancelled order), then the shipments likewise |
/// | `store/order/archived` | `GET /v2/orders/{id}`, `/products` | `order_cancelled` (the order marked cancelled) |
/// | `store/shipment/created`, `store/shipment/updated` | `GET /v2/orders/{orderId}/shipments/{id}`, `GET /v2/orders/{orderId}` (its status) | `shipment_created` / `shipment_updated` |
/// | `store/customer/created`, `store/customer/updated` | `GET /v3/customers?id:in={id}` | `customer_updated` |
/// | `store/app/uninstalled` | none | `app_uninstalled` |
/// | any other scope | none | `unrecognized` |
///
/// A resource the API no longer has (404: deleted since the callback) yields no events; that
/// is not an error. A 429, a 5xx or a timeout that the client's own retries did not get
/// through is a retryable error: the inbox retries the entry with its backoff, so an outage
/// delays the event, never loses it.
///
/// The customers' `GET /v3/customers/{id}/consent` is not read: it is the storefront's
/// cookie consent (`essential`, `functional`, `analytics`, `targeting`), not consent to
/// messages; `accepts_product_review_abandoned_cart_emails` is read instead.
#[derive(Clone, Debug)]
pub struct BigCommerceHydrator {
    clients: HashMap<String, BigCommerceClient>,
}

impl BigCommerceHydrator {
    /// A hydrator for the store of `client`.
    pub fn new(client: BigCommerceClient) -> Self {
        Self {
            clients: HashMap::new(),
        }
        .add_client(client)
    }

    /// Hydrates one more store's callbacks with its client.
    pub fn add_client(mut self, client: BigCommerceClient) -> Self {
        self.clients.insert(client.store_hash().to_owned(), client);
        self
    }

    fn client(&self, store: &str) -> Option<&BigCommerceClient> {
        self.clients.get(store)
    }
}

#[async_trait]
impl Hydrator for BigCommerceHydrator {
    async fn hydrate(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        let (cb, thin) = parse_callback(entry, |s| self.client(s).is_some())?;
        let store = cb.store_hash().unwrap_or_default().to_owned();
        let Some(client) = self.client(&store) else {
            return Err(Error::decode(
                "bigcommerce callback",
                format!("no client for store `{store}`"),
            ));
        };
        match thin {
            Thin::Order { change, id, .. } => {
                let Some(api) = client.fetch_order(id.as_str()).await? else {
                    tracing::info!(order = %id, scope = %cb.scope, "the order is gone (404); no events");
                    return Ok(Vec::new());
                };
                let products = client.fetch_products(id.as_str()).await?;
                if change == OrderChange::Archived {
                    let mut order = convert::order(&store, api, products, None)?;
                    order.cancelled = true;
                    return Ok(vec![PlatformEvent::OrderCancelled { order }]);
                }
                let shipments = client.fetch_shipments(id.as_str()).await?;
                let status = convert::status_of(api.status_id);
                let at = convert::parse_date(&api.date_modified);
                let order = convert::order(
                    &store,
                    api,
                    products,
                    convert::first_shipping_address(&shipments),
                )?;
                let mut events = Vec::with_capacity(1 + shipments.len());
                events.push(match change {
                    OrderChange::Created => PlatformEvent::OrderCreated { order },
                    _ if order.cancelled => PlatformEvent::OrderCancelled { order },
                    _ => PlatformEvent::OrderUpdated { order },
                });
                if convert::speaks_of_parcels(&status) {
                    events.extend(
                        shipments
                            .into_iter()
                            .map(|s| PlatformEvent::ShipmentUpdated {
                                shipment: convert::shipment(&store, s, status.clone(), at),
                            }),
                    );
                }
                Ok(events)
            }
            Thin::Shipment {
                created,
                id,
                order_id,
            } => {
                let Some(s) = client
                    .fetch_shipment(order_id.as_str(), id.as_str())
                    .await?
                else {
                    tracing::info!(shipment = %id, order = %order_id, "the shipment is gone (404); no events");
                    return Ok(Vec::new());
                };
                let (status, at) = match client.fetch_order(order_id.as_str()).await? {
                    Some(o) => (
                        convert::shipment_status(o.status_id),
                        convert::parse_date(&o.date_modified),
                    ),
                    None => (aftercare::model::ShipmentStatus::InTransit, None),
                };
                let shipment = convert::shipment(&store, s, status, at);
                Ok(vec![if created {
                    PlatformEvent::ShipmentCreated { shipment }
                } else {
                    PlatformEvent::ShipmentUpdated { shipment }
                }])
            }
            Thin::Customer { id } => Ok(client
                .fetch_customer(id.as_str())
                .await?
                .map(|c| PlatformEvent::CustomerUpdated {
                    customer: convert::customer(c),
                })
                .into_iter()
                .collect()),
            Thin::AppUninstalled { store } => {
                Ok(vec![PlatformEvent::AppUninstalled { shop: store.into() }])
            }
            Thin::Other => Ok(vec![PlatformEvent::Unrecognized { topic: cb.scope }]),
        }
    }
}
