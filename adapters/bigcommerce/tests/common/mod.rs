//! Shared pieces of the tests: fixtures (documented shapes, see `fixtures/README.md`), the
//! source and client configured for the test store, and a wiremock stand-in of the store's
//! API serving the documented responses.
#![allow(dead_code)]

pub mod standin;

use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare::store::InboxEntry;
use aftercare::webhook::{Secret, VerifiedWebhook, WebhookRequest, WebhookSource};
use aftercare_bigcommerce::{BigCommerceClient, BigCommerceConfig, BigCommerceWebhooks};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The test store's hash (the `stores/abc123` of `webhooks.v3.yml`'s examples).
pub const STORE: &str = "abc123";
/// Another store.
pub const OTHER_STORE: &str = "zzz999";
/// A client secret shaped like BigCommerce's (32 lowercase letters and digits — also valid
/// base64, which is what makes the raw-bytes key testable).
pub const SECRET: &str = "t3sqhdtvtn2ma6zydivx0wz8zl7fn0q4";

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

pub fn json_fixture(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).unwrap()
}

pub fn source() -> BigCommerceWebhooks {
    BigCommerceWebhooks::new(Secret::from(SECRET), STORE)
}

/// A retry policy fast enough for tests (3 attempts, 5–10 ms apart).
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy::new(Duration::from_millis(10), Duration::from_millis(20), 3)
}

pub fn config(server: &MockServer) -> BigCommerceConfig {
    BigCommerceConfig::new(STORE, "test-token")
        .base_url(server.uri().parse().unwrap())
        .retry_policy(fast_retry())
        .timeout(Duration::from_secs(2))
}

pub fn client(server: &MockServer) -> BigCommerceClient {
    BigCommerceClient::new(config(server)).unwrap()
}

/// The API path of the test store: `/stores/abc123/{rest}`.
pub fn api(rest: &str) -> String {
    format!("/stores/{STORE}/{}", rest.trim_start_matches('/'))
}

/// A callback body as documented, with `data.id` (and `data.orderId` for shipments) set.
pub fn callback(fixture_name: &str, id: Value, order_id: Option<Value>) -> Vec<u8> {
    let mut v = json_fixture(fixture_name);
    v["data"]["id"] = id;
    if let Some(o) = order_id {
        v["data"]["orderId"] = o;
    }
    serde_json::to_vec(&v).unwrap()
}

/// The documented order (`order_Resp` example) as order `id`.
pub fn order_json(id: &str, status_id: u32, currency: &str, total: &str) -> Value {
    let mut o = json_fixture("api_order.json");
    o["id"] = serde_json::from_str(id).unwrap_or(Value::String(id.into()));
    o["status_id"] = json!(status_id);
    o["currency_code"] = json!(currency);
    o["default_currency_code"] = json!(currency);
    o["total_inc_tax"] = json!(total);
    o
}

/// The documented shipments of an order (`orderShipmentCollection_Resp` example), moved to
/// order `order_id`; the first keeps id 6.
pub fn shipments_json(order_id: &str) -> Value {
    let mut list = json_fixture("api_order_shipments.json");
    for s in list.as_array_mut().unwrap() {
        s["order_id"] = serde_json::from_str(order_id).unwrap();
    }
    list
}

/// The documented products (`orderProductsCollection_Resp` example) of order `order_id`.
pub fn products_json(order_id: &str) -> Value {
    let mut list = json_fixture("api_order_products.json");
    for p in list.as_array_mut().unwrap() {
        p["order_id"] = serde_json::from_str(order_id).unwrap();
    }
    list
}

/// The documented customer collection (`GetCustomerCollectionResponse`), the customer given
/// id `id` (the example has none).
pub fn customers_json(id: &str) -> Value {
    let mut c = json_fixture("api_customers.json");
    c["data"][0]["id"] = serde_json::from_str(id).unwrap();
    c["data"][0]["date_modified"] = json!("2026-03-01T10:00:00Z");
    c
}

/// Mounts `GET {path}` answering `body` with 200.
pub async fn get_ok(server: &MockServer, p: &str, body: Value) {
    Mock::given(method("GET"))
        .and(path(api(p)))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

/// Mounts the order `id` with its products and shipments (empty list: `204 No Content`).
pub async fn mount_order(server: &MockServer, id: &str, order: Value, shipments: Value) {
    get_ok(server, &format!("v2/orders/{id}"), order).await;
    get_ok(
        server,
        &format!("v2/orders/{id}/products"),
        products_json(id),
    )
    .await;
    if shipments.as_array().is_some_and(Vec::is_empty) {
        Mock::given(method("GET"))
            .and(path(api(&format!("v2/orders/{id}/shipments"))))
            .respond_with(ResponseTemplate::new(204))
            .mount(server)
            .await;
    } else {
        get_ok(server, &format!("v2/orders/{id}/shipments"), shipments).await;
    }
}

/// An inbox entry as the pipeline stores it.
pub fn entry(v: VerifiedWebhook, body: &[u8]) -> InboxEntry {
    let now = Utc::now();
    {
        let mut entry = InboxEntry::from_verified(1, "bigcommerce", v, body.to_vec(), now);
        entry.attempts = 1;
        entry
    }
}

/// Signs `body` as a hook of `scope` for the test store, verifies it and returns the entry
/// the inbox would hold.
pub fn delivered(body: &[u8], scope: &str) -> InboxEntry {
    let src = source();
    let now: DateTime<Utc> = Utc::now();
    let headers = src.sign_delivery_for_test("msg_test", now, STORE, scope, body);
    let v = src
        .verify(&WebhookRequest::new(&headers, body, now))
        .unwrap();
    entry(v, body)
}
