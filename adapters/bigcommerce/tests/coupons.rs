//! Discount codes as v2 coupons (`DiscountCodes for BigCommerceClient`) against a stand-in
//! shaped as `reference/marketing.v2.yml` (github.com/bigcommerce/docs, "Create a New
//! Coupon" and "Get All Coupons") shows it: the `201` coupon and the list below are the
//! spec's `coupon_Full` example with our code. The spec documents no body for a code in
//! use; the refusal here is a v2 error list (`[{"status": 409, "message": ...}]`, the v2
//! error shape the adapter reads elsewhere) and the adapter relies only on looking the code
//! up afterwards.

use aftercare::model::{Money, OrderId};
use aftercare::platform::discount::{CodeCreated, DiscountCodes, DiscountValue, NewDiscountCode};
use serde_json::json;
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{api, client};

const CODE: &str = "SORRY-7KQ2M9XW4P";

fn code(value: DiscountValue) -> NewDiscountCode {
    let starts = "2026-12-07T08:00:00Z".parse().unwrap();
    let mut c = NewDiscountCode::new(CODE, value, OrderId::from("250"), starts);
    c.ends_at = Some("2027-02-05T08:00:00Z".parse().unwrap());
    c.title = "Aftercare apology for order 250".into();
    c
}

/// The spec's `coupon_Full` example, with our code.
fn coupon(id: u64) -> serde_json::Value {
    json!({
        "id": id,
        "name": format!("Aftercare apology for order 250 ({CODE})"),
        "type": "percentage_discount",
        "amount": "15.0000",
        "min_purchase": "0.0000",
        "expires": "Fri, 05 Feb 2027 08:00:00 +0000",
        "enabled": true,
        "code": CODE,
        "applies_to": { "entity": "categories", "ids": [0] },
        "num_uses": 0,
        "max_uses": 1,
        "max_uses_per_customer": 1,
        "restricted_to": {},
        "shipping_methods": [],
        "date_created": "Mon, 07 Dec 2026 08:00:02 +0000"
    })
}

#[tokio::test]
async fn a_percent_code_is_a_single_use_coupon_on_every_category_with_its_expiry() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(api("v2/coupons")))
        .and(body_partial_json(json!({
            "code": CODE,
            "type": "percentage_discount",
            "amount": "15",
            "enabled": true,
            "applies_to": { "entity": "categories", "ids": [0] },
            "max_uses": 1,
            "max_uses_per_customer": 1,
            "expires": "Fri, 5 Feb 2027 08:00:00 +0000"
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(coupon(7)))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    assert_eq!(
        c.create_code(&code(DiscountValue::Percent(15)))
            .await
            .unwrap(),
        CodeCreated::Created("7".into())
    );
}

#[tokio::test]
async fn an_amount_is_a_per_total_discount_in_decimals() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(api("v2/coupons")))
        .and(body_partial_json(
            json!({ "type": "per_total_discount", "amount": "5.00" }),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(coupon(8)))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let made = c
        .create_code(&code(DiscountValue::Amount(Money::new(500, "EUR"))))
        .await
        .unwrap();
    assert_eq!(made, CodeCreated::Created("8".into()));
}

#[tokio::test]
async fn a_refused_code_that_exists_is_already_there_never_a_second_coupon() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(api("v2/coupons")))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!([{
            "status": 409,
            "message": "The field 'code' must be unique."
        }])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("v2/coupons")))
        .and(query_param("code", CODE))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([coupon(7)])))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    assert_eq!(
        c.create_code(&code(DiscountValue::Percent(15)))
            .await
            .unwrap(),
        CodeCreated::AlreadyExists
    );
}

#[tokio::test]
async fn a_refusal_without_the_code_in_the_store_is_an_error_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(api("v2/coupons")))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!([{
            "status": 400,
            "message": "The field 'amount' is invalid."
        }])))
        .expect(1)
        .mount(&server)
        .await;
    // v2 lists answer an empty result with 204.
    Mock::given(method("GET"))
        .and(path(api("v2/coupons")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let err = c
        .create_code(&code(DiscountValue::Percent(15)))
        .await
        .unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    assert!(err.to_string().contains("'amount' is invalid"), "{err}");
}

#[tokio::test]
async fn a_missing_scope_is_not_taken_for_an_existing_code() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(api("v2/coupons")))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!([{
            "status": 403,
            "message": "You don't have a required scope to access the endpoint"
        }])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(api("v2/coupons")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([coupon(7)])))
        .expect(0)
        .mount(&server)
        .await;
    let c = client(&server);
    assert!(
        c.create_code(&code(DiscountValue::Percent(15)))
            .await
            .is_err()
    );
}
