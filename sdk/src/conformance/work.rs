//! Conformance checks of the unit of work ([`crate::work`]): a backend's
//! [`WorkStore::snapshots_many`] and [`WorkStore::commit`], and the
//! [`InboxProcessor`](crate::inbox::InboxProcessor) staging a batch on it.

use std::sync::Arc;

use super::{LEASE, keyed, secs, t0, webhook};
use crate::inbox::{EventHandler, HandlerError, InboxProcessor};
use crate::model::*;
use crate::store::*;
use crate::work::{ConsentKey, SnapshotKey, Stage, Work, WorkStore};

fn snap(kind: &str, id: &str, at: i64, v: &str) -> Snapshot {
    Snapshot::new(
        kind,
        Some(ShopId::new("demo.myshopify.com")),
        id,
        t0() + secs(at),
        serde_json::json!({ "v": v }),
    )
}

fn key(kind: &str, id: &str) -> SnapshotKey {
    (kind.to_owned(), id.to_owned())
}

pub async fn work_reads_ahead_every_asked_snapshot<S: Store + WorkStore + 'static>(s: Arc<S>) {
    assert!(s.snapshots_many(&[]).await.unwrap().is_empty());
    s.put_if_newer(&snap("order", "1", 0, "a")).await.unwrap();
    s.put_if_newer(&snap("shipment", "1", 0, "b"))
        .await
        .unwrap();
    let mut got = s
        .snapshots_many(&[
            key("order", "1"),
            key("shipment", "1"),
            key("shipment", "2"),
            key("customer", "1"),
        ])
        .await
        .unwrap();
    got.sort_by(|a, b| a.kind.cmp(&b.kind));
    assert_eq!(got.len(), 2, "absent keys are absent: {got:?}");
    assert_eq!(got[0], snap("order", "1", 0, "a"), "every field read back");
    assert_eq!(got[1], snap("shipment", "1", 0, "b"));
}

pub async fn work_reads_consent_ahead_as_consent_answers<S: Store + WorkStore + 'static>(
    s: Arc<S>,
) {
    assert!(s.consents_many(&[]).await.unwrap().is_empty());
    let rec = |ch, addr: &str, purpose, state, at: i64| {
        ConsentRecord::new(ch, addr, purpose, state, "conformance", t0() + secs(at))
    };
    // a: a STOP for every purpose after a transactional grant; b: a marketing grant after a
    // STOP; c: both at the same time (the purpose's own row wins); d: nothing.
    for r in [
        rec(
            ChannelKind::Sms,
            "+15550101",
            Some(Purpose::Transactional),
            ConsentState::Granted,
            0,
        ),
        rec(
            ChannelKind::Sms,
            "+15550101",
            None,
            ConsentState::Denied,
            10,
        ),
        rec(ChannelKind::Sms, "+15550102", None, ConsentState::Denied, 0),
        rec(
            ChannelKind::Sms,
            "+15550102",
            Some(Purpose::Marketing),
            ConsentState::Granted,
            10,
        ),
        rec(
            ChannelKind::Email,
            "c@example.com",
            None,
            ConsentState::Denied,
            5,
        ),
        rec(
            ChannelKind::Email,
            "c@example.com",
            Some(Purpose::Transactional),
            ConsentState::Granted,
            5,
        ),
    ] {
        s.set_consent(r).await.unwrap();
    }
    let mut keys: Vec<ConsentKey> = Vec::new();
    for (ch, addr) in [
        (ChannelKind::Sms, "+15550101"),
        (ChannelKind::Sms, "+15550102"),
        (ChannelKind::Email, " C@Example.com"),
        (ChannelKind::Email, "d@example.com"),
        (ChannelKind::Whatsapp, "+15550101"),
    ] {
        for purpose in [Purpose::Transactional, Purpose::Marketing] {
            keys.push((ch, addr.to_owned(), purpose));
        }
    }
    let ahead = s.consents_many(&keys).await.unwrap();
    assert_eq!(ahead.len(), keys.len());
    for (k, got) in keys.iter().zip(&ahead) {
        let one = s.consent(k.0, &k.1, k.2).await.unwrap();
        assert_eq!(got, &one, "{k:?}");
    }
    let states: Vec<Option<ConsentState>> =
        ahead.iter().map(|r| r.as_ref().map(|r| r.state)).collect();
    use ConsentState::{Denied, Granted};
    assert_eq!(
        states,
        vec![
            Some(Denied),
            Some(Denied),
            Some(Denied),
            Some(Granted),
            Some(Granted),
            Some(Denied),
            None,
            None,
            None,
            None,
        ]
    );
}

pub async fn work_commit_stores_the_writes_with_the_completion<S: Store + WorkStore + 'static>(
    s: Arc<S>,
) {
    commit_check(s.clone(), s).await;
}

/// The same promises kept by [`crate::work::Unbatched`] over the backend: one write at a
/// time, the completion last.
pub async fn work_unbatched_keeps_the_same_promises<S: Store + 'static>(s: Arc<S>) {
    let unbatched = Arc::new(crate::work::Unbatched(s.clone()));
    commit_check(s.clone(), unbatched.clone()).await;
    processor_check(s, unbatched).await;
}

async fn commit_check<S: Store + 'static>(s: Arc<S>, w: Arc<dyn WorkStore>) {
    let a = s.insert(keyed("shopify", "w-a")).await.unwrap().id();
    let b = s.insert(keyed("shopify", "w-b")).await.unwrap().id();
    assert_eq!(s.claim(t0(), 10, LEASE).await.unwrap().len(), 2);
    let queued = s
        .enqueue(
            NewOutboxMessage::new("w-old", super::message("+15550100", "1"), t0(), "before"),
            t0(),
        )
        .await
        .unwrap();
    // Stored before, newer than what the batch stages: stays.
    s.put_if_newer(&snap("shipment", "late", 50, "newest"))
        .await
        .unwrap();

    let mut work = Work::default();
    work.snapshots.push(snap("order", "1", 0, "first").into());
    work.snapshots
        .push(snap("order-shipments", "1", 0, "x").into());
    work.snapshots.push(snap("order", "1", 10, "second").into());
    work.snapshots
        .push(snap("shipment", "late", 20, "older").into());
    let mut row = LedgerEntry::new(t0(), Decision::Skipped, "a reason of the batch");
    row.order_id = Some(OrderId::new("1"));
    work.ledger.push(row);
    for (k, order) in [
        ("w-new", "1"),
        ("w-old", "1"),
        ("w-new", "1"),
        ("w-two", "2"),
    ] {
        work.messages.push(NewOutboxMessage::new(
            k,
            super::message("+15550100", order),
            t0(),
            "milestone",
        ));
    }
    w.commit(&[a], work, t0() + secs(1)).await.unwrap();

    assert_eq!(
        s.inbox_entry(a).await.unwrap().unwrap().status,
        InboxStatus::Done
    );
    assert_eq!(
        s.inbox_entry(b).await.unwrap().unwrap().status,
        InboxStatus::Pending,
        "only the entries named are completed"
    );
    assert_eq!(
        s.snapshot("order", "1").await.unwrap().unwrap(),
        snap("order", "1", 10, "second"),
        "the last staged state of a key is stored"
    );
    assert!(s.snapshot("order-shipments", "1").await.unwrap().is_some());
    assert_eq!(
        s.snapshot("shipment", "late").await.unwrap().unwrap().data,
        serde_json::json!({ "v": "newest" }),
        "never backwards at the commit either"
    );
    let rows = s.ledger_for_order(&OrderId::new("1")).await.unwrap();
    assert!(
        rows.iter()
            .any(|r| r.reason == "a reason of the batch" && r.decision == Decision::Skipped),
        "{rows:?}"
    );
    // Messages as `enqueue`: one per key, duplicates ledgered, the earlier message kept.
    let new = s.outbox_by_key("w-new").await.unwrap().unwrap();
    assert!(s.outbox_by_key("w-two").await.unwrap().is_some());
    assert_eq!(
        s.outbox_by_key("w-old").await.unwrap().unwrap().id,
        queued.id()
    );
    let decisions: Vec<Decision> = s
        .ledger_for_key("w-new")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.decision)
        .collect();
    assert_eq!(decisions, vec![Decision::Enqueued, Decision::Skipped]);
    let old: Vec<Decision> = s
        .ledger_for_key("w-old")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.decision)
        .collect();
    assert_eq!(old, vec![Decision::Enqueued, Decision::Skipped]);
    let due = s.claim_due(t0() + secs(2), 10, LEASE).await.unwrap();
    assert_eq!(due.len(), 3, "w-old, w-new and w-two once each");
    assert!(due.iter().any(|c| c.entry.id == new.id));
}

/// Counts the updates of each order in a snapshot, read and written through the stage; fails
/// (after staging) for orders named `fail-*`.
struct Counter;

impl Counter {
    async fn count(&self, order: &Order, snaps: &dyn SnapshotStore) -> Result<(), HandlerError> {
        let n = snaps
            .snapshot("count", order.id.as_str())
            .await?
            .and_then(|s| s.data.as_u64())
            .unwrap_or(0);
        snaps
            .put_if_newer(&Snapshot::new(
                "count",
                None,
                order.id.as_str(),
                t0() + secs(n as i64),
                serde_json::json!(n + 1),
            ))
            .await?;
        if order.id.as_str().starts_with("fail") {
            return Err(HandlerError::Retry("this order always fails".into()));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl EventHandler for Counter {
    async fn handle(&self, _: &InboxEntry, _: Vec<PlatformEvent>) -> Result<(), HandlerError> {
        panic!("under a unit of work the staged path is taken")
    }

    fn read_keys(&self, events: &[PlatformEvent], keys: &mut crate::work::ReadKeys) {
        for e in events {
            if let PlatformEvent::OrderUpdated { order } = e {
                keys.snapshots.push(key("count", order.id.as_str()));
            }
        }
    }

    async fn handle_staged(
        &self,
        _: &InboxEntry,
        events: Vec<PlatformEvent>,
        stage: &Stage,
    ) -> Result<(), HandlerError> {
        for e in events {
            match e {
                PlatformEvent::OrderUpdated { order } => self.count(&order, stage).await?,
                // A barrier: checks that what came before it is stored.
                PlatformEvent::AppUninstalled { .. } => {
                    let n = stage
                        .snapshot("count", "A")
                        .await?
                        .and_then(|s| s.data.as_u64());
                    let mut row = LedgerEntry::new(
                        t0(),
                        Decision::Skipped,
                        format!("barrier saw A at {n:?}"),
                    );
                    row.order_id = Some(OrderId::new("barrier"));
                    stage.record(row);
                }
                _ => {}
            }
        }
        Ok(())
    }
}

pub async fn work_processor_stages_a_batch_and_commits_it_with_the_completion<
    S: Store + WorkStore + 'static,
>(
    s: Arc<S>,
) {
    processor_check(s.clone(), s).await;
}

async fn processor_check<S: Store + 'static>(s: Arc<S>, w: Arc<dyn WorkStore>) {
    let native = Arc::new(crate::webhook::NativeSource::new(
        crate::webhook::Secret::from("conformance"),
    ));
    // A stored count for A from an earlier batch.
    seed_count_of_a(&s).await;
    let mut plan = Vec::new();
    for round in 0..3 {
        for order in ["A", "B", "fail-1"] {
            let mut o = Order::new(order, format!("#{order}{round}"));
            o.shop = Some(ShopId::new("demo.myshopify.com"));
            plan.push(PlatformEvent::OrderUpdated { order: o });
        }
        if round == 1 {
            plan.push(PlatformEvent::AppUninstalled {
                shop: ShopId::new("demo.myshopify.com"),
            });
        }
    }
    let mut ids = Vec::new();
    for (i, e) in plan.iter().enumerate() {
        let body = serde_json::to_vec(e).unwrap();
        ids.push(
            s.insert(webhook("native", &format!("u-{i}"), &body))
                .await
                .unwrap()
                .id(),
        );
    }
    let processor = InboxProcessor::new(
        s.clone(),
        Arc::new(Counter),
        Arc::new(crate::clock::SystemClock),
    )
    .source("native", native)
    .concurrency(4)
    .unit_of_work(w);
    let report = processor.run_once().await.unwrap();
    assert_eq!((report.done, report.retried), (7, 3), "{report:?}");
    // Entries of one order see each other's staged writes, on top of the stored count.
    let count = |id: &'static str| {
        let s = s.clone();
        async move {
            s.snapshot("count", id)
                .await
                .unwrap()
                .and_then(|x| x.data.as_u64())
        }
    };
    assert_eq!(count("A").await, Some(13));
    assert_eq!(count("B").await, Some(3));
    assert_eq!(
        count("fail-1").await,
        None,
        "a failed entry's writes are dropped"
    );
    let mut saw = None;
    for id in &ids {
        let e = s.inbox_entry(*id).await.unwrap().unwrap();
        let body: PlatformEvent = serde_json::from_slice(&e.body).unwrap();
        let want = match &body {
            PlatformEvent::OrderUpdated { order } if order.id.as_str().starts_with("fail") => {
                InboxStatus::Pending
            }
            _ => InboxStatus::Done,
        };
        assert_eq!(e.status, want, "{body:?}");
        if matches!(body, PlatformEvent::AppUninstalled { .. }) {
            saw = Some(e.id);
        }
    }
    assert!(saw.is_some());
    // The barrier ran after the first two rounds of A were committed, and its own staged
    // row was committed too.
    assert_eq!(
        barrier_saw(&s).await,
        vec!["barrier saw A at Some(12)".to_owned()]
    );
}

/// A [`WorkStore`] whose commits wait before they start (so a pipelined next batch is read
/// ahead before the previous batch's commit lands) and whose `fail_at`-th commit fails.
struct SlowCommit {
    inner: Arc<dyn WorkStore>,
    commits: std::sync::atomic::AtomicUsize,
    fail_at: Option<usize>,
}

#[async_trait::async_trait]
impl SnapshotStore for SlowCommit {
    async fn put_if_newer(&self, snapshot: &Snapshot) -> Result<bool, crate::Error> {
        self.inner.put_if_newer(snapshot).await
    }

    async fn snapshot(&self, kind: &str, id: &str) -> Result<Option<Snapshot>, crate::Error> {
        self.inner.snapshot(kind, id).await
    }
}

#[async_trait::async_trait]
impl ConsentStore for SlowCommit {
    async fn set_consent(&self, record: ConsentRecord) -> Result<(), crate::Error> {
        self.inner.set_consent(record).await
    }

    async fn consent(
        &self,
        channel: ChannelKind,
        address: &str,
        purpose: Purpose,
    ) -> Result<Option<ConsentRecord>, crate::Error> {
        self.inner.consent(channel, address, purpose).await
    }
}

#[async_trait::async_trait]
impl WorkStore for SlowCommit {
    async fn snapshots_many(&self, keys: &[SnapshotKey]) -> Result<Vec<Snapshot>, crate::Error> {
        self.inner.snapshots_many(keys).await
    }

    async fn consents_many(
        &self,
        keys: &[ConsentKey],
    ) -> Result<Vec<Option<ConsentRecord>>, crate::Error> {
        self.inner.consents_many(keys).await
    }

    async fn commit(
        &self,
        done: &[i64],
        work: Work,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), crate::Error> {
        let n = self
            .commits
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
        if self.fail_at == Some(n) {
            return Err(crate::Error::storage(
                "commit a unit of work",
                "the conformance check's planned failure",
            ));
        }
        self.inner.commit(done, work, now).await
    }
}

/// Stores one `OrderUpdated` per order named in `plan` (an `AppUninstalled` barrier for
/// `"|"`), in that order; their ids.
async fn store_plan<S: Store + 'static>(s: &Arc<S>, tag: &str, plan: &[&str]) -> Vec<i64> {
    let mut ids = Vec::new();
    for (i, name) in plan.iter().enumerate() {
        let event = if *name == "|" {
            PlatformEvent::AppUninstalled {
                shop: ShopId::new("demo.myshopify.com"),
            }
        } else {
            // Numbered per plan: the same body twice would be a duplicate.
            let mut o = Order::new(*name, format!("#{tag}{name}{i}"));
            o.shop = Some(ShopId::new("demo.myshopify.com"));
            PlatformEvent::OrderUpdated { order: o }
        };
        let body = serde_json::to_vec(&event).unwrap();
        ids.push(
            s.insert(webhook("native", &format!("{tag}-{i}"), &body))
                .await
                .unwrap()
                .id(),
        );
    }
    ids
}

/// What the `Counter`'s barriers recorded.
async fn barrier_saw<S: Store + 'static>(s: &Arc<S>) -> Vec<String> {
    s.ledger_for_order(&OrderId::new("barrier"))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.reason)
        .collect()
}

/// A count of 10 stored for order A, as an earlier batch left it.
async fn seed_count_of_a<S: Store + 'static>(s: &Arc<S>) {
    s.put_if_newer(&Snapshot::new(
        "count",
        None,
        "A",
        t0() - secs(100),
        serde_json::json!(10),
    ))
    .await
    .unwrap();
}

async fn count_of<S: Store + 'static>(s: &Arc<S>, id: &str) -> Option<u64> {
    s.snapshot("count", id)
        .await
        .unwrap()
        .and_then(|x| x.data.as_u64())
}

fn counting_processor(
    inbox: Arc<dyn Inbox>,
    w: Arc<dyn WorkStore>,
    batch: u32,
    lease: std::time::Duration,
) -> InboxProcessor {
    InboxProcessor::new(
        inbox,
        Arc::new(Counter),
        Arc::new(crate::clock::SystemClock),
    )
    .source(
        "native",
        Arc::new(crate::webhook::NativeSource::new(
            crate::webhook::Secret::from("conformance"),
        )),
    )
    .concurrency(4)
    .batch_size(batch)
    .lease(lease)
    .unit_of_work(w)
}

/// Pipelined batches ([`crate::inbox::Pipeline`]): each batch is handled while the one
/// before is committed (here a commit waits 60 ms before it starts, so the next batch's read
/// ahead always runs first), and still sees that batch's writes; a barrier waits for the
/// commit under way; a stop commits what was handled last.
pub async fn work_pipeline_reads_the_batch_being_committed<S: Store + WorkStore + 'static>(
    s: Arc<S>,
) {
    seed_count_of_a(&s).await;
    let plan = [
        "A", "B", "A", "A", "B", "A", "|", "A", "B", "A", "A", "A", "B",
    ];
    let ids = store_plan(&s, "p", &plan).await;
    let slow = Arc::new(SlowCommit {
        inner: s.clone(),
        commits: Default::default(),
        fail_at: None,
    });
    let processor = counting_processor(s.clone(), slow.clone(), 2, LEASE);
    let mut pipeline = processor.pipeline();
    let mut done = 0;
    // Step by step, so the stop's flush is what commits the last batch.
    loop {
        let r = pipeline.step().await.unwrap();
        assert_eq!((r.retried, r.dead), (0, 0), "{r:?}");
        done += r.done;
        if r.done == 0 && !pipeline.is_pending() {
            break;
        }
    }
    done += pipeline.flush().await.unwrap().done;
    assert_eq!(done as usize, plan.len(), "every entry done once");
    assert!(!pipeline.is_pending());
    let a = plan.iter().filter(|n| **n == "A").count() as u64;
    let b = plan.iter().filter(|n| **n == "B").count() as u64;
    assert_eq!(
        count_of(&s, "A").await,
        Some(10 + a),
        "each batch counted on top of the one being committed"
    );
    assert_eq!(count_of(&s, "B").await, Some(b));
    for id in &ids {
        let e = s.inbox_entry(*id).await.unwrap().unwrap();
        assert_eq!(e.status, InboxStatus::Done);
    }
    // The barrier saw every A before it stored: 10 + 4.
    assert_eq!(
        barrier_saw(&s).await,
        vec!["barrier saw A at Some(14)".to_owned()]
    );
    // The same through `drain`, on what a second delivery adds.
    store_plan(&s, "q", &["A", "A", "B", "A"]).await;
    let r = processor.drain().await.unwrap();
    assert_eq!(r.done, 4);
    assert_eq!(count_of(&s, "A").await, Some(10 + a + 3));
    assert_eq!(count_of(&s, "B").await, Some(b + 1));
    // A stop between batches: the batch handled last waits for `flush`.
    let ids = store_plan(&s, "r", &["A", "B", "A", "B"]).await;
    let mut pipeline = processor.pipeline();
    assert_eq!(pipeline.step().await.unwrap().done, 0);
    assert_eq!(pipeline.step().await.unwrap().done, 2);
    assert!(pipeline.is_pending());
    let status = |id: i64| {
        let s = s.clone();
        async move { s.inbox_entry(id).await.unwrap().unwrap().status }
    };
    assert_ne!(
        status(ids[3]).await,
        InboxStatus::Done,
        "handled, not committed"
    );
    assert_eq!(pipeline.flush().await.unwrap().done, 2);
    assert!(!pipeline.is_pending());
    for id in ids {
        assert_eq!(status(id).await, InboxStatus::Done);
    }
    assert_eq!(count_of(&s, "A").await, Some(10 + a + 5));
    assert_eq!(count_of(&s, "B").await, Some(b + 3));
}

/// A pipelined batch's commit that fails drops the next batch's handled work too (it was
/// built on the failed writes): both stay claimed and, their lease run out, are processed
/// again; nothing is counted twice or lost.
pub async fn work_pipeline_drops_the_next_batch_when_a_commit_fails<
    S: Store + WorkStore + 'static,
>(
    s: Arc<S>,
) {
    let plan = ["A", "A", "B", "A", "A", "B", "A", "B"];
    let ids = store_plan(&s, "f", &plan).await;
    let lease = std::time::Duration::from_millis(300);
    let slow = Arc::new(SlowCommit {
        inner: s.clone(),
        commits: Default::default(),
        // The first commit is batch 1's (started by step 2); the second, batch 2's, fails.
        fail_at: Some(2),
    });
    let processor = counting_processor(s.clone(), slow.clone(), 2, lease);
    let mut pipeline = processor.pipeline();
    assert_eq!(pipeline.step().await.unwrap().done, 0, "batch 1 handled");
    assert_eq!(pipeline.step().await.unwrap().done, 2, "batch 1 committed");
    let err = pipeline.step().await.unwrap_err();
    assert!(err.to_string().contains("planned failure"), "{err}");
    assert!(!pipeline.is_pending(), "batch 3 was dropped with batch 2");
    // Batch 1 (A, A) is stored; batches 2 (B, A) and 3 (A, B) are not.
    assert_eq!(count_of(&s, "A").await, Some(2));
    assert_eq!(count_of(&s, "B").await, None);
    for id in &ids[2..6] {
        let e = s.inbox_entry(*id).await.unwrap().unwrap();
        assert_ne!(e.status, InboxStatus::Done, "entry {id} left to its lease");
    }
    // Once the leases run out, the rest is processed once.
    tokio::time::sleep(lease + std::time::Duration::from_millis(50)).await;
    let r = pipeline.drain().await.unwrap();
    assert_eq!(r.done, 6, "{r:?}");
    let a = plan.iter().filter(|n| **n == "A").count() as u64;
    let b = plan.iter().filter(|n| **n == "B").count() as u64;
    assert_eq!(count_of(&s, "A").await, Some(a));
    assert_eq!(count_of(&s, "B").await, Some(b));
    for id in &ids {
        let e = s.inbox_entry(*id).await.unwrap().unwrap();
        assert_eq!(e.status, InboxStatus::Done);
    }
}

/// An inbox whose `fail_at`-th claim fails.
struct FailingClaim<S> {
    inner: Arc<S>,
    claims: std::sync::atomic::AtomicUsize,
    fail_at: usize,
}

#[async_trait::async_trait]
impl<S: Store + 'static> Inbox for FailingClaim<S> {
    async fn insert(&self, entry: NewInboxEntry) -> Result<InboxInsert, crate::Error> {
        self.inner.insert(entry).await
    }

    async fn claim(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: u32,
        lease: std::time::Duration,
    ) -> Result<Vec<InboxEntry>, crate::Error> {
        let n = self
            .claims
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        if n == self.fail_at {
            return Err(crate::Error::storage(
                "claim from the inbox",
                "the conformance check's planned failure",
            ));
        }
        self.inner.claim(now, limit, lease).await
    }

    async fn complete(
        &self,
        id: i64,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), crate::Error> {
        self.inner.complete(id, now).await
    }

    async fn complete_many(
        &self,
        ids: &[i64],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), crate::Error> {
        self.inner.complete_many(ids, now).await
    }

    async fn retry_at(
        &self,
        id: i64,
        at: chrono::DateTime<chrono::Utc>,
        error: &str,
    ) -> Result<(), crate::Error> {
        self.inner.retry_at(id, at, error).await
    }

    async fn dead_letter(&self, id: i64, reason: &str) -> Result<(), crate::Error> {
        self.inner.dead_letter(id, reason).await
    }

    async fn inbox_entry(&self, id: i64) -> Result<Option<InboxEntry>, crate::Error> {
        self.inner.inbox_entry(id).await
    }

    async fn dead_letters(&self, limit: u32) -> Result<Vec<InboxEntry>, crate::Error> {
        self.inner.dead_letters(limit).await
    }

    async fn requeue(
        &self,
        id: i64,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, crate::Error> {
        self.inner.requeue(id, at).await
    }
}

/// `drain` stopped by an error (here a claim that fails) commits the batch it had handled
/// before returning it: that batch's entries are done, not left claimed until their lease
/// runs out.
pub async fn work_pipeline_drain_commits_what_was_handled_before_an_error<
    S: Store + WorkStore + 'static,
>(
    s: Arc<S>,
) {
    let ids = store_plan(&s, "e", &["A", "B", "A", "B"]).await;
    let inbox = Arc::new(FailingClaim {
        inner: s.clone(),
        claims: Default::default(),
        fail_at: 2,
    });
    let processor = counting_processor(inbox, s.clone(), 2, LEASE);
    let err = processor.drain().await.unwrap_err();
    assert!(err.to_string().contains("planned failure"), "{err}");
    for id in &ids[..2] {
        let e = s.inbox_entry(*id).await.unwrap().unwrap();
        assert_eq!(
            e.status,
            InboxStatus::Done,
            "handled before the error: committed"
        );
    }
    for id in &ids[2..] {
        let e = s.inbox_entry(*id).await.unwrap().unwrap();
        assert_eq!(
            (e.status, e.attempts),
            (InboxStatus::Pending, 0),
            "never claimed"
        );
    }
    assert_eq!(count_of(&s, "A").await, Some(1));
    assert_eq!(count_of(&s, "B").await, Some(1));
}
