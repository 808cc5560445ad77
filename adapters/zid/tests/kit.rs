//! The sdk's platform conformance kit, run unchanged against the Zid adapter.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::conformance::platform::{
    Fixture, KitOrder, PlatformKit, RateProbe, SignatureVector,
};
use aftercare::model::{Money, ShipmentStatus};
use aftercare::platform::{OrderAnnotator, OrderSource};
use aftercare::webhook::{RawHeaders, Secret, WebhookSource};
use aftercare_zid::{BasicCredentials, ZidWebhooks, map_status};
use async_trait::async_trait;
use serde_json::{Value, json};
use wiremock::MockServer;

use crate::common::zid::{State, order_as, start};
use crate::common::{
    MANAGER, OTHER, REFRESH, STORE, api, api_paced, credentials, fixture, fixture_json, source,
};

struct ZidKit {
    source: Arc<ZidWebhooks>,
    servers: Mutex<Vec<MockServer>>,
}

impl ZidKit {
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

    fn state(&self) -> State {
        State {
            manager: MANAGER.into(),
            refresh: REFRESH.into(),
            ..State::default()
        }
    }
}

fn body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

fn order_with(f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut o = fixture_json("order_indelivery.json");
    f(&mut o);
    body(&o)
}

#[async_trait]
impl PlatformKit for ZidKit {
    fn shop(&self) -> String {
        STORE.into()
    }

    fn other_shop(&self) -> String {
        OTHER.into()
    }

    fn source(&self) -> Arc<dyn WebhookSource> {
        self.source.clone()
    }

    /// Each store's webhooks are created with that store's credentials.
    fn sign(&self, _topic: &str, shop: &str, _body: &[u8]) -> RawHeaders {
        RawHeaders::from_pairs([
            ("Authorization", credentials(shop).header_value()),
            ("Content-Type", "application/json".to_owned()),
        ])
    }

    fn signs_body(&self) -> bool {
        false
    }

    fn vectors(&self) -> Vec<SignatureVector> {
        // Zid signs nothing; its deliveries carry HTTP Basic credentials. The official
        // vector of that scheme is RFC 7617 §2's: user-id "Aladdin", password "open
        // sesame" → `Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==`.
        let aladdin = BasicCredentials::new("Aladdin", Secret::from("open sesame")).unwrap();
        let source = ZidWebhooks::builder(STORE)
            .credentials(aladdin)
            .build()
            .unwrap();
        vec![SignatureVector {
            source_doc: "RFC 7617 §2 (HTTP Basic), the credentials Zid sends",
            source: Arc::new(source),
            headers: RawHeaders::from_pairs([(
                "Authorization",
                "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
            )]),
            body: fixture("order_indelivery.json"),
            at: chrono::Utc::now(),
        }]
    }

    fn fixtures(&self) -> Vec<Fixture> {
        vec![
            Fixture {
                topic: "order.status.update".into(),
                body: fixture("order_indelivery.json"),
                doc: "docs.zid.sa Webhooks → Order schema",
                resource: "order",
                expect: vec!["order_updated", "shipment_updated"],
            },
            Fixture {
                topic: "order.create".into(),
                body: fixture("order_new.json"),
                doc: "docs.zid.sa Change Order Status (response example)",
                resource: "order",
                expect: vec!["order_created"],
            },
        ]
    }

    fn malformed(&self) -> Vec<(String, Vec<u8>)> {
        let t = "order.status.update".to_owned();
        vec![
            (
                t.clone(),
                order_with(|o| {
                    o.as_object_mut().unwrap().remove("id");
                }),
            ),
            (
                t.clone(),
                order_with(|o| {
                    o.as_object_mut().unwrap().remove("store_id");
                }),
            ),
            (
                t.clone(),
                order_with(|o| {
                    o.as_object_mut().unwrap().remove("currency_code");
                }),
            ),
            (
                t.clone(),
                order_with(|o| {
                    o.as_object_mut().unwrap().remove("order_total");
                }),
            ),
            (
                t.clone(),
                order_with(|o| o["order_status"] = json!({"name": "x"})),
            ),
            (t.clone(), order_with(|o| o["id"] = json!(25304285.5))),
            (t.clone(), order_with(|o| o["id"] = json!(-4))),
            (
                t.clone(),
                order_with(|o| o["order_total"] = json!("211,45")),
            ),
            (
                t.clone(),
                order_with(|o| o["updated_at"] = json!("tomorrow")),
            ),
            (t.clone(), b"[]".to_vec()),
            (t.clone(), b"not json".to_vec()),
        ]
    }

    fn unknown_topic(&self) -> (String, Vec<u8>) {
        (
            "product.update".into(),
            body(
                &json!({"id": "f28e9f26-4a9e-4159-bc50-d128ebe41d34", "name": "عطر العود", "sku": "OUD-50"}),
            ),
        )
    }

    fn body_for_shop(&self, shop: &str) -> Option<(String, Vec<u8>)> {
        Some((
            "order.status.update".into(),
            order_with(|o| {
                o["store_id"] = shop.parse::<u64>().map(Value::from).unwrap_or(json!(shop))
            }),
        ))
    }

    fn big_ids(&self) -> (String, Vec<u8>, Vec<String>) {
        let max = u64::MAX;
        (
            "order.status.update".into(),
            order_with(|o| {
                o["id"] = json!(max);
                o["customer"]["id"] = json!(max);
            }),
            vec![max.to_string()],
        )
    }

    fn money(&self) -> Vec<(String, Vec<u8>, Money)> {
        let t = "order.status.update".to_owned();
        let with = |total: Value, cur: &str| {
            let cur = cur.to_owned();
            order_with(move |o| {
                o["order_total"] = total;
                o["currency_code"] = json!(cur);
            })
        };
        vec![
            (
                t.clone(),
                with(json!("211.44999892193000"), "SAR"),
                Money::new(21145, "SAR"),
            ),
            (
                t.clone(),
                with(json!("1500.00000000000000"), "JPY"),
                Money::new(1500, "JPY"),
            ),
            (
                t.clone(),
                with(json!("12.34549999"), "KWD"),
                Money::new(12345, "KWD"),
            ),
            (t, with(json!(0.29), "USD"), Money::new(29, "USD")),
        ]
    }

    fn statuses(&self) -> Vec<(String, ShipmentStatus)> {
        let unknown = |s: &str| (s.to_owned(), ShipmentStatus::Unknown(s.to_owned()));
        vec![
            unknown("new"),
            ("preparing".into(), ShipmentStatus::Confirmed),
            ("ready".into(), ShipmentStatus::LabelCreated),
            ("indelivery".into(), ShipmentStatus::InTransit),
            ("inDelivery".into(), ShipmentStatus::InTransit),
            ("delivered".into(), ShipmentStatus::Delivered),
            ("cancelled".into(), ShipmentStatus::Cancelled),
            ("canceled".into(), ShipmentStatus::Cancelled),
            unknown("failed"),
            unknown("refunded"),
            unknown("reversed"),
            unknown("chargeback"),
            unknown("expired"),
            unknown("processed"),
            unknown("voided"),
            unknown("reverse_in_progress"),
            unknown("denied"),
            unknown("canceledReversal"),
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
        let (server, _) = start(State {
            orders: pages
                .iter()
                .flatten()
                .map(|o| (o.id.clone(), order_as(&o.id, o.updated_at)))
                .collect(),
            pages: pages
                .iter()
                .map(|p| p.iter().map(|o| o.id.clone()).collect())
                .collect(),
            fail_once_at: fail_once_at.map(|i| i as u64 + 1),
            ..self.state()
        })
        .await;
        let uri = self.keep(server);
        Arc::new(api(&uri).await)
    }

    async fn rate_limited_api(&self) -> (Arc<dyn OrderSource>, Arc<Mutex<RateProbe>>) {
        // Zid announces no quota headers: the client paces itself (here 3 per 300 ms; 50 a
        // minute by default, under Zid's 60) and obeys `Retry-After`.
        let (quota, window) = (3u32, Duration::from_millis(300));
        let probe = Arc::new(Mutex::new(RateProbe {
            quota,
            window,
            ..RateProbe::default()
        }));
        let base: chrono::DateTime<chrono::Utc> = "2026-11-01T08:00:00Z".parse().unwrap();
        let (server, _) = start(State {
            orders: (0..5)
                .map(|i| {
                    let id = (500 + i).to_string();
                    let o = order_as(&id, base + chrono::Duration::minutes(i));
                    (id, o)
                })
                .collect(),
            throttle: Some((2, 1)),
            probe: Some(probe.clone()),
            ..self.state()
        })
        .await;
        let uri = self.keep(server);
        (Arc::new(api_paced(&uri, (quota, window)).await), probe)
    }

    async fn annotator(
        &self,
    ) -> (
        Arc<dyn OrderAnnotator>,
        Box<dyn Fn() -> usize + Send + Sync>,
    ) {
        let (server, fake) = start(State {
            orders: [("1001".to_owned(), order_as("1001", chrono::Utc::now()))].into(),
            ..self.state()
        })
        .await;
        let uri = self.keep(server);
        (
            Arc::new(api(&uri).await),
            Box::new(move || fake.state().changes),
        )
    }
}

aftercare::platform_conformance_tests!(ZidKit::new());
