//! Conformance checks of the outbox's batched writes and the pipelined dispatcher (issue
//! 20): `Outbox::enqueue_many` as one multi-row statement per chunk must answer exactly as
//! `enqueue` one at a time does, and a dispatcher that claims the next messages while it
//! still sends the last ones must leave no more claims behind at a crash than one batch.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{LEASE, message, t0};
use crate::channel::{MessageChannel, SendError};
use crate::clock::ManualClock;
use crate::dispatch::Dispatcher;
use crate::model::*;
use crate::store::*;

/// A key twice in one chunk, a key queued before, and keys of other orders, in one call:
/// the first of a key is new, the others duplicates of it; every message gets its ledger
/// row, with the columns of the row holding the key, and the ids follow the order given.
pub async fn outbox_enqueue_many_in_one_chunk_matches_enqueue(s: Arc<dyn Store>) {
    let before = s
        .enqueue(
            NewOutboxMessage::new("oc-old", message("+15550101", "oc-order-old"), t0(), "r"),
            t0(),
        )
        .await
        .unwrap();
    let batch = vec![
        NewOutboxMessage::new("oc-1", message("+15550102", "oc-order-1"), t0(), "first"),
        NewOutboxMessage::new("oc-old", message("+15550109", "oc-order-9"), t0(), "again"),
        NewOutboxMessage::new("oc-2", message("+15550103", "oc-order-2"), t0(), "second"),
        NewOutboxMessage::new("oc-1", message("+15550104", "oc-order-4"), t0(), "twice"),
        NewOutboxMessage::new("oc-3", message("+15550105", "oc-order-3"), t0(), "third"),
    ];
    let answers = s.enqueue_many(batch, t0()).await.unwrap();
    assert_eq!(answers.len(), 5);
    let (Enqueue::New(one), Enqueue::New(two), Enqueue::New(three)) =
        (answers[0], answers[2], answers[4])
    else {
        panic!("the first of each new key is new: {answers:?}");
    };
    assert!(
        one < two && two < three,
        "ids follow the order given: {answers:?}"
    );
    assert_eq!(
        answers[1],
        Enqueue::Duplicate(before.id()),
        "a key queued before"
    );
    assert_eq!(
        answers[3],
        Enqueue::Duplicate(one),
        "a key twice in one call"
    );

    // The duplicate's ledger row names the order of the row holding the key, not its own.
    let rows = s.ledger_for_key("oc-1").await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.decision).collect::<Vec<_>>(),
        vec![Decision::Enqueued, Decision::Skipped]
    );
    assert_eq!(rows[0].reason, "first");
    assert!(rows[1].reason.contains("twice"), "{}", rows[1].reason);
    for r in &rows {
        assert_eq!(r.order_id, Some(OrderId::new("oc-order-1")));
        assert_eq!(r.channel, Some(ChannelKind::Sms));
        assert_eq!(r.shop, Some(ShopId::new("demo.myshopify.com")));
        assert_eq!(r.customer_id, Some(CustomerId::new("c-1")));
    }
    let old = s.ledger_for_key("oc-old").await.unwrap();
    assert_eq!(old.len(), 2);
    assert_eq!(old[1].order_id, Some(OrderId::new("oc-order-old")));
    // The kept message is the first one given, whole.
    let kept = s.outbox_by_key("oc-1").await.unwrap().unwrap();
    assert_eq!(kept.message.to, "+15550102");
    assert_eq!(kept.due_at, t0());
    let due = s.claim_due(t0(), 100, LEASE).await.unwrap();
    assert_eq!(due.len(), 4, "one row per key");
    // Nothing at all for an empty call.
    assert!(s.enqueue_many(Vec::new(), t0()).await.unwrap().is_empty());
}

/// Sends `ok` messages, then hangs on every later send (a process about to be killed with
/// sends in flight).
#[derive(Debug, Default)]
struct Hangs {
    ok: usize,
    attempted: Mutex<Vec<String>>,
    done: Mutex<Vec<String>>,
    hanging: AtomicUsize,
}

#[async_trait::async_trait]
impl MessageChannel for Hangs {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Sms
    }

    async fn send(&self, _m: &OutboundMessage, key: &str) -> Result<Receipt, SendError> {
        let n = {
            let mut a = self.attempted.lock().unwrap();
            a.push(key.to_owned());
            a.len()
        };
        if n > self.ok {
            self.hanging.fetch_add(1, Ordering::SeqCst);
            std::future::pending::<()>().await;
        }
        self.done.lock().unwrap().push(key.to_owned());
        Ok(Receipt::new(format!("P-{key}"), t0()))
    }
}

/// A dispatcher killed while it sends (its `drain` dropped with sends hanging) leaves at
/// most one batch of messages claimed and unfinished, however far its claims ran ahead;
/// started again after the lease, it sends every message, and a key goes out twice only if
/// its first send was in flight at the kill, recorded as such in the ledger.
pub async fn dispatcher_killed_mid_pipeline_leaves_at_most_a_batch(s: Arc<dyn Store>) {
    const BATCH: u32 = 16;
    let msgs: Vec<NewOutboxMessage> = (0..200)
        .map(|i| {
            NewOutboxMessage::new(
                format!("pk-{i}"),
                message("+15550100", &format!("pk-order-{i}")),
                t0(),
                "r",
            )
        })
        .collect();
    s.enqueue_many(msgs, t0()).await.unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let first = Arc::new(Hangs {
        ok: 37,
        ..Hangs::default()
    });
    let d = Dispatcher::new(s.clone(), clock.clone())
        .channel(first.clone())
        .batch(BATCH, 3)
        .lease(LEASE);
    {
        let drain = d.drain();
        tokio::pin!(drain);
        // Runs until three sends hang and everything else has settled, then is dropped.
        let settle = async {
            while first.hanging.load(Ordering::SeqCst) < 3 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        tokio::select! {
            r = &mut drain => panic!("the drain ended although sends hang: {r:?}"),
            () = settle => {}
        }
    }
    drop(d);
    let done: HashSet<String> = first.done.lock().unwrap().iter().cloned().collect();
    assert_eq!(done.len(), 37);
    let hung: HashSet<String> = first
        .attempted
        .lock()
        .unwrap()
        .iter()
        .filter(|k| !done.contains(*k))
        .cloned()
        .collect();
    assert_eq!(hung.len(), 3, "three sends in flight at the kill");
    let claimed = s.outbox_in(OutboxStatus::Sending, 1000).await.unwrap();
    assert!(
        claimed.len() <= BATCH as usize,
        "at most one batch ({BATCH}) claimed and unfinished at the kill, not {}",
        claimed.len()
    );
    for k in &hung {
        assert!(
            claimed.iter().any(|c| &c.key == k),
            "{k} was in flight, so it stays claimed"
        );
    }
    assert_eq!(
        s.outbox_in(OutboxStatus::Sent, 1000).await.unwrap().len(),
        37,
        "every finished send was recorded"
    );

    // Restarted once the lease is over.
    clock.advance(chrono::Duration::from_std(LEASE).unwrap() + chrono::Duration::seconds(1));
    let second = Arc::new(Hangs {
        ok: usize::MAX,
        ..Hangs::default()
    });
    let d = Dispatcher::new(s.clone(), clock.clone())
        .channel(second.clone())
        .batch(BATCH, 3)
        .lease(LEASE);
    let report = d.drain().await.unwrap();
    assert_eq!(report.sent, 163);
    let again: Vec<String> = second.done.lock().unwrap().clone();
    let mut all: HashSet<String> = done.clone();
    for k in &again {
        assert!(
            !done.contains(k),
            "{k} was sent and recorded, then sent again"
        );
        assert!(
            all.insert(k.clone()),
            "{k} sent twice by the restarted dispatcher"
        );
    }
    assert_eq!(all.len(), 200, "no message lost");
    for k in &hung {
        let rows = s.ledger_for_key(k).await.unwrap();
        assert!(
            rows.iter().any(|r| r.decision == Decision::Sent
                && r.reason.contains("in flight when the dispatcher stopped")),
            "{k}: the resend of a send in flight says so: {rows:?}"
        );
    }
}
