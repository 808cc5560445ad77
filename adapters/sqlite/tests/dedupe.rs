//! De-duplication without a unique index: the writer's in-memory keys (and content keys)
//! stay exact when other stores (other processes) write to the same file, when rows are
//! deleted, across restarts and past one load chunk (4096 rows).

use std::collections::HashMap;

use aftercare::model::ShopId;
use aftercare::store::{Inbox, InboxInsert, NewInboxEntry, Redactor};
use aftercare::webhook::VerifiedWebhook;
use aftercare_sqlite::SqliteStore;
use chrono::{Duration, Utc};

fn entry(key: &str) -> NewInboxEntry {
    replay(key, key)
}

/// Webhook `key` carrying the body of webhook `body_of` (the same body under a fresh id).
fn replay(key: &str, body_of: &str) -> NewInboxEntry {
    let mut v = VerifiedWebhook::new(key);
    v.shop = Some("dedupe.myshopify.com".into());
    let body = format!(r#"{{"id":"{body_of}"}}"#).into_bytes();
    NewInboxEntry::new("shopify", v, body, Utc::now())
}

async fn insert(store: &SqliteStore, key: &str) -> InboxInsert {
    store.insert(entry(key)).await.unwrap()
}

/// Inserts `keys` in bursts of 64, as a busy receiver would.
async fn insert_all(store: &SqliteStore, keys: &[String]) -> Vec<InboxInsert> {
    let mut out = Vec::new();
    for chunk in keys.chunks(64) {
        let mut set = tokio::task::JoinSet::new();
        for (n, key) in chunk.iter().enumerate() {
            let s = store.clone();
            let key = key.clone();
            set.spawn(async move { (n, s.insert(entry(&key)).await.unwrap()) });
        }
        let mut answers = set.join_all().await;
        answers.sort_by_key(|(n, _)| *n);
        out.extend(answers.into_iter().map(|(_, a)| a));
    }
    out
}

async fn rows_with_key(store: &SqliteStore, key: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM inbox WHERE dedupe_key = ?")
        .bind(key)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

async fn two_stores() -> (tempfile::TempDir, SqliteStore, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aftercare.db");
    let a = SqliteStore::open(&path).await.unwrap();
    let b = SqliteStore::open(&path).await.unwrap();
    (dir, a, b)
}

#[tokio::test]
async fn a_second_store_on_the_same_file_sees_keys_stored_after_it_loaded_its_own() {
    let (_dir, a, b) = two_stores().await;
    // B loads its keys now, while "k" does not exist yet.
    assert!(matches!(insert(&b, "b-0").await, InboxInsert::Inserted(_)));
    let InboxInsert::Inserted(k) = insert(&a, "k").await else {
        panic!("a new key is inserted")
    };
    assert_eq!(insert(&b, "k").await, InboxInsert::Duplicate(k));
    let InboxInsert::Inserted(l) = insert(&b, "l").await else {
        panic!("a new key is inserted")
    };
    assert_eq!(insert(&a, "l").await, InboxInsert::Duplicate(l));
    assert_eq!(insert(&a, "b-0").await.id(), insert(&b, "b-0").await.id());
    assert_eq!(rows_with_key(&a, "k").await, 1);
    assert_eq!(rows_with_key(&a, "l").await, 1);
}

#[tokio::test]
async fn two_stores_racing_with_the_same_webhooks_store_each_once() {
    let (_dir, a, b) = two_stores().await;
    insert(&a, "warm-a").await;
    insert(&b, "warm-b").await;
    let keys: Vec<String> = (0..300).map(|i| format!("race-{i}")).collect();
    let (from_a, from_b) = tokio::join!(insert_all(&a, &keys), insert_all(&b, &keys));
    for (i, key) in keys.iter().enumerate() {
        let (x, y) = (&from_a[i], &from_b[i]);
        assert_eq!(
            x.id(),
            y.id(),
            "{key}: both stores answer with the same row"
        );
        let inserted = [x, y]
            .iter()
            .filter(|r| matches!(r, InboxInsert::Inserted(_)))
            .count();
        assert_eq!(inserted, 1, "{key}: exactly one store inserted it");
    }
    let doubled: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT dedupe_key FROM inbox GROUP BY source, dedupe_key HAVING count(*) > 1)",
    )
    .fetch_one(a.pool())
    .await
    .unwrap();
    assert_eq!(doubled, 0, "no key is stored twice");
}

#[tokio::test]
async fn two_stores_racing_with_the_same_bodies_under_fresh_keys_store_each_once() {
    let (_dir, a, b) = two_stores().await;
    insert(&a, "warm-a").await;
    insert(&b, "warm-b").await;
    let bodies: Vec<String> = (0..300).map(|i| format!("body-{i}")).collect();
    let send = |store: SqliteStore, prefix: &'static str| {
        let bodies = bodies.clone();
        async move {
            let mut out = Vec::new();
            for chunk in bodies.chunks(64) {
                let mut set = tokio::task::JoinSet::new();
                for (n, body) in chunk.iter().enumerate() {
                    let s = store.clone();
                    let key = format!("{prefix}-{body}");
                    let body = body.clone();
                    set.spawn(async move { (n, s.insert(replay(&key, &body)).await.unwrap()) });
                }
                let mut answers = set.join_all().await;
                answers.sort_by_key(|(n, _)| *n);
                out.extend(answers.into_iter().map(|(_, a)| a));
            }
            out
        }
    };
    let (from_a, from_b) = tokio::join!(send(a.clone(), "a"), send(b.clone(), "b"));
    for (i, body) in bodies.iter().enumerate() {
        let (x, y) = (&from_a[i], &from_b[i]);
        assert_eq!(
            x.id(),
            y.id(),
            "{body}: both stores answer with the same row"
        );
        let inserted = [x, y]
            .iter()
            .filter(|r| matches!(r, InboxInsert::Inserted(_)))
            .count();
        assert_eq!(inserted, 1, "{body}: exactly one store inserted it");
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox")
        .fetch_one(a.pool())
        .await
        .unwrap();
    assert_eq!(rows, 302, "each body once, and the two warm-ups");
}

#[tokio::test]
async fn a_webhook_deleted_by_another_store_is_stored_again_when_it_comes_back() {
    let (_dir, a, b) = two_stores().await;
    let first = insert(&a, "k").await.id();
    sqlx::query("DELETE FROM inbox WHERE id = ?")
        .bind(first)
        .execute(b.pool())
        .await
        .unwrap();
    let again = insert(&a, "k").await;
    assert!(
        matches!(again, InboxInsert::Inserted(id) if id > first),
        "{again:?}"
    );
    assert_eq!(insert(&a, "k").await, InboxInsert::Duplicate(again.id()));
    assert_eq!(rows_with_key(&a, "k").await, 1);
}

#[tokio::test]
async fn expired_and_redacted_webhooks_are_stored_again_when_they_come_back() {
    let store = SqliteStore::open_temporary().await.unwrap();
    let done = insert(&store, "done").await.id();
    store.complete(done, Utc::now()).await.unwrap();
    let report = store.expire(Utc::now() + Duration::hours(1)).await.unwrap();
    assert_eq!(report.inbox_deleted, 1);
    assert!(matches!(
        insert(&store, "done").await,
        InboxInsert::Inserted(id) if id > done
    ));

    let shop_row = insert(&store, "shop-row").await.id();
    let report = store
        .redact_shop(&ShopId::new("dedupe.myshopify.com"))
        .await
        .unwrap();
    assert_eq!(report.inbox_deleted, 2);
    assert!(matches!(
        insert(&store, "shop-row").await,
        InboxInsert::Inserted(id) if id > shop_row
    ));
}

#[tokio::test]
async fn keys_are_loaded_again_after_a_restart_past_one_load_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aftercare.db");
    let keys: Vec<String> = (0..5000).map(|i| format!("evt-{i}")).collect();
    let ids: HashMap<String, i64> = {
        let store = SqliteStore::open(&path).await.unwrap();
        let answers = insert_all(&store, &keys).await;
        store.close().await;
        keys.iter()
            .cloned()
            .zip(answers.iter().map(|a| a.id()))
            .collect()
    };
    let store = SqliteStore::open(&path).await.unwrap();
    for key in ["evt-0", "evt-4095", "evt-4096", "evt-4999"] {
        assert_eq!(
            insert(&store, key).await,
            InboxInsert::Duplicate(ids[key]),
            "{key}"
        );
        assert_eq!(
            store
                .insert(replay(&format!("re-{key}"), key))
                .await
                .unwrap(),
            InboxInsert::Duplicate(ids[key]),
            "{key}'s body under a fresh key"
        );
    }
    let top = ids.values().max().copied().unwrap();
    assert_eq!(insert(&store, "new").await, InboxInsert::Inserted(top + 1));
}

#[tokio::test]
async fn a_store_catches_up_with_more_than_a_chunk_added_by_another() {
    let (_dir, a, b) = two_stores().await;
    insert(&a, "a-0").await;
    let keys: Vec<String> = (0..4500).map(|i| format!("b-{i}")).collect();
    let from_b = insert_all(&b, &keys).await;
    // A's next batch finds the mark raised by 4500 rows: more than one chunk to read.
    let mut set = tokio::task::JoinSet::new();
    for key in ["b-0", "b-4200", "b-4499", "fresh", "x-4300"] {
        let a = a.clone();
        let body = key.replace("x-", "b-");
        set.spawn(async move { (key, a.insert(replay(key, &body)).await.unwrap()) });
    }
    for (key, answer) in set.join_all().await {
        match key.strip_prefix("b-").or(key.strip_prefix("x-")) {
            Some(n) => {
                let n: usize = n.parse().unwrap();
                assert_eq!(answer, InboxInsert::Duplicate(from_b[n].id()), "{key}");
            }
            None => assert!(matches!(answer, InboxInsert::Inserted(_)), "{key}"),
        }
    }
    assert_eq!(rows_with_key(&a, "fresh").await, 1);
}
