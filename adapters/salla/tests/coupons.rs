//! Discount codes as Salla coupons (`DiscountCodes for SallaApi`) against a stand-in shaped
//! as the Merchant API docs show it (docs.salla.dev, "Create Coupon": `POST
//! /admin/v2/coupons` answered `{"status": 201, "success": true, "data": {coupon}}`; "List
//! Coupons": `GET /admin/v2/coupons?keyword=`; "Responses": a validation failure is `422`
//! with `{"status": 422, "success": false, "error": {"code", "message", "fields"}}`).

use aftercare::model::OrderId;
use aftercare::platform::discount::{CodeCreated, DiscountCodes, DiscountValue, NewDiscountCode};
use serde_json::json;
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::api;

const CODE: &str = "SORRY-7KQ2M9XW4P";

fn code() -> NewDiscountCode {
    let starts = "2026-12-07T08:00:00Z".parse().unwrap();
    let mut c = NewDiscountCode::new(
        CODE,
        DiscountValue::Percent(15),
        OrderId::from("218103278"),
        starts,
    );
    c.ends_at = Some("2027-02-05T08:00:00Z".parse().unwrap());
    c
}

/// The docs' coupon, with our code.
fn coupon() -> serde_json::Value {
    json!({
        "id": 815296212, "code": CODE, "type": "percentage", "status": "active",
        "amount": { "amount": 15, "currency": "SAR" },
        "expiry_date": "2027-02-05 08:00:00", "free_shipping": false,
        "usage_limit": 1, "usage_limit_per_user": 1, "applied_in": "all"
    })
}

#[tokio::test]
async fn a_code_is_a_single_use_coupon_with_its_expiry() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/admin/v2/coupons"))
        .and(body_partial_json(json!({
            "code": CODE,
            "type": "percentage",
            "amount": 15.0,
            "free_shipping": false,
            "exclude_sale_products": false,
            "expiry_date": "2027-02-05 08:00:00",
            "usage_limit": 1,
            "usage_limit_per_user": 1
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "status": 201, "success": true, "data": coupon()
        })))
        .expect(1)
        .mount(&server)
        .await;
    let a = api(&server.uri()).await;
    assert_eq!(
        a.create_code(&code()).await.unwrap(),
        CodeCreated::Created("815296212".into())
    );
}

#[tokio::test]
async fn a_refused_code_that_exists_is_already_there() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/admin/v2/coupons"))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "status": 422, "success": false,
            "error": { "code": "error", "message": "alert.invalid_fields",
                       "fields": { "code": ["The code has already been taken."] } }
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/admin/v2/coupons"))
        .and(query_param("keyword", CODE))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": 200, "success": true, "data": [coupon()]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let a = api(&server.uri()).await;
    assert_eq!(
        a.create_code(&code()).await.unwrap(),
        CodeCreated::AlreadyExists
    );
}

#[tokio::test]
async fn a_refusal_without_the_code_is_the_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/admin/v2/coupons"))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "status": 422, "success": false,
            "error": { "code": "error", "message": "alert.invalid_fields",
                       "fields": { "amount": ["The amount is invalid."] } }
        })))
        .mount(&server)
        .await;
    // A keyword search matches parts of codes: a longer code is not ours.
    Mock::given(method("GET"))
        .and(path("/admin/v2/coupons"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": 200, "success": true,
            "data": [{ "id": 1, "code": format!("{CODE}X"), "type": "fixed", "status": "active" }]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let a = api(&server.uri()).await;
    let err = a.create_code(&code()).await.unwrap_err();
    assert!(!err.is_retryable(), "{err}");
}
