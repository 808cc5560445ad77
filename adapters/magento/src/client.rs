//! The REST client: authentication (OAuth 1.0a or a bearer token), timeouts, retries,
//! pacing and `429` waits.

use std::sync::Arc;
use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare::platform::limits::{QuotaGate, retry_after};
use aftercare::ratelimit::{RateLimit, SlidingWindow};
use aftercare::webhook::Secret;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde_json::Value;
use url::Url;

use crate::convert::StoreLocales;
use crate::error::MagentoError;
use crate::oauth::OAuth1;
use crate::payload::ErrorPayload;
use crate::store::StoreUrl;

/// How the client authenticates (developer.adobe.com/commerce/webapi/get-started/authentication/).
#[derive(Clone)]
#[non_exhaustive]
pub enum Auth {
    /// An integration's credentials, each request signed with OAuth 1.0a (works on every
    /// version; the recommended mode for an integration).
    OAuth1(OAuth1),
    /// `Authorization: Bearer <token>`: an admin token (`POST /V1/integration/admin/token`,
    /// valid 4 hours by default), or an integration's access token where the store allows
    /// it (*Stores → Configuration → Services → OAuth → Consumer Settings → Allow OAuth
    /// Access Tokens to be used as standalone Bearer tokens*, off by default since 2.4.4).
    Bearer(Secret),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::OAuth1(o) => f.debug_tuple("OAuth1").field(o).finish(),
            Auth::Bearer(_) => f.write_str("Bearer(..)"),
        }
    }
}

/// How to reach one store's REST API.
///
/// ```
/// use aftercare_magento::{Auth, MagentoConfig, OAuth1};
/// let cfg = MagentoConfig::new(
///     "https://shop.example/",
///     Auth::OAuth1(OAuth1::new("consumer-key", "consumer-secret", "access-token", "token-secret")),
/// ).unwrap().page_size(50);
/// let dbg = format!("{cfg:?}");
/// assert!(!dbg.contains("consumer-secret") && !dbg.contains("token-secret"));
/// ```
#[derive(Clone, Debug)]
pub struct MagentoConfig {
    pub(crate) store: StoreUrl,
    auth: Auth,
    store_code: Option<String>,
    base_url: Option<Url>,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    max_throttled: u32,
    pace: Option<Arc<dyn RateLimit>>,
    pub(crate) page_size: u32,
    pub(crate) locales: Option<StoreLocales>,
}

impl MagentoConfig {
    /// A store (its base URL, `https://`) and credentials.
    pub fn new(store: &str, auth: Auth) -> Result<Self, MagentoError> {
        let store = StoreUrl::parse(store)?;
        match &auth {
            Auth::OAuth1(o) if !o.is_complete() => {
                return Err(MagentoError::Config(
                    "the integration's consumer key and secret and access token and secret are all required".into(),
                ));
            }
            Auth::Bearer(t) if t.is_empty() => {
                return Err(MagentoError::Config("the bearer token is empty".into()));
            }
            _ => {}
        }
        Ok(Self {
            store,
            auth,
            store_code: None,
            base_url: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::new(Duration::from_millis(500), Duration::from_secs(30), 4),
            max_throttled: 8,
            // Magento core has no rate limit; hosts, Fastly on Adobe Commerce Cloud and
            // WAFs do. Ten requests in any second keeps a small host responsive.
            pace: Some(Arc::new(SlidingWindow::new(10, Duration::from_secs(1)))),
            page_size: 100,
            locales: None,
        })
    }

    /// Sends requests to `rest/{code}/V1/` (`default`, `all`, a store view's code) rather
    /// than `rest/V1/` (the default store view).
    pub fn store_code(mut self, code: impl Into<String>) -> Self {
        self.store_code = Some(code.into());
        self
    }

    /// Sends requests to `base` (`http://127.0.0.1:8080/`) instead of the store; for tests
    /// against a stand-in. The store stays what webhooks are bound to.
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
    /// doubling, at most 30 s). A `POST` that may have reached the store is not retried by
    /// the client (the annotator reads before it writes; the inbox retries).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How many `429` answers in a row the client waits out (default 8).
    pub fn max_throttled(mut self, n: u32) -> Self {
        self.max_throttled = n;
        self
    }

    /// At most `limit` requests in any `window` (default 10 per second).
    pub fn pace(mut self, limit: u32, window: Duration) -> Self {
        self.pace = Some(Arc::new(SlidingWindow::new(limit, window)));
        self
    }

    /// No client-side pace (a store known to have none in front of it; tests).
    pub fn unpaced(mut self) -> Self {
        self.pace = None;
        self
    }

    /// Orders per page when listing (1 to 300, the largest page Magento's input limits
    /// allow when turned on; default 100).
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, 300);
        self
    }

    /// The store views' locales; without them the client reads `GET /V1/store/storeConfigs`
    /// once.
    pub fn locales(mut self, locales: StoreLocales) -> Self {
        self.locales = Some(locales);
        self
    }

    /// The store.
    pub fn store(&self) -> &StoreUrl {
        &self.store
    }
}

/// A response: status and body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    /// Magento's `message` with its parameters, or the body's start.
    pub(crate) fn error_text(&self) -> String {
        match serde_json::from_slice::<ErrorPayload>(&self.body)
            .ok()
            .and_then(|e| e.text())
        {
            Some(t) => t,
            None => {
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
}

/// A client for one store's REST API. Cheap to clone; clones share the connection pool,
/// the pace, the `429` gate and the store views' locales.
///
/// ```no_run
/// use aftercare::platform::OrderSource;
/// use aftercare_magento::{Auth, MagentoClient, MagentoConfig, OAuth1};
/// use futures::StreamExt;
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let auth = Auth::OAuth1(OAuth1::new("ck", "cs", "at", "ats"));
/// let shop = MagentoClient::new(MagentoConfig::new("https://shop.example/", auth)?)?;
/// let since = chrono::Utc::now() - chrono::Duration::days(1);
/// let mut orders = shop.updated_since(since);
/// while let Some(order) = orders.next().await {
///     let order = order?;
///     for s in shop.shipments(&order.id).await? {
///         println!("{} {:?}", order.number, s.tracking_numbers);
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct MagentoClient {
    http: reqwest::Client,
    pub(crate) cfg: Arc<MagentoConfig>,
    root: Url,
    gate: Arc<QuotaGate>,
    pub(crate) locales: Arc<tokio::sync::OnceCell<StoreLocales>>,
}

impl MagentoClient {
    /// A client from a configuration. A plain `http` store is refused unless requests go
    /// to an explicit [`MagentoConfig::base_url`]: credentials never travel in clear.
    pub fn new(cfg: MagentoConfig) -> Result<Self, MagentoError> {
        let mut root = match &cfg.base_url {
            Some(u) => u.clone(),
            None => {
                if cfg.store.url().scheme() != "https" {
                    return Err(MagentoError::Config(format!(
                        "the store `{}` is not HTTPS: its credentials would travel in clear",
                        cfg.store
                    )));
                }
                cfg.store.url().clone()
            }
        };
        if !root.path().ends_with('/') {
            let p = format!("{}/", root.path());
            root.set_path(&p);
        }
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            .user_agent(concat!("aftercare-magento/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| MagentoError::Config(format!("HTTP client: {e}")))?;
        let locales = Arc::new(match &cfg.locales {
            Some(l) => tokio::sync::OnceCell::new_with(Some(l.clone())),
            None => tokio::sync::OnceCell::new(),
        });
        Ok(Self {
            http,
            cfg: Arc::new(cfg),
            root,
            gate: Arc::new(QuotaGate::new(0)),
            locales,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &MagentoConfig {
        &self.cfg
    }

    /// The URL of a REST path (`orders/42` → `rest/V1/orders/42`).
    pub fn api_url(&self, path: &str) -> Result<Url, MagentoError> {
        let code = self
            .cfg
            .store_code
            .as_deref()
            .map(|c| format!("{}/", c.trim_matches('/')))
            .unwrap_or_default();
        let p = format!("rest/{code}V1/{}", path.trim_start_matches('/'));
        self.root
            .join(&p)
            .map_err(|e| MagentoError::Config(format!("bad API path `{p}`: {e}")))
    }

    fn authorization(&self, method: &Method, url: &Url) -> Result<HeaderValue, MagentoError> {
        let text = match &self.cfg.auth {
            Auth::OAuth1(o) => o.authorization(method.as_str(), url),
            Auth::Bearer(t) => format!("Bearer {}", String::from_utf8_lossy(t.expose())),
        };
        let mut v = HeaderValue::from_str(&text).map_err(|_| {
            MagentoError::Config("the credentials cannot be sent in a header".into())
        })?;
        v.set_sensitive(true);
        Ok(v)
    }

    /// Sends one request, paced, with retries: 5xx, timeouts and network errors with the
    /// retry policy's backoff (a `Retry-After` is a floor); `429` after its `Retry-After`
    /// (or the backoff), up to `max_throttled` times. Each attempt is signed afresh (OAuth
    /// nonces are single-use). Returns the final response whatever its status.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        op: &str,
    ) -> Result<Reply, MagentoError> {
        let idempotent = method != Method::POST;
        let mut failures: u32 = 0;
        let mut throttled: u32 = 0;
        loop {
            if let Some(p) = &self.cfg.pace {
                p.acquire().await;
            }
            self.gate.acquire().await;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .header(AUTHORIZATION, self.authorization(&method, &url)?);
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    let e = e.without_url();
                    let reached = !e.is_connect();
                    failures += 1;
                    if (idempotent || !reached) && self.cfg.retry.may_retry(failures) {
                        tracing::debug!(op, attempt = failures, error = %e, "Magento request failed; retrying");
                        tokio::time::sleep(self.cfg.retry.delay(failures, None)).await;
                        continue;
                    }
                    return Err(MagentoError::Api {
                        operation: op.to_owned(),
                        status: None,
                        message: format!("{e} (after {failures} attempts)"),
                        retryable: true,
                    });
                }
            };
            let status = resp.status().as_u16();
            let wait = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, chrono::Utc::now()));
            let body = match resp.bytes().await {
                Ok(b) => b.to_vec(),
                Err(e) => {
                    let e = e.without_url();
                    failures += 1;
                    if idempotent && self.cfg.retry.may_retry(failures) {
                        tokio::time::sleep(self.cfg.retry.delay(failures, None)).await;
                        continue;
                    }
                    return Err(MagentoError::Api {
                        operation: op.to_owned(),
                        status: Some(status),
                        message: format!("the response could not be read: {e}"),
                        retryable: true,
                    });
                }
            };
            let reply = Reply { status, body };
            if status == 429 {
                throttled += 1;
                let wait = wait.unwrap_or_else(|| self.cfg.retry.delay(throttled, None));
                self.gate.throttled(wait);
                if throttled <= self.cfg.max_throttled {
                    tracing::info!(
                        op,
                        ?wait,
                        "Magento throttled the client (429); waiting as asked"
                    );
                    continue;
                }
                return Err(MagentoError::Api {
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
                        "Magento answered a server error; retrying"
                    );
                    tokio::time::sleep(self.cfg.retry.delay(failures, wait)).await;
                    continue;
                }
                return Err(MagentoError::Api {
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
    ) -> Result<Option<Reply>, MagentoError> {
        let r = self.send(method, url, body, op).await?;
        match r.status {
            200..=299 => Ok(Some(r)),
            404 => Ok(None),
            s => Err(MagentoError::Api {
                operation: op.to_owned(),
                status: Some(s),
                message: r.error_text(),
                retryable: s == 408,
            }),
        }
    }
}
