//! Freshdesk against a stateful stand-in shaped as its API reference
//! (developers.freshdesk.com/api: "Create a Ticket" → `201` ticket object with numeric
//! `status`/`priority`, `tags`, `custom_fields`; "Filter Tickets" search → `{"results",
//! "total"}`; "Create a Note" → `201` note; `429` with `Retry-After`), driven by the sdk's
//! ticket flow on real SQLite.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::clock::{Clock, ManualClock};
use aftercare::flows::tickets::{Incident, IncidentKind, TicketFlow, TicketOutcome};
use aftercare::helpdesk::{Helpdesk, OrderContext, Requester};
use aftercare::webhook::Secret;
use aftercare_freshdesk::{FreshdeskConfig, FreshdeskDesk};
use aftercare_sqlite::SqliteStore;
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

#[derive(Default)]
struct State {
    tickets: Vec<Value>,
    notes: Vec<Value>,
    creates: u32,
    throttle: u32,
    slow: u32,
}

#[derive(Clone, Default)]
struct Stand(Arc<Mutex<State>>);

impl Respond for Stand {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut d = self.0.lock().unwrap();
        let path = req.url.path().to_owned();
        let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
        // API key as user, "X" as password: base64("fd-key:X").
        if req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            != Some("Basic ZmQta2V5Olg=")
        {
            return ResponseTemplate::new(401).set_body_json(json!({"code": "invalid_credentials", "message": "You have to be logged in to perform this action."}));
        }
        let rate = |r: ResponseTemplate| {
            r.insert_header("X-RateLimit-Total", "200")
                .insert_header("X-RateLimit-Remaining", "199")
                .insert_header("X-RateLimit-Used-CurrentRequest", "1")
        };
        match (req.method.as_str(), path.as_str()) {
            ("POST", "/api/v2/tickets") => {
                d.creates += 1;
                if d.throttle > 0 {
                    d.throttle -= 1;
                    return ResponseTemplate::new(429).insert_header("Retry-After", "1");
                }
                let mut t = body.clone();
                t["id"] = json!(101 + d.tickets.len() as u64);
                d.tickets.push(t.clone());
                let r = rate(ResponseTemplate::new(201).set_body_json(t));
                if d.slow > 0 {
                    d.slow -= 1;
                    return r.set_delay(Duration::from_secs(3));
                }
                r
            }
            ("GET", "/api/v2/search/tickets") => {
                let q = req
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == "query")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                let results: Vec<Value> = d
                    .tickets
                    .iter()
                    .filter(|t| {
                        q == format!(
                            "\"cf_aftercare_id:'{}'\"",
                            t["custom_fields"]["cf_aftercare_id"].as_str().unwrap_or("")
                        )
                    })
                    .cloned()
                    .collect();
                rate(
                    ResponseTemplate::new(200)
                        .set_body_json(json!({"results": results, "total": results.len()})),
                )
            }
            ("POST", p) if p.ends_with("/notes") => {
                d.notes.push(body.clone());
                ResponseTemplate::new(201).set_body_json(
                    json!({"id": 9001, "body": body["body"], "private": body["private"]}),
                )
            }
            (m, p) if p.starts_with("/api/v2/tickets/") => {
                let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap_or(0);
                let Some(t) = d.tickets.iter_mut().find(|t| t["id"] == json!(id)) else {
                    return ResponseTemplate::new(404);
                };
                if m == "PUT" {
                    t["tags"] = body["tags"].clone();
                }
                ResponseTemplate::new(200).set_body_json(t.clone())
            }
            _ => ResponseTemplate::new(404),
        }
    }
}

fn desk_for(server: &MockServer) -> FreshdeskDesk {
    let mut cfg = FreshdeskConfig::with_base_url(server.uri(), Secret::from("fd-key"));
    cfg.timeout = Duration::from_millis(800);
    cfg.max_wait = Duration::from_secs(2);
    FreshdeskDesk::new(cfg).unwrap()
}

#[tokio::test]
async fn a_ticket_is_created_as_documented_and_notes_are_private() {
    let server = MockServer::start().await;
    let desk = Stand::default();
    Mock::given(wiremock::matchers::any())
        .respond_with(desk.clone())
        .mount(&server)
        .await;
    let d = desk_for(&server);
    let mut r = Requester::default();
    r.phone = Some("+905321234567".into());
    let mut t = aftercare::helpdesk::NewTicket::new(
        "aftercare-1001",
        "S",
        "line 1\n<b>",
        r,
        OrderContext::new("1001"),
    );
    t.urgent = true;
    t.tags = vec!["aftercare_1".into()];
    let made = d.create_ticket(&t).await.unwrap();
    let found = d.find_ticket("aftercare-1001").await.unwrap().unwrap();
    assert_eq!(found.id, made.id);
    d.add_note(
        &found,
        &aftercare::helpdesk::Note::new("n", vec!["aftercare_2".into()]),
    )
    .await
    .unwrap();
    let s = desk.0.lock().unwrap();
    let sent = &s.tickets[0];
    assert_eq!(
        (sent["status"].as_u64(), sent["priority"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(sent["phone"], "+905321234567");
    assert_eq!(sent["description"], "<p>line 1</p><p>&lt;b&gt;</p>");
    assert_eq!(s.notes[0]["private"], true);
    assert_eq!(
        sent["tags"],
        json!(["aftercare_1", "aftercare_2"]),
        "merged, not replaced"
    );
}

/// The scenario every desk passes: a `429` waited out, a create whose answer never came
/// (the ticket is made anyway; the process restarts on the same SQLite file), then exactly
/// one ticket, and a second incident about the order as one note, however often it runs.
#[tokio::test]
async fn one_ticket_through_a_429_and_a_restart_then_one_note() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.db");
    let server = MockServer::start().await;
    let desk = Stand::default();
    {
        let mut d = desk.0.lock().unwrap();
        d.throttle = 1;
        d.slow = 1;
    }
    Mock::given(wiremock::matchers::any())
        .respond_with(desk.clone())
        .mount(&server)
        .await;
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new("2026-12-07T09:00:00Z".parse().unwrap()));
    let mut requester = Requester::default();
    requester.email = Some("ayse@example.com".into());
    requester.locale = Some("tr".into());
    let mut order = OrderContext::new("1001");
    order.order_number = Some("#1001".into());
    order.carrier = Some("Yurtiçi Kargo".into());
    let answer = Incident::new(
        "survey:1001-nps",
        order.clone(),
        requester.clone(),
        IncidentKind::Detractor {
            survey: "NPS".into(),
            score: 2,
            max: 10,
            comment: Some("geç geldi".into()),
            via: "email_reply".into(),
        },
        clock.now(),
    );
    let store = SqliteStore::open(&file).await.unwrap();
    let flow = TicketFlow::new(
        Arc::new(desk_for(&server)),
        Arc::new(store.clone()),
        clock.clone(),
    );
    let e = flow.report(&answer).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    drop(flow);
    drop(store);

    let store = SqliteStore::open(&file).await.unwrap();
    let flow = TicketFlow::new(
        Arc::new(desk_for(&server)),
        Arc::new(store.clone()),
        clock.clone(),
    );
    assert!(matches!(
        flow.report(&answer).await.unwrap(),
        TicketOutcome::AlreadyDone(Some(_))
    ));
    let comment = Incident::new(
        "comment:1001-nps:1",
        order,
        requester,
        IncidentKind::Comment {
            text: "hâlâ bekliyorum".into(),
        },
        clock.now(),
    );
    assert!(matches!(
        flow.report(&comment).await.unwrap(),
        TicketOutcome::Noted(_)
    ));
    assert!(matches!(
        flow.report(&comment).await.unwrap(),
        TicketOutcome::AlreadyDone(_)
    ));
    let d = desk.0.lock().unwrap();
    assert_eq!(d.tickets.len(), 1, "exactly one ticket");
    assert_eq!(
        d.creates, 2,
        "the throttled attempt and the one that made it"
    );
    assert_eq!(d.notes.len(), 1, "one note");
    assert!(d.notes[0].to_string().contains("hâlâ bekliyorum"));
    assert!(d.tickets[0].to_string().contains("geç geldi"));
    assert!(d.tickets[0].to_string().contains("Yurtiçi Kargo"));
}
