//! Cost per ikas webhook: verify a signed `store/order/updated` envelope (parse the
//! envelope, hex HMAC-SHA256 of `data`, parse `data` for the merchant check) and decode it
//! into events (order + a package with tracking); the serde_json parse of the body is the
//! floor.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use aftercare::store::InboxEntry;
use aftercare::webhook::{RawHeaders, Secret, WebhookRequest, WebhookSource};
use aftercare_ikas::IkasWebhooks;
use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let src = IkasWebhooks::new(Secret::from("client-secret"), "m-1");
    let p = format!(
        "{}/tests/fixtures/data_order_fulfilled.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let data: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
    let body = src.envelope_for_test(
        "wh-1",
        "store/order/updated",
        "m-1",
        &serde_json::to_string(&data).unwrap(),
    );
    let headers = RawHeaders::new();
    let req = || WebhookRequest::new(&headers, &body, Utc::now());
    c.bench_function("ikas verify store/order/updated", |b| {
        b.iter(|| src.verify(&req()).unwrap())
    });
    let v = src.verify(&req()).unwrap();
    let now = Utc::now();
    let entry = {
        let mut entry = InboxEntry::from_verified(1, "ikas", v, body.clone(), now);
        entry.attempts = 1;
        entry
    };
    c.bench_function("ikas verify + decode store/order/updated", |b| {
        b.iter(|| {
            src.verify(&req()).unwrap();
            src.decode(&entry).unwrap()
        })
    });
    c.bench_function("ikas serde_json::Value parse of the body (floor)", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(&body).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
