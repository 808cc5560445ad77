//! A database made by the first schema version is upgraded in place, data kept.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aftercare::model::{ChannelKind, CustomerId, Invitation, OrderId, ShopId, SurveyKind};
use aftercare::store::{Inbox, SurveyComment, SurveyStore};
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
    let inv = Invitation {
        id: "inv-1".into(),
        kind: SurveyKind::Nps,
        shop: Some(ShopId::new("demo.myshopify.com")),
        order_id: OrderId::new("1"),
        customer_id: Some(CustomerId::new("c-1")),
        channel: ChannelKind::Sms,
        locale: "en".into(),
        sent_at: at(),
        closes_at: at() + chrono::Duration::days(14),
    };
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store.save_invitation(&inv).await.unwrap();
        // Back to what version 1 made: steps 2 to 4 only add a table, indexes and a column.
        sqlx::raw_sql(
            "ALTER TABLE inbox DROP COLUMN body_codec;
             DROP TABLE survey_comments;
             DROP INDEX inbox_received; DROP INDEX outbox_created;
             DROP INDEX ledger_at; DROP INDEX invitations_sent;
             DROP INDEX snapshots_version; DROP INDEX outbox_provider;
             PRAGMA user_version = 1;",
        )
        .execute(store.pool())
        .await
        .unwrap();
        // A webhook as version 1 stored it: the body's own bytes.
        sqlx::query(
            "INSERT INTO inbox (source, dedupe_key, meta, body, received_at, next_attempt_at)
             VALUES ('shopify', 'evt-v1', '{}', ?, 0, 0)",
        )
        .bind(BODY)
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
    assert_eq!(version, 4, "steps 2 to 4 are applied once on open");
    let id: i64 = sqlx::query_scalar("SELECT id FROM inbox WHERE dedupe_key = 'evt-v1'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let old = store.inbox_entry(id).await.unwrap().unwrap();
    assert_eq!(
        old.body, BODY,
        "a body stored before compression is read as it is"
    );
    assert_eq!(store.invitation("inv-1").await.unwrap(), Some(inv));
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
