//! Gorgias against a stateful stand-in shaped as its developer docs ("Create a ticket using
//! API": a ticket with `customer` and `messages`, message fields from "Ticket messages";
//! "Pagination": `{"data", "object", "uri", "meta"}`; "Limitations": `429` with
//! `Retry-after` and `X-Gorgias-Account-Api-Call-Limit`), driven by the sdk's ticket flow on
//! real SQLite.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::clock::{Clock, ManualClock};
use aftercare::flows::tickets::{Incident, IncidentKind, TicketFlow, TicketOutcome};
use aftercare::helpdesk::{Helpdesk, OrderContext, Requester};
use aftercare::webhook::Secret;
use aftercare_gorgias::{GorgiasConfig, GorgiasDesk};
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
        let limit =
            |r: ResponseTemplate| r.insert_header("X-Gorgias-Account-Api-Call-Limit", "3/40");
        match (req.method.as_str(), path.as_str()) {
            ("POST", "/api/tickets") => {
                d.creates += 1;
                if d.throttle > 0 {
                    d.throttle -= 1;
                    return ResponseTemplate::new(429)
                        .insert_header("Retry-after", "1")
                        .insert_header("X-Gorgias-Account-Api-Call-Limit", "40/40");
                }
                let mut t = body.clone();
                t["id"] = json!(5501 + d.tickets.len() as u64);
                d.tickets.push(t.clone());
                let r = limit(ResponseTemplate::new(201).set_body_json(t));
                if d.slow > 0 {
                    d.slow -= 1;
                    return r.set_delay(Duration::from_secs(3));
                }
                r
            }
            ("GET", "/api/tickets") => {
                let ext = req
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == "external_id")
                    .map(|(_, v)| v.into_owned());
                let data: Vec<Value> = d
                    .tickets
                    .iter()
                    .filter(|t| t["external_id"].as_str() == ext.as_deref())
                    .cloned()
                    .collect();
                limit(ResponseTemplate::new(200).set_body_json(json!({
                    "data": data, "object": "list", "uri": "/api/tickets",
                    "meta": {"prev_cursor": null, "next_cursor": null}
                })))
            }
            ("POST", p) if p.ends_with("/messages") => {
                d.notes.push(body.clone());
                ResponseTemplate::new(201)
                    .set_body_json(json!({"id": 77, "channel": body["channel"]}))
            }
            ("POST", p) if p.ends_with("/tags") => {
                let id: u64 = p.split('/').nth(3).unwrap().parse().unwrap();
                if let Some(t) = d.tickets.iter_mut().find(|t| t["id"] == json!(id)) {
                    let mut tags = t["tags"].as_array().cloned().unwrap_or_default();
                    for n in body["names"].as_array().cloned().unwrap_or_default() {
                        tags.push(json!({"name": n}));
                    }
                    t["tags"] = json!(tags);
                }
                ResponseTemplate::new(201).set_body_json(json!({}))
            }
            ("GET", p) if p.starts_with("/api/tickets/") => {
                let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap_or(0);
                match d.tickets.iter().find(|t| t["id"] == json!(id)) {
                    Some(t) => ResponseTemplate::new(200).set_body_json(t.clone()),
                    None => ResponseTemplate::new(404),
                }
            }
            _ => ResponseTemplate::new(404),
        }
    }
}

fn desk_for(server: &MockServer) -> GorgiasDesk {
    let mut cfg =
        GorgiasConfig::with_base_url(server.uri(), "agent@shop.example", Secret::from("gg-key"));
    cfg.timeout = Duration::from_millis(800);
    cfg.max_wait = Duration::from_secs(2);
    GorgiasDesk::new(cfg).unwrap()
}

#[tokio::test]
async fn a_ticket_is_a_customer_and_an_internal_note_message() {
    let server = MockServer::start().await;
    let desk = Stand::default();
    Mock::given(wiremock::matchers::any())
        .respond_with(desk.clone())
        .mount(&server)
        .await;
    let mut r = Requester::default();
    r.email = Some("joao@example.com".into());
    r.locale = Some("pt-BR".into());
    let t = aftercare::helpdesk::NewTicket::new(
        "aftercare-1001",
        "S",
        "corpo",
        r,
        OrderContext::new("1001"),
    );
    desk_for(&server).create_ticket(&t).await.unwrap();
    let s = desk.0.lock().unwrap();
    let sent = &s.tickets[0];
    assert_eq!(sent["customer"]["email"], "joao@example.com");
    assert_eq!(sent["external_id"], "aftercare-1001");
    assert_eq!(
        sent["messages"][0]["channel"], "internal-note",
        "never a message sent to the customer"
    );
    assert_eq!(sent["messages"][0]["from_agent"], true);
    assert!(sent["messages"][0].get("sent_datetime").is_none());
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
