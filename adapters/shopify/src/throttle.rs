//! Local models of Shopify's two rate limiters, shared by every task using one client.
//!
//! - GraphQL: a bucket of *cost points* per app and shop. Each query draws its requested
//!   cost; points come back at `restoreRate` per second up to `maximumAvailable`. Every
//!   response reports `extensions.cost.throttleStatus`, which resets the model.
//! - REST (legacy): a leaky bucket of *requests* (`X-Shopify-Shop-Api-Call-Limit: used/size`,
//!   40 leaking 2/s on the Standard plan).
//!
//! Both pace *before* sending: a request goes out only when the model says there is room,
//! so a well-behaved single client is never throttled. Time is `tokio::time`, so tests can
//! pause it.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;

/// `extensions.cost.throttleStatus` of a GraphQL response.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ThrottleStatus {
    /// Bucket size in points.
    pub maximum_available: f64,
    /// Points available when Shopify answered.
    pub currently_available: f64,
    /// Points restored per second.
    pub restore_rate: f64,
}

impl ThrottleStatus {
    /// A status from its three figures.
    pub fn new(maximum_available: f64, currently_available: f64, restore_rate: f64) -> Self {
        Self {
            maximum_available,
            currently_available,
            restore_rate,
        }
    }

    /// How long until `cost` points are available: `(cost - available) / restoreRate`
    /// seconds, zero when they already are.
    pub fn wait_for(&self, cost: f64) -> Duration {
        wait_secs(cost - self.currently_available, self.restore_rate)
    }
}

fn wait_secs(missing: f64, rate: f64) -> Duration {
    if missing <= 0.0 || !missing.is_finite() {
        return Duration::ZERO;
    }
    let rate = if rate > 0.0 { rate } else { 1.0 };
    Duration::from_secs_f64(missing / rate)
}

#[derive(Debug)]
struct CostState {
    max: f64,
    available: f64,
    restore_rate: f64,
    at: Instant,
    in_flight: f64,
}

impl CostState {
    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.available = (self.available + dt * self.restore_rate).min(self.max);
        self.at = now;
    }
}

/// The GraphQL cost bucket as this process believes it to be. Cheap to clone; clones share
/// the state (`Arc<Mutex<…>>`), so every task using the same shop draws from one model.
#[derive(Clone, Debug)]
pub struct CostBucket {
    state: Arc<Mutex<CostState>>,
}

impl CostBucket {
    /// A bucket believed full, of `max` points restoring at `restore_rate` per second. The
    /// first response replaces these guesses with Shopify's figures.
    pub fn new(max: f64, restore_rate: f64) -> Self {
        Self {
            state: Arc::new(Mutex::new(CostState {
                max,
                available: max,
                restore_rate,
                at: Instant::now(),
                in_flight: 0.0,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, CostState> {
        // A poisoned lock only means another task panicked mid-update of plain numbers.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until `cost` points are available in the model, then takes them. Returns the
    /// points taken (capped at the bucket size), to hand back to [`CostBucket::observe`] or
    /// [`CostBucket::release`].
    pub async fn acquire(&self, cost: f64) -> f64 {
        loop {
            let wait = {
                let mut s = self.lock();
                s.refill(Instant::now());
                let cost = cost.min(s.max).max(0.0);
                if s.available >= cost {
                    s.available -= cost;
                    s.in_flight += cost;
                    return cost;
                }
                wait_secs(cost - s.available, s.restore_rate)
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Records Shopify's figures from a response to a request that had reserved `reserved`
    /// points and cost `actual` (`actualQueryCost`; `None` when nothing was charged, as for
    /// a throttled request).
    ///
    /// The model keeps the lower of its own accounting (with the difference between
    /// reserved and actual cost given back) and Shopify's figure less the points other
    /// requests still hold: answers can arrive out of order, and another process may share
    /// the bucket, so neither alone is safe.
    pub fn observe(&self, status: &ThrottleStatus, reserved: f64, actual: Option<f64>) {
        let mut s = self.lock();
        s.refill(Instant::now());
        s.in_flight = (s.in_flight - reserved).max(0.0);
        if status.maximum_available > 0.0 {
            s.max = status.maximum_available;
        }
        if status.restore_rate > 0.0 {
            s.restore_rate = status.restore_rate;
        }
        let refund = (reserved - actual.unwrap_or(0.0)).max(0.0);
        let own = s.available + refund;
        let theirs = status.currently_available - s.in_flight;
        s.available = own.min(theirs).clamp(0.0, s.max);
    }

    /// Gives back points reserved by a request that got no cost figures (network error).
    pub fn release(&self, reserved: f64) {
        let mut s = self.lock();
        s.in_flight = (s.in_flight - reserved).max(0.0);
        s.refill(Instant::now());
        s.available = (s.available + reserved).min(s.max);
    }

    /// `(available, maximum, restore rate)` as the model sees them now.
    pub fn snapshot(&self) -> (f64, f64, f64) {
        let mut s = self.lock();
        s.refill(Instant::now());
        (s.available, s.max, s.restore_rate)
    }
}

#[derive(Debug)]
struct LeakState {
    size: f64,
    leak_per_sec: f64,
    used: f64,
    at: Instant,
    in_flight: f64,
}

impl LeakState {
    fn leak(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.used = (self.used - dt * self.leak_per_sec).max(0.0);
        self.at = now;
    }
}

/// The REST leaky bucket as this process believes it to be (shared between clones).
#[derive(Clone, Debug)]
pub struct LeakyBucket {
    state: Arc<Mutex<LeakState>>,
}

impl LeakyBucket {
    /// An empty bucket of `size` requests leaking `leak_per_sec`.
    pub fn new(size: u32, leak_per_sec: f64) -> Self {
        Self {
            state: Arc::new(Mutex::new(LeakState {
                size: f64::from(size),
                leak_per_sec,
                used: 0.0,
                at: Instant::now(),
                in_flight: 0.0,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, LeakState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until one more request fits, then counts it.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut s = self.lock();
                s.leak(Instant::now());
                if s.used + 1.0 <= s.size {
                    s.used += 1.0;
                    s.in_flight += 1.0;
                    return;
                }
                wait_secs(s.used + 1.0 - s.size, s.leak_per_sec)
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Records `X-Shopify-Shop-Api-Call-Limit` (`used/size`) from a response.
    pub fn observe(&self, used: u32, size: u32) {
        let mut s = self.lock();
        s.in_flight = (s.in_flight - 1.0).max(0.0);
        s.size = f64::from(size.max(1));
        s.used = (f64::from(used) + s.in_flight).min(s.size);
        s.at = Instant::now();
    }

    /// A request finished without a call-limit header.
    pub fn release(&self) {
        let mut s = self.lock();
        s.in_flight = (s.in_flight - 1.0).max(0.0);
    }
}

/// Parses `X-Shopify-Shop-Api-Call-Limit` (`32/40`).
///
/// ```
/// assert_eq!(aftercare_shopify::throttle::parse_call_limit("32/40"), Some((32, 40)));
/// assert_eq!(aftercare_shopify::throttle::parse_call_limit("x"), None);
/// ```
pub fn parse_call_limit(value: &str) -> Option<(u32, u32)> {
    let (u, s) = value.trim().split_once('/')?;
    Some((u.trim().parse().ok()?, s.trim().parse().ok()?))
}

/// Parses `Retry-After` as (fractional) seconds, e.g. `2.0`. Shopify sends a float; the
/// Node library's `parseInt`-as-milliseconds reading is a known bug (shopify-app-js#3364).
///
/// ```
/// use std::time::Duration;
/// assert_eq!(aftercare_shopify::throttle::parse_retry_after("2.0"), Some(Duration::from_secs(2)));
/// assert_eq!(aftercare_shopify::throttle::parse_retry_after("0.5"), Some(Duration::from_millis(500)));
/// ```
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn cost_bucket_waits_exactly_for_missing_points() {
        let b = CostBucket::new(100.0, 50.0);
        let start = Instant::now();
        assert_eq!(b.acquire(100.0).await, 100.0);
        assert_eq!(start.elapsed(), Duration::ZERO);
        b.acquire(50.0).await;
        // 50 points missing at 50/s: one second.
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn observe_keeps_other_reservations_deducted() {
        let b = CostBucket::new(1000.0, 100.0);
        let r1 = b.acquire(300.0).await;
        let _r2 = b.acquire(200.0).await;
        // Shopify reports 700 after the first request; the second's 200 is still out.
        b.observe(&ThrottleStatus::new(1000.0, 700.0, 100.0), r1, Some(300.0));
        let (avail, max, rate) = b.snapshot();
        assert_eq!((avail, max, rate), (500.0, 1000.0, 100.0));
        // A refund (actual cost below requested) is kept when Shopify agrees.
        let b = CostBucket::new(1000.0, 100.0);
        let r = b.acquire(300.0).await;
        b.observe(&ThrottleStatus::new(1000.0, 990.0, 100.0), r, Some(10.0));
        assert_eq!(b.snapshot().0, 990.0);
        // A stale, higher figure arriving late does not raise the model above the truth
        // (200 after both requests).
        let b = CostBucket::new(1000.0, 100.0);
        let r1 = b.acquire(400.0).await;
        let r2 = b.acquire(400.0).await;
        b.observe(&ThrottleStatus::new(1000.0, 200.0, 100.0), r2, Some(400.0));
        b.observe(&ThrottleStatus::new(1000.0, 600.0, 100.0), r1, Some(400.0));
        assert!(b.snapshot().0 <= 200.0);
    }

    #[tokio::test(start_paused = true)]
    async fn leaky_bucket_paces_after_burst() {
        let b = LeakyBucket::new(4, 2.0);
        let start = Instant::now();
        for _ in 0..4 {
            b.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        b.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_millis(500));
    }

    #[test]
    fn throttle_status_wait() {
        let s = ThrottleStatus::new(1000.0, 666.0, 50.0);
        assert_eq!(s.wait_for(752.0), Duration::from_secs_f64(86.0 / 50.0));
        assert_eq!(s.wait_for(10.0), Duration::ZERO);
    }
}
