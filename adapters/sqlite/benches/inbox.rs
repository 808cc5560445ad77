//! Inbox insert on SQLite (WAL, default durability): one verified 6.5 KB webhook per insert,
//! each with a fresh de-duplication key, plus the cost of a duplicate; alone, in bursts of
//! 64, and under sustained load.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};

use aftercare::store::{Inbox, NewInboxEntry};
use aftercare::webhook::VerifiedWebhook;
use aftercare_sqlite::SqliteStore;
use criterion::{Criterion, criterion_group, criterion_main};

const BODY: &[u8] = include_bytes!("../../../sdk/benches/fixtures/shopify_order_fulfilled.json");

fn entry(key: String) -> NewInboxEntry {
    let mut v = VerifiedWebhook::new(key);
    v.topic = Some("orders/fulfilled".into());
    v.shop = Some("bench.myshopify.com".into());
    v.meta.insert("api_version".into(), "2026-01".into());
    NewInboxEntry::new("shopify", v, BODY.to_vec(), chrono::Utc::now())
}

fn inbox(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = rt.block_on(SqliteStore::open_temporary()).unwrap();
    let n = AtomicU64::new(0);
    let mut g = c.benchmark_group("sqlite_inbox");
    g.bench_function("insert_new", |b| {
        b.iter(|| {
            let k = n.fetch_add(1, Ordering::Relaxed);
            rt.block_on(store.insert(entry(format!("evt-{k}"))))
                .unwrap()
        })
    });
    rt.block_on(store.insert(entry("dup".into()))).unwrap();
    g.bench_function("insert_duplicate", |b| {
        b.iter(|| rt.block_on(store.insert(entry("dup".into()))).unwrap())
    });
    // A burst: 64 webhooks arriving together, as platforms deliver after a bulk change.
    // Reported per webhook (the figure divides the batch time by 64).
    g.throughput(criterion::Throughput::Elements(64));
    g.bench_function("insert_burst_of_64", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut set = tokio::task::JoinSet::new();
                for _ in 0..64 {
                    let k = n.fetch_add(1, Ordering::Relaxed);
                    let s = store.clone();
                    set.spawn(async move { s.insert(entry(format!("evt-{k}"))).await.unwrap() });
                }
                while set.join_next().await.is_some() {}
            })
        })
    });
    // Sustained load: webhooks keep arriving, 256 in flight at any time, so the callers'
    // work (compression) overlaps the writer's commits as it does in a busy receiver.
    // Reported per 64 webhooks, like the burst.
    g.bench_function("insert_sustained_256_in_flight", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let window = std::sync::Arc::new(tokio::sync::Semaphore::new(256));
                let start = std::time::Instant::now();
                let mut set = tokio::task::JoinSet::new();
                for _ in 0..iters * 64 {
                    let permit = window.clone().acquire_owned().await.unwrap();
                    let k = n.fetch_add(1, Ordering::Relaxed);
                    let s = store.clone();
                    set.spawn(async move {
                        s.insert(entry(format!("evt-{k}"))).await.unwrap();
                        drop(permit);
                    });
                    while set.try_join_next().is_some() {}
                }
                while set.join_next().await.is_some() {}
                start.elapsed()
            })
        })
    });
    g.finish();
}

criterion_group!(benches, inbox);
criterion_main!(benches);
