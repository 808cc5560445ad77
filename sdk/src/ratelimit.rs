//! Sending-rate limits shared by every task that sends through one provider account.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

/// Something that paces sends. `acquire` waits until one more send is allowed.
#[async_trait]
pub trait RateLimit: Send + Sync + std::fmt::Debug {
    /// Waits for a permit.
    async fn acquire(&self);
}

/// A token bucket: `rate` permits per second on average, bursts up to `burst`.
/// Shared through an `Arc`, it paces every task together; waiters reserve their slot, so
/// the rate holds however many tasks wait.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use aftercare::ratelimit::{RateLimit, TokenBucket};
/// let bucket = TokenBucket::new(100.0, 1);
/// bucket.acquire().await; // the first permit is immediate
/// # }
/// ```
#[derive(Debug)]
pub struct TokenBucket {
    interval: Duration,
    burst: u32,
    // The time at which the bucket will be full again, minus one interval per token used:
    // the "virtual scheduling" form of the GCRA, which needs one number.
    next_free: Mutex<Instant>,
}

impl TokenBucket {
    /// A bucket allowing `rate_per_sec` on average (must be positive; non-positive values
    /// are treated as one per hour) and `burst` at once (at least one).
    pub fn new(rate_per_sec: f64, burst: u32) -> Self {
        let rate = if rate_per_sec.is_finite() && rate_per_sec > 0.0 {
            rate_per_sec
        } else {
            1.0 / 3600.0
        };
        Self {
            interval: Duration::from_secs_f64(1.0 / rate),
            burst: burst.max(1),
            next_free: Mutex::new(Instant::now()),
        }
    }

    /// Reserves a slot and returns how long to wait for it.
    fn reserve(&self) -> Duration {
        let now = Instant::now();
        let mut tat = self.next_free.lock().unwrap_or_else(|e| e.into_inner());
        let burst_window = self.interval * (self.burst - 1);
        // Theoretical arrival time of this request.
        let t = (*tat).max(now);
        let allowed_at = t.checked_sub(burst_window).unwrap_or(now);
        *tat = t + self.interval;
        allowed_at.saturating_duration_since(now)
    }
}

#[async_trait]
impl RateLimit for TokenBucket {
    async fn acquire(&self) {
        let wait = self.reserve();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}
