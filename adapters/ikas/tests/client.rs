//! The GraphQL client: client-credentials tokens (ikas.dev "Authentication";
//! `@ikas/admin-api-client` `dist/api/oauth`), errors, the token never shown.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aftercare::model::OrderId;
use aftercare::platform::OrderSource;
use aftercare::webhook::Secret;
use aftercare_ikas::{IkasAuth, IkasClient, IkasConfig};
use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::{GRAPHQL_PATH, MERCHANT, fast_retry, json_fixture};

fn cc_client(uri: &str) -> IkasClient {
    IkasClient::new(
        IkasConfig::new(
            MERCHANT,
            IkasAuth::ClientCredentials {
                token_url: format!("{uri}/api/admin/oauth/token").parse().unwrap(),
                client_id: "client-id".into(),
                client_secret: Secret::from("very-secret-client-secret"),
            },
        )
        .graphql_url(format!("{uri}{GRAPHQL_PATH}").parse().unwrap())
        .retry_policy(fast_retry()),
    )
    .unwrap()
}

async fn token_endpoint(server: &MockServer, expires_in: u64) -> Arc<AtomicUsize> {
    let n = Arc::new(AtomicUsize::new(0));
    let count = n.clone();
    Mock::given(method("POST"))
        .and(path("/api/admin/oauth/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("client_id=client-id"))
        .respond_with(move |_: &Request| {
            let i = count.fetch_add(1, Ordering::SeqCst) + 1;
            std::thread::sleep(Duration::from_millis(30));
            ResponseTemplate::new(200).set_body_json(json!({
                "access_token": format!("token-{i}"), "token_type": "bearer", "expires_in": expires_in
            }))
        })
        .mount(server)
        .await;
    n
}

async fn orders_for(server: &MockServer, token: &str) {
    Mock::given(method("POST"))
        .and(path(GRAPHQL_PATH))
        .and(header("Authorization", format!("Bearer {token}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": {"listOrder": {"data": [json_fixture("data_order_fulfilled.json")]}}}),
        ))
        .mount(server)
        .await;
}

const ORDER: &str = "7b2f4c1e-3d5a-4e8b-9c0d-1a2b3c4d5e6f";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_token_is_fetched_for_many_concurrent_calls() {
    let server = MockServer::start().await;
    let fetched = token_endpoint(&server, 14_400).await;
    orders_for(&server, "token-1").await;
    let c = cc_client(&server.uri());
    let calls = (0..8).map(|_| {
        let c = c.clone();
        tokio::spawn(async move { c.order(&OrderId::from(ORDER)).await })
    });
    for r in futures::future::join_all(calls).await {
        assert!(r.unwrap().unwrap().is_some());
    }
    assert_eq!(fetched.load(Ordering::SeqCst), 1, "single flight");
}

#[tokio::test]
async fn an_expired_token_is_fetched_again_once() {
    let server = MockServer::start().await;
    // 61 s of life, refreshed a minute early: it is stale after one second.
    let fetched = token_endpoint(&server, 61).await;
    orders_for(&server, "token-1").await;
    orders_for(&server, "token-2").await;
    let c = cc_client(&server.uri());
    assert!(c.order(&OrderId::from(ORDER)).await.unwrap().is_some());
    assert!(c.order(&OrderId::from(ORDER)).await.unwrap().is_some());
    assert_eq!(fetched.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(c.order(&OrderId::from(ORDER)).await.unwrap().is_some());
    assert_eq!(fetched.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_refused_token_is_fetched_again_before_giving_up() {
    let server = MockServer::start().await;
    let fetched = token_endpoint(&server, 14_400).await;
    // token-1 was revoked server-side: 401; token-2 works.
    Mock::given(method("POST"))
        .and(path(GRAPHQL_PATH))
        .and(header("Authorization", "Bearer token-1"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    orders_for(&server, "token-2").await;
    let c = cc_client(&server.uri());
    assert!(c.order(&OrderId::from(ORDER)).await.unwrap().is_some());
    assert_eq!(fetched.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn revoked_credentials_stop_cleanly_and_never_show_the_secret() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/admin/oauth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_client"})))
        .mount(&server)
        .await;
    let c = cc_client(&server.uri());
    let e = c.order(&OrderId::from(ORDER)).await.unwrap_err();
    assert!(!e.is_retryable(), "{e}");
    assert!(e.to_string().contains("revoked"), "{e}");
    assert!(!format!("{e} {e:?} {c:?}").contains("very-secret-client-secret"));
}

#[tokio::test]
async fn graphql_errors_are_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GRAPHQL_PATH))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"errors": [{"message": "Field 'x' not found"}]})),
        )
        .mount(&server)
        .await;
    let c = crate::common::client(&server.uri());
    let e = c.order(&OrderId::from(ORDER)).await.unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("not found"), "{e}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}
