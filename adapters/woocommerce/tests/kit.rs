//! The sdk's platform conformance kit, run unchanged against the WooCommerce adapter.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::conformance::platform::{
    Fixture, KitOrder, PlatformKit, RateProbe, SignatureVector,
};
use aftercare::model::{Money, ShipmentStatus};
use aftercare::platform::limits::{QuotaHeaders, ResetUnit};
use aftercare::platform::thin::Hydrator;
use aftercare::platform::{OrderAnnotator, OrderSource};
use aftercare::webhook::{RawHeaders, Secret, WebhookSource};
use aftercare_woocommerce::{
    SIGNATURE_HEADER, SOURCE_HEADER, TOPIC_HEADER, WEBHOOK_ID_HEADER, WooClient, WooHydrator,
    WooWebhooks,
};
use async_trait::async_trait;
use serde_json::{Value, json};
use wiremock::MockServer;

use crate::common::woo::{State, order, start};
use crate::common::{OTHER_SITE, SITE, config, fixture, fixture_json, source};

struct WooKit {
    source: Arc<WooWebhooks>,
    /// Stand-ins stay up as long as the kit.
    servers: Mutex<Vec<MockServer>>,
}

impl WooKit {
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

    fn body(v: &Value) -> Vec<u8> {
        serde_json::to_vec(v).unwrap()
    }
}

fn gmt(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

#[async_trait]
impl PlatformKit for WooKit {
    fn shop(&self) -> String {
        SITE.into()
    }

    fn other_shop(&self) -> String {
        OTHER_SITE.into()
    }

    fn source(&self) -> Arc<dyn WebhookSource> {
        self.source.clone()
    }

    fn sign(&self, topic: &str, shop: &str, body: &[u8]) -> RawHeaders {
        self.source.sign_as(topic, shop, "42", body)
    }

    fn vectors(&self) -> Vec<SignatureVector> {
        // WooCommerce's own test of `generate_signature` (woocommerce/woocommerce
        // `plugins/woocommerce/tests/legacy/unit-tests/webhooks/crud.php`,
        // `test_generate_signature`): a new webhook has no secret, so the key is empty,
        // and the message is the word "secret".
        let v2 = WooWebhooks::builder(SITE)
            .secret(Secret::from(""))
            .allow_empty_secret()
            .build()
            .unwrap();
        vec![SignatureVector {
            source_doc: "woocommerce/woocommerce tests/legacy/unit-tests/webhooks/crud.php test_generate_signature",
            source: Arc::new(v2),
            headers: RawHeaders::from_pairs([
                (
                    SIGNATURE_HEADER,
                    "GBDo00G55h6IiV+6CxqivQPLbI//KzaOZm747971tPs=",
                ),
                (TOPIC_HEADER, "order.updated"),
                (SOURCE_HEADER, SITE),
                (WEBHOOK_ID_HEADER, "1"),
            ]),
            body: b"secret".to_vec(),
            at: chrono::Utc::now(),
        }]
    }

    fn fixtures(&self) -> Vec<Fixture> {
        let f = |topic: &str, file: &str, doc, resource, expect: Vec<&'static str>| Fixture {
            topic: topic.into(),
            body: fixture(file),
            doc,
            resource,
            expect,
        };
        vec![
            f(
                "order.created",
                "order_created.json",
                "woocommerce-rest-api-docs _orders.md, Retrieve an order (webhook payloads are the REST resource, _webhooks.md)",
                "order",
                vec!["order_created", "order_paid"],
            ),
            f(
                "order.updated",
                "order_updated_tracking.json",
                "woocommerce-rest-api-docs _orders.md, List all orders (order 723) + Shipment Tracking's _wc_shipment_tracking_items meta",
                "order",
                vec!["order_updated", "order_paid", "shipment_updated"],
            ),
            f(
                "order.deleted",
                "order_deleted.json",
                "woocommerce/woocommerce class-wc-webhook.php build_payload (a deleted resource is only its id)",
                "order",
                vec!["order_cancelled"],
            ),
            f(
                "customer.updated",
                "customer_updated.json",
                "woocommerce-rest-api-docs _customers.md, Retrieve a customer",
                "customer",
                vec!["customer_updated"],
            ),
            f(
                "action.woocommerce_order_status_completed",
                "action_order_status_completed.json",
                "woocommerce-rest-api-docs _webhooks.md (custom topics pass the hook's first argument) + class-wc-webhook.php get_wp_api_payload",
                "action",
                vec!["order_updated", "order_paid", "shipment_updated"],
            ),
        ]
    }

    async fn hydrator(&self) -> Option<Arc<dyn Hydrator>> {
        let o723 = fixture_json("order_updated_tracking.json");
        let mut tracking = BTreeMap::new();
        tracking.insert("723".to_owned(), fixture_json("tracking_items_723.json"));
        let (server, _) = start(State {
            orders: BTreeMap::from([("723".to_owned(), o723)]),
            tracking: Some(tracking),
            ..State::default()
        })
        .await;
        let uri = self.keep(server);
        let client = WooClient::new(config(&uri)).unwrap();
        Some(Arc::new(WooHydrator::new(self.source.clone(), client)))
    }

    fn malformed(&self) -> Vec<(String, Vec<u8>)> {
        let mut no_key = order("727", "2017-03-22T19:28:08");
        no_key.as_object_mut().unwrap().remove("order_key");
        let mut float_id = order("727", "2017-03-22T19:28:08");
        float_id["id"] = json!(727.5);
        let mut bad_date = order("727", "2017-03-22T19:28:08");
        bad_date["date_modified_gmt"] = json!("yesterday");
        let mut bad_total = order("727", "2017-03-22T19:28:08");
        bad_total["total"] = json!("1,029.35");
        let t = |s: &str| s.to_owned();
        vec![
            (t("order.updated"), b"not json".to_vec()),
            (t("order.updated"), b"[]".to_vec()),
            (t("order.updated"), b"{}".to_vec()),
            (t("order.updated"), Self::body(&no_key)),
            (t("order.updated"), Self::body(&float_id)),
            (t("order.updated"), Self::body(&bad_date)),
            (t("order.updated"), Self::body(&bad_total)),
            (t("order.created"), fixture("customer_updated.json")),
            (t("customer.updated"), br#"{"id":25}"#.to_vec()),
            (
                t("order.deleted"),
                br#"{"id":727,"status":"trash"}"#.to_vec(),
            ),
            (t("order.deleted"), b"{}".to_vec()),
            (
                t("action.woocommerce_order_status_completed"),
                br#"{"action":"woocommerce_order_status_cancelled","arg":723}"#.to_vec(),
            ),
            (
                t("action.woocommerce_order_status_completed"),
                br#"{"action":"woocommerce_order_status_completed","arg":"seven"}"#.to_vec(),
            ),
        ]
    }

    fn unknown_topic(&self) -> (String, Vec<u8>) {
        (
            "product.updated".into(),
            br#"{"id":794,"name":"Premium Quality","slug":"premium-quality-19","type":"simple","status":"publish"}"#.to_vec(),
        )
    }

    fn body_for_shop(&self, shop: &str) -> Option<(String, Vec<u8>)> {
        let mut o = fixture_json("order_created.json");
        o["_links"]["self"][0]["href"] = json!(format!("{shop}wp-json/wc/v3/orders/727"));
        o["_links"]["collection"][0]["href"] = json!(format!("{shop}wp-json/wc/v3/orders"));
        Some(("order.updated".into(), Self::body(&o)))
    }

    fn big_ids(&self) -> (String, Vec<u8>, Vec<String>) {
        let max = u64::MAX;
        let mut o = fixture_json("order_updated_tracking.json");
        o["id"] = json!(max);
        o["number"] = json!(max.to_string());
        o["customer_id"] = json!(max);
        o["line_items"][0]["id"] = json!(max);
        o["line_items"][0]["product_id"] = json!(max);
        (
            "order.updated".into(),
            Self::body(&o),
            vec![max.to_string()],
        )
    }

    fn money(&self) -> Vec<(String, Vec<u8>, Money)> {
        let with = |currency: &str, total: &str| {
            let mut o = fixture_json("order_created.json");
            o["currency"] = json!(currency);
            o["total"] = json!(total);
            Self::body(&o)
        };
        vec![
            (
                "order.created".into(),
                with("JPY", "4500"),
                Money::new(4500, "JPY"),
            ),
            (
                "order.created".into(),
                with("USD", "29.35"),
                Money::new(2935, "USD"),
            ),
            (
                "order.created".into(),
                with("KWD", "12.345"),
                Money::new(12345, "KWD"),
            ),
        ]
    }

    fn statuses(&self) -> Vec<(String, ShipmentStatus)> {
        let u = |s: &str| ShipmentStatus::Unknown(s.into());
        [
            // WooCommerce's order statuses (_orders.md, `status`).
            ("processing", ShipmentStatus::Confirmed),
            ("completed", ShipmentStatus::InTransit),
            ("cancelled", ShipmentStatus::Cancelled),
            ("pending", u("pending")),
            ("on-hold", u("on-hold")),
            ("refunded", u("refunded")),
            ("failed", u("failed")),
            ("trash", u("trash")),
            ("checkout-draft", u("checkout-draft")),
            // Order statuses Advanced Shipment Tracking and TrackShip add [3rd-party].
            ("shipped", ShipmentStatus::InTransit),
            ("partial-shipped", ShipmentStatus::InTransit),
            ("delivered", ShipmentStatus::Delivered),
            // TrackShip's shipment statuses [3rd-party].
            ("pre_transit", ShipmentStatus::LabelCreated),
            ("in_transit", ShipmentStatus::InTransit),
            ("out_for_delivery", ShipmentStatus::OutForDelivery),
            ("available_for_pickup", ShipmentStatus::ReadyForPickup),
            ("return_to_sender", ShipmentStatus::Returned),
            ("failure", ShipmentStatus::Exception),
            ("exception", ShipmentStatus::Exception),
            ("unknown", u("unknown")),
        ]
        .into_iter()
        .map(|(r, s)| (r.to_owned(), s))
        .collect()
    }

    fn map_status(&self, raw: &str) -> ShipmentStatus {
        aftercare_woocommerce::map_status(raw)
    }

    async fn orders_api(
        &self,
        pages: Vec<Vec<KitOrder>>,
        fail_once_at: Option<usize>,
    ) -> Arc<dyn OrderSource> {
        let page_size = pages.first().map_or(1, Vec::len);
        let orders = pages
            .iter()
            .flatten()
            .map(|o| (o.id.clone(), order(&o.id, &gmt(o.updated_at))))
            .collect();
        let fail = fail_once_at.map(|i| {
            pages[i]
                .iter()
                .map(|o| o.id.clone())
                .collect::<HashSet<_>>()
        });
        let (server, _) = start(State {
            orders,
            fail_list_once: fail,
            ..State::default()
        })
        .await;
        let uri = self.keep(server);
        Arc::new(WooClient::new(config(&uri).page_size(u32::try_from(page_size).unwrap())).unwrap())
    }

    async fn rate_limited_api(&self) -> (Arc<dyn OrderSource>, Arc<Mutex<RateProbe>>) {
        let base: chrono::DateTime<chrono::Utc> = "2026-11-01T08:00:00Z".parse().unwrap();
        let orders = (0..6)
            .map(|i| {
                let id = (2001 + i).to_string();
                let o = order(&id, &gmt(base + chrono::Duration::minutes(i)));
                (id, o)
            })
            .collect();
        let probe = Arc::new(Mutex::new(RateProbe::default()));
        let (server, _) = start(State {
            orders,
            // 5 requests a second; the third request is answered 429, Retry-After: 1.
            quota: Some((5, Duration::from_secs(1), 3)),
            probe: probe.clone(),
            ..State::default()
        })
        .await;
        let uri = self.keep(server);
        // WooCommerce announces no quota; a host that does is read through
        // `quota_headers` (a fixed-window count alone would allow 10 in a sliding second),
        // and the client's own pace stays below the host's limit: 4 in any second for 5,
        // as network delays can bunch arrivals.
        let cfg = config(&uri)
            .page_size(2)
            .pace(4, Duration::from_secs(1))
            .quota_headers(QuotaHeaders::new(
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
                ResetUnit::Seconds,
            ));
        (Arc::new(WooClient::new(cfg).unwrap()), probe)
    }

    async fn annotator(
        &self,
    ) -> (
        Arc<dyn OrderAnnotator>,
        Box<dyn Fn() -> usize + Send + Sync>,
    ) {
        let (server, fake) = start(State {
            orders: BTreeMap::from([("1001".to_owned(), order("1001", "2026-11-01T08:00:00"))]),
            ..State::default()
        })
        .await;
        let uri = self.keep(server);
        (
            Arc::new(WooClient::new(config(&uri)).unwrap()),
            Box::new(move || fake.writes()),
        )
    }
}

aftercare::platform_conformance_tests!(WooKit::new());
