#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Compliance webhooks end to end: signed `customers/redact` and `shop/redact` deliveries
//! (payloads from https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance) →
//! the sdk's webhook router (no socket: `tower::ServiceExt::oneshot`) → the SQLite inbox →
//! `InboxProcessor` with `PrivacyHandler` → the customer's data is gone.

use std::sync::Arc;

use aftercare::clock::SystemClock;
use aftercare::flows::privacy::PrivacyHandler;
use aftercare::http::WebhookRoutes;
use aftercare::inbox::InboxProcessor;
use aftercare::model::{ChannelKind, OutboundMessage, Purpose};
use aftercare::store::{Inbox, NewOutboxMessage, Outbox, Snapshot, SnapshotStore};
use aftercare::webhook::Secret;
use aftercare_shopify::ShopifyWebhooks;
use aftercare_sqlite::SqliteStore;
use axum::body::Body;
use axum::http::Request;
use chrono::Utc;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const SHOP: &str = "demo.myshopify.com";

fn fixture(dir: &str, name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/{dir}/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

async fn deliver(
    router: &axum::Router,
    src: &ShopifyWebhooks,
    topic: &str,
    id: &str,
    body: &[u8],
) -> Value {
    let headers = src.sign_for_test(topic, SHOP, id, body);
    let mut req = Request::post("/webhooks/shopify");
    for (n, v) in headers.iter() {
        req = req.header(n, v);
    }
    let resp = router
        .clone()
        .oneshot(req.body(Body::from(body.to_vec())).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{topic}");
    serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap()
}

fn snapshot(kind: &str, id: &str) -> Snapshot {
    Snapshot::new(kind, Some(SHOP.into()), id, Utc::now(), json!({"id": id}))
}

#[tokio::test]
async fn redact_webhooks_erase_what_they_name() {
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let src = Arc::new(ShopifyWebhooks::new(Secret::from("app client secret")));
    let router = WebhookRoutes::new(store.clone(), Arc::new(SystemClock))
        .source("shopify", src.clone())
        .into_router();
    let processor = InboxProcessor::new(
        store.clone(),
        Arc::new(PrivacyHandler::new(store.clone())),
        Arc::new(SystemClock),
    )
    .source("shopify", src.clone());

    // John's order (customer email john@example.com) and Jane's order, both stored.
    let johns = deliver(
        &router,
        &src,
        "orders/create",
        "w-john",
        &fixture("tests/fixtures", "orders_create.json"),
    )
    .await;
    let janes = deliver(
        &router,
        &src,
        "orders/fulfilled",
        "w-jane",
        &fixture("benches/fixtures", "shopify_order_fulfilled.json"),
    )
    .await;
    let johns_id = johns["id"].as_i64().unwrap();
    let janes_id = janes["id"].as_i64().unwrap();
    // A forged redact request is refused with 401 and changes nothing.
    let forged = Request::post("/webhooks/shopify")
        .header(
            "X-Shopify-Hmac-Sha256",
            "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=",
        )
        .header("X-Shopify-Topic", "shop/redact")
        .header("X-Shopify-Shop-Domain", SHOP)
        .header("X-Shopify-API-Version", "2026-10")
        .header("X-Shopify-Webhook-Id", "forged")
        .body(Body::from(fixture("tests/fixtures", "shop_redact.json")))
        .unwrap();
    assert_eq!(router.clone().oneshot(forged).await.unwrap().status(), 401);

    // A message queued for John, and one for Jane.
    let mut to_john = OutboundMessage::new(
        ChannelKind::Email,
        "john@example.com",
        Purpose::Feedback,
        "How was your order?",
    );
    to_john.customer_id = Some("191167".into());
    to_john.shop = Some(SHOP.into());
    store
        .enqueue(
            NewOutboxMessage::new("survey:299938:email", to_john, Utc::now(), "test"),
            Utc::now(),
        )
        .await
        .unwrap();
    let mut to_jane = OutboundMessage::new(
        ChannelKind::Sms,
        "+15550142",
        Purpose::Transactional,
        "Shipped",
    );
    to_jane.customer_id = Some("115310627314723950".into());
    to_jane.shop = Some(SHOP.into());
    store
        .enqueue(
            NewOutboxMessage::new(
                "tracking:820982911946154500:sms",
                to_jane,
                Utc::now(),
                "test",
            ),
            Utc::now(),
        )
        .await
        .unwrap();
    // Snapshots: John as a customer and one of his orders; Jane's order.
    for s in [
        snapshot("customer", "191167"),
        snapshot("order", "299938"),
        snapshot("order", "820982911946154500"),
    ] {
        assert!(store.put_if_newer(&s).await.unwrap());
    }
    // Process the two order webhooks (the privacy handler ignores them).
    assert_eq!(processor.drain().await.unwrap().done, 2);

    // customers/redact for John.
    deliver(
        &router,
        &src,
        "customers/redact",
        "w-redact-1",
        &fixture("tests/fixtures", "customers_redact.json"),
    )
    .await;
    let r = processor.drain().await.unwrap();
    assert_eq!((r.done, r.dead), (1, 0));

    assert!(
        store.inbox_entry(johns_id).await.unwrap().is_none(),
        "John's order webhook is gone"
    );
    assert!(
        store
            .outbox_by_key("survey:299938:email")
            .await
            .unwrap()
            .is_none(),
        "John's message is gone"
    );
    assert!(
        store
            .snapshot("customer", "191167")
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.snapshot("order", "299938").await.unwrap().is_none());
    // Jane's data is untouched.
    assert!(store.inbox_entry(janes_id).await.unwrap().is_some());
    assert!(
        store
            .outbox_by_key("tracking:820982911946154500:sms")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .snapshot("order", "820982911946154500")
            .await
            .unwrap()
            .is_some()
    );

    // shop/redact before the shop uninstalled: held (retried later), nothing erased.
    let held = deliver(
        &router,
        &src,
        "shop/redact",
        "w-redact-2",
        &fixture("tests/fixtures", "shop_redact.json"),
    )
    .await;
    let held = held["id"].as_i64().unwrap();
    let r = processor.drain().await.unwrap();
    assert_eq!((r.done, r.retried, r.dead), (0, 1, 0));
    assert!(store.inbox_entry(janes_id).await.unwrap().is_some());
    let why = store.inbox_entry(held).await.unwrap().unwrap().last_error;
    assert!(why.unwrap().contains("shop erasure held"));

    // The shop uninstalls; when the held erasure's retry falls due, it erases everything
    // of the shop.
    deliver(
        &router,
        &src,
        "app/uninstalled",
        "w-uninstall",
        &fixture("tests/fixtures", "app_uninstalled.json"),
    )
    .await;
    assert_eq!(processor.drain().await.unwrap().done, 1);
    store.retry_at(held, Utc::now(), "due now").await.unwrap();
    let r = processor.drain().await.unwrap();
    assert_eq!((r.done, r.dead), (1, 0));
    assert!(store.inbox_entry(janes_id).await.unwrap().is_none());
    assert!(
        store
            .outbox_by_key("tracking:820982911946154500:sms")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .snapshot("order", "820982911946154500")
            .await
            .unwrap()
            .is_none()
    );

    // customers/data_request is accepted and processed (the merchant answers it).
    deliver(
        &router,
        &src,
        "customers/data_request",
        "w-dr",
        &fixture("tests/fixtures", "customers_data_request.json"),
    )
    .await;
    assert_eq!(processor.drain().await.unwrap().done, 1);
}

/// The hole an outside review found: a validly signed body of one topic re-posted under
/// `shop/redact`, `customers/redact` or `orders/cancelled` (the HMAC covers the body, not
/// `X-Shopify-Topic`) erased the shop. Now each is dead-lettered with its reason and
/// nothing changes, even after the shop uninstalled.
#[tokio::test]
async fn signed_bodies_replayed_under_destructive_topics_change_nothing() {
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let src = Arc::new(ShopifyWebhooks::new(Secret::from("app client secret")).for_shop(SHOP));
    let router = WebhookRoutes::new(store.clone(), Arc::new(SystemClock))
        .source("shopify", src.clone())
        .into_router();
    let processor = InboxProcessor::new(
        store.clone(),
        Arc::new(PrivacyHandler::new(store.clone())),
        Arc::new(SystemClock),
    )
    .source("shopify", src.clone());
    let order = deliver(
        &router,
        &src,
        "orders/create",
        "w-order",
        &fixture("tests/fixtures", "orders_create.json"),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    // The uninstall is recorded, so only the body checks stand between a replay and an
    // erasure of the shop.
    deliver(
        &router,
        &src,
        "app/uninstalled",
        "w-uninstall",
        &fixture("tests/fixtures", "app_uninstalled.json"),
    )
    .await;
    assert!(
        store
            .put_if_newer(&snapshot("order", "820982911946154508"))
            .await
            .unwrap()
    );
    assert_eq!(processor.drain().await.unwrap().done, 2);

    let replays = [
        ("shop/redact", "tests/fixtures", "fulfillments_create.json"),
        ("shop/redact", "tests/fixtures", "customers_redact.json"),
        ("shop/redact", "tests/fixtures", "orders_create.json"),
        ("customers/redact", "tests/fixtures", "orders_create.json"),
        ("customers/redact", "tests/fixtures", "shop_redact.json"),
        (
            "customers/redact",
            "tests/fixtures",
            "customers_data_request.json",
        ),
        (
            "orders/cancelled",
            "tests/fixtures",
            "fulfillments_create.json",
        ),
        (
            "orders/cancelled",
            "tests/fixtures",
            "customers_update.json",
        ),
    ];
    let mut ids = Vec::new();
    for (i, (topic, dir, file)) in replays.iter().enumerate() {
        let v = deliver(
            &router,
            &src,
            topic,
            &format!("w-replay-{i}"),
            &fixture(dir, file),
        )
        .await;
        ids.push((topic, file, v["id"].as_i64().unwrap()));
    }
    let r = processor.drain().await.unwrap();
    assert_eq!((r.done, r.dead), (0, replays.len() as u32));
    for (topic, file, id) in ids {
        let e = store.inbox_entry(id).await.unwrap().unwrap();
        let why = e.last_error.unwrap_or_default();
        assert!(
            why.contains("is not a") || why.contains("missing") || why.contains("names a customer"),
            "{file} as {topic}: {why}"
        );
    }
    // Nothing of the shop was erased.
    assert!(store.inbox_entry(order).await.unwrap().is_some());
    assert!(
        store
            .snapshot("order", "820982911946154508")
            .await
            .unwrap()
            .is_some()
    );

    // A webhook of another shop signed with the same app secret is refused before storing.
    let body = fixture("tests/fixtures", "shop_redact.json");
    let headers = src.sign_for_test("shop/redact", "victim.myshopify.com", "w-x", &body);
    let mut req = Request::post("/webhooks/shopify");
    for (n, v) in headers.iter() {
        req = req.header(n, v);
    }
    let resp = router
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(processor.drain().await.unwrap().done, 0);
}
