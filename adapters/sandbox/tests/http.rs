//! Real HTTP: the sender POSTs to a small axum server on 127.0.0.1 that verifies the
//! Shopify signature on the raw body, as a receiving app does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::sync::{Arc, Mutex};

use aftercare::webhook::{RawHeaders, Verifier};
use aftercare_sandbox::{CarrierScript, SandboxError, Scenario, Topic, WebhookSender};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

#[derive(Clone, Debug)]
struct Received {
    topic: String,
    event_id: String,
    body: Vec<u8>,
}

#[derive(Clone)]
struct App {
    verifier: Verifier,
    received: Arc<Mutex<Vec<Received>>>,
}

async fn webhook(State(app): State<App>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let raw = RawHeaders::from_pairs(headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())));
    if app
        .verifier
        .verify(&raw, &body, chrono::Utc::now())
        .is_err()
    {
        return StatusCode::UNAUTHORIZED;
    }
    let get = |n: &str| raw.get_str(n).unwrap_or_default().to_owned();
    app.received.lock().unwrap().push(Received {
        topic: get("x-shopify-topic"),
        event_id: get("x-shopify-event-id"),
        body: body.to_vec(),
    });
    StatusCode::OK
}

async fn serve() -> (String, Arc<Mutex<Vec<Received>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let app = App {
        verifier: common::verifier(common::SECRET),
        received: received.clone(),
    };
    let router = Router::new()
        .route("/webhooks/shopify", post(webhook))
        .with_state(app);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(aftercare::http::serve(
        listener,
        router,
        aftercare::http::ServeOptions::default(),
    ));
    (format!("http://{addr}/webhooks/shopify"), received)
}

#[tokio::test]
async fn signed_deliveries_are_accepted_and_arrive_byte_exact() {
    let (url, received) = serve().await;
    let (_, shop) = common::shop();
    let (customer, order, _) = common::shipped_order(&shop, "ar-SA");
    let s = common::sender();
    let deliveries = vec![
        s.order(&shop, Topic::OrdersCreate, order).unwrap(),
        s.order(&shop, Topic::OrdersPaid, order).unwrap(),
        s.customers_redact(&shop, customer).unwrap(),
    ];
    assert_eq!(
        s.post_all(&url, &deliveries).await.unwrap(),
        [200, 200, 200]
    );
    // An exact duplicate is accepted again (de-duplication is the receiver's job).
    assert_eq!(s.post(&url, &deliveries[0]).await.unwrap(), 200);

    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 4);
    for (r, d) in got.iter().zip(deliveries.iter().chain([&deliveries[0]])) {
        assert_eq!(r.body, d.body);
        assert_eq!(r.topic, d.topic.as_str());
        assert_eq!(r.event_id, d.event_id);
    }
    assert_eq!(got[0].event_id, got[3].event_id);
}

#[tokio::test]
async fn another_secret_is_refused_with_401() {
    let (url, received) = serve().await;
    let (_, shop) = common::shop();
    let (_, order, _) = common::shipped_order(&shop, "en-US");
    let wrong = WebhookSender::new(aftercare::webhook::Secret::from("shpss_wrong"));
    let d = wrong.order(&shop, Topic::OrdersCreate, order).unwrap();
    assert_eq!(wrong.post(&url, &d).await.unwrap(), 401);
    assert!(received.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_scenario_posts_its_milestones_in_delivery_order() {
    let (url, received) = serve().await;
    let (_, shop) = common::shop();
    let (_, _, f) = common::shipped_order(&shop, "pt-BR");
    let script = CarrierScript::happy_path().duplicate(1).deliver_late(2, 3);
    let mut s = Scenario::new(shop.clone(), common::sender(), f, script);
    let posted = s.post_to_end(&url).await.unwrap();
    assert!(posted.iter().all(|(_, status)| *status == 200));
    let statuses: Vec<String> = received
        .lock()
        .unwrap()
        .iter()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            v["shipment_status"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        statuses,
        [
            "label_printed",
            "carrier_picked_up",
            "carrier_picked_up",
            "out_for_delivery",
            "in_transit",
            "delivered"
        ]
    );
}

#[tokio::test]
async fn nothing_listening_is_an_http_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/webhooks/shopify", listener.local_addr().unwrap());
    drop(listener);
    let d = common::sender().sign(
        Topic::ShopRedact,
        "sandbox-demo.myshopify.com",
        b"{}".to_vec(),
        common::start(),
    );
    let e = common::sender().post(&url, &d).await.unwrap_err();
    assert!(matches!(e, SandboxError::Http { .. }));
    assert!(e.to_string().contains("is the receiving server running?"));
}
