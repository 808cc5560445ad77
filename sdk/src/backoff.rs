//! Exponential backoff with full jitter.

use std::time::Duration;

use rand::Rng as _;

/// How failures are retried: exponential delays with jitter, a cap, and a maximum number
/// of attempts after which the work is dead-lettered.
///
/// ```
/// use aftercare::backoff::RetryPolicy;
/// use std::time::Duration;
/// let p = RetryPolicy::default();
/// // The third attempt waits between half and all of base × 2².
/// let d = p.delay(3, None);
/// assert!(d >= Duration::from_secs(20) && d <= Duration::from_secs(40));
/// // A provider's Retry-After is a floor.
/// assert!(p.delay(1, Some(Duration::from_secs(120))) >= Duration::from_secs(120));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Delay before the second attempt (before jitter).
    pub base: Duration,
    /// The longest delay.
    pub max_delay: Duration,
    /// Attempts before giving up.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(10),
            max_delay: Duration::from_secs(60 * 60),
            max_attempts: 8,
        }
    }
}

impl RetryPolicy {
    /// A policy.
    pub fn new(base: Duration, max_delay: Duration, max_attempts: u32) -> Self {
        Self {
            base,
            max_delay,
            max_attempts,
        }
    }

    /// The delay after failed attempt number `attempt` (1-based): `base × 2^(attempt−1)`,
    /// capped, then jittered to between half and all of it ("equal jitter"), and never less
    /// than `retry_after`.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let raw = self
            .base
            .checked_mul(1u32 << exp)
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        let half = raw / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        let extra = if jitter_ms == 0 {
            0
        } else {
            rand::thread_rng().gen_range(0..=jitter_ms)
        };
        let d = half + Duration::from_millis(extra);
        match retry_after {
            Some(ra) if ra > d => ra,
            _ => d,
        }
    }

    /// Whether another attempt is allowed after `attempts` have failed.
    pub fn may_retry(&self, attempts: u32) -> bool {
        attempts < self.max_attempts
    }
}
