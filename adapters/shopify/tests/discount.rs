//! `DiscountCodes` on the Admin GraphQL API against wiremock. Responses are shaped as
//! Shopify documents `DiscountCodeBasicCreatePayload`
//! (https://shopify.dev/docs/api/admin-graphql/latest/payloads/DiscountCodeBasicCreatePayload:
//! `codeDiscountNode`, `userErrors` of `DiscountUserError { field message code }`, codes from
//! https://shopify.dev/docs/api/admin-graphql/latest/enums/DiscountErrorCode), the request
//! as `DiscountCodeBasicInput`
//! (https://shopify.dev/docs/api/admin-graphql/2026-01/input-objects/DiscountCodeBasicInput).

use crate::common::admin::{GQL_PATH, client};
use aftercare::model::{Money, OrderId};
use aftercare::platform::discount::{CodeCreated, DiscountCodes, DiscountValue, NewDiscountCode};
use serde_json::json;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn cost() -> serde_json::Value {
    json!({ "cost": { "requestedQueryCost": 10, "actualQueryCost": 10,
        "throttleStatus": { "maximumAvailable": 2000.0, "currentlyAvailable": 1990, "restoreRate": 100.0 } } })
}

fn code() -> NewDiscountCode {
    let mut c = NewDiscountCode::new(
        "SORRY-7KQ2M9XD4P",
        DiscountValue::Percent(15),
        OrderId::from("5912340118000000001"),
        "2026-03-05T09:00:00Z".parse().unwrap(),
    );
    c.customer_id = Some("7311220473001000001".into());
    c.ends_at = Some("2026-05-04T09:00:00Z".parse().unwrap());
    c
}

#[tokio::test]
async fn creates_a_single_use_code_for_the_customer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .and(body_partial_json(
            json!({ "variables": { "basicCodeDiscount": {
            "code": "SORRY-7KQ2M9XD4P",
            "startsAt": "2026-03-05T09:00:00Z",
            "endsAt": "2026-05-04T09:00:00Z",
            "usageLimit": 1,
            "appliesOncePerCustomer": true,
            "context": { "customers": { "add": ["gid://shopify/Customer/7311220473001000001"] } },
            "customerGets": { "value": { "percentage": 0.15 }, "items": { "all": true } }
        } } }),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": { "discountCodeBasicCreate": {
                "codeDiscountNode": { "id": "gid://shopify/DiscountCodeNode/1057371175" },
                "userErrors": []
            } },
            "extensions": cost()
        })))
        .expect(1)
        .mount(&server)
        .await;
    let got = client(&server).create_code(&code()).await.unwrap();
    assert_eq!(
        got,
        CodeCreated::Created("gid://shopify/DiscountCodeNode/1057371175".into())
    );
}

#[tokio::test]
async fn a_code_name_already_taken_is_already_exists() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": { "discountCodeBasicCreate": {
                "codeDiscountNode": null,
                "userErrors": [{
                    "field": ["basicCodeDiscount", "code"],
                    "message": "Code must be unique. Please try a different code.",
                    "code": "TAKEN"
                }]
            } },
            "extensions": cost()
        })))
        .mount(&server)
        .await;
    let got = client(&server).create_code(&code()).await.unwrap();
    assert_eq!(got, CodeCreated::AlreadyExists);
}

#[tokio::test]
async fn other_user_errors_and_fixed_amounts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .and(body_partial_json(json!({ "variables": { "basicCodeDiscount": {
            "customerGets": { "value": { "discountAmount": { "amount": "12.345", "appliesOnEachItem": false } } }
        } } })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": { "discountCodeBasicCreate": {
                "codeDiscountNode": null,
                "userErrors": [{
                    "field": ["basicCodeDiscount", "endsAt"],
                    "message": "End date should be after the start date",
                    "code": "END_DATE_BEFORE_START_DATE"
                }]
            } },
            "extensions": cost()
        })))
        .mount(&server)
        .await;
    let mut c = code();
    c.value = DiscountValue::Amount(Money::new(12_345, "KWD"));
    let err = client(&server).create_code(&c).await.unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    assert!(err.to_string().contains("End date"), "{err}");
}
