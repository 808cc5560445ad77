//! Platform rate limits as their APIs announce them: quota headers (`X-Rate-Limit-*`,
//! `X-RateLimit-*`), `Retry-After`, and a [`QuotaGate`] that paces requests so the quota is
//! never exceeded: it counts the requests it lets through against what the platform last
//! said was left, waits for the window to reset when nothing is left, and stops everything
//! after a `429` until the platform's wait is over.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// How a reset header counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResetUnit {
    /// Seconds until the window resets.
    Seconds,
    /// Milliseconds until the window resets.
    Milliseconds,
    /// The Unix time (seconds) at which it resets.
    EpochSeconds,
}

/// The names of a platform's quota headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct QuotaHeaders {
    /// The quota of the window (`X-Rate-Limit-Requests-Quota`).
    pub limit: &'static str,
    /// What is left of it (`X-Rate-Limit-Requests-Left`).
    pub remaining: &'static str,
    /// When the window resets (`X-Rate-Limit-Time-Reset-Ms`).
    pub reset: &'static str,
    /// How `reset` counts.
    pub reset_unit: ResetUnit,
}

impl QuotaHeaders {
    /// Headers with these names.
    pub const fn new(
        limit: &'static str,
        remaining: &'static str,
        reset: &'static str,
        reset_unit: ResetUnit,
    ) -> Self {
        Self {
            limit,
            remaining,
            reset,
            reset_unit,
        }
    }

    /// BigCommerce: one quota per store per window (`X-Rate-Limit-Requests-Quota`,
    /// `X-Rate-Limit-Requests-Left`, `X-Rate-Limit-Time-Reset-Ms`), per its "API rate limits"
    /// page.
    pub const BIGCOMMERCE: Self = Self::new(
        "X-Rate-Limit-Requests-Quota",
        "X-Rate-Limit-Requests-Left",
        "X-Rate-Limit-Time-Reset-Ms",
        ResetUnit::Milliseconds,
    );

    /// Reads a response's headers through `get` (case-insensitive lookup by name).
    ///
    /// ```
    /// use aftercare::platform::limits::QuotaHeaders;
    /// let h = [("x-rate-limit-requests-left", "3"), ("x-rate-limit-time-reset-ms", "1500"), ("x-rate-limit-requests-quota", "150")];
    /// let get = |n: &str| h.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| *v);
    /// let q = QuotaHeaders::BIGCOMMERCE.read(get, chrono::Utc::now());
    /// assert_eq!((q.limit, q.remaining), (Some(150), Some(3)));
    /// assert_eq!(q.reset_after, Some(std::time::Duration::from_millis(1500)));
    /// ```
    pub fn read<'a>(&self, get: impl Fn(&str) -> Option<&'a str>, now: DateTime<Utc>) -> Quota {
        let num = |name: &str| get(name).and_then(|v| v.trim().parse::<u64>().ok());
        let reset_after = num(self.reset).map(|n| match self.reset_unit {
            ResetUnit::Seconds => Duration::from_secs(n),
            ResetUnit::Milliseconds => Duration::from_millis(n),
            ResetUnit::EpochSeconds => {
                let now = u64::try_from(now.timestamp()).unwrap_or(0);
                Duration::from_secs(n.saturating_sub(now))
            }
        });
        Quota {
            limit: num(self.limit),
            remaining: num(self.remaining),
            reset_after,
        }
    }
}

/// What a response said of the quota.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Quota {
    /// The window's quota.
    pub limit: Option<u64>,
    /// Requests left in the window.
    pub remaining: Option<u64>,
    /// Time until the window resets.
    pub reset_after: Option<Duration>,
}

/// A `Retry-After` value: delta-seconds (`"120"`) or an HTTP-date
/// (`"Wed, 21 Oct 2026 07:28:00 GMT"`), as the time to wait from `now` (zero for a date in
/// the past). `None` when it is neither.
///
/// ```
/// use aftercare::platform::limits::retry_after;
/// let now = "2026-10-21T07:27:00Z".parse().unwrap();
/// assert_eq!(retry_after("120", now), Some(std::time::Duration::from_secs(120)));
/// assert_eq!(retry_after("Wed, 21 Oct 2026 07:28:00 GMT", now), Some(std::time::Duration::from_secs(60)));
/// assert_eq!(retry_after("soon", now), None);
/// ```
pub fn retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(v).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

#[derive(Debug, Default)]
struct GateState {
    /// Requests the platform still allows in this window, counting those let through
    /// since it said so; `None` until a response says.
    remaining: Option<u64>,
    /// When the window resets.
    resets_at: Option<Instant>,
    /// After a `429`: nothing goes before this.
    blocked_until: Option<Instant>,
}

/// Paces requests to a platform so its announced quota is never exceeded.
///
/// Before each request call [`QuotaGate::acquire`]; after each response,
/// [`QuotaGate::observe`] with what its headers said, or [`QuotaGate::throttled`] after a
/// `429` with the wait the platform asked for. The gate lets a request through only while
/// the count of requests left (the lowest figure announced for the window, minus the
/// requests let through since) is above `reserve`; otherwise it waits for the window's
/// reset. Answers may arrive late and out of order (several requests in flight): a late
/// one never raises the count nor moves the reset earlier, at the price of waiting, when
/// an answer of the next window arrives before the known reset, until that window's reset.
/// Time is tokio's, so tests run it with a paused clock (`tests/tests/quota_gate.rs` checks
/// the promise on random sequences).
#[derive(Debug, Default)]
pub struct QuotaGate {
    state: Mutex<GateState>,
    reserve: u64,
}

impl QuotaGate {
    /// A gate that keeps `reserve` requests of each window unused (for other apps sharing a
    /// store-wide quota, or requests already in flight elsewhere).
    pub fn new(reserve: u64) -> Self {
        Self {
            state: Mutex::new(GateState::default()),
            reserve,
        }
    }

    /// Waits until a request may go, and counts it.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut s = match self.state.lock() {
                    Ok(s) => s,
                    Err(p) => p.into_inner(),
                };
                let now = Instant::now();
                if let Some(until) = s.blocked_until.filter(|u| *u > now) {
                    Some(until)
                } else {
                    s.blocked_until = None;
                    if s.resets_at.is_some_and(|r| r <= now) {
                        // A new window: its figure is unknown until a response says.
                        s.remaining = None;
                        s.resets_at = None;
                    }
                    match s.remaining {
                        // Nothing left: wait for the window's reset. When no answer said
                        // when that is, try one request a second later (the platform
                        // answers it, or answers a 429 with its wait); without this, a
                        // figure of 0 with no reset time would block forever.
                        Some(left) if left <= self.reserve => {
                            Some(*s.resets_at.get_or_insert(now + Duration::from_secs(1)))
                        }
                        Some(left) => {
                            s.remaining = Some(left - 1);
                            None
                        }
                        None => None,
                    }
                }
            };
            match wait {
                None => return,
                Some(until) => tokio::time::sleep_until(until).await,
            }
        }
    }

    /// Takes what a response's headers said.
    ///
    /// While the window the gate knows is open (its reset has not passed), every answer
    /// counts against it: the lower of the announced figure and the gate's own count wins
    /// and the reset time only moves later, so an answer arriving late or out of order (its
    /// reset time, measured from its late arrival, looks later) never raises the count or
    /// ends the window early. Once that reset has passed, the next answer with a reset time
    /// opens the next window with its figures.
    pub fn observe(&self, quota: &Quota) {
        let mut s = match self.state.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        let now = Instant::now();
        let open = s.resets_at.filter(|r| *r > now);
        match (quota.reset_after, open) {
            (Some(after), None) => {
                s.resets_at = Some(now + after);
                s.remaining = quota.remaining;
                return;
            }
            (Some(after), Some(r)) => s.resets_at = Some(r.max(now + after)),
            (None, _) => {}
        }
        if let Some(left) = quota.remaining {
            s.remaining = Some(s.remaining.map_or(left, |mine| mine.min(left)));
        }
    }

    /// After a `429`: nothing goes for `wait` (the platform's reset or `Retry-After`).
    pub fn throttled(&self, wait: Duration) {
        let mut s = match self.state.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        let until = Instant::now() + wait;
        s.blocked_until = Some(s.blocked_until.map_or(until, |b| b.max(until)));
        s.remaining = Some(0);
        // Never earlier than a reset already known: a late `429` of an earlier window
        // must not end the current one early.
        s.resets_at = Some(s.resets_at.map_or(until, |r| r.max(until)));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_gate_waits_for_the_reset_when_nothing_is_left() {
        let gate = QuotaGate::new(0);
        let start = Instant::now();
        gate.acquire().await;
        gate.observe(&Quota {
            limit: Some(3),
            remaining: Some(2),
            reset_after: Some(Duration::from_secs(30)),
        });
        gate.acquire().await;
        gate.acquire().await;
        assert_eq!(Instant::now(), start, "two left: no wait");
        // The quota is used up: the next request waits for the window to reset.
        gate.acquire().await;
        assert_eq!(Instant::now() - start, Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_stops_everything_for_the_wait() {
        let gate = QuotaGate::new(0);
        let start = Instant::now();
        gate.throttled(Duration::from_millis(1500));
        gate.acquire().await;
        assert_eq!(Instant::now() - start, Duration::from_millis(1500));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stale_higher_figure_never_raises_the_count() {
        let gate = QuotaGate::new(1);
        gate.observe(&Quota {
            limit: Some(10),
            remaining: Some(2),
            reset_after: Some(Duration::from_secs(10)),
        });
        // A response sent earlier arrives late, saying more was left.
        gate.observe(&Quota {
            limit: Some(10),
            remaining: Some(9),
            reset_after: Some(Duration::from_secs(10)),
        });
        let start = Instant::now();
        gate.acquire().await; // 2 -> 1
        assert_eq!(Instant::now(), start);
        gate.acquire().await; // 1 left = the reserve: waits for the reset
        assert_eq!(Instant::now() - start, Duration::from_secs(10));
    }
}
