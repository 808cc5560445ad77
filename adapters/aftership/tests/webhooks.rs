//! Webhooks: the documented signature, refusal with nothing stored, decoding.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aftercare::clock::SystemClock;
use aftercare::http::WebhookRoutes;
use aftercare::model::{PlatformEvent, ShipmentStatus};
use aftercare::store::{Inbox, InboxEntry};
use aftercare::webhook::{RawHeaders, Rejection, Secret, WebhookRequest, WebhookSource};
use aftercare_aftership::{AfterShipWebhooks, LEGACY_SIGNATURE_HEADER, SIGNATURE_HEADER, decode};
use aftercare_sqlite::SqliteStore;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const SECRET: &str = "aftership-webhook-s3cret";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The signature as the docs describe it, computed here independently of the crate.
fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn verify(src: &AfterShipWebhooks, h: &RawHeaders, body: &[u8]) -> Result<String, Rejection> {
    src.verify(&WebhookRequest::new(h, body, chrono::Utc::now()))
        .map(|v| v.dedupe_key)
}

#[test]
fn the_documented_signature_verifies_and_anything_else_is_refused() {
    let src = AfterShipWebhooks::new(Secret::from(SECRET));
    let body = fixture("tracking_update_attempt_fail.json");
    let good = RawHeaders::from_pairs([(SIGNATURE_HEADER, sign(SECRET, &body))]);
    assert_eq!(
        verify(&src, &good, &body).unwrap(),
        "aftership:6f1e2c3a-9b1d-4c0e-8a54-2f7f1c3b9d10"
    );
    let other_secret = RawHeaders::from_pairs([(SIGNATURE_HEADER, sign("other", &body))]);
    assert_eq!(verify(&src, &other_secret, &body), Err(Rejection::Mismatch));
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    assert_eq!(verify(&src, &good, &tampered), Err(Rejection::Mismatch));
    assert!(matches!(
        verify(&src, &RawHeaders::new(), &body),
        Err(Rejection::MissingHeader { .. })
    ));
    // The pre-2022 header is refused unless asked for, then verified the same way.
    let legacy = RawHeaders::from_pairs([(
        LEGACY_SIGNATURE_HEADER,
        format!("hmac-sha256={}", sign(SECRET, &body)),
    )]);
    assert!(verify(&src, &legacy, &body).is_err());
    let src = src.accept_legacy_header();
    assert!(verify(&src, &legacy, &body).is_ok());
    let legacy_bad = RawHeaders::from_pairs([(
        LEGACY_SIGNATURE_HEADER,
        format!("hmac-sha256={}", sign("other", &body)),
    )]);
    assert_eq!(verify(&src, &legacy_bad, &body), Err(Rejection::Mismatch));
}

async fn pending(store: &SqliteStore) -> Vec<InboxEntry> {
    store
        .claim(
            chrono::Utc::now() + chrono::Duration::hours(1),
            100,
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn a_bad_signature_is_refused_with_nothing_stored_and_a_retry_is_stored_once() {
    let store = SqliteStore::open_temporary().await.unwrap();
    let app = WebhookRoutes::new(Arc::new(store.clone()), Arc::new(SystemClock))
        .source(
            "aftership",
            Arc::new(AfterShipWebhooks::new(Secret::from(SECRET))),
        )
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/webhooks/aftership",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let body = fixture("tracking_update_attempt_fail.json");
    let post = |sig: String| {
        let (url, body) = (url.clone(), body.clone());
        async move {
            reqwest::Client::new()
                .post(url)
                .header(SIGNATURE_HEADER, sig)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(post(sign("forged", &body)).await, 401);
    assert!(pending(&store).await.is_empty());
    assert_eq!(post(sign(SECRET, &body)).await, 200);
    assert_eq!(post(sign(SECRET, &body)).await, 200);
    assert_eq!(pending(&store).await.len(), 1);
}

#[test]
fn a_failed_attempt_keeps_the_carriers_words_places_and_raw_values() {
    let events = decode(&fixture("tracking_update_attempt_fail.json")).unwrap();
    let [PlatformEvent::TrackingUpdated { update: u }] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(u.source, "aftership");
    assert_eq!(u.tracking_number, "1Z5R89390357567127");
    assert_eq!(u.status, ShipmentStatus::AttemptedDelivery);
    assert_eq!(u.raw_status, "AttemptFail");
    assert_eq!(u.raw_sub_status.as_deref(), Some("AttemptFail_001"));
    assert_eq!(
        u.happened_at,
        "2026-03-05T16:40:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
    assert_eq!(
        u.estimated_delivery,
        Some("2026-03-06T00:00:00Z".parse().unwrap())
    );
    assert_eq!(
        u.reference.as_deref(),
        Some("b0e0a3a1c4f94d0a9d0f0b2f6a1c0e11")
    );
    let statuses: Vec<_> = u.events.iter().map(|e| e.status.clone()).collect();
    assert_eq!(
        statuses,
        [
            ShipmentStatus::LabelCreated,
            ShipmentStatus::InTransit,
            ShipmentStatus::OutForDelivery,
            ShipmentStatus::AttemptedDelivery
        ]
    );
    let last = u.events.last().unwrap();
    assert!(last.message.as_deref().unwrap().contains("not available"));
    assert_eq!(last.location.as_deref(), Some("Springfield, IL, US"));
    // A place given only in parts is put together.
    assert_eq!(
        u.events[1].location.as_deref(),
        Some("Hodgkins, IL, United States")
    );
}

#[test]
fn available_for_pickup_carries_the_pickup_location() {
    let events = decode(&fixture("tracking_update_pickup.json")).unwrap();
    let [PlatformEvent::TrackingUpdated { update: u }] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(u.status, ShipmentStatus::ReadyForPickup);
    assert_eq!(
        u.pickup_point.as_deref(),
        Some("UPS Access Point, Corner Shop, 12 Main St, Springfield IL")
    );
}

#[test]
fn tags_and_subtags_map_and_unknown_ones_are_kept() {
    use aftercare_aftership::status::map;
    for (tag, sub, want) in [
        ("Pending", None, ShipmentStatus::Confirmed),
        ("InfoReceived", None, ShipmentStatus::LabelCreated),
        (
            "InTransit",
            Some("InTransit_007"),
            ShipmentStatus::InTransit,
        ),
        ("OutForDelivery", None, ShipmentStatus::OutForDelivery),
        ("AttemptFail", None, ShipmentStatus::AttemptedDelivery),
        ("AvailableForPickup", None, ShipmentStatus::ReadyForPickup),
        (
            "Delivered",
            Some("Delivered_005"),
            ShipmentStatus::Delivered,
        ),
        (
            "Exception",
            Some("Exception_003"),
            ShipmentStatus::Exception,
        ),
        ("Exception", Some("Exception_004"), ShipmentStatus::Delayed),
        ("Exception", Some("Exception_017"), ShipmentStatus::Delayed),
        (
            "Exception",
            Some("Exception_099"),
            ShipmentStatus::Exception,
        ),
        ("Expired", None, ShipmentStatus::Unknown("Expired".into())),
        ("Beamed", None, ShipmentStatus::Unknown("Beamed".into())),
    ] {
        assert_eq!(map(tag, sub), want, "{tag} {sub:?}");
    }
    // An unknown tag in a webhook is decoded, not dropped.
    let body = String::from_utf8(fixture("tracking_update_pickup.json"))
        .unwrap()
        .replace(
            "\"AvailableForPickup\",\n    \"subtag\"",
            "\"Beamed\",\n    \"subtag\"",
        );
    let events = decode(body.as_bytes()).unwrap();
    let [PlatformEvent::TrackingUpdated { update: u }] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(u.status, ShipmentStatus::Unknown("Beamed".into()));
    assert_eq!(u.raw_status, "Beamed");
}

#[test]
fn other_events_are_unrecognized_and_malformed_bodies_are_decode_errors() {
    let events = decode(br#"{"event":"tracking_pending_time","msg":{}}"#).unwrap();
    assert!(matches!(&events[..], [PlatformEvent::Unrecognized { .. }]));
    assert!(decode(b"{not json").is_err());
    assert!(decode(br#"{"event":"tracking_update","msg":{"tag":"InTransit"}}"#).is_err());
}
