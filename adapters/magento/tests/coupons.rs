//! Discount codes as cart price rules with one specific coupon (`MagentoDiscounts`) against
//! a stand-in shaped as the Adobe Commerce REST reference shows them
//! (`salesRuleRuleRepositoryV1SavePost`: `{"rule": {...}}` answered with the rule and its
//! `rule_id`; `salesRuleCouponRepositoryV1SavePost`: `{"coupon": {...}}` answered with the
//! coupon and its `coupon_id`; the `search` endpoints' `{"items", "search_criteria",
//! "total_count"}`), and Magento's answer to a code in use: `400`
//! `{"message": "Coupon with the same code already exists."}` (the coupon resource model's
//! unique `code`, `Magento/SalesRule/Model/ResourceModel/Coupon.php`).

use aftercare::model::{Money, OrderId};
use aftercare::platform::discount::{CodeCreated, DiscountCodes, DiscountValue, NewDiscountCode};
use aftercare_magento::MagentoDiscounts;
use serde_json::json;
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::client;

const CODE: &str = "SORRY-7KQ2M9XW4P";
const FIELD: &str = "searchCriteria[filter_groups][0][filters][0][field]";
const VALUE: &str = "searchCriteria[filter_groups][0][filters][0][value]";

fn code(value: DiscountValue) -> NewDiscountCode {
    let starts = "2026-12-07T08:00:00Z".parse().unwrap();
    let mut c = NewDiscountCode::new(CODE, value, OrderId::from("000000042"), starts);
    c.ends_at = Some("2027-02-05T08:00:00Z".parse().unwrap());
    c
}

fn empty() -> serde_json::Value {
    json!({ "items": [], "search_criteria": { "filter_groups": [] }, "total_count": 0 })
}

fn coupon(id: u64) -> serde_json::Value {
    json!({
        "coupon_id": id, "rule_id": 17, "code": CODE, "usage_limit": 1,
        "usage_per_customer": 1, "times_used": 0, "is_primary": true,
        "expiration_date": "2027-02-05 00:00:00", "type": 0
    })
}

async fn coupons_search(server: &MockServer, found: serde_json::Value, times: u64) {
    Mock::given(method("GET"))
        .and(path("/rest/V1/coupons/search"))
        .and(query_param(FIELD, "code"))
        .and(query_param(VALUE, CODE))
        .respond_with(ResponseTemplate::new(200).set_body_json(found))
        .expect(times)
        .mount(server)
        .await;
}

async fn rules_search(server: &MockServer, found: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path("/rest/V1/salesRules/search"))
        .and(query_param(FIELD, "name"))
        .and(query_param(VALUE, format!("Aftercare {CODE}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(found))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_code_is_a_rule_with_one_single_use_coupon_and_its_expiry() {
    let server = MockServer::start().await;
    coupons_search(&server, empty(), 1).await;
    rules_search(&server, empty()).await;
    Mock::given(method("POST"))
        .and(path("/rest/V1/salesRules"))
        .and(body_partial_json(json!({ "rule": {
            "name": format!("Aftercare {CODE}"),
            "website_ids": [1],
            "customer_group_ids": [0, 1, 2, 3],
            "from_date": "2026-12-07",
            "to_date": "2027-02-05",
            "uses_per_customer": 1,
            "uses_per_coupon": 1,
            "is_active": true,
            "simple_action": "by_percent",
            "discount_amount": 15.0,
            "coupon_type": "SPECIFIC_COUPON",
            "use_auto_generation": false
        }})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "rule_id": 17, "name": format!("Aftercare {CODE}"), "website_ids": [1],
            "customer_group_ids": [0, 1, 2, 3], "uses_per_customer": 1, "is_active": true,
            "simple_action": "by_percent", "discount_amount": 15,
            "coupon_type": "SPECIFIC_COUPON", "use_auto_generation": false, "uses_per_coupon": 1
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/V1/coupons"))
        .and(body_partial_json(json!({ "coupon": {
            "rule_id": 17, "code": CODE, "is_primary": true, "type": 0
        }})))
        .respond_with(ResponseTemplate::new(200).set_body_json(coupon(31)))
        .expect(1)
        .mount(&server)
        .await;
    let d = MagentoDiscounts::new(client(&server.uri()));
    assert_eq!(
        d.create_code(&code(DiscountValue::Percent(15)))
            .await
            .unwrap(),
        CodeCreated::Created("31".into())
    );
}

#[tokio::test]
async fn an_existing_code_is_already_there_and_nothing_is_created() {
    let server = MockServer::start().await;
    coupons_search(
        &server,
        json!({ "items": [coupon(31)], "search_criteria": {}, "total_count": 1 }),
        1,
    )
    .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let d = MagentoDiscounts::new(client(&server.uri()));
    assert_eq!(
        d.create_code(&code(DiscountValue::Percent(15)))
            .await
            .unwrap(),
        CodeCreated::AlreadyExists
    );
}

/// A crash after the rule was made, before its coupon: the retry finds the rule by name
/// and makes only the coupon.
#[tokio::test]
async fn a_retry_reuses_the_rule_of_an_earlier_attempt() {
    let server = MockServer::start().await;
    coupons_search(&server, empty(), 1).await;
    rules_search(
        &server,
        json!({ "items": [{ "rule_id": 17, "name": format!("Aftercare {CODE}") }], "total_count": 1 }),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/rest/V1/salesRules"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/V1/coupons"))
        .and(body_partial_json(
            json!({ "coupon": { "rule_id": 17, "code": CODE } }),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(coupon(32)))
        .expect(1)
        .mount(&server)
        .await;
    let d = MagentoDiscounts::new(client(&server.uri()));
    let made = d
        .create_code(&code(DiscountValue::Amount(Money::new(500, "EUR"))))
        .await
        .unwrap();
    assert_eq!(made, CodeCreated::Created("32".into()));
}

/// The coupon refused as a duplicate (another process made it meanwhile): already there.
#[tokio::test]
async fn a_duplicate_refusal_is_already_there() {
    let server = MockServer::start().await;
    // Not there at first, there after the refusal.
    Mock::given(method("GET"))
        .and(path("/rest/V1/coupons/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(empty()))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    coupons_search(
        &server,
        json!({ "items": [coupon(31)], "total_count": 1 }),
        1,
    )
    .await;
    rules_search(
        &server,
        json!({ "items": [{ "rule_id": 17, "name": format!("Aftercare {CODE}") }] }),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/rest/V1/coupons"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({ "message": "Coupon with the same code already exists." })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let d = MagentoDiscounts::new(client(&server.uri()));
    assert_eq!(
        d.create_code(&code(DiscountValue::Percent(15)))
            .await
            .unwrap(),
        CodeCreated::AlreadyExists
    );
}
