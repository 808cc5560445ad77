//! Installing the app on many shops (the store-plugin mode), on top of
//! [`aftercare::tenancy`]: OAuth install → shop record with its sealed access token →
//! webhook subscriptions for that shop; `app/uninstalled` → no more work; `shop/redact` →
//! erasure.
//!
//! The flow follows Shopify's authorization-code grant
//! (<https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant>):
//! [`ShopifyInstaller::begin`] checks the shop is a `*.myshopify.com` domain and makes a
//! random `state` nonce, which the caller sets as a cookie (`HttpOnly; Secure;
//! SameSite=Lax`) and sends the merchant to the authorize URL; [`ShopifyInstaller::complete`]
//! checks the callback's HMAC, timestamp and shop, then that its `state` is the cookie's (in
//! constant time), exchanges the code, records the shop and subscribes its webhooks
//! (`webhookSubscriptionCreate`, only what is missing) to
//! `{webhook_base}/shops/{shop}/webhooks/shopify`, the shop's own route. The mandatory
//! compliance topics (`customers/data_request`, `customers/redact`, `shop/redact`) are
//! declared in the app's configuration, not subscribed per shop
//! (<https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance>).

use std::sync::Arc;

use aftercare::model::ShopId;
use aftercare::tenancy::{ACCESS_TOKEN, Installed, ShopInstall, Tenancy};
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use subtle::ConstantTimeEq as _;
use url::Url;

use crate::oauth::{OAuthApp, OAuthRejection, is_myshopify_domain};
use crate::subscriptions::{AFTERCARE_TOPICS, SubscriptionReport};
use crate::{ShopifyClient, ShopifyConfig, ShopifyError};

/// The platform name shops installed through Shopify are recorded under.
pub const PLATFORM: &str = "shopify";

/// Where to send the merchant, and the nonce to set as a cookie.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct InstallStart {
    /// Shopify's authorize URL for the shop.
    pub url: Url,
    /// The `state` nonce: set it as a cookie and pass it back to
    /// [`ShopifyInstaller::complete`].
    pub state: String,
}

/// A finished install.
#[derive(Debug)]
#[non_exhaustive]
pub struct InstallDone {
    /// The shop's scope and its dashboard key.
    pub installed: Installed,
    /// The webhook subscriptions found and made.
    pub subscriptions: SubscriptionReport,
}

/// Installs and uninstalls the app on shops.
#[derive(Debug)]
pub struct ShopifyInstaller {
    app: OAuthApp,
    tenancy: Arc<Tenancy>,
    redirect_uri: String,
    webhook_base: String,
    scopes: Vec<String>,
    topics: Vec<String>,
    http: reqwest::Client,
    api_base: Option<Url>,
}

impl ShopifyInstaller {
    /// An installer for `app`, recording shops in `tenancy`; Shopify calls back to
    /// `redirect_uri`; webhooks go to `{webhook_base}/shops/{shop}/webhooks/shopify`.
    pub fn new(
        app: OAuthApp,
        tenancy: Arc<Tenancy>,
        redirect_uri: impl Into<String>,
        webhook_base: impl Into<String>,
    ) -> Self {
        Self {
            app,
            tenancy,
            redirect_uri: redirect_uri.into(),
            webhook_base: webhook_base.into().trim_end_matches('/').to_owned(),
            scopes: vec![
                "read_orders".into(),
                "write_orders".into(),
                "read_customers".into(),
                "read_fulfillments".into(),
            ],
            topics: AFTERCARE_TOPICS.iter().map(|t| (*t).to_owned()).collect(),
            http: reqwest::Client::new(),
            api_base: None,
        }
    }

    /// The access scopes asked for.
    pub fn scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    /// Replaces `https://{shop}/` for the code exchange and the Admin API (tests).
    pub fn api_base(mut self, base: Url) -> Self {
        self.api_base = Some(base);
        self
    }

    /// The webhook URI of `shop`.
    pub fn webhook_uri(&self, shop: &str) -> String {
        format!("{}/shops/{shop}/webhooks/shopify", self.webhook_base)
    }

    /// Begins an install for `shop`: the authorize URL and a fresh `state` nonce.
    pub fn begin(&self, shop: &str) -> Result<InstallStart, ShopifyError> {
        if !is_myshopify_domain(shop) {
            return Err(OAuthRejection::BadShop(shop.to_owned()).into());
        }
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let state = hex::encode(nonce);
        let scopes: Vec<&str> = self.scopes.iter().map(String::as_str).collect();
        let url = self
            .app
            .authorize_url(shop, &scopes, &self.redirect_uri, &state)?;
        Ok(InstallStart { url, state })
    }

    /// Completes an install from the callback's raw query string and the `state` cookie of
    /// the browser it arrived in. Nothing is recorded unless every check passes and the code
    /// exchange succeeds.
    pub async fn complete(
        &self,
        raw_query: &str,
        cookie_state: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<InstallDone, ShopifyError> {
        let callback = self.app.verify_callback(raw_query, now)?;
        let same_state = match (callback.state.as_deref(), cookie_state) {
            (Some(a), Some(b)) if !b.is_empty() => bool::from(a.as_bytes().ct_eq(b.as_bytes())),
            _ => false,
        };
        if !same_state {
            return Err(OAuthRejection::StateMismatch.into());
        }
        let token = self
            .app
            .exchange_code(&self.http, &callback, self.api_base.as_ref())
            .await?;
        let shop = ShopId::new(callback.shop.clone());
        let installed = self
            .tenancy
            .install(
                ShopInstall::new(shop.clone(), PLATFORM)
                    .secret(ACCESS_TOKEN, token.token.clone())
                    .settings(serde_json::json!({ "scope": token.scope })),
                now,
            )
            .await
            .map_err(ShopifyError::Store)?;
        let mut config = ShopifyConfig::new(callback.shop.clone(), token.token);
        if let Some(base) = &self.api_base {
            config = config.base_url(base.clone());
        }
        let client = ShopifyClient::new(config)?;
        let topics: Vec<&str> = self.topics.iter().map(String::as_str).collect();
        let subscriptions = client
            .ensure_webhooks(&self.webhook_uri(&callback.shop), &topics)
            .await?;
        tracing::info!(shop = %shop, created = subscriptions.created.len(), "shopify app installed");
        Ok(InstallDone {
            installed,
            subscriptions,
        })
    }

    /// `app/uninstalled` for `shop`: its work stops now, its erasure is scheduled.
    pub async fn uninstalled(
        &self,
        shop: &ShopId,
        at: DateTime<Utc>,
    ) -> Result<bool, ShopifyError> {
        self.tenancy
            .uninstall(shop, at)
            .await
            .map_err(ShopifyError::Store)
    }

    /// `shop/redact` for `shop`: its data erased now if it is uninstalled; refused (`false`)
    /// for an installed shop (Shopify sends it 48 hours after an uninstall).
    pub async fn shop_redact(&self, shop: &ShopId) -> Result<bool, ShopifyError> {
        self.tenancy.erase(shop).await.map_err(ShopifyError::Store)
    }
}
