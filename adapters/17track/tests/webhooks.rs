//! The push webhook: both candidate signature schemes, refusals with nothing stored, decoding.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aftercare::clock::SystemClock;
use aftercare::http::WebhookRoutes;
use aftercare::model::{PlatformEvent, ShipmentStatus};
use aftercare::store::Inbox;
use aftercare::webhook::{RawHeaders, Rejection, Secret, WebhookRequest, WebhookSource};
use aftercare_17track::{SIGN_HEADER, SeventeenTrackWebhooks, SignScheme, decode};
use aftercare_sqlite::SqliteStore;
use sha2::{Digest, Sha256};

const KEY: &str = "17track-security-key";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn verify(src: &SeventeenTrackWebhooks, sign: &str, body: &[u8]) -> Result<String, Rejection> {
    let h = RawHeaders::from_pairs([(SIGN_HEADER, sign)]);
    src.verify(&WebhookRequest::new(&h, body, chrono::Utc::now()))
        .map(|v| v.dedupe_key)
}

#[test]
fn the_default_scheme_is_sha256_of_body_slash_key() {
    let body = fixture("push_delivery_failure.json");
    let mut h = Sha256::new();
    h.update(&body);
    h.update(b"/");
    h.update(KEY.as_bytes());
    let sign = hex_of(&h.finalize());
    let src = SeventeenTrackWebhooks::new(Secret::from(KEY));
    assert_eq!(
        verify(&src, &sign, &body).unwrap(),
        "17track:RB123456785GB:11031:2026-03-05T16:40:00Z:DeliveryFailure_NoBody"
    );
    assert!(verify(&src, &sign.to_uppercase(), &body).is_ok());
    assert_eq!(
        verify(&src, &hex_of(&Sha256::digest(&body)), &body),
        Err(Rejection::Mismatch)
    );
    // Under the other scheme the same header does not verify.
    let hmac_src = SeventeenTrackWebhooks::new(Secret::from(KEY)).scheme(SignScheme::HmacSha256Hex);
    assert_eq!(verify(&hmac_src, &sign, &body), Err(Rejection::Mismatch));
}

#[test]
fn the_hmac_scheme_is_hex_hmac_sha256_of_the_body() {
    use hmac::{Hmac, Mac};
    let body = fixture("push_delivery_failure.json");
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY.as_bytes()).unwrap();
    mac.update(&body);
    let sign = hex_of(&mac.finalize().into_bytes());
    let src = SeventeenTrackWebhooks::new(Secret::from("old"))
        .also_key(Secret::from(KEY))
        .scheme(SignScheme::HmacSha256Hex);
    assert!(verify(&src, &sign, &body).is_ok());
    let mut tampered = body.clone();
    tampered[3] ^= 1;
    assert_eq!(verify(&src, &sign, &tampered), Err(Rejection::Mismatch));
    let none = RawHeaders::new();
    assert!(matches!(
        src.verify(&WebhookRequest::new(&none, &body, chrono::Utc::now())),
        Err(Rejection::MissingHeader { .. })
    ));
}

#[tokio::test]
async fn an_unsigned_or_forged_push_is_refused_with_nothing_stored() {
    let store = SqliteStore::open_temporary().await.unwrap();
    let app = WebhookRoutes::new(Arc::new(store.clone()), Arc::new(SystemClock))
        .source(
            "17track",
            Arc::new(SeventeenTrackWebhooks::new(Secret::from(KEY))),
        )
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/17track", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let body = fixture("push_delivery_failure.json");
    let c = reqwest::Client::new();
    assert_eq!(
        c.post(&url)
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        400
    );
    assert_eq!(
        c.post(&url)
            .header(SIGN_HEADER, "00")
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        401
    );
    let stored = store
        .claim(
            chrono::Utc::now() + chrono::Duration::hours(1),
            10,
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert!(stored.is_empty());
}

#[test]
fn a_push_decodes_with_its_events_estimate_and_raw_codes_object_or_array() {
    let body = fixture("push_delivery_failure.json");
    let events = decode(&body).unwrap();
    let [PlatformEvent::TrackingUpdated { update: u }] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(u.source, "17track");
    assert_eq!(u.status, ShipmentStatus::AttemptedDelivery);
    assert_eq!(u.raw_status, "DeliveryFailure");
    assert_eq!(u.raw_sub_status.as_deref(), Some("DeliveryFailure_NoBody"));
    assert_eq!(u.carrier.as_deref(), Some("11031"));
    assert_eq!(
        u.estimated_delivery,
        Some("2026-03-07T00:00:00Z".parse().unwrap())
    );
    assert_eq!(u.events.len(), 3);
    assert_eq!(u.events[0].status, ShipmentStatus::PickedUp);
    assert!(
        u.events[2]
            .message
            .as_deref()
            .unwrap()
            .contains("nobody at home")
    );
    // `data` as an array of several numbers.
    let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let one = v["data"].clone();
    v["data"] = serde_json::json!([one.clone(), one]);
    assert_eq!(decode(&serde_json::to_vec(&v).unwrap()).unwrap().len(), 2);
    assert!(matches!(
        &decode(br#"{"event":"SOMETHING_NEW","data":{}}"#).unwrap()[..],
        [PlatformEvent::Unrecognized { .. }]
    ));
    assert!(
        decode(br#"{"event":"TRACKING_UPDATED","data":{"number":"X","track_info":{}}}"#).is_err()
    );
}

#[test]
fn statuses_map_and_unknown_ones_are_kept() {
    use aftercare_17track::status::map;
    for (s, sub, want) in [
        (
            "NotFound",
            Some("NotFound_Other"),
            ShipmentStatus::Unknown("NotFound".into()),
        ),
        ("InfoReceived", None, ShipmentStatus::LabelCreated),
        (
            "InTransit",
            Some("InTransit_PickedUp"),
            ShipmentStatus::PickedUp,
        ),
        (
            "InTransit",
            Some("InTransit_CustomsProcessing"),
            ShipmentStatus::InTransit,
        ),
        (
            "InTransit",
            Some("InTransit_TransportArrived"),
            ShipmentStatus::InTransit,
        ),
        (
            "Expired",
            Some("Expired_Other"),
            ShipmentStatus::Unknown("Expired".into()),
        ),
        ("AvailableForPickup", None, ShipmentStatus::ReadyForPickup),
        ("OutForDelivery", None, ShipmentStatus::OutForDelivery),
        (
            "DeliveryFailure",
            Some("DeliveryFailure_Security"),
            ShipmentStatus::AttemptedDelivery,
        ),
        ("Delivered", None, ShipmentStatus::Delivered),
        (
            "Exception",
            Some("Exception_Lost"),
            ShipmentStatus::Exception,
        ),
        (
            "Exception",
            Some("Exception_Returned"),
            ShipmentStatus::Returned,
        ),
        (
            "Exception",
            Some("Exception_Delayed"),
            ShipmentStatus::Delayed,
        ),
        (
            "Exception",
            Some("Exception_Cancel"),
            ShipmentStatus::Cancelled,
        ),
        (
            "Teleported",
            None,
            ShipmentStatus::Unknown("Teleported".into()),
        ),
    ] {
        assert_eq!(map(s, sub), want, "{s} {sub:?}");
    }
}
