//! Installing the app on many Nuvemshop / Tiendanube stores (the store-plugin mode), on top
//! of [`aftercare::tenancy`]: the authorization-code flow of the API documentation
//! ("Authentication": the merchant installs from the admin or at
//! `https://www.tiendanube.com/apps/{app_id}/authorize`, is sent back to the app's redirect
//! URL with a `code` valid 5 minutes; the app POSTs `client_id`, `client_secret`,
//! `grant_type=authorization_code` and `code` as JSON to
//! `https://www.tiendanube.com/apps/authorize/token`, which answers the access token, which
//! does not expire, and `user_id`, the store's id).
//!
//! [`NuvemshopInstaller::complete`] exchanges the code, records the store (its id from the
//! answer, never from the callback) with its token sealed, and subscribes its webhooks
//! ([`aftercare_events`], `app/uninstalled` among them) to
//! `{webhook_base}/shops/{store_id}/webhooks/nuvemshop`. The store's `app/uninstalled`
//! then stops its work through its inbox like Shopify's.

use std::sync::Arc;

use aftercare::model::ShopId;
use aftercare::tenancy::{ACCESS_TOKEN, Installed, ShopInstall, Tenancy};
use aftercare::webhook::Secret;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use crate::{HookReport, NuvemshopClient, NuvemshopConfig, NuvemshopError, aftercare_events};

/// The platform name stores installed through Nuvemshop are recorded under.
pub const PLATFORM: &str = "nuvemshop";

/// The token endpoint ("Authentication", the authorization flow's last step).
pub const TOKEN_URL: &str = "https://www.tiendanube.com/apps/authorize/token";

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    user_id: Value,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// A finished install.
#[derive(Debug)]
#[non_exhaustive]
pub struct InstallDone {
    /// The store's scope and its dashboard key.
    pub installed: Installed,
    /// The webhooks found and made.
    pub hooks: HookReport,
}

/// Installs the app on stores.
pub struct NuvemshopInstaller {
    tenancy: Arc<Tenancy>,
    app_id: String,
    client_secret: Secret,
    user_agent: String,
    webhook_base: String,
    token_url: String,
    api_base: Option<Url>,
    http: reqwest::Client,
}

impl std::fmt::Debug for NuvemshopInstaller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NuvemshopInstaller")
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

impl NuvemshopInstaller {
    /// An installer for the app `app_id` (its `client_id`) with its client secret, recording
    /// stores in `tenancy`; API calls carry `user_agent` (`MyApp (me@example.com)`, which
    /// the API requires); webhooks go to `{webhook_base}/shops/{store_id}/webhooks/nuvemshop`.
    pub fn new(
        tenancy: Arc<Tenancy>,
        app_id: impl Into<String>,
        client_secret: Secret,
        user_agent: impl Into<String>,
        webhook_base: impl Into<String>,
    ) -> Self {
        Self {
            tenancy,
            app_id: app_id.into(),
            client_secret,
            user_agent: user_agent.into(),
            webhook_base: webhook_base.into().trim_end_matches('/').to_owned(),
            token_url: TOKEN_URL.into(),
            api_base: None,
            http: reqwest::Client::new(),
        }
    }

    /// Posts the code exchange here instead of [`TOKEN_URL`] (tests).
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = url.into();
        self
    }

    /// Sends the API calls here instead of the API root (tests).
    pub fn api_base(mut self, base: Url) -> Self {
        self.api_base = Some(base);
        self
    }

    /// Where a merchant installs the app.
    pub fn authorize_url(&self) -> String {
        format!("https://www.tiendanube.com/apps/{}/authorize", self.app_id)
    }

    /// The webhook URL of `store_id`.
    pub fn webhook_uri(&self, store_id: &str) -> String {
        format!("{}/shops/{store_id}/webhooks/nuvemshop", self.webhook_base)
    }

    /// Completes an install from the redirect's `code`. Nothing is recorded unless the
    /// exchange answers a token and a store id.
    pub async fn complete(
        &self,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<InstallDone, NuvemshopError> {
        if code.is_empty() {
            return Err(NuvemshopError::Config("install refused: no `code`".into()));
        }
        let operation = "POST /apps/authorize/token".to_owned();
        let api = |status: Option<u16>, message: String, retryable: bool| NuvemshopError::Api {
            operation: operation.clone(),
            status,
            message,
            retryable,
        };
        let resp = self
            .http
            .post(&self.token_url)
            .json(&json!({
                "client_id": self.app_id,
                "client_secret": String::from_utf8_lossy(self.client_secret.expose()),
                "grant_type": "authorization_code",
                "code": code,
            }))
            .send()
            .await
            .map_err(|e| api(None, e.without_url().to_string(), true))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| api(Some(status.as_u16()), e.without_url().to_string(), true))?;
        let answer: TokenAnswer =
            serde_json::from_slice(&bytes).map_err(|e| NuvemshopError::Decode {
                what: "the authorize/token answer".into(),
                message: e.to_string(),
            })?;
        // An expired or used code is answered with `error` (and sometimes a 2xx status).
        if let Some(err) = answer.error {
            return Err(api(
                Some(status.as_u16()),
                format!("{err}: {}", answer.error_description.unwrap_or_default()),
                false,
            ));
        }
        if !status.is_success() {
            return Err(api(
                Some(status.as_u16()),
                "no token".into(),
                status.is_server_error(),
            ));
        }
        let token = answer
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| api(Some(status.as_u16()), "no access_token".into(), false))?;
        let store_id = match &answer.user_id {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        if store_id.is_empty() || !store_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(api(
                Some(status.as_u16()),
                format!("`{}` is not a store id", answer.user_id),
                false,
            ));
        }
        let token = Secret::from(token);
        let shop = ShopId::new(store_id.clone());
        let installed = self
            .tenancy
            .install(
                ShopInstall::new(shop.clone(), PLATFORM)
                    .secret(ACCESS_TOKEN, token.clone())
                    .settings(json!({ "scope": answer.scope })),
                now,
            )
            .await
            .map_err(|e| NuvemshopError::Config(format!("the shop registry failed: {e}")))?;
        let mut cfg = NuvemshopConfig::new(store_id.clone(), token, self.user_agent.clone());
        if let Some(b) = &self.api_base {
            cfg = cfg.base_url(b.clone());
        }
        let client = NuvemshopClient::new(cfg)?;
        let hooks = client
            .ensure_hooks(&self.webhook_uri(&store_id), &aftercare_events())
            .await?;
        tracing::info!(shop = %shop, "nuvemshop app installed");
        Ok(InstallDone { installed, hooks })
    }
}
