//! End to end: a signed `order/fulfilled` notification over real HTTP (the sdk's router on
//! a TCP listener) → the SQLite inbox → the inbox processor with the Nuvemshop hydrator →
//! the tracking flow → the dispatcher → a recording email channel, in the order's
//! `language`: Portuguese for a Nuvemshop (Brazil) store, Spanish for a Tiendanube
//! (Argentina) store. The store's API is a wiremock stand-in answering as
//! `resources/order.md` ("POST /orders/#{id}/fulfill" response) and `resources/customer.md`
//! show.

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
use aftercare_nuvemshop::{NuvemshopShop, SOURCE_NAME};
use aftercare_sandbox::RecordingChannel;
use aftercare_sqlite::SqliteStore;
use chrono::Utc;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{STORE, api, client, json_fixture, source};

/// The docs' fulfilled order, sold in `currency` with the checkout in `language`, shipped
/// with `carrier` under tracking `tracking`.
fn fulfilled(language: &str, currency: &str, total: &str, carrier: &str, tracking: &str) -> Value {
    let mut o = json_fixture("api_order_fulfilled.json");
    o["language"] = json!(language);
    o["currency"] = json!(currency);
    o["total"] = json!(total);
    o["shipping"] = json!(carrier);
    o["shipping_option"] = json!(carrier);
    o["shipping_tracking_number"] = json!(tracking);
    o["shipping_tracking_url"] = json!(format!("https://rastreio.example/{tracking}"));
    o["customer"]["name"] = json!("Ana Souza");
    o["customer"]["email"] = json!("ana@example.com");
    o
}

/// Runs one store end to end and returns the text of the one message sent.
async fn one_message(order: Value) -> String {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(api("orders/450789470")))
        .respond_with(ResponseTemplate::new(200).set_body_json(order.clone()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("customers/101")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 101, "name": "Ana Souza", "email": "ana@example.com", "phone": null,
            "note": null, "created_at": "2013-01-03T09:11:51-03:00", "updated_at": "2013-03-11T09:14:11-03:00"
        })))
        .mount(&server)
        .await;
    let ns = client(&server.uri());
    let shop = NuvemshopShop::new(source(), ns.clone()).unwrap();
    let store = SqliteStore::open_temporary().await.unwrap();
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let mut settings = TrackingSettings::default();
    settings.channels = vec![ChannelKind::Email];
    let flow = Arc::new(TrackingFlow::new(
        Arc::new(ns.clone()),
        Arc::new(ns.clone()),
        Arc::new(store.clone()),
        Arc::new(Catalogs::new("Loja E2E")),
        Default::default(),
        TokenSigner::new(aftercare::webhook::Secret::from("k"), "tracking"),
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

    // Nuvemshop posts `order/fulfilled` for order 450789470 (resources/webhook.md).
    let body =
        format!(r#"{{"store_id":{STORE},"event":"order/fulfilled","id":450789470}}"#).into_bytes();
    let headers = shop
        .webhooks()
        .sign_delivery_for_test(STORE, "order/fulfilled", &body);
    let http = reqwest::Client::new();
    let post = |headers: &aftercare::webhook::RawHeaders, body: &[u8]| {
        let mut req = http.post(&url).body(body.to_vec());
        for (k, v) in headers.iter() {
            req = req.header(k, v);
        }
        req.send()
    };
    assert_eq!(
        post(&headers, &body).await.unwrap().status(),
        200,
        "acknowledged at once"
    );
    // Nuvemshop retries with the same bytes: stored once.
    assert_eq!(post(&headers, &body).await.unwrap().status(), 200);
    // A forged copy (another order, the old signature) is refused before the inbox.
    let forged =
        format!(r#"{{"store_id":{STORE},"event":"order/fulfilled","id":450789469}}"#).into_bytes();
    assert_eq!(post(&headers, &forged).await.unwrap().status(), 401);
    // Another store's notification, well signed (the app's secret is shared by all its
    // stores), is refused as another account's.
    let other = br#"{"store_id":456,"event":"order/fulfilled","id":450789470}"#.to_vec();
    let other_headers = shop.webhooks().sign_for_test(&other);
    assert_eq!(post(&other_headers, &other).await.unwrap().status(), 403);

    let r = processor.drain().await.unwrap();
    assert_eq!((r.done, r.retried, r.dead), (1, 0, 0), "one entry, handled");
    assert!(store.dead_letters(10).await.unwrap().is_empty());
    dispatcher.drain().await.unwrap();
    let sent = email.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let m = &sent[0];
    assert_eq!(m.to, "ana@example.com");
    assert_eq!(
        m.message.meta.get("milestone").map(String::as_str),
        Some("shipped")
    );
    m.text.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nuvemshop_order_shipped_is_told_in_portuguese() {
    let text = one_message(fulfilled(
        "pt",
        "BRL",
        "158.90",
        "Correios",
        "BR123456789BR",
    ))
    .await;
    assert!(text.contains("Boa notícia, Ana!"), "{text}");
    assert!(
        text.contains("Seu pedido #101 foi enviado com Correios"),
        "{text}"
    );
    assert!(text.contains("Código de rastreio: BR123456789BR"), "{text}");
    // Every channel links to the shop's own tracking page (it shows the carrier's link).
    assert!(
        text.lines()
            .any(|l| l.starts_with("http") && l.contains("/t/")),
        "the tracking link on its own line: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiendanube_order_shipped_is_told_in_spanish() {
    let text = one_message(fulfilled(
        "es",
        "ARS",
        "25999.00",
        "Correo Argentino",
        "CA987654321AR",
    ))
    .await;
    assert!(text.contains("¡Buenas noticias, Ana!"), "{text}");
    assert!(
        text.contains("Tu pedido #101 ya fue enviado con Correo Argentino"),
        "{text}"
    );
    assert!(
        text.contains("Número de seguimiento: CA987654321AR"),
        "{text}"
    );
    // Every channel links to the shop's own tracking page (it shows the carrier's link).
    assert!(
        text.lines()
            .any(|l| l.starts_with("http") && l.contains("/t/")),
        "{text}"
    );
}
