//! The plugin's configuration file (`plugin --config plugin.toml`; `--check-config` reads it,
//! resolves every secret and reports every problem).
//!
//! ```
//! let cfg: aftercare_examples::plugin::PluginConfig = toml::from_str(r#"
//! [server]
//! public_url = "https://aftercare.example"
//!
//! [shopify]
//! client_id = "0a1b2c"
//! client_secret = { env = "SHOPIFY_CLIENT_SECRET" }
//!
//! [storage]
//! sqlite_dir = "shops"
//!
//! [admin]
//! key = { env = "AFTERCARE_ADMIN_KEY" }
//!
//! [twilio]
//! account_sid = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
//! auth_token = { env = "TWILIO_AUTH_TOKEN" }
//! from = "+14155550100"
//! "#).unwrap();
//! assert_eq!(cfg.server.bind, "127.0.0.1:8080");
//! assert!(aftercare_examples::plugin::check(&cfg).iter().any(|p| p.contains("SHOPIFY_CLIENT_SECRET")));
//! ```

use aftercare::config::SecretRef;
use serde::{Deserialize, Serialize};

/// The whole file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    /// Where the deployment listens and the address shops and Shopify reach it at.
    pub server: PluginServer,
    /// The Shopify app (one for every shop).
    pub shopify: PluginShopify,
    /// The BigCommerce single-click app, when stores install from BigCommerce too.
    #[serde(default)]
    pub bigcommerce: Option<PluginBigCommerce>,
    /// Installs on WooCommerce stores (`wc-auth`), when stores install from WooCommerce too.
    #[serde(default)]
    pub woocommerce: Option<PluginWooCommerce>,
    /// The Nuvemshop / Tiendanube app, when stores install from Nuvemshop too.
    #[serde(default)]
    pub nuvemshop: Option<PluginNuvemshop>,
    /// Where the shop registry and every shop's data live.
    pub storage: PluginStorage,
    /// The keys sealing shops' secrets at rest (`k2:<base64 32 bytes>,k1:...`: the first
    /// seals, all open).
    #[serde(default = "default_keys")]
    pub shop_keys: SecretRef,
    /// The operator's admin view and metrics.
    pub admin: PluginAdmin,
    /// SMS through the app's Twilio account; each shop sends from its own number
    /// (`sms_from` in its settings) or from `from`.
    pub twilio: PluginTwilio,
    /// What is sent when.
    #[serde(default)]
    pub messages: PluginMessages,
}

impl PluginConfig {
    /// Parses a file's text (unknown keys refused); [`check`] then says what else is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

fn default_keys() -> SecretRef {
    SecretRef::Env {
        env: aftercare::tenancy::KEYS_ENV.into(),
    }
}

/// `[server]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginServer {
    /// Address to listen on.
    #[serde(default = "default_bind")]
    pub bind: String,
    /// The public base URL (`https://...`): Shopify's OAuth redirect is
    /// `{public_url}/auth/callback`, shops' webhooks and pages are under
    /// `{public_url}/shops/{shop}/`.
    pub public_url: String,
}

fn default_bind() -> String {
    "127.0.0.1:8080".into()
}

/// `[shopify]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginShopify {
    /// The app's client id (API key).
    pub client_id: String,
    /// The app's client secret: it signs the OAuth callback and every shop's webhooks.
    pub client_secret: SecretRef,
    /// Access scopes asked for at install (the installer's default when left out).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// Admin API version (`2026-10`).
    #[serde(default)]
    pub api_version: Option<String>,
    /// Sends the code exchange and Admin API calls here instead of `https://{shop}` (a
    /// test double).
    #[serde(default)]
    pub api_base_url: Option<String>,
}

/// `[bigcommerce]`: the single-click app. Register `{public_url}/bigcommerce/auth`,
/// `/bigcommerce/load`, `/bigcommerce/uninstall` and `/bigcommerce/remove_user` as its
/// callbacks in the Developer Portal.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginBigCommerce {
    /// The app's client id (the `aud` of its callbacks' JWTs).
    pub client_id: String,
    /// The app's client secret: it signs the callbacks' JWTs and every store's webhooks.
    pub client_secret: SecretRef,
    /// Where BigCommerce delivers webhooks (`{webhook_base_url}/shops/{store_hash}/...`):
    /// BigCommerce delivers to `https://` on port 443 only. `public_url` when left out.
    #[serde(default)]
    pub webhook_base_url: Option<String>,
    /// Posts the code exchange here instead of `https://login.bigcommerce.com/oauth2/token`
    /// (a test double).
    #[serde(default)]
    pub token_url: Option<String>,
    /// Sends API calls here instead of `https://api.bigcommerce.com/` (a test double).
    #[serde(default)]
    pub api_base_url: Option<String>,
    /// Origins allowed to frame the auth and load pages (BigCommerce shows them in an
    /// iframe of the store's control panel); none by default: the pages refuse framing.
    #[serde(default)]
    pub frame_ancestors: Vec<String>,
}

/// `[woocommerce]`: installs through the store's application authentication endpoint
/// (`{site}/wc-auth/v1/authorize`). The merchant starts at
/// `{public_url}/woocommerce/install?site=https://their-shop.example/`; the store posts the
/// keys to `{public_url}/woocommerce/callback` (WooCommerce requires `https`) and sends the
/// merchant back to `{public_url}/woocommerce/return`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginWooCommerce {
    /// The name the store shows the merchant on its approval page.
    #[serde(default = "default_app_name")]
    pub app_name: String,
    /// Signs each install's `user_id` (the only thing tying the unsigned keys post to the
    /// install that began here): any random secret of at least 32 bytes.
    pub install_key: SecretRef,
    /// Where stores deliver webhooks (`{webhook_base_url}/shops/{site}/webhooks/woocommerce`,
    /// the site's URL percent-encoded). `public_url` when left out.
    #[serde(default)]
    pub webhook_base_url: Option<String>,
    /// Sends every store's REST calls here instead of the store's site (a test double).
    #[serde(default)]
    pub api_base_url: Option<String>,
}

fn default_app_name() -> String {
    "Aftercare".into()
}

/// `[nuvemshop]`: the app's authorization-code flow. Set the app's redirect URL to
/// `{public_url}/nuvemshop/auth` in the partners portal; merchants install from their admin
/// or at `https://www.tiendanube.com/apps/{app_id}/authorize`. The flow documents no
/// `state` parameter: the store is taken from the token exchange's answer (`user_id`),
/// never from the redirect.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginNuvemshop {
    /// The app's id (its `client_id`).
    pub app_id: String,
    /// The app's client secret: it exchanges the codes and signs every store's webhooks.
    pub client_secret: SecretRef,
    /// The `User-Agent` the API requires: `MyApp (me@example.com)`.
    pub user_agent: String,
    /// Where stores' webhooks go (`{webhook_base_url}/shops/{store_id}/webhooks/nuvemshop`);
    /// `public_url` when left out.
    #[serde(default)]
    pub webhook_base_url: Option<String>,
    /// Posts the code exchange here instead of
    /// `https://www.tiendanube.com/apps/authorize/token` (a test double).
    #[serde(default)]
    pub token_url: Option<String>,
    /// Sends API calls here instead of the API root (a test double).
    #[serde(default)]
    pub api_base_url: Option<String>,
}

/// `[storage]`: exactly one of the two.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginStorage {
    /// A directory: the registry in `registry.db`, a SQLite file per shop under `shops/`.
    #[serde(default)]
    pub sqlite_dir: Option<String>,
    /// A PostgreSQL database: the registry and a schema per shop on one pool, shared by
    /// every instance.
    #[serde(default)]
    pub postgres_url: Option<SecretRef>,
    /// Connections per instance (PostgreSQL).
    #[serde(default = "default_connections")]
    pub max_connections: u32,
}

fn default_connections() -> u32 {
    16
}

/// `[admin]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginAdmin {
    /// The operator's key: `Authorization: Bearer <key>` (or HTTP Basic with any user
    /// name and the key as password) opens `/admin` and `/metrics`. At least 16 bytes.
    pub key: SecretRef,
}

/// `[twilio]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginTwilio {
    /// Account SID (`AC...`).
    pub account_sid: String,
    /// The account's Auth Token (it also signs status callbacks).
    pub auth_token: SecretRef,
    /// The number shops send from unless their settings name their own (`sms_from`).
    pub from: String,
    /// Messages per second per sending number (Twilio: 1 per US long code).
    #[serde(default = "default_sms_rate")]
    pub per_sender_per_second: f64,
    /// Sends API requests here instead of `https://api.twilio.com` (a test double).
    #[serde(default)]
    pub api_base_url: Option<String>,
}

fn default_sms_rate() -> f64 {
    1.0
}

/// `[messages]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginMessages {
    /// Turns quiet hours (21:00–08:00 in the customer's zone) off; on by default.
    #[serde(default)]
    pub quiet_hours_off: bool,
    /// Survey invitations after delivery, answered on the shop's own page
    /// (`/shops/{shop}/s/{token}`); on by default.
    #[serde(default = "yes")]
    pub surveys: bool,
}

fn yes() -> bool {
    true
}

impl Default for PluginMessages {
    fn default() -> Self {
        Self {
            quiet_hours_off: false,
            surveys: true,
        }
    }
}

/// Every problem of a parsed file: secrets that do not resolve, URLs that are not URLs,
/// settings out of range. Empty when the file is good.
pub fn check(cfg: &PluginConfig) -> Vec<String> {
    let mut p = Vec::new();
    let mut secret = |path: &str, s: &SecretRef, min: usize| match s.resolve() {
        Ok(v) if v.expose().len() < min => {
            p.push(format!("{path}: at least {min} bytes are needed"));
        }
        Ok(_) => {}
        Err(e) => p.push(format!("{path}: {e}")),
    };
    secret("shopify.client_secret", &cfg.shopify.client_secret, 1);
    secret("admin.key", &cfg.admin.key, 16);
    if let Some(bc) = &cfg.bigcommerce {
        secret("bigcommerce.client_secret", &bc.client_secret, 1);
    }
    if let Some(wc) = &cfg.woocommerce {
        secret("woocommerce.install_key", &wc.install_key, 32);
    }
    if let Some(n) = &cfg.nuvemshop {
        secret("nuvemshop.client_secret", &n.client_secret, 1);
    }
    secret("twilio.auth_token", &cfg.twilio.auth_token, 1);
    secret("shop_keys", &cfg.shop_keys, 1);
    if let Ok(keys) = cfg.shop_keys.resolve()
        && let Err(e) = std::str::from_utf8(keys.expose())
            .map_err(|e| e.to_string())
            .and_then(|t| aftercare::tenancy::Keyring::parse(t).map_err(|e| e.to_string()))
    {
        p.push(format!("shop_keys: {e}"));
    }
    match (&cfg.storage.sqlite_dir, &cfg.storage.postgres_url) {
        (Some(_), Some(_)) | (None, None) => {
            p.push("storage: set exactly one of `sqlite_dir` and `postgres_url`".into());
        }
        (None, Some(url)) => {
            if let Err(e) = url.resolve() {
                p.push(format!("storage.postgres_url: {e}"));
            }
        }
        _ => {}
    }
    for (path, url) in [
        ("server.public_url", Some(&cfg.server.public_url)),
        ("shopify.api_base_url", cfg.shopify.api_base_url.as_ref()),
        ("twilio.api_base_url", cfg.twilio.api_base_url.as_ref()),
        (
            "bigcommerce.token_url",
            cfg.bigcommerce.as_ref().and_then(|b| b.token_url.as_ref()),
        ),
        (
            "bigcommerce.api_base_url",
            cfg.bigcommerce
                .as_ref()
                .and_then(|b| b.api_base_url.as_ref()),
        ),
        (
            "woocommerce.api_base_url",
            cfg.woocommerce
                .as_ref()
                .and_then(|w| w.api_base_url.as_ref()),
        ),
        (
            "nuvemshop.token_url",
            cfg.nuvemshop.as_ref().and_then(|n| n.token_url.as_ref()),
        ),
        (
            "nuvemshop.api_base_url",
            cfg.nuvemshop.as_ref().and_then(|n| n.api_base_url.as_ref()),
        ),
        (
            "nuvemshop.webhook_base_url",
            cfg.nuvemshop
                .as_ref()
                .and_then(|n| n.webhook_base_url.as_ref()),
        ),
        (
            "woocommerce.webhook_base_url",
            cfg.woocommerce
                .as_ref()
                .and_then(|w| w.webhook_base_url.as_ref()),
        ),
    ] {
        if let Some(u) = url
            && !matches!(url::Url::parse(u), Ok(u) if matches!(u.scheme(), "http" | "https"))
        {
            p.push(format!("{path}: `{u}` is not an http(s) URL"));
        }
    }
    if cfg.server.bind.parse::<std::net::SocketAddr>().is_err() {
        p.push(format!(
            "server.bind: `{}` is not an address (`127.0.0.1:8080`)",
            cfg.server.bind
        ));
    }
    if !crate::config::is_e164(&cfg.twilio.from) {
        p.push(format!(
            "twilio.from: `{}` is not an E.164 number (`+14155550100`)",
            cfg.twilio.from
        ));
    }
    if !(cfg.twilio.per_sender_per_second.is_finite() && cfg.twilio.per_sender_per_second > 0.0) {
        p.push("twilio.per_sender_per_second: must be above zero".into());
    }
    if cfg.shopify.client_id.trim().is_empty() {
        p.push("shopify.client_id: empty".into());
    }
    if let Some(bc) = &cfg.bigcommerce {
        if bc.client_id.trim().is_empty() {
            p.push("bigcommerce.client_id: empty".into());
        }
        for o in &bc.frame_ancestors {
            if !matches!(url::Url::parse(o), Ok(u) if u.scheme() == "https" && u.path() == "/")
                || o.contains([';', ' ', '\'', ','])
            {
                p.push(format!(
                    "bigcommerce.frame_ancestors: `{o}` is not an https:// origin"
                ));
            }
        }
        // BigCommerce delivers webhooks to https:// on port 443 only.
        let hooks = bc
            .webhook_base_url
            .as_deref()
            .unwrap_or(&cfg.server.public_url);
        if !matches!(url::Url::parse(hooks), Ok(u) if u.scheme() == "https" && u.port().is_none()) {
            p.push(format!(
                "bigcommerce.webhook_base_url: `{hooks}` is not https:// on port 443, the only place BigCommerce delivers to"
            ));
        }
    }
    if let Some(n) = &cfg.nuvemshop {
        if n.app_id.trim().is_empty() {
            p.push("nuvemshop.app_id: empty".into());
        }
        if n.user_agent.trim().is_empty() {
            p.push("nuvemshop.user_agent: empty (the API requires one)".into());
        }
    }
    if let Some(wc) = &cfg.woocommerce {
        if wc.app_name.trim().is_empty() {
            p.push("woocommerce.app_name: empty".into());
        }
        // `WC_Auth` refuses a `callback_url` that is not https.
        if !cfg.server.public_url.starts_with("https://") {
            p.push(format!(
                "woocommerce: the keys are posted to {{public_url}}/woocommerce/callback, which WooCommerce requires to be https; `{}` is not",
                cfg.server.public_url
            ));
        }
    }
    p
}
