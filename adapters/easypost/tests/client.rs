//! The API client against a stand-in shaped as EasyPost's documentation shows (wiremock).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare::model::{Shipment, ShipmentStatus};
use aftercare::tracking_source::{
    Registration, SourceError, StopReason, TrackingRequest, TrackingSource,
};
use aftercare_easypost::{EasyPostClient, EasyPostConfig};
use wiremock::matchers::{body_json, header, method, path};
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

fn client(server: &MockServer) -> EasyPostClient {
    EasyPostClient::new(
        EasyPostConfig::new("EZTK123")
            .base_url(&format!("{}/v2", server.uri()))
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
    s.carrier = Some("USPS".into());
    s.tracking_numbers = vec!["9400110898825022579493".into()];
    TrackingRequest::for_shipment(&s).unwrap()
}

#[tokio::test]
async fn register_posts_the_wrapped_tracker_with_basic_auth() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/trackers"))
        // "EZTK123:" in base64.
        .and(header("authorization", "Basic RVpUSzEyMzo="))
        .and(body_json(serde_json::json!({"tracker": {"tracking_code": "9400110898825022579493", "carrier": "USPS"}})))
        .respond_with(ResponseTemplate::new(201).set_body_json(fixture("tracker_created.json")))
        .expect(1)
        .mount(&server)
        .await;
    let r = client(&server).register(&request()).await.unwrap();
    assert_eq!(
        r.reference.as_deref(),
        Some("trk_c8e0edb5bb284caa934a0d3db23a148z")
    );
}

#[tokio::test]
async fn a_lasting_429_is_a_quota_error_and_a_422_is_permanent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600")
            .set_body_json(serde_json::json!({"error": {"code": "RATE_LIMITED", "message": "Too many requests"}})))
        .expect(1)
        .mount(&server)
        .await;
    assert!(matches!(
        client(&server).register(&request()).await,
        Err(SourceError::Quota { retry_after: Some(w), .. }) if w == Duration::from_secs(3600)
    ));
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(422).set_body_json(serde_json::json!({"error": {"code": "TRACKER.CREATE.ERROR", "message": "Invalid tracking code"}})))
        .mount(&server)
        .await;
    match client(&server).register(&request()).await {
        Err(SourceError::Permanent(m)) => assert!(m.contains("Invalid tracking code"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn only_an_old_tracker_is_deleted() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/v2/trackers/trk_1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let reg: Registration = serde_json::from_value(serde_json::json!({
        "source": "easypost", "request": request(),
        "registered": {"reference": "trk_1", "carrier": "USPS"},
        "registered_at": "2026-01-01T00:00:00Z", "stopped": null
    }))
    .unwrap();
    let c = client(&server);
    c.stop(&reg, &StopReason::Final(ShipmentStatus::Delivered))
        .await
        .unwrap();
    c.stop(&reg, &StopReason::TooOld).await.unwrap();
}
