//! The client against a stand-in of the API as the README documents it ("Authentication",
//! "Making requests", "Rate limiting", "Suspension of API access due to lack of payment").

use std::time::Duration;

use aftercare::model::{CustomerId, OrderId};
use aftercare::platform::{CustomerDirectory, OrderAnnotator, OrderSource};
use aftercare_nuvemshop::{NuvemshopClient, NuvemshopConfig, aftercare_events};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::standin::WritesApi;
use crate::common::{STORE, USER_AGENT, api, client, fast_retry, json_fixture};

#[tokio::test]
async fn requests_carry_the_authentication_header_and_the_user_agent() {
    let server = MockServer::start().await;
    // Note `Authentication`, not `Authorization` (README "Authentication").
    Mock::given(method("GET"))
        .and(path(api("orders/450789469")))
        .and(header("Authentication", "bearer test-token"))
        .and(header("User-Agent", USER_AGENT))
        .respond_with(ResponseTemplate::new(200).set_body_json(json_fixture("api_order.json")))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server.uri());
    let o = c.order(&OrderId::from("450789469")).await.unwrap().unwrap();
    // The docs' example repeats `number` (1, then 101): the last one wins.
    assert_eq!(o.number, "#101");
    assert_eq!(o.total.unwrap().minor_units, 5800);
    assert_eq!(o.email.as_deref(), Some("john.doe@example.com"));
    assert_eq!(o.locale.as_deref(), Some("en"));
}

/// A line's picture is `products[].image.src` (`resources/order.md`, the "GET /orders"
/// example: its one product, verbatim, in `api_order_product_with_image.json`).
#[tokio::test]
async fn a_line_keeps_its_product_picture() {
    let server = MockServer::start().await;
    let mut order = json_fixture("api_order.json");
    let pictured = json_fixture("api_order_product_with_image.json");
    let mut bare = pictured.clone();
    bare.as_object_mut().unwrap().remove("image");
    bare["id"] = json!(972900183);
    order["products"] = json!([pictured, bare]);
    Mock::given(method("GET"))
        .and(path(api("orders/450789469")))
        .respond_with(ResponseTemplate::new(200).set_body_json(order))
        .mount(&server)
        .await;
    let o = client(&server.uri())
        .order(&OrderId::from("450789469"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(o.line_items[0].title, "Pokeball");
    assert_eq!(
        o.line_items[0].image.as_ref().map(|i| i.as_str()),
        Some(
            "https://www.popsockets.com/dw/image/v2/BFSM_PRD/on/demandware.static/-/Sites-popsockets-master-catalog/default/dw9eb9511a/images/hi-res/Poke-Ball-Gloss_01_Top-View.png?sw=800&sh=800"
        )
    );
    assert_eq!(o.line_items[1].image, None, "a line without `image`");
}

#[tokio::test]
async fn a_suspended_store_pauses_the_client_instead_of_a_failure_storm() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(402).set_body_json(json!({
            "code": 402, "message": "Payment Required", "description": "API access suspended"
        })))
        .mount(&server)
        .await;
    let c = NuvemshopClient::new(
        NuvemshopConfig::new(STORE, "test-token", USER_AGENT)
            .base_url(format!("{}/v1/", server.uri()).parse().unwrap())
            .retry_policy(fast_retry())
            .suspended_pause(Duration::from_secs(600)),
    )
    .unwrap();
    let id = OrderId::from("450789469");
    for _ in 0..5 {
        let e = c.order(&id).await.unwrap_err();
        assert!(e.is_retryable(), "a pause, not a failure: {e}");
        assert!(e.to_string().contains("402"), "{e}");
    }
    assert!(c.is_paused());
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "one request per pause, not one per call"
    );
    // `app/resumed` ends the pause: the next call asks again.
    c.resume();
    let _ = c.order(&id).await;
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_429_waits_what_the_bucket_says() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("X-Rate-Limit-Limit", "40")
                .insert_header("X-Rate-Limit-Remaining", "0")
                .insert_header("X-Rate-Limit-Reset", "400"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json_fixture("api_order.json")))
        .mount(&server)
        .await;
    let c = client(&server.uri());
    let t = tokio::time::Instant::now();
    assert!(
        c.order(&OrderId::from("450789469"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        t.elapsed() >= Duration::from_millis(400),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn a_revoked_token_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"code":401,"message":"Unauthorized","description":"Invalid access token"}),
        ))
        .mount(&server)
        .await;
    let c = client(&server.uri());
    let e = c.order(&OrderId::from("1")).await.unwrap_err();
    assert!(!e.is_retryable(), "{e}");
    assert!(e.to_string().contains("uninstalled"), "{e}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_token_never_shows() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let c = NuvemshopClient::new(
        NuvemshopConfig::new(STORE, "very-secret-token", USER_AGENT)
            .base_url(format!("{}/v1/", server.uri()).parse().unwrap())
            .retry_policy(fast_retry()),
    )
    .unwrap();
    let e = c.order(&OrderId::from("1")).await.unwrap_err();
    assert!(e.is_retryable());
    assert!(!format!("{e} {e:?} {c:?}").contains("very-secret-token"));
}

#[tokio::test]
async fn ids_that_are_not_ids_never_reach_a_url() {
    let c = client("http://127.0.0.1:9");
    assert!(c.order(&OrderId::from("../webhooks")).await.is_err());
    assert!(c.customer(&CustomerId::from("1?x=2")).await.is_err());
}

#[tokio::test]
async fn write_back_goes_to_the_owner_note_once() {
    let w = WritesApi::default();
    w.state().owner_notes.insert(
        "450789469".into(),
        Some("Need to gift wrap this order".into()),
    );
    w.state().customer_notes.insert("101".into(), None);
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::path_regex(format!("^/v1/{STORE}/")))
        .respond_with(w.clone())
        .mount(&server)
        .await;
    let c = client(&server.uri());
    let o = OrderId::from("450789469");
    c.append_order_note(&o, "NPS 3: late delivery")
        .await
        .unwrap();
    c.append_order_note(&o, "NPS 3: late delivery")
        .await
        .unwrap();
    c.add_order_tags(&o, &["aftercare-detractor".into()])
        .await
        .unwrap();
    c.add_order_tags(&o, &["aftercare-detractor".into()])
        .await
        .unwrap();
    c.set_order_metafield(&o, "aftercare", "nps", "3")
        .await
        .unwrap();
    c.set_order_metafield(&o, "aftercare", "nps", "3")
        .await
        .unwrap();
    c.set_order_metafield(&o, "aftercare", "nps", "9")
        .await
        .unwrap();
    c.add_customer_tags(&CustomerId::from("101"), &["promoter".into()])
        .await
        .unwrap();
    c.add_customer_tags(&CustomerId::from("101"), &["promoter".into()])
        .await
        .unwrap();
    let s = w.state();
    assert_eq!(
        s.owner_notes["450789469"].as_deref(),
        Some(
            "Need to gift wrap this order\nNPS 3: late delivery\n[aftercare] tag: aftercare-detractor\n[aftercare] aftercare.nps = 9"
        ),
        "the merchant's note kept, each line once, the metafield replaced"
    );
    assert_eq!(
        s.customer_notes["101"].as_deref(),
        Some("[aftercare] tag: promoter")
    );
    assert_eq!(s.changes, 5, "{:?}", s.puts);
}

#[tokio::test]
async fn ensure_hooks_creates_the_missing_webhooks_with_the_binding_headers() {
    let server = MockServer::start().await;
    let url = "https://app.example.com/webhooks/nuvemshop";
    // resources/webhook.md "GET /webhooks": one is there already.
    Mock::given(method("GET"))
        .and(path(api("webhooks")))
        .and(query_param("url", url))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"created_at":"2013-04-07T09:11:51-03:00","event":"order/created","id":5670,"updated_at":"2013-04-08T11:11:51-03:00","url": url}
        ])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(api("webhooks")))
        .and(body_partial_json(
            json!({"url": url, "headers": {"X-Aftercare-Store-Id": STORE}}),
        ))
        .respond_with(|req: &wiremock::Request| {
            let b: Value = serde_json::from_slice(&req.body).unwrap();
            ResponseTemplate::new(201).set_body_json(json!({
                "created_at":"2013-06-01T15:12:15-03:00","event": b["event"],"id": 8901,
                "updated_at":"2013-06-01T15:12:15-03:00","url": b["url"]
            }))
        })
        .mount(&server)
        .await;
    let c = client(&server.uri());
    let events = aftercare_events();
    let r = c.ensure_hooks(url, &events).await.unwrap();
    assert_eq!(r.kept, vec!["order/created".to_owned()]);
    assert_eq!(r.created.len(), events.len() - 1);
    let posts: Vec<Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert!(
        posts
            .iter()
            .all(|p| p["headers"]["X-Aftercare-Event"] == p["event"]),
        "{posts:?}"
    );
}
