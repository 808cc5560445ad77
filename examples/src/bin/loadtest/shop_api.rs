//! A stand-in for the shop's Admin API (Shopify GraphQL, `api_base_url` in the receiver's
//! configuration), so the tracking flow's reads are real HTTP round trips on loopback:
//! the customer (asked once, then cached by the flow) and the orders' shipments (asked for
//! every shipment the webhook leaves without an estimated delivery, as here: one order by
//! `order(id:)`, or several by `nodes(ids:)`).
//!
//! Shapes as Shopify's reference shows them: `customer(id:)` with `defaultEmailAddress`
//! (<https://shopify.dev/docs/api/admin-graphql/latest/queries/customer>), `order(id:)`
//! (<https://shopify.dev/docs/api/admin-graphql/latest/queries/order>) and `nodes(ids:)`
//! (<https://shopify.dev/docs/api/admin-graphql/latest/queries/nodes>) answered with each
//! order asked, known to the shop with no fulfillment the API adds to the webhook's, so the
//! flow keeps the webhook's shipments. (Answering `null`, an order the shop does not know,
//! made the flow ask again for each order after the batch's request: nothing is cached for
//! an unknown order, and a fulfilled order is not unknown to its shop.) Its
//! `throttleStatus` (<https://shopify.dev/docs/api/usage/rate-limits>) reports a bucket that
//! never runs dry: the harness measures Aftercare, not Shopify's cost budget (100 points
//! restored per second on Plus, which would hold the shipments reads, and so the flow, to a
//! few dozen shipments per second against a real shop). Its `requestedQueryCost` is 3 per
//! order, so the client puts the 250 ids Shopify takes at most into each `nodes` request; a
//! real shop's cost per order decides how many fit in its 1,000 points.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::http::header;

use super::BoxError;

const CUSTOMER: &str = r#"{"data":{"customer":{"id":"gid://shopify/Customer/115310627314723950","firstName":"Jane","lastName":"Doe","locale":"en","updatedAt":"2024-05-02T14:14:04Z","defaultEmailAddress":{"emailAddress":"jane.doe@example.com","marketingState":"SUBSCRIBED","marketingUpdatedAt":"2024-05-02T14:14:04Z"},"defaultPhoneNumber":null}},"extensions":{"cost":{"requestedQueryCost":2,"actualQueryCost":2,"throttleStatus":{"maximumAvailable":10000000.0,"currentlyAvailable":10000000,"restoreRate":10000000.0}}}}"#;
/// The order `id` (a global id) with no fulfillment: `{"id": ..., "fulfillments": []}`.
fn order(id: &serde_json::Value) -> serde_json::Value {
    serde_json::json!({ "id": id, "fulfillments": [] })
}

/// `{"data":{"nodes":[order, ...]}, ...}` for the request's `ids`, or
/// `{"data":{"order": order}, ...}` for its `id`.
fn orders(body: &[u8]) -> String {
    let vars = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("variables").cloned())
        .unwrap_or_default();
    let (data, n) = match vars.get("ids").and_then(|ids| ids.as_array()) {
        Some(ids) => (
            serde_json::json!({ "nodes": ids.iter().map(order).collect::<Vec<_>>() }),
            ids.len(),
        ),
        None => (serde_json::json!({ "order": vars.get("id").map(order) }), 1),
    };
    serde_json::json!({
        "data": data,
        "extensions": {"cost": {"requestedQueryCost": 3 * n, "actualQueryCost": n,
            "throttleStatus": {"maximumAvailable": 10_000_000.0, "currentlyAvailable": 10_000_000, "restoreRate": 10_000_000.0}}}
    })
    .to_string()
}

async fn graphql(body: Bytes) -> ([(header::HeaderName, &'static str); 1], String) {
    let text = String::from_utf8_lossy(&body);
    let answer = if text.contains("AftercareCustomer") {
        CUSTOMER.to_owned()
    } else {
        orders(&body)
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use aftercare::model::OrderId;
    use aftercare::platform::OrderSource;
    use aftercare_shopify::{NODES_MAX_IDS, ShopifyClient, ShopifyConfig};

    #[tokio::test]
    async fn the_client_batches_against_the_stand_in() {
        let addr = super::start().await.unwrap();
        let client = ShopifyClient::new(
            ShopifyConfig::new("loadtest.myshopify.com", "shpat_loadtest")
                .base_url(format!("http://{addr}/").parse().unwrap()),
        )
        .unwrap();
        let ids: Vec<OrderId> = (0..300).map(|i| OrderId::new(i.to_string())).collect();
        let found = client.shipments_many(&ids).await.unwrap();
        assert_eq!(found.len(), 300, "every order known");
        assert!(found.values().all(Vec::is_empty), "with no fulfillment");
        assert_eq!(client.shipments_batch_size(), NODES_MAX_IDS);
        assert!(
            client
                .shipments(&OrderId::new("1"))
                .await
                .unwrap()
                .is_empty()
        );
    }
}
