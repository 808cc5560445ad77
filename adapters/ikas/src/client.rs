//! The Admin GraphQL client: `POST` to the GraphQL URL with `Authorization: Bearer`, a
//! token from ikas's OAuth token endpoint (client credentials, as ikas.dev "Authentication"
//! and `@ikas/admin-api-client` `dist/api/oauth` show) or a fixed app token, paced to the
//! documented limit (50 requests per 10 s), `429` waits obeyed.

use std::sync::Arc;
use std::time::Duration;

use aftercare::backoff::RetryPolicy;
use aftercare::platform::limits::{Quota, QuotaGate, retry_after};
use aftercare::ratelimit::{RateLimit, SlidingWindow};
use aftercare::webhook::Secret;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::time::Instant;
use url::Url;

use crate::error::IkasError;

/// The v1 Admin GraphQL endpoint (`@ikas/admin-api-client`'s `DEFAULT_API_VERSION` is
/// `v1`); ikas.dev points new users to v2 (`https://api.myikas.com/api/v2/admin/graphql`):
/// the URL is configurable.
pub const GRAPHQL_URL: &str = "https://api.myikas.com/api/v1/admin/graphql";

/// How the client authenticates.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum IkasAuth {
    /// A private app's client credentials: a token is fetched from
    /// `https://{store}.myikas.com/api/admin/oauth/token` (`grant_type=client_credentials`)
    /// and fetched again when it expires (this grant has no refresh token).
    ClientCredentials {
        /// The token endpoint.
        token_url: Url,
        /// The app's client id.
        client_id: String,
        /// The app's client secret.
        client_secret: Secret,
    },
    /// An access token obtained elsewhere (an app token).
    Token(Secret),
}

impl IkasAuth {
    /// Client credentials for the store `store_name` (`{store_name}.myikas.com`).
    pub fn client_credentials(
        store_name: &str,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> Result<Self, IkasError> {
        if store_name.is_empty()
            || !store_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(IkasError::Config(format!(
                "`{store_name}` is not an ikas store name (letters, digits and `-`)"
            )));
        }
        let token_url = Url::parse(&format!(
            "https://{store_name}.myikas.com/api/admin/oauth/token"
        ))
        .map_err(|e| IkasError::Config(format!("token URL: {e}")))?;
        Ok(IkasAuth::ClientCredentials {
            token_url,
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        })
    }
}

/// How to reach one merchant's Admin API.
///
/// ```
/// use aftercare_ikas::{IkasAuth, IkasConfig};
/// let cfg = IkasConfig::new("m-1", IkasAuth::client_credentials("mystore", "id", "shh-secret").unwrap());
/// assert!(!format!("{cfg:?}").contains("shh-secret"));
/// ```
#[derive(Clone, Debug)]
pub struct IkasConfig {
    merchant_id: String,
    auth: IkasAuth,
    graphql_url: Option<Url>,
    retry: RetryPolicy,
    page_size: u32,
    timeout: Duration,
    pace: (u32, Duration),
    max_throttled: u32,
    locale: String,
}

impl IkasConfig {
    /// A merchant (its `merchantId`, as webhooks name it) and how to authenticate.
    pub fn new(merchant_id: impl Into<String>, auth: IkasAuth) -> Self {
        Self {
            merchant_id: merchant_id.into(),
            auth,
            graphql_url: None,
            retry: RetryPolicy::new(Duration::from_millis(500), Duration::from_secs(10), 3),
            page_size: 50,
            timeout: Duration::from_secs(30),
            pace: (45, Duration::from_secs(10)),
            max_throttled: 5,
            locale: "tr".into(),
        }
    }

    /// The GraphQL endpoint (default [`GRAPHQL_URL`]; v2, or a stand-in).
    pub fn graphql_url(mut self, url: Url) -> Self {
        self.graphql_url = Some(url);
        self
    }

    /// Retries of 5xx answers and network errors inside one call (never of a mutation).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Orders per page of `updated_since` (1 to 200; default 50).
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, 200);
        self
    }

    /// Per-request timeout (default 30 s).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// The client-side pace: at most `n` requests in any `window` (default 45 per 10 s,
    /// under the documented 50 per 10 s: ikas blocks apps with many errors, 429s included).
    pub fn pace(mut self, n: u32, window: Duration) -> Self {
        self.pace = (n, window);
        self
    }

    /// How many `429`s one call waits out (default 5).
    pub fn max_throttled(mut self, n: u32) -> Self {
        self.max_throttled = n;
        self
    }

    /// The store's language for orders whose customer names none (default `tr`).
    pub fn locale(mut self, locale: impl Into<String>) -> Self {
        self.locale = locale.into();
        self
    }

    /// The merchant id.
    pub fn merchant_id(&self) -> &str {
        &self.merchant_id
    }

    pub(crate) fn page_size_value(&self) -> u32 {
        self.page_size
    }

    pub(crate) fn store_locale(&self) -> &str {
        &self.locale
    }
}

#[derive(Debug)]
struct CachedToken {
    token: Secret,
    expires: Instant,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// A client for one merchant's Admin API. Cheap to clone; clones share the token, the pace
/// and the throttle.
///
/// - **Tokens**: with client credentials, one token is fetched at a time however many tasks
///   need one (single flight), kept until a minute before `expires_in`, and fetched again
///   after a `401`. A token endpoint refusing the credentials (`400`/`401`, e.g.
///   `invalid_client`) is a non-retryable error saying the app's credentials were revoked.
/// - **Pace**: a sliding window below the documented 50 per 10 s; `429` waits `Retry-After`
///   (or backs off) through a shared [`QuotaGate`].
/// - **Errors**: GraphQL `errors[]` (usually with HTTP 200) are not retried (ikas penalises
///   apps whose error rate is high); 5xx and network errors are, for queries only.
#[derive(Clone, Debug)]
pub struct IkasClient {
    http: reqwest::Client,
    cfg: Arc<IkasConfig>,
    url: Url,
    pace: Arc<SlidingWindow>,
    gate: Arc<QuotaGate>,
    token: Arc<tokio::sync::Mutex<Option<CachedToken>>>,
    pub(crate) written: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

impl IkasClient {
    /// A client from a configuration.
    pub fn new(cfg: IkasConfig) -> Result<Self, IkasError> {
        if cfg.merchant_id.trim().is_empty() {
            return Err(IkasError::Config("a merchant id is required".into()));
        }
        let url = match &cfg.graphql_url {
            Some(u) => u.clone(),
            None => Url::parse(GRAPHQL_URL)
                .map_err(|e| IkasError::Config(format!("GraphQL URL: {e}")))?,
        };
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .user_agent(concat!("aftercare-ikas/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| IkasError::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            pace: Arc::new(SlidingWindow::new(cfg.pace.0, cfg.pace.1)),
            gate: Arc::new(QuotaGate::new(0)),
            cfg: Arc::new(cfg),
            url,
            token: Arc::new(tokio::sync::Mutex::new(None)),
            written: Arc::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &IkasConfig {
        &self.cfg
    }

    /// The merchant id.
    pub fn merchant_id(&self) -> &str {
        &self.cfg.merchant_id
    }

    /// The access token to send, fetching one when there is none or it is about to expire.
    async fn access_token(&self, stale: Option<&Secret>) -> Result<Secret, IkasError> {
        let IkasAuth::ClientCredentials {
            token_url,
            client_id,
            client_secret,
        } = &self.cfg.auth
        else {
            let IkasAuth::Token(t) = &self.cfg.auth else {
                return Err(IkasError::Config("no credentials".into()));
            };
            return Ok(t.clone());
        };
        let mut slot = self.token.lock().await;
        if let Some(c) = slot.as_ref() {
            let fresh = c.expires > Instant::now();
            let is_stale = stale.is_some_and(|s| s.expose() == c.token.expose());
            if fresh && !is_stale {
                return Ok(c.token.clone());
            }
        }
        let op = "POST /api/admin/oauth/token".to_owned();
        let resp = self
            .http
            .post(token_url.clone())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id.as_str()),
                (
                    "client_secret",
                    &String::from_utf8_lossy(client_secret.expose()),
                ),
            ])
            .send()
            .await
            .map_err(|e| IkasError::Api {
                operation: op.clone(),
                status: None,
                message: e.without_url().to_string(),
                retryable: true,
            })?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| IkasError::Api {
            operation: op.clone(),
            status: Some(status),
            message: e.without_url().to_string(),
            retryable: true,
        })?;
        if status == 400 || status == 401 || status == 403 {
            return Err(IkasError::Api {
                operation: op,
                status: Some(status),
                message: format!(
                    "ikas refused the app's client credentials (revoked, or the app was removed): {}",
                    String::from_utf8_lossy(&bytes)
                        .chars()
                        .take(300)
                        .collect::<String>()
                ),
                retryable: false,
            });
        }
        if status >= 300 {
            return Err(IkasError::Api {
                operation: op,
                status: Some(status),
                message: "the token endpoint failed".into(),
                retryable: status == 429 || status >= 500,
            });
        }
        let t: TokenAnswer = serde_json::from_slice(&bytes)
            .map_err(|e| IkasError::decode("ikas token answer", e))?;
        // 4 h per the v2 docs; refreshed a minute early.
        let life = Duration::from_secs(t.expires_in.unwrap_or(14_400).saturating_sub(60).max(1));
        let token = Secret::from(t.access_token.as_str());
        *slot = Some(CachedToken {
            token: token.clone(),
            expires: Instant::now() + life,
        });
        tracing::debug!(merchant = %self.cfg.merchant_id, secs = life.as_secs(), "ikas access token fetched");
        Ok(token)
    }

    /// Runs one GraphQL operation and decodes its `data`.
    pub(crate) async fn graphql<T: DeserializeOwned>(
        &self,
        name: &str,
        query: &str,
        variables: Value,
        mutation: bool,
    ) -> Result<T, IkasError> {
        let operation = || format!("graphql {name}");
        let body = json!({ "query": query, "variables": variables });
        let mut failures = 0u32;
        let mut throttled = 0u32;
        let mut stale: Option<Secret> = None;
        let mut reauthed = false;
        loop {
            let token = self.access_token(stale.as_ref()).await?;
            self.gate.acquire().await;
            self.pace.acquire().await;
            let mut auth = reqwest::header::HeaderValue::from_str(&format!(
                "Bearer {}",
                String::from_utf8_lossy(token.expose())
            ))
            .map_err(|_| {
                IkasError::Config("the access token has characters not allowed in a header".into())
            })?;
            auth.set_sensitive(true);
            let sent = self
                .http
                .post(self.url.clone())
                .header(reqwest::header::AUTHORIZATION, auth)
                .json(&body)
                .send()
                .await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    failures += 1;
                    if !mutation && self.cfg.retry.may_retry(failures) {
                        tokio::time::sleep(self.cfg.retry.delay(failures, None)).await;
                        continue;
                    }
                    return Err(IkasError::Api {
                        operation: operation(),
                        status: None,
                        message: format!("{} (after {failures} attempts)", e.without_url()),
                        retryable: true,
                    });
                }
            };
            let status = resp.status().as_u16();
            let wait = resp
                .headers()
                .get("Retry-After")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, chrono::Utc::now()));
            let bytes = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
            self.gate.observe(&Quota::default());
            match status {
                429 => {
                    throttled += 1;
                    if throttled > self.cfg.max_throttled {
                        return Err(IkasError::Api {
                            operation: operation(),
                            status: Some(429),
                            message: format!("still throttled after {} waits", throttled - 1),
                            retryable: true,
                        });
                    }
                    let wait = wait.unwrap_or_else(|| self.cfg.retry.delay(throttled, None));
                    tracing::debug!(op = %operation(), ?wait, "ikas answered 429; waiting");
                    self.gate.throttled(wait);
                    continue;
                }
                401 if !reauthed && matches!(self.cfg.auth, IkasAuth::ClientCredentials { .. }) => {
                    reauthed = true;
                    stale = Some(token);
                    continue;
                }
                401 | 403 => {
                    return Err(IkasError::Api {
                        operation: operation(),
                        status: Some(status),
                        message: "ikas refused the access token (revoked, or the app was removed)"
                            .into(),
                        retryable: false,
                    });
                }
                s if s >= 500 => {
                    failures += 1;
                    if !mutation && self.cfg.retry.may_retry(failures) {
                        tokio::time::sleep(self.cfg.retry.delay(failures, None)).await;
                        continue;
                    }
                    return Err(IkasError::Api {
                        operation: operation(),
                        status: Some(s),
                        message: format!("server error (after {failures} attempts)"),
                        retryable: true,
                    });
                }
                s if s >= 300 => {
                    return Err(IkasError::Api {
                        operation: operation(),
                        status: Some(s),
                        message: String::from_utf8_lossy(&bytes).chars().take(300).collect(),
                        retryable: false,
                    });
                }
                _ => {}
            }
            let v: Value =
                serde_json::from_slice(&bytes).map_err(|e| IkasError::decode(operation(), e))?;
            if let Some(errors) = v
                .get("errors")
                .and_then(Value::as_array)
                .filter(|e| !e.is_empty())
            {
                let msg = errors
                    .iter()
                    .map(|e| e.get("message").and_then(Value::as_str).unwrap_or("error"))
                    .collect::<Vec<_>>()
                    .join("; ");
                return Err(IkasError::Api {
                    operation: operation(),
                    status: Some(status),
                    message: msg,
                    retryable: false,
                });
            }
            let data = v.get("data").cloned().unwrap_or(Value::Null);
            return serde_json::from_value(data).map_err(|e| IkasError::decode(operation(), e));
        }
    }
}
