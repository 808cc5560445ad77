//! Dispatch at a rate limit over a large SQLite outbox: the achieved rate against the limit,
//! and memory as the queue grows to 100,000 messages and drains. Reported, not asserted.
//!
//! `cargo bench -p aftercare-sqlite --bench dispatch_rate` (set `AFTERCARE_BENCH_MESSAGES`
//! and `AFTERCARE_BENCH_RATE` to change the defaults, 100000 and 5000/s).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use aftercare::channel::{MessageChannel, SendError};
use aftercare::clock::SystemClock;
use aftercare::dispatch::Dispatcher;
use aftercare::model::{ChannelKind, OutboundMessage, Purpose, Receipt};
use aftercare::ratelimit::SlidingWindow;
use aftercare::store::{NewOutboxMessage, Outbox};
use aftercare_sqlite::SqliteStore;
use async_trait::async_trait;

#[derive(Debug, Default)]
struct Count(AtomicU64);

#[async_trait]
impl MessageChannel for Count {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Sms
    }
    async fn send(&self, _m: &OutboundMessage, key: &str) -> Result<Receipt, SendError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(Receipt::new(key, chrono::Utc::now()))
    }
}

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists benches; nothing to list here.
    }
    let n: u64 = std::env::var("AFTERCARE_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let rate: f64 = std::env::var("AFTERCARE_BENCH_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000.0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let store = SqliteStore::open_temporary().await.unwrap();
        let start_rss = rss_kib("VmRSS:");
        let now = chrono::Utc::now();
        let t = Instant::now();
        // In batches of 1,000 (`Outbox::enqueue_many`: one transaction per 512 messages).
        for start in (0..n).step_by(1000) {
            let batch = (start..(start + 1000).min(n))
                .map(|i| {
                    let m = OutboundMessage::new(ChannelKind::Sms, format!("+1555{i:07}"), Purpose::Transactional, "Your order has shipped: https://t.example/abc");
                    NewOutboxMessage::new(format!("bench:{i}"), m, now, "bench")
                })
                .collect();
            store.enqueue_many(batch, now).await.unwrap();
            if start % 20_000 == 0 && start > 0 {
                println!("queued {start:>7}: VmRSS {} KiB", rss_kib("VmRSS:"));
            }
        }
        println!("queued {n} messages in {:.1} s; VmRSS {} KiB (start {} KiB)", t.elapsed().as_secs_f64(), rss_kib("VmRSS:"), start_rss);
        let ch = Arc::new(Count::default());
        let d = Dispatcher::new(Arc::new(store.clone()), Arc::new(SystemClock))
            .channel(ch.clone())
            .rate_limit(ChannelKind::Sms, Arc::new(SlidingWindow::per_second(rate)))
            .batch(256, 16);
        let t = Instant::now();
        let mut peak = 0;
        loop {
            let r = d.run_once().await.unwrap();
            peak = peak.max(rss_kib("VmRSS:"));
            if r.sent == 0 {
                break;
            }
        }
        let secs = t.elapsed().as_secs_f64();
        let sent = ch.0.load(Ordering::Relaxed);
        println!(
            "dispatched {sent} in {secs:.1} s at a limit of {rate}/s: {:.1}/s = {:.1}% of the limit; peak VmRSS while draining {peak} KiB; VmHWM {} KiB",
            sent as f64 / secs,
            sent as f64 / secs / rate * 100.0,
            rss_kib("VmHWM:")
        );
    });
}
