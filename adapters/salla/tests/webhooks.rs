//! Verification strategies, the merchant binding, de-duplication and decoding of Salla
//! webhooks.

use aftercare::model::PlatformEvent;
use aftercare::store::InboxEntry;
use aftercare::webhook::{RawHeaders, Rejection, Secret, WebhookRequest, WebhookSource};
use aftercare_salla::SallaWebhooks;
use serde_json::json;

use crate::common::{MERCHANT, SECRET, fixture, source};

fn verify(src: &SallaWebhooks, headers: &RawHeaders, body: &[u8]) -> Result<String, Rejection> {
    src.verify(&WebhookRequest::new(headers, body, chrono::Utc::now()))
        .map(|v| v.dedupe_key)
}

fn decode(src: &SallaWebhooks, body: &[u8]) -> Result<Vec<PlatformEvent>, aftercare::Error> {
    let v = src
        .verify(&WebhookRequest::new(
            &src.sign_for_test(body),
            body,
            chrono::Utc::now(),
        ))
        .unwrap();
    let now = chrono::Utc::now();
    src.decode(&{
        let mut entry = InboxEntry::from_verified(1, "salla", v, body.to_vec(), now);
        entry.attempts = 1;
        entry
    })
}

#[test]
fn the_signature_is_the_hex_hmac_of_the_raw_body_in_either_case() {
    let src = source();
    let body = fixture("order_created.json");
    let h = src.sign_for_test(&body);
    verify(&src, &h, &body).unwrap();
    let upper = h.get_str("X-Salla-Signature").unwrap().to_ascii_uppercase();
    let h2 = RawHeaders::from_pairs([("X-Salla-Signature", upper.as_str())]);
    verify(&src, &h2, &body).unwrap();
    // Re-serialised JSON (another byte sequence) does not verify.
    let reserialised =
        serde_json::to_vec_pretty(&serde_json::from_slice::<serde_json::Value>(&body).unwrap())
            .unwrap();
    assert_eq!(verify(&src, &h, &reserialised), Err(Rejection::Mismatch));
    // No signature: refused, even with a token.
    let token = RawHeaders::from_pairs([("Authorization", SECRET)]);
    assert!(matches!(
        verify(&src, &token, &body),
        Err(Rejection::MissingHeader { .. })
    ));
}

#[test]
fn the_token_strategy_accepts_the_token_with_and_without_bearer_only() {
    let src = SallaWebhooks::builder(MERCHANT)
        .token(Secret::from("tok-123"))
        .build()
        .unwrap();
    let body = fixture("order_created.json");
    for value in [
        "tok-123",
        "Bearer tok-123",
        "bearer tok-123",
        " Bearer tok-123 ",
    ] {
        let h = RawHeaders::from_pairs([("Authorization", value)]);
        verify(&src, &h, &body).unwrap_or_else(|e| panic!("{value}: {e}"));
    }
    for value in [
        "tok-12",
        "tok-1234",
        "Bearer tok-124",
        "Basic tok-123",
        "Bearertok-123",
    ] {
        let h = RawHeaders::from_pairs([("Authorization", value)]);
        assert_eq!(verify(&src, &h, &body), Err(Rejection::Mismatch), "{value}");
    }
    assert!(matches!(
        verify(&src, &RawHeaders::default(), &body),
        Err(Rejection::MissingHeader { .. })
    ));
    // A signature does not stand in for the token.
    assert!(verify(&src, &source().sign_for_test(&body), &body).is_err());
}

#[test]
fn no_strategy_and_empty_secrets_are_refused_and_none_must_be_explicit() {
    assert!(SallaWebhooks::builder(MERCHANT).build().is_err());
    assert!(
        SallaWebhooks::builder(MERCHANT)
            .signature(Secret::from(""))
            .build()
            .is_err()
    );
    assert!(
        SallaWebhooks::builder(MERCHANT)
            .token(Secret::from(""))
            .build()
            .is_err()
    );
    assert!(
        SallaWebhooks::builder(" ")
            .signature(Secret::from("s"))
            .build()
            .is_err()
    );
    let open = SallaWebhooks::builder(MERCHANT)
        .unauthenticated()
        .build()
        .unwrap();
    let body = fixture("order_created.json");
    verify(&open, &RawHeaders::default(), &body).unwrap();
    assert_eq!(
        verify(&open, &RawHeaders::default(), b""),
        Err(Rejection::EmptyBody)
    );
}

#[test]
fn the_dedupe_key_is_the_hash_of_the_raw_body() {
    let src = source();
    let body = fixture("order_created.json");
    let a = verify(&src, &src.sign_for_test(&body), &body).unwrap();
    let b = verify(&src, &src.sign_for_test(&body), &body).unwrap();
    assert_eq!(a, b, "a retry repeats the body byte for byte");
    assert_eq!(a, aftercare::webhook::body_hash_key(&body));
    let other = fixture("shipment_updated.json");
    assert_ne!(a, verify(&src, &src.sign_for_test(&other), &other).unwrap());
}

#[test]
fn an_order_decodes_with_its_shipment_in_arabic() {
    let events = decode(&source(), &fixture("order_created.json")).unwrap();
    let [
        PlatformEvent::OrderCreated { order },
        PlatformEvent::ShipmentUpdated { shipment },
    ] = events.as_slice()
    else {
        panic!("{events:?}")
    };
    assert_eq!(order.id.as_str(), "251729613");
    assert_eq!(order.number, "96372849");
    assert_eq!(order.shop.as_ref().unwrap().as_str(), MERCHANT);
    assert_eq!(order.total.as_ref().unwrap().minor_units, 23050);
    assert_eq!(order.locale.as_deref(), Some("ar"));
    assert_eq!(order.phone.as_deref(), Some("+966501234567"));
    assert_eq!(order.line_items[0].title, "قميص قطني");
    // 10:14:52 in Riyadh (UTC+3).
    assert_eq!(
        order.created_at.unwrap(),
        "2026-11-02T07:14:52Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
    assert_eq!(shipment.order_id.as_str(), "251729613");
    assert_eq!(shipment.tracking_numbers, ["290019834751"]);
    assert_eq!(shipment.carrier.as_deref(), Some("SMSA"));
    assert_eq!(shipment.status.as_str(), "in_transit");
}

#[test]
fn another_merchants_body_and_an_envelope_of_another_event_are_refused() {
    let src = source();
    let mut v: serde_json::Value = serde_json::from_slice(&fixture("order_created.json")).unwrap();
    v["merchant"] = json!(987654321);
    let e = decode(&src, &serde_json::to_vec(&v).unwrap()).unwrap_err();
    assert!(e.to_string().contains("987654321"), "{e}");
    // Order data under a customer event.
    v["merchant"] = json!(1234509876u64);
    v["event"] = json!("customer.updated");
    assert!(decode(&src, &serde_json::to_vec(&v).unwrap()).is_err());
    v["event"] = json!("shipment.created");
    assert!(decode(&src, &serde_json::to_vec(&v).unwrap()).is_err());
}

#[test]
fn tokens_are_never_dropped_by_decode_alone() {
    let e = decode(&source(), &fixture("app_store_authorize.json")).unwrap_err();
    assert!(e.to_string().contains("SallaHydrator"), "{e}");
}

#[test]
fn a_cancelled_shipment_is_cancelled_whatever_its_status_says() {
    let mut v: serde_json::Value =
        serde_json::from_slice(&fixture("shipment_updated.json")).unwrap();
    v["event"] = json!("shipment.cancelled");
    let events = decode(&source(), &serde_json::to_vec(&v).unwrap()).unwrap();
    let [PlatformEvent::ShipmentUpdated { shipment }] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(shipment.status.as_str(), "cancelled");
}
