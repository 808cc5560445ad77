//! Shared pieces of the WooCommerce tests: fixtures, a configured source and client, and a
//! stand-in of the WooCommerce REST API.

pub mod woo;
pub mod world;

use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare::webhook::Secret;
use aftercare_woocommerce::{WooClient, WooConfig, WooWebhooks};

/// The site of the fixtures (their `_links` are on it, as in WooCommerce's docs).
pub const SITE: &str = "https://example.com/";
/// Another site.
pub const OTHER_SITE: &str = "https://other-shop.example/";
/// The webhooks' secret.
pub const SECRET: &str = "wc-webhook-s3cret";
/// The REST API key.
pub const CONSUMER_KEY: &str = "ck_4e9a8b7c6d5e4f3a2b1c";
/// The REST API secret.
pub const CONSUMER_SECRET: &str = "cs_0f1e2d3c4b5a69788796";

/// A fixture's bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A fixture as JSON.
pub fn fixture_json(name: &str) -> serde_json::Value {
    serde_json::from_slice(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The source bound to [`SITE`].
pub fn source() -> WooWebhooks {
    WooWebhooks::new(SITE, Secret::from(SECRET)).unwrap_or_else(|e| panic!("{e}"))
}

/// A configuration for [`SITE`] sending to `base` (a stand-in), with quick retries.
pub fn config(base: &str) -> WooConfig {
    WooConfig::new(SITE, CONSUMER_KEY, CONSUMER_SECRET)
        .unwrap_or_else(|e| panic!("{e}"))
        .base_url(base.parse().unwrap_or_else(|e| panic!("{e}")))
        .retry_policy(RetryPolicy::new(
            Duration::from_millis(5),
            Duration::from_millis(20),
            3,
        ))
        .unpaced()
}

/// A client of the stand-in at `base`.
pub fn client(base: &str) -> WooClient {
    WooClient::new(config(base)).unwrap_or_else(|e| panic!("{e}"))
}
