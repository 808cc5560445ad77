//! The v2 API client: auth, pacing, retries, and the [`TrackingSource`] calls.

use std::sync::Arc;
use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare::platform::limits::retry_after;
use aftercare::ratelimit::{RateLimit, SlidingWindow};
use aftercare::tracking_source::{
    Registered, Registration, SourceError, StopReason, TrackingRequest, TrackingSource,
};
use aftercare::webhook::Secret;
use async_trait::async_trait;
use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};
use url::Url;

use crate::SOURCE_NAME;
use crate::error::EasyPostError;

/// EasyPost's API base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.easypost.com/v2/";

/// How to reach EasyPost.
///
/// ```
/// let cfg = aftercare_easypost::EasyPostConfig::new("EZTK_secret");
/// assert!(!format!("{cfg:?}").contains("EZTK_secret"));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct EasyPostConfig {
    api_key: Secret,
    base_url: Url,
    timeout: Duration,
    retry: RetryPolicy,
    max_wait: Duration,
    per_second: u32,
}

impl EasyPostConfig {
    /// The API key (test or production).
    pub fn new(api_key: impl Into<Secret>) -> Self {
        Self {
            api_key: api_key.into(),
            base_url: Url::parse(DEFAULT_BASE_URL).unwrap_or_else(|_| fallback_url()),
            timeout: Duration::from_secs(20),
            retry: RetryPolicy::new(Duration::from_millis(500), Duration::from_secs(10), 3),
            max_wait: Duration::from_secs(10),
            per_second: 5,
        }
    }

    /// Another base URL (a test server). A trailing `/` is added.
    pub fn base_url(mut self, url: &str) -> Result<Self, EasyPostError> {
        let with_slash = if url.ends_with('/') {
            url.to_owned()
        } else {
            format!("{url}/")
        };
        self.base_url =
            Url::parse(&with_slash).map_err(|e| EasyPostError::Config(format!("{url}: {e}")))?;
        Ok(self)
    }

    /// The retries of one call.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Requests a second (5 by default: the fixed limit EasyPost documents for index
    /// endpoints; the rest is load-based and answered with `429`).
    pub fn per_second(mut self, n: u32) -> Self {
        self.per_second = n.max(1);
        self
    }
}

fn fallback_url() -> Url {
    Url::parse("https://api.easypost.com/").unwrap_or_else(|_| fallback_url())
}

/// EasyPost's Trackers API as a [`TrackingSource`].
#[derive(Clone, Debug)]
pub struct EasyPostClient {
    http: reqwest::Client,
    cfg: EasyPostConfig,
    pace: Arc<SlidingWindow>,
}

impl EasyPostClient {
    /// A client; rate limits: <https://docs.easypost.com/guides/rate-limiting-guide>.
    pub fn new(cfg: EasyPostConfig) -> Result<Self, EasyPostError> {
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .build()
            .map_err(|e| EasyPostError::Config(e.to_string()))?;
        let pace = Arc::new(SlidingWindow::new(cfg.per_second, Duration::from_secs(1)));
        Ok(Self { http, cfg, pace })
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), SourceError> {
        let url = self
            .cfg
            .base_url
            .join(path)
            .map_err(|e| SourceError::Permanent(format!("bad EasyPost path {path}: {e}")))?;
        // HTTP Basic with the key as user name and no password.
        let auth = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode([self.cfg.api_key.expose(), b":"].concat())
        );
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.pace.acquire().await;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .header("Authorization", auth.as_str());
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    if self.cfg.retry.may_retry(attempt) {
                        tokio::time::sleep(self.cfg.retry.delay(attempt, None)).await;
                        continue;
                    }
                    return Err(SourceError::Transient {
                        retry_after: None,
                        message: format!("EasyPost could not be reached: {}", e.without_url()),
                    });
                }
            };
            let status = resp.status().as_u16();
            let wait = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, chrono::Utc::now()));
            let v: Value =
                serde_json::from_str(&resp.text().await.unwrap_or_default()).unwrap_or(Value::Null);
            let message = || {
                let e = &v["error"];
                EasyPostError::Api {
                    status,
                    code: e["code"].as_str().unwrap_or_default().to_owned(),
                    message: e["message"].as_str().unwrap_or_default().to_owned(),
                }
                .to_string()
            };
            if status == 429 {
                if wait.is_none_or(|w| w <= self.cfg.max_wait) && self.cfg.retry.may_retry(attempt)
                {
                    tokio::time::sleep(self.cfg.retry.delay(attempt, wait)).await;
                    continue;
                }
                return Err(SourceError::Quota {
                    retry_after: wait,
                    message: message(),
                });
            }
            if status >= 500 {
                if self.cfg.retry.may_retry(attempt) {
                    tokio::time::sleep(self.cfg.retry.delay(attempt, wait)).await;
                    continue;
                }
                return Err(SourceError::Transient {
                    retry_after: wait,
                    message: message(),
                });
            }
            if status >= 400 && status != 404 {
                return Err(SourceError::Permanent(message()));
            }
            return Ok((status, v));
        }
    }
}

#[async_trait]
impl TrackingSource for EasyPostClient {
    fn name(&self) -> &str {
        SOURCE_NAME
    }

    async fn register(&self, request: &TrackingRequest) -> Result<Registered, SourceError> {
        let mut tracker = json!({ "tracking_code": request.tracking_number });
        if let Some(c) = request.carrier.as_deref().filter(|c| !c.trim().is_empty()) {
            tracker["carrier"] = Value::from(c.trim());
        }
        let (status, v) = self
            .call(
                Method::POST,
                "trackers",
                Some(&json!({ "tracker": tracker })),
            )
            .await?;
        if status == 404 {
            return Err(SourceError::Permanent(
                "EasyPost answered 404 to POST /trackers; check the base URL".into(),
            ));
        }
        let mut r = Registered::new(v["id"].as_str().map(str::to_owned));
        r.carrier = v["carrier"].as_str().map(str::to_owned);
        Ok(r)
    }

    async fn stop(&self, reg: &Registration, why: &StopReason) -> Result<(), SourceError> {
        // A tracker ends on its own once delivered or returned; only an old one is deleted.
        let (StopReason::TooOld, Some(id)) = (why, reg.registered.reference.as_deref()) else {
            return Ok(());
        };
        self.call(Method::DELETE, &format!("trackers/{id}"), None)
            .await
            .map(|_| ())
    }
}
