//! Cost per Nuvemshop notification: verify a signed `order/paid` notification (hex
//! HMAC-SHA256 of the raw body, then the signed `store_id`), and verify + hydrate it
//! (`GET /orders/{id}`, one request) against a minimal in-process axum server serving the
//! docs' order (`resources/order.md`). The serde_json parse of the order alone is the floor.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aftercare::platform::thin::Hydrator;
use aftercare::store::InboxEntry;
use aftercare::webhook::{Secret, WebhookRequest, WebhookSource};
use aftercare_nuvemshop::{NuvemshopClient, NuvemshopConfig, NuvemshopHydrator, NuvemshopWebhooks};
use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};

fn order_bytes() -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/api_order.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn entry(src: &NuvemshopWebhooks, body: &[u8]) -> InboxEntry {
    let headers = src.sign_for_test(body);
    let now = Utc::now();
    let v = src
        .verify(&WebhookRequest::new(&headers, body, now))
        .unwrap();
    {
        let mut entry = InboxEntry::from_verified(1, "nuvemshop", v, body.to_vec(), now);
        entry.attempts = 1;
        entry
    }
}

fn bench(c: &mut Criterion) {
    let src = NuvemshopWebhooks::new(Secret::from("app-secret"), "4815", "123");
    let body = br#"{"store_id":123,"event":"order/paid","id":450789469}"#;
    let headers = src.sign_for_test(body);
    c.bench_function("nuvemshop verify order/paid", |b| {
        b.iter(|| {
            src.verify(&WebhookRequest::new(&headers, body, Utc::now()))
                .unwrap()
        })
    });
    let order = order_bytes();
    c.bench_function(
        "nuvemshop parse docs order (serde_json::Value floor)",
        |b| b.iter(|| serde_json::from_slice::<serde_json::Value>(&order).unwrap()),
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = rt.block_on(async {
        let bytes = order.clone();
        let app = Router::new().route(
            "/v1/123/orders/450789469",
            get(move || {
                let b = bytes.clone();
                async move { ([(CONTENT_TYPE, "application/json")], b) }
            }),
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await });
        addr
    });
    let client = NuvemshopClient::new(
        NuvemshopConfig::new("123", "token", "Aftercare bench (dev@example.com)")
            .base_url(format!("http://{addr}/v1/").parse().unwrap()),
    )
    .unwrap();
    let h = NuvemshopHydrator::new(Arc::new(src.clone()), client);
    c.bench_function(
        "nuvemshop verify + hydrate order/paid (1 request, axum stand-in)",
        |b| {
            b.to_async(&rt).iter(|| async {
                let e = entry(&src, body);
                h.hydrate(&e).await.unwrap()
            })
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
