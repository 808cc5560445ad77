//! What the Admin API tests share: the GraphQL path, the recorded fixtures and a client
//! pointed at a mock server with short retries.

use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare_shopify::{ShopifyClient, ShopifyConfig};
use serde_json::Value;
use wiremock::MockServer;

/// The Admin GraphQL endpoint of the API version the client speaks.
pub const GQL_PATH: &str = "/admin/api/2026-10/graphql.json";

/// `tests/fixtures/{name}`, parsed.
pub fn fixture(name: &str) -> Value {
    serde_json::from_slice(
        &std::fs::read(format!(
            "{}/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap()
}

/// A client for `demo.myshopify.com` at `server`, retrying 3 times within 10–50 ms.
pub fn client(server: &MockServer) -> ShopifyClient {
    ShopifyClient::new(
        ShopifyConfig::new("demo.myshopify.com", "shpat_secret_token")
            .base_url(url::Url::parse(&server.uri()).unwrap())
            .retry_policy(RetryPolicy::new(
                Duration::from_millis(10),
                Duration::from_millis(50),
                3,
            )),
    )
    .unwrap()
}
