//! Many shops on SQLite: a database file per shop in one directory, and a registry file.
//! For development and tests of the multi-shop mode; a deployment of many shops belongs on
//! PostgreSQL (`aftercare-postgres`'s `PostgresShops`). A single-shop configuration needs
//! neither: `aftercare::tenancy::SingleShop` over one `SqliteStore`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use aftercare::Error;
use aftercare::model::ShopId;
use aftercare::store::Store;
use aftercare::tenancy::{HealthCounts, HealthDelta, ShopRecord, ShopRegistry, ShopStores};
use async_trait::async_trait;
use tokio::sync::Mutex;

use crate::SqliteStore;

/// A store file per shop under one directory (`shop-<hex of the id>.db`).
#[derive(Debug)]
pub struct SqliteShops {
    dir: PathBuf,
    open: Mutex<HashMap<ShopId, SqliteStore>>,
}

impl SqliteShops {
    /// Shops' files under `dir` (created if missing).
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, Error> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::storage("create the shops directory", e))?;
        Ok(Self {
            dir,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// The file of `shop`'s store: the id hex-encoded, so no id can name a path.
    pub fn path_of(&self, shop: &ShopId) -> PathBuf {
        let hex: String = shop.as_str().bytes().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("shop-{hex}.db"))
    }

    /// Opens one shop's store (a clone of the open one after the first call).
    pub async fn open_shop(&self, shop: &ShopId) -> Result<SqliteStore, Error> {
        if shop.as_str().is_empty() || shop.as_str().len() > 255 {
            return Err(Error::Config(format!("invalid shop id `{shop}`")));
        }
        let mut open = self.open.lock().await;
        if let Some(s) = open.get(shop) {
            return Ok(s.clone());
        }
        // Opened on a blocking thread of this runtime: `SqliteStore::open`'s future is not
        // `Send` (sqlx's migration), which `async_trait`'s boxed futures require.
        let path = self.path_of(shop);
        let handle = tokio::runtime::Handle::current();
        let store = tokio::task::spawn_blocking(move || handle.block_on(SqliteStore::open(path)))
            .await
            .map_err(|e| Error::storage("open a shop's store", e))?
            .map_err(|e| Error::storage("open a shop's store", e))?;
        open.insert(shop.clone(), store.clone());
        Ok(store)
    }
}

#[async_trait]
impl ShopStores for SqliteShops {
    async fn open(&self, shop: &ShopId) -> Result<Arc<dyn Store>, Error> {
        Ok(Arc::new(self.open_shop(shop).await?))
    }

    async fn erase(&self, shop: &ShopId) -> Result<(), Error> {
        if let Some(store) = self.open.lock().await.remove(shop) {
            store.close().await;
        }
        let path = self.path_of(shop);
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.clone().into_os_string();
            p.push(suffix);
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::storage("delete a shop's store", e)),
            }
        }
        Ok(())
    }
}

/// Shop records in a SQLite file of their own (`registry.db` beside the shops' files).
#[derive(Debug, Clone)]
pub struct SqliteRegistry {
    pool: sqlx::SqlitePool,
}

impl SqliteRegistry {
    /// Opens (creating if needed) the registry at `path`.
    pub async fn open(path: impl Into<PathBuf>) -> Result<Self, Error> {
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path.into())
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(opts)
            .await
            .map_err(|e| Error::storage("open the shop registry", e))?;
        for sql in [
            "CREATE TABLE IF NOT EXISTS shops (shop TEXT PRIMARY KEY, status TEXT NOT NULL, record TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS shop_health (shop TEXT PRIMARY KEY,
                webhook_failures INTEGER NOT NULL DEFAULT 0,
                provider_errors INTEGER NOT NULL DEFAULT 0,
                token_rejected INTEGER NOT NULL DEFAULT 0)",
        ] {
            sqlx::query(sql)
                .execute(&pool)
                .await
                .map_err(|e| Error::storage("create the shop registry", e))?;
        }
        Ok(Self { pool })
    }
}

fn decode(text: String) -> Result<ShopRecord, Error> {
    serde_json::from_str(&text).map_err(|e| Error::decode("stored shop record", e))
}

#[async_trait]
impl ShopRegistry for SqliteRegistry {
    async fn get(&self, shop: &ShopId) -> Result<Option<ShopRecord>, Error> {
        let row: Option<String> = sqlx::query_scalar("SELECT record FROM shops WHERE shop = ?")
            .bind(shop.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| Error::storage("read a shop record", e))?;
        row.map(decode).transpose()
    }

    async fn put(&self, record: &ShopRecord) -> Result<(), Error> {
        let text =
            serde_json::to_string(record).map_err(|e| Error::storage("encode a shop record", e))?;
        sqlx::query(
            "INSERT INTO shops (shop, status, record) VALUES (?, ?, ?)
             ON CONFLICT (shop) DO UPDATE SET status = excluded.status, record = excluded.record",
        )
        .bind(record.shop.as_str())
        .bind(record.status.as_str())
        .bind(text)
        .execute(&self.pool)
        .await
        .map_err(|e| Error::storage("store a shop record", e))?;
        Ok(())
    }

    async fn put_if_revision(&self, record: &ShopRecord, expected: u64) -> Result<bool, Error> {
        let text =
            serde_json::to_string(record).map_err(|e| Error::storage("encode a shop record", e))?;
        let expected = i64::try_from(expected)
            .map_err(|e| Error::storage("compare a shop record's revision", e))?;
        // One statement: the row changes only while its stored revision is the expected one.
        let done = sqlx::query(
            "UPDATE shops SET status = ?, record = ?
             WHERE shop = ? AND json_extract(record, '$.revision') = ?",
        )
        .bind(record.status.as_str())
        .bind(text)
        .bind(record.shop.as_str())
        .bind(expected)
        .execute(&self.pool)
        .await
        .map_err(|e| Error::storage("store a shop record", e))?;
        Ok(done.rows_affected() == 1)
    }

    async fn list(&self) -> Result<Vec<ShopRecord>, Error> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT record FROM shops ORDER BY shop")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| Error::storage("list shop records", e))?;
        rows.into_iter().map(decode).collect()
    }

    async fn add_health(&self, shop: &ShopId, delta: &HealthDelta) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO shop_health (shop, webhook_failures, provider_errors, token_rejected)
             VALUES (?1, ?2, ?3, COALESCE(?4, 0))
             ON CONFLICT (shop) DO UPDATE SET
                 webhook_failures = webhook_failures + excluded.webhook_failures,
                 provider_errors = provider_errors + excluded.provider_errors,
                 token_rejected = COALESCE(?4, token_rejected)",
        )
        .bind(shop.as_str())
        .bind(i64::from(delta.webhook_failures))
        .bind(i64::from(delta.provider_errors))
        .bind(delta.token_rejected)
        .execute(&self.pool)
        .await
        .map_err(|e| Error::storage("add to a shop's health counts", e))?;
        Ok(())
    }

    async fn health(&self, shop: &ShopId) -> Result<HealthCounts, Error> {
        let row: Option<(i64, i64, bool)> = sqlx::query_as(
            "SELECT webhook_failures, provider_errors, token_rejected FROM shop_health WHERE shop = ?",
        )
        .bind(shop.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| Error::storage("read a shop's health counts", e))?;
        Ok(counts(row))
    }

    async fn clear_health(&self, shop: &ShopId) -> Result<(), Error> {
        sqlx::query("DELETE FROM shop_health WHERE shop = ?")
            .bind(shop.as_str())
            .execute(&self.pool)
            .await
            .map_err(|e| Error::storage("forget a shop's health counts", e))?;
        Ok(())
    }
}

fn counts(row: Option<(i64, i64, bool)>) -> HealthCounts {
    let mut c = HealthCounts::default();
    if let Some((w, p, t)) = row {
        c.webhook_failures = u64::try_from(w).unwrap_or(0);
        c.provider_errors = u64::try_from(p).unwrap_or(0);
        c.token_rejected = t;
    }
    c
}
