//! The Tracking API v2.2 client: auth, pacing, retries, and the [`TrackingSource`] calls.

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
use serde_json::{Value, json};
use url::Url;

use crate::SOURCE_NAME;
use crate::error::SeventeenTrackError;

/// The API's base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.17track.net/track/v2.2/";
/// "Already registered": no quota used, the number is tracked.
const ALREADY_REGISTERED: i64 = -18_019_901;

/// How to reach 17TRACK.
///
/// ```
/// let cfg = aftercare_17track::SeventeenTrackConfig::new("17-secret-token");
/// assert!(!format!("{cfg:?}").contains("17-secret-token"));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SeventeenTrackConfig {
    token: Secret,
    base_url: Url,
    retry: RetryPolicy,
    max_wait: Duration,
}

impl SeventeenTrackConfig {
    /// The access key (`17token`).
    pub fn new(token: impl Into<Secret>) -> Self {
        Self {
            token: token.into(),
            base_url: Url::parse(DEFAULT_BASE_URL).unwrap_or_else(|_| fallback()),
            retry: RetryPolicy::new(Duration::from_millis(500), Duration::from_secs(10), 3),
            max_wait: Duration::from_secs(10),
        }
    }

    /// Another base URL (a test server). A trailing `/` is added.
    pub fn base_url(mut self, url: &str) -> Result<Self, SeventeenTrackError> {
        let u = if url.ends_with('/') {
            url.to_owned()
        } else {
            format!("{url}/")
        };
        self.base_url =
            Url::parse(&u).map_err(|e| SeventeenTrackError::Config(format!("{url}: {e}")))?;
        Ok(self)
    }

    /// The retries of one call.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }
}

fn fallback() -> Url {
    Url::parse("https://api.17track.net/").unwrap_or_else(|_| fallback())
}

/// 17TRACK's API as a [`TrackingSource`].
#[derive(Clone, Debug)]
pub struct SeventeenTrackClient {
    http: reqwest::Client,
    cfg: SeventeenTrackConfig,
    /// 3 requests a second per key.
    pace: Arc<SlidingWindow>,
}

impl SeventeenTrackClient {
    /// A client.
    pub fn new(cfg: SeventeenTrackConfig) -> Result<Self, SeventeenTrackError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| SeventeenTrackError::Config(e.to_string()))?;
        Ok(Self {
            http,
            cfg,
            pace: Arc::new(SlidingWindow::new(3, Duration::from_secs(1))),
        })
    }

    /// One call: the body's first accepted item, or the first rejected item's error.
    async fn call(
        &self,
        op: &str,
        items: Value,
    ) -> Result<Result<Value, (i64, String)>, SourceError> {
        let url = self
            .cfg
            .base_url
            .join(op)
            .map_err(|e| SourceError::Permanent(e.to_string()))?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.pace.acquire().await;
            let sent = self
                .http
                .post(url.clone())
                .header("17token", self.cfg.token.expose())
                .json(&items)
                .send()
                .await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    if self.cfg.retry.may_retry(attempt) {
                        tokio::time::sleep(self.cfg.retry.delay(attempt, None)).await;
                        continue;
                    }
                    return Err(SourceError::Transient {
                        retry_after: None,
                        message: format!("17TRACK could not be reached: {}", e.without_url()),
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
            if status == 429 || status >= 500 {
                if wait.is_none_or(|w| w <= self.cfg.max_wait) && self.cfg.retry.may_retry(attempt)
                {
                    tokio::time::sleep(self.cfg.retry.delay(attempt, wait)).await;
                    continue;
                }
                let message = format!("17TRACK answered HTTP {status}");
                return Err(if status == 429 {
                    SourceError::Quota {
                        retry_after: wait,
                        message,
                    }
                } else {
                    SourceError::Transient {
                        retry_after: wait,
                        message,
                    }
                });
            }
            if status == 401 {
                return Err(SourceError::Permanent(
                    "17TRACK answered 401: wrong key, IP not whitelisted, or account disabled"
                        .into(),
                ));
            }
            if let Some(a) = v["data"]["accepted"].as_array().and_then(|a| a.first()) {
                return Ok(Ok(a.clone()));
            }
            let r = v["data"]["rejected"]
                .as_array()
                .and_then(|a| a.first())
                .cloned()
                .unwrap_or(Value::Null);
            let code = r["error"]["code"]
                .as_i64()
                .or_else(|| v["code"].as_i64())
                .unwrap_or_default();
            let message = r["error"]["message"]
                .as_str()
                .or_else(|| v["data"]["errors"][0]["message"].as_str())
                .unwrap_or_default()
                .to_owned();
            return Ok(Err((code, message)));
        }
    }
}

#[async_trait]
impl TrackingSource for SeventeenTrackClient {
    fn name(&self) -> &str {
        SOURCE_NAME
    }

    async fn register(&self, request: &TrackingRequest) -> Result<Registered, SourceError> {
        let item = json!([{
            "number": request.tracking_number,
            "tag": request.shipment_id.as_str(),
            "order_no": request.order_id.as_str(),
        }]);
        match self.call("register", item).await? {
            Ok(a) => {
                let mut r = Registered::new(None);
                r.carrier = a
                    .get("carrier")
                    .filter(|c| !c.is_null())
                    .map(|c| c.to_string());
                Ok(r)
            }
            Err((ALREADY_REGISTERED, _)) => Ok(Registered::new(None)),
            Err((code, message)) => Err(SourceError::Permanent(
                SeventeenTrackError::Refused { code, message }.to_string(),
            )),
        }
    }

    async fn stop(&self, reg: &Registration, _why: &StopReason) -> Result<(), SourceError> {
        let mut item = json!({ "number": reg.request.tracking_number });
        if let Some(c) = reg
            .registered
            .carrier
            .as_deref()
            .and_then(|c| c.parse::<i64>().ok())
        {
            item["carrier"] = Value::from(c);
        }
        match self.call("stoptrack", json!([item])).await? {
            Ok(_) => Ok(()),
            // Not registered (any more): nothing to stop.
            Err((-18_019_902, _)) => Ok(()),
            Err((code, message)) => Err(SourceError::Permanent(
                SeventeenTrackError::Refused { code, message }.to_string(),
            )),
        }
    }
}
