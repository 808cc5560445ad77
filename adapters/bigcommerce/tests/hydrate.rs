//! Thin callbacks hydrated from a stand-in of the store's API serving the documented
//! responses (`orders.v2.oas2.yml`, `customers.v3.yml`): the events of each scope, the
//! requests made, deleted resources, money, status mapping, and failures that must be
//! retried rather than lost.

use std::time::{Duration, Instant};

use aftercare::Error;
use aftercare::model::{ChannelKind, ConsentState, Money, PlatformEvent, Purpose, ShipmentStatus};
use aftercare::platform::thin::Hydrator;
use aftercare_bigcommerce::{BigCommerceClient, BigCommerceHydrator};
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{
    STORE, api, callback, client, config, customers_json, delivered, fixture, get_ok, json_fixture,
    mount_order, order_json, shipments_json,
};

fn hydrator(server: &MockServer) -> BigCommerceHydrator {
    BigCommerceHydrator::new(client(server))
}

async fn hydrate(
    server: &MockServer,
    body: &[u8],
    scope: &str,
) -> Result<Vec<PlatformEvent>, Error> {
    hydrator(server).hydrate(&delivered(body, scope)).await
}

fn kinds(events: &[PlatformEvent]) -> Vec<&'static str> {
    events.iter().map(PlatformEvent::kind).collect()
}

async fn requests(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}

#[tokio::test]
async fn order_created_is_the_order_with_its_lines_in_three_requests() {
    let server = MockServer::start().await;
    // `X-Auth-Token` and `Accept` as "API Accounts" and the OpenAPI files describe.
    Mock::given(method("GET"))
        .and(path(api("v2/orders/250")))
        .and(header("X-Auth-Token", "test-token"))
        .and(header("Accept", "application/json"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(order_json("250", 11, "USD", "69.8400")),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    mount_order(
        &server,
        "250",
        order_json("250", 11, "USD", "69.8400"),
        json!([]),
    )
    .await;
    let events = hydrate(
        &server,
        &fixture("store_order_created.json"),
        "store/order/created",
    )
    .await
    .unwrap();
    assert_eq!(kinds(&events), ["order_created"]);
    let PlatformEvent::OrderCreated { order } = &events[0] else {
        unreachable!()
    };
    assert_eq!(order.id.as_str(), "250");
    assert_eq!(order.number, "#250");
    assert_eq!(order.shop.as_ref().map(|s| s.as_str()), Some(STORE));
    assert_eq!(order.customer_id.as_ref().map(|c| c.as_str()), Some("11"));
    assert_eq!(order.email.as_deref(), Some("janedoe@example.com"));
    assert_eq!(order.phone.as_deref(), Some("1234567890"));
    assert_eq!(order.locale.as_deref(), Some("en"));
    assert_eq!(order.total, Some(Money::new(6984, "USD")));
    assert!(!order.cancelled);
    assert_eq!(
        order.updated_at.unwrap().to_rfc3339(),
        "2019-03-11T15:17:25+00:00"
    );
    assert_eq!(
        order.created_at.unwrap().to_rfc3339(),
        "2019-03-05T21:40:11+00:00"
    );
    let line = &order.line_items[0];
    assert_eq!(line.title, "Fog Linen Chambray Towel - Beige Stripe");
    assert_eq!(line.id.as_deref(), Some("65"));
    assert_eq!(line.product_id.as_ref().map(|p| p.as_str()), Some("77"));
    assert_eq!(line.sku.as_deref(), Some("S-ORAN"));
    assert_eq!(line.quantity, 1);
    assert_eq!(line.unit_price, Some(Money::new(6523, "USD")));
    assert_eq!(
        requests(&server).await,
        [
            "GET /stores/abc123/v2/orders/250",
            "GET /stores/abc123/v2/orders/250/products",
            "GET /stores/abc123/v2/orders/250/shipments",
        ]
    );
}

#[tokio::test]
async fn a_status_that_speaks_of_parcels_brings_the_shipments_with_it() {
    for (status, want) in [
        (2, Some(ShipmentStatus::InTransit)),
        (3, Some(ShipmentStatus::InTransit)),
        (8, Some(ShipmentStatus::ReadyForPickup)),
        (10, Some(ShipmentStatus::Delivered)),
        (5, Some(ShipmentStatus::Cancelled)),
        (6, Some(ShipmentStatus::Cancelled)),
        (11, None),
        (14, None),
    ] {
        let server = MockServer::start().await;
        mount_order(
            &server,
            "250",
            order_json("250", status, "USD", "69.8400"),
            shipments_json("250"),
        )
        .await;
        let events = hydrate(
            &server,
            &fixture("store_order_statusUpdated.json"),
            "store/order/statusUpdated",
        )
        .await
        .unwrap();
        let first = if matches!(status, 5 | 6) {
            "order_cancelled"
        } else {
            "order_updated"
        };
        match &want {
            Some(s) => {
                assert_eq!(
                    kinds(&events),
                    [first, "shipment_updated", "shipment_updated"],
                    "status {status}"
                );
                for e in &events[1..] {
                    let PlatformEvent::ShipmentUpdated { shipment } = e else {
                        unreachable!()
                    };
                    assert_eq!(&shipment.status, s, "status {status}");
                }
            }
            None => assert_eq!(kinds(&events), [first], "status {status}"),
        }
    }
}

#[tokio::test]
async fn shipments_carry_tracking_carrier_links_and_lines() {
    let server = MockServer::start().await;
    let mut ships = shipments_json("250");
    // The second: a custom link and an AfterShip slug, no provider display name.
    ships[1]["tracking_link"] = json!("https://track.example.com/EJ958083578UK");
    ships[1]["tracking_carrier"] = json!("royal-mail");
    ships[1]["shipping_provider_display_name"] = json!("");
    mount_order(
        &server,
        "250",
        order_json("250", 2, "USD", "69.8400"),
        ships,
    )
    .await;
    let events = hydrate(
        &server,
        &fixture("store_order_updated.json"),
        "store/order/updated",
    )
    .await
    .unwrap();
    let PlatformEvent::OrderUpdated { order } = &events[0] else {
        unreachable!()
    };
    let addr = order.shipping_address.as_ref().unwrap();
    assert_eq!(addr.name.as_deref(), Some("Trishy Smith"));
    assert_eq!(addr.country_code.as_deref(), Some("US"));
    let PlatformEvent::ShipmentUpdated { shipment: a } = &events[1] else {
        unreachable!()
    };
    assert_eq!(a.id.as_str(), "6");
    assert_eq!(a.order_id.as_str(), "250");
    assert_eq!(a.carrier.as_deref(), Some("USPS"));
    assert_eq!(a.tracking_numbers, ["EJ958083578US"]);
    assert_eq!(
        a.tracking_urls,
        [
            "https://trkcnfrm1.smi.usps.com/PTSInternetWeb/InterLabelInquiry.do?strOrigTrackNum=EJ958083578US"
        ]
    );
    assert_eq!(a.line_item_ids, ["188"]);
    // Created after the order's last modification: the later of the two is its version.
    assert_eq!(
        a.created_at.unwrap().to_rfc3339(),
        "2019-03-11T17:22:08+00:00"
    );
    assert_eq!(a.updated_at, a.created_at);
    let PlatformEvent::ShipmentUpdated { shipment: b } = &events[2] else {
        unreachable!()
    };
    assert_eq!(b.carrier.as_deref(), Some("royal-mail"));
    assert_eq!(
        b.tracking_urls,
        [
            "https://track.example.com/EJ958083578UK",
            "https://trkcnfrm1.smi.usps.com/PTSInternetWeb/InterLabelInquiry.do?strOrigTrackNum=EJ958083578US"
        ],
        "the custom link first"
    );
}

#[tokio::test]
async fn an_archived_order_is_cancelled() {
    let server = MockServer::start().await;
    let mut o = order_json("250", 11, "USD", "69.8400");
    o["is_deleted"] = json!(true);
    mount_order(&server, "250", o, json!([])).await;
    let events = hydrate(
        &server,
        &fixture("store_order_archived.json"),
        "store/order/archived",
    )
    .await
    .unwrap();
    assert_eq!(kinds(&events), ["order_cancelled"]);
    let PlatformEvent::OrderCancelled { order } = &events[0] else {
        unreachable!()
    };
    assert!(order.cancelled);
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn shipment_callbacks_read_the_shipment_and_its_orders_status() {
    for (scope, fixture_name, status, kind, want) in [
        (
            "store/shipment/created",
            "store_shipment_created.json",
            3,
            "shipment_created",
            ShipmentStatus::InTransit,
        ),
        (
            "store/shipment/updated",
            "store_shipment_updated.json",
            10,
            "shipment_updated",
            ShipmentStatus::Delivered,
        ),
        (
            "store/shipment/updated",
            "store_shipment_updated.json",
            11,
            "shipment_updated",
            ShipmentStatus::InTransit,
        ),
    ] {
        let server = MockServer::start().await;
        let mut s = json_fixture("api_order_shipment.json");
        s["id"] = json!(12);
        s["order_id"] = json!(251);
        get_ok(&server, "v2/orders/251/shipments/12", s).await;
        get_ok(
            &server,
            "v2/orders/251",
            order_json("251", status, "USD", "69.8400"),
        )
        .await;
        let events = hydrate(&server, &fixture(fixture_name), scope)
            .await
            .unwrap();
        assert_eq!(kinds(&events), [kind]);
        let (PlatformEvent::ShipmentCreated { shipment }
        | PlatformEvent::ShipmentUpdated { shipment }) = &events[0]
        else {
            unreachable!()
        };
        assert_eq!(shipment.id.as_str(), "12");
        assert_eq!(shipment.order_id.as_str(), "251");
        assert_eq!(shipment.status, want, "{scope} with order status {status}");
        assert_eq!(shipment.line_item_ids, ["194", "195"]);
        assert_eq!(requests(&server).await.len(), 2);
    }
}

#[tokio::test]
async fn customer_callbacks_read_the_customer_and_its_email_consent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(api("v3/customers")))
        .and(query_param("id:in", "32"))
        .respond_with(ResponseTemplate::new(200).set_body_json(customers_json("32")))
        .mount(&server)
        .await;
    for (f, scope) in [
        ("store_customer_created.json", "store/customer/created"),
        ("store_customer_updated.json", "store/customer/updated"),
    ] {
        let events = hydrate(&server, &fixture(f), scope).await.unwrap();
        assert_eq!(kinds(&events), ["customer_updated"]);
        let PlatformEvent::CustomerUpdated { customer } = &events[0] else {
            unreachable!()
        };
        assert_eq!(customer.id.as_str(), "32");
        assert_eq!(customer.email.as_deref(), Some("jane.smith@example.com"));
        assert_eq!(customer.first_name.as_deref(), Some("Jane"));
        assert_eq!(customer.phone.as_deref(), Some("555-123-4567"));
        assert_eq!(
            customer.consent(Purpose::Marketing, ChannelKind::Email),
            ConsentState::Granted
        );
        assert_eq!(
            customer.consent(Purpose::Transactional, ChannelKind::Email),
            ConsentState::Unknown
        );
    }
    // Only `/v3/customers`: the cookie-consent resource is not read.
    assert!(
        requests(&server)
            .await
            .iter()
            .all(|r| r == "GET /stores/abc123/v3/customers")
    );
}

#[tokio::test]
async fn uninstall_and_unknown_scopes_make_no_request() {
    let server = MockServer::start().await;
    let events = hydrate(
        &server,
        &fixture("store_app_uninstalled.json"),
        "store/app/uninstalled",
    )
    .await
    .unwrap();
    assert_eq!(
        events,
        [PlatformEvent::AppUninstalled { shop: STORE.into() }]
    );
    let events = hydrate(
        &server,
        &fixture("store_cart_created.json"),
        "store/cart/created",
    )
    .await
    .unwrap();
    assert_eq!(kinds(&events), ["unrecognized"]);
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn a_resource_deleted_since_the_callback_yields_no_events() {
    let server = MockServer::start().await;
    // The v2 404 body as the API answers it; v3 customers: an empty collection.
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            json!([{"status": 404, "message": "The requested resource was not found."}]),
        ))
        .mount(&server)
        .await;
    for (f, scope) in [
        ("store_order_created.json", "store/order/created"),
        ("store_shipment_created.json", "store/shipment/created"),
    ] {
        assert_eq!(hydrate(&server, &fixture(f), scope).await.unwrap(), []);
    }
    let server = MockServer::start().await;
    get_ok(&server, "v3/customers", json!({"data": [], "meta": {}})).await;
    assert_eq!(
        hydrate(
            &server,
            &fixture("store_customer_created.json"),
            "store/customer/created"
        )
        .await
        .unwrap(),
        []
    );
}

#[tokio::test]
async fn money_is_exact_in_0_2_and_3_decimal_currencies() {
    for (currency, total, want) in [
        ("JPY", "1500.0000", Some(1500)),
        ("USD", "135.4900", Some(13549)),
        ("KWD", "12.3450", Some(12345)),
        ("JPY", "1500.5000", None),
        ("USD", "abc", None),
    ] {
        let server = MockServer::start().await;
        mount_order(
            &server,
            "250",
            order_json("250", 11, currency, total),
            json!([]),
        )
        .await;
        let r = hydrate(
            &server,
            &fixture("store_order_created.json"),
            "store/order/created",
        )
        .await;
        match want {
            Some(units) => {
                let events = r.unwrap();
                let PlatformEvent::OrderCreated { order } = &events[0] else {
                    unreachable!()
                };
                assert_eq!(
                    order.total,
                    Some(Money::new(units, currency)),
                    "{total} {currency}"
                );
            }
            None => assert!(
                matches!(r, Err(Error::Decode { .. })),
                "{total} {currency}: {r:?}"
            ),
        }
    }
}

#[tokio::test]
async fn ids_up_to_u64_max_stay_text_end_to_end() {
    let server = MockServer::start().await;
    let big = u64::MAX.to_string();
    let mut o = order_json(&big, 2, "USD", "1.0000");
    o["customer_id"] = json!(u64::MAX);
    let mut ships = shipments_json(&big);
    ships[0]["id"] = json!(u64::MAX);
    mount_order(&server, &big, o, ships).await;
    let body = callback("store_order_updated.json", json!(u64::MAX), None);
    let events = hydrate(&server, &body, "store/order/updated")
        .await
        .unwrap();
    let text = serde_json::to_string(&events).unwrap();
    assert!(text.contains("\"18446744073709551615\""), "{text}");
    assert!(!text.contains("1.8446744073709552e19"), "{text}");
}

#[tokio::test]
async fn a_5xx_that_persists_is_retryable_after_the_clients_own_retries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({"status": 503, "title": "Service Unavailable", "type": "/api-docs/getting-started/api-status-codes"})))
        .mount(&server)
        .await;
    let err = hydrate(
        &server,
        &fixture("store_order_created.json"),
        "store/order/created",
    )
    .await
    .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(
        matches!(
            err,
            Error::Platform {
                status: Some(503),
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        requests(&server).await.len(),
        3,
        "the policy's three attempts"
    );
}

#[tokio::test]
async fn a_5xx_once_is_retried_inside_the_call() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(api("v2/orders/250")))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_order(
        &server,
        "250",
        order_json("250", 11, "USD", "69.8400"),
        json!([]),
    )
    .await;
    let events = hydrate(
        &server,
        &fixture("store_order_created.json"),
        "store/order/created",
    )
    .await
    .unwrap();
    assert_eq!(kinds(&events), ["order_created"]);
}

#[tokio::test]
async fn a_timeout_is_retryable() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(600)))
        .mount(&server)
        .await;
    let c = BigCommerceClient::new(config(&server).timeout(Duration::from_millis(100))).unwrap();
    let err = BigCommerceHydrator::new(c)
        .hydrate(&delivered(
            &fixture("store_order_created.json"),
            "store/order/created",
        ))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(matches!(err, Error::Platform { status: None, .. }), "{err}");
}

#[tokio::test]
async fn a_refused_token_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"status": 401, "title": "Unauthorized - the v3 Auth client ID or token in the request are not a valid combination for this store.", "type": "/api-docs/getting-started/api-status-codes"})))
        .mount(&server)
        .await;
    let err = hydrate(
        &server,
        &fixture("store_order_created.json"),
        "store/order/created",
    )
    .await
    .unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    assert!(err.to_string().contains("Unauthorized"), "{err}");
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn a_429_waits_for_the_windows_reset_then_retries() {
    let server = MockServer::start().await;
    // "API rate limits": the 429 carries the window's figures; wait Reset-Ms.
    Mock::given(method("GET"))
        .and(path(api("v2/orders/250")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("X-Rate-Limit-Time-Window-Ms", "30000")
                .insert_header("X-Rate-Limit-Time-Reset-Ms", "400")
                .insert_header("X-Rate-Limit-Requests-Quota", "150")
                .insert_header("X-Rate-Limit-Requests-Left", "0"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_order(
        &server,
        "250",
        order_json("250", 11, "USD", "69.8400"),
        json!([]),
    )
    .await;
    let start = Instant::now();
    let events = hydrate(
        &server,
        &fixture("store_order_created.json"),
        "store/order/created",
    )
    .await
    .unwrap();
    assert_eq!(kinds(&events), ["order_created"]);
    assert!(
        start.elapsed() >= Duration::from_millis(400),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(requests(&server).await.len(), 4);
}

#[tokio::test]
async fn a_429_without_headers_backs_off_exponentially_then_gives_up_retryably() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429))
        .mount(&server)
        .await;
    let c = BigCommerceClient::new(config(&server).max_throttled(3)).unwrap();
    let start = Instant::now();
    let err = BigCommerceHydrator::new(c)
        .hydrate(&delivered(
            &fixture("store_order_created.json"),
            "store/order/created",
        ))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(
        matches!(
            err,
            Error::Platform {
                status: Some(429),
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        requests(&server).await.len(),
        4,
        "the first try and three waits"
    );
    // Backoff 10 ms × 2^(n-1), jittered to at least half: ≥ 5 + 10 + 10 (capped at 20).
    assert!(
        start.elapsed() >= Duration::from_millis(25),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn the_overview_example_without_status_or_created_at_hydrates() {
    let server = MockServer::start().await;
    mount_order(
        &server,
        "173331",
        order_json("173331", 2, "USD", "69.8400"),
        json!([]),
    )
    .await;
    let events = hydrate(
        &server,
        &fixture("store_order_statusUpdated_overview.json"),
        "store/order/statusUpdated",
    )
    .await
    .unwrap();
    assert_eq!(kinds(&events), ["order_updated"]);
}

#[tokio::test]
async fn a_callback_for_a_store_without_a_client_is_refused() {
    let server = MockServer::start().await;
    let mut v: serde_json::Value =
        serde_json::from_slice(&fixture("store_order_created.json")).unwrap();
    v["producer"] = json!("stores/zzz999");
    let body = serde_json::to_vec(&v).unwrap();
    let mut e = delivered(&fixture("store_order_created.json"), "store/order/created");
    e.body = body;
    e.shop = Some("zzz999".into());
    let err = hydrator(&server).hydrate(&e).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
    assert!(requests(&server).await.is_empty());
}
