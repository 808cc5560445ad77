//! Sending-rate limits shared by every task that sends through one provider account.
//!
//! [`SlidingWindow`] is strict: no window of its length ever holds more than its limit of
//! permits, whatever the scheduler does. It keeps the instants of the last `limit` permits
//! and grants a permit only when the oldest of them is at least a window old *at the moment
//! of granting*; a waiter that wakes (late, early, or after a stall) checks again, it never
//! goes on a slot reserved before it slept. A token bucket that reserves slots and sleeps
//! (the earlier implementation, the "virtual scheduling" GCRA) lets every waiter whose slot
//! passed during a stall go at once, and lets a full burst follow a burst at the edge of a
//! window: 9 permits in one second against 5/s.
//!
//! Time comes from a [`Ticker`], not from the [`Clock`](crate::clock::Clock): a limiter needs
//! a monotonic clock it can sleep on, while `Clock` is wall time (which may step backwards)
//! with no way to wait. [`TokioTicker`] is the default (tokio's paused clock works in tests);
//! [`ManualTicker`] moves only when told to, for property tests of schedules.
//!
//! What the limiter cannot see: the permit is granted before the request is made, so a task
//! descheduled between its permit and its request can still send later than its permit, next
//! to later ones. Pass a lower limit than the provider's if that margin matters.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::task::{Poll, Waker};
use std::time::Duration;

use async_trait::async_trait;

/// Something that paces sends. `acquire` waits until one more send is allowed.
#[async_trait]
pub trait RateLimit: Send + Sync + std::fmt::Debug {
    /// Waits for a permit.
    async fn acquire(&self);

    /// Waits for `n` permits (an SMS of `n` segments where the provider counts segments);
    /// at least one.
    async fn acquire_n(&self, n: u32) {
        for _ in 0..n.max(1) {
            self.acquire().await;
        }
    }
}

/// A monotonic time source a limiter reads and sleeps on.
#[async_trait]
pub trait Ticker: Send + Sync + std::fmt::Debug {
    /// Time since the ticker's origin; never goes backwards.
    fn now(&self) -> Duration;

    /// Returns at `at` or later (a stalled scheduler may return much later).
    async fn sleep_until(&self, at: Duration);
}

/// Tokio's clock (`tokio::time::Instant`), from the moment the ticker was made.
#[derive(Clone, Copy, Debug)]
pub struct TokioTicker {
    origin: tokio::time::Instant,
}

impl TokioTicker {
    /// A ticker starting now.
    pub fn new() -> Self {
        Self {
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioTicker {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Ticker for TokioTicker {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    async fn sleep_until(&self, at: Duration) {
        let deadline = self
            .origin
            .checked_add(at)
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(86_400 * 365));
        tokio::time::sleep_until(deadline).await;
    }
}

/// A ticker that moves only when told to: for tests and simulations. Sleepers wake when
/// [`ManualTicker::advance`] passes their deadline.
///
/// ```
/// use std::time::Duration;
/// use aftercare::ratelimit::{ManualTicker, Ticker};
/// let t = ManualTicker::new();
/// t.advance(Duration::from_millis(1500));
/// assert_eq!(t.now(), Duration::from_millis(1500));
/// ```
#[derive(Debug, Default)]
pub struct ManualTicker {
    state: Mutex<(Duration, Vec<Waker>)>,
}

impl ManualTicker {
    /// A ticker at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves time forward and wakes every sleeper (each checks its own deadline).
    pub fn advance(&self, by: Duration) {
        let wakers = {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            s.0 = s.0.saturating_add(by);
            std::mem::take(&mut s.1)
        };
        for w in wakers {
            w.wake();
        }
    }
}

#[async_trait]
impl Ticker for ManualTicker {
    fn now(&self) -> Duration {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    async fn sleep_until(&self, at: Duration) {
        std::future::poll_fn(|cx| {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if s.0 >= at {
                Poll::Ready(())
            } else {
                s.1.push(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
    }
}

/// How much earlier than its pace a permit may be granted by default, so that a waiter
/// woken late, or a sender held up for a moment (a slow store round trip, the scheduler),
/// does not cost the rate: the permits it missed are made up right after, never more than
/// the window allows. 10 ms: with the former 2 ms (two ticks of tokio's millisecond
/// timer), a dispatcher over PostgreSQL on a 2-vCPU machine reached 0.95× of a
/// 5,000/s limit, and 0.69× when it claimed one batch at a time; with 10 ms, 0.99× and
/// 0.97× in the same harness (issue 20). The price: after a pause, up to `slack / pace`
/// permits beyond the burst may go at once (one more at 100/s, none at 1/s).
pub const DEFAULT_SLACK: Duration = Duration::from_millis(10);

/// A strict rate limit: at most `limit` permits in any window of `window`, paced one every
/// `window / limit` (up to `burst` at once). Shared through an `Arc`, it paces every task
/// together; waiters take turns in arrival order.
///
/// - **Strict**: the instants of the last `limit` permits are kept; a permit is granted only
///   if the oldest of them is at least `window` before now, checked when granting. No
///   half-open window of length `window` holds more than `limit` permits.
/// - **Paced**: permits are spread one every `window / limit`; with `burst` above one, that
///   many may go at once after a pause. A waiter may be let through up to `slack` (default
///   [`DEFAULT_SLACK`]) before its pace, so lateness (the timer's, the sender's) does not eat
///   into the rate; the window bound holds regardless.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use aftercare::ratelimit::{RateLimit, SlidingWindow};
/// let limit = SlidingWindow::per_second(100.0); // 100 in any second, one every 10 ms
/// limit.acquire().await; // the first permit is immediate
/// # }
/// ```
#[derive(Debug)]
pub struct SlidingWindow {
    limit: u32,
    window: Duration,
    pace: Duration,
    burst: u32,
    slack: Duration,
    ticker: std::sync::Arc<dyn Ticker>,
    turn: tokio::sync::Mutex<()>,
    state: Mutex<WindowState>,
}

#[derive(Debug, Default)]
struct WindowState {
    /// Instants of the last `limit` permits, oldest first.
    granted: VecDeque<Duration>,
    /// When the next permit is due by the pace ("theoretical arrival time").
    next: Duration,
}

impl SlidingWindow {
    /// At most `limit` permits (at least one) in any window of `window` (at least a
    /// nanosecond), paced one every `window / limit`.
    pub fn new(limit: u32, window: Duration) -> Self {
        let limit = limit.max(1);
        let window = window.max(Duration::from_nanos(1));
        Self {
            limit,
            window,
            pace: window / limit,
            burst: 1,
            slack: DEFAULT_SLACK,
            ticker: std::sync::Arc::new(TokioTicker::new()),
            turn: tokio::sync::Mutex::new(()),
            state: Mutex::new(WindowState::default()),
        }
    }

    /// `rate` permits per second. A whole rate is enforced over one second; a fractional
    /// rate over the fewest whole seconds (up to 60) in which it is whole (1.5/s: 3 in any
    /// 2 s), else rounded down; a rate under one per second as one per `1/rate` seconds.
    /// A rate that is not positive is treated as one per hour.
    pub fn per_second(rate: f64) -> Self {
        let (limit, window) = Self::window_for(rate);
        Self::new(limit, window)
    }

    /// The `(limit, window)` [`SlidingWindow::per_second`] enforces for `rate`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use aftercare::ratelimit::SlidingWindow;
    /// assert_eq!(SlidingWindow::window_for(100.0), (100, Duration::from_secs(1)));
    /// assert_eq!(SlidingWindow::window_for(1.5), (3, Duration::from_secs(2)));
    /// assert_eq!(SlidingWindow::window_for(0.5), (1, Duration::from_secs(2)));
    /// ```
    pub fn window_for(rate: f64) -> (u32, Duration) {
        if !(rate.is_finite() && rate > 0.0) {
            return (1, Duration::from_secs(3600));
        }
        if rate < 1.0 {
            return (1, Duration::from_secs_f64((1.0 / rate).min(1e9)));
        }
        let rate = rate.min(f64::from(u32::MAX) / 60.0);
        for secs in 1..=60u32 {
            let n = rate * f64::from(secs);
            if (n - n.round()).abs() <= 1e-12 * n {
                return (n.round() as u32, Duration::from_secs(u64::from(secs)));
            }
        }
        (rate.floor() as u32, Duration::from_secs(1))
    }

    /// Lets up to `burst` permits (at most the limit) go at once after a pause.
    pub fn burst(mut self, burst: u32) -> Self {
        self.burst = burst.clamp(1, self.limit);
        self
    }

    /// How early before its pace a permit may be granted (default [`DEFAULT_SLACK`]); the
    /// window bound is never relaxed.
    pub fn slack(mut self, slack: Duration) -> Self {
        self.slack = slack;
        self
    }

    /// Takes time from `ticker` instead of tokio's clock.
    pub fn ticker(mut self, ticker: std::sync::Arc<dyn Ticker>) -> Self {
        self.ticker = ticker;
        self
    }

    /// The limit and its window.
    pub fn limit(&self) -> (u32, Duration) {
        (self.limit, self.window)
    }

    /// Grants a permit at `now`, or says when to look again.
    fn try_grant(&self, s: &mut WindowState, now: Duration) -> Result<(), Duration> {
        let mut ready = now;
        if s.granted.len() >= self.limit as usize
            && let Some(&oldest) = s.granted.front()
        {
            ready = ready.max(oldest.saturating_add(self.window));
        }
        let early = self
            .pace
            .saturating_mul(self.burst - 1)
            .saturating_add(self.slack);
        ready = ready.max(s.next.saturating_sub(early));
        if ready > now {
            return Err(ready);
        }
        s.granted.push_back(now);
        while s.granted.len() > self.limit as usize {
            s.granted.pop_front();
        }
        s.next = s.next.max(now).saturating_add(self.pace);
        Ok(())
    }
}

#[async_trait]
impl RateLimit for SlidingWindow {
    async fn acquire(&self) {
        // One waiter at a time, in arrival order; the others wait for their turn.
        let _turn = self.turn.lock().await;
        loop {
            let at = {
                let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
                match self.try_grant(&mut s, self.ticker.now()) {
                    Ok(()) => return,
                    Err(at) => at,
                }
            };
            self.ticker.sleep_until(at).await;
        }
    }
}

/// Makes the limit of a (provider, sender) pair.
type MakeLimit = dyn Fn(&str, &str) -> SlidingWindow + Send + Sync;

/// Rate limits per (provider, sender): a provider's limit is per sending identity (Twilio:
/// one message a second per long code; WhatsApp Cloud: per business phone number id), so in
/// a deployment serving many shops each shop's sender has its own bucket — one shop's burst
/// spends its own budget, never another's — while shops sharing a sender share its bucket.
/// Buckets are made on first use by the function given and kept for the deployment's life.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use aftercare::ratelimit::{RateLimit, SenderLimits, SlidingWindow};
/// let limits = SenderLimits::new(|_provider, _sender| SlidingWindow::per_second(1.0));
/// let a = limits.bucket("twilio", "+14155550100");
/// assert!(std::sync::Arc::ptr_eq(&a, &limits.bucket("twilio", "+14155550100")));
/// a.acquire().await;
/// // Another sender's first permit is immediate, whatever the first one has spent.
/// limits.bucket("twilio", "+14155550199").acquire().await;
/// # }
/// ```
pub struct SenderLimits {
    make: Box<MakeLimit>,
    buckets: Mutex<std::collections::HashMap<(String, String), std::sync::Arc<SlidingWindow>>>,
}

impl std::fmt::Debug for SenderLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SenderLimits")
            .field("buckets", &self.len())
            .finish_non_exhaustive()
    }
}

impl SenderLimits {
    /// Buckets made by `make(provider, sender)` on first use.
    pub fn new(make: impl Fn(&str, &str) -> SlidingWindow + Send + Sync + 'static) -> Self {
        Self {
            make: Box::new(make),
            buckets: Mutex::default(),
        }
    }

    /// The bucket of `sender` at `provider`: the same one for every caller naming them.
    pub fn bucket(&self, provider: &str, sender: &str) -> std::sync::Arc<SlidingWindow> {
        let mut b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        b.entry((provider.to_owned(), sender.to_owned()))
            .or_insert_with(|| std::sync::Arc::new((self.make)(provider, sender)))
            .clone()
    }

    /// How many buckets exist.
    pub fn len(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether no bucket exists yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::Context;

    use proptest::prelude::*;

    use super::*;

    /// One step of a schedule: the scheduler's freedom, made explicit.
    #[derive(Clone, Debug)]
    enum Step {
        /// `n` more tasks ask for a permit (each polled once, as a runtime would).
        Acquire(usize),
        /// Time passes and nobody runs: a stall, or a jump of the clock.
        Advance(Duration),
        /// The scheduler polls these waiters (indexes modulo the number waiting), in this
        /// order; the others stay stalled.
        Poll(Vec<usize>),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (1usize..8).prop_map(Step::Acquire),
            prop_oneof![
                (0u64..5_000).prop_map(Duration::from_micros),
                (0u64..3_000).prop_map(Duration::from_millis),
            ]
            .prop_map(Step::Advance),
            proptest::collection::vec(0usize..64, 0..12).prop_map(Step::Poll),
        ]
    }

    type Waiter<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

    /// Runs a schedule against a limiter on a manual ticker; returns the grant instants.
    /// After the schedule, time moves a quarter of the pace at a time until every waiter has
    /// its permit.
    fn run(limit: &SlidingWindow, ticker: &ManualTicker, steps: &[Step]) -> Vec<Duration> {
        let tick = (limit.pace / 4).max(Duration::from_micros(100));
        let mut cx = Context::from_waker(Waker::noop());
        let mut waiting: Vec<Waiter<'_>> = Vec::new();
        let mut granted = Vec::new();
        let mut poll = |w: &mut Waiter<'_>, granted: &mut Vec<Duration>| {
            let done = w.as_mut().poll(&mut cx).is_ready();
            if done {
                granted.push(ticker.now());
            }
            done
        };
        for s in steps {
            match s {
                Step::Acquire(n) => {
                    for _ in 0..*n {
                        let mut w: Waiter<'_> = Box::pin(limit.acquire());
                        if !poll(&mut w, &mut granted) {
                            waiting.push(w);
                        }
                    }
                }
                Step::Advance(d) => ticker.advance(*d),
                Step::Poll(order) => {
                    for i in order {
                        if waiting.is_empty() {
                            break;
                        }
                        let i = i % waiting.len();
                        if poll(&mut waiting[i], &mut granted) {
                            drop(waiting.remove(i));
                        }
                    }
                }
            }
        }
        // Then a scheduler that keeps up, until every waiter has its permit.
        let mut rounds = 0;
        while !waiting.is_empty() {
            rounds += 1;
            assert!(rounds < 100_000, "waiters starve: {} left", waiting.len());
            ticker.advance(tick);
            let mut i = 0;
            while i < waiting.len() {
                if poll(&mut waiting[i], &mut granted) {
                    drop(waiting.remove(i));
                } else {
                    i += 1;
                }
            }
        }
        granted
    }

    /// The most permits any half-open window of `window` holds.
    fn busiest(granted: &[Duration], window: Duration) -> usize {
        let mut g = granted.to_vec();
        g.sort();
        let mut most = 0;
        let mut lo = 0;
        for hi in 0..g.len() {
            while g[hi] - g[lo] >= window {
                lo += 1;
            }
            most = most.max(hi - lo + 1);
        }
        most
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Whatever the schedule (stalls, jumps, waiters polled in any order or not at
        /// all), no window of the limit's length holds more than the limit, and every
        /// waiter gets its permit.
        #[test]
        fn no_window_ever_holds_more_than_the_limit(
            limit in 1u32..12,
            window_ms in 1u64..1_500,
            burst in 1u32..6,
            slack_us in 0u64..5_000,
            steps in proptest::collection::vec(step(), 1..60),
        ) {
            let ticker = Arc::new(ManualTicker::new());
            let window = Duration::from_millis(window_ms);
            let l = SlidingWindow::new(limit, window)
                .burst(burst)
                .slack(Duration::from_micros(slack_us))
                .ticker(ticker.clone());
            let granted = run(&l, &ticker, &steps);
            let asked: usize = steps.iter().map(|s| if let Step::Acquire(n) = s { *n } else { 0 }).sum();
            prop_assert_eq!(granted.len(), asked);
            let most = busiest(&granted, window);
            prop_assert!(most <= limit as usize, "{} permits in {:?} (limit {})", most, window, limit);
        }

        /// The same for the per-second constructor's windows (fractional rates included).
        #[test]
        fn per_second_rates_hold_over_their_window(
            rate in prop_oneof![(0.2f64..3.0).boxed(), (1u32..200).prop_map(f64::from).boxed()],
            steps in proptest::collection::vec(step(), 1..40),
        ) {
            let ticker = Arc::new(ManualTicker::new());
            let l = SlidingWindow::per_second(rate).ticker(ticker.clone());
            let (limit, window) = l.limit();
            prop_assert!(f64::from(limit) / window.as_secs_f64() <= rate * (1.0 + 1e-9));
            let granted = run(&l, &ticker, &steps);
            prop_assert!(busiest(&granted, window) <= limit as usize);
        }
    }

    #[test]
    fn paced_one_at_a_time_and_on_time_with_a_coarse_scheduler() {
        // Waiters are polled every 2.5 ms only (a coarse timer): permits still come one
        // every 10 ms less the slack, and lateness does not add up.
        let ticker = Arc::new(ManualTicker::new());
        let l = SlidingWindow::per_second(100.0)
            .slack(Duration::from_millis(2))
            .ticker(ticker.clone());
        let g = run(&l, &ticker, &[Step::Acquire(50)]);
        for w in g.windows(2) {
            assert!(w[1] - w[0] >= Duration::from_millis(8), "{g:?}");
        }
        let last = *g.last().unwrap();
        assert!(last <= Duration::from_millis(490), "{last:?}");
        // Without the slack every late wake-up delays all the permits after it.
        let ticker = Arc::new(ManualTicker::new());
        let l = SlidingWindow::per_second(100.0)
            .slack(Duration::ZERO)
            .ticker(ticker.clone());
        let g = run(&l, &ticker, &[Step::Acquire(50)]);
        assert!(*g.last().unwrap() >= Duration::from_millis(490));
    }

    /// A sender held up for 8 ms at 5,000/s (a slow claim, say) loses no permits with the
    /// default slack: the 40 it missed go right after, and no second holds more than the
    /// limit. With the former 2 ms, 30 of them are lost for good.
    #[test]
    fn the_default_slack_makes_up_a_stalled_sender() {
        /// Permits in the first second (and the most in any second), for one sender asking
        /// as soon as it has its permit, polled every 50 µs; held up for 8 ms at 300 ms if
        /// `stall`.
        fn sent(slack: Option<Duration>, stall: bool) -> (usize, usize) {
            let ticker = Arc::new(ManualTicker::new());
            let mut l = SlidingWindow::per_second(5000.0).ticker(ticker.clone());
            if let Some(slack) = slack {
                l = l.slack(slack);
            }
            let mut cx = Context::from_waker(Waker::noop());
            let mut granted = Vec::new();
            let mut w: Waiter<'_> = Box::pin(l.acquire());
            let mut stalled = !stall;
            while ticker.now() < Duration::from_secs(1) {
                if w.as_mut().poll(&mut cx).is_ready() {
                    granted.push(ticker.now());
                    w = Box::pin(l.acquire());
                }
                if !stalled && ticker.now() >= Duration::from_millis(300) {
                    stalled = true;
                    ticker.advance(Duration::from_millis(8));
                } else {
                    ticker.advance(Duration::from_micros(50));
                }
            }
            (granted.len(), busiest(&granted, Duration::from_secs(1)))
        }
        let (steady, _) = sent(None, false);
        let (stalled, most) = sent(None, true);
        assert!(
            steady - stalled <= 1,
            "default slack: {steady} permits without the stall, {stalled} with it"
        );
        assert!(most <= 5_000, "{most} permits in a second");
        // A 2 ms slack makes up 10 of the 40 (its first burst, 10 more, is then cut by the
        // window in the run without the stall).
        let two = Some(Duration::from_millis(2));
        let (steady_two, _) = sent(two, false);
        let (stalled_two, _) = sent(two, true);
        assert!(
            steady_two - stalled_two >= 15 && stalled - stalled_two >= 15,
            "a 2 ms slack: {steady_two} permits without the stall, {stalled_two} with it (the default: {stalled})"
        );
    }

    /// Grants for waiters on several limiters sharing one manual ticker: each waiter's key
    /// and grant instant, with a scheduler that keeps up.
    fn run_keyed<'a>(
        ticker: &ManualTicker,
        asks: Vec<(&'static str, &'a SlidingWindow)>,
    ) -> Vec<(&'static str, Duration)> {
        let mut cx = Context::from_waker(Waker::noop());
        let mut waiting: Vec<(&'static str, Waiter<'a>)> = asks
            .into_iter()
            .map(|(k, l)| (k, Box::pin(l.acquire()) as Waiter<'a>))
            .collect();
        let mut granted = Vec::new();
        let mut rounds = 0;
        loop {
            let mut i = 0;
            while i < waiting.len() {
                if waiting[i].1.as_mut().poll(&mut cx).is_ready() {
                    granted.push((waiting.remove(i).0, ticker.now()));
                } else {
                    i += 1;
                }
            }
            if waiting.is_empty() {
                return granted;
            }
            rounds += 1;
            assert!(rounds < 100_000, "waiters starve");
            ticker.advance(Duration::from_millis(50));
        }
    }

    #[test]
    fn one_senders_burst_does_not_spend_another_senders_budget() {
        let ticker = Arc::new(ManualTicker::new());
        let t = ticker.clone();
        // Twilio's long-code limit: one message a second per sending number.
        let limits =
            SenderLimits::new(move |_, _| SlidingWindow::per_second(1.0).ticker(t.clone()));
        let big = limits.bucket("twilio", "+14155550100");
        let small = limits.bucket("twilio", "+14155550199");
        // A shop sharing the big shop's number shares its bucket; another provider's
        // sender of the same name does not.
        assert!(Arc::ptr_eq(&big, &limits.bucket("twilio", "+14155550100")));
        assert!(!Arc::ptr_eq(
            &big,
            &limits.bucket("whatsapp-cloud", "+14155550100")
        ));
        assert_eq!(limits.len(), 3);
        // The big shop asks for 20 permits first, then the small shop for 2.
        let mut asks: Vec<(&'static str, &SlidingWindow)> = vec![("big", &*big); 20];
        asks.extend([("small", &*small), ("small", &*small)]);
        let granted = run_keyed(&ticker, asks);
        let at = |k: &str| -> Vec<Duration> {
            granted
                .iter()
                .filter(|(g, _)| *g == k)
                .map(|(_, t)| *t)
                .collect()
        };
        let (big_at, small_at) = (at("big"), at("small"));
        assert_eq!((big_at.len(), small_at.len()), (20, 2));
        // The small shop's messages go at its own pace, not behind the 20.
        assert_eq!(small_at[0], Duration::ZERO);
        assert!(small_at[1] <= Duration::from_millis(1050), "{small_at:?}");
        assert!(*big_at.iter().max().unwrap() >= Duration::from_secs(18));
        // No bucket ever holds more than its limit in a window.
        assert!(busiest(&big_at, Duration::from_secs(1)) <= 1);
        assert!(busiest(&small_at, Duration::from_secs(1)) <= 1);

        // The control: one bucket for the whole account (the limiter keyed by provider
        // only) puts the small shop's second message behind the whole burst.
        let ticker = Arc::new(ManualTicker::new());
        let shared = SlidingWindow::per_second(1.0).ticker(ticker.clone());
        let mut asks: Vec<(&'static str, &SlidingWindow)> = vec![("big", &shared); 20];
        asks.extend([("small", &shared), ("small", &shared)]);
        let granted = run_keyed(&ticker, asks);
        let last_small = granted
            .iter()
            .filter(|(k, _)| *k == "small")
            .map(|(_, t)| *t)
            .max();
        assert!(last_small.unwrap() >= Duration::from_secs(20));
    }

    #[test]
    fn window_for_rates() {
        assert_eq!(SlidingWindow::window_for(1.0), (1, Duration::from_secs(1)));
        assert_eq!(
            SlidingWindow::window_for(80.0),
            (80, Duration::from_secs(1))
        );
        assert_eq!(SlidingWindow::window_for(2.5), (5, Duration::from_secs(2)));
        assert_eq!(
            SlidingWindow::window_for(1.0 / 3.0 + 1.0),
            (4, Duration::from_secs(3))
        );
        // No whole multiple within a minute: rounded down over one second.
        assert_eq!(
            SlidingWindow::window_for(std::f64::consts::PI),
            (3, Duration::from_secs(1))
        );
        assert_eq!(
            SlidingWindow::window_for(0.0),
            (1, Duration::from_secs(3600))
        );
        assert_eq!(
            SlidingWindow::window_for(f64::NAN),
            (1, Duration::from_secs(3600))
        );
    }
}
