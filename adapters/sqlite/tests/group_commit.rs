//! The flows' writes share transactions (`flow_writer.rs`): a write that fails inside a group
//! fails alone, the others of its group are stored and answered.

use std::sync::Arc;

use aftercare::model::{ChannelKind, OutboundMessage, Purpose};
use aftercare::store::{NewOutboxMessage, Outbox as _, Snapshot, SnapshotStore as _};
use aftercare_sqlite::SqliteStore;
use chrono::{TimeZone as _, Utc};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_write_fails_alone_in_its_group() {
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    // The database refuses one snapshot, as a constraint would.
    sqlx::query(
        "CREATE TRIGGER refuse_bad BEFORE INSERT ON snapshots WHEN NEW.id = 'bad'
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap();
    let mut tasks = Vec::new();
    for i in 0..64 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            let id = if i == 20 {
                "bad".to_owned()
            } else {
                format!("ok-{i}")
            };
            let snap = Snapshot::new("order", None, id.clone(), at, serde_json::json!({ "i": i }));
            let put = s.put_if_newer(&snap).await;
            let msg =
                OutboundMessage::new(ChannelKind::Sms, "+15550100", Purpose::Transactional, "hi");
            let queued = s
                .enqueue(NewOutboxMessage::new(format!("gc-{i}"), msg, at, "r"), at)
                .await;
            (id, put, queued)
        }));
    }
    for t in tasks {
        let (id, put, queued) = t.await.unwrap();
        assert!(queued.is_ok(), "{id}: {queued:?}");
        if id == "bad" {
            let e = put.expect_err("the refused snapshot reports an error");
            assert!(e.to_string().contains("refused by the test"), "{e}");
            assert!(store.snapshot("order", &id).await.unwrap().is_none());
        } else {
            assert!(put.unwrap(), "{id} is stored");
            assert!(
                store.snapshot("order", &id).await.unwrap().is_some(),
                "{id}"
            );
        }
    }
    for i in 0..64 {
        assert!(
            store
                .outbox_by_key(&format!("gc-{i}"))
                .await
                .unwrap()
                .is_some(),
            "message {i}"
        );
    }
    store.close().await;
}
