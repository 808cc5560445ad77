//! Discount codes as coupons (`DiscountCodes for WooClient`) against a stand-in shaped as
//! the REST API docs show it ("Create a coupon",
//! <https://woocommerce.github.io/woocommerce-rest-api-docs/#create-a-coupon>: the request
//! body and the `201` coupon below are the docs' example, with our code) and WooCommerce's
//! coupons controller answers a code in use (`400`,
//! `woocommerce_rest_coupon_code_already_exists`, "The coupon code already exists").

use aftercare::model::{Money, OrderId};
use aftercare::platform::discount::{CodeCreated, DiscountCodes, DiscountValue, NewDiscountCode};
use serde_json::json;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::client;

fn code(value: DiscountValue) -> NewDiscountCode {
    let starts = "2026-12-07T08:00:00Z".parse().unwrap();
    let mut c = NewDiscountCode::new("SORRY-7KQ2M9XW4P", value, OrderId::from("727"), starts);
    c.ends_at = Some("2027-02-05T08:00:00Z".parse().unwrap());
    c
}

/// The docs' "Create a coupon" response, with our code and id 719.
fn created() -> serde_json::Value {
    json!({
        "id": 719,
        "code": "sorry-7kq2m9xw4p",
        "amount": "15.00",
        "date_created": "2026-12-07T08:00:02",
        "date_created_gmt": "2026-12-07T08:00:02",
        "discount_type": "percent",
        "description": "",
        "date_expires": "2027-02-05T08:00:00",
        "date_expires_gmt": "2027-02-05T08:00:00",
        "usage_count": 0,
        "individual_use": true,
        "usage_limit": 1,
        "usage_limit_per_user": 1,
        "email_restrictions": [],
        "used_by": [],
        "meta_data": []
    })
}

#[tokio::test]
async fn a_percent_code_is_a_single_use_coupon_with_its_expiry() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/wp-json/wc/v3/coupons"))
        .and(body_partial_json(json!({
            "code": "SORRY-7KQ2M9XW4P",
            "discount_type": "percent",
            "amount": "15",
            "individual_use": true,
            "usage_limit": 1,
            "usage_limit_per_user": 1,
            "date_expires_gmt": "2027-02-05T08:00:00"
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(created()))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server.uri());
    assert_eq!(
        c.create_code(&code(DiscountValue::Percent(15)))
            .await
            .unwrap(),
        CodeCreated::Created("719".into())
    );
}

#[tokio::test]
async fn an_amount_is_a_fixed_cart_coupon_in_the_currency_s_decimals() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/wp-json/wc/v3/coupons"))
        .and(body_partial_json(
            json!({ "discount_type": "fixed_cart", "amount": "5.00" }),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(created()))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server.uri());
    let got = c
        .create_code(&code(DiscountValue::Amount(Money::new(500, "EUR"))))
        .await
        .unwrap();
    assert_eq!(got, CodeCreated::Created("719".into()));
}

/// A crash between WooCommerce creating the coupon and the ledger row: the second
/// creation meets "already exists", which is not an error.
#[tokio::test]
async fn a_code_in_use_is_already_exists_and_other_refusals_are_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/wp-json/wc/v3/coupons"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "code": "woocommerce_rest_coupon_code_already_exists",
            "message": "The coupon code already exists",
            "data": { "status": 400 }
        })))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server.uri());
    assert_eq!(
        c.create_code(&code(DiscountValue::Percent(15)))
            .await
            .unwrap(),
        CodeCreated::AlreadyExists
    );

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/wp-json/wc/v3/coupons"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "code": "woocommerce_rest_cannot_create",
            "message": "Sorry, you are not allowed to create resources.",
            "data": { "status": 401 }
        })))
        .mount(&server)
        .await;
    let e = client(&server.uri())
        .create_code(&code(DiscountValue::Percent(15)))
        .await
        .unwrap_err();
    assert!(!e.is_retryable(), "{e}");
    assert!(
        e.to_string().contains("woocommerce_rest_cannot_create"),
        "{e}"
    );
}
