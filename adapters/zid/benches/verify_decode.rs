//! Verify + decode of a typical Zid order webhook (the docs' Order schema), against
//! parsing the body alone (the floor).
#![allow(missing_docs)]

use aftercare::store::InboxEntry;
use aftercare::webhook::{Secret, WebhookRequest, WebhookSource};
use aftercare_zid::{BasicCredentials, ZidWebhooks};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/order_indelivery.json"
    ))
    .unwrap_or_default();
    let creds = BasicCredentials::new("zid-hooks", Secret::from("bench-pass"))
        .unwrap_or_else(|e| panic!("{e}"));
    let src = ZidWebhooks::builder("251073")
        .credentials(creds)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let headers = src.sign_for_test();
    c.bench_function("zid verify+decode order", |b| {
        b.iter(|| {
            let now = chrono::Utc::now();
            let v = src
                .verify(&WebhookRequest::new(&headers, &body, now))
                .unwrap_or_else(|e| panic!("{e}"));
            src.decode(&{
                let mut entry = InboxEntry::from_verified(1, "zid", v, body.clone(), now);
                entry.attempts = 1;
                entry
            })
            .unwrap_or_else(|e| panic!("{e}"))
        })
    });
    c.bench_function("zid parse body (floor)", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(&body).unwrap_or_default())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
