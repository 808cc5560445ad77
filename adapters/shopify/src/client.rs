//! The Admin API client: GraphQL first, with cost-based pacing; a small REST helper for the
//! legacy API.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare::webhook::Secret;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use url::Url;

use crate::error::ShopifyError;
use crate::throttle::{
    CostBucket, LeakyBucket, ThrottleStatus, parse_call_limit, parse_retry_after,
};

/// The Admin API version used unless configured otherwise. Shopify releases a version each
/// quarter (`YYYY-MM`) and supports each for at least 12 months
/// (<https://shopify.dev/docs/api/usage/versioning>).
pub const DEFAULT_API_VERSION: &str = "2026-10";

/// Cost assumed for a query never sent before; replaced by Shopify's `requestedQueryCost`
/// after the first response.
const DEFAULT_QUERY_COST: f64 = 50.0;

/// How to reach one shop's Admin API.
///
/// ```
/// use aftercare_shopify::ShopifyConfig;
/// let cfg = ShopifyConfig::new("demo.myshopify.com", "shpat_xxx").api_version("2026-07");
/// // The token never shows in Debug output.
/// assert!(!format!("{cfg:?}").contains("shpat_xxx"));
/// ```
#[derive(Clone, Debug)]
pub struct ShopifyConfig {
    shop: String,
    access_token: Secret,
    api_version: String,
    base_url: Option<Url>,
    retry: RetryPolicy,
    bucket_max: f64,
    restore_rate: f64,
    rest_bucket: u32,
    rest_leak: f64,
    page_size: u32,
    timeout: Duration,
}

impl ShopifyConfig {
    /// A shop (`{shop}.myshopify.com`) and its Admin API access token.
    pub fn new(shop: impl Into<String>, access_token: impl Into<Secret>) -> Self {
        Self {
            shop: shop.into(),
            access_token: access_token.into(),
            api_version: DEFAULT_API_VERSION.into(),
            base_url: None,
            retry: RetryPolicy::new(Duration::from_millis(500), Duration::from_secs(30), 5),
            // Until the first response says otherwise, assume the smallest bucket Shopify
            // has documented (1000 points restoring 50/s); the figures are replaced by
            // `throttleStatus` on the first response.
            bucket_max: 1000.0,
            restore_rate: 50.0,
            rest_bucket: 40,
            rest_leak: 2.0,
            page_size: 50,
            timeout: Duration::from_secs(30),
        }
    }

    /// The Admin API version (`YYYY-MM`).
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }

    /// Sends requests to `base` (`http://127.0.0.1:8080`) instead of `https://{shop}`; for
    /// tests against a mock.
    pub fn base_url(mut self, base: Url) -> Self {
        self.base_url = Some(base);
        self
    }

    /// Retry policy for 5xx answers and network errors (bounded attempts, exponential
    /// backoff). Throttling is not bounded by it: a throttled request always waits and retries.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Initial guess of the GraphQL bucket (size, points restored per second), before
    /// Shopify's first figures arrive.
    pub fn initial_cost_bucket(mut self, max: f64, restore_rate: f64) -> Self {
        self.bucket_max = max;
        self.restore_rate = restore_rate;
        self
    }

    /// REST leaky bucket: size and requests leaked per second (40 and 2 on Standard; 4/s on
    /// Advanced, 20/s on Plus).
    pub fn rest_bucket(mut self, size: u32, leak_per_sec: f64) -> Self {
        self.rest_bucket = size;
        self.rest_leak = leak_per_sec;
        self
    }

    /// Orders fetched per page by `updated_since` (1 to 250).
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, 250);
        self
    }

    /// Per-request timeout.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// The shop domain.
    pub fn shop(&self) -> &str {
        &self.shop
    }
}

/// Checks that `shop` is a bare host name (letters, digits, dots, hyphens), so it can be put
/// into a URL without redirecting requests elsewhere.
pub(crate) fn valid_shop_host(shop: &str) -> bool {
    !shop.is_empty()
        && shop.len() <= 255
        && !shop.starts_with(['.', '-'])
        && shop
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

/// A client for one shop's Admin API. Cheap to clone; clones share the connection pool and
/// the rate-limit models.
///
/// ```no_run
/// use aftercare::platform::{OrderSource, OrderAnnotator};
/// use aftercare_shopify::{ShopifyClient, ShopifyConfig, AFTERCARE_TOPICS};
/// use futures::StreamExt;
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let shop = ShopifyClient::new(ShopifyConfig::new("demo.myshopify.com", "shpat_…"))?;
/// shop.ensure_webhooks("https://app.example.com/webhooks/shopify", AFTERCARE_TOPICS).await?;
/// let since = chrono::Utc::now() - chrono::Duration::days(7);
/// let mut orders = shop.updated_since(since);
/// while let Some(order) = orders.next().await {
///     let order = order?;
///     for s in shop.shipments(&order.id).await? {
///         println!("{} {:?} {:?}", order.number, s.status, s.tracking_numbers);
///     }
/// }
/// shop.add_order_tags(&"450789469".into(), &["aftercare:nps-sent".into()]).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ShopifyClient {
    http: reqwest::Client,
    cfg: Arc<ShopifyConfig>,
    root: Url,
    cost: CostBucket,
    rest: LeakyBucket,
    estimates: Arc<Mutex<HashMap<&'static str, f64>>>,
}

#[derive(Deserialize)]
struct GqlResponse {
    data: Option<Value>,
    #[serde(default)]
    errors: Option<Value>,
    extensions: Option<GqlExtensions>,
}

#[derive(Deserialize)]
struct GqlExtensions {
    cost: Option<GqlCost>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GqlCost {
    requested_query_cost: Option<f64>,
    actual_query_cost: Option<f64>,
    throttle_status: Option<ThrottleStatus>,
}

/// A page of a REST list and the link to the next one.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RestPage {
    /// The JSON body.
    pub body: Value,
    /// The `rel="next"` URL of the `Link` header, if there is a next page.
    pub next: Option<String>,
}

impl ShopifyClient {
    /// A client from a configuration.
    pub fn new(cfg: ShopifyConfig) -> Result<Self, ShopifyError> {
        if !valid_shop_host(&cfg.shop) {
            return Err(ShopifyError::Config(format!(
                "`{}` is not a shop domain; give the `{{shop}}.myshopify.com` host name",
                cfg.shop
            )));
        }
        let root = match &cfg.base_url {
            Some(u) => u.clone(),
            None => Url::parse(&format!("https://{}/", cfg.shop))
                .map_err(|e| ShopifyError::Config(format!("bad shop domain: {e}")))?,
        };
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .user_agent(concat!("aftercare-shopify/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ShopifyError::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            cost: CostBucket::new(cfg.bucket_max, cfg.restore_rate),
            rest: LeakyBucket::new(cfg.rest_bucket, cfg.rest_leak),
            cfg: Arc::new(cfg),
            root,
            estimates: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ShopifyConfig {
        &self.cfg
    }

    pub(crate) fn page_size(&self) -> u32 {
        self.cfg.page_size
    }

    /// The shared GraphQL cost model (e.g. to inspect it).
    pub fn cost_bucket(&self) -> &CostBucket {
        &self.cost
    }

    /// The URL of an Admin API path under `/admin/api/{version}/`.
    pub fn api_url(&self, path: &str) -> Result<Url, ShopifyError> {
        self.root
            .join(&format!(
                "admin/api/{}/{}",
                self.cfg.api_version,
                path.trim_start_matches('/')
            ))
            .map_err(|e| ShopifyError::Config(format!("bad API path `{path}`: {e}")))
    }

    /// The `requestedQueryCost` Shopify last reported for `op`, per unit asked (see
    /// [`ShopifyClient::graphql_units`]); `None` before its first answer.
    pub(crate) fn learned_cost(&self, op: &'static str) -> Option<f64> {
        self.estimates
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(op)
            .copied()
    }

    fn remember(&self, op: &'static str, cost: f64) {
        self.estimates
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(op, cost);
    }

    /// Runs a GraphQL query or mutation and decodes `data` into `T`.
    ///
    /// `op` names the query for cost estimation (queries of one name are assumed to cost
    /// what they cost last time). The request waits until the local cost model has room;
    /// a `THROTTLED` answer (HTTP 200 with `errors[].extensions.code == "THROTTLED"`, or a
    /// 429) waits `(requestedQueryCost - currentlyAvailable) / restoreRate` seconds and
    /// retries, without limit; 5xx and network errors are retried with exponential backoff
    /// up to the retry policy's attempts; other errors are returned with Shopify's text.
    pub async fn graphql<T: DeserializeOwned>(
        &self,
        op: &'static str,
        query: &str,
        variables: Value,
    ) -> Result<T, ShopifyError> {
        self.graphql_units(op, query, variables, 1, DEFAULT_QUERY_COST)
            .await
    }

    /// [`ShopifyClient::graphql`] for a query asking `units` alike items at once (the ids of
    /// a `nodes` query): the cost model reserves `units ×` the cost per unit (Shopify's last
    /// `requestedQueryCost` for `op` divided by the units it was asked for, else
    /// `per_unit_guess`), and remembers the new figure per unit, so the next batch of
    /// another size is estimated (and sized) right. Throttling, retries and errors as
    /// `graphql`.
    pub(crate) async fn graphql_units<T: DeserializeOwned>(
        &self,
        op: &'static str,
        query: &str,
        variables: Value,
        units: usize,
        per_unit_guess: f64,
    ) -> Result<T, ShopifyError> {
        let units = units.max(1) as f64;
        let url = self.api_url("graphql.json")?;
        let body = json!({ "query": query, "variables": variables });
        let mut failures: u32 = 0;
        loop {
            let per_unit = self.learned_cost(op).unwrap_or(per_unit_guess);
            let reserved = self.cost.acquire(per_unit * units).await;
            let sent = self
                .http
                .post(url.clone())
                .header(
                    "X-Shopify-Access-Token",
                    token_header(&self.cfg.access_token)?,
                )
                .json(&body)
                .send()
                .await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    self.cost.release(reserved);
                    failures += 1;
                    if self.cfg.retry.may_retry(failures) {
                        tokio::time::sleep(self.cfg.retry.delay(failures, None)).await;
                        continue;
                    }
                    return Err(ShopifyError::Api {
                        operation: format!("run GraphQL `{op}`"),
                        status: None,
                        message: format!("{e} (after {failures} attempts)"),
                        retryable: true,
                    });
                }
            };
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let bytes = resp.bytes().await.unwrap_or_default();
            let parsed: Option<GqlResponse> = serde_json::from_slice(&bytes).ok();
            let cost = parsed
                .as_ref()
                .and_then(|p| p.extensions.as_ref())
                .and_then(|e| e.cost.as_ref());
            match cost.and_then(|c| c.throttle_status.as_ref()) {
                Some(ts) => self
                    .cost
                    .observe(ts, reserved, cost.and_then(|c| c.actual_query_cost)),
                None => self.cost.release(reserved),
            }
            if let Some(req) = cost.and_then(|c| c.requested_query_cost) {
                self.remember(op, req / units);
            }
            let throttled = status == 429
                || parsed
                    .as_ref()
                    .and_then(|p| p.errors.as_ref())
                    .is_some_and(has_throttled);
            if throttled {
                // With cost figures the model now holds Shopify's `currentlyAvailable` and
                // the query's `requestedQueryCost`: the next `acquire` waits exactly
                // `(cost - available) / restoreRate`. Without them, honour `Retry-After`.
                let wait = match cost.and_then(|c| c.throttle_status) {
                    Some(_) => Duration::ZERO,
                    None => retry_after.unwrap_or(Duration::from_secs(1)),
                };
                tracing::debug!(op, ?wait, "Shopify throttled a GraphQL request; waiting");
                tokio::time::sleep(wait).await;
                continue;
            }
            if status >= 500 {
                failures += 1;
                if self.cfg.retry.may_retry(failures) {
                    tokio::time::sleep(self.cfg.retry.delay(failures, retry_after)).await;
                    continue;
                }
                return Err(ShopifyError::Api {
                    operation: format!("run GraphQL `{op}`"),
                    status: Some(status),
                    message: format!("{} (after {failures} attempts)", error_text(&bytes)),
                    retryable: true,
                });
            }
            if status >= 400 {
                return Err(ShopifyError::Api {
                    operation: format!("run GraphQL `{op}`"),
                    status: Some(status),
                    message: error_text(&bytes),
                    retryable: false,
                });
            }
            let Some(parsed) = parsed else {
                return Err(ShopifyError::decode(
                    format!("GraphQL `{op}` response"),
                    "the body is not GraphQL JSON",
                ));
            };
            if let Some(errs) = parsed.errors.as_ref().filter(|e| !is_empty_json(e)) {
                return Err(ShopifyError::Api {
                    operation: format!("run GraphQL `{op}`"),
                    status: Some(status),
                    message: gql_error_text(errs),
                    retryable: false,
                });
            }
            let data = parsed.data.unwrap_or(Value::Null);
            return serde_json::from_value(data)
                .map_err(|e| ShopifyError::decode(format!("GraphQL `{op}` data"), e));
        }
    }

    /// GETs a REST Admin API path (`orders/450789469/fulfillments.json?limit=50`) or a full
    /// `Link` URL from a previous page, paced by the REST leaky bucket.
    ///
    /// The adapter itself reads and writes through GraphQL only: every field it needs exists
    /// there, and REST has been legacy since 2024-10 (new public apps must use GraphQL from
    /// 2025-04). This helper exists for integrators on older custom apps and for resources
    /// only the REST API lists.
    pub async fn rest_get(&self, path_or_url: &str) -> Result<RestPage, ShopifyError> {
        let url = if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            let u = Url::parse(path_or_url)
                .map_err(|e| ShopifyError::Config(format!("bad REST URL: {e}")))?;
            // Only follow links to the same host (a `Link` header from Shopify).
            if u.host_str() != self.root.host_str()
                || u.port_or_known_default() != self.root.port_or_known_default()
            {
                return Err(ShopifyError::Config(format!(
                    "refusing to follow a REST link to another host: {}",
                    u.host_str().unwrap_or("")
                )));
            }
            u
        } else {
            self.api_url(path_or_url)?
        };
        let operation = || format!("GET {}", url.path());
        let mut failures: u32 = 0;
        loop {
            self.rest.acquire().await;
            let sent = self
                .http
                .get(url.clone())
                .header(
                    "X-Shopify-Access-Token",
                    token_header(&self.cfg.access_token)?,
                )
                .send()
                .await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    self.rest.release();
                    failures += 1;
                    if self.cfg.retry.may_retry(failures) {
                        tokio::time::sleep(self.cfg.retry.delay(failures, None)).await;
                        continue;
                    }
                    return Err(ShopifyError::Api {
                        operation: operation(),
                        status: None,
                        message: e.to_string(),
                        retryable: true,
                    });
                }
            };
            let status = resp.status().as_u16();
            let h = resp.headers();
            match h
                .get("x-shopify-shop-api-call-limit")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_call_limit)
            {
                Some((used, size)) => self.rest.observe(used, size),
                None => self.rest.release(),
            }
            let retry_after = h
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let next = h
                .get_all("link")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(next_link);
            let bytes = resp.bytes().await.unwrap_or_default();
            if status == 429 {
                tokio::time::sleep(retry_after.unwrap_or(Duration::from_secs(1))).await;
                continue;
            }
            if status >= 500 {
                failures += 1;
                if self.cfg.retry.may_retry(failures) {
                    tokio::time::sleep(self.cfg.retry.delay(failures, retry_after)).await;
                    continue;
                }
                return Err(ShopifyError::Api {
                    operation: operation(),
                    status: Some(status),
                    message: error_text(&bytes),
                    retryable: true,
                });
            }
            if status >= 400 {
                return Err(ShopifyError::Api {
                    operation: operation(),
                    status: Some(status),
                    message: error_text(&bytes),
                    retryable: false,
                });
            }
            let body =
                serde_json::from_slice(&bytes).map_err(|e| ShopifyError::decode(operation(), e))?;
            return Ok(RestPage { body, next });
        }
    }
}

fn token_header(token: &Secret) -> Result<reqwest::header::HeaderValue, ShopifyError> {
    let mut v = reqwest::header::HeaderValue::from_bytes(token.expose()).map_err(|_| {
        ShopifyError::Config("the access token has characters not allowed in a header".into())
    })?;
    v.set_sensitive(true);
    Ok(v)
}

fn is_empty_json(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

fn has_throttled(errors: &Value) -> bool {
    errors.as_array().is_some_and(|a| {
        a.iter()
            .any(|e| e.pointer("/extensions/code").and_then(Value::as_str) == Some("THROTTLED"))
    })
}

fn gql_error_text(errors: &Value) -> String {
    match errors {
        Value::Array(a) => a
            .iter()
            .map(|e| {
                let msg = e.get("message").and_then(Value::as_str).unwrap_or("error");
                match e.pointer("/extensions/code").and_then(Value::as_str) {
                    Some(code) => format!("{msg} ({code})"),
                    None => msg.to_owned(),
                }
            })
            .collect::<Vec<_>>()
            .join("; "),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Shopify's error text from an error body: `{"errors": "..."}`, `{"errors": {...}}`,
/// `{"errors": [{"message": ...}]}` or `{"error": "...", "error_description": "..."}`.
pub(crate) fn error_text(bytes: &[u8]) -> String {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => {
            if let Some(e) = v.get("errors") {
                return gql_error_text(e);
            }
            if let Some(e) = v.get("error").and_then(Value::as_str) {
                return match v.get("error_description").and_then(Value::as_str) {
                    Some(d) => format!("{e}: {d}"),
                    None => e.to_owned(),
                };
            }
            v.to_string()
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

/// The `rel="next"` URL of a `Link` header value.
fn next_link(value: &str) -> Option<String> {
    value.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"")
            .then(|| url.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_next() {
        // Shape from https://shopify.dev/docs/api/admin-rest/usage/pagination
        let v = "<https://demo.myshopify.com/admin/api/2019-07/products.json?page_info=vwxyzab&limit=6>; rel=\"previous\", <https://demo.myshopify.com/admin/api/2019-07/products.json?page_info=opqrstu&limit=6>; rel=\"next\"";
        assert_eq!(
            next_link(v).as_deref(),
            Some(
                "https://demo.myshopify.com/admin/api/2019-07/products.json?page_info=opqrstu&limit=6"
            )
        );
        assert_eq!(next_link("<https://x/a>; rel=\"previous\""), None);
    }

    #[test]
    fn shop_host_check() {
        assert!(valid_shop_host("demo.myshopify.com"));
        assert!(!valid_shop_host("evil.com/path?"));
        assert!(!valid_shop_host("a@b"));
        assert!(!valid_shop_host(""));
    }

    #[test]
    fn error_texts() {
        assert_eq!(error_text(br#"{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}"#), "[API] Invalid API key or access token (unrecognized login or wrong password)");
        assert_eq!(
            error_text(
                br#"{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}]}"#
            ),
            "Throttled (THROTTLED)"
        );
        assert_eq!(error_text(b""), "no error text in the response");
    }
}
