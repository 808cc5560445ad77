//! Catch-up polling end to end on a real SQLite file: a platform (a fake `OrderSource`)
//! lists orders changed since the poller's cursor; what webhooks missed lands in the inbox
//! once, is decoded by `PolledSource` and reaches the handler as events.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aftercare::Error;
use aftercare::clock::ManualClock;
use aftercare::inbox::{EventHandler, HandlerError, InboxProcessor};
use aftercare::model::{Order, OrderId, PlatformEvent, Shipment, ShipmentStatus};
use aftercare::platform::OrderSource;
use aftercare::platform::poll::{CatchUpPoller, POLL_TOPIC, PollSettings, PolledSource};
use aftercare::store::{Inbox, InboxEntry, InboxStatus, Snapshot, SnapshotStore};
use aftercare_sqlite::SqliteStore;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use futures::stream::{self, BoxStream, StreamExt};

const POLLER: &str = "shop-poll";

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// A platform's order API: lists orders by modification time, ascending, as
/// `updated_since` promises; can be told to fail after handing out `n` orders.
#[derive(Default)]
struct FakeShop {
    orders: Mutex<Vec<Order>>,
    shipments: Mutex<HashMap<String, Vec<Shipment>>>,
    /// `updated_since` fails (a retryable API error) after this many orders.
    fail_after: Mutex<Option<usize>>,
    /// Every `since` asked for.
    asked: Mutex<Vec<DateTime<Utc>>>,
}

impl FakeShop {
    fn put(&self, id: &str, updated: &str) {
        let mut o = Order::new(id, format!("#{id}"));
        o.shop = Some("demo.myshopify.com".into());
        o.updated_at = Some(t(updated));
        let mut orders = self.orders.lock().unwrap();
        orders.retain(|x| x.id.as_str() != id);
        orders.push(o);
    }

    fn ship(&self, order: &str, id: &str, updated: &str) {
        let mut s = Shipment::new(id, order, ShipmentStatus::InTransit);
        s.updated_at = Some(t(updated));
        self.shipments
            .lock()
            .unwrap()
            .entry(order.to_owned())
            .or_default()
            .push(s);
    }
}

#[async_trait]
impl OrderSource for FakeShop {
    async fn order(&self, id: &OrderId) -> Result<Option<Order>, Error> {
        Ok(self
            .orders
            .lock()
            .unwrap()
            .iter()
            .find(|o| &o.id == id)
            .cloned())
    }

    fn updated_since(&self, since: DateTime<Utc>) -> BoxStream<'_, Result<Order, Error>> {
        self.asked.lock().unwrap().push(since);
        let mut list: Vec<Order> = self
            .orders
            .lock()
            .unwrap()
            .iter()
            .filter(|o| o.updated_at.is_some_and(|u| u >= since))
            .cloned()
            .collect();
        list.sort_by_key(|o| o.updated_at);
        let mut items: Vec<Result<Order, Error>> = list.into_iter().map(Ok).collect();
        if let Some(n) = *self.fail_after.lock().unwrap() {
            items.truncate(n);
            items.push(Err(Error::Platform {
                operation: "list orders (page 2)".into(),
                status: Some(503),
                message: "Service Unavailable".into(),
                retryable: true,
            }));
        }
        stream::iter(items).boxed()
    }

    async fn shipments(&self, order: &OrderId) -> Result<Vec<Shipment>, Error> {
        Ok(self
            .shipments
            .lock()
            .unwrap()
            .get(order.as_str())
            .cloned()
            .unwrap_or_default())
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    shop: Arc<FakeShop>,
    clock: Arc<ManualClock>,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aftercare.db");
    Setup {
        _dir: dir,
        path,
        shop: Arc::new(FakeShop::default()),
        clock: Arc::new(ManualClock::new(t("2026-11-02T12:00:00Z"))),
    }
}

fn poller(s: &Setup, store: Arc<SqliteStore>) -> CatchUpPoller {
    CatchUpPoller::new(POLLER, s.shop.clone(), store, s.clock.clone()).settings(
        PollSettings::default()
            .overlap(std::time::Duration::from_secs(300))
            .first_lookback(std::time::Duration::from_secs(2 * 24 * 3600)),
    )
}

/// Every entry the poller stored (the store numbers entries from 1; the inbox has no
/// listing, and these tests store fewer than 50).
async fn polled(store: &SqliteStore) -> Vec<InboxEntry> {
    let mut out = Vec::new();
    for id in 1..50 {
        if let Some(e) = store.inbox_entry(id).await.unwrap() {
            out.push(e);
        }
    }
    out.retain(|e| e.source == POLLER);
    out
}

fn events(e: &InboxEntry) -> Vec<PlatformEvent> {
    serde_json::from_slice(&e.body).unwrap()
}

#[derive(Default)]
struct Seen(Mutex<Vec<(String, Vec<PlatformEvent>)>>);

#[async_trait]
impl EventHandler for Seen {
    async fn handle(
        &self,
        entry: &InboxEntry,
        events: Vec<PlatformEvent>,
    ) -> Result<(), HandlerError> {
        self.0
            .lock()
            .unwrap()
            .push((entry.dedupe_key.clone(), events));
        Ok(())
    }
}

#[tokio::test]
async fn a_missed_order_is_stored_once_and_processed_into_events() {
    let s = setup();
    let store = Arc::new(SqliteStore::open(&s.path).await.unwrap());
    s.shop.put("1001", "2026-11-02T10:00:00Z");
    s.shop.ship("1001", "7001", "2026-11-02T10:30:00Z");
    let p = poller(&s, store.clone());

    let r = p.poll_once().await.unwrap();
    assert_eq!((r.seen, r.stored, r.skipped), (1, 1, 0));
    let entries = polled(&store).await;
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(e.dedupe_key, "order:1001@2026-11-02T10:00:00.000000Z");
    assert_eq!(e.topic.as_deref(), Some(POLL_TOPIC));
    assert_eq!(e.shop.as_deref(), Some("demo.myshopify.com"));

    // The next pass re-reads the overlap and stores nothing new.
    s.clock.advance(Duration::minutes(5));
    let r = p.poll_once().await.unwrap();
    assert_eq!((r.seen, r.stored, r.skipped), (1, 0, 1));
    assert_eq!(polled(&store).await.len(), 1);

    // A later change of the same order is a new version: stored once more.
    s.shop.put("1001", "2026-11-02T12:01:00Z");
    s.clock.advance(Duration::minutes(5));
    let r = p.poll_once().await.unwrap();
    assert_eq!(r.stored, 1);
    assert_eq!(polled(&store).await.len(), 2);

    // Through the inbox like any webhook: the handler sees each version's events once.
    let seen = Arc::new(Seen::default());
    let processor = InboxProcessor::new(store.clone(), seen.clone(), s.clock.clone())
        .source(POLLER, Arc::new(PolledSource));
    let report = processor.drain().await.unwrap();
    assert_eq!((report.done, report.retried, report.dead), (2, 0, 0));
    assert_eq!(processor.drain().await.unwrap().done, 0, "nothing left");
    let seen = seen.0.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    let kinds: Vec<&str> = seen[0].1.iter().map(PlatformEvent::kind).collect();
    assert_eq!(kinds, ["order_updated", "shipment_updated"]);
    match &seen[0].1[1] {
        PlatformEvent::ShipmentUpdated { shipment } => {
            assert_eq!(shipment.id.as_str(), "7001");
            assert_eq!(shipment.order_id.as_str(), "1001");
        }
        other => panic!("{other:?}"),
    }
    for e in polled(&store).await {
        assert_eq!(e.status, InboxStatus::Done);
    }
}

#[tokio::test]
async fn a_shipment_a_webhook_already_brought_is_left_out() {
    let s = setup();
    let store = Arc::new(SqliteStore::open(&s.path).await.unwrap());
    s.shop.put("1002", "2026-11-02T11:00:00Z");
    s.shop.ship("1002", "7101", "2026-11-02T10:00:00Z"); // a webhook brought this state
    s.shop.ship("1002", "7102", "2026-11-02T10:40:00Z"); // a webhook brought an older state
    s.shop.ship("1002", "7103", "2026-11-02T10:50:00Z"); // no webhook
    let snap = |id: &str, v: &str| {
        Snapshot::new(
            "shipment",
            Some("demo.myshopify.com".into()),
            id,
            t(v),
            serde_json::json!({}),
        )
    };
    store
        .put_if_newer(&snap("7101", "2026-11-02T10:00:00Z"))
        .await
        .unwrap();
    store
        .put_if_newer(&snap("7102", "2026-11-02T10:20:00Z"))
        .await
        .unwrap();

    let r = poller(&s, store.clone()).poll_once().await.unwrap();
    assert_eq!(r.stored, 1);
    let entries = polled(&store).await;
    let ids: Vec<String> = events(&entries[0])
        .iter()
        .filter_map(|e| match e {
            PlatformEvent::ShipmentUpdated { shipment } => Some(shipment.id.as_str().to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(
        ids,
        ["7102", "7103"],
        "the shipment as new as its snapshot is left out"
    );
    assert_eq!(
        entries[0].meta.get("shipments").map(String::as_str),
        Some("2")
    );
}

#[tokio::test]
async fn the_cursor_survives_a_restart() {
    let s = setup();
    s.shop.put("1003", "2026-11-02T09:00:00Z");
    s.shop.put("1004", "2026-11-02T11:30:00Z");
    {
        let store = Arc::new(SqliteStore::open(&s.path).await.unwrap());
        let p = poller(&s, store.clone());
        assert_eq!(p.cursor().await.unwrap(), None);
        assert_eq!(p.poll_once().await.unwrap().stored, 2);
        assert_eq!(p.cursor().await.unwrap(), Some(t("2026-11-02T11:30:00Z")));
        store.close().await;
    }
    // The first pass looked back the configured two days.
    assert_eq!(
        s.shop.asked.lock().unwrap().as_slice(),
        [t("2026-10-31T12:00:00Z")]
    );

    // A new process on the same file: a new store and a new poller.
    s.clock.advance(Duration::hours(1));
    let store = Arc::new(SqliteStore::open(&s.path).await.unwrap());
    let p = poller(&s, store.clone());
    assert_eq!(p.cursor().await.unwrap(), Some(t("2026-11-02T11:30:00Z")));
    s.shop.put("1005", "2026-11-02T12:30:00Z");
    let r = p.poll_once().await.unwrap();
    // From the cursor less the overlap, not from the first look-back.
    assert_eq!(
        s.shop.asked.lock().unwrap().last().copied(),
        Some(t("2026-11-02T11:25:00Z"))
    );
    assert_eq!((r.seen, r.stored, r.skipped), (2, 1, 1));
    assert_eq!(polled(&store).await.len(), 3);
    assert_eq!(p.cursor().await.unwrap(), Some(t("2026-11-02T12:30:00Z")));
}

#[tokio::test]
async fn a_pass_that_fails_mid_way_keeps_the_cursor_and_the_next_gets_everything() {
    let s = setup();
    let store = Arc::new(SqliteStore::open(&s.path).await.unwrap());
    let p = poller(&s, store.clone());
    s.shop.put("1006", "2026-11-02T08:00:00Z");
    p.poll_once().await.unwrap();
    let before = p.cursor().await.unwrap();
    assert_eq!(before, Some(t("2026-11-02T08:00:00Z")));

    s.shop.put("1007", "2026-11-02T09:00:00Z");
    s.shop.put("1008", "2026-11-02T10:00:00Z");
    s.shop.put("1009", "2026-11-02T11:00:00Z");
    // The second page fails: 1006 (overlap) and 1007 were listed, the rest was not.
    *s.shop.fail_after.lock().unwrap() = Some(2);
    s.clock.advance(Duration::minutes(5));
    let err = p.poll_once().await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(p.cursor().await.unwrap(), before, "the cursor did not move");

    *s.shop.fail_after.lock().unwrap() = None;
    s.clock.advance(Duration::minutes(5));
    let r = p.poll_once().await.unwrap();
    let asked = s.shop.asked.lock().unwrap().clone();
    assert_eq!(
        asked[1], asked[2],
        "the next pass starts where the failed one did"
    );
    // 1007 was stored by the failed pass; 1008 and 1009 now; nothing twice.
    assert_eq!((r.seen, r.stored, r.skipped), (4, 2, 2));
    let mut keys: Vec<String> = polled(&store)
        .await
        .into_iter()
        .map(|e| e.dedupe_key)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "order:1006@2026-11-02T08:00:00.000000Z",
            "order:1007@2026-11-02T09:00:00.000000Z",
            "order:1008@2026-11-02T10:00:00.000000Z",
            "order:1009@2026-11-02T11:00:00.000000Z",
        ]
    );
    assert_eq!(p.cursor().await.unwrap(), Some(t("2026-11-02T11:00:00Z")));
}

/// The first pass has no cursor and starts its look-back from the clock; when it fails, the
/// next pass, later, must still start no later than the failed one did, or the orders the
/// failed pass did not reach slip out of the look-back between the two.
#[tokio::test]
async fn a_failed_first_pass_keeps_its_starting_point() {
    let s = setup();
    let store = Arc::new(SqliteStore::open(&s.path).await.unwrap());
    let p = poller(&s, store.clone());
    // Two days back from 2026-11-02T12:00Z is 2026-10-31T12:00Z.
    s.shop.put("1010", "2026-10-31T12:01:00Z");
    s.shop.put("1011", "2026-10-31T12:03:00Z");
    s.shop.put("1012", "2026-11-02T11:00:00Z");
    *s.shop.fail_after.lock().unwrap() = Some(1);
    assert!(p.poll_once().await.is_err());

    *s.shop.fail_after.lock().unwrap() = None;
    s.clock.advance(Duration::minutes(5));
    let r = p.poll_once().await.unwrap();
    let asked = s.shop.asked.lock().unwrap().clone();
    assert!(
        asked[1] <= asked[0],
        "the pass after a failed first pass started at {}, after the failed one ({})",
        asked[1],
        asked[0]
    );
    assert_eq!((r.stored, r.skipped), (2, 1));
    let mut keys: Vec<String> = polled(&store)
        .await
        .into_iter()
        .map(|e| e.dedupe_key)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "order:1010@2026-10-31T12:01:00.000000Z",
            "order:1011@2026-10-31T12:03:00.000000Z",
            "order:1012@2026-11-02T11:00:00.000000Z",
        ],
        "every order the failed pass should have read"
    );
}

/// De-duplicated against webhooks by resource id and modification time: an order a webhook
/// brought (recorded by `OrderVersions` in the handler chain) at the version the platform
/// lists is not stored again; a newer version of it is.
#[tokio::test]
async fn an_order_version_a_webhook_already_brought_is_not_stored_again() {
    use aftercare::platform::poll::OrderVersions;
    let s = setup();
    let store = Arc::new(SqliteStore::open(&s.path).await.unwrap());
    s.shop.put("1003", "2026-11-02T11:00:00Z");
    s.shop.put("1004", "2026-11-02T11:10:00Z");

    // A webhook brought order 1003 at 11:00 (and 1004 at an older state, 10:00).
    let mut webhook_order = Order::new("1003", "#1003");
    webhook_order.updated_at = Some(t("2026-11-02T11:00:00Z"));
    let mut older = Order::new("1004", "#1004");
    older.updated_at = Some(t("2026-11-02T10:00:00Z"));
    let versions = OrderVersions::new(store.clone());
    let entry = {
        let mut entry = InboxEntry::new(
            0,
            "webhooks",
            "w",
            Vec::new(),
            aftercare::clock::Clock::now(s.clock.as_ref()),
        );
        entry.meta = Default::default();
        entry.status = InboxStatus::Done;
        entry.attempts = 1;
        entry.next_attempt_at = aftercare::clock::Clock::now(s.clock.as_ref());
        entry
    };
    versions
        .handle(
            &entry,
            vec![
                PlatformEvent::OrderUpdated {
                    order: webhook_order,
                },
                PlatformEvent::OrderPaid { order: older },
            ],
        )
        .await
        .unwrap();

    let r = poller(&s, store.clone()).poll_once().await.unwrap();
    assert_eq!((r.seen, r.stored, r.skipped), (2, 1, 1));
    let keys: Vec<String> = polled(&store)
        .await
        .into_iter()
        .map(|e| e.dedupe_key)
        .collect();
    assert_eq!(keys, ["order:1004@2026-11-02T11:10:00.000000Z"]);

    // The order changes again on the platform and its webhook is lost: the poller has it.
    s.shop.put("1003", "2026-11-02T12:30:00Z");
    s.clock.advance(Duration::minutes(45));
    let r = poller(&s, store.clone()).poll_once().await.unwrap();
    assert_eq!(r.stored, 1);
}
