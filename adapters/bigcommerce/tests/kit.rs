//! The sdk's platform conformance kit, unchanged, on BigCommerce: the official vectors, the
//! documented callbacks hydrated from a stand-in of the documented API, the store binding,
//! ids, money, statuses, paging, the quota and idempotent write-back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::conformance::platform::{
    Fixture, KitOrder, PlatformKit, RateProbe, SignatureVector,
};
use aftercare::model::{Money, ShipmentStatus};
use aftercare::platform::thin::Hydrator;
use aftercare::platform::{OrderAnnotator, OrderSource};
use aftercare::webhook::{RawHeaders, Secret, WebhookSource};
use aftercare_bigcommerce::{
    BigCommerceClient, BigCommerceHydrator, BigCommerceWebhooks, ORDER_STATUSES,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::standin::{OrdersApi, Quota, WritesApi};
use crate::common::{
    OTHER_STORE, STORE, api, callback, customers_json, fixture, get_ok, json_fixture, mount_order,
    order_json, shipments_json, source,
};

const DOC_EVENTS: &str =
    "bigcommerce/docs docs/integrations/webhooks/events/index.mdx (Webhook Events)";

/// Keeps the stand-ins alive as long as the kit (a dropped `MockServer` stops).
#[derive(Default)]
pub struct BigCommerceKit {
    servers: Mutex<Vec<MockServer>>,
}

impl BigCommerceKit {
    pub fn new() -> Self {
        Self::default()
    }

    fn keep(&self, s: MockServer) -> String {
        let uri = s.uri();
        self.servers.lock().unwrap().push(s);
        uri
    }
}

static DELIVERY: AtomicU64 = AtomicU64::new(1);

fn body_with(fixture_name: &str, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v = json_fixture(fixture_name);
    edit(&mut v);
    serde_json::to_vec(&v).unwrap()
}

fn kit_client(uri: &str) -> BigCommerceClient {
    let server_uri: url::Url = uri.parse().unwrap();
    BigCommerceClient::new(
        aftercare_bigcommerce::BigCommerceConfig::new(STORE, "test-token")
            .base_url(server_uri)
            .retry_policy(crate::common::fast_retry())
            .timeout(Duration::from_secs(2))
            .page_size(2),
    )
    .unwrap()
}

#[async_trait]
impl PlatformKit for BigCommerceKit {
    fn shop(&self) -> String {
        STORE.into()
    }

    fn other_shop(&self) -> String {
        OTHER_STORE.into()
    }

    fn source(&self) -> Arc<dyn WebhookSource> {
        Arc::new(source())
    }

    /// A delivery of a hook created by `ensure_hooks` for `shop` and scope `topic`: the three
    /// Standard Webhooks headers and the hook's custom headers.
    fn sign(&self, topic: &str, shop: &str, body: &[u8]) -> RawHeaders {
        let id = format!("msg_kit{}", DELIVERY.fetch_add(1, Ordering::Relaxed));
        source().sign_delivery_for_test(&id, Utc::now(), shop, topic, body)
    }

    fn vectors(&self) -> Vec<SignatureVector> {
        let at = |ts: i64| DateTime::from_timestamp(ts, 0).unwrap();
        vec![
            SignatureVector {
                source_doc: "standard-webhooks/standard-webhooks libraries/python/tests/test_webhooks.py::test_sign_function (BigCommerce's scheme)",
                source: Arc::new(BigCommerceWebhooks::new(
                    Secret::from_standard_webhooks("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap(),
                    STORE,
                )),
                headers: RawHeaders::from_pairs([
                    ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
                    ("webhook-timestamp", "1614265330"),
                    ("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
                ]),
                body: br#"{"test": 2432232314}"#.to_vec(),
                at: at(1_614_265_330),
            },
            SignatureVector {
                source_doc: "computed with openssl for a client secret as BigCommerce's HTTPS Webhooks Overview (Security) keys it: the secret's raw bytes",
                source: Arc::new(source()),
                headers: RawHeaders::from_pairs([
                    ("webhook-id", "msg_2Lq8Vx0fYtBc7Ne4"),
                    ("webhook-timestamp", "1561479335"),
                    ("webhook-signature", "v1,OOskpzM22BWDe+uitOpskm6cY3rtqwrwHx/9bHwl8kQ="),
                ]),
                body: br#"{"scope":"store/order/created","store_id":"1025646","data":{"type":"order","id":250},"hash":"dd70c0976e06b67aaf671e73f49dcb79230ebf9d","created_at":1561479335,"producer":"stores/abc123"}"#.to_vec(),
                at: at(1_561_479_335),
            },
        ]
    }

    fn fixtures(&self) -> Vec<Fixture> {
        let f = |topic: &str, body: Vec<u8>, resource, expect: Vec<&'static str>| Fixture {
            topic: topic.into(),
            body,
            doc: DOC_EVENTS,
            resource,
            expect,
        };
        vec![
            // Order 250: awaiting fulfillment, nothing shipped.
            f(
                "store/order/created",
                fixture("store_order_created.json"),
                "order",
                vec!["order_created"],
            ),
            // Order 260: shipped, two shipments.
            f(
                "store/order/updated",
                callback("store_order_updated.json", json!(260), None),
                "order",
                vec!["order_updated", "shipment_updated", "shipment_updated"],
            ),
            // Order 270: completed.
            f(
                "store/order/statusUpdated",
                callback("store_order_statusUpdated.json", json!(270), None),
                "order",
                vec!["order_updated", "shipment_updated", "shipment_updated"],
            ),
            f(
                "store/order/archived",
                callback("store_order_archived.json", json!(280), None),
                "order",
                vec!["order_cancelled"],
            ),
            f(
                "store/shipment/created",
                fixture("store_shipment_created.json"),
                "shipment",
                vec!["shipment_created"],
            ),
            f(
                "store/shipment/updated",
                fixture("store_shipment_updated.json"),
                "shipment",
                vec!["shipment_updated"],
            ),
            f(
                "store/customer/created",
                fixture("store_customer_created.json"),
                "customer",
                vec!["customer_updated"],
            ),
            f(
                "store/customer/updated",
                fixture("store_customer_updated.json"),
                "customer",
                vec!["customer_updated"],
            ),
            f(
                "store/app/uninstalled",
                fixture("store_app_uninstalled.json"),
                "shop",
                vec!["app_uninstalled"],
            ),
        ]
    }

    async fn hydrator(&self) -> Option<Arc<dyn Hydrator>> {
        let server = MockServer::start().await;
        mount_order(
            &server,
            "250",
            order_json("250", 11, "USD", "69.8400"),
            json!([]),
        )
        .await;
        mount_order(
            &server,
            "260",
            order_json("260", 2, "USD", "69.8400"),
            shipments_json("260"),
        )
        .await;
        mount_order(
            &server,
            "270",
            order_json("270", 10, "USD", "69.8400"),
            shipments_json("270"),
        )
        .await;
        let mut archived = order_json("280", 5, "USD", "69.8400");
        archived["is_deleted"] = json!(true);
        mount_order(&server, "280", archived, json!([])).await;
        let mut s = json_fixture("api_order_shipment.json");
        s["id"] = json!(12);
        s["order_id"] = json!(251);
        get_ok(&server, "v2/orders/251/shipments/12", s).await;
        get_ok(
            &server,
            "v2/orders/251",
            order_json("251", 2, "USD", "69.8400"),
        )
        .await;
        Mock::given(method("GET"))
            .and(path(api("v3/customers")))
            .and(query_param("id:in", "32"))
            .respond_with(ResponseTemplate::new(200).set_body_json(customers_json("32")))
            .mount(&server)
            .await;
        for (id, currency, total) in [
            ("301", "JPY", "1500.0000"),
            ("302", "USD", "135.4900"),
            ("303", "KWD", "12.3450"),
        ] {
            mount_order(&server, id, order_json(id, 11, currency, total), json!([])).await;
        }
        let big = u64::MAX.to_string();
        let mut o = order_json(&big, 2, "USD", "1.0000");
        o["customer_id"] = json!(u64::MAX);
        let mut ships = shipments_json(&big);
        ships[0]["id"] = json!(u64::MAX);
        mount_order(&server, &big, o, ships).await;
        let uri = self.keep(server);
        Some(Arc::new(BigCommerceHydrator::new(kit_client(&uri))))
    }

    fn malformed(&self) -> Vec<(String, Vec<u8>)> {
        vec![
            ("store/order/created".into(), b"not json".to_vec()),
            ("store/order/created".into(), b"{}".to_vec()),
            ("store/order/created".into(), b"[]".to_vec()),
            (
                "store/order/created".into(),
                body_with("store_order_created.json", |v| {
                    v["data"].as_object_mut().unwrap().remove("id");
                }),
            ),
            (
                "store/order/created".into(),
                body_with("store_order_created.json", |v| {
                    v["data"]["type"] = json!("product")
                }),
            ),
            (
                "store/order/created".into(),
                body_with("store_order_created.json", |v| {
                    v.as_object_mut().unwrap().remove("producer");
                }),
            ),
            (
                "store/shipment/created".into(),
                body_with("store_shipment_created.json", |v| {
                    v["data"].as_object_mut().unwrap().remove("orderId");
                }),
            ),
            (
                "store/customer/created".into(),
                body_with("store_customer_created.json", |v| {
                    v["data"]["id"] = json!(32.5)
                }),
            ),
            (
                "store/app/uninstalled".into(),
                body_with("store_app_uninstalled.json", |v| {
                    v["data"] = json!({"type": "order", "id": 1})
                }),
            ),
        ]
    }

    fn unknown_topic(&self) -> (String, Vec<u8>) {
        (
            "store/cart/created".into(),
            fixture("store_cart_created.json"),
        )
    }

    fn body_for_shop(&self, shop: &str) -> Option<(String, Vec<u8>)> {
        Some((
            "store/order/created".into(),
            body_with("store_order_created.json", |v| {
                v["producer"] = json!(format!("stores/{shop}"));
            }),
        ))
    }

    fn big_ids(&self) -> (String, Vec<u8>, Vec<String>) {
        (
            "store/order/updated".into(),
            callback("store_order_updated.json", json!(u64::MAX), None),
            vec![u64::MAX.to_string()],
        )
    }

    fn money(&self) -> Vec<(String, Vec<u8>, Money)> {
        [
            ("301", Money::new(1500, "JPY")),
            ("302", Money::new(13549, "USD")),
            ("303", Money::new(12345, "KWD")),
        ]
        .into_iter()
        .map(|(id, m)| {
            (
                "store/order/created".to_owned(),
                callback(
                    "store_order_created.json",
                    json!(id.parse::<u64>().unwrap()),
                    None,
                ),
                m,
            )
        })
        .collect()
    }

    fn statuses(&self) -> Vec<(String, ShipmentStatus)> {
        ORDER_STATUSES
            .iter()
            .map(|(id, _)| {
                let want = match id {
                    2 | 3 => ShipmentStatus::InTransit,
                    5 | 6 => ShipmentStatus::Cancelled,
                    8 => ShipmentStatus::ReadyForPickup,
                    9 => ShipmentStatus::LabelCreated,
                    10 => ShipmentStatus::Delivered,
                    11 => ShipmentStatus::Confirmed,
                    other => ShipmentStatus::Unknown(other.to_string()),
                };
                (id.to_string(), want)
            })
            .collect()
    }

    fn map_status(&self, raw: &str) -> ShipmentStatus {
        aftercare_bigcommerce::map_status(raw)
    }

    async fn orders_api(
        &self,
        pages: Vec<Vec<KitOrder>>,
        fail_once_at: Option<usize>,
    ) -> Arc<dyn OrderSource> {
        let orders: Vec<(String, DateTime<Utc>)> = pages
            .iter()
            .flatten()
            .map(|o| (o.id.clone(), o.updated_at))
            .collect();
        let stand_in = OrdersApi::new(orders);
        stand_in.state().fail_once_with = fail_once_at
            .and_then(|p| pages.get(p))
            .and_then(|p| p.first())
            .map(|o| o.id.clone());
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(api("v2/orders")))
            .respond_with(stand_in)
            .mount(&server)
            .await;
        let uri = self.keep(server);
        Arc::new(kit_client(&uri))
    }

    async fn rate_limited_api(&self) -> (Arc<dyn OrderSource>, Arc<Mutex<RateProbe>>) {
        let quota = Quota {
            quota: 3,
            window: Duration::from_millis(600),
        };
        let probe = Arc::new(Mutex::new(RateProbe {
            quota: quota.quota,
            window: quota.window,
            ..RateProbe::default()
        }));
        let base: DateTime<Utc> = "2026-11-01T08:00:00Z".parse().unwrap();
        let orders = (0..8)
            .map(|i| ((500 + i).to_string(), base + chrono::Duration::minutes(i)))
            .collect();
        let stand_in = OrdersApi::new(orders);
        {
            let mut s = stand_in.state();
            s.quota = Some(quota);
            s.throttle = Some((2, Duration::from_millis(300)));
            s.probe = Some(probe.clone());
        }
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(api("v2/orders")))
            .respond_with(stand_in)
            .mount(&server)
            .await;
        let uri = self.keep(server);
        (Arc::new(kit_client(&uri)), probe)
    }

    async fn annotator(
        &self,
    ) -> (
        Arc<dyn OrderAnnotator>,
        Box<dyn Fn() -> usize + Send + Sync>,
    ) {
        let w = WritesApi::default();
        w.state().staff_notes.insert("1001".into(), String::new());
        let server = MockServer::start().await;
        Mock::given(path_regex("^/stores/abc123/"))
            .respond_with(w.clone())
            .mount(&server)
            .await;
        let uri = self.keep(server);
        (
            Arc::new(kit_client(&uri)),
            Box::new(move || w.state().changes),
        )
    }
}

aftercare::platform_conformance_tests!(BigCommerceKit::new());
