//! The Merchant API client: the two-header authentication (the partner's `Authorization`
//! identifies the app, the store's `X-Manager-Token` the store — the latter from a
//! [`TokenHolder`], refreshed once on expiry or a `401`), `Accept-Language: ar|en`,
//! timeouts, retries, a client-side pace under Zid's 60 requests a minute per app and
//! store (a leaky bucket that throttles, then refuses, docs.zid.sa "Rate Limiting"), and
//! `Retry-After` on `429`.

use std::sync::Arc;
use std::time::Duration;

use aftercare::Error;
use aftercare::backoff::RetryPolicy;
use aftercare::platform::limits::{QuotaGate, retry_after};
use aftercare::platform::token::{
    AccessToken, RefreshError, TokenHolder, TokenRefresher, TokenSet,
};
use aftercare::ratelimit::{RateLimit, SlidingWindow};
use aftercare::webhook::Secret;
use async_trait::async_trait;
use chrono::Utc;
use reqwest::Method;
use reqwest::header::{ACCEPT, ACCEPT_LANGUAGE, AUTHORIZATION, HeaderValue};
use serde_json::Value;
use url::Url;

use crate::error::ZidError;

/// The Merchant API's base URL.
pub const API_BASE: &str = "https://api.zid.sa/v1/";
/// Zid's OAuth token endpoint.
pub const TOKEN_URL: &str = "https://oauth.zid.sa/oauth/token";
/// The store token's header.
pub const MANAGER_TOKEN_HEADER: &str = "X-Manager-Token";
/// Zid's limit: requests a minute per app and store.
pub const REQUESTS_PER_MINUTE: u32 = 60;

/// How to reach one store's Merchant API.
#[derive(Clone)]
pub struct ZidConfig {
    pub(crate) base: Url,
    partner_token: Secret,
    pub(crate) timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_throttled: u32,
    pub(crate) language: String,
    pub(crate) page_size: u32,
    pace: Arc<dyn RateLimit>,
}

impl std::fmt::Debug for ZidConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZidConfig")
            .field("base", &self.base.as_str())
            .field("language", &self.language)
            .finish_non_exhaustive()
    }
}

impl ZidConfig {
    /// The app's partner token (sent as `Authorization: Bearer …`), with the defaults:
    /// `https://api.zid.sa/v1/`, 30 s timeout, 4 tries, `Accept-Language: ar`, pages of 50,
    /// and a pace of 50 requests a minute (below Zid's 60, leaving room for the app's
    /// other work on the store).
    pub fn new(partner_token: Secret) -> Self {
        Self {
            base: Url::parse(API_BASE).unwrap_or_else(|_| unreachable!("a valid constant URL")),
            partner_token,
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::new(Duration::from_millis(500), Duration::from_secs(30), 4),
            max_throttled: 5,
            language: "ar".into(),
            page_size: 50,
            pace: Arc::new(SlidingWindow::new(50, Duration::from_secs(60))),
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

    /// At most `requests` per `window` (Zid allows 60 a minute).
    pub fn pace(mut self, requests: u32, window: Duration) -> Self {
        self.pace = Arc::new(SlidingWindow::new(requests.max(1), window));
        self
    }

    /// The retry policy for 5xx, timeouts and network errors (idempotent requests only).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The `Accept-Language` of requests (`ar` or `en`).
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.language = language.into();
        self
    }

    /// The page size of order lists.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size.max(1);
        self
    }

    /// The timeout of each request.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// A client of one store's Merchant API.
#[derive(Clone)]
pub struct ZidClient {
    pub(crate) cfg: ZidConfig,
    http: reqwest::Client,
    tokens: Arc<TokenHolder>,
    gate: Arc<QuotaGate>,
}

impl std::fmt::Debug for ZidClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZidClient")
            .field("cfg", &self.cfg)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

fn api_error(operation: &str, status: Option<u16>, message: String, retryable: bool) -> Error {
    ZidError::Api {
        operation: operation.to_owned(),
        status,
        message,
        retryable,
    }
    .into()
}

fn message(text: &str) -> String {
    let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let m = v
        .get("message")
        .and_then(|m| {
            m.as_str().map(str::to_owned).or_else(|| {
                m.get("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
        })
        .or_else(|| v.get("error").and_then(Value::as_str).map(str::to_owned));
    m.unwrap_or_else(|| text.chars().take(200).collect())
}

impl ZidClient {
    /// A client using the store's manager token in `tokens`.
    pub fn new(cfg: ZidConfig, tokens: Arc<TokenHolder>) -> Result<Self, ZidError> {
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| ZidError::Config(format!("HTTP client: {}", e.without_url())))?;
        Ok(Self {
            cfg,
            http,
            tokens,
            gate: Arc::new(QuotaGate::new(0)),
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
            .map_err(|e| Error::Config(format!("Zid URL `{path}`: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// Sends a request with both tokens, the pace, retries and one refresh after a `401`;
    /// `None` for a `404`. A `POST` that may have reached Zid is not retried.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        operation: &str,
    ) -> Result<Option<Value>, Error> {
        let idempotent = method != Method::POST;
        let (mut failures, mut throttled, mut refreshed) = (0u32, 0u32, false);
        let mut token: AccessToken = self.tokens.access_token().await?;
        loop {
            self.gate.acquire().await;
            self.cfg.pace.acquire().await;
            let mut partner = HeaderValue::from_str(&format!(
                "Bearer {}",
                String::from_utf8_lossy(self.cfg.partner_token.expose())
            ))
            .map_err(|_| Error::Config("the Zid partner token is not header text".into()))?;
            partner.set_sensitive(true);
            let mut manager = HeaderValue::from_str(token.expose())
                .map_err(|_| Error::Config("the Zid manager token is not header text".into()))?;
            manager.set_sensitive(true);
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .header(ACCEPT, "application/json")
                .header(ACCEPT_LANGUAGE, self.cfg.language.as_str())
                .header(AUTHORIZATION, partner)
                .header(MANAGER_TOKEN_HEADER, manager);
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    failures += 1;
                    if (idempotent || e.is_connect()) && self.cfg.retry.may_retry(failures) {
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
            let wait = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, Utc::now()));
            let text = resp.text().await.unwrap_or_default();
            match status {
                200..=299 => {
                    if text.trim().is_empty() {
                        return Ok(Some(Value::Null));
                    }
                    return serde_json::from_str(&text).map(Some).map_err(|e| {
                        ZidError::decode(format!("Zid answer to {operation}"), e).into()
                    });
                }
                404 => return Ok(None),
                401 if !refreshed => {
                    refreshed = true;
                    token = self.tokens.refresh_after_unauthorized(&token).await?;
                }
                429 => {
                    throttled += 1;
                    let wait = wait.unwrap_or_else(|| self.cfg.retry.delay(throttled, None));
                    self.gate.throttled(wait);
                    if throttled > self.cfg.max_throttled {
                        return Err(api_error(operation, Some(429), "rate limited".into(), true));
                    }
                }
                500..=599 => {
                    failures += 1;
                    if !(idempotent && self.cfg.retry.may_retry(failures)) {
                        return Err(api_error(operation, Some(status), message(&text), true));
                    }
                    tokio::time::sleep(self.cfg.retry.delay(failures, wait)).await;
                }
                _ => return Err(api_error(operation, Some(status), message(&text), false)),
            }
        }
    }
}

/// Exchanges the store's refresh token at Zid's OAuth endpoint (`grant_type=refresh_token`
/// with the app's client id and secret); the answer's `access_token` is the store's
/// `X-Manager-Token`.
pub struct ZidRefresher {
    http: reqwest::Client,
    url: Url,
    client_id: String,
    client_secret: Secret,
}

impl std::fmt::Debug for ZidRefresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZidRefresher")
            .field("url", &self.url.as_str())
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl ZidRefresher {
    /// A refresher for the app `client_id` / `client_secret`, at [`TOKEN_URL`].
    pub fn new(client_id: impl Into<String>, client_secret: Secret) -> Result<Self, ZidError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ZidError::Config(format!("HTTP client: {}", e.without_url())))?;
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

#[async_trait]
impl TokenRefresher for ZidRefresher {
    async fn refresh(&self, refresh_token: &str) -> Result<TokenSet, RefreshError> {
        let secret = String::from_utf8_lossy(self.client_secret.expose()).into_owned();
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", self.client_id.as_str()),
            ("client_secret", secret.as_str()),
        ];
        let failed = |status: Option<u16>, m: String, retryable: bool| {
            RefreshError::Failed(api_error("refresh the store token", status, m, retryable))
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
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let code = v
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if status == 401 || code == "invalid_grant" {
            return Err(RefreshError::Revoked(format!(
                "Zid refused the refresh token (HTTP {status}{})",
                if code.is_empty() {
                    String::new()
                } else {
                    format!(", {code}")
                }
            )));
        }
        if !(200..300).contains(&status) {
            return Err(failed(
                Some(status),
                message(&text),
                status == 429 || status >= 500,
            ));
        }
        let access = v
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| failed(Some(status), "no access_token in the answer".into(), true))?;
        let refresh = v
            .get("refresh_token")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let expires_at = v
            .get("expires_in")
            .and_then(Value::as_i64)
            .map(|s| Utc::now() + chrono::Duration::seconds(s));
        Ok(TokenSet::new(access, refresh, expires_at))
    }
}
