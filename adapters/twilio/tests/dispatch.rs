#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The dispatcher over SQLite with a Twilio channel against a mock of the Messages API
//! (`https://www.twilio.com/docs/messaging/api/message-resource`; errors 20429 and 21610
//! from `https://www.twilio.com/docs/api/errors/<code>`).

use std::sync::Arc;

use aftercare::clock::{Clock, ManualClock};
use aftercare::dispatch::Dispatcher;
use aftercare::model::{ChannelKind, ConsentState, OutboundMessage, Purpose};
use aftercare::store::{ConsentStore, Decision, Ledger, NewOutboxMessage, Outbox, OutboxStatus};
use aftercare_sqlite::SqliteStore;
use aftercare_twilio::{Credentials, Sender, TwilioChannel};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const MESSAGES: &str = "/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Messages.json";

fn created(sid: &str) -> serde_json::Value {
    serde_json::json!({
        "account_sid": ACCOUNT, "api_version": "2010-04-01", "body": "hi",
        "date_created": "Thu, 30 Jul 2015 20:12:31 +0000", "direction": "outbound-api",
        "error_code": null, "error_message": null, "from": "+14155552345",
        "num_media": "0", "num_segments": "1", "sid": sid, "status": "queued", "to": "+14155552346"
    })
}

async fn setup(server: &MockServer) -> (Arc<SqliteStore>, Arc<ManualClock>, Dispatcher) {
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let clock = Arc::new(ManualClock::new("2026-03-01T12:00:00Z".parse().unwrap()));
    let ch = TwilioChannel::sms(
        ACCOUNT,
        Credentials::auth_token("AUTHTOKEN"),
        Sender::Number("+14155552345".into()),
    )
    .unwrap()
    .base_url(server.uri());
    let d = Dispatcher::new(store.clone(), clock.clone())
        .channel(Arc::new(ch))
        .consent_store(store.clone());
    (store, clock, d)
}

async fn enqueue(store: &SqliteStore, clock: &ManualClock, key: &str, to: &str) {
    let m = OutboundMessage::new(
        ChannelKind::Sms,
        to,
        Purpose::Transactional,
        "Your parcel is on its way",
    );
    store
        .enqueue(
            NewOutboxMessage::new(key, m, clock.now(), "test"),
            clock.now(),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn throttled_then_accepted_ends_sent_after_a_retrying_row() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "30")
                .set_body_json(serde_json::json!({"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(ResponseTemplate::new(201).set_body_json(created("SMok")))
        .expect(1)
        .mount(&server)
        .await;
    let (store, clock, d) = setup(&server).await;
    enqueue(&store, &clock, "tracking:1:sms", "+14155552346").await;

    let r = d.run_once().await.unwrap();
    assert_eq!((r.sent, r.rescheduled), (0, 1));
    let e = store
        .outbox_by_key("tracking:1:sms")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e.status, OutboxStatus::Pending);
    // Not due before Twilio's Retry-After.
    assert!(
        e.due_at >= clock.now() + chrono::Duration::seconds(30),
        "{} vs {}",
        e.due_at,
        clock.now()
    );
    assert_eq!(d.run_once().await.unwrap().sent, 0, "not due yet");

    clock.advance(chrono::Duration::hours(2));
    let r = d.run_once().await.unwrap();
    assert_eq!(r.sent, 1);
    let e = store
        .outbox_by_key("tracking:1:sms")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e.status, OutboxStatus::Sent);
    assert_eq!(e.receipt.unwrap().provider_message_id, "SMok");
    let decisions: Vec<Decision> = store
        .ledger_for_key("tracking:1:sms")
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.decision)
        .collect();
    assert_eq!(
        decisions,
        vec![Decision::Enqueued, Decision::Retrying, Decision::Sent]
    );
}

#[tokio::test]
async fn unsubscribed_ends_dead_records_opt_out_and_skips_later_messages() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "code": 21610,
            "message": "Attempt to send to unsubscribed recipient",
            "more_info": "https://www.twilio.com/docs/errors/21610",
            "status": 400
        })))
        .expect(1)
        .mount(&server)
        .await;
    let (store, clock, d) = setup(&server).await;
    enqueue(&store, &clock, "tracking:2:sms", "+14155550100").await;
    let r = d.run_once().await.unwrap();
    assert_eq!(r.dead, 1);
    let e = store
        .outbox_by_key("tracking:2:sms")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e.status, OutboxStatus::Dead);
    assert!(e.last_error.unwrap().contains("21610"));

    let c = store
        .consent(ChannelKind::Sms, "+14155550100", Purpose::Transactional)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.state, ConsentState::Denied);
    assert_eq!(c.source, "provider:21610");

    // A later message to the same number is skipped without a request (the mock expects one
    // request in total).
    clock.advance(chrono::Duration::minutes(5));
    enqueue(&store, &clock, "survey:2:sms", "+14155550100").await;
    let r = d.run_once().await.unwrap();
    assert_eq!(r.skipped, 1);
    assert_eq!(
        store
            .outbox_by_key("survey:2:sms")
            .await
            .unwrap()
            .unwrap()
            .status,
        OutboxStatus::Skipped
    );
    server.verify().await;
}
