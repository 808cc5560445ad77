//! The sdk's platform conformance kit on ikas: a signature vector computed as the official
//! client checks it, envelopes of the documented entities, the merchant binding, string
//! ids, money, statuses, `listOrder` paging, the pace and idempotent write-back. ikas's
//! topic and merchant travel in the unsigned envelope, so the kit's `body_as` rewrites them
//! there, and `tamper` changes the signed `data` (JSON ignores a trailing space).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::conformance::platform::{
    Fixture, KitOrder, PlatformKit, RateProbe, SignatureVector,
};
use aftercare::model::{Money, ShipmentStatus};
use aftercare::platform::{OrderAnnotator, OrderSource};
use aftercare::webhook::{RawHeaders, Secret, WebhookSource};
use aftercare_ikas::{
    IkasAuth, IkasClient, IkasConfig, IkasWebhooks, PACKAGE_STATUSES, map_status,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::time::Instant;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::{
    GRAPHQL_PATH, MERCHANT, OTHER_MERCHANT, client, envelope, fast_retry, json_fixture, operation,
    source,
};

const DOC: &str = "@ikas/admin-api-client dist/models/webhook/models.d.ts (IkasWebhook) + ikas.dev Order/OrderPackage/Customer type definitions";

#[derive(Default)]
pub struct IkasKit {
    servers: Mutex<Vec<MockServer>>,
}

impl IkasKit {
    pub fn new() -> Self {
        Self::default()
    }

    fn keep(&self, s: MockServer) -> String {
        let uri = s.uri();
        self.servers.lock().unwrap().push(s);
        uri
    }
}

fn order_with(edit: impl FnOnce(&mut Value)) -> Value {
    let mut o = json_fixture("data_order_fulfilled.json");
    edit(&mut o);
    o
}

fn kit_order(id: &str, updated: DateTime<Utc>) -> Value {
    order_with(|o| {
        o["id"] = json!(id);
        o["updatedAt"] = json!(updated.timestamp_millis());
    })
}

/// `listOrder` pages, answered by `pagination.page`; the page `fail_once_at` (0-based)
/// answers a 500 once; optionally a sliding quota with one forced 429.
#[derive(Clone, Default)]
struct Orders(Arc<Mutex<OrdersState>>);

#[derive(Default)]
struct OrdersState {
    pages: Vec<Vec<Value>>,
    fail_once_at: Option<usize>,
    failed: bool,
    throttle: Option<(usize, Duration)>,
    arrivals: Vec<Instant>,
    probe: Option<Arc<Mutex<RateProbe>>>,
}

impl Respond for Orders {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = self.0.lock().unwrap();
        let now = Instant::now();
        let index = s.arrivals.len();
        s.arrivals.push(now);
        if let Some(p) = &s.probe {
            p.lock().unwrap().arrivals.push(now);
        }
        if let Some((i, wait)) = s.throttle
            && i == index
        {
            if let Some(p) = &s.probe {
                p.lock().unwrap().throttled = Some((now, wait));
            }
            return ResponseTemplate::new(429)
                .insert_header("Retry-After", wait.as_secs().to_string());
        }
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let page = body["variables"]["pagination"]["page"]
            .as_u64()
            .unwrap_or(1) as usize;
        let n = s.pages.len();
        let i = page.saturating_sub(1);
        if s.fail_once_at == Some(i) && !s.failed {
            s.failed = true;
            return ResponseTemplate::new(500);
        }
        let data = s.pages.get(i).cloned().unwrap_or_default();
        ResponseTemplate::new(200).set_body_json(json!({"data": {"listOrder": {
            "count": s.pages.iter().map(Vec::len).sum::<usize>(),
            "hasNext": page < n, "page": page, "limit": 2, "data": data
        }}}))
    }
}

#[derive(Clone, Default)]
struct Timeline(Arc<Mutex<Vec<Value>>>);

impl Respond for Timeline {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        if operation(&body) == "addOrderTimelineEntry" {
            self.0
                .lock()
                .unwrap()
                .push(body["variables"]["input"].clone());
            return ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"addOrderTimelineEntry": true}}));
        }
        ResponseTemplate::new(200).set_body_json(json!({"errors": [{"message": "unexpected"}]}))
    }
}

#[async_trait]
impl PlatformKit for IkasKit {
    fn shop(&self) -> String {
        MERCHANT.into()
    }

    fn other_shop(&self) -> String {
        OTHER_MERCHANT.into()
    }

    fn source(&self) -> Arc<dyn WebhookSource> {
        Arc::new(source())
    }

    /// ikas sends nothing in headers that the official client reads.
    fn sign(&self, _topic: &str, _shop: &str, _body: &[u8]) -> RawHeaders {
        RawHeaders::new()
    }

    /// The scope and the merchant travel in the unsigned envelope: a delivery under another
    /// topic or for another merchant rewrites them there (the signature over `data` holds).
    fn body_as(&self, topic: &str, shop: Option<&str>, body: &[u8]) -> Vec<u8> {
        match serde_json::from_slice::<Value>(body) {
            Ok(mut v) if v.is_object() => {
                v["scope"] = json!(topic);
                if let Some(shop) = shop {
                    v["merchantId"] = json!(shop);
                }
                serde_json::to_vec(&v).unwrap()
            }
            _ => body.to_vec(),
        }
    }

    fn tamper(&self, body: &[u8]) -> Vec<u8> {
        let mut v: Value = serde_json::from_slice(body).unwrap();
        let data = v["data"].as_str().unwrap().replacen("o-1", "o-2", 1);
        v["data"] = json!(data);
        serde_json::to_vec(&v).unwrap()
    }

    /// ikas publishes no vector. Computed with openssl as `validateIkasWebhookSignature`
    /// computes it: `echo -n '{"id":"o-1"}' | openssl dgst -sha256 -hmac secret` (hex).
    fn vectors(&self) -> Vec<SignatureVector> {
        vec![SignatureVector {
            source_doc: "computed with openssl as @ikas/admin-api-client dist/helpers/webhook-helpers.js validateIkasWebhookSignature does (hex HMAC-SHA256 of data with the client secret)",
            source: Arc::new(IkasWebhooks::new(Secret::from("secret"), "m-1")),
            headers: RawHeaders::new(),
            body: br#"{"id":"wh-1","createdAt":"1764576000000","scope":"store/order/updated","merchantId":"m-1","authorizedAppId":"app-1","data":"{\"id\":\"o-1\"}","signature":"728cd316462701cd2d92b6b51e26194793f541ee40c84f698adee8b18e75ef01"}"#
                .to_vec(),
            at: Utc::now(),
        }]
    }

    fn fixtures(&self) -> Vec<Fixture> {
        let f =
            |topic: &str, file: &str, resource: &'static str, expect: Vec<&'static str>| Fixture {
                topic: topic.into(),
                body: envelope(topic, MERCHANT, &json_fixture(file)),
                doc: DOC,
                resource,
                expect,
            };
        vec![
            f(
                "store/order/created",
                "data_order_created.json",
                "order",
                vec!["order_created"],
            ),
            f(
                "store/order/updated",
                "data_order_fulfilled.json",
                "order",
                vec!["order_updated", "shipment_updated"],
            ),
            f(
                "store/customer/updated",
                "data_customer.json",
                "customer",
                vec!["customer_updated"],
            ),
        ]
    }

    fn malformed(&self) -> Vec<(String, Vec<u8>)> {
        let t = "store/order/updated".to_owned();
        let signed =
            |data: &str| source().envelope_for_test("wh-1", "store/order/updated", MERCHANT, data);
        let order = |edit: fn(&mut Value)| {
            let o = order_with(edit);
            envelope("store/order/updated", MERCHANT, &o)
        };
        vec![
            (t.clone(), signed("{")),
            (t.clone(), signed("[]")),
            (t.clone(), signed("\"text\"")),
            (
                t.clone(),
                order(|o| {
                    o.as_object_mut().unwrap().remove("orderNumber");
                }),
            ),
            (t.clone(), order(|o| o["totalFinalPrice"] = json!("abc"))),
            (t.clone(), order(|o| o["totalFinalPrice"] = json!(1.234))),
            (t.clone(), order(|o| o["updatedAt"] = json!("yesterday"))),
            (
                t.clone(),
                order(|o| o["orderLineItems"][0]["quantity"] = json!(-1)),
            ),
            (t.clone(), order(|o| o["currencyCode"] = json!("LIRA"))),
            (
                t.clone(),
                order(|o| o["merchantId"] = json!(OTHER_MERCHANT)),
            ),
            // The envelope's signature does not cover another data.
            (t.clone(), {
                let mut v: Value = serde_json::from_slice(&signed(r#"{"id":"o-1"}"#)).unwrap();
                v["data"] = json!(r#"{"id":"o-2"}"#);
                serde_json::to_vec(&v).unwrap()
            }),
            (
                "store/customer/updated".into(),
                envelope(
                    "store/customer/updated",
                    MERCHANT,
                    &json!({"id": " ", "firstName": "A"}),
                ),
            ),
            (t.clone(), b"not json".to_vec()),
        ]
    }

    fn unknown_topic(&self) -> (String, Vec<u8>) {
        let t = "store/product/created";
        (
            t.into(),
            envelope(t, MERCHANT, &json!({"id": "p-1", "name": "Çay bardağı"})),
        )
    }

    fn body_for_shop(&self, shop: &str) -> Option<(String, Vec<u8>)> {
        let t = "store/order/updated";
        Some((
            t.into(),
            envelope(t, shop, &json_fixture("data_order_fulfilled.json")),
        ))
    }

    fn big_ids(&self) -> (String, Vec<u8>, Vec<String>) {
        let id = "ffffffff-ffff-4fff-bfff-ffffffffffff";
        let pkg = "eeeeeeee-eeee-4eee-beee-eeeeeeeeeeee";
        let cust = "dddddddd-dddd-4ddd-bddd-dddddddddddd";
        let o = order_with(|o| {
            o["id"] = json!(id);
            o["orderPackages"][0]["id"] = json!(pkg);
            o["customer"]["id"] = json!(cust);
        });
        let t = "store/order/updated";
        (
            t.into(),
            envelope(t, MERCHANT, &o),
            vec![id.into(), pkg.into(), cust.into()],
        )
    }

    fn money(&self) -> Vec<(String, Vec<u8>, Money)> {
        let t = "store/order/created";
        let with = |cur: &str, total: Value| {
            let o = order_with(|o| {
                o["currencyCode"] = json!(cur);
                o["totalFinalPrice"] = total;
                o["orderLineItems"][0]["price"] = json!(1);
            });
            envelope(t, MERCHANT, &o)
        };
        vec![
            (t.into(), with("JPY", json!(1000)), Money::new(1000, "JPY")),
            (
                t.into(),
                with("USD", json!(135.49)),
                Money::new(13549, "USD"),
            ),
            (t.into(), with("KWD", json!(1.5)), Money::new(1500, "KWD")),
        ]
    }

    fn statuses(&self) -> Vec<(String, ShipmentStatus)> {
        PACKAGE_STATUSES
            .iter()
            .map(|s| {
                let want = match *s {
                    "PLANNED" | "WAITING_FOR_PACKAGING" => ShipmentStatus::Confirmed,
                    "READY_FOR_SHIPMENT" => ShipmentStatus::LabelCreated,
                    "FULFILLED" => ShipmentStatus::InTransit,
                    "READY_FOR_PICK_UP" => ShipmentStatus::ReadyForPickup,
                    "DELIVERED" => ShipmentStatus::Delivered,
                    "UNABLE_TO_DELIVER" | "ERROR" => ShipmentStatus::Exception,
                    "CANCELLED" => ShipmentStatus::Cancelled,
                    "RETURN_PARCEL_WAITING" | "RETURN_IN_TRANSIT" | "RETURN_DELIVERED" => {
                        ShipmentStatus::Returned
                    }
                    other => ShipmentStatus::Unknown(other.to_owned()),
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
        let pages = pages
            .iter()
            .map(|p| p.iter().map(|o| kit_order(&o.id, o.updated_at)).collect())
            .collect();
        let s = Orders::default();
        {
            let mut st = s.0.lock().unwrap();
            st.pages = pages;
            st.fail_once_at = fail_once_at;
        }
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(GRAPHQL_PATH))
            .respond_with(s)
            .mount(&server)
            .await;
        let uri = self.keep(server);
        Arc::new(client(&uri))
    }

    /// A pace of 4 per second for the check (50 per 10 s in production), and one forced
    /// `429` asking for 1 s.
    async fn rate_limited_api(&self) -> (Arc<dyn OrderSource>, Arc<Mutex<RateProbe>>) {
        let probe = Arc::new(Mutex::new(RateProbe {
            quota: 4,
            window: Duration::from_secs(1),
            ..RateProbe::default()
        }));
        let base: DateTime<Utc> = "2026-11-01T08:00:00Z".parse().unwrap();
        let pages = (0..4)
            .map(|p| {
                (0..2)
                    .map(|i| {
                        kit_order(
                            &format!("o-{p}-{i}"),
                            base + chrono::Duration::minutes(p * 2 + i),
                        )
                    })
                    .collect()
            })
            .collect();
        let s = Orders::default();
        {
            let mut st = s.0.lock().unwrap();
            st.pages = pages;
            st.throttle = Some((2, Duration::from_secs(1)));
            st.probe = Some(probe.clone());
        }
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(GRAPHQL_PATH))
            .respond_with(s)
            .mount(&server)
            .await;
        let uri = self.keep(server);
        let c = IkasClient::new(
            IkasConfig::new(MERCHANT, IkasAuth::Token(Secret::from("app-token")))
                .graphql_url(format!("{uri}{GRAPHQL_PATH}").parse().unwrap())
                .retry_policy(fast_retry())
                .page_size(2)
                .pace(4, Duration::from_secs(1)),
        )
        .unwrap();
        (Arc::new(c), probe)
    }

    async fn annotator(
        &self,
    ) -> (
        Arc<dyn OrderAnnotator>,
        Box<dyn Fn() -> usize + Send + Sync>,
    ) {
        let t = Timeline::default();
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(GRAPHQL_PATH))
            .respond_with(t.clone())
            .mount(&server)
            .await;
        let uri = self.keep(server);
        (
            Arc::new(client(&uri)),
            Box::new(move || t.0.lock().unwrap().len()),
        )
    }
}

aftercare::platform_conformance_tests!(IkasKit::new());
