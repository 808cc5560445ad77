//! Conformance checks of batched processing (issue 20): `Inbox::complete_many`, and the
//! [`InboxProcessor`](crate::inbox::InboxProcessor) on a real store — orders run
//! concurrently, each order's entries in the inbox's order, an entry naming no order alone.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{LEASE, keyed, secs, t0, webhook};
use crate::inbox::{EventHandler, HandlerError, InboxProcessor};
use crate::model::*;
use crate::store::*;

pub async fn inbox_complete_many(s: Arc<dyn Store>) {
    let mut ids = Vec::new();
    for k in ["m-a", "m-b", "m-c"] {
        ids.push(s.insert(keyed("shopify", k)).await.unwrap().id());
    }
    assert_eq!(s.claim(t0(), 10, LEASE).await.unwrap().len(), 3);
    s.complete_many(&[], t0()).await.unwrap();
    s.complete_many(&[ids[0], ids[2]], t0()).await.unwrap();
    for (i, want) in [InboxStatus::Done, InboxStatus::Pending, InboxStatus::Done]
        .into_iter()
        .enumerate()
    {
        assert_eq!(
            s.inbox_entry(ids[i]).await.unwrap().unwrap().status,
            want,
            "entry {i}"
        );
    }
    let again = s.claim(t0() + secs(61), 10, LEASE).await.unwrap();
    assert_eq!(
        again.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![ids[1]],
        "completed entries are never claimed again"
    );
}

/// Records what it handles (order, entry, thread), and how many entries were in its hands
/// at once. `blocking`: each entry holds its thread for a moment, as CPU-bound work
/// (rendering) does, instead of waiting as I/O does.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<(String, i64)>>,
    threads: Mutex<Vec<std::thread::ThreadId>>,
    now: AtomicUsize,
    most: AtomicUsize,
    blocking: bool,
}

#[async_trait::async_trait]
impl EventHandler for Recorder {
    async fn handle(
        &self,
        entry: &InboxEntry,
        events: Vec<PlatformEvent>,
    ) -> Result<(), HandlerError> {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(n, Ordering::SeqCst);
        let what = match events.first() {
            Some(PlatformEvent::OrderUpdated { order }) => order.id.as_str().to_owned(),
            Some(other) => other.kind().to_owned(),
            None => String::new(),
        };
        if self.blocking {
            std::thread::sleep(Duration::from_millis(3));
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.threads
            .lock()
            .unwrap()
            .push(std::thread::current().id());
        self.seen.lock().unwrap().push((what, entry.id));
        self.now.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A processor over `s` decoding native events, handled by `handler`, on the system clock.
fn native_processor(s: &Arc<dyn Store>, handler: Arc<dyn EventHandler>) -> InboxProcessor {
    let secret = crate::webhook::Secret::from("conformance");
    InboxProcessor::new(s.clone(), handler, Arc::new(crate::clock::SystemClock)).source(
        "native",
        Arc::new(crate::webhook::NativeSource::new(secret)),
    )
}

/// The native body of an update of order `id` (its number `name`) of the demo shop.
fn order_update(id: &str, name: &str) -> Vec<u8> {
    let mut o = Order::new(id, name);
    o.shop = Some(ShopId::new("demo.myshopify.com"));
    serde_json::to_vec(&PlatformEvent::OrderUpdated { order: o }).unwrap()
}

pub async fn inbox_processor_runs_orders_concurrently_in_order(s: Arc<dyn Store>) {
    // Three orders' updates interleaved, and an app uninstall (no order) in the middle.
    let mut plan: Vec<(String, Vec<u8>)> = Vec::new();
    for round in 1..=3 {
        for order in ["A", "B", "C"] {
            plan.push((
                order.to_owned(),
                order_update(order, &format!("#{order}{round}")),
            ));
        }
        if round == 2 {
            let e = PlatformEvent::AppUninstalled {
                shop: ShopId::new("demo.myshopify.com"),
            };
            plan.push(("app_uninstalled".into(), serde_json::to_vec(&e).unwrap()));
        }
    }
    let mut ids = Vec::new();
    for (i, (_, body)) in plan.iter().enumerate() {
        let id = s
            .insert(webhook("native", &format!("p-{i}"), body))
            .await
            .unwrap();
        assert!(matches!(id, InboxInsert::Inserted(_)), "{i}: {id:?}");
        ids.push(id.id());
    }
    let recorder = Arc::new(Recorder::default());
    let processor = native_processor(&s, recorder.clone()).concurrency(8);
    let report = processor.run_once().await.unwrap();
    assert_eq!(report.done, plan.len() as u32);
    let seen = recorder.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), plan.len());
    // Each order's entries in the inbox's order.
    for order in ["A", "B", "C"] {
        let mine: Vec<i64> = seen
            .iter()
            .filter(|(o, _)| o == order)
            .map(|(_, id)| *id)
            .collect();
        let mut sorted = mine.clone();
        sorted.sort_unstable();
        assert_eq!(mine, sorted, "order {order}'s entries in order");
    }
    // The uninstall after everything claimed before it, before everything after it.
    let at = seen
        .iter()
        .position(|(o, _)| o == "app_uninstalled")
        .unwrap();
    let uninstall = seen[at].1;
    assert!(seen[..at].iter().all(|(_, id)| *id < uninstall), "{seen:?}");
    assert!(
        seen[at + 1..].iter().all(|(_, id)| *id > uninstall),
        "{seen:?}"
    );
    // Orders overlapped.
    assert!(
        recorder.most.load(Ordering::SeqCst) >= 2,
        "orders are processed concurrently"
    );
    for id in ids {
        assert_eq!(
            s.inbox_entry(id).await.unwrap().unwrap().status,
            InboxStatus::Done
        );
    }
}

/// 12 orders with 4 updates each, interleaved in the inbox, handled as one batch at
/// `concurrency` by a [`Recorder`] whose entries hold their thread; the recorder and the
/// entries' ids in the inbox's order.
async fn handle_blocking_batch(s: Arc<dyn Store>, concurrency: usize) -> (Arc<Recorder>, Vec<i64>) {
    let mut ids = Vec::new();
    for round in 0..4 {
        for order in 0..12 {
            let body = order_update(&format!("o{order}"), &format!("#{order}-{round}"));
            let id = s
                .insert(webhook("native", &format!("w-{order}-{round}"), &body))
                .await
                .unwrap();
            assert!(
                matches!(id, InboxInsert::Inserted(_)),
                "{order}/{round}: {id:?}"
            );
            ids.push(id.id());
        }
    }
    let recorder = Arc::new(Recorder {
        blocking: true,
        ..Recorder::default()
    });
    let processor = native_processor(&s, recorder.clone())
        .batch_size(64)
        .concurrency(concurrency);
    let report = processor.run_once().await.unwrap();
    assert_eq!(report.done, 48);
    (recorder, ids)
}

/// A batch's orders are handled on every worker thread of the runtime (two in the
/// generated tests), each order's entries in the inbox's order, never more at once than
/// the concurrency.
pub async fn inbox_processor_spreads_orders_over_worker_threads(s: Arc<dyn Store>) {
    let workers = tokio::runtime::Handle::current().metrics().num_workers();
    let (recorder, _) = handle_blocking_batch(s, 4).await;
    let seen = recorder.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 48);
    for order in 0..12 {
        let order = format!("o{order}");
        let mine: Vec<i64> = seen
            .iter()
            .filter(|(o, _)| *o == order)
            .map(|(_, id)| *id)
            .collect();
        let mut sorted = mine.clone();
        sorted.sort_unstable();
        assert_eq!(mine, sorted, "order {order}'s entries in the inbox's order");
    }
    let most = recorder.most.load(Ordering::SeqCst);
    assert!((2..=4).contains(&most), "{most} entries in hand at once");
    let threads: std::collections::HashSet<_> =
        recorder.threads.lock().unwrap().iter().copied().collect();
    assert_eq!(
        threads.len(),
        workers.min(4),
        "handled on every worker thread"
    );
}

/// With a concurrency of 1, one order at a time: the orders in the order of their first
/// entry, each order's entries together and in order.
pub async fn inbox_processor_with_concurrency_one_takes_one_order_at_a_time(s: Arc<dyn Store>) {
    let (recorder, ids) = handle_blocking_batch(s, 1).await;
    let seen: Vec<i64> = recorder
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|(_, id)| *id)
        .collect();
    // The entry at `order + 12 * round` in the inbox is that order's update of that round.
    let mut want = ids.clone();
    want.sort_by_key(|id| {
        let at = ids.iter().position(|x| x == id).unwrap();
        (at % 12, at)
    });
    assert_eq!(seen, want);
    assert_eq!(recorder.most.load(Ordering::SeqCst), 1);
}

/// Counts its handlers that are running: each waits until it is dropped.
#[derive(Default)]
struct Stuck {
    started: AtomicUsize,
    running: Arc<AtomicUsize>,
}

/// Decrements `running` when a handler's future is dropped.
struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl EventHandler for Stuck {
    async fn handle(
        &self,
        _entry: &InboxEntry,
        _events: Vec<PlatformEvent>,
    ) -> Result<(), HandlerError> {
        self.started.fetch_add(1, Ordering::SeqCst);
        self.running.fetch_add(1, Ordering::SeqCst);
        let _running = Running(self.running.clone());
        std::future::pending::<()>().await;
        Ok(())
    }
}

/// A processor whose work is dropped mid-batch (it was stopped) leaves none of its
/// handlers running, on whichever worker thread they ran; the entries stay claimed.
pub async fn inbox_processor_stopped_mid_batch_leaves_no_handler_running(s: Arc<dyn Store>) {
    for order in 0..8 {
        let body = order_update(&format!("o{order}"), &format!("#{order}"));
        s.insert(webhook("native", &format!("stuck-{order}"), &body))
            .await
            .unwrap();
    }
    let stuck = Arc::new(Stuck::default());
    let processor = native_processor(&s, stuck.clone()).concurrency(4);
    let stopped = tokio::time::timeout(Duration::from_millis(300), processor.run_once()).await;
    assert!(stopped.is_err(), "the handlers never finish");
    assert_eq!(
        stuck.started.load(Ordering::SeqCst),
        4,
        "four orders at once"
    );
    // Aborted tasks are dropped by the runtime at its next turn.
    for _ in 0..100 {
        if stuck.running.load(Ordering::SeqCst) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        stuck.running.load(Ordering::SeqCst),
        0,
        "no handler runs after its processor stopped"
    );
    assert!(
        s.claim(chrono::Utc::now(), 10, LEASE)
            .await
            .unwrap()
            .is_empty(),
        "the entries stay claimed until their lease runs out"
    );
}

pub async fn outbox_enqueue_many_answers_each_and_ledgers(s: Arc<dyn Store>) {
    let first = s
        .enqueue(
            NewOutboxMessage::new("em-0", super::message("+15550100", "1"), t0(), "r"),
            t0(),
        )
        .await
        .unwrap();
    // Past one store transaction's worth (512 on SQLite and PostgreSQL).
    let mut batch: Vec<NewOutboxMessage> = (1..=600)
        .map(|i| {
            NewOutboxMessage::new(
                format!("em-{i}"),
                super::message("+15550100", &i.to_string()),
                t0(),
                "batch",
            )
        })
        .collect();
    // A key already queued, and a key twice in the batch.
    batch.insert(
        10,
        NewOutboxMessage::new("em-0", super::message("+15550100", "1"), t0(), "again"),
    );
    batch.push(NewOutboxMessage::new(
        "em-5",
        super::message("+15550100", "5"),
        t0(),
        "again",
    ));
    let answers = s.enqueue_many(batch, t0()).await.unwrap();
    assert_eq!(answers.len(), 602);
    assert_eq!(answers[10], Enqueue::Duplicate(first.id()));
    let fifth = s.outbox_by_key("em-5").await.unwrap().unwrap();
    assert_eq!(answers[601], Enqueue::Duplicate(fifth.id));
    let new: Vec<i64> = answers
        .iter()
        .filter_map(|a| match a {
            Enqueue::New(id) => Some(*id),
            Enqueue::Duplicate(_) => None,
        })
        .collect();
    assert_eq!(new.len(), 600, "every new key queued once");
    let rows = s.ledger_for_key("em-5").await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.decision).collect::<Vec<_>>(),
        vec![Decision::Enqueued, Decision::Skipped]
    );
    let due = s.claim_due(t0(), 1000, LEASE).await.unwrap();
    assert_eq!(due.len(), 601);
}

pub async fn outbox_mark_sent_many_answers_each_and_ledgers(s: Arc<dyn Store>) {
    let mut ids = Vec::new();
    for i in 0..4 {
        let key = format!("ms-{i}");
        let msg = super::message("+15550100", &format!("ms-order-{i}"));
        ids.push(
            s.enqueue(NewOutboxMessage::new(key, msg, t0(), "r"), t0())
                .await
                .unwrap()
                .id(),
        );
    }
    let claimed = s.claim_due(t0(), 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 4);
    let attempt = |id: i64| claimed.iter().find(|c| c.entry.id == id).unwrap().attempt;
    assert!(s.mark_sent_many(&[], t0()).await.unwrap().is_empty());
    let receipt = |n: &str| Receipt::new(n, t0() + secs(1));
    let answers = s
        .mark_sent_many(
            &[
                SentRecord::new(ids[0], attempt(ids[0]), receipt("P0"), "sent as P0"),
                // A lost claim changes nothing.
                SentRecord::new(ids[1], attempt(ids[1]) + 1, receipt("P1"), "stale"),
                // Named twice: recorded once, by the first.
                SentRecord::new(ids[0], attempt(ids[0]), receipt("P0b"), "again"),
                SentRecord::new(ids[3], attempt(ids[3]), receipt("P3"), "sent as P3"),
            ],
            t0() + secs(2),
        )
        .await
        .unwrap();
    assert_eq!(answers, vec![true, false, false, true]);
    let e0 = s.outbox_entry(ids[0]).await.unwrap().unwrap();
    assert_eq!(e0.status, OutboxStatus::Sent);
    assert_eq!(e0.receipt, Some(receipt("P0")));
    assert_eq!(
        s.outbox_entry(ids[3]).await.unwrap().unwrap().receipt,
        Some(receipt("P3"))
    );
    for i in [1, 2] {
        assert_eq!(
            s.outbox_entry(ids[i]).await.unwrap().unwrap().status,
            OutboxStatus::Sending,
            "message {i} is still in flight"
        );
    }
    let rows = s.ledger_for_key("ms-0").await.unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| (r.decision, r.reason.as_str()))
            .collect::<Vec<_>>(),
        vec![(Decision::Enqueued, "r"), (Decision::Sent, "sent as P0")]
    );
    assert_eq!(rows[1].at, t0() + secs(2));
    assert_eq!(
        rows[1].order_id,
        Some(OrderId::new("ms-order-0")),
        "the ledger row names the message's order"
    );
    assert_eq!(
        s.ledger_for_key("ms-1").await.unwrap().len(),
        1,
        "no ledger row for a lost claim"
    );
}

/// At most once per key across a crash between the steps of a batch: sends recorded in one
/// batch are final; the batch's other messages, claimed but never recorded (the dispatcher
/// died between sending and recording them), come back once their claim expires, flagged
/// as recovered, and the dead dispatcher's late records of them change nothing.
pub async fn outbox_mark_sent_many_survives_a_crash_between_batches(s: Arc<dyn Store>) {
    let msgs: Vec<NewOutboxMessage> = (0..6)
        .map(|i| {
            NewOutboxMessage::new(
                format!("mc-{i}"),
                super::message("+15550100", &format!("mc-order-{i}")),
                t0(),
                "r",
            )
        })
        .collect();
    s.enqueue_many(msgs, t0()).await.unwrap();
    let claimed = s.claim_due(t0(), 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 6);
    let record = |c: &Claimed| {
        SentRecord::new(
            c.entry.id,
            c.attempt,
            Receipt::new(format!("P-{}", c.entry.key), t0()),
            "sent",
        )
    };
    let (done, lost) = claimed.split_at(3);
    let first: Vec<SentRecord> = done.iter().map(record).collect();
    assert_eq!(s.mark_sent_many(&first, t0()).await.unwrap(), vec![true; 3]);
    // The dispatcher crashes here. Once the claims expire, another takes over.
    let later = t0() + secs(61);
    let again = s.claim_due(later, 10, LEASE).await.unwrap();
    let mut keys: Vec<&str> = again.iter().map(|c| c.entry.key.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        vec!["mc-3", "mc-4", "mc-5"],
        "recorded sends are final"
    );
    assert!(
        again.iter().all(|c| c.recovered),
        "flagged as possibly sent"
    );
    // The dead dispatcher's records arrive late: its claims were taken over.
    let stale: Vec<SentRecord> = lost.iter().map(record).collect();
    assert_eq!(
        s.mark_sent_many(&stale, later).await.unwrap(),
        vec![false; 3]
    );
    // Its first batch again (a retried commit): already sent, nothing written twice.
    assert_eq!(
        s.mark_sent_many(&first, later).await.unwrap(),
        vec![false; 3]
    );
    let fresh: Vec<SentRecord> = again.iter().map(record).collect();
    assert_eq!(
        s.mark_sent_many(&fresh, later).await.unwrap(),
        vec![true; 3]
    );
    for i in 0..6 {
        let rows = s.ledger_for_key(&format!("mc-{i}")).await.unwrap();
        assert_eq!(
            rows.iter().filter(|r| r.decision == Decision::Sent).count(),
            1,
            "mc-{i}: one sent row"
        );
    }
}

/// Records every send; counts how many were in flight at once.
#[derive(Debug, Default)]
struct CountingChannel {
    sent: Mutex<Vec<String>>,
    in_flight: AtomicUsize,
    most: AtomicUsize,
}

#[async_trait::async_trait]
impl crate::channel::MessageChannel for CountingChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Sms
    }

    async fn send(
        &self,
        _m: &OutboundMessage,
        key: &str,
    ) -> Result<Receipt, crate::channel::SendError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        tokio::task::yield_now().await;
        self.sent.lock().unwrap().push(key.to_owned());
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        Ok(Receipt::new(format!("P-{key}"), t0()))
    }
}

/// The dispatcher over a real store: overlapping batches and grouped records send every
/// message once, record each once, and keep to the configured concurrency.
pub async fn dispatcher_drains_each_message_once(s: Arc<dyn Store>) {
    let msgs: Vec<NewOutboxMessage> = (0..300)
        .map(|i| {
            NewOutboxMessage::new(
                format!("dd-{i}"),
                super::message("+15550100", &format!("dd-order-{i}")),
                t0(),
                "r",
            )
        })
        .collect();
    s.enqueue_many(msgs, t0()).await.unwrap();
    let ch = Arc::new(CountingChannel::default());
    let d =
        crate::dispatch::Dispatcher::new(s.clone(), Arc::new(crate::clock::ManualClock::new(t0())))
            .channel(ch.clone())
            .batch(16, 3);
    let report = d.drain().await.unwrap();
    assert_eq!(report.sent, 300);
    let mut sent = ch.sent.lock().unwrap().clone();
    sent.sort();
    sent.dedup();
    assert_eq!(sent.len(), 300, "each message sent once");
    assert!(
        ch.most.load(Ordering::SeqCst) <= 3,
        "at most 3 sends at once, not {}",
        ch.most.load(Ordering::SeqCst)
    );
    assert!(
        s.outbox_in(OutboxStatus::Sending, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.outbox_in(OutboxStatus::Sent, 1000).await.unwrap().len(),
        300
    );
    for i in [0, 150, 299] {
        let rows = s.ledger_for_key(&format!("dd-{i}")).await.unwrap();
        assert_eq!(
            rows.iter().map(|r| r.decision).collect::<Vec<_>>(),
            vec![Decision::Enqueued, Decision::Sent]
        );
    }
}

/// The flows' writes asked for at the same time by many tasks (a processor running many
/// orders at once; a backend may commit them together) each get their own answer, as if
/// made one at a time: every snapshot, ledger row and message is stored once; a key queued
/// by two tasks is new for one and a duplicate (of the same message) for the other, each
/// with its ledger row; and one task's writes keep their order (an older snapshot written
/// after a newer one is refused).
pub async fn flow_writes_from_many_tasks_answer_each(s: Arc<dyn Store>) {
    const TASKS: usize = 48;
    let mut handles = Vec::new();
    for i in 0..TASKS {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            let snap = |version: i64, status: &str| {
                Snapshot::new(
                    "shipment",
                    Some(ShopId::new("demo.myshopify.com")),
                    format!("fw-{i}"),
                    t0() + secs(version),
                    serde_json::json!({ "status": status }),
                )
            };
            let newer = s.put_if_newer(&snap(10, "in_transit")).await.unwrap();
            let older = s.put_if_newer(&snap(5, "label_created")).await.unwrap();
            let mut e = LedgerEntry::new(t0(), Decision::Skipped, format!("fw-reason-{i}"));
            e.order_id = Some(OrderId::new(format!("fw-order-{i}")));
            s.record(e).await.unwrap();
            // Tasks 2k and 2k+1 queue the same key.
            let key = format!("fw-key-{}", i / 2);
            let queued = s
                .enqueue(
                    NewOutboxMessage::new(
                        key,
                        super::message("+15550100", &format!("fw-order-{i}")),
                        t0(),
                        "r",
                    ),
                    t0(),
                )
                .await
                .unwrap();
            (i, newer, older, queued)
        }));
    }
    let mut by_key: std::collections::HashMap<usize, Vec<Enqueue>> =
        std::collections::HashMap::new();
    for h in handles {
        let (i, newer, older, queued) = h.await.unwrap();
        assert!(newer, "task {i}: the first snapshot is stored");
        assert!(!older, "task {i}: an older snapshot after it is refused");
        by_key.entry(i / 2).or_default().push(queued);
    }
    for (k, answers) in &by_key {
        let new: Vec<i64> = answers
            .iter()
            .filter_map(|a| match a {
                Enqueue::New(id) => Some(*id),
                _ => None,
            })
            .collect();
        assert_eq!(new.len(), 1, "key {k}: new exactly once: {answers:?}");
        assert!(
            answers.iter().all(|a| a.id() == new[0]),
            "key {k}: the duplicate names the same message: {answers:?}"
        );
        let key = format!("fw-key-{k}");
        let ledger = s.ledger_for_key(&key).await.unwrap();
        assert_eq!(
            ledger.len(),
            2,
            "key {k}: one ledger row per enqueue: {ledger:?}"
        );
        assert_eq!(
            s.outbox_by_key(&key).await.unwrap().map(|e| e.id),
            Some(new[0])
        );
    }
    for i in 0..TASKS {
        let got = s
            .snapshot("shipment", &format!("fw-{i}"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.data["status"], "in_transit", "snapshot {i}");
        let rows = s
            .ledger_for_order(&OrderId::new(format!("fw-order-{i}")))
            .await
            .unwrap();
        assert!(
            rows.iter().any(|r| r.reason == format!("fw-reason-{i}")),
            "ledger row of task {i}: {rows:?}"
        );
    }
}
