//! The sdk's platform conformance kit, run unchanged against the Magento adapter (Adobe
//! Commerce webhooks as the webhook source; the REST API stand-in for the API checks).

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::conformance::platform::{
    Fixture, KitOrder, PlatformKit, RateProbe, SignatureVector,
};
use aftercare::model::{Money, ShipmentStatus};
use aftercare::platform::{OrderAnnotator, OrderSource};
use aftercare::webhook::{RawHeaders, WebhookSource};
use aftercare_magento::events::resource_of;
use aftercare_magento::{CommerceWebhooks, MagentoClient};
use async_trait::async_trait;
use serde_json::{Value, json};
use wiremock::MockServer;

use crate::common::magento::{State, order, start};
use crate::common::{
    OTHER_STORE, STORE, config, fixture, fixture_json, other_key, source, store_key,
};

struct MagentoKit {
    source: Arc<CommerceWebhooks>,
    /// Stand-ins stay up as long as the kit.
    servers: Mutex<Vec<MockServer>>,
}

impl MagentoKit {
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

fn body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

fn magento_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// The order webhook with its order changed by `f`.
fn order_hook(f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut w = fixture_json("webhook_order_save_after.json");
    f(&mut w["data"]["order"]);
    body(&w)
}

#[async_trait]
impl PlatformKit for MagentoKit {
    fn shop(&self) -> String {
        STORE.into()
    }

    fn other_shop(&self) -> String {
        OTHER_STORE.into()
    }

    fn source(&self) -> Arc<dyn WebhookSource> {
        self.source.clone()
    }

    /// Commerce signs with its own instance's private key and sends no store or topic
    /// header: another store's webhook is signed with another key.
    fn sign(&self, _topic: &str, shop: &str, body: &[u8]) -> RawHeaders {
        let key = if shop == STORE {
            store_key()
        } else {
            other_key()
        };
        CommerceWebhooks::sign_with(key, body)
    }

    fn vectors(&self) -> Vec<SignatureVector> {
        Vec::new()
    }

    fn no_published_vectors(&self) -> Option<&'static str> {
        Some(
            "Adobe Commerce webhooks are RSA-SHA256 signatures made with each store's own key pair \
             (AdobeDocs/commerce-extensibility webhooks/signature-verification.md shows a public \
             key but no signature made with it); the adapter's tests sign with generated key pairs",
        )
    }

    /// Commerce's event name is in the signed body (`eventName`), with the object under the
    /// event's key (`data.order`, `data.track`…): both are written for `topic`. The body
    /// names no store (its key pair does), so `shop` changes nothing.
    fn body_as(&self, topic: &str, _shop: Option<&str>, raw: &[u8]) -> Vec<u8> {
        let Ok(mut v) = serde_json::from_slice::<Value>(raw) else {
            return raw.to_vec();
        };
        let Some(obj) = v.as_object_mut() else {
            return raw.to_vec();
        };
        let from = obj
            .get("eventName")
            .and_then(Value::as_str)
            .and_then(resource_of)
            .map(|(_, k)| k);
        let to = resource_of(topic).map(|(_, k)| k);
        if let (Some(from), Some(to), Some(data)) =
            (from, to, obj.get_mut("data").and_then(Value::as_object_mut))
            && let Some(o) = data.remove(from)
        {
            data.insert(to.to_owned(), o);
        }
        obj.insert("eventName".into(), json!(topic));
        body(&v)
    }

    fn fixtures(&self) -> Vec<Fixture> {
        let f = |file: &str, doc, resource, expect: Vec<&'static str>| {
            let body = fixture(file);
            let topic = serde_json::from_slice::<Value>(&body).unwrap()["eventName"]
                .as_str()
                .unwrap()
                .to_owned();
            Fixture {
                topic,
                body,
                doc,
                resource,
                expect,
            }
        };
        vec![
            f(
                "webhook_order_save_after.json",
                "developer.adobe.com/commerce/extensibility/webhooks/ (payload {eventName, data}) + events-reference sales_order_save_after (OrderInterface fields)",
                "order",
                vec!["order_updated", "order_paid"],
            ),
            f(
                "webhook_order_place_after.json",
                "developer.adobe.com/commerce/extensibility/webhooks/ + events-reference sales_order_place_after",
                "order",
                vec!["order_created"],
            ),
            f(
                "webhook_shipment_save_after.json",
                "developer.adobe.com/commerce/extensibility/webhooks/ + ShipmentInterface (Magento/Sales/Api/Data)",
                "shipment",
                vec!["shipment_updated"],
            ),
            f(
                "webhook_track_save_after.json",
                "developer.adobe.com/commerce/extensibility/webhooks/ + ShipmentTrackInterface (Magento/Sales/Api/Data)",
                "track",
                vec!["shipment_updated"],
            ),
            f(
                "webhook_customer_save_after.json",
                "developer.adobe.com/commerce/extensibility/webhooks/ + events-reference customer_save_after",
                "customer",
                vec!["customer_updated"],
            ),
        ]
    }

    fn malformed(&self) -> Vec<(String, Vec<u8>)> {
        let t = |s: &str| s.to_owned();
        let save = "observer.sales_order_save_after";
        let track = "observer.sales_order_shipment_track_save_after";
        let mut track_no_number = fixture_json("webhook_track_save_after.json");
        track_no_number["data"]["track"]
            .as_object_mut()
            .unwrap()
            .remove("track_number");
        let mut customer_no_email = fixture_json("webhook_customer_save_after.json");
        customer_no_email["data"]["customer"]
            .as_object_mut()
            .unwrap()
            .remove("email");
        let mut no_data = fixture_json("webhook_order_save_after.json");
        no_data.as_object_mut().unwrap().remove("data");
        vec![
            (t(save), b"not json".to_vec()),
            (t(save), b"[]".to_vec()),
            (t(save), b"{}".to_vec()),
            (t(save), body(&no_data)),
            (
                t(save),
                order_hook(|o| drop(o.as_object_mut().unwrap().remove("increment_id"))),
            ),
            (t(save), order_hook(|o| o["entity_id"] = json!(42.5))),
            (t(save), order_hook(|o| o["entity_id"] = json!(-42))),
            (
                t(save),
                order_hook(|o| o["updated_at"] = json!("yesterday")),
            ),
            (
                t(save),
                order_hook(|o| o["grand_total"] = json!("1,029.35")),
            ),
            (t(save), order_hook(|o| o["total_paid"] = json!("paid"))),
            (t(track), body(&track_no_number)),
            (t("observer.customer_save_after"), body(&customer_no_email)),
        ]
    }

    fn unknown_topic(&self) -> (String, Vec<u8>) {
        let topic = "observer.catalog_product_save_after";
        (
            topic.into(),
            body(&json!({
                "eventName": topic,
                "data": { "data_object": { "entity_id": "1556", "sku": "WS12-M-Orange", "name": "Radiant Tee", "updated_at": "2026-11-02 10:00:00" } }
            })),
        )
    }

    fn body_for_shop(&self, _shop: &str) -> Option<(String, Vec<u8>)> {
        // Commerce's bodies do not name the instance; its key pair does.
        None
    }

    fn big_ids(&self) -> (String, Vec<u8>, Vec<String>) {
        let max = u64::MAX;
        let b = order_hook(|o| {
            o["entity_id"] = json!(max);
            o["customer_id"] = json!(max.to_string());
            o["items"] = json!([{ "item_id": max, "product_id": max, "name": "Radiant Tee", "qty_ordered": "1.0000", "sku": "WS12" }]);
        });
        (
            "observer.sales_order_save_after".into(),
            b,
            vec![max.to_string()],
        )
    }

    fn money(&self) -> Vec<(String, Vec<u8>, Money)> {
        let with = |currency: &str, total: &str| {
            order_hook(|o| {
                o["order_currency_code"] = json!(currency);
                o["grand_total"] = json!(total);
                o["total_paid"] = json!(total);
            })
        };
        let t = "observer.sales_order_save_after".to_owned();
        vec![
            (t.clone(), with("JPY", "4500.0000"), Money::new(4500, "JPY")),
            (t.clone(), with("USD", "36.3900"), Money::new(3639, "USD")),
            (t, with("KWD", "12.3450"), Money::new(12345, "KWD")),
        ]
    }

    fn statuses(&self) -> Vec<(String, ShipmentStatus)> {
        let u = |s: &str| ShipmentStatus::Unknown(s.into());
        // Magento's order states and default statuses (Magento\Sales\Model\Order::STATE_*,
        // sales_order_status_state).
        [
            ("new", u("new")),
            ("pending", u("pending")),
            ("pending_payment", u("pending_payment")),
            ("payment_review", u("payment_review")),
            ("fraud", u("fraud")),
            ("holded", u("holded")),
            ("processing", ShipmentStatus::Confirmed),
            ("complete", ShipmentStatus::InTransit),
            ("closed", u("closed")),
            ("canceled", ShipmentStatus::Cancelled),
        ]
        .into_iter()
        .map(|(r, s)| (r.to_owned(), s))
        .collect()
    }

    fn map_status(&self, raw: &str) -> ShipmentStatus {
        aftercare_magento::map_status(raw)
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
            .map(|o| (o.id.clone(), order(&o.id, &magento_time(o.updated_at))))
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
            store_configs: Some(fixture_json("store_configs.json")),
            ..State::default()
        })
        .await;
        let uri = self.keep(server);
        Arc::new(
            MagentoClient::new(config(&uri).page_size(u32::try_from(page_size).unwrap())).unwrap(),
        )
    }

    async fn rate_limited_api(&self) -> (Arc<dyn OrderSource>, Arc<Mutex<RateProbe>>) {
        let base: chrono::DateTime<chrono::Utc> = "2026-11-01T08:00:00Z".parse().unwrap();
        let orders = (0..6)
            .map(|i| {
                let id = (2001 + i).to_string();
                let o = order(&id, &magento_time(base + chrono::Duration::minutes(i)));
                (id, o)
            })
            .collect();
        let probe = Arc::new(Mutex::new(RateProbe::default()));
        let (server, _) = start(State {
            orders,
            store_configs: Some(fixture_json("store_configs.json")),
            // 5 requests a second; the third is answered 429 with Retry-After: 1 (Fastly
            // in front of Adobe Commerce Cloud; Magento core announces no quota).
            quota: Some((5, Duration::from_secs(1), 3)),
            probe: probe.clone(),
            ..State::default()
        })
        .await;
        let uri = self.keep(server);
        let cfg = config(&uri).page_size(2).pace(4, Duration::from_secs(1));
        (Arc::new(MagentoClient::new(cfg).unwrap()), probe)
    }

    async fn annotator(
        &self,
    ) -> (
        Arc<dyn OrderAnnotator>,
        Box<dyn Fn() -> usize + Send + Sync>,
    ) {
        let (server, fake) = start(State {
            orders: BTreeMap::from([("1001".to_owned(), order("1001", "2026-11-01 08:00:00"))]),
            ..State::default()
        })
        .await;
        let uri = self.keep(server);
        (
            Arc::new(MagentoClient::new(config(&uri)).unwrap()),
            Box::new(move || fake.writes()),
        )
    }
}

aftercare::platform_conformance_tests!(MagentoKit::new());
