//! The `wc/v3` REST client: authentication, timeouts, retries, pacing and paging.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare::platform::limits::{QuotaGate, QuotaHeaders, retry_after};
use aftercare::ratelimit::RateLimit;
use aftercare::webhook::Secret;
use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::Value;
use url::Url;

use crate::convert::Mapping;
use crate::error::WooError;
use crate::payload::ErrorPayload;
use crate::site::Site;

/// How the client authenticates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Auth {
    /// HTTP Basic with the consumer key and secret (the default; HTTPS only).
    #[default]
    Basic,
    /// The `consumer_key` / `consumer_secret` query parameters, for servers that strip the
    /// `Authorization` header (WooCommerce's docs: "Consumer key is missing" over SSL).
    /// The secret is then in every URL: the client never logs URLs, and strips them from
    /// transport errors, but proxies and the site's access logs may record them.
    QueryString,
}

/// How to reach one WooCommerce site's REST API.
///
/// ```
/// use aftercare_woocommerce::WooConfig;
/// let cfg = WooConfig::new("https://shop.example/", "ck_key", "cs_secret").unwrap()
///     .pace(2, std::time::Duration::from_secs(1))
///     .page_size(50);
/// // Neither the key nor the secret shows in Debug output.
/// let dbg = format!("{cfg:?}");
/// assert!(!dbg.contains("ck_key") && !dbg.contains("cs_secret"));
/// ```
#[derive(Clone, Debug)]
pub struct WooConfig {
    pub(crate) site: Site,
    consumer_key: Secret,
    consumer_secret: Secret,
    auth: Auth,
    base_url: Option<Url>,
    pub(crate) timeout: Duration,
    connect_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    max_throttled: u32,
    pace: Option<Arc<dyn RateLimit>>,
    quota_headers: Option<QuotaHeaders>,
    pub(crate) page_size: u32,
    pub(crate) mapping: Mapping,
    pub(crate) tracking_route: bool,
}

impl WooConfig {
    /// A site (its home URL, `https://`) and a REST API key (*WooCommerce → Settings →
    /// Advanced → REST API*: consumer key `ck_…` and secret `cs_…`, read permission, or
    /// read/write for the annotator).
    pub fn new(
        site: &str,
        consumer_key: impl Into<Secret>,
        consumer_secret: impl Into<Secret>,
    ) -> Result<Self, WooError> {
        let site = Site::parse(site)?;
        Ok(Self {
            site,
            consumer_key: consumer_key.into(),
            consumer_secret: consumer_secret.into(),
            auth: Auth::Basic,
            base_url: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::new(Duration::from_millis(500), Duration::from_secs(30), 4),
            max_throttled: 8,
            // WooCommerce itself has no limit; shared hosts and WAFs do. Five requests in
            // any second keeps a small host responsive.
            pace: Some(Arc::new(Pace::new(5, Duration::from_secs(1)))),
            quota_headers: None,
            page_size: 100,
            mapping: Mapping::default(),
            tracking_route: true,
        })
    }

    /// Sends the credentials as query parameters instead of HTTP Basic.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Sends requests to `base` (`http://127.0.0.1:8080/`) instead of the site; for tests
    /// against a stand-in. The site stays what webhooks are bound to.
    pub fn base_url(mut self, base: Url) -> Self {
        self.base_url = Some(base);
        self
    }

    /// Per-request timeout (default 30 s) and connect timeout (default 10 s).
    pub fn timeouts(mut self, request: Duration, connect: Duration) -> Self {
        self.timeout = request;
        self.connect_timeout = connect;
        self
    }

    /// Retries of 5xx answers, timeouts and network errors (default: 4 attempts, 0.5 s
    /// doubling, at most 30 s). A `POST` whose request may have reached the site is not
    /// retried by the client (the annotator reads before it writes, so the caller's own
    /// retry is safe).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How many `429`s in a row one request waits out (default 8), each for its
    /// `Retry-After`.
    pub fn max_throttled(mut self, n: u32) -> Self {
        self.max_throttled = n;
        self
    }

    /// The client-side pace: at most `limit` requests in any `window` (default 5 in any
    /// second), shared by every clone of the client. Keep it below a host's limit: the host
    /// counts arrivals, which network delays can bunch.
    pub fn pace(mut self, limit: u32, window: Duration) -> Self {
        self.pace = Some(Arc::new(Pace::new(limit, window)));
        self
    }

    /// Paces requests with any of the sdk's limiters (shared with other clients if the
    /// same `Arc` is given to them) instead of [`WooConfig::pace`].
    pub fn rate_limit(mut self, limit: Arc<dyn RateLimit>) -> Self {
        self.pace = Some(limit);
        self
    }

    /// No client-side pace (only `429`s and announced quotas slow the client).
    pub fn unpaced(mut self) -> Self {
        self.pace = None;
        self
    }

    /// Quota headers the host announces (some hosts and gateways add `X-RateLimit-*`):
    /// the client then never exceeds what they say is left.
    pub fn quota_headers(mut self, headers: QuotaHeaders) -> Self {
        self.quota_headers = Some(headers);
        self
    }

    /// Orders per page when listing (1 to 100, WordPress's maximum; default 100).
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, 100);
        self
    }

    /// How plugins' meta data is read (the same mapping as the webhook source's).
    pub fn mapping(mut self, mapping: Mapping) -> Self {
        self.mapping = mapping;
        self
    }

    /// Whether `shipments` asks the Shipment Tracking extension's REST route first
    /// (default true; the order meta is read when the route is absent).
    pub fn tracking_route(mut self, yes: bool) -> Self {
        self.tracking_route = yes;
        self
    }

    /// The site.
    pub fn site(&self) -> &Site {
        &self.site
    }
}

/// At most `limit` requests in any `window`: the instants of the last `limit` requests are
/// kept, and one more goes only when the oldest of them is a window old. (A token bucket
/// allows a burst plus its refill within one window, which exceeds a count per window.)
#[derive(Debug)]
struct Pace {
    limit: usize,
    window: Duration,
    sent: Mutex<VecDeque<tokio::time::Instant>>,
}

impl Pace {
    fn new(limit: u32, window: Duration) -> Self {
        let limit = usize::try_from(limit.max(1)).unwrap_or(1);
        Self {
            limit,
            window,
            sent: Mutex::new(VecDeque::with_capacity(limit)),
        }
    }
}

#[async_trait]
impl RateLimit for Pace {
    async fn acquire(&self) {
        loop {
            let wait = {
                let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
                let now = tokio::time::Instant::now();
                while sent
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window)
                {
                    sent.pop_front();
                }
                if sent.len() < self.limit {
                    sent.push_back(now);
                    None
                } else {
                    sent.front().map(|t| *t + self.window)
                }
            };
            match wait {
                None => return,
                Some(at) => tokio::time::sleep_until(at).await,
            }
        }
    }
}

/// A response: status, headers and body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// WooCommerce's `code: message`, or the body's start.
    pub(crate) fn error_text(&self) -> String {
        match serde_json::from_slice::<ErrorPayload>(&self.body) {
            Ok(ErrorPayload {
                code: Some(c),
                message,
                ..
            }) => format!("{c}: {}", message.unwrap_or_default()),
            _ => {
                let text = String::from_utf8_lossy(&self.body);
                let cut: String = text.chars().take(200).collect();
                if cut.trim().is_empty() {
                    "no error text".to_owned()
                } else {
                    cut
                }
            }
        }
    }

    pub(crate) fn error_code(&self) -> Option<String> {
        serde_json::from_slice::<ErrorPayload>(&self.body)
            .ok()
            .and_then(|e| e.code)
    }
}

/// A client for one WooCommerce site's REST API. Cheap to clone; clones share the
/// connection pool, the pace and the quota.
///
/// ```no_run
/// use aftercare::platform::OrderSource;
/// use aftercare_woocommerce::{WooClient, WooConfig};
/// use futures::StreamExt;
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let shop = WooClient::new(WooConfig::new("https://shop.example/", "ck_…", "cs_…")?)?;
/// let since = chrono::Utc::now() - chrono::Duration::days(1);
/// let mut orders = shop.updated_since(since);
/// while let Some(order) = orders.next().await {
///     let order = order?;
///     for s in shop.shipments(&order.id).await? {
///         println!("{} {:?} {:?}", order.number, s.status, s.tracking_numbers);
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct WooClient {
    http: reqwest::Client,
    pub(crate) cfg: Arc<WooConfig>,
    root: Url,
    pace: Option<Arc<dyn RateLimit>>,
    gate: Arc<QuotaGate>,
    /// Set once the Shipment Tracking route answered `rest_no_route`.
    pub(crate) no_tracking_route: Arc<AtomicBool>,
}

impl WooClient {
    /// A client from a configuration. Plain `http` sites are refused: WooCommerce accepts
    /// Basic credentials only over HTTPS (it wants OAuth 1.0a over HTTP, which this
    /// adapter does not implement).
    pub fn new(cfg: WooConfig) -> Result<Self, WooError> {
        let root = match &cfg.base_url {
            Some(u) => {
                let mut u = u.clone();
                if !u.path().ends_with('/') {
                    let p = format!("{}/", u.path());
                    u.set_path(&p);
                }
                u
            }
            None => {
                if cfg.site.url().scheme() != "https" {
                    return Err(WooError::Config(format!(
                        "the site `{}` is not HTTPS: WooCommerce accepts API keys over HTTPS only",
                        cfg.site
                    )));
                }
                cfg.site.url().clone()
            }
        };
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            .user_agent(concat!("aftercare-woocommerce/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| WooError::Config(format!("HTTP client: {e}")))?;
        let pace = cfg.pace.clone();
        Ok(Self {
            http,
            cfg: Arc::new(cfg),
            root,
            pace,
            gate: Arc::new(QuotaGate::new(0)),
            no_tracking_route: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &WooConfig {
        &self.cfg
    }

    /// The URL of a `wc/v3` path (`orders/727`).
    pub fn api_url(&self, path: &str) -> Result<Url, WooError> {
        self.url(&format!("wp-json/wc/v3/{}", path.trim_start_matches('/')))
    }

    /// The URL of a path under the site's `wp-json/` (another namespace).
    pub(crate) fn url(&self, path: &str) -> Result<Url, WooError> {
        self.root
            .join(path)
            .map_err(|e| WooError::Config(format!("bad API path `{path}`: {e}")))
    }

    fn basic(&self) -> Result<HeaderValue, WooError> {
        let mut raw = Vec::with_capacity(
            self.cfg.consumer_key.expose().len() + self.cfg.consumer_secret.expose().len() + 1,
        );
        raw.extend_from_slice(self.cfg.consumer_key.expose());
        raw.push(b':');
        raw.extend_from_slice(self.cfg.consumer_secret.expose());
        let mut v = HeaderValue::from_str(&format!("Basic {}", B64.encode(&raw)))
            .map_err(|_| WooError::Config("the API key cannot be sent in a header".into()))?;
        v.set_sensitive(true);
        Ok(v)
    }

    fn with_auth(&self, mut url: Url) -> Result<(Url, Option<HeaderValue>), WooError> {
        match self.cfg.auth {
            Auth::Basic => Ok((url, Some(self.basic()?))),
            Auth::QueryString => {
                let key = String::from_utf8_lossy(self.cfg.consumer_key.expose()).into_owned();
                let secret =
                    String::from_utf8_lossy(self.cfg.consumer_secret.expose()).into_owned();
                url.query_pairs_mut()
                    .append_pair("consumer_key", &key)
                    .append_pair("consumer_secret", &secret);
                Ok((url, None))
            }
        }
    }

    /// Sends one request, paced, with retries: 5xx, timeouts and network errors with the
    /// retry policy's backoff (a `Retry-After` is a floor); `429` after its `Retry-After`
    /// (or the backoff when it has none), up to `max_throttled` times. Returns the final
    /// response whatever its status; errors only when no usable response came.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        op: &str,
    ) -> Result<Reply, WooError> {
        let idempotent = method != Method::POST;
        let (url, auth) = self.with_auth(url)?;
        let mut failures: u32 = 0;
        let mut throttled: u32 = 0;
        loop {
            if let Some(p) = &self.pace {
                p.acquire().await;
            }
            self.gate.acquire().await;
            let mut req = self.http.request(method.clone(), url.clone());
            if let Some(a) = &auth {
                req = req.header(AUTHORIZATION, a.clone());
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let sent = req.send().await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    // The error's text would carry the URL, and with it a query-string
                    // secret: dropped.
                    let e = e.without_url();
                    let reached = !e.is_connect();
                    failures += 1;
                    if (idempotent || !reached) && self.cfg.retry.may_retry(failures) {
                        tracing::debug!(op, attempt = failures, error = %e, "WooCommerce request failed; retrying");
                        tokio::time::sleep(self.cfg.retry.delay(failures, None)).await;
                        continue;
                    }
                    return Err(WooError::Api {
                        operation: op.to_owned(),
                        status: None,
                        message: format!("{e} (after {failures} attempts)"),
                        retryable: true,
                    });
                }
            };
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let now = chrono::Utc::now();
            if let Some(q) = &self.cfg.quota_headers {
                self.gate
                    .observe(&q.read(|n| headers.get(n).and_then(|v| v.to_str().ok()), now));
            }
            let wait = headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, now));
            let body = match resp.bytes().await {
                Ok(b) => b.to_vec(),
                Err(e) => {
                    let e = e.without_url();
                    failures += 1;
                    if idempotent && self.cfg.retry.may_retry(failures) {
                        tokio::time::sleep(self.cfg.retry.delay(failures, None)).await;
                        continue;
                    }
                    return Err(WooError::Api {
                        operation: op.to_owned(),
                        status: Some(status),
                        message: format!("the response could not be read: {e}"),
                        retryable: true,
                    });
                }
            };
            let reply = Reply {
                status,
                headers,
                body,
            };
            if status == 429 {
                throttled += 1;
                let wait = wait.unwrap_or_else(|| self.cfg.retry.delay(throttled, None));
                self.gate.throttled(wait);
                if throttled <= self.cfg.max_throttled {
                    tracing::info!(
                        op,
                        ?wait,
                        "WooCommerce site throttled the client (429); waiting as asked"
                    );
                    continue;
                }
                return Err(WooError::Api {
                    operation: op.to_owned(),
                    status: Some(429),
                    message: format!(
                        "still throttled after {throttled} waits: {}",
                        reply.error_text()
                    ),
                    retryable: true,
                });
            }
            if status >= 500 {
                failures += 1;
                if idempotent && self.cfg.retry.may_retry(failures) {
                    tracing::debug!(
                        op,
                        status,
                        attempt = failures,
                        "WooCommerce answered a server error; retrying"
                    );
                    tokio::time::sleep(self.cfg.retry.delay(failures, wait)).await;
                    continue;
                }
                return Err(WooError::Api {
                    operation: op.to_owned(),
                    status: Some(status),
                    message: format!("{} (after {failures} attempts)", reply.error_text()),
                    retryable: true,
                });
            }
            return Ok(reply);
        }
    }

    /// Sends a request and requires a 2xx answer (404 is `None`).
    pub(crate) async fn fetch(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        op: &str,
    ) -> Result<Option<Reply>, WooError> {
        let r = self.send(method, url, body, op).await?;
        match r.status {
            200..=299 => Ok(Some(r)),
            404 => Ok(None),
            s => Err(WooError::Api {
                operation: op.to_owned(),
                status: Some(s),
                message: r.error_text(),
                retryable: false,
            }),
        }
    }

    pub(crate) fn mark_no_tracking_route(&self) {
        self.no_tracking_route.store(true, Ordering::Relaxed);
    }

    pub(crate) fn has_tracking_route(&self) -> bool {
        self.cfg.tracking_route && !self.no_tracking_route.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_pace_never_lets_more_than_its_limit_into_any_window() {
        let pace = Pace::new(5, Duration::from_secs(1));
        let start = tokio::time::Instant::now();
        let mut at = Vec::new();
        for _ in 0..12 {
            pace.acquire().await;
            at.push(tokio::time::Instant::now() - start);
        }
        assert!(
            at[..5].iter().all(|t| t.is_zero()),
            "the first five at once: {at:?}"
        );
        for (i, t) in at.iter().enumerate() {
            let inside = at[i..]
                .iter()
                .take_while(|u| **u - *t < Duration::from_secs(1))
                .count();
            assert!(inside <= 5, "{inside} within a second of {t:?}: {at:?}");
        }
        assert_eq!(
            at[11],
            Duration::from_secs(2),
            "no longer than needed: {at:?}"
        );
    }
}
