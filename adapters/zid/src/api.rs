//! The sdk's platform traits on [`ZidClient`], and webhook subscription.
//!
//! Endpoints (docs.zid.sa, Merchant API): `GET managers/store/orders/{id}/view` ("View
//! Order": `{"order": {...}}`), `GET managers/store/orders?page&per_page` ("List Orders":
//! `{"orders": [...]}`), `GET managers/store/customers/{id}` (`{"customer": {...}}`),
//! `POST managers/store/orders/{id}/add-order-comment` ("Add Order Comment": `{"comment"}`,
//! at most 20 per order of 100 characters each), `GET`/`POST managers/webhooks` ("List of
//! Webhooks", "Create a Webhook").

use aftercare::Error;
use aftercare::model::{Customer, CustomerId, Order, OrderId, Shipment, ShopId};
use aftercare::platform::{CustomerDirectory, OrderAnnotator, OrderSource};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::{self, BoxStream, StreamExt as _};
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::ZidClient;
use crate::convert;
use crate::error::ZidError;
use crate::payload::{OrderCustomer, OrderPayload};
use crate::webhooks::BasicCredentials;

/// The longest comment Zid keeps.
pub const MAX_COMMENT_CHARS: usize = 100;

/// One store's Merchant API.
#[derive(Clone, Debug)]
pub struct ZidApi {
    client: ZidClient,
    shop: ShopId,
    default_locale: String,
}

impl ZidApi {
    /// The API of the store `shop` through `client`; orders naming no language get
    /// `default_locale` (`ar`).
    pub fn new(client: ZidClient, shop: ShopId, default_locale: impl Into<String>) -> Self {
        Self {
            client,
            shop,
            default_locale: default_locale.into(),
        }
    }

    async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
        op: &str,
    ) -> Result<Option<Value>, Error> {
        let url = self.client.url(path, query)?;
        self.client.send(Method::GET, url, None, op).await
    }

    async fn view(&self, id: &str) -> Result<Option<OrderPayload>, Error> {
        let op = format!("fetch order {id}");
        let Some(v) = self
            .get(&format!("managers/store/orders/{id}/view"), &[], &op)
            .await?
        else {
            return Ok(None);
        };
        let o = v.get("order").cloned().unwrap_or(Value::Null);
        Ok(Some(
            serde_json::from_value(o).map_err(|e| ZidError::decode(&op, e))?,
        ))
    }

    async fn read(&self, id: &str) -> Result<Option<(Order, Option<Shipment>)>, Error> {
        let op = format!("fetch order {id}");
        match self.view(id).await? {
            Some(o) => Ok(Some(convert::order(
                &o,
                &self.shop,
                &self.default_locale,
                &op,
            )?)),
            None => Ok(None),
        }
    }

    async fn page(&self, page: u64) -> Result<Vec<String>, Error> {
        let op = format!("list orders (page {page})");
        let query = [
            ("page", page.to_string()),
            ("per_page", self.client.cfg.page_size.to_string()),
        ];
        let v = self
            .get("managers/store/orders", &query, &op)
            .await?
            .ok_or_else(|| {
                Error::from(ZidError::decode(&op, "the orders list is missing (404)"))
            })?;
        let rows = v
            .get("orders")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::from(ZidError::decode(&op, "no `orders` array")))?;
        rows.iter()
            .map(|r| {
                r.get("id")
                    .and_then(|id| match id {
                        Value::Number(n) if n.is_u64() => Some(n.to_string()),
                        Value::String(s) if !s.is_empty() => Some(s.clone()),
                        _ => None,
                    })
                    .ok_or_else(|| Error::from(ZidError::decode(&op, "an order without an id")))
            })
            .collect()
    }

    async fn comment(&self, order: &OrderId, text: &str) -> Result<(), Error> {
        let text: String = text.chars().take(MAX_COMMENT_CHARS).collect();
        let o = self
            .view(order.as_str())
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "order",
                id: order.to_string(),
            })?;
        let exists = o.comments.iter().any(|c| {
            c.as_str()
                .or_else(|| c.get("comment").and_then(Value::as_str))
                == Some(text.as_str())
        });
        if exists {
            return Ok(());
        }
        let op = format!("comment on order {order}");
        let url = self.client.url(
            &format!("managers/store/orders/{order}/add-order-comment"),
            &[],
        )?;
        self.client
            .send(Method::POST, url, Some(&json!({ "comment": text })), &op)
            .await?;
        Ok(())
    }

    /// The store's webhook subscriptions: `(event, target_url)`.
    pub async fn webhooks(&self) -> Result<Vec<(String, String)>, Error> {
        let op = "list webhooks";
        let v = self
            .get("managers/webhooks", &[], op)
            .await?
            .unwrap_or(Value::Null);
        let rows = v
            .get("data")
            .or_else(|| v.get("webhooks"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Ok(rows
            .iter()
            .filter_map(|r| {
                Some((
                    r.get("event")?.as_str()?.to_owned(),
                    r.get("target_url")?.as_str()?.to_owned(),
                ))
            })
            .collect())
    }

    /// Subscribes `event` (`order.create`, `order.status.update`) to `target_url` with the
    /// Basic `credentials` Zid will send, unless that subscription exists already.
    /// `target_url` must be `https://` (it carries the secret path).
    pub async fn subscribe(
        &self,
        event: &str,
        target_url: &str,
        credentials: &BasicCredentials,
        subscriber: &str,
    ) -> Result<bool, Error> {
        if !target_url.starts_with("https://") {
            return Err(Error::Config(format!(
                "a Zid webhook URL must be https (the credentials travel with it): {target_url}"
            )));
        }
        if self
            .webhooks()
            .await?
            .iter()
            .any(|(e, u)| e == event && u == target_url)
        {
            return Ok(false);
        }
        let body = json!({
            "event": event,
            "target_url": target_url,
            "original_id": 1,
            "subscriber": subscriber,
            "username": credentials.username(),
            "password": String::from_utf8_lossy(credentials.password().expose()),
        });
        let url = self.client.url("managers/webhooks", &[])?;
        self.client
            .send(
                Method::POST,
                url,
                Some(&body),
                &format!("subscribe {event}"),
            )
            .await?;
        Ok(true)
    }
}

#[async_trait]
impl OrderSource for ZidApi {
    async fn order(&self, id: &OrderId) -> Result<Option<Order>, Error> {
        Ok(self.read(id.as_str()).await?.map(|(o, _)| o))
    }

    /// Pages through "List Orders" until an empty page, reads each order in full and yields
    /// those changed at or after `since`, in the list's order. An API error ends the
    /// stream with it.
    fn updated_since(&self, since: DateTime<Utc>) -> BoxStream<'_, Result<Order, Error>> {
        stream::unfold(Some((1u64, Vec::<String>::new())), move |st| async move {
            let (mut page, mut ids) = st?;
            loop {
                if ids.is_empty() {
                    match self.page(page).await {
                        Ok(next) if next.is_empty() => return None,
                        Ok(next) => {
                            ids = next;
                            page += 1;
                        }
                        Err(e) => return Some((Err(e), None)),
                    }
                }
                let id = ids.remove(0);
                match self.read(&id).await {
                    Ok(Some((o, _))) if o.updated_at.is_none_or(|t| t >= since) => {
                        return Some((Ok(o), Some((page, ids))));
                    }
                    Ok(_) => {}
                    Err(e) => return Some((Err(e), None)),
                }
            }
        })
        .boxed()
    }

    async fn shipments(&self, order: &OrderId) -> Result<Vec<Shipment>, Error> {
        Ok(self
            .read(order.as_str())
            .await?
            .and_then(|(_, s)| s)
            .into_iter()
            .collect())
    }
}

#[async_trait]
impl CustomerDirectory for ZidApi {
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, Error> {
        let op = format!("fetch customer {id}");
        let Some(v) = self
            .get(&format!("managers/store/customers/{id}"), &[], &op)
            .await?
        else {
            return Ok(None);
        };
        let c: OrderCustomer = serde_json::from_value(v.get("customer").cloned().unwrap_or(v))
            .map_err(|e| ZidError::decode(&op, e))?;
        let mut c = convert::customer(&c);
        c.locale = Some(self.default_locale.clone());
        Ok(Some(c))
    }
}

#[async_trait]
impl OrderAnnotator for ZidApi {
    /// Zid orders have no tags: written once as an order comment `tags: a, b`.
    async fn add_order_tags(&self, order: &OrderId, tags: &[String]) -> Result<(), Error> {
        self.comment(order, &format!("tags: {}", tags.join(", ")))
            .await
    }

    /// Zid's customers have no tags this adapter writes: logged and skipped.
    async fn add_customer_tags(&self, customer: &CustomerId, tags: &[String]) -> Result<(), Error> {
        tracing::info!(%customer, ?tags, "Zid: customer tags are not written (no endpoint)");
        Ok(())
    }

    /// Adds an order comment (cut to 100 characters), unless the order has it already.
    async fn append_order_note(&self, order: &OrderId, line: &str) -> Result<(), Error> {
        self.comment(order, line).await
    }

    /// Written once as an order comment `namespace.key: value`.
    async fn set_order_metafield(
        &self,
        order: &OrderId,
        namespace: &str,
        key: &str,
        value: &str,
    ) -> Result<(), Error> {
        self.comment(order, &format!("{namespace}.{key}: {value}"))
            .await
    }
}
