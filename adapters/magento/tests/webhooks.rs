//! Adobe Commerce webhooks and Adobe I/O Events: RSA-SHA256 verification with generated key
//! pairs (Adobe publishes no signed example), the public key formats the Admin and App
//! Builder use, binding, de-duplication and decoding.

use aftercare::model::{PlatformEvent, ShipmentStatus};
use aftercare::store::InboxEntry;
use aftercare::webhook::{RawHeaders, Rejection, VerifiedWebhook, WebhookRequest, WebhookSource};
use aftercare_magento::{
    CommerceWebhooks, IoEvents, MagentoError, PublicKey, SIGNATURE_1_HEADER, SIGNATURE_2_HEADER,
    SIGNATURE_HEADER, StoreLocales, TestSigner,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::Utc;
use serde_json::json;

use crate::common::{STORE, fixture, fixture_json, other_key, source, store_key};

/// The public key printed in Adobe's docs (AdobeDocs/commerce-extensibility
/// `webhooks/signature-verification.md`, the `.env` example), as the Admin shows it.
const DOCS_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtglXYVz5pVn3HDluGG5T
t9coO5NKSWjx3xCDMHVa3CEqVM76PKg8UJH9fQOA57xoNv7Llc916pF0UswtudQh
Fyg+WQCFFadqGZOyL2nUKI9xWBiUi4dN8+9yMd3TE1fszVUBnk/XdLKNDQn4O6ic
doQZi5arrjNjInkimtcT2jPXs34p9G9P5CvCubPUmbGsWDgwo5an9LEX/nJfnCdZ
R10XPkRWzEM7o1OGzf7CYo06Xl+msGVM02Er265PsMAWB11cWwKmyg6dLPa8q+Qh
KNXZiEMvdVusV8aA6EkCZYFdWSBXv+jltn6NnY5qvYcuQ3SujQ9xKEANjeMWcW90
PwIDAQAB
-----END PUBLIC KEY-----";

const CLIENT_ID: &str = "4e2b7c1d9a8f4e0b8c6d5a4b3c2d1e0f";

fn verify(
    src: &dyn WebhookSource,
    headers: &RawHeaders,
    body: &[u8],
) -> Result<VerifiedWebhook, Rejection> {
    src.verify(&WebhookRequest::new(headers, body, Utc::now()))
}

fn entry(v: VerifiedWebhook, body: &[u8]) -> InboxEntry {
    let now = Utc::now();
    {
        let mut entry = InboxEntry::from_verified(1, "magento", v, body.to_vec(), now);
        entry.attempts = 1;
        entry
    }
}

#[test]
fn the_signature_is_rsa_sha256_of_the_base64_body_as_adobes_code_checks_it() {
    let src = source();
    let body = fixture("webhook_track_save_after.json");
    // What Adobe's sample does: `createVerify('SHA256').update(base64(body))`.
    let signed = B64.encode(&body);
    let sig = store_key().sign(signed.as_bytes());
    let h = RawHeaders::from_pairs([(SIGNATURE_HEADER, sig.as_str())]);
    let v = verify(&src, &h, &body).unwrap();
    assert_eq!(
        v.topic.as_deref(),
        Some("observer.sales_order_shipment_track_save_after")
    );
    assert_eq!(v.shop.as_deref(), Some(STORE));
    // Header names are case-insensitive.
    let upper = RawHeaders::from_pairs([("X-Adobe-Commerce-Webhook-Signature", sig.as_str())]);
    assert!(verify(&src, &upper, &body).is_ok());

    // The same key over the raw body is not what Commerce signs.
    let raw = RawHeaders::from_pairs([(SIGNATURE_HEADER, store_key().sign(&body))]);
    assert!(matches!(
        verify(&src, &raw, &body),
        Err(Rejection::Mismatch)
    ));
    // A tampered body, another instance's key, garbage, nothing.
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    assert!(matches!(
        verify(&src, &h, &tampered),
        Err(Rejection::Mismatch)
    ));
    let other = CommerceWebhooks::sign_with(other_key(), &body);
    assert!(matches!(
        verify(&src, &other, &body),
        Err(Rejection::Mismatch)
    ));
    let junk = RawHeaders::from_pairs([(SIGNATURE_HEADER, "not base64 at all!")]);
    assert!(matches!(
        verify(&src, &junk, &body),
        Err(Rejection::Mismatch)
    ));
    assert!(matches!(
        verify(&src, &RawHeaders::new(), &body),
        Err(Rejection::MissingHeader { .. })
    ));
}

#[test]
fn both_keys_verify_while_a_regenerated_pair_rolls_out() {
    let src = CommerceWebhooks::builder(STORE)
        .public_key(store_key().public_pem())
        .public_key(other_key().public_pem())
        .build()
        .unwrap();
    let body = fixture("webhook_order_save_after.json");
    for k in [store_key(), other_key()] {
        assert!(verify(&src, &CommerceWebhooks::sign_with(k, &body), &body).is_ok());
    }
}

#[test]
fn public_keys_parse_as_the_admin_and_app_builder_give_them() {
    // The docs' key, as PEM, with `\n` escapes (a .env value), and base64-encoded once more
    // (the checkout starter kit's ENABLED_WITH_BASE64).
    assert!(PublicKey::from_pem(DOCS_PUBLIC_KEY).is_ok());
    assert!(PublicKey::from_pem(&DOCS_PUBLIC_KEY.replace('\n', "\\n")).is_ok());
    assert!(PublicKey::from_pem(&B64.encode(DOCS_PUBLIC_KEY)).is_ok());
    // A signature made by our generated key does not verify under the docs' key.
    let body = br#"{"eventName":"observer.sales_order_save_after","data":{}}"#;
    let sig = store_key().sign(B64.encode(body).as_bytes());
    assert!(
        !PublicKey::from_pem(DOCS_PUBLIC_KEY)
            .unwrap()
            .verifies(B64.encode(body).as_bytes(), &sig)
    );
    // Garbage and short keys are configuration errors.
    assert!(matches!(
        PublicKey::from_pem("hello"),
        Err(MagentoError::Config(_))
    ));
    let short = TestSigner::generate(512).unwrap();
    assert!(matches!(
        PublicKey::from_pem(short.public_pem()),
        Err(MagentoError::Config(_))
    ));
    // No key at all: refused (Commerce signs nothing unless verification is turned on).
    assert!(matches!(
        CommerceWebhooks::builder(STORE).build(),
        Err(MagentoError::Config(_))
    ));
}

#[test]
fn the_same_state_twice_has_one_key_and_a_new_state_another() {
    let src = source();
    let body = fixture("webhook_track_save_after.json");
    let key = |b: &[u8]| {
        verify(&src, &CommerceWebhooks::sign_with(store_key(), b), b)
            .unwrap()
            .dedupe_key
    };
    let k1 = key(&body);
    assert_eq!(
        k1,
        "observer.sales_order_shipment_track_save_after:7@2026-11-02 10:05:00"
    );
    assert_eq!(key(&body), k1);
    let mut later = fixture_json("webhook_track_save_after.json");
    later["data"]["track"]["updated_at"] = json!("2026-11-02 11:00:00");
    assert_ne!(key(&serde_json::to_vec(&later).unwrap()), k1);
}

#[test]
fn a_track_decodes_into_its_shipment_and_an_order_gets_its_store_views_locale() {
    let src = CommerceWebhooks::builder(STORE)
        .public_key(store_key().public_pem())
        .locales(StoreLocales::new().store("2", "es_ES"))
        .build()
        .unwrap();
    let decode = |file: &str| {
        let body = fixture(file);
        let v = verify(
            &src,
            &CommerceWebhooks::sign_with(store_key(), &body),
            &body,
        )
        .unwrap();
        src.decode(&entry(v, &body)).unwrap()
    };
    match decode("webhook_track_save_after.json").as_slice() {
        [PlatformEvent::ShipmentUpdated { shipment: s }] => {
            assert_eq!(s.id.as_str(), "3");
            assert_eq!(s.order_id.as_str(), "42");
            assert_eq!(s.tracking_numbers, ["1Z5R89390357567127"]);
            assert_eq!(s.carrier.as_deref(), Some("United Parcel Service"));
            assert_eq!(s.status, ShipmentStatus::InTransit);
            assert_eq!(
                s.updated_at.unwrap().to_rfc3339(),
                "2026-11-02T10:05:00+00:00"
            );
            assert_eq!(s.shop.as_ref().unwrap().as_str(), STORE);
        }
        other => panic!("{other:?}"),
    }
    match decode("webhook_order_save_after.json").as_slice() {
        [
            PlatformEvent::OrderUpdated { order },
            PlatformEvent::OrderPaid { .. },
        ] => {
            assert_eq!(order.id.as_str(), "42");
            assert_eq!(order.number, "000000042");
            assert_eq!(order.locale.as_deref(), Some("es-ES"));
            assert_eq!(order.total.as_ref().unwrap().minor_units, 3639);
            assert_eq!(order.email.as_deref(), Some("jdoe@example.com"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_stored_topic_that_is_not_the_bodys_event_is_refused() {
    let src = source();
    let body = fixture("webhook_order_save_after.json");
    let v = verify(
        &src,
        &CommerceWebhooks::sign_with(store_key(), &body),
        &body,
    )
    .unwrap();
    let mut e = entry(v, &body);
    e.topic = Some("observer.sales_order_shipment_track_save_after".into());
    assert!(src.decode(&e).is_err());
}

#[test]
fn commerce_gets_the_answer_it_expects() {
    assert_eq!(
        source().acknowledgement(),
        Some(("application/json", r#"{"op":"success"}"#))
    );
}

fn io_source() -> IoEvents {
    IoEvents::builder(STORE, CLIENT_ID)
        .public_key(other_key().public_pem())
        .public_key(store_key().public_pem())
        .build()
        .unwrap()
}

#[test]
fn io_events_verify_either_signature_and_bind_the_recipient() {
    let src = io_source();
    let body = fixture("io_event_track_save_after.json");
    let h = IoEvents::sign_with(store_key(), &body);
    let v = verify(&src, &h, &body).unwrap();
    assert_eq!(
        v.dedupe_key,
        "io-event:0b4e8a6e-33d1-4e3b-9f1e-5c2a3a1f6c21"
    );
    assert_eq!(
        v.topic.as_deref(),
        Some("observer.sales_order_shipment_track_save_after")
    );
    match src.decode(&entry(v, &body)).unwrap().as_slice() {
        [PlatformEvent::ShipmentUpdated { shipment }] => {
            assert_eq!(shipment.tracking_numbers, ["1Z5R89390357567127"]);
        }
        other => panic!("{other:?}"),
    }
    // Only the second signature valid (a key rotating out): enough, as in aio-lib-events.
    let good = store_key().sign(&body);
    let h2 = RawHeaders::from_pairs([
        (SIGNATURE_1_HEADER, "AAAA"),
        (SIGNATURE_2_HEADER, good.as_str()),
    ]);
    assert!(verify(&src, &h2, &body).is_ok());
    // Signed over the base64 body (the Commerce webhook scheme) is not I/O Events'.
    let wrong = RawHeaders::from_pairs([(
        SIGNATURE_1_HEADER,
        store_key().sign(B64.encode(&body).as_bytes()),
    )]);
    assert!(matches!(
        verify(&src, &wrong, &body),
        Err(Rejection::Mismatch)
    ));
    // A delivery for another registration, or naming none.
    for recipient in [json!("another-client"), serde_json::Value::Null] {
        let mut other = fixture_json("io_event_track_save_after.json");
        other["recipient_client_id"] = recipient;
        let other = serde_json::to_vec(&other).unwrap();
        let r = verify(&src, &IoEvents::sign_with(store_key(), &other), &other);
        assert!(matches!(r, Err(Rejection::WrongAccount { .. })), "{r:?}");
    }
    // Unsigned.
    assert!(matches!(
        verify(&src, &RawHeaders::new(), &body),
        Err(Rejection::MissingHeader { .. })
    ));
}

#[test]
fn io_events_answer_the_registration_challenge() {
    let src = io_source();
    assert_eq!(
        src.handshake("challenge=8ec8d794-e0ab-42df-9017-2b7c5c1ab7b0"),
        Some(Ok("8ec8d794-e0ab-42df-9017-2b7c5c1ab7b0".into()))
    );
    assert!(matches!(
        src.handshake("challenge=%3Cscript%3E"),
        Some(Err(_))
    ));
    assert_eq!(src.handshake("x=1"), None);
    assert_eq!(
        source().handshake("challenge=abc"),
        None,
        "Commerce webhooks have no handshake"
    );
}
