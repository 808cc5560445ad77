//! [`Tenancy`] (install, uninstall, erasure, key rotation) and [`ShopScope`], the only way
//! to a shop's store.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use rand::RngCore as _;

use super::keyring::Keyring;
use super::registry::{ShopRecord, ShopRegistry, ShopStatus, ShopStores};
use super::store::ShopStore;
use crate::Error;
use crate::model::ShopId;
use crate::token::TokenSigner;
use crate::webhook::Secret;

/// Secret name: the platform's access token for the shop.
pub const ACCESS_TOKEN: &str = "access_token";
/// Secret name: the key the shop's webhooks are signed with where the key is per shop
/// (generated at install when not given: Aftercare's native events, per-shop senders).
pub const WEBHOOK_SECRET: &str = "webhook_secret";
/// Secret name: the key the shop's tracking and survey links are signed with (generated).
pub const LINK_KEY: &str = "link_key";
/// Secret name: the shop's dashboard key (generated, handed out once at install).
pub const DASHBOARD_KEY: &str = "dashboard_key";

/// How long after an uninstall a shop's data is erased by default: 48 hours, when Shopify
/// sends `shop/redact` after an uninstall.
pub const DEFAULT_ERASE_AFTER: Duration = Duration::hours(48);

/// What an install brings: the shop, its platform, its secrets and settings.
#[derive(Clone)]
#[non_exhaustive]
pub struct ShopInstall {
    /// The shop.
    pub shop: ShopId,
    /// Its platform.
    pub platform: String,
    /// Secrets by name ([`ACCESS_TOKEN`], [`WEBHOOK_SECRET`], ...), sealed before storing.
    pub secrets: BTreeMap<String, Secret>,
    /// Settings, branding and content map.
    pub settings: serde_json::Value,
}

impl fmt::Debug for ShopInstall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShopInstall")
            .field("shop", &self.shop)
            .field("platform", &self.platform)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl ShopInstall {
    /// An install of `shop` on `platform`.
    pub fn new(shop: ShopId, platform: impl Into<String>) -> Self {
        Self {
            shop,
            platform: platform.into(),
            secrets: BTreeMap::new(),
            settings: serde_json::Value::Null,
        }
    }

    /// Adds a secret.
    pub fn secret(mut self, name: impl Into<String>, secret: Secret) -> Self {
        self.secrets.insert(name.into(), secret);
        self
    }

    /// Sets the settings (branding, content map...).
    pub fn settings(mut self, settings: serde_json::Value) -> Self {
        self.settings = settings;
        self
    }
}

/// A shop's handle: its id, its store, its opened secrets. Obtainable only from
/// [`Tenancy::scope`] (or [`Tenancy::install`]), and only for an installed shop: code that
/// takes a `&ShopScope` cannot reach another shop's data by mistake.
///
/// ```compile_fail
/// // No way to build one by hand:
/// let s = aftercare::tenancy::ShopScope { shop: "a".into() };
/// ```
#[derive(Clone)]
pub struct ShopScope {
    shop: ShopId,
    platform: Arc<str>,
    store: Arc<ShopStore>,
    secrets: Arc<BTreeMap<String, Secret>>,
    settings: Arc<serde_json::Value>,
}

impl fmt::Debug for ShopScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShopScope")
            .field("shop", &self.shop)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl ShopScope {
    /// The shop.
    pub fn shop(&self) -> &ShopId {
        &self.shop
    }

    /// The platform the shop was installed from (`shopify`, `bigcommerce`...).
    pub fn platform(&self) -> &str {
        &self.platform
    }

    /// The shop's store (and no other shop's).
    pub fn store(&self) -> Arc<ShopStore> {
        self.store.clone()
    }

    /// One of the shop's secrets, opened.
    pub fn secret(&self, name: &str) -> Option<&Secret> {
        self.secrets.get(name)
    }

    /// The shop's settings.
    pub fn settings(&self) -> &serde_json::Value {
        &self.settings
    }

    /// The shop's link key ([`LINK_KEY`]), for [`Stack`](crate::stack)'s `link_key`: its
    /// tracking and survey tokens open for this shop only.
    pub fn link_key(&self) -> Secret {
        self.secrets
            .get(LINK_KEY)
            .cloned()
            .unwrap_or_else(|| Secret::from_bytes(Vec::new()))
    }

    /// A signer for `purpose` with the shop's link key. A token it signs is refused
    /// (`Forged`) by every other shop's signer.
    pub fn link_signer(&self, purpose: &str) -> TokenSigner {
        TokenSigner::new(self.link_key(), purpose)
    }

    /// Whether both scopes come from the same install and secrets (a re-install, or a
    /// changed secret, makes a new scope).
    pub fn same_install(&self, other: &ShopScope) -> bool {
        self.shop == other.shop && Arc::ptr_eq(&self.secrets, &other.secrets)
    }

    /// The shop's dashboard key ([`DASHBOARD_KEY`]; empty, which opens to no one, if
    /// missing).
    pub fn dashboard_key(&self) -> Secret {
        self.secrets
            .get(DASHBOARD_KEY)
            .cloned()
            .unwrap_or_else(|| Secret::from_bytes(Vec::new()))
    }
}

/// The result of an install: the shop's scope, and its dashboard key to hand to the
/// merchant once (it is stored sealed).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Installed {
    /// The installed shop.
    pub scope: ShopScope,
    /// Its dashboard key.
    pub dashboard_key: Secret,
}

/// The shops of one deployment: their records, secrets and stores.
pub struct Tenancy {
    registry: Arc<dyn ShopRegistry>,
    stores: Arc<dyn ShopStores>,
    keys: Keyring,
    erase_after: Duration,
    open: Mutex<HashMap<ShopId, (Opened, ShopScope)>>,
}

impl fmt::Debug for Tenancy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tenancy")
            .field("keys", &self.keys)
            .field("erase_after", &self.erase_after)
            .finish_non_exhaustive()
    }
}

/// Which version of a shop's record an opened scope was made from.
type Opened = (DateTime<Utc>, u64);

fn random_secret() -> Secret {
    let mut k = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut k);
    Secret::from_bytes(k.to_vec())
}

impl Tenancy {
    /// Shops recorded in `registry`, their data in `stores`, secrets sealed with `keys`.
    pub fn new(
        registry: Arc<dyn ShopRegistry>,
        stores: Arc<dyn ShopStores>,
        keys: Keyring,
    ) -> Self {
        Self {
            registry,
            stores,
            keys,
            erase_after: DEFAULT_ERASE_AFTER,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// How long after an uninstall the data is erased ([`DEFAULT_ERASE_AFTER`]).
    pub fn erase_after(mut self, delay: Duration) -> Self {
        self.erase_after = delay;
        self
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<ShopId, (Opened, ShopScope)>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Installs (or re-installs) a shop: its record with sealed secrets (a link key and a
    /// dashboard key generated when not given), its store opened. A re-install within the
    /// erasure delay cancels the erasure.
    pub async fn install(
        &self,
        install: ShopInstall,
        now: DateTime<Utc>,
    ) -> Result<Installed, Error> {
        let ShopInstall {
            shop,
            platform,
            mut secrets,
            settings,
        } = install;
        if shop.as_str().is_empty() {
            return Err(Error::Config("a shop id cannot be empty".into()));
        }
        secrets.entry(LINK_KEY.into()).or_insert_with(random_secret);
        secrets
            .entry(WEBHOOK_SECRET.into())
            .or_insert_with(random_secret);
        secrets.entry(DASHBOARD_KEY.into()).or_insert_with(|| {
            let mut k = [0u8; 24];
            rand::rngs::OsRng.fill_bytes(&mut k);
            Secret::from_bytes(hex::encode(k).into_bytes())
        });
        let mut record = ShopRecord::new(shop.clone(), platform, now);
        record.settings = settings;
        for (name, secret) in &secrets {
            record
                .secrets
                .insert(name.clone(), self.keys.seal(&shop, name, secret.expose())?);
        }
        self.registry.put(&record).await?;
        self.cache().remove(&shop);
        let scope = self.scope(&shop).await?;
        tracing::info!(shop = %shop, platform = %record.platform, "shop installed");
        Ok(Installed {
            dashboard_key: scope.dashboard_key(),
            scope,
        })
    }

    /// Replaces (or adds) one secret of an installed shop, e.g. a refreshed access token.
    pub async fn set_secret(
        &self,
        shop: &ShopId,
        name: &str,
        secret: &Secret,
    ) -> Result<(), Error> {
        let mut record = self.installed_record(shop).await?;
        record.secrets.insert(
            name.to_owned(),
            self.keys.seal(shop, name, secret.expose())?,
        );
        record.revision = record.revision.wrapping_add(1);
        self.registry.put(&record).await?;
        self.cache().remove(shop);
        Ok(())
    }

    /// Replaces an installed shop's settings (the merchant's own settings page) if its
    /// record's revision is still `expected` (the revision the form was made from): the
    /// next scope of the shop, on every instance, carries them. `Ok(false)` when the record
    /// changed meanwhile (another save, a new token): nothing is written, the caller should
    /// reload rather than overwrite the other change.
    pub async fn set_settings(
        &self,
        shop: &ShopId,
        expected: u64,
        settings: serde_json::Value,
    ) -> Result<bool, Error> {
        let mut record = self.installed_record(shop).await?;
        if record.revision != expected {
            return Ok(false);
        }
        record.settings = settings;
        record.revision = record.revision.wrapping_add(1);
        if !self.registry.put_if_revision(&record, expected).await? {
            return Ok(false);
        }
        self.cache().remove(shop);
        tracing::info!(shop = %shop, "shop settings changed");
        Ok(true)
    }

    async fn installed_record(&self, shop: &ShopId) -> Result<ShopRecord, Error> {
        match self.registry.get(shop).await? {
            Some(r) if r.status == ShopStatus::Installed => Ok(r),
            _ => Err(Error::NotFound {
                what: "installed shop",
                id: shop.to_string(),
            }),
        }
    }

    /// The scope of an installed shop; `NotFound` for a shop not installed (never
    /// installed, uninstalled, erased). Reads the registry each time, so an uninstall by
    /// another instance stops this one's work too; the store and opened secrets are cached.
    pub async fn scope(&self, shop: &ShopId) -> Result<ShopScope, Error> {
        let record = self.installed_record(shop).await?;
        if let Some((at, scope)) = self.cache().get(shop)
            && *at == (record.installed_at, record.revision)
        {
            return Ok(scope.clone());
        }
        let mut secrets = BTreeMap::new();
        for (name, sealed) in &record.secrets {
            let plain = self.keys.open(shop, name, sealed)?;
            secrets.insert(name.clone(), Secret::from_bytes(plain));
        }
        let scope = ShopScope {
            shop: shop.clone(),
            platform: record.platform.as_str().into(),
            store: Arc::new(ShopStore::new(shop.clone(), self.stores.open(shop).await?)),
            secrets: Arc::new(secrets),
            settings: Arc::new(record.settings.clone()),
        };
        self.cache().insert(
            shop.clone(),
            ((record.installed_at, record.revision), scope.clone()),
        );
        Ok(scope)
    }

    /// The installed shops.
    pub async fn installed(&self) -> Result<Vec<ShopId>, Error> {
        Ok(self
            .registry
            .list()
            .await?
            .into_iter()
            .filter(|r| r.status == ShopStatus::Installed)
            .map(|r| r.shop)
            .collect())
    }

    /// Every shop's record (sealed secrets), installed or not, ordered by shop, for admin
    /// views.
    pub async fn records(&self) -> Result<Vec<ShopRecord>, Error> {
        self.registry.list().await
    }

    /// A shop's record (sealed secrets), for admin views.
    pub async fn record(&self, shop: &ShopId) -> Result<Option<ShopRecord>, Error> {
        self.registry.get(shop).await
    }

    /// Records an uninstall: no scope is handed out for the shop any more (its work stops),
    /// its access token is dropped, its data is erased after the erasure delay. Returns
    /// `false` if the shop was not installed.
    pub async fn uninstall(&self, shop: &ShopId, at: DateTime<Utc>) -> Result<bool, Error> {
        let Some(mut record) = self.registry.get(shop).await? else {
            return Ok(false);
        };
        if record.status != ShopStatus::Installed {
            return Ok(false);
        }
        record.status = ShopStatus::Uninstalled;
        record.uninstalled_at = Some(at);
        record.erase_after = Some(at + self.erase_after);
        // The token is revoked by the platform at uninstall; keeping it serves nothing.
        record.secrets.remove(ACCESS_TOKEN);
        self.registry.put(&record).await?;
        self.cache().remove(shop);
        tracing::info!(shop = %shop, erase_after = %(at + self.erase_after), "shop uninstalled");
        Ok(true)
    }

    /// Erases a shop's data now (a platform's shop-redaction request, or the schedule).
    /// Refused (`false`) while the shop is installed: an erasure request for an installed
    /// shop is held, as the privacy flow holds it. The record stays as a tombstone without
    /// secrets or settings.
    pub async fn erase(&self, shop: &ShopId) -> Result<bool, Error> {
        let Some(mut record) = self.registry.get(shop).await? else {
            return Ok(false);
        };
        if record.status != ShopStatus::Uninstalled {
            return Ok(false);
        }
        self.cache().remove(shop);
        self.stores.erase(shop).await?;
        self.registry.clear_health(shop).await?;
        record.status = ShopStatus::Erased;
        record.secrets.clear();
        record.settings = serde_json::Value::Null;
        self.registry.put(&record).await?;
        tracing::info!(shop = %shop, "shop data erased");
        Ok(true)
    }

    /// Adds what `counters` counted for `shop` since the last flush to the registry's
    /// counts, shared by every instance; on failure the counts are put back for the next
    /// flush. Writes nothing when nothing was counted.
    pub async fn flush_health(
        &self,
        shop: &ShopId,
        counters: &super::health::ShopCounters,
    ) -> Result<(), Error> {
        let delta = counters.take();
        if delta.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.registry.add_health(shop, &delta).await {
            counters.restore(&delta);
            return Err(e);
        }
        Ok(())
    }

    /// The shop's health counts, every instance's flushed counts together.
    pub async fn health_counts(&self, shop: &ShopId) -> Result<super::health::HealthCounts, Error> {
        self.registry.health(shop).await
    }

    /// Erases every uninstalled shop whose erasure is due at `now`; returns them.
    pub async fn erase_due(&self, now: DateTime<Utc>) -> Result<Vec<ShopId>, Error> {
        let mut erased = Vec::new();
        for r in self.registry.list().await? {
            if r.status == ShopStatus::Uninstalled
                && r.erase_after.is_some_and(|t| t <= now)
                && self.erase(&r.shop).await?
            {
                erased.push(r.shop);
            }
        }
        Ok(erased)
    }

    /// Re-seals every secret not under the keyring's primary key; returns how many. Run it
    /// after putting a new key first; drop the old key once it returns.
    pub async fn rotate_keys(&self) -> Result<usize, Error> {
        let mut n = 0;
        for mut record in self.registry.list().await? {
            let mut changed = false;
            for (name, sealed) in record.secrets.iter_mut() {
                if self.keys.needs_rotation(sealed) {
                    let plain = self.keys.open(&record.shop, name, sealed)?;
                    *sealed = self.keys.seal(&record.shop, name, &plain)?;
                    changed = true;
                    n += 1;
                }
            }
            if changed {
                self.registry.put(&record).await?;
            }
        }
        Ok(n)
    }
}
