//! End to end: a signed BigCommerce callback over real HTTP (the sdk's router on a TCP
//! listener) → the SQLite inbox → the inbox processor with the BigCommerce hydrator → the
//! tracking flow → the dispatcher → a recording email channel; the store's API is a
//! wiremock stand-in answering as `orders.v2.oas2.yml` and `customers.v3.yml` show. While
//! the API is down the entry is retried, not dead-lettered; once it is back the message is
//! sent exactly once.

use std::sync::Arc;

use aftercare::clock::{Clock, ManualClock};
use aftercare::dispatch::Dispatcher;
use aftercare::flows::Chain;
use aftercare::flows::tracking::{TrackingFlow, TrackingSettings};
use aftercare::http::WebhookRoutes;
use aftercare::inbox::InboxProcessor;
use aftercare::l10n::Catalogs;
use aftercare::model::ChannelKind;
use aftercare::store::{Inbox, InboxStatus};
use aftercare::token::TokenSigner;
use aftercare::webhook::Secret;
use aftercare_bigcommerce::{BigCommerceHydrator, BigCommerceWebhooks};
use aftercare_sandbox::RecordingChannel;
use aftercare_sqlite::SqliteStore;
use chrono::Utc;
use serde_json::json;
use wiremock::matchers::{any, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{
    SECRET, STORE, api, callback, client, customers_json, get_ok, mount_order, order_json,
    shipments_json,
};

/// The store's API as documented, for order 250 (shipped, status 2), its shipment 6 and
/// customer 11.
async fn api_up(server: &MockServer) {
    mount_order(
        server,
        "250",
        order_json("250", 2, "USD", "69.8400"),
        shipments_json("250"),
    )
    .await;
    let mut s = shipments_json("250")[0].clone();
    s["id"] = json!(6);
    get_ok(server, "v2/orders/250/shipments/6", s).await;
    get_ok(
        server,
        "v2/orders/250/shipping_addresses",
        crate::common::json_fixture("api_order_shipping_addresses.json"),
    )
    .await;
    Mock::given(method("GET"))
        .and(path(api("v3/customers")))
        .and(query_param("id:in", "11"))
        .respond_with(ResponseTemplate::new(200).set_body_json(customers_json("11")))
        .mount(server)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shipment_callback_becomes_one_tracking_message_even_across_an_api_outage() {
    let server = MockServer::start().await;
    // The API is down: every request answers 503.
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let bc = client(&server);
    let store = SqliteStore::open_temporary().await.unwrap();
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let source = Arc::new(BigCommerceWebhooks::new(Secret::from(SECRET), STORE));
    let mut settings = TrackingSettings::default();
    settings.channels = vec![ChannelKind::Email];
    let flow = Arc::new(TrackingFlow::new(
        Arc::new(bc.clone()),
        Arc::new(bc.clone()),
        Arc::new(store.clone()),
        Arc::new(Catalogs::new("E2E Store")),
        Default::default(),
        TokenSigner::new(Secret::from("k"), "tracking"),
        dyn_clock.clone(),
        settings,
    ));
    let processor = InboxProcessor::new(
        Arc::new(store.clone()),
        Arc::new(Chain::new().then(flow)),
        dyn_clock.clone(),
    )
    .source("bigcommerce", source.clone())
    .hydrator(
        "bigcommerce",
        Arc::new(BigCommerceHydrator::new(bc.clone())),
    );
    let email = Arc::new(RecordingChannel::new(ChannelKind::Email));
    let dispatcher = Dispatcher::new(Arc::new(store.clone()), dyn_clock.clone())
        .consent_store(Arc::new(store.clone()))
        .channel(email.clone());
    let app = WebhookRoutes::new(Arc::new(store.clone()), dyn_clock.clone())
        .source("bigcommerce", source.clone())
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/webhooks/bigcommerce",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    // BigCommerce posts `store/shipment/created` for shipment 6 of order 250.
    let body = callback("store_shipment_created.json", json!(6), Some(json!(250)));
    let headers = source.sign_delivery_for_test(
        "msg_e2e_1",
        clock.now(),
        STORE,
        "store/shipment/created",
        &body,
    );
    let http = reqwest::Client::new();
    let post = |headers: aftercare::webhook::RawHeaders| {
        let mut req = http.post(&url).body(body.clone());
        for (k, v) in headers.iter() {
            req = req.header(k, v);
        }
        req.send()
    };
    assert_eq!(
        post(headers.clone()).await.unwrap().status(),
        200,
        "acknowledged at once"
    );
    // A forged copy is refused before the inbox.
    let mut forged = http.post(&url).body(body.clone());
    for (k, v) in headers.iter() {
        forged = forged.header(
            k,
            if k == "webhook-signature" {
                &b"v1,AAAA"[..]
            } else {
                v
            },
        );
    }
    assert_eq!(forged.send().await.unwrap().status(), 401);

    // API down: the entry is kept for a retry, not dead-lettered.
    let r = processor.run_once().await.unwrap();
    assert_eq!((r.done, r.retried, r.dead), (0, 1, 0));
    let e = store.inbox_entry(1).await.unwrap().unwrap();
    assert_eq!(e.status, InboxStatus::Pending);
    assert!(
        e.last_error.as_deref().unwrap_or_default().contains("503"),
        "{:?}",
        e.last_error
    );
    assert!(store.dead_letters(10).await.unwrap().is_empty());
    // BigCommerce retries the delivery (same webhook-id): stored once.
    assert_eq!(post(headers.clone()).await.unwrap().status(), 200);
    assert_eq!(
        processor.run_once().await.unwrap().retried,
        0,
        "not due yet"
    );

    // The API is back; the retry comes due.
    server.reset().await;
    api_up(&server).await;
    clock.advance(chrono::Duration::hours(2));
    let r = processor.drain().await.unwrap();
    assert_eq!((r.done, r.retried, r.dead), (1, 0, 0));
    dispatcher.drain().await.unwrap();
    let sent = email.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let m = &sent[0];
    assert_eq!(m.to, "jane.smith@example.com");
    assert_eq!(m.channel, ChannelKind::Email);
    // The carrier, the number and BigCommerce's generated tracking link, from the API.
    assert!(
        m.text.contains("#250") && m.text.contains("USPS"),
        "{}",
        m.text
    );
    assert!(m.text.contains("EJ958083578US"), "{}", m.text);
    // Every channel links to the shop's own tracking page (which shows the carrier's link).
    assert!(
        m.text
            .lines()
            .any(|l| l.starts_with("http://127.0.0.1:8080/t/") && !l.contains(' ')),
        "the tracking page's link on its own line: {}",
        m.text
    );
    assert_eq!(
        m.message.meta.get("milestone").map(String::as_str),
        Some("shipped")
    );

    // A later retry of the same delivery (same webhook-id, signed anew): handled once.
    let again = source.sign_delivery_for_test(
        "msg_e2e_1",
        clock.now(),
        STORE,
        "store/shipment/created",
        &body,
    );
    assert_eq!(post(again).await.unwrap().status(), 200);
    let r = processor.drain().await.unwrap();
    assert_eq!(r.done + r.retried + r.dead, 0);
    dispatcher.drain().await.unwrap();
    assert_eq!(email.sent().len(), 1);
}
