//! The platform traits on the client against stand-ins of the store's API: paging by
//! modification time, the quota, single orders, shipments, customers and idempotent
//! write-back.

use std::time::Duration;

use aftercare::model::{CustomerId, OrderId, ShipmentStatus};
use aftercare::platform::{CustomerDirectory, OrderAnnotator, OrderSource};
use aftercare_bigcommerce::{BigCommerceClient, DEFAULT_NAMESPACE, TAGS_KEY};
use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use serde_json::json;
use wiremock::matchers::{any, method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::standin::{OrdersApi, WritesApi};
use crate::common::{
    STORE, api, client, config, customers_json, get_ok, mount_order, order_json, shipments_json,
};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

async fn orders_server(api: &OrdersApi) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(crate::common::api("v2/orders")))
        .respond_with(api.clone())
        .mount(&server)
        .await;
    server
}

async fn collect(c: &BigCommerceClient, since: &str) -> Vec<String> {
    c.updated_since(t(since))
        .map(|o| o.unwrap().id.as_str().to_owned())
        .collect()
        .await
}

fn orders(n: usize) -> Vec<(String, DateTime<Utc>)> {
    (0..n)
        .map(|i| {
            (
                (100 + i).to_string(),
                t("2026-11-01T08:00:00Z") + chrono::Duration::minutes(i as i64),
            )
        })
        .collect()
}

#[tokio::test]
async fn updated_since_reads_every_order_once_oldest_first() {
    let api = OrdersApi::new(orders(7));
    let server = orders_server(&api).await;
    let c = BigCommerceClient::new(config(&server).page_size(3)).unwrap();
    let got = collect(&c, "2026-11-01T00:00:00.750Z").await;
    assert_eq!(got, ["100", "101", "102", "103", "104", "105", "106"]);
    let q = api.state().queries.clone();
    // Whole seconds, ISO 8601; each page starts at the newest modification seen.
    assert_eq!(q[0], ("2026-11-01T00:00:00+00:00".to_owned(), 1, 3));
    assert_eq!(q[1], ("2026-11-01T08:02:00+00:00".to_owned(), 1, 3));
    assert_eq!(q.len(), 4, "{q:?}");
    // The orders carry their modification time for the poller's cursor.
    let first = c
        .updated_since(t("2026-11-01T00:00:00Z"))
        .next()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.updated_at, Some(t("2026-11-01T08:00:00Z")));
    assert_eq!(first.shop.as_ref().map(|s| s.as_str()), Some(STORE));
}

#[tokio::test]
async fn an_order_modified_during_the_pass_shifts_no_unread_order_away() {
    // Page-number paging would miss an order here: order 101 (already read) is modified
    // after the first page and moves to the end of the sort, so every later order moves one
    // place up — 103 onto the page already read.
    let api = OrdersApi::new(orders(7));
    let mut moved = false;
    api.state().after_page = Some(Box::new(move |orders| {
        if !moved {
            moved = true;
            if let Some(o) = orders.iter_mut().find(|(id, _)| id == "101") {
                o.1 = t("2026-11-01T09:00:00Z");
            }
        }
    }));
    let server = orders_server(&api).await;
    let c = BigCommerceClient::new(config(&server).page_size(3)).unwrap();
    let got = collect(&c, "2026-11-01T00:00:00Z").await;
    for id in ["100", "101", "102", "103", "104", "105", "106"] {
        assert!(got.contains(&id.to_owned()), "{id} missing from {got:?}");
    }
    assert_eq!(
        got.last().map(String::as_str),
        Some("101"),
        "its new version comes last"
    );
}

#[tokio::test]
async fn a_page_of_orders_modified_in_one_second_moves_on_by_page_number() {
    let same = t("2026-11-01T08:00:00Z");
    let list: Vec<(String, DateTime<Utc>)> = (0..5)
        .map(|i| ((200 + i).to_string(), same))
        .chain([("300".to_owned(), t("2026-11-01T08:00:01Z"))])
        .collect();
    let api = OrdersApi::new(list);
    let server = orders_server(&api).await;
    let c = BigCommerceClient::new(config(&server).page_size(2)).unwrap();
    let got = collect(&c, "2026-11-01T00:00:00Z").await;
    assert_eq!(got, ["200", "201", "202", "203", "204", "300"]);
}

#[tokio::test]
async fn no_content_ends_the_pass() {
    let api = OrdersApi::new(Vec::new());
    let server = orders_server(&api).await;
    let c = client(&server);
    assert!(collect(&c, "2026-11-01T00:00:00Z").await.is_empty());
    assert_eq!(api.state().queries.len(), 1);
}

#[tokio::test]
async fn a_failing_page_ends_the_pass_with_a_retryable_error() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let c = client(&server);
    let got: Vec<_> = c.updated_since(t("2026-11-01T00:00:00Z")).collect().await;
    assert_eq!(got.len(), 1);
    assert!(got[0].as_ref().is_err_and(aftercare::Error::is_retryable));
}

#[tokio::test]
async fn nothing_left_in_the_window_waits_for_its_reset() {
    let server = MockServer::start().await;
    // One response says the window is used up and resets in 300 ms.
    Mock::given(method("GET"))
        .and(path(api("v2/orders/250")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(order_json("250", 11, "USD", "1.0000"))
                .insert_header("X-Rate-Limit-Time-Window-Ms", "30000")
                .insert_header("X-Rate-Limit-Time-Reset-Ms", "300")
                .insert_header("X-Rate-Limit-Requests-Quota", "150")
                .insert_header("X-Rate-Limit-Requests-Left", "0"),
        )
        .mount(&server)
        .await;
    get_ok(&server, "v2/orders/250/products", json!([])).await;
    get_ok(&server, "v2/orders/250/shipping_addresses", json!([])).await;
    let c = client(&server);
    let start = std::time::Instant::now();
    let o = c.order(&OrderId::from("250")).await.unwrap().unwrap();
    assert_eq!(o.id.as_str(), "250");
    assert!(
        start.elapsed() >= Duration::from_millis(300),
        "the next request waited for the reset: {:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn one_order_with_lines_and_shipping_address() {
    let server = MockServer::start().await;
    mount_order(
        &server,
        "250",
        order_json("250", 2, "EUR", "10.5000"),
        shipments_json("250"),
    )
    .await;
    get_ok(
        &server,
        "v2/orders/250/shipping_addresses",
        crate::common::json_fixture("api_order_shipping_addresses.json"),
    )
    .await;
    let c = client(&server);
    let o = c.order(&OrderId::from("250")).await.unwrap().unwrap();
    assert_eq!(o.total.unwrap().minor_units, 1050);
    assert_eq!(o.line_items.len(), 2);
    let a = o.shipping_address.unwrap();
    assert_eq!(a.city.as_deref(), Some("San Antonio"));
    assert_eq!(a.lines, ["666 Sussex St"]);
    assert_eq!(a.province_code.as_deref(), Some("Texas"));
    // A missing order and an id that cannot be BigCommerce's.
    assert!(c.order(&OrderId::from("999")).await.unwrap().is_none());
    let before = server.received_requests().await.unwrap().len();
    assert!(
        c.order(&OrderId::from("../v3/hooks"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        before,
        "no request for a bad id"
    );
}

#[tokio::test]
async fn an_orders_shipments_take_its_status() {
    let server = MockServer::start().await;
    mount_order(
        &server,
        "250",
        order_json("250", 10, "USD", "1.0000"),
        shipments_json("250"),
    )
    .await;
    mount_order(
        &server,
        "251",
        order_json("251", 2, "USD", "1.0000"),
        json!([]),
    )
    .await;
    let c = client(&server);
    let s = c.shipments(&OrderId::from("250")).await.unwrap();
    assert_eq!(s.len(), 2);
    assert!(s.iter().all(|s| s.status == ShipmentStatus::Delivered));
    assert!(
        c.shipments(&OrderId::from("251")).await.unwrap().is_empty(),
        "204: none"
    );
    assert!(c.shipments(&OrderId::from("404")).await.unwrap().is_empty());
}

#[tokio::test]
async fn customers_by_id() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(api("v3/customers")))
        .and(wiremock::matchers::query_param("id:in", "32"))
        .respond_with(ResponseTemplate::new(200).set_body_json(customers_json("32")))
        .mount(&server)
        .await;
    get_ok(&server, "v3/customers", json!({"data": [], "meta": {}})).await;
    let c = client(&server);
    let cu = c.customer(&CustomerId::from("32")).await.unwrap().unwrap();
    assert_eq!(cu.last_name.as_deref(), Some("Smith"));
    assert!(c.customer(&CustomerId::from("33")).await.unwrap().is_none());
}

async fn writes_server(w: &WritesApi) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path_regex("^/stores/abc123/"))
        .respond_with(w.clone())
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_note_line_is_appended_once_and_kept_with_the_others() {
    let w = WritesApi::default();
    w.state()
        .staff_notes
        .insert("250".into(), "Send Saturday".into());
    let server = writes_server(&w).await;
    let c = client(&server);
    let order = OrderId::from("250");
    c.append_order_note(&order, "NPS 3: late delivery")
        .await
        .unwrap();
    c.append_order_note(&order, "NPS 3: late delivery")
        .await
        .unwrap();
    c.append_order_note(&order, "  NPS 3: late delivery ")
        .await
        .unwrap();
    assert_eq!(
        w.state().staff_notes["250"],
        "Send Saturday\nNPS 3: late delivery"
    );
    assert_eq!(w.state().puts, 1, "written once");
    assert!(matches!(
        c.append_order_note(&OrderId::from("999"), "x").await,
        Err(aftercare::Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn tags_live_in_one_metafield_created_once_then_updated() {
    let w = WritesApi::default();
    let server = writes_server(&w).await;
    let c = client(&server);
    let order = OrderId::from("250");
    c.add_order_tags(&order, &["aftercare-detractor".into()])
        .await
        .unwrap();
    c.add_order_tags(&order, &["aftercare-detractor".into()])
        .await
        .unwrap();
    c.add_order_tags(&order, &["aftercare-detractor".into(), "late".into()])
        .await
        .unwrap();
    {
        let s = w.state();
        assert_eq!(s.posts, 1, "created once");
        assert_eq!(s.puts, 1, "the second tag updates the same metafield");
        assert_eq!(s.metafields.len(), 1);
        let m = &s.metafields[0];
        assert_eq!(
            (m.1.as_str(), m.2.as_str(), m.3.as_str()),
            ("orders/250", DEFAULT_NAMESPACE, TAGS_KEY)
        );
        assert_eq!(m.4, "aftercare-detractor,late");
    }
    assert!(matches!(
        c.add_order_tags(&order, &["a,b".into()]).await,
        Err(aftercare::Error::Config(_))
    ));
    c.add_customer_tags(&CustomerId::from("32"), &["promoter".into()])
        .await
        .unwrap();
    assert!(
        w.state()
            .metafields
            .iter()
            .any(|m| m.1 == "customers/32" && m.4 == "promoter")
    );
}

#[tokio::test]
async fn a_metafield_is_updated_in_place_never_created_twice() {
    let w = WritesApi::default();
    let server = writes_server(&w).await;
    let c = client(&server);
    let order = OrderId::from("250");
    c.set_order_metafield(&order, "aftercare", "nps", "3")
        .await
        .unwrap();
    c.set_order_metafield(&order, "aftercare", "nps", "3")
        .await
        .unwrap();
    let counts = |w: &WritesApi| {
        let s = w.state();
        (s.posts, s.puts, s.changes)
    };
    assert_eq!(counts(&w), (1, 0, 1));
    c.set_order_metafield(&order, "aftercare", "nps", "9")
        .await
        .unwrap();
    assert_eq!(counts(&w), (1, 1, 2));
    assert_eq!(w.state().metafields.len(), 1);
    assert_eq!(w.state().metafields[0].4, "9");
    // Another key is another metafield.
    c.set_order_metafield(&order, "aftercare", "csat", "4")
        .await
        .unwrap();
    assert_eq!(w.state().metafields.len(), 2);
}

#[tokio::test]
async fn a_metafield_created_by_someone_else_meanwhile_is_updated() {
    let w = WritesApi::default();
    w.state().race_next_post = true;
    let server = writes_server(&w).await;
    let c = client(&server);
    c.set_order_metafield(&OrderId::from("250"), "aftercare", "nps", "3")
        .await
        .unwrap();
    let s = w.state();
    assert_eq!(s.metafields.len(), 1);
    assert_eq!(s.metafields[0].4, "3", "the 409 led to an update of theirs");
}

#[tokio::test]
async fn the_documented_order_list_reads() {
    let server = MockServer::start().await;
    get_ok(
        &server,
        "v2/orders",
        crate::common::json_fixture("api_orders.json"),
    )
    .await;
    let c = client(&server);
    let got: Vec<_> = c
        .updated_since(t("2018-01-01T00:00:00Z"))
        .collect::<Vec<_>>()
        .await;
    assert_eq!(got.len(), 1, "{got:?}");
    let o = got[0].as_ref().unwrap();
    assert_eq!(o.id.as_str(), "100");
    assert_eq!(o.total.as_ref().unwrap().minor_units, 36195);
    assert_eq!(o.updated_at, Some(t("2018-12-05T20:16:55Z")));
    assert_eq!(o.locale.as_deref(), Some("en"));
    assert!(o.line_items.is_empty(), "lists carry no lines");
}
