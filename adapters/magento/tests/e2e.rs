//! End to end: a Magento order ships and the customer gets one localized tracking message —
//! seen by the catch-up poller (Magento Open Source sends no webhooks), and by a signed
//! Adobe Commerce webhook over real HTTP into the sdk's router, the SQLite inbox, the
//! processor, the tracking flow reading the order and customer from the API stand-in, the
//! dispatcher and an email channel.

use std::sync::Arc;

use aftercare::clock::Clock;
use aftercare::http::WebhookRoutes;
use aftercare::store::Inbox;
use aftercare::webhook::RawHeaders;
use aftercare_magento::{CommerceWebhooks, POLLER_NAME, SIGNATURE_HEADER, SOURCE_NAME};

use crate::common::world::{World, world};
use crate::common::{fixture, other_key, store_key};

async fn serve(w: &World) -> String {
    let clock: Arc<dyn Clock> = w.clock.clone();
    let app = WebhookRoutes::new(w.store.clone(), clock)
        .source(SOURCE_NAME, w.shop.commerce_webhooks().unwrap())
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/webhooks/{SOURCE_NAME}",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn post(url: &str, headers: &RawHeaders, body: &[u8]) -> (u16, String) {
    let mut req = reqwest::Client::new().post(url).body(body.to_vec());
    for (n, v) in headers.iter() {
        req = req.header(n, v);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

fn assert_one_spanish_ups_message(w: &World) {
    let sent = w.email.sent();
    assert_eq!(sent.len(), 1, "{:?}", w.sent());
    let m = &sent[0];
    assert_eq!(m.to, "jdoe@example.com");
    assert_eq!(m.message.order_id.as_ref().unwrap().as_str(), "42");
    assert_eq!(
        m.message.meta.get("milestone").map(String::as_str),
        Some("shipped")
    );
    assert!(
        m.locale.starts_with("es"),
        "store view 2 is es_ES: {}",
        m.locale
    );
    assert!(m.text.contains("1Z5R89390357567127"), "{}", m.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_poller_finds_a_shipped_order_and_sends_one_localized_message() {
    let w = world(true).await;
    let poller = w
        .shop
        .catch_up(w.store.clone(), w.clock.clone())
        .expect("catch-up polling is on by default");
    assert_eq!(poller.name(), POLLER_NAME);
    let first = poller.poll_once().await.unwrap();
    assert_eq!((first.seen, first.stored), (1, 1), "{first:?}");
    w.run().await;
    assert_one_spanish_ups_message(&w);

    // Polling again finds nothing new.
    let second = poller.poll_once().await.unwrap();
    assert_eq!(second.stored, 0, "{second:?}");
    w.run().await;
    assert_eq!(w.email.sent().len(), 1);
    assert!(w.store.dead_letters(10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_track_webhook_sends_one_message_and_forgeries_store_nothing() {
    let w = world(true).await;
    let url = serve(&w).await;
    let body = fixture("webhook_track_save_after.json");

    // Forged, signed by another instance, unsigned: refused, nothing stored.
    let forged = RawHeaders::from_pairs([(SIGNATURE_HEADER, "Zm9yZ2Vk")]);
    assert_eq!(post(&url, &forged, &body).await.0, 401);
    let other = CommerceWebhooks::sign_with(other_key(), &body);
    assert_eq!(post(&url, &other, &body).await.0, 401);
    assert_eq!(post(&url, &RawHeaders::new(), &body).await.0, 400);
    assert!(
        w.store.inbox_entry(1).await.unwrap().is_none(),
        "nothing stored"
    );

    // Commerce calls the hook; a retry of the same state is stored once.
    let h = CommerceWebhooks::sign_with(store_key(), &body);
    for _ in 0..2 {
        let (status, answer) = post(&url, &h, &body).await;
        assert_eq!(status, 200);
        assert_eq!(answer, r#"{"op":"success"}"#);
    }
    w.run().await;
    assert_one_spanish_ups_message(&w);
    assert!(
        w.store.inbox_entry(2).await.unwrap().is_none(),
        "the retry was not stored again"
    );

    // The poller then sees the order and its shipment, already handled: no second message.
    let poller = w.shop.catch_up(w.store.clone(), w.clock.clone()).unwrap();
    poller.poll_once().await.unwrap();
    w.run().await;
    assert_eq!(w.email.sent().len(), 1, "{:?}", w.sent());
    assert!(w.store.dead_letters(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn catch_up_can_only_be_turned_off_explicitly() {
    let w = world(false).await;
    assert!(w.shop.catch_up(w.store.clone(), w.clock.clone()).is_some());
    let off = w.shop.clone().without_catch_up();
    assert!(off.catch_up(w.store.clone(), w.clock.clone()).is_none());
}
