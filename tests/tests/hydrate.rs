//! Thin webhooks hydrated from the inbox (`InboxProcessor::hydrator`) on real SQLite: an API
//! outage delays the event, never loses it; a body that can never be hydrated is
//! dead-lettered with the reason.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::Error;
use aftercare::backoff::RetryPolicy;
use aftercare::clock::{Clock, ManualClock};
use aftercare::inbox::{EventHandler, HandlerError, InboxProcessor};
use aftercare::model::{Order, PlatformEvent};
use aftercare::platform::thin::Hydrator;
use aftercare::store::{Inbox, InboxEntry, InboxInsert, InboxStatus, NewInboxEntry};
use aftercare::webhook::VerifiedWebhook;
use aftercare_sqlite::SqliteStore;
use async_trait::async_trait;
use chrono::Utc;

const SOURCE: &str = "thin-shop";

/// A platform API behind a hydrator: `fail` times it answers with `error`, then it serves
/// the order the webhook names.
struct ApiHydrator {
    calls: AtomicU32,
    fail: u32,
    error: fn() -> Error,
}

#[async_trait]
impl Hydrator for ApiHydrator {
    async fn hydrate(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if n < self.fail {
            return Err((self.error)());
        }
        let body: serde_json::Value =
            serde_json::from_slice(&entry.body).map_err(|e| Error::decode("thin webhook", e))?;
        let id = body["data"]["id"]
            .as_u64()
            .ok_or_else(|| Error::decode("thin webhook", "no `data.id`"))?;
        Ok(vec![PlatformEvent::OrderUpdated {
            order: Order::new(id.to_string(), format!("#{id}")),
        }])
    }
}

fn outage() -> Error {
    Error::Platform {
        operation: "fetch order 250".into(),
        status: Some(503),
        message: "Service Unavailable".into(),
        retryable: true,
    }
}

fn gone_for_good() -> Error {
    Error::Platform {
        operation: "fetch order 250".into(),
        status: Some(403),
        message: "the app lost the read_orders scope".into(),
        retryable: false,
    }
}

#[derive(Default)]
struct Seen(Mutex<Vec<Vec<PlatformEvent>>>);

#[async_trait]
impl EventHandler for Seen {
    async fn handle(
        &self,
        _entry: &InboxEntry,
        events: Vec<PlatformEvent>,
    ) -> Result<(), HandlerError> {
        self.0.lock().unwrap().push(events);
        Ok(())
    }
}

struct Setup {
    store: Arc<SqliteStore>,
    clock: Arc<ManualClock>,
    seen: Arc<Seen>,
    hydrator: Arc<ApiHydrator>,
    processor: InboxProcessor,
    id: i64,
}

/// A stored thin webhook (`{"scope":"store/order/updated","data":{"type":"order","id":250}}`,
/// the shape of BigCommerce's) and a processor hydrating it.
async fn setup(fail: u32, error: fn() -> Error, attempts: u32) -> Setup {
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let mut v = VerifiedWebhook::new("evt-250-1");
    v.topic = Some("store/order/updated".into());
    let body = br#"{"scope":"store/order/updated","data":{"type":"order","id":250}}"#;
    let InboxInsert::Inserted(id) = store
        .insert(NewInboxEntry::new(SOURCE, v, body.to_vec(), clock.now()))
        .await
        .unwrap()
    else {
        panic!("not inserted")
    };
    let seen = Arc::new(Seen::default());
    let hydrator = Arc::new(ApiHydrator {
        calls: AtomicU32::new(0),
        fail,
        error,
    });
    let processor = InboxProcessor::new(store.clone(), seen.clone(), clock.clone())
        .hydrator(SOURCE, hydrator.clone())
        .retry_policy(RetryPolicy::new(
            Duration::from_secs(10),
            Duration::from_secs(60),
            attempts,
        ));
    Setup {
        store,
        clock,
        seen,
        hydrator,
        processor,
        id,
    }
}

#[tokio::test]
async fn a_retryable_api_error_leaves_the_entry_for_retry_then_the_events_arrive_once() {
    let s = setup(2, outage, 5).await;

    let r = s.processor.run_once().await.unwrap();
    assert_eq!((r.done, r.retried, r.dead), (0, 1, 0));
    let e = s.store.inbox_entry(s.id).await.unwrap().unwrap();
    assert_eq!(
        e.status,
        InboxStatus::Pending,
        "waiting for a retry, not dead"
    );
    assert!(
        e.next_attempt_at > s.clock.now(),
        "retried later, with backoff"
    );
    assert!(
        e.last_error
            .as_deref()
            .unwrap_or("")
            .contains("Service Unavailable"),
        "{:?}",
        e.last_error
    );
    assert!(s.store.dead_letters(10).await.unwrap().is_empty());
    assert!(s.seen.0.lock().unwrap().is_empty());

    // Not due yet: nothing is claimed.
    let r = s.processor.run_once().await.unwrap();
    assert_eq!((r.done, r.retried, r.dead), (0, 0, 0));
    assert_eq!(s.hydrator.calls.load(Ordering::SeqCst), 1);

    // The second attempt fails too, the third succeeds.
    s.clock.advance(chrono::Duration::seconds(11));
    assert_eq!(s.processor.run_once().await.unwrap().retried, 1);
    s.clock.advance(chrono::Duration::seconds(21));
    let r = s.processor.run_once().await.unwrap();
    assert_eq!((r.done, r.retried, r.dead), (1, 0, 0));
    assert_eq!(s.hydrator.calls.load(Ordering::SeqCst), 3);
    let e = s.store.inbox_entry(s.id).await.unwrap().unwrap();
    assert_eq!(e.status, InboxStatus::Done);

    // Later passes find nothing: the handler saw the events once.
    s.clock.advance(chrono::Duration::hours(1));
    assert_eq!(s.processor.drain().await.unwrap().done, 0);
    let seen = s.seen.0.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    match seen[0].as_slice() {
        [PlatformEvent::OrderUpdated { order }] => assert_eq!(order.id.as_str(), "250"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_non_retryable_error_dead_letters_with_the_reason() {
    let s = setup(u32::MAX, gone_for_good, 5).await;
    let r = s.processor.run_once().await.unwrap();
    assert_eq!((r.done, r.retried, r.dead), (0, 0, 1));
    let dead = s.store.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].id, s.id);
    assert_eq!(dead[0].status, InboxStatus::Dead);
    let reason = dead[0].last_error.as_deref().unwrap_or("");
    assert!(
        reason.contains("the app lost the read_orders scope") && reason.contains("HTTP 403"),
        "{reason}"
    );
    assert_eq!(s.hydrator.calls.load(Ordering::SeqCst), 1, "not retried");
    assert!(s.seen.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_outage_longer_than_the_retries_dead_letters_saying_so() {
    let s = setup(u32::MAX, outage, 2).await;
    assert_eq!(s.processor.run_once().await.unwrap().retried, 1);
    s.clock.advance(chrono::Duration::seconds(11));
    assert_eq!(s.processor.run_once().await.unwrap().dead, 1);
    let dead = s.store.dead_letters(10).await.unwrap();
    let reason = dead[0].last_error.as_deref().unwrap_or("");
    assert!(
        reason.contains("gave up after 2 attempts") && reason.contains("Service Unavailable"),
        "{reason}"
    );
    assert!(s.seen.0.lock().unwrap().is_empty());
}
