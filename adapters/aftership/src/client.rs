//! The Tracking API client: auth, pacing, retries, and the [`TrackingSource`] calls.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare::model::ShipmentStatus;
use aftercare::platform::limits::retry_after;
use aftercare::ratelimit::{RateLimit, SlidingWindow};
use aftercare::tracking_source::{
    Registered, Registration, SourceError, StopReason, TrackingRequest, TrackingSource,
};
use aftercare::webhook::Secret;
use async_trait::async_trait;
use chrono::Utc;
use reqwest::Method;
use serde_json::{Value, json};
use url::Url;

use crate::SOURCE_NAME;
use crate::error::AfterShipError;
use crate::payload::Envelope;

/// The API's base URL at the version this crate was written against.
pub const DEFAULT_BASE_URL: &str = "https://api.aftership.com/tracking/2026-07/";

/// `meta.code` of "Tracking already exists".
const ALREADY_EXISTS: i64 = 4003;

/// How to reach AfterShip.
///
/// ```
/// use aftercare_aftership::AfterShipConfig;
/// let cfg = AfterShipConfig::new("asat_secret_key").carrier_slug("Royal Mail", "royal-mail");
/// assert!(!format!("{cfg:?}").contains("asat_secret_key"));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AfterShipConfig {
    api_key: Secret,
    base_url: Url,
    timeout: Duration,
    retry: RetryPolicy,
    /// A wait longer than this (from `Retry-After` / `X-RateLimit-Reset`) is not slept
    /// through in the call: it is reported as a quota error for the caller to back off.
    max_wait: Duration,
    slugs: BTreeMap<String, String>,
}

impl AfterShipConfig {
    /// The API key (`as-api-key`).
    pub fn new(api_key: impl Into<Secret>) -> Self {
        let slugs = [
            ("ups", "ups"),
            ("usps", "usps"),
            ("fedex", "fedex"),
            ("dhl express", "dhl"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
        Self {
            api_key: api_key.into(),
            base_url: Url::parse(DEFAULT_BASE_URL).unwrap_or_else(|_| unreachable_url()),
            timeout: Duration::from_secs(20),
            retry: RetryPolicy::new(Duration::from_millis(500), Duration::from_secs(10), 3),
            max_wait: Duration::from_secs(10),
            slugs,
        }
    }

    /// Another base URL (a version, a test server). A trailing `/` is added.
    pub fn base_url(mut self, url: &str) -> Result<Self, AfterShipError> {
        let with_slash = if url.ends_with('/') {
            url.to_owned()
        } else {
            format!("{url}/")
        };
        self.base_url =
            Url::parse(&with_slash).map_err(|e| AfterShipError::Config(format!("{url}: {e}")))?;
        Ok(self)
    }

    /// The retries of one call.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The longest wait slept through inside a call (10 s by default).
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// AfterShip's courier slug for a carrier name as the shop writes it (case-insensitive).
    /// Carriers without one are left to AfterShip's detection.
    pub fn carrier_slug(mut self, carrier: &str, slug: &str) -> Self {
        self.slugs
            .insert(carrier.trim().to_lowercase(), slug.to_owned());
        self
    }
}

fn unreachable_url() -> Url {
    // DEFAULT_BASE_URL parses; this is never reached.
    Url::parse("https://api.aftership.com/").unwrap_or_else(|_| unreachable_url())
}

/// The AfterShip Tracking API as a [`TrackingSource`].
#[derive(Clone, Debug)]
pub struct AfterShipClient {
    http: reqwest::Client,
    cfg: AfterShipConfig,
    /// `POST /trackings`: 20 requests a second.
    create_pace: Arc<SlidingWindow>,
    /// `GET|PUT|DELETE /trackings/:id`, `mark-as-completed`, `GET /trackings`: 5 a second.
    other_pace: Arc<SlidingWindow>,
}

impl AfterShipClient {
    /// A client; limits from
    /// <https://www.aftership.com/docs/tracking/2025-01/quickstart/rate-limit>.
    pub fn new(cfg: AfterShipConfig) -> Result<Self, AfterShipError> {
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .build()
            .map_err(|e| AfterShipError::Config(e.to_string()))?;
        Ok(Self {
            http,
            cfg,
            create_pace: Arc::new(SlidingWindow::new(20, Duration::from_secs(1))),
            other_pace: Arc::new(SlidingWindow::new(5, Duration::from_secs(1))),
        })
    }

    fn url(&self, path: &str) -> Result<Url, SourceError> {
        self.cfg
            .base_url
            .join(path)
            .map_err(|e| SourceError::Permanent(format!("bad AfterShip path {path}: {e}")))
    }

    /// One call with pacing and retries: the HTTP status and the parsed envelope.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Envelope), SourceError> {
        let url = self.url(path)?;
        let pace = if method == Method::POST && path == "trackings" {
            &self.create_pace
        } else {
            &self.other_pace
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            pace.acquire().await;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .header("as-api-key", self.cfg.api_key.expose())
                .header("Content-Type", "application/json");
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    let msg = AfterShipError::Http(e.without_url().to_string()).to_string();
                    if self.cfg.retry.may_retry(attempt) {
                        tokio::time::sleep(self.cfg.retry.delay(attempt, None)).await;
                        continue;
                    }
                    return Err(SourceError::Transient {
                        retry_after: None,
                        message: msg,
                    });
                }
            };
            let status = resp.status().as_u16();
            let now = Utc::now();
            let wait = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, now))
                .or_else(|| {
                    // Unix seconds (the SDK's bug compared them with milliseconds).
                    let reset = resp.headers().get("x-ratelimit-reset")?.to_str().ok()?;
                    let at = reset.trim().parse::<i64>().ok()?;
                    Some(Duration::from_secs(
                        u64::try_from(at - now.timestamp()).ok()?,
                    ))
                });
            let text = resp.text().await.unwrap_or_default();
            let env: Envelope = serde_json::from_str(&text).unwrap_or_default();
            let err = || AfterShipError::Api {
                status,
                code: env.meta.code,
                message: env.meta.message.clone().unwrap_or_default(),
            };
            if status == 429 {
                let fits = wait.is_none_or(|w| w <= self.cfg.max_wait);
                if fits && self.cfg.retry.may_retry(attempt) {
                    tokio::time::sleep(self.cfg.retry.delay(attempt, wait)).await;
                    continue;
                }
                return Err(SourceError::Quota {
                    retry_after: wait,
                    message: err().to_string(),
                });
            }
            if status >= 500 {
                if self.cfg.retry.may_retry(attempt) {
                    tokio::time::sleep(self.cfg.retry.delay(attempt, wait)).await;
                    continue;
                }
                return Err(SourceError::Transient {
                    retry_after: wait,
                    message: err().to_string(),
                });
            }
            return Ok((status, env));
        }
    }

    fn tracking_of(data: Option<&Value>) -> Option<&Value> {
        let d = data?;
        d.get("tracking").or(Some(d))
    }

    async fn find_id(&self, number: &str) -> Result<Option<String>, SourceError> {
        let mut url = self.url("trackings")?;
        url.query_pairs_mut()
            .append_pair("tracking_numbers", number);
        let path = url
            .as_str()
            .strip_prefix(self.cfg.base_url.as_str())
            .unwrap_or("trackings")
            .to_owned();
        let (status, env) = self.call(Method::GET, &path, None).await?;
        if status >= 400 {
            return Ok(None);
        }
        Ok(env
            .data
            .as_ref()
            .and_then(|d| d.get("trackings"))
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(|t| t.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned))
    }
}

#[async_trait]
impl TrackingSource for AfterShipClient {
    fn name(&self) -> &str {
        SOURCE_NAME
    }

    async fn register(&self, request: &TrackingRequest) -> Result<Registered, SourceError> {
        let mut body = json!({
            "tracking_number": request.tracking_number,
            "order_id": request.order_id.as_str(),
            "custom_fields": { "aftercare_shipment_id": request.shipment_id.as_str() },
        });
        if let Some(slug) = request
            .carrier
            .as_deref()
            .and_then(|c| self.cfg.slugs.get(&c.trim().to_lowercase()))
        {
            body["slug"] = Value::from(slug.as_str());
        }
        let (status, env) = self.call(Method::POST, "trackings", Some(&body)).await?;
        let ok = (200..300).contains(&status) || env.meta.code == ALREADY_EXISTS;
        if !ok {
            return Err(AfterShipError::Api {
                status,
                code: env.meta.code,
                message: env.meta.message.unwrap_or_default(),
            }
            .into());
        }
        let t = Self::tracking_of(env.data.as_ref());
        let text = |k: &str| {
            t.and_then(|t| t.get(k))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let mut r = Registered::new(text("id"));
        r.carrier = text("slug");
        Ok(r)
    }

    async fn stop(&self, reg: &Registration, why: &StopReason) -> Result<(), SourceError> {
        let id = match &reg.registered.reference {
            Some(id) => Some(id.clone()),
            None => self.find_id(&reg.request.tracking_number).await?,
        };
        let Some(id) = id else {
            return Ok(());
        };
        let (method, path, body) = match why {
            StopReason::Final(ShipmentStatus::Delivered) => (
                Method::POST,
                format!("trackings/{id}/mark-as-completed"),
                Some(json!({"reason": "DELIVERED"})),
            ),
            StopReason::Final(ShipmentStatus::Returned) => (
                Method::POST,
                format!("trackings/{id}/mark-as-completed"),
                Some(json!({"reason": "RETURNED_TO_SENDER"})),
            ),
            _ => (Method::DELETE, format!("trackings/{id}"), None),
        };
        let (status, env) = self.call(method, &path, body.as_ref()).await?;
        if (200..300).contains(&status) || status == 404 {
            return Ok(());
        }
        Err(AfterShipError::Api {
            status,
            code: env.meta.code,
            message: env.meta.message.unwrap_or_default(),
        }
        .into())
    }
}
