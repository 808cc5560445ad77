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

// The same data the decoder extracts, written by hand as plain serde structs (ids as u64,
// times and prices kept as text): what an integrator would write without the sdk.
#[derive(Deserialize)]
#[allow(dead_code)]
struct HandLine {
    id: Option<u64>,
    product_id: Option<u64>,
    variant_id: Option<u64>,
    sku: Option<String>,
    title: Option<String>,
    quantity: Option<u32>,
    price: Option<String>,
    product_type: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct HandAddress {
    name: Option<String>,
    address1: Option<String>,
    address2: Option<String>,
    city: Option<String>,
    province_code: Option<String>,
    zip: Option<String>,
    country_code: Option<String>,
    phone: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct HandCustomer {
    id: u64,
    email: Option<String>,
    phone: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    locale: Option<String>,
    updated_at: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct HandFulfillment {
    id: u64,
    order_id: Option<u64>,
    status: Option<String>,
    shipment_status: Option<String>,
    tracking_company: Option<String>,
    tracking_number: Option<String>,
    tracking_numbers: Option<Vec<String>>,
    tracking_url: Option<String>,
    tracking_urls: Option<Vec<String>>,
    line_items: Option<Vec<HandLineId>>,
    created_at: Option<String>,
    updated_at: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct HandLineId {
    id: Option<u64>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct HandOrder {
    id: u64,
    name: Option<String>,
    order_number: Option<u64>,
    email: Option<String>,
    contact_email: Option<String>,
    phone: Option<String>,
    customer: Option<HandCustomer>,
    customer_locale: Option<String>,
    line_items: Option<Vec<HandLine>>,
    shipping_address: Option<HandAddress>,
    total_price: Option<String>,
    currency: Option<String>,
    cancelled_at: Option<String>,
    tags: Option<String>,
    fulfillments: Option<Vec<HandFulfillment>>,
    created_at: Option<String>,
    updated_at: Option<String>,
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
            let req = WebhookRequest::new(&headers, &body, now);
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
    g.bench_function("baseline_hmac_and_serde_same_fields", |b| {
        b.iter(|| {
            let given = base64::engine::general_purpose::STANDARD
                .decode(black_box(&sig))
                .unwrap();
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(black_box(&body));
            mac.verify_slice(&given).unwrap();
            let o: HandOrder = serde_json::from_slice(&body).unwrap();
            black_box(o)
        })
    });
    g.finish();

    // Where the time goes (not baselines): the verification alone, the decoding alone, the
    // serde step of the decoding alone, and serde_json skipping the whole body (the floor of
    // any serde_json decoding of it).
    let mut g = c.benchmark_group("shopify_orders_fulfilled_breakdown");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("verify_only", |b| {
        b.iter(|| {
            let req = WebhookRequest::new(&headers, &body, now);
            black_box(src.verify(black_box(&req)).unwrap())
        })
    });
    g.bench_function("decode_topic_only", |b| {
        b.iter(|| {
            let events = decode_topic(
                black_box("orders/fulfilled"),
                Some("demo.myshopify.com"),
                black_box(&body),
            )
            .unwrap();
            assert_eq!(events.len(), 2);
            black_box(events)
        })
    });
    g.bench_function("serde_order_payload_only", |b| {
        b.iter(|| {
            let p: aftercare_shopify::payload::OrderPayload<'_> =
                serde_json::from_slice(black_box(&body)).unwrap();
            black_box(p)
        })
    });
    g.bench_function("serde_ignored_any_floor", |b| {
        b.iter(|| {
            let p: serde::de::IgnoredAny = serde_json::from_slice(black_box(&body)).unwrap();
            black_box(p)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
