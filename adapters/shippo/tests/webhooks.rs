//! Webhooks: the URL token (Shippo's documented protection), refusals with nothing stored,
//! decoding.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aftercare::clock::SystemClock;
use aftercare::http::WebhookRoutes;
use aftercare::model::{PlatformEvent, ShipmentStatus};
use aftercare::store::Inbox;
use aftercare::webhook::{
    QUERY_PSEUDO_HEADER, RawHeaders, Rejection, Secret, WebhookRequest, WebhookSource,
};
use aftercare_shippo::{ShippoWebhooks, decode};
use aftercare_sqlite::SqliteStore;

const TOKEN: &str = "b4c9e2f7a1d84e6f9c3b2a1908f7e6d5";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn only_the_configured_url_token_is_accepted() {
    let src = ShippoWebhooks::new(Secret::from(TOKEN));
    let body = fixture("track_updated.json");
    let verify = |q: Option<&str>| {
        let mut h = RawHeaders::new();
        if let Some(q) = q {
            h.insert(QUERY_PSEUDO_HEADER, q);
        }
        src.verify(&WebhookRequest::new(&h, &body, chrono::Utc::now()))
            .map(|v| v.dedupe_key)
    };
    assert_eq!(
        verify(Some(&format!("a=1&token={TOKEN}"))).unwrap(),
        "shippo:9205590164917312751089:a2f1bd0c6e2d4a2f9a0c1f1e2d3c4b5a"
    );
    assert_eq!(verify(Some("token=guess")), Err(Rejection::Mismatch));
    assert!(matches!(verify(None), Err(Rejection::MissingHeader { .. })));
    assert!(matches!(
        verify(Some("token=")),
        Err(Rejection::MissingHeader { .. })
    ));
    // A header named like the token does not count: only the URL's query does.
    let h = RawHeaders::from_pairs([("token", TOKEN)]);
    assert!(
        src.verify(&WebhookRequest::new(&h, &body, chrono::Utc::now()))
            .is_err()
    );
}

#[tokio::test]
async fn through_the_router_a_wrong_token_stores_nothing_and_a_duplicate_once() {
    let store = SqliteStore::open_temporary().await.unwrap();
    let app = WebhookRoutes::new(Arc::new(store.clone()), Arc::new(SystemClock))
        .source("shippo", Arc::new(ShippoWebhooks::new(Secret::from(TOKEN))))
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/webhooks/shippo", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let body = fixture("track_updated.json");
    let c = reqwest::Client::new();
    let post = |url: String| {
        let (c, body) = (c.clone(), body.clone());
        async move {
            c.post(url)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(post(format!("{base}?token=nope")).await, 401);
    assert_eq!(post(base.clone()).await, 400);
    let claim = || {
        store.claim(
            chrono::Utc::now() + chrono::Duration::hours(1),
            10,
            std::time::Duration::from_secs(60),
        )
    };
    assert!(claim().await.unwrap().is_empty());
    assert_eq!(post(format!("{base}?token={TOKEN}")).await, 200);
    assert_eq!(post(format!("{base}?token={TOKEN}")).await, 200);
    assert_eq!(
        claim().await.unwrap().len(),
        1,
        "Shippo's non-idempotent duplicate is stored once"
    );
}

#[test]
fn a_failed_attempt_decodes_with_history_places_eta_and_raw_values() {
    let events = decode(&fixture("track_updated.json")).unwrap();
    let [PlatformEvent::TrackingUpdated { update: u }] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(u.source, "shippo");
    assert_eq!(u.status, ShipmentStatus::AttemptedDelivery);
    assert_eq!(u.raw_status, "TRANSIT");
    assert_eq!(u.raw_sub_status.as_deref(), Some("delivery_attempted"));
    assert_eq!(
        u.estimated_delivery,
        Some("2026-03-06T18:00:00Z".parse().unwrap())
    );
    let statuses: Vec<_> = u.events.iter().map(|e| e.status.clone()).collect();
    assert_eq!(
        statuses,
        [
            ShipmentStatus::LabelCreated,
            ShipmentStatus::OutForDelivery,
            ShipmentStatus::AttemptedDelivery
        ]
    );
    assert_eq!(
        u.events[2].location.as_deref(),
        Some("Spotsylvania, VA, US")
    );
    assert!(
        u.events[2]
            .message
            .as_deref()
            .unwrap()
            .contains("no access")
    );
    assert!(matches!(
        &decode(br#"{"event":"transaction_created","data":{}}"#).unwrap()[..],
        [PlatformEvent::Unrecognized { .. }]
    ));
    assert!(decode(br#"{"event":"track_updated","data":{"tracking_number":"1"}}"#).is_err());
}

#[test]
fn statuses_map_and_unknown_ones_are_kept() {
    use aftercare_shippo::status::map;
    for (s, code, want) in [
        ("UNKNOWN", None, ShipmentStatus::Unknown("UNKNOWN".into())),
        ("PRE_TRANSIT", None, ShipmentStatus::LabelCreated),
        ("TRANSIT", None, ShipmentStatus::InTransit),
        (
            "TRANSIT",
            Some("package_departed"),
            ShipmentStatus::InTransit,
        ),
        (
            "TRANSIT",
            Some("out_for_delivery"),
            ShipmentStatus::OutForDelivery,
        ),
        (
            "TRANSIT",
            Some("pickup_available"),
            ShipmentStatus::ReadyForPickup,
        ),
        ("DELIVERED", None, ShipmentStatus::Delivered),
        ("RETURNED", None, ShipmentStatus::Returned),
        ("FAILURE", Some("package_lost"), ShipmentStatus::Exception),
        ("BEAMED", None, ShipmentStatus::Unknown("BEAMED".into())),
    ] {
        assert_eq!(map(s, code), want, "{s} {code:?}");
    }
}
