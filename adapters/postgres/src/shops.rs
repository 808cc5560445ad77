//! Many shops on one PostgreSQL database: a schema per shop, one shared pool, and a shared
//! registry.
//!
//! [`PostgresShops`] owns one pool for every shop (never a pool per shop). Which shop's
//! schema a connection works in is decided when it is handed out: the pool's `after_connect`
//! and `before_acquire` hooks run `SET search_path TO <schema>` with the schema of the
//! [`ShopSchemaStore`] making the call (a tokio task-local that store sets around each of its
//! calls). A connection handed out outside any shop's call gets an empty schema
//! (`<prefix>_none`), where every query fails: a forgotten scope is an error, never another
//! shop's rows. The price is one `SET` round trip per acquire (`test_before_acquire` is
//! turned off, so it replaces the ping sqlx would otherwise send).
//!
//! Schemas are numbered by the registry (`<prefix>.shop_schemas`: `<prefix>_shop_<n>`), so
//! no hashing can make two shops share one; an erased shop's schema is dropped with
//! everything in it, and a re-install gets a new number. [`PostgresRegistry`] keeps the
//! shops' records (`<prefix>.shops`; secrets sealed by the sdk before they get here).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::Error;
use aftercare::model::{
    ChannelKind, CustomerId, Invitation, OrderId, Purpose, Receipt, ShopId, SurveyResponse,
};
use aftercare::store::{
    Claimed, ConsentRecord, ConsentStore, CustomerRedaction, Decision, Enqueue, Inbox, InboxEntry,
    InboxInsert, Ledger, LedgerEntry, NewInboxEntry, NewOutboxMessage, Outbox, OutboxEntry,
    OutboxStatus, RedactionReport, Redactor, Resolution, SentRecord, Snapshot, SnapshotStore,
    Store, SurveyComment, SurveyStore, UncertainEntry,
};
use aftercare::tenancy::{HealthCounts, HealthDelta, ShopRecord, ShopRegistry, ShopStores};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};

use crate::{ConnectError, PostgresStore, valid_schema};

tokio::task_local! {
    static SCHEMA: Arc<str>;
}

/// Spawns `fut` keeping the current task's shop schema, if any.
pub(crate) fn spawn_in_current_schema<F>(fut: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    match SCHEMA.try_with(|s| s.clone()) {
        Ok(schema) => {
            tokio::spawn(SCHEMA.scope(schema, fut));
        }
        Err(_) => {
            tokio::spawn(fut);
        }
    }
}

async fn set_path(conn: &mut PgConnection, none: &str) -> Result<(), sqlx::Error> {
    let schema = SCHEMA.try_with(|s| s.clone()).ok();
    // Both names are checked plain identifiers (`valid_schema`), so they need no quoting.
    let sql = format!("SET search_path TO {}", schema.as_deref().unwrap_or(none));
    sqlx::query(&sql).execute(conn).await.map(|_| ())
}

fn storage(op: &'static str) -> impl Fn(sqlx::Error) -> Error {
    move |e| Error::storage(op, e)
}

/// Every shop's store on one database and one pool, a schema per shop.
#[derive(Clone)]
pub struct PostgresShops {
    pool: PgPool,
    prefix: Arc<str>,
    open: Arc<Mutex<HashMap<ShopId, ShopSchemaStore>>>,
}

impl std::fmt::Debug for PostgresShops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresShops")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl PostgresShops {
    /// Connects one pool for every shop and prepares the registry schema `prefix` (a plain
    /// lower-case identifier of at most 40 characters).
    pub async fn connect(
        pool: PgPoolOptions,
        options: PgConnectOptions,
        prefix: &str,
    ) -> Result<Self, ConnectError> {
        if !valid_schema(prefix) || prefix.len() > 40 {
            return Err(ConnectError::SchemaName(prefix.to_owned()));
        }
        let none: Arc<str> = format!("{prefix}_none").into();
        let (n1, n2) = (none.clone(), none.clone());
        let pool = pool
            .test_before_acquire(false)
            .after_connect(move |conn, _| {
                let none = n1.clone();
                Box::pin(async move { set_path(conn, &none).await })
            })
            .before_acquire(move |conn, _| {
                let none = n2.clone();
                Box::pin(async move { set_path(conn, &none).await.map(|()| true) })
            })
            .connect_with(options)
            .await
            .map_err(ConnectError::Connect)?;
        let err = |source| ConnectError::Migrate { version: 0, source };
        let mut tx = pool.begin().await.map_err(err)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(crate::schema::registry_lock_key(prefix))
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        for sql in [
            format!("CREATE SCHEMA IF NOT EXISTS {none}"),
            format!("CREATE SCHEMA IF NOT EXISTS {prefix}"),
            format!(
                "CREATE TABLE IF NOT EXISTS {prefix}.shops (
                    shop        TEXT PRIMARY KEY,
                    status      TEXT        NOT NULL,
                    erase_after TIMESTAMPTZ,
                    record      JSONB       NOT NULL
                )"
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {prefix}.shop_health (
                    shop             TEXT PRIMARY KEY,
                    webhook_failures BIGINT  NOT NULL DEFAULT 0,
                    provider_errors  BIGINT  NOT NULL DEFAULT 0,
                    token_rejected   BOOLEAN NOT NULL DEFAULT FALSE
                )"
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {prefix}.shop_schemas (
                    id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    shop TEXT NOT NULL UNIQUE
                )"
            ),
        ] {
            sqlx::query(&sql).execute(&mut *tx).await.map_err(err)?;
        }
        tx.commit().await.map_err(err)?;
        Ok(Self {
            pool,
            prefix: prefix.into(),
            open: Arc::default(),
        })
    }

    /// The shared pool (its connections' `search_path` is set per call; qualify table
    /// names in queries of your own).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The registry of shop records in this database.
    pub fn registry(&self) -> PostgresRegistry {
        PostgresRegistry {
            pool: self.pool.clone(),
            prefix: self.prefix.clone(),
        }
    }

    /// The schema of `shop`, if it has one.
    pub async fn schema_of(&self, shop: &ShopId) -> Result<Option<String>, Error> {
        let sql = format!(
            "SELECT id FROM {}.shop_schemas WHERE shop = $1",
            self.prefix
        );
        let id: Option<i64> = sqlx::query_scalar(&sql)
            .bind(shop.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(storage("find a shop's schema"))?;
        Ok(id.map(|id| format!("{}_shop_{id}", self.prefix)))
    }

    /// Opens (creating and migrating its schema if needed) one shop's store.
    pub async fn open_shop(&self, shop: &ShopId) -> Result<ShopSchemaStore, Error> {
        if let Some(s) = self
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(shop)
        {
            return Ok(s.clone());
        }
        let sql = format!(
            "INSERT INTO {}.shop_schemas (shop) VALUES ($1)
             ON CONFLICT (shop) DO UPDATE SET shop = EXCLUDED.shop RETURNING id",
            self.prefix
        );
        let id: i64 = sqlx::query_scalar(&sql)
            .bind(shop.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(storage("number a shop's schema"))?;
        let schema: Arc<str> = format!("{}_shop_{id}", self.prefix).into();
        crate::schema::migrate(&self.pool, Some(&schema))
            .await
            .map_err(|e| Error::storage("migrate a shop's schema", e))?;
        let store = ShopSchemaStore {
            schema,
            inner: PostgresStore {
                pool: self.pool.clone(),
                writer: Default::default(),
            },
        };
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(shop.clone(), store.clone());
        Ok(store)
    }

    /// Drops the shop's schema with all its data, and its number.
    pub async fn erase_shop(&self, shop: &ShopId) -> Result<(), Error> {
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(shop);
        let Some(schema) = self.schema_of(shop).await? else {
            return Ok(());
        };
        let mut tx = self.pool.begin().await.map_err(storage("erase a shop"))?;
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&mut *tx)
            .await
            .map_err(storage("drop a shop's schema"))?;
        sqlx::query(&format!(
            "DELETE FROM {}.shop_schemas WHERE shop = $1",
            self.prefix
        ))
        .bind(shop.as_str())
        .execute(&mut *tx)
        .await
        .map_err(storage("forget a shop's schema"))?;
        tx.commit().await.map_err(storage("erase a shop"))?;
        Ok(())
    }
}

#[async_trait]
impl ShopStores for PostgresShops {
    async fn open(&self, shop: &ShopId) -> Result<Arc<dyn Store>, Error> {
        Ok(Arc::new(self.open_shop(shop).await?))
    }
    async fn erase(&self, shop: &ShopId) -> Result<(), Error> {
        self.erase_shop(shop).await
    }
}

/// Shop records in `<prefix>.shops` (one JSON document per shop; its secrets already
/// sealed).
#[derive(Clone, Debug)]
pub struct PostgresRegistry {
    pool: PgPool,
    prefix: Arc<str>,
}

fn decode_record(v: serde_json::Value) -> Result<ShopRecord, Error> {
    serde_json::from_value(v).map_err(|e| Error::decode("stored shop record", e))
}

#[async_trait]
impl ShopRegistry for PostgresRegistry {
    async fn get(&self, shop: &ShopId) -> Result<Option<ShopRecord>, Error> {
        let sql = format!("SELECT record FROM {}.shops WHERE shop = $1", self.prefix);
        let row: Option<serde_json::Value> = sqlx::query_scalar(&sql)
            .bind(shop.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(storage("read a shop record"))?;
        row.map(decode_record).transpose()
    }

    async fn put(&self, record: &ShopRecord) -> Result<(), Error> {
        let json =
            serde_json::to_value(record).map_err(|e| Error::storage("encode a shop record", e))?;
        let sql = format!(
            "INSERT INTO {}.shops (shop, status, erase_after, record) VALUES ($1, $2, $3, $4)
             ON CONFLICT (shop) DO UPDATE SET status = EXCLUDED.status,
                 erase_after = EXCLUDED.erase_after, record = EXCLUDED.record",
            self.prefix
        );
        sqlx::query(&sql)
            .bind(record.shop.as_str())
            .bind(record.status.as_str())
            .bind(record.erase_after)
            .bind(json)
            .execute(&self.pool)
            .await
            .map_err(storage("store a shop record"))?;
        Ok(())
    }

    async fn put_if_revision(&self, record: &ShopRecord, expected: u64) -> Result<bool, Error> {
        let json =
            serde_json::to_value(record).map_err(|e| Error::storage("encode a shop record", e))?;
        // One statement: the row is locked by the update and changes only while its stored
        // revision is the expected one (a concurrent save waits, then matches no row).
        let sql = format!(
            "UPDATE {}.shops SET status = $2, erase_after = $3, record = $4
             WHERE shop = $1 AND record->>'revision' = $5",
            self.prefix
        );
        let done = sqlx::query(&sql)
            .bind(record.shop.as_str())
            .bind(record.status.as_str())
            .bind(record.erase_after)
            .bind(json)
            .bind(expected.to_string())
            .execute(&self.pool)
            .await
            .map_err(storage("store a shop record"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn list(&self) -> Result<Vec<ShopRecord>, Error> {
        let sql = format!("SELECT record FROM {}.shops ORDER BY shop", self.prefix);
        let rows: Vec<serde_json::Value> = sqlx::query_scalar(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(storage("list shop records"))?;
        rows.into_iter().map(decode_record).collect()
    }

    async fn add_health(&self, shop: &ShopId, delta: &HealthDelta) -> Result<(), Error> {
        // One statement: concurrent instances' additions all land (the row is locked by
        // the upsert, each adds to what the other committed).
        let sql = format!(
            "INSERT INTO {p}.shop_health AS h (shop, webhook_failures, provider_errors, token_rejected)
             VALUES ($1, $2, $3, COALESCE($4, FALSE))
             ON CONFLICT (shop) DO UPDATE SET
                 webhook_failures = h.webhook_failures + EXCLUDED.webhook_failures,
                 provider_errors = h.provider_errors + EXCLUDED.provider_errors,
                 token_rejected = COALESCE($4, h.token_rejected)",
            p = self.prefix
        );
        sqlx::query(&sql)
            .bind(shop.as_str())
            .bind(i64::from(delta.webhook_failures))
            .bind(i64::from(delta.provider_errors))
            .bind(delta.token_rejected)
            .execute(&self.pool)
            .await
            .map_err(storage("add to a shop's health counts"))?;
        Ok(())
    }

    async fn health(&self, shop: &ShopId) -> Result<HealthCounts, Error> {
        let sql = format!(
            "SELECT webhook_failures, provider_errors, token_rejected FROM {}.shop_health WHERE shop = $1",
            self.prefix
        );
        let row: Option<(i64, i64, bool)> = sqlx::query_as(&sql)
            .bind(shop.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(storage("read a shop's health counts"))?;
        let mut c = HealthCounts::default();
        if let Some((w, p, t)) = row {
            c.webhook_failures = u64::try_from(w).unwrap_or(0);
            c.provider_errors = u64::try_from(p).unwrap_or(0);
            c.token_rejected = t;
        }
        Ok(c)
    }

    async fn clear_health(&self, shop: &ShopId) -> Result<(), Error> {
        let sql = format!("DELETE FROM {}.shop_health WHERE shop = $1", self.prefix);
        sqlx::query(&sql)
            .bind(shop.as_str())
            .execute(&self.pool)
            .await
            .map_err(storage("forget a shop's health counts"))?;
        Ok(())
    }
}

/// One shop's store: a [`PostgresStore`] on the shared pool whose every call runs in the
/// shop's schema. Obtained from [`PostgresShops::open_shop`].
#[derive(Clone, Debug)]
pub struct ShopSchemaStore {
    schema: Arc<str>,
    inner: PostgresStore,
}

impl ShopSchemaStore {
    /// The shop's schema.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    async fn scoped<T>(&self, fut: impl Future<Output = T>) -> T {
        SCHEMA.scope(self.schema.clone(), fut).await
    }
}

#[async_trait]
impl Inbox for ShopSchemaStore {
    async fn insert(&self, entry: NewInboxEntry) -> Result<InboxInsert, Error> {
        self.scoped(self.inner.insert(entry)).await
    }
    async fn claim(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<InboxEntry>, Error> {
        self.scoped(self.inner.claim(now, limit, lease)).await
    }
    async fn complete(&self, id: i64, now: DateTime<Utc>) -> Result<(), Error> {
        self.scoped(self.inner.complete(id, now)).await
    }
    async fn complete_many(&self, ids: &[i64], now: DateTime<Utc>) -> Result<(), Error> {
        self.scoped(self.inner.complete_many(ids, now)).await
    }
    async fn retry_at(&self, id: i64, at: DateTime<Utc>, error: &str) -> Result<(), Error> {
        self.scoped(self.inner.retry_at(id, at, error)).await
    }
    async fn dead_letter(&self, id: i64, reason: &str) -> Result<(), Error> {
        self.scoped(self.inner.dead_letter(id, reason)).await
    }
    async fn inbox_entry(&self, id: i64) -> Result<Option<InboxEntry>, Error> {
        self.scoped(self.inner.inbox_entry(id)).await
    }
    async fn dead_letters(&self, limit: u32) -> Result<Vec<InboxEntry>, Error> {
        self.scoped(self.inner.dead_letters(limit)).await
    }
    async fn requeue(&self, id: i64, at: DateTime<Utc>) -> Result<bool, Error> {
        self.scoped(self.inner.requeue(id, at)).await
    }
}

#[async_trait]
impl Outbox for ShopSchemaStore {
    async fn enqueue(&self, msg: NewOutboxMessage, now: DateTime<Utc>) -> Result<Enqueue, Error> {
        self.scoped(self.inner.enqueue(msg, now)).await
    }
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<Claimed>, Error> {
        self.scoped(self.inner.claim_due(now, limit, lease)).await
    }
    async fn mark_sent(
        &self,
        id: i64,
        attempt: u32,
        receipt: &Receipt,
        now: DateTime<Utc>,
        reason: &str,
    ) -> Result<bool, Error> {
        self.scoped(self.inner.mark_sent(id, attempt, receipt, now, reason))
            .await
    }
    async fn mark_sent_many(
        &self,
        sends: &[SentRecord],
        now: DateTime<Utc>,
    ) -> Result<Vec<bool>, Error> {
        self.scoped(self.inner.mark_sent_many(sends, now)).await
    }
    async fn reschedule(
        &self,
        id: i64,
        attempt: u32,
        due_at: DateTime<Utc>,
        decision: Decision,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, Error> {
        self.scoped(
            self.inner
                .reschedule(id, attempt, due_at, decision, reason, now),
        )
        .await
    }
    async fn finish(
        &self,
        id: i64,
        attempt: u32,
        status: OutboxStatus,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, Error> {
        self.scoped(self.inner.finish(id, attempt, status, reason, now))
            .await
    }
    async fn uncertain_before(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<UncertainEntry>, Error> {
        self.scoped(self.inner.uncertain_before(before, limit))
            .await
    }
    async fn resolve_uncertain(
        &self,
        id: i64,
        resolution: &Resolution,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, Error> {
        self.scoped(self.inner.resolve_uncertain(id, resolution, reason, now))
            .await
    }
    async fn outbox_entry(&self, id: i64) -> Result<Option<OutboxEntry>, Error> {
        self.scoped(self.inner.outbox_entry(id)).await
    }
    async fn outbox_by_key(&self, key: &str) -> Result<Option<OutboxEntry>, Error> {
        self.scoped(self.inner.outbox_by_key(key)).await
    }
    async fn outbox_by_provider_id(
        &self,
        provider_message_id: &str,
    ) -> Result<Option<OutboxEntry>, Error> {
        self.scoped(self.inner.outbox_by_provider_id(provider_message_id))
            .await
    }
    async fn outbox_in(&self, status: OutboxStatus, limit: u32) -> Result<Vec<OutboxEntry>, Error> {
        self.scoped(self.inner.outbox_in(status, limit)).await
    }
    async fn latest_sent_to(
        &self,
        channel: ChannelKind,
        address: &str,
        key_prefix: &str,
    ) -> Result<Option<OutboxEntry>, Error> {
        self.scoped(self.inner.latest_sent_to(channel, address, key_prefix))
            .await
    }
}

#[async_trait]
impl Ledger for ShopSchemaStore {
    async fn record(&self, entry: LedgerEntry) -> Result<(), Error> {
        self.scoped(self.inner.record(entry)).await
    }
    async fn ledger_for_order(&self, order: &OrderId) -> Result<Vec<LedgerEntry>, Error> {
        self.scoped(self.inner.ledger_for_order(order)).await
    }
    async fn ledger_for_key(&self, key: &str) -> Result<Vec<LedgerEntry>, Error> {
        self.scoped(self.inner.ledger_for_key(key)).await
    }
}

#[async_trait]
impl ConsentStore for ShopSchemaStore {
    async fn set_consent(&self, record: ConsentRecord) -> Result<(), Error> {
        self.scoped(self.inner.set_consent(record)).await
    }
    async fn consent(
        &self,
        channel: ChannelKind,
        address: &str,
        purpose: Purpose,
    ) -> Result<Option<ConsentRecord>, Error> {
        self.scoped(self.inner.consent(channel, address, purpose))
            .await
    }
}

#[async_trait]
impl SurveyStore for ShopSchemaStore {
    async fn save_invitation(&self, invitation: &Invitation) -> Result<bool, Error> {
        self.scoped(self.inner.save_invitation(invitation)).await
    }
    async fn invitation(&self, id: &str) -> Result<Option<Invitation>, Error> {
        self.scoped(self.inner.invitation(id)).await
    }
    async fn record_response(&self, response: &SurveyResponse) -> Result<bool, Error> {
        self.scoped(self.inner.record_response(response)).await
    }
    async fn invitations_for_customer(
        &self,
        customer: &CustomerId,
        since: DateTime<Utc>,
    ) -> Result<Vec<Invitation>, Error> {
        self.scoped(self.inner.invitations_for_customer(customer, since))
            .await
    }
    async fn response(&self, invitation_id: &str) -> Result<Option<SurveyResponse>, Error> {
        self.scoped(self.inner.response(invitation_id)).await
    }
    async fn responses_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<SurveyResponse>, Error> {
        self.scoped(self.inner.responses_between(from, to)).await
    }
    async fn add_comment(
        &self,
        invitation_id: &str,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<(), Error> {
        self.scoped(self.inner.add_comment(invitation_id, text, at))
            .await
    }
    async fn comments(&self, invitation_id: &str) -> Result<Vec<SurveyComment>, Error> {
        self.scoped(self.inner.comments(invitation_id)).await
    }
}

#[async_trait]
impl SnapshotStore for ShopSchemaStore {
    async fn put_if_newer(&self, snapshot: &Snapshot) -> Result<bool, Error> {
        self.scoped(self.inner.put_if_newer(snapshot)).await
    }
    async fn snapshot(&self, kind: &str, id: &str) -> Result<Option<Snapshot>, Error> {
        self.scoped(self.inner.snapshot(kind, id)).await
    }
}

#[async_trait]
impl aftercare::work::WorkStore for ShopSchemaStore {
    async fn snapshots_many(
        &self,
        keys: &[aftercare::work::SnapshotKey],
    ) -> Result<Vec<Snapshot>, Error> {
        self.scoped(self.inner.snapshots_many(keys)).await
    }
    async fn consents_many(
        &self,
        keys: &[aftercare::work::ConsentKey],
    ) -> Result<Vec<Option<ConsentRecord>>, Error> {
        self.scoped(self.inner.consents_many(keys)).await
    }
    async fn commit(
        &self,
        done: &[i64],
        work: aftercare::work::Work,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        self.scoped(self.inner.commit(done, work, now)).await
    }
}

#[async_trait]
impl Redactor for ShopSchemaStore {
    async fn redact_customer(&self, request: &CustomerRedaction) -> Result<RedactionReport, Error> {
        self.scoped(self.inner.redact_customer(request)).await
    }
    async fn redact_shop(&self, shop: &ShopId) -> Result<RedactionReport, Error> {
        self.scoped(self.inner.redact_shop(shop)).await
    }
    async fn expire(&self, before: DateTime<Utc>) -> Result<RedactionReport, Error> {
        self.scoped(self.inner.expire(before)).await
    }
}
