//! The platform conformance kit (`aftercare::conformance::platform`) run unchanged against
//! the Shopify adapter.
//!
//! - Vector: Shopify's own validate test (`shopify-app-js`,
//!   `packages/apps/shopify-api/lib/webhooks/__tests__/validate.test.ts`): secret
//!   `test_secret_key`, body `{"foo": "bar"}`, HMAC `B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=`.
//! - Payloads: `tests/fixtures/*.json` (the documentation page of each in
//!   `tests/fixtures/README.md`); the money and big-id bodies are `orders_create.json` with
//!   the named fields changed.
//! - API stand-ins: wiremock serving the Admin GraphQL API as documented
//!   (<https://shopify.dev/docs/api/admin-graphql/latest/queries/orders>: `nodes`,
//!   `pageInfo { hasNextPage endCursor }`; `extensions.cost` and `THROTTLED` per
//!   <https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits>; `tagsAdd`,
//!   `orderUpdate`, per their mutation pages).
//!
//! Rate limits. Shopify limits GraphQL by cost, not by request count: a bucket of `M`
//! points restoring `R` points per second, each query drawing its cost `C`. The stand-in
//! enforces exactly that bucket. The kit's probe speaks of requests per window, so the
//! probe announces what the bucket really allows: in any window of length `W` at most
//! `M + R·W` points are drawn, so at most `⌊(M + R·W) / C⌋` requests of cost `C` are served.
//! That bound is necessary, not sufficient: no single (quota, window) pair describes a
//! bucket (a short window misses a too-high steady rate, a long one a too-large burst), so
//! the probe also names the bucket and each request's cost (`RateProbe::bucket`), which the
//! kit checks point by point, and `cost_limits_are_honoured_point_by_point` below checks
//! that the stand-in, which enforces the bucket itself, refused nothing it did not mean to.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare::conformance::platform::{
    CostBucket, Fixture, KitOrder, PlatformKit, RateProbe, SignatureVector,
};
use aftercare::model::{Money, ShipmentStatus};
use aftercare::platform::{OrderAnnotator, OrderSource};
use aftercare::webhook::{RawHeaders, Secret, WebhookSource};
use aftercare_shopify::{ShopifyClient, ShopifyConfig, ShopifyWebhooks, shipment_status};
use async_trait::async_trait;
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const SHOP: &str = "demo.myshopify.com";
const OTHER_SHOP: &str = "other-shop.myshopify.com";
const APP_SECRET: &str = "kit-app-client-secret";
const GQL_PATH: &str = "/admin/api/2026-10/graphql.json";

const ORDERS_DOC: &str =
    "https://shopify.dev/docs/api/webhooks?reference=toml#list-of-topics-orders/create";
const FULFILLMENTS_DOC: &str =
    "https://shopify.dev/docs/api/webhooks?reference=toml#list-of-topics-fulfillments/create";
const FULFILLMENT_EVENTS_DOC: &str =
    "https://shopify.dev/docs/api/webhooks?reference=toml#list-of-topics-fulfillment_events/create";
const CUSTOMERS_DOC: &str =
    "https://shopify.dev/docs/api/webhooks?reference=toml#list-of-topics-customers/update";
const PRIVACY_DOC: &str = "https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance";
const UNINSTALLED_DOC: &str =
    "https://shopify.dev/docs/api/webhooks?reference=toml#list-of-topics-app/uninstalled";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn json_fixture(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).unwrap()
}

fn retry() -> RetryPolicy {
    RetryPolicy::new(Duration::from_millis(10), Duration::from_millis(50), 3)
}

fn client(server: &MockServer, page: u32) -> ShopifyClient {
    ShopifyClient::new(
        ShopifyConfig::new(SHOP, "shpat_kit_token")
            .base_url(url::Url::parse(&server.uri()).unwrap())
            .retry_policy(retry())
            .page_size(page),
    )
    .unwrap()
}

/// `extensions.cost` of a cheap, unthrottled answer.
fn cost(c: u32) -> Value {
    json!({"cost": {"requestedQueryCost": c, "actualQueryCost": c,
        "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1990, "restoreRate": 100.0}}})
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn body_json(req: &Request) -> Value {
    serde_json::from_slice(&req.body).unwrap_or(Value::Null)
}

/// An `Order` node of the `orders` query, with the fields `OrderFields` selects.
fn order_node(o: &KitOrder) -> Value {
    json!({
        "id": format!("gid://shopify/Order/{}", o.id),
        "name": format!("#{}", o.id),
        "email": null, "phone": null, "customerLocale": "en",
        "createdAt": "2026-10-30T08:00:00Z",
        "updatedAt": o.updated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "cancelledAt": null, "tags": [], "customer": null,
        "totalPriceSet": {"shopMoney": {"amount": "10.00", "currencyCode": "USD"}},
        "shippingAddress": null,
        "lineItems": {"nodes": []}
    })
}

fn orders_page(nodes: Vec<Value>, next: Option<String>, cost: Value) -> Value {
    json!({
        "data": {"orders": {"nodes": nodes, "pageInfo": {"hasNextPage": next.is_some(), "endCursor": next}}},
        "extensions": cost
    })
}

/// The page index an `after` cursor names (`cursor-{n}`; none: the first page).
fn page_of(req: &Value) -> usize {
    req["variables"]["after"]
        .as_str()
        .and_then(|c| c.strip_prefix("cursor-"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Serves the kit's pages through `orders(first:, after:, query:)` cursors; the page
/// `fail_once_at` answers a `500` the first time.
struct OrdersStandIn {
    pages: Vec<Vec<KitOrder>>,
    fail_once_at: Option<usize>,
    failed: AtomicBool,
}

impl Respond for OrdersStandIn {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body = body_json(req);
        if !body["query"].as_str().unwrap_or("").contains("orders(") {
            return ResponseTemplate::new(400)
                .set_body_json(json!({"errors": [{"message": "not an orders query"}]}));
        }
        let page = page_of(&body);
        if self.fail_once_at == Some(page) && !self.failed.swap(true, Ordering::SeqCst) {
            return ResponseTemplate::new(500).set_body_json(json!({"errors": "Internal error"}));
        }
        let Some(orders) = self.pages.get(page) else {
            return ResponseTemplate::new(400)
                .set_body_json(json!({"errors": [{"message": "bad cursor"}]}));
        };
        let next = (page + 1 < self.pages.len()).then(|| format!("cursor-{}", page + 1));
        ok(orders_page(
            orders.iter().map(order_node).collect(),
            next,
            cost(4),
        ))
    }
}

/// A GraphQL cost bucket (the leaky bucket of Shopify's rate-limits page): `max` points,
/// restoring `rate` per second; `orders(first: n)` costs `2 + n` (a connection costs 2
/// plus one per object requested). A request finding fewer points than its cost is
/// refused as Shopify refuses it: HTTP 200, `errors[].extensions.code == "THROTTLED"`,
/// `actualQueryCost: null`, and the bucket's figures.
pub struct CostStandIn {
    st: Mutex<BucketState>,
    orders: usize,
    probe: Arc<Mutex<RateProbe>>,
    /// Every request that reached it: (when, points drawn).
    pub seen: Mutex<Vec<(tokio::time::Instant, f64)>>,
    /// Requests refused for want of points.
    pub refused: AtomicUsize,
}

struct BucketState {
    max: f64,
    rate: f64,
    available: f64,
    at: tokio::time::Instant,
}

impl CostStandIn {
    /// Bucket size, restore rate, points available at the start, orders served.
    pub fn new(
        max: f64,
        rate: f64,
        start: f64,
        orders: usize,
        probe: Arc<Mutex<RateProbe>>,
    ) -> Self {
        Self {
            st: Mutex::new(BucketState {
                max,
                rate,
                available: start,
                at: tokio::time::Instant::now(),
            }),
            orders,
            probe,
            seen: Mutex::new(Vec::new()),
            refused: AtomicUsize::new(0),
        }
    }
}

impl Respond for CostStandIn {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body = body_json(req);
        let first = body["variables"]["first"].as_u64().unwrap_or(1) as usize;
        let cost = 2.0 + first as f64;
        let now = tokio::time::Instant::now();
        let mut s = self.st.lock().unwrap();
        let dt = now.saturating_duration_since(s.at).as_secs_f64();
        s.available = (s.available + dt * s.rate).min(s.max);
        s.at = now;
        {
            let mut p = self.probe.lock().unwrap();
            p.arrivals.push(now);
            p.costs.push(cost);
        }
        // Shopify reports whole points.
        let reported = s.available.floor();
        let status = json!({"maximumAvailable": s.max, "currentlyAvailable": reported, "restoreRate": s.rate});
        if s.available < cost {
            self.refused.fetch_add(1, Ordering::SeqCst);
            self.seen.lock().unwrap().push((now, 0.0));
            let wait = Duration::from_secs_f64((cost - reported) / s.rate);
            let mut p = self.probe.lock().unwrap();
            if p.throttled.is_none() {
                p.throttled = Some((now, wait));
            }
            return ok(json!({
                "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                "extensions": {"cost": {"requestedQueryCost": cost, "actualQueryCost": null, "throttleStatus": status}}
            }));
        }
        s.available -= cost;
        self.seen.lock().unwrap().push((now, cost));
        let status = json!({"maximumAvailable": s.max, "currentlyAvailable": s.available.floor(), "restoreRate": s.rate});
        let start = page_of(&body) * first;
        let end = (start + first).min(self.orders);
        let base = chrono::DateTime::parse_from_rfc3339("2026-11-01T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let nodes: Vec<Value> = (start..end)
            .map(|i| {
                order_node(&KitOrder {
                    id: (5001 + i).to_string(),
                    updated_at: base + chrono::Duration::seconds(i as i64),
                })
            })
            .collect();
        let next = (end < self.orders).then(|| format!("cursor-{}", end / first));
        ok(orders_page(
            nodes,
            next,
            json!({"cost": {"requestedQueryCost": cost, "actualQueryCost": cost, "throttleStatus": status}}),
        ))
    }
}

/// The bucket of the rate check: 20 points restoring 40 per second, pages of 2 orders
/// (cost 4), 20 orders, and a bucket another worker of the same app has just emptied (the
/// bucket is per app and store), so the first request is throttled.
pub const RATE_MAX: f64 = 20.0;
/// Points restored per second.
pub const RATE_RESTORE: f64 = 40.0;
/// Orders per page.
pub const RATE_PAGE: u32 = 2;
/// The window of the probe.
pub const RATE_WINDOW: Duration = Duration::from_secs(1);

/// Starts the cost-limited stand-in; returns the client using it, the stand-in, and the probe.
pub async fn cost_limited() -> (
    ShopifyClient,
    Arc<CostStandIn>,
    Arc<Mutex<RateProbe>>,
    MockServer,
) {
    let cost = 2.0 + f64::from(RATE_PAGE);
    let probe = Arc::new(Mutex::new(RateProbe {
        // At most `max + restore·W` points are drawn in any window of length W.
        quota: ((RATE_MAX + RATE_RESTORE * RATE_WINDOW.as_secs_f64()) / cost).floor() as u32,
        window: RATE_WINDOW,
        // And the bucket itself, checked point by point.
        bucket: Some(CostBucket {
            size: RATE_MAX,
            restore_per_sec: RATE_RESTORE,
        }),
        ..Default::default()
    }));
    let stand_in = Arc::new(CostStandIn::new(
        RATE_MAX,
        RATE_RESTORE,
        0.0,
        20,
        probe.clone(),
    ));
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .respond_with(Shared(stand_in.clone()))
        .mount(&server)
        .await;
    let c = client(&server, RATE_PAGE);
    (c, stand_in, probe, server)
}

/// Lets a responder shared by `Arc` be mounted.
struct Shared<T>(Arc<T>);

impl<T: Respond> Respond for Shared<T> {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.0.respond(req)
    }
}

/// An order's tags and note as Shopify keeps them: `tagsAdd` adds to a set (adding a tag
/// the order has changes nothing), `orderUpdate(input: {note})` replaces the note.
#[derive(Default)]
struct AnnotationStandIn {
    tags: Mutex<Vec<String>>,
    note: Mutex<Option<String>>,
    changes: AtomicUsize,
}

impl Respond for AnnotationStandIn {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body = body_json(req);
        let q = body["query"].as_str().unwrap_or("");
        let vars = &body["variables"];
        if q.contains("tagsAdd(") {
            let mut tags = self.tags.lock().unwrap();
            let mut changed = false;
            for t in vars["tags"].as_array().into_iter().flatten() {
                let t = t.as_str().unwrap_or("").to_owned();
                if !tags.contains(&t) {
                    tags.push(t);
                    changed = true;
                }
            }
            if changed {
                self.changes.fetch_add(1, Ordering::SeqCst);
            }
            return ok(
                json!({"data": {"tagsAdd": {"node": {"id": vars["id"]}, "userErrors": []}}, "extensions": cost(10)}),
            );
        }
        if q.contains("orderUpdate(") {
            let new = vars["input"]["note"].as_str().map(str::to_owned);
            let mut note = self.note.lock().unwrap();
            if *note != new {
                *note = new;
                self.changes.fetch_add(1, Ordering::SeqCst);
            }
            return ok(
                json!({"data": {"orderUpdate": {"order": {"id": vars["input"]["id"]}, "userErrors": []}}, "extensions": cost(10)}),
            );
        }
        if q.contains("order(id:") {
            let note = self.note.lock().unwrap().clone();
            return ok(
                json!({"data": {"order": {"id": vars["id"], "note": note}}, "extensions": cost(1)}),
            );
        }
        ResponseTemplate::new(400)
            .set_body_json(json!({"errors": [{"message": "unexpected query"}]}))
    }
}

/// `orders_create.json` with `edit` applied.
fn order_body(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v = json_fixture("orders_create.json");
    edit(&mut v);
    serde_json::to_vec(&v).unwrap()
}

/// The Shopify adapter's side of the kit.
pub struct ShopifyKit {
    source: Arc<ShopifyWebhooks>,
    deliveries: AtomicU64,
    /// Keeps the stand-ins alive while the kit's clients use them.
    servers: Mutex<Vec<MockServer>>,
}

impl ShopifyKit {
    pub fn new() -> Self {
        Self {
            source: Arc::new(ShopifyWebhooks::new(Secret::from(APP_SECRET)).for_shop(SHOP)),
            deliveries: AtomicU64::new(1),
            servers: Mutex::new(Vec::new()),
        }
    }

    fn keep(&self, server: MockServer) {
        self.servers.lock().unwrap().push(server);
    }
}

#[async_trait]
impl PlatformKit for ShopifyKit {
    fn shop(&self) -> String {
        SHOP.into()
    }

    fn other_shop(&self) -> String {
        OTHER_SHOP.into()
    }

    fn source(&self) -> Arc<dyn WebhookSource> {
        self.source.clone()
    }

    fn sign(&self, topic: &str, shop: &str, body: &[u8]) -> RawHeaders {
        let id = self.deliveries.fetch_add(1, Ordering::SeqCst);
        let mut h = self
            .source
            .sign_for_test(topic, shop, &format!("kit-webhook-{id}"), body);
        h.insert("X-Shopify-Triggered-At", "2026-11-01T08:00:00.000Z");
        h.insert("X-Shopify-Event-Id", format!("kit-event-{id}"));
        h
    }

    fn vectors(&self) -> Vec<SignatureVector> {
        vec![SignatureVector {
            source_doc: "Shopify/shopify-app-js packages/apps/shopify-api/lib/webhooks/__tests__/validate.test.ts (\"returns true for valid request\")",
            source: Arc::new(
                ShopifyWebhooks::new(Secret::from("test_secret_key"))
                    .for_shop("shop1.myshopify.io"),
            ),
            headers: RawHeaders::from_pairs([
                (
                    "X-Shopify-Hmac-Sha256",
                    "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=",
                ),
                ("X-Shopify-Topic", "products/create"),
                ("X-Shopify-Shop-Domain", "shop1.myshopify.io"),
                ("X-Shopify-API-Version", "2023-01"),
                ("X-Shopify-Webhook-Id", "123456789"),
            ]),
            body: br#"{"foo": "bar"}"#.to_vec(),
            at: Utc::now(),
        }]
    }

    fn fixtures(&self) -> Vec<Fixture> {
        let f = |topic: &str, file: &str, doc, resource, expect: &[&'static str]| Fixture {
            topic: topic.into(),
            body: fixture(file),
            doc,
            resource,
            expect: expect.to_vec(),
        };
        vec![
            f(
                "orders/create",
                "orders_create.json",
                ORDERS_DOC,
                "order",
                &["order_created"],
            ),
            f(
                "orders/paid",
                "orders_create.json",
                ORDERS_DOC,
                "order",
                &["order_paid"],
            ),
            f(
                "orders/updated",
                "orders_create.json",
                ORDERS_DOC,
                "order",
                &["order_updated"],
            ),
            f(
                "orders/cancelled",
                "orders_create.json",
                ORDERS_DOC,
                "order",
                &["order_cancelled"],
            ),
            f(
                "orders/fulfilled",
                "orders_create.json",
                ORDERS_DOC,
                "order",
                &["order_updated"],
            ),
            f(
                "fulfillments/create",
                "fulfillments_create.json",
                FULFILLMENTS_DOC,
                "fulfillment",
                &["shipment_created"],
            ),
            f(
                "fulfillments/update",
                "fulfillments_update_unknown_status.json",
                FULFILLMENTS_DOC,
                "fulfillment",
                &["shipment_updated"],
            ),
            f(
                "fulfillment_events/create",
                "fulfillment_events_create.json",
                FULFILLMENT_EVENTS_DOC,
                "fulfillment_event",
                &["shipment_updated"],
            ),
            f(
                "customers/update",
                "customers_update.json",
                CUSTOMERS_DOC,
                "customer",
                &["customer_updated"],
            ),
            // The compliance payloads are requests about a customer or a shop, each its
            // own resource: one must never pass for another.
            f(
                "customers/redact",
                "customers_redact.json",
                PRIVACY_DOC,
                "customer_redaction",
                &["customer_redact_requested"],
            ),
            f(
                "customers/data_request",
                "customers_data_request.json",
                PRIVACY_DOC,
                "customer_data_request",
                &["customer_data_requested"],
            ),
            f(
                "shop/redact",
                "shop_redact.json",
                PRIVACY_DOC,
                "shop_redaction",
                &["shop_redact_requested"],
            ),
            f(
                "app/uninstalled",
                "app_uninstalled.json",
                UNINSTALLED_DOC,
                "shop",
                &["app_uninstalled"],
            ),
        ]
    }

    fn malformed(&self) -> Vec<(String, Vec<u8>)> {
        let order = fixture("orders_create.json");
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("orders/create", b"not json".to_vec()),
            ("orders/create", b"[]".to_vec()),
            ("orders/create", b"{}".to_vec()),
            ("orders/create", order[..order.len() / 2].to_vec()),
            (
                "orders/create",
                br#"{"id":8.209829119461545e17,"order_number":1234,"admin_graphql_api_id":"gid://shopify/Order/820982911946154508"}"#.to_vec(),
            ),
            (
                "orders/paid",
                order_body(|v| {
                    v.as_object_mut().unwrap().remove("order_number");
                }),
            ),
            (
                "fulfillments/create",
                br#"{"id":123456,"status":"success","admin_graphql_api_id":"gid://shopify/Fulfillment/123456"}"#.to_vec(),
            ),
            (
                "fulfillment_events/create",
                br#"{"id":1234567,"fulfillment_id":123456,"order_id":1,"admin_graphql_api_id":"gid://shopify/FulfillmentEvent/1234567"}"#.to_vec(),
            ),
            ("customers/redact", Vec::new()),
            ("customers/redact", br#"{"shop_id":954889,"shop_domain":"demo.myshopify.com"}"#.to_vec()),
            ("shop/redact", br#"{"shop_id":954889}"#.to_vec()),
            ("app/uninstalled", br#"{"id":548380009}"#.to_vec()),
        ];
        cases.into_iter().map(|(t, b)| (t.to_owned(), b)).collect()
    }

    fn unknown_topic(&self) -> (String, Vec<u8>) {
        (
            "products/create".into(),
            br#"{"id":632910392,"title":"IPod Nano - 8GB","admin_graphql_api_id":"gid://shopify/Product/632910392"}"#.to_vec(),
        )
    }

    fn body_for_shop(&self, shop: &str) -> Option<(String, Vec<u8>)> {
        // The compliance payloads and `app/uninstalled` name the shop in the body.
        let mut v = json_fixture("shop_redact.json");
        v["shop_domain"] = json!(shop);
        Some(("shop/redact".into(), serde_json::to_vec(&v).unwrap()))
    }

    fn big_ids(&self) -> (String, Vec<u8>, Vec<String>) {
        let ids = [
            u64::MAX,
            u64::MAX - 1,
            u64::MAX - 2,
            u64::MAX - 3,
            u64::MAX - 4,
        ];
        let body = order_body(|v| {
            v["id"] = json!(ids[0]);
            v["admin_graphql_api_id"] = json!(format!("gid://shopify/Order/{}", ids[0]));
            v["customer"]["id"] = json!(ids[1]);
            v["line_items"][0]["id"] = json!(ids[2]);
            v["line_items"][0]["product_id"] = json!(ids[3]);
            v["line_items"][0]["variant_id"] = json!(ids[4]);
        });
        (
            "orders/create".into(),
            body,
            ids.iter().map(u64::to_string).collect(),
        )
    }

    fn money(&self) -> Vec<(String, Vec<u8>, Money)> {
        [
            ("JPY", "1500", 1500),
            ("USD", "403.00", 40300),
            ("KWD", "12.345", 12345),
        ]
        .into_iter()
        .map(|(currency, total, minor)| {
            let body = order_body(|v| {
                v["currency"] = json!(currency);
                v["presentment_currency"] = json!(currency);
                v["total_price"] = json!(total);
            });
            (
                "orders/create".to_owned(),
                body,
                Money::new(minor, currency),
            )
        })
        .collect()
    }

    fn statuses(&self) -> Vec<(String, ShipmentStatus)> {
        use ShipmentStatus::*;
        // Webhook `shipment_status` and fulfillment `status` (lowercase); GraphQL
        // `FulfillmentEventStatus`, `FulfillmentDisplayStatus` and `FulfillmentStatus`
        // (https://shopify.dev/docs/api/admin-graphql/latest/enums/...).
        let all: Vec<(&str, ShipmentStatus)> = vec![
            ("label_printed", LabelCreated),
            ("label_purchased", LabelCreated),
            ("attempted_delivery", AttemptedDelivery),
            ("ready_for_pickup", ReadyForPickup),
            ("confirmed", Confirmed),
            ("in_transit", InTransit),
            ("out_for_delivery", OutForDelivery),
            ("delivered", Delivered),
            ("failure", Exception),
            ("pending", Confirmed),
            ("open", Confirmed),
            ("success", Confirmed),
            ("cancelled", Cancelled),
            // `FulfillmentStatus.ERROR` ("There was an error with the fulfillment
            // request"): no carrier state; kept raw.
            ("error", Unknown("error".into())),
            ("ATTEMPTED_DELIVERY", AttemptedDelivery),
            ("CARRIER_PICKED_UP", PickedUp),
            ("CONFIRMED", Confirmed),
            ("DELAYED", Delayed),
            ("DELIVERED", Delivered),
            ("FAILURE", Exception),
            ("IN_TRANSIT", InTransit),
            ("LABEL_PRINTED", LabelCreated),
            ("LABEL_PURCHASED", LabelCreated),
            ("OUT_FOR_DELIVERY", OutForDelivery),
            ("PICKED_UP", PickedUp),
            ("READY_FOR_PICKUP", ReadyForPickup),
            ("BUYER_ACTION_REQUIRED", Exception),
            ("READY_FOR_RECIPIENT_PICKUP", ReadyForPickup),
            ("RETURNING_TO_SENDER", Returned),
            ("CANCELED", Cancelled),
            ("FULFILLED", Confirmed),
            ("LABEL_VOIDED", Cancelled),
            ("MARKED_AS_FULFILLED", Confirmed),
            ("NOT_DELIVERED", Exception),
            ("SUBMITTED", Confirmed),
            ("CANCELLED", Cancelled),
            ("SUCCESS", Confirmed),
        ];
        all.into_iter().map(|(r, s)| (r.to_owned(), s)).collect()
    }

    fn map_status(&self, raw: &str) -> ShipmentStatus {
        shipment_status(raw)
    }

    async fn orders_api(
        &self,
        pages: Vec<Vec<KitOrder>>,
        fail_once_at: Option<usize>,
    ) -> Arc<dyn OrderSource> {
        let page = pages.first().map_or(1, Vec::len) as u32;
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(GQL_PATH))
            .respond_with(OrdersStandIn {
                pages,
                fail_once_at,
                failed: AtomicBool::new(false),
            })
            .mount(&server)
            .await;
        let c = client(&server, page.max(1));
        self.keep(server);
        Arc::new(c)
    }

    async fn rate_limited_api(&self) -> (Arc<dyn OrderSource>, Arc<Mutex<RateProbe>>) {
        let (c, _, probe, server) = cost_limited().await;
        self.keep(server);
        (Arc::new(c), probe)
    }

    async fn annotator(
        &self,
    ) -> (
        Arc<dyn OrderAnnotator>,
        Box<dyn Fn() -> usize + Send + Sync>,
    ) {
        let stand_in = Arc::new(AnnotationStandIn::default());
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(GQL_PATH))
            .respond_with(Shared(stand_in.clone()))
            .mount(&server)
            .await;
        let c = client(&server, 50);
        self.keep(server);
        (
            Arc::new(c),
            Box::new(move || stand_in.changes.load(Ordering::SeqCst)),
        )
    }
}

aftercare::platform_conformance_tests!(ShopifyKit::new());

/// Beyond the kit's per-window count: the stand-in enforces the bucket itself and refuses
/// a request the bucket cannot pay for; the client caused no refusal but the one request
/// sent into the bucket another worker had emptied (before the client knew its figures).
#[tokio::test]
async fn cost_limits_are_honoured_point_by_point() {
    use futures::StreamExt as _;
    let (c, stand_in, probe, _server) = cost_limited().await;
    let since = "2026-11-01T00:00:00Z".parse().unwrap();
    let got: Vec<_> = c.updated_since(since).collect().await;
    assert_eq!(got.iter().filter(|o| o.is_ok()).count(), 20);
    assert_eq!(
        stand_in.refused.load(Ordering::SeqCst),
        1,
        "only the request into the emptied bucket was refused"
    );
    let p = probe.lock().unwrap().clone();
    assert_eq!(p.arrivals.len(), 11, "ten pages and the refused request");
}
