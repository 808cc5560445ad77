//! The sandbox shop as a BigCommerce store: its webhooks as BigCommerce sends them (thin
//! payloads signed with Standard Webhooks and the app's client secret) and, with the
//! feature `api`, the v2/v3 API those webhooks are hydrated from, served from the sandbox's
//! records, so a BigCommerce adapter runs with no store.
//!
//! Shapes follow BigCommerce's docs (bigcommerce/docs `docs/integrations/webhooks/`,
//! `reference/orders.v2.oas2.yml`, `customers.v3.yml`): webhook bodies
//! `{scope, store_id, data:{type,id}, hash, created_at, producer:"stores/{hash}"}`; v2 orders
//! with `status_id`, money as decimal strings with four places, dates in RFC 2822; shipments
//! with `tracking_number`, `shipping_provider`, `tracking_carrier`, `tracking_link`.
//!
//! BigCommerce reports no carrier events: a fulfillment is a shipment
//! (`store/shipment/created`) and the order's status becomes Shipped (2).

use aftercare::webhook::{Scheme, Secret, Verifier};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha1::{Digest as _, Sha1};

use crate::shop::{SandboxShop, SimAddress, SimCustomer, SimFulfillment, SimOrder};
use crate::webhook::{Delivery, Topic};

/// Minor units as BigCommerce's v2 decimal strings (four places: `"24.9900"`).
pub fn money4(minor: i64, currency: &str) -> String {
    let exp = aftercare::money::currency_exponent(currency);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let div = 10u64.pow(exp);
    let frac = (abs % div) * 10u64.pow(4 - exp.min(4));
    format!("{sign}{}.{frac:04}", abs / div)
}

fn rfc2822(t: DateTime<Utc>) -> String {
    t.to_rfc2822()
}

/// The BigCommerce status of a sandbox order: `(status_id, status)`.
pub fn status(o: &SimOrder, fulfillments: &[SimFulfillment]) -> (u32, &'static str) {
    let shipped = fulfillments
        .iter()
        .filter(|f| f.status == "success")
        .count();
    if o.cancelled_at.is_some() {
        (5, "Cancelled")
    } else if shipped > 0 {
        let lines: u32 = o.line_items.iter().map(|l| l.quantity).sum();
        let sent: u32 = fulfillments
            .iter()
            .filter(|f| f.status == "success")
            .flat_map(|f| f.line_items.iter().map(|(_, q)| *q))
            .sum();
        if sent >= lines {
            (2, "Shipped")
        } else {
            (3, "Partially Shipped")
        }
    } else if o.financial_status == "paid" {
        (11, "Awaiting Fulfillment")
    } else {
        (7, "Awaiting Payment")
    }
}

fn address(a: &SimAddress, email: Option<&str>) -> Value {
    json!({
        "first_name": a.first_name,
        "last_name": a.last_name,
        "company": "",
        "street_1": a.address1,
        "street_2": a.address2.clone().unwrap_or_default(),
        "city": a.city,
        "state": a.province.clone().unwrap_or_default(),
        "zip": a.zip.clone().unwrap_or_default(),
        "country": a.country,
        "country_iso2": a.country_code,
        "phone": a.phone.clone().unwrap_or_default(),
        "email": email.unwrap_or_default(),
    })
}

/// A v2 order (`GET /v2/orders/{id}`).
pub fn order(store_hash: &str, o: &SimOrder, fulfillments: &[SimFulfillment]) -> Value {
    let cur = o.currency.as_str();
    let total = money4(o.total_minor(), cur);
    let (status_id, status) = status(o, fulfillments);
    let base = format!(
        "https://api.bigcommerce.com/stores/{store_hash}/v2/orders/{}",
        o.id
    );
    json!({
        "id": o.id,
        "customer_id": o.customer_id.unwrap_or(0),
        "date_created": rfc2822(o.created_at),
        "date_modified": rfc2822(o.updated_at),
        "date_shipped": fulfillments.iter().map(|f| f.created_at).max().map(rfc2822).unwrap_or_default(),
        "status_id": status_id,
        "status": status,
        "subtotal_ex_tax": total,
        "subtotal_inc_tax": total,
        "total_ex_tax": total,
        "total_inc_tax": total,
        "items_total": o.line_items.iter().map(|l| l.quantity).sum::<u32>(),
        "payment_status": if o.financial_status == "paid" { "captured" } else { "" },
        "currency_code": cur,
        "default_currency_code": cur,
        "customer_locale": o.locale,
        "staff_notes": o.note.clone().unwrap_or_default(),
        "customer_message": "",
        "billing_address": o.shipping_address.as_ref().map_or_else(|| json!({"email": o.email}), |a| address(a, o.email.as_deref())),
        "products": { "url": format!("{base}/products"), "resource": format!("/orders/{}/products", o.id) },
        "shipping_addresses": { "url": format!("{base}/shipping_addresses"), "resource": format!("/orders/{}/shipping_addresses", o.id) },
        "external_id": null,
        "channel_id": 1,
    })
}

/// A v2 order's products (`GET /v2/orders/{id}/products`).
pub fn products(o: &SimOrder) -> Value {
    let cur = o.currency.as_str();
    Value::Array(
        o.line_items
            .iter()
            .map(|l| {
                json!({
                    "id": l.id,
                    "order_id": o.id,
                    "product_id": l.product.product_id,
                    "variant_id": l.product.variant_id,
                    "name": l.product.title,
                    "sku": l.product.sku,
                    "quantity": l.quantity,
                    "base_price": money4(l.product.price_minor, cur),
                    "price_inc_tax": money4(l.product.price_minor, cur),
                    "total_inc_tax": money4(l.product.price_minor * i64::from(l.quantity), cur),
                    "order_address_id": 1,
                })
            })
            .collect(),
    )
}

/// A v2 shipment.
pub fn shipment(o: &SimOrder, f: &SimFulfillment) -> Value {
    let carrier = f.tracking_company.clone().unwrap_or_default();
    json!({
        "id": f.id,
        "order_id": o.id,
        "customer_id": o.customer_id.unwrap_or(0),
        "order_address_id": 1,
        "date_created": rfc2822(f.created_at),
        "tracking_number": f.tracking_number.clone().unwrap_or_default(),
        "shipping_method": "Standard",
        "shipping_provider": "",
        "tracking_carrier": carrier.to_ascii_lowercase().replace(' ', "-"),
        "tracking_link": f.tracking_url.clone().unwrap_or_default(),
        "comments": "",
        "items": f.line_items.iter().map(|(id, q)| json!({"order_product_id": id, "quantity": q})).collect::<Vec<_>>(),
    })
}

/// A v3 customer.
pub fn customer(c: &SimCustomer) -> Value {
    json!({
        "id": c.id,
        "email": c.email,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "phone": c.phone.clone().unwrap_or_default(),
        "date_created": c.created_at.to_rfc3339(),
        "date_modified": c.updated_at.to_rfc3339(),
        "accepts_product_review_abandoned_cart_emails": false,
        "channel_ids": [1],
    })
}

/// Signs and sends the sandbox's webhooks as a BigCommerce store: Standard Webhooks
/// (`webhook-id`, `webhook-timestamp`, `webhook-signature`) keyed with the raw bytes of the
/// app's client secret, thin bodies naming the store as `producer`.
#[derive(Clone, Debug)]
pub struct BigCommerceSender {
    signer: Verifier,
    store_hash: String,
    store_id: String,
}

impl BigCommerceSender {
    /// A sender for the store `store_hash`, signing with the app's `client_secret`.
    pub fn new(client_secret: &str, store_hash: impl Into<String>) -> Self {
        Self {
            signer: Verifier::new(
                Scheme::StandardWebhooks,
                Secret::from_bytes(client_secret.as_bytes()),
            ),
            store_hash: store_hash.into(),
            store_id: "1025646".into(),
        }
    }

    /// The store hash.
    pub fn store_hash(&self) -> &str {
        &self.store_hash
    }

    /// A thin delivery of `scope` for `data`, standing for the sandbox topic `origin`.
    pub fn sign(&self, origin: Topic, scope: &str, data: Value, at: DateTime<Utc>) -> Delivery {
        let hash = hex::encode(Sha1::digest(data.to_string().as_bytes()));
        let body = json!({
            "scope": scope,
            "store_id": self.store_id,
            "data": data,
            "hash": hash,
            "created_at": at.timestamp(),
            "producer": format!("stores/{}", self.store_hash),
        });
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let signed = self.signer.sign(&body, at);
        let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        headers.extend(
            signed
                .iter()
                .map(|(n, v)| (n.to_owned(), String::from_utf8_lossy(v).into_owned())),
        );
        let id = signed.get_str("webhook-id").unwrap_or_default().to_owned();
        Delivery {
            topic: origin,
            headers,
            body,
            event_id: id.clone(),
            webhook_id: id,
            triggered_at: at,
        }
    }

    /// The BigCommerce deliveries standing for a sandbox delivery, signed now (the shop's
    /// clock: Standard Webhooks signs the sending time, checked within 5 minutes); none where
    /// BigCommerce sends nothing (carrier events; privacy topics).
    pub fn translate(&self, shop: &SandboxShop, d: &Delivery) -> Vec<Delivery> {
        let json = d.json();
        let at = shop.now();
        let order = |id: Option<u64>, scope: &str| {
            id.map(|id| self.sign(d.topic, scope, json!({"type": "order", "id": id}), at))
        };
        let out =
            match d.topic {
                Topic::OrdersCreate => order(json["id"].as_u64(), "store/order/created"),
                Topic::OrdersPaid
                | Topic::OrdersUpdated
                | Topic::OrdersCancelled
                | Topic::OrdersFulfilled => order(json["id"].as_u64(), "store/order/statusUpdated"),
                Topic::FulfillmentsCreate => json["id"]
                    .as_u64()
                    .zip(json["order_id"].as_u64())
                    .map(|(id, o)| {
                        self.sign(
                            d.topic,
                            "store/shipment/created",
                            json!({"type": "shipment", "id": id, "orderId": o}),
                            at,
                        )
                    }),
                Topic::FulfillmentsUpdate => json["id"]
                    .as_u64()
                    .zip(json["order_id"].as_u64())
                    .map(|(id, o)| {
                        self.sign(
                            d.topic,
                            "store/shipment/updated",
                            json!({"type": "shipment", "id": id, "orderId": o}),
                            at,
                        )
                    }),
                Topic::CustomersUpdate => json["id"].as_u64().map(|id| {
                    self.sign(
                        d.topic,
                        "store/customer/updated",
                        json!({"type": "customer", "id": id}),
                        at,
                    )
                }),
                Topic::AppUninstalled => Some(self.sign(
                    d.topic,
                    "store/app/uninstalled",
                    json!({"type": "app", "id": 0}),
                    at,
                )),
                _ => None,
            };
        out.into_iter().collect()
    }
}

/// The store's API as BigCommerce serves it (feature `api`): `GET
/// /stores/{hash}/v2/orders/{id}`, `…/products`, `…/shipments`, `GET /stores/{hash}/v2/orders`
/// (with `min_date_modified`, `page`, `limit`; `204` past the last page), `GET
/// /stores/{hash}/v3/customers?id:in=…`, from the sandbox's records. It checks
/// `X-Auth-Token` and sends the quota headers (`X-Rate-Limit-*`) with a generous quota.
#[cfg(feature = "api")]
pub fn api_router(
    shop: std::sync::Arc<SandboxShop>,
    store_hash: &str,
    token: &str,
) -> axum::Router {
    use axum::extract::{Path, Query, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use std::collections::HashMap;
    use std::sync::Arc;

    #[derive(Clone)]
    struct Api {
        shop: Arc<SandboxShop>,
        hash: Arc<str>,
        token: Arc<str>,
    }

    fn authorized(api: &Api, headers: &HeaderMap) -> bool {
        headers
            .get("x-auth-token")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t == &*api.token)
    }

    fn reply(status: StatusCode, body: Option<Value>) -> Response {
        let quota = [
            ("X-Rate-Limit-Requests-Quota", "150"),
            ("X-Rate-Limit-Requests-Left", "149"),
            ("X-Rate-Limit-Time-Window-Ms", "30000"),
            ("X-Rate-Limit-Time-Reset-Ms", "30000"),
        ];
        match body {
            Some(b) => (status, quota, axum::Json(b)).into_response(),
            None => (status, quota).into_response(),
        }
    }

    async fn one_order(
        State(api): State<Api>,
        Path((hash, id, what)): Path<(String, u64, String)>,
        headers: HeaderMap,
    ) -> Response {
        if hash != *api.hash || !authorized(&api, &headers) {
            return reply(
                StatusCode::UNAUTHORIZED,
                Some(json!([{"status": 401, "message": "You have not been authorized"}])),
            );
        }
        let Some(o) = api.shop.order_record(id) else {
            return reply(
                StatusCode::NOT_FOUND,
                Some(json!([{"status": 404, "message": "The requested resource was not found."}])),
            );
        };
        let fs = api.shop.fulfillments_of(id);
        let body = match what.as_str() {
            "" => order(&api.hash, &o, &fs),
            "products" => products(&o),
            "shipments" => Value::Array(fs.iter().map(|f| shipment(&o, f)).collect()),
            _ => return reply(StatusCode::NOT_FOUND, None),
        };
        reply(StatusCode::OK, Some(body))
    }

    async fn order_only(
        state: State<Api>,
        Path((hash, id)): Path<(String, u64)>,
        headers: HeaderMap,
    ) -> Response {
        one_order(state, Path((hash, id, String::new())), headers).await
    }

    async fn orders(
        State(api): State<Api>,
        Path(hash): Path<String>,
        Query(q): Query<HashMap<String, String>>,
        headers: HeaderMap,
    ) -> Response {
        if hash != *api.hash || !authorized(&api, &headers) {
            return reply(StatusCode::UNAUTHORIZED, None);
        }
        let since = q.get("min_date_modified").and_then(|s| {
            DateTime::parse_from_rfc2822(s)
                .ok()
                .map(|t| t.with_timezone(&Utc))
                .or_else(|| s.parse().ok())
        });
        let page: usize = q
            .get("page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(1)
            .max(1);
        let limit: usize = q
            .get("limit")
            .and_then(|p| p.parse().ok())
            .unwrap_or(50)
            .clamp(1, 250);
        let mut all: Vec<SimOrder> = api
            .shop
            .order_ids()
            .into_iter()
            .filter_map(|id| api.shop.order_record(id))
            .filter(|o| since.is_none_or(|s| o.updated_at >= s))
            .collect();
        all.sort_by_key(|o| (o.updated_at, o.id));
        let rows: Vec<Value> = all
            .iter()
            .skip((page - 1) * limit)
            .take(limit)
            .map(|o| order(&api.hash, o, &api.shop.fulfillments_of(o.id)))
            .collect();
        if rows.is_empty() {
            return reply(StatusCode::NO_CONTENT, None);
        }
        reply(StatusCode::OK, Some(Value::Array(rows)))
    }

    async fn customers(
        State(api): State<Api>,
        Path(hash): Path<String>,
        Query(q): Query<HashMap<String, String>>,
        headers: HeaderMap,
    ) -> Response {
        if hash != *api.hash || !authorized(&api, &headers) {
            return reply(StatusCode::UNAUTHORIZED, None);
        }
        let ids: Vec<u64> = q
            .get("id:in")
            .map(|s| s.split(',').filter_map(|i| i.trim().parse().ok()).collect())
            .unwrap_or_default();
        let data: Vec<Value> = ids
            .into_iter()
            .filter_map(|id| api.shop.customer_record(id))
            .map(|c| customer(&c))
            .collect();
        let n = data.len();
        reply(
            StatusCode::OK,
            Some(
                json!({ "data": data, "meta": { "pagination": { "total": n, "count": n, "per_page": 50, "current_page": 1, "total_pages": 1 } } }),
            ),
        )
    }

    axum::Router::new()
        .route("/stores/{hash}/v2/orders", get(orders))
        .route("/stores/{hash}/v2/orders/{id}", get(order_only))
        .route("/stores/{hash}/v2/orders/{id}/{what}", get(one_order))
        .route("/stores/{hash}/v3/customers", get(customers))
        .with_state(Api {
            shop,
            hash: store_hash.into(),
            token: token.into(),
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use aftercare::webhook::RawHeaders;

    #[test]
    fn money_has_four_places_in_every_currency() {
        assert_eq!(money4(2499, "USD"), "24.9900");
        assert_eq!(money4(1500, "JPY"), "1500.0000");
        assert_eq!(money4(12345, "KWD"), "12.3450");
        assert_eq!(money4(-5, "EUR"), "-0.0500");
    }

    /// Signed as Standard Webhooks with the client secret's bytes: the sdk's verifier with
    /// the same key accepts it, and the body names the store.
    #[test]
    fn deliveries_verify_with_the_client_secret() {
        let s = BigCommerceSender::new("client-secret", "abc123");
        let d = s.sign(
            Topic::OrdersCreate,
            "store/order/created",
            json!({"type": "order", "id": 250}),
            Utc::now(),
        );
        let v = Verifier::new(
            Scheme::StandardWebhooks,
            Secret::from_bytes(b"client-secret".to_vec()),
        );
        let h = RawHeaders::from_pairs(d.headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())));
        assert!(v.verify(&h, &d.body, Utc::now()).is_ok());
        let j = d.json();
        assert_eq!(j["producer"], "stores/abc123");
        assert_eq!(j["data"]["id"], 250);
        assert_eq!(j["hash"].as_str().unwrap().len(), 40);
    }
}
