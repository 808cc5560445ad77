//! The real-store mode of `tracking-links` (`run --config`): the stack built from a
//! [`TrackingLinksConfig`] — the shop platform `[shop] platform` names ([`ShopStack`]: its
//! API as order source, customer directory and annotator, its webhooks at
//! `/webhooks/{platform}` bound to the configured shop, site or
//! store, BigCommerce's hydrator, WooCommerce's catch-up poller), the configured Twilio / WhatsApp Cloud / SMTP
//! channels, SQLite or PostgreSQL, the privacy and tracking flows and customers' replies
//! (STOP...) in a chain, the inbox processor and the dispatcher (consent, superseded
//! milestones, quiet hours, rate limits) and the tracking page — served until Ctrl-C.
//!
//! One file (past 800 lines): it is the reference integration's wiring, read top to bottom as
//! one story (platform stack, channels, store, flows, routes, tasks); each piece it wires lives
//! in its own crate or module.
//!
//! With a `[survey]` section the same stack also asks customers how it went: the feedback
//! flow runs in the chain after tracking, the survey policy on the dispatcher, replies that
//! are not keywords are scored, answers are followed up (`[follow_up]`: support email,
//! signed helpdesk webhook, tags in Shopify, review requests), and the survey page
//! (`/s/{token}`) and, with `[dashboard]`, the dashboard (`/dashboard`) are served.
//!
//! Routes: `POST /webhooks/{platform}`; `POST /webhooks/twilio` (incoming SMS/WhatsApp through
//! Twilio, signature checked against `{public_url}/webhooks/twilio`; only without an API
//! key, as Twilio signs with the Auth Token); `GET`/`POST /webhooks/whatsapp` (Cloud API
//! handshake and webhooks); `GET /t/{token}` (tracking page).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aftercare::channel::MessageChannel;
use aftercare::clock::{Clock, SystemClock};
use aftercare::config::StorageConfig;
use aftercare::flows::feedback::{FollowUpSettings, SurveySettings};
use aftercare::flows::replies::ReplyConfig;
use aftercare::flows::tickets::TicketSettings;
use aftercare::flows::tracking::{FlowStore, TrackingFlow, TrackingSettings};
use aftercare::http::dashboard::Dashboard;
use aftercare::model::ChannelKind;
use aftercare::platform::poll::{CatchUpPoller, PollSettings};
use aftercare::platform::thin::Hydrator;
use aftercare::platform::{CustomerDirectory, OrderAnnotator, OrderSource};
use aftercare::ratelimit::RateLimit;
use aftercare::ratelimit::SlidingWindow;
use aftercare::stack::{PlatformParts, Stack};
use aftercare::store::Store;
use aftercare::store::{Inbox, SnapshotStore};
use aftercare::token::TokenSigner;
use aftercare::webhook::Secret;
use aftercare::webhook::WebhookSource;
use aftercare_postgres::PostgresStore;
use aftercare_shopify::{ShopifyClient, ShopifyWebhooks};
use aftercare_sqlite::SqliteStore;

use crate::config::{Platform, ShopifyConfig, TlsMode, TrackingLinksConfig, parse_hhmm};

/// What went wrong building or running the stack.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn missing_section(cfg: &TrackingLinksConfig) -> BoxError {
    let name = cfg.shop.platform.name();
    format!("the shop runs on {name} but the configuration has no [{name}] section").into()
}

/// The `[shopify]` section (an error on another platform or without it).
pub fn shopify_section(cfg: &TrackingLinksConfig) -> Result<&ShopifyConfig, BoxError> {
    match (&cfg.shop.platform, &cfg.shopify) {
        (Platform::Shopify, Some(s)) => Ok(s),
        (Platform::Shopify, None) => Err(missing_section(cfg)),
        (p, _) => Err(format!("this needs a Shopify store; the shop runs on {}", p.name()).into()),
    }
}

/// The key signing tracking links, from the chosen platform's section.
pub fn tracking_link_key(cfg: &TrackingLinksConfig) -> Result<Secret, BoxError> {
    let key = match cfg.shop.platform {
        Platform::Shopify => cfg.shopify.as_ref().map(|s| &s.tracking_link_key),
        Platform::Woocommerce => cfg.woocommerce.as_ref().map(|s| &s.tracking_link_key),
        Platform::Bigcommerce => cfg.bigcommerce.as_ref().map(|s| &s.tracking_link_key),
        Platform::Nuvemshop => cfg.nuvemshop.as_ref().map(|s| &s.tracking_link_key),
        Platform::Ikas => cfg.ikas.as_ref().map(|s| &s.tracking_link_key),
        Platform::Salla => cfg.salla.as_ref().map(|s| &s.tracking_link_key),
        Platform::Zid => cfg.zid.as_ref().map(|s| &s.tracking_link_key),
        Platform::Magento => cfg.magento.as_ref().map(|s| &s.tracking_link_key),
    };
    Ok(key.ok_or_else(|| missing_section(cfg))?.resolve()?)
}

/// The shop's domain, site or store hash (empty without its section).
pub fn shop_address(cfg: &TrackingLinksConfig) -> String {
    match cfg.shop.platform {
        Platform::Shopify => cfg.shopify.as_ref().map(|s| s.shop.clone()),
        Platform::Woocommerce => cfg.woocommerce.as_ref().map(|s| s.site.clone()),
        Platform::Bigcommerce => cfg.bigcommerce.as_ref().map(|s| s.store_hash.clone()),
        Platform::Nuvemshop => cfg.nuvemshop.as_ref().map(|s| s.store_id.clone()),
        Platform::Ikas => cfg.ikas.as_ref().map(|s| s.store_name.clone()),
        Platform::Salla => cfg.salla.as_ref().map(|s| s.merchant.clone()),
        Platform::Zid => cfg.zid.as_ref().map(|s| s.store_id.clone()),
        Platform::Magento => cfg.magento.as_ref().map(|s| s.base_url.clone()),
    }
    .unwrap_or_default()
}

/// The chosen platform's stack: its API client as order source, customer directory and
/// annotator, and its webhook source bound to the configured shop, site or store.
#[non_exhaustive]
pub struct ShopStack {
    /// The webhook source's name (`/webhooks/{name}`).
    pub name: &'static str,
    /// Where orders and shipments are read.
    pub orders: Arc<dyn OrderSource>,
    /// Where customers are read.
    pub customers: Arc<dyn CustomerDirectory>,
    /// Where notes and tags are written back.
    pub annotator: Arc<dyn OrderAnnotator>,
    /// The webhook source.
    pub source: Arc<dyn WebhookSource>,
    hydrator: Option<Arc<dyn Hydrator>>,
    woo: Option<aftercare_woocommerce::WooShop>,
    nuvemshop: Option<aftercare_nuvemshop::NuvemshopShop>,
    ikas: Option<aftercare_ikas::IkasShop>,
    /// Salla / Zid: the store's token holder, and a first grant from configuration.
    tokens: Option<(
        Arc<aftercare::platform::token::TokenHolder>,
        Option<aftercare::platform::token::TokenSet>,
    )>,
    /// Zid's API and catch-up settings (on unless `catch_up = false`).
    zid_poll: Option<(aftercare_zid::ZidApi, PollSettings)>,
    /// Magento's shop (catch-up poller, Adobe Commerce webhooks when keys are configured).
    magento: Option<aftercare_magento::MagentoShop>,
}

impl ShopStack {
    /// The stack `[shop] platform` names.
    pub fn from_config(cfg: &TrackingLinksConfig) -> Result<Self, BoxError> {
        let resolve_all = |refs: &[aftercare::config::SecretRef]| {
            refs.iter()
                .map(|s| s.resolve())
                .collect::<Result<Vec<Secret>, _>>()
        };
        match cfg.shop.platform {
            Platform::Woocommerce => {
                let w = cfg
                    .woocommerce
                    .as_ref()
                    .ok_or_else(|| missing_section(cfg))?;
                let client = woo_client(cfg)?;
                // Bound to the configured site: a webhook from another is refused.
                let hooks = aftercare_woocommerce::WooWebhooks::builder(w.site.clone())
                    .secrets(resolve_all(&w.webhook_secrets)?)
                    .build()?;
                let mut shop = aftercare_woocommerce::WooShop::new(hooks, client.clone())?;
                shop = if w.catch_up {
                    shop.poll_settings(
                        PollSettings::default().interval(Duration::from_secs(w.poll_interval_secs)),
                    )
                } else {
                    shop.without_catch_up()
                };
                let client = Arc::new(client);
                Ok(Self {
                    name: aftercare_woocommerce::SOURCE_NAME,
                    orders: client.clone(),
                    customers: client.clone(),
                    annotator: client,
                    source: shop.webhooks(),
                    hydrator: None,
                    woo: Some(shop),
                    nuvemshop: None,
                    ikas: None,
                    tokens: None,
                    zid_poll: None,
                    magento: None,
                })
            }
            Platform::Bigcommerce => {
                let b = cfg
                    .bigcommerce
                    .as_ref()
                    .ok_or_else(|| missing_section(cfg))?;
                let client = bigcommerce_client(cfg)?;
                // Bound to the configured store: a callback from another is refused.
                let source = Arc::new(aftercare_bigcommerce::BigCommerceWebhooks::with_secrets(
                    resolve_all(&b.client_secrets)?,
                    b.store_hash.clone(),
                ));
                let hydrator = Arc::new(aftercare_bigcommerce::BigCommerceHydrator::new(
                    client.clone(),
                ));
                let client = Arc::new(client);
                Ok(Self {
                    name: "bigcommerce",
                    orders: client.clone(),
                    customers: client.clone(),
                    annotator: client,
                    source,
                    hydrator: Some(hydrator),
                    woo: None,
                    nuvemshop: None,
                    ikas: None,
                    tokens: None,
                    zid_poll: None,
                    magento: None,
                })
            }
            Platform::Nuvemshop => {
                let n = cfg.nuvemshop.as_ref().ok_or_else(|| missing_section(cfg))?;
                let client = nuvemshop_client(cfg)?;
                // Bound to the configured store and app: another's notification is refused.
                let hooks = aftercare_nuvemshop::NuvemshopWebhooks::with_secrets(
                    resolve_all(&n.app_secrets)?,
                    n.app_id.clone(),
                    n.store_id.clone(),
                );
                let mut shop = aftercare_nuvemshop::NuvemshopShop::new(hooks, client.clone())?;
                shop = if n.catch_up {
                    shop.poll_settings(
                        PollSettings::default().interval(Duration::from_secs(n.poll_interval_secs)),
                    )
                } else {
                    shop.without_catch_up()
                };
                let client = Arc::new(client);
                Ok(Self {
                    name: aftercare_nuvemshop::SOURCE_NAME,
                    orders: client.clone(),
                    customers: client.clone(),
                    annotator: client,
                    source: shop.webhooks(),
                    hydrator: None,
                    woo: None,
                    nuvemshop: Some(shop),
                    ikas: None,
                    tokens: None,
                    zid_poll: None,
                    magento: None,
                })
            }
            Platform::Ikas => {
                let k = cfg.ikas.as_ref().ok_or_else(|| missing_section(cfg))?;
                let secrets = resolve_all(&k.client_secrets)?;
                let first = secrets
                    .first()
                    .cloned()
                    .ok_or("[ikas] client_secrets is empty")?;
                let auth = aftercare_ikas::IkasAuth::client_credentials(
                    &k.store_name,
                    k.client_id.clone(),
                    first,
                )?;
                let locale = k.locale.clone().unwrap_or_else(|| "tr".into());
                let mut api = aftercare_ikas::IkasConfig::new(k.merchant_id.clone(), auth)
                    .locale(locale.clone());
                if let Some(u) = &k.graphql_url {
                    api = api.graphql_url(url::Url::parse(u)?);
                }
                let client = aftercare_ikas::IkasClient::new(api)?;
                // Bound to the configured merchant: another's webhook is refused.
                let hooks =
                    aftercare_ikas::IkasWebhooks::with_secrets(secrets, k.merchant_id.clone())
                        .locale(locale);
                let mut shop = aftercare_ikas::IkasShop::new(hooks, client.clone())?;
                shop = if k.catch_up {
                    shop.poll_settings(
                        PollSettings::default().interval(Duration::from_secs(k.poll_interval_secs)),
                    )
                } else {
                    shop.without_catch_up()
                };
                let client = Arc::new(client);
                Ok(Self {
                    name: aftercare_ikas::SOURCE_NAME,
                    orders: client.clone(),
                    customers: client.clone(),
                    annotator: client,
                    source: shop.webhooks(),
                    hydrator: None,
                    woo: None,
                    nuvemshop: None,
                    ikas: Some(shop),
                    tokens: None,
                    zid_poll: None,
                    magento: None,
                })
            }
            Platform::Magento => {
                let m = cfg.magento.as_ref().ok_or_else(|| missing_section(cfg))?;
                let client = magento_client(cfg)?;
                let mut shop = aftercare_magento::MagentoShop::new(client.clone());
                // Bound to the store's own key pair: another instance's webhook does not verify.
                let source: Arc<dyn WebhookSource> = if m.webhook_public_keys.is_empty() {
                    // No webhooks configured: `/webhooks/magento` refuses every request.
                    Arc::new(aftercare::platform::poll::PolledSource)
                } else {
                    let mut b = aftercare_magento::CommerceWebhooks::builder(m.base_url.clone());
                    for k in &m.webhook_public_keys {
                        b = b.public_key(k.clone());
                    }
                    shop = shop.webhooks(b.build()?)?;
                    shop.commerce_webhooks()
                        .map(|w| w as Arc<dyn WebhookSource>)
                        .ok_or("the webhook source was not kept")?
                };
                // Catch-up polling is Magento's main source (Open Source sends no webhooks).
                shop = if m.catch_up {
                    shop.poll_settings(
                        PollSettings::default().interval(Duration::from_secs(m.poll_interval_secs)),
                    )
                } else {
                    shop.without_catch_up()
                };
                let client = Arc::new(client);
                Ok(Self {
                    name: aftercare_magento::SOURCE_NAME,
                    orders: client.clone(),
                    customers: client.clone(),
                    annotator: client,
                    source,
                    hydrator: None,
                    woo: None,
                    nuvemshop: None,
                    ikas: None,
                    tokens: None,
                    zid_poll: None,
                    magento: Some(shop),
                })
            }
            Platform::Shopify => {
                let s = shopify_section(cfg)?;
                let client = Arc::new(shopify_client(cfg)?);
                // Bound to the configured shop: a webhook naming another is refused before
                // it is stored.
                let source = Arc::new(
                    ShopifyWebhooks::with_secrets(resolve_all(&s.client_secrets)?)
                        .for_shop(&s.shop),
                );
                Ok(Self {
                    name: "shopify",
                    orders: client.clone(),
                    customers: client.clone(),
                    annotator: client,
                    source,
                    hydrator: None,
                    woo: None,
                    nuvemshop: None,
                    ikas: None,
                    tokens: None,
                    zid_poll: None,
                    magento: None,
                })
            }
            Platform::Salla | Platform::Zid => Err(format!(
                "{} keeps the store's OAuth tokens in the store: use ShopStack::with_store",
                cfg.shop.platform.name()
            )
            .into()),
        }
    }

    /// The stack `[shop] platform` names, keeping Salla's and Zid's OAuth tokens sealed in
    /// `snapshots` (kind `platform_token`).
    pub fn with_store(
        cfg: &TrackingLinksConfig,
        snapshots: Arc<dyn SnapshotStore>,
    ) -> Result<Self, BoxError> {
        use aftercare::platform::token::{SnapshotTokens, TokenCipher, TokenHolder, TokenSet};
        let cipher = |key: &aftercare::config::SecretRef| -> Result<TokenCipher, BoxError> {
            Ok(TokenCipher::from_base64(&String::from_utf8_lossy(
                key.resolve()?.expose(),
            ))?)
        };
        let tokens = Arc::new(SnapshotTokens::new(snapshots));
        match cfg.shop.platform {
            Platform::Salla => {
                let c = cfg.salla.as_ref().ok_or_else(|| missing_section(cfg))?;
                let refresher = aftercare_salla::SallaRefresher::new(
                    c.client_id.clone(),
                    c.client_secret.resolve()?,
                )?;
                let holder = Arc::new(
                    TokenHolder::new(
                        format!("salla:{}", c.merchant),
                        tokens,
                        cipher(&c.token_key)?,
                        Arc::new(refresher),
                    )
                    .shop(c.merchant.as_str().into()),
                );
                let mut api = aftercare_salla::SallaConfig::new();
                if let Some(u) = &c.api_base_url {
                    api = api.base_url(url::Url::parse(u)?);
                }
                let client = aftercare_salla::SallaClient::new(api, holder.clone())?;
                let mut hooks = aftercare_salla::SallaWebhooks::builder(c.merchant.clone())
                    .default_locale(c.default_locale.clone());
                for s in &c.webhook_secrets {
                    hooks = hooks.signature(s.resolve()?);
                }
                for t in &c.webhook_tokens {
                    hooks = hooks.token(t.resolve()?);
                }
                if c.allow_unauthenticated_webhooks {
                    hooks = hooks.unauthenticated();
                }
                let source = Arc::new(hooks.build()?);
                // app.store.authorize stores the tokens; app.uninstalled stops the client.
                let hydrator = Arc::new(aftercare_salla::SallaHydrator::new(
                    source.clone(),
                    holder.clone(),
                ));
                let api = Arc::new(aftercare_salla::SallaApi::new(
                    client,
                    c.merchant.as_str().into(),
                    c.default_locale.clone(),
                ));
                Ok(Self {
                    name: aftercare_salla::SOURCE_NAME,
                    orders: api.clone(),
                    customers: api.clone(),
                    annotator: api,
                    source,
                    hydrator: Some(hydrator),
                    woo: None,
                    tokens: Some((holder, None)),
                    zid_poll: None,
                    magento: None,
                    nuvemshop: None,
                    ikas: None,
                })
            }
            Platform::Zid => {
                let z = cfg.zid.as_ref().ok_or_else(|| missing_section(cfg))?;
                let refresher = aftercare_zid::ZidRefresher::new(
                    z.client_id.clone(),
                    z.client_secret.resolve()?,
                )?;
                let holder = Arc::new(
                    TokenHolder::new(
                        format!("zid:{}", z.store_id),
                        tokens,
                        cipher(&z.token_key)?,
                        Arc::new(refresher),
                    )
                    .shop(z.store_id.as_str().into()),
                );
                let text = |r: &aftercare::config::SecretRef| -> Result<String, BoxError> {
                    Ok(String::from_utf8_lossy(r.resolve()?.expose()).into_owned())
                };
                let first =
                    TokenSet::new(text(&z.manager_token)?, Some(text(&z.refresh_token)?), None);
                let mut api = aftercare_zid::ZidConfig::new(z.partner_token.resolve()?);
                if let Some(u) = &z.api_base_url {
                    api = api.base_url(url::Url::parse(u)?);
                }
                let client = aftercare_zid::ZidClient::new(api, holder.clone())?;
                let mut hooks = aftercare_zid::ZidWebhooks::builder(z.store_id.clone())
                    .default_locale(z.default_locale.clone());
                for p in &z.webhook_passwords {
                    hooks = hooks.credentials(aftercare_zid::BasicCredentials::new(
                        &z.webhook_username,
                        p.resolve()?,
                    )?);
                }
                let api = aftercare_zid::ZidApi::new(
                    client,
                    z.store_id.as_str().into(),
                    z.default_locale.clone(),
                );
                let poll = z.catch_up.then(|| {
                    (
                        api.clone(),
                        PollSettings::default().interval(Duration::from_secs(z.poll_interval_secs)),
                    )
                });
                let api = Arc::new(api);
                Ok(Self {
                    // The secret path segment: `/webhooks/zid-…` (one per process).
                    name: Box::leak(z.source_name.clone().into_boxed_str()),
                    orders: api.clone(),
                    customers: api.clone(),
                    annotator: api,
                    source: Arc::new(hooks.build()?),
                    hydrator: None,
                    woo: None,
                    tokens: Some((holder, Some(first))),
                    zid_poll: poll,
                    magento: None,
                    nuvemshop: None,
                    ikas: None,
                })
            }
            _ => Self::from_config(cfg),
        }
    }

    /// Stores a first grant from configuration (Zid) unless the store already keeps
    /// tokens; nothing to do on other platforms.
    pub async fn prepare(&self) -> Result<(), BoxError> {
        if let Some((holder, Some(first))) = &self.tokens {
            holder.install_if_absent(first.clone()).await?;
        }
        Ok(())
    }

    /// The platform's parts for [`Stack::builder`]: its webhook source under its name, its
    /// API, BigCommerce's, Salla's, WooCommerce's or Nuvemshop's hydrator of thin webhooks,
    /// and the catch-up poller where the platform has one.
    pub fn parts<S>(&self, store: Arc<S>, clock: Arc<dyn Clock>) -> PlatformParts
    where
        S: Inbox + SnapshotStore + 'static,
    {
        let mut parts = PlatformParts::from_parts(
            self.name,
            self.source.clone(),
            self.orders.clone(),
            self.customers.clone(),
        )
        .annotator(self.annotator.clone());
        let hydrator: Option<Arc<dyn Hydrator>> = match (&self.woo, &self.nuvemshop) {
            (Some(w), _) => Some(Arc::new(w.hydrator())),
            (_, Some(n)) => Some(Arc::new(n.hydrator())),
            _ => self.hydrator.clone(),
        };
        if let Some(h) = hydrator {
            parts = parts.hydrator(h);
        }
        if let Some(p) = self.catch_up(store, clock) {
            parts = parts.poller(p);
        }
        parts
    }

    /// The catch-up poller of WooCommerce, Nuvemshop, ikas, Zid or Magento (on unless
    /// `catch_up = false`); `None` elsewhere.
    pub fn catch_up<S>(&self, store: Arc<S>, clock: Arc<dyn Clock>) -> Option<CatchUpPoller>
    where
        S: Inbox + SnapshotStore + 'static,
    {
        if let Some(m) = &self.magento {
            return m.catch_up(store, clock);
        }
        if let Some(n) = &self.nuvemshop {
            return n.catch_up(store, clock);
        }
        if let Some(k) = &self.ikas {
            return k.catch_up(store, clock);
        }
        if let Some((api, settings)) = &self.zid_poll {
            return Some(
                aftercare_zid::catch_up_poller(api, store, clock).settings(settings.clone()),
            );
        }
        self.woo.as_ref()?.catch_up(store, clock)
    }
}

/// The WooCommerce REST API client the configuration describes.
fn woo_client(cfg: &TrackingLinksConfig) -> Result<aftercare_woocommerce::WooClient, BoxError> {
    let w = cfg
        .woocommerce
        .as_ref()
        .ok_or_else(|| missing_section(cfg))?;
    let mut api = aftercare_woocommerce::WooConfig::new(
        &w.site,
        w.consumer_key.resolve()?,
        w.consumer_secret.resolve()?,
    )?;
    if let Some(u) = &w.api_base_url {
        api = api.base_url(url::Url::parse(u)?);
    }
    Ok(aftercare_woocommerce::WooClient::new(api)?)
}

/// The BigCommerce API client the configuration describes.
fn bigcommerce_client(
    cfg: &TrackingLinksConfig,
) -> Result<aftercare_bigcommerce::BigCommerceClient, BoxError> {
    let b = cfg
        .bigcommerce
        .as_ref()
        .ok_or_else(|| missing_section(cfg))?;
    let mut api = aftercare_bigcommerce::BigCommerceConfig::new(
        b.store_hash.clone(),
        b.access_token.resolve()?,
    );
    if let Some(u) = &b.api_base_url {
        api = api.base_url(url::Url::parse(u)?);
    }
    Ok(aftercare_bigcommerce::BigCommerceClient::new(api)?)
}

/// The Magento REST API client the configuration describes.
fn magento_client(cfg: &TrackingLinksConfig) -> Result<aftercare_magento::MagentoClient, BoxError> {
    let m = cfg.magento.as_ref().ok_or_else(|| missing_section(cfg))?;
    let mut api = aftercare_magento::MagentoConfig::new(&m.base_url, m.auth()?)?;
    if let Some(code) = &m.store_code {
        api = api.store_code(code.clone());
    }
    if let Some(u) = &m.api_base_url {
        api = api.base_url(url::Url::parse(u)?);
    }
    Ok(aftercare_magento::MagentoClient::new(api)?)
}

/// The Nuvemshop API client the configuration describes.
fn nuvemshop_client(
    cfg: &TrackingLinksConfig,
) -> Result<aftercare_nuvemshop::NuvemshopClient, BoxError> {
    let n = cfg.nuvemshop.as_ref().ok_or_else(|| missing_section(cfg))?;
    let mut api = aftercare_nuvemshop::NuvemshopConfig::new(
        n.store_id.clone(),
        n.access_token.resolve()?,
        n.user_agent.clone(),
    );
    if let Some(u) = &n.api_base_url {
        api = api.base_url(url::Url::parse(u)?);
    }
    Ok(aftercare_nuvemshop::NuvemshopClient::new(api)?)
}

/// The Shopify Admin API client the configuration describes.
pub fn shopify_client(cfg: &TrackingLinksConfig) -> Result<ShopifyClient, BoxError> {
    let s = shopify_section(cfg)?;
    let mut c = aftercare_shopify::ShopifyConfig::new(s.shop.clone(), s.access_token.resolve()?);
    if let Some(v) = &s.api_version {
        c = c.api_version(v.clone());
    }
    if let Some(n) = s.page_size {
        c = c.page_size(n);
    }
    if let Some(u) = &s.api_base_url {
        c = c.base_url(url::Url::parse(u)?);
    }
    Ok(ShopifyClient::new(c)?)
}

/// The tracking flow's settings from the configuration.
pub fn tracking_settings(cfg: &TrackingLinksConfig) -> TrackingSettings {
    let t = &cfg.tracking;
    let mut s = TrackingSettings::default();
    s.milestones.clone_from(&t.milestones);
    s.channels.clone_from(&t.channels);
    s.default_locale.clone_from(&t.default_locale);
    s.public_url.clone_from(&cfg.server.public_url);
    s.support_url.clone_from(&t.support_url);
    s.link_ttl = chrono::Duration::days(i64::from(t.link_ttl_days));
    s.whatsapp_template_prefix
        .clone_from(&t.whatsapp_template_prefix);
    // SMS and WhatsApp carry short links; the pages below resolve them from the store.
    s.short_links = true;
    s
}

/// The feedback flow's settings, when the configuration has a `[survey]` section.
pub fn survey_settings(cfg: &TrackingLinksConfig) -> Option<SurveySettings> {
    let c = cfg.survey.as_ref()?;
    let mut s = SurveySettings::default();
    s.kind = c.kind.into();
    s.days_after_delivery = c.days_after_delivery;
    s.days_after_shipping = c.days_after_shipping;
    s.reminder_after_days = (c.reminder_days > 0).then_some(c.reminder_days);
    s.open_days = c.open_days;
    s.cooldown_days = c.cooldown_days;
    s.complaint_days = c.complaint_days;
    s.channels = c
        .channels
        .clone()
        .unwrap_or_else(|| cfg.tracking.channels.clone());
    s.default_locale.clone_from(&cfg.tracking.default_locale);
    s.public_url.clone_from(&cfg.server.public_url);
    s.short_links = true;
    Some(s)
}

/// The follow-ups' settings (none of them set without `[follow_up]`).
pub fn follow_up_settings(cfg: &TrackingLinksConfig) -> FollowUpSettings {
    let mut s = FollowUpSettings::default();
    if let Some(f) = &cfg.follow_up {
        s.support_email.clone_from(&f.support_email);
        s.webhook_url.clone_from(&f.helpdesk_webhook_url);
        s.detractor_tag.clone_from(&f.detractor_tag);
        s.review_url.clone_from(&f.review_url);
        s.support_locale.clone_from(&f.support_locale);
    }
    s
}

/// The key signing survey links: `survey.link_key`, else the tracking-link key (tokens are
/// bound to their purpose).
pub fn survey_key(cfg: &TrackingLinksConfig) -> Result<Secret, BoxError> {
    match cfg.survey.as_ref().and_then(|s| s.link_key.as_ref()) {
        Some(k) => Ok(k.resolve()?),
        None => tracking_link_key(cfg),
    }
}

/// The signer of survey links ([`survey_key`], purpose `survey`).
pub fn survey_tokens(cfg: &TrackingLinksConfig) -> Result<TokenSigner, BoxError> {
    Ok(TokenSigner::new(survey_key(cfg)?, "survey"))
}

/// The shop's name as customers know it.
pub fn shop_name(cfg: &TrackingLinksConfig) -> String {
    let name = match cfg.shop.platform {
        Platform::Shopify => cfg.shopify.as_ref().and_then(|s| s.shop_name.clone()),
        Platform::Woocommerce => cfg.woocommerce.as_ref().and_then(|s| s.shop_name.clone()),
        Platform::Bigcommerce => cfg.bigcommerce.as_ref().and_then(|s| s.shop_name.clone()),
        Platform::Nuvemshop => cfg.nuvemshop.as_ref().and_then(|s| s.shop_name.clone()),
        Platform::Ikas => cfg.ikas.as_ref().and_then(|s| s.shop_name.clone()),
        Platform::Salla => cfg.salla.as_ref().and_then(|s| s.shop_name.clone()),
        Platform::Zid => cfg.zid.as_ref().and_then(|s| s.shop_name.clone()),
        Platform::Magento => cfg.magento.as_ref().and_then(|s| s.shop_name.clone()),
    };
    name.unwrap_or_else(|| shop_address(cfg))
}

/// The tracking flow over the shop and a store.
pub fn tracking_flow<S: FlowStore + 'static>(
    cfg: &TrackingLinksConfig,
    orders: Arc<dyn OrderSource>,
    customers: Arc<dyn CustomerDirectory>,
    store: Arc<S>,
    clock: Arc<dyn Clock>,
) -> Result<TrackingFlow, BoxError> {
    let links = TokenSigner::new(tracking_link_key(cfg)?, "tracking");
    Ok(TrackingFlow::new(
        orders,
        customers,
        store,
        Arc::new(crate::config::catalogs(cfg, shop_name(cfg))),
        cfg.content.clone(),
        links,
        clock,
        tracking_settings(cfg),
    ))
}

/// Opens the configured store and runs `f` on it.
pub async fn with_store<T, F, Fut>(cfg: &TrackingLinksConfig, f: F) -> Result<T, BoxError>
where
    F: FnOnce(StoreHandle) -> Fut,
    Fut: Future<Output = Result<T, BoxError>>,
{
    match &cfg.storage {
        StorageConfig::Sqlite { path } => {
            let s = Arc::new(SqliteStore::open(path).await?);
            let r = f(StoreHandle::Sqlite(s.clone())).await;
            s.close().await;
            r
        }
        StorageConfig::Postgres { url } => {
            let url = url.resolve()?;
            let url = std::str::from_utf8(url.expose())?.to_owned();
            let s = Arc::new(PostgresStore::connect(&url).await?);
            let r = f(StoreHandle::Postgres(s.clone())).await;
            s.close().await;
            r
        }
        _ => Err("this storage kind is not supported by tracking-links".into()),
    }
}

/// One of the supported stores.
#[derive(Clone, Debug)]
pub enum StoreHandle {
    /// SQLite.
    Sqlite(Arc<SqliteStore>),
    /// PostgreSQL.
    Postgres(Arc<PostgresStore>),
}

/// A customer channel and the rate limit it is paced by, if any.
pub type PacedChannel = (Arc<dyn MessageChannel>, Option<Arc<dyn RateLimit>>);

/// The configured customer channels, in the order they are configured, each with its rate
/// limit (the provider's documented default unless `[rate_limits]` says otherwise).
pub fn channels(
    cfg: &TrackingLinksConfig,
    clock: &Arc<dyn Clock>,
) -> Result<Vec<PacedChannel>, BoxError> {
    let mut d: Vec<PacedChannel> = Vec::new();
    let rates = &cfg.rate_limits;
    let email_limit = || {
        rates
            .email_per_second
            .map(|r| Arc::new(SlidingWindow::per_second(r)) as Arc<dyn RateLimit>)
    };
    if let Some(t) = &cfg.twilio {
        let secret = t.auth_token.resolve()?;
        let creds = match &t.api_key_sid {
            Some(k) => aftercare_twilio::Credentials::api_key(k.clone(), secret),
            None => aftercare_twilio::Credentials::auth_token(secret),
        };
        let sender = match (&t.from, &t.messaging_service_sid) {
            (_, Some(m)) => aftercare_twilio::Sender::MessagingService(m.clone()),
            (Some(f), None) => aftercare_twilio::Sender::Number(f.clone()),
            (None, None) => return Err("[twilio] needs `from` or `messaging_service_sid`".into()),
        };
        for &kind in &t.channels {
            let mut ch = aftercare_twilio::TwilioChannel::new(
                kind,
                t.account_sid.clone(),
                creds.clone(),
                sender.clone(),
            )?;
            if let Some(u) = &t.api_base_url {
                ch = ch.base_url(u.clone());
            }
            for (name, sid) in &t.content_sids {
                ch = ch.content_sid(name.clone(), sid.clone());
            }
            // Delivery reports come back to the webhook route, which can verify them only
            // with the account's Auth Token (the same condition under which it is served).
            if t.api_key_sid.is_none() {
                ch = ch.status_callback(format!(
                    "{}/webhooks/twilio",
                    cfg.server.public_url.trim_end_matches('/')
                ));
            }
            let limit: SlidingWindow = match kind {
                ChannelKind::Whatsapp => rates
                    .whatsapp_per_second
                    .map(aftercare_twilio::rate::per_second)
                    .unwrap_or_else(aftercare_twilio::rate::whatsapp_text),
                _ => rates
                    .sms_per_second
                    .map(aftercare_twilio::rate::per_second)
                    .unwrap_or_else(aftercare_twilio::rate::us_long_code),
            };
            d.push((Arc::new(ch), Some(Arc::new(limit))));
        }
    }
    if let Some(w) = &cfg.whatsapp_cloud {
        let mut ch = aftercare_whatsapp_cloud::WhatsAppCloudChannel::new(
            w.phone_number_id.clone(),
            w.access_token.resolve()?,
        )?
        .clock(clock.clone());
        if let Some(v) = &w.api_version {
            ch = ch.api_version(v.clone());
        }
        if let Some(u) = &w.api_base_url {
            ch = ch.base_url(u.clone());
        }
        let limit = rates
            .whatsapp_per_second
            .map(aftercare_whatsapp_cloud::rate::per_second)
            .unwrap_or_else(aftercare_whatsapp_cloud::rate::cloud_api_default);
        d.push((Arc::new(ch), Some(Arc::new(limit))));
    }
    if let Some(m) = &cfg.smtp {
        let security = match m.tls {
            TlsMode::Implicit => aftercare_smtp::Security::ImplicitTls,
            TlsMode::Starttls => aftercare_smtp::Security::StartTlsRequired,
            TlsMode::StarttlsOpportunistic => aftercare_smtp::Security::StartTlsOpportunistic,
            TlsMode::None => aftercare_smtp::Security::Plain,
        };
        let mut c =
            aftercare_smtp::SmtpConfig::new(m.host.clone(), m.port, security, m.from.clone());
        if let (Some(u), Some(p)) = (&m.username, &m.password) {
            let p = p.resolve()?;
            c = c.credentials(u.clone(), String::from_utf8_lossy(p.expose()).into_owned());
        }
        if let Some(r) = &m.reply_to {
            c = c.reply_to(r.clone());
        }
        d.push((
            Arc::new(aftercare_smtp::SmtpChannel::new(c)?),
            email_limit(),
        ));
    }
    // `[email] send = true`: the provider's API instead of SMTP.
    if let Some(ch) = crate::desk::email_channel(cfg)? {
        d.push((ch, email_limit()));
    }
    Ok(d)
}

/// Serves the configured stack until `shutdown` resolves (Ctrl-C in the binary).
pub async fn run(
    cfg: TrackingLinksConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), BoxError> {
    run_as("tracking-links", cfg, shutdown).await
}

/// [`run`], naming `program` in what it prints.
pub async fn run_as(
    program: &'static str,
    cfg: TrackingLinksConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), BoxError> {
    let cfg = Arc::new(cfg);
    with_store(&cfg.clone(), move |store| async move {
        match store {
            StoreHandle::Sqlite(s) => serve(program, cfg, s, shutdown).await,
            StoreHandle::Postgres(s) => serve(program, cfg, s, shutdown).await,
        }
    })
    .await
}

async fn serve<S: Store + aftercare::retention::RetentionStore + 'static>(
    program: &'static str,
    cfg: Arc<TrackingLinksConfig>,
    store: Arc<S>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), BoxError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let shop = ShopStack::with_store(&cfg, store.clone())?;
    shop.prepare().await?;
    let help_url = cfg
        .tracking
        .support_url
        .clone()
        .unwrap_or_else(|| cfg.server.public_url.clone());
    // The sdk's builder: consent and opt-outs, quiet hours and the superseded check are on
    // unless this code names the one it turns off; each source is registered once.
    let mut b = Stack::builder(store.clone())
        .clock(clock.clone())
        .platform(with_discounts(
            &cfg,
            &shop,
            shop.parts(store.clone(), clock.clone()),
        )?)
        .shop_name(shop_name(&cfg))
        .catalogs(crate::config::catalogs(&cfg, shop_name(&cfg)))
        .public_url(cfg.server.public_url.clone())
        .link_key(tracking_link_key(&cfg)?)
        .content(cfg.content.clone())
        .tracking(tracking_settings(&cfg))
        .channel_order(cfg.tracking.channels.clone())
        .retention_days(Some(cfg.retention.days))
        .serve_options(cfg.server.serve_options())
        .replies(
            ReplyConfig::new(shop_name(&cfg), help_url)
                .default_locale(cfg.tracking.default_locale.clone()),
        )
        .record_email_opens(cfg.email.as_ref().is_some_and(|e| e.record_opens));
    b = match quiet_hours(&cfg)? {
        Some((start, end, zone)) => b.quiet_hours(start, end).fallback_time_zone(zone),
        None => b.without_quiet_hours(),
    };
    for (channel, limit) in channels(&cfg, &clock)? {
        b = match limit {
            Some(l) => b.channel_with_limit(channel, l),
            None => b.channel(channel),
        };
    }
    // Detractor alerts to a helpdesk webhook go to staff, never to customers.
    if let Some(secret) = cfg
        .follow_up
        .as_ref()
        .filter(|f| f.helpdesk_webhook_url.is_some())
        .and_then(|f| f.helpdesk_webhook_secret.as_ref())
    {
        let secret = secret.resolve()?;
        let secret = std::str::from_utf8(secret.expose())
            .ok()
            .and_then(|t| Secret::from_standard_webhooks(t).ok())
            .ok_or("follow_up.helpdesk_webhook_secret: not a `whsec_` Standard Webhooks secret")?;
        b = b.internal_channel(Arc::new(aftercare_webhook_out::WebhookOut::new(secret)?));
    }
    if let Some(settings) = survey_settings(&cfg) {
        // Answers are followed up (`[follow_up]`: support email, helpdesk webhook, tags in
        // the shop, review requests); the follow-up is stored before the answer is recorded
        // and runs from the inbox, retried like a webhook when the shop's API fails.
        b = b
            .survey(settings)
            .survey_key(survey_key(&cfg)?)
            .follow_up(follow_up_settings(&cfg));
        if let Some(d) = &cfg.dashboard {
            let dashboard = Dashboard::new(
                Arc::new(crate::feedback::StoreReport(store.clone())),
                Arc::new(crate::config::catalogs(&cfg, shop_name(&cfg))),
                d.key.resolve()?,
                cfg.tracking.default_locale.clone(),
            )
            .with_comments(Arc::new(aftercare::http::comments::StoreComments::new(
                store.clone(),
                clock.clone(),
            )));
            b = b.routes(dashboard.into_router());
        }
    }
    // `[helpdesk]`: one ticket per order for detractors and help requests.
    if let Some(desk) = crate::desk::helpdesk(&cfg)? {
        b = b.helpdesk(desk, TicketSettings::default());
    }
    // `[recovery]`: an apology, a tag and (with an opt-in) a code on the early signs.
    if let Some((settings, code_key)) = recovery(&cfg)? {
        b = b
            .recovery(settings, code_key)
            .recovery_retention(store.clone());
    }
    // Twilio signs its webhooks with the account's Auth Token (not an API key's secret), so
    // its replies and status callbacks are taken only without an API key; only this
    // account's webhooks (`AccountSid`) are taken.
    if let Some(t) = cfg.twilio.as_ref().filter(|t| t.api_key_sid.is_none()) {
        let url = format!(
            "{}/webhooks/twilio",
            cfg.server.public_url.trim_end_matches('/')
        );
        let source = aftercare_twilio::webhook::TwilioWebhook::new(t.auth_token.resolve()?, url)
            .account_sid(&t.account_sid);
        b = b.channel_source("twilio", Arc::new(source), Arc::new(crate::inbound::twilio));
    }
    if let Some(w) = &cfg.whatsapp_cloud {
        // Meta's GET verification handshake is answered on the same route as the POSTs; only
        // this number's webhooks (`phone_number_id`) are taken.
        let source =
            aftercare_whatsapp_cloud::webhook::WhatsAppCloudWebhook::new(w.app_secret.resolve()?)
                .verify_token(w.verify_token.resolve()?)
                .phone_number_id(&w.phone_number_id);
        b = b.channel_source(
            "whatsapp",
            Arc::new(source),
            Arc::new(crate::inbound::whatsapp),
        );
    }
    // `[email]`: delivery events (bounces fall back to the next channel) and replies.
    for (name, source) in crate::desk::email_sources(&cfg)? {
        b = b.channel_source(name, source, Arc::new(crate::inbound::email));
    }
    if cfg
        .email
        .as_ref()
        .is_some_and(|e| e.provider == crate::config::EmailProvider::Ses)
    {
        // SNS subscription confirmations: confirmed on an Amazon SNS host only.
        b = b.handler(Arc::new(crate::desk::SnsSubscriptionHandler(
            aftercare_ses::SnsSubscriptions::new(),
        )));
    }
    // A carrier-tracking source: shipments registered with it, its updates merged first.
    let sweeper = Arc::new(std::sync::OnceLock::new());
    if let Some(t) = cfg
        .tracking_source
        .as_ref()
        .map(crate::tracking_source::RealTracking::from_config)
        .transpose()?
    {
        b = b.source(t.name, t.hooks.clone());
        let (cell, store, clock) = (sweeper.clone(), store.clone(), clock.clone());
        b = b.wrap_handler(move |inner| {
            let sources = t.wrap(store, clock, inner);
            let _ = cell.set(sources.clone());
            sources
        });
    }
    let stack = b.build()?;

    let listener = tokio::net::TcpListener::bind(&cfg.server.bind)
        .await
        .map_err(|e| {
            format!(
                "cannot listen on {}: {e} (change `[server] bind`)",
                cfg.server.bind
            )
        })?;
    let addr = listener.local_addr()?;
    println!(
        "{program}: serving {} ({}) on http://{addr} (webhooks at /webhooks/{}, public URL {}{})",
        shop_address(&cfg),
        cfg.shop.platform.name(),
        shop.name,
        cfg.server.public_url,
        if cfg.survey.is_some() {
            ", surveys at /s/{token}"
        } else {
            ""
        }
    );
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    // Tracking stops for numbers followed longer than `[tracking_source] stop_after_days`.
    let sweep_task = sweeper.get().cloned().map(|sources| {
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let sweep = async {
                loop {
                    if let Err(e) = sources.sweep().await {
                        tracing::warn!(error = %e, "tracking-source sweep failed; next in an hour");
                    }
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
            };
            tokio::select! { () = sweep => {}, _ = stop.wait_for(|s| *s) => {} }
        })
    });
    let stopping = async move {
        shutdown.await;
        println!("{program}: stopping");
        let _ = stop_tx.send(true);
        let _ = stop_rx.wait_for(|s| *s).await;
    };
    stack.run(listener, stopping).await?;
    if let Some(t) = sweep_task {
        let _ = t.await;
    }
    Ok(())
}

/// Quiet hours: `[tracking.quiet_hours]`, or 21:00 to 08:00 in the customer's zone (UTC
/// when unknown) without the section; `None` only with `off = true`.
pub fn quiet_hours(
    cfg: &TrackingLinksConfig,
) -> Result<Option<(chrono::NaiveTime, chrono::NaiveTime, chrono_tz::Tz)>, BoxError> {
    let q = cfg.tracking.quiet_hours.clone().unwrap_or_default();
    if q.off {
        return Ok(None);
    }
    let (Some(start), Some(end)) = (parse_hhmm(&q.start), parse_hhmm(&q.end)) else {
        return Err("tracking.quiet_hours: times must be HH:MM".into());
    };
    let zone: chrono_tz::Tz = q.time_zone.parse().map_err(|_| {
        format!(
            "tracking.quiet_hours.time_zone: unknown zone {}",
            q.time_zone
        )
    })?;
    Ok(Some((start, end, zone)))
}

/// `[recovery]`'s settings (the apology on the tracking channels) and the key the codes'
/// names come from (`code_key`, else the tracking link key: the codes' HMAC has a purpose
/// of its own); `None` without the section.
pub fn recovery(
    cfg: &TrackingLinksConfig,
) -> Result<Option<(aftercare::flows::recovery::RecoverySettings, Secret)>, BoxError> {
    let Some(r) = &cfg.recovery else {
        return Ok(None);
    };
    let mut settings = r.settings().with_channels(cfg.tracking.channels.clone());
    if crate::config::joins_codes(cfg.shop.platform) {
        settings.offer = settings.offer.map(|o| o.with_joined(true));
    }
    let key = match &r.code_key {
        Some(k) => k.resolve()?,
        None => tracking_link_key(cfg)?,
    };
    Ok(Some((settings, key)))
}

/// The platform's discount codes on its parts, when `[recovery.discount]` offers codes
/// (Shopify's `discountCodeBasicCreate`, scope `write_discounts`; WooCommerce, BigCommerce,
/// Salla and Nuvemshop coupons; Magento cart price rules).
pub fn with_discounts(
    cfg: &TrackingLinksConfig,
    shop: &ShopStack,
    parts: PlatformParts,
) -> Result<PlatformParts, BoxError> {
    if cfg.recovery.as_ref().is_none_or(|r| r.discount.is_none()) {
        return Ok(parts);
    }
    match cfg.shop.platform {
        Platform::Shopify => Ok(parts.discounts(Arc::new(shopify_client(cfg)?))),
        // Coupons (`POST /wp-json/wc/v3/coupons`); the consumer key needs write access.
        Platform::Woocommerce => Ok(parts.discounts(Arc::new(woo_client(cfg)?))),
        // v2 coupons (`POST /v2/coupons`); the token needs the Marketing scope (modify).
        Platform::Bigcommerce => Ok(parts.discounts(Arc::new(bigcommerce_client(cfg)?))),
        // A cart price rule with one coupon (`POST /V1/salesRules`, `POST /V1/coupons`) on
        // website 1 for the default customer groups; the integration needs Cart Price Rules.
        Platform::Magento => Ok(parts.discounts(Arc::new(
            aftercare_magento::MagentoDiscounts::new(magento_client(cfg)?),
        ))),
        // Coupons (`POST /admin/v2/coupons`, scope `marketing.read_write`) with the store's
        // token holder.
        Platform::Salla => {
            let c = cfg.salla.as_ref().ok_or_else(|| missing_section(cfg))?;
            let (holder, _) = shop.tokens.as_ref().ok_or("the Salla token holder")?;
            let mut api = aftercare_salla::SallaConfig::new();
            if let Some(u) = &c.api_base_url {
                api = api.base_url(url::Url::parse(u)?);
            }
            let client = aftercare_salla::SallaClient::new(api, holder.clone())?;
            Ok(parts.discounts(Arc::new(aftercare_salla::SallaApi::new(
                client,
                c.merchant.as_str().into(),
                c.default_locale.clone(),
            ))))
        }
        // Coupons (`POST /{store_id}/coupons`); the token needs `write_coupons`. Codes are
        // letters and digits only (joined in `recovery`).
        Platform::Nuvemshop => Ok(parts.discounts(Arc::new(nuvemshop_client(cfg)?))),
        p => Err(format!(
            "recovery.discount: discount codes are made through {} only so far, not {}",
            crate::config::DISCOUNT_PLATFORMS,
            p.name()
        )
        .into()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const BASE: &str = r#"[shopify]
shop = "demo.myshopify.com"
access_token = { value = "a" }
client_secrets = [{ value = "s" }]
tracking_link_key = { value = "k" }

[server]
public_url = "https://shop.example/aftercare"

[tracking]
channels = ["sms", "email"]
default_locale = "tr"
"#;

    #[test]
    fn quiet_hours_are_on_without_a_section_and_off_only_when_said() {
        let cfg: TrackingLinksConfig = toml::from_str(BASE).unwrap();
        let (start, end, zone) = quiet_hours(&cfg).unwrap().unwrap();
        assert_eq!(
            (start.to_string(), end.to_string()),
            ("21:00:00".into(), "08:00:00".into())
        );
        assert_eq!(zone, chrono_tz::Tz::UTC);
        let zoned = BASE.replace(
            "default_locale = \"tr\"",
            "default_locale = \"tr\"\nquiet_hours = { time_zone = \"Europe/Istanbul\" }",
        );
        let cfg: TrackingLinksConfig = toml::from_str(&zoned).unwrap();
        let (start, _, zone) = quiet_hours(&cfg).unwrap().unwrap();
        assert_eq!(
            (start.to_string(), zone),
            ("21:00:00".into(), chrono_tz::Europe::Istanbul)
        );
        let off = BASE.replace(
            "default_locale = \"tr\"",
            "default_locale = \"tr\"\nquiet_hours = { off = true }",
        );
        let cfg: TrackingLinksConfig = toml::from_str(&off).unwrap();
        assert!(quiet_hours(&cfg).unwrap().is_none());
    }

    #[test]
    fn no_survey_section_no_settings() {
        let cfg: TrackingLinksConfig = toml::from_str(BASE).unwrap();
        assert!(survey_settings(&cfg).is_none());
        let f = follow_up_settings(&cfg);
        assert!(f.support_email.is_none() && f.webhook_url.is_none() && f.detractor_tag.is_none());
    }

    #[test]
    fn survey_settings_mirror_the_section() {
        let text = format!(
            "{BASE}\n[survey]\nkind = \"csat\"\ndays_after_delivery = 0\nreminder_days = 0\nopen_days = 7\n\n[follow_up]\ndetractor_tag = \"unhappy\"\nhelpdesk_webhook_url = \"https://h.example/x\"\n"
        );
        let cfg: TrackingLinksConfig = toml::from_str(&text).unwrap();
        let s = survey_settings(&cfg).unwrap();
        assert_eq!(s.kind, aftercare::model::SurveyKind::Csat);
        assert_eq!(s.days_after_delivery, 0);
        assert_eq!(s.days_after_shipping, 14);
        assert_eq!(s.reminder_after_days, None, "0 is no reminder");
        assert_eq!(s.open_days, 7);
        assert_eq!(s.cooldown_days, 90);
        // Channels and locale from [tracking], links from the public URL.
        assert_eq!(s.channels, vec![ChannelKind::Sms, ChannelKind::Email]);
        assert_eq!(s.default_locale, "tr");
        assert_eq!(s.public_url, "https://shop.example/aftercare");
        let f = follow_up_settings(&cfg);
        assert_eq!(f.detractor_tag.as_deref(), Some("unhappy"));
        assert_eq!(f.webhook_url.as_deref(), Some("https://h.example/x"));
        assert_eq!(f.support_email, None);
    }

    /// Nuvemshop codes are letters and digits only: its offer joins the code; Shopify's
    /// keeps the hyphen.
    #[test]
    fn nuvemshop_codes_are_joined() {
        let discount = "\n[recovery]\n\n[recovery.discount]\npercent = 10\n";
        let shopify: TrackingLinksConfig = toml::from_str(&format!("{BASE}{discount}")).unwrap();
        let (s, _) = recovery(&shopify).unwrap().unwrap();
        assert!(!s.offer.unwrap().joined);
        let nuvem = format!(
            "[shop]\nplatform = \"nuvemshop\"\n[nuvemshop]\nstore_id = \"123\"\napp_id = \"4815\"\naccess_token = {{ value = \"a\" }}\nuser_agent = \"T (t@example.com)\"\napp_secrets = [{{ value = \"s\" }}]\ntracking_link_key = {{ value = \"k\" }}\n\n[server]\npublic_url = \"https://shop.example\"\n{discount}"
        );
        let cfg: TrackingLinksConfig = toml::from_str(&nuvem).unwrap();
        let (s, _) = recovery(&cfg).unwrap().unwrap();
        assert!(s.offer.unwrap().joined);
    }
}
