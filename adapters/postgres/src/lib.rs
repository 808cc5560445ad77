//! PostgreSQL storage for Aftercare: one database shared by several instances.
//!
//! Every storage trait of [`aftercare::store`] on PostgreSQL, passing the sdk's storage
//! conformance suite. Several processes may share one database: inbox, outbox and schedule
//! are claimed with `FOR UPDATE SKIP LOCKED`, so two instances never claim the same work and
//! never wait for each other's claims.
//!
//! ```no_run
//! # async fn demo() -> Result<(), aftercare_postgres::ConnectError> {
//! use aftercare::store::Outbox as _;
//!
//! let store = aftercare_postgres::PostgresStore::connect("postgres://aftercare@localhost/aftercare").await?;
//! let pending = store.outbox_in(aftercare::store::OutboxStatus::Pending, 10).await;
//! # let _ = pending;
//! # Ok(()) }
//! ```
//!
//! With pool settings or a schema of your own:
//!
//! ```no_run
//! # async fn demo() -> Result<(), aftercare_postgres::ConnectError> {
//! use aftercare_postgres::PostgresStore;
//! use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
//!
//! let options: PgConnectOptions = "postgres://aftercare@db.internal/shop?sslmode=verify-full"
//!     .parse()
//!     .map_err(aftercare_postgres::ConnectError::Url)?;
//! let store = PostgresStore::connect_in_schema(PgPoolOptions::new().max_connections(20), options, "aftercare").await?;
//! # let _ = store;
//! # Ok(()) }
//! ```
//!
//! - **Migrations** run on connect, in one transaction holding a `pg_advisory_xact_lock`:
//!   instances starting together migrate once; the version is recorded in
//!   `aftercare_schema_version`.
//! - **Schema**: tables live in the connection's `search_path` (usually `public`), or in a
//!   schema of their own with [`PostgresStore::connect_in_schema`] (several tenants or test
//!   runs in one database).
//! - **Types**: times are `timestamptz` (microseconds), bodies `bytea`, JSON `jsonb`
//!   (which, unlike the raw `bytea` bodies, cannot hold the character U+0000: a message text
//!   or snapshot containing it is refused with a storage error).
//! - **Claims**: `WITH due AS MATERIALIZED (SELECT id ... FOR UPDATE SKIP LOCKED LIMIT n)
//!   UPDATE ... FROM due RETURNING ...`, one statement per claim.
//! - **Group commit**: webhooks arriving together are inserted together, in one multi-row
//!   `INSERT ... ON CONFLICT DO NOTHING RETURNING id` and one commit; a lone webhook is
//!   written at once.
//! - **De-duplication** by key (unique `(source, dedupe_key)`) and by content (unique
//!   `content_key`: source, topic and body, see [`aftercare::store::Inbox::insert`]): one
//!   row at most holds a content key, and gives it up, in the statement storing a new copy,
//!   once it is older than that copy's window. Instances inserting the same content at
//!   once wait on the unique index for each other, so it is stored once.
//! - **Redaction** looks for addresses inside stored webhook bodies with
//!   `position(address IN body)`: a sequential scan of the inbox, fine for the occasional
//!   privacy request; outbox and consent rows are matched by address hash.
//! - **Ledger**: every outbox transition and its ledger row are one statement (a
//!   data-modifying CTE), so both happen or neither; a transition under a lost claim changes
//!   nothing and returns `false`.
//! - **Many shops**: [`PostgresShops`] keeps a schema per shop on one shared pool (the
//!   schema set per call, an empty one outside any shop's call) and a shared registry of shop
//!   records ([`PostgresRegistry`]), for `aftercare::tenancy`.
//! - **TLS**: rustls (`sslmode=require` or `verify-full` in the URL).

#![cfg_attr(docsrs, feature(doc_cfg))]

mod retention;
mod schema;
mod shops;
mod store;
mod writer;

pub use shops::{PostgresRegistry, PostgresShops, ShopSchemaStore};

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// The database could not be reached or migrated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL could not be parsed.
    #[error(
        "the PostgreSQL URL is invalid: {0}; expected postgres://user:password@host:port/database"
    )]
    Url(#[source] sqlx::Error),
    /// No connection could be made.
    #[error(
        "could not connect to PostgreSQL: {0}; check that the server runs, the URL (host, port, user, password, database) and sslmode"
    )]
    Connect(#[source] sqlx::Error),
    /// The schema name is not one this crate accepts.
    #[error(
        "invalid schema name `{0}`: use 1 to 63 lower-case ASCII letters, digits or `_`, not starting with a digit"
    )]
    SchemaName(String),
    /// The schema could not be brought up to date.
    #[error(
        "could not migrate the PostgreSQL schema to version {version}: {source}; check that the user may create tables (and schemas)"
    )]
    Migrate {
        /// The version being applied (0: the preparation before any step).
        version: i32,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The database was migrated by a newer version of Aftercare.
    #[error(
        "the database is at schema version {found}, newer than this build knows ({known}); upgrade aftercare-postgres"
    )]
    TooNew {
        /// Version in the database.
        found: i32,
        /// Latest version known to this build.
        known: i32,
    },
}

/// Every Aftercare storage trait on one PostgreSQL database, safe to share between several
/// processes (and cheap to clone within one: clones share the pool).
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pool: PgPool,
    writer: std::sync::Arc<writer::InboxWriter>,
}

impl PostgresStore {
    /// Connects (with up to 10 connections) and migrates the tables in the default
    /// `search_path`.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        let opts: PgConnectOptions = url.parse().map_err(ConnectError::Url)?;
        Self::connect_with(PgPoolOptions::new().max_connections(10), opts).await
    }

    /// Connects with pool and connection options of your own, and migrates.
    pub async fn connect_with(
        pool: PgPoolOptions,
        options: PgConnectOptions,
    ) -> Result<Self, ConnectError> {
        let pool = pool
            .connect_with(options)
            .await
            .map_err(ConnectError::Connect)?;
        Self::from_pool(pool).await
    }

    /// Connects with every table in `schema` (created if missing): each connection's
    /// `search_path` is set to it. The name must be a plain lower-case identifier.
    pub async fn connect_in_schema(
        pool: PgPoolOptions,
        options: PgConnectOptions,
        schema: &str,
    ) -> Result<Self, ConnectError> {
        if !valid_schema(schema) {
            return Err(ConnectError::SchemaName(schema.to_owned()));
        }
        let options = options.options([("search_path", schema)]);
        let pool = pool
            .connect_with(options)
            .await
            .map_err(ConnectError::Connect)?;
        schema::migrate(&pool, Some(schema)).await?;
        Ok(Self {
            pool,
            writer: Default::default(),
        })
    }

    /// Uses an existing pool (tables in its connections' `search_path`), migrating first.
    pub async fn from_pool(pool: PgPool) -> Result<Self, ConnectError> {
        schema::migrate(&pool, None).await?;
        Ok(Self {
            pool,
            writer: Default::default(),
        })
    }

    /// The connection pool, for queries of your own.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection of this store's pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn valid_schema(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::valid_schema;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn connecting_can_be_spawned() {
        // Instances start their stores inside spawned tasks.
        assert_send(&super::PostgresStore::connect("postgres://localhost/x"));
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        for ok in ["aftercare", "tenant_42", "_x"] {
            assert!(valid_schema(ok), "{ok}");
        }
        for bad in [
            "",
            "42tenant",
            "Tenant",
            "a-b",
            "a;drop table x",
            "a\"b",
            &"x".repeat(64),
        ] {
            assert!(!valid_schema(bad), "{bad}");
        }
    }
}
