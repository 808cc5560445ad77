//! The dispatcher over real SQLite: at most once per key, retries, dead letters, uncertain
//! sends, deferrals, opt-outs and crash recovery — each outcome with its ledger reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare::channel::{MessageChannel, SendError};
use aftercare::clock::{Clock, ManualClock};
use aftercare::dispatch::{Dispatcher, SendPolicy, Verdict};
use aftercare::model::{ChannelKind, ConsentState, OrderId, OutboundMessage, Purpose, Receipt};
use aftercare::store::{
    ConsentStore, Decision, Ledger, NewOutboxMessage, Outbox, OutboxEntry, OutboxStatus,
};
use aftercare_sqlite::SqliteStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[derive(Debug, Default)]
struct Scripted {
    script: Mutex<VecDeque<Result<(), SendError>>>,
    sent: Mutex<Vec<(String, String)>>,
}

impl Scripted {
    fn with(script: Vec<Result<(), SendError>>) -> Arc<Self> {
        Arc::new(Self {
            script: Mutex::new(script.into()),
            sent: Mutex::default(),
        })
    }
    fn calls(&self) -> usize {
        self.sent.lock().unwrap().len()
    }
}

#[async_trait]
impl MessageChannel for Scripted {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Sms
    }
    async fn send(&self, m: &OutboundMessage, key: &str) -> Result<Receipt, SendError> {
        self.sent
            .lock()
            .unwrap()
            .push((key.to_owned(), m.to.clone()));
        match self.script.lock().unwrap().pop_front() {
            Some(Err(e)) => Err(e),
            _ => Ok(Receipt::new(format!("SM{}", self.calls()), Utc::now())),
        }
    }
}

fn msg(order: &str, to: &str) -> OutboundMessage {
    let mut m = OutboundMessage::new(
        ChannelKind::Sms,
        to,
        Purpose::Transactional,
        "Your order has shipped",
    );
    m.order_id = Some(OrderId::new(order));
    m
}

async fn setup(
    script: Vec<Result<(), SendError>>,
) -> (SqliteStore, Arc<ManualClock>, Arc<Scripted>, Dispatcher) {
    let store = SqliteStore::open_temporary().await.unwrap();
    let clock = Arc::new(ManualClock::new("2026-05-01T12:00:00Z".parse().unwrap()));
    let ch = Scripted::with(script);
    let d = Dispatcher::new(Arc::new(store.clone()), clock.clone())
        .channel(ch.clone())
        .consent_store(Arc::new(store.clone()))
        .retry_policy(RetryPolicy::new(
            Duration::from_secs(10),
            Duration::from_secs(3600),
            4,
        ));
    (store, clock, ch, d)
}

async fn decisions(store: &SqliteStore, order: &str) -> Vec<(Decision, String)> {
    store
        .ledger_for_order(&OrderId::new(order))
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.decision, e.reason))
        .collect()
}

#[tokio::test]
async fn sends_once_per_key_and_ledgers_it() {
    let (store, clock, ch, d) = setup(vec![]).await;
    for _ in 0..3 {
        store
            .enqueue(
                NewOutboxMessage::new("k1", msg("1", "+15550100"), clock.now(), "shipment created"),
                clock.now(),
            )
            .await
            .unwrap();
    }
    let r = d.drain().await.unwrap();
    assert_eq!(r.sent, 1);
    assert_eq!(
        ch.calls(),
        1,
        "one send for one key, however often it was enqueued"
    );
    clock.advance(chrono::Duration::days(1));
    assert_eq!(d.drain().await.unwrap().sent, 0);
    let ds: Vec<Decision> = decisions(&store, "1")
        .await
        .into_iter()
        .map(|x| x.0)
        .collect();
    assert_eq!(
        ds,
        vec![
            Decision::Enqueued,
            Decision::Skipped,
            Decision::Skipped,
            Decision::Sent
        ]
    );
}

#[tokio::test]
async fn transient_failures_back_off_honouring_retry_after() {
    let (store, clock, ch, d) = setup(vec![
        Err(SendError::transient(
            Some(Duration::from_secs(120)),
            "HTTP 429 (20429)",
        )),
        Err(SendError::transient(None, "HTTP 503")),
    ])
    .await;
    store
        .enqueue(
            NewOutboxMessage::new("k2", msg("2", "+15550101"), clock.now(), "r"),
            clock.now(),
        )
        .await
        .unwrap();
    assert_eq!(d.run_once().await.unwrap().rescheduled, 1);
    clock.advance(chrono::Duration::seconds(119));
    assert_eq!(
        d.run_once().await.unwrap().sent + d.run_once().await.unwrap().rescheduled,
        0,
        "Retry-After is a floor"
    );
    clock.advance(chrono::Duration::seconds(1));
    assert_eq!(d.run_once().await.unwrap().rescheduled, 1, "second failure");
    clock.advance(chrono::Duration::seconds(20));
    assert_eq!(d.run_once().await.unwrap().sent, 1);
    assert_eq!(ch.calls(), 3);
    let ds = decisions(&store, "2").await;
    assert_eq!(ds.iter().filter(|d| d.0 == Decision::Retrying).count(), 2);
    assert!(ds[1].1.contains("HTTP 429"), "{ds:?}");
}

#[tokio::test]
async fn transient_failures_end_as_dead_letters_after_max_attempts() {
    let errs = (0..10)
        .map(|_| Err(SendError::transient(None, "HTTP 500")))
        .collect();
    let (store, clock, ch, d) = setup(errs).await;
    store
        .enqueue(
            NewOutboxMessage::new("k3", msg("3", "+15550102"), clock.now(), "r"),
            clock.now(),
        )
        .await
        .unwrap();
    for _ in 0..6 {
        d.run_once().await.unwrap();
        clock.advance(chrono::Duration::hours(2));
    }
    assert_eq!(ch.calls(), 4, "max_attempts is 4");
    let e = store.outbox_by_key("k3").await.unwrap().unwrap();
    assert_eq!(e.status, OutboxStatus::Dead);
    assert!(
        e.last_error
            .unwrap()
            .starts_with("gave up after 4 attempts")
    );
}

#[tokio::test]
async fn permanent_opt_out_is_recorded_and_honoured_later() {
    let (store, clock, ch, d) = setup(vec![Err(SendError::Permanent {
        code: Some("21610".into()),
        reason: "Attempt to send to unsubscribed recipient".into(),
        opted_out: true,
    })])
    .await;
    store
        .enqueue(
            NewOutboxMessage::new("k4", msg("4", "+15550103"), clock.now(), "r"),
            clock.now(),
        )
        .await
        .unwrap();
    assert_eq!(d.drain().await.unwrap().dead, 1);
    let c = store
        .consent(ChannelKind::Sms, "+15550103", Purpose::Feedback)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.state, ConsentState::Denied);
    assert_eq!(c.source, "provider:21610");
    store
        .enqueue(
            NewOutboxMessage::new("k5", msg("4", "+15550103"), clock.now(), "delivered"),
            clock.now(),
        )
        .await
        .unwrap();
    assert_eq!(d.drain().await.unwrap().skipped, 1);
    assert_eq!(ch.calls(), 1, "no second call to an opted-out number");
    let ds = decisions(&store, "4").await;
    assert!(
        ds.iter().any(|(d, r)| *d == Decision::Skipped
            && r.contains("refused")
            && r.contains("provider:21610")),
        "{ds:?}"
    );
}

#[tokio::test]
async fn maybe_sent_is_uncertain_and_not_retried() {
    let (store, clock, ch, d) = setup(vec![Err(SendError::MaybeSent {
        reason: "timed out waiting for the response".into(),
    })])
    .await;
    store
        .enqueue(
            NewOutboxMessage::new("k6", msg("6", "+15550104"), clock.now(), "r"),
            clock.now(),
        )
        .await
        .unwrap();
    assert_eq!(d.drain().await.unwrap().uncertain, 1);
    clock.advance(chrono::Duration::days(2));
    d.drain().await.unwrap();
    assert_eq!(ch.calls(), 1);
    assert_eq!(
        store.outbox_by_key("k6").await.unwrap().unwrap().status,
        OutboxStatus::Uncertain
    );
}

struct QuietUntilOne;

#[async_trait]
impl SendPolicy for QuietUntilOne {
    async fn check(
        &self,
        _e: &OutboxEntry,
        now: DateTime<Utc>,
    ) -> Result<Verdict, aftercare::Error> {
        let until: DateTime<Utc> = "2026-05-01T13:00:00Z".parse().unwrap();
        Ok(if now < until {
            Verdict::Defer {
                until,
                reason: "quiet hours until 08:00 local".into(),
            }
        } else {
            Verdict::Send
        })
    }
}

#[tokio::test]
async fn a_policy_defers_rather_than_drops() {
    let (store, clock, ch, d) = setup(vec![]).await;
    let d = d.policy(Arc::new(QuietUntilOne));
    store
        .enqueue(
            NewOutboxMessage::new("k7", msg("7", "+15550105"), clock.now(), "r"),
            clock.now(),
        )
        .await
        .unwrap();
    assert_eq!(d.drain().await.unwrap().rescheduled, 1);
    assert_eq!(ch.calls(), 0);
    clock.advance(chrono::Duration::hours(1));
    assert_eq!(d.drain().await.unwrap().sent, 1);
    let ds = decisions(&store, "7").await;
    assert_eq!(
        ds[1],
        (Decision::Deferred, "quiet hours until 08:00 local".into())
    );
}

#[tokio::test]
async fn a_message_in_flight_at_a_crash_is_resent_once_and_recorded() {
    let (store, clock, ch, d) = setup(vec![]).await;
    store
        .enqueue(
            NewOutboxMessage::new("k8", msg("8", "+15550106"), clock.now(), "r"),
            clock.now(),
        )
        .await
        .unwrap();
    // A dispatcher claims it and dies before recording anything.
    let claimed = store
        .claim_due(clock.now(), 10, Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        d.drain().await.unwrap().sent,
        0,
        "not while the dead dispatcher's lease holds"
    );
    clock.advance(chrono::Duration::minutes(6));
    assert_eq!(d.drain().await.unwrap().sent, 1);
    assert_eq!(ch.calls(), 1);
    let ds = decisions(&store, "8").await;
    assert!(
        ds.last()
            .unwrap()
            .1
            .contains("in flight when the dispatcher stopped"),
        "{ds:?}"
    );
    // The dead dispatcher's late report is refused.
    let r = Receipt::new("late", clock.now());
    assert!(
        !store
            .mark_sent(
                claimed[0].entry.id,
                claimed[0].attempt,
                &r,
                clock.now(),
                "late"
            )
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn no_channel_for_the_kind_is_a_dead_letter_with_a_hint() {
    let (store, clock, _ch, d) = setup(vec![]).await;
    let mut m = msg("9", "jane@example.com");
    m.channel = ChannelKind::Email;
    store
        .enqueue(
            NewOutboxMessage::new("k9", m, clock.now(), "r"),
            clock.now(),
        )
        .await
        .unwrap();
    assert_eq!(d.drain().await.unwrap().dead, 1);
    let e = store.outbox_by_key("k9").await.unwrap().unwrap();
    assert!(
        e.last_error
            .unwrap()
            .contains("no email channel is configured")
    );
}

#[tokio::test]
async fn delivery_reports_land_in_the_ledger_once_against_their_message() {
    use aftercare::flows::delivery::{DeliveryReports, ReportOutcome};
    use aftercare::model::DeliveryStatus;

    let (store, clock, _ch, d) = setup(vec![]).await;
    for (key, order) in [("k-a", "1"), ("k-b", "2")] {
        store
            .enqueue(
                NewOutboxMessage::new(key, msg(order, "+15550100"), clock.now(), "shipped"),
                clock.now(),
            )
            .await
            .unwrap();
    }
    assert_eq!(d.drain().await.unwrap().sent, 2);
    let sid = |key: &str| {
        let store = store.clone();
        let key = key.to_owned();
        async move {
            store
                .outbox_by_key(&key)
                .await
                .unwrap()
                .unwrap()
                .receipt
                .unwrap()
                .provider_message_id
        }
    };
    let (a, b) = (sid("k-a").await, sid("k-b").await);
    let reports = DeliveryReports::new(Arc::new(store.clone()));
    let at = clock.now() + chrono::Duration::minutes(1);

    let progress = reports.record(&a, &DeliveryStatus::Sent, at).await.unwrap();
    assert_eq!(progress, ReportOutcome::Progress, "`sent` adds nothing");
    let outcome = reports
        .record(&a, &DeliveryStatus::Delivered, at)
        .await
        .unwrap();
    assert!(
        matches!(&outcome, ReportOutcome::Recorded { decision: Decision::Delivered, message } if message.key == "k-a"),
        "{outcome:?}"
    );
    let again = reports
        .record(&a, &DeliveryStatus::Delivered, at)
        .await
        .unwrap();
    assert!(
        matches!(&again, ReportOutcome::AlreadyRecorded { decision: Decision::Delivered, message } if message.key == "k-a"),
        "{again:?}"
    );
    let read = reports.record(&a, &DeliveryStatus::Read, at).await.unwrap();
    assert!(matches!(
        read,
        ReportOutcome::Recorded {
            decision: Decision::Delivered,
            ..
        }
    ));
    let failed = DeliveryStatus::Failed {
        code: Some("30007".into()),
    };
    let undelivered = reports.record(&b, &failed, at).await.unwrap();
    assert!(
        matches!(&undelivered, ReportOutcome::Recorded { decision: Decision::Undelivered, message } if message.key == "k-b"),
        "{undelivered:?}"
    );
    assert_eq!(
        reports.record("SMnot-ours", &failed, at).await.unwrap(),
        ReportOutcome::UnknownMessage
    );

    let tail = |order: &'static str| {
        let store = store.clone();
        async move {
            let mut rows = decisions(&store, order).await;
            rows.drain(..2); // enqueued, sent
            rows
        }
    };
    assert_eq!(
        tail("1").await,
        vec![
            (
                Decision::Delivered,
                "the provider reports it delivered".to_owned()
            ),
            (
                Decision::Delivered,
                "the provider reports it read".to_owned()
            ),
        ]
    );
    assert_eq!(
        tail("2").await,
        vec![(
            Decision::Undelivered,
            "the provider could not deliver it (error 30007)".to_owned()
        )]
    );
}

/// Counts the permits a send takes.
#[derive(Debug, Default)]
struct CountingLimit(std::sync::atomic::AtomicU32);

#[async_trait]
impl aftercare::ratelimit::RateLimit for CountingLimit {
    async fn acquire(&self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Issue #15, item 3: what an SMS costs is in the ledger, and a provider limiting by
/// segment is paced by segment.
#[tokio::test]
async fn sms_segments_are_ledgered_and_paced_where_the_provider_counts_segments() {
    // 150 UTF-16 units with one Turkish letter: UCS-2, 3 segments (67 + 67 + 16).
    let text = format!("Siparişiniz {}", "x".repeat(138));
    assert_eq!(aftercare::sms::segments(&text).segments, 3);
    for by_segment in [false, true] {
        let store = SqliteStore::open_temporary().await.unwrap();
        let clock = Arc::new(ManualClock::new("2026-05-01T12:00:00Z".parse().unwrap()));
        let limit = Arc::new(CountingLimit::default());
        let mut d = Dispatcher::new(Arc::new(store.clone()), clock.clone())
            .channel(Scripted::with(vec![]))
            .consent_store(Arc::new(store.clone()));
        d = if by_segment {
            d.rate_limit_by_segment(ChannelKind::Sms, limit.clone())
        } else {
            d.rate_limit(ChannelKind::Sms, limit.clone())
        };
        let mut m = msg("9", "+905321234567");
        m.text = text.clone();
        store
            .enqueue(
                NewOutboxMessage::new("k9", m, clock.now(), "test"),
                clock.now(),
            )
            .await
            .unwrap();
        assert_eq!(d.drain().await.unwrap().sent, 1);
        assert_eq!(
            limit.0.load(std::sync::atomic::Ordering::SeqCst),
            if by_segment { 3 } else { 1 }
        );
        let sent = decisions(&store, "9").await.pop().unwrap();
        assert_eq!(
            sent,
            (
                Decision::Sent,
                "sent on sms as SM1 (3 segments, ucs2)".into()
            )
        );
    }
}
