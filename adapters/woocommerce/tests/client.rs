//! The REST client against the stand-in: query and auth, paging by modification time,
//! retries, 429s, secrets kept out of errors, shipments, customers, write-back.

use std::collections::BTreeMap;
use std::time::Duration;

use aftercare::model::{CustomerId, OrderId, ShipmentStatus};
use aftercare::platform::{CustomerDirectory, OrderAnnotator, OrderSource};
use aftercare_woocommerce::{Auth, WooClient, WooConfig};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use serde_json::{Value, json};

use crate::common::woo::{State, order, start};
use crate::common::{CONSUMER_KEY, CONSUMER_SECRET, SITE, client, config, fixture_json};

fn orders(n: usize) -> BTreeMap<String, Value> {
    (0..n)
        .map(|i| {
            let id = (3001 + i).to_string();
            let o = order(&id, &format!("2026-11-01T08:{:02}:00", i));
            (id, o)
        })
        .collect()
}

async fn ids(c: &WooClient, since: &str) -> Result<Vec<String>, aftercare::Error> {
    let since: DateTime<Utc> = since.parse().unwrap();
    c.updated_since(since)
        .map(|o| o.map(|o| o.id.as_str().to_owned()))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

#[tokio::test]
async fn listing_asks_by_gmt_modification_time_with_basic_auth() {
    let (server, fake) = start(State {
        orders: orders(5),
        ..State::default()
    })
    .await;
    let c = client(&server.uri());
    // 08:01:30 → orders modified at or after 08:01:30 (to the second): 08:02 onwards.
    assert_eq!(
        ids(&c, "2026-11-01T08:01:30Z").await.unwrap(),
        ["3003", "3004", "3005"]
    );
    let seen = fake.seen();
    let first = &seen[0];
    assert_eq!(first.path, "/wp-json/wc/v3/orders");
    let q = &first.query;
    assert_eq!(
        q["modified_after"], "2026-11-01T08:01:29",
        "GMT, no offset, exclusive"
    );
    assert_eq!(q["dates_are_gmt"], "true");
    assert_eq!(q["orderby"], "modified");
    assert_eq!(q["order"], "asc");
    assert_eq!(q["per_page"], "100");
    assert!(!q.contains_key("consumer_secret"));
    let want = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{CONSUMER_KEY}:{CONSUMER_SECRET}"))
    );
    assert_eq!(first.authorization.as_deref(), Some(want.as_str()));
}

#[tokio::test]
async fn every_page_is_read_in_order_of_modification() {
    let (server, fake) = start(State {
        orders: orders(7),
        ..State::default()
    })
    .await;
    let c = WooClient::new(config(&server.uri()).page_size(3)).unwrap();
    assert_eq!(
        ids(&c, "2026-11-01T00:00:00Z").await.unwrap(),
        ["3001", "3002", "3003", "3004", "3005", "3006", "3007"]
    );
    // Each next page is asked for from the last order's second, from page 1.
    let anchors: Vec<String> = fake
        .seen()
        .iter()
        .map(|s| s.query["modified_after"].clone())
        .collect();
    assert_eq!(anchors[1], "2026-11-01T08:01:59", "{anchors:?}");
}

#[tokio::test]
async fn an_order_modified_during_the_pass_does_not_hide_another() {
    // After the first page is served, order 3001 is modified: with `orderby=modified` it
    // moves to the end and every later order shifts one place forward. Asking for page 2
    // by number would skip 3003; asking from the last order's time does not.
    let (server, _fake) = start(State {
        orders: orders(5),
        after_list: Some(Box::new({
            let mut done = false;
            move |orders: &mut BTreeMap<String, Value>| {
                if !done {
                    done = true;
                    orders.get_mut("3001").unwrap()["date_modified_gmt"] =
                        json!("2026-11-01T09:00:00");
                }
            }
        })),
        ..State::default()
    })
    .await;
    let c = WooClient::new(config(&server.uri()).page_size(2)).unwrap();
    let got = ids(&c, "2026-11-01T00:00:00Z").await.unwrap();
    for id in ["3001", "3002", "3003", "3004", "3005"] {
        assert!(got.contains(&id.to_owned()), "{id} missing from {got:?}");
    }
    assert_eq!(
        got.iter().filter(|i| *i == "3001").count(),
        2,
        "3001 twice: two states, {got:?}"
    );
}

#[tokio::test]
async fn a_version_refusing_orderby_modified_is_paged_by_date() {
    let (server, fake) = start(State {
        orders: orders(5),
        refuse_orderby_modified: true,
        ..State::default()
    })
    .await;
    let c = WooClient::new(config(&server.uri()).page_size(2)).unwrap();
    let got = ids(&c, "2026-11-01T00:00:00Z").await.unwrap();
    assert_eq!(got, ["3001", "3002", "3003", "3004", "3005"]);
    let seen = fake.seen();
    assert_eq!(seen[0].query["orderby"], "modified");
    assert!(seen[1..].iter().all(|s| s.query["orderby"] == "date"));
}

#[tokio::test]
async fn query_string_auth_sends_no_authorization_header() {
    let (server, fake) = start(State {
        orders: orders(1),
        ..State::default()
    })
    .await;
    let c = WooClient::new(config(&server.uri()).auth(Auth::QueryString)).unwrap();
    assert_eq!(
        c.order(&OrderId::from("3001"))
            .await
            .unwrap()
            .unwrap()
            .number,
        "3001"
    );
    let s = &fake.seen()[0];
    assert_eq!(s.authorization, None);
    assert_eq!(s.query["consumer_key"], CONSUMER_KEY);
    assert_eq!(s.query["consumer_secret"], CONSUMER_SECRET);
}

#[tokio::test]
async fn server_errors_are_retried_then_reported_as_retryable() {
    let (server, fake) = start(State {
        orders: orders(1),
        fail_next: vec![(500, None), (503, Some("0"))],
        ..State::default()
    })
    .await;
    let c = client(&server.uri());
    assert!(c.order(&OrderId::from("3001")).await.unwrap().is_some());
    assert_eq!(fake.seen().len(), 3, "two failures, then the answer");

    let (server, fake) = start(State {
        orders: orders(1),
        fail_next: vec![(500, None); 10],
        ..State::default()
    })
    .await;
    let e = client(&server.uri())
        .order(&OrderId::from("3001"))
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert_eq!(fake.seen().len(), 3, "the retry policy's 3 attempts");
    // A missing order is not an error; a refused key is, and not retryable.
    let (server, _) = start(State::default()).await;
    assert!(
        client(&server.uri())
            .order(&OrderId::from("9"))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_post_that_may_have_reached_the_site_is_not_retried_and_the_note_is_written_once() {
    let (server, fake) = start(State {
        orders: BTreeMap::from([("1001".to_owned(), order("1001", "2026-11-01T08:00:00"))]),
        fail_next_post: vec![500],
        ..State::default()
    })
    .await;
    let c = WooClient::new(
        config(&server.uri()).timeouts(Duration::from_millis(300), Duration::from_secs(1)),
    )
    .unwrap();
    let id = OrderId::from("1001");
    let posts = || fake.seen().iter().filter(|s| s.method == "POST").count();
    // A 500 to the POST: not retried by the client, a retryable error for the caller.
    let e = c
        .append_order_note(&id, "NPS 3: late delivery")
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert_eq!((posts(), fake.writes()), (1, 0));
    // The POST is written but its answer times out: not retried either.
    fake.state().delay_next_post = Some(Duration::from_secs(2));
    let e = c
        .append_order_note(&id, "NPS 3: late delivery")
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert_eq!((posts(), fake.writes()), (2, 1));
    // The caller's retry (the inbox's) finds the note and writes nothing.
    c.append_order_note(&id, "NPS 3: late delivery")
        .await
        .unwrap();
    assert_eq!((posts(), fake.writes()), (2, 1));
}

#[tokio::test]
async fn a_429_waits_for_retry_after() {
    let (server, fake) = start(State {
        orders: orders(1),
        fail_next: vec![(429, Some("1"))],
        ..State::default()
    })
    .await;
    let c = client(&server.uri());
    assert!(c.order(&OrderId::from("3001")).await.unwrap().is_some());
    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    let gap = seen[1].at.duration_since(seen[0].at);
    assert!(
        gap >= Duration::from_secs(1),
        "the retry came after {gap:?}"
    );
}

#[tokio::test]
async fn secrets_stay_out_of_errors_and_debug_output() {
    // Nothing listens on port 9: a connection error, whose text would name the URL.
    let cfg = WooConfig::new(SITE, CONSUMER_KEY, CONSUMER_SECRET)
        .unwrap()
        .base_url("http://127.0.0.1:9/".parse().unwrap())
        .auth(Auth::QueryString)
        .retry_policy(aftercare::backoff::RetryPolicy::new(
            Duration::from_millis(1),
            Duration::from_millis(2),
            2,
        ))
        .unpaced();
    let dbg = format!("{cfg:?}");
    let c = WooClient::new(cfg).unwrap();
    let e = c.order(&OrderId::from("1")).await.unwrap_err().to_string();
    for text in [&e, &dbg, &format!("{c:?}")] {
        assert!(!text.contains(CONSUMER_SECRET), "{text}");
        assert!(!text.contains(CONSUMER_KEY), "{text}");
    }
    assert!(e.contains("fetch order 1"), "{e}");
}

#[test]
fn plain_http_sites_are_refused() {
    let cfg = WooConfig::new("http://shop.example/", CONSUMER_KEY, CONSUMER_SECRET).unwrap();
    assert!(WooClient::new(cfg).is_err());
    let cfg = WooConfig::new("https://shop.example/", CONSUMER_KEY, CONSUMER_SECRET).unwrap();
    assert!(WooClient::new(cfg).is_ok());
}

#[tokio::test]
async fn shipments_come_from_the_tracking_route_or_the_order_meta() {
    let o723 = fixture_json("order_updated_tracking.json");
    let mut tracking = BTreeMap::new();
    tracking.insert("723".to_owned(), fixture_json("tracking_items_723.json"));
    let (server, _) = start(State {
        orders: BTreeMap::from([("723".to_owned(), o723.clone())]),
        tracking: Some(tracking),
        ..State::default()
    })
    .await;
    let from_route = client(&server.uri())
        .shipments(&OrderId::from("723"))
        .await
        .unwrap();
    assert_eq!(from_route.len(), 1);
    let s = &from_route[0];
    assert_eq!(s.id.as_str(), "e5f4a2bb1c8d8f8d1f5b7f4c3c2b1a09");
    assert_eq!(s.carrier.as_deref(), Some("Correios"));
    assert_eq!(s.status, ShipmentStatus::InTransit);
    assert_eq!(
        s.created_at.unwrap().to_rfc3339(),
        "2017-03-21T00:00:00+00:00"
    );

    // Without the extension's route: the meta, and the route is not asked again.
    let (server, fake) = start(State {
        orders: BTreeMap::from([("723".to_owned(), o723)]),
        tracking: None,
        ..State::default()
    })
    .await;
    let c = client(&server.uri());
    let from_meta = c.shipments(&OrderId::from("723")).await.unwrap();
    assert_eq!(from_meta.len(), 1);
    assert_eq!(
        from_meta[0].id, from_route[0].id,
        "the same shipment either way"
    );
    assert_eq!(from_meta[0].updated_at, from_route[0].updated_at);
    c.shipments(&OrderId::from("723")).await.unwrap();
    let route_asks = fake
        .seen()
        .iter()
        .filter(|s| s.path.contains("shipment-trackings"))
        .count();
    assert_eq!(route_asks, 1);
    assert!(c.shipments(&OrderId::from("999")).await.unwrap().is_empty());
}

#[tokio::test]
async fn customers_are_read() {
    let (server, _) = start(State {
        customers: BTreeMap::from([("25".to_owned(), fixture_json("customer_updated.json"))]),
        ..State::default()
    })
    .await;
    let c = client(&server.uri());
    let cu = c.customer(&CustomerId::from("25")).await.unwrap().unwrap();
    assert_eq!(cu.email.as_deref(), Some("john.doe@example.com"));
    assert!(c.customer(&CustomerId::from("26")).await.unwrap().is_none());
}

#[tokio::test]
async fn write_back_is_idempotent() {
    let mut o = order("1001", "2026-11-01T08:00:00");
    o["meta_data"] = json!([{ "id": 1, "key": "aftercare_tags", "value": "vip" }]);
    let (server, fake) = start(State {
        orders: BTreeMap::from([("1001".to_owned(), o)]),
        customers: BTreeMap::from([("25".to_owned(), fixture_json("customer_updated.json"))]),
        notes: BTreeMap::from([(
            "1001".to_owned(),
            vec![json!({ "id": 1, "note": "<p>NPS 3: late &amp; broken</p>", "customer_note": false })],
        )]),
        ..State::default()
    })
    .await;
    let c = client(&server.uri());
    let id = OrderId::from("1001");
    c.add_order_tags(&id, &["VIP".into()]).await.unwrap();
    assert_eq!(fake.writes(), 0, "a tag already there, in another case");
    c.add_order_tags(&id, &["aftercare-detractor".into(), "vip".into()])
        .await
        .unwrap();
    c.add_order_tags(&id, &["aftercare-detractor".into()])
        .await
        .unwrap();
    assert_eq!(fake.writes(), 1);
    let tags = fake.state().orders["1001"]["meta_data"][0]["value"].clone();
    assert_eq!(tags, json!("vip, aftercare-detractor"));
    let put = fake.seen().into_iter().find(|s| s.method == "PUT").unwrap();
    assert_eq!(put.path, "/wp-json/wc/v3/orders/1001");

    c.append_order_note(&id, "NPS 3: late & broken")
        .await
        .unwrap();
    assert_eq!(
        fake.writes(),
        1,
        "the note is there, as WordPress returns it"
    );
    c.set_order_metafield(&id, "aftercare", "nps", "3")
        .await
        .unwrap();
    c.set_order_metafield(&id, "aftercare", "nps", "3")
        .await
        .unwrap();
    assert_eq!(fake.writes(), 2);
    c.add_customer_tags(&CustomerId::from("25"), &["promoter".into()])
        .await
        .unwrap();
    c.add_customer_tags(&CustomerId::from("25"), &["promoter".into()])
        .await
        .unwrap();
    assert_eq!(fake.writes(), 3);
    assert!(
        c.add_order_tags(&OrderId::from("404"), &["x".into()])
            .await
            .is_err()
    );
}
