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

/// Records what it handles, and how many entries were in its hands at once.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<(String, i64)>>,
    now: AtomicUsize,
    most: AtomicUsize,
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
        tokio::time::sleep(Duration::from_millis(25)).await;
        self.seen.lock().unwrap().push((what, entry.id));
        self.now.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    }
}

pub async fn inbox_processor_runs_orders_concurrently_in_order(s: Arc<dyn Store>) {
    let secret = crate::webhook::Secret::from("conformance");
    let native = Arc::new(crate::webhook::NativeSource::new(secret));
    // Three orders' updates interleaved, and an app uninstall (no order) in the middle.
    let mut plan: Vec<(String, Vec<u8>)> = Vec::new();
    for round in 1..=3 {
        for order in ["A", "B", "C"] {
            let mut o = Order::new(order, format!("#{order}{round}"));
            o.shop = Some(ShopId::new("demo.myshopify.com"));
            let e = PlatformEvent::OrderUpdated { order: o };
            plan.push((order.to_owned(), serde_json::to_vec(&e).unwrap()));
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
    let processor = InboxProcessor::new(
        s.clone(),
        recorder.clone(),
        Arc::new(crate::clock::SystemClock),
    )
    .source("native", native)
    .concurrency(8);
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
