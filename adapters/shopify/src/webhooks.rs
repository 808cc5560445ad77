//! Shopify webhooks: verification ([`WebhookSource::verify`]) and decoding into
//! [`PlatformEvent`]s ([`WebhookSource::decode`]).

use aftercare::Error;
use aftercare::model::PlatformEvent;
use aftercare::store::InboxEntry;
use aftercare::webhook::{
    RawHeaders, Rejection, Scheme, Secret, VerifiedWebhook, Verifier, WebhookRequest, WebhookSource,
};
use chrono::{DateTime, Utc};

use crate::fast::Fast;
use crate::payload::{
    CustomerPayload, FulfillmentEventPayload, FulfillmentPayload, OrderPayload, PrivacyPayload,
};

/// Header names of classic webhooks and of Shopify "Events" deliveries (no `X-` prefix).
struct Names {
    hmac: &'static str,
    topic: &'static str,
    shop: &'static str,
    api_version: &'static str,
    webhook_id: &'static str,
    event_id: &'static str,
    triggered_at: &'static str,
    name: &'static str,
}

const CLASSIC: Names = Names {
    hmac: "X-Shopify-Hmac-Sha256",
    topic: "X-Shopify-Topic",
    shop: "X-Shopify-Shop-Domain",
    api_version: "X-Shopify-API-Version",
    webhook_id: "X-Shopify-Webhook-Id",
    event_id: "X-Shopify-Event-Id",
    triggered_at: "X-Shopify-Triggered-At",
    name: "X-Shopify-Name",
};

const EVENTS: Names = Names {
    hmac: "shopify-hmac-sha256",
    topic: "shopify-topic",
    shop: "shopify-shop-domain",
    api_version: "shopify-api-version",
    webhook_id: "shopify-webhook-id",
    event_id: "shopify-event-id",
    triggered_at: "shopify-triggered-at",
    name: "shopify-name",
};

/// Which header identifies a webhook across retries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum DedupeKey {
    /// `X-Shopify-Event-Id` when present, else `X-Shopify-Webhook-Id` (the default).
    ///
    /// Shopify's docs disagree: "Ignore duplicate webhooks" says to compare
    /// `X-Shopify-Event-Id`, "Verify webhook deliveries" says `X-Shopify-Webhook-Id`. The
    /// event id names the event (the same for every retry and subscription), so it is used
    /// when sent, as `/work/shared/facts/platforms.md` §3.1 recommends.
    #[default]
    EventThenWebhookId,
    /// Always `X-Shopify-Webhook-Id` (one per delivery).
    WebhookId,
}

/// Shopify as a [`WebhookSource`].
///
/// Verification follows Shopify's own library (`lib/webhooks/validate.ts`): the base64
/// HMAC-SHA256 of the raw body in `X-Shopify-Hmac-Sha256`, keyed with the app's client
/// secret, checked in constant time before anything is parsed; then the required headers
/// `X-Shopify-Topic`, `X-Shopify-Shop-Domain`, `X-Shopify-API-Version` and
/// `X-Shopify-Webhook-Id` (checked after the HMAC, like the library). Shopify "Events"
/// deliveries with lowercase `shopify-*` headers are accepted too. Several secrets can be
/// active while a rotated secret takes effect (up to an hour, per Shopify).
///
/// ```
/// use aftercare::webhook::{WebhookRequest, WebhookSource, Secret, RawHeaders};
/// use aftercare_shopify::ShopifyWebhooks;
/// let src = ShopifyWebhooks::new(Secret::from("test_secret_key"));
/// let body = br#"{"foo": "bar"}"#;
/// let headers = RawHeaders::from_pairs([
///     ("X-Shopify-Hmac-Sha256", "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g="),
///     ("X-Shopify-Topic", "products/create"),
///     ("X-Shopify-Shop-Domain", "shop1.myshopify.io"),
///     ("X-Shopify-API-Version", "2023-01"),
///     ("X-Shopify-Webhook-Id", "123456789"),
/// ]);
/// let req = WebhookRequest { headers: &headers, body, received_at: chrono::Utc::now() };
/// let v = src.verify(&req).unwrap();
/// assert_eq!(v.dedupe_key, "123456789");
/// assert_eq!(v.topic.as_deref(), Some("products/create"));
/// ```
#[derive(Clone, Debug)]
pub struct ShopifyWebhooks {
    classic: Verifier,
    events: Verifier,
    dedupe: DedupeKey,
}

impl ShopifyWebhooks {
    /// A source verifying with the app's client secret.
    pub fn new(client_secret: Secret) -> Self {
        Self::with_secrets([client_secret])
    }

    /// A source accepting several secrets, the current one first (during a rotation).
    pub fn with_secrets(secrets: impl IntoIterator<Item = Secret>) -> Self {
        let secrets: Vec<Secret> = secrets.into_iter().collect();
        Self {
            classic: Verifier::with_secrets(
                Scheme::hmac_sha256_base64(CLASSIC.hmac),
                secrets.iter().cloned(),
            ),
            events: Verifier::with_secrets(Scheme::hmac_sha256_base64(EVENTS.hmac), secrets),
            dedupe: DedupeKey::default(),
        }
    }

    /// Chooses the de-duplication key.
    pub fn dedupe_key(mut self, key: DedupeKey) -> Self {
        self.dedupe = key;
        self
    }

    /// Sets the body size limit (default 1 MiB).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.classic = self.classic.max_body_bytes(limit);
        self.events = self.events.max_body_bytes(limit);
        self
    }

    /// The verifier of classic webhooks, e.g. to sign test requests.
    pub fn verifier(&self) -> &Verifier {
        &self.classic
    }

    /// Signs `body` like Shopify would and returns every header of a classic delivery, for
    /// tests and local tools.
    pub fn sign_for_test(
        &self,
        topic: &str,
        shop: &str,
        webhook_id: &str,
        body: &[u8],
    ) -> RawHeaders {
        let mut h = self.classic.sign(body, Utc::now());
        h.insert(CLASSIC.topic, topic);
        h.insert(CLASSIC.shop, shop);
        h.insert(CLASSIC.api_version, crate::DEFAULT_API_VERSION);
        h.insert(CLASSIC.webhook_id, webhook_id);
        h
    }
}

fn header<'h>(headers: &'h RawHeaders, name: &str) -> Option<&'h str> {
    headers
        .get_str(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn required<'h>(headers: &'h RawHeaders, name: &str) -> Result<&'h str, Rejection> {
    header(headers, name).ok_or_else(|| Rejection::MissingHeader {
        header: name.to_owned(),
    })
}

impl WebhookSource for ShopifyWebhooks {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        // Like `detectWebhookType` in Shopify's library: a `shopify-hmac-sha256` header (no
        // `X-` prefix) marks an Events delivery.
        let is_events = request.headers.get(EVENTS.hmac).is_some()
            && request.headers.get(CLASSIC.hmac).is_none();
        let (names, verifier) = if is_events {
            (&EVENTS, &self.events)
        } else {
            (&CLASSIC, &self.classic)
        };
        verifier.verify(request.headers, request.body, request.received_at)?;
        // Required headers, checked after the HMAC like Shopify's library.
        let topic = required(request.headers, names.topic)?;
        let shop = required(request.headers, names.shop)?;
        let api_version = required(request.headers, names.api_version)?;
        let webhook_id = required(request.headers, names.webhook_id)?;
        // Events deliveries always carry `shopify-event-id` (required by Shopify's library);
        // classic webhooks may not.
        let event_id = if is_events {
            Some(required(request.headers, names.event_id)?)
        } else {
            header(request.headers, names.event_id)
        };
        let key = match (self.dedupe, event_id) {
            (DedupeKey::EventThenWebhookId, Some(e)) => e,
            _ => webhook_id,
        };
        let mut v = VerifiedWebhook::new(key);
        v.topic = Some(topic.to_owned());
        v.shop = Some(shop.to_owned());
        v.occurred_at = header(request.headers, names.triggered_at)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        v.meta.insert("api_version".into(), api_version.to_owned());
        v.meta.insert("webhook_id".into(), webhook_id.to_owned());
        if let Some(e) = event_id {
            v.meta.insert("event_id".into(), e.to_owned());
        }
        if let Some(n) = header(request.headers, names.name) {
            v.meta.insert("name".into(), n.to_owned());
        }
        Ok(v)
    }

    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        let topic = entry.topic.as_deref().unwrap_or("");
        decode_topic(topic, entry.shop.as_deref(), &entry.body)
    }

    fn max_body_bytes(&self) -> usize {
        self.classic.body_limit()
    }
}

fn parse<'a, T: serde::Deserialize<'a>>(topic: &str, body: &'a [u8]) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| Error::decode(format!("shopify {topic}"), e))
}

/// [`parse`] by the quick path of [`crate::fast`] (same results).
fn parse_fast<'a, T>(topic: &str, body: &'a [u8]) -> Result<T, Error>
where
    T: serde::Deserialize<'a>,
    Fast<T>: serde::Deserialize<'a>,
{
    crate::fast::parse_fast(body).map_err(|e| Error::decode(format!("shopify {topic}"), e))
}

/// Decodes a verified webhook body of `topic` from `shop` into events. An unknown topic is
/// [`PlatformEvent::Unrecognized`]; a malformed body is [`Error::Decode`].
///
/// ```
/// let events = aftercare_shopify::decode_topic("products/create", Some("demo.myshopify.com"), b"{}").unwrap();
/// assert_eq!(events[0].kind(), "unrecognized");
/// ```
pub fn decode_topic(
    topic: &str,
    shop: Option<&str>,
    body: &[u8],
) -> Result<Vec<PlatformEvent>, Error> {
    let order = |body: &[u8]| -> Result<aftercare::model::Order, Error> {
        let p: OrderPayload<'_> = parse_fast(topic, body)?;
        Ok(p.into_order(shop))
    };
    let privacy_shop = |p: &PrivacyPayload| -> aftercare::model::ShopId {
        shop.map(str::to_owned)
            .or_else(|| p.shop_domain.clone())
            .or_else(|| p.shop_id.clone())
            .unwrap_or_default()
            .into()
    };
    Ok(match topic {
        "orders/create" => vec![PlatformEvent::OrderCreated {
            order: order(body)?,
        }],
        "orders/paid" => vec![PlatformEvent::OrderPaid {
            order: order(body)?,
        }],
        // (`orders/edited` carries an `order_edit` object, not an order: left unrecognized.)
        "orders/updated" => {
            vec![PlatformEvent::OrderUpdated {
                order: order(body)?,
            }]
        }
        "orders/cancelled" => vec![PlatformEvent::OrderCancelled {
            order: order(body)?,
        }],
        "orders/fulfilled" | "orders/partially_fulfilled" => {
            let mut p: OrderPayload<'_> = parse_fast(topic, body)?;
            let fulfillments = std::mem::take(&mut p.fulfillments);
            let o = p.into_order(shop);
            let mut out = Vec::with_capacity(1 + fulfillments.len());
            out.extend(
                fulfillments
                    .into_iter()
                    .map(|f| PlatformEvent::ShipmentUpdated {
                        shipment: f.into_shipment(shop, Some(o.id.as_str())),
                    }),
            );
            // The order comes first; its shipments were built before it moved, borrowing its id.
            out.insert(0, PlatformEvent::OrderUpdated { order: o });
            out
        }
        "fulfillments/create" => {
            let f: FulfillmentPayload<'_> = parse_fast(topic, body)?;
            vec![PlatformEvent::ShipmentCreated {
                shipment: f.into_shipment(shop, None),
            }]
        }
        "fulfillments/update" => {
            let f: FulfillmentPayload<'_> = parse_fast(topic, body)?;
            vec![PlatformEvent::ShipmentUpdated {
                shipment: f.into_shipment(shop, None),
            }]
        }
        "fulfillment_events/create" => {
            let e: FulfillmentEventPayload<'_> = parse(topic, body)?;
            vec![PlatformEvent::ShipmentUpdated {
                shipment: e.to_shipment(shop),
            }]
        }
        "customers/create" | "customers/update" => {
            let c: CustomerPayload<'_> = parse_fast(topic, body)?;
            vec![PlatformEvent::CustomerUpdated {
                customer: c.to_customer(),
            }]
        }
        "app/uninstalled" => {
            // The body is read only when the shop header is missing.
            let from_body = || {
                serde_json::from_slice::<serde_json::Value>(body)
                    .ok()
                    .and_then(|v| {
                        v.get("myshopify_domain")
                            .or_else(|| v.get("domain"))
                            .and_then(|d| d.as_str().map(str::to_owned))
                    })
            };
            let s = shop
                .map(str::to_owned)
                .or_else(from_body)
                .unwrap_or_default();
            vec![PlatformEvent::AppUninstalled { shop: s.into() }]
        }
        "customers/data_request" => {
            let p: PrivacyPayload = parse(topic, body)?;
            let c = p.customer.clone().unwrap_or_default();
            vec![PlatformEvent::CustomerDataRequested {
                shop: privacy_shop(&p),
                customer_id: c.id.unwrap_or_default().into(),
                email: c.email,
                orders: p.orders_requested.into_iter().map(Into::into).collect(),
            }]
        }
        "customers/redact" => {
            let p: PrivacyPayload = parse(topic, body)?;
            let c = p.customer.clone().unwrap_or_default();
            vec![PlatformEvent::CustomerRedactRequested {
                shop: privacy_shop(&p),
                customer_id: c.id.unwrap_or_default().into(),
                email: c.email,
                phone: c.phone,
                orders: p.orders_to_redact.into_iter().map(Into::into).collect(),
            }]
        }
        "shop/redact" => {
            let p: PrivacyPayload = parse(topic, body)?;
            vec![PlatformEvent::ShopRedactRequested {
                shop: privacy_shop(&p),
            }]
        }
        other => vec![PlatformEvent::Unrecognized {
            topic: other.to_owned(),
        }],
    })
}
