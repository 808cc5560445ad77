//! End to end: a signed `store/order/updated` (a package handed to MNG Kargo) over real
//! HTTP → the SQLite inbox → the inbox processor → the tracking flow (the order and the
//! customer read from a GraphQL stand-in of the Admin API) → the dispatcher → a recording
//! email channel: one message, in Turkish (the store's language; the order names none).

use std::sync::Arc;

use aftercare::clock::{Clock, ManualClock};
use aftercare::dispatch::Dispatcher;
use aftercare::flows::Chain;
use aftercare::flows::tracking::{TrackingFlow, TrackingSettings};
use aftercare::http::WebhookRoutes;
use aftercare::inbox::InboxProcessor;
use aftercare::l10n::Catalogs;
use aftercare::model::ChannelKind;
use aftercare::store::Inbox;
use aftercare::token::TokenSigner;
use aftercare::webhook::Secret;
use aftercare_ikas::{IkasShop, SOURCE_NAME};
use aftercare_sandbox::RecordingChannel;
use aftercare_sqlite::SqliteStore;
use chrono::Utc;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::{GRAPHQL_PATH, MERCHANT, client, envelope, json_fixture, operation, source};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_package_handed_to_the_carrier_is_told_in_turkish() {
    let order = json_fixture("data_order_fulfilled.json");
    let customer = json_fixture("data_customer.json");
    let server = MockServer::start().await;
    {
        let order = order.clone();
        Mock::given(method("POST"))
            .and(path(GRAPHQL_PATH))
            .respond_with(move |req: &Request| {
                let body: Value = serde_json::from_slice(&req.body).unwrap();
                match operation(&body).as_str() {
                    "listOrder" => ResponseTemplate::new(200)
                        .set_body_json(json!({"data": {"listOrder": {"data": [order.clone()]}}})),
                    "listCustomer" => ResponseTemplate::new(200).set_body_json(
                        json!({"data": {"listCustomer": {"data": [customer.clone()]}}}),
                    ),
                    _ => ResponseTemplate::new(200)
                        .set_body_json(json!({"errors": [{"message": "unexpected"}]})),
                }
            })
            .mount(&server)
            .await;
    }
    let ik = client(&server.uri());
    let shop = IkasShop::new(source(), ik.clone()).unwrap();
    let store = SqliteStore::open_temporary().await.unwrap();
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let mut settings = TrackingSettings::default();
    settings.channels = vec![ChannelKind::Email];
    let flow = Arc::new(TrackingFlow::new(
        Arc::new(ik.clone()),
        Arc::new(ik.clone()),
        Arc::new(store.clone()),
        Arc::new(Catalogs::new("E2E Mağaza")),
        Default::default(),
        TokenSigner::new(Secret::from("k"), "tracking"),
        dyn_clock.clone(),
        settings,
    ));
    let processor = shop.processor(InboxProcessor::new(
        Arc::new(store.clone()),
        Arc::new(Chain::new().then(flow)),
        dyn_clock.clone(),
    ));
    let email = Arc::new(RecordingChannel::new(ChannelKind::Email));
    let dispatcher = Dispatcher::new(Arc::new(store.clone()), dyn_clock.clone())
        .consent_store(Arc::new(store.clone()))
        .channel(email.clone());
    let app = WebhookRoutes::new(Arc::new(store.clone()), dyn_clock.clone())
        .source(SOURCE_NAME, shop.webhooks())
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/webhooks/{SOURCE_NAME}",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let body = envelope("store/order/updated", MERCHANT, &order);
    let http = reqwest::Client::new();
    let post = |b: Vec<u8>| {
        http.post(&url)
            .header("content-type", "application/json")
            .body(b)
            .send()
    };
    assert_eq!(
        post(body.clone()).await.unwrap().status(),
        200,
        "acknowledged at once"
    );
    // ikas retries (3 times) with the same data: stored once.
    assert_eq!(post(body.clone()).await.unwrap().status(), 200);
    // The same signed data re-wrapped with a fresh envelope id and another scope: the same
    // signed data, a duplicate, not a second event.
    let mut rewrapped: Value = serde_json::from_slice(&body).unwrap();
    rewrapped["id"] = json!("wh-forged");
    rewrapped["scope"] = json!("store/order/created");
    assert_eq!(
        post(serde_json::to_vec(&rewrapped).unwrap())
            .await
            .unwrap()
            .status(),
        200
    );
    // A changed data under the old signature: refused before the inbox.
    let mut forged: Value = serde_json::from_slice(&body).unwrap();
    forged["data"] = json!(
        forged["data"]
            .as_str()
            .unwrap()
            .replace("MNG123456789", "XXX")
    );
    assert_eq!(
        post(serde_json::to_vec(&forged).unwrap())
            .await
            .unwrap()
            .status(),
        401
    );
    // Another merchant's envelope: refused as another account's.
    let other = envelope("store/order/updated", "someone-else", &order);
    assert_eq!(post(other).await.unwrap().status(), 403);

    let r = processor.drain().await.unwrap();
    assert_eq!((r.done, r.retried, r.dead), (1, 0, 0), "one entry, handled");
    assert!(store.dead_letters(10).await.unwrap().is_empty());
    dispatcher.drain().await.unwrap();
    let sent = email.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let m = &sent[0];
    assert_eq!(m.to, "ayse@example.com");
    assert_eq!(
        m.message.meta.get("milestone").map(String::as_str),
        Some("shipped")
    );
    let text = &m.text;
    assert!(text.contains("Müjde, Ayşe!"), "{text}");
    assert!(
        text.contains("#1001 numaralı siparişiniz MNG Kargo ile kargoya verildi"),
        "{text}"
    );
    assert!(text.contains("Takip numarası: MNG123456789"), "{text}");
    // Every channel links to the shop's own tracking page (it shows the carrier's link).
    assert!(
        text.lines()
            .any(|l| l.starts_with("http") && l.contains("/t/")),
        "the tracking link on its own line: {text}"
    );
}
