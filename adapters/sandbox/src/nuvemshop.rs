//! The sandbox shop as a Nuvemshop / Tiendanube store: its notifications as Nuvemshop sends
//! them (thin `{"store_id","event","id"}` bodies signed with `X-Linkedstore-HMAC-SHA256`,
//! hex HMAC-SHA256 of the body with the app's secret, plus the custom headers a webhook
//! created by the adapter's `ensure_hooks` carries) and, with the feature `api`, the REST
//! API they are hydrated from (`GET /v1/{store_id}/orders/{id}`, `…/customers/{id}`), from
//! the sandbox's records (TiendaNube/api-docs `resources/webhook.md`, `resources/order.md`).
//!
//! Nuvemshop keeps one tracking number per order and reports no carrier events: a
//! fulfillment is `order/fulfilled` and the order's `shipping_status` becomes `shipped`.

use aftercare::webhook::{Scheme, Secret, Verifier};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::shop::{SimCustomer, SimFulfillment, SimOrder};
use crate::webhook::{Delivery, Topic};

fn money(minor: i64, currency: &str) -> String {
    let exp = aftercare::money::currency_exponent(currency);
    if exp == 0 {
        return minor.to_string();
    }
    let div = 10i64.pow(exp);
    format!(
        "{}.{:0w$}",
        minor / div,
        (minor % div).abs(),
        w = exp as usize
    )
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A Nuvemshop order of a sandbox order (`resources/order.md` properties).
pub fn order(o: &SimOrder, c: Option<&SimCustomer>, fulfillments: &[SimFulfillment]) -> Value {
    let cur = o.currency.as_str();
    let shipped = fulfillments.iter().rfind(|f| f.status == "success");
    json!({
        "id": o.id,
        "number": o.order_number,
        "currency": cur,
        "total": money(o.total_minor(), cur),
        "language": o.locale.split('-').next().unwrap_or("pt"),
        "status": if o.cancelled_at.is_some() { "cancelled" } else { "open" },
        "payment_status": if o.financial_status == "paid" { "paid" } else { "pending" },
        "shipping_status": if shipped.is_some() { "shipped" } else { "unpacked" },
        "shipping_option": shipped.and_then(|f| f.tracking_company.clone()),
        "shipping_tracking_number": shipped.and_then(|f| f.tracking_number.clone()),
        "shipping_tracking_url": shipped.and_then(|f| f.tracking_url.clone()),
        "shipped_at": shipped.map(|f| iso(f.created_at)),
        "owner_note": null,
        "contact_email": o.email,
        "contact_phone": o.phone,
        "customer": c.map(customer),
        "products": o.line_items.iter().map(|l| json!({
            "id": l.id, "product_id": l.product.product_id, "variant_id": l.product.variant_id,
            "name": l.product.title, "price": money(l.product.price_minor, cur),
            "quantity": l.quantity, "sku": l.product.sku,
        })).collect::<Vec<_>>(),
        "shipping_address": o.shipping_address.as_ref().map(|a| json!({
            "name": format!("{} {}", a.first_name, a.last_name), "address": a.address1,
            "floor": a.address2, "city": a.city, "province": a.province, "zipcode": a.zip,
            "country": a.country_code, "phone": a.phone,
        })),
        "created_at": iso(o.created_at),
        "updated_at": iso(o.updated_at),
    })
}

/// A Nuvemshop customer (`resources/customer.md`).
pub fn customer(c: &SimCustomer) -> Value {
    json!({
        "id": c.id,
        "name": format!("{} {}", c.first_name, c.last_name),
        "email": c.email,
        "phone": c.phone,
        "note": null,
        "updated_at": iso(c.updated_at),
    })
}

/// Signs and sends the sandbox's notifications as a Nuvemshop store.
#[derive(Clone, Debug)]
pub struct NuvemshopSender {
    signer: Verifier,
    store_id: String,
}

impl NuvemshopSender {
    /// A sender for `store_id`, signing with the app's `app_secret`.
    pub fn new(app_secret: &str, store_id: impl Into<String>) -> Self {
        Self {
            signer: Verifier::new(
                Scheme::hmac_sha256_hex("X-Linkedstore-HMAC-SHA256"),
                Secret::from(app_secret),
            ),
            store_id: store_id.into(),
        }
    }

    /// The notification of `event` about resource `id`. `origin` is the sandbox topic it
    /// stands for.
    pub fn sign(&self, origin: Topic, event: &str, id: u64, at: DateTime<Utc>) -> Delivery {
        let body = format!(
            r#"{{"store_id":{},"event":"{event}","id":{id}}}"#,
            self.store_id
        )
        .into_bytes();
        let mut headers = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("X-Aftercare-Store-Id".to_owned(), self.store_id.clone()),
            ("X-Aftercare-Event".to_owned(), event.to_owned()),
        ];
        headers.extend(
            self.signer
                .sign(&body, at)
                .iter()
                .map(|(n, v)| (n.to_owned(), String::from_utf8_lossy(v).into_owned())),
        );
        let key = format!("nuvemshop-{event}-{id}-{}", at.timestamp_millis());
        Delivery {
            topic: origin,
            headers,
            body,
            event_id: key.clone(),
            webhook_id: key,
            triggered_at: at,
        }
    }

    /// The notification standing for a sandbox delivery; `None` where Nuvemshop sends
    /// nothing (carrier events, privacy topics of another shape).
    pub fn translate(&self, d: &Delivery) -> Option<Delivery> {
        let json = d.json();
        let at = d.triggered_at;
        let (event, id) = match d.topic {
            Topic::OrdersCreate => ("order/created", json["id"].as_u64()?),
            Topic::OrdersPaid => ("order/paid", json["id"].as_u64()?),
            Topic::OrdersUpdated => ("order/updated", json["id"].as_u64()?),
            Topic::OrdersFulfilled => ("order/fulfilled", json["id"].as_u64()?),
            Topic::OrdersCancelled => ("order/cancelled", json["id"].as_u64()?),
            Topic::FulfillmentsCreate => ("order/fulfilled", json["order_id"].as_u64()?),
            _ => return None,
        };
        Some(self.sign(d.topic, event, id, at))
    }
}

/// The store's API as Nuvemshop serves it (feature `api`): `GET /v1/{store_id}/orders/{id}`
/// and `GET /v1/{store_id}/customers/{id}` from the sandbox's records. It checks the
/// `Authentication: bearer` header and sends the leaky bucket's headers with room to spare.
#[cfg(feature = "api")]
pub fn api_router(
    shop: std::sync::Arc<crate::shop::SandboxShop>,
    store_id: &str,
    token: &str,
) -> axum::Router {
    use crate::shop::SandboxShop;
    use axum::extract::{Path, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use std::sync::Arc;

    #[derive(Clone)]
    struct Api {
        shop: Arc<SandboxShop>,
        store: Arc<str>,
        auth: Arc<str>,
    }

    fn reply(status: StatusCode, body: Value) -> Response {
        let bucket = [
            ("X-Rate-Limit-Limit", "40"),
            ("X-Rate-Limit-Remaining", "39"),
            ("X-Rate-Limit-Reset", "500"),
        ];
        (status, bucket, axum::Json(body)).into_response()
    }

    fn allowed(api: &Api, store: &str, headers: &HeaderMap) -> bool {
        store == &*api.store
            && headers
                .get("authentication")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v == &*api.auth)
    }

    async fn get_order(
        State(api): State<Api>,
        Path((store, id)): Path<(String, u64)>,
        headers: HeaderMap,
    ) -> Response {
        if !allowed(&api, &store, &headers) {
            return reply(
                StatusCode::UNAUTHORIZED,
                json!({"code": 401, "message": "Unauthorized"}),
            );
        }
        match api.shop.order_record(id) {
            Some(o) => {
                let c = o.customer_id.and_then(|id| api.shop.customer_record(id));
                reply(
                    StatusCode::OK,
                    order(&o, c.as_ref(), &api.shop.fulfillments_of(id)),
                )
            }
            None => reply(
                StatusCode::NOT_FOUND,
                json!({"code": 404, "message": "Not Found"}),
            ),
        }
    }

    async fn get_customer(
        State(api): State<Api>,
        Path((store, id)): Path<(String, u64)>,
        headers: HeaderMap,
    ) -> Response {
        if !allowed(&api, &store, &headers) {
            return reply(
                StatusCode::UNAUTHORIZED,
                json!({"code": 401, "message": "Unauthorized"}),
            );
        }
        match api.shop.customer_record(id) {
            Some(c) => reply(StatusCode::OK, customer(&c)),
            None => reply(
                StatusCode::NOT_FOUND,
                json!({"code": 404, "message": "Not Found"}),
            ),
        }
    }

    axum::Router::new()
        .route("/v1/{store}/orders/{id}", get(get_order))
        .route("/v1/{store}/customers/{id}", get(get_customer))
        .with_state(Api {
            shop,
            store: store_id.into(),
            auth: format!("bearer {token}").into(),
        })
}
