//! The Tracking API client: auth, pacing, retries, and the [`TrackingSource`] calls.

use std::collections::BTreeMap;
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
use crate::error::ShippoError;

/// Shippo's API base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.goshippo.com/";

/// How to reach Shippo.
///
/// ```
/// let cfg = aftercare_shippo::ShippoConfig::new("shippo_live_secret");
/// assert!(!format!("{cfg:?}").contains("shippo_live_secret"));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ShippoConfig {
    token: Secret,
    base_url: Url,
    retry: RetryPolicy,
    max_wait: Duration,
    per_minute: u32,
    carriers: BTreeMap<String, String>,
}

impl ShippoConfig {
    /// The API token (`shippo_live_…` or `shippo_test_…`).
    pub fn new(token: impl Into<Secret>) -> Self {
        let carriers = [
            ("ups", "ups"),
            ("usps", "usps"),
            ("fedex", "fedex"),
            ("dhl express", "dhl_express"),
            ("dhl", "dhl_express"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
        Self {
            token: token.into(),
            base_url: Url::parse(DEFAULT_BASE_URL).unwrap_or_else(|_| fallback()),
            retry: RetryPolicy::new(Duration::from_millis(500), Duration::from_secs(10), 3),
            max_wait: Duration::from_secs(10),
            per_minute: 750,
            carriers,
        }
    }

    /// Another base URL (a test server).
    pub fn base_url(mut self, url: &str) -> Result<Self, ShippoError> {
        let u = if url.ends_with('/') {
            url.to_owned()
        } else {
            format!("{url}/")
        };
        self.base_url = Url::parse(&u).map_err(|e| ShippoError::Config(format!("{url}: {e}")))?;
        Ok(self)
    }

    /// The retries of one call.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Tracking `POST`s a minute: 750 (live keys) by default; 50 for test keys.
    pub fn per_minute(mut self, n: u32) -> Self {
        self.per_minute = n.max(1);
        self
    }

    /// Shippo's carrier token for a carrier name as the shop writes it (case-insensitive).
    pub fn carrier_token(mut self, carrier: &str, token: &str) -> Self {
        self.carriers
            .insert(carrier.trim().to_lowercase(), token.to_owned());
        self
    }
}

fn fallback() -> Url {
    Url::parse("https://api.goshippo.com/").unwrap_or_else(|_| fallback())
}

/// Shippo's Tracking API as a [`TrackingSource`].
#[derive(Clone, Debug)]
pub struct ShippoClient {
    http: reqwest::Client,
    cfg: ShippoConfig,
    pace: Arc<SlidingWindow>,
}

impl ShippoClient {
    /// A client; limits: <https://docs.goshippo.com/docs/API_Concepts/RateLimits>.
    pub fn new(cfg: ShippoConfig) -> Result<Self, ShippoError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| ShippoError::Config(e.to_string()))?;
        let pace = Arc::new(SlidingWindow::new(cfg.per_minute, Duration::from_secs(60)));
        Ok(Self { http, cfg, pace })
    }
}

#[async_trait]
impl TrackingSource for ShippoClient {
    fn name(&self) -> &str {
        SOURCE_NAME
    }

    async fn register(&self, request: &TrackingRequest) -> Result<Registered, SourceError> {
        let Some(carrier) = request
            .carrier
            .as_deref()
            .and_then(|c| self.cfg.carriers.get(&c.trim().to_lowercase()))
        else {
            return Err(SourceError::Permanent(format!(
                "Shippo needs its carrier token and `{}` has none configured (ShippoConfig::carrier_token)",
                request.carrier.as_deref().unwrap_or("no carrier")
            )));
        };
        let url = self
            .cfg
            .base_url
            .join("tracks/")
            .map_err(|e| SourceError::Permanent(e.to_string()))?;
        let body = json!({
            "carrier": carrier,
            "tracking_number": request.tracking_number,
            "metadata": format!("Order {} shipment {}", request.order_id, request.shipment_id),
        });
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.pace.acquire().await;
            let sent = self
                .http
                .post(url.clone())
                .header(
                    "Authorization",
                    [b"ShippoToken ".as_slice(), self.cfg.token.expose()].concat(),
                )
                .json(&body)
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
                        message: format!("Shippo could not be reached: {}", e.without_url()),
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
                let message = format!("Shippo answered HTTP {status}");
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
            if status >= 400 {
                return Err(SourceError::Permanent(format!(
                    "Shippo answered HTTP {status}: {v}"
                )));
            }
            let mut r = Registered::new(
                v["tracking_status"]["object_id"]
                    .as_str()
                    .map(str::to_owned),
            );
            r.carrier = Some(carrier.clone());
            return Ok(r);
        }
    }

    async fn stop(&self, _: &Registration, _: &StopReason) -> Result<(), SourceError> {
        // Shippo has no call to stop tracking a number.
        Ok(())
    }
}
