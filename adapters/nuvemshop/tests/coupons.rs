//! Discount codes as Nuvemshop coupons (`DiscountCodes for NuvemshopClient`) against a
//! stand-in shaped as the API docs show it (`resources/coupon.md`, "POST /coupons": the
//! request and its `201 Created` answer; tiendanube.github.io/api-documentation
//! "Coupons", `GET /coupons?q=`; README "Client errors": invalid fields are `422
//! Unprocessable Entity` with `{"field": ["message"]}`).

use aftercare::model::OrderId;
use aftercare::platform::discount::{CodeCreated, DiscountCodes, DiscountValue, NewDiscountCode};
use serde_json::json;
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{api, client};

const CODE: &str = "SORRY7KQ2M9XW4P";

fn code() -> NewDiscountCode {
    let starts = "2026-12-07T08:00:00Z".parse().unwrap();
    let mut c = NewDiscountCode::new(
        CODE,
        DiscountValue::Percent(15),
        OrderId::from("450789469"),
        starts,
    );
    c.ends_at = Some("2027-02-05T08:00:00Z".parse().unwrap());
    c
}

/// The docs' answer to `POST /coupons`, with our code.
fn coupon(code: &str) -> serde_json::Value {
    json!({
        "id": 32967, "code": code, "type": "percentage", "value": "15.00",
        "valid": true, "used": null, "max_uses": 1,
        "start_date": "2026-12-07", "end_date": "2027-02-05",
        "min_price": null, "categories": null
    })
}

#[tokio::test]
async fn a_code_is_a_single_use_coupon_with_its_expiry() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(api("coupons")))
        .and(body_json(json!({
            "code": CODE,
            "type": "percentage",
            "value": "15.00",
            "max_uses": 1,
            "start_date": "2026-12-07",
            "end_date": "2027-02-05"
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(coupon(CODE)))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        client(&server.uri()).create_code(&code()).await.unwrap(),
        CodeCreated::Created("32967".into())
    );
}

/// A crash between the answer and the ledger row: the second creation is refused, the
/// code is found, and no second coupon is made.
#[tokio::test]
async fn a_refused_code_that_exists_is_already_there() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(api("coupons")))
        .respond_with(
            ResponseTemplate::new(422).set_body_json(json!({ "code": ["has already been taken"] })),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("coupons")))
        .and(query_param("q", CODE))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([coupon(CODE)])))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        client(&server.uri()).create_code(&code()).await.unwrap(),
        CodeCreated::AlreadyExists
    );
}

#[tokio::test]
async fn a_refusal_without_the_code_is_the_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(api("coupons")))
        .respond_with(
            ResponseTemplate::new(422).set_body_json(json!({ "value": ["can't be blank"] })),
        )
        .mount(&server)
        .await;
    // A filter may match parts of codes: a longer code is not ours.
    Mock::given(method("GET"))
        .and(path(api("coupons")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([coupon(&format!("{CODE}X"))])),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server.uri())
        .create_code(&code())
        .await
        .unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    assert!(err.to_string().contains("can't be blank"), "{err}");
}

/// Nuvemshop codes are letters and digits: a code with a hyphen is refused before any
/// request, never created under a name the customer was not given.
#[tokio::test]
async fn a_code_with_a_hyphen_is_refused_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(coupon(CODE)))
        .expect(0)
        .mount(&server)
        .await;
    let mut c = code();
    c.code = "SORRY-7KQ2M9XW4P".into();
    let err = client(&server.uri()).create_code(&c).await.unwrap_err();
    assert!(matches!(err, aftercare::Error::Config(_)), "{err}");
}

/// A server error on a POST is not retried by the client (it may have created the coupon);
/// it is retryable for the caller, whose next try meets "already exists".
#[tokio::test]
async fn a_server_error_is_tried_once_and_retryable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(api("coupons")))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server.uri())
        .create_code(&code())
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
}
