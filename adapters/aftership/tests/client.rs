//! The API client against a stand-in shaped as AfterShip's documentation shows (wiremock).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare::model::Shipment;
use aftercare::model::ShipmentStatus;
use aftercare::tracking_source::{SourceError, StopReason, TrackingRequest, TrackingSource};
use aftercare_aftership::{AfterShipClient, AfterShipConfig};
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

fn client(server: &MockServer) -> AfterShipClient {
    AfterShipClient::new(
        AfterShipConfig::new("as-key-123")
            .base_url(&format!("{}/tracking/2026-07", server.uri()))
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
    s.carrier = Some("UPS".into());
    s.tracking_numbers = vec!["1Z5R89390357567127".into()];
    TrackingRequest::for_shipment(&s).unwrap()
}

#[tokio::test]
async fn register_sends_the_key_number_slug_and_order_and_keeps_the_tracking_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/tracking/2026-07/trackings"))
        .and(header("as-api-key", "as-key-123"))
        .and(body_partial_json(serde_json::json!({
            "tracking_number": "1Z5R89390357567127", "slug": "ups", "order_id": "723"
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(fixture("create_tracking_201.json")))
        .expect(1)
        .mount(&server)
        .await;
    let r = client(&server).register(&request()).await.unwrap();
    assert_eq!(
        r.reference.as_deref(),
        Some("b0e0a3a1c4f94d0a9d0f0b2f6a1c0e11")
    );
}

#[tokio::test]
async fn an_existing_tracking_is_a_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/tracking/2026-07/trackings"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(fixture("create_tracking_4003.json")),
        )
        .mount(&server)
        .await;
    let r = client(&server).register(&request()).await.unwrap();
    assert_eq!(
        r.reference.as_deref(),
        Some("b0e0a3a1c4f94d0a9d0f0b2f6a1c0e11")
    );
}

#[tokio::test]
async fn a_short_429_is_retried_and_a_lasting_one_is_a_quota_error_with_its_wait() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/tracking/2026-07/trackings"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "0")
                .set_body_json(fixture("too_many_requests_429.json")),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/tracking/2026-07/trackings"))
        .respond_with(ResponseTemplate::new(201).set_body_json(fixture("create_tracking_201.json")))
        .mount(&server)
        .await;
    assert!(client(&server).register(&request()).await.is_ok());

    let server = MockServer::start().await;
    let reset = chrono::Utc::now().timestamp() + 120;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-ratelimit-reset", reset.to_string().as_str())
                .set_body_json(fixture("too_many_requests_429.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    match client(&server).register(&request()).await {
        Err(SourceError::Quota {
            retry_after: Some(w),
            ..
        }) => {
            assert!(
                w > Duration::from_secs(100) && w <= Duration::from_secs(120),
                "{w:?}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn server_errors_are_retried_then_transient_and_bad_requests_permanent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&server)
        .await;
    assert!(matches!(
        client(&server).register(&request()).await,
        Err(SourceError::Transient { .. })
    ));
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "meta": {"code": 4005, "message": "The value of `tracking_number` is invalid.", "type": "BadRequest"},
            "data": {}
        })))
        .expect(1)
        .mount(&server)
        .await;
    assert!(matches!(
        client(&server).register(&request()).await,
        Err(SourceError::Permanent(_))
    ));
}

#[tokio::test]
async fn stop_marks_a_delivered_tracking_completed_and_deletes_an_old_one() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/tracking/2026-07/trackings"))
        .respond_with(ResponseTemplate::new(201).set_body_json(fixture("create_tracking_201.json")))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(
            "/tracking/2026-07/trackings/b0e0a3a1c4f94d0a9d0f0b2f6a1c0e11/mark-as-completed",
        ))
        .and(body_partial_json(
            serde_json::json!({"reason": "DELIVERED"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("create_tracking_201.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(
            "/tracking/2026-07/trackings/b0e0a3a1c4f94d0a9d0f0b2f6a1c0e11",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("create_tracking_201.json")))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let req = request();
    let registered = c.register(&req).await.unwrap();
    let reg: aftercare::tracking_source::Registration = serde_json::from_value(serde_json::json!({
        "source": "aftership",
        "request": req,
        "registered": registered,
        "registered_at": "2026-03-03T09:00:00Z",
        "stopped": null
    }))
    .unwrap();
    c.stop(&reg, &StopReason::Final(ShipmentStatus::Delivered))
        .await
        .unwrap();
    c.stop(&reg, &StopReason::TooOld).await.unwrap();
}
