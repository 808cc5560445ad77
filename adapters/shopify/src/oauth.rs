//! The OAuth install flow pieces for public apps: verifying the callback's query-string HMAC
//! and exchanging the authorization code for an access token.
//!
//! Shopify signs the callback (`?code=…&hmac=…&host=…&shop=…&state=…&timestamp=…`) with a
//! hex HMAC-SHA256, keyed with the app's client secret, over the other parameters sorted by
//! name and joined as `key=value` with `&` (<https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant>).

use std::time::Duration;

use aftercare::webhook::Secret;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use url::Url;

use crate::client::error_text;
use crate::error::ShopifyError;

/// Clock tolerance for the callback's `timestamp`: 90 seconds, as Shopify's Node library
/// (`HMAC_TIMESTAMP_PERMITTED_CLOCK_TOLERANCE_SEC`).
pub const CALLBACK_TOLERANCE: Duration = Duration::from_secs(90);

/// Why an OAuth callback was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthRejection {
    /// No `hmac` parameter.
    #[error("the callback has no `hmac` parameter")]
    MissingHmac,
    /// A parameter the flow needs is missing.
    #[error("the callback has no `{0}` parameter")]
    MissingParam(&'static str),
    /// `hmac` is not hex.
    #[error("the callback's `hmac` is not hex")]
    BadHmacEncoding,
    /// The signature does not match: forged or tampered parameters, or the wrong secret.
    #[error(
        "the callback's HMAC does not match; the parameters were altered or the client secret is wrong"
    )]
    Mismatch,
    /// The timestamp is outside the allowed window.
    #[error(
        "the callback's timestamp is {skew_secs}s away from now, beyond the {tolerance_secs}s window"
    )]
    Stale {
        /// Seconds between the timestamp and now.
        skew_secs: i64,
        /// The window.
        tolerance_secs: u64,
    },
    /// `shop` is not a `{name}.myshopify.com` domain.
    #[error("`{0}` is not a myshopify.com shop domain")]
    BadShop(String),
    /// The callback's `state` is missing or is not the nonce this browser was given when
    /// the install began (a forged or replayed callback, or another browser's).
    #[error("the callback's `state` does not match the install that began in this browser")]
    StateMismatch,
}

/// A verified OAuth callback.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Callback {
    /// The authorization code, to exchange with [`OAuthApp::exchange_code`].
    pub code: String,
    /// The shop domain (`demo.myshopify.com`).
    pub shop: String,
    /// The `state` (nonce) the app put in the install URL; compare it with the one stored.
    pub state: Option<String>,
    /// The `host` parameter, when sent.
    pub host: Option<String>,
    /// The signed timestamp.
    pub timestamp: DateTime<Utc>,
}

/// An offline or online access token. Never shown in `Debug`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AccessToken {
    /// The token (`shpat_…` / `shpua_…`).
    pub token: Secret,
    /// Granted scopes (`write_orders,read_customers`).
    pub scope: String,
}

/// A public app's credentials.
///
/// ```
/// use aftercare_shopify::OAuthApp;
/// // Signature vector from Shopify's OAuth documentation (secret `hush`).
/// let app = OAuthApp::new("client-id", "hush");
/// let q = "code=0907a61c0c8d55e99db179b68161bc00&hmac=4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20&shop=some-shop.myshopify.com&timestamp=1337178173";
/// assert!(app.verify_signature(q).is_ok());
/// assert!(app.verify_signature(&q.replace("some-shop", "evil-shop")).is_err());
/// assert!(!format!("{app:?}").contains("hush"));
/// ```
#[derive(Clone, Debug)]
pub struct OAuthApp {
    client_id: String,
    client_secret: Secret,
    tolerance: Duration,
}

impl OAuthApp {
    /// An app from its client id and client secret.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<Secret>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            tolerance: CALLBACK_TOLERANCE,
        }
    }

    /// Sets the timestamp tolerance (default 90 s).
    pub fn tolerance(mut self, t: Duration) -> Self {
        self.tolerance = t;
        self
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The URL to send a merchant to for installing the app:
    /// `https://{shop}/admin/oauth/authorize?client_id=…&scope=…&redirect_uri=…&state=…`.
    /// `state` is a fresh random nonce the app stores and compares with the callback's.
    ///
    /// ```
    /// let app = aftercare_shopify::OAuthApp::new("abc", "secret");
    /// let u = app.authorize_url("demo.myshopify.com", &["read_orders", "write_orders"], "https://app.example.com/auth/callback", "n0nce").unwrap();
    /// assert_eq!(u.as_str(), "https://demo.myshopify.com/admin/oauth/authorize?client_id=abc&scope=read_orders%2Cwrite_orders&redirect_uri=https%3A%2F%2Fapp.example.com%2Fauth%2Fcallback&state=n0nce");
    /// assert!(app.authorize_url("evil.com", &[], "https://x", "n").is_err());
    /// ```
    pub fn authorize_url(
        &self,
        shop: &str,
        scopes: &[&str],
        redirect_uri: &str,
        state: &str,
    ) -> Result<Url, OAuthRejection> {
        if !is_myshopify_domain(shop) {
            return Err(OAuthRejection::BadShop(shop.to_owned()));
        }
        let mut u = Url::parse(&format!("https://{shop}/admin/oauth/authorize"))
            .map_err(|_| OAuthRejection::BadShop(shop.to_owned()))?;
        u.query_pairs_mut()
            .append_pair("client_id", &self.client_id)
            .append_pair("scope", &scopes.join(","))
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", state);
        Ok(u)
    }

    /// Checks only the `hmac` of a raw query string (with or without the leading `?`), in
    /// constant time.
    ///
    /// The signed message is the parameters other than `hmac` and `signature`, sorted by
    /// name, joined as `key=value` with `&`. Shopify's own libraries have encoded values
    /// differently over time (decoded as sent, `+` for spaces in the current Node library,
    /// `%20` in older ones); all three forms are accepted. They differ only for values with
    /// spaces or reserved characters, and each still requires the client secret.
    pub fn verify_signature(&self, raw_query: &str) -> Result<(), OAuthRejection> {
        let pairs = parse_pairs(raw_query);
        let given = pairs
            .iter()
            .find(|(k, _)| k == "hmac")
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .ok_or(OAuthRejection::MissingHmac)?;
        let given =
            hex::decode(given.to_ascii_lowercase()).map_err(|_| OAuthRejection::BadHmacEncoding)?;
        let mut rest: Vec<&(String, String)> = pairs
            .iter()
            .filter(|(k, _)| k != "hmac" && k != "signature")
            .collect();
        rest.sort_by(|a, b| a.0.cmp(&b.0));
        let mut ok = subtle::Choice::from(0u8);
        for enc in [Encoding::Plain, Encoding::Form, Encoding::Percent] {
            let msg = rest
                .iter()
                .map(|(k, v)| format!("{}={}", enc.apply(k), enc.apply(v)))
                .collect::<Vec<_>>()
                .join("&");
            let mac = hmac_hex_bytes(self.client_secret.expose(), msg.as_bytes());
            ok |= mac.as_slice().ct_eq(given.as_slice());
        }
        if bool::from(ok) {
            Ok(())
        } else {
            Err(OAuthRejection::Mismatch)
        }
    }

    /// Verifies an OAuth callback's raw query string: the HMAC, the timestamp (within the
    /// tolerance of `now`) and the shop domain; returns its parameters.
    pub fn verify_callback(
        &self,
        raw_query: &str,
        now: DateTime<Utc>,
    ) -> Result<Callback, OAuthRejection> {
        self.verify_signature(raw_query)?;
        let pairs = parse_pairs(raw_query);
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        let ts_text = get("timestamp").ok_or(OAuthRejection::MissingParam("timestamp"))?;
        let ts: i64 = ts_text
            .parse()
            .map_err(|_| OAuthRejection::MissingParam("timestamp"))?;
        let skew = now.timestamp().saturating_sub(ts);
        let tol = i64::try_from(self.tolerance.as_secs()).unwrap_or(i64::MAX);
        if skew.abs() > tol {
            return Err(OAuthRejection::Stale {
                skew_secs: skew,
                tolerance_secs: self.tolerance.as_secs(),
            });
        }
        let shop = get("shop").ok_or(OAuthRejection::MissingParam("shop"))?;
        if !is_myshopify_domain(&shop) {
            return Err(OAuthRejection::BadShop(shop));
        }
        Ok(Callback {
            code: get("code").ok_or(OAuthRejection::MissingParam("code"))?,
            shop,
            state: get("state"),
            host: get("host"),
            timestamp: DateTime::from_timestamp(ts, 0).unwrap_or(now),
        })
    }

    /// Exchanges an authorization code for an access token:
    /// `POST https://{shop}/admin/oauth/access_token` with `client_id`, `client_secret`
    /// and `code`. `base` replaces `https://{shop}/` (for tests).
    pub async fn exchange_code(
        &self,
        http: &reqwest::Client,
        callback: &Callback,
        base: Option<&Url>,
    ) -> Result<AccessToken, ShopifyError> {
        let root = match base {
            Some(b) => b.clone(),
            None => {
                if !is_myshopify_domain(&callback.shop) {
                    return Err(OAuthRejection::BadShop(callback.shop.clone()).into());
                }
                Url::parse(&format!("https://{}/", callback.shop))
                    .map_err(|e| ShopifyError::Config(e.to_string()))?
            }
        };
        let url = root
            .join("admin/oauth/access_token")
            .map_err(|e| ShopifyError::Config(e.to_string()))?;
        let secret = String::from_utf8_lossy(self.client_secret.expose()).into_owned();
        let resp = http
            .post(url)
            .json(&serde_json::json!({
                "client_id": self.client_id,
                "client_secret": secret,
                "code": callback.code,
            }))
            .send()
            .await
            .map_err(|e| ShopifyError::Api {
                operation: "exchange the OAuth code for an access token".into(),
                status: None,
                message: e.without_url().to_string(),
                retryable: true,
            })?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap_or_default();
        if status >= 400 {
            return Err(ShopifyError::Api {
                operation: "exchange the OAuth code for an access token".into(),
                status: Some(status),
                message: error_text(&bytes),
                retryable: status >= 500 || status == 429,
            });
        }
        #[derive(Deserialize)]
        struct Resp {
            access_token: String,
            #[serde(default)]
            scope: String,
        }
        let r: Resp = serde_json::from_slice(&bytes)
            .map_err(|e| ShopifyError::decode("the access token response", e))?;
        Ok(AccessToken {
            token: Secret::from(r.access_token),
            scope: r.scope,
        })
    }
}

#[derive(Clone, Copy)]
enum Encoding {
    Plain,
    Form,
    Percent,
}

impl Encoding {
    fn apply(self, s: &str) -> String {
        match self {
            Encoding::Plain => s.to_owned(),
            Encoding::Form => url::form_urlencoded::byte_serialize(s.as_bytes()).collect(),
            Encoding::Percent => url::form_urlencoded::byte_serialize(s.as_bytes())
                .collect::<String>()
                .replace('+', "%20"),
        }
    }
}

fn parse_pairs(raw_query: &str) -> Vec<(String, String)> {
    let q = raw_query.trim_start_matches('?');
    url::form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn hmac_hex_bytes(key: &[u8], msg: &[u8]) -> Vec<u8> {
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(msg);
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// Whether `shop` is `{name}.myshopify.com` with a name of letters, digits and hyphens
/// (Shopify's `sanitizeShop`).
pub fn is_myshopify_domain(shop: &str) -> bool {
    shop.strip_suffix(".myshopify.com").is_some_and(|name| {
        !name.is_empty()
            && name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

/// Signs a query string's parameters like Shopify (decoded values, sorted, `&`-joined) and
/// returns the query with `hmac` added; for tests.
pub fn sign_query(secret: &[u8], params: &[(&str, &str)]) -> String {
    let mut sorted: Vec<&(&str, &str)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let msg = sorted
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mac = hex::encode(hmac_hex_bytes(secret, msg.as_bytes()));
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    ser.append_pair("hmac", &mac);
    ser.finish()
}
