#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Webhook verification and decoding. Vectors: /work/shared/facts/platforms.md §2 V1 and
//! §12.3 (Shopify's `lib/webhooks/__tests__/validate.test.ts`). Payload fixtures: see
//! `tests/fixtures/README.md` for the documentation page each follows.

use aftercare::model::{ChannelKind, ConsentState, PlatformEvent, Purpose, ShipmentStatus};
use aftercare::store::InboxEntry;
use aftercare::webhook::{RawHeaders, Rejection, Secret, WebhookRequest, WebhookSource};
use aftercare_shopify::{DedupeKey, ShopifyWebhooks, decode_topic};
use chrono::{TimeZone, Utc};

const V1_BODY: &[u8] = br#"{"foo": "bar"}"#;
const V1_HMAC: &str = "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn bench_fixture() -> Vec<u8> {
    std::fs::read(format!(
        "{}/benches/fixtures/shopify_order_fulfilled.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The headers of Shopify's validate test (topic, domain, API version, webhook id).
fn v1_headers() -> Vec<(&'static str, String)> {
    vec![
        ("X-Shopify-Hmac-Sha256", V1_HMAC.to_owned()),
        ("X-Shopify-Topic", "products/create".to_owned()),
        ("X-Shopify-Shop-Domain", "shop1.myshopify.io".to_owned()),
        ("X-Shopify-API-Version", "2023-01".to_owned()),
        ("X-Shopify-Webhook-Id", "123456789".to_owned()),
    ]
}

fn verify(
    src: &ShopifyWebhooks,
    headers: &RawHeaders,
    body: &[u8],
) -> Result<aftercare::webhook::VerifiedWebhook, Rejection> {
    src.verify(&WebhookRequest::new(headers, body, Utc::now()))
}

fn src() -> ShopifyWebhooks {
    ShopifyWebhooks::new(Secret::from("test_secret_key"))
}

#[test]
fn official_vector_passes() {
    let h = RawHeaders::from_pairs(v1_headers());
    let v = verify(&src(), &h, V1_BODY).unwrap();
    assert_eq!(v.dedupe_key, "123456789");
    assert_eq!(v.topic.as_deref(), Some("products/create"));
    assert_eq!(v.shop.as_deref(), Some("shop1.myshopify.io"));
    assert_eq!(
        v.meta.get("api_version").map(String::as_str),
        Some("2023-01")
    );
    // The sdk's signer agrees with the vector.
    let signed = src().verifier().sign(V1_BODY, Utc::now());
    assert_eq!(signed.get_str("X-Shopify-Hmac-Sha256"), Some(V1_HMAC));
}

#[test]
fn reserialized_body_is_refused() {
    let body = bench_fixture();
    let s = src();
    let mut h = s.sign_for_test("orders/fulfilled", "demo.myshopify.com", "w1", &body);
    assert!(verify(&s, &h, &body).is_ok());
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let compact = serde_json::to_vec(&value).unwrap();
    assert_ne!(
        compact, body,
        "serde_json changes the bytes (ids, escapes, key order)"
    );
    assert_eq!(verify(&s, &h, &compact).unwrap_err(), Rejection::Mismatch);
    // And the V1 body without its space.
    h = RawHeaders::from_pairs(v1_headers());
    assert_eq!(
        verify(&s, &h, br#"{"foo":"bar"}"#).unwrap_err(),
        Rejection::Mismatch
    );
}

#[test]
fn each_missing_header_is_named() {
    for missing in [
        "X-Shopify-Topic",
        "X-Shopify-Shop-Domain",
        "X-Shopify-API-Version",
        "X-Shopify-Webhook-Id",
    ] {
        let h = RawHeaders::from_pairs(v1_headers().into_iter().filter(|(n, _)| *n != missing));
        assert_eq!(
            verify(&src(), &h, V1_BODY).unwrap_err(),
            Rejection::MissingHeader {
                header: missing.to_owned()
            },
            "{missing}"
        );
    }
    // Missing HMAC.
    let h = RawHeaders::from_pairs(
        v1_headers()
            .into_iter()
            .filter(|(n, _)| *n != "X-Shopify-Hmac-Sha256"),
    );
    assert!(
        matches!(verify(&src(), &h, V1_BODY).unwrap_err(), Rejection::MissingHeader { header } if header == "X-Shopify-Hmac-Sha256")
    );
    // Empty body.
    let h = RawHeaders::from_pairs(v1_headers());
    assert_eq!(verify(&src(), &h, b"").unwrap_err(), Rejection::EmptyBody);
}

#[test]
fn headers_are_checked_after_the_hmac() {
    // A forged request missing a header is refused as forged (401), like Shopify's library.
    let mut pairs = v1_headers();
    pairs[0].1 = "fake".into();
    let h = RawHeaders::from_pairs(pairs.into_iter().filter(|(n, _)| *n != "X-Shopify-Topic"));
    let err = verify(&src(), &h, V1_BODY).unwrap_err();
    assert_eq!(err.status(), 401);
    let mut pairs = v1_headers();
    pairs[0].1 = "ZmFrZQ==".into();
    let h = RawHeaders::from_pairs(pairs.into_iter().filter(|(n, _)| *n != "X-Shopify-Topic"));
    assert_eq!(
        verify(&src(), &h, V1_BODY).unwrap_err(),
        Rejection::Mismatch
    );
}

#[test]
fn cookie_signature_replayed_is_refused() {
    // Shopify's regression test: a value signed with the same secret over something else
    // (a cookie) must not validate the body.
    let s = src();
    let other = s.verifier().sign(b"shopify_app_session=abc", Utc::now());
    let mut pairs = v1_headers();
    pairs[0].1 = other.get_str("X-Shopify-Hmac-Sha256").unwrap().to_owned();
    let h = RawHeaders::from_pairs(pairs);
    assert_eq!(verify(&s, &h, V1_BODY).unwrap_err(), Rejection::Mismatch);
}

#[test]
fn lowercase_and_events_headers_are_accepted() {
    // Lowercase classic names (HTTP/2 sends lowercase).
    let h = RawHeaders::from_pairs(
        v1_headers()
            .into_iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v)),
    );
    assert!(verify(&src(), &h, V1_BODY).is_ok());
    // Shopify Events delivery: `shopify-*` names, no `X-` prefix.
    let h = RawHeaders::from_pairs([
        ("shopify-hmac-sha256", V1_HMAC),
        ("shopify-topic", "Product"),
        ("shopify-shop-domain", "shop1.myshopify.io"),
        ("shopify-api-version", "unstable"),
        ("shopify-webhook-id", "w-123"),
        ("shopify-event-id", "e-456"),
        ("shopify-triggered-at", "2026-01-27T12:00:00Z"),
    ]);
    let v = verify(&src(), &h, V1_BODY).unwrap();
    assert_eq!(v.dedupe_key, "e-456");
    assert_eq!(
        v.occurred_at,
        Some(Utc.with_ymd_and_hms(2026, 1, 27, 12, 0, 0).unwrap())
    );
    // Missing Events header reported under its lowercase name.
    let h = RawHeaders::from_pairs([
        ("shopify-hmac-sha256", V1_HMAC),
        ("shopify-topic", "Product"),
        ("shopify-shop-domain", "shop1.myshopify.io"),
        ("shopify-webhook-id", "w-123"),
    ]);
    assert_eq!(
        verify(&src(), &h, V1_BODY).unwrap_err(),
        Rejection::MissingHeader {
            header: "shopify-api-version".into()
        }
    );
}

#[test]
fn dedupe_key_and_triggered_at() {
    let mut pairs = v1_headers();
    pairs.push((
        "X-Shopify-Event-Id",
        "98880550-7158-44d4-b7cd-2c97c8a091b5".into(),
    ));
    pairs.push((
        "X-Shopify-Triggered-At",
        "2023-03-29T18:00:27.877041743Z".into(),
    ));
    let h = RawHeaders::from_pairs(pairs);
    let v = verify(&src(), &h, V1_BODY).unwrap();
    assert_eq!(v.dedupe_key, "98880550-7158-44d4-b7cd-2c97c8a091b5");
    let t = v.occurred_at.unwrap();
    assert_eq!(t.timestamp(), 1_680_112_827);
    assert_eq!(t.timestamp_subsec_nanos(), 877_041_743);
    assert_eq!(
        v.meta.get("webhook_id").map(String::as_str),
        Some("123456789")
    );
    let by_delivery = src().dedupe_key(DedupeKey::WebhookId);
    assert_eq!(
        verify(&by_delivery, &h, V1_BODY).unwrap().dedupe_key,
        "123456789"
    );
}

#[test]
fn rotated_secrets_are_accepted() {
    let s = ShopifyWebhooks::with_secrets([
        Secret::from("new secret"),
        Secret::from("test_secret_key"),
    ]);
    let h = RawHeaders::from_pairs(v1_headers());
    assert!(verify(&s, &h, V1_BODY).is_ok());
    assert!(
        !format!("{s:?}").contains("test_secret_key"),
        "secrets never in Debug"
    );
    let only_new = ShopifyWebhooks::new(Secret::from("new secret"));
    assert_eq!(
        verify(&only_new, &h, V1_BODY).unwrap_err(),
        Rejection::Mismatch
    );
}

#[test]
fn orders_fulfilled_decodes_order_and_shipments() {
    let body = bench_fixture();
    let ev = decode_topic("orders/fulfilled", Some("demo.myshopify.com"), &body).unwrap();
    assert_eq!(ev.len(), 2);
    let PlatformEvent::OrderUpdated { order } = &ev[0] else {
        panic!("{:?}", ev[0])
    };
    assert_eq!(order.id.as_str(), "820982911946154500");
    assert_eq!(order.number, "#1042");
    assert_eq!(order.total.as_ref().unwrap().minor_units, 13549);
    assert_eq!(order.total.as_ref().unwrap().currency, "USD");
    assert_eq!(
        order.customer_id.as_ref().unwrap().as_str(),
        "115310627314723950"
    );
    // The embedded customer is kept as the order's own record of them (no API needed).
    let embedded = order.customer.as_deref().unwrap();
    assert_eq!(embedded.id.as_str(), "115310627314723950");
    assert_eq!(embedded.first_name.as_deref(), Some("Jane"));
    assert_eq!(order.locale.as_deref(), Some("en-CA"));
    assert_eq!(order.tags, vec!["vip", "repeat-buyer"]);
    assert_eq!(
        order.line_items[0].unit_price.as_ref().unwrap().minor_units,
        2499
    );
    assert_eq!(
        order.line_items[0].id.as_deref(),
        Some("866550311766439001")
    );
    assert_eq!(
        order.updated_at,
        Some(Utc.with_ymd_and_hms(2024, 5, 3, 18, 22, 11).unwrap())
    );
    let PlatformEvent::ShipmentUpdated { shipment } = &ev[1] else {
        panic!()
    };
    assert_eq!(shipment.id.as_str(), "4075788173");
    assert_eq!(shipment.order_id.as_str(), "820982911946154500");
    assert_eq!(shipment.status, ShipmentStatus::InTransit);
    assert_eq!(shipment.carrier.as_deref(), Some("Canada Post"));
    assert_eq!(shipment.tracking_numbers, vec!["7316985122357841"]);
    assert_eq!(shipment.line_item_ids.len(), 3);
    assert!(shipment.updated_at.is_some());
}

#[test]
fn orders_create_doc_example() {
    let ev = decode_topic(
        "orders/create",
        Some("jsmith.myshopify.com"),
        &fixture("orders_create.json"),
    )
    .unwrap();
    let PlatformEvent::OrderCreated { order } = &ev[0] else {
        panic!()
    };
    // 820982911946154508 is above 2^53: an f64 would have rounded it.
    assert_eq!(order.id.as_str(), "820982911946154508");
    assert_eq!(
        order.customer_id.as_ref().unwrap().as_str(),
        "115310627314723954"
    );
    assert_eq!(
        order.line_items[1].id.as_deref(),
        Some("141249953214522974")
    );
    assert!(order.cancelled);
    assert_eq!(order.total.as_ref().unwrap().minor_units, 40300);
    assert_eq!(order.email.as_deref(), Some("jon@example.com"));
    assert_eq!(order.phone, None);
    assert_eq!(
        order.shop.as_ref().unwrap().as_str(),
        "jsmith.myshopify.com"
    );
    let addr = order.shipping_address.as_ref().unwrap();
    assert_eq!(addr.lines, vec!["123 Shipping Street"]);
    assert_eq!(addr.country_code.as_deref(), Some("US"));
    // `orders/edited` sends an `order_edit`, not an order: not decoded as one.
    let ev = decode_topic(
        "orders/edited",
        None,
        br#"{"order_edit": {"id": 78912328, "order_id": 450789469}}"#,
    )
    .unwrap();
    assert_eq!(ev[0].kind(), "unrecognized");
    for topic in ["orders/paid", "orders/cancelled", "orders/updated"] {
        let ev = decode_topic(topic, None, &fixture("orders_create.json")).unwrap();
        assert_eq!(ev.len(), 1);
        assert_eq!(
            ev[0].kind(),
            match topic {
                "orders/paid" => "order_paid",
                "orders/cancelled" => "order_cancelled",
                _ => "order_updated",
            }
        );
    }
}

#[test]
fn minimal_order_tolerates_missing_fields() {
    let ev = decode_topic("orders/updated", None, br#"{"id": 18446744073709551615, "admin_graphql_api_id": "gid://shopify/Order/18446744073709551615", "order_number": 1001, "name": null, "line_items": null, "fulfillments": null, "tags": null, "customer": null}"#).unwrap();
    let PlatformEvent::OrderUpdated { order } = &ev[0] else {
        panic!()
    };
    assert_eq!(order.id.as_str(), "18446744073709551615");
    assert_eq!(order.number, "#1001");
    assert!(order.tags.is_empty() && order.line_items.is_empty() && order.total.is_none());
    // Malformed: no id.
    assert!(matches!(
        decode_topic("orders/updated", None, br##"{"name": "#1"}"##),
        Err(aftercare::Error::Decode { .. })
    ));
}

#[test]
fn fulfillments_and_events() {
    let ev = decode_topic(
        "fulfillments/create",
        Some("s.myshopify.com"),
        &fixture("fulfillments_create.json"),
    )
    .unwrap();
    let PlatformEvent::ShipmentCreated { shipment } = &ev[0] else {
        panic!()
    };
    assert_eq!(shipment.order_id.as_str(), "820982911946154508");
    assert_eq!(shipment.carrier.as_deref(), Some("UPS"));
    assert_eq!(shipment.tracking_numbers, vec!["1Z2345"]);
    assert_eq!(shipment.tracking_urls.len(), 1);
    // `shipment_status: null`, `status: pending`: confirmed, not shipped.
    assert_eq!(shipment.status, ShipmentStatus::Confirmed);

    let ev = decode_topic(
        "fulfillments/update",
        None,
        &fixture("fulfillments_update_unknown_status.json"),
    )
    .unwrap();
    let PlatformEvent::ShipmentUpdated { shipment } = &ev[0] else {
        panic!()
    };
    assert_eq!(
        shipment.status,
        ShipmentStatus::Unknown("teleported_to_customer".into())
    );
    assert_eq!(shipment.tracking_numbers.len(), 2);
    assert_eq!(shipment.tracking_urls.len(), 2);

    let ev = decode_topic(
        "fulfillment_events/create",
        None,
        &fixture("fulfillment_events_create.json"),
    )
    .unwrap();
    let PlatformEvent::ShipmentUpdated { shipment } = &ev[0] else {
        panic!()
    };
    assert_eq!(shipment.id.as_str(), "123456");
    assert_eq!(shipment.status, ShipmentStatus::InTransit);
    assert_eq!(shipment.events.len(), 1);
    assert_eq!(
        shipment.events[0].message.as_deref(),
        Some("Item is now in transit")
    );
    assert_eq!(shipment.events[0].location, None);
}

#[test]
fn customer_consent() {
    let ev = decode_topic("customers/update", None, &fixture("customers_update.json")).unwrap();
    let PlatformEvent::CustomerUpdated { customer } = &ev[0] else {
        panic!()
    };
    assert_eq!(customer.id.as_str(), "706405506930370084");
    assert_eq!(
        customer.consent(Purpose::Marketing, ChannelKind::Email),
        ConsentState::Granted
    );
    assert_eq!(
        customer.consent(Purpose::Marketing, ChannelKind::Sms),
        ConsentState::Denied
    );
    assert_eq!(customer.phone.as_deref(), Some("+16135551111"));
}

#[test]
fn privacy_and_app_topics() {
    let shop = Some("demo.myshopify.com");
    let ev = decode_topic("customers/redact", shop, &fixture("customers_redact.json")).unwrap();
    assert_eq!(
        ev[0],
        PlatformEvent::CustomerRedactRequested {
            shop: "demo.myshopify.com".into(),
            customer_id: "191167".into(),
            email: Some("john@example.com".into()),
            phone: Some("555-625-1199".into()),
            orders: vec!["299938".into(), "280263".into(), "220458".into()],
        }
    );
    let ev = decode_topic(
        "customers/data_request",
        shop,
        &fixture("customers_data_request.json"),
    )
    .unwrap();
    assert!(
        matches!(&ev[0], PlatformEvent::CustomerDataRequested { orders, .. } if orders.len() == 3)
    );
    let ev = decode_topic("shop/redact", shop, &fixture("shop_redact.json")).unwrap();
    assert_eq!(
        ev[0],
        PlatformEvent::ShopRedactRequested {
            shop: "demo.myshopify.com".into()
        }
    );
    let ev = decode_topic("app/uninstalled", shop, &fixture("app_uninstalled.json")).unwrap();
    assert_eq!(
        ev[0],
        PlatformEvent::AppUninstalled {
            shop: "demo.myshopify.com".into()
        }
    );
    // The header and the body disagree on the shop: the header is not signed.
    assert!(matches!(
        decode_topic(
            "app/uninstalled",
            shop,
            br#"{"id":548380009,"name":"Super Toys","myshopify_domain":"jsmith.myshopify.com"}"#,
        ),
        Err(aftercare::Error::Decode { .. })
    ));
    let ev = decode_topic(
        "app/uninstalled",
        None,
        br#"{"id":548380009,"myshopify_domain":"jsmith.myshopify.com"}"#,
    )
    .unwrap();
    assert_eq!(
        ev[0],
        PlatformEvent::AppUninstalled {
            shop: "jsmith.myshopify.com".into()
        }
    );
}

#[test]
fn unknown_topic_is_unrecognized_through_the_source() {
    let entry = {
        let mut entry = InboxEntry::new(1, "shopify", "k", br#"{"id": 1}"#.to_vec(), Utc::now());
        entry.topic = Some("products/create".into());
        entry.shop = Some("demo.myshopify.com".into());
        entry.meta = Default::default();
        entry.attempts = 1;
        entry.next_attempt_at = Utc::now();
        entry
    };
    let ev = src().decode(&entry).unwrap();
    assert_eq!(
        ev,
        vec![PlatformEvent::Unrecognized {
            topic: "products/create".into()
        }]
    );
}
