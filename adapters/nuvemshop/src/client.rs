//! The REST client: `https://api.tiendanube.com/v1/{store_id}/...` (or
//! `api.nuvemshop.com.br`), with the `Authentication: bearer` header and the mandatory
//! `User-Agent` (TiendaNube/api-docs `README.md`, "Authentication" and "Making requests"),
//! paced by the leaky bucket the API announces (`X-Rate-Limit-Limit`,
//! `X-Rate-Limit-Remaining`, `X-Rate-Limit-Reset` in milliseconds; a bucket of 40 leaking
//! 2 requests per second).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare::platform::limits::{QuotaGate, QuotaHeaders, ResetUnit, retry_after};
use aftercare::webhook::Secret;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use crate::error::NuvemshopError;

/// The API root for Spanish-speaking stores (Tiendanube); both hosts serve every store.
pub const API_ROOT: &str = "https://api.tiendanube.com/v1/";
/// The API root for Brazilian stores (Nuvemshop).
pub const API_ROOT_BR: &str = "https://api.nuvemshop.com.br/v1/";

/// Nuvemshop's quota headers (README "Rate limiting": a leaky bucket; the reset is the time
/// in milliseconds until the bucket is empty).
pub const QUOTA_HEADERS: QuotaHeaders = QuotaHeaders::new(
    "X-Rate-Limit-Limit",
    "X-Rate-Limit-Remaining",
    "X-Rate-Limit-Reset",
    ResetUnit::Milliseconds,
);

/// How to reach one store's API.
///
/// ```
/// use aftercare_nuvemshop::NuvemshopConfig;
/// let cfg = NuvemshopConfig::new("123", "token-xyz", "Aftercare (ops@example.com)").page_size(50);
/// assert!(!format!("{cfg:?}").contains("token-xyz"));
/// ```
#[derive(Clone, Debug)]
pub struct NuvemshopConfig {
    store_id: String,
    access_token: Secret,
    user_agent: String,
    base_url: Option<Url>,
    retry: RetryPolicy,
    page_size: u32,
    timeout: Duration,
    suspended_pause: Duration,
    max_throttled: u32,
}

impl NuvemshopConfig {
    /// A store (its id, the `user_id` of the authorization), its access token (Nuvemshop's
    /// tokens do not expire; they end when the app is uninstalled) and the `User-Agent` the
    /// API requires: your app's name and a contact (`MyApp (me@example.com)`).
    pub fn new(
        store_id: impl Into<String>,
        access_token: impl Into<Secret>,
        user_agent: impl Into<String>,
    ) -> Self {
        Self {
            store_id: store_id.into(),
            access_token: access_token.into(),
            user_agent: user_agent.into(),
            base_url: None,
            retry: RetryPolicy::new(Duration::from_millis(500), Duration::from_secs(10), 3),
            page_size: 200,
            timeout: Duration::from_secs(30),
            suspended_pause: Duration::from_secs(15 * 60),
            max_throttled: 10,
        }
    }

    /// Sends requests to `base` (`https://api.nuvemshop.com.br/v1/`, or a stand-in) instead
    /// of [`API_ROOT`]; the store id follows.
    pub fn base_url(mut self, base: Url) -> Self {
        self.base_url = Some(base);
        self
    }

    /// Retries of 5xx answers and network errors inside one call (default 3 attempts from
    /// 0.5 s); a call that still fails returns a retryable error.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Orders per page (1 to 200, the documented maximum; default 200).
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, 200);
        self
    }

    /// Per-request timeout (default 30 s).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// How long the client stays quiet after a `402 Payment Required` (a store whose API
    /// access is suspended for lack of payment) before it asks again (default 15 minutes;
    /// an `app/resumed` notification ends the pause at once).
    pub fn suspended_pause(mut self, d: Duration) -> Self {
        self.suspended_pause = d;
        self
    }

    /// How many `429`s one call waits out before it returns a retryable error (default 10).
    pub fn max_throttled(mut self, n: u32) -> Self {
        self.max_throttled = n;
        self
    }

    /// The store id.
    pub fn store_id(&self) -> &str {
        &self.store_id
    }

    pub(crate) fn page_size_value(&self) -> u32 {
        self.page_size
    }
}

/// A response the caller reads.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    pub body: Vec<u8>,
    pub link: Option<String>,
}

/// A client for one store's API. Cheap to clone; clones share the connection pool, the
/// quota gate and the suspension state.
///
/// - Every request passes the [`QuotaGate`], fed by the bucket headers of each answer: it
///   goes only while the bucket has room, else it waits for the bucket to drain.
/// - A `429` waits `X-Rate-Limit-Reset` (or `Retry-After`, or backs off) and retries.
/// - A `402` (the store's API access is suspended for lack of payment) **pauses** the
///   client: for [`NuvemshopConfig::suspended_pause`] every call returns a retryable error
///   at once, without a request, so a suspended store costs one request per pause instead
///   of a failure storm; the inbox retries later. [`NuvemshopClient::resume`] ends it.
/// - 5xx and network errors retry with the retry policy. A `POST` is not retried after a
///   network error or a 5xx (it may have been applied).
/// - `401` is not retried: the token is invalid or the app was uninstalled.
#[derive(Clone, Debug)]
pub struct NuvemshopClient {
    http: reqwest::Client,
    cfg: Arc<NuvemshopConfig>,
    root: Url,
    gate: Arc<QuotaGate>,
    paused_until: Arc<Mutex<Option<Instant>>>,
}

impl NuvemshopClient {
    /// A client from a configuration: the store id must be digits and the `User-Agent` must
    /// not be empty (the API answers `400` without one).
    pub fn new(cfg: NuvemshopConfig) -> Result<Self, NuvemshopError> {
        let sid = &cfg.store_id;
        if sid.is_empty() || sid.len() > 20 || !sid.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NuvemshopError::Config(format!(
                "`{sid}` is not a store id (digits: the `user_id` of the authorization)"
            )));
        }
        if cfg.user_agent.trim().is_empty() {
            return Err(NuvemshopError::Config(
                "a User-Agent naming the app and a contact is required (`MyApp (me@example.com)`)"
                    .into(),
            ));
        }
        let mut base = match &cfg.base_url {
            Some(u) => u.clone(),
            None => Url::parse(API_ROOT)
                .map_err(|e| NuvemshopError::Config(format!("API root: {e}")))?,
        };
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let root = base
            .join(&format!("{sid}/"))
            .map_err(|e| NuvemshopError::Config(format!("bad base URL: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .user_agent(cfg.user_agent.clone())
            .build()
            .map_err(|e| NuvemshopError::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            gate: Arc::new(QuotaGate::new(0)),
            cfg: Arc::new(cfg),
            root,
            paused_until: Arc::new(Mutex::new(None)),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &NuvemshopConfig {
        &self.cfg
    }

    /// The store id.
    pub fn store_id(&self) -> &str {
        &self.cfg.store_id
    }

    /// The URL of a path under the store (`orders/450789469`).
    pub fn url(&self, path: &str) -> Result<Url, NuvemshopError> {
        self.root
            .join(path.trim_start_matches('/'))
            .map_err(|e| NuvemshopError::Config(format!("bad API path `{path}`: {e}")))
    }

    /// Whether the client is paused after a `402`.
    pub fn is_paused(&self) -> bool {
        self.paused_left().is_some()
    }

    /// Ends a pause after a `402` (an `app/resumed` notification).
    pub fn resume(&self) {
        if let Ok(mut p) = self.paused_until.lock() {
            *p = None;
        }
    }

    fn paused_left(&self) -> Option<Duration> {
        let p = self.paused_until.lock().ok()?;
        let until = (*p)?;
        until
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    fn pause(&self) {
        if let Ok(mut p) = self.paused_until.lock() {
            *p = Some(Instant::now() + self.cfg.suspended_pause);
        }
    }

    /// Sends one request (paced, retried as described on [`NuvemshopClient`]) and returns
    /// any answer that is not a 402, 429, 5xx or other error; `404` is returned too.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Response, NuvemshopError> {
        let mut url = self.url(path)?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        self.send_url(
            method,
            url,
            &format!("/{}", path.trim_start_matches('/')),
            body,
        )
        .await
    }

    /// GETs an absolute URL the API gave (a `Link: rel="next"`), which must be under the
    /// store's root.
    pub(crate) async fn get_url(&self, url: &str) -> Result<Response, NuvemshopError> {
        let u = Url::parse(url).map_err(|e| NuvemshopError::decode("Link header", e))?;
        if !u.as_str().starts_with(self.root.as_str()) {
            return Err(NuvemshopError::decode(
                "Link header",
                format!("`{u}` is not under the store's API root"),
            ));
        }
        let op = format!("/{}", u.path().trim_start_matches('/'));
        self.send_url(Method::GET, u, &op, None).await
    }

    async fn send_url(
        &self,
        method: Method,
        url: Url,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Response, NuvemshopError> {
        let operation = || format!("{method} {path}");
        let retry_failures = method != Method::POST;
        let mut failures: u32 = 0;
        let mut throttled: u32 = 0;
        loop {
            if let Some(left) = self.paused_left() {
                return Err(NuvemshopError::Api {
                    operation: operation(),
                    status: Some(402),
                    message: format!(
                        "the store's API access is suspended (402 Payment Required); paused for {}s more",
                        left.as_secs()
                    ),
                    retryable: true,
                });
            }
            self.gate.acquire().await;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .header("Authentication", auth_header(&self.cfg.access_token)?)
                .header("Accept", "application/json");
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    failures += 1;
                    if retry_failures && self.cfg.retry.may_retry(failures) {
                        tokio::time::sleep(self.cfg.retry.delay(failures, None)).await;
                        continue;
                    }
                    return Err(NuvemshopError::Api {
                        operation: operation(),
                        status: None,
                        message: format!("{} (after {failures} attempts)", e.without_url()),
                        retryable: true,
                    });
                }
            };
            let status = resp.status().as_u16();
            let now = chrono::Utc::now();
            let (quota, retry, link) = {
                let h = resp.headers();
                let get = |name: &str| h.get(name).and_then(|v| v.to_str().ok());
                (
                    QUOTA_HEADERS.read(get, now),
                    get("Retry-After").and_then(|v| retry_after(v, now)),
                    get("Link").map(str::to_owned),
                )
            };
            self.gate.observe(&quota);
            let bytes = match resp.bytes().await {
                Ok(b) => b.to_vec(),
                Err(e) => {
                    failures += 1;
                    if retry_failures && self.cfg.retry.may_retry(failures) {
                        tokio::time::sleep(self.cfg.retry.delay(failures, None)).await;
                        continue;
                    }
                    return Err(NuvemshopError::Api {
                        operation: operation(),
                        status: Some(status),
                        message: format!("reading the response failed: {}", e.without_url()),
                        retryable: true,
                    });
                }
            };
            match status {
                429 => {
                    throttled += 1;
                    if throttled > self.cfg.max_throttled {
                        return Err(NuvemshopError::Api {
                            operation: operation(),
                            status: Some(429),
                            message: format!("still throttled after {} waits", throttled - 1),
                            retryable: true,
                        });
                    }
                    let wait = retry
                        .or(quota.reset_after)
                        .unwrap_or_else(|| self.cfg.retry.delay(throttled, None));
                    tracing::debug!(op = %operation(), ?wait, "Nuvemshop answered 429; waiting");
                    self.gate.throttled(wait);
                    continue;
                }
                402 => {
                    self.pause();
                    tracing::warn!(
                        store = %self.cfg.store_id,
                        pause_secs = self.cfg.suspended_pause.as_secs(),
                        "Nuvemshop answered 402: the store's API access is suspended; pausing"
                    );
                    return Err(NuvemshopError::Api {
                        operation: operation(),
                        status: Some(402),
                        message: format!(
                            "the store's API access is suspended (402 Payment Required): {}; paused for {}s",
                            error_text(&bytes),
                            self.cfg.suspended_pause.as_secs()
                        ),
                        retryable: true,
                    });
                }
                s if s >= 500 => {
                    failures += 1;
                    if retry_failures && self.cfg.retry.may_retry(failures) {
                        tokio::time::sleep(self.cfg.retry.delay(failures, None)).await;
                        continue;
                    }
                    return Err(NuvemshopError::Api {
                        operation: operation(),
                        status: Some(s),
                        message: format!("{} (after {failures} attempts)", error_text(&bytes)),
                        retryable: true,
                    });
                }
                401 => {
                    return Err(NuvemshopError::Api {
                        operation: operation(),
                        status: Some(401),
                        message: format!(
                            "the access token was refused (the app may have been uninstalled): {}",
                            error_text(&bytes)
                        ),
                        retryable: false,
                    });
                }
                s if s >= 400 && s != 404 => {
                    return Err(NuvemshopError::Api {
                        operation: operation(),
                        status: Some(s),
                        message: error_text(&bytes),
                        retryable: false,
                    });
                }
                s => {
                    return Ok(Response {
                        status: s,
                        body: bytes,
                        link,
                    });
                }
            }
        }
    }

    /// GETs a resource; `None` on 404.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Option<T>, NuvemshopError> {
        let r = self.call(Method::GET, path, query, None).await?;
        if r.status == 404 {
            return Ok(None);
        }
        decode_json(&r.body, &format!("GET /{path}")).map(Some)
    }

    /// PUTs a body; a 404 is an error here.
    pub(crate) async fn put(&self, path: &str, body: &Value) -> Result<(), NuvemshopError> {
        let r = self.call(Method::PUT, path, &[], Some(body)).await?;
        if r.status == 404 {
            return Err(NuvemshopError::Api {
                operation: format!("PUT /{path}"),
                status: Some(404),
                message: error_text(&r.body),
                retryable: false,
            });
        }
        Ok(())
    }
}

/// Decodes JSON through a [`Value`] first: the docs' own examples repeat a key (`number`
/// twice in an order), which a value map takes as the last one while a struct refuses it.
pub(crate) fn decode_json<T: DeserializeOwned>(
    bytes: &[u8],
    what: &str,
) -> Result<T, NuvemshopError> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| NuvemshopError::decode(what, e))?;
    serde_json::from_value(v).map_err(|e| NuvemshopError::decode(what, e))
}

fn auth_header(token: &Secret) -> Result<reqwest::header::HeaderValue, NuvemshopError> {
    let mut raw = b"bearer ".to_vec();
    raw.extend_from_slice(token.expose());
    let mut v = reqwest::header::HeaderValue::from_bytes(&raw).map_err(|_| {
        NuvemshopError::Config("the access token has characters not allowed in a header".into())
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// The API's error text: `{"code":404,"message":"Not Found","description":"..."}` or raw.
pub(crate) fn error_text(bytes: &[u8]) -> String {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => {
            let msg = v.get("message").and_then(Value::as_str);
            let desc = v.get("description").and_then(Value::as_str);
            match (msg, desc) {
                (Some(m), Some(d)) => format!("{m}: {d}"),
                (Some(m), None) => m.to_owned(),
                (None, Some(d)) => d.to_owned(),
                _ => v.to_string().chars().take(500).collect(),
            }
        }
        Err(_) => {
            let t = String::from_utf8_lossy(bytes)
                .trim()
                .chars()
                .take(500)
                .collect::<String>();
            if t.is_empty() {
                "no error text in the response".to_owned()
            } else {
                t
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn config_checks() {
        assert!(NuvemshopClient::new(NuvemshopConfig::new("12a", "t", "App (a@b.c)")).is_err());
        assert!(NuvemshopClient::new(NuvemshopConfig::new("123", "t", " ")).is_err());
        let c = NuvemshopClient::new(NuvemshopConfig::new("123", "t", "App (a@b.c)")).unwrap();
        assert_eq!(
            c.url("orders/450789469").unwrap().as_str(),
            "https://api.tiendanube.com/v1/123/orders/450789469"
        );
    }

    #[test]
    fn error_texts() {
        assert_eq!(
            error_text(br#"{"code":404,"message":"Not Found","description":"Last page is 0"}"#),
            "Not Found: Last page is 0"
        );
        assert_eq!(error_text(b""), "no error text in the response");
    }
}
