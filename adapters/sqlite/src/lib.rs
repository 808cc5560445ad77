//! SQLite storage for Aftercare: the embedded default.
//!
//! One file holds the inbox, outbox and schedule, ledger, consent and survey answers. It is
//! created and migrated on first use, runs in WAL mode (readers never block the writer), and
//! passes the sdk's storage conformance suite.
//!
//! ```no_run
//! # async fn demo() -> Result<(), aftercare_sqlite::OpenError> {
//! let store = aftercare_sqlite::SqliteStore::open("aftercare.db").await?;
//! # Ok(()) }
//! ```
//!
//! Durability: by default a commit survives the process being killed at any point
//! (WAL with `synchronous=NORMAL`); [`Durability::PowerLoss`] also survives an OS crash or
//! power cut, at the cost of an fsync per commit.
//!
//! Webhooks arriving together are inserted together (group commit): one multi-row statement
//! and one WAL commit for a burst. Inbox bodies (JSON) are stored LZ4-compressed when that
//! saves at least an eighth, which halves what a 6.5 KB order writes; they are read back
//! byte for byte.
//!
//! Checkpoints never hold up a commit: SQLite's automatic checkpoint (which runs inside the
//! commit that crosses the threshold, fsyncs included, while every later insert waits) is
//! off, and a task of the store runs a `PASSIVE` checkpoint on a connection of its own
//! every 250 ms. A passive checkpoint takes no write lock, so inserts commit while it copies
//! pages and fsyncs. Under steady commits a passive checkpoint never copies the whole WAL,
//! so once the WAL passes ~256 MB and little is left behind, the task copies that little
//! with this process's writers held for it, and the next commit starts the WAL from its
//! beginning (`checkpoint.rs`, which says why so rarely: the acknowledgements' p99). The WAL
//! stays bounded: when a passive checkpoint leaves more
//! than ~1 GB (262,144 pages) behind, the task runs a `RESTART` checkpoint, which waits
//! for the writer between two commits. Durability is unchanged (see above): a commit is in the WAL
//! when it is acknowledged, whichever connection later copies it into the database.
//!
//! De-duplication, by key and by content within a window (see
//! [`aftercare::store::Inbox::insert`]): the inbox has no unique index on its keys or
//! content keys (random values would put every webhook on its own index page). The writer
//! keeps every stored key and content key in memory (about 40–78 bytes per stored webhook,
//! loaded at the first insert) and stays exact when other processes write the same file: an
//! insert only happens if the inbox's `AUTOINCREMENT` mark is the one the writer knows, and
//! a row found in memory is checked against its key, or its content key and arrival time. Rows added with SQL of your own are seen too, unless they are
//! given an explicit id below the highest the inbox has had; and `sqlite_sequence`, where
//! SQLite keeps that highest id, must be left alone.
//!
//! Concurrency: every claim is a single `UPDATE ... RETURNING` statement and every
//! multi-statement transaction starts with its write, so concurrent workers in one or
//! several processes never claim the same work and never deadlock on lock upgrades.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod checkpoint;
mod codec;
mod flow_writer;
mod keys;
mod retention;
mod schema;
mod shops;
mod store;
mod writer;

pub use shops::{SqliteRegistry, SqliteShops};

use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// How hard a commit tries to reach the disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Durability {
    /// Survives the process being killed (`synchronous=NORMAL` in WAL mode). The default.
    #[default]
    Process,
    /// Also survives an OS crash or power loss (`synchronous=FULL`): an fsync per commit.
    PowerLoss,
}

/// The database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The file could not be opened or created.
    #[error(
        "could not open the SQLite database at {path}: {source}; check that the directory exists and is writable"
    )]
    Open {
        /// The path.
        path: PathBuf,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The schema could not be brought up to date.
    #[error("could not migrate the SQLite database to schema version {version}: {source}")]
    Migrate {
        /// The version being applied.
        version: i64,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The file was written by a newer version of Aftercare.
    #[error(
        "the database is at schema version {found}, newer than this build knows ({known}); upgrade aftercare-sqlite"
    )]
    TooNew {
        /// Version in the file.
        found: i64,
        /// Latest version known to this build.
        known: i64,
    },
    /// A temporary directory could not be made.
    #[error("could not create a temporary directory: {0}")]
    TempDir(#[from] std::io::Error),
}

/// Every Aftercare storage trait on one SQLite database.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: std::sync::Arc<writer::InboxWriter>,
    /// Group commit for the flows' writes: snapshots, ledger rows, enqueued messages.
    flow_writer: std::sync::Arc<flow_writer::FlowWriter>,
    _temp: Option<std::sync::Arc<tempfile::TempDir>>,
    /// Writes by this store and its clones take turns here (see [`SqliteStore::writing`]).
    write_lock: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Checkpoints the WAL off the writer's path; stops with the last clone.
    checkpointer: std::sync::Arc<checkpoint::Checkpointer>,
}

/// The checkpointer's connection: the same file and durability, autocheckpoint off.
fn opts_for_checkpoints(
    path: &Path,
    durability: Durability,
) -> Result<SqliteConnectOptions, sqlx::Error> {
    Ok(SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(match durability {
            Durability::Process => SqliteSynchronous::Normal,
            Durability::PowerLoss => SqliteSynchronous::Full,
        })
        .busy_timeout(Duration::from_secs(10))
        .pragma("wal_autocheckpoint", "0"))
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        Self::open_with(path, Durability::default()).await
    }

    /// Opens the database with a chosen durability.
    pub async fn open_with(
        path: impl AsRef<Path>,
        durability: Durability,
    ) -> Result<Self, OpenError> {
        let path = path.as_ref().to_path_buf();
        let opts = SqliteConnectOptions::from_str("sqlite:")
            .map_err(|source| OpenError::Open {
                path: path.clone(),
                source,
            })?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match durability {
                Durability::Process => SqliteSynchronous::Normal,
                Durability::PowerLoss => SqliteSynchronous::Full,
            })
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // A group commit returns up to one row per webhook: the worker thread should
            // not have to wait for the writer to read them.
            .row_buffer_size(256)
            // No checkpoint inside a commit: the store's checkpointer runs them on its own
            // connection (`checkpoint.rs`). The file is cut back to 64 MB when reset.
            .pragma("wal_autocheckpoint", "0")
            .pragma("journal_size_limit", "67108864");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            // sqlx pings a connection each time it leaves the pool: for SQLite that is one
            // more round trip to the connection's thread (two thread switches) before every
            // statement through the pool, to check a link that an in-process file does not
            // have (a failing connection shows in the statement's own error).
            .test_before_acquire(false)
            .connect_with(opts)
            .await
            .map_err(|source| OpenError::Open {
                path: path.clone(),
                source,
            })?;
        schema::migrate(&pool).await?;
        let write_lock = std::sync::Arc::new(tokio::sync::Mutex::new(()));
        let checkpointer = std::sync::Arc::new(checkpoint::Checkpointer::start(
            opts_for_checkpoints(&path, durability).map_err(|source| OpenError::Open {
                path: path.clone(),
                source,
            })?,
            write_lock.clone(),
        ));
        Ok(Self {
            pool,
            writer: std::sync::Arc::new(writer::InboxWriter::new(write_lock.clone())),
            flow_writer: std::sync::Arc::new(flow_writer::FlowWriter::new(write_lock.clone())),
            _temp: None,
            write_lock,
            checkpointer,
        })
    }

    /// A database in a fresh temporary directory, deleted when the last clone is dropped:
    /// for tests and demos.
    pub async fn open_temporary() -> Result<Self, OpenError> {
        let dir = tempfile::tempdir()?;
        let mut s = Self::open(dir.path().join("aftercare.db")).await?;
        s._temp = Some(std::sync::Arc::new(dir));
        Ok(s)
    }

    /// Waits for this store's turn to write. SQLite has one writer at a time; a connection
    /// that finds the database locked sleeps in SQLite's busy handler (1 ms, then longer),
    /// so writes of one process queue here instead, in order, and only other processes
    /// meet the busy handler.
    pub(crate) async fn writing(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.write_lock.lock().await
    }

    /// The connection pool, for queries of your own.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection, checkpointing the WAL.
    pub async fn close(&self) {
        self.writer.shutdown();
        self.flow_writer.shutdown();
        self.checkpointer.stop().await;
        self.pool.close().await;
    }
}
