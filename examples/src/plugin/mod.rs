//! The store-plugin deployment (`plugin` binary): one Shopify app that many merchants
//! install, served by one deployment (or several instances sharing one PostgreSQL).
//!
//! - `GET /install?shop=...` → Shopify's authorize URL, with a random `state` set as an
//!   `HttpOnly` cookie; `GET /auth/callback` → the callback's HMAC and timestamp checked, its
//!   `state` equal to the cookie's, the code exchanged, the shop recorded with its token
//!   sealed and its webhooks subscribed to `/shops/{shop}/webhooks/shopify`
//!   ([`install`]).
//! - `/shops/{shop}/...`: each installed shop's own routes, built from its scope only
//!   (webhooks bound to its domain, tracking pages `/t/{token}` under its own link key, its
//!   dashboard `/dashboard` under its own key, Twilio status callbacks); `app/uninstalled`
//!   arrives there and stops the shop ([`shop`]).
//! - With `[bigcommerce]`, BigCommerce's single-click app: `GET /bigcommerce/auth` (the
//!   code exchanged, the store recorded with its token sealed, its hooks subscribed to
//!   `/shops/{store_hash}/webhooks/bigcommerce`), `/bigcommerce/load`,
//!   `/bigcommerce/uninstall` and `/bigcommerce/remove_user`, each checking its
//!   `signed_payload_jwt` first ([`bigcommerce`]).
//! - With `[woocommerce]`, WooCommerce's `wc-auth`: `GET /woocommerce/install?site=...`,
//!   the keys posted to `/woocommerce/callback` (checked against our signed `user_id`,
//!   proved by making the site's webhooks to `/shops/{site}/webhooks/woocommerce`), the
//!   merchant back at `/woocommerce/return` ([`woocommerce`]).
//! - With `[nuvemshop]`, Nuvemshop's redirect `GET /nuvemshop/auth?code=...` (the code
//!   exchanged, the store the answer names recorded with its token sealed, its webhooks made
//!   to `/shops/{store_id}/webhooks/nuvemshop`; `app/uninstalled` stops it) ([`nuvemshop`]).
//! - `POST /webhooks/shopify/compliance`: the app-level mandatory compliance webhooks
//!   (`customers/data_request`, `customers/redact`, `shop/redact`), the shop taken from the
//!   signed body's `shop_domain` and checked against the registry ([`install`]).
//! - `GET /admin` (HTML) and `GET /metrics` (Prometheus text) behind the operator's key
//!   ([`admin`]).
//! - Work: every shop's inbox processed in turn, messages sent by a [`FairDispatcher`] (one
//!   batch per shop per round), SMS paced per sending number ([`SenderLimits`]), uncertain
//!   sends resolved, uninstalled shops erased when due; every span of that work names its
//!   shop.

pub mod admin;
pub mod bigcommerce;
pub mod config;
pub mod install;
pub mod nuvemshop;
pub mod settings;
pub mod shop;
pub mod woocommerce;

use std::collections::HashMap;
use std::str::FromStr as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::clock::SystemClock;
use aftercare::model::ShopId;
use aftercare::ratelimit::{SenderLimits, SlidingWindow};
use aftercare::tenancy::{FairDispatcher, Keyring, ShopRoutes, ShopScope, Tenancy};
use aftercare::webhook::Secret;
use aftercare_bigcommerce::install::{BigCommerceApp, BigCommerceInstaller};
use aftercare_shopify::{OAuthApp, ShopifyInstaller};
use axum::Router;
use tracing::Instrument as _;

pub use config::{PluginConfig, check};
use shop::{Shared, ShopRuntime, StackTurn};

use crate::real::BoxError;

/// One deployment serving every installed shop.
pub struct Plugin {
    shared: Arc<Shared>,
    installer: ShopifyInstaller,
    bigcommerce: Option<BigCommerceInstaller>,
    woocommerce: Option<aftercare_woocommerce::install::WooInstaller>,
    woo_pickups: woocommerce::Pickups,
    nuvemshop: Option<aftercare_nuvemshop::install::NuvemshopInstaller>,
    runtimes: Mutex<HashMap<ShopId, Arc<ShopRuntime>>>,
    fair: FairDispatcher,
    admin_key: Secret,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("shared", &self.shared)
            .finish_non_exhaustive()
    }
}

impl Plugin {
    /// Opens the registry and shop stores the file names, with shops' secrets sealed by
    /// `shop_keys`; nothing is served yet.
    pub async fn open(cfg: PluginConfig) -> Result<Arc<Self>, BoxError> {
        let problems = check(&cfg);
        if !problems.is_empty() {
            return Err(problems.join("; ").into());
        }
        let keys_text = cfg.shop_keys.resolve()?;
        let keys = Keyring::parse(std::str::from_utf8(keys_text.expose())?)?;
        let tenancy = match (&cfg.storage.sqlite_dir, &cfg.storage.postgres_url) {
            (Some(dir), _) => {
                let dir = std::path::Path::new(dir);
                std::fs::create_dir_all(dir)?;
                let shops = Arc::new(aftercare_sqlite::SqliteShops::new(dir.join("shops"))?);
                let registry =
                    aftercare_sqlite::SqliteRegistry::open(dir.join("registry.db")).await?;
                Tenancy::new(Arc::new(registry), shops, keys)
            }
            (None, Some(url)) => {
                let url = url.resolve()?;
                let options =
                    sqlx::postgres::PgConnectOptions::from_str(std::str::from_utf8(url.expose())?)?;
                let shops = aftercare_postgres::PostgresShops::connect(
                    sqlx::postgres::PgPoolOptions::new()
                        .max_connections(cfg.storage.max_connections),
                    options,
                    "aftercare",
                )
                .await?;
                Tenancy::new(Arc::new(shops.registry()), Arc::new(shops), keys)
            }
            (None, None) => return Err("[storage]: no store".into()),
        };
        let tenancy = Arc::new(tenancy);
        let app_secret = cfg.shopify.client_secret.resolve()?;
        let public = cfg.server.public_url.trim_end_matches('/').to_owned();
        let mut installer = ShopifyInstaller::new(
            OAuthApp::new(cfg.shopify.client_id.clone(), app_secret.clone()),
            tenancy.clone(),
            format!("{public}/auth/callback"),
            public.clone(),
        );
        if let Some(scopes) = &cfg.shopify.scopes {
            let s: Vec<&str> = scopes.iter().map(String::as_str).collect();
            installer = installer.scopes(&s);
        }
        if let Some(u) = &cfg.shopify.api_base_url {
            installer = installer.api_base(url::Url::parse(u)?);
        }
        let bigcommerce_secret = match &cfg.bigcommerce {
            Some(bc) => Some(bc.client_secret.resolve()?),
            None => None,
        };
        let bigcommerce = match (&cfg.bigcommerce, &bigcommerce_secret) {
            (Some(bc), Some(secret)) => {
                let hooks = bc.webhook_base_url.as_deref().unwrap_or(&public);
                let mut i = BigCommerceInstaller::new(
                    BigCommerceApp::new(bc.client_id.clone(), secret.clone()),
                    tenancy.clone(),
                    format!("{public}/bigcommerce/auth"),
                    hooks,
                );
                if let Some(u) = &bc.token_url {
                    i = i.token_url(u.clone());
                }
                if let Some(u) = &bc.api_base_url {
                    i = i.api_base(url::Url::parse(u)?);
                }
                Some(i)
            }
            _ => None,
        };
        let woocommerce = match &cfg.woocommerce {
            Some(wc) => {
                let hooks = wc.webhook_base_url.as_deref().unwrap_or(&public);
                let mut i = aftercare_woocommerce::install::WooInstaller::new(
                    tenancy.clone(),
                    wc.app_name.clone(),
                    wc.install_key.resolve()?,
                    format!("{public}/woocommerce/callback"),
                    format!("{public}/woocommerce/return"),
                    hooks,
                );
                if let Some(u) = &wc.api_base_url {
                    i = i.api_base(url::Url::parse(u)?);
                }
                Some(i)
            }
            None => None,
        };
        let nuvemshop_secret = match &cfg.nuvemshop {
            Some(n) => Some(n.client_secret.resolve()?),
            None => None,
        };
        let nuvemshop = match (&cfg.nuvemshop, &nuvemshop_secret) {
            (Some(n), Some(secret)) => {
                let hooks = n.webhook_base_url.as_deref().unwrap_or(&public);
                let mut i = aftercare_nuvemshop::install::NuvemshopInstaller::new(
                    tenancy.clone(),
                    n.app_id.clone(),
                    secret.clone(),
                    n.user_agent.clone(),
                    hooks,
                );
                if let Some(u) = &n.token_url {
                    i = i.token_url(u.clone());
                }
                if let Some(u) = &n.api_base_url {
                    i = i.api_base(url::Url::parse(u)?);
                }
                Some(i)
            }
            _ => None,
        };
        let rate = cfg.twilio.per_sender_per_second;
        let shared = Arc::new(Shared {
            app_secret,
            bigcommerce_secret,
            nuvemshop_secret,
            twilio_token: cfg.twilio.auth_token.resolve()?,
            // Twilio paces each sending number on its own (1 message a second per US long
            // code): one bucket per number, whichever shops send from it.
            senders: SenderLimits::new(move |_, _| SlidingWindow::per_second(rate)),
            tenancy,
            clock: Arc::new(SystemClock),
            cfg: cfg.clone(),
        });
        let admin_key = cfg.admin.key.resolve()?;
        Ok(Arc::new(Self {
            shared,
            installer,
            bigcommerce,
            woocommerce,
            woo_pickups: woocommerce::Pickups::default(),
            nuvemshop,
            runtimes: Mutex::default(),
            fair: FairDispatcher::new()
                .idle_poll(Duration::from_secs(5))
                .parallel(4),
            admin_key,
        }))
    }

    /// The shops.
    pub fn tenancy(&self) -> &Arc<Tenancy> {
        &self.shared.tenancy
    }

    /// The fair dispatcher over the shops' outboxes.
    pub fn fair(&self) -> &FairDispatcher {
        &self.fair
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<ShopId, Arc<ShopRuntime>>> {
        self.runtimes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The running parts of `scope`'s shop, built on first use (and again after a
    /// re-install); its dispatcher joins the fair rounds.
    pub fn runtime(&self, scope: &ShopScope) -> Result<Arc<ShopRuntime>, BoxError> {
        if let Some(rt) = self.map().get(scope.shop())
            && rt.scope.same_install(scope)
        {
            return Ok(rt.clone());
        }
        let rt = Arc::new(self.shared.build(scope)?);
        self.fair
            .add_turn(scope.shop().clone(), Arc::new(StackTurn(rt.stack.clone())));
        self.map().insert(scope.shop().clone(), rt.clone());
        tracing::info!(shop = %scope.shop(), sender = %rt.sender, "shop's work started");
        Ok(rt)
    }

    /// The running shops.
    pub fn runtimes(&self) -> Vec<Arc<ShopRuntime>> {
        let mut v: Vec<Arc<ShopRuntime>> = self.map().values().cloned().collect();
        v.sort_by(|a, b| a.scope.shop().cmp(b.scope.shop()));
        v
    }

    /// Brings the running shops in line with the registry (shared by every instance): an
    /// installed shop's work starts, an uninstalled one's stops.
    pub async fn sync(&self) -> Result<(), BoxError> {
        let installed = self.tenancy().installed().await?;
        for shop in &installed {
            match self.tenancy().scope(shop).await {
                Ok(scope) => {
                    if let Err(e) = self.runtime(&scope) {
                        tracing::error!(shop = %shop, error = %e, "shop's work could not start");
                    }
                }
                Err(e) => tracing::error!(shop = %shop, error = %e, "shop could not be opened"),
            }
        }
        let gone: Vec<ShopId> = self
            .map()
            .keys()
            .filter(|s| !installed.contains(s))
            .cloned()
            .collect();
        for shop in gone {
            self.stop(&shop);
        }
        Ok(())
    }

    /// Adds every running shop's counts since the last flush to the registry's, shared by
    /// every instance (the admin view and metrics of any instance show their sum).
    pub async fn flush_health(&self) {
        for rt in self.runtimes() {
            if let Err(e) = self
                .tenancy()
                .flush_health(rt.scope.shop(), &rt.counters)
                .await
            {
                tracing::warn!(shop = %rt.scope.shop(), error = %e, "health counts not flushed; kept for the next flush");
            }
        }
    }

    fn stop(&self, shop: &ShopId) {
        self.fair.remove(shop);
        if self.map().remove(shop).is_some() {
            tracing::info!(shop = %shop, "shop's work stopped");
        }
    }

    /// One processing round: each running shop's inbox, one batch each, in a span naming the
    /// shop. Returns how many entries were handled.
    pub async fn process_round(&self) -> u32 {
        let mut handled = 0;
        for rt in self.runtimes() {
            let shop = rt.scope.shop().clone();
            let span = tracing::info_span!("inbox_batch", shop = %shop);
            let r = rt
                .stack
                .processor()
                .run_once()
                .instrument(span.clone())
                .await;
            match r {
                Ok(r) => {
                    rt.counters.webhook_failed(r.retried + r.dead);
                    handled += r.done + r.retried + r.dead;
                    if r.done > 0 {
                        // Its own `app/uninstalled` may have been among them: its work stops
                        // now on this instance (the others see it at their next sync).
                        if let Err(aftercare::Error::NotFound { .. }) =
                            self.tenancy().scope(&shop).await
                        {
                            self.stop(&shop);
                            continue;
                        }
                        self.fair.wake(&shop);
                    }
                }
                Err(e) => span.in_scope(|| tracing::warn!(error = %e, "inbox batch failed")),
            }
        }
        handled
    }

    /// Sends left uncertain are resolved, each shop in a span naming it.
    pub async fn resolve_round(&self) {
        for rt in self.runtimes() {
            let span = tracing::info_span!("uncertain_sweep", shop = %rt.scope.shop());
            if let Err(e) = rt.stack.resolver().sweep().instrument(span.clone()).await {
                span.in_scope(|| tracing::warn!(error = %e, "uncertain sweep failed"));
            }
        }
    }

    /// The whole HTTP surface.
    pub fn router(self: &Arc<Self>) -> Router {
        let this = self.clone();
        let shops = ShopRoutes::new(self.tenancy().clone(), move |scope: &ShopScope| {
            this.runtime(scope)
                .map(|rt| rt.stack.router())
                .map_err(|e| aftercare::Error::Config(e.to_string()))
        })
        .into_router();
        install::router(self.clone(), shops.clone())
            .merge(admin::router(self.clone()))
            .merge(bigcommerce::router(self.clone()))
            .merge(woocommerce::router(self.clone()))
            .merge(nuvemshop::router(self.clone()))
            .merge(shops)
    }

    /// Serves on `listener` and runs the shops' work until `shutdown` resolves.
    pub async fn serve(
        self: Arc<Self>,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), BoxError> {
        self.sync().await?;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stopped = move || {
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.wait_for(|s| *s).await;
            }
        };
        let server = tokio::spawn(aftercare::http::serve_with_shutdown(
            listener,
            self.router(),
            aftercare::http::ServeOptions::default(),
            stopped(),
        ));
        let mut tasks = tokio::task::JoinSet::new();
        let p = self.clone();
        let stop = stopped();
        tasks.spawn(async move {
            let work = async {
                let mut last_sync = tokio::time::Instant::now();
                loop {
                    if last_sync.elapsed() >= Duration::from_secs(5) {
                        p.flush_health().await;
                        if let Err(e) = p.sync().await {
                            tracing::error!(error = %e, "shops could not be listed");
                        }
                        last_sync = tokio::time::Instant::now();
                    }
                    if p.process_round().await == 0 {
                        tokio::time::sleep(Duration::from_millis(250)).await;
                    }
                }
            };
            tokio::select! { () = work => {}, () = stop => {} }
        });
        let p = self.clone();
        let stop = stopped();
        tasks.spawn(async move {
            p.fair.run(Duration::from_millis(250), stop).await;
        });
        let p = self.clone();
        let stop = stopped();
        tasks.spawn(async move {
            let work = async {
                loop {
                    p.resolve_round().await;
                    // Erasure on the documented schedule: 48 hours after an uninstall.
                    match p.tenancy().erase_due(p.shared.clock.now()).await {
                        Ok(erased) => {
                            for shop in erased {
                                tracing::info!(shop = %shop, "shop erased on schedule");
                            }
                        }
                        Err(e) => tracing::error!(error = %e, "erasure schedule failed"),
                    }
                    tokio::time::sleep(Duration::from_secs(60)).await;
                }
            };
            tokio::select! { () = work => {}, () = stop => {} }
        });
        shutdown.await;
        let _ = stop_tx.send(true);
        while tasks.join_next().await.is_some() {}
        let _ = server.await;
        Ok(())
    }
}

/// Opens the deployment the file describes, listens on `[server] bind`, announces the
/// address on standard output and serves until `shutdown` resolves.
pub async fn run(
    cfg: PluginConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), BoxError> {
    let plugin = Plugin::open(cfg.clone()).await?;
    let listener = tokio::net::TcpListener::bind(&cfg.server.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", cfg.server.bind))?;
    let addr = listener.local_addr()?;
    println!(
        "plugin: serving on http://{addr} (install at /install?shop=..., public URL {})",
        cfg.server.public_url
    );
    plugin.serve(listener, shutdown).await
}
