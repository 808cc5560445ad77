//! The API client against a stand-in shaped as Shippo's documentation shows (wiremock).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare::model::{Shipment, ShipmentStatus};
use aftercare::tracking_source::{SourceError, TrackingRequest, TrackingSource};
use aftercare_shippo::{ShippoClient, ShippoConfig};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(server: &MockServer) -> ShippoClient {
    ShippoClient::new(
        ShippoConfig::new("shippo_test_abc")
            .base_url(&server.uri())
            .unwrap()
            .retry(RetryPolicy::new(
                Duration::from_millis(5),
                Duration::from_millis(20),
                3,
            )),
    )
    .unwrap()
}

fn request(carrier: &str) -> TrackingRequest {
    let mut s = Shipment::new("5001", "723", ShipmentStatus::InTransit);
    s.carrier = Some(carrier.into());
    s.tracking_numbers = vec!["9205590164917312751089".into()];
    TrackingRequest::for_shipment(&s).unwrap()
}

#[tokio::test]
async fn register_posts_carrier_token_number_and_metadata_with_shippotoken_auth() {
    let server = MockServer::start().await;
    let created: serde_json::Value = serde_json::from_slice(
        &std::fs::read(format!(
            "{}/tests/fixtures/track_created.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    Mock::given(method("POST"))
        .and(path("/tracks/"))
        .and(header("authorization", "ShippoToken shippo_test_abc"))
        .and(body_partial_json(
            serde_json::json!({"carrier": "usps", "tracking_number": "9205590164917312751089"}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(created))
        .expect(1)
        .mount(&server)
        .await;
    let r = client(&server).register(&request("USPS")).await.unwrap();
    assert_eq!(r.carrier.as_deref(), Some("usps"));
}

#[tokio::test]
async fn an_unknown_carrier_is_refused_before_any_call_and_a_lasting_429_is_quota() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "120"))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    assert!(matches!(
        c.register(&request("Pigeon Post")).await,
        Err(SourceError::Permanent(_))
    ));
    assert!(matches!(
        c.register(&request("UPS")).await,
        Err(SourceError::Quota { .. })
    ));
}
