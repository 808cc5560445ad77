//! Verification as `validateIkasWebhookSignature` does it, and the envelope as a claim.

use aftercare::model::PlatformEvent;
use aftercare::store::InboxEntry;
use aftercare::webhook::{RawHeaders, Rejection, VerifiedWebhook, WebhookRequest, WebhookSource};
use chrono::Utc;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::common::{MERCHANT, SECRET, envelope, json_fixture, source};

fn verify(body: &[u8]) -> Result<VerifiedWebhook, Rejection> {
    source().verify(&WebhookRequest::new(&RawHeaders::new(), body, Utc::now()))
}

fn decode(v: VerifiedWebhook, body: &[u8]) -> Result<Vec<PlatformEvent>, aftercare::Error> {
    let now = Utc::now();
    source().decode(&{
        let mut entry = InboxEntry::from_verified(1, "ikas", v, body.to_vec(), now);
        entry.attempts = 1;
        entry
    })
}

#[test]
fn the_signature_is_the_hex_hmac_of_the_data_string() {
    let data = serde_json::to_string(&json_fixture("data_customer.json")).unwrap();
    let mut m = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    m.update(data.as_bytes());
    let sig = hex::encode(m.finalize().into_bytes());
    let body = json!({"id":"wh-9","createdAt":"1764662400000","scope":"store/customer/updated",
        "merchantId": MERCHANT,"authorizedAppId":"app-1","data": data,"signature": sig});
    let bytes = serde_json::to_vec(&body).unwrap();
    let v = verify(&bytes).unwrap();
    assert_eq!(v.shop.as_deref(), Some(MERCHANT));
    assert_eq!(v.meta.get("delivery_id").map(String::as_str), Some("wh-9"));
    assert_eq!(v.occurred_at.unwrap().timestamp_millis(), 1_764_662_400_000);
    // Upper-case hex is the same signature.
    let mut up = body.clone();
    up["signature"] = json!(sig.to_uppercase());
    assert!(verify(&serde_json::to_vec(&up).unwrap()).is_ok());
    // The data re-serialised (spaces) is not what was signed.
    let mut spaced = body.clone();
    spaced["data"] =
        json!(serde_json::to_string_pretty(&json_fixture("data_customer.json")).unwrap());
    assert!(matches!(
        verify(&serde_json::to_vec(&spaced).unwrap()),
        Err(Rejection::Mismatch)
    ));
    // No signature field, or not an envelope: refused.
    let mut none = body.clone();
    none.as_object_mut().unwrap().remove("signature");
    assert!(verify(&serde_json::to_vec(&none).unwrap()).is_err());
    assert!(verify(b"[]").is_err());
    assert!(verify(b"").is_err());
}

#[test]
fn the_dedupe_key_follows_the_signed_data_not_the_envelope() {
    let body = envelope(
        "store/order/updated",
        MERCHANT,
        &json_fixture("data_order_fulfilled.json"),
    );
    let a = verify(&body).unwrap();
    let mut v: Value = serde_json::from_slice(&body).unwrap();
    v["id"] = json!("another-delivery-id");
    let b = verify(&serde_json::to_vec(&v).unwrap()).unwrap();
    assert_eq!(a.dedupe_key, b.dedupe_key);
}

#[test]
fn a_merchant_named_in_the_signed_data_must_be_the_envelopes() {
    let mut o = json_fixture("data_order_fulfilled.json");
    o["merchantId"] = json!("someone-else");
    let body = envelope("store/order/updated", MERCHANT, &o);
    assert!(matches!(verify(&body), Err(Rejection::WrongAccount { .. })));
}

#[test]
fn scopes_decode_their_entities_and_refuse_others() {
    let order = json_fixture("data_order_fulfilled.json");
    let body = envelope("store/order/updated", MERCHANT, &order);
    let events = decode(verify(&body).unwrap(), &body).unwrap();
    match &events[1] {
        PlatformEvent::ShipmentUpdated { shipment } => {
            assert_eq!(shipment.carrier.as_deref(), Some("MNG Kargo"));
            assert_eq!(shipment.tracking_numbers, vec!["MNG123456789".to_owned()]);
            assert_eq!(shipment.id.as_str(), "9a8b7c6d-5e4f-4321-8765-0fedcba98765");
        }
        other => panic!("{other:?}"),
    }
    match &events[0] {
        PlatformEvent::OrderUpdated { order } => {
            assert_eq!(order.locale.as_deref(), Some("tr"));
            assert_eq!(order.total.as_ref().unwrap().minor_units, 124_990);
            assert_eq!(order.number, "#1001");
        }
        other => panic!("{other:?}"),
    }
    // The order's data re-wrapped as the app's removal: refused.
    let as_app = envelope("store/app/deleted", MERCHANT, &order);
    assert!(decode(verify(&as_app).unwrap(), &as_app).is_err());
    let app = envelope(
        "store/app/deleted",
        MERCHANT,
        &json!({"authorizedAppId": "app-1"}),
    );
    assert!(matches!(
        decode(verify(&app).unwrap(), &app).unwrap().as_slice(),
        [PlatformEvent::AppUninstalled { .. }]
    ));
    // A cancelled order.
    let mut c = order.clone();
    c["status"] = json!("CANCELLED");
    let body = envelope("store/order/updated", MERCHANT, &c);
    assert_eq!(
        decode(verify(&body).unwrap(), &body).unwrap()[0].kind(),
        "order_cancelled"
    );
}
