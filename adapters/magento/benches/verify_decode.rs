//! Verify + decode of a typical Adobe Commerce webhook: the order webhook of the fixtures
//! (`observer.sales_order_save_after`, observer data), signed as Commerce signs it
//! (RSA-SHA256 over the base64 body, a 2048-bit key as the Admin generates). Baselines:
//! the RSA check alone, and the JSON parser skipping the body.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use aftercare::store::InboxEntry;
use aftercare::webhook::{WebhookRequest, WebhookSource};
use aftercare_magento::{CommerceWebhooks, PublicKey, TestSigner};
use base64::Engine as _;
use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};

const BODY: &[u8] = include_bytes!("../tests/fixtures/webhook_order_save_after.json");

fn entry(v: aftercare::webhook::VerifiedWebhook) -> InboxEntry {
    let now = chrono::Utc::now();
    {
        let mut entry = InboxEntry::from_verified(1, "magento", v, BODY.to_vec(), now);
        entry.attempts = 1;
        entry
    }
}

fn bench(c: &mut Criterion) {
    let key = TestSigner::generate(2048).unwrap();
    let src = CommerceWebhooks::builder("https://shop.example/")
        .public_key(key.public_pem())
        .build()
        .unwrap();
    let headers = CommerceWebhooks::sign_with(&key, BODY);
    let req = WebhookRequest::new(&headers, BODY, chrono::Utc::now());
    let stored = entry(src.verify(&req).unwrap());
    assert_eq!(src.decode(&stored).unwrap().len(), 2);
    let public = PublicKey::from_pem(key.public_pem()).unwrap();
    let signed = base64::engine::general_purpose::STANDARD.encode(BODY);
    let signature = headers
        .get_str(aftercare_magento::SIGNATURE_HEADER)
        .unwrap()
        .to_owned();

    let mut g = c.benchmark_group("magento");
    g.throughput(Throughput::Bytes(BODY.len() as u64));
    g.bench_function("verify + decode observer.sales_order_save_after", |b| {
        b.iter(|| {
            let v = src.verify(black_box(&req)).unwrap();
            black_box(src.decode(&entry(v)).unwrap())
        });
    });
    g.bench_function("verify (RSA-SHA256, topic, dedupe key)", |b| {
        b.iter(|| black_box(src.verify(black_box(&req)).unwrap()));
    });
    g.bench_function("RSA-2048 PKCS#1 v1.5 check alone", |b| {
        b.iter(|| black_box(public.verifies(black_box(signed.as_bytes()), &signature)));
    });
    g.bench_function("decode (parse and convert)", |b| {
        b.iter(|| black_box(src.decode(black_box(&stored)).unwrap()));
    });
    g.bench_function("serde_json skipping the body (IgnoredAny)", |b| {
        b.iter(|| {
            black_box(serde_json::from_slice::<serde::de::IgnoredAny>(black_box(BODY)).unwrap())
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
