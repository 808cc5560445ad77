#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Looking a possibly-sent message up in Twilio's message list (`MessageChannel::find_sent`),
//! and the uncertain message it resolves.
//!
//! Request shape: `https://www.twilio.com/docs/messaging/api/message-resource#read-multiple-message-resources`
//! (GET `/2010-04-01/Accounts/{AccountSid}/Messages.json`, filters `To`, `From` and
//! `DateSent>=YYYY-MM-DD`, which Twilio's libraries send as the parameter `DateSent>`;
//! `PageSize` up to 1000; paging through `next_page_uri`). The page bodies follow the fixture
//! of twilio/twilio-python `tests/integration/api/v2010/account/test_message.py`
//! ("test_read_full_response"): `messages`, `next_page_uri`, `page`, `page_size`, `uri`...,
//! each message as in the create response, with RFC 2822 dates.

use std::sync::Arc;
use std::time::Duration;

use aftercare::channel::{Lookup, MessageChannel, SendError};
use aftercare::clock::{Clock, ManualClock};
use aftercare::dispatch::Dispatcher;
use aftercare::model::{ChannelKind, DeliveryStatus, OutboundMessage, Purpose, TemplateRef};
use aftercare::store::{Decision, Ledger, NewOutboxMessage, Outbox, OutboxStatus};
use aftercare::uncertain::UncertainResolver;
use aftercare_sqlite::SqliteStore;
use aftercare_twilio::{Credentials, Sender, TwilioChannel};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const MESSAGES: &str = "/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Messages.json";
const TEXT: &str = "Your parcel is on its way: https://t.example/abc";
const TO: &str = "+14155552346";
const FROM: &str = "+14155552345";

fn listed(
    sid: &str,
    body: &str,
    direction: &str,
    created: &str,
    status: &str,
) -> serde_json::Value {
    serde_json::json!({
        "account_sid": ACCOUNT,
        "api_version": "2010-04-01",
        "body": body,
        "date_created": created,
        "date_sent": created,
        "date_updated": created,
        "direction": direction,
        "error_code": null,
        "error_message": null,
        "from": FROM,
        "messaging_service_sid": "MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "num_media": "0",
        "num_segments": "1",
        "price": "-0.00750",
        "price_unit": "USD",
        "sid": sid,
        "status": status,
        "subresource_uris": {
            "media": format!("/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}/Media.json")
        },
        "to": TO,
        "uri": format!("/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}.json")
    })
}

fn page(messages: Vec<serde_json::Value>, page: u32, next: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "end": messages.len().saturating_sub(1),
        "first_page_uri": format!("{MESSAGES}?PageSize=100&Page=0"),
        "messages": messages,
        "next_page_uri": next,
        "page": page,
        "page_size": 100,
        "previous_page_uri": null,
        "start": 0,
        "uri": format!("{MESSAGES}?PageSize=100&Page={page}")
    })
}

fn sms(server: &MockServer, sender: Sender) -> TwilioChannel {
    TwilioChannel::sms(ACCOUNT, Credentials::auth_token("AUTHTOKEN"), sender)
        .unwrap()
        .base_url(server.uri())
}

fn message() -> OutboundMessage {
    OutboundMessage::new(ChannelKind::Sms, TO, Purpose::Transactional, TEXT)
}

fn since() -> chrono::DateTime<chrono::Utc> {
    "2026-03-01T12:00:00Z".parse().unwrap()
}

const NEXT: &str = "/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Messages.json?To=%2B14155552346&From=%2B14155552345&DateSent%3E=2026-03-01&PageSize=100&Page=1&PageToken=PASMbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

#[tokio::test]
async fn finds_the_message_on_a_later_page_with_its_status() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MESSAGES))
        .and(query_param("To", TO))
        .and(query_param("From", FROM))
        .and(query_param("DateSent>", "2026-03-01"))
        .and(query_param_is_missing("PageToken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![
                // Another message to the same customer, and the customer's reply.
                listed(
                    "SMother",
                    "Your order is confirmed",
                    "outbound-api",
                    "Sun, 01 Mar 2026 12:30:00 +0000",
                    "delivered",
                ),
                listed(
                    "SMreply",
                    TEXT,
                    "inbound",
                    "Sun, 01 Mar 2026 12:20:00 +0000",
                    "received",
                ),
            ],
            0,
            Some(NEXT),
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(MESSAGES))
        .and(query_param(
            "PageToken",
            "PASMbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![
                listed(
                    "SMours",
                    TEXT,
                    "outbound-api",
                    "Sun, 01 Mar 2026 12:00:05 +0000",
                    "delivered",
                ),
                // The same text the day before: an older message, not this one.
                listed(
                    "SMyesterday",
                    TEXT,
                    "outbound-api",
                    "Sat, 28 Feb 2026 09:00:00 +0000",
                    "delivered",
                ),
            ],
            1,
            None,
        )))
        .expect(1)
        .mount(&server)
        .await;
    let ch = sms(&server, Sender::Number(FROM.into()));
    let Lookup::Found(found) = ch.find_sent(&message(), since()).await.unwrap() else {
        panic!("not found");
    };
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].receipt.provider_message_id, "SMours");
    assert_eq!(
        found[0].receipt.accepted_at,
        "2026-03-01T12:00:05Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
    assert_eq!(found[0].status, DeliveryStatus::Delivered);
}

#[tokio::test]
async fn nothing_matching_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MESSAGES))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![listed(
                "SMother",
                "Something else",
                "outbound-api",
                "Sun, 01 Mar 2026 12:00:05 +0000",
                "sent",
            )],
            0,
            None,
        )))
        .expect(1)
        .mount(&server)
        .await;
    let ch = sms(&server, Sender::Number(FROM.into()));
    assert_eq!(
        ch.find_sent(&message(), since()).await.unwrap(),
        Lookup::NotFound
    );
}

#[tokio::test]
async fn a_messaging_service_is_matched_by_its_sid_not_by_from() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MESSAGES))
        .and(query_param("To", TO))
        .and(query_param_is_missing("From"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![
                    listed(
                        "SMsvc",
                        TEXT,
                        "outbound-api",
                        "Sun, 01 Mar 2026 12:00:05 +0000",
                        "undelivered",
                    )
                    .as_object()
                    .map(|o| {
                        let mut o = o.clone();
                        o.insert("error_code".into(), serde_json::json!(30003));
                        serde_json::Value::Object(o)
                    })
                    .unwrap(),
                ],
            0,
            None,
        )))
        .expect(2)
        .mount(&server)
        .await;
    let ours = sms(
        &server,
        Sender::MessagingService("MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".into()),
    );
    let Lookup::Found(found) = ours.find_sent(&message(), since()).await.unwrap() else {
        panic!("not found");
    };
    assert_eq!(found[0].receipt.provider_message_id, "SMsvc");
    assert_eq!(
        found[0].status,
        DeliveryStatus::Failed {
            code: Some("30003".into())
        }
    );
    let other = sms(
        &server,
        Sender::MessagingService("MGbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb".into()),
    );
    assert_eq!(
        other.find_sent(&message(), since()).await.unwrap(),
        Lookup::NotFound
    );
}

#[tokio::test]
async fn a_template_cannot_be_matched() {
    let server = MockServer::start().await;
    let ch = TwilioChannel::whatsapp(
        ACCOUNT,
        Credentials::auth_token("AUTHTOKEN"),
        Sender::Number(FROM.into()),
    )
    .unwrap()
    .base_url(server.uri())
    .content_sid("order_shipped", "HXaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    let mut m = OutboundMessage::new(ChannelKind::Whatsapp, TO, Purpose::Transactional, TEXT);
    m.template = Some(TemplateRef::new("order_shipped", "en"));
    assert_eq!(
        ch.find_sent(&m, since()).await.unwrap(),
        Lookup::Unsupported
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn errors_and_unread_pages_are_not_a_no() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MESSAGES))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let ch = sms(&server, Sender::Number(FROM.into()));
    assert!(matches!(
        ch.find_sent(&message(), since()).await,
        Err(SendError::Transient { .. })
    ));
    // A link to another host is never followed (it would get the credentials): the pages
    // it stands for are unread, so nothing is concluded.
    Mock::given(method("GET"))
        .and(path(MESSAGES))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![],
            0,
            Some("https://elsewhere.example/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Messages.json?Page=1"),
        )))
        .mount(&server)
        .await;
    assert!(matches!(
        ch.find_sent(&message(), since()).await,
        Err(SendError::Transient { .. })
    ));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

/// The whole path: the send times out after it was written (Twilio took it), the message is
/// uncertain, and the resolver finds it in Twilio's list: sent, with Twilio's id, and the
/// delivery Twilio already reports.
#[tokio::test]
async fn a_timed_out_send_ends_reconciled_with_twilios_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(listed(
                    "SMlate",
                    TEXT,
                    "outbound-api",
                    "Sun, 01 Mar 2026 12:00:01 +0000",
                    "queued",
                ))
                .set_delay(Duration::from_secs(3)),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(MESSAGES))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![listed(
                "SMlate",
                TEXT,
                "outbound-api",
                "Sun, 01 Mar 2026 12:00:01 +0000",
                "delivered",
            )],
            0,
            None,
        )))
        .expect(1)
        .mount(&server)
        .await;
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let clock = Arc::new(ManualClock::new(since()));
    let ch = Arc::new(
        sms(&server, Sender::Number(FROM.into()))
            .timeout(Duration::from_millis(300))
            .unwrap(),
    );
    let d = Dispatcher::new(store.clone(), clock.clone()).channel(ch.clone());
    store
        .enqueue(
            NewOutboxMessage::new("tracking:1:sms", message(), clock.now(), "test"),
            clock.now(),
        )
        .await
        .unwrap();
    assert_eq!(d.drain().await.unwrap().uncertain, 1);
    let resolver = UncertainResolver::new(store.clone(), clock.clone()).channel(ch);
    // Not before the policy's 15 minutes: a late status callback may still come.
    clock.advance(chrono::Duration::minutes(10));
    assert_eq!(resolver.sweep().await.unwrap().reconciled, 0);
    assert_eq!(
        store
            .outbox_by_key("tracking:1:sms")
            .await
            .unwrap()
            .unwrap()
            .status,
        OutboxStatus::Uncertain
    );
    clock.advance(chrono::Duration::minutes(6));
    let r = resolver.sweep().await.unwrap();
    assert_eq!(r.reconciled, 1);
    let e = store
        .outbox_by_key("tracking:1:sms")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e.status, OutboxStatus::Sent);
    assert_eq!(e.receipt.unwrap().provider_message_id, "SMlate");
    let rows = store.ledger_for_key("tracking:1:sms").await.unwrap();
    let decisions: Vec<Decision> = rows.iter().map(|r| r.decision).collect();
    assert_eq!(
        decisions,
        vec![
            Decision::Enqueued,
            Decision::Uncertain,
            Decision::Reconciled,
            Decision::Delivered
        ]
    );
    assert!(rows[2].reason.contains("SMlate"), "{}", rows[2].reason);
    // Resolved once: the next sweep has nothing to do.
    assert_eq!(resolver.sweep().await.unwrap().reconciled, 0);
}
