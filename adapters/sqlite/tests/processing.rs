//! The inbox processor on a runtime with several worker threads: a batch's orders are
//! handled on all of them, each order's entries still in the inbox's order, never more at
//! once than the configured concurrency; with a concurrency of 1, one order at a time.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::clock::SystemClock;
use aftercare::inbox::{EventHandler, HandlerError, InboxProcessor};
use aftercare::model::{Order, PlatformEvent, ShopId};
use aftercare::store::{Inbox, InboxEntry, NewInboxEntry};
use aftercare::webhook::{NativeSource, Secret, VerifiedWebhook};
use aftercare_sqlite::SqliteStore;
use chrono::Utc;

/// Records each entry it handles (order, id, thread) and how many were in hand at once.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<(String, i64, std::thread::ThreadId)>>,
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
        let order = match events.first() {
            Some(PlatformEvent::OrderUpdated { order }) => order.id.as_str().to_owned(),
            other => panic!("unexpected events {other:?}"),
        };
        // CPU-bound work holds its thread, as rendering does: the other worker thread
        // takes the batch's other orders meanwhile.
        std::thread::sleep(Duration::from_millis(3));
        tokio::task::yield_now().await;
        self.seen
            .lock()
            .unwrap()
            .push((order, entry.id, std::thread::current().id()));
        self.now.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    }
}

/// 12 orders with 4 updates each, interleaved in the inbox; the recorder that handled a
/// batch of all of them at `concurrency`.
async fn handle_batch(concurrency: usize) -> (Arc<Recorder>, Vec<i64>) {
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let mut ids = Vec::new();
    for round in 0..4 {
        for order in 0..12 {
            let mut o = Order::new(format!("o{order}"), format!("#{order}-{round}"));
            o.shop = Some(ShopId::new("demo.myshopify.com"));
            let body = serde_json::to_vec(&PlatformEvent::OrderUpdated { order: o }).unwrap();
            let v = VerifiedWebhook::new(format!("w-{order}-{round}"));
            let id = store
                .insert(NewInboxEntry::new("native", v, body, Utc::now()))
                .await
                .unwrap();
            ids.push(id.id());
        }
    }
    let recorder = Arc::new(Recorder::default());
    let processor = InboxProcessor::new(store.clone(), recorder.clone(), Arc::new(SystemClock))
        .source("native", Arc::new(NativeSource::new(Secret::from("s"))))
        .batch_size(64)
        .concurrency(concurrency);
    let report = processor.run_once().await.unwrap();
    assert_eq!(report.done, 48);
    (recorder, ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_handled_on_every_worker_thread_each_order_in_order() {
    let (recorder, _) = handle_batch(4).await;
    let seen = recorder.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 48);
    let mut by_order: HashMap<&str, Vec<i64>> = HashMap::new();
    for (order, id, _) in &seen {
        by_order.entry(order).or_default().push(*id);
    }
    for (order, mine) in &by_order {
        let mut sorted = mine.clone();
        sorted.sort_unstable();
        assert_eq!(
            mine, &sorted,
            "order {order}'s entries in the inbox's order"
        );
    }
    let most = recorder.most.load(Ordering::SeqCst);
    assert!((2..=4).contains(&most), "{most} entries in hand at once");
    let threads: HashSet<_> = seen.iter().map(|(_, _, t)| *t).collect();
    assert_eq!(threads.len(), 2, "handled on both worker threads");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrency_of_one_handles_one_order_at_a_time_in_order() {
    let (recorder, ids) = handle_batch(1).await;
    let seen: Vec<i64> = recorder
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|(_, id, _)| *id)
        .collect();
    // Orders in the order of their first entry, each order's entries together, in order
    // (entry `order + 12 * round` is order `order`'s update of that round).
    let mut want = ids.clone();
    want.sort_by_key(|id| ((id - ids[0]) % 12, *id));
    assert_eq!(seen, want);
    assert_eq!(recorder.most.load(Ordering::SeqCst), 1);
}
