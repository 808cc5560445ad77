//! A detractor's answer opens exactly one Zendesk ticket: through a `429`, through a create
//! whose answer never came (the process gave up and restarted on the same SQLite file),
//! and a second answer about the same order is a note on that ticket, never a new one.
//! The stand-in keeps state (tickets, notes) and answers as Zendesk's Tickets API reference
//! shows (developer.zendesk.com/api-reference/ticketing/tickets/tickets/: `POST
//! /api/v2/tickets` → `201 {"ticket": ...}`, `GET /api/v2/tickets?external_id=` →
//! `{"tickets": [...]}`, `PUT /api/v2/tickets/{id}` with `comment` and `additional_tags`),
//! and its rate-limits page (`429` with `Retry-After`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::Error;
use aftercare::clock::{Clock, ManualClock};
use aftercare::flows::feedback::{FACTS_SNAPSHOT, FollowUp, FollowUpSettings, SurveyFacts};
use aftercare::flows::tickets::TicketFlow;
use aftercare::helpdesk::Helpdesk;
use aftercare::l10n::Catalogs;
use aftercare::model::{
    ChannelKind, CustomerId, Invitation, OrderId, OutboundMessage, Purpose, ShopId, SurveyKind,
    SurveyResponse,
};
use aftercare::platform::OrderAnnotator;
use aftercare::store::{
    Decision, Ledger, NewOutboxMessage, Outbox, Snapshot, SnapshotStore, SurveyStore,
};
use aftercare::webhook::Secret;
use aftercare_sqlite::SqliteStore;
use aftercare_zendesk::{ZendeskConfig, ZendeskDesk};
use async_trait::async_trait;
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

struct NoShop;

#[async_trait]
impl OrderAnnotator for NoShop {
    async fn add_order_tags(&self, _: &OrderId, _: &[String]) -> Result<(), Error> {
        Ok(())
    }
    async fn add_customer_tags(&self, _: &CustomerId, _: &[String]) -> Result<(), Error> {
        Ok(())
    }
    async fn append_order_note(&self, _: &OrderId, _: &str) -> Result<(), Error> {
        Ok(())
    }
    async fn set_order_metafield(
        &self,
        _: &OrderId,
        _: &str,
        _: &str,
        _: &str,
    ) -> Result<(), Error> {
        Ok(())
    }
}

#[derive(Default)]
struct Desk {
    tickets: Vec<Value>,
    notes: Vec<(u64, Value)>,
    creates: u32,
    /// `429`s to answer the next creates with.
    throttle: u32,
    /// Creates whose answer comes after the client gave up (the ticket is made anyway).
    slow: u32,
}

/// A stateful Zendesk stand-in.
#[derive(Clone, Default)]
struct Zendesk(Arc<Mutex<Desk>>);

impl Respond for Zendesk {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut d = self.0.lock().unwrap();
        let path = req.url.path().to_owned();
        match (req.method.as_str(), path.as_str()) {
            ("POST", "/api/v2/tickets") => {
                d.creates += 1;
                if d.throttle > 0 {
                    d.throttle -= 1;
                    return ResponseTemplate::new(429).insert_header("Retry-After", "1");
                }
                let body: Value = serde_json::from_slice(&req.body).unwrap();
                let mut t = body["ticket"].clone();
                let id = 35436 + d.tickets.len() as u64;
                t["id"] = json!(id);
                t["status"] = json!("new");
                d.tickets.push(t.clone());
                let resp = ResponseTemplate::new(201).set_body_json(json!({ "ticket": t }));
                if d.slow > 0 {
                    d.slow -= 1;
                    return resp.set_delay(Duration::from_secs(3));
                }
                resp
            }
            ("GET", "/api/v2/tickets") => {
                let ext = req
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == "external_id")
                    .map(|(_, v)| v.into_owned());
                let found: Vec<Value> = d
                    .tickets
                    .iter()
                    .filter(|t| t["external_id"].as_str() == ext.as_deref())
                    .cloned()
                    .collect();
                ResponseTemplate::new(200).set_body_json(
                    json!({ "tickets": found, "next_page": null, "count": found.len() }),
                )
            }
            ("GET", p) if p.starts_with("/api/v2/tickets/") => {
                let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
                match d.tickets.iter().find(|t| t["id"] == json!(id)) {
                    Some(t) => ResponseTemplate::new(200).set_body_json(json!({ "ticket": t })),
                    None => ResponseTemplate::new(404),
                }
            }
            ("PUT", p) if p.starts_with("/api/v2/tickets/") => {
                let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
                let body: Value = serde_json::from_slice(&req.body).unwrap();
                let Some(t) = d.tickets.iter_mut().find(|t| t["id"] == json!(id)) else {
                    return ResponseTemplate::new(404);
                };
                let mut tags: Vec<Value> = t["tags"].as_array().cloned().unwrap_or_default();
                tags.extend(
                    body["ticket"]["additional_tags"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default(),
                );
                t["tags"] = json!(tags);
                let out = t.clone();
                d.notes.push((id, body["ticket"]["comment"].clone()));
                ResponseTemplate::new(200).set_body_json(json!({ "ticket": out }))
            }
            _ => ResponseTemplate::new(404),
        }
    }
}

fn invitation(id: &str, kind: SurveyKind, clock: &ManualClock) -> Invitation {
    {
        let mut invitation = Invitation::new(
            id,
            kind,
            OrderId::new("1001"),
            ChannelKind::Email,
            "ar",
            clock.now(),
            clock.now() + chrono::Duration::days(14),
        );
        invitation.shop = Some(ShopId::new("demo.myshopify.com"));
        invitation.customer_id = Some(CustomerId::new("c-1"));
        invitation
    }
}

async fn seed(store: &SqliteStore, inv: &Invitation, clock: &ManualClock) {
    store.save_invitation(inv).await.unwrap();
    let m = OutboundMessage::new(
        ChannelKind::Email,
        "layla@example.com",
        Purpose::Feedback,
        "?",
    );
    store
        .enqueue(
            NewOutboxMessage::new(
                format!("survey:{}:after_delivery", inv.id),
                m,
                clock.now(),
                "test",
            ),
            clock.now(),
        )
        .await
        .unwrap();
    let est: chrono::DateTime<chrono::Utc> = "2026-05-28T12:00:00Z".parse().unwrap();
    let mut facts = SurveyFacts::default();
    facts.products = vec!["Linen shirt".into(), "Silk scarf".into()];
    facts.carrier = Some("Aramex".into());
    facts.order_number = Some("#1001".into());
    facts.estimated_delivery = Some(est);
    facts.delivered_at = Some(est + chrono::Duration::hours(50));
    store
        .put_if_newer(&Snapshot::new(
            FACTS_SNAPSHOT,
            inv.shop.clone(),
            inv.id.clone(),
            clock.now(),
            serde_json::to_value(&facts).unwrap(),
        ))
        .await
        .unwrap();
}

fn follow_up(store: &SqliteStore, server: &MockServer, clock: Arc<ManualClock>) -> FollowUp {
    let mut cfg =
        ZendeskConfig::with_base_url(server.uri(), "agent@shop.example", Secret::from("t"));
    cfg.timeout = Duration::from_millis(800);
    cfg.max_wait = Duration::from_secs(2);
    let desk: Arc<dyn Helpdesk> = Arc::new(ZendeskDesk::new(cfg).unwrap());
    let dyn_clock: Arc<dyn Clock> = clock;
    let tickets = TicketFlow::new(desk, Arc::new(store.clone()), dyn_clock.clone());
    FollowUp::new(
        Arc::new(store.clone()),
        Arc::new(NoShop),
        Arc::new(Catalogs::new("Demo shop")),
        dyn_clock,
        FollowUpSettings::default(),
    )
    .tickets(Arc::new(tickets))
}

fn answer(inv: &Invitation, score: u8, comment: &str, clock: &ManualClock) -> SurveyResponse {
    {
        let mut response = SurveyResponse::new(
            inv.id.clone(),
            inv.kind,
            inv.order_id.clone(),
            score,
            "email_reply",
            clock.now(),
        );
        response.customer_id = inv.customer_id.clone();
        response.comment = Some(comment.into());
        response
    }
}

#[tokio::test]
async fn a_detractor_opens_exactly_one_ticket_through_a_429_and_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("aftercare.db");
    let clock = Arc::new(ManualClock::new("2026-06-01T09:00:00Z".parse().unwrap()));
    let server = MockServer::start().await;
    let zendesk = Zendesk::default();
    {
        let mut d = zendesk.0.lock().unwrap();
        d.throttle = 1;
        d.slow = 1;
    }
    Mock::given(wiremock::matchers::any())
        .respond_with(zendesk.clone())
        .mount(&server)
        .await;

    let store = SqliteStore::open(&file).await.unwrap();
    let nps = invitation("inv-1", SurveyKind::Nps, &clock);
    seed(&store, &nps, &clock).await;
    let first = answer(&nps, 3, "الطرد وصل متأخرا", &clock);
    store.record_response(&first).await.unwrap();

    // The first create is throttled (waited out), the second is made but its answer comes
    // after the client gave up: the follow-up fails, retryably, and the process "dies".
    let e = follow_up(&store, &server, clock.clone())
        .act(&first)
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert_eq!(zendesk.0.lock().unwrap().creates, 2);
    assert_eq!(zendesk.0.lock().unwrap().tickets.len(), 1);
    drop(store);

    // A new process on the same file retries: the ticket is found by its external id, with
    // the answer's marker tag, so nothing is created or noted again.
    let store = SqliteStore::open(&file).await.unwrap();
    follow_up(&store, &server, clock.clone())
        .act(&first)
        .await
        .unwrap();
    {
        let d = zendesk.0.lock().unwrap();
        assert_eq!(d.tickets.len(), 1, "never a second ticket");
        assert_eq!(d.creates, 2, "no create after the restart");
        assert!(d.notes.is_empty(), "no note repeating the answer");
        let t = &d.tickets[0];
        assert_eq!(t["external_id"], "aftercare-demo.myshopify.com-1001");
        assert_eq!(t["requester"]["email"], "layla@example.com");
        assert_eq!(t["requester"]["locale"], "ar");
        assert_eq!(t["comment"]["public"], false);
        assert_eq!(t["priority"], "high");
        let body = t["comment"]["body"].as_str().unwrap();
        for part in [
            "NPS 3/10",
            "الطرد وصل متأخرا",
            "#1001",
            "Linen shirt, Silk scarf",
            "Aramex",
            "3 day(s) late",
        ] {
            assert!(body.contains(part), "{part:?} missing from {body}");
        }
        let tags: Vec<&str> = t["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(
            tags.contains(&"detractor") && tags.contains(&"late_delivery"),
            "{tags:?}"
        );
    }
    let rows = store.ledger_for_key("ticket:survey:inv-1").await.unwrap();
    assert!(
        rows.iter()
            .any(|r| r.decision == Decision::Sent && r.reason.contains("ticket 35436")),
        "{rows:?}"
    );

    // Run again (a redelivered reply): the ledger says done; the desk is not even asked.
    let before = server.received_requests().await.unwrap().len();
    follow_up(&store, &server, clock.clone())
        .act(&first)
        .await
        .unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), before);

    // A second answer about the same order (a CSAT survey) is a note on the same ticket.
    let csat = invitation("inv-2", SurveyKind::Csat, &clock);
    seed(&store, &csat, &clock).await;
    let second = answer(&csat, 1, "still no refund", &clock);
    store.record_response(&second).await.unwrap();
    follow_up(&store, &server, clock.clone())
        .act(&second)
        .await
        .unwrap();
    follow_up(&store, &server, clock.clone())
        .act(&second)
        .await
        .unwrap();
    let d = zendesk.0.lock().unwrap();
    assert_eq!(d.tickets.len(), 1, "the second answer opened no ticket");
    assert_eq!(d.notes.len(), 1, "one note, however often it runs");
    assert_eq!(d.notes[0].0, 35436);
    assert_eq!(d.notes[0].1["public"], false);
    assert!(d.notes[0].1["body"].as_str().unwrap().contains("CSAT 1/5"));
    assert!(
        d.notes[0].1["body"]
            .as_str()
            .unwrap()
            .contains("still no refund")
    );
}
