//! Inbox insert on SQLite (WAL, default durability): one verified 6.5 KB Shopify webhook per
//! insert, de-duplicated by a random UUID as Shopify's `X-Shopify-Webhook-Id` is; alone, as a
//! duplicate, in bursts of 64 and under sustained load.
//!
//! Two inboxes: a new file, and one already holding 100,000 webhooks (a month of a busy
//! shop), whose keys a restarted store loads into memory before its first insert.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use aftercare::store::{Inbox, NewInboxEntry};
use aftercare::webhook::VerifiedWebhook;
use aftercare_sqlite::SqliteStore;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::runtime::Runtime;

const BODY: &[u8] = include_bytes!("../../../sdk/benches/fixtures/shopify_order_fulfilled.json");

/// The fixture with the key as its first field: every webhook's body is its own, as real
/// ones are (the inbox also de-duplicates identical bodies under the same topic).
fn body(key: &str) -> Vec<u8> {
    let mut b = format!(r#"{{"bench_key":"{key}","#).into_bytes();
    b.extend_from_slice(&BODY[1..]);
    b
}

fn entry(key: String) -> NewInboxEntry {
    let body = body(&key);
    let mut v = VerifiedWebhook::new(key);
    v.topic = Some("orders/fulfilled".into());
    v.shop = Some("bench.myshopify.com".into());
    v.meta.insert("api_version".into(), "2026-01".into());
    NewInboxEntry::new("shopify", v, body, chrono::Utc::now())
}

fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn burst(store: &SqliteStore, n: usize) {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let s = store.clone();
        set.spawn(async move { s.insert(entry(key())).await.unwrap() });
    }
    while set.join_next().await.is_some() {}
}

/// Inserts `n` webhooks keeping `in_flight` of them under way at any time.
async fn sustained(store: &SqliteStore, n: u64, in_flight: usize) -> Duration {
    let window = Arc::new(tokio::sync::Semaphore::new(in_flight));
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let permit = window.clone().acquire_owned().await.unwrap();
        let s = store.clone();
        set.spawn(async move {
            s.insert(entry(key())).await.unwrap();
            drop(permit);
        });
        while set.try_join_next().is_some() {}
    }
    while set.join_next().await.is_some() {}
    start.elapsed()
}

fn group(c: &mut Criterion, rt: &Runtime, name: &str, prefill: usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aftercare.db");
    let store = rt.block_on(async {
        let store = SqliteStore::open(&path).await.unwrap();
        for _ in 0..prefill / 64 {
            burst(&store, 64).await;
        }
        store
    });
    let mut g = c.benchmark_group(name);
    // Few, short samples: every insert grows the inbox, which should stay near its
    // starting size (the row count at the end is printed).
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    if prefill > 0 {
        // A restart: the first insert loads every stored key into memory (keys.rs).
        g.bench_function("first_insert_after_reopen", |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut spent = Duration::ZERO;
                    for _ in 0..iters {
                        let s = SqliteStore::open(&path).await.unwrap();
                        let start = Instant::now();
                        s.insert(entry(key())).await.unwrap();
                        spent += start.elapsed();
                        s.close().await;
                    }
                    spent
                })
            })
        });
    }
    g.bench_function("insert_new", |b| {
        b.iter(|| rt.block_on(store.insert(entry(key()))).unwrap())
    });
    rt.block_on(store.insert(entry("dup".into()))).unwrap();
    g.bench_function("insert_duplicate", |b| {
        b.iter(|| rt.block_on(store.insert(entry("dup".into()))).unwrap())
    });
    // Reported per 64 webhooks: divide the time by 64 for one.
    g.throughput(Throughput::Elements(64));
    // A burst: 64 webhooks arriving together, as platforms deliver after a bulk change.
    g.bench_function("insert_burst_of_64", |b| {
        b.iter(|| rt.block_on(burst(&store, 64)))
    });
    // Sustained load: webhooks keep arriving, 256 in flight at any time, so the callers'
    // work (compression) overlaps the writer's commits as it does in a busy receiver.
    g.bench_function("insert_sustained_256_in_flight", |b| {
        b.iter_custom(|iters| rt.block_on(sustained(&store, iters * 64, 256)))
    });
    g.finish();
    let rows: i64 = rt
        .block_on(sqlx::query_scalar("SELECT count(*) FROM inbox").fetch_one(store.pool()))
        .unwrap();
    println!("{name}: the inbox held {rows} webhooks at the end");
}

fn inbox(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    group(c, &rt, "sqlite_inbox", 0);
    group(c, &rt, "sqlite_inbox_100k", 100_000);
}

criterion_group!(benches, inbox);
criterion_main!(benches);
