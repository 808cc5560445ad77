#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The dispatcher over SQLite with the Cloud API channel against a mock of the Graph API
//! (`POST /{version}/{phone_number_id}/messages`; error bodies as on Meta's error-codes page).

use std::sync::Arc;

use aftercare::clock::{Clock, ManualClock};
use aftercare::dispatch::Dispatcher;
use aftercare::model::{ChannelKind, OutboundMessage, Purpose, TemplateRef};
use aftercare::store::{ConsentStore, Decision, Ledger, NewOutboxMessage, Outbox, OutboxStatus};
use aftercare_sqlite::SqliteStore;
use aftercare_whatsapp_cloud::WhatsAppCloudChannel;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PATH: &str = "/v26.0/106540352242922/messages";

async fn setup(server: &MockServer) -> (Arc<SqliteStore>, Arc<ManualClock>, Dispatcher) {
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let clock = Arc::new(ManualClock::new("2026-03-01T12:00:00Z".parse().unwrap()));
    let ch = WhatsAppCloudChannel::new("106540352242922", "EAAGtoken")
        .unwrap()
        .base_url(server.uri())
        .clock(clock.clone());
    let d = Dispatcher::new(store.clone(), clock.clone())
        .channel(Arc::new(ch))
        .rate_limit(
            ChannelKind::Whatsapp,
            Arc::new(aftercare_whatsapp_cloud::rate::cloud_api_default()),
        )
        .consent_store(store.clone());
    (store, clock, d)
}

fn template_msg(to: &str) -> OutboundMessage {
    let mut m = OutboundMessage::new(ChannelKind::Whatsapp, to, Purpose::Transactional, "");
    let mut t = TemplateRef::new("order_shipped", "en_US");
    t.body_params = vec!["Alex".into()];
    t.url_button_param = Some("TRK123".into());
    m.template = Some(t);
    m
}

async fn enqueue(store: &SqliteStore, clock: &ManualClock, key: &str, m: OutboundMessage) {
    store
        .enqueue(
            NewOutboxMessage::new(key, m, clock.now(), "test"),
            clock.now(),
        )
        .await
        .unwrap();
}

async fn decisions(store: &SqliteStore, key: &str) -> Vec<Decision> {
    store
        .ledger_for_key(key)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.decision)
        .collect()
}

#[tokio::test]
async fn throttled_then_accepted_ends_sent_after_a_retrying_row() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .respond_with(ResponseTemplate::new(429).set_body_json(serde_json::json!({
            "error": {
                "message": "(#130429) Rate limit hit",
                "type": "OAuthException",
                "code": 130429,
                "error_data": { "messaging_product": "whatsapp", "details": "Message failed to send because there were too many messages sent from this phone number in a short period of time" },
                "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam"
            }
        })))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "messaging_product": "whatsapp",
            "contacts": [{ "input": "+16505551234", "wa_id": "16505551234" }],
            "messages": [{ "id": "wamid.OK" }]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let (store, clock, d) = setup(&server).await;
    enqueue(
        &store,
        &clock,
        "tracking:1:wa",
        template_msg("+16505551234"),
    )
    .await;
    assert_eq!(d.run_once().await.unwrap().rescheduled, 1);
    assert_eq!(
        store
            .outbox_by_key("tracking:1:wa")
            .await
            .unwrap()
            .unwrap()
            .status,
        OutboxStatus::Pending
    );
    clock.advance(chrono::Duration::hours(2));
    assert_eq!(d.run_once().await.unwrap().sent, 1);
    let e = store.outbox_by_key("tracking:1:wa").await.unwrap().unwrap();
    assert_eq!(e.status, OutboxStatus::Sent);
    assert_eq!(e.receipt.unwrap().provider_message_id, "wamid.OK");
    assert_eq!(
        decisions(&store, "tracking:1:wa").await,
        vec![Decision::Enqueued, Decision::Retrying, Decision::Sent]
    );
}

#[tokio::test]
async fn undeliverable_ends_dead_without_an_opt_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": { "message": "(#131026) Message Undeliverable.", "type": "OAuthException", "code": 131026,
                       "error_data": { "messaging_product": "whatsapp", "details": "Message Undeliverable." },
                       "fbtrace_id": "A1" }
        })))
        .expect(1)
        .mount(&server)
        .await;
    let (store, clock, d) = setup(&server).await;
    enqueue(
        &store,
        &clock,
        "tracking:2:wa",
        template_msg("+16505550000"),
    )
    .await;
    assert_eq!(d.run_once().await.unwrap().dead, 1);
    let e = store.outbox_by_key("tracking:2:wa").await.unwrap().unwrap();
    assert_eq!(e.status, OutboxStatus::Dead);
    assert!(e.last_error.unwrap().contains("131026"));
    // Undeliverable is not a refusal: nothing is recorded in the consent store.
    assert!(
        store
            .consent(
                ChannelKind::Whatsapp,
                "+16505550000",
                Purpose::Transactional
            )
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn text_outside_the_window_is_dead_without_a_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let (store, clock, d) = setup(&server).await;
    let m = OutboundMessage::new(
        ChannelKind::Whatsapp,
        "+16505551234",
        Purpose::Feedback,
        "How did we do?",
    );
    enqueue(&store, &clock, "survey:3:wa", m).await;
    assert_eq!(d.run_once().await.unwrap().dead, 1);
    let e = store.outbox_by_key("survey:3:wa").await.unwrap().unwrap();
    assert!(e.last_error.unwrap().contains("template"));
    assert_eq!(
        decisions(&store, "survey:3:wa").await,
        vec![Decision::Enqueued, Decision::DeadLettered]
    );
}
