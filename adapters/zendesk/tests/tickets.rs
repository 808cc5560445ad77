//! The Zendesk desk against a wiremock stand-in shaped as Zendesk's Tickets API reference
//! (developer.zendesk.com/api-reference/ticketing/tickets/tickets/: `{"ticket": {...}}`
//! bodies, `201 Created`, list `{"tickets": [...]}`), its Users API
//! (`POST /api/v2/users/create_or_update`), and its rate-limits page
//! (developer.zendesk.com/api-reference/introduction/rate-limits: `429` + `Retry-After`).

use std::time::Duration;

use aftercare::helpdesk::{
    Helpdesk, HelpdeskError, NewTicket, Note, OrderContext, Requester, Ticket, TicketStatus,
};
use aftercare::webhook::Secret;
use aftercare_zendesk::{ZendeskConfig, ZendeskDesk, phone_external_id};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn desk(server: &MockServer) -> ZendeskDesk {
    let mut cfg = ZendeskConfig::with_base_url(
        server.uri(),
        "agent@shop.example",
        Secret::from("zd-token-123"),
    );
    cfg.max_wait = Duration::from_secs(2);
    ZendeskDesk::new(cfg).unwrap()
}

fn ticket_json(id: u64, external: &str, status: &str, tags: &[&str]) -> Value {
    json!({
        "url": format!("https://example.zendesk.com/api/v2/tickets/{id}.json"),
        "id": id,
        "external_id": external,
        "status": status,
        "subject": "NPS 3/10 on order #1001",
        "priority": "high",
        "tags": tags,
        "requester_id": 20978392,
        "created_at": "2026-05-01T10:00:00Z",
        "updated_at": "2026-05-01T10:00:00Z"
    })
}

fn new_ticket(requester: Requester) -> NewTicket {
    let mut t = NewTicket::new(
        "aftercare-shop1-1001",
        "NPS 3/10 on order #1001",
        "Survey answer: NPS 3/10",
        requester,
        OrderContext::new("1001"),
    );
    t.tags = vec!["aftercare_0a1b2c3d".into(), "detractor".into()];
    t.urgent = true;
    t
}

fn email_requester() -> Requester {
    let mut r = Requester::default();
    r.email = Some("layla@example.com".into());
    r.locale = Some("ar".into());
    r
}

#[tokio::test]
async fn creates_a_private_ticket_with_token_auth_external_id_and_requester_locale() {
    let server = MockServer::start().await;
    // Basic base64("agent@shop.example/token:zd-token-123")
    let auth = "Basic YWdlbnRAc2hvcC5leGFtcGxlL3Rva2VuOnpkLXRva2VuLTEyMw==";
    Mock::given(method("POST"))
        .and(path("/api/v2/tickets"))
        .and(header("authorization", auth))
        .and(body_partial_json(json!({"ticket": {
            "external_id": "aftercare-shop1-1001",
            "comment": {"public": false, "body": "Survey answer: NPS 3/10"},
            "priority": "high",
            "tags": ["aftercare_0a1b2c3d", "detractor"],
            "requester": {"email": "layla@example.com", "locale": "ar"}
        }})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "ticket": ticket_json(35436, "aftercare-shop1-1001", "new", &["aftercare_0a1b2c3d", "detractor"])
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = desk(&server)
        .create_ticket(&new_ticket(email_requester()))
        .await
        .unwrap();
    assert_eq!(t.id, "35436");
    assert_eq!(t.status, TicketStatus::Open);
}

#[tokio::test]
async fn waits_out_a_429_with_retry_after_then_creates_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/tickets"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/tickets"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "ticket": ticket_json(7, "aftercare-shop1-1001", "new", &[])
        })))
        .mount(&server)
        .await;
    let started = std::time::Instant::now();
    let t = desk(&server)
        .create_ticket(&new_ticket(email_requester()))
        .await
        .unwrap();
    assert_eq!(t.id, "7");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_retry_after_longer_than_allowed_is_returned_for_the_inbox() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/tickets"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "93"))
        .mount(&server)
        .await;
    let e = desk(&server)
        .create_ticket(&new_ticket(email_requester()))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        HelpdeskError::RateLimited {
            retry_after_secs: Some(93)
        }
    );
    assert!(e.is_retryable());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_5xx_on_create_is_not_repeated_since_the_ticket_may_exist() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/tickets"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let e = desk(&server)
        .create_ticket(&new_ticket(email_requester()))
        .await
        .unwrap_err();
    assert!(matches!(e, HelpdeskError::Transient(_)), "{e:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn reads_are_retried_through_5xx() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/9"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/9"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ticket": ticket_json(9, "aftercare-1001", "solved", &["x"])
        })))
        .mount(&server)
        .await;
    let t = desk(&server).ticket("9").await.unwrap().unwrap();
    assert_eq!(t.status, TicketStatus::Solved);
    assert_eq!(t.tags, vec!["x".to_owned()]);
}

#[tokio::test]
async fn finds_the_newest_ticket_with_the_external_id() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets"))
        .and(query_param("external_id", "aftercare-shop1-1001"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "tickets": [
                ticket_json(11, "aftercare-shop1-1001", "closed", &[]),
                ticket_json(15, "aftercare-shop1-1001", "open", &["aftercare_1"]),
            ],
            "next_page": null, "previous_page": null, "count": 2
        })))
        .mount(&server)
        .await;
    let t = desk(&server)
        .find_ticket("aftercare-shop1-1001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((t.id.as_str(), &t.status), ("15", &TicketStatus::Open));
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets"))
        .and(query_param("external_id", "none"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"tickets": [], "count": 0})))
        .mount(&server)
        .await;
    assert_eq!(desk(&server).find_ticket("none").await.unwrap(), None);
}

#[tokio::test]
async fn a_note_is_private_and_adds_tags_in_the_same_request() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/15"))
        .and(body_partial_json(json!({"ticket": {
            "comment": {"body": "Reply after the survey closed: thanks", "public": false},
            "additional_tags": ["aftercare_9"]
        }})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ticket": ticket_json(15, "aftercare-1001", "open", &["aftercare_9"]),
            "audit": {"events": []}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = Ticket::new("15", TicketStatus::Open);
    desk(&server)
        .add_note(
            &t,
            &Note::new(
                "Reply after the survey closed: thanks",
                vec!["aftercare_9".into()],
            ),
        )
        .await
        .unwrap();
    // The body must never carry `tags` (which would replace the ticket's tags).
    let req = &server.received_requests().await.unwrap()[0];
    let sent: Value = serde_json::from_slice(&req.body).unwrap();
    assert!(sent["ticket"].get("tags").is_none());
}

#[tokio::test]
async fn a_closed_ticket_is_reported_closed() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/11"))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "error": "RecordInvalid",
            "description": "Record validation errors",
            "details": {"status": [{"description": "Status: closed prevents ticket update"}]}
        })))
        .mount(&server)
        .await;
    let e = desk(&server)
        .add_note(
            &Ticket::new("11", TicketStatus::Open),
            &Note::new("x", vec![]),
        )
        .await
        .unwrap_err();
    assert_eq!(e, HelpdeskError::Closed("11".into()));
}

#[tokio::test]
async fn a_phone_only_customer_becomes_a_user_keyed_without_the_number() {
    let server = MockServer::start().await;
    let ext = phone_external_id("+905321234567");
    assert!(!ext.contains("905321234567"));
    Mock::given(method("POST"))
        .and(path("/api/v2/users/create_or_update"))
        .and(body_partial_json(
            json!({"user": {"phone": "+905321234567", "external_id": ext, "locale": "tr"}}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "user": {"id": 9873843, "name": "+905321234567", "role": "end-user"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/tickets"))
        .and(body_partial_json(
            json!({"ticket": {"requester_id": 9873843}}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "ticket": ticket_json(8, "aftercare-shop1-1001", "new", &[])
        })))
        .expect(1)
        .mount(&server)
        .await;
    let mut r = Requester::default();
    r.phone = Some("+905321234567".into());
    r.locale = Some("tr".into());
    assert_eq!(
        desk(&server)
            .create_ticket(&new_ticket(r))
            .await
            .unwrap()
            .id,
        "8"
    );
}

#[tokio::test]
async fn bad_credentials_are_refused_for_good() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"error": "Couldn't authenticate you"})),
        )
        .mount(&server)
        .await;
    let e = desk(&server).ticket("1").await.unwrap_err();
    assert!(!e.is_retryable());
    assert!(matches!(e, HelpdeskError::Refused { status: 401, .. }));
}

#[test]
fn the_token_never_shows_in_debug() {
    let cfg = ZendeskConfig::new("shop", "a@b.c", Secret::from("zd-token-123"));
    assert!(!format!("{cfg:?}").contains("zd-token-123"));
}
