//! A stand-in for the shop's Admin API (Shopify GraphQL, `api_base_url` in the receiver's
//! configuration), so the tracking flow's reads are real HTTP round trips on loopback:
//! the customer (asked once, then cached by the flow) and each order's shipments (asked for
//! every shipment the webhook leaves without an estimated delivery, as here).
//!
//! Shapes as Shopify's reference shows them: `customer(id:)` with `defaultEmailAddress`
//! (<https://shopify.dev/docs/api/admin-graphql/latest/queries/customer>) and
//! `order(id:)` (<https://shopify.dev/docs/api/admin-graphql/latest/queries/order>), answered
//! `null` here so the flow keeps the webhook's shipment. Its `throttleStatus`
//! (<https://shopify.dev/docs/api/usage/rate-limits>) reports a bucket that never runs dry:
//! the harness measures Aftercare, not Shopify's cost budget (100 points restored per second
//! on Plus, which would hold the shipments query, and so the flow, to a few dozen
//! shipments per second against a real shop).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::http::header;

use super::BoxError;

const CUSTOMER: &str = r#"{"data":{"customer":{"id":"gid://shopify/Customer/115310627314723950","firstName":"Jane","lastName":"Doe","locale":"en","updatedAt":"2024-05-02T14:14:04Z","defaultEmailAddress":{"emailAddress":"jane.doe@example.com","marketingState":"SUBSCRIBED","marketingUpdatedAt":"2024-05-02T14:14:04Z"},"defaultPhoneNumber":null}},"extensions":{"cost":{"requestedQueryCost":2,"actualQueryCost":2,"throttleStatus":{"maximumAvailable":10000000.0,"currentlyAvailable":10000000,"restoreRate":10000000.0}}}}"#;
const NO_ORDER: &str = r#"{"data":{"order":null},"extensions":{"cost":{"requestedQueryCost":3,"actualQueryCost":3,"throttleStatus":{"maximumAvailable":10000000.0,"currentlyAvailable":10000000,"restoreRate":10000000.0}}}}"#;

async fn graphql(body: Bytes) -> ([(header::HeaderName, &'static str); 1], &'static str) {
    let text = String::from_utf8_lossy(&body);
    let answer = if text.contains("AftercareCustomer") {
        CUSTOMER
    } else {
        NO_ORDER
    };
    ([(header::CONTENT_TYPE, "application/json")], answer)
}

/// Serves on a free loopback port until the harness exits; returns the address.
pub(super) async fn start() -> Result<SocketAddr, BoxError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().fallback(axum::routing::post(graphql));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}
