//! Webhooks arriving together are written in one batch: every caller still gets its own
//! answer, new or duplicate, with the right id.

use std::collections::HashMap;

use aftercare::store::{Inbox, InboxInsert, NewInboxEntry};
use aftercare::webhook::VerifiedWebhook;
use aftercare_sqlite::SqliteStore;
use chrono::Utc;

fn entry(source: &str, key: &str) -> NewInboxEntry {
    let body = format!(r#"{{"id":"{key}","note":"{}"}}"#, "x".repeat(700)).into_bytes();
    NewInboxEntry::new(source, VerifiedWebhook::new(key), body, Utc::now())
}

async fn id_of(store: &SqliteStore, source: &str, key: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM inbox WHERE source = ? AND dedupe_key = ?")
        .bind(source)
        .bind(key)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_burst_mixing_new_known_and_repeated_keys_gets_one_right_answer_each() {
    let store = SqliteStore::open_temporary().await.unwrap();
    // Ten webhooks stored earlier.
    for i in 0..10 {
        store
            .insert(entry("shopify", &format!("old-{i}")))
            .await
            .unwrap();
    }
    // The burst: the ten again, 30 new ones, ten of those twice, and one key that exists
    // under another source (a different webhook).
    let mut keys: Vec<(&str, String)> = Vec::new();
    keys.extend((0..10).map(|i| ("shopify", format!("old-{i}"))));
    keys.extend((0..30).map(|i| ("shopify", format!("new-{i}"))));
    keys.extend((0..10).map(|i| ("shopify", format!("new-{i}"))));
    keys.push(("woocommerce", "old-0".to_string()));
    let mut set = tokio::task::JoinSet::new();
    for (source, key) in keys.clone() {
        let s = store.clone();
        set.spawn(async move {
            let r = s.insert(entry(source, &key)).await.unwrap();
            (source, key, r)
        });
    }
    let mut answers = Vec::new();
    while let Some(r) = set.join_next().await {
        answers.push(r.unwrap());
    }
    assert_eq!(answers.len(), keys.len());

    let mut inserted: HashMap<(&str, String), usize> = HashMap::new();
    for (source, key, r) in &answers {
        assert_eq!(r.id(), id_of(&store, source, key).await, "{source} {key}");
        if let InboxInsert::Inserted(_) = r {
            assert!(
                !key.starts_with("old-") || *source == "woocommerce",
                "{key} existed"
            );
            *inserted.entry((source, key.clone())).or_default() += 1;
        }
    }
    // Each new key inserted exactly once, whichever copy came first.
    assert_eq!(inserted.len(), 31);
    assert!(inserted.values().all(|n| *n == 1));
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(rows, 41);
}
