//! Schema migrations, applied in order inside one transaction that holds an advisory lock,
//! so instances starting together migrate once and never trip over each other.

use sqlx::PgPool;

use crate::ConnectError;

/// Schema versions, applied in order; `aftercare_schema_version` records each one applied.
/// Never edit a released step: add a new one.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    r#"
CREATE TABLE inbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source          TEXT        NOT NULL,
    dedupe_key      TEXT        NOT NULL,
    topic           TEXT,
    shop            TEXT,
    occurred_at     TIMESTAMPTZ,
    meta            JSONB       NOT NULL,
    body            BYTEA       NOT NULL,
    received_at     TIMESTAMPTZ NOT NULL,
    status          TEXT        NOT NULL DEFAULT 'pending',
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT,
    finished_at     TIMESTAMPTZ,
    UNIQUE (source, dedupe_key)
);
CREATE INDEX inbox_due ON inbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX inbox_dead ON inbox (id) WHERE status = 'dead';
CREATE INDEX inbox_shop ON inbox (shop);

CREATE TABLE outbox (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key                 TEXT        NOT NULL UNIQUE,
    shop                TEXT,
    order_id            TEXT,
    customer_id         TEXT,
    channel             TEXT        NOT NULL,
    recipient_hash      TEXT        NOT NULL,
    message             JSONB       NOT NULL,
    status              TEXT        NOT NULL DEFAULT 'pending',
    due_at              TIMESTAMPTZ NOT NULL,
    attempts            INTEGER     NOT NULL DEFAULT 0,
    claimed_until       TIMESTAMPTZ,
    recovered           BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at          TIMESTAMPTZ NOT NULL,
    provider_message_id TEXT,
    accepted_at         TIMESTAMPTZ,
    last_error          TEXT
);
CREATE INDEX outbox_pending ON outbox (due_at, id) WHERE status = 'pending';
CREATE INDEX outbox_sending ON outbox (claimed_until) WHERE status = 'sending';
CREATE INDEX outbox_status ON outbox (status, id);
CREATE INDEX outbox_customer ON outbox (customer_id);
CREATE INDEX outbox_recipient ON outbox (recipient_hash);
CREATE INDEX outbox_shop ON outbox (shop);

CREATE TABLE ledger (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    key         TEXT,
    shop        TEXT,
    order_id    TEXT,
    customer_id TEXT,
    channel     TEXT,
    decision    TEXT        NOT NULL,
    reason      TEXT        NOT NULL
);
CREATE INDEX ledger_order ON ledger (order_id);
CREATE INDEX ledger_key ON ledger (key);
CREATE INDEX ledger_shop ON ledger (shop);
CREATE INDEX ledger_customer ON ledger (customer_id);

CREATE TABLE consent (
    channel      TEXT        NOT NULL,
    address_hash TEXT        NOT NULL,
    purpose      TEXT        NOT NULL,
    state        TEXT        NOT NULL,
    source       TEXT        NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (channel, address_hash, purpose)
);
CREATE INDEX consent_address ON consent (address_hash);

CREATE TABLE invitations (
    id          TEXT PRIMARY KEY,
    kind        TEXT        NOT NULL,
    shop        TEXT,
    order_id    TEXT        NOT NULL,
    customer_id TEXT,
    channel     TEXT        NOT NULL,
    locale      TEXT        NOT NULL,
    sent_at     TIMESTAMPTZ NOT NULL,
    closes_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX invitations_shop ON invitations (shop);
CREATE INDEX invitations_order ON invitations (order_id);
CREATE INDEX invitations_customer ON invitations (customer_id);

CREATE TABLE responses (
    invitation_id TEXT PRIMARY KEY,
    kind          TEXT        NOT NULL,
    order_id      TEXT        NOT NULL,
    customer_id   TEXT,
    score         SMALLINT    NOT NULL,
    comment       TEXT,
    via           TEXT        NOT NULL,
    answered_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX responses_time ON responses (answered_at);
CREATE INDEX responses_order ON responses (order_id);
CREATE INDEX responses_customer ON responses (customer_id);

CREATE TABLE snapshots (
    kind    TEXT        NOT NULL,
    id      TEXT        NOT NULL,
    shop    TEXT,
    version TIMESTAMPTZ NOT NULL,
    data    JSONB       NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX snapshots_shop ON snapshots (shop);
"#,
    // 2: comments kept from replies after a survey closed; indexes for retention sweeps.
    r#"
CREATE TABLE survey_comments (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invitation_id TEXT        NOT NULL,
    at            TIMESTAMPTZ NOT NULL,
    text          TEXT        NOT NULL,
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
    // 4: the inbox also de-duplicates by content (source, topic, body: `content_key`, see
    // `aftercare::store::content_key`) within a window of arrival times. At most one row
    // holds a content key (the unique index makes concurrent inserts of one content wait
    // for each other); a holder older than a new copy's window gives it up (set to NULL) in
    // the statement that stores the copy. Rows stored before have none.
    r#"
ALTER TABLE inbox ADD COLUMN content_key BYTEA;
CREATE UNIQUE INDEX inbox_content ON inbox (content_key);
"#,
    // 5: retention facts, kept incrementally (`aftercare::retention`): every order with its
    // customer, time and delivery/survey experience; per customer the first, second and
    // last order; per shop the histogram of inter-purchase intervals in whole days. `shop`
    // is '' for orders without one. An order's row may exist before the order is known
    // (an experience recorded first): its customer and time are then NULL.
    r#"
CREATE TABLE retention_orders (
    shop        TEXT        NOT NULL,
    order_id    TEXT        NOT NULL,
    customer_id TEXT,
    created_at  TIMESTAMPTZ,
    experience  JSONB       NOT NULL DEFAULT '{}',
    PRIMARY KEY (shop, order_id)
);
CREATE INDEX retention_orders_customer
    ON retention_orders (shop, customer_id, created_at, order_id) WHERE customer_id IS NOT NULL;
CREATE TABLE retention_customers (
    shop            TEXT        NOT NULL,
    customer_id     TEXT        NOT NULL,
    first_order_id  TEXT        NOT NULL,
    first_order_at  TIMESTAMPTZ NOT NULL,
    second_order_at TIMESTAMPTZ,
    last_order_at   TIMESTAMPTZ NOT NULL,
    orders          BIGINT      NOT NULL,
    PRIMARY KEY (shop, customer_id)
);
CREATE TABLE retention_intervals (
    shop  TEXT   NOT NULL,
    days  BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (shop, days)
)
"#,
];

/// The latest schema version this build knows.
pub(crate) const LATEST: i32 = MIGRATIONS.len() as i32;

/// The advisory lock key for migrating `schema` (FNV-1a of a fixed prefix and the name), so
/// instances of one schema wait for each other and other schemas do not.
fn lock_key(schema: Option<&str>) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in "aftercare-postgres migrate:"
        .bytes()
        .chain(schema.unwrap_or("").bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(h.to_ne_bytes())
}

/// The advisory lock key for preparing the shop registry `prefix` (see `crate::shops`).
pub(crate) fn registry_lock_key(prefix: &str) -> i64 {
    lock_key(Some(&format!("registry:{prefix}")))
}

fn statements(sql: &'static str) -> Vec<&'static str> {
    sql.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

pub(crate) async fn migrate(pool: &PgPool, schema: Option<&str>) -> Result<(), ConnectError> {
    let err = |version| move |source| ConnectError::Migrate { version, source };
    let mut tx = pool.begin().await.map_err(err(0))?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(lock_key(schema))
        .execute(&mut *tx)
        .await
        .map_err(err(0))?;
    if let Some(s) = schema {
        // `s` is checked to be a plain lower-case identifier, so it needs no quoting.
        let create = format!("CREATE SCHEMA IF NOT EXISTS {s}");
        sqlx::query(&create)
            .execute(&mut *tx)
            .await
            .map_err(err(0))?;
        let path = format!("SET LOCAL search_path TO {s}");
        sqlx::query(&path).execute(&mut *tx).await.map_err(err(0))?;
    }
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS aftercare_schema_version (
            version    INTEGER     PRIMARY KEY,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )
    .execute(&mut *tx)
    .await
    .map_err(err(0))?;
    let current: i32 =
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM aftercare_schema_version")
            .fetch_one(&mut *tx)
            .await
            .map_err(err(0))?;
    if current > LATEST {
        return Err(ConnectError::TooNew {
            found: current,
            known: LATEST,
        });
    }
    let start = usize::try_from(current).unwrap_or(0);
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(start) {
        let version = i32::try_from(i + 1).unwrap_or(i32::MAX);
        // One statement at a time (the steps hold no `;` but between statements): sqlx's
        // `raw_sql` on a transaction makes the future of `connect` not `Send`.
        let statements: Vec<&'static str> = statements(sql);
        for statement in statements {
            sqlx::query(statement)
                .execute(&mut *tx)
                .await
                .map_err(err(version))?;
        }
        sqlx::query("INSERT INTO aftercare_schema_version (version) VALUES ($1)")
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(err(version))?;
        tracing::info!(
            version,
            schema = schema.unwrap_or("(search_path)"),
            "postgres schema migrated"
        );
    }
    prefer_lz4(&mut tx).await.map_err(err(LATEST))?;
    tx.commit().await.map_err(err(current))?;
    Ok(())
}

/// The large values PostgreSQL compresses when it stores them out of line (TOAST): each
/// webhook's body, each queued message (an email's text and HTML) and each snapshot.
const COMPRESSED_COLUMNS: &[(&str, &str)] = &[
    ("inbox", "body"),
    ("outbox", "message"),
    ("snapshots", "data"),
];

/// Compresses the large columns with LZ4 where the server offers it (PostgreSQL 14+ built
/// `--with-lz4`, as Debian's and the official images are), instead of the default pglz.
///
/// pglz was 29% of PostgreSQL's CPU while the receiver stored webhooks (a `perf` profile of
/// the load harness's PostgreSQL ingest): ~115 µs to compress each 6.5 KB Shopify body,
/// against ~40 µs with LZ4 at about the same size. Only new values are written with LZ4;
/// PostgreSQL reads either. Not a numbered step: a server without LZ4 keeps pglz and is
/// asked again at the next start, and `SET COMPRESSION` changes only the catalog, so it is
/// run only where a column does not have it yet (no lock taken on an up-to-date schema).
async fn prefer_lz4(tx: &mut sqlx::PgConnection) -> Result<(), sqlx::Error> {
    let offered: Option<bool> = sqlx::query_scalar(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'",
    )
    .fetch_optional(&mut *tx)
    .await?;
    if offered != Some(true) {
        tracing::info!(
            "PostgreSQL offers no LZ4 compression: large values stay compressed with pglz"
        );
        return Ok(());
    }
    for (table, column) in COMPRESSED_COLUMNS {
        let current: Option<String> = sqlx::query_scalar(
            "SELECT attcompression::text FROM pg_attribute
             WHERE attrelid = to_regclass($1) AND attname = $2 AND NOT attisdropped",
        )
        .bind(table)
        .bind(column)
        .fetch_optional(&mut *tx)
        .await?;
        if current.as_deref() == Some("l") {
            continue;
        }
        // The names are this module's constants, not input.
        sqlx::query(&format!(
            "ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION lz4"
        ))
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_differ_per_schema() {
        assert_ne!(lock_key(None), lock_key(Some("tenant_a")));
        assert_ne!(lock_key(Some("tenant_a")), lock_key(Some("tenant_b")));
        assert_eq!(lock_key(Some("tenant_a")), lock_key(Some("tenant_a")));
    }
}
