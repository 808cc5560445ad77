//! The shared rate limit under a stalled scheduler, on tokio's paused clock: a stall is
//! `tokio::time::advance`, which lets every sleep that fell due during it finish at the same
//! instant, as a runtime that did not poll for that long would.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::ratelimit::{RateLimit, SlidingWindow};
use tokio::time::Instant;

/// Grants `n` permits from tasks that all wait together, with a stall of `stall` once every
/// task is waiting; returns the instants the permits were granted.
async fn grants(limit: Arc<dyn RateLimit>, n: usize, stall: Duration) -> Vec<Instant> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for _ in 0..n {
        let (limit, seen) = (limit.clone(), seen.clone());
        tasks.push(tokio::spawn(async move {
            limit.acquire().await;
            seen.lock().unwrap().push(Instant::now());
        }));
    }
    // Let every task reach its wait, then stall.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    tokio::time::advance(stall).await;
    for t in tasks {
        t.await.unwrap();
    }
    let mut v = seen.lock().unwrap().clone();
    v.sort();
    v
}

/// The most permits any window of `window` (half-open) holds.
fn busiest(grants: &[Instant], window: Duration) -> usize {
    grants
        .iter()
        .map(|&start| {
            grants
                .iter()
                .filter(|&&g| g >= start && g < start + window)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test(start_paused = true)]
async fn a_stall_does_not_release_every_waiter_at_once() {
    let g = grants(
        Arc::new(SlidingWindow::per_second(5.0)),
        12,
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(g.len(), 12);
    let most = busiest(&g, Duration::from_secs(1));
    assert!(
        most <= 5,
        "{most} permits in one second against a limit of 5/s: {g:?}"
    );
    // And one at a time, as burst 1 promises: no two permits within the pace (200 ms) less
    // the limiter's slack for timer lateness.
    let tight = g
        .windows(2)
        .filter(|w| w[1] - w[0] < Duration::from_millis(150))
        .count();
    assert_eq!(tight, 0, "permits closer than the pace: {g:?}");
}

#[tokio::test(start_paused = true)]
async fn a_burst_never_puts_more_than_the_limit_in_one_second() {
    // 5/s with a burst of 5: five at once, then the window must pass before the sixth.
    let g = grants(
        Arc::new(SlidingWindow::per_second(5.0).burst(5)),
        15,
        Duration::ZERO,
    )
    .await;
    assert_eq!(g.len(), 15);
    let most = busiest(&g, Duration::from_secs(1));
    assert!(
        most <= 5,
        "{most} permits in one second against a limit of 5/s: {g:?}"
    );
}
