//! The API client against a stand-in shaped as 17TRACK's documentation shows (wiremock).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare::model::{Shipment, ShipmentStatus};
use aftercare::tracking_source::{SourceError, TrackingRequest, TrackingSource};
use aftercare_17track::{SeventeenTrackClient, SeventeenTrackConfig};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn fixture(name: &str) -> serde_json::Value {
    serde_json::from_slice(
        &std::fs::read(format!(
            "{}/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap()
}

fn client(server: &MockServer) -> SeventeenTrackClient {
    SeventeenTrackClient::new(
        SeventeenTrackConfig::new("tok")
            .base_url(&format!("{}/track/v2.2", server.uri()))
            .unwrap()
            .retry(RetryPolicy::new(
                Duration::from_millis(5),
                Duration::from_millis(20),
                3,
            )),
    )
    .unwrap()
}

fn request() -> TrackingRequest {
    let mut s = Shipment::new("5001", "723", ShipmentStatus::InTransit);
    s.tracking_numbers = vec!["RB123456785GB".into()];
    TrackingRequest::for_shipment(&s).unwrap()
}

#[tokio::test]
async fn register_posts_an_array_with_the_token_and_already_registered_is_a_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/track/v2.2/register"))
        .and(header("17token", "tok"))
        .and(body_partial_json(
            serde_json::json!([{"number": "RB123456785GB", "tag": "5001", "order_no": "723"}]),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("register_accepted.json")))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/track/v2.2/register"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("register_already.json")))
        .mount(&server)
        .await;
    let c = client(&server);
    assert_eq!(
        c.register(&request()).await.unwrap().carrier.as_deref(),
        Some("11031")
    );
    assert!(c.register(&request()).await.is_ok());
}

#[tokio::test]
async fn a_lasting_429_is_a_quota_error_and_a_refused_number_is_permanent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "60"))
        .expect(1)
        .mount(&server)
        .await;
    assert!(matches!(
        client(&server).register(&request()).await,
        Err(SourceError::Quota { .. })
    ));
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "code": 0, "data": {"accepted": [], "rejected": [{"number": "RB123456785GB", "error": {"code": -18019903, "message": "The carrier cannot be detected."}}]}
        })))
        .mount(&server)
        .await;
    match client(&server).register(&request()).await {
        Err(SourceError::Permanent(m)) => assert!(m.contains("-18019903"), "{m}"),
        other => panic!("{other:?}"),
    }
}
