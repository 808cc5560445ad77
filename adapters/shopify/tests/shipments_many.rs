#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `shipments_many`: several orders' fulfillments in one `nodes(ids:)` request
//! (<https://shopify.dev/docs/api/admin-graphql/latest/queries/nodes>: a list with one entry
//! per id, `null` for an id the shop does not know), answered by wiremock. The order data is
//! `gql_shipments.json`'s (the `Order.fulfillments` page), so a shipment from the batch can
//! be compared with the one `shipments` reads; `extensions.cost` as
//! <https://shopify.dev/docs/api/usage/rate-limits> shows it, with a `requestedQueryCost`
//! proportional to the ids asked.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::common::admin::{GQL_PATH, client, fixture};
use aftercare::model::OrderId;
use aftercare::platform::OrderSource;
use aftercare_shopify::{MAX_QUERY_COST, NODES_MAX_IDS, SHIPMENTS_COST_PER_ORDER};
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The order of `gql_shipments.json`, with three fulfillments.
const SHIPPED: &str = "820982911946154508";
/// An order the shop knows, with no fulfillment yet.
const UNSHIPPED: &str = "450789469";

fn gid(id: &str) -> String {
    format!("gid://shopify/Order/{id}")
}

/// Answers `nodes(ids:)` from the ids asked: the fixture's order, an order without
/// fulfillments, `null` for any other id; `per_id` points of requested cost per id (1 point
/// actually charged per id). Keeps
/// the ids of every request.
struct Nodes {
    per_id: f64,
    asked: Mutex<Vec<Vec<String>>>,
}

impl Nodes {
    fn new(per_id: f64) -> Self {
        Self {
            per_id,
            asked: Mutex::new(Vec::new()),
        }
    }

    fn requests(&self) -> Vec<Vec<String>> {
        self.asked.lock().unwrap().clone()
    }
}

impl Respond for Nodes {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let ids: Vec<String> = body["variables"]["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        self.asked.lock().unwrap().push(ids.clone());
        let order = fixture("gql_shipments.json")["data"]["order"].clone();
        let nodes: Vec<Value> = ids
            .iter()
            .map(|id| {
                if *id == gid(SHIPPED) {
                    order.clone()
                } else if *id == gid(UNSHIPPED) {
                    json!({"id": id, "fulfillments": []})
                } else {
                    Value::Null
                }
            })
            .collect();
        // Requested: what the selection could cost; actual: far less (few fulfillments).
        let requested = self.per_id * ids.len() as f64;
        let actual = ids.len();
        ResponseTemplate::new(200).set_body_json(json!({
            "data": {"nodes": nodes},
            "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 2000, "restoreRate": 100.0}}}
        }))
    }
}

struct Shared(std::sync::Arc<Nodes>);

impl Respond for Shared {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.0.respond(req)
    }
}

async fn serve(server: &MockServer, per_id: f64) -> std::sync::Arc<Nodes> {
    let nodes = std::sync::Arc::new(Nodes::new(per_id));
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .and(body_string_contains("AftercareShipmentsMany"))
        .respond_with(Shared(nodes.clone()))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .and(body_string_contains("query AftercareShipments("))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("gql_shipments.json")))
        .mount(server)
        .await;
    nodes
}

fn orders(n: usize) -> Vec<OrderId> {
    (0..n)
        .map(|i| OrderId::new((1_000_000 + i).to_string()))
        .collect()
}

#[tokio::test]
async fn a_few_orders_are_one_nodes_request_and_unknown_ones_are_absent() {
    let server = MockServer::start().await;
    let nodes = serve(&server, SHIPMENTS_COST_PER_ORDER).await;
    let c = client(&server);
    // Nothing learned yet: as many orders as the documented cost table lets in 1,000 points.
    let chunk = (MAX_QUERY_COST / SHIPMENTS_COST_PER_ORDER) as usize;
    assert_eq!(c.shipments_batch_size(), chunk);
    assert_eq!(chunk, 3);
    let asked = [
        OrderId::new(SHIPPED),
        OrderId::new(UNSHIPPED),
        OrderId::new("1"),
        OrderId::new(SHIPPED),
    ];
    let got = c.shipments_many(&asked).await.unwrap();
    assert_eq!(
        nodes.requests(),
        vec![vec![gid(SHIPPED), gid(UNSHIPPED), gid("1")]],
        "one request; the gids `shipments` sends, each once"
    );
    let request = &server.received_requests().await.unwrap()[0];
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    let query = body["query"].as_str().unwrap();
    assert!(query.contains("nodes(ids: $ids)"), "{query}");
    assert!(
        query.contains("fragment ShipmentFields on Order"),
        "{query}"
    );
    assert_eq!(got.len(), 2, "order 1 is unknown to the shop: absent");
    assert_eq!(got[&OrderId::new(UNSHIPPED)], Vec::new());
    // The same order data read one by one gives the same shipments.
    let one = c.shipments(&OrderId::new(SHIPPED)).await.unwrap();
    assert_eq!(one.len(), 3);
    assert_eq!(got[&OrderId::new(SHIPPED)], one);
    // A gid asked is a key as asked, its shipments as `shipments` reads them.
    let by_gid = c
        .shipments_many(&[OrderId::new(gid(SHIPPED))])
        .await
        .unwrap();
    assert_eq!(by_gid[&OrderId::new(gid(SHIPPED))], one);
    // Nothing asked, nothing sent.
    let before = server.received_requests().await.unwrap().len();
    assert!(c.shipments_many(&[]).await.unwrap().is_empty());
    assert_eq!(server.received_requests().await.unwrap().len(), before);
}

#[tokio::test]
async fn beyond_a_chunk_requests_are_split_by_the_cost_shopify_reports() {
    let server = MockServer::start().await;
    // Shopify's figure matches the guess: 3 orders a request, 7 orders in ⌈7/3⌉ = 3.
    let nodes = serve(&server, SHIPMENTS_COST_PER_ORDER).await;
    let c = client(&server);
    let seven = orders(7);
    c.shipments_many(&seven).await.unwrap();
    let sizes: Vec<usize> = nodes.requests().iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![3, 3, 1]);
    let sent: Vec<String> = nodes.requests().concat();
    assert_eq!(
        sent,
        seven.iter().map(|o| gid(o.as_str())).collect::<Vec<_>>()
    );

    // A cheaper selection than guessed (25 points an order): the first answer teaches it,
    // then 40 orders a request (40 × 25 = 1,000 points).
    let server = MockServer::start().await;
    let nodes = serve(&server, 25.0).await;
    let c = client(&server);
    c.shipments_many(&orders(2)).await.unwrap();
    assert_eq!(c.shipments_batch_size(), 40);
    c.shipments_many(&orders(100)).await.unwrap();
    let sizes: Vec<usize> = nodes.requests()[1..].iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![40, 40, 20], "⌈100/40⌉ requests");
    assert!(
        sizes.iter().all(|n| *n as f64 * 25.0 <= MAX_QUERY_COST),
        "never above the single query limit"
    );

    // Cheaper still (1 point an order): the 250-id input limit decides.
    let server = MockServer::start().await;
    let nodes = serve(&server, 1.0).await;
    let c = client(&server);
    c.shipments_many(&orders(1)).await.unwrap();
    assert_eq!(c.shipments_batch_size(), NODES_MAX_IDS);
    c.shipments_many(&orders(501)).await.unwrap();
    let sizes: Vec<usize> = nodes.requests()[1..].iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![250, 250, 1], "⌈501/250⌉ requests");
}

#[tokio::test]
async fn the_cost_of_one_order_read_by_shipments_sizes_the_first_batch() {
    let server = MockServer::start().await;
    let nodes = serve(&server, 80.0).await;
    let c = client(&server);
    // `gql_shipments.json` reports a requested cost of 80 for one order's fields.
    c.shipments(&OrderId::new(SHIPPED)).await.unwrap();
    assert_eq!(c.shipments_batch_size(), 12);
    c.shipments_many(&orders(24)).await.unwrap();
    assert_eq!(nodes.requests().len(), 2);
}

#[tokio::test]
async fn a_throttled_batch_waits_exactly_then_retries() {
    let server = MockServer::start().await;
    // As `throttled_200_waits_exactly_then_retries` for one order: requestedQueryCost 752,
    // currentlyAvailable 666, restoreRate 50 → wait (752 - 666) / 50 = 1.72 s.
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("gql_throttled.json")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let nodes = serve(&server, 250.0).await;
    let c = client(&server);
    let start = Instant::now();
    let got = c
        .shipments_many(&[OrderId::new(SHIPPED), OrderId::new(UNSHIPPED)])
        .await
        .unwrap();
    assert_eq!(got.len(), 2);
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(1720), "{waited:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    assert_eq!(nodes.requests().len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_then_reported_and_4xx_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .respond_with(ResponseTemplate::new(503).set_body_string("Service Unavailable"))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    serve(&server, 10.0).await;
    let got = client(&server)
        .shipments_many(&[OrderId::new(SHIPPED)])
        .await
        .unwrap();
    assert_eq!(got[&OrderId::new(SHIPPED)].len(), 3);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);

    let down = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .respond_with(ResponseTemplate::new(502).set_body_string("Bad Gateway"))
        .mount(&down)
        .await;
    let err = client(&down)
        .shipments_many(&[OrderId::new(SHIPPED), OrderId::new(UNSHIPPED)])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            aftercare::Error::Platform {
                status: Some(502),
                retryable: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        down.received_requests().await.unwrap().len(),
        3,
        "bounded attempts"
    );

    let refused = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})))
        .mount(&refused)
        .await;
    let err = client(&refused)
        .shipments_many(&orders(10))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            aftercare::Error::Platform {
                status: Some(401),
                retryable: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        refused.received_requests().await.unwrap().len(),
        1,
        "the first refusal stops the batch"
    );
}

#[tokio::test]
async fn an_answer_that_does_not_match_the_ids_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"nodes": [null]},
            "extensions": {"cost": {"requestedQueryCost": 20, "actualQueryCost": 2,
                "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1998, "restoreRate": 100.0}}}
        })))
        .mount(&server)
        .await;
    let err = client(&server)
        .shipments_many(&[OrderId::new("1"), OrderId::new("2")])
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("1 nodes answered for 2 ids"),
        "{err}"
    );
}

/// Refuses (HTTP 200 with `errors`, the layout of
/// <https://shopify.dev/docs/api/admin-graphql#status-and-error-codes>) every request of
/// more than `max` ids, as Shopify refuses a query over the single-query cost limit, and
/// answers the others as [`Nodes`] does. The refusal's wording is illustrative: no page
/// found here quotes it.
struct RefusesAbove {
    max: usize,
    nodes: Nodes,
    sizes: Mutex<Vec<usize>>,
}

impl Respond for RefusesAbove {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let n = body["variables"]["ids"].as_array().unwrap().len();
        self.sizes.lock().unwrap().push(n);
        if n > self.max {
            return ResponseTemplate::new(200).set_body_json(json!({"errors": [{
                "message": format!("Query cost is {}, which exceeds the single query max cost limit (1000).", n * 10),
                "extensions": {"code": "MAX_COST_EXCEEDED"}}]}));
        }
        self.nodes.respond(req)
    }
}

#[tokio::test]
async fn a_batch_refused_as_a_whole_is_asked_again_in_halves() {
    let server = MockServer::start().await;
    let refuses = std::sync::Arc::new(RefusesAbove {
        max: 100,
        nodes: Nodes::new(1.0),
        sizes: Mutex::new(Vec::new()),
    });
    struct Arced(std::sync::Arc<RefusesAbove>);
    impl Respond for Arced {
        fn respond(&self, req: &Request) -> ResponseTemplate {
            self.0.respond(req)
        }
    }
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .respond_with(Arced(refuses.clone()))
        .mount(&server)
        .await;
    let c = client(&server);
    // Taught 1 point an order: 250 ids a request, more than this shop takes.
    c.shipments_many(&[OrderId::new(SHIPPED)]).await.unwrap();
    assert_eq!(c.shipments_batch_size(), NODES_MAX_IDS);
    let mut asked = orders(299);
    asked.push(OrderId::new(SHIPPED));
    let got = c.shipments_many(&asked).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[&OrderId::new(SHIPPED)].len(),
        3,
        "every order was asked"
    );
    let sizes = refuses.sizes.lock().unwrap()[1..].to_vec();
    assert_eq!(sizes, vec![250, 125, 62, 62, 62, 62, 52]);
    let answered: Vec<Vec<String>> = refuses.nodes.requests()[1..].to_vec();
    assert_eq!(answered.concat().len(), 300, "each order answered once");

    // An error that is not about size: a few halvings, then the error.
    let broken = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"errors": [{"message": "Field 'nope' doesn't exist on type 'Order'", "extensions": {"code": "undefinedField"}}]})))
        .mount(&broken)
        .await;
    let err = client(&broken)
        .shipments_many(&orders(3))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("doesn't exist"), "{err}");
    assert!(!err.is_retryable());
    assert_eq!(
        broken.received_requests().await.unwrap().len(),
        2,
        "3 ids, then 1: not one request per order"
    );
}
