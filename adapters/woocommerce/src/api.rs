//! The sdk's platform traits on the REST API: orders (one, updated since, shipments),
//! customers, and idempotent write-back (notes, tags and metafields as order meta).

use std::collections::HashSet;

use aftercare::Error;
use aftercare::model::{Customer, CustomerId, Order, OrderId, Shipment, ShopId};
use aftercare::platform::links::link;
use aftercare::platform::{CustomerDirectory, OrderAnnotator, OrderSource};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use futures::stream::{self, BoxStream};
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Reply, WooClient};
use crate::convert::{self, WooOrder};
use crate::entities::wp_specialchars_decode;
use crate::error::WooError;
use crate::payload::{CustomerPayload, MetaOnly, NotePayload, OrderPayload, TrackingItem};

/// The time of `modified_after` as WooCommerce's date query must get it with
/// `dates_are_gmt=true`: `YYYY-MM-DDTHH:MM:SS` without an offset. (WordPress's
/// `WP_Date_Query` reads a value with an offset in the site's time zone, then compares it
/// with the GMT column: a `Z` would shift the window by the site's offset.)
fn wp_gmt(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn decode_error(what: &str, e: impl std::fmt::Display) -> WooError {
    WooError::decode(what, e)
}

/// Where a pass of `updated_since` is.
struct Paging {
    /// `modified_after` (exclusive, to the second).
    anchor: DateTime<Utc>,
    page: u32,
    /// Orders yielded in this pass whose modification time is not before the anchor
    /// (those the next query may return again), by id and modification time.
    seen: HashSet<(String, i64)>,
    /// `orderby=modified` is accepted (older WooCommerce versions refuse it; the pass then
    /// pages by creation date, page after page).
    by_modified: bool,
    done: bool,
}

impl WooClient {
    fn shop(&self) -> ShopId {
        ShopId::new(self.cfg.site.as_str())
    }

    /// One order as WooCommerce returns it, converted; `None` when the site has no such
    /// order.
    pub(crate) async fn woo_order(&self, id: &str) -> Result<Option<WooOrder>, WooError> {
        let op = format!("fetch order {id}");
        let url = self.api_url(&format!("orders/{}", enc(id)))?;
        let Some(r) = self.fetch(Method::GET, url, None, &op).await? else {
            return Ok(None);
        };
        let p: OrderPayload<'_> =
            serde_json::from_slice(&r.body).map_err(|e| decode_error(&format!("order {id}"), e))?;
        let shop = self.shop();
        convert::order(&format!("order {id}"), p, Some(&shop), &self.cfg.mapping)
            .map(Some)
            .map_err(into_woo)
    }

    /// A page of `updated_since`; `None` when the pass is over.
    async fn next_page(&self, st: &mut Paging) -> Result<Option<Vec<Order>>, WooError> {
        loop {
            if st.done {
                return Ok(None);
            }
            let mut url = self.api_url("orders")?;
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("modified_after", &wp_gmt(st.anchor))
                    .append_pair("dates_are_gmt", "true")
                    .append_pair("per_page", &self.cfg.page_size.to_string())
                    .append_pair("page", &st.page.to_string())
                    .append_pair("order", "asc");
                q.append_pair("orderby", if st.by_modified { "modified" } else { "date" });
            }
            let op = format!(
                "list orders modified after {} (page {})",
                wp_gmt(st.anchor),
                st.page
            );
            let r = self.send(Method::GET, url, None, &op).await?;
            if r.status == 400 && st.by_modified && orderby_refused(&r) {
                tracing::warn!(
                    "this WooCommerce version refuses orderby=modified; paging by creation date instead"
                );
                st.by_modified = false;
                continue;
            }
            if !(200..=299).contains(&r.status) {
                return Err(WooError::Api {
                    operation: op,
                    status: Some(r.status),
                    message: r.error_text(),
                    retryable: r.status == 408,
                });
            }
            let raw: Vec<OrderPayload<'_>> =
                serde_json::from_slice(&r.body).map_err(|e| decode_error("order list", e))?;
            let full_page = raw.len() >= self.cfg.page_size as usize;
            let has_next = has_next_page(&r, st.page, full_page);
            let shop = self.shop();
            let mut fresh = Vec::with_capacity(raw.len());
            let mut last_modified: Option<DateTime<Utc>> = None;
            for p in raw {
                let id = p.id.clone().unwrap_or_default();
                match convert::order("listed order", p, Some(&shop), &self.cfg.mapping) {
                    Ok(o) => {
                        let at = o.order.updated_at;
                        last_modified = at.or(last_modified);
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
            if !has_next {
                st.done = true;
            } else {
                // Restart from the last order's second (the query is exclusive, to the
                // second): orders modified while the pass runs move to its end and shift
                // the pages, and a time anchor is immune to that; the orders of that
                // second already yielded are skipped by `seen`.
                let next_anchor = last_modified
                    .map(|t| DateTime::from_timestamp(t.timestamp() - 1, 0).unwrap_or(t));
                match next_anchor {
                    Some(a) if st.by_modified && a > st.anchor => {
                        st.anchor = a;
                        st.page = 1;
                        let floor = a.timestamp();
                        st.seen.retain(|(_, t)| *t > floor);
                    }
                    _ => st.page += 1,
                }
            }
            if !fresh.is_empty() || st.done {
                return Ok(Some(fresh));
            }
        }
    }

    /// The order's tracking items: the Shipment Tracking extension's REST route when the
    /// site has it, else the order's meta.
    async fn tracking_items(&self, order: &WooOrder) -> Result<Vec<TrackingItem>, WooError> {
        if self.has_tracking_route() {
            let id = order.order.id.as_str();
            let url = self.url(&format!(
                "wp-json/wc-shipment-tracking/v3/orders/{}/shipment-trackings",
                enc(id)
            ))?;
            let op = format!("list the tracking items of order {id}");
            let r = self.send(Method::GET, url, None, &op).await?;
            match r.status {
                200..=299 => match serde_json::from_slice::<Vec<TrackingItem>>(&r.body) {
                    Ok(items) if !items.is_empty() => return Ok(items),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(order = %id, error = %e, "the Shipment Tracking route answered something else than tracking items; reading the order meta");
                    }
                },
                404 if r.error_code().as_deref() == Some("rest_no_route") => {
                    tracing::info!(
                        "the site has no Shipment Tracking REST route; reading tracking from order meta"
                    );
                    self.mark_no_tracking_route();
                }
                404 => {}
                s => {
                    return Err(WooError::Api {
                        operation: op,
                        status: Some(s),
                        message: r.error_text(),
                        retryable: false,
                    });
                }
            }
        }
        Ok(order.tracking.clone())
    }

    /// The body of `path` (`orders/1`), `None` when it does not exist.
    async fn body_of(&self, path: &str, op: &str) -> Result<Option<Vec<u8>>, WooError> {
        let url = self.api_url(path)?;
        Ok(self
            .fetch(Method::GET, url, None, op)
            .await?
            .map(|r| r.body))
    }

    /// Adds `tags` to the comma-separated list in meta `tags_meta` of `path` (`orders/1`,
    /// `customers/2`), writing only when one is new.
    async fn add_tags(&self, path: &str, tags: &[String], op: &str) -> Result<(), WooError> {
        let wanted: Vec<&str> = tags
            .iter()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let key = &self.cfg.mapping.tags_meta;
        let body = self.body_of(path, op).await?.ok_or_else(|| WooError::Api {
            operation: op.to_owned(),
            status: Some(404),
            message: format!("`{path}` does not exist"),
            retryable: false,
        })?;
        let meta = serde_json::from_slice::<MetaOnly<'_>>(&body)
            .map_err(|e| decode_error(op, e))?
            .meta_data;
        let mut current = convert::tags_from_meta(&meta, key);
        let before = current.len();
        for t in wanted {
            if !current.iter().any(|c| c.eq_ignore_ascii_case(t)) {
                current.push(t.to_owned());
            }
        }
        if current.len() == before {
            return Ok(());
        }
        let body = json!({ "meta_data": [{ "key": key, "value": current.join(", ") }] });
        self.fetch(Method::PUT, self.api_url(path)?, Some(&body), op)
            .await?
            .ok_or_else(|| WooError::Api {
                operation: op.to_owned(),
                status: Some(404),
                message: format!("`{path}` does not exist"),
                retryable: false,
            })?;
        Ok(())
    }
}

fn into_woo(e: Error) -> WooError {
    match e {
        Error::Decode { what, message } => WooError::Decode { what, message },
        other => WooError::decode("order", other),
    }
}

/// Percent-encodes an id for a path segment.
fn enc(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

/// Whether a `400` is WordPress refusing `orderby=modified` (`rest_invalid_param` naming
/// `orderby`).
fn orderby_refused(r: &Reply) -> bool {
    r.error_code().as_deref() == Some("rest_invalid_param")
        && String::from_utf8_lossy(&r.body).contains("orderby")
}

/// Whether another page follows: the `Link` header's `rel="next"`, else `X-WP-TotalPages`,
/// else a full page.
fn has_next_page(r: &Reply, page: u32, full_page: bool) -> bool {
    if let Some(l) = r.header("link") {
        return link(l, "next").is_some();
    }
    if let Some(total) = r
        .header("x-wp-totalpages")
        .and_then(|v| v.trim().parse::<u32>().ok())
    {
        return page < total;
    }
    full_page
}

/// The text of a note as compared for idempotence: entities decoded, paragraphs and
/// breaks WordPress may add removed, whitespace collapsed.
fn note_text(s: &str) -> String {
    let s = wp_specialchars_decode(s);
    let s = s
        .replace("<p>", " ")
        .replace("</p>", " ")
        .replace("<br />", " ")
        .replace("<br/>", " ")
        .replace("<br>", " ");
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[async_trait]
impl OrderSource for WooClient {
    async fn order(&self, id: &OrderId) -> Result<Option<Order>, Error> {
        Ok(self.woo_order(id.as_str()).await?.map(|o| o.order))
    }

    /// Orders modified at or after `since`, oldest first: `GET /orders` with
    /// `modified_after` (to the second, GMT), `dates_are_gmt=true`, `orderby=modified`,
    /// `order=asc` and `per_page` (100 by default), following `Link: rel="next"` (or
    /// `X-WP-TotalPages`). Each next page is asked for from the last order's modification
    /// time rather than by page number, so orders modified during the pass cannot shift
    /// one past it. Orders that cannot be read are logged and skipped; an API error ends
    /// the pass with the error.
    fn updated_since(&self, since: DateTime<Utc>) -> BoxStream<'_, Result<Order, Error>> {
        // `modified_after` is exclusive and to the second.
        let anchor = DateTime::from_timestamp(since.timestamp() - 1, 0).unwrap_or(since);
        let st = Paging {
            anchor,
            page: 1,
            seen: HashSet::new(),
            by_modified: true,
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

    /// The order's shipments (see [`crate::convert`]): its tracking items from the
    /// Shipment Tracking REST route (`GET /wp-json/wc-shipment-tracking/v3/orders/{id}/shipment-trackings`)
    /// or, without it, the order meta `_wc_shipment_tracking_items`, with the status the
    /// order (and TrackShip) gives them.
    async fn shipments(&self, order: &OrderId) -> Result<Vec<Shipment>, Error> {
        let Some(o) = self.woo_order(order.as_str()).await? else {
            return Ok(Vec::new());
        };
        let items = self.tracking_items(&o).await?;
        Ok(o.shipments_from(&items, &self.cfg.mapping))
    }
}

#[async_trait]
impl CustomerDirectory for WooClient {
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, Error> {
        let op = format!("fetch customer {id}");
        let url = self.api_url(&format!("customers/{}", enc(id.as_str())))?;
        let Some(r) = self.fetch(Method::GET, url, None, &op).await? else {
            return Ok(None);
        };
        let p: CustomerPayload<'_> =
            serde_json::from_slice(&r.body).map_err(|e| decode_error(&op, e))?;
        convert::customer(&format!("customer {id}"), p, &self.cfg.mapping).map(Some)
    }
}

#[async_trait]
impl OrderAnnotator for WooClient {
    /// Adds tags to the order's meta `aftercare_tags` (WooCommerce has no order tags):
    /// read, merged, and written with `PUT /orders/{id}` only when a tag is new.
    async fn add_order_tags(&self, order: &OrderId, tags: &[String]) -> Result<(), Error> {
        let op = format!("tag order {order}");
        Ok(self
            .add_tags(&format!("orders/{}", enc(order.as_str())), tags, &op)
            .await?)
    }

    /// Adds tags to the customer's meta `aftercare_tags`, the same way.
    async fn add_customer_tags(&self, customer: &CustomerId, tags: &[String]) -> Result<(), Error> {
        let op = format!("tag customer {customer}");
        Ok(self
            .add_tags(&format!("customers/{}", enc(customer.as_str())), tags, &op)
            .await?)
    }

    /// Adds a private order note (`POST /orders/{id}/notes`, `customer_note: false`) unless
    /// a note with the same text is already there (`GET /orders/{id}/notes` first).
    async fn append_order_note(&self, order: &OrderId, line: &str) -> Result<(), Error> {
        let op = format!("add a note to order {order}");
        let path = format!("orders/{}/notes", enc(order.as_str()));
        let wanted = note_text(line);
        if wanted.is_empty() {
            return Ok(());
        }
        let notes = self
            .fetch(Method::GET, self.api_url(&path)?, None, &op)
            .await?
            .ok_or_else(|| WooError::Api {
                operation: op.clone(),
                status: Some(404),
                message: format!("order {order} does not exist"),
                retryable: false,
            })?;
        let notes: Vec<NotePayload> =
            serde_json::from_slice(&notes.body).map_err(|e| decode_error(&op, e))?;
        if notes
            .iter()
            .filter_map(|n| n.note.as_deref())
            .any(|n| note_text(n) == wanted)
        {
            return Ok(());
        }
        let body = json!({ "note": line, "customer_note": false });
        self.fetch(Method::POST, self.api_url(&path)?, Some(&body), &op)
            .await?
            .ok_or_else(|| WooError::Api {
                operation: op,
                status: Some(404),
                message: format!("order {order} does not exist"),
                retryable: false,
            })?;
        Ok(())
    }

    /// Sets order meta `{namespace}_{key}` = `value` with `PUT /orders/{id}` `meta_data`,
    /// unless it already has that value.
    async fn set_order_metafield(
        &self,
        order: &OrderId,
        namespace: &str,
        key: &str,
        value: &str,
    ) -> Result<(), Error> {
        let op = format!("set meta {namespace}_{key} on order {order}");
        let path = format!("orders/{}", enc(order.as_str()));
        let meta_key = format!("{namespace}_{key}");
        let resource = self
            .body_of(&path, &op)
            .await?
            .ok_or_else(|| WooError::Api {
                operation: op.clone(),
                status: Some(404),
                message: format!("order {order} does not exist"),
                retryable: false,
            })?;
        let meta = serde_json::from_slice::<MetaOnly<'_>>(&resource)
            .map_err(|e| decode_error(&op, e))?
            .meta_data;
        let current = convert::meta::<Value>(&meta, &meta_key);
        if current.as_ref().and_then(Value::as_str) == Some(value) {
            return Ok(());
        }
        let body = json!({ "meta_data": [{ "key": meta_key, "value": value }] });
        self.fetch(Method::PUT, self.api_url(&path)?, Some(&body), &op)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_compare_as_text() {
        assert_eq!(
            note_text("<p>NPS 3: late &amp; broken</p>\n"),
            "NPS 3: late & broken"
        );
        assert_eq!(note_text("NPS 3:  late & broken"), "NPS 3: late & broken");
        assert_ne!(note_text("NPS 3: late"), note_text("NPS 4: late"));
    }

    #[test]
    fn the_date_query_gets_gmt_without_an_offset() {
        let t: DateTime<Utc> = "2026-11-01T08:00:59.900Z".parse().unwrap_or_default();
        assert_eq!(wp_gmt(t), "2026-11-01T08:00:59");
    }
}
