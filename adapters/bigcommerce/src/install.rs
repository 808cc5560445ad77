//! Installing the app on many stores (the store-plugin mode), on top of
//! [`aftercare::tenancy`]: BigCommerce's single-click app flow.
//!
//! - **Install** ("Single-Click App OAuth Flow", developer.bigcommerce.com
//!   `/api-docs/apps/guide/auth`): the merchant's browser calls the app's `GET /auth` with
//!   `code`, `scope`, `context` (`stores/{store_hash}`) and `account_uuid`;
//!   [`BigCommerceInstaller::complete`] posts them with the app's client id and secret,
//!   `grant_type=authorization_code` and the registered `redirect_uri` as JSON to
//!   `https://login.bigcommerce.com/oauth2/token`, checks that the answer's `context` is
//!   the callback's (the store the code was issued for), records the store with its access
//!   token sealed, and subscribes its webhooks (`/v3/hooks`, only what is missing) to
//!   `{webhook_base}/shops/{store_hash}/webhooks/bigcommerce`, the store's own route. The
//!   callback itself is unsigned: the code is worth something only with this app's client
//!   secret and redirect URI, and the token BigCommerce returns is for the store it names.
//! - **Load, uninstall, remove user** ("Handling Single-Click App Callbacks",
//!   `/api-docs/apps/guide/callbacks`): each `GET` carries `signed_payload_jwt`, an HS256
//!   JWS signed with the app's client secret. [`BigCommerceApp::verify_jwt`] refuses any
//!   other algorithm (`none` included), checks the signature in constant time, then the
//!   claims: `aud` = the client id, `iss` = `bc`, `exp` and `nbf` against the clock (one
//!   minute of leeway) and `sub` = `stores/{store_hash}`. Only then is the store acted on:
//!   an uninstall stops its work and schedules its erasure like Shopify's.
//!
//! The JWS check is written here (`verify_hs256`, with the `hmac` crate the workspace already
//! uses for every webhook signature) rather than taken from `jsonwebtoken`: one algorithm is
//! ever accepted, and that crate would add a second crypto backend (`ring` or `aws-lc-rs`)
//! for one HMAC; the RFC 7515 A.1 vector checks it.

use std::sync::Arc;

use aftercare::model::ShopId;
use aftercare::tenancy::{ACCESS_TOKEN, Installed, ShopInstall, Tenancy};
use aftercare::webhook::Secret;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac as _};
use serde::Deserialize;
use sha2::Sha256;
use url::Url;

use crate::client::valid_store_hash;
use crate::hooks::{AFTERCARE_SCOPES, HookReport};
use crate::{BigCommerceClient, BigCommerceConfig, BigCommerceError};

/// The platform name stores installed through BigCommerce are recorded under.
pub const PLATFORM: &str = "bigcommerce";

/// BigCommerce's token endpoint (the auth guide, "Requesting the access_token").
pub const TOKEN_URL: &str = "https://login.bigcommerce.com/oauth2/token";

/// The `iss` of every callback JWT.
pub const JWT_ISSUER: &str = "bc";

/// Clock leeway for a callback JWT's `exp` and `nbf`.
pub const JWT_LEEWAY_SECS: i64 = 60;

/// Why an install or an app callback was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InstallRejection {
    /// A parameter the flow needs is missing.
    #[error("the callback has no `{0}` parameter")]
    MissingParam(&'static str),
    /// `context` (or `sub`) is not `stores/{store_hash}`.
    #[error("`{0}` is not a store context (`stores/{{store_hash}}`)")]
    BadContext(String),
    /// The token BigCommerce returned is for another store than the callback named.
    #[error("the token answer is for `{got}`, the callback named `{want}`")]
    OtherStore {
        /// The callback's context.
        want: String,
        /// The answer's context.
        got: String,
    },
    /// The JWT is not three base64url parts with JSON header and claims.
    #[error("the signed payload is not a well-formed JWT")]
    Malformed,
    /// The JWT's algorithm is not HS256 (`none` and every other one are refused).
    #[error("the signed payload's algorithm `{0}` is not HS256")]
    Algorithm(String),
    /// The signature does not match the app's client secret.
    #[error("the signed payload's signature does not match the app's client secret")]
    Signature,
    /// `aud` is not this app's client id.
    #[error("the signed payload is for another app")]
    Audience,
    /// `iss` is not `bc`.
    #[error("the signed payload's issuer is not BigCommerce")]
    Issuer,
    /// Expired, or not valid yet.
    #[error("the signed payload is expired or not valid yet")]
    Expired,
    /// The store is not installed in this deployment.
    #[error("store `{0}` is not installed")]
    NotInstalled(String),
}

/// The verified claims of a callback JWT.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallbackClaims {
    /// The store (`sub` without `stores/`).
    pub store_hash: String,
    /// The user the callback is for (`user.id`).
    pub user_id: Option<u64>,
    /// The store owner (`owner.id`).
    pub owner_id: Option<u64>,
    /// The page asked for (`url`), for `load`.
    pub url: Option<String>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

#[derive(Deserialize)]
struct Person {
    id: Option<u64>,
}

#[derive(Deserialize)]
struct Claims {
    aud: Option<serde_json::Value>,
    iss: Option<String>,
    exp: Option<i64>,
    nbf: Option<i64>,
    sub: Option<String>,
    user: Option<Person>,
    owner: Option<Person>,
    url: Option<String>,
}

fn store_of_context(context: &str) -> Result<String, InstallRejection> {
    match context.strip_prefix("stores/") {
        Some(h) if valid_store_hash(h) => Ok(h.to_owned()),
        _ => Err(InstallRejection::BadContext(context.to_owned())),
    }
}

/// Checks an HS256 JWS (RFC 7515) signed with `key` and returns its claims' bytes. Only
/// HS256 is accepted; the comparison is in constant time.
pub fn verify_hs256(token: &str, key: &[u8]) -> Result<Vec<u8>, InstallRejection> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(InstallRejection::Malformed);
    };
    let header_bytes = URL_SAFE_NO_PAD
        .decode(h)
        .map_err(|_| InstallRejection::Malformed)?;
    let header: Header =
        serde_json::from_slice(&header_bytes).map_err(|_| InstallRejection::Malformed)?;
    if header.alg != "HS256" {
        return Err(InstallRejection::Algorithm(header.alg));
    }
    let sig = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| InstallRejection::Malformed)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| InstallRejection::Signature)?;
    mac.update(h.as_bytes());
    mac.update(b".");
    mac.update(c.as_bytes());
    // `verify_slice` compares in constant time.
    mac.verify_slice(&sig)
        .map_err(|_| InstallRejection::Signature)?;
    URL_SAFE_NO_PAD
        .decode(c)
        .map_err(|_| InstallRejection::Malformed)
}

/// The app's credentials (one app, every store).
#[derive(Clone)]
pub struct BigCommerceApp {
    client_id: String,
    client_secret: Secret,
}

impl std::fmt::Debug for BigCommerceApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BigCommerceApp")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl BigCommerceApp {
    /// The app's client id and client secret (Developer Portal).
    pub fn new(client_id: impl Into<String>, client_secret: Secret) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
        }
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Verifies a `signed_payload_jwt` (load, uninstall, remove_user) at `now`: HS256 with
    /// the client secret, `aud` = client id, `iss` = `bc`, `exp`/`nbf` with
    /// [`JWT_LEEWAY_SECS`], `sub` = `stores/{store_hash}`.
    pub fn verify_jwt(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<CallbackClaims, InstallRejection> {
        let bytes = verify_hs256(token, self.client_secret.expose())?;
        let claims: Claims =
            serde_json::from_slice(&bytes).map_err(|_| InstallRejection::Malformed)?;
        // `aud` is a string, or (RFC 7519) an array of strings.
        let ours = match &claims.aud {
            Some(serde_json::Value::String(a)) => *a == self.client_id,
            Some(serde_json::Value::Array(v)) => v.iter().any(|a| a == self.client_id.as_str()),
            _ => false,
        };
        if !ours {
            return Err(InstallRejection::Audience);
        }
        if claims.iss.as_deref() != Some(JWT_ISSUER) {
            return Err(InstallRejection::Issuer);
        }
        let t = now.timestamp();
        match claims.exp {
            Some(exp) if exp + JWT_LEEWAY_SECS > t => {}
            _ => return Err(InstallRejection::Expired),
        }
        if claims.nbf.is_some_and(|nbf| nbf - JWT_LEEWAY_SECS > t) {
            return Err(InstallRejection::Expired);
        }
        let sub = claims.sub.ok_or(InstallRejection::MissingParam("sub"))?;
        Ok(CallbackClaims {
            store_hash: store_of_context(&sub)?,
            user_id: claims.user.and_then(|u| u.id),
            owner_id: claims.owner.and_then(|u| u.id),
            url: claims.url,
        })
    }
}

/// The auth callback's query (`GET /auth?code=...&scope=...&context=...&account_uuid=...`).
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct AuthCallback {
    /// The code to exchange.
    #[serde(default)]
    pub code: String,
    /// The granted scopes, space-separated.
    #[serde(default)]
    pub scope: String,
    /// `stores/{store_hash}`.
    #[serde(default)]
    pub context: String,
    /// The Developer Portal account of the app.
    #[serde(default)]
    pub account_uuid: Option<String>,
}

impl AuthCallback {
    /// A callback's parameters.
    pub fn new(
        code: impl Into<String>,
        scope: impl Into<String>,
        context: impl Into<String>,
    ) -> Self {
        Self {
            code: code.into(),
            scope: scope.into(),
            context: context.into(),
            account_uuid: None,
        }
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    context: String,
    user: Option<Person>,
}

/// A finished install.
#[derive(Debug)]
#[non_exhaustive]
pub struct InstallDone {
    /// The store's scope and its dashboard key.
    pub installed: Installed,
    /// The webhook subscriptions found and made.
    pub hooks: HookReport,
}

/// Installs and uninstalls the app on stores.
#[derive(Debug)]
pub struct BigCommerceInstaller {
    app: BigCommerceApp,
    tenancy: Arc<Tenancy>,
    redirect_uri: String,
    webhook_base: String,
    token_url: String,
    api_base: Option<Url>,
    scopes: Vec<String>,
    http: reqwest::Client,
}

impl BigCommerceInstaller {
    /// An installer for `app`, recording stores in `tenancy`; `redirect_uri` is the auth
    /// callback registered in the app profile; webhooks go to
    /// `{webhook_base}/shops/{store_hash}/webhooks/bigcommerce` (`https://`, port 443).
    pub fn new(
        app: BigCommerceApp,
        tenancy: Arc<Tenancy>,
        redirect_uri: impl Into<String>,
        webhook_base: impl Into<String>,
    ) -> Self {
        Self {
            app,
            tenancy,
            redirect_uri: redirect_uri.into(),
            webhook_base: webhook_base.into().trim_end_matches('/').to_owned(),
            token_url: TOKEN_URL.into(),
            api_base: None,
            scopes: AFTERCARE_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            http: reqwest::Client::new(),
        }
    }

    /// Posts the code exchange here instead of [`TOKEN_URL`] (tests).
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = url.into();
        self
    }

    /// Sends the API calls (hooks) here instead of `https://api.bigcommerce.com/` (tests).
    pub fn api_base(mut self, base: Url) -> Self {
        self.api_base = Some(base);
        self
    }

    /// The app's credentials.
    pub fn app(&self) -> &BigCommerceApp {
        &self.app
    }

    /// The webhook destination of `store_hash`.
    pub fn webhook_uri(&self, store_hash: &str) -> String {
        format!(
            "{}/shops/{store_hash}/webhooks/bigcommerce",
            self.webhook_base
        )
    }

    /// Completes an install from the auth callback's parameters: code exchanged, store
    /// recorded with its token sealed, hooks subscribed. Nothing is recorded unless the
    /// callback is whole and the exchange succeeds for the store it names.
    pub async fn complete(
        &self,
        callback: &AuthCallback,
        now: DateTime<Utc>,
    ) -> Result<InstallDone, BigCommerceError> {
        for (name, v) in [
            ("code", &callback.code),
            ("scope", &callback.scope),
            ("context", &callback.context),
        ] {
            if v.is_empty() {
                return Err(InstallRejection::MissingParam(name).into());
            }
        }
        let store_hash = store_of_context(&callback.context)?;
        let body = serde_json::json!({
            "client_id": self.app.client_id,
            "client_secret": String::from_utf8_lossy(self.app.client_secret.expose()),
            "code": callback.code,
            "context": callback.context,
            "scope": callback.scope,
            "grant_type": "authorization_code",
            "redirect_uri": self.redirect_uri,
        });
        let operation = "POST /oauth2/token".to_owned();
        let resp = self
            .http
            .post(&self.token_url)
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&body)
            .send()
            .await
            .map_err(|e| BigCommerceError::Api {
                operation: operation.clone(),
                status: None,
                message: e.without_url().to_string(),
                retryable: true,
            })?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| BigCommerceError::Api {
            operation: operation.clone(),
            status: Some(status.as_u16()),
            message: e.without_url().to_string(),
            retryable: true,
        })?;
        if !status.is_success() {
            return Err(BigCommerceError::Api {
                operation,
                status: Some(status.as_u16()),
                // The error body names the problem (`Invalid client id`...); never the secret.
                message: String::from_utf8_lossy(&bytes).chars().take(300).collect(),
                retryable: status.is_server_error(),
            });
        }
        let answer: TokenAnswer = serde_json::from_slice(&bytes)
            .map_err(|e| BigCommerceError::decode("the oauth2/token answer", e))?;
        if answer.context != callback.context {
            return Err(InstallRejection::OtherStore {
                want: callback.context.clone(),
                got: answer.context,
            }
            .into());
        }
        let token = Secret::from_bytes(answer.access_token.into_bytes());
        let shop = ShopId::new(store_hash.clone());
        let installed = self
            .tenancy
            .install(
                ShopInstall::new(shop.clone(), PLATFORM)
                    .secret(ACCESS_TOKEN, token.clone())
                    .settings(serde_json::json!({
                        "scope": answer.scope,
                        "owner_id": answer.user.and_then(|u| u.id),
                    })),
                now,
            )
            .await
            .map_err(BigCommerceError::Store)?;
        let mut cfg = BigCommerceConfig::new(store_hash.clone(), token);
        if let Some(base) = &self.api_base {
            cfg = cfg.base_url(base.clone());
        }
        let client = BigCommerceClient::new(cfg)?;
        let scopes: Vec<&str> = self.scopes.iter().map(String::as_str).collect();
        let hooks = client
            .ensure_hooks(&self.webhook_uri(&store_hash), &scopes)
            .await?;
        tracing::info!(shop = %shop, created = hooks.created.len(), "bigcommerce app installed");
        Ok(InstallDone { installed, hooks })
    }

    /// The `load` callback: the JWT verified, its store installed here.
    pub async fn load(
        &self,
        signed_payload_jwt: &str,
        now: DateTime<Utc>,
    ) -> Result<CallbackClaims, BigCommerceError> {
        let claims = self.app.verify_jwt(signed_payload_jwt, now)?;
        let shop = ShopId::new(claims.store_hash.clone());
        match self.tenancy.scope(&shop).await {
            Ok(_) => Ok(claims),
            Err(aftercare::Error::NotFound { .. }) => {
                Err(InstallRejection::NotInstalled(claims.store_hash).into())
            }
            Err(e) => Err(BigCommerceError::Store(e)),
        }
    }

    /// The `uninstall` callback: the JWT verified, then its store's work stops now and its
    /// erasure is scheduled. Returns the store and whether it was installed.
    pub async fn uninstall(
        &self,
        signed_payload_jwt: &str,
        now: DateTime<Utc>,
    ) -> Result<(ShopId, bool), BigCommerceError> {
        let claims = self.app.verify_jwt(signed_payload_jwt, now)?;
        let shop = ShopId::new(claims.store_hash);
        let was = self
            .tenancy
            .uninstall(&shop, now)
            .await
            .map_err(BigCommerceError::Store)?;
        Ok((shop, was))
    }

    /// The `remove_user` callback: the JWT verified. Aftercare keeps no per-user data for
    /// an app user, so there is nothing to remove; the claims say who was removed.
    pub fn remove_user(
        &self,
        signed_payload_jwt: &str,
        now: DateTime<Utc>,
    ) -> Result<CallbackClaims, BigCommerceError> {
        Ok(self.app.verify_jwt(signed_payload_jwt, now)?)
    }
}
