//! Webhook verification: the official test vectors in ../shared/facts/platforms.md §2, each
//! rejection kind with its status, secret rotation and the replay window.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use aftercare::webhook::{RawHeaders, Rejection, Scheme, Secret, Verifier};
use chrono::{DateTime, Utc};

fn at(ts: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(ts, 0).unwrap()
}

fn shopify(secret: &str) -> Verifier {
    Verifier::new(
        Scheme::hmac_sha256_base64("X-Shopify-Hmac-Sha256"),
        Secret::from(secret),
    )
}

// V1 — Shopify/shopify-app-js packages/apps/shopify-api/lib/webhooks/__tests__/validate.test.ts
#[test]
fn v1_shopify_official_vector() {
    let body = br#"{"foo": "bar"}"#;
    let headers = RawHeaders::from_pairs([(
        "X-Shopify-Hmac-Sha256",
        "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=",
    )]);
    let v = shopify("test_secret_key")
        .verify(&headers, body, Utc::now())
        .unwrap();
    assert_eq!(v.secret_index, 0);
    // The same body re-serialized by a JSON parser (no space) is refused: the classic bug.
    assert_eq!(
        shopify("test_secret_key").verify(&headers, br#"{"foo":"bar"}"#, Utc::now()),
        Err(Rejection::Mismatch)
    );
    // Header names are case-insensitive.
    let lower = RawHeaders::from_pairs([(
        "x-shopify-hmac-sha256",
        "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=",
    )]);
    assert!(
        shopify("test_secret_key")
            .verify(&lower, body, Utc::now())
            .is_ok()
    );
    // And sign() reproduces it.
    assert_eq!(
        shopify("test_secret_key")
            .sign(body, Utc::now())
            .get_str("X-Shopify-Hmac-Sha256"),
        Some("B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=")
    );
}

// V2 — woocommerce/woocommerce plugins/woocommerce/tests/legacy/unit-tests/webhooks/crud.php
#[test]
fn v2_woocommerce_official_vector() {
    let v = Verifier::new(
        Scheme::hmac_sha256_base64("X-WC-Webhook-Signature"),
        Secret::from(""),
    );
    let headers = RawHeaders::from_pairs([(
        "X-WC-Webhook-Signature",
        "GBDo00G55h6IiV+6CxqivQPLbI//KzaOZm747971tPs=",
    )]);
    assert!(v.verify(&headers, b"secret", Utc::now()).is_ok());
    assert_eq!(
        v.verify(&headers, b"secret ", Utc::now()),
        Err(Rejection::Mismatch)
    );
}

// V3 — standard-webhooks/standard-webhooks libraries/python/tests/test_webhooks.py::test_sign_function
#[test]
fn v3_standard_webhooks_official_vector() {
    let secret = Secret::from_standard_webhooks("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let v = Verifier::new(Scheme::StandardWebhooks, secret);
    let body = br#"{"test": 2432232314}"#;
    let headers = RawHeaders::from_pairs([
        ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
        ("webhook-timestamp", "1614265330"),
        (
            "webhook-signature",
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ),
    ]);
    let ok = v.verify(&headers, body, at(1614265330)).unwrap();
    assert_eq!(
        ok.message_id.as_deref(),
        Some("msg_p5jXN8AQM9LWM0D4loKWxJek")
    );
    assert_eq!(ok.timestamp, Some(at(1614265330)));
    let signed = v.sign_with_id("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
    assert_eq!(
        signed.get_str("webhook-signature"),
        Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    );
    // Several signatures separated by spaces: one valid among others is enough.
    let multi = RawHeaders::from_pairs([
        ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
        ("webhook-timestamp", "1614265330"),
        (
            "webhook-signature",
            "v1a,bm90IGEgc2lnbmF0dXJl v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ),
    ]);
    assert!(v.verify(&multi, body, at(1614265330)).is_ok());
    // The svix-* names are accepted too.
    let svix = RawHeaders::from_pairs([
        ("svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
        ("svix-timestamp", "1614265330"),
        (
            "svix-signature",
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ),
    ]);
    assert!(v.verify(&svix, body, at(1614265330)).is_ok());
    // Tampering with the id, timestamp or body breaks it.
    let mut tampered = RawHeaders::from_pairs([
        ("webhook-id", "msg_other"),
        ("webhook-timestamp", "1614265330"),
        (
            "webhook-signature",
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ),
    ]);
    assert_eq!(
        v.verify(&tampered, body, at(1614265330)),
        Err(Rejection::Mismatch)
    );
    tampered = RawHeaders::from_pairs([
        ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
        ("webhook-timestamp", "1614265331"),
        (
            "webhook-signature",
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ),
    ]);
    assert_eq!(
        v.verify(&tampered, body, at(1614265330)),
        Err(Rejection::Mismatch)
    );
    assert_eq!(
        v.verify(&headers, br#"{"test": 2432232315}"#, at(1614265330)),
        Err(Rejection::Mismatch)
    );
}

// V4 — shopware/app-php-sdk tests/Authentication/RequestVerifierTest.php::testAuthenticatePostValid;
// the same hex primitive serves Salla and Nuvemshop.
#[test]
fn v4_hex_official_vector_any_case() {
    for header in [
        "shopware-shop-signature",
        "X-Salla-Signature",
        "x-linkedstore-hmac-sha256",
    ] {
        let v = Verifier::new(Scheme::hmac_sha256_hex(header), Secret::from("secret"));
        let lower = RawHeaders::from_pairs([(
            header,
            "dc46983557fea127b43af721467eb9b3fde2338fe3e14f51952aa8478c13d355",
        )]);
        assert!(v.verify(&lower, b"body", Utc::now()).is_ok(), "{header}");
        let upper = RawHeaders::from_pairs([(
            header,
            "DC46983557FEA127B43AF721467EB9B3FDE2338FE3E14F51952AA8478C13D355",
        )]);
        assert!(
            v.verify(&upper, b"body", Utc::now()).is_ok(),
            "hex compares case-insensitively"
        );
        assert_eq!(
            v.verify(&lower, b"Body", Utc::now()),
            Err(Rejection::Mismatch)
        );
    }
    // With a prefix, as Meta sends it.
    let meta = Verifier::new(
        Scheme::hmac_sha256_hex_prefixed("X-Hub-Signature-256", "sha256="),
        Secret::from("secret"),
    );
    let h = RawHeaders::from_pairs([(
        "X-Hub-Signature-256",
        "sha256=dc46983557fea127b43af721467eb9b3fde2338fe3e14f51952aa8478c13d355",
    )]);
    assert!(meta.verify(&h, b"body", Utc::now()).is_ok());
    let no_prefix = RawHeaders::from_pairs([(
        "X-Hub-Signature-256",
        "dc46983557fea127b43af721467eb9b3fde2338fe3e14f51952aa8478c13d355",
    )]);
    let r = meta.verify(&no_prefix, b"body", Utc::now()).unwrap_err();
    assert!(matches!(r, Rejection::BadEncoding { .. }), "{r:?}");
}

#[test]
fn each_rejection_kind_and_its_status() {
    let v = shopify("s3cret").max_body_bytes(64);
    let good = v.sign(b"{}", Utc::now());
    let cases: Vec<(Rejection, u16)> = vec![
        (
            v.verify(&RawHeaders::new(), b"{}", Utc::now()).unwrap_err(),
            400,
        ),
        (
            v.verify(
                &RawHeaders::from_pairs([("X-Shopify-Hmac-Sha256", "   ")]),
                b"{}",
                Utc::now(),
            )
            .unwrap_err(),
            400,
        ),
        (
            v.verify(
                &RawHeaders::from_pairs([("X-Shopify-Hmac-Sha256", "%%%not base64")]),
                b"{}",
                Utc::now(),
            )
            .unwrap_err(),
            400,
        ),
        (v.verify(&good, b"", Utc::now()).unwrap_err(), 400),
        (
            v.verify(
                &RawHeaders::from_pairs([("X-Shopify-Hmac-Sha256", "AAAA")]),
                b"{}",
                Utc::now(),
            )
            .unwrap_err(),
            401,
        ),
        (v.verify(&good, &[b' '; 65], Utc::now()).unwrap_err(), 413),
    ];
    let kinds: Vec<&str> = cases.iter().map(|(r, _)| r.code()).collect();
    assert_eq!(
        kinds,
        [
            "missing_header",
            "missing_header",
            "bad_encoding",
            "empty_body",
            "mismatch",
            "too_large"
        ]
    );
    for (r, status) in cases {
        assert_eq!(r.status(), status, "{r:?}");
        assert!(!r.to_string().is_empty());
    }
    let sw = Verifier::new(Scheme::StandardWebhooks, Secret::from("k"));
    let now = at(1_700_000_000);
    let signed = sw.sign(b"{}", now);
    let stale = sw
        .verify(&signed, b"{}", now + chrono::Duration::minutes(6))
        .unwrap_err();
    assert!(matches!(stale, Rejection::Stale { .. }));
    assert_eq!(stale.status(), 401);
    let mut bad_ts = RawHeaders::new();
    bad_ts.insert("webhook-id", "msg_1");
    bad_ts.insert("webhook-timestamp", "yesterday");
    bad_ts.insert(
        "webhook-signature",
        signed.get("webhook-signature").unwrap().to_vec(),
    );
    assert_eq!(
        sw.verify(&bad_ts, b"{}", now).unwrap_err().code(),
        "bad_encoding"
    );
    let mut no_v1 = RawHeaders::new();
    no_v1.insert("webhook-id", signed.get("webhook-id").unwrap().to_vec());
    no_v1.insert(
        "webhook-timestamp",
        signed.get("webhook-timestamp").unwrap().to_vec(),
    );
    no_v1.insert("webhook-signature", "v2,abc");
    assert_eq!(
        sw.verify(&no_v1, b"{}", now).unwrap_err().code(),
        "bad_encoding"
    );
}

#[test]
fn rotation_accepts_old_and_new_until_the_old_is_retired() {
    let body = b"{\"id\":1}";
    let old = shopify("old-secret");
    let old_sig = old.sign(body, Utc::now());
    let mut v = shopify("old-secret");
    v.rotate(Secret::from("new-secret"));
    let new_sig = shopify("new-secret").sign(body, Utc::now());
    assert_eq!(
        v.verify(&new_sig, body, Utc::now()).unwrap().secret_index,
        0
    );
    assert_eq!(
        v.verify(&old_sig, body, Utc::now()).unwrap().secret_index,
        1,
        "the old secret still verifies during rotation"
    );
    assert_eq!(
        v.sign(body, Utc::now()),
        new_sig,
        "signing uses the current secret"
    );
    v.retire();
    assert_eq!(
        v.verify(&old_sig, body, Utc::now()),
        Err(Rejection::Mismatch),
        "a removed secret is refused"
    );
    assert!(v.verify(&new_sig, body, Utc::now()).is_ok());
    let sw = Verifier::with_secrets(
        Scheme::StandardWebhooks,
        [Secret::from("a"), Secret::from("b")],
    );
    let by_b = Verifier::new(Scheme::StandardWebhooks, Secret::from("b")).sign_with_id(
        "msg_x",
        1_700_000_000,
        body,
    );
    assert_eq!(
        sw.verify(&by_b, body, at(1_700_000_000))
            .unwrap()
            .secret_index,
        1
    );
}

#[test]
fn replay_window_both_ways() {
    let v = Verifier::new(Scheme::StandardWebhooks, Secret::from("k"))
        .tolerance(Duration::from_secs(300));
    let ts = 1_700_000_000;
    let h = v.sign_with_id("msg_1", ts, b"{}");
    assert!(
        v.verify(&h, b"{}", at(ts + 300)).is_ok(),
        "the edge of the window is inside"
    );
    assert!(v.verify(&h, b"{}", at(ts - 300)).is_ok());
    for now in [ts + 301, ts - 301, ts + 86_400, ts - 86_400] {
        match v.verify(&h, b"{}", at(now)) {
            Err(Rejection::Stale {
                skew_secs,
                tolerance_secs,
                ..
            }) => {
                assert_eq!(skew_secs, now - ts);
                assert_eq!(tolerance_secs, 300);
            }
            other => panic!("expected stale at {now}, got {other:?}"),
        }
    }
}

#[test]
fn secrets_never_show_in_debug() {
    let v = Verifier::new(Scheme::StandardWebhooks, Secret::from("super-secret-value"));
    let dbg = format!("{v:?}");
    assert!(!dbg.contains("super-secret-value"), "{dbg}");
    assert!(dbg.contains("Secret(***)"));
    assert!(Secret::from_standard_webhooks("whsec_!!!").is_err());
}
