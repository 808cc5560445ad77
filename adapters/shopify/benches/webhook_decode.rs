//! Verify + decode of a real-sized `orders/fulfilled` webhook, against a hand-written
//! baseline (HMAC check + `serde_json::from_slice` into a small flat struct of the same
//! payload).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use aftercare::webhook::{Secret, WebhookRequest, WebhookSource};
use aftercare_shopify::{ShopifyWebhooks, decode_topic};
use base64::Engine as _;
use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

#[derive(Deserialize)]
#[allow(dead_code)]
struct FlatFulfillment {
    id: u64,
    tracking_company: Option<String>,
    tracking_number: Option<String>,
    shipment_status: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct FlatOrder {
    id: u64,
    name: String,
    email: Option<String>,
    total_price: String,
    currency: String,
    updated_at: String,
    fulfillments: Vec<FlatFulfillment>,
}

fn bench(c: &mut Criterion) {
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/fixtures/shopify_order_fulfilled.json"
    ))
    .unwrap();
    let secret = "app client secret";
    let src = ShopifyWebhooks::new(Secret::from(secret));
    let mut headers = src.sign_for_test(
        "orders/fulfilled",
        "demo.myshopify.com",
        "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        &body,
    );
    headers.insert("X-Shopify-Event-Id", "98880550-7158-44d4-b7cd-2c97c8a091b5");
    headers.insert("X-Shopify-Triggered-At", "2023-03-29T18:00:27.877041743Z");
    let sig = headers.get_str("X-Shopify-Hmac-Sha256").unwrap().to_owned();
    let now = chrono::Utc::now();

    let mut g = c.benchmark_group("shopify_orders_fulfilled");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("aftercare_verify_and_decode", |b| {
        b.iter(|| {
            let req = WebhookRequest {
                headers: &headers,
                body: &body,
                received_at: now,
            };
            let v = src.verify(black_box(&req)).unwrap();
            let events =
                decode_topic(v.topic.as_deref().unwrap(), v.shop.as_deref(), &body).unwrap();
            assert_eq!(events.len(), 2);
            black_box(events)
        })
    });
    g.bench_function("baseline_hmac_and_flat_serde", |b| {
        b.iter(|| {
            let given = base64::engine::general_purpose::STANDARD
                .decode(black_box(&sig))
                .unwrap();
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(black_box(&body));
            mac.verify_slice(&given).unwrap();
            let o: FlatOrder = serde_json::from_slice(&body).unwrap();
            black_box(o)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
