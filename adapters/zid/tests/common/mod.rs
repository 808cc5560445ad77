//! Shared pieces of the Zid tests: fixtures, a configured source and client, and a
//! stand-in of the Merchant API.
#![allow(dead_code)]

pub mod zid;

use std::sync::Arc;
use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare::platform::token::{MemoryTokens, TokenCipher, TokenHolder, TokenSet};
use aftercare::webhook::Secret;
use aftercare_zid::{BasicCredentials, ZidApi, ZidClient, ZidConfig, ZidRefresher, ZidWebhooks};

/// The store of the fixtures.
pub const STORE: &str = "251073";
/// Another store.
pub const OTHER: &str = "3";
/// The partner token.
pub const PARTNER: &str = "partner-token";
/// The store's manager token at first, and its refresh token.
pub const MANAGER: &str = "manager-0";
pub const REFRESH: &str = "refresh-0";

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn fixture_json(name: &str) -> serde_json::Value {
    serde_json::from_slice(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The credentials the store's webhooks were created with.
pub fn credentials(store: &str) -> BasicCredentials {
    BasicCredentials::new(
        "aftercare",
        Secret::from(format!("hook-pass-{store}").as_str()),
    )
    .unwrap()
}

/// The source bound to [`STORE`].
pub fn source() -> ZidWebhooks {
    ZidWebhooks::builder(STORE)
        .credentials(credentials(STORE))
        .build()
        .unwrap()
}

/// A client of the stand-in at `base`, quick retries, `pace` requests per `window`.
pub async fn api_paced(base: &str, pace: (u32, Duration)) -> ZidApi {
    let refresher = ZidRefresher::new("client-id", Secret::from("client-secret"))
        .unwrap()
        .token_url(format!("{base}/oauth/token").parse().unwrap());
    let tokens = Arc::new(TokenHolder::new(
        format!("zid:{STORE}"),
        Arc::new(MemoryTokens::new()),
        TokenCipher::generate(),
        Arc::new(refresher),
    ));
    tokens
        .install(TokenSet::new(MANAGER, Some(REFRESH.into()), None))
        .await
        .unwrap();
    let cfg = ZidConfig::new(Secret::from(PARTNER))
        .base_url(format!("{base}/v1/").parse().unwrap())
        .pace(pace.0, pace.1)
        .retry_policy(RetryPolicy::new(
            Duration::from_millis(5),
            Duration::from_millis(20),
            3,
        ));
    ZidApi::new(ZidClient::new(cfg, tokens).unwrap(), STORE.into(), "ar")
}

/// A client of the stand-in at `base`.
pub async fn api(base: &str) -> ZidApi {
    api_paced(base, (1000, Duration::from_secs(1))).await
}
