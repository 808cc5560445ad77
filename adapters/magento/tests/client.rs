//! The REST client against the stand-in: paging that cannot skip, locales from the store
//! views, authentication modes, retries that never repeat a write, secrets out of errors.

use std::collections::BTreeMap;

use aftercare::model::OrderId;
use aftercare::platform::{CustomerDirectory, OrderAnnotator, OrderSource};
use aftercare::webhook::Secret;
use aftercare_magento::{Auth, MagentoClient, MagentoConfig, MagentoError};
use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::magento::{State, order, start};
use crate::common::{CONSUMER_SECRET, STORE, TOKEN_SECRET, client, config, fixture_json};

fn since() -> DateTime<Utc> {
    "2026-11-01T00:00:00Z".parse().unwrap()
}

async fn ids(c: &MagentoClient) -> Vec<String> {
    c.updated_since(since())
        .map(|o| o.unwrap().id.as_str().to_owned())
        .collect()
        .await
}

/// Five orders, two per page; after the first page, order 1001 (already yielded) is updated
/// and moves to the end. Asking page 2 by number would then skip 1004 (it slides onto page
/// 1); asking from the last order's time cannot.
#[tokio::test]
async fn an_order_updated_mid_pass_shifts_no_other_past_the_pass() {
    let orders: BTreeMap<String, Value> = (0..5)
        .map(|i| {
            let id = (1001 + i).to_string();
            (id.clone(), order(&id, &format!("2026-11-01 08:0{i}:00")))
        })
        .collect();
    let mut moved = false;
    let (server, fake) = start(State {
        orders,
        store_configs: Some(fixture_json("store_configs.json")),
        after_list: Some(Box::new(move |o: &mut BTreeMap<String, Value>| {
            if !moved {
                moved = true;
                o.get_mut("1001").unwrap()["updated_at"] = json!("2026-11-01 09:00:00");
            }
        })),
        ..State::default()
    })
    .await;
    let c = MagentoClient::new(config(&server.uri()).page_size(2)).unwrap();
    let got = ids(&c).await;
    for id in ["1001", "1002", "1003", "1004", "1005"] {
        assert!(got.contains(&id.to_owned()), "{id} missing from {got:?}");
    }
    // Each list asked by `updated_at gteq`, sorted by time then id.
    let lists: Vec<_> = fake
        .seen()
        .into_iter()
        .filter(|s| s.path == "/rest/V1/orders")
        .collect();
    let q = &lists[0].query;
    assert_eq!(
        q["searchCriteria[filter_groups][0][filters][0][field]"],
        "updated_at"
    );
    assert_eq!(
        q["searchCriteria[filter_groups][0][filters][0][condition_type]"],
        "gteq"
    );
    assert_eq!(
        q["searchCriteria[filter_groups][0][filters][0][value]"],
        "2026-11-01 00:00:00"
    );
    assert_eq!(q["searchCriteria[sortOrders][0][field]"], "updated_at");
    assert_eq!(q["searchCriteria[sortOrders][0][direction]"], "ASC");
    assert_eq!(
        lists[1].query["searchCriteria[filter_groups][0][filters][0][value]"],
        "2026-11-01 08:01:00",
        "the second list starts from the last order's time"
    );
}

/// Magento answers a page past the last with the last page again (magento/magento2#25619):
/// the pass stops by `total_count` and yields each order once.
#[tokio::test]
async fn a_pass_stops_by_total_count() {
    let orders: BTreeMap<String, Value> = (0..3)
        .map(|i| {
            let id = (1001 + i).to_string();
            (id.clone(), order(&id, "2026-11-01 08:00:00"))
        })
        .collect();
    let (server, _) = start(State {
        orders,
        store_configs: Some(fixture_json("store_configs.json")),
        ..State::default()
    })
    .await;
    let c = MagentoClient::new(config(&server.uri()).page_size(2)).unwrap();
    assert_eq!(ids(&c).await, ["1001", "1002", "1003"]);
}

#[tokio::test]
async fn orders_and_customers_get_their_store_views_locale_read_once() {
    let (server, fake) = start(State {
        orders: BTreeMap::from([("42".to_owned(), fixture_json("order.json"))]),
        customers: BTreeMap::from([("3".to_owned(), fixture_json("customer_3.json"))]),
        store_configs: Some(fixture_json("store_configs.json")),
        ..State::default()
    })
    .await;
    let c = client(&server.uri());
    let o = c.order(&OrderId::from("42")).await.unwrap().unwrap();
    assert_eq!(o.locale.as_deref(), Some("es-ES"));
    assert_eq!(o.number, "000000042");
    assert_eq!(o.phone.as_deref(), Some("(555) 229-3326"));
    assert_eq!(
        o.shipping_address.as_ref().unwrap().city.as_deref(),
        Some("Calder")
    );
    let cu = c.customer(&"3".into()).await.unwrap().unwrap();
    assert_eq!(cu.locale.as_deref(), Some("es-ES"));
    assert_eq!(cu.email.as_deref(), Some("jdoe@example.com"));
    assert!(c.order(&OrderId::from("999")).await.unwrap().is_none());
    let reads = fake
        .seen()
        .iter()
        .filter(|s| s.path == "/rest/V1/store/storeConfigs")
        .count();
    assert_eq!(reads, 1);
}

/// A comment POST that reached Magento but answered 500 is not repeated by the client; the
/// retry (the inbox's) reads the comment back and writes nothing.
#[tokio::test]
async fn a_comment_is_never_written_twice() {
    let (server, fake) = start(State {
        orders: BTreeMap::from([("1001".to_owned(), order("1001", "2026-11-01 08:00:00"))]),
        fail_next_post_after_write: vec![500],
        ..State::default()
    })
    .await;
    let c = client(&server.uri());
    let id = OrderId::from("1001");
    let err = c
        .append_order_note(&id, "NPS 3: late delivery")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            aftercare::Error::Platform {
                retryable: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(fake.writes(), 1);
    c.append_order_note(&id, "NPS 3: late delivery")
        .await
        .unwrap();
    assert_eq!(fake.writes(), 1, "the retry found the comment");
    let posts = fake.seen().iter().filter(|s| s.method == "POST").count();
    assert_eq!(posts, 1);
    // Comments are private and keep the order's status.
    let st = fake.state();
    let h = &st.orders["1001"]["status_histories"][0];
    assert_eq!(h["is_customer_notified"], json!(0));
    assert_eq!(h["is_visible_on_front"], json!(0));
    assert_eq!(h["status"], json!("processing"));
}

#[tokio::test]
async fn tags_and_fields_are_comments_written_when_new() {
    let (server, fake) = start(State {
        orders: BTreeMap::from([("1001".to_owned(), order("1001", "2026-11-01 08:00:00"))]),
        ..State::default()
    })
    .await;
    let c = client(&server.uri());
    let id = OrderId::from("1001");
    let t = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    c.add_order_tags(&id, &t(&["a", "b"])).await.unwrap();
    c.add_order_tags(&id, &t(&["b", "c"])).await.unwrap();
    c.set_order_metafield(&id, "aftercare", "nps", "3")
        .await
        .unwrap();
    c.set_order_metafield(&id, "aftercare", "nps", "3")
        .await
        .unwrap();
    c.set_order_metafield(&id, "aftercare", "nps", "9")
        .await
        .unwrap();
    assert_eq!(fake.writes(), 4);
    let st = fake.state();
    let comments: Vec<&str> = st.orders["1001"]["status_histories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["comment"].as_str().unwrap())
        .collect();
    assert_eq!(
        comments,
        [
            "[aftercare] aftercare.nps = 9",
            "[aftercare] aftercare.nps = 3",
            "[aftercare] tags: c",
            "[aftercare] tags: a, b"
        ]
    );
}

#[tokio::test]
async fn a_bearer_token_is_sent_as_documented() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/default/V1/orders/42"))
        .and(header("authorization", "Bearer admin-token-123"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture_json("order.json")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/default/V1/store/storeConfigs"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture_json("store_configs.json")))
        .mount(&server)
        .await;
    let cfg = MagentoConfig::new(STORE, Auth::Bearer(Secret::from("admin-token-123")))
        .unwrap()
        .store_code("default")
        .base_url(server.uri().parse().unwrap())
        .unpaced();
    let c = MagentoClient::new(cfg).unwrap();
    assert!(c.order(&OrderId::from("42")).await.unwrap().is_some());
}

#[tokio::test]
async fn secrets_stay_out_of_errors_and_debug() {
    // Another consumer key: the stand-in refuses with Magento's 401.
    let (server, _) = start(State::default()).await;
    let auth = Auth::OAuth1(aftercare_magento::OAuth1::new(
        "wrong-key",
        CONSUMER_SECRET,
        "at",
        TOKEN_SECRET,
    ));
    let cfg = MagentoConfig::new(STORE, auth)
        .unwrap()
        .base_url(server.uri().parse().unwrap())
        .unpaced();
    let dbg = format!("{cfg:?}");
    let c = MagentoClient::new(cfg).unwrap();
    let err = c.order(&OrderId::from("42")).await.unwrap_err();
    let text = format!("{err} {err:?} {dbg} {c:?}");
    assert!(
        text.contains("isn't authorized to access Magento_Sales::actions_view"),
        "{text}"
    );
    for secret in [CONSUMER_SECRET, TOKEN_SECRET] {
        assert!(!text.contains(secret), "{text}");
    }
    let bearer = format!("{:?}", Auth::Bearer(Secret::from("admin-token-123")));
    assert!(!bearer.contains("admin-token-123"));
}

#[test]
fn a_plain_http_store_is_refused_unless_a_base_url_is_set() {
    let auth = Auth::Bearer(Secret::from("t"));
    let cfg = MagentoConfig::new("http://shop.example/", auth).unwrap();
    assert!(matches!(
        MagentoClient::new(cfg),
        Err(MagentoError::Config(_))
    ));
    let incomplete = Auth::OAuth1(aftercare_magento::OAuth1::new("ck", "", "at", "ts"));
    assert!(MagentoConfig::new(STORE, incomplete).is_err());
}
