//! Pacing by Freshdesk's rate-limit headers, as its API reference ("Rate Limit",
//! developers.freshdesk.com/api/#ratelimit) and the support article "What are the rate
//! limits for the API calls to Freshdesk?" (support.freshdesk.com/support/solutions/articles/225439)
//! describe them: every answer carries `X-RateLimit-Total`, `X-RateLimit-Remaining` and
//! `X-RateLimit-Used-CurrentRequest` for the account's per-minute budget; over it, `429`
//! with `Retry-After` (seconds). Calls count even when refused.

use std::time::{Duration, Instant};

use aftercare::helpdesk::{Helpdesk, HelpdeskError};
use aftercare::webhook::Secret;
use aftercare_freshdesk::{FreshdeskConfig, FreshdeskDesk};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn ticket(total: &str, remaining: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"id": 1, "status": 2, "priority": 3, "tags": ["aftercare"], "custom_fields": {"cf_aftercare_id": "aftercare-1001"}}))
        .insert_header("X-RateLimit-Total", total)
        .insert_header("X-RateLimit-Remaining", remaining)
        .insert_header("X-RateLimit-Used-CurrentRequest", "1")
}

fn desk(server: &MockServer, window: Duration, max_wait: Duration) -> FreshdeskDesk {
    let mut c = FreshdeskConfig::with_base_url(server.uri(), Secret::from("fd-key"));
    c.rate_window = window;
    c.max_wait = max_wait;
    FreshdeskDesk::new(c).unwrap()
}

#[tokio::test]
async fn a_spent_budget_holds_the_next_call_back_without_spending_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/1"))
        .respond_with(ticket("50", "0"))
        .mount(&server)
        .await;
    let d = desk(&server, Duration::from_secs(60), Duration::from_secs(1));
    assert!(d.ticket("1").await.unwrap().is_some());
    // Nothing left this minute: the next call is not made, and says how long to wait.
    match d.ticket("1").await {
        Err(HelpdeskError::RateLimited {
            retry_after_secs: Some(s),
        }) => assert!((55..=60).contains(&s), "{s}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn near_the_end_of_the_budget_calls_are_spaced_at_the_plans_rate() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/1"))
        .respond_with(ticket("10", "1"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/2"))
        .respond_with(ticket("10", "9"))
        .mount(&server)
        .await;
    // A 20-second window of 10 calls: one call per 2 s near the end of the budget.
    let low = desk(&server, Duration::from_secs(20), Duration::from_secs(30));
    low.ticket("1").await.unwrap();
    let t = Instant::now();
    low.ticket("1").await.unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(1900),
        "{:?}",
        t.elapsed()
    );
    // Plenty left: no wait.
    let high = desk(&server, Duration::from_secs(20), Duration::from_secs(30));
    high.ticket("2").await.unwrap();
    let t = Instant::now();
    high.ticket("2").await.unwrap();
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn a_429_beyond_max_wait_holds_back_every_clone_until_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/1"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "120")
                .insert_header("X-RateLimit-Total", "50")
                .insert_header("X-RateLimit-Remaining", "0")
                .insert_header("X-RateLimit-Used-CurrentRequest", "1"),
        )
        .mount(&server)
        .await;
    let d = desk(&server, Duration::from_secs(60), Duration::from_secs(5));
    assert_eq!(
        d.ticket("1").await,
        Err(HelpdeskError::RateLimited {
            retry_after_secs: Some(120)
        })
    );
    // Another task's copy of the desk does not spend a call on a certain 429.
    match d.clone().ticket("1").await {
        Err(HelpdeskError::RateLimited {
            retry_after_secs: Some(s),
        }) => assert!((115..=120).contains(&s), "{s}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_short_retry_after_is_waited_out_then_the_call_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/1"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/1"))
        .respond_with(ticket("50", "40"))
        .mount(&server)
        .await;
    let d = desk(&server, Duration::from_secs(60), Duration::from_secs(5));
    let t = Instant::now();
    assert!(d.ticket("1").await.unwrap().is_some());
    assert!(t.elapsed() >= Duration::from_millis(950));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}
