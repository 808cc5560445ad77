//! A database made by the first schema version is upgraded in place, data kept.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aftercare::model::{ChannelKind, CustomerId, Invitation, OrderId, ShopId, SurveyKind};
use aftercare::store::{Inbox, InboxInsert, NewInboxEntry, SurveyComment, SurveyStore};
use aftercare::webhook::VerifiedWebhook;
use aftercare_sqlite::SqliteStore;
use chrono::{DateTime, Utc};

const BODY: &[u8] = include_bytes!("../../../sdk/benches/fixtures/shopify_order_fulfilled.json");

fn at() -> DateTime<Utc> {
    "2026-03-01T10:00:00Z".parse().unwrap()
}

#[tokio::test]
async fn a_version_1_database_gains_survey_comments_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aftercare.db");
    let inv = {
        let mut invitation = Invitation::new(
            "inv-1",
            SurveyKind::Nps,
            OrderId::new("1"),
            ChannelKind::Sms,
            "en",
            at(),
            at() + chrono::Duration::days(14),
        );
        invitation.shop = Some(ShopId::new("demo.myshopify.com"));
        invitation.customer_id = Some(CustomerId::new("c-1"));
        invitation
    };
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store.save_invitation(&inv).await.unwrap();
        // Back to what version 1 made: steps 2 to 4 only add a table, indexes and a
        // column; step 5 rebuilt the inbox without its unique index and step 9 moved its
        // bodies out, so the inbox is made here as version 1 made it.
        sqlx::raw_sql(
            "DROP TABLE inbox;
             CREATE TABLE inbox (
                 id              INTEGER PRIMARY KEY AUTOINCREMENT,
                 source          TEXT    NOT NULL,
                 dedupe_key      TEXT    NOT NULL,
                 topic           TEXT,
                 shop            TEXT,
                 occurred_at     INTEGER,
                 meta            TEXT    NOT NULL,
                 body            BLOB    NOT NULL,
                 received_at     INTEGER NOT NULL,
                 status          TEXT    NOT NULL DEFAULT 'pending',
                 attempts        INTEGER NOT NULL DEFAULT 0,
                 next_attempt_at INTEGER NOT NULL,
                 last_error      TEXT,
                 finished_at     INTEGER,
                 UNIQUE (source, dedupe_key)
             );
             CREATE INDEX inbox_due ON inbox (status, next_attempt_at);
             CREATE INDEX inbox_shop ON inbox (shop);
             DROP TABLE survey_comments; DROP TABLE inbox_bodies;
             DROP TABLE retention_orders; DROP TABLE retention_customers;
             DROP TABLE retention_intervals;
             DROP INDEX outbox_created; DROP INDEX outbox_status;
             DROP INDEX ledger_at; DROP INDEX invitations_sent;
             DROP INDEX snapshots_version; DROP INDEX outbox_provider;
             PRAGMA user_version = 1;",
        )
        .execute(store.pool())
        .await
        .unwrap();
        // Webhooks as version 1 stored them: the body's own bytes. The newest was deleted
        // since, so the AUTOINCREMENT mark is above the highest id left.
        for key in ["evt-v1", "evt-gone"] {
            sqlx::query(
                "INSERT INTO inbox (source, dedupe_key, meta, body, received_at, next_attempt_at)
                 VALUES ('shopify', ?, '{}', ?, 0, 0)",
            )
            .bind(key)
            .bind(BODY)
            .execute(store.pool())
            .await
            .unwrap();
        }
        sqlx::query("DELETE FROM inbox WHERE dedupe_key = 'evt-gone'")
            .execute(store.pool())
            .await
            .unwrap();
        store.close().await;
    }
    let store = SqliteStore::open(&path).await.unwrap();
    let version: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(version, 9, "steps 2 to 9 are applied once on open");
    // Step 9: the bodies are in a table of their own, the rows without them.
    let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info('inbox')")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert!(!columns.iter().any(|c| c == "body"), "{columns:?}");
    let id: i64 = sqlx::query_scalar("SELECT id FROM inbox WHERE dedupe_key = 'evt-v1'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let old = store.inbox_entry(id).await.unwrap().unwrap();
    assert_eq!(
        old.body, BODY,
        "a body stored before compression is read as it is"
    );
    // Step 5: no unique index is left on the inbox (an automatic index has no SQL), the
    // old webhook is still recognised when it comes again, and ids are never reused.
    let auto: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE tbl_name = 'inbox' AND type = 'index' AND sql IS NULL",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(auto, 0, "the UNIQUE constraint's index is gone");
    let again = store
        .insert(NewInboxEntry::new(
            "shopify",
            VerifiedWebhook::new("evt-v1"),
            BODY.to_vec(),
            at(),
        ))
        .await
        .unwrap();
    assert_eq!(again, InboxInsert::Duplicate(id));
    let fresh = store
        .insert(NewInboxEntry::new(
            "shopify",
            VerifiedWebhook::new("evt-v5"),
            BODY.to_vec(),
            at(),
        ))
        .await
        .unwrap();
    assert_eq!(
        fresh,
        InboxInsert::Inserted(id + 2),
        "the deleted webhook's id is not given again (and a row stored before step 7 has no content key)"
    );
    assert_eq!(
        store.inbox_entry(id + 2).await.unwrap().unwrap().body,
        BODY,
        "a body stored after the gap is stored under its row's id"
    );
    let bodies = |n| {
        let pool = store.pool().clone();
        async move {
            let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM inbox_bodies ORDER BY id")
                .fetch_all(&pool)
                .await
                .unwrap();
            assert_eq!(ids.len(), n, "{ids:?}");
            ids
        }
    };
    assert_eq!(bodies(2).await, vec![id, id + 2]);
    // Step 7: rows stored since carry their content key; the same body under another key
    // is a duplicate, also after a restart (the key map is loaded from the file).
    let replay = || {
        NewInboxEntry::new(
            "shopify",
            VerifiedWebhook::new("evt-v7"),
            BODY.to_vec(),
            at() + chrono::Duration::hours(1),
        )
    };
    assert_eq!(
        store.insert(replay()).await.unwrap(),
        InboxInsert::Duplicate(id + 2)
    );
    store.close().await;
    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(
        store.insert(replay()).await.unwrap(),
        InboxInsert::Duplicate(id + 2)
    );
    assert_eq!(store.invitation("inv-1").await.unwrap(), Some(inv));
    // A row's body goes with it.
    sqlx::query("DELETE FROM inbox WHERE id = ?")
        .bind(id)
        .execute(store.pool())
        .await
        .unwrap();
    let left: Vec<i64> = sqlx::query_scalar("SELECT id FROM inbox_bodies ORDER BY id")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(left, vec![id + 2]);
    store
        .add_comment("inv-1", "late reply", at() + chrono::Duration::days(20))
        .await
        .unwrap();
    assert_eq!(
        store.comments("inv-1").await.unwrap(),
        vec![SurveyComment::new(
            at() + chrono::Duration::days(20),
            "late reply"
        )]
    );
}
