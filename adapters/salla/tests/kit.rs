//! The sdk's platform conformance kit, run unchanged against the Salla adapter.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::conformance::platform::{
    CostBucket, Fixture, KitOrder, PlatformKit, RateProbe, SignatureVector,
};
use aftercare::model::{Money, ShipmentStatus};
use aftercare::platform::thin::Hydrator;
use aftercare::platform::token::{MemoryTokens, TokenCipher};
use aftercare::platform::{OrderAnnotator, OrderSource};
use aftercare::webhook::{RawHeaders, Secret, WebhookSource};
use aftercare_salla::{SallaHydrator, SallaWebhooks, map_status};
use async_trait::async_trait;
use serde_json::{Value, json};
use wiremock::MockServer;

use crate::common::salla::{Bucket, State, order_as, start};
use crate::common::{ACCESS, MERCHANT, OTHER, REFRESH, api, fixture, fixture_json, holder, source};

struct SallaKit {
    source: Arc<SallaWebhooks>,
    servers: Mutex<Vec<MockServer>>,
}

impl SallaKit {
    fn new() -> Self {
        Self {
            source: Arc::new(source()),
            servers: Mutex::new(Vec::new()),
        }
    }

    fn keep(&self, server: MockServer) -> String {
        let uri = server.uri();
        self.servers.lock().unwrap().push(server);
        uri
    }
}

fn envelope(event: &str, data: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "event": event, "merchant": 1234509876u64, "created_at": "2026-11-02 10:15:00", "data": data
    }))
    .unwrap()
}

fn order_with_total(amount: Value, currency: &str) -> Vec<u8> {
    let mut o = fixture_json("order_created.json")["data"].clone();
    o["amounts"]["total"] = json!({"amount": amount, "currency": currency});
    o["currency"] = json!(currency);
    envelope("order.created", o)
}

#[async_trait]
impl PlatformKit for SallaKit {
    fn shop(&self) -> String {
        MERCHANT.into()
    }

    fn other_shop(&self) -> String {
        OTHER.into()
    }

    fn source(&self) -> Arc<dyn WebhookSource> {
        self.source.clone()
    }

    fn sign(&self, _topic: &str, _shop: &str, body: &[u8]) -> RawHeaders {
        // Salla names neither topic nor store in headers: both are in the signed envelope
        // (see `body_as`).
        self.source.sign_for_test(body)
    }

    fn body_as(&self, topic: &str, shop: Option<&str>, body: &[u8]) -> Vec<u8> {
        let Ok(mut v) = serde_json::from_slice::<Value>(body) else {
            return body.to_vec();
        };
        if !v.is_object() || v.get("event").is_none() {
            return body.to_vec();
        }
        v["event"] = json!(topic);
        if let Some(shop) = shop {
            v["merchant"] = shop.parse::<u64>().map(Value::from).unwrap_or(json!(shop));
        }
        serde_json::to_vec(&v).unwrap()
    }

    fn vectors(&self) -> Vec<SignatureVector> {
        // Salla publishes no vector. `X-Salla-Signature` is the plain hex HMAC-SHA256 of
        // the raw body, the primitive of Shopware's `shopware-shop-signature`, whose
        // official vector (shopware/app-php-sdk
        // `tests/Authentication/RequestVerifierTest.php::testAuthenticatePostValid`:
        // key `secret`, body `body`) checks it (facts §2, V4).
        let source = SallaWebhooks::builder(MERCHANT)
            .signature(Secret::from("secret"))
            .build()
            .unwrap();
        vec![SignatureVector {
            source_doc: "V4 (shopware/app-php-sdk RequestVerifierTest), Salla's hex HMAC primitive",
            source: Arc::new(source),
            headers: RawHeaders::from_pairs([(
                "X-Salla-Signature",
                "dc46983557fea127b43af721467eb9b3fde2338fe3e14f51952aa8478c13d355",
            )]),
            body: b"body".to_vec(),
            at: chrono::Utc::now(),
        }]
    }

    fn fixtures(&self) -> Vec<Fixture> {
        vec![
            Fixture {
                topic: "order.created".into(),
                body: fixture("order_created.json"),
                doc: "docs.salla.dev 421121 Order Events",
                resource: "order",
                expect: vec!["order_created", "shipment_updated"],
            },
            Fixture {
                topic: "shipment.updated".into(),
                body: fixture("shipment_updated.json"),
                doc: "docs.salla.dev Shipment Events",
                resource: "shipment",
                expect: vec!["shipment_updated"],
            },
            Fixture {
                topic: "customer.updated".into(),
                body: fixture("customer_updated.json"),
                doc: "docs.salla.dev Customer Events",
                resource: "customer",
                expect: vec!["customer_updated"],
            },
            Fixture {
                topic: "app.uninstalled".into(),
                body: fixture("app_uninstalled.json"),
                doc: "docs.salla.dev 421413 App Events",
                resource: "shop",
                expect: vec!["app_uninstalled"],
            },
        ]
    }

    async fn hydrator(&self) -> Option<Arc<dyn Hydrator>> {
        let (server, _) = start(State::default()).await;
        let uri = self.keep(server);
        let tokens = holder(&uri, Arc::new(MemoryTokens::new()), TokenCipher::generate());
        Some(Arc::new(SallaHydrator::new(self.source.clone(), tokens)))
    }

    fn malformed(&self) -> Vec<(String, Vec<u8>)> {
        let order = fixture_json("order_created.json")["data"].clone();
        let without = |key: &str| {
            let mut o = order.clone();
            o.as_object_mut().unwrap().remove(key);
            envelope("order.created", o)
        };
        let mut fraction = order.clone();
        fraction["id"] = json!(251729613.5);
        let mut negative = order.clone();
        negative["id"] = json!(-1);
        let mut bad_total = order.clone();
        bad_total["amounts"]["total"]["amount"] = json!("230.5.1");
        let mut bad_date = order.clone();
        bad_date["date"] = json!({"date": "yesterday", "timezone": "Asia/Riyadh"});
        let mut shipment = fixture_json("shipment_updated.json")["data"].clone();
        shipment.as_object_mut().unwrap().remove("order_id");
        vec![
            ("order.created".into(), without("id")),
            ("order.created".into(), without("reference_id")),
            ("order.created".into(), without("amounts")),
            ("order.created".into(), without("status")),
            ("order.created".into(), envelope("order.created", fraction)),
            ("order.created".into(), envelope("order.created", negative)),
            ("order.created".into(), envelope("order.created", bad_total)),
            ("order.created".into(), envelope("order.created", bad_date)),
            ("order.created".into(), envelope("order.created", json!([]))),
            (
                "shipment.updated".into(),
                envelope("shipment.updated", shipment),
            ),
            (
                "customer.updated".into(),
                envelope("customer.updated", json!({"id": 5})),
            ),
            (
                "order.created".into(),
                b"{\"event\":\"order.created\"}".to_vec(),
            ),
            ("order.created".into(), b"not json".to_vec()),
        ]
    }

    fn unknown_topic(&self) -> (String, Vec<u8>) {
        (
            "product.updated".into(),
            envelope("product.updated", json!({"id": 1758431, "name": "قميص"})),
        )
    }

    fn body_for_shop(&self, shop: &str) -> Option<(String, Vec<u8>)> {
        let mut v = fixture_json("order_created.json");
        v["merchant"] = shop.parse::<u64>().map(Value::from).unwrap_or(json!(shop));
        Some(("order.created".into(), serde_json::to_vec(&v).unwrap()))
    }

    fn big_ids(&self) -> (String, Vec<u8>, Vec<String>) {
        let max = u64::MAX;
        let mut o = fixture_json("order_created.json")["data"].clone();
        o["id"] = json!(max);
        o["reference_id"] = json!(max);
        o["customer"]["id"] = json!(max);
        o["shipments"][0]["id"] = json!(max);
        (
            "order.created".into(),
            envelope("order.created", o),
            vec![max.to_string()],
        )
    }

    fn money(&self) -> Vec<(String, Vec<u8>, Money)> {
        vec![
            (
                "order.created".into(),
                order_with_total(json!(230.5), "SAR"),
                Money::new(23050, "SAR"),
            ),
            (
                "order.created".into(),
                order_with_total(json!(1500), "JPY"),
                Money::new(1500, "JPY"),
            ),
            (
                "order.created".into(),
                order_with_total(json!("12.345"), "KWD"),
                Money::new(12345, "KWD"),
            ),
            (
                "order.created".into(),
                order_with_total(json!(0.29), "USD"),
                Money::new(29, "USD"),
            ),
        ]
    }

    fn statuses(&self) -> Vec<(String, ShipmentStatus)> {
        vec![
            ("created".into(), ShipmentStatus::LabelCreated),
            ("in_progress".into(), ShipmentStatus::Confirmed),
            ("shipped".into(), ShipmentStatus::InTransit),
            ("delivering".into(), ShipmentStatus::OutForDelivery),
            ("delivered".into(), ShipmentStatus::Delivered),
            ("cancelled".into(), ShipmentStatus::Cancelled),
        ]
    }

    fn map_status(&self, raw: &str) -> ShipmentStatus {
        map_status(raw)
    }

    async fn orders_api(
        &self,
        pages: Vec<Vec<KitOrder>>,
        fail_once_at: Option<usize>,
    ) -> Arc<dyn OrderSource> {
        let orders = pages
            .iter()
            .flatten()
            .map(|o| (o.id.clone(), order_as(&o.id, o.updated_at)))
            .collect();
        let (server, _) = start(State {
            orders,
            pages: pages
                .iter()
                .map(|p| p.iter().map(|o| o.id.clone()).collect())
                .collect(),
            fail_once_at: fail_once_at.map(|i| i as u64 + 1),
            access: ACCESS.into(),
            refresh: REFRESH.into(),
            ..State::default()
        })
        .await;
        let uri = self.keep(server);
        Arc::new(api(&uri).await)
    }

    async fn rate_limited_api(&self) -> (Arc<dyn OrderSource>, Arc<Mutex<RateProbe>>) {
        let bucket = Bucket {
            size: 3.0,
            leak: 4.0,
        };
        let probe = Arc::new(Mutex::new(RateProbe {
            quota: 3,
            window: Duration::from_millis(250),
            bucket: Some(CostBucket {
                size: bucket.size,
                restore_per_sec: bucket.leak,
            }),
            ..RateProbe::default()
        }));
        let base: chrono::DateTime<chrono::Utc> = "2026-11-01T08:00:00Z".parse().unwrap();
        let orders = (0..5)
            .map(|i| {
                let id = (500 + i).to_string();
                let o = order_as(&id, base + chrono::Duration::minutes(i));
                (id, o)
            })
            .collect();
        let (server, _) = start(State {
            orders,
            bucket: Some(bucket),
            throttle: Some((2, 1)),
            probe: Some(probe.clone()),
            access: ACCESS.into(),
            refresh: REFRESH.into(),
            ..State::default()
        })
        .await;
        let uri = self.keep(server);
        (Arc::new(api(&uri).await), probe)
    }

    async fn annotator(
        &self,
    ) -> (
        Arc<dyn OrderAnnotator>,
        Box<dyn Fn() -> usize + Send + Sync>,
    ) {
        let (server, fake) = start(State {
            orders: [("1001".to_owned(), order_as("1001", chrono::Utc::now()))].into(),
            access: ACCESS.into(),
            refresh: REFRESH.into(),
            ..State::default()
        })
        .await;
        let uri = self.keep(server);
        (
            Arc::new(api(&uri).await),
            Box::new(move || fake.state().changes),
        )
    }
}

aftercare::platform_conformance_tests!(SallaKit::new());
