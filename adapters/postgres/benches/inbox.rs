//! Inbox insert on PostgreSQL: one verified 6.5 KB webhook per insert, de-duplicated by a
//! random UUID as Shopify's `X-Shopify-Webhook-Id` is; alone, as a duplicate, and in a burst
//! of 64 arriving together.
//!
//! The server is the tests' private one (see `tests/support`), started with fsync on and
//! default settings, on a unix socket; or the one at `AFTERCARE_TEST_POSTGRES_URL`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use aftercare::store::{Inbox, NewInboxEntry};
use aftercare::webhook::VerifiedWebhook;
use criterion::{Criterion, criterion_group, criterion_main};

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

fn inbox(c: &mut Criterion) {
    support::durable();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let store = rt.block_on(support::fresh_store());
    let mut g = c.benchmark_group("postgres_inbox");
    g.bench_function("insert_new", |b| {
        b.iter(|| rt.block_on(store.insert(entry(key()))).unwrap())
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
                    let s = store.clone();
                    set.spawn(async move { s.insert(entry(key())).await.unwrap() });
                }
                while set.join_next().await.is_some() {}
            })
        })
    });
    g.finish();
}

criterion_group!(benches, inbox);
criterion_main!(benches);
