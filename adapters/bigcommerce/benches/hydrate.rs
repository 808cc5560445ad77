//! Hydration cost per BigCommerce event: verify a signed `store/order/created` callback, then
//! hydrate it (`GET /v2/orders/250`, `/products`, `/shipments`: three requests) against a
//! local in-process HTTP stand-in serving the documented responses. Two stand-ins: a
//! minimal axum server (what our side costs) and wiremock (what the tests use; its request
//! matching and recording add to the figure). Also: verification alone, and a
//! `store/shipment/created` (two requests).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use aftercare::platform::thin::Hydrator;
use aftercare::store::InboxEntry;
use aftercare::webhook::{RawHeaders, Secret, WebhookRequest, WebhookSource};
use aftercare_bigcommerce::{
    BigCommerceClient, BigCommerceConfig, BigCommerceHydrator, BigCommerceWebhooks,
};
use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const STORE: &str = "abc123";

fn fixture(name: &str) -> Value {
    let p = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

struct Bodies {
    order: Vec<u8>,
    products: Vec<u8>,
    shipments: Vec<u8>,
    shipment: Vec<u8>,
}

fn bodies() -> Bodies {
    let mut order = fixture("api_order.json");
    order["id"] = json!(250);
    order["status_id"] = json!(2);
    let mut shipments = fixture("api_order_shipments.json");
    for s in shipments.as_array_mut().unwrap() {
        s["order_id"] = json!(250);
    }
    let mut shipment = fixture("api_order_shipment.json");
    shipment["id"] = json!(12);
    shipment["order_id"] = json!(250);
    Bodies {
        order: serde_json::to_vec(&order).unwrap(),
        products: serde_json::to_vec(&fixture("api_order_products.json")).unwrap(),
        shipments: serde_json::to_vec(&shipments).unwrap(),
        shipment: serde_json::to_vec(&shipment).unwrap(),
    }
}

/// Quota headers that stay truthful over a long run: a quota no bench reaches, counted
/// down per request, in a window that resets as the clock says (a stand-in repeating a
/// fixed "449 left" would, rightly, make the client's `QuotaGate` stop after 449 requests).
struct Window {
    start: std::time::Instant,
    used: std::sync::atomic::AtomicU64,
}

const QUOTA: u64 = 1_000_000_000;
const WINDOW_MS: u64 = 30_000;

fn quota_headers(w: &Window) -> [(axum::http::HeaderName, String); 4] {
    let elapsed = w.start.elapsed().as_millis() as u64;
    let used = w.used.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    let h = axum::http::HeaderName::from_static;
    [
        (h("x-rate-limit-requests-quota"), QUOTA.to_string()),
        (
            h("x-rate-limit-requests-left"),
            QUOTA.saturating_sub(used).to_string(),
        ),
        (
            h("x-rate-limit-time-reset-ms"),
            (WINDOW_MS - elapsed % WINDOW_MS).to_string(),
        ),
        (h("x-rate-limit-time-window-ms"), WINDOW_MS.to_string()),
    ]
}

async fn axum_stand_in(b: Arc<Bodies>) -> String {
    let w = Arc::new(Window {
        start: std::time::Instant::now(),
        used: std::sync::atomic::AtomicU64::new(0),
    });
    let serve = |f: fn(&Bodies) -> &Vec<u8>, b: Arc<Bodies>, w: Arc<Window>| {
        move || {
            let b = b.clone();
            let w = w.clone();
            async move {
                (
                    [(CONTENT_TYPE, "application/json")],
                    quota_headers(&w),
                    f(&b).clone(),
                )
            }
        }
    };
    let app = Router::new()
        .route(
            "/stores/abc123/v2/orders/250",
            get(serve(|b| &b.order, b.clone(), w.clone())),
        )
        .route(
            "/stores/abc123/v2/orders/250/products",
            get(serve(|b| &b.products, b.clone(), w.clone())),
        )
        .route(
            "/stores/abc123/v2/orders/250/shipments",
            get(serve(|b| &b.shipments, b.clone(), w.clone())),
        )
        .route(
            "/stores/abc123/v2/orders/250/shipments/12",
            get(serve(|b| &b.shipment, b.clone(), w.clone())),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn wiremock_stand_in(b: &Bodies) -> MockServer {
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    for (p, body) in [
        ("/stores/abc123/v2/orders/250", &b.order),
        ("/stores/abc123/v2/orders/250/products", &b.products),
        ("/stores/abc123/v2/orders/250/shipments", &b.shipments),
    ] {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_raw(body.clone(), "application/json"))
            .mount(&server)
            .await;
    }
    server
}

/// Verifies a signed delivery and makes the inbox entry it would be stored as.
fn entry_of(
    src: &BigCommerceWebhooks,
    headers: &RawHeaders,
    body: &[u8],
    now: DateTime<Utc>,
) -> InboxEntry {
    let v = src
        .verify(&WebhookRequest::new(headers, body, now))
        .unwrap();
    {
        let mut entry = InboxEntry::from_verified(1, "bigcommerce", v, body.to_vec(), now);
        entry.attempts = 1;
        entry
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let b = Arc::new(bodies());
    let axum_url = rt.block_on(axum_stand_in(b.clone()));
    let wm = rt.block_on(wiremock_stand_in(&b));
    let src = BigCommerceWebhooks::new(Secret::from("t3sqhdtvtn2ma6zydivx0wz8zl7fn0q4"), STORE);
    let client = |url: &str| {
        BigCommerceClient::new(
            BigCommerceConfig::new(STORE, "bench-token").base_url(url.parse().unwrap()),
        )
        .unwrap()
    };
    let h_axum = BigCommerceHydrator::new(client(&axum_url));
    let h_wm = BigCommerceHydrator::new(client(&wm.uri()));
    let order_body = serde_json::to_vec(&fixture("store_order_created.json")).unwrap();
    let mut ship = fixture("store_shipment_created.json");
    ship["data"]["orderId"] = json!(250);
    let ship_body = serde_json::to_vec(&ship).unwrap();
    let now = Utc::now();
    let order_headers = src.sign_for_test("msg_bench", now, &order_body);
    let ship_headers = src.sign_for_test("msg_bench2", now, &ship_body);

    // Sanity: the hydrated events are the expected ones.
    let events = rt
        .block_on(h_axum.hydrate(&entry_of(&src, &order_headers, &order_body, now)))
        .unwrap();
    assert_eq!(
        events.iter().map(|e| e.kind()).collect::<Vec<_>>(),
        ["order_created", "shipment_updated", "shipment_updated"]
    );

    let mut g = c.benchmark_group("bigcommerce_hydrate");
    g.measurement_time(Duration::from_secs(12));
    g.bench_function("verify_order_created", |bn| {
        bn.iter(|| {
            src.verify(&WebhookRequest::new(&order_headers, &order_body, now))
                .unwrap()
        })
    });
    // The CPU part of hydration: the three responses parsed into the payload types.
    g.bench_function("parse_order_products_shipments_responses", |bn| {
        use aftercare_bigcommerce::payload::{ApiOrder, ApiOrderProduct, ApiShipment};
        bn.iter(|| {
            let o: ApiOrder = serde_json::from_slice(&b.order).unwrap();
            let p: Vec<ApiOrderProduct> = serde_json::from_slice(&b.products).unwrap();
            let s: Vec<ApiShipment> = serde_json::from_slice(&b.shipments).unwrap();
            (o, p, s)
        })
    });
    g.bench_function("verify_and_hydrate_order_created_3_requests_axum", |bn| {
        bn.to_async(&rt).iter(|| async {
            let e = entry_of(&src, &order_headers, &order_body, now);
            h_axum.hydrate(&e).await.unwrap()
        })
    });
    g.bench_function(
        "verify_and_hydrate_shipment_created_2_requests_axum",
        |bn| {
            bn.to_async(&rt).iter(|| async {
                let e = entry_of(&src, &ship_headers, &ship_body, now);
                h_axum.hydrate(&e).await.unwrap()
            })
        },
    );
    g.bench_function(
        "verify_and_hydrate_order_created_3_requests_wiremock",
        |bn| {
            bn.to_async(&rt).iter(|| async {
                let e = entry_of(&src, &order_headers, &order_body, now);
                h_wm.hydrate(&e).await.unwrap()
            })
        },
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
