//! Many shops in one deployment (the store-plugin mode).
//!
//! - [`Tenancy`] keeps one [`ShopRecord`] per shop in a [`ShopRegistry`] shared by every
//!   instance: install state, settings (branding, content map) and secrets **sealed** with a
//!   [`Keyring`] (ChaCha20-Poly1305, keys from the environment, rotation by
//!   [`Tenancy::rotate_keys`]); a database dump holds no secret in clear.
//! - A shop's data lives in its own [`Store`](crate::store::Store), opened by
//!   [`ShopStores`] (a PostgreSQL schema per shop on one shared pool, a SQLite file per
//!   shop, or [`SingleShop`]: a single-shop configuration is the one-shop case).
//! - **Isolation by construction**: the only way to a shop's store is a [`ShopScope`], which
//!   only [`Tenancy::scope`] hands out, and only for an installed shop. Each scope carries
//!   the shop's own link key (tracking and survey tokens of one shop are refused by every
//!   other) and dashboard key.
//! - [`FairDispatcher`] serves the shops' outboxes in rounds, a quantum per shop, so one
//!   shop's backlog cannot starve the others.
//! - With the `axum` feature, [`ShopRoutes`] serves `/shops/{shop}/...` from each shop's
//!   own router.
//! - [`ShopHealth`] and [`prometheus`]: per-shop dead letters, dead, uncertain and waiting
//!   messages and token presence, as figures and as Prometheus text.
//! - Uninstall stops the shop's work at once and schedules the erasure
//!   ([`DEFAULT_ERASE_AFTER`], 48 hours); [`Tenancy::erase_due`] runs it.

mod fair;
mod health;
mod keyring;
mod lifecycle;
mod registry;
#[cfg(feature = "axum")]
mod router;
mod scope;
mod store;

pub use fair::{DispatchTurn, FairDispatcher, RoundReport};
pub use health::{HEALTH_CAP, HealthCounts, HealthDelta, ShopCounters, ShopHealth, prometheus};
pub use keyring::{KEYS_ENV, Keyring};
pub use lifecycle::Lifecycle;
pub use registry::{MemoryRegistry, ShopRecord, ShopRegistry, ShopStatus, ShopStores, SingleShop};
#[cfg(feature = "axum")]
pub use router::{BuildShopRouter, ShopRoutes};
pub use scope::{
    ACCESS_TOKEN, DASHBOARD_KEY, DEFAULT_ERASE_AFTER, Installed, LINK_KEY, ShopInstall, ShopScope,
    Tenancy, WEBHOOK_SECRET,
};
pub use store::ShopStore;
