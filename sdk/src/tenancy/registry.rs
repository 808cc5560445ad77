//! The shop registry (one row per shop: install state, settings, sealed secrets) and the
//! per-shop stores behind it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::health::{HealthCounts, HealthDelta};
use crate::Error;
use crate::model::ShopId;
use crate::store::Store;

/// Where a shop is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ShopStatus {
    /// Installed: its work runs.
    Installed,
    /// Uninstalled: no work runs; its data is erased at `erase_after`.
    Uninstalled,
    /// Its data is erased; the row stays as a tombstone (no secrets, no settings).
    Erased,
}

impl ShopStatus {
    /// The text stored for this status.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Installed => "installed",
            Self::Uninstalled => "uninstalled",
            Self::Erased => "erased",
        }
    }

    /// The status of its stored text.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "installed" => Self::Installed,
            "uninstalled" => Self::Uninstalled,
            "erased" => Self::Erased,
            _ => return None,
        })
    }
}

/// One shop's row in the registry. Secrets are sealed ([`Keyring`](super::Keyring)): the
/// row (and a database dump) holds no secret in clear.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ShopRecord {
    /// The shop.
    pub shop: ShopId,
    /// Its platform (`shopify`, ...).
    pub platform: String,
    /// Install state.
    pub status: ShopStatus,
    /// When it was (last) installed.
    pub installed_at: DateTime<Utc>,
    /// When it was uninstalled, if it is.
    pub uninstalled_at: Option<DateTime<Utc>>,
    /// When its data is due for erasure, once uninstalled.
    pub erase_after: Option<DateTime<Utc>>,
    /// Settings, branding and content map, as the integration stores them.
    pub settings: serde_json::Value,
    /// Sealed secrets by name (`access_token`, `webhook_secret`, `link_key`,
    /// `dashboard_key`...).
    pub secrets: BTreeMap<String, String>,
    /// Bumped by every change of settings or secrets, so every instance knows its opened
    /// copy of the shop is stale.
    #[serde(default)]
    pub revision: u64,
}

impl ShopRecord {
    /// A new, installed shop record with no secrets yet.
    pub fn new(shop: ShopId, platform: impl Into<String>, installed_at: DateTime<Utc>) -> Self {
        Self {
            shop,
            platform: platform.into(),
            status: ShopStatus::Installed,
            installed_at,
            uninstalled_at: None,
            erase_after: None,
            settings: serde_json::Value::Null,
            secrets: BTreeMap::new(),
            revision: 0,
        }
    }
}

/// Durable storage of [`ShopRecord`]s, shared by every instance of a deployment.
#[async_trait]
pub trait ShopRegistry: Send + Sync {
    /// One shop's record.
    async fn get(&self, shop: &ShopId) -> Result<Option<ShopRecord>, Error>;
    /// Stores a record, replacing the shop's previous one.
    async fn put(&self, record: &ShopRecord) -> Result<(), Error>;
    /// Replaces the shop's record only if the stored one's `revision` is still `expected`
    /// (compare-and-swap, atomic against other instances); `false` when it changed
    /// meanwhile or is gone, and nothing is written.
    async fn put_if_revision(&self, record: &ShopRecord, expected: u64) -> Result<bool, Error>;
    /// Every record (ordered by shop id).
    async fn list(&self) -> Result<Vec<ShopRecord>, Error>;
    /// Adds `delta` to the shop's health counters, atomically (instances add at once).
    async fn add_health(&self, shop: &ShopId, delta: &HealthDelta) -> Result<(), Error>;
    /// The shop's health counters (zero when none were added).
    async fn health(&self, shop: &ShopId) -> Result<HealthCounts, Error>;
    /// Forgets the shop's health counters (at erasure).
    async fn clear_health(&self, shop: &ShopId) -> Result<(), Error>;
}

/// The per-shop stores: one [`Store`] per shop, opened on demand and erased whole.
#[async_trait]
pub trait ShopStores: Send + Sync {
    /// Opens (creating if needed) the shop's store.
    async fn open(&self, shop: &ShopId) -> Result<Arc<dyn Store>, Error>;
    /// Deletes every row of the shop's store (and the store itself where it can).
    async fn erase(&self, shop: &ShopId) -> Result<(), Error>;
}

/// A registry in memory (tests, demos, the single-shop case).
#[derive(Debug, Default)]
pub struct MemoryRegistry {
    rows: Mutex<HashMap<ShopId, ShopRecord>>,
    health: Mutex<HashMap<ShopId, HealthCounts>>,
}

impl MemoryRegistry {
    fn rows(&self) -> std::sync::MutexGuard<'_, HashMap<ShopId, ShopRecord>> {
        self.rows.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl ShopRegistry for MemoryRegistry {
    async fn get(&self, shop: &ShopId) -> Result<Option<ShopRecord>, Error> {
        Ok(self.rows().get(shop).cloned())
    }
    async fn put(&self, record: &ShopRecord) -> Result<(), Error> {
        self.rows().insert(record.shop.clone(), record.clone());
        Ok(())
    }
    async fn put_if_revision(&self, record: &ShopRecord, expected: u64) -> Result<bool, Error> {
        let mut rows = self.rows();
        match rows.get_mut(&record.shop) {
            Some(r) if r.revision == expected => {
                *r = record.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    async fn list(&self) -> Result<Vec<ShopRecord>, Error> {
        let mut all: Vec<ShopRecord> = self.rows().values().cloned().collect();
        all.sort_by(|a, b| a.shop.cmp(&b.shop));
        Ok(all)
    }
    async fn add_health(&self, shop: &ShopId, delta: &HealthDelta) -> Result<(), Error> {
        let mut h = self.health.lock().unwrap_or_else(|p| p.into_inner());
        let e = h.entry(shop.clone()).or_default();
        *e = e.plus(delta);
        Ok(())
    }
    async fn health(&self, shop: &ShopId) -> Result<HealthCounts, Error> {
        let h = self.health.lock().unwrap_or_else(|p| p.into_inner());
        Ok(h.get(shop).copied().unwrap_or_default())
    }
    async fn clear_health(&self, shop: &ShopId) -> Result<(), Error> {
        let mut h = self.health.lock().unwrap_or_else(|p| p.into_inner());
        h.remove(shop);
        Ok(())
    }
}

/// One store for one shop: the single-shop configuration as the one-shop case of a
/// multi-shop deployment. Any other shop is refused.
pub struct SingleShop {
    shop: ShopId,
    store: Arc<dyn Store>,
}

impl SingleShop {
    /// `store` serves `shop` only.
    pub fn new(shop: ShopId, store: Arc<dyn Store>) -> Self {
        Self { shop, store }
    }
}

impl std::fmt::Debug for SingleShop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SingleShop")
            .field("shop", &self.shop)
            .finish()
    }
}

#[async_trait]
impl ShopStores for SingleShop {
    async fn open(&self, shop: &ShopId) -> Result<Arc<dyn Store>, Error> {
        if *shop != self.shop {
            return Err(Error::NotFound {
                what: "shop",
                id: shop.to_string(),
            });
        }
        Ok(self.store.clone())
    }
    async fn erase(&self, shop: &ShopId) -> Result<(), Error> {
        if *shop != self.shop {
            return Err(Error::NotFound {
                what: "shop",
                id: shop.to_string(),
            });
        }
        self.store.redact_shop(shop).await.map(|_| ())
    }
}
