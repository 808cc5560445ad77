//! Salla webhooks: the three security strategies ([`Security`]), the
//! `{event, merchant, created_at, data}` envelope bound to the configured store, and the
//! events of each topic ([`decode_topic`]).

use aftercare::Error;
use aftercare::model::{Customer, Order, PlatformEvent, ShipmentStatus, ShopId};
use aftercare::store::InboxEntry;
use aftercare::webhook::{
    RawHeaders, Rejection, Scheme, Secret, VerifiedWebhook, Verifier, WebhookRequest,
    WebhookSource, body_hash_key,
};
use chrono::Utc;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::convert;
use crate::error::SallaError;
use crate::payload::{CustomerPayload, Envelope, OrderPayload, ShipmentPayload};

/// `X-Salla-Signature`: hex HMAC-SHA256 of the raw body, keyed with the webhook secret.
pub const SIGNATURE_HEADER: &str = "X-Salla-Signature";
/// `X-Salla-Security-Strategy`: `Signature` or `Token` (informational; the configured
/// strategy decides).
pub const STRATEGY_HEADER: &str = "X-Salla-Security-Strategy";
/// The `Authorization` header of the `Token` strategy.
pub const TOKEN_HEADER: &str = "Authorization";
/// The topic whose `data` carries the store's OAuth tokens.
pub const AUTHORIZE_EVENT: &str = "app.store.authorize";

/// How Salla authenticates its deliveries, as chosen for the app in the Partner Portal
/// (docs.salla.dev 421119, "Webhooks", security strategies).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Security {
    /// `X-Salla-Signature`: hex HMAC-SHA256 of the raw body with the webhook secret. The
    /// recommended strategy: it covers the body.
    Signature(Vec<Secret>),
    /// The `Authorization` header carries the token configured in the Portal, compared in
    /// constant time; accepted as is and with a `Bearer ` prefix (Salla's kit says "as is",
    /// its examples and much community code send `Bearer <token>`). It authenticates the
    /// sender only, not the body.
    Token(Vec<Secret>),
    /// Nothing is checked: anyone who knows the URL can post. Only when explicitly chosen
    /// ([`SallaWebhooksBuilder::unauthenticated`]), with a warning at start.
    None,
}

/// Builder of [`SallaWebhooks`].
#[derive(Clone, Debug)]
pub struct SallaWebhooksBuilder {
    merchant: String,
    security: Option<Security>,
    default_locale: String,
    max_body_bytes: Option<usize>,
}

impl SallaWebhooksBuilder {
    /// The `Signature` strategy with the webhook secret (add the old and new ones while
    /// rotating).
    pub fn signature(mut self, secret: Secret) -> Self {
        match &mut self.security {
            Some(Security::Signature(s)) => s.push(secret),
            _ => self.security = Some(Security::Signature(vec![secret])),
        }
        self
    }

    /// The `Token` strategy with the token configured in the Portal.
    pub fn token(mut self, token: Secret) -> Self {
        match &mut self.security {
            Some(Security::Token(s)) => s.push(token),
            _ => self.security = Some(Security::Token(vec![token])),
        }
        self
    }

    /// No authentication at all (the app's strategy is `none`). Anyone who finds the URL
    /// can post orders: use only behind another gate, and rely on the catch-up poller.
    pub fn unauthenticated(mut self) -> Self {
        self.security = Some(Security::None);
        self
    }

    /// The locale of orders whose customer names none (`ar` by default).
    pub fn default_locale(mut self, locale: impl Into<String>) -> Self {
        self.default_locale = locale.into();
        self
    }

    /// The body size limit (default 1 MiB).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = Some(limit);
        self
    }

    /// The source. A strategy must be chosen; an empty secret or token is refused.
    pub fn build(self) -> Result<SallaWebhooks, SallaError> {
        let merchant = self.merchant.trim().to_owned();
        if merchant.is_empty() {
            return Err(SallaError::Config(
                "no merchant: set the Salla store (merchant) id".into(),
            ));
        }
        let security = self.security.ok_or_else(|| {
            SallaError::Config(
                "no security strategy: set the webhook secret (Signature, recommended), the \
                 token (Token), or choose `none` explicitly"
                    .into(),
            )
        })?;
        match &security {
            Security::Signature(s) | Security::Token(s) if s.iter().any(Secret::is_empty) => {
                return Err(SallaError::Config(
                    "an empty webhook secret or token lets anyone post webhooks".into(),
                ));
            }
            Security::None => tracing::warn!(
                merchant,
                "Salla webhooks are accepted WITHOUT authentication (strategy `none`): anyone \
                 who knows the URL can post; prefer the Signature strategy"
            ),
            _ => {}
        }
        let mut verifier = match &security {
            Security::Signature(s) => {
                Verifier::with_secrets(Scheme::hmac_sha256_hex(SIGNATURE_HEADER), s.clone())
            }
            // The verifier's body limit applies to every strategy.
            _ => Verifier::new(Scheme::hmac_sha256_hex(SIGNATURE_HEADER), Secret::from("-")),
        };
        if let Some(limit) = self.max_body_bytes {
            verifier = verifier.max_body_bytes(limit);
        }
        Ok(SallaWebhooks {
            shop: ShopId::from(merchant.as_str()),
            security,
            verifier,
            default_locale: self.default_locale,
        })
    }
}

/// Salla as a [`WebhookSource`], bound to one store (merchant).
///
/// - **Verify** (on the raw bytes, before parsing): the configured [`Security`] strategy.
///   Then the envelope's `event` is the topic. Salla names the store only in the body's
///   `merchant`, so the binding is checked when decoding (a decode error, dead-lettered).
/// - **De-duplication**: Salla sends no delivery id; the key is the SHA-256 of the raw
///   body (`sha256:…`), which its retries (3, about 5 minutes apart) repeat byte for byte.
/// - **Decode**: see [`decode_topic`]. `app.store.authorize` carries tokens and is handled
///   by [`crate::SallaHydrator`] (decode alone refuses it, so tokens are never dropped
///   silently).
///
/// ```
/// use aftercare::webhook::{Secret, WebhookRequest, WebhookSource};
/// use aftercare_salla::SallaWebhooks;
/// let src = SallaWebhooks::builder("1234509876").signature(Secret::from("s3cret")).build().unwrap();
/// let body = br#"{"event":"app.installed","merchant":1234509876,"created_at":"2022-12-31 12:31:25","data":{}}"#;
/// let headers = src.sign_for_test(body);
/// let req = WebhookRequest::new(&headers, body, chrono::Utc::now());
/// let v = src.verify(&req).unwrap();
/// assert_eq!(v.topic.as_deref(), Some("app.installed"));
/// assert!(v.dedupe_key.starts_with("sha256:"));
/// ```
#[derive(Clone, Debug)]
pub struct SallaWebhooks {
    shop: ShopId,
    security: Security,
    verifier: Verifier,
    default_locale: String,
}

/// The envelope fields read at verify, leniently (a body that is no envelope is stored and
/// dead-lettered by decode with the reason).
#[derive(Deserialize)]
struct Head {
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl SallaWebhooks {
    /// A builder for the store `merchant` (Salla's numeric store id).
    pub fn builder(merchant: impl Into<String>) -> SallaWebhooksBuilder {
        SallaWebhooksBuilder {
            merchant: merchant.into(),
            security: None,
            default_locale: "ar".into(),
            max_body_bytes: None,
        }
    }

    /// The store this source is bound to.
    pub fn shop(&self) -> &ShopId {
        &self.shop
    }

    /// The locale of orders whose customer names none.
    pub fn default_locale(&self) -> &str {
        &self.default_locale
    }

    /// The headers Salla would send with `body` under the configured strategy; for tests and
    /// local tools.
    pub fn sign_for_test(&self, body: &[u8]) -> RawHeaders {
        let mut h = match &self.security {
            Security::Signature(_) => {
                let mut h = self.verifier.sign(body, Utc::now());
                h.insert(STRATEGY_HEADER, "Signature");
                h
            }
            Security::Token(t) => {
                let mut h = RawHeaders::default();
                let token = t.first().map(Secret::expose).unwrap_or_default();
                let mut value = b"Bearer ".to_vec();
                value.extend_from_slice(token);
                h.insert(TOKEN_HEADER, value);
                h.insert(STRATEGY_HEADER, "Token");
                h
            }
            Security::None => RawHeaders::default(),
        };
        h.insert("Content-Type", "application/json");
        h.insert("User-Agent", "Salla-Webhook");
        h
    }

    fn authenticate(&self, request: &WebhookRequest<'_>) -> Result<(), Rejection> {
        match &self.security {
            Security::Signature(_) => self
                .verifier
                .verify(request.headers, request.body, request.received_at)
                .map(|_| ()),
            Security::Token(tokens) => {
                let value = request
                    .headers
                    .get_str(TOKEN_HEADER)
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| Rejection::MissingHeader {
                        header: TOKEN_HEADER.into(),
                    })?;
                let given = match value.get(..7) {
                    Some(p) if p.eq_ignore_ascii_case("bearer ") => value[7..].trim(),
                    _ => value,
                };
                // Compared as digests: constant time whatever the lengths.
                let given = digest(given.as_bytes());
                let mut ok = subtle::Choice::from(0);
                for t in tokens {
                    ok |= digest(t.expose()).ct_eq(&given);
                }
                if !bool::from(ok) {
                    return Err(Rejection::Mismatch);
                }
                if request.body.is_empty() {
                    return Err(Rejection::EmptyBody);
                }
                Ok(())
            }
            Security::None => {
                if request.body.is_empty() {
                    return Err(Rejection::EmptyBody);
                }
                Ok(())
            }
        }
    }
}

impl WebhookSource for SallaWebhooks {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        if request.body.len() > self.verifier.body_limit() {
            return Err(Rejection::TooLarge {
                limit: self.verifier.body_limit(),
                size: request.body.len(),
            });
        }
        self.authenticate(request)?;
        let head: Option<Head> = serde_json::from_slice(request.body).ok();
        let mut v = VerifiedWebhook::new(body_hash_key(request.body));
        v.topic = head.as_ref().and_then(|h| h.event.clone());
        v.shop = Some(self.shop.as_str().to_owned());
        v.occurred_at = head
            .as_ref()
            .and_then(|h| h.created_at.as_deref())
            .and_then(|t| convert::parse_time(t, None));
        Ok(v)
    }

    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        let topic = entry.topic.as_deref().unwrap_or_default();
        decode_topic(topic, &entry.body, &self.shop, &self.default_locale).map_err(Into::into)
    }

    fn max_body_bytes(&self) -> usize {
        self.verifier.body_limit()
    }
}

/// Reads the envelope and checks it names `shop` and `topic`.
pub(crate) fn envelope(topic: &str, body: &[u8], shop: &ShopId) -> Result<Envelope, SallaError> {
    let what = format!("salla {topic}");
    let env: Envelope = serde_json::from_slice(body)
        .map_err(|e| SallaError::decode(&what, format!("not a Salla webhook envelope: {e}")))?;
    if env.event != topic {
        return Err(SallaError::decode(
            &what,
            format!("the envelope's event is `{}`", env.event),
        ));
    }
    if env.merchant != shop.as_str() {
        return Err(SallaError::decode(
            &what,
            format!(
                "the webhook names the merchant `{}`, not the configured `{shop}`",
                env.merchant
            ),
        ));
    }
    if !env.data.is_object() {
        return Err(SallaError::decode(&what, "`data` is not an object"));
    }
    Ok(env)
}

fn order_data(data: serde_json::Value, what: &str) -> Result<OrderPayload, SallaError> {
    let o: OrderPayload = serde_json::from_value(data).map_err(|e| SallaError::decode(what, e))?;
    if o.order_id.is_some() {
        return Err(SallaError::decode(
            what,
            "a shipment, not an order (`order_id`)",
        ));
    }
    Ok(o)
}

/// The events of a stored Salla webhook.
///
/// | topic | requires in `data` | events |
/// |---|---|---|
/// | `order.created` | `id`, `reference_id`, `status`, `amounts.total{amount, currency}`; no `order_id` | `order_created`, then `shipment_updated` per `shipments[]` |
/// | `order.updated`, `order.status.updated`, `order.payment.updated`, `order.refunded` | the same | `order_updated`, shipments |
/// | `order.cancelled` | the same | `order_cancelled`, shipments |
/// | `shipment.created` / `shipment.updated` / `shipment.cancelled` | `id`, `order_id`, `status`; no `reference_id` | `shipment_created` / `shipment_updated` (status `cancelled` for the last) |
/// | `customer.created`, `customer.updated` | `id` and a name, mobile or email; no `reference_id` or `order_id` | `customer_updated` |
/// | `app.uninstalled` | an object without `id` (documented as `{}`) | `app_uninstalled` |
/// | `app.store.authorize` | — | refused here: [`crate::SallaHydrator`] stores its tokens |
/// | anything else | — | `unrecognized` |
///
/// Every topic requires the envelope to name `shop` as its `merchant`.
pub fn decode_topic(
    topic: &str,
    body: &[u8],
    shop: &ShopId,
    default_locale: &str,
) -> Result<Vec<PlatformEvent>, SallaError> {
    let what = format!("salla {topic}");
    let order_event: Option<fn(Order) -> PlatformEvent> = match topic {
        "order.created" => Some(|order| PlatformEvent::OrderCreated { order }),
        "order.updated" | "order.status.updated" | "order.payment.updated" | "order.refunded" => {
            Some(|order| PlatformEvent::OrderUpdated { order })
        }
        "order.cancelled" => Some(|order| PlatformEvent::OrderCancelled { order }),
        _ => None,
    };
    if let Some(event) = order_event {
        let env = envelope(topic, body, shop)?;
        let o = order_data(env.data, &what)?;
        let (order, shipments) = convert::order(&o, shop, default_locale, &what)?;
        return Ok(convert::order_events(order, shipments, event));
    }
    match topic {
        "shipment.created" | "shipment.updated" | "shipment.cancelled" => {
            let env = envelope(topic, body, shop)?;
            let s: ShipmentPayload =
                serde_json::from_value(env.data).map_err(|e| SallaError::decode(&what, e))?;
            if s.reference_id.is_some() {
                return Err(SallaError::decode(&what, "an order, not a shipment"));
            }
            let mut shipment = convert::shipment(&s, None, shop, &what)?;
            Ok(vec![match topic {
                "shipment.created" => PlatformEvent::ShipmentCreated { shipment },
                "shipment.cancelled" => {
                    shipment.status = ShipmentStatus::Cancelled;
                    PlatformEvent::ShipmentUpdated { shipment }
                }
                _ => PlatformEvent::ShipmentUpdated { shipment },
            }])
        }
        "customer.created" | "customer.updated" => {
            let env = envelope(topic, body, shop)?;
            let c: CustomerPayload =
                serde_json::from_value(env.data).map_err(|e| SallaError::decode(&what, e))?;
            if c.reference_id.is_some() || c.order_id.is_some() {
                return Err(SallaError::decode(
                    &what,
                    "an order or shipment, not a customer",
                ));
            }
            let customer: Customer = convert::customer(&c, &what)?;
            if customer.first_name.is_none() && customer.phone.is_none() && customer.email.is_none()
            {
                return Err(SallaError::decode(
                    &what,
                    "a customer with no name, mobile or email",
                ));
            }
            Ok(vec![PlatformEvent::CustomerUpdated { customer }])
        }
        "app.uninstalled" => {
            // Documented as `"data": {}`: a resource (anything with an `id`) is another
            // event's body.
            let env = envelope(topic, body, shop)?;
            if env.data.get("id").is_some() {
                return Err(SallaError::decode(
                    &what,
                    "`data` is a resource, not an app event",
                ));
            }
            Ok(vec![PlatformEvent::AppUninstalled { shop: shop.clone() }])
        }
        AUTHORIZE_EVENT => Err(SallaError::decode(
            &what,
            "carries the store's tokens: register SallaHydrator for this source so they are stored",
        )),
        "" => Err(SallaError::decode(
            &what,
            "the body is not a Salla webhook envelope",
        )),
        other => {
            envelope(topic, body, shop)?;
            Ok(vec![PlatformEvent::Unrecognized {
                topic: other.to_owned(),
            }])
        }
    }
}
