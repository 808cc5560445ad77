//! Every pooled connection runs with the settings the crate documents.

use aftercare_sqlite::{Durability, SqliteStore};
use sqlx::Row as _;

async fn pragma(store: &SqliteStore, name: &str) -> String {
    let mut conn = store.pool().acquire().await.unwrap();
    let row = sqlx::query(&format!("PRAGMA {name}"))
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    // Text for `journal_mode`, numbers for the others.
    row.try_get::<String, _>(0)
        .or_else(|_| row.try_get::<i64, _>(0).map(|i| i.to_string()))
        .unwrap()
}

#[tokio::test]
async fn connections_use_wal_normal_sync_and_no_checkpoint_inside_a_commit() {
    let store = SqliteStore::open_temporary().await.unwrap();
    assert_eq!(pragma(&store, "journal_mode").await, "wal");
    assert_eq!(pragma(&store, "synchronous").await, "1", "NORMAL");
    // Checkpoints run on the store's own task, never inside a commit (issue 20).
    assert_eq!(pragma(&store, "wal_autocheckpoint").await, "0");
    assert_eq!(pragma(&store, "journal_size_limit").await, "67108864");
    assert_eq!(pragma(&store, "foreign_keys").await, "1");

    let dir = tempfile::tempdir().unwrap();
    let safe = SqliteStore::open_with(dir.path().join("a.db"), Durability::PowerLoss)
        .await
        .unwrap();
    assert_eq!(pragma(&safe, "synchronous").await, "2", "FULL");
}

/// The store's checkpointer copies committed pages into the database file in the
/// background: a few hundred inserts (far below any automatic checkpoint threshold, which
/// used to be the only checkpoint) reach the main file within seconds, while the store is
/// open and idle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_is_checkpointed_in_the_background() {
    use aftercare::store::{Inbox as _, NewInboxEntry};
    use aftercare::webhook::VerifiedWebhook;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let before = std::fs::metadata(&path).unwrap().len();
    for i in 0..300 {
        // Bodies that do not compress much: about 2 KB each.
        let body: String = (0..256)
            .map(|j| format!("{:08x}", (i * 7919 + j * 104_729) as u32 ^ 0x9e37_79b9))
            .collect();
        let entry = NewInboxEntry::new(
            "shopify",
            VerifiedWebhook::new(format!("w-{i}")),
            format!(r#"{{"n":"{body}"}}"#).into_bytes(),
            chrono::Utc::now(),
        );
        store.insert(entry).await.unwrap();
    }
    let grown = async {
        loop {
            let now = std::fs::metadata(&path).unwrap().len();
            if now > before + 400 * 1024 {
                return now;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    };
    let size = tokio::time::timeout(std::time::Duration::from_secs(10), grown)
        .await
        .unwrap_or_else(|_| {
            panic!("the database file stayed at {before} bytes: no checkpoint ran")
        });
    assert!(size > before);
    store.close().await;
}
