//! The sandbox's webhooks are signed and shaped as Shopify's.
//!
//! Shape references: `fixtures/shopify_order_fulfilled.json` (the project's realistic `orders/fulfilled`
//! body, copied from `shared/bench/`) and Shopify's REST resources as listed in `platforms.md` §3.5 (shopify-app-js
//! `rest/admin/2026-07/{order,fulfillment,fulfillment_event,customer}.ts`); headers from
//! https://shopify.dev/docs/apps/build/webhooks; signature from
//! https://shopify.dev/docs/apps/build/webhooks/verify-deliveries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::collections::BTreeSet;

use aftercare::webhook::{Rejection, Secret};
use aftercare_sandbox::{Topic, WebhookSender};
use chrono::DateTime;
use serde_json::Value;

const BENCH: &str = include_str!("fixtures/shopify_order_fulfilled.json");

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn is_uuid_v4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && s.chars()
            .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        && parts[2].starts_with('4')
        && matches!(parts[3].chars().next(), Some('8' | '9' | 'a' | 'b'))
}

#[test]
fn shopify_test_vector_v1() {
    // platforms.md §2 V1: shopify-api-js lib/webhooks/__tests__/validate.test.ts.
    let d = WebhookSender::new(Secret::from("test_secret_key")).sign(
        Topic::OrdersCreate,
        "shop.myshopify.com",
        br#"{"foo": "bar"}"#.to_vec(),
        common::start(),
    );
    assert_eq!(
        d.header("x-shopify-hmac-sha256"),
        Some("B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=")
    );
}

#[test]
fn every_topic_verifies_with_the_secret_and_fails_with_another() {
    let (_, shop) = common::shop();
    let (customer, order, f) = common::shipped_order(&shop, "tr-TR");
    let s = common::sender();
    let deliveries = vec![
        s.order(&shop, Topic::OrdersCreate, order).unwrap(),
        s.order(&shop, Topic::OrdersPaid, order).unwrap(),
        s.order(&shop, Topic::OrdersFulfilled, order).unwrap(),
        s.fulfillment(&shop, Topic::FulfillmentsCreate, f).unwrap(),
        s.fulfillment(&shop, Topic::FulfillmentsUpdate, f).unwrap(),
        s.customer(&shop, customer).unwrap(),
        s.customers_redact(&shop, customer).unwrap(),
        s.customers_data_request(&shop, customer, 9_999).unwrap(),
        s.shop_redact(&shop),
    ];
    let good = common::verifier(common::SECRET);
    let bad = common::verifier("shpss_another_app");
    let now = shop.now();
    for d in &deliveries {
        let h = d.raw_headers();
        assert!(good.verify(&h, &d.body, now).is_ok(), "{:?}", d.topic);
        assert_eq!(
            bad.verify(&h, &d.body, now).unwrap_err(),
            Rejection::Mismatch
        );
        let mut tampered = d.body.clone();
        tampered.push(b' ');
        assert_eq!(
            good.verify(&h, &tampered, now).unwrap_err(),
            Rejection::Mismatch
        );
        assert_eq!(d.header("X-Shopify-Topic"), Some(d.topic.as_str()));
    }
    let topics: Vec<&str> = deliveries.iter().map(|d| d.topic.as_str()).collect();
    assert_eq!(
        topics,
        [
            "orders/create",
            "orders/paid",
            "orders/fulfilled",
            "fulfillments/create",
            "fulfillments/update",
            "customers/update",
            "customers/redact",
            "customers/data_request",
            "shop/redact"
        ]
    );
}

#[test]
fn headers_are_shopifys() {
    let (clock, shop) = common::shop();
    let (_, order, _) = common::shipped_order(&shop, "en-US");
    clock.advance(chrono::Duration::milliseconds(1_234));
    let d = common::sender()
        .with_api_version("2025-10")
        .order(&shop, Topic::OrdersPaid, order)
        .unwrap();
    assert_eq!(d.header("Content-Type"), Some("application/json"));
    assert_eq!(
        d.header("X-Shopify-Shop-Domain"),
        Some("sandbox-demo.myshopify.com")
    );
    assert_eq!(d.header("X-Shopify-API-Version"), Some("2025-10"));
    assert_eq!(d.header("X-Shopify-Topic"), Some("orders/paid"));
    let ev = d.header("X-Shopify-Event-Id").unwrap();
    let wh = d.header("X-Shopify-Webhook-Id").unwrap();
    assert!(is_uuid_v4(ev), "{ev}");
    assert!(is_uuid_v4(wh), "{wh}");
    assert_ne!(ev, wh);
    assert_eq!(ev, d.event_id);
    let at = d.header("X-Shopify-Triggered-At").unwrap();
    assert_eq!(at, "2026-03-02T09:00:01.234000000Z");
    assert_eq!(DateTime::parse_from_rfc3339(at).unwrap(), d.triggered_at);
    // A second delivery of the same topic is another event.
    let d2 = common::sender()
        .order(&shop, Topic::OrdersPaid, order)
        .unwrap();
    assert_ne!(d2.event_id, d.event_id);
    assert_eq!(d2.header("X-Shopify-API-Version"), Some("2026-01"));
}

#[test]
fn order_body_has_shopifys_field_names_and_u64_ids() {
    let (_, shop) = common::shop();
    let (customer, order, f) = common::shipped_order(&shop, "th-TH");
    let d = common::sender()
        .order(&shop, Topic::OrdersFulfilled, order)
        .unwrap();
    let body = std::str::from_utf8(&d.body).unwrap();
    let v = d.json();
    let bench: Value = serde_json::from_str(BENCH).unwrap();

    // The id is a JSON integer above 2^53, written exactly.
    assert!(
        body.contains(&format!("\"id\":{order},")),
        "id written as an integer"
    );
    assert_eq!(v["id"].as_u64(), Some(order));
    assert_eq!(
        v["admin_graphql_api_id"],
        format!("gid://shopify/Order/{order}")
    );
    assert_eq!(v["name"], "#1001");
    assert_eq!(v["order_number"], 1001);
    assert_eq!(v["customer_locale"], "th-TH");
    assert_eq!(v["email"], "somchai.j@example.co.th");
    assert_eq!(v["phone"], "+66812345678");
    assert_eq!(v["financial_status"], "paid");
    assert_eq!(v["fulfillment_status"], "fulfilled");
    assert_eq!(v["customer"]["id"].as_u64(), Some(customer));
    assert_eq!(v["customer"]["first_name"], "สมชาย");
    assert_eq!(v["shipping_address"]["country_code"], "TH");
    assert_eq!(v["total_price"], "413.00");
    let li = &v["line_items"][1];
    assert_eq!(li["sku"], "BEAN-ETH-1KG");
    assert_eq!(li["quantity"], 2);
    assert_eq!(li["price"], "32.00");
    assert!(li["product_id"].is_u64() && li["variant_id"].is_u64() && li["id"].is_u64());
    let ff = &v["fulfillments"][0];
    assert_eq!(ff["id"].as_u64(), Some(f));
    assert_eq!(ff["order_id"].as_u64(), Some(order));
    assert_eq!(ff["tracking_company"], "Thailand Post");
    assert_eq!(ff["name"], "#1001.1");
    let t = DateTime::parse_from_rfc3339(v["updated_at"].as_str().unwrap()).unwrap();
    assert_eq!(t, shop.order_record(order).unwrap().updated_at);

    // Every field the sandbox writes is one Shopify writes: in the recorded body, or listed
    // in platforms.md §3.5 (consents, notify_customer) or present in the REST resources.
    let listed_extra: BTreeSet<String> = [
        "email_marketing_consent",
        "sms_marketing_consent",
        "notify_customer",
        "admin_graphql_api_id",
        "customer_id",
        "default",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    let pairs = [
        (&v, &bench),
        (&v["fulfillments"][0], &bench["fulfillments"][0]),
        (&v["line_items"][0], &bench["line_items"][0]),
        (&v["customer"], &bench["customer"]),
        (&v["shipping_address"], &bench["shipping_address"]),
        (
            &v["customer"]["default_address"],
            &bench["shipping_address"],
        ),
    ];
    for (mine, theirs) in pairs {
        let extra: Vec<String> = keys(mine)
            .difference(&keys(theirs))
            .filter(|k| !listed_extra.contains(*k))
            .cloned()
            .collect();
        assert!(extra.is_empty(), "fields Shopify does not send: {extra:?}");
    }
    // And the fields the brief requires are all there.
    for k in [
        "id",
        "admin_graphql_api_id",
        "name",
        "order_number",
        "email",
        "phone",
        "customer",
        "customer_locale",
        "line_items",
        "shipping_address",
        "fulfillments",
        "updated_at",
        "created_at",
        "tags",
    ] {
        assert!(v.get(k).is_some(), "{k}");
    }
}

#[test]
fn fulfillment_body_has_tracking_and_shipment_status() {
    let (_, shop) = common::shop();
    let (_, order, f) = common::shipped_order(&shop, "ar-SA");
    let s = common::sender();
    let created = s
        .fulfillment(&shop, Topic::FulfillmentsCreate, f)
        .unwrap()
        .json();
    for k in [
        "id",
        "order_id",
        "status",
        "tracking_company",
        "tracking_number",
        "tracking_numbers",
        "tracking_url",
        "tracking_urls",
        "shipment_status",
        "created_at",
        "updated_at",
        "line_items",
    ] {
        assert!(created.get(k).is_some(), "{k}");
    }
    assert_eq!(created["order_id"].as_u64(), Some(order));
    assert_eq!(created["status"], "success");
    assert_eq!(created["tracking_company"], "SMSA Express");
    let number = created["tracking_number"].as_str().unwrap().to_owned();
    assert_eq!(created["tracking_numbers"], serde_json::json!([number]));
    assert!(created["tracking_url"].is_null());
    assert_eq!(created["tracking_urls"], serde_json::json!([]));
    assert!(created["shipment_status"].is_null(), "no carrier event yet");
    assert_eq!(created["line_items"].as_array().unwrap().len(), 2);
}

#[test]
fn customers_redact_body() {
    let (_, shop) = common::shop();
    let (customer, order, _) = common::shipped_order(&shop, "es-MX");
    let v = common::sender()
        .customers_redact(&shop, customer)
        .unwrap()
        .json();
    assert_eq!(v["shop_domain"], "sandbox-demo.myshopify.com");
    assert!(v["shop_id"].is_u64());
    assert_eq!(v["customer"]["id"].as_u64(), Some(customer));
    assert_eq!(v["customer"]["email"], "maria.hernandez@example.com.mx");
    assert_eq!(v["customer"]["phone"], "+525512345678");
    assert_eq!(v["orders_to_redact"], serde_json::json!([order]));
}

#[test]
fn a_resent_delivery_is_byte_identical() {
    let (_, shop) = common::shop();
    let (_, order, _) = common::shipped_order(&shop, "en-US");
    let d = common::sender()
        .order(&shop, Topic::OrdersCreate, order)
        .unwrap();
    let again = d.clone();
    assert_eq!(again, d);
    assert_eq!(
        again.header("X-Shopify-Hmac-Sha256"),
        d.header("X-Shopify-Hmac-Sha256")
    );
}

#[test]
fn unknown_records_are_errors() {
    let (_, shop) = common::shop();
    let s = common::sender();
    assert!(s.order(&shop, Topic::OrdersCreate, 1).is_err());
    assert!(s.fulfillment(&shop, Topic::FulfillmentsUpdate, 1).is_err());
    assert!(s.customers_redact(&shop, 1).is_err());
}

#[test]
fn the_sender_does_not_print_its_secret() {
    let s = common::sender();
    let dbg = format!("{s:?}");
    assert!(!dbg.contains(common::SECRET), "{dbg}");
}
