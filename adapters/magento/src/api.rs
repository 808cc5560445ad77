//! The sdk's platform traits on the REST API: orders (one, updated since, shipments),
//! customers, and idempotent write-back as order comments.
//!
//! Endpoints (magento/magento2 `app/code/Magento/Sales/etc/webapi.xml`,
//! `Customer/etc/webapi.xml`, `Store/etc/webapi.xml`; developer.adobe.com/commerce/webapi/rest/):
//! `GET /V1/orders/{id}`, `GET /V1/orders?searchCriteria…`, `GET /V1/shipments?searchCriteria…`,
//! `POST /V1/orders/{id}/comments`, `GET /V1/customers/{id}`, `GET /V1/store/storeConfigs`.

use std::collections::HashSet;

use aftercare::Error;
use aftercare::model::{Customer, CustomerId, Order, OrderId, Shipment, ShopId};
use aftercare::platform::{CustomerDirectory, OrderAnnotator, OrderSource};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use futures::stream::{self, BoxStream};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::MagentoClient;
use crate::convert::{self, MagentoOrder, StoreLocales, format_time};
use crate::error::MagentoError;
use crate::payload::{
    CommentPayload, CustomerPayload, OrderPayload, SearchResult, ShipmentPayload,
    StoreConfigPayload,
};

/// The prefix of the comments the annotator writes for tags.
pub const TAGS_PREFIX: &str = "[aftercare] tags: ";
/// The prefix of the comments the annotator writes for metafields.
pub const FIELD_PREFIX: &str = "[aftercare] ";

fn enc(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

fn into_magento(e: Error) -> MagentoError {
    match e {
        Error::Decode { what, message } => MagentoError::Decode { what, message },
        other => MagentoError::decode("magento response", other),
    }
}

/// Where a pass of `updated_since` is.
struct Paging {
    /// `updated_at` `gteq` this (to the second).
    anchor: DateTime<Utc>,
    page: u32,
    /// Orders yielded whose `updated_at` is not before the anchor (the next query may
    /// return them again), by id and time.
    seen: HashSet<(String, i64)>,
    done: bool,
}

/// The order fields the annotator reads.
#[derive(Deserialize)]
struct OrderComments {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    status_histories: Vec<CommentPayload>,
}

fn comment_text(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Adds a `searchCriteria` filter group with one filter.
fn filter(
    q: &mut url::form_urlencoded::Serializer<'_, url::UrlQuery<'_>>,
    group: usize,
    field: &str,
    value: &str,
    condition: &str,
) {
    let p = format!("searchCriteria[filter_groups][{group}][filters][0]");
    q.append_pair(&format!("{p}[field]"), field)
        .append_pair(&format!("{p}[value]"), value)
        .append_pair(&format!("{p}[condition_type]"), condition);
}

impl MagentoClient {
    fn shop(&self) -> ShopId {
        ShopId::new(self.cfg.store.as_str())
    }

    /// The store views' locales: configured, or read once from `GET /V1/store/storeConfigs`
    /// (an integration without access to it gets none, and orders no locale).
    pub(crate) async fn store_locales(&self) -> StoreLocales {
        self.locales
            .get_or_init(|| async {
                let op = "read the store views' configuration";
                let url = match self.api_url("store/storeConfigs") {
                    Ok(u) => u,
                    Err(_) => return StoreLocales::default(),
                };
                match self.fetch(Method::GET, url, None, op).await {
                    Ok(Some(r)) => match serde_json::from_slice::<Vec<StoreConfigPayload>>(&r.body) {
                        Ok(list) => {
                            let mut l = StoreLocales::default();
                            for s in list {
                                if let (Some(id), Some(locale)) = (s.id, s.locale) {
                                    l.insert(id, locale);
                                }
                            }
                            l
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "the store views' configuration could not be read; orders get no locale");
                            StoreLocales::default()
                        }
                    },
                    Ok(None) => StoreLocales::default(),
                    Err(e) => {
                        tracing::warn!(error = %e, "the store views' configuration could not be read; orders get no locale");
                        StoreLocales::default()
                    }
                }
            })
            .await
            .clone()
    }

    /// One order as Magento returns it, converted; `None` when the store has no such order.
    pub(crate) async fn magento_order(
        &self,
        id: &str,
    ) -> Result<Option<MagentoOrder>, MagentoError> {
        let op = format!("fetch order {id}");
        let url = self.api_url(&format!("orders/{}", enc(id)))?;
        let Some(r) = self.fetch(Method::GET, url, None, &op).await? else {
            return Ok(None);
        };
        let p: OrderPayload = serde_json::from_slice(&r.body)
            .map_err(|e| MagentoError::decode(format!("order {id}"), e))?;
        let locales = self.store_locales().await;
        convert::order(&format!("order {id}"), p, Some(&self.shop()), &locales)
            .map(Some)
            .map_err(into_magento)
    }

    /// A page of `updated_since`; `None` when the pass is over.
    async fn next_page(&self, st: &mut Paging) -> Result<Option<Vec<Order>>, MagentoError> {
        let size = self.cfg.page_size;
        loop {
            if st.done {
                return Ok(None);
            }
            let mut url = self.api_url("orders")?;
            {
                let mut q = url.query_pairs_mut();
                filter(&mut q, 0, "updated_at", &format_time(st.anchor), "gteq");
                q.append_pair("searchCriteria[sortOrders][0][field]", "updated_at")
                    .append_pair("searchCriteria[sortOrders][0][direction]", "ASC")
                    .append_pair("searchCriteria[sortOrders][1][field]", "entity_id")
                    .append_pair("searchCriteria[sortOrders][1][direction]", "ASC")
                    .append_pair("searchCriteria[pageSize]", &size.to_string())
                    .append_pair("searchCriteria[currentPage]", &st.page.to_string());
            }
            let op = format!(
                "list orders updated since {} (page {})",
                format_time(st.anchor),
                st.page
            );
            let Some(r) = self.fetch(Method::GET, url, None, &op).await? else {
                return Err(MagentoError::Api {
                    operation: op,
                    status: Some(404),
                    message: "the orders route is missing".into(),
                    retryable: false,
                });
            };
            let page: SearchResult<OrderPayload> = serde_json::from_slice(&r.body)
                .map_err(|e| MagentoError::decode("order list", e))?;
            let total = page.total_count.unwrap_or(0);
            let count = page.items.len();
            let locales = self.store_locales().await;
            let shop = self.shop();
            let mut fresh = Vec::with_capacity(count);
            let mut last: Option<DateTime<Utc>> = None;
            for p in page.items {
                let id = p.entity_id.clone().unwrap_or_default();
                match convert::order("listed order", p, Some(&shop), &locales) {
                    Ok(o) => {
                        let at = o.order.updated_at;
                        last = at.or(last);
                        let key = (
                            o.order.id.as_str().to_owned(),
                            at.map_or(i64::MIN, |t| t.timestamp()),
                        );
                        if st.seen.insert(key) {
                            fresh.push(o.order);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(order = %id, error = %e, "a listed order could not be read; skipped");
                    }
                }
            }
            // Magento answers a page past the last with the last page again on some
            // endpoints (magento/magento2#25619): stop by `total_count`, never by an empty page alone.
            let has_more = count > 0 && u64::from(st.page) * u64::from(size) < total;
            if !has_more {
                st.done = true;
            } else {
                // Ask the next page from the last order's second rather than by number:
                // an order updated while the pass runs moves to the end and shifts every
                // later page; the orders of that second already yielded are skipped.
                match last {
                    Some(a) if a > st.anchor => {
                        st.anchor = a;
                        st.page = 1;
                        let floor = a.timestamp();
                        st.seen.retain(|(_, t)| *t >= floor);
                    }
                    _ => st.page += 1,
                }
            }
            if !fresh.is_empty() || st.done {
                return Ok(Some(fresh));
            }
        }
    }
}

#[async_trait]
impl OrderSource for MagentoClient {
    async fn order(&self, id: &OrderId) -> Result<Option<Order>, Error> {
        Ok(self.magento_order(id.as_str()).await?.map(|o| o.order))
    }

    /// Orders updated at or after `since` (to the second), oldest first:
    /// `GET /V1/orders` with a `searchCriteria` filter `updated_at gteq`, sorted by
    /// `updated_at` then `entity_id`, `pageSize` (100 by default), stopping by
    /// `total_count`. Each next page is asked from the last order's `updated_at` (see
    /// `next_page`). Orders that cannot be read are logged and skipped; an API error ends
    /// the pass with the error.
    fn updated_since(&self, since: DateTime<Utc>) -> BoxStream<'_, Result<Order, Error>> {
        let anchor = DateTime::from_timestamp(since.timestamp(), 0).unwrap_or(since);
        let st = Paging {
            anchor,
            page: 1,
            seen: HashSet::new(),
            done: false,
        };
        stream::unfold(Some(st), move |st| async move {
            let mut st = st?;
            match self.next_page(&mut st).await {
                Ok(Some(orders)) => Some((Ok(orders), Some(st))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        })
        .flat_map(|page| match page {
            Ok(orders) => stream::iter(orders.into_iter().map(Ok)).left_stream(),
            Err(e) => stream::iter([Err(Error::from(e))]).right_stream(),
        })
        .boxed()
    }

    /// The order's shipments with their tracks: `GET /V1/shipments` filtered on
    /// `order_id` (see [`crate::convert`] for what a shipment becomes).
    async fn shipments(&self, order: &OrderId) -> Result<Vec<Shipment>, Error> {
        let shop = self.shop();
        let mut out = Vec::new();
        let mut page = 1u32;
        loop {
            let op = format!("list the shipments of order {order}");
            let mut url = self.api_url("shipments")?;
            {
                let mut q = url.query_pairs_mut();
                filter(&mut q, 0, "order_id", order.as_str(), "eq");
                q.append_pair("searchCriteria[pageSize]", "100")
                    .append_pair("searchCriteria[currentPage]", &page.to_string());
            }
            let Some(r) = self.fetch(Method::GET, url, None, &op).await? else {
                return Ok(out);
            };
            let list: SearchResult<ShipmentPayload> =
                serde_json::from_slice(&r.body).map_err(|e| MagentoError::decode(&op, e))?;
            let count = list.items.len();
            for p in list.items {
                out.push(convert::shipment(
                    &format!("shipment of order {order}"),
                    p,
                    Some(&shop),
                )?);
            }
            if count == 0 || u64::from(page) * 100 >= list.total_count.unwrap_or(0) {
                return Ok(out);
            }
            page += 1;
        }
    }
}

#[async_trait]
impl CustomerDirectory for MagentoClient {
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, Error> {
        let op = format!("fetch customer {id}");
        let url = self.api_url(&format!("customers/{}", enc(id.as_str())))?;
        let Some(r) = self.fetch(Method::GET, url, None, &op).await? else {
            return Ok(None);
        };
        let p: CustomerPayload =
            serde_json::from_slice(&r.body).map_err(|e| MagentoError::decode(&op, e))?;
        let locales = self.store_locales().await;
        convert::customer(&format!("customer {id}"), p, &locales).map(Some)
    }
}

impl MagentoClient {
    /// The order's status and comments (`status_histories` of `GET /V1/orders/{id}`).
    async fn comments(&self, order: &OrderId, op: &str) -> Result<OrderComments, MagentoError> {
        let url = self.api_url(&format!("orders/{}", enc(order.as_str())))?;
        let r = self
            .fetch(Method::GET, url, None, op)
            .await?
            .ok_or_else(|| MagentoError::Api {
                operation: op.to_owned(),
                status: Some(404),
                message: format!("order {order} does not exist"),
                retryable: false,
            })?;
        serde_json::from_slice(&r.body).map_err(|e| MagentoError::decode(op, e))
    }

    /// Adds a comment that customers do not see: `POST /V1/orders/{id}/comments` with the
    /// order's current status (a comment without one would reset it on some versions).
    async fn add_comment(
        &self,
        order: &OrderId,
        status: Option<String>,
        comment: &str,
        op: &str,
    ) -> Result<(), MagentoError> {
        let url = self.api_url(&format!("orders/{}/comments", enc(order.as_str())))?;
        let mut history = json!({
            "comment": comment,
            "is_customer_notified": 0,
            "is_visible_on_front": 0,
            "parent_id": order.as_str(),
        });
        if let (Some(s), Some(obj)) = (status, history.as_object_mut()) {
            obj.insert("status".into(), Value::from(s));
        }
        let body = json!({ "statusHistory": history });
        self.fetch(Method::POST, url, Some(&body), op)
            .await?
            .ok_or_else(|| MagentoError::Api {
                operation: op.to_owned(),
                status: Some(404),
                message: format!("order {order} does not exist"),
                retryable: false,
            })?;
        Ok(())
    }
}

#[async_trait]
impl OrderAnnotator for MagentoClient {
    /// Magento orders have no tags: the new ones are written as one private comment
    /// `[aftercare] tags: a, b`, after reading the order's comments, so a tag is written
    /// once.
    async fn add_order_tags(&self, order: &OrderId, tags: &[String]) -> Result<(), Error> {
        let op = format!("tag order {order}");
        let current = self.comments(order, &op).await?;
        let have: HashSet<String> = current
            .status_histories
            .iter()
            .filter_map(|c| c.comment.as_deref())
            .filter_map(|c| c.trim().strip_prefix(TAGS_PREFIX.trim_end()))
            .flat_map(|list| list.split(',').map(|t| t.trim().to_owned()))
            .collect();
        let mut new: Vec<&str> = Vec::new();
        for t in tags.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
            if !have.contains(t) && !new.contains(&t) {
                new.push(t);
            }
        }
        if new.is_empty() {
            return Ok(());
        }
        let comment = format!("{TAGS_PREFIX}{}", new.join(", "));
        Ok(self
            .add_comment(order, current.status, &comment, &op)
            .await?)
    }

    /// Magento customers have no tags, and custom attributes need an attribute set up in
    /// the store: nothing is written (logged).
    async fn add_customer_tags(&self, customer: &CustomerId, tags: &[String]) -> Result<(), Error> {
        tracing::warn!(%customer, ?tags, "Magento customers have no tags; not written");
        Ok(())
    }

    /// Adds a private order comment unless one with the same text is there.
    async fn append_order_note(&self, order: &OrderId, line: &str) -> Result<(), Error> {
        let op = format!("add a comment to order {order}");
        let wanted = comment_text(line);
        if wanted.is_empty() {
            return Ok(());
        }
        let current = self.comments(order, &op).await?;
        if current
            .status_histories
            .iter()
            .filter_map(|c| c.comment.as_deref())
            .any(|c| comment_text(c) == wanted)
        {
            return Ok(());
        }
        Ok(self.add_comment(order, current.status, line, &op).await?)
    }

    /// Writes `[aftercare] {namespace}.{key} = {value}` as a private comment unless the
    /// newest such comment for that key has that value (Magento orders have no metafields).
    async fn set_order_metafield(
        &self,
        order: &OrderId,
        namespace: &str,
        key: &str,
        value: &str,
    ) -> Result<(), Error> {
        let op = format!("set {namespace}.{key} on order {order}");
        let prefix = format!("{FIELD_PREFIX}{namespace}.{key} = ");
        let current = self.comments(order, &op).await?;
        // Magento lists comments newest first.
        let latest = current
            .status_histories
            .iter()
            .filter_map(|c| c.comment.as_deref())
            .find_map(|c| c.trim().strip_prefix(prefix.as_str()));
        if latest == Some(value) {
            return Ok(());
        }
        let comment = format!("{prefix}{value}");
        Ok(self
            .add_comment(order, current.status, &comment, &op)
            .await?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn comments_compare_as_text() {
        assert_eq!(
            comment_text("NPS 3:\n late  delivery "),
            "NPS 3: late delivery"
        );
    }
}
