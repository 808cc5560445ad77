//! # aftercare-desk-http
//!
//! JSON over HTTP with a helpdesk's rate limit, shared by the Basic-auth helpdesk adapters
//! (Freshdesk, Gorgias) so neither copies the other: `429` waited out per `Retry-After` (up
//! to `max_wait`, `attempts` tries), `5xx` and network errors repeated only for requests
//! that may be repeated ([`Repeat`]), `404` as `None`, other answers refused with their
//! status and the start of their text.

#![cfg_attr(docsrs, feature(doc_cfg))]

use std::time::Duration;

use aftercare::helpdesk::HelpdeskError;
use aftercare::platform::limits::retry_after;
use serde_json::Value;

/// Whether a request may be repeated after a failure that may have reached the desk.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// A read, or a write the desk de-duplicates: repeated after a 5xx or a network error.
    Safe,
    /// A create that might have been made: repeated only after a `429` (nothing was done).
    OnlyThrottled,
}

/// A desk's HTTP client: Basic credentials (the password is an API key, never printed),
/// the longest `Retry-After` waited out, and the tries per request.
#[derive(Clone)]
pub struct Http {
    /// The HTTP client (with its timeout).
    pub client: reqwest::Client,
    /// The Basic user (an email or an API key, as the desk documents).
    pub user: String,
    /// The Basic password (an API key or `X`, as the desk documents).
    pub password: String,
    /// The longest `Retry-After` waited out before giving up.
    pub max_wait: Duration,
    /// Tries per request.
    pub attempts: u32,
}

impl std::fmt::Debug for Http {
    // The password (an API key) never shows.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

impl Http {
    /// Sends `body` (if any) as JSON with `method` to `url`: the answer's JSON, `None` for a
    /// `404`, or the error classified for the ticket flow.
    pub async fn call(
        &self,
        method: reqwest::Method,
        url: url::Url,
        body: Option<&Value>,
        repeat: Repeat,
    ) -> Result<Option<Value>, HelpdeskError> {
        let mut last = HelpdeskError::Transient("no attempt made".into());
        for attempt in 1..=self.attempts.max(1) {
            let mut req = self
                .client
                .request(method.clone(), url.clone())
                .basic_auth(&self.user, Some(&self.password))
                .header("Accept", "application/json");
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    last = HelpdeskError::Transient(format!("{method} {}: {e}", url.path()));
                    if repeat == Repeat::Safe && attempt < self.attempts {
                        tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt))).await;
                        continue;
                    }
                    return Err(last);
                }
            };
            let status = resp.status().as_u16();
            if status == 429 {
                let wait = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry_after(v, chrono::Utc::now()));
                tracing::info!(status, ?wait, path = url.path(), "helpdesk rate limited");
                last = HelpdeskError::RateLimited {
                    retry_after_secs: wait.map(|w| w.as_secs()),
                };
                let wait = wait.unwrap_or(Duration::from_secs(1));
                if wait <= self.max_wait && attempt < self.attempts {
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(last);
            }
            let text = resp.text().await.unwrap_or_default();
            match status {
                200..=299 => {
                    if text.trim().is_empty() {
                        return Ok(Some(Value::Null));
                    }
                    return serde_json::from_str(&text)
                        .map(Some)
                        .map_err(|e| HelpdeskError::Transient(format!("unreadable answer: {e}")));
                }
                404 => return Ok(None),
                500..=599 => {
                    last = HelpdeskError::Transient(format!("HTTP {status}"));
                    if repeat == Repeat::Safe && attempt < self.attempts {
                        tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt))).await;
                        continue;
                    }
                    return Err(last);
                }
                _ => {
                    return Err(HelpdeskError::Refused {
                        status,
                        message: text.chars().take(300).collect(),
                    });
                }
            }
        }
        Err(last)
    }
}
