//! Shared pieces of the Magento tests: fixtures, key pairs, a configured source and client,
//! and a stand-in of the Magento REST API.
#![allow(dead_code)]

pub mod magento;
pub mod world;

use std::sync::OnceLock;
use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare_magento::{Auth, CommerceWebhooks, MagentoClient, MagentoConfig, OAuth1, TestSigner};

/// The store of the fixtures.
pub const STORE: &str = "https://shop.example/";
/// Another store (another Commerce instance, with its own key pair).
pub const OTHER_STORE: &str = "https://other-shop.example/";
/// The integration's credentials (System → Extensions → Integrations).
pub const CONSUMER_KEY: &str = "ck-7a1c3e5f9b2d4680";
pub const CONSUMER_SECRET: &str = "cs-secret-0f1e2d3c4b5a6978";
pub const ACCESS_TOKEN: &str = "at-9b8a7c6d5e4f3a2b";
pub const TOKEN_SECRET: &str = "ts-secret-1a2b3c4d5e6f7a8b";

/// A fixture's bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A fixture as JSON.
pub fn fixture_json(name: &str) -> serde_json::Value {
    serde_json::from_slice(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The store's key pair (generated once per test binary, as *Regenerate key pair* does;
/// 1024 bits rather than Commerce's 2048 because key generation is slow in debug builds).
pub fn store_key() -> &'static TestSigner {
    static KEY: OnceLock<TestSigner> = OnceLock::new();
    KEY.get_or_init(|| TestSigner::generate(1024).unwrap())
}

/// Another instance's key pair.
pub fn other_key() -> &'static TestSigner {
    static KEY: OnceLock<TestSigner> = OnceLock::new();
    KEY.get_or_init(|| TestSigner::generate(1024).unwrap())
}

/// The webhook source bound to [`STORE`] with its public key.
pub fn source() -> CommerceWebhooks {
    CommerceWebhooks::builder(STORE)
        .public_key(store_key().public_pem())
        .build()
        .unwrap()
}

/// The integration's OAuth credentials.
pub fn oauth() -> OAuth1 {
    OAuth1::new(CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, TOKEN_SECRET)
}

/// A configuration for [`STORE`] sending to `base` (a stand-in), with quick retries.
pub fn config(base: &str) -> MagentoConfig {
    MagentoConfig::new(STORE, Auth::OAuth1(oauth()))
        .unwrap()
        .base_url(base.parse().unwrap())
        .retry_policy(RetryPolicy::new(
            Duration::from_millis(5),
            Duration::from_millis(20),
            3,
        ))
        .unpaced()
}

/// A client of the stand-in at `base`.
pub fn client(base: &str) -> MagentoClient {
    MagentoClient::new(config(base)).unwrap()
}
