//! The sdk's platform traits on [`BigCommerceClient`]: [`OrderSource`] (v2 orders, products,
//! shipments), [`CustomerDirectory`] (v3 customers) and [`OrderAnnotator`] (staff notes on
//! the v2 order, tags and metafields as v3 metafields), all idempotent.

use std::collections::HashSet;

use aftercare::Error;
use aftercare::model::{Customer, CustomerId, Order, OrderId, Shipment};
use aftercare::platform::{CustomerDirectory, OrderAnnotator, OrderSource};
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::stream::{self, BoxStream, StreamExt as _};
use reqwest::Method;
use serde_json::json;

use crate::client::BigCommerceClient;
use crate::convert;
use crate::error::BigCommerceError;
use crate::payload::{
    ApiAddress, ApiCustomer, ApiMetafield, ApiOrder, ApiOrderProduct, ApiShipment, Collection,
    Single,
};

/// The metafield namespace of the adapter's writes unless configured otherwise.
pub const DEFAULT_NAMESPACE: &str = "aftercare";
/// The metafield key holding the tags of an order or customer (comma-separated).
pub const TAGS_KEY: &str = "tags";

/// A numeric id as a path segment; BigCommerce ids are integers, anything else cannot name a
/// resource (and must not reach a URL path).
fn seg(id: &str) -> Option<&str> {
    (!id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit())).then_some(id)
}

fn bad_id(what: &str, id: &str) -> BigCommerceError {
    BigCommerceError::decode(
        format!("BigCommerce {what} id"),
        format!("`{id}` is not a numeric id"),
    )
}

/// `min_date_modified` as ISO 8601 (`orders.v2.oas2.yml`: RFC 2822 or ISO 8601), whole
/// seconds (the API's precision), rounded down so nothing is missed.
fn iso_seconds(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

struct Paging {
    min: DateTime<Utc>,
    page: u32,
    /// Orders already yielded whose `date_modified` equals `min`.
    seen: HashSet<String>,
    done: bool,
}

impl BigCommerceClient {
    /// `GET /v2/orders/{id}`; `None` on 404.
    pub(crate) async fn fetch_order(&self, id: &str) -> Result<Option<ApiOrder>, BigCommerceError> {
        let id = seg(id).ok_or_else(|| bad_id("order", id))?;
        self.get(&format!("v2/orders/{id}"), &[]).await
    }

    /// Every page of `GET /v2/orders/{id}/products` (50 per page by default; 250 asked).
    pub(crate) async fn fetch_products(
        &self,
        id: &str,
    ) -> Result<Vec<ApiOrderProduct>, BigCommerceError> {
        let id = seg(id).ok_or_else(|| bad_id("order", id))?;
        self.all_pages(&format!("v2/orders/{id}/products")).await
    }

    /// Every page of `GET /v2/orders/{id}/shipments` (`204 No Content` when there are none).
    pub(crate) async fn fetch_shipments(
        &self,
        id: &str,
    ) -> Result<Vec<ApiShipment>, BigCommerceError> {
        let id = seg(id).ok_or_else(|| bad_id("order", id))?;
        self.all_pages(&format!("v2/orders/{id}/shipments")).await
    }

    /// `GET /v2/orders/{order_id}/shipments/{shipment_id}`; `None` on 404.
    pub(crate) async fn fetch_shipment(
        &self,
        order_id: &str,
        id: &str,
    ) -> Result<Option<ApiShipment>, BigCommerceError> {
        let order = seg(order_id).ok_or_else(|| bad_id("order", order_id))?;
        let id = seg(id).ok_or_else(|| bad_id("shipment", id))?;
        self.get(&format!("v2/orders/{order}/shipments/{id}"), &[])
            .await
    }

    /// The first address of `GET /v2/orders/{id}/shipping_addresses`.
    pub(crate) async fn fetch_shipping_address(
        &self,
        id: &str,
    ) -> Result<Option<ApiAddress>, BigCommerceError> {
        let id = seg(id).ok_or_else(|| bad_id("order", id))?;
        let list: Option<Vec<ApiAddress>> = self
            .get_list(&format!("v2/orders/{id}/shipping_addresses"), &[])
            .await?;
        Ok(list.and_then(|l| l.into_iter().next()))
    }

    /// `GET /v3/customers?id:in={id}`; `None` when no customer has that id.
    pub(crate) async fn fetch_customer(
        &self,
        id: &str,
    ) -> Result<Option<ApiCustomer>, BigCommerceError> {
        let id = seg(id).ok_or_else(|| bad_id("customer", id))?;
        let page: Option<Collection<ApiCustomer>> = self
            .get("v3/customers", &[("id:in", id.to_owned())])
            .await?;
        Ok(page.and_then(|p| p.data.into_iter().find(|c| c.id.as_str() == id)))
    }

    async fn all_pages<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Vec<T>, BigCommerceError> {
        const LIMIT: usize = 250;
        let mut out = Vec::new();
        for page in 1u32.. {
            let items: Vec<T> = self
                .get_list(
                    path,
                    &[("page", page.to_string()), ("limit", LIMIT.to_string())],
                )
                .await?
                .unwrap_or_default();
            let n = items.len();
            out.extend(items);
            if n < LIMIT {
                break;
            }
        }
        Ok(out)
    }

    /// An order with its lines; its shipping address from `shipping` when given, else from
    /// `/shipping_addresses`.
    pub(crate) async fn full_order(
        &self,
        api: ApiOrder,
        shipping: Option<&ApiAddress>,
    ) -> Result<Order, BigCommerceError> {
        let products = self.fetch_products(api.id.as_str()).await?;
        let fetched;
        let shipping = match shipping {
            Some(s) => Some(s),
            None => {
                fetched = self.fetch_shipping_address(api.id.as_str()).await?;
                fetched.as_ref()
            }
        };
        convert::order(self.store_hash(), api, products, shipping)
    }

    /// One page of the keyset paging of `updated_since`.
    async fn next_page(&self, st: &mut Paging) -> Vec<Result<Order, Error>> {
        let limit = self.config().page_size_value();
        let query = [
            ("min_date_modified", iso_seconds(st.min)),
            ("sort", "date_modified:asc".to_owned()),
            ("page", st.page.to_string()),
            ("limit", limit.to_string()),
        ];
        let list: Vec<ApiOrder> = match self.get_list("v2/orders", &query).await {
            Ok(l) => l.unwrap_or_default(),
            Err(e) => {
                st.done = true;
                return vec![Err(e.into())];
            }
        };
        if list.is_empty() {
            st.done = true;
            return Vec::new();
        }
        let full = list.len() >= limit as usize;
        let mut out = Vec::with_capacity(list.len());
        let mut dated = Vec::with_capacity(list.len());
        for o in list {
            let Some(t) = convert::parse_date(&o.date_modified) else {
                st.done = true;
                out.push(Err(BigCommerceError::decode(
                    format!("BigCommerce order {}", o.id),
                    format!(
                        "`date_modified` `{}` is not an RFC 2822 date",
                        o.date_modified
                    ),
                )
                .into()));
                return out;
            };
            dated.push((o.id.0.clone(), t));
            if st.seen.contains(o.id.as_str()) {
                continue;
            }
            match convert::order(self.store_hash(), o, Vec::new(), None) {
                Ok(order) => out.push(Ok(order)),
                Err(e) => {
                    st.done = true;
                    out.push(Err(e.into()));
                    return out;
                }
            }
        }
        let last = dated.iter().map(|(_, t)| *t).max().unwrap_or(st.min);
        if last > st.min {
            st.min = last;
            st.page = 1;
            st.seen = dated
                .into_iter()
                .filter(|(_, t)| *t == last)
                .map(|(id, _)| id)
                .collect();
        } else {
            st.page += 1;
            st.seen.extend(dated.into_iter().map(|(id, _)| id));
        }
        if !full {
            st.done = true;
        }
        out
    }
}

#[async_trait]
impl OrderSource for BigCommerceClient {
    /// `GET /v2/orders/{id}`, its products and its first shipping address (three requests).
    async fn order(&self, id: &OrderId) -> Result<Option<Order>, Error> {
        if seg(id.as_str()).is_none() {
            return Ok(None);
        }
        let Some(api) = self.fetch_order(id.as_str()).await? else {
            return Ok(None);
        };
        Ok(Some(self.full_order(api, None).await?))
    }

    /// Orders modified at or after `since`, oldest first: `GET /v2/orders?min_date_modified=
    /// &sort=date_modified:asc&page&limit` (limit: the configured page size, 250 at most).
    ///
    /// Paging is by modification time, not page number: each request starts at the newest
    /// `date_modified` seen so far (orders already yielded at that second are skipped), so an
    /// order modified during the pass — which moves to the end of the sort — cannot shift an
    /// unread order onto a page already read. Only when a whole page shares one second does
    /// the page number advance. The pass ends on an empty answer (`204 No Content` or `[]`)
    /// or a short page. The orders carry no lines (one request per page, not per order):
    /// [`OrderSource::order`] has them.
    fn updated_since(&self, since: DateTime<Utc>) -> BoxStream<'_, Result<Order, Error>> {
        let since = DateTime::from_timestamp(since.timestamp(), 0).unwrap_or(since);
        let st = Paging {
            min: since,
            page: 1,
            seen: HashSet::new(),
            done: false,
        };
        stream::unfold(st, move |mut st| async move {
            if st.done {
                return None;
            }
            let batch = self.next_page(&mut st).await;
            Some((stream::iter(batch), st))
        })
        .flatten()
        .boxed()
    }

    /// `GET /v2/orders/{id}` (for its status and modification time) and
    /// `GET /v2/orders/{id}/shipments`. BigCommerce shipments have no status: the order's
    /// status says where they are ([`map_status`](crate::map_status); a shipment of an order
    /// whose status says nothing of parcels is in transit).
    async fn shipments(&self, order: &OrderId) -> Result<Vec<Shipment>, Error> {
        if seg(order.as_str()).is_none() {
            return Ok(Vec::new());
        }
        let Some(api) = self.fetch_order(order.as_str()).await? else {
            return Ok(Vec::new());
        };
        let at = convert::parse_date(&api.date_modified);
        let status = convert::shipment_status(api.status_id);
        let list = self.fetch_shipments(order.as_str()).await?;
        Ok(list
            .into_iter()
            .map(|s| convert::shipment(self.store_hash(), s, status.clone(), at))
            .collect())
    }
}

#[async_trait]
impl CustomerDirectory for BigCommerceClient {
    /// `GET /v3/customers?id:in={id}`.
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, Error> {
        if seg(id.as_str()).is_none() {
            return Ok(None);
        }
        Ok(self
            .fetch_customer(id.as_str())
            .await?
            .map(convert::customer))
    }
}

fn split_tags(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

impl BigCommerceClient {
    /// The metafield `namespace.key` of a resource (`v3/orders/{id}/metafields`), if any.
    async fn find_metafield(
        &self,
        base: &str,
        namespace: &str,
        key: &str,
    ) -> Result<Option<ApiMetafield>, BigCommerceError> {
        let page: Option<Collection<ApiMetafield>> = self
            .get(
                base,
                &[("namespace", namespace.to_owned()), ("key", key.to_owned())],
            )
            .await?;
        Ok(page.and_then(|p| {
            p.data
                .into_iter()
                .find(|m| m.namespace == namespace && m.key == key)
        }))
    }

    /// Sets `namespace.key` on the metafields at `base` to what `next` makes of the current
    /// value (`None` when nothing changes). Returns whether it wrote. Idempotent: an existing
    /// metafield is updated (`PUT .../{id}`), never created twice; a `409` on create (another
    /// writer created it meanwhile) reads it again and updates it.
    async fn upsert_metafield(
        &self,
        base: &str,
        namespace: &str,
        key: &str,
        next: impl Fn(Option<&str>) -> Option<String>,
    ) -> Result<bool, BigCommerceError> {
        for _ in 0..2 {
            let existing = self.find_metafield(base, namespace, key).await?;
            let Some(value) = next(existing.as_ref().map(|m| m.value.as_str())) else {
                return Ok(false);
            };
            match existing {
                Some(m) => {
                    let _: Single<ApiMetafield> = self
                        .send(
                            Method::PUT,
                            &format!("{base}/{}", m.id),
                            &json!({ "value": value }),
                        )
                        .await?;
                    return Ok(true);
                }
                None => {
                    let created: Result<Single<ApiMetafield>, _> = self
                        .send(
                            Method::POST,
                            base,
                            &json!({
                                "permission_set": "app_only",
                                "namespace": namespace,
                                "key": key,
                                "value": value,
                                "description": "written by Aftercare",
                            }),
                        )
                        .await;
                    match created {
                        Ok(_) => return Ok(true),
                        Err(e) if e.status() == Some(409) => continue,
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Err(BigCommerceError::Api {
            operation: format!("POST /{base}"),
            status: Some(409),
            message: format!("the metafield `{namespace}.{key}` conflicts and cannot be found"),
            retryable: true,
        })
    }

    async fn add_tags(&self, base: &str, tags: &[String]) -> Result<(), Error> {
        let wanted: Vec<String> = tags
            .iter()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
        if let Some(t) = wanted.iter().find(|t| t.contains(',')) {
            return Err(Error::Config(format!(
                "the tag `{t}` contains a comma; tags are stored comma-separated"
            )));
        }
        self.upsert_metafield(base, DEFAULT_NAMESPACE, TAGS_KEY, |current| {
            let mut have = current.map(split_tags).unwrap_or_default();
            let before = have.len();
            for t in &wanted {
                if !have.contains(t) {
                    have.push(t.clone());
                }
            }
            (have.len() > before).then(|| have.join(","))
        })
        .await?;
        Ok(())
    }
}

#[async_trait]
impl OrderAnnotator for BigCommerceClient {
    /// BigCommerce orders have no tags: they are kept in the order metafield
    /// `aftercare.tags` (comma-separated; `POST /v3/orders/{id}/metafields`, then `PUT` on
    /// the same metafield). A tag already there is not written again.
    async fn add_order_tags(&self, order: &OrderId, tags: &[String]) -> Result<(), Error> {
        let id = seg(order.as_str()).ok_or_else(|| bad_id("order", order.as_str()))?;
        self.add_tags(&format!("v3/orders/{id}/metafields"), tags)
            .await
    }

    /// Customer tags: the customer metafield `aftercare.tags`
    /// (`/v3/customers/{id}/metafields`), like orders'.
    async fn add_customer_tags(&self, customer: &CustomerId, tags: &[String]) -> Result<(), Error> {
        let id = seg(customer.as_str()).ok_or_else(|| bad_id("customer", customer.as_str()))?;
        self.add_tags(&format!("v3/customers/{id}/metafields"), tags)
            .await
    }

    /// Appends a line to the order's `staff_notes` (`PUT /v2/orders/{id}`, after reading
    /// them): a line already in the notes is not appended again. Only `staff_notes` is sent.
    async fn append_order_note(&self, order: &OrderId, line: &str) -> Result<(), Error> {
        let line = line.trim();
        if line.is_empty() {
            return Ok(());
        }
        let Some(api) = self.fetch_order(order.as_str()).await? else {
            return Err(Error::NotFound {
                what: "order",
                id: order.as_str().to_owned(),
            });
        };
        let notes = api.staff_notes.unwrap_or_default();
        if notes.lines().any(|l| l.trim() == line) {
            return Ok(());
        }
        let next = if notes.trim().is_empty() {
            line.to_owned()
        } else {
            format!("{}\n{line}", notes.trim_end())
        };
        let id = seg(order.as_str()).ok_or_else(|| bad_id("order", order.as_str()))?;
        let _: serde_json::Value = self
            .send(
                Method::PUT,
                &format!("v2/orders/{id}"),
                &json!({ "staff_notes": next }),
            )
            .await?;
        Ok(())
    }

    /// `POST /v3/orders/{id}/metafields` (`permission_set: app_only`), or `PUT` on the
    /// existing metafield of the same namespace and key; nothing when it already holds
    /// `value`.
    async fn set_order_metafield(
        &self,
        order: &OrderId,
        namespace: &str,
        key: &str,
        value: &str,
    ) -> Result<(), Error> {
        let id = seg(order.as_str()).ok_or_else(|| bad_id("order", order.as_str()))?;
        self.upsert_metafield(
            &format!("v3/orders/{id}/metafields"),
            namespace,
            key,
            |current| (current != Some(value)).then(|| value.to_owned()),
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_numeric_ids_only() {
        assert_eq!(seg("250"), Some("250"));
        assert_eq!(seg("18446744073709551615"), Some("18446744073709551615"));
        assert_eq!(seg("250/../../v3/hooks"), None);
        assert_eq!(seg(""), None);
    }

    #[test]
    fn tags_split_and_min_date_is_whole_seconds() {
        assert_eq!(split_tags(" a, b,,c "), vec!["a", "b", "c"]);
        let t: DateTime<Utc> = "2026-11-01T08:00:00.750Z".parse().unwrap_or_default();
        assert_eq!(iso_seconds(t), "2026-11-01T08:00:00+00:00");
    }
}
