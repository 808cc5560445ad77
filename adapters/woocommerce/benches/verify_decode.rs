//! Verify + decode of a typical WooCommerce order webhook: the docs' example order (order
//! 723 of "List all orders", with a Shipment Tracking item), encoded as WooCommerce sends
//! it (`wp_json_encode`: compact, `\/` and `\u` escapes), 2.8 KB. Baselines: the JSON
//! parser skipping the whole body, and parsing it into a `serde_json::Value`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use aftercare::store::InboxEntry;
use aftercare::webhook::{Secret, WebhookRequest, WebhookSource};
use aftercare_woocommerce::WooWebhooks;
use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};

const BODY: &[u8] = include_bytes!("../tests/fixtures/order_updated_tracking.json");

fn entry(v: aftercare::webhook::VerifiedWebhook) -> InboxEntry {
    let now = chrono::Utc::now();
    {
        let mut entry = InboxEntry::from_verified(1, "woocommerce", v, BODY.to_vec(), now);
        entry.attempts = 1;
        entry
    }
}

fn bench(c: &mut Criterion) {
    let src = WooWebhooks::new("https://example.com/", Secret::from("wc-webhook-s3cret")).unwrap();
    let headers = src.sign_for_test("order.updated", BODY);
    let now = chrono::Utc::now();
    let req = WebhookRequest::new(&headers, BODY, now);
    let stored = entry(src.verify(&req).unwrap());
    assert_eq!(src.decode(&stored).unwrap().len(), 3);

    let mut g = c.benchmark_group("woocommerce");
    g.throughput(Throughput::Bytes(BODY.len() as u64));
    g.bench_function("verify + decode order.updated (2.8 KB)", |b| {
        b.iter(|| {
            let v = src.verify(black_box(&req)).unwrap();
            let events = aftercare_woocommerce::decode_topic(
                v.topic.as_deref().unwrap(),
                black_box(BODY),
                src.site(),
                src.mapping(),
            )
            .unwrap();
            black_box(events)
        });
    });
    g.bench_function("verify (signature, headers, dedupe key)", |b| {
        b.iter(|| black_box(src.verify(black_box(&req)).unwrap()));
    });
    g.bench_function("decode (parse and convert)", |b| {
        b.iter(|| black_box(src.decode(black_box(&stored)).unwrap()));
    });
    g.bench_function("decode: parse into the payload structs only", |b| {
        b.iter(|| {
            black_box(
                serde_json::from_slice::<aftercare_woocommerce::payload::OrderPayload<'_>>(
                    black_box(BODY),
                )
                .unwrap(),
            )
        });
    });
    g.bench_function("serde_json skipping the body (IgnoredAny)", |b| {
        b.iter(|| {
            black_box(serde_json::from_slice::<serde::de::IgnoredAny>(black_box(BODY)).unwrap())
        });
    });
    g.bench_function("serde_json into a Value", |b| {
        b.iter(|| black_box(serde_json::from_slice::<serde_json::Value>(black_box(BODY)).unwrap()));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
