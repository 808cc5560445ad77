//! A 1,000-order backfill (`OrderSource::updated_since`) through a local mock that enforces
//! Shopify's GraphQL cost bucket; reports the achieved fraction of the allowed rate (points
//! spent / points the bucket allowed over the run) and the process's resident memory.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mock.rs"]
mod mock;

use std::time::{Duration, Instant};

use aftercare::platform::OrderSource;
use aftercare_shopify::{ShopifyClient, ShopifyConfig};
use chrono::TimeZone;
use criterion::{Criterion, criterion_group, criterion_main};
use futures::StreamExt;

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // Bucket of 100 points restoring 1,000/s; pages of 10 orders cost 12 points: 100 pages,
    // 1,200 points, so the run is paced by the bucket (~1.1 s per backfill).
    let mock = rt.block_on(mock::MockShop::start(1000, 100.0, 1000.0, 40, 2.0));
    let client = ShopifyClient::new(
        ShopifyConfig::new("demo.myshopify.com", "shpat_bench")
            .base_url(mock.url())
            .page_size(10),
    )
    .unwrap();
    let since = chrono::Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let mut fractions = Vec::new();
    let mut g = c.benchmark_group("shopify_backfill");
    g.sample_size(10).measurement_time(Duration::from_secs(15));
    g.bench_function("1000_orders_cost_bucket_100pts_1000pts_per_s", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                mock.reset_counters();
                let start = Instant::now();
                let n = rt.block_on(async { client.updated_since(since).count().await });
                total += start.elapsed();
                assert_eq!(n, 1000);
                let k = mock.counters();
                assert_eq!(k.refused, 0, "the mock refused requests");
                fractions.push(mock.fraction_of_allowed());
            }
            total
        })
    });
    g.finish();
    let before = rss_kib("VmRSS:");
    // Memory: a ten times larger backfill streams through the same page buffer.
    let big = rt.block_on(mock::MockShop::start(
        10_000,
        100_000.0,
        1_000_000.0,
        40,
        2.0,
    ));
    let client_big = ShopifyClient::new(
        ShopifyConfig::new("demo.myshopify.com", "shpat_bench")
            .base_url(big.url())
            .page_size(250),
    )
    .unwrap();
    // Three 10,000-order runs: if the stream holds one page at a time, resident memory after
    // the third run is where it was after the first.
    let mut rss = Vec::new();
    for _ in 0..3 {
        let n = rt.block_on(async { client_big.updated_since(since).count().await });
        assert_eq!(n, 10_000);
        rss.push(rss_kib("VmRSS:"));
    }
    let after = rss[0];
    fractions.sort_by(f64::total_cmp);
    let median = fractions.get(fractions.len() / 2).copied().unwrap_or(0.0);
    println!(
        "backfill: achieved {:.1}% of the allowed GraphQL cost rate (median of {} runs, min {:.1}%, max {:.1}%), refused requests: 0",
        median * 100.0,
        fractions.len(),
        fractions.first().copied().unwrap_or(0.0) * 100.0,
        fractions.last().copied().unwrap_or(0.0) * 100.0,
    );
    println!(
        "backfill memory: VmRSS {before} KiB before, {after} KiB after a first 10,000-order stream, {:?} KiB after each of three (VmHWM {} KiB)",
        rss,
        rss_kib("VmHWM:")
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
