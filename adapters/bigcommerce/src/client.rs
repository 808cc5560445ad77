//! The REST client: `https://api.bigcommerce.com/stores/{store_hash}/v2|v3/...` with
//! `X-Auth-Token`, paced by the store-wide quota BigCommerce announces in its
//! `X-Rate-Limit-*` headers ("API rate limits" page).

use std::sync::Arc;
use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare::platform::limits::{QuotaGate, QuotaHeaders};
use aftercare::webhook::Secret;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::error::BigCommerceError;

/// The API gateway (`servers` of every OpenAPI file in bigcommerce/docs `reference/`).
pub const API_ROOT: &str = "https://api.bigcommerce.com/";

/// How to reach one store's API.
///
/// ```
/// use aftercare_bigcommerce::BigCommerceConfig;
/// let cfg = BigCommerceConfig::new("abc123", "access-token-xyz").page_size(100);
/// // The token never shows in Debug output.
/// assert!(!format!("{cfg:?}").contains("access-token-xyz"));
/// ```
#[derive(Clone, Debug)]
pub struct BigCommerceConfig {
    store_hash: String,
    access_token: Secret,
    base_url: Option<Url>,
    retry: RetryPolicy,
    page_size: u32,
    timeout: Duration,
    quota_reserve: u64,
    max_throttled: u32,
}

impl BigCommerceConfig {
    /// A store (its store hash, the `{store_hash}` of API paths) and an access token.
    pub fn new(store_hash: impl Into<String>, access_token: impl Into<Secret>) -> Self {
        Self {
            store_hash: store_hash.into(),
            access_token: access_token.into(),
            base_url: None,
            retry: RetryPolicy::new(Duration::from_millis(500), Duration::from_secs(10), 3),
            page_size: 250,
            timeout: Duration::from_secs(30),
            quota_reserve: 0,
            max_throttled: 10,
        }
    }

    /// Sends requests to `base` (`http://127.0.0.1:8080/`) instead of
    /// `https://api.bigcommerce.com/`; the paths (`stores/{store_hash}/v2/...`) stay. For
    /// tests against a stand-in.
    pub fn base_url(mut self, base: Url) -> Self {
        self.base_url = Some(base);
        self
    }

    /// Retries of 5xx answers and network errors inside one call (bounded, exponential
    /// backoff). A call that still fails returns a retryable error: from the inbox, the entry
    /// is retried later with the inbox's own backoff. Default: 3 attempts from 0.5 s.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Orders per page of `updated_since` (1 to 250, the documented maximum; default 250).
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, 250);
        self
    }

    /// Per-request timeout (default 30 s).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Requests of each quota window left unused (the quota is shared by every app on the
    /// store; default 0).
    pub fn quota_reserve(mut self, n: u64) -> Self {
        self.quota_reserve = n;
        self
    }

    /// How many `429`s one call waits out before it returns a retryable error (default 10;
    /// each wait is BigCommerce's `X-Rate-Limit-Time-Reset-Ms`, at most a 30 s window).
    pub fn max_throttled(mut self, n: u32) -> Self {
        self.max_throttled = n;
        self
    }

    /// The store hash.
    pub fn store_hash(&self) -> &str {
        &self.store_hash
    }

    pub(crate) fn page_size_value(&self) -> u32 {
        self.page_size
    }
}

/// Checks that a store hash can be put into a URL path: letters and digits only.
pub(crate) fn valid_store_hash(h: &str) -> bool {
    !h.is_empty() && h.len() <= 64 && h.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A response the caller reads.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// A client for one store's API. Cheap to clone; clones share the connection pool and the
/// quota gate, so every task using the client stays within the store's quota.
///
/// - Every request first passes the [`QuotaGate`]: it goes only while the last announced
///   `X-Rate-Limit-Requests-Left` (less the requests sent since) is above the reserve, else it
///   waits for `X-Rate-Limit-Time-Reset-Ms`.
/// - A `429` with the headers waits `X-Rate-Limit-Time-Reset-Ms` and retries; a `429`
///   without them (platform load, per the docs) backs off exponentially.
/// - 5xx and network errors (timeouts included) retry with the retry policy, then return a
///   retryable error. A `POST` is not retried after a network error or a 5xx (it may have
///   been applied).
#[derive(Clone, Debug)]
pub struct BigCommerceClient {
    http: reqwest::Client,
    cfg: Arc<BigCommerceConfig>,
    root: Url,
    gate: Arc<QuotaGate>,
}

impl BigCommerceClient {
    /// A client from a configuration.
    pub fn new(cfg: BigCommerceConfig) -> Result<Self, BigCommerceError> {
        if !valid_store_hash(&cfg.store_hash) {
            return Err(BigCommerceError::Config(format!(
                "`{}` is not a store hash (letters and digits, as in `stores/{{store_hash}}`)",
                cfg.store_hash
            )));
        }
        let base = match &cfg.base_url {
            Some(u) => u.clone(),
            None => Url::parse(API_ROOT)
                .map_err(|e| BigCommerceError::Config(format!("API root: {e}")))?,
        };
        let mut base = base;
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let root = base
            .join(&format!("stores/{}/", cfg.store_hash))
            .map_err(|e| BigCommerceError::Config(format!("bad base URL: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .user_agent(concat!("aftercare-bigcommerce/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BigCommerceError::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            gate: Arc::new(QuotaGate::new(cfg.quota_reserve)),
            cfg: Arc::new(cfg),
            root,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &BigCommerceConfig {
        &self.cfg
    }

    /// The store hash.
    pub fn store_hash(&self) -> &str {
        &self.cfg.store_hash
    }

    /// The quota gate every request of this client (and its clones) passes.
    pub fn quota_gate(&self) -> &QuotaGate {
        &self.gate
    }

    /// The URL of a path under `stores/{store_hash}/` (`v2/orders/250`).
    pub fn url(&self, path: &str) -> Result<Url, BigCommerceError> {
        self.root
            .join(path.trim_start_matches('/'))
            .map_err(|e| BigCommerceError::Config(format!("bad API path `{path}`: {e}")))
    }

    /// Sends one request (paced, retried as described on [`BigCommerceClient`]) and returns
    /// the status and body of any answer that is not a 429, 5xx or other error; `404` is
    /// returned too, for callers to read as "not found".
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Response, BigCommerceError> {
        let mut url = self.url(path)?;
        if !query.is_empty() {
            // Keys as the docs write them (`id:in`, `min_date_modified`): they are the
            // adapter's own literals; values form-encoded (`+` of a time zone → `%2B`).
            let q = query
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{k}={}",
                        url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                    )
                })
                .collect::<Vec<_>>()
                .join("&");
            url.set_query(Some(&q));
        }
        let operation = || format!("{method} /{}", path.trim_start_matches('/'));
        let retry_failures = method != Method::POST;
        let mut failures: u32 = 0;
        let mut throttled: u32 = 0;
        loop {
            self.gate.acquire().await;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .header("X-Auth-Token", token_header(&self.cfg.access_token)?)
                .header("Accept", "application/json");
            if let Some(b) = body {
                req = req.json(b);
            }
            let sent = req.send().await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    failures += 1;
                    if retry_failures && self.cfg.retry.may_retry(failures) {
                        tokio::time::sleep(self.cfg.retry.delay(failures, None)).await;
                        continue;
                    }
                    return Err(BigCommerceError::Api {
                        operation: operation(),
                        status: None,
                        message: format!("{e} (after {failures} attempts)"),
                        retryable: true,
                    });
                }
            };
            let status = resp.status().as_u16();
            let quota = {
                let h = resp.headers();
                QuotaHeaders::BIGCOMMERCE.read(
                    |name| h.get(name).and_then(|v| v.to_str().ok()),
                    chrono::Utc::now(),
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
                    return Err(BigCommerceError::Api {
                        operation: operation(),
                        status: Some(status),
                        message: format!("reading the response failed: {e}"),
                        retryable: true,
                    });
                }
            };
            if status == 429 {
                throttled += 1;
                if throttled > self.cfg.max_throttled {
                    return Err(BigCommerceError::Api {
                        operation: operation(),
                        status: Some(429),
                        message: format!("still throttled after {} waits", throttled - 1),
                        retryable: true,
                    });
                }
                // With the headers: the window's reset. Without them BigCommerce is under
                // load ("API rate limits": back off and retry later): exponential backoff.
                let wait = quota
                    .reset_after
                    .unwrap_or_else(|| self.cfg.retry.delay(throttled, None));
                tracing::debug!(op = %operation(), ?wait, "BigCommerce answered 429; waiting");
                self.gate.throttled(wait);
                continue;
            }
            if status >= 500 {
                failures += 1;
                if retry_failures && self.cfg.retry.may_retry(failures) {
                    tokio::time::sleep(self.cfg.retry.delay(failures, None)).await;
                    continue;
                }
                return Err(BigCommerceError::Api {
                    operation: operation(),
                    status: Some(status),
                    message: format!("{} (after {failures} attempts)", error_text(&bytes)),
                    retryable: true,
                });
            }
            if status >= 400 && status != 404 {
                return Err(BigCommerceError::Api {
                    operation: operation(),
                    status: Some(status),
                    message: error_text(&bytes),
                    retryable: false,
                });
            }
            return Ok(Response {
                status,
                body: bytes,
            });
        }
    }

    /// GETs a resource; `None` when BigCommerce answers 404 (or 204).
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Option<T>, BigCommerceError> {
        let r = self.call(Method::GET, path, query, None).await?;
        if r.status == 404 || r.status == 204 || r.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice(&r.body)
            .map(Some)
            .map_err(|e| BigCommerceError::decode(format!("GET /{path}"), e))
    }

    /// GETs a v2 list: `204 No Content` or an empty body is an empty list; `None` on 404.
    pub(crate) async fn get_list<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Option<Vec<T>>, BigCommerceError> {
        let r = self.call(Method::GET, path, query, None).await?;
        if r.status == 404 {
            return Ok(None);
        }
        if r.status == 204 || r.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Some(Vec::new()));
        }
        serde_json::from_slice(&r.body)
            .map(Some)
            .map_err(|e| BigCommerceError::decode(format!("GET /{path}"), e))
    }

    /// Sends a body (`PUT`, `POST`) and decodes the answer; a 404 is an error here.
    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &Value,
    ) -> Result<T, BigCommerceError> {
        let r = self.call(method.clone(), path, &[], Some(body)).await?;
        if r.status == 404 {
            return Err(BigCommerceError::Api {
                operation: format!("{method} /{path}"),
                status: Some(404),
                message: error_text(&r.body),
                retryable: false,
            });
        }
        serde_json::from_slice(&r.body)
            .map_err(|e| BigCommerceError::decode(format!("{method} /{path}"), e))
    }
}

fn token_header(token: &Secret) -> Result<reqwest::header::HeaderValue, BigCommerceError> {
    let mut v = reqwest::header::HeaderValue::from_bytes(token.expose()).map_err(|_| {
        BigCommerceError::Config("the access token has characters not allowed in a header".into())
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// BigCommerce's error text: v3 `{"status","title","type","errors"}`, v2
/// `[{"status":404,"message":"..."}]`, or the raw text.
pub(crate) fn error_text(bytes: &[u8]) -> String {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.get("message").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("; "),
        Ok(v) => {
            let title = v.get("title").and_then(Value::as_str);
            let errors = v
                .get("errors")
                .filter(|e| !e.is_null())
                .map(Value::to_string);
            match (title, errors) {
                (Some(t), Some(e)) if e != "{}" && e != "[]" => format!("{t}: {e}"),
                (Some(t), _) => t.to_owned(),
                _ => v.to_string().chars().take(500).collect(),
            }
        }
        Err(_) => {
            let text = String::from_utf8_lossy(bytes);
            let t = text.trim();
            if t.is_empty() {
                "no error text in the response".to_owned()
            } else {
                t.chars().take(500).collect()
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn store_hash_check() {
        assert!(valid_store_hash("abc123"));
        assert!(!valid_store_hash("abc/../x"));
        assert!(!valid_store_hash(""));
        assert!(BigCommerceClient::new(BigCommerceConfig::new("a b", "t")).is_err());
    }

    #[test]
    fn urls_follow_the_documented_servers() {
        let c = BigCommerceClient::new(BigCommerceConfig::new("abc123", "t")).unwrap();
        assert_eq!(
            c.url("v2/orders/250").unwrap().as_str(),
            "https://api.bigcommerce.com/stores/abc123/v2/orders/250"
        );
        let c = BigCommerceClient::new(
            BigCommerceConfig::new("abc123", "t").base_url("http://127.0.0.1:9/".parse().unwrap()),
        )
        .unwrap();
        assert_eq!(
            c.url("/v3/hooks").unwrap().as_str(),
            "http://127.0.0.1:9/stores/abc123/v3/hooks"
        );
    }

    #[test]
    fn error_texts() {
        assert_eq!(
            error_text(br#"[{"status":404,"message":"The requested resource was not found."}]"#),
            "The requested resource was not found."
        );
        assert_eq!(
            error_text(br#"{"status":422,"title":"JSON data is missing or invalid","type":"/api-docs/getting-started/api-status-codes","errors":{"destination":"error.path.missing."}}"#),
            r#"JSON data is missing or invalid: {"destination":"error.path.missing."}"#
        );
        assert_eq!(error_text(b""), "no error text in the response");
    }
}
