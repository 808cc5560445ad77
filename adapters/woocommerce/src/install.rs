//! Installing the app on many WooCommerce stores (the store-plugin mode), on top of
//! [`aftercare::tenancy`], through WooCommerce's application authentication endpoint
//! (WooCommerce REST API docs, "Authentication → Auto generating API keys using our
//! Application Authentication Endpoint"; `WC_Auth` in `includes/class-wc-auth.php`).
//!
//! - [`WooInstaller::begin`] makes the store's `{site}/wc-auth/v1/authorize` URL with
//!   `app_name`, `scope=read_write`, `user_id`, `return_url` and `callback_url` (`https`).
//!   The `user_id` is ours: a token signed with the installer's key naming the site the
//!   install began for, valid one hour.
//! - When the merchant approves, the store POSTs the keys to `callback_url` as JSON
//!   (`{"key_id", "user_id", "consumer_key", "consumer_secret", "key_permissions"}`,
//!   `WC_Auth::create_keys` / `post_consumer_data`; it expects `200`). That POST is not
//!   signed, so [`WooInstaller::complete`] trusts nothing in it until: the `user_id` is one
//!   of ours and unexpired (the site comes from it, never from the body), the permissions
//!   are `read_write`, and the keys work on that site — the webhooks are made with them
//!   (`POST /wp-json/wc/v3/webhooks` with a secret generated here, or the existing hook of
//!   the topic to this delivery URL updated), which fails for keys the site did not issue.
//!   Only then is the store recorded, its keys and webhook secret sealed.
//! - WooCommerce sends no uninstall callback: [`WooInstaller::uninstalled`] is for the
//!   integration to call (e.g. on a revoked key), with the same effect as Shopify's.

use std::sync::Arc;

use aftercare::model::ShopId;
use aftercare::tenancy::{ACCESS_TOKEN, Installed, ShopInstall, Tenancy, WEBHOOK_SECRET};
use aftercare::token::TokenSigner;
use aftercare::webhook::Secret;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore as _;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use url::Url;

use crate::{Site, WooClient, WooConfig, WooError};

/// The platform name stores installed through WooCommerce are recorded under.
pub const PLATFORM: &str = "woocommerce";

/// Secret name: the REST API consumer secret (the consumer key is [`ACCESS_TOKEN`]).
pub const CONSUMER_SECRET: &str = "consumer_secret";

/// The topics subscribed at install.
pub const INSTALL_TOPICS: &[&str] = &[
    "order.created",
    "order.updated",
    "customer.created",
    "customer.updated",
];

/// How long an install may take between [`WooInstaller::begin`] and the keys' arrival.
pub const INSTALL_WINDOW: Duration = Duration::hours(1);

#[derive(Serialize, Deserialize)]
struct Pending {
    site: String,
}

/// The keys the store posts to the callback URL.
#[derive(Deserialize)]
struct KeysPost {
    #[serde(default)]
    user_id: Value,
    #[serde(default)]
    consumer_key: String,
    #[serde(default)]
    consumer_secret: String,
    #[serde(default)]
    key_permissions: String,
}

/// A finished install.
#[derive(Debug)]
#[non_exhaustive]
pub struct InstallDone {
    /// The store's scope and its dashboard key.
    pub installed: Installed,
    /// The topics whose webhooks were created (the others existed and were updated).
    pub created: Vec<String>,
}

/// Installs the app on WooCommerce stores.
pub struct WooInstaller {
    tenancy: Arc<Tenancy>,
    app_name: String,
    signer: TokenSigner,
    callback_url: String,
    return_url: String,
    webhook_base: String,
    api_base: Option<Url>,
}

impl std::fmt::Debug for WooInstaller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WooInstaller")
            .field("app_name", &self.app_name)
            .field("callback_url", &self.callback_url)
            .finish_non_exhaustive()
    }
}

impl WooInstaller {
    /// An installer recording stores in `tenancy`; `key` signs the `user_id` of each
    /// install (any long random secret of the deployment); the store posts the keys to
    /// `callback_url` and sends the merchant back to `return_url`; webhooks go to
    /// `{webhook_base}/shops/{shop}/webhooks/woocommerce` (the shop id, the site's URL,
    /// percent-encoded).
    pub fn new(
        tenancy: Arc<Tenancy>,
        app_name: impl Into<String>,
        key: Secret,
        callback_url: impl Into<String>,
        return_url: impl Into<String>,
        webhook_base: impl Into<String>,
    ) -> Self {
        Self {
            tenancy,
            app_name: app_name.into(),
            signer: TokenSigner::new(key, "woocommerce-install"),
            callback_url: callback_url.into(),
            return_url: return_url.into(),
            webhook_base: webhook_base.into().trim_end_matches('/').to_owned(),
            api_base: None,
        }
    }

    /// Sends the REST calls here instead of the site (tests).
    pub fn api_base(mut self, base: Url) -> Self {
        self.api_base = Some(base);
        self
    }

    /// The webhook delivery URL of the store `shop`.
    pub fn webhook_uri(&self, shop: &str) -> String {
        let enc: String = url::form_urlencoded::byte_serialize(shop.as_bytes()).collect();
        format!("{}/shops/{enc}/webhooks/woocommerce", self.webhook_base)
    }

    /// The store's authorize URL for an install of `store_url` beginning at `now`.
    pub fn begin(&self, store_url: &str, now: DateTime<Utc>) -> Result<Url, WooError> {
        let site = Site::parse(store_url)?;
        let user_id = self.signer.sign(
            &Pending {
                site: site.as_str().to_owned(),
            },
            now + INSTALL_WINDOW,
        );
        let mut url = site
            .url()
            .join("wc-auth/v1/authorize")
            .map_err(|e| WooError::Config(format!("authorize URL: {e}")))?;
        url.query_pairs_mut()
            .append_pair("app_name", &self.app_name)
            .append_pair("scope", "read_write")
            .append_pair("user_id", &user_id)
            .append_pair("return_url", &self.return_url)
            .append_pair("callback_url", &self.callback_url);
        Ok(url)
    }

    /// Completes an install from the body the store posted to the callback URL. Nothing is
    /// recorded unless the `user_id` is ours and unexpired, the permissions are
    /// `read_write` and the keys make the site's webhooks.
    pub async fn complete(&self, body: &[u8], now: DateTime<Utc>) -> Result<InstallDone, WooError> {
        let refused = |why: &str| WooError::Config(format!("install refused: {why}"));
        let post: KeysPost = serde_json::from_slice(body)
            .map_err(|e| WooError::decode("the wc-auth keys post", e))?;
        let user_id = match &post.user_id {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let pending: Pending = self
            .signer
            .verify(&user_id, now)
            .map_err(|_| refused("the user_id is not one this deployment issued, or it expired"))?;
        if post.key_permissions != "read_write" {
            return Err(refused("the keys are not read_write"));
        }
        if post.consumer_key.is_empty() || post.consumer_secret.is_empty() {
            return Err(refused("no keys"));
        }
        let site = Site::parse(&pending.site)?;
        let shop = site.as_str().to_owned();
        let key = Secret::from(post.consumer_key.clone());
        let secret = Secret::from(post.consumer_secret.clone());
        let mut cfg = WooConfig::new(&shop, key.clone(), secret.clone())?;
        if let Some(b) = &self.api_base {
            cfg = cfg.base_url(b.clone());
        }
        let client = WooClient::new(cfg)?;
        let mut raw = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let hook_secret: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        let created = self.ensure_webhooks(&client, &shop, &hook_secret).await?;
        let installed = self
            .tenancy
            .install(
                ShopInstall::new(ShopId::new(shop.clone()), PLATFORM)
                    .secret(ACCESS_TOKEN, key)
                    .secret(CONSUMER_SECRET, secret)
                    .secret(WEBHOOK_SECRET, Secret::from(hook_secret)),
                now,
            )
            .await
            .map_err(|e| WooError::Config(format!("the shop registry failed: {e}")))?;
        tracing::info!(shop = %shop, created = created.len(), "woocommerce store installed");
        Ok(InstallDone { installed, created })
    }

    /// Each install topic's webhook to the store's route, with `secret`: the existing one
    /// updated (its secret replaced, set active), or created. Returns the topics created.
    async fn ensure_webhooks(
        &self,
        client: &WooClient,
        shop: &str,
        secret: &str,
    ) -> Result<Vec<String>, WooError> {
        let delivery = self.webhook_uri(shop);
        let list = client
            .fetch(
                Method::GET,
                client.api_url("webhooks?per_page=100")?,
                None,
                "list webhooks",
            )
            .await?;
        let existing: Vec<Value> = match list {
            Some(r) => serde_json::from_slice(&r.body)
                .map_err(|e| WooError::decode("the webhooks list", e))?,
            None => Vec::new(),
        };
        let mut created = Vec::new();
        for topic in INSTALL_TOPICS {
            let found = existing.iter().find(|h| {
                h["topic"].as_str() == Some(topic) && h["delivery_url"].as_str() == Some(&delivery)
            });
            match found.and_then(|h| h["id"].as_u64()) {
                Some(id) => {
                    client
                        .fetch(
                            Method::PUT,
                            client.api_url(&format!("webhooks/{id}"))?,
                            Some(&json!({"status": "active", "secret": secret})),
                            "update a webhook",
                        )
                        .await?;
                }
                None => {
                    client
                        .fetch(
                            Method::POST,
                            client.api_url("webhooks")?,
                            Some(&json!({
                                "name": format!("Aftercare {topic}"),
                                "status": "active",
                                "topic": topic,
                                "delivery_url": delivery,
                                "secret": secret,
                            })),
                            "create a webhook",
                        )
                        .await?
                        .ok_or_else(|| WooError::Api {
                            operation: "create a webhook".into(),
                            status: Some(404),
                            message: "the site has no webhooks route".into(),
                            retryable: false,
                        })?;
                    created.push((*topic).to_owned());
                }
            }
        }
        Ok(created)
    }

    /// The store's app was removed (its key revoked): its work stops now, its erasure is
    /// scheduled.
    pub async fn uninstalled(&self, shop: &ShopId, at: DateTime<Utc>) -> Result<bool, WooError> {
        self.tenancy
            .uninstall(shop, at)
            .await
            .map_err(|e| WooError::Config(format!("the shop registry failed: {e}")))
    }
}
