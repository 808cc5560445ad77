//! The Admin API v2 client: the store's bearer token from a [`TokenHolder`] (refreshed once
//! on expiry or a `401`), timeouts, retries, the per-store leaky bucket announced in
//! `X-RateLimit-*` headers and `Retry-After` on `429`.

use std::sync::Arc;
use std::time::Duration;

use aftercare::Error;
use aftercare::backoff::RetryPolicy;
use aftercare::platform::limits::{QuotaGate, QuotaHeaders, ResetUnit, retry_after};
use aftercare::platform::token::{
    AccessToken, RefreshError, TokenHolder, TokenRefresher, TokenSet,
};
use aftercare::webhook::Secret;
use async_trait::async_trait;
use chrono::Utc;
use reqwest::Method;
use reqwest::header::{ACCEPT, ACCEPT_LANGUAGE, AUTHORIZATION, HeaderValue};
use serde_json::Value;
use url::Url;

use crate::error::SallaError;
use crate::payload::ErrorPayload;

/// The Admin API's base URL.
pub const API_BASE: &str = "https://api.salla.dev/admin/v2/";
/// Salla's OAuth token endpoint (refresh grant).
pub const TOKEN_URL: &str = "https://accounts.salla.sa/oauth2/token";
/// The largest page the Admin API serves (`per_page` ≤ 60).
pub const MAX_PAGE_SIZE: u32 = 60;

/// Salla's rate-limit headers: `X-RateLimit-Limit`, `X-RateLimit-Remaining`,
/// `X-RateLimit-Reset` (the Unix time the bucket has room again) — docs.salla.dev "Rate
/// Limiting". The bucket leaks 1 request a second; its size is the plan's (120 Plus, 360
/// Pro, 720 Special, per minute).
pub const QUOTA_HEADERS: QuotaHeaders = QuotaHeaders::new(
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    ResetUnit::EpochSeconds,
);

/// How to reach one store's Admin API.
#[derive(Clone, Debug)]
pub struct SallaConfig {
    pub(crate) base: Url,
    pub(crate) timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_throttled: u32,
    pub(crate) page_size: u32,
    pub(crate) language: String,
    pub(crate) reserve: u64,
}

impl Default for SallaConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl SallaConfig {
    /// The defaults: `https://api.salla.dev/admin/v2/`, 30 s timeout, 4 tries, pages of 60,
    /// `Accept-Language: ar`.
    pub fn new() -> Self {
        Self {
            base: Url::parse(API_BASE).unwrap_or_else(|_| unreachable!("a valid constant URL")),
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::new(Duration::from_millis(500), Duration::from_secs(30), 4),
            max_throttled: 5,
            page_size: MAX_PAGE_SIZE,
            language: "ar".into(),
            reserve: 0,
        }
    }

    /// Another base URL (a stand-in in tests). A missing trailing `/` is added.
    pub fn base_url(mut self, mut base: Url) -> Self {
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        self.base = base;
        self
    }

    /// The timeout of each request.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The retry policy for 5xx, timeouts and network errors (idempotent requests only).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The page size, at most [`MAX_PAGE_SIZE`] (larger values are lowered to it).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// The `Accept-Language` of requests (`ar` or `en`).
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.language = language.into();
        self
    }

    /// Requests of each bucket left unused (other apps of the store share it).
    pub fn reserve(mut self, reserve: u64) -> Self {
        self.reserve = reserve;
        self
    }
}

/// A client of one store's Admin API.
#[derive(Clone)]
pub struct SallaClient {
    pub(crate) cfg: SallaConfig,
    http: reqwest::Client,
    tokens: Arc<TokenHolder>,
    gate: Arc<QuotaGate>,
}

impl std::fmt::Debug for SallaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SallaClient")
            .field("base", &self.cfg.base.as_str())
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

/// What an API call answered: the JSON, or `None` for a `404`.
pub(crate) type Answer = Option<Value>;

fn api_error(operation: &str, status: Option<u16>, message: String, retryable: bool) -> Error {
    SallaError::Api {
        operation: operation.to_owned(),
        status,
        message,
        retryable,
    }
    .into()
}

impl SallaClient {
    /// A client using the store's tokens in `tokens`.
    pub fn new(cfg: SallaConfig, tokens: Arc<TokenHolder>) -> Result<Self, SallaError> {
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| SallaError::Config(format!("HTTP client: {}", e.without_url())))?;
        let gate = Arc::new(QuotaGate::new(cfg.reserve));
        Ok(Self {
            cfg,
            http,
            tokens,
            gate,
        })
    }

    /// The token holder.
    pub fn tokens(&self) -> &Arc<TokenHolder> {
        &self.tokens
    }

    pub(crate) fn url(&self, path: &str, query: &[(&str, String)]) -> Result<Url, Error> {
        let mut url = self
            .cfg
            .base
            .join(path)
            .map_err(|e| Error::Config(format!("Salla URL `{path}`: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// Sends a request, with the token, the bucket, retries and one refresh after a `401`.
    /// Non-idempotent requests are not retried once they may have reached Salla.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        operation: &str,
    ) -> Result<Answer, Error> {
        let idempotent = method != Method::POST;
        let mut failures = 0u32;
        let mut throttled = 0u32;
        let mut refreshed = false;
        let mut token: AccessToken = self.tokens.access_token().await?;
        loop {
            self.gate.acquire().await;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .header(ACCEPT, "application/json")
                .header(ACCEPT_LANGUAGE, self.cfg.language.as_str());
            let mut auth = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .map_err(|_| Error::Config("the Salla access token is not header text".into()))?;
            auth.set_sensitive(true);
            req = req.header(AUTHORIZATION, auth);
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    let reached = !e.is_connect();
                    failures += 1;
                    if (idempotent || !reached) && self.cfg.retry.may_retry(failures) {
                        tracing::debug!(
                            operation,
                            attempt = failures,
                            "Salla request failed; retrying"
                        );
                        tokio::time::sleep(self.cfg.retry.delay(failures, None)).await;
                        continue;
                    }
                    return Err(api_error(
                        operation,
                        None,
                        e.without_url().to_string(),
                        true,
                    ));
                }
            };
            let status = resp.status().as_u16();
            let now = Utc::now();
            let headers = resp.headers().clone();
            let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
            let quota = QUOTA_HEADERS.read(get, now);
            self.gate.observe(&quota);
            let wait = get("retry-after").and_then(|v| retry_after(v, now));
            let text = resp.text().await.unwrap_or_default();
            match status {
                200..=299 => {
                    if text.trim().is_empty() {
                        return Ok(Some(Value::Null));
                    }
                    return serde_json::from_str(&text).map(Some).map_err(|e| {
                        SallaError::decode(format!("Salla answer to {operation}"), e).into()
                    });
                }
                404 => return Ok(None),
                401 if !refreshed => {
                    refreshed = true;
                    token = self.tokens.refresh_after_unauthorized(&token).await?;
                    continue;
                }
                429 => {
                    throttled += 1;
                    let wait = wait
                        .or(quota.reset_after)
                        .unwrap_or_else(|| self.cfg.retry.delay(throttled, None));
                    self.gate.throttled(wait);
                    if throttled <= self.cfg.max_throttled {
                        tracing::debug!(operation, ?wait, "Salla answered 429; waiting");
                        continue;
                    }
                    return Err(api_error(operation, Some(429), "rate limited".into(), true));
                }
                500..=599 => {
                    failures += 1;
                    if idempotent && self.cfg.retry.may_retry(failures) {
                        tokio::time::sleep(self.cfg.retry.delay(failures, wait)).await;
                        continue;
                    }
                    return Err(api_error(operation, Some(status), message(&text), true));
                }
                _ => {
                    return Err(api_error(operation, Some(status), message(&text), false));
                }
            }
        }
    }
}

fn message(text: &str) -> String {
    let p: ErrorPayload = serde_json::from_str(text).unwrap_or_default();
    match p.error {
        Some(e) => {
            let code = e.code.map(|c| c.to_string()).unwrap_or_default();
            format!("{code}: {}", e.message.unwrap_or_default())
        }
        None => text.chars().take(200).collect(),
    }
}

/// Exchanges a store's refresh token at Salla's OAuth endpoint (`grant_type=refresh_token`
/// with the app's client id and secret). Salla's refresh tokens are single-use: the
/// [`TokenHolder`] stores the new one before the new access token is used.
pub struct SallaRefresher {
    http: reqwest::Client,
    url: Url,
    client_id: String,
    client_secret: Secret,
}

impl std::fmt::Debug for SallaRefresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SallaRefresher")
            .field("url", &self.url.as_str())
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl SallaRefresher {
    /// A refresher for the app `client_id` / `client_secret`, at [`TOKEN_URL`].
    pub fn new(client_id: impl Into<String>, client_secret: Secret) -> Result<Self, SallaError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| SallaError::Config(format!("HTTP client: {}", e.without_url())))?;
        Ok(Self {
            http,
            url: Url::parse(TOKEN_URL).unwrap_or_else(|_| unreachable!("a valid constant URL")),
            client_id: client_id.into(),
            client_secret,
        })
    }

    /// Another token endpoint (a stand-in in tests).
    pub fn token_url(mut self, url: Url) -> Self {
        self.url = url;
        self
    }
}

#[derive(serde::Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    /// Seconds from now (OAuth 2's `expires_in`).
    #[serde(default)]
    expires_in: Option<i64>,
    /// The Unix time it expires (Salla's `expires`, as in `app.store.authorize`).
    #[serde(default)]
    expires: Option<i64>,
}

#[async_trait]
impl TokenRefresher for SallaRefresher {
    async fn refresh(&self, refresh_token: &str) -> Result<TokenSet, RefreshError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", self.client_id.as_str()),
            (
                "client_secret",
                &String::from_utf8_lossy(self.client_secret.expose()),
            ),
        ];
        let failed = |status: Option<u16>, message: String, retryable: bool| {
            RefreshError::Failed(api_error(
                "refresh the access token",
                status,
                message,
                retryable,
            ))
        };
        let resp = self
            .http
            .post(self.url.clone())
            .header(ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| failed(None, e.without_url().to_string(), true))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let code = body
            .get("error")
            .and_then(|e| e.as_str().or_else(|| e.get("code").and_then(Value::as_str)))
            .unwrap_or_default()
            .to_owned();
        if status == 401 || code == "invalid_grant" {
            return Err(RefreshError::Revoked(format!(
                "Salla refused the refresh token (HTTP {status}{})",
                if code.is_empty() {
                    String::new()
                } else {
                    format!(", {code}")
                }
            )));
        }
        if !(200..300).contains(&status) {
            let retryable = status == 429 || status >= 500;
            return Err(failed(Some(status), message(&text), retryable));
        }
        let answer: TokenAnswer = serde_json::from_value(body.get("data").cloned().unwrap_or(body))
            .map_err(|e| failed(Some(status), format!("not a token answer: {e}"), true))?;
        let now = Utc::now();
        let expires_at = answer
            .expires_in
            .map(|s| now + chrono::Duration::seconds(s))
            .or_else(|| {
                answer
                    .expires
                    .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            });
        Ok(TokenSet::new(
            answer.access_token,
            answer.refresh_token,
            expires_at,
        ))
    }
}
