//! End to end: signed WooCommerce webhooks over real HTTP into the sdk's router, the SQLite
//! inbox, the processor with the WooCommerce source and hydrator, the tracking flow reading
//! the order and customer from the API stand-in, the dispatcher and an email channel.

use std::sync::Arc;

use aftercare::clock::Clock;
use aftercare::http::WebhookRoutes;
use aftercare::store::Inbox;
use aftercare::webhook::RawHeaders;
use aftercare_woocommerce::SOURCE_NAME;
use serde_json::json;

use crate::common::world::{World, order_723_as, world};
use crate::common::{SITE, fixture, source};

async fn serve(w: &World) -> String {
    let clock: Arc<dyn Clock> = w.clock.clone();
    let app = WebhookRoutes::new(w.store.clone(), clock)
        .source(SOURCE_NAME, w.shop.webhooks())
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/webhooks/{SOURCE_NAME}",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn post(url: &str, headers: &RawHeaders, body: &[u8]) -> u16 {
    let mut req = reqwest::Client::new().post(url).body(body.to_vec());
    for (n, v) in headers.iter() {
        req = req.header(n, v);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_order_webhook_sends_one_tracking_email() {
    let order = order_723_as(723, "e5f4a2bb1c8d8f8d1f5b7f4c3c2b1a09", "AA123456789BR");
    let w = world(vec![order.clone()]).await;
    let url = serve(&w).await;
    let src = source();

    // WooCommerce pings the URL when the webhook is saved: 200, nothing stored.
    let ping = RawHeaders::from_pairs([("Content-Type", "application/x-www-form-urlencoded")]);
    assert_eq!(post(&url, &ping, b"webhook_id=15").await, 200);
    assert!(w.store.dead_letters(10).await.unwrap().is_empty());

    // The order ships: delivered twice (two webhooks on the topic) and once from another site.
    let body = fixture("order_updated_tracking.json");
    for id in ["15", "16"] {
        let h = src.sign_as("order.updated", SITE, id, &body);
        assert_eq!(post(&url, &h, &body).await, 200);
    }
    let foreign = src.sign_as("order.updated", "https://other-shop.example/", "15", &body);
    assert_eq!(post(&url, &foreign, &body).await, 403);
    let forged = {
        let mut h = RawHeaders::from_pairs([("X-WC-Webhook-Signature", "Zm9yZ2Vk")]);
        h.insert("X-WC-Webhook-Topic", "order.updated");
        h.insert("X-WC-Webhook-Source", SITE);
        h
    };
    assert_eq!(post(&url, &forged, &body).await, 401);
    w.run().await;

    let sent = w.email.sent();
    assert_eq!(sent.len(), 1, "{:?}", w.sent());
    let m = &sent[0];
    assert_eq!(
        m.to, "joao.silva@example.com",
        "the customer's address from the API"
    );
    assert_eq!(m.message.order_id.as_ref().unwrap().as_str(), "723");
    assert_eq!(
        m.message.meta.get("milestone").map(String::as_str),
        Some("shipped")
    );
    assert!(m.locale.starts_with("pt"), "WPML's pt-br: {}", m.locale);
    // Every channel links to the shop's own tracking page (it shows the carrier's link).
    assert!(
        m.text
            .lines()
            .any(|l| l.starts_with("http") && l.contains("/t/")),
        "{}",
        m.text
    );

    // The same state again, and a later update with nothing new: no second message.
    let h = src.sign_as("order.updated", SITE, "15", &body);
    assert_eq!(post(&url, &h, &body).await, 200);
    let mut later = order.clone();
    later["date_modified_gmt"] = json!("2017-03-21T19:58:00");
    let later = serde_json::to_vec(&later).unwrap();
    assert_eq!(
        post(&url, &src.sign_for_test("order.updated", &later), &later).await,
        200
    );
    w.run().await;
    assert_eq!(w.email.sent().len(), 1);
    assert!(w.store.dead_letters(10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_webhook_is_hydrated_from_the_api() {
    let order = order_723_as(723, "e5f4a2bb1c8d8f8d1f5b7f4c3c2b1a09", "AA123456789BR");
    let w = world(vec![order]).await;
    let url = serve(&w).await;
    let src = source();
    let body = fixture("action_order_status_completed.json");
    let h = src.sign_for_test("action.woocommerce_order_status_completed", &body);
    assert_eq!(post(&url, &h, &body).await, 200);
    w.run().await;
    assert_eq!(w.sent(), [("723".to_owned(), "shipped".to_owned())]);
    assert!(
        w.fake
            .seen()
            .iter()
            .any(|s| s.method == "GET" && s.path == "/wp-json/wc/v3/orders/723"),
        "the order was read from the API"
    );
    // An action of an order the site no longer has: no events, not a dead letter.
    let gone = br#"{"action":"woocommerce_order_status_completed","arg":999}"#;
    let h = src.sign_for_test("action.woocommerce_order_status_completed", gone);
    assert_eq!(post(&url, &h, gone).await, 200);
    w.run().await;
    assert_eq!(w.email.sent().len(), 1);
    assert!(w.store.dead_letters(10).await.unwrap().is_empty());
}
