//! JSON over HTTP with the desk's rate limit: `429` waited out per `Retry-After` (up to
//! `max_wait`, `attempts` tries), `5xx` and network errors repeated only for requests that
//! may be repeated.

use std::time::Duration;

use aftercare::helpdesk::HelpdeskError;
use aftercare::platform::limits::retry_after;
use serde_json::Value;

/// Whether a request may be repeated after a failure that may have reached the desk.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeat {
    Safe,
    OnlyThrottled,
}

#[derive(Clone)]
pub(crate) struct Http {
    pub(crate) client: reqwest::Client,
    pub(crate) user: String,
    pub(crate) password: String,
    pub(crate) max_wait: Duration,
    pub(crate) attempts: u32,
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
    pub(crate) async fn call(
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
