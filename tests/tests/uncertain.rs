//! Messages left uncertain ("may have been sent") over real SQLite: each ends reconciled
//! (the provider has it, or a late delivery report names it), resent (a purpose for which a
//! duplicate is better than silence; once) or abandoned (with the reason) — never uncertain
//! for ever, each step in the ledger.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use aftercare::channel::{Lookup, MessageChannel, SendError, SentMessage};
use aftercare::clock::{Clock, ManualClock};
use aftercare::dispatch::Dispatcher;
use aftercare::flows::delivery::{DeliveryReport, DeliveryReports, ReportOutcome};
use aftercare::model::{ChannelKind, DeliveryStatus, OutboundMessage, Purpose, Receipt};
use aftercare::store::{Decision, Ledger, NewOutboxMessage, Outbox, OutboxStatus};
use aftercare::uncertain::{Action, Rule, UncertainPolicy, UncertainResolver};
use aftercare_sqlite::SqliteStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

const TO: &str = "+905321234567";

/// A channel whose sends and look-ups follow a script; with no script left a send succeeds
/// and a look-up says it cannot ask.
#[derive(Debug)]
struct Scripted {
    kind: ChannelKind,
    sends: Mutex<VecDeque<Result<(), SendError>>>,
    lookups: Mutex<VecDeque<Result<Lookup, SendError>>>,
    sent: Mutex<usize>,
    looked: Mutex<Vec<DateTime<Utc>>>,
}

impl Scripted {
    fn new(
        kind: ChannelKind,
        sends: Vec<Result<(), SendError>>,
        lookups: Vec<Result<Lookup, SendError>>,
    ) -> Arc<Self> {
        Arc::new(Self {
            kind,
            sends: Mutex::new(sends.into()),
            lookups: Mutex::new(lookups.into()),
            sent: Mutex::new(0),
            looked: Mutex::default(),
        })
    }
    fn sends(&self) -> usize {
        *self.sent.lock().unwrap()
    }
}

#[async_trait]
impl MessageChannel for Scripted {
    fn kind(&self) -> ChannelKind {
        self.kind
    }
    async fn send(&self, _m: &OutboundMessage, _key: &str) -> Result<Receipt, SendError> {
        let n = {
            let mut n = self.sent.lock().unwrap();
            *n += 1;
            *n
        };
        match self.sends.lock().unwrap().pop_front() {
            Some(Err(e)) => Err(e),
            _ => Ok(Receipt::new(format!("ID{n}"), Utc::now())),
        }
    }
    async fn find_sent(
        &self,
        _m: &OutboundMessage,
        since: DateTime<Utc>,
    ) -> Result<Lookup, SendError> {
        self.looked.lock().unwrap().push(since);
        self.lookups
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Ok(Lookup::Unsupported))
    }
}

fn timeout() -> Result<(), SendError> {
    Err(SendError::MaybeSent {
        reason: "timed out after the request was written".into(),
    })
}

struct World {
    store: Arc<SqliteStore>,
    clock: Arc<ManualClock>,
    ch: Arc<Scripted>,
    dispatcher: Dispatcher,
    resolver: Arc<UncertainResolver>,
}

async fn world(ch: Arc<Scripted>) -> World {
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let clock = Arc::new(ManualClock::new("2026-05-01T12:00:00Z".parse().unwrap()));
    let dispatcher = Dispatcher::new(store.clone(), clock.clone()).channel(ch.clone());
    let resolver =
        Arc::new(UncertainResolver::new(store.clone(), clock.clone()).channel(ch.clone()));
    World {
        store,
        clock,
        ch,
        dispatcher,
        resolver,
    }
}

impl World {
    /// Enqueues a message and sends it; the send is expected to end uncertain.
    async fn uncertain(&self, key: &str, kind: ChannelKind, purpose: Purpose) {
        let m = OutboundMessage::new(kind, TO, purpose, "Your parcel is out for delivery");
        self.store
            .enqueue(
                NewOutboxMessage::new(key, m, self.clock.now(), "test"),
                self.clock.now(),
            )
            .await
            .unwrap();
        assert_eq!(self.dispatcher.drain().await.unwrap().uncertain, 1);
        assert_eq!(self.status(key).await, OutboxStatus::Uncertain);
    }
    async fn status(&self, key: &str) -> OutboxStatus {
        self.store.outbox_by_key(key).await.unwrap().unwrap().status
    }
    async fn ledger(&self, key: &str) -> Vec<(Decision, String)> {
        self.store
            .ledger_for_key(key)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.decision, e.reason))
            .collect()
    }
    fn later(&self, minutes: i64) {
        self.clock.advance(chrono::Duration::minutes(minutes));
    }
}

fn kinds(rows: &[(Decision, String)]) -> Vec<Decision> {
    rows.iter().map(|r| r.0).collect()
}

#[tokio::test]
async fn a_transactional_message_the_provider_cannot_confirm_is_resent_once() {
    let ch = Scripted::new(
        ChannelKind::Sms,
        vec![timeout(), Ok(()), timeout(), timeout()],
        vec![],
    );
    let w = world(ch).await;
    w.uncertain("t:1", ChannelKind::Sms, Purpose::Transactional)
        .await;

    // Within the policy's 15 minutes nothing happens: a late delivery report may come.
    w.later(14);
    assert_eq!(w.resolver.sweep().await.unwrap().resent, 0);
    assert_eq!(w.status("t:1").await, OutboxStatus::Uncertain);

    w.later(2);
    let r = w.resolver.sweep().await.unwrap();
    assert_eq!((r.resent, r.abandoned, r.reconciled), (1, 0, 0));
    assert_eq!(w.status("t:1").await, OutboxStatus::Pending);
    assert_eq!(w.dispatcher.drain().await.unwrap().sent, 1);
    assert_eq!(w.ch.sends(), 2);
    let rows = w.ledger("t:1").await;
    assert_eq!(
        kinds(&rows),
        vec![
            Decision::Enqueued,
            Decision::Uncertain,
            Decision::Resending,
            Decision::Sent
        ]
    );
    let why = &rows[2].1;
    assert!(
        why.contains("transactional") && why.contains("duplicate is better than silence"),
        "{why}"
    );
    assert!(
        why.contains("cannot be asked"),
        "the look-up's answer is given: {why}"
    );

    // A resend is the one exception, once: uncertain again, it is abandoned.
    w.uncertain("t:2", ChannelKind::Sms, Purpose::Transactional)
        .await;
    w.later(16);
    assert_eq!(w.resolver.sweep().await.unwrap().resent, 1);
    assert_eq!(w.dispatcher.drain().await.unwrap().uncertain, 1);
    w.later(16);
    let r = w.resolver.sweep().await.unwrap();
    assert_eq!((r.resent, r.abandoned), (0, 1));
    assert_eq!(w.status("t:2").await, OutboxStatus::Abandoned);
    let rows = w.ledger("t:2").await;
    assert_eq!(
        kinds(&rows),
        vec![
            Decision::Enqueued,
            Decision::Uncertain,
            Decision::Resending,
            Decision::Uncertain,
            Decision::Abandoned
        ]
    );
    assert!(rows[4].1.contains("not sent a third time"), "{}", rows[4].1);
    assert_eq!(w.ch.sends(), 4);
}

#[tokio::test]
async fn a_survey_invitation_the_provider_does_not_have_is_abandoned_with_the_reason() {
    let ch = Scripted::new(
        ChannelKind::Sms,
        vec![timeout()],
        vec![Ok(Lookup::NotFound)],
    );
    let w = world(ch).await;
    w.uncertain("s:1", ChannelKind::Sms, Purpose::Feedback)
        .await;
    w.later(16);
    let r = w.resolver.sweep().await.unwrap();
    assert_eq!((r.abandoned, r.resent), (1, 0));
    assert_eq!(w.status("s:1").await, OutboxStatus::Abandoned);
    let rows = w.ledger("s:1").await;
    assert_eq!(
        kinds(&rows),
        vec![Decision::Enqueued, Decision::Uncertain, Decision::Abandoned]
    );
    assert!(
        rows[2].1.contains("feedback") && rows[2].1.contains("no record of it"),
        "{}",
        rows[2].1
    );
    // Asked from when the message was queued.
    assert_eq!(
        w.ch.looked.lock().unwrap().as_slice(),
        &["2026-05-01T12:00:00Z".parse::<DateTime<Utc>>().unwrap()]
    );
    // Nothing is sent again, and nothing is left to resolve.
    assert_eq!(w.dispatcher.drain().await.unwrap().sent, 0);
    assert_eq!(w.ch.sends(), 1);
    assert_eq!(w.resolver.sweep().await.unwrap(), Default::default());
}

#[tokio::test]
async fn the_policy_is_per_purpose_and_lookups_that_fail_are_retried_then_give_way() {
    let ch = Scripted::new(
        ChannelKind::Sms,
        vec![timeout()],
        vec![
            Err(SendError::transient(None, "HTTP 503")),
            Err(SendError::transient(None, "HTTP 503")),
        ],
    );
    let mut w = world(ch.clone()).await;
    w.resolver = Arc::new(
        UncertainResolver::new(w.store.clone(), w.clock.clone())
            .channel(ch)
            .policy(
                UncertainPolicy::default()
                    .rule(
                        Purpose::Marketing,
                        Rule::new(std::time::Duration::from_secs(3600), Action::Abandon),
                    )
                    .lookup_retry(std::time::Duration::from_secs(1800)),
            ),
    );
    w.uncertain("m:1", ChannelKind::Sms, Purpose::Marketing)
        .await;
    w.later(30);
    let r = w.resolver.sweep().await.unwrap();
    assert_eq!(
        (r.waiting, r.abandoned),
        (1, 0),
        "marketing waits an hour here"
    );
    assert!(w.ch.looked.lock().unwrap().is_empty(), "not even asked yet");
    w.later(31);
    let r = w.resolver.sweep().await.unwrap();
    assert_eq!(
        (r.waiting, r.abandoned),
        (1, 0),
        "the look-up failed: asked again later"
    );
    w.later(31);
    let r = w.resolver.sweep().await.unwrap();
    assert_eq!(
        (r.waiting, r.abandoned),
        (0, 1),
        "past the retries the rule applies"
    );
    let rows = w.ledger("m:1").await;
    assert!(
        rows[2]
            .1
            .contains("could not be asked (transient failure: HTTP 503)"),
        "{}",
        rows[2].1
    );
}

#[tokio::test]
async fn a_match_another_message_owns_is_not_this_one() {
    let ch = Scripted::new(
        ChannelKind::Sms,
        vec![Ok(()), timeout()],
        vec![Ok(Lookup::Found(vec![SentMessage::new(
            Receipt::new("ID1", "2026-05-01T12:00:01Z".parse().unwrap()),
            DeliveryStatus::Delivered,
        )]))],
    );
    let w = world(ch).await;
    // The same text to the same customer, sent before as "ID1" under another key.
    let m = OutboundMessage::new(
        ChannelKind::Sms,
        TO,
        Purpose::Feedback,
        "Your parcel is out for delivery",
    );
    w.store
        .enqueue(
            NewOutboxMessage::new("s:0", m, w.clock.now(), "test"),
            w.clock.now(),
        )
        .await
        .unwrap();
    assert_eq!(w.dispatcher.drain().await.unwrap().sent, 1);
    w.uncertain("s:1", ChannelKind::Sms, Purpose::Feedback)
        .await;
    w.later(16);
    let r = w.resolver.sweep().await.unwrap();
    assert_eq!((r.reconciled, r.abandoned), (0, 1));
    assert!(w.ledger("s:1").await[2].1.contains("another message's"));
}

#[tokio::test]
async fn a_late_whatsapp_status_naming_the_key_resolves_it() {
    let ch = Scripted::new(ChannelKind::Whatsapp, vec![timeout()], vec![]);
    let w = world(ch).await;
    w.uncertain("t:wa", ChannelKind::Whatsapp, Purpose::Transactional)
        .await;
    let reports = DeliveryReports::new(w.store.clone());
    let at: DateTime<Utc> = "2026-05-01T12:03:00Z".parse().unwrap();
    // A `sent` status (progress) already proves Meta has it.
    let out = reports
        .record_report(
            &DeliveryReport::new("wamid.late", DeliveryStatus::Sent, at)
                .key("t:wa")
                .recipient(ChannelKind::Whatsapp, TO),
        )
        .await
        .unwrap();
    assert_eq!(out, ReportOutcome::Progress);
    let e = w.store.outbox_by_key("t:wa").await.unwrap().unwrap();
    assert_eq!(e.status, OutboxStatus::Sent);
    assert_eq!(e.receipt.unwrap().provider_message_id, "wamid.late");
    // Then the delivery, found by the provider id like any other.
    let out = reports
        .record("wamid.late", &DeliveryStatus::Delivered, at)
        .await
        .unwrap();
    assert!(matches!(
        out,
        ReportOutcome::Recorded {
            decision: Decision::Delivered,
            ..
        }
    ));
    let rows = w.ledger("t:wa").await;
    assert_eq!(
        kinds(&rows),
        vec![
            Decision::Enqueued,
            Decision::Uncertain,
            Decision::Reconciled,
            Decision::Delivered
        ]
    );
    assert!(
        rows[2].1.contains("a delivery report (sent) names it"),
        "{}",
        rows[2].1
    );
    // Nothing is left for the sweeper: no resend of a delivered message.
    w.later(60);
    assert_eq!(w.resolver.sweep().await.unwrap(), Default::default());
}

#[tokio::test]
async fn a_late_status_callback_to_the_recipient_resolves_it_through_a_lookup() {
    let found = SentMessage::new(
        Receipt::new("SMlate", "2026-05-01T12:00:01Z".parse().unwrap()),
        DeliveryStatus::Sent,
    );
    let ch = Scripted::new(
        ChannelKind::Sms,
        vec![timeout()],
        vec![Ok(Lookup::Found(vec![found]))],
    );
    let w = world(ch).await;
    w.uncertain("t:sms", ChannelKind::Sms, Purpose::Transactional)
        .await;
    let at: DateTime<Utc> = "2026-05-01T12:02:00Z".parse().unwrap();
    let report = DeliveryReport::new("SMlate", DeliveryStatus::Delivered, at)
        .recipient(ChannelKind::Sms, TO);

    // Without a resolver the report names no message this store knows: as before.
    let plain = DeliveryReports::new(w.store.clone());
    assert_eq!(
        plain.record_report(&report).await.unwrap(),
        ReportOutcome::UnknownMessage
    );
    assert_eq!(w.status("t:sms").await, OutboxStatus::Uncertain);

    let reports = DeliveryReports::new(w.store.clone()).resolver(w.resolver.clone());
    let out = reports.record_report(&report).await.unwrap();
    assert!(
        matches!(
            out,
            ReportOutcome::Recorded {
                decision: Decision::Delivered,
                ..
            }
        ),
        "{out:?}"
    );
    let e = w.store.outbox_by_key("t:sms").await.unwrap().unwrap();
    assert_eq!(e.status, OutboxStatus::Sent);
    assert_eq!(e.receipt.unwrap().provider_message_id, "SMlate");
    assert_eq!(
        kinds(&w.ledger("t:sms").await),
        vec![
            Decision::Enqueued,
            Decision::Uncertain,
            Decision::Reconciled,
            Decision::Delivered
        ]
    );
}
