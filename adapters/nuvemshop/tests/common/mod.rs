//! What the tests share: the store and app of the docs' examples, the fixtures, a client
//! pointed at a stand-in, and the stand-ins themselves ([`standin`]).
#![allow(dead_code)]

pub mod standin;

use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare::webhook::Secret;
use aftercare_nuvemshop::{NuvemshopClient, NuvemshopConfig, NuvemshopWebhooks};
use serde_json::{Value, json};

/// The docs' store (`resources/webhook.md` example: `store_id` 123).
pub const STORE: &str = "123";
pub const OTHER_STORE: &str = "456";
/// The app's id (`app/uninstalled` carries it).
pub const APP_ID: &str = "4815";
pub const SECRET: &str = "app-secret-for-tests";
pub const USER_AGENT: &str = "Aftercare tests (dev@example.com)";

pub fn source() -> NuvemshopWebhooks {
    NuvemshopWebhooks::new(Secret::from(SECRET), APP_ID, STORE)
}

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

pub fn fast_retry() -> RetryPolicy {
    RetryPolicy::new(Duration::from_millis(5), Duration::from_millis(20), 3)
}

pub fn client(uri: &str) -> NuvemshopClient {
    NuvemshopClient::new(
        NuvemshopConfig::new(STORE, "test-token", USER_AGENT)
            .base_url(format!("{uri}/v1/").parse().unwrap())
            .retry_policy(fast_retry())
            .timeout(Duration::from_secs(2))
            .page_size(2),
    )
    .unwrap()
}

/// The API path of a store resource on the stand-in (`/v1/123/orders`).
pub fn api(rest: &str) -> String {
    format!("/v1/{STORE}/{rest}")
}

/// An order in the shape of `resources/order.md`'s example, with the given id, currency,
/// total and modification time.
pub fn order_json(id: &str, currency: &str, total: &str, updated_at: &str) -> Value {
    let mut v = json_fixture("api_order.json");
    let idv: Value = serde_json::from_str(id).unwrap_or_else(|_| json!(id));
    v["id"] = idv;
    v["currency"] = json!(currency);
    v["total"] = json!(total);
    v["updated_at"] = json!(updated_at);
    v
}
