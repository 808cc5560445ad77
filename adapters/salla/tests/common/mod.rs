//! Shared pieces of the Salla tests: fixtures, a configured source and client, and a
//! stand-in of the Admin API and the OAuth endpoint.
#![allow(dead_code)]

pub mod salla;

use std::sync::Arc;
use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare::platform::token::{MemoryTokens, TokenCipher, TokenHolder, TokenSet, TokenStore};
use aftercare::webhook::Secret;
use aftercare_salla::{SallaApi, SallaClient, SallaConfig, SallaRefresher, SallaWebhooks};

/// The store of the fixtures.
pub const MERCHANT: &str = "1234509876";
/// Another store.
pub const OTHER: &str = "987654321";
/// The webhook secret.
pub const SECRET: &str = "salla-webhook-s3cret";
/// The access token the stand-in accepts at first.
pub const ACCESS: &str = "access-0";
/// Its refresh token.
pub const REFRESH: &str = "refresh-0";

/// A fixture's bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A fixture as JSON.
pub fn fixture_json(name: &str) -> serde_json::Value {
    serde_json::from_slice(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The source bound to [`MERCHANT`] with the Signature strategy.
pub fn source() -> SallaWebhooks {
    SallaWebhooks::builder(MERCHANT)
        .signature(Secret::from(SECRET))
        .build()
        .unwrap()
}

/// A token holder for [`MERCHANT`] refreshing at the stand-in `base`.
pub fn holder(base: &str, store: Arc<dyn TokenStore>, cipher: TokenCipher) -> Arc<TokenHolder> {
    let refresher = SallaRefresher::new("client-id", Secret::from("client-secret"))
        .unwrap()
        .token_url(format!("{base}/oauth2/token").parse().unwrap());
    Arc::new(TokenHolder::new(
        format!("salla:{MERCHANT}"),
        store,
        cipher,
        Arc::new(refresher),
    ))
}

/// A client of the stand-in at `base` with quick retries.
pub fn client(base: &str, tokens: Arc<TokenHolder>) -> SallaClient {
    let cfg = SallaConfig::new()
        .base_url(format!("{base}/admin/v2/").parse().unwrap())
        .retry_policy(RetryPolicy::new(
            Duration::from_millis(5),
            Duration::from_millis(20),
            3,
        ));
    SallaClient::new(cfg, tokens).unwrap()
}

/// The API of [`MERCHANT`] at the stand-in `base`, with a valid token installed.
pub async fn api(base: &str) -> SallaApi {
    let tokens = holder(base, Arc::new(MemoryTokens::new()), TokenCipher::generate());
    tokens
        .install(TokenSet::new(
            ACCESS,
            Some(REFRESH.into()),
            Some(chrono::Utc::now() + chrono::Duration::days(14)),
        ))
        .await
        .unwrap();
    SallaApi::new(client(base, tokens), MERCHANT.into(), "ar")
}
