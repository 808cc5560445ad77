//! Verify + decode of a typical Salla `order.created` webhook, against parsing the body
//! alone (the floor).

#![allow(missing_docs)]

use aftercare::model::ShopId;
use aftercare::store::InboxEntry;
use aftercare::webhook::{Secret, WebhookRequest, WebhookSource};
use aftercare_salla::SallaWebhooks;
use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/order_created.json"
    ))
    .unwrap_or_default();
    let src = SallaWebhooks::builder("1234509876")
        .signature(Secret::from("bench-secret"))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let headers = src.sign_for_test(&body);
    let _ = ShopId::from("1234509876");
    c.bench_function("salla verify+decode order.created", |b| {
        b.iter(|| {
            let req = WebhookRequest::new(&headers, &body, chrono::Utc::now());
            let v = src.verify(&req).unwrap_or_else(|e| panic!("{e}"));
            let now = chrono::Utc::now();
            let entry = {
                let mut entry = InboxEntry::from_verified(1, "salla", v, body.clone(), now);
                entry.attempts = 1;
                entry
            };
            src.decode(&entry).unwrap_or_else(|e| panic!("{e}"))
        })
    });
    c.bench_function("salla parse body (floor)", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(&body).unwrap_or_default())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
