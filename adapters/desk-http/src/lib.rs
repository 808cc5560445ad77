//! # aftercare-desk-http
//!
//! JSON over HTTP with a helpdesk's rate limit, shared by the Basic-auth helpdesk adapters
//! (Freshdesk, Gorgias) so neither copies the other: `429` waited out per `Retry-After` (up
//! to `max_wait`, `attempts` tries), `5xx` and network errors repeated only for requests
//! that may be repeated ([`Repeat`]), `404` as `None`, other answers refused with their
//! status and the start of their text.
//!
//! Calls are also **paced** by the desk's budget headers ([`Pace`], shared by every clone of
//! a client): Freshdesk's `X-RateLimit-Total` / `X-RateLimit-Remaining` (per account per
//! minute; `X-RateLimit-Used-CurrentRequest` is logged) and Gorgias'
//! `X-Gorgias-Account-Api-Call-Limit: used/limit`. Near the end of the budget, calls are
//! spaced at the plan's sustainable rate (window ÷ total); with nothing left, or after a
//! `429`, no call is made until the window (or `Retry-After`) has passed — a wait longer
//! than `max_wait` is returned at once as [`HelpdeskError::RateLimited`] for the inbox to
//! retry, instead of spending a call that the desk counts even when it refuses it. The
//! merchant's own automations (Freshdesk webhooks count against the same budget) keep the
//! reserve.

#![cfg_attr(docsrs, feature(doc_cfg))]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// Paces a desk's calls by its rate-limit headers (see the [crate] documentation).
/// Clones share one budget.
#[derive(Clone, Debug)]
pub struct Pace {
    window: Duration,
    state: Arc<Mutex<PaceState>>,
}

#[derive(Debug, Default)]
struct PaceState {
    not_before: Option<Instant>,
    remaining: Option<u64>,
    total: Option<u64>,
}

impl Pace {
    /// A budget renewed every `window` (Freshdesk: a minute; Gorgias: 20 seconds).
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            state: Arc::default(),
        }
    }

    /// The last budget seen: `(remaining, total)`.
    pub fn budget(&self) -> Option<(u64, u64)> {
        let s = self.state.lock().ok()?;
        Some((s.remaining?, s.total?))
    }

    /// How long to wait before the next call, if at all.
    pub fn wait(&self, now: Instant) -> Option<Duration> {
        let s = self.state.lock().ok()?;
        s.not_before
            .and_then(|t| t.checked_duration_since(now))
            .filter(|d| !d.is_zero())
    }

    /// Learns from an answer's headers.
    pub fn observe(&self, headers: &reqwest::header::HeaderMap, now: Instant) {
        let num = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let (remaining, total) = match (num("x-ratelimit-remaining"), num("x-ratelimit-total")) {
            (Some(r), Some(t)) => (r, t),
            _ => {
                // Gorgias: `used/limit` in the current window.
                let Some((used, limit)) = headers
                    .get("x-gorgias-account-api-call-limit")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split_once('/'))
                    .and_then(|(u, l)| {
                        Some((u.trim().parse::<u64>().ok()?, l.trim().parse::<u64>().ok()?))
                    })
                else {
                    return;
                };
                (limit.saturating_sub(used), limit)
            }
        };
        if total == 0 {
            return;
        }
        tracing::debug!(
            remaining,
            total,
            cost = num("x-ratelimit-used-currentrequest"),
            "helpdesk rate budget"
        );
        // Keep a tenth of the budget (one call at least) for everyone else on the account.
        let reserve = (total / 10).max(1);
        let next = if remaining == 0 {
            Some(now + self.window)
        } else if remaining <= reserve {
            Some(now + self.window / u32::try_from(total).unwrap_or(u32::MAX))
        } else {
            None
        };
        if let Ok(mut s) = self.state.lock() {
            s.remaining = Some(remaining);
            s.total = Some(total);
            // A later `429` wait is not shortened by a budget header.
            s.not_before = match (s.not_before, next) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (Some(a), None) if a > now => Some(a),
                (_, n) => n,
            };
        }
    }

    /// Learns from a `429`: no call before `wait` (its `Retry-After`) has passed; the
    /// desk's own word replaces any estimate from the budget headers.
    pub fn retry_after(&self, wait: Duration, now: Instant) {
        if let Ok(mut s) = self.state.lock() {
            s.not_before = Some(now + wait);
        }
    }
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
    /// The desk's budget, paced by its headers.
    pub pace: Pace,
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
            if let Some(wait) = self.pace.wait(Instant::now()) {
                if wait > self.max_wait {
                    // Not spent on a call the desk would refuse (and count).
                    return Err(HelpdeskError::RateLimited {
                        retry_after_secs: Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0)),
                    });
                }
                tracing::debug!(?wait, "pacing the helpdesk's rate budget");
                tokio::time::sleep(wait).await;
            }
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
            if status != 429 {
                self.pace.observe(resp.headers(), Instant::now());
            }
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
                let now = Instant::now();
                let wait = match wait {
                    // The desk's own word: it replaces what the budget headers suggest.
                    Some(w) => {
                        self.pace.retry_after(w, now);
                        w
                    }
                    None => {
                        self.pace.observe(resp.headers(), now);
                        self.pace.retry_after(Duration::from_secs(1), now);
                        self.pace.wait(now).unwrap_or(Duration::from_secs(1))
                    }
                };
                if wait <= self.max_wait && attempt < self.attempts {
                    // The pace holds the next attempt until `Retry-After` has passed.
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
