//! The sdk's platform traits on [`SallaClient`]: orders and their shipments, customers,
//! and write-back through order histories and order tags.
//!
//! Endpoints (docs.salla.dev, Admin API v2): `GET orders/{id}`, `GET orders?page&per_page`
//! (`per_page` ≤ 60, `pagination{currentPage, totalPages}`), `GET customers/{id}`,
//! `GET`/`POST orders/{id}/histories` ("Order Histories": `{"comment"}`), `POST
//! orders/{id}/tags` ("Order Tags": `{"tags": [...]}`).

use aftercare::Error;
use aftercare::model::{Customer, CustomerId, Order, OrderId, Shipment, ShopId};
use aftercare::platform::{CustomerDirectory, OrderAnnotator, OrderSource};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::{self, BoxStream, StreamExt as _};
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::SallaClient;
use crate::convert;
use crate::error::SallaError;
use crate::payload::{ApiResponse, CustomerPayload, OrderPayload};

/// One store's API: the client and the store it is bound to.
#[derive(Clone, Debug)]
pub struct SallaApi {
    client: SallaClient,
    shop: ShopId,
    default_locale: String,
}

impl SallaApi {
    /// The API of the store `shop` through `client`; orders whose customer names no
    /// language get `default_locale` (`ar`).
    pub fn new(client: SallaClient, shop: ShopId, default_locale: impl Into<String>) -> Self {
        Self {
            client,
            shop,
            default_locale: default_locale.into(),
        }
    }

    /// The client.
    pub fn client(&self) -> &SallaClient {
        &self.client
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

    async fn read_order(&self, id: &str) -> Result<Option<(Order, Vec<Shipment>)>, Error> {
        let op = format!("fetch order {id}");
        let Some(v) = self.get(&format!("orders/{id}"), &[], &op).await? else {
            return Ok(None);
        };
        let r: ApiResponse<OrderPayload> =
            serde_json::from_value(v).map_err(|e| SallaError::decode(&op, e))?;
        Ok(Some(convert::order(
            &r.data,
            &self.shop,
            &self.default_locale,
            &op,
        )?))
    }

    /// One page of the orders list: the ids and whether another page follows.
    async fn page(&self, page: u64, since: DateTime<Utc>) -> Result<(Vec<String>, bool), Error> {
        let op = format!("list orders (page {page})");
        let query = [
            ("page", page.to_string()),
            ("per_page", self.client.cfg.page_size.to_string()),
            ("from_date", since.format("%Y-%m-%d").to_string()),
        ];
        let v = self.get("orders", &query, &op).await?.ok_or_else(|| {
            Error::from(SallaError::decode(&op, "the orders list is missing (404)"))
        })?;
        #[derive(serde::Deserialize)]
        struct Row {
            #[serde(deserialize_with = "crate::payload::id")]
            id: String,
        }
        let r: ApiResponse<Vec<Row>> =
            serde_json::from_value(v).map_err(|e| SallaError::decode(&op, e))?;
        let more = match r.pagination {
            Some(p) => match (p.current_page, p.total_pages) {
                (Some(c), Some(t)) => c < t,
                _ => !r.data.is_empty(),
            },
            None => false,
        };
        Ok((r.data.into_iter().map(|row| row.id).collect(), more))
    }

    async fn histories(&self, order: &OrderId) -> Result<Vec<String>, Error> {
        let op = format!("list the histories of order {order}");
        let Some(v) = self
            .get(&format!("orders/{order}/histories"), &[], &op)
            .await?
        else {
            return Err(Error::NotFound {
                what: "order",
                id: order.to_string(),
            });
        };
        Ok(v.get("data")
            .and_then(Value::as_array)
            .map(|rows| {
                rows.iter()
                    .filter_map(|r| r.get("comment").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default())
    }
}

#[async_trait]
impl OrderSource for SallaApi {
    async fn order(&self, id: &OrderId) -> Result<Option<Order>, Error> {
        Ok(self.read_order(id.as_str()).await?.map(|(o, _)| o))
    }

    /// Pages through `GET orders` (`per_page` ≤ 60, `from_date` the day of `since`), reads
    /// each listed order in full, and yields those changed at or after `since`, in the
    /// list's order. An API error ends the stream with it.
    fn updated_since(&self, since: DateTime<Utc>) -> BoxStream<'_, Result<Order, Error>> {
        enum St {
            Page(u64),
            Ids(Vec<String>, bool, u64),
            Done,
        }
        stream::unfold(St::Page(1), move |mut st| async move {
            loop {
                match st {
                    St::Done => return None,
                    St::Page(n) => match self.page(n, since).await {
                        Ok((ids, more)) => st = St::Ids(ids, more, n),
                        Err(e) => return Some((Err(e), St::Done)),
                    },
                    St::Ids(mut ids, more, n) => {
                        if ids.is_empty() {
                            st = if more { St::Page(n + 1) } else { St::Done };
                            continue;
                        }
                        let id = ids.remove(0);
                        match self.read_order(&id).await {
                            Ok(Some((o, _))) if o.updated_at.is_none_or(|t| t >= since) => {
                                return Some((Ok(o), St::Ids(ids, more, n)));
                            }
                            Ok(_) => st = St::Ids(ids, more, n),
                            Err(e) => return Some((Err(e), St::Done)),
                        }
                    }
                }
            }
        })
        .boxed()
    }

    async fn shipments(&self, order: &OrderId) -> Result<Vec<Shipment>, Error> {
        Ok(self
            .read_order(order.as_str())
            .await?
            .map(|(_, s)| s)
            .unwrap_or_default())
    }
}

#[async_trait]
impl CustomerDirectory for SallaApi {
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, Error> {
        let op = format!("fetch customer {id}");
        let Some(v) = self.get(&format!("customers/{id}"), &[], &op).await? else {
            return Ok(None);
        };
        let r: ApiResponse<CustomerPayload> =
            serde_json::from_value(v).map_err(|e| SallaError::decode(&op, e))?;
        let mut c = convert::customer(&r.data, &op)?;
        if c.locale.is_none() {
            c.locale = Some(self.default_locale.clone());
        }
        Ok(Some(c))
    }
}

#[async_trait]
impl OrderAnnotator for SallaApi {
    /// Reads the order's tags and posts only the missing ones ("Order Tags").
    async fn add_order_tags(&self, order: &OrderId, tags: &[String]) -> Result<(), Error> {
        let current = self
            .read_order(order.as_str())
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "order",
                id: order.to_string(),
            })?
            .0
            .tags;
        let missing: Vec<&String> = tags.iter().filter(|t| !current.contains(t)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        let op = format!("tag order {order}");
        let url = self.client.url(&format!("orders/{order}/tags"), &[])?;
        self.client
            .send(Method::POST, url, Some(&json!({ "tags": missing })), &op)
            .await?;
        Ok(())
    }

    /// Salla's customers have no tags this adapter writes: logged and skipped.
    async fn add_customer_tags(&self, customer: &CustomerId, tags: &[String]) -> Result<(), Error> {
        tracing::info!(%customer, ?tags, "Salla: customer tags are not written (no endpoint used)");
        Ok(())
    }

    /// Adds an order history entry with `line`, unless one with the same text exists.
    async fn append_order_note(&self, order: &OrderId, line: &str) -> Result<(), Error> {
        if self.histories(order).await?.iter().any(|c| c == line) {
            return Ok(());
        }
        let op = format!("add a history to order {order}");
        let url = self.client.url(&format!("orders/{order}/histories"), &[])?;
        self.client
            .send(Method::POST, url, Some(&json!({ "comment": line })), &op)
            .await?;
        Ok(())
    }

    /// Salla has no order metafields: written as an order history line `namespace.key:
    /// value` (once).
    async fn set_order_metafield(
        &self,
        order: &OrderId,
        namespace: &str,
        key: &str,
        value: &str,
    ) -> Result<(), Error> {
        self.append_order_note(order, &format!("{namespace}.{key}: {value}"))
            .await
    }
}
