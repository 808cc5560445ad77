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
async fn connections_use_wal_normal_sync_and_40_mb_checkpoints() {
    let store = SqliteStore::open_temporary().await.unwrap();
    assert_eq!(pragma(&store, "journal_mode").await, "wal");
    assert_eq!(pragma(&store, "synchronous").await, "1", "NORMAL");
    assert_eq!(pragma(&store, "wal_autocheckpoint").await, "10000");
    assert_eq!(pragma(&store, "journal_size_limit").await, "67108864");
    assert_eq!(pragma(&store, "foreign_keys").await, "1");

    let dir = tempfile::tempdir().unwrap();
    let safe = SqliteStore::open_with(dir.path().join("a.db"), Durability::PowerLoss)
        .await
        .unwrap();
    assert_eq!(pragma(&safe, "synchronous").await, "2", "FULL");
}
