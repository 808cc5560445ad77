//! The webhook path end to end: signed request → router → SQLite inbox → processor →
//! handler, with duplicates, retries, dead letters and a restart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare::clock::{Clock, ManualClock, SystemClock};
use aftercare::http::WebhookRoutes;
use aftercare::inbox::{EventHandler, HandlerError, InboxProcessor};
use aftercare::model::{Order, PlatformEvent};
use aftercare::store::{Inbox, InboxEntry, InboxStatus};
use aftercare::webhook::{NativeSource, Secret};
use aftercare_sqlite::SqliteStore;
use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt as _;

const SECRET: &str = "pipeline-test-secret";

fn source() -> Arc<NativeSource> {
    Arc::new(NativeSource::new(Secret::from(SECRET)))
}

fn event(order: &str) -> Vec<u8> {
    serde_json::to_vec(&PlatformEvent::OrderCreated {
        order: Order::new(order, format!("#{order}")),
    })
    .unwrap()
}

fn signed_request(body: &[u8], id: &str, ts: i64) -> Request<Body> {
    let headers = source().verifier().sign_with_id(id, ts, body);
    let mut req = Request::post("/webhooks/native").header("content-type", "application/json");
    for (n, v) in headers.iter() {
        req = req.header(n, v);
    }
    req.body(Body::from(body.to_vec())).unwrap()
}

#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<String>>,
    fail_first: AtomicU32,
    poison: bool,
}

#[async_trait]
impl EventHandler for Recorder {
    async fn handle(
        &self,
        _entry: &InboxEntry,
        events: Vec<PlatformEvent>,
    ) -> Result<(), HandlerError> {
        if self.poison {
            return Err(HandlerError::Poison(
                "order has no line items; cannot be processed".into(),
            ));
        }
        if self.fail_first.load(Ordering::SeqCst) > 0 {
            self.fail_first.fetch_sub(1, Ordering::SeqCst);
            return Err(HandlerError::Retry("shop API returned 503".into()));
        }
        for e in events {
            if let PlatformEvent::OrderCreated { order } = e {
                self.seen.lock().unwrap().push(order.id.0);
            }
        }
        Ok(())
    }
}

fn routes(store: &SqliteStore, clock: Arc<dyn Clock>) -> axum::Router {
    WebhookRoutes::new(Arc::new(store.clone()), clock)
        .source("native", source())
        .into_router()
}

async fn status_of(router: &axum::Router, req: Request<Body>) -> (StatusCode, serde_json::Value) {
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn duplicate_is_acknowledged_twice_but_processed_once() {
    let store = SqliteStore::open_temporary().await.unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let router = routes(&store, clock.clone());
    let now = chrono::Utc::now().timestamp();
    let body = event("1001");
    let (s1, j1) = status_of(&router, signed_request(&body, "msg_dup", now)).await;
    let (s2, j2) = status_of(&router, signed_request(&body, "msg_dup", now)).await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
    assert_eq!(j1["status"], "accepted");
    assert_eq!(j2["status"], "duplicate");
    assert_eq!(j1["id"], j2["id"]);
    let handler = Arc::new(Recorder::default());
    let p = InboxProcessor::new(Arc::new(store.clone()), handler.clone(), clock)
        .source("native", source());
    let report = p.drain().await.unwrap();
    assert_eq!(report.done, 1);
    assert_eq!(*handler.seen.lock().unwrap(), vec!["1001".to_owned()]);
}

#[tokio::test]
async fn rejections_change_nothing_and_carry_their_status() {
    let store = SqliteStore::open_temporary().await.unwrap();
    let router = routes(&store, Arc::new(SystemClock));
    let now = chrono::Utc::now().timestamp();
    let body = event("7");

    // Forged: signed with another secret.
    let forged_headers = NativeSource::new(Secret::from("wrong"))
        .verifier()
        .sign_with_id("msg_f", now, &body);
    let mut req = Request::post("/webhooks/native");
    for (n, v) in forged_headers.iter() {
        req = req.header(n, v);
    }
    let (s, j) = status_of(&router, req.body(Body::from(body.clone())).unwrap()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(j["error"], "mismatch");

    // Replayed: a valid signature from an hour ago.
    let (s, j) = status_of(&router, signed_request(&body, "msg_old", now - 3600)).await;
    assert_eq!(
        (s, j["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("stale"))
    );

    // Malformed: no signature headers.
    let (s, j) = status_of(
        &router,
        Request::post("/webhooks/native")
            .body(Body::from(body.clone()))
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, j["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("missing_header"))
    );

    // Oversized: declared and streamed.
    let big = vec![b' '; 2 * 1024 * 1024];
    let (s, j) = status_of(&router, signed_request(&big, "msg_big", now)).await;
    assert_eq!(
        (s, j["error"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large"))
    );
    let stream =
        futures::stream::iter((0..64).map(|_| Ok::<_, std::io::Error>(vec![b' '; 64 * 1024])));
    let mut req = Request::post("/webhooks/native");
    for (n, v) in source().verifier().sign_with_id("msg_s", now, &big).iter() {
        req = req.header(n, v);
    }
    let (s, _) = status_of(&router, req.body(Body::from_stream(stream)).unwrap()).await;
    assert_eq!(
        s,
        StatusCode::PAYLOAD_TOO_LARGE,
        "a body without Content-Length is cut at the limit"
    );

    // Unknown source.
    let (s, _) = status_of(
        &router,
        Request::post("/webhooks/nope")
            .body(Body::from("{}"))
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Wrong method.
    let (s, _) = status_of(
        &router,
        Request::get("/webhooks/native")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);

    assert!(
        store
            .claim(chrono::Utc::now(), 10, Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty(),
        "nothing was stored"
    );
}

#[tokio::test]
async fn failing_handler_is_retried_with_backoff_then_succeeds() {
    let store = SqliteStore::open_temporary().await.unwrap();
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let router = routes(&store, clock.clone());
    let (s, _) = status_of(
        &router,
        signed_request(&event("42"), "msg_r", clock.now().timestamp()),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let handler = Arc::new(Recorder {
        fail_first: AtomicU32::new(2),
        ..Default::default()
    });
    let p = InboxProcessor::new(Arc::new(store.clone()), handler.clone(), clock.clone())
        .source("native", source())
        .retry_policy(RetryPolicy::new(
            Duration::from_secs(10),
            Duration::from_secs(600),
            5,
        ));
    let r = p.run_once().await.unwrap();
    assert_eq!(r.retried, 1);
    assert_eq!(
        p.run_once().await.unwrap().retried + p.run_once().await.unwrap().done,
        0,
        "not before the backoff delay"
    );
    clock.advance(chrono::Duration::seconds(10));
    assert_eq!(p.run_once().await.unwrap().retried, 1, "second failure");
    clock.advance(chrono::Duration::seconds(20));
    assert_eq!(
        p.run_once().await.unwrap().done,
        1,
        "third attempt succeeds"
    );
    assert_eq!(*handler.seen.lock().unwrap(), vec!["42".to_owned()]);
    let e = store.inbox_entry(1).await.unwrap().unwrap();
    assert_eq!(e.status, InboxStatus::Done);
    assert_eq!(e.attempts, 3);
}

#[tokio::test]
async fn poisoned_and_undecodable_events_are_dead_lettered_with_their_reason() {
    let store = SqliteStore::open_temporary().await.unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let router = routes(&store, clock.clone());
    let now = clock.now().timestamp();
    status_of(&router, signed_request(&event("5"), "msg_p", now)).await;
    // Correctly signed, but not an event: verification passes, decoding fails later.
    status_of(
        &router,
        signed_request(br#"{"type":"no_such_event"}"#, "msg_bad", now),
    )
    .await;
    let p = InboxProcessor::new(
        Arc::new(store.clone()),
        Arc::new(Recorder {
            poison: true,
            ..Default::default()
        }),
        clock,
    )
    .source("native", source());
    let r = p.drain().await.unwrap();
    assert_eq!(r.dead, 2);
    let dead = store.dead_letters(10).await.unwrap();
    let reasons: Vec<_> = dead.iter().map(|e| e.last_error.clone().unwrap()).collect();
    assert!(
        reasons.iter().any(|r| r.contains("no line items")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("could not decode")),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn a_handler_that_keeps_failing_ends_as_a_dead_letter() {
    let store = SqliteStore::open_temporary().await.unwrap();
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let router = routes(&store, clock.clone());
    status_of(
        &router,
        signed_request(&event("9"), "msg_k", clock.now().timestamp()),
    )
    .await;
    let p = InboxProcessor::new(
        Arc::new(store.clone()),
        Arc::new(Recorder {
            fail_first: AtomicU32::new(100),
            ..Default::default()
        }),
        clock.clone(),
    )
    .source("native", source())
    .retry_policy(RetryPolicy::new(
        Duration::from_secs(1),
        Duration::from_secs(1),
        3,
    ));
    for _ in 0..3 {
        p.run_once().await.unwrap();
        clock.advance(chrono::Duration::seconds(5));
    }
    let dead = store.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .unwrap()
            .starts_with("gave up after 3 attempts"),
        "{:?}",
        dead[0].last_error
    );
}

#[tokio::test]
async fn an_acknowledged_webhook_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("restart.db");
    {
        let store = SqliteStore::open(&path).await.unwrap();
        // Over real HTTP this time.
        let app = routes(&store, Arc::new(SystemClock));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(aftercare::http::serve(
            listener,
            app,
            aftercare::http::ServeOptions::default(),
        ));
        let body = event("2024");
        let headers = source().verifier().sign(&body, chrono::Utc::now());
        let mut req = reqwest::Client::new()
            .post(format!("http://{addr}/webhooks/native"))
            .body(body);
        for (n, v) in headers.iter() {
            req = req.header(n, v);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200, "acknowledged");
        // Crash: drop everything without processing.
        server.abort();
        store.close().await;
    }
    let reopened = SqliteStore::open(&path).await.unwrap();
    let handler = Arc::new(Recorder::default());
    let p = InboxProcessor::new(Arc::new(reopened), handler.clone(), Arc::new(SystemClock))
        .source("native", source());
    assert_eq!(p.drain().await.unwrap().done, 1);
    assert_eq!(*handler.seen.lock().unwrap(), vec!["2024".to_owned()]);
}

/// Counts the inbox entries a handler is given, and the events in them.
#[derive(Default)]
struct Counter {
    entries: Mutex<Vec<String>>,
    events: AtomicU32,
}

#[async_trait]
impl EventHandler for Counter {
    async fn handle(
        &self,
        entry: &InboxEntry,
        events: Vec<PlatformEvent>,
    ) -> Result<(), HandlerError> {
        self.entries.lock().unwrap().push(entry.dedupe_key.clone());
        self.events.fetch_add(events.len() as u32, Ordering::SeqCst);
        Ok(())
    }
}

/// Shopify signs the body only; `X-Shopify-Webhook-Id` (and `X-Shopify-Event-Id`), the
/// de-duplication key, is an unsigned header. A captured, validly signed body posted again
/// under fresh ids is acknowledged as a duplicate and processed once.
#[tokio::test]
async fn a_signed_shopify_body_replayed_under_fresh_ids_is_processed_once() {
    use aftercare_shopify::ShopifyWebhooks;

    const BODY: &[u8] = include_bytes!("../../sdk/benches/fixtures/shopify_order_fulfilled.json");
    let store = SqliteStore::open_temporary().await.unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let shopify = Arc::new(ShopifyWebhooks::new(Secret::from("shpss_replay")));
    let router = WebhookRoutes::new(Arc::new(store.clone()), clock.clone())
        .source("shopify", shopify.clone())
        .into_router();
    let post = |webhook_id: &str, event_id: Option<&str>, topic: &str| {
        let mut headers = shopify.sign_for_test(topic, "demo.myshopify.com", webhook_id, BODY);
        if let Some(e) = event_id {
            headers.insert("X-Shopify-Event-Id", e);
        }
        let mut req = Request::post("/webhooks/shopify").header("content-type", "application/json");
        for (n, v) in headers.iter() {
            req = req.header(n, v);
        }
        req.body(Body::from(BODY.to_vec())).unwrap()
    };
    let (s1, j1) = status_of(
        &router,
        post(
            "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
            None,
            "orders/fulfilled",
        ),
    )
    .await;
    let (s2, j2) = status_of(
        &router,
        post(
            "0f3c9a2e-7d41-4c55-9b1e-2f6a8d9c4b71",
            None,
            "orders/fulfilled",
        ),
    )
    .await;
    let (s3, j3) = status_of(
        &router,
        post(
            "5d2e8f10-3a6b-4c7d-8e9f-a0b1c2d3e4f5",
            Some("98880550-7158-44d4-b7cd-2c97c8a091b5"),
            "orders/fulfilled",
        ),
    )
    .await;
    assert_eq!(
        (s1, s2, s3),
        (StatusCode::OK, StatusCode::OK, StatusCode::OK)
    );
    assert_eq!(j1["status"], "accepted");
    assert_eq!(
        (j2["status"].as_str(), j3["status"].as_str()),
        (Some("duplicate"), Some("duplicate")),
        "the replays are acknowledged, so the sender stops"
    );
    assert_eq!((&j2["id"], &j3["id"]), (&j1["id"], &j1["id"]));

    let handler = Arc::new(Counter::default());
    let p = InboxProcessor::new(Arc::new(store.clone()), handler.clone(), clock)
        .source("shopify", shopify.clone());
    assert_eq!(p.drain().await.unwrap().done, 1);
    assert_eq!(
        *handler.entries.lock().unwrap(),
        vec!["b54557e4-bdd9-4b37-8a5f-bf7d70bcd043".to_owned()],
        "the handler sees the order once"
    );
    assert!(
        handler.events.load(Ordering::SeqCst) > 0,
        "the order was decoded into events"
    );
}
