//! The sdk's platform conformance kit, unchanged, on Nuvemshop: a signature vector, the
//! documented notifications hydrated from a stand-in of the documented API, the store and
//! app binding, ids, money, statuses, paging, the leaky bucket and idempotent write-back.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::conformance::platform::{
    CostBucket, Fixture, KitOrder, PlatformKit, RateProbe, SignatureVector,
};
use aftercare::model::{Money, ShipmentStatus};
use aftercare::platform::thin::Hydrator;
use aftercare::platform::{OrderAnnotator, OrderSource};
use aftercare::webhook::{RawHeaders, Secret, WebhookSource};
use aftercare_nuvemshop::{NuvemshopHydrator, NuvemshopWebhooks, SHIPPING_STATUSES, map_status};
use async_trait::async_trait;
use chrono::Utc;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::standin::{Bucket, OrdersApi, WritesApi};
use crate::common::{
    APP_ID, OTHER_STORE, STORE, api, client, fixture, json_fixture, order_json, source,
};

const DOC_WEBHOOK: &str =
    "TiendaNube/api-docs resources/webhook.md (Parameters, Example webhook content)";

/// Keeps the stand-ins alive as long as the kit.
#[derive(Default)]
pub struct NuvemshopKit {
    servers: Mutex<Vec<MockServer>>,
}

impl NuvemshopKit {
    pub fn new() -> Self {
        Self::default()
    }

    fn keep(&self, s: MockServer) -> String {
        let uri = s.uri();
        self.servers.lock().unwrap().push(s);
        uri
    }
}

fn notification(event: &str, id: &str) -> Vec<u8> {
    format!(r#"{{"store_id":{STORE},"event":"{event}","id":{id}}}"#).into_bytes()
}

async fn serve_order(server: &MockServer, id: &str, order: Value) {
    Mock::given(method("GET"))
        .and(path(api(&format!("orders/{id}"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(order))
        .mount(server)
        .await;
}

#[async_trait]
impl PlatformKit for NuvemshopKit {
    fn shop(&self) -> String {
        STORE.into()
    }

    fn other_shop(&self) -> String {
        OTHER_STORE.into()
    }

    fn source(&self) -> Arc<dyn WebhookSource> {
        Arc::new(source())
    }

    /// A delivery of a webhook created by `ensure_hooks` for `shop` and event `topic`: the
    /// signature and the webhook's custom headers.
    fn sign(&self, topic: &str, shop: &str, body: &[u8]) -> RawHeaders {
        source().sign_delivery_for_test(shop, topic, body)
    }

    /// Nuvemshop publishes no vector (facts §2). Its scheme is the plain hex HMAC-SHA256 of
    /// the body that Shopware's app SDK tests (vector V4); and one computed with openssl for
    /// the docs' example body (`echo -n '<body>' | openssl dgst -sha256 -hmac secret`).
    fn vectors(&self) -> Vec<SignatureVector> {
        let at = Utc::now();
        vec![
            SignatureVector {
                source_doc: "shopware/app-php-sdk tests/Authentication/RequestVerifierTest.php::testAuthenticatePostValid (the same hex HMAC-SHA256 of the raw body)",
                source: Arc::new(NuvemshopWebhooks::new(
                    Secret::from("secret"),
                    APP_ID,
                    STORE,
                )),
                headers: RawHeaders::from_pairs([(
                    "x-linkedstore-hmac-sha256",
                    "dc46983557fea127b43af721467eb9b3fde2338fe3e14f51952aa8478c13d355",
                )]),
                body: b"body".to_vec(),
                at,
            },
            SignatureVector {
                source_doc: "computed with openssl over resources/webhook.md's example body with the PHP sample's APP_SECRET 'secret'",
                source: Arc::new(NuvemshopWebhooks::new(
                    Secret::from("secret"),
                    APP_ID,
                    STORE,
                )),
                headers: RawHeaders::from_pairs([(
                    "X-Linkedstore-HMAC-SHA256",
                    "24422bada660dd9816d9653d07c1c71da850d2ba231ed6158e7f40e186bf990e",
                )]),
                body: br#"{"store_id":123,"event":"product/created","id":1948209}"#.to_vec(),
                at,
            },
        ]
    }

    fn fixtures(&self) -> Vec<Fixture> {
        let f =
            |topic: &str, file: &str, resource: &'static str, expect: Vec<&'static str>| Fixture {
                topic: topic.into(),
                body: fixture(file),
                doc: DOC_WEBHOOK,
                resource,
                expect,
            };
        vec![
            f(
                "order/created",
                "order_created.json",
                "order",
                vec!["order_created"],
            ),
            f("order/paid", "order_paid.json", "order", vec!["order_paid"]),
            f(
                "order/fulfilled",
                "order_fulfilled.json",
                "order",
                vec!["order_updated", "shipment_updated"],
            ),
            f(
                "order/cancelled",
                "order_cancelled.json",
                "order",
                vec!["order_cancelled"],
            ),
            f(
                "app/uninstalled",
                "app_uninstalled.json",
                "app",
                vec!["app_uninstalled"],
            ),
        ]
    }

    async fn hydrator(&self) -> Option<Arc<dyn Hydrator>> {
        let server = MockServer::start().await;
        serve_order(&server, "450789469", json_fixture("api_order.json")).await;
        serve_order(
            &server,
            "450789470",
            json_fixture("api_order_fulfilled.json"),
        )
        .await;
        let mut big = order_json(
            &u64::MAX.to_string(),
            "USD",
            "58.00",
            "2026-11-01T08:00:00+0000",
        );
        big["customer"]["id"] = json!(u64::MAX);
        big["products"][0]["product_id"] = json!(u64::MAX);
        serve_order(&server, &u64::MAX.to_string(), big).await;
        let mut jpy = order_json("9001", "JPY", "1000", "2026-11-01T08:00:00+0000");
        jpy["products"][0]["price"] = json!("500");
        serve_order(&server, "9001", jpy).await;
        serve_order(
            &server,
            "9002",
            order_json("9002", "USD", "135.49", "2026-11-01T08:00:00+0000"),
        )
        .await;
        let mut kwd = order_json("9003", "KWD", "1.500", "2026-11-01T08:00:00+0000");
        kwd["products"][0]["price"] = json!("0.750");
        serve_order(&server, "9003", kwd).await;
        serve_order(
            &server,
            "9004",
            order_json("9004", "USD", "12,50", "2026-11-01T08:00:00+0000"),
        )
        .await;
        serve_order(
            &server,
            "9005",
            order_json("9005", "USD", "12.50", "yesterday"),
        )
        .await;
        let mut no_products = order_json("9006", "USD", "12.50", "2026-11-01T08:00:00+0000");
        no_products.as_object_mut().unwrap().remove("products");
        serve_order(&server, "9006", no_products).await;
        // 9007: the API answers another order than the one asked for.
        serve_order(
            &server,
            "9007",
            order_json("9008", "USD", "12.50", "2026-11-01T08:00:00+0000"),
        )
        .await;
        let uri = self.keep(server);
        let c = client(&uri);
        Some(Arc::new(NuvemshopHydrator::new(Arc::new(source()), c)))
    }

    fn malformed(&self) -> Vec<(String, Vec<u8>)> {
        let t = |s: &str| s.to_owned();
        vec![
            (
                t("order/created"),
                format!(r#"{{"store_id":{STORE},"event":"order/created"}}"#).into_bytes(),
            ),
            (
                t("order/created"),
                format!(r#"{{"store_id":{STORE},"event":"order/created","id":450789469.5}}"#)
                    .into_bytes(),
            ),
            (
                t("order/created"),
                format!(r#"{{"store_id":{STORE},"event":"order/created","id":-1}}"#).into_bytes(),
            ),
            (
                t("order/created"),
                br#"{"event":"order/created","id":450789469}"#.to_vec(),
            ),
            (t("order/created"), b"not json".to_vec()),
            (t("order/created"), b"[]".to_vec()),
            // Another app's uninstall.
            (t("app/uninstalled"), notification("app/uninstalled", "999")),
            // An order the store does not have.
            (t("order/paid"), notification("order/paid", "777")),
            // Orders the API serves with a total that is not an amount, a bad date, no
            // products, or under another id.
            (t("order/updated"), notification("order/updated", "9004")),
            (t("order/updated"), notification("order/updated", "9005")),
            (t("order/updated"), notification("order/updated", "9006")),
            (t("order/updated"), notification("order/updated", "9007")),
        ]
    }

    fn unknown_topic(&self) -> (String, Vec<u8>) {
        ("product/created".into(), fixture("product_created.json"))
    }

    fn body_for_shop(&self, shop: &str) -> Option<(String, Vec<u8>)> {
        Some((
            "order/created".into(),
            format!(r#"{{"store_id":{shop},"event":"order/created","id":450789469}}"#).into_bytes(),
        ))
    }

    fn big_ids(&self) -> (String, Vec<u8>, Vec<String>) {
        let max = u64::MAX.to_string();
        (
            "order/created".into(),
            notification("order/created", &max),
            vec![max],
        )
    }

    fn money(&self) -> Vec<(String, Vec<u8>, Money)> {
        vec![
            (
                "order/paid".into(),
                notification("order/paid", "9001"),
                Money::new(1000, "JPY"),
            ),
            (
                "order/paid".into(),
                notification("order/paid", "9002"),
                Money::new(13549, "USD"),
            ),
            (
                "order/paid".into(),
                notification("order/paid", "9003"),
                Money::new(1500, "KWD"),
            ),
        ]
    }

    fn statuses(&self) -> Vec<(String, ShipmentStatus)> {
        SHIPPING_STATUSES
            .iter()
            .map(|s| {
                let want = match *s {
                    "unpacked" | "unshipped" => ShipmentStatus::Confirmed,
                    "packed" => ShipmentStatus::LabelCreated,
                    "shipped" => ShipmentStatus::InTransit,
                    "delivered" => ShipmentStatus::Delivered,
                    other => panic!("a status without an expectation: {other}"),
                };
                ((*s).to_owned(), want)
            })
            .collect()
    }

    fn map_status(&self, raw: &str) -> ShipmentStatus {
        map_status(raw)
    }

    async fn orders_api(
        &self,
        pages: Vec<Vec<KitOrder>>,
        fail_once_at: Option<usize>,
    ) -> Arc<dyn OrderSource> {
        let pages: Vec<Vec<Value>> = pages
            .iter()
            .map(|p| {
                p.iter()
                    .map(|o| order_json(&o.id, "USD", "10.00", &o.updated_at.to_rfc3339()))
                    .collect()
            })
            .collect();
        let stand_in = OrdersApi::new(pages);
        stand_in.state().fail_once_at = fail_once_at;
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(api("orders")))
            .respond_with(stand_in)
            .mount(&server)
            .await;
        let uri = self.keep(server);
        Arc::new(client(&uri))
    }

    /// A bucket of 4 leaking 4 per second (Nuvemshop's is 40 leaking 2/s; smaller so the
    /// check is quick), and one forced `429` asking for 300 ms.
    async fn rate_limited_api(&self) -> (Arc<dyn OrderSource>, Arc<Mutex<RateProbe>>) {
        let bucket = Bucket {
            size: 4.0,
            rate: 4.0,
        };
        let probe = Arc::new(Mutex::new(RateProbe {
            quota: 8,
            window: Duration::from_secs(1),
            bucket: Some(CostBucket {
                size: bucket.size,
                restore_per_sec: bucket.rate,
            }),
            ..RateProbe::default()
        }));
        let pages: Vec<Vec<Value>> = (0..6)
            .map(|p| {
                (0..2)
                    .map(|i| {
                        let n = 500 + p * 2 + i;
                        order_json(&n.to_string(), "USD", "10.00", "2026-11-01T08:00:00+0000")
                    })
                    .collect()
            })
            .collect();
        let stand_in = OrdersApi::new(pages);
        {
            let mut s = stand_in.state();
            s.bucket = Some(bucket);
            s.throttle = Some((2, Duration::from_millis(300)));
            s.probe = Some(probe.clone());
        }
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(api("orders")))
            .respond_with(stand_in)
            .mount(&server)
            .await;
        let uri = self.keep(server);
        (Arc::new(client(&uri)), probe)
    }

    async fn annotator(
        &self,
    ) -> (
        Arc<dyn OrderAnnotator>,
        Box<dyn Fn() -> usize + Send + Sync>,
    ) {
        let w = WritesApi::default();
        w.state().owner_notes.insert("1001".into(), None);
        let server = MockServer::start().await;
        Mock::given(path_regex(format!("^/v1/{STORE}/")))
            .respond_with(w.clone())
            .mount(&server)
            .await;
        let uri = self.keep(server);
        (Arc::new(client(&uri)), Box::new(move || w.state().changes))
    }
}

aftercare::platform_conformance_tests!(NuvemshopKit::new());
