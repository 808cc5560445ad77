use sqlx::SqlitePool;

use crate::OpenError;

/// Schema versions, applied in order; `PRAGMA user_version` records the last one applied.
/// Never edit a released step: add a new one.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    r#"
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

CREATE TABLE outbox (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    key                 TEXT    NOT NULL UNIQUE,
    shop                TEXT,
    order_id            TEXT,
    customer_id         TEXT,
    channel             TEXT    NOT NULL,
    recipient_hash      TEXT    NOT NULL,
    message             TEXT    NOT NULL,
    status              TEXT    NOT NULL DEFAULT 'pending',
    due_at              INTEGER NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    claimed_until       INTEGER,
    recovered           INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    provider_message_id TEXT,
    accepted_at         INTEGER,
    last_error          TEXT
);
CREATE INDEX outbox_due ON outbox (status, due_at);
CREATE INDEX outbox_customer ON outbox (customer_id);
CREATE INDEX outbox_recipient ON outbox (recipient_hash);
CREATE INDEX outbox_shop ON outbox (shop);

CREATE TABLE ledger (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    key         TEXT,
    shop        TEXT,
    order_id    TEXT,
    customer_id TEXT,
    channel     TEXT,
    decision    TEXT    NOT NULL,
    reason      TEXT    NOT NULL
);
CREATE INDEX ledger_order ON ledger (order_id);
CREATE INDEX ledger_key ON ledger (key);
CREATE INDEX ledger_shop ON ledger (shop);

CREATE TABLE consent (
    channel      TEXT    NOT NULL,
    address_hash TEXT    NOT NULL,
    purpose      TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (channel, address_hash, purpose)
);

CREATE TABLE invitations (
    id          TEXT PRIMARY KEY,
    kind        TEXT    NOT NULL,
    shop        TEXT,
    order_id    TEXT    NOT NULL,
    customer_id TEXT,
    channel     TEXT    NOT NULL,
    locale      TEXT    NOT NULL,
    sent_at     INTEGER NOT NULL,
    closes_at   INTEGER NOT NULL
);
CREATE INDEX invitations_shop ON invitations (shop);

CREATE TABLE responses (
    invitation_id TEXT PRIMARY KEY,
    kind          TEXT    NOT NULL,
    order_id      TEXT    NOT NULL,
    customer_id   TEXT,
    score         INTEGER NOT NULL,
    comment       TEXT,
    via           TEXT    NOT NULL,
    answered_at   INTEGER NOT NULL
);
CREATE INDEX responses_time ON responses (answered_at);

CREATE TABLE snapshots (
    kind    TEXT    NOT NULL,
    id      TEXT    NOT NULL,
    shop    TEXT,
    version INTEGER NOT NULL,
    data    TEXT    NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX snapshots_shop ON snapshots (shop);
"#,
    // 2: comments kept from replies after a survey closed; indexes for retention sweeps.
    r#"
CREATE TABLE survey_comments (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    invitation_id TEXT    NOT NULL,
    at            INTEGER NOT NULL,
    text          TEXT    NOT NULL,
    UNIQUE (invitation_id, at, text)
);
CREATE INDEX survey_comments_at ON survey_comments (at);
CREATE INDEX inbox_received ON inbox (received_at);
CREATE INDEX outbox_created ON outbox (created_at);
CREATE INDEX ledger_at ON ledger (at);
CREATE INDEX invitations_sent ON invitations (sent_at);
"#,
    // 3: retention expires snapshots by the time of their state; delivery reports find
    // their message by the provider's id.
    r#"
CREATE INDEX snapshots_version ON snapshots (version);
CREATE INDEX outbox_provider ON outbox (provider_message_id);
"#,
    // 4: inbox bodies may be stored compressed; `body_codec` says how (see codec.rs).
    r#"
ALTER TABLE inbox ADD COLUMN body_codec TEXT NOT NULL DEFAULT 'identity';
"#,
    // 5: the inbox loses its unique index on (source, dedupe_key): the writer de-duplicates
    // against keys held in memory (see keys.rs), loaded through `inbox_ids`, an index in
    // arrival order that new rows only append to. The table is rebuilt (SQLite cannot drop
    // a table's UNIQUE constraint); ids and the AUTOINCREMENT high-water mark are kept.
    r#"
CREATE TABLE inbox_v5 (
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
    body_codec      TEXT    NOT NULL DEFAULT 'identity'
);
INSERT INTO inbox_v5 (id, source, dedupe_key, topic, shop, occurred_at, meta, body, received_at,
                      status, attempts, next_attempt_at, last_error, finished_at, body_codec)
    SELECT id, source, dedupe_key, topic, shop, occurred_at, meta, body, received_at,
           status, attempts, next_attempt_at, last_error, finished_at, body_codec
    FROM inbox ORDER BY id;
CREATE TEMP TABLE inbox_mark AS SELECT seq FROM sqlite_sequence WHERE name = 'inbox';
DROP TABLE inbox;
ALTER TABLE inbox_v5 RENAME TO inbox;
DELETE FROM sqlite_sequence WHERE name = 'inbox';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'inbox', max(seq) FROM (SELECT seq FROM temp.inbox_mark
                                   UNION ALL SELECT max(id) FROM inbox)
    HAVING max(seq) IS NOT NULL;
DROP TABLE temp.inbox_mark;
CREATE INDEX inbox_due ON inbox (status, next_attempt_at);
CREATE INDEX inbox_shop ON inbox (shop);
CREATE INDEX inbox_received ON inbox (received_at);
CREATE INDEX inbox_ids ON inbox (id, source, dedupe_key);
"#,
    // 6: listing by status (`outbox_in`, dead letters) reads an index in id order instead of
    // sorting every row of that status.
    r#"
CREATE INDEX outbox_status ON outbox (status);
CREATE INDEX inbox_dead ON inbox (id) WHERE status = 'dead';
"#,
    // 7: the inbox also de-duplicates by content (source, topic, body: `content_key`, see
    // `aftercare::store::content_key`) within a window of arrival times. Rows stored before
    // have none. `inbox_ids` is rebuilt to cover the key and the arrival time too, so the
    // writer loads and checks them without reading a row past its body.
    r#"
ALTER TABLE inbox ADD COLUMN content_key BLOB;
DROP INDEX inbox_ids;
CREATE INDEX inbox_ids ON inbox (id, source, dedupe_key, content_key, received_at);
"#,
    // 8: retention facts, kept incrementally (`aftercare::retention`): every order with its
    // customer, time and delivery/survey experience; per customer the first, second and
    // last order; per shop the histogram of inter-purchase intervals in whole days. `shop`
    // is '' for orders without one. An order's row may exist before the order is known
    // (an experience recorded first): its customer and time are then NULL.
    r#"
CREATE TABLE retention_orders (
    shop        TEXT    NOT NULL,
    order_id    TEXT    NOT NULL,
    customer_id TEXT,
    created_at  INTEGER,
    experience  TEXT    NOT NULL DEFAULT '{}',
    PRIMARY KEY (shop, order_id)
) WITHOUT ROWID;
CREATE INDEX retention_orders_customer
    ON retention_orders (shop, customer_id, created_at, order_id) WHERE customer_id IS NOT NULL;
CREATE TABLE retention_customers (
    shop            TEXT    NOT NULL,
    customer_id     TEXT    NOT NULL,
    first_order_id  TEXT    NOT NULL,
    first_order_at  INTEGER NOT NULL,
    second_order_at INTEGER,
    last_order_at   INTEGER NOT NULL,
    orders          INTEGER NOT NULL,
    PRIMARY KEY (shop, customer_id)
) WITHOUT ROWID;
CREATE TABLE retention_intervals (
    shop  TEXT    NOT NULL,
    days  INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (shop, days)
) WITHOUT ROWID;
"#,
    // 9: inbox bodies in a table of their own, under their row's id. A claim, a retry and a
    // completion rewrite the page holding the row: with its 2.8 KB body there, one row
    // filled a 4 KB page and each status change wrote a whole page to the WAL per webhook
    // (a third of what processing wrote); the rows alone share a page by the dozen. Bodies
    // are never changed after the insert, and go with their row (the trigger).
    r#"
CREATE TABLE inbox_bodies (
    id   INTEGER PRIMARY KEY,
    body BLOB    NOT NULL
);
INSERT INTO inbox_bodies (id, body) SELECT id, body FROM inbox ORDER BY id;
ALTER TABLE inbox DROP COLUMN body;
CREATE TRIGGER inbox_bodies_follow AFTER DELETE ON inbox
BEGIN
    DELETE FROM inbox_bodies WHERE id = old.id;
END;
"#,
];

/// The latest schema version this build knows.
pub(crate) const LATEST: i64 = MIGRATIONS.len() as i64;

pub(crate) async fn migrate(pool: &SqlitePool) -> Result<(), OpenError> {
    let current: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(pool)
        .await
        .map_err(|source| OpenError::Migrate { version: 0, source })?;
    if current > LATEST {
        return Err(OpenError::TooNew {
            found: current,
            known: LATEST,
        });
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(current).unwrap_or(0))
    {
        let version = i as i64 + 1;
        let err = |source| OpenError::Migrate { version, source };
        let mut tx = pool.begin().await.map_err(err)?;
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(err)?;
        sqlx::raw_sql(&format!("PRAGMA user_version = {version}"))
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        tx.commit().await.map_err(err)?;
        tracing::info!(version, "sqlite schema migrated");
    }
    Ok(())
}
