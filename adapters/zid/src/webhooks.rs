//! Zid webhooks: HTTP Basic credentials plus a secret URL, and the Order schema decoded
//! into events.
//!
//! **This is weaker than a signature.** Zid signs nothing: when a webhook is created with a
//! `username` and `password`, Zid sends `Authorization: Basic base64(username:password)`
//! with every delivery (docs.zid.sa "Create a Webhook"), and that, with an unguessable URL,
//! is all the authentication there is. The credentials travel with every request and
//! authenticate the sender, not the body: anyone who learns them (a logging proxy, a leaked
//! configuration) can post any order. So: credentials are required (there is no
//! unauthenticated mode), compared in constant time; the URL should carry a secret path
//! segment (the reference binary's `source_name`); the body's `store_id` must be the
//! configured store; a delivered order is only a claim about the order — the
//! [catch-up poller](crate::catch_up_poller) reads the orders from the API on a schedule,
//! and the flows read the order and customer from the API before writing to a customer.

use aftercare::Error;
use aftercare::model::{PlatformEvent, ShopId};
use aftercare::store::InboxEntry;
use aftercare::webhook::{
    RawHeaders, Rejection, VerifiedWebhook, WebhookRequest, WebhookSource, body_hash_key,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::convert;
use crate::error::ZidError;
use crate::payload::OrderPayload;

/// The header carrying the Basic credentials.
pub const AUTH_HEADER: &str = "Authorization";
/// The default body limit (1 MiB).
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// A webhook's Basic credentials, as given to Zid when creating it. `Debug` shows only
/// the username.
#[derive(Clone)]
pub struct BasicCredentials {
    username: String,
    digest: [u8; 32],
    password: aftercare::webhook::Secret,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl BasicCredentials {
    /// Credentials `username` / `password` (neither may be empty, and the username may not
    /// hold a `:`, which HTTP Basic uses as the separator).
    pub fn new(username: &str, password: aftercare::webhook::Secret) -> Result<Self, ZidError> {
        if username.is_empty() || username.contains(':') || password.is_empty() {
            return Err(ZidError::Config(
                "Zid webhook credentials need a username without `:` and a non-empty password"
                    .into(),
            ));
        }
        let mut pair = username.as_bytes().to_vec();
        pair.push(b':');
        pair.extend_from_slice(password.expose());
        Ok(Self {
            username: username.to_owned(),
            digest: Sha256::digest(&pair).into(),
            password,
        })
    }

    /// The username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password (to create the webhook at Zid). Never log it.
    pub fn password(&self) -> &aftercare::webhook::Secret {
        &self.password
    }

    /// The `Authorization` value Zid sends.
    pub fn header_value(&self) -> String {
        let mut pair = self.username.as_bytes().to_vec();
        pair.push(b':');
        pair.extend_from_slice(self.password.expose());
        format!("Basic {}", B64.encode(pair))
    }
}

/// Builder of [`ZidWebhooks`].
#[derive(Clone, Debug)]
pub struct ZidWebhooksBuilder {
    store: String,
    credentials: Vec<BasicCredentials>,
    default_locale: String,
    max_body_bytes: usize,
}

impl ZidWebhooksBuilder {
    /// Adds the credentials of a webhook (all the store's webhooks may share them; add the
    /// old and new ones while rotating).
    pub fn credentials(mut self, credentials: BasicCredentials) -> Self {
        self.credentials.push(credentials);
        self
    }

    /// The locale of orders that name none (`ar` by default).
    pub fn default_locale(mut self, locale: impl Into<String>) -> Self {
        self.default_locale = locale.into();
        self
    }

    /// The body size limit.
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// The source. Credentials are required.
    pub fn build(self) -> Result<ZidWebhooks, ZidError> {
        let store = self.store.trim().to_owned();
        if store.is_empty() {
            return Err(ZidError::Config("no store: set the Zid store id".into()));
        }
        if self.credentials.is_empty() {
            return Err(ZidError::Config(
                "no webhook credentials: Zid signs nothing, so every webhook must be created \
                 with a username and password, configured here"
                    .into(),
            ));
        }
        Ok(ZidWebhooks {
            shop: ShopId::from(store.as_str()),
            credentials: self.credentials,
            default_locale: self.default_locale,
            max_body_bytes: self.max_body_bytes,
        })
    }
}

/// Zid as a [`WebhookSource`], bound to one store. See the [module docs](self) for why
/// this authentication is weak and what backs it.
///
/// - **Verify**: `Authorization: Basic …` must decode to configured credentials (compared
///   as SHA-256 digests in constant time); anything else — no header, another scheme, bad
///   base64, other credentials — is refused.
/// - **De-duplication**: Zid sends no delivery id; the key is the order, its status and
///   its `updated_at` (`order:{id}:{status}@{updated_at}`), so the same state delivered by
///   two subscriptions (`order.create` and `order.status.update`) is stored once; a body
///   without them is keyed by its SHA-256.
/// - **Decode**: a body with `order_status` is an order (see [`decode_body`]); any other
///   JSON object is an event this adapter does not use (`unrecognized`).
#[derive(Clone, Debug)]
pub struct ZidWebhooks {
    shop: ShopId,
    credentials: Vec<BasicCredentials>,
    default_locale: String,
    max_body_bytes: usize,
}

#[derive(Deserialize)]
struct Head {
    #[serde(default, deserialize_with = "opt_id")]
    id: Option<String>,
    #[serde(default)]
    order_status: Option<Value>,
    #[serde(default)]
    updated_at: Option<String>,
}

fn opt_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(crate::payload::id(d).ok())
}

impl ZidWebhooks {
    /// A builder for the store `store` (Zid's numeric store id).
    pub fn builder(store: impl Into<String>) -> ZidWebhooksBuilder {
        ZidWebhooksBuilder {
            store: store.into(),
            credentials: Vec::new(),
            default_locale: "ar".into(),
            max_body_bytes: DEFAULT_MAX_BODY,
        }
    }

    /// The store this source is bound to.
    pub fn shop(&self) -> &ShopId {
        &self.shop
    }

    /// The locale of orders that name none.
    pub fn default_locale(&self) -> &str {
        &self.default_locale
    }

    /// The headers Zid sends with a delivery (for tests and local tools).
    pub fn sign_for_test(&self) -> RawHeaders {
        let mut h = RawHeaders::default();
        if let Some(c) = self.credentials.first() {
            h.insert(AUTH_HEADER, c.header_value());
        }
        h.insert("Content-Type", "application/json");
        h
    }

    fn authenticate(&self, headers: &RawHeaders) -> Result<(), Rejection> {
        let value = headers
            .get_str(AUTH_HEADER)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Rejection::MissingHeader {
                header: AUTH_HEADER.into(),
            })?;
        let encoded = match value.get(..6) {
            Some(p) if p.eq_ignore_ascii_case("basic ") => value[6..].trim(),
            _ => return Err(Rejection::Mismatch),
        };
        let pair = B64.decode(encoded).map_err(|_| Rejection::BadEncoding {
            header: AUTH_HEADER.into(),
            expected: "base64 after `Basic `",
        })?;
        let given: [u8; 32] = Sha256::digest(&pair).into();
        let mut ok = subtle::Choice::from(0);
        for c in &self.credentials {
            ok |= c.digest.ct_eq(&given);
        }
        if bool::from(ok) {
            Ok(())
        } else {
            Err(Rejection::Mismatch)
        }
    }
}

impl WebhookSource for ZidWebhooks {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        if request.body.len() > self.max_body_bytes {
            return Err(Rejection::TooLarge {
                limit: self.max_body_bytes,
                size: request.body.len(),
            });
        }
        self.authenticate(request.headers)?;
        if request.body.is_empty() {
            return Err(Rejection::EmptyBody);
        }
        let head: Option<Head> = serde_json::from_slice(request.body).ok();
        let status = head
            .as_ref()
            .and_then(|h| h.order_status.as_ref())
            .and_then(|s| s.get("code"))
            .and_then(Value::as_str);
        let key = match (&head, status) {
            (
                Some(Head {
                    id: Some(id),
                    updated_at: Some(at),
                    ..
                }),
                Some(status),
            ) => {
                format!("order:{id}:{status}@{}", at.trim())
            }
            _ => body_hash_key(request.body),
        };
        let mut v = VerifiedWebhook::new(key);
        v.topic = Some(if status.is_some() { "order" } else { "other" }.to_owned());
        v.shop = Some(self.shop.as_str().to_owned());
        v.occurred_at = head
            .as_ref()
            .and_then(|h| h.updated_at.as_deref())
            .and_then(convert::parse_time);
        Ok(v)
    }

    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        decode_body(&entry.body, &self.shop, &self.default_locale).map_err(Into::into)
    }

    fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }
}

/// The events of a Zid webhook body.
///
/// | body | requires | events |
/// |---|---|---|
/// | the Order schema (has `order_status`) | `id`, `store_id` = the configured store, `order_status.code`, `currency_code`, `order_total` | `order_created` (`new`) / `order_cancelled` / `order_updated`, then `shipment_updated` when the status is a milestone ([`crate::map_status`]) |
/// | any other JSON object (product, cart, subscription events) | — | `unrecognized` |
/// | anything else | — | a decode error |
pub fn decode_body(
    body: &[u8],
    shop: &ShopId,
    default_locale: &str,
) -> Result<Vec<PlatformEvent>, ZidError> {
    let what = "zid order";
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ZidError::decode("zid webhook", format!("not JSON: {e}")))?;
    let Some(obj) = v.as_object() else {
        return Err(ZidError::decode("zid webhook", "not a JSON object"));
    };
    if !obj.contains_key("order_status") {
        return Ok(vec![PlatformEvent::Unrecognized {
            topic: "zid:not-an-order".into(),
        }]);
    }
    let o: OrderPayload = serde_json::from_value(v).map_err(|e| ZidError::decode(what, e))?;
    let (order, shipment) = convert::order(&o, shop, default_locale, what)?;
    Ok(convert::order_events(order, shipment, &o.order_status.code))
}
