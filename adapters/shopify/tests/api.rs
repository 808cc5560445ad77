#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The Admin GraphQL client against wiremock, serving responses shaped as Shopify documents
//! them (see `tests/fixtures/README.md` for the page behind each fixture).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::admin::{GQL_PATH, client, fixture};
use aftercare::backoff::RetryPolicy;
use aftercare::model::{ChannelKind, ConsentState, CustomerId, OrderId, Purpose, ShipmentStatus};
use aftercare::platform::{CustomerDirectory, OrderAnnotator, OrderSource};
use aftercare_shopify::{AFTERCARE_TOPICS, ShopifyClient, ShopifyConfig};
use chrono::{TimeZone, Utc};
use futures::StreamExt;
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn cost() -> Value {
    json!({"cost": {"requestedQueryCost": 10, "actualQueryCost": 10,
        "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1990, "restoreRate": 100.0}}})
}

#[tokio::test]
async fn order_by_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .and(header("X-Shopify-Access-Token", "shpat_secret_token"))
        .and(body_partial_json(
            json!({"variables": {"id": "gid://shopify/Order/820982911946154508"}}),
        ))
        .respond_with(ok(fixture("gql_order.json")))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .respond_with(ok(json!({"data": {"order": null}, "extensions": cost()})))
        .mount(&server)
        .await;
    let c = client(&server);
    assert!(!format!("{c:?}").contains("shpat_secret_token"));
    let o = c
        .order(&OrderId::from(820_982_911_946_154_508u64))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(o.id.as_str(), "820982911946154508");
    assert_eq!(o.number, "#9999");
    assert_eq!(
        o.customer_id.as_ref().unwrap().as_str(),
        "115310627314723954"
    );
    assert_eq!(o.total.as_ref().unwrap().minor_units, 13549);
    assert_eq!(o.locale.as_deref(), Some("pt-BR"));
    assert_eq!(o.tags, vec!["vip", "repeat-buyer"]);
    assert_eq!(o.line_items.len(), 2);
    assert_eq!(
        o.line_items[0].product_id.as_ref().unwrap().as_str(),
        "632910392"
    );
    assert_eq!(
        o.line_items[0].unit_price.as_ref().unwrap().minor_units,
        19900
    );
    assert_eq!(o.line_items[0].category.as_deref(), Some("Electronics"));
    assert!(o.line_items[1].product_id.is_none());
    // `LineItem.image { url }`; a custom line has none (`image: null`).
    assert_eq!(
        o.line_items[0].image.as_ref().map(|i| i.as_str()),
        Some(
            "https://cdn.shopify.com/s/files/1/0005/4838/0009/products/ipod-nano.png?v=1445456171"
        )
    );
    assert_eq!(o.line_items[1].image, None);
    assert_eq!(
        o.shipping_address.as_ref().unwrap().country_code.as_deref(),
        Some("US")
    );
    assert_eq!(o.shop.as_ref().unwrap().as_str(), "demo.myshopify.com");
    // Unknown order.
    assert!(c.order(&OrderId::from("1")).await.unwrap().is_none());
    // The bucket model took Shopify's figures.
    let (_, max, rate) = c.cost_bucket().snapshot();
    assert_eq!((max, rate), (2000.0, 100.0));
}

#[tokio::test]
async fn shipments_with_tracking_and_events() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .and(body_string_contains("trackingInfo"))
        .respond_with(ok(fixture("gql_shipments.json")))
        .mount(&server)
        .await;
    let s = client(&server)
        .shipments(&OrderId::from("gid://shopify/Order/820982911946154508"))
        .await
        .unwrap();
    assert_eq!(s.len(), 3);
    assert_eq!(s[0].id.as_str(), "255858046");
    assert_eq!(s[0].order_id.as_str(), "820982911946154508");
    assert_eq!(s[0].status, ShipmentStatus::InTransit);
    assert_eq!(s[0].carrier.as_deref(), Some("UPS"));
    assert_eq!(
        s[0].tracking_numbers,
        vec!["1Z001985YW99744790", "1Z001985YW99744791"]
    );
    assert_eq!(s[0].tracking_urls.len(), 2);
    assert_eq!(s[0].events.len(), 2);
    assert_eq!(s[0].events[0].status, ShipmentStatus::LabelCreated);
    assert_eq!(
        s[0].events[1].location.as_deref(),
        Some("Louisville, Kentucky, United States")
    );
    assert_eq!(
        s[0].estimated_delivery,
        Some(Utc.with_ymd_and_hms(2024, 5, 6, 21, 0, 0).unwrap())
    );
    assert_eq!(s[0].line_item_ids, vec!["866550311766439020"]);
    // An enum value no version documents is kept raw.
    assert_eq!(
        s[1].status,
        ShipmentStatus::Unknown("RETURNING_TO_SENDER_VIA_DRONE".into())
    );
    assert_eq!(s[1].tracking_urls, Vec::<String>::new());
    assert_eq!(s[2].status, ShipmentStatus::Cancelled);
}

#[tokio::test]
async fn customer_with_consent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .and(body_partial_json(
            json!({"variables": {"id": "gid://shopify/Customer/115310627314723954"}}),
        ))
        .respond_with(ok(fixture("gql_customer.json")))
        .mount(&server)
        .await;
    let c = client(&server)
        .customer(&CustomerId::from("115310627314723954"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.first_name.as_deref(), Some("Ayşe"));
    assert_eq!(c.locale.as_deref(), Some("tr"));
    assert_eq!(c.phone.as_deref(), Some("+905321234567"));
    assert_eq!(
        c.consent(Purpose::Marketing, ChannelKind::Email),
        ConsentState::Granted
    );
    assert_eq!(
        c.consent(Purpose::Marketing, ChannelKind::Sms),
        ConsentState::Unknown
    );
}

/// Serves `total` orders in pages, following `after` cursors.
struct Pages {
    total: usize,
    calls: AtomicUsize,
}

impl Respond for Pages {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let v = &body["variables"];
        let first = v["first"].as_u64().unwrap() as usize;
        let start = v["after"]
            .as_str()
            .map(|c| c.trim_start_matches("cursor-").parse::<usize>().unwrap())
            .unwrap_or(0);
        let end = (start + first).min(self.total);
        let nodes: Vec<Value> = (start..end)
            .map(|i| json!({"id": format!("gid://shopify/Order/{}", 9_007_199_254_740_993u64 + i as u64), "name": format!("#{i}"), "updatedAt": "2024-05-01T00:00:00Z", "tags": null, "lineItems": {"nodes": []}}))
            .collect();
        let more = end < self.total;
        ok(
            json!({"data": {"orders": {"nodes": nodes, "pageInfo": {"hasNextPage": more, "endCursor": if more { Some(format!("cursor-{end}")) } else { None }}}}, "extensions": cost()}),
        )
    }
}

#[tokio::test]
async fn updated_since_follows_cursors_across_many_pages() {
    let server = MockServer::start().await;
    let pages = Arc::new(Pages {
        total: 95,
        calls: AtomicUsize::new(0),
    });
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .and(body_string_contains("sortKey: UPDATED_AT"))
        .and(body_partial_json(
            json!({"variables": {"query": "updated_at:>='2024-01-01T00:00:00Z'"}}),
        ))
        .respond_with(ArcResponder(pages.clone()))
        .mount(&server)
        .await;
    let c = ShopifyClient::new(
        ShopifyConfig::new("demo.myshopify.com", "t")
            .base_url(url::Url::parse(&server.uri()).unwrap())
            .page_size(10),
    )
    .unwrap();
    let since = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let orders: Vec<_> = c.updated_since(since).collect().await;
    assert_eq!(orders.len(), 95);
    assert_eq!(pages.calls.load(Ordering::SeqCst), 10);
    // 9007199254740993 = 2^53 + 1: not representable as f64.
    assert_eq!(orders[0].as_ref().unwrap().id.as_str(), "9007199254740993");
    assert_eq!(orders[94].as_ref().unwrap().id.as_str(), "9007199254741087");
}

struct ArcResponder<T>(Arc<T>);

impl<T: Respond> Respond for ArcResponder<T> {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.0.respond(req)
    }
}

#[tokio::test]
async fn annotations_and_user_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .and(body_partial_json(json!({"variables": {"id": "gid://shopify/Order/1", "tags": ["nps:9"]}})))
        .respond_with(ok(json!({"data": {"tagsAdd": {"node": {"id": "gid://shopify/Order/1"}, "userErrors": []}}, "extensions": cost()})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .and(body_partial_json(json!({"variables": {"id": "gid://shopify/Customer/2"}})))
        .and(body_string_contains("tagsAdd"))
        .respond_with(ok(json!({"data": {"tagsAdd": {"node": null, "userErrors": [{"field": ["id"], "message": "Customer does not exist"}]}}, "extensions": cost()})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .and(body_string_contains("AftercareOrderNote"))
        .respond_with(ok(json!({"data": {"order": {"id": "gid://shopify/Order/1", "note": "Please leave at the front desk."}}, "extensions": cost()})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .and(body_partial_json(json!({"variables": {"input": {"id": "gid://shopify/Order/1", "note": "Please leave at the front desk.\nNPS 9 (whatsapp)"}}})))
        .respond_with(ok(json!({"data": {"orderUpdate": {"order": {"id": "gid://shopify/Order/1"}, "userErrors": []}}, "extensions": cost()})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .and(body_partial_json(json!({"variables": {"metafields": [{"ownerId": "gid://shopify/Order/1", "namespace": "aftercare", "key": "nps", "value": "9", "type": "single_line_text_field"}]}})))
        .respond_with(ok(json!({"data": {"metafieldsSet": {"metafields": null, "userErrors": [{"field": ["metafields", "0", "value"], "message": "Value is too long", "code": "INVALID_VALUE"}]}}, "extensions": cost()})))
        .mount(&server)
        .await;
    let c = client(&server);
    c.add_order_tags(&OrderId::from("1"), &["nps:9".to_owned()])
        .await
        .unwrap();
    let err = c
        .add_customer_tags(&CustomerId::from("2"), &["x".to_owned()])
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("id: Customer does not exist"),
        "{err}"
    );
    assert!(!err.is_retryable());
    c.append_order_note(&OrderId::from("1"), "NPS 9 (whatsapp)")
        .await
        .unwrap();
    let err = c
        .set_order_metafield(&OrderId::from("1"), "aftercare", "nps", "9")
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("metafields.0.value: Value is too long"),
        "{err}"
    );
}

/// Appending a note is idempotent: the inbox processes an entry at least once, so a line
/// the order's note already holds is not written again (the old code appended it twice).
#[tokio::test]
async fn a_note_line_already_present_is_not_written_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .and(body_string_contains("AftercareOrderNote"))
        .respond_with(ok(json!({"data": {"order": {"id": "gid://shopify/Order/1", "note": "Please leave at the front desk.\r\nNPS 9 (whatsapp)"}}, "extensions": cost()})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .and(body_string_contains("AftercareOrderUpdate"))
        .respond_with(ok(json!({"data": {"orderUpdate": {"order": {"id": "gid://shopify/Order/1"}, "userErrors": []}}, "extensions": cost()})))
        .mount(&server)
        .await;
    let c = client(&server);
    c.append_order_note(&OrderId::from("1"), "NPS 9 (whatsapp)")
        .await
        .unwrap();
    let updates = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| String::from_utf8_lossy(&r.body).contains("AftercareOrderUpdate"))
        .count();
    assert_eq!(updates, 0, "the line was already in the note");
    // A line that is only part of an existing line is new.
    c.append_order_note(&OrderId::from("1"), "NPS 9")
        .await
        .unwrap();
    let updates: Vec<Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| String::from_utf8_lossy(&r.body).contains("AftercareOrderUpdate"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(updates.len(), 1);
    assert_eq!(
        updates[0]["variables"]["input"]["note"],
        "Please leave at the front desk.\r\nNPS 9 (whatsapp)\nNPS 9"
    );
}

#[tokio::test]
async fn throttled_200_waits_exactly_then_retries() {
    let server = MockServer::start().await;
    // Shopify's throttled answer: requestedQueryCost 752, currentlyAvailable 666,
    // restoreRate 50 → wait (752 - 666) / 50 = 1.72 s.
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .respond_with(ok(fixture("gql_throttled.json")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .respond_with(ok(fixture("gql_order.json")))
        .mount(&server)
        .await;
    let c = client(&server);
    let start = Instant::now();
    let o = c.order(&OrderId::from("820982911946154508")).await.unwrap();
    assert!(o.is_some());
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(1720), "{waited:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn http_429_honours_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "0.5")
                .set_body_json(json!({"errors": "Throttled"})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .respond_with(ok(fixture("gql_order.json")))
        .mount(&server)
        .await;
    let start = Instant::now();
    assert!(
        client(&server)
            .order(&OrderId::from("1"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(start.elapsed() >= Duration::from_millis(500));
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .respond_with(ResponseTemplate::new(503).set_body_string("Service Unavailable"))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .respond_with(ok(fixture("gql_order.json")))
        .mount(&server)
        .await;
    assert!(
        client(&server)
            .order(&OrderId::from("1"))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);

    let down = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .respond_with(ResponseTemplate::new(502).set_body_string("Bad Gateway"))
        .mount(&down)
        .await;
    let err = client(&down).order(&OrderId::from("1")).await.unwrap_err();
    assert!(err.is_retryable());
    assert!(
        matches!(
            err,
            aftercare::Error::Platform {
                status: Some(502),
                retryable: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        down.received_requests().await.unwrap().len(),
        3,
        "bounded attempts"
    );
}

#[tokio::test]
async fn client_errors_carry_shopify_text() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})))
        .mount(&server)
        .await;
    let err = client(&server)
        .order(&OrderId::from("1"))
        .await
        .unwrap_err();
    assert!(matches!(
        &err,
        aftercare::Error::Platform {
            status: Some(401),
            retryable: false,
            ..
        }
    ));
    assert!(
        err.to_string().contains("Invalid API key or access token"),
        "{err}"
    );
    assert!(!err.to_string().contains("shpat_secret_token"));
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "4xx is not retried"
    );

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .respond_with(ok(json!({"errors": [{"message": "Field 'nope' doesn't exist on type 'Order'", "extensions": {"code": "undefinedField"}}]})))
        .mount(&server)
        .await;
    let err = client(&server)
        .order(&OrderId::from("1"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("Field 'nope' doesn't exist"),
        "{err}"
    );
}

/// A shop's webhook subscriptions, listed and created through GraphQL.
struct Subs {
    subs: Mutex<Vec<(String, String)>>,
    creates: AtomicUsize,
}

impl Respond for Subs {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let q = body["query"].as_str().unwrap();
        if q.contains("webhookSubscriptionCreate") {
            self.creates.fetch_add(1, Ordering::SeqCst);
            let topic = body["variables"]["topic"].as_str().unwrap().to_owned();
            let uri = body["variables"]["sub"]["uri"].as_str().unwrap().to_owned();
            let mut subs = self.subs.lock().unwrap();
            subs.push((topic.clone(), uri.clone()));
            let id = subs.len();
            return ok(
                json!({"data": {"webhookSubscriptionCreate": {"webhookSubscription": {"id": format!("gid://shopify/WebhookSubscription/{id}"), "topic": topic, "uri": uri}, "userErrors": []}}, "extensions": cost()}),
            );
        }
        // List, two per page to exercise the cursor.
        let subs = self.subs.lock().unwrap();
        let start: usize = body["variables"]["after"]
            .as_str()
            .map(|c| c.parse().unwrap())
            .unwrap_or(0);
        let end = (start + 2).min(subs.len());
        let nodes: Vec<Value> = subs[start..end]
            .iter()
            .enumerate()
            .map(|(i, (t, u))| json!({"id": format!("gid://shopify/WebhookSubscription/{}", start + i + 1), "topic": t, "uri": u}))
            .collect();
        let more = end < subs.len();
        ok(
            json!({"data": {"webhookSubscriptions": {"nodes": nodes, "pageInfo": {"hasNextPage": more, "endCursor": if more { Some(end.to_string()) } else { None }}}}, "extensions": cost()}),
        )
    }
}

#[tokio::test]
async fn webhook_registration_is_idempotent() {
    let server = MockServer::start().await;
    let uri = "https://app.example.com/webhooks/shopify";
    let subs = Arc::new(Subs {
        subs: Mutex::new(vec![
            ("ORDERS_CREATE".into(), uri.into()),
            ("ORDERS_PAID".into(), "https://old.example.com/hooks".into()),
            ("PRODUCTS_UPDATE".into(), uri.into()),
        ]),
        creates: AtomicUsize::new(0),
    });
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .respond_with(ArcResponder(subs.clone()))
        .mount(&server)
        .await;
    let c = client(&server);
    let r = c.ensure_webhooks(uri, AFTERCARE_TOPICS).await.unwrap();
    assert_eq!(r.existing, vec!["ORDERS_CREATE"]);
    assert_eq!(r.created.len(), AFTERCARE_TOPICS.len() - 1);
    assert!(
        r.created.contains(&"ORDERS_PAID".to_owned()),
        "a subscription to another URI does not count"
    );
    assert_eq!(
        subs.creates.load(Ordering::SeqCst),
        AFTERCARE_TOPICS.len() - 1
    );
    let r = c.ensure_webhooks(uri, AFTERCARE_TOPICS).await.unwrap();
    assert!(r.created.is_empty());
    assert_eq!(r.existing.len(), AFTERCARE_TOPICS.len());
    assert_eq!(
        subs.creates.load(Ordering::SeqCst),
        AFTERCARE_TOPICS.len() - 1,
        "second run created nothing"
    );
}

#[tokio::test]
async fn network_errors_are_retried_then_reported_retryable() {
    // A port nothing listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = ShopifyClient::new(
        ShopifyConfig::new("demo.myshopify.com", "shpat_secret_token")
            .base_url(url::Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap())
            .retry_policy(RetryPolicy::new(
                Duration::from_millis(5),
                Duration::from_millis(20),
                3,
            )),
    )
    .unwrap();
    let err = c.order(&OrderId::from("1")).await.unwrap_err();
    assert!(
        matches!(
            err,
            aftercare::Error::Platform {
                status: None,
                retryable: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("after 3 attempts"), "{err}");
}

#[tokio::test]
async fn rest_helper_errors_and_links() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/admin/api/2026-10/orders/450789469.json"))
        .respond_with(ResponseTemplate::new(500).set_body_string("oops"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/admin/api/2026-10/orders/450789469.json"))
        .and(header("X-Shopify-Access-Token", "shpat_secret_token"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Shopify-Shop-Api-Call-Limit", "1/40")
                .set_body_json(json!({"order": {"id": 450789469u64}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/admin/api/2026-10/orders/1.json"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"errors": "Not Found"})))
        .mount(&server)
        .await;
    let c = client(&server);
    let page = c.rest_get("orders/450789469.json").await.unwrap();
    assert_eq!(page.body["order"]["id"], 450789469u64);
    assert!(page.next.is_none());
    let err = c.rest_get("orders/1.json").await.unwrap_err();
    assert!(
        err.to_string().contains("Not Found") && !err.is_retryable(),
        "{err}"
    );
    // A Link to another host is never followed (the token would leak).
    let err = c
        .rest_get("https://elsewhere.example/admin/api/2026-10/orders.json")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("another host"), "{err}");
}
