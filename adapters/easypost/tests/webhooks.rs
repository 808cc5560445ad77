//! Webhooks: EasyPost's official vector, refusals with nothing stored, decoding.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aftercare::clock::SystemClock;
use aftercare::http::WebhookRoutes;
use aftercare::model::{PlatformEvent, ShipmentStatus};
use aftercare::store::{Inbox, InboxEntry};
use aftercare::webhook::{RawHeaders, Rejection, Secret, WebhookRequest, WebhookSource};
use aftercare_easypost::{EasyPostWebhooks, SIGNATURE_HEADER, decode};
use aftercare_sqlite::SqliteStore;
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// EasyPost's official vector: the body its client libraries' tests validate
/// (`easypost-python` `tests/test_webhook.py::test_validate_webhook`: the fixture file as
/// compact JSON, i.e. without its final newline), secret and signature from
/// `client-library-fixtures.json` (`webhooks.secret`, `webhooks.hmac_signature`).
fn official_body() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/official-event-body.json"
    );
    let mut b = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    while b.last() == Some(&b'\n') {
        b.pop();
    }
    b
}
const OFFICIAL_SECRET: &str = "sécret";
const OFFICIAL_SIGNATURE: &str =
    "hmac-sha256-hex=38f3f53c103713df81616a0a186d77141957323ec21d5fe9363db93840f527db";

fn verify(src: &EasyPostWebhooks, h: &RawHeaders, body: &[u8]) -> Result<String, Rejection> {
    src.verify(&WebhookRequest::new(h, body, chrono::Utc::now()))
        .map(|v| v.dedupe_key)
}

#[test]
fn the_official_vector_verifies_with_the_nfkd_normalised_secret() {
    let body = official_body();
    let src = EasyPostWebhooks::new(&Secret::from(OFFICIAL_SECRET));
    let h = RawHeaders::from_pairs([(SIGNATURE_HEADER, OFFICIAL_SIGNATURE)]);
    assert_eq!(verify(&src, &h, &body).unwrap(), "easypost:evt_1");
    // Either case of the header's name, as EasyPost's libraries look both up.
    let lower = RawHeaders::from_pairs([("x-hmac-signature", OFFICIAL_SIGNATURE)]);
    assert!(verify(&src, &lower, &body).is_ok());
    // Keyed with the secret's composed (NFC) bytes, as a naive verifier would, it does not
    // match: the normalisation is what makes the vector pass.
    let mut mac = Hmac::<Sha256>::new_from_slice(OFFICIAL_SECRET.as_bytes()).unwrap();
    mac.update(&body);
    let naive = format!("hmac-sha256-hex={}", hex_of(&mac.finalize().into_bytes()));
    assert_ne!(naive, OFFICIAL_SIGNATURE);
    // And the vector decodes: FedEx, in transit, arrived at a facility.
    let events = decode(&body).unwrap();
    let [PlatformEvent::TrackingUpdated { update: u }] = events.as_slice() else {
        panic!()
    };
    assert_eq!(u.status, ShipmentStatus::InTransit);
    assert_eq!(u.raw_sub_status.as_deref(), Some("arrived_at_facility"));
    assert_eq!(u.events.len(), 7);
    assert_eq!(u.events[6].location.as_deref(), Some("EDISON, NJ, US"));
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn a_missing_or_wrong_signature_is_refused() {
    let body = official_body();
    let src = EasyPostWebhooks::new(&Secret::from(OFFICIAL_SECRET));
    assert!(matches!(
        verify(&src, &RawHeaders::new(), &body),
        Err(Rejection::MissingHeader { .. })
    ));
    let other = EasyPostWebhooks::new(&Secret::from("secret"));
    let h = RawHeaders::from_pairs([(SIGNATURE_HEADER, OFFICIAL_SIGNATURE)]);
    assert_eq!(verify(&other, &h, &body), Err(Rejection::Mismatch));
    // Without the prefix the value is not EasyPost's format.
    let bare = RawHeaders::from_pairs([(SIGNATURE_HEADER, &OFFICIAL_SIGNATURE[16..])]);
    assert!(verify(&src, &bare, &body).is_err());
    let mut tampered = body.clone();
    let i = tampered.len() - 5;
    tampered[i] ^= 1;
    assert_eq!(verify(&src, &h, &tampered), Err(Rejection::Mismatch));
}

#[tokio::test]
async fn a_forged_webhook_is_refused_with_nothing_stored() {
    let store = SqliteStore::open_temporary().await.unwrap();
    let app = WebhookRoutes::new(Arc::new(store.clone()), Arc::new(SystemClock))
        .source(
            "easypost",
            Arc::new(EasyPostWebhooks::new(&Secret::from(OFFICIAL_SECRET))),
        )
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/webhooks/easypost",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let body = official_body();
    let post = |sig: &'static str| {
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
    assert_eq!(post("hmac-sha256-hex=00").await, 401);
    let pending = |s: SqliteStore| async move {
        s.claim(
            chrono::Utc::now() + chrono::Duration::hours(1),
            10,
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap()
    };
    let none: Vec<InboxEntry> = pending(store.clone()).await;
    assert!(none.is_empty());
    assert_eq!(post(OFFICIAL_SIGNATURE).await, 200);
    assert_eq!(post(OFFICIAL_SIGNATURE).await, 200);
    assert_eq!(pending(store).await.len(), 1);
}

#[test]
fn an_update_keeps_the_carriers_words_places_estimate_and_raw_values() {
    let events = decode(&fixture("tracker_updated_out_for_delivery.json")).unwrap();
    let [PlatformEvent::TrackingUpdated { update: u }] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(u.source, "easypost");
    assert_eq!(u.tracking_number, "9400110898825022579493");
    assert_eq!(u.status, ShipmentStatus::OutForDelivery);
    assert_eq!(u.raw_status, "out_for_delivery");
    assert_eq!(
        u.reference.as_deref(),
        Some("trk_c8e0edb5bb284caa934a0d3db23a148z")
    );
    assert_eq!(
        u.happened_at,
        "2026-03-05T08:02:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
    assert_eq!(
        u.estimated_delivery,
        Some("2026-03-05T20:00:00Z".parse().unwrap())
    );
    assert_eq!(u.events[1].status, ShipmentStatus::Delayed);
    assert_eq!(
        u.events[1].message.as_deref(),
        Some("Delayed: severe weather in the area")
    );
    assert_eq!(u.events[1].raw_sub_status.as_deref(), Some("weather_delay"));
    assert_eq!(u.events[2].location.as_deref(), Some("SPRINGFIELD, IL, US"));
}

#[test]
fn statuses_map_and_unknown_ones_are_kept() {
    use aftercare_easypost::status::map;
    for (s, d, want) in [
        ("unknown", None, ShipmentStatus::Unknown("unknown".into())),
        (
            "pre_transit",
            Some("label_created"),
            ShipmentStatus::LabelCreated,
        ),
        (
            "in_transit",
            Some("arrived_at_facility"),
            ShipmentStatus::InTransit,
        ),
        ("in_transit", Some("weather_delay"), ShipmentStatus::Delayed),
        ("out_for_delivery", None, ShipmentStatus::OutForDelivery),
        ("available_for_pickup", None, ShipmentStatus::ReadyForPickup),
        ("delivered", None, ShipmentStatus::Delivered),
        ("return_to_sender", None, ShipmentStatus::Returned),
        ("failure", None, ShipmentStatus::Exception),
        ("cancelled", None, ShipmentStatus::Cancelled),
        ("error", None, ShipmentStatus::Unknown("error".into())),
        (
            "teleported",
            None,
            ShipmentStatus::Unknown("teleported".into()),
        ),
    ] {
        assert_eq!(map(s, d), want, "{s} {d:?}");
    }
    assert!(matches!(
        &decode(br#"{"description":"batch.created","id":"evt_2"}"#).unwrap()[..],
        [PlatformEvent::Unrecognized { .. }]
    ));
    assert!(
        decode(br#"{"description":"tracker.updated","result":{"status":"delivered"}}"#).is_err()
    );
}
