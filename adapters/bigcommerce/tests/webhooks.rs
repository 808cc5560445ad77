//! Verification of BigCommerce callbacks (Standard Webhooks keyed with the client secret),
//! the store binding, de-duplication keys and the checks every stored callback passes.

use aftercare::Error;
use aftercare::model::PlatformEvent;
use aftercare::webhook::{RawHeaders, Rejection, Secret, WebhookRequest, WebhookSource};
use aftercare_bigcommerce::{
    BigCommerceWebhooks, META_HASH, META_HOOK_SCOPE, SCOPE_HEADER, STORE_HEADER, Thin,
    parse_callback,
};
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::common::{OTHER_STORE, SECRET, STORE, callback, delivered, entry, fixture, source};

fn at(ts: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(ts, 0).unwrap()
}

fn verify(
    src: &BigCommerceWebhooks,
    headers: &RawHeaders,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<aftercare::webhook::VerifiedWebhook, Rejection> {
    src.verify(&WebhookRequest::new(headers, body, now))
}

/// Standard Webhooks' own vector (standard-webhooks/standard-webhooks
/// `libraries/python/tests/test_webhooks.py::test_sign_function`, the same in every
/// library): the key is the base64 after `whsec_`.
#[test]
fn the_standard_webhooks_vector_verifies_and_a_tampered_copy_does_not() {
    let src = BigCommerceWebhooks::new(
        Secret::from_standard_webhooks("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap(),
        STORE,
    );
    let headers = RawHeaders::from_pairs([
        ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
        ("webhook-timestamp", "1614265330"),
        (
            "webhook-signature",
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ),
    ]);
    let body = br#"{"test": 2432232314}"#;
    let v = verify(&src, &headers, body, at(1_614_265_330)).unwrap();
    assert_eq!(v.dedupe_key, "msg_p5jXN8AQM9LWM0D4loKWxJek");
    assert_eq!(
        verify(
            &src,
            &headers,
            br#"{"test": 2432232315}"#,
            at(1_614_265_330)
        ),
        Err(Rejection::Mismatch)
    );
    // Five minutes later the same delivery is a replay.
    assert!(matches!(
        verify(&src, &headers, body, at(1_614_265_330 + 301)),
        Err(Rejection::Stale { .. })
    ));
}

/// A vector for a BigCommerce-style client secret, computed independently with
/// `openssl dgst -sha256 -hmac <secret> -binary | base64` over
/// `msg_2Lq8Vx0fYtBc7Ne4.1561479335.<body>` (the body is the "Webhook Events" order example
/// for store `abc123`, compact). BigCommerce's samples base64-encode the client secret
/// before giving it to the Standard Webhooks library, which decodes it: the HMAC key is the
/// secret's own UTF-8 bytes.
const BC_BODY: &[u8] = br#"{"scope":"store/order/created","store_id":"1025646","data":{"type":"order","id":250},"hash":"dd70c0976e06b67aaf671e73f49dcb79230ebf9d","created_at":1561479335,"producer":"stores/abc123"}"#;
const BC_SIGNATURE: &str = "v1,OOskpzM22BWDe+uitOpskm6cY3rtqwrwHx/9bHwl8kQ=";
/// The same message signed with the secret read as base64 (the mistake this guards against).
const BC_SIGNATURE_BASE64_KEY: &str = "v1,bjmy37oCEMoNRmOco9eLxKZ0+kYrQ7aO9YMTaKP0kGg=";

fn bc_headers(signature: &str) -> RawHeaders {
    RawHeaders::from_pairs([
        ("webhook-id", "msg_2Lq8Vx0fYtBc7Ne4"),
        ("webhook-timestamp", "1561479335"),
        ("webhook-signature", signature),
    ])
}

#[test]
fn the_hmac_key_is_the_client_secrets_raw_bytes() {
    let src = source();
    let v = verify(&src, &bc_headers(BC_SIGNATURE), BC_BODY, at(1_561_479_335)).unwrap();
    assert_eq!(v.dedupe_key, "msg_2Lq8Vx0fYtBc7Ne4");
    assert_eq!(v.shop.as_deref(), Some(STORE));
    // Our signing produces the vector.
    let signed = src.sign_for_test("msg_2Lq8Vx0fYtBc7Ne4", at(1_561_479_335), BC_BODY);
    assert_eq!(signed.get_str("webhook-signature"), Some(BC_SIGNATURE));
    // Reading the secret as a `whsec_`/base64 key gives another key: nothing verifies.
    let wrong = BigCommerceWebhooks::new(Secret::from_standard_webhooks(SECRET).unwrap(), STORE);
    assert_eq!(
        verify(
            &wrong,
            &bc_headers(BC_SIGNATURE),
            BC_BODY,
            at(1_561_479_335)
        ),
        Err(Rejection::Mismatch)
    );
    assert_eq!(
        verify(
            &src,
            &bc_headers(BC_SIGNATURE_BASE64_KEY),
            BC_BODY,
            at(1_561_479_335)
        ),
        Err(Rejection::Mismatch)
    );
    // Several signatures in the header (space-separated): one valid is enough.
    let both = format!("{BC_SIGNATURE_BASE64_KEY} {BC_SIGNATURE}");
    assert!(verify(&src, &bc_headers(&both), BC_BODY, at(1_561_479_335)).is_ok());
}

#[test]
fn five_minutes_either_way_is_the_replay_window() {
    let src = source();
    let body = fixture("store_order_created.json");
    let now = Utc::now();
    for (skew, ok) in [(-299, true), (299, true), (-301, false), (301, false)] {
        let h = src.sign_for_test("msg_w", now + chrono::Duration::seconds(skew), &body);
        let r = verify(&src, &h, &body, now);
        assert_eq!(r.is_ok(), ok, "skew {skew}s: {r:?}");
        if !ok {
            assert_eq!(r.unwrap_err().status(), 401);
        }
    }
}

#[test]
fn a_rotated_secret_is_accepted_until_retired() {
    let body = fixture("store_order_created.json");
    let now = Utc::now();
    let old = source();
    let signed_old = old.sign_for_test("msg_r", now, &body);
    let mut src = source();
    src.rotate(Secret::from("new-client-secret"));
    assert!(
        verify(&src, &signed_old, &body, now).is_ok(),
        "old secret during the rotation"
    );
    let signed_new = src.sign_for_test("msg_r2", now, &body);
    assert!(verify(&src, &signed_new, &body, now).is_ok());
    assert_eq!(
        verify(&old, &signed_new, &body, now),
        Err(Rejection::Mismatch)
    );
    src.retire();
    assert_eq!(
        verify(&src, &signed_old, &body, now),
        Err(Rejection::Mismatch)
    );
    assert!(verify(&src, &signed_new, &body, now).is_ok());
}

#[test]
fn a_callback_from_another_store_is_refused_before_it_is_stored() {
    let src = source();
    let now = Utc::now();
    // The signed body names another store.
    let mut other: serde_json::Value =
        serde_json::from_slice(&fixture("store_order_created.json")).unwrap();
    other["producer"] = json!(format!("stores/{OTHER_STORE}"));
    let body = serde_json::to_vec(&other).unwrap();
    let h = src.sign_for_test("msg_o", now, &body);
    let r = verify(&src, &h, &body, now);
    assert_eq!(
        r,
        Err(Rejection::WrongAccount {
            what: "store",
            claimed: OTHER_STORE.into()
        })
    );
    assert_eq!(r.unwrap_err().status(), 403);
    // The hook's custom header names another store.
    let body = fixture("store_order_created.json");
    let h = src.sign_delivery_for_test("msg_h", now, OTHER_STORE, "store/order/created", &body);
    assert!(matches!(
        verify(&src, &h, &body, now),
        Err(Rejection::WrongAccount { what: "store", .. })
    ));
    // A source serving both stores accepts both.
    let both = source().add_store(OTHER_STORE);
    let other_body = serde_json::to_vec(&other).unwrap();
    let h = both.sign_for_test("msg_b", now, &other_body);
    assert_eq!(
        verify(&both, &h, &other_body, now).unwrap().shop.as_deref(),
        Some(OTHER_STORE)
    );
}

#[test]
fn dedupe_on_the_signed_webhook_id_with_the_payload_hash_noted() {
    let src = source();
    let body = fixture("store_order_statusUpdated.json");
    let now = Utc::now();
    let h = src.sign_delivery_for_test("msg_d", now, STORE, "store/order/statusUpdated", &body);
    let v = verify(&src, &h, &body, now).unwrap();
    assert_eq!(v.dedupe_key, "msg_d");
    assert_eq!(v.topic.as_deref(), Some("store/order/statusUpdated"));
    assert_eq!(v.shop.as_deref(), Some(STORE));
    assert_eq!(
        v.meta.get(META_HASH).map(String::as_str),
        Some("7ee67cd1cf2ca60bc1aa9e5fe957d2de373be4ca")
    );
    assert_eq!(
        v.meta.get(META_HOOK_SCOPE).map(String::as_str),
        Some("store/order/statusUpdated")
    );
    assert_eq!(v.occurred_at, Some(at(1_561_479_335)));
    // The id is signed: changing it breaks the signature.
    let forged = RawHeaders::from_pairs(h.iter().map(|(k, v)| {
        if k.eq_ignore_ascii_case("webhook-id") {
            (k, &b"msg_other"[..])
        } else {
            (k, v)
        }
    }));
    assert_eq!(verify(&src, &forged, &body, now), Err(Rejection::Mismatch));
}

#[test]
fn missing_headers_are_refused() {
    let src = source();
    let body = fixture("store_order_created.json");
    let now = Utc::now();
    let full = src.sign_for_test("msg_m", now, &body);
    for drop in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        let mut h = RawHeaders::new();
        for (k, v) in full.iter().filter(|(k, _)| !k.eq_ignore_ascii_case(drop)) {
            h.insert(k.to_owned(), v.to_vec());
        }
        let r = verify(&src, &h, &body, now);
        assert!(
            matches!(r, Err(Rejection::MissingHeader { .. })),
            "{drop}: {r:?}"
        );
    }
}

#[test]
fn without_the_hydrator_only_what_needs_no_api_call_decodes() {
    let src = source();
    let e = delivered(
        &fixture("store_app_uninstalled.json"),
        "store/app/uninstalled",
    );
    assert_eq!(
        src.decode(&e).unwrap(),
        vec![PlatformEvent::AppUninstalled { shop: STORE.into() }]
    );
    let e = delivered(&fixture("store_cart_created.json"), "store/cart/created");
    assert_eq!(
        src.decode(&e).unwrap(),
        vec![PlatformEvent::Unrecognized {
            topic: "store/cart/created".into()
        }]
    );
    let e = delivered(&fixture("store_order_created.json"), "store/order/created");
    let err = src.decode(&e).unwrap_err();
    assert!(
        matches!(&err, Error::Config(m) if m.contains("BigCommerceHydrator")),
        "{err}"
    );
}

#[test]
fn a_body_that_is_not_a_callback_is_stored_then_dead_lettered_with_the_reason() {
    let src = source();
    let body = b"<html>not json</html>";
    let now = Utc::now();
    let h = src.sign_for_test("msg_x", now, body);
    let v = verify(&src, &h, body, now).unwrap();
    let err = src.decode(&entry(v, body)).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
    assert!(!err.is_retryable());
}

fn parse(e: &aftercare::store::InboxEntry) -> Result<Thin, Error> {
    parse_callback(e, |s| s == STORE).map(|(_, t)| t)
}

#[test]
fn each_scope_requires_what_its_documented_payload_always_has() {
    // Documented shapes parse.
    for (f, scope) in [
        ("store_order_created.json", "store/order/created"),
        ("store_order_updated.json", "store/order/updated"),
        ("store_order_archived.json", "store/order/archived"),
        (
            "store_order_statusUpdated.json",
            "store/order/statusUpdated",
        ),
        // The "HTTPS Webhooks Overview" example: no `created_at`, no `data.status`.
        (
            "store_order_statusUpdated_overview.json",
            "store/order/statusUpdated",
        ),
        ("store_shipment_created.json", "store/shipment/created"),
        ("store_shipment_updated.json", "store/shipment/updated"),
        ("store_customer_created.json", "store/customer/created"),
        ("store_customer_updated.json", "store/customer/updated"),
        ("store_app_uninstalled.json", "store/app/uninstalled"),
    ] {
        parse(&delivered(&fixture(f), scope)).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    let t = parse(&delivered(
        &fixture("store_shipment_created.json"),
        "store/shipment/created",
    ))
    .unwrap();
    assert!(
        matches!(t, Thin::Shipment { created: true, ref id, ref order_id } if id.as_str() == "12" && order_id.as_str() == "251")
    );

    // Each of these is refused, not turned into an empty or default event.
    let mut cases: Vec<(&str, serde_json::Value)> = Vec::new();
    let base = |f: &str| -> serde_json::Value { serde_json::from_slice(&fixture(f)).unwrap() };
    let mut v = base("store_order_created.json");
    v["data"].as_object_mut().unwrap().remove("id");
    cases.push(("order without id", v));
    let mut v = base("store_order_created.json");
    v["data"]["type"] = json!("customer");
    cases.push(("order scope about a customer", v));
    let mut v = base("store_order_created.json");
    v["data"]["id"] = json!(250.5);
    cases.push(("float id", v));
    let mut v = base("store_order_statusUpdated.json");
    v["data"]["status"] = json!({"new_status_id": "eleven"});
    cases.push(("malformed status", v));
    let mut v = base("store_shipment_created.json");
    v["data"].as_object_mut().unwrap().remove("orderId");
    cases.push(("shipment without orderId", v));
    let mut v = base("store_customer_created.json");
    v["data"]["type"] = json!("order");
    cases.push(("customer scope about an order", v));
    let mut v = base("store_app_uninstalled.json");
    v["data"] = json!({});
    cases.push(("uninstall without data.type", v));
    for field in ["scope", "store_id", "data", "hash", "producer"] {
        let mut v = base("store_order_created.json");
        v.as_object_mut().unwrap().remove(field);
        cases.push((field, v));
    }
    let mut v = base("store_order_created.json");
    v["producer"] = json!("abc123");
    cases.push(("producer not stores/{hash}", v));
    for (what, v) in cases {
        let body = serde_json::to_vec(&v).unwrap();
        let scope = v["scope"]
            .as_str()
            .unwrap_or("store/order/created")
            .to_owned();
        let r = parse(&delivered(&body, &scope));
        assert!(matches!(r, Err(Error::Decode { .. })), "{what}: {r:?}");
    }
}

#[test]
fn a_stored_callback_must_match_its_store_and_the_hook_that_delivered_it() {
    let body = fixture("store_order_created.json");
    // Stored for another store (an older entry, or a multi-store inbox).
    let mut e = delivered(&body, "store/order/created");
    e.shop = Some(OTHER_STORE.into());
    assert!(matches!(parse(&e), Err(Error::Decode { .. })));
    // Delivered by the customer hook: a body of another resource.
    let e = delivered(&body, "store/customer/created");
    let err = parse(&e).unwrap_err();
    assert!(err.to_string().contains("store/customer/created"), "{err}");
    // A wildcard hook covers its scopes.
    let e = delivered(&body, "store/order/*");
    assert!(parse(&e).is_ok());
    // Without the custom header (a hook created elsewhere) the signed body alone decides.
    let src = source();
    let now = Utc::now();
    let h = src.sign_for_test("msg_n", now, &body);
    let mut h2 = RawHeaders::new();
    for (k, v) in h.iter() {
        h2.insert(k.to_owned(), v.to_vec());
    }
    assert!(h2.get(SCOPE_HEADER).is_none() && h2.get(STORE_HEADER).is_none());
    let v = verify(&src, &h2, &body, now).unwrap();
    assert!(parse(&entry(v, &body)).is_ok());
}

#[test]
fn ids_up_to_u64_max_stay_text() {
    let body = callback(
        "store_shipment_created.json",
        json!(u64::MAX),
        Some(json!(u64::MAX - 1)),
    );
    let t = parse(&delivered(&body, "store/shipment/created")).unwrap();
    match t {
        Thin::Shipment { id, order_id, .. } => {
            assert_eq!(id.as_str(), "18446744073709551615");
            assert_eq!(order_id.as_str(), "18446744073709551614");
        }
        other => panic!("{other:?}"),
    }
}
