//! `Stack::builder` and the flow builders refuse an incomplete or inconsistent stack with a
//! message that says what to call, instead of a stack that acknowledges webhooks it cannot
//! decode or sends without its protections.
use std::sync::Arc;

use aftercare::flows::feedback::{FeedbackFlow, FollowUpSettings, SurveySettings};
use aftercare::flows::tracking::TrackingFlow;
use aftercare::stack::{PlatformParts, Stack};
use aftercare::webhook::Secret;
use aftercare_sandbox::Sandbox;
use aftercare_sqlite::SqliteStore;

fn err<T: std::fmt::Debug>(r: Result<T, aftercare::Error>) -> String {
    r.expect_err("the builder refuses").to_string()
}

#[tokio::test]
async fn an_incomplete_stack_says_what_is_missing() {
    let sb = Sandbox::quiet(Secret::from("s"), "2026-03-01T10:00:00Z".parse().unwrap());
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let source = Arc::new(aftercare_shopify::ShopifyWebhooks::new(Secret::from("s")));
    let platform = || PlatformParts::new("shopify", source.clone(), sb.shop.clone());
    let email = sb.channel(aftercare::model::ChannelKind::Email).clone();
    let full = || {
        Stack::builder(store.clone())
            .platform(platform())
            .channel(email.clone())
            .shop_name("Shop")
            .public_url("https://shop.example")
            .link_key(Secret::from("k"))
    };
    assert!(full().build().is_ok());
    let e = err(Stack::builder(store.clone())
        .channel(email.clone())
        .shop_name("Shop")
        .public_url("https://shop.example")
        .link_key(Secret::from("k"))
        .build());
    assert!(e.contains("no platform") && e.contains(".platform("), "{e}");
    let e = err(Stack::builder(store.clone())
        .platform(platform())
        .shop_name("Shop")
        .public_url("https://shop.example")
        .link_key(Secret::from("k"))
        .build());
    assert!(e.contains("no channel"), "{e}");
    let e = err(full().source("shopify", source.clone()).build());
    assert!(e.contains("two webhook sources are named `shopify`"), "{e}");
    let e = err(full().follow_up(FollowUpSettings::default()).build());
    assert!(e.contains("add .survey("), "{e}");
    let e = err(full()
        .survey(SurveySettings::default())
        .follow_up(FollowUpSettings::default().with_detractor_tag("unhappy"))
        .build());
    assert!(e.contains("annotator"), "{e}");
    assert!(
        full()
            .survey(SurveySettings::default())
            .build()
            .is_ok_and(|s| s.feedback().is_some())
    );
}

#[tokio::test]
async fn a_flow_builder_names_the_missing_part() {
    let sb = Sandbox::quiet(Secret::from("s"), "2026-03-01T10:00:00Z".parse().unwrap());
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let e = err(TrackingFlow::builder(store.clone())
        .orders(sb.shop.clone())
        .customers(sb.shop.clone())
        .shop_name("Shop")
        .build());
    assert!(e.contains("no link key") && e.contains(".link_key("), "{e}");
    let e = err(TrackingFlow::builder(store.clone())
        .orders(sb.shop.clone())
        .customers(sb.shop.clone())
        .link_key(Secret::from("k"))
        .build());
    assert!(e.contains("renderer") && e.contains(".shop_name("), "{e}");
    let e = err(FeedbackFlow::builder(store.clone())
        .customers(sb.shop.clone())
        .shop_name("Shop")
        .link_key(Secret::from("k"))
        .build());
    assert!(e.contains("order source"), "{e}");
    assert!(
        FeedbackFlow::builder(store)
            .orders(sb.shop.clone())
            .customers(sb.shop.clone())
            .shop_name("Shop")
            .link_key(Secret::from("k"))
            .build()
            .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_says_why_a_preferred_channel_was_passed_over() {
    use aftercare::model::{ChannelKind, OrderId};
    use aftercare::store::{Decision, Ledger};
    // Daytime in Istanbul when the order ships.
    let sb = Sandbox::quiet(Secret::from("s"), "2026-03-01T12:00:00Z".parse().unwrap());
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let source = Arc::new(
        aftercare_shopify::ShopifyWebhooks::new(Secret::from("s")).for_shop(sb.shop.domain()),
    );
    let stack = Stack::builder(store.clone())
        .platform(PlatformParts::new("shopify", source, sb.shop.clone()))
        .channel(sb.channel(ChannelKind::Sms).clone())
        .channel(sb.channel(ChannelKind::Email).clone())
        .shop_name("Shop")
        .public_url("https://shop.example")
        .link_key(Secret::from("k"))
        .clock(sb.clock.clone())
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/shopify", listener.local_addr().unwrap());
    tokio::spawn(aftercare::http::serve(
        listener,
        stack.router(),
        aftercare::http::ServeOptions::default(),
    ));
    // The Turkish customer answered STOP to SMS.
    let shipped = sb.ship("tr-TR").unwrap();
    for d in &shipped.deliveries {
        assert_eq!(sb.sender.post(&url, d).await.unwrap(), 200);
    }
    stack.processor().drain().await.unwrap();
    let ledger = store
        .ledger_for_order(&OrderId::new(shipped.order.to_string()))
        .await
        .unwrap();
    assert!(
        ledger.iter().any(|e| e.decision == Decision::Enqueued
            && e.reason
                .contains("on email because sms: the customer opted out")),
        "{:?}",
        ledger.iter().map(|e| &e.reason).collect::<Vec<_>>()
    );
}

/// Issue 17: the tracking message runs on what the webhooks carried. The shop's Admin API
/// answers 401 to everything (no access token); the order came with its webhooks, so the
/// message goes out and the page shows, and the API is never asked for the order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tracking_message_and_page_need_no_admin_api_token() {
    use aftercare::model::ChannelKind;
    use wiremock::matchers::any;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    // Daytime in Istanbul when the order ships.
    let sb = Sandbox::quiet(Secret::from("s"), "2026-03-01T12:00:00Z".parse().unwrap());
    let admin = MockServer::start().await;
    // https://shopify.dev/docs/api/usage/response-codes: 401 without a valid access token.
    Mock::given(any())
        .respond_with(ResponseTemplate::new(401).set_body_json(
            serde_json::json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}),
        ))
        .mount(&admin)
        .await;
    let client = Arc::new(
        aftercare_shopify::ShopifyClient::new(
            aftercare_shopify::ShopifyConfig::new(sb.shop.domain(), Secret::from("none"))
                .base_url(admin.uri().parse().unwrap()),
        )
        .unwrap(),
    );
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let source = Arc::new(
        aftercare_shopify::ShopifyWebhooks::new(Secret::from("s")).for_shop(sb.shop.domain()),
    );
    let email = sb.channel(ChannelKind::Email).clone();
    let stack = Stack::builder(store.clone())
        .platform(PlatformParts::new("shopify", source, client))
        .channel(email.clone())
        .shop_name("Shop")
        .public_url("https://shop.example")
        .link_key(Secret::from("k"))
        .clock(sb.clock.clone())
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(aftercare::http::serve(
        listener,
        stack.router(),
        aftercare::http::ServeOptions::default(),
    ));
    let shipped = sb.ship("tr-TR").unwrap();
    for d in &shipped.deliveries {
        assert_eq!(
            sb.sender
                .post(&format!("{base}/webhooks/shopify"), d)
                .await
                .unwrap(),
            200
        );
    }
    stack.processor().drain().await.unwrap();
    stack.dispatcher().drain().await.unwrap();
    let sent = email.sent();
    assert_eq!(
        sent.len(),
        1,
        "one tracking email, from the webhook's order"
    );
    let text = &sent[0].text;
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with("https://shop.example/t/"))
        .unwrap_or_else(|| panic!("a tracking-page link in {text}"));
    let path = link.trim_start_matches("https://shop.example");
    let page = reqwest::get(format!("{base}{path}")).await.unwrap();
    assert_eq!(page.status(), 200, "the page shows the stored order");
    let html = page.text().await.unwrap();
    // The order's number, as the message gave it, heads the page.
    let number = text
        .split(|c: char| !(c == '#' || c.is_ascii_digit()))
        .find(|w| w.starts_with('#') && w.len() > 1)
        .unwrap_or_else(|| panic!("an order number in {text}"));
    assert!(html.contains(number), "{number} in {html}");
    let asked: Vec<String> = admin
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert!(
        !asked
            .iter()
            .any(|r| r.contains("/orders/") && !r.contains("fulfillment")),
        "the order was never fetched: {asked:?}"
    );
}

/// Issue 17: a shipment of an order the shop does not serve yet (replication lag, webhooks out
/// of order) is retried with the inbox's backoff while it is fresh, and skipped with its
/// reason once it is over an hour old — never skipped for good at the first "not found".
#[tokio::test]
async fn an_order_not_found_yet_is_retried_while_its_shipment_is_fresh() {
    use aftercare::clock::ManualClock;
    use aftercare::model::{Customer, CustomerId, Order, OrderId, Shipment, ShipmentStatus};
    use aftercare::platform::{CustomerDirectory, OrderSource};
    use aftercare::store::{Decision, Ledger};
    use chrono::{DateTime, Duration, Utc};
    use futures::stream::BoxStream;

    struct NotYet;
    #[async_trait::async_trait]
    impl OrderSource for NotYet {
        async fn order(&self, _: &OrderId) -> Result<Option<Order>, aftercare::Error> {
            Ok(None)
        }
        fn updated_since(
            &self,
            _: DateTime<Utc>,
        ) -> BoxStream<'_, Result<Order, aftercare::Error>> {
            Box::pin(futures::stream::empty())
        }
        async fn shipments(&self, _: &OrderId) -> Result<Vec<Shipment>, aftercare::Error> {
            Ok(Vec::new())
        }
    }
    #[async_trait::async_trait]
    impl CustomerDirectory for NotYet {
        async fn customer(&self, _: &CustomerId) -> Result<Option<Customer>, aftercare::Error> {
            Ok(None)
        }
    }
    let t0: DateTime<Utc> = "2026-03-01T12:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(t0));
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let flow = TrackingFlow::builder(store.clone())
        .orders(Arc::new(NotYet))
        .customers(Arc::new(NotYet))
        .shop_name("Shop")
        .link_key(Secret::from("k"))
        .clock(clock.clone())
        .build()
        .unwrap();
    let mut fresh = Shipment::new("f-1", "o-1", ShipmentStatus::InTransit);
    fresh.updated_at = Some(t0 - Duration::minutes(2));
    let e = flow
        .on_shipment(&fresh)
        .await
        .expect_err("retried, not skipped");
    assert!(e.is_retryable(), "{e}");
    let ledger = store.ledger_for_order(&OrderId::new("o-1")).await.unwrap();
    assert!(
        ledger.iter().all(|e| e.decision != Decision::Skipped),
        "{ledger:?}"
    );
    // Two hours later the shop still does not know it: skipped, with the reason.
    clock.advance(Duration::hours(2));
    let mut later = fresh.clone();
    later.id = "f-2".into();
    flow.on_shipment(&later).await.unwrap();
    let ledger = store.ledger_for_order(&OrderId::new("o-1")).await.unwrap();
    assert!(
        ledger
            .iter()
            .any(|e| e.decision == Decision::Skipped && e.reason.contains("was not found")),
        "{:?}",
        ledger.iter().map(|e| &e.reason).collect::<Vec<_>>()
    );
}
