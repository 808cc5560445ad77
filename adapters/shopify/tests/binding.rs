//! A verified body is bound to what it claims to be (issue: a signed body replayed under
//! another topic must never erase data). Shopify's HMAC covers the body only: the topic and
//! the shop headers are claims the body must bear out.

use aftercare::model::PlatformEvent;
use aftercare::store::InboxEntry;
use aftercare::webhook::{RawHeaders, Rejection, Secret, WebhookRequest, WebhookSource};
use aftercare_shopify::{ShopifyWebhooks, decode_topic};
use chrono::Utc;

const SHOP: &str = "demo.myshopify.com";

fn body(file: &str) -> Vec<u8> {
    let dir = if file == "shopify_order_fulfilled.json" {
        "benches/fixtures"
    } else {
        "tests/fixtures"
    };
    std::fs::read(format!("{}/{dir}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Each documented payload, with the topics it is the body of.
const NATIVE: &[(&str, &[&str])] = &[
    (
        "orders_create.json",
        &[
            "orders/create",
            "orders/paid",
            "orders/updated",
            "orders/cancelled",
            "orders/fulfilled",
            "orders/partially_fulfilled",
        ],
    ),
    (
        "shopify_order_fulfilled.json",
        &[
            "orders/create",
            "orders/paid",
            "orders/updated",
            "orders/cancelled",
            "orders/fulfilled",
            "orders/partially_fulfilled",
        ],
    ),
    (
        "fulfillments_create.json",
        &["fulfillments/create", "fulfillments/update"],
    ),
    (
        "fulfillments_update_unknown_status.json",
        &["fulfillments/create", "fulfillments/update"],
    ),
    (
        "fulfillment_events_create.json",
        &["fulfillment_events/create"],
    ),
    (
        "customers_update.json",
        &["customers/create", "customers/update"],
    ),
    ("customers_redact.json", &["customers/redact"]),
    ("customers_data_request.json", &["customers/data_request"]),
    ("shop_redact.json", &["shop/redact"]),
    ("app_uninstalled.json", &["app/uninstalled"]),
];

const TOPICS: &[&str] = &[
    "orders/create",
    "orders/paid",
    "orders/updated",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/partially_fulfilled",
    "fulfillments/create",
    "fulfillments/update",
    "fulfillment_events/create",
    "customers/create",
    "customers/update",
    "app/uninstalled",
    "customers/data_request",
    "customers/redact",
    "shop/redact",
];

#[test]
fn every_documented_payload_decodes_under_its_own_topics() {
    for (file, topics) in NATIVE {
        for topic in *topics {
            let events = decode_topic(topic, Some(SHOP), &body(file))
                .unwrap_or_else(|e| panic!("{file} as {topic}: {e}"));
            assert!(
                !events.is_empty()
                    && events
                        .iter()
                        .all(|e| !matches!(e, PlatformEvent::Unrecognized { .. })),
                "{file} as {topic}"
            );
        }
    }
}

/// Every documented payload posted under every topic it is not the body of is a decode
/// error (dead letter with the reason), never an event: a fulfillment replayed as
/// `shop/redact`, an order as `customers/redact`, a customer as `orders/cancelled`...
#[test]
fn every_payload_under_a_foreign_topic_is_refused() {
    let mut accepted = Vec::new();
    for (file, own) in NATIVE {
        for topic in TOPICS.iter().filter(|t| !own.contains(t)) {
            match decode_topic(topic, Some(SHOP), &body(file)) {
                Err(aftercare::Error::Decode { message, .. }) => {
                    assert!(!message.is_empty(), "{file} as {topic}: no reason");
                }
                Err(e) => panic!("{file} as {topic}: not a decode error: {e}"),
                Ok(events) => accepted.push(format!("{file} as {topic}: {events:?}")),
            }
        }
    }
    assert!(accepted.is_empty(), "accepted:\n{}", accepted.join("\n"));
}

#[test]
fn privacy_payloads_require_their_documented_fields() {
    let cases: &[(&str, &str)] = &[
        ("shop/redact", r#"{}"#),
        ("shop/redact", r#"{"shop_domain":"demo.myshopify.com"}"#),
        ("shop/redact", r#"{"shop_id":954889}"#),
        ("shop/redact", r#"{"shop_id":954889,"shop_domain":""}"#),
        ("shop/redact", r#"{"shop_id":954889,"shop_domain":null}"#),
        (
            "customers/redact",
            r#"{"shop_id":954889,"shop_domain":"demo.myshopify.com","orders_to_redact":[1]}"#,
        ),
        (
            "customers/redact",
            r#"{"shop_id":954889,"shop_domain":"demo.myshopify.com","customer":{"email":"a@b.c"},"orders_to_redact":[1]}"#,
        ),
        (
            "customers/redact",
            r#"{"shop_id":954889,"shop_domain":"demo.myshopify.com","customer":{"id":1}}"#,
        ),
        (
            "customers/data_request",
            r#"{"shop_id":954889,"shop_domain":"demo.myshopify.com","customer":{"id":1}}"#,
        ),
        ("app/uninstalled", r#"{"id":548380009}"#),
        (
            "app/uninstalled",
            r#"{"myshopify_domain":"demo.myshopify.com"}"#,
        ),
    ];
    for (topic, b) in cases {
        assert!(
            matches!(
                decode_topic(topic, Some(SHOP), b.as_bytes()),
                Err(aftercare::Error::Decode { .. })
            ),
            "{topic} {b}"
        );
    }
    // An empty list is a list: a customer with no orders is still redacted.
    let ev = decode_topic(
        "customers/redact",
        Some(SHOP),
        br#"{"shop_id":954889,"shop_domain":"demo.myshopify.com","customer":{"id":1,"email":null,"phone":null},"orders_to_redact":[]}"#,
    )
    .unwrap();
    assert!(
        matches!(&ev[0], PlatformEvent::CustomerRedactRequested { orders, .. } if orders.is_empty())
    );
}

#[test]
fn a_body_naming_another_shop_than_its_header_is_refused() {
    for (topic, file) in [
        ("shop/redact", "shop_redact.json"),
        ("customers/redact", "customers_redact.json"),
        ("customers/data_request", "customers_data_request.json"),
        ("app/uninstalled", "app_uninstalled.json"),
    ] {
        let err = decode_topic(topic, Some("victim.myshopify.com"), &body(file)).unwrap_err();
        assert!(err.to_string().contains("victim.myshopify.com"), "{err}");
        // Case does not matter in a domain.
        assert!(decode_topic(topic, Some("DEMO.myshopify.com"), &body(file)).is_ok());
    }
}

#[test]
fn order_bodies_must_state_the_order_they_are() {
    // The id and the stated global id disagree.
    let b = br#"{"id":1,"order_number":1001,"admin_graphql_api_id":"gid://shopify/Order/2"}"#;
    assert!(decode_topic("orders/cancelled", Some(SHOP), b).is_err());
    // Another resource's global id.
    let b = br#"{"id":1,"order_number":1001,"admin_graphql_api_id":"gid://shopify/DraftOrder/1"}"#;
    assert!(decode_topic("orders/cancelled", Some(SHOP), b).is_err());
    // A prefix is not the id.
    let b = br#"{"id":1,"order_number":1001,"admin_graphql_api_id":"gid://shopify/Order/12"}"#;
    assert!(decode_topic("orders/cancelled", Some(SHOP), b).is_err());
    let b = br#"{"id":1,"order_number":1001,"admin_graphql_api_id":"gid://shopify/Order/1"}"#;
    assert!(decode_topic("orders/cancelled", Some(SHOP), b).is_ok());
}

fn signed(src: &ShopifyWebhooks, shop: &str, body: &[u8]) -> RawHeaders {
    src.sign_for_test("orders/create", shop, "w-1", body)
}

#[test]
fn a_bound_source_refuses_another_shops_webhook_before_storing() {
    let src = ShopifyWebhooks::new(Secret::from("app secret")).for_shop("Demo.myshopify.com");
    let b = body("orders_create.json");
    let ok = src.verify(&WebhookRequest::new(
        &signed(&src, SHOP, &b),
        &b,
        Utc::now(),
    ));
    assert!(ok.is_ok(), "{ok:?}");
    let err = src
        .verify(&WebhookRequest::new(
            &signed(&src, "other.myshopify.com", &b),
            &b,
            Utc::now(),
        ))
        .unwrap_err();
    assert_eq!(
        err,
        Rejection::WrongAccount {
            what: "shop",
            claimed: "other.myshopify.com".into()
        }
    );
    assert_eq!(err.status(), 403);
}

#[test]
fn a_bound_source_dead_letters_a_stored_entry_of_another_shop() {
    let src = ShopifyWebhooks::new(Secret::from("app secret")).for_shop(SHOP);
    let entry = {
        let mut entry = InboxEntry::new(
            1,
            "shopify",
            "k",
            br#"{"shop_id":1,"shop_domain":"other.myshopify.com"}"#.to_vec(),
            Utc::now(),
        );
        entry.topic = Some("shop/redact".into());
        entry.shop = Some("other.myshopify.com".into());
        entry.meta = Default::default();
        entry.attempts = 1;
        entry.next_attempt_at = Utc::now();
        entry
    };
    assert!(matches!(
        src.decode(&entry),
        Err(aftercare::Error::Decode { .. })
    ));
}
