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
/// let req = WebhookRequest::new(&headers, body, chrono::Utc::now());
/// let v = src.verify(&req).unwrap();
/// assert_eq!(v.dedupe_key, "123456789");
/// assert_eq!(v.topic.as_deref(), Some("products/create"));
/// ```
#[derive(Clone, Debug)]
pub struct ShopifyWebhooks {
    classic: Verifier,
    events: Verifier,
    dedupe: DedupeKey,
    /// The shops served (lower-cased `*.myshopify.com` domains); empty: any shop.
    shops: Vec<String>,
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
            shops: Vec::new(),
        }
    }

    /// Binds the source to the shop it serves (its `*.myshopify.com` domain). A webhook
    /// whose `X-Shopify-Shop-Domain` names another shop is refused before it is stored
    /// ([`Rejection::WrongAccount`], 403), and one whose body names another shop than its
    /// header is dead-lettered when decoded.
    ///
    /// Without a binding any shop signed with the secret is accepted: an app installed on
    /// several shops shares one secret, so a multi-shop deployment must bind every installed
    /// shop ([`ShopifyWebhooks::for_shops`]) or check the shop itself.
    pub fn for_shop(self, shop: impl Into<String>) -> Self {
        self.for_shops([shop])
    }

    /// Binds the source to several shops (see [`ShopifyWebhooks::for_shop`]).
    pub fn for_shops(mut self, shops: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.shops.extend(
            shops
                .into_iter()
                .map(|s| s.into().trim().to_ascii_lowercase()),
        );
        self
    }

    /// Whether the source serves `shop` (always, when it is bound to none).
    pub fn serves(&self, shop: &str) -> bool {
        self.shops.is_empty()
            || self
                .shops
                .iter()
                .any(|s| s.eq_ignore_ascii_case(shop.trim()))
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
        if !self.serves(shop) {
            return Err(Rejection::WrongAccount {
                what: "shop",
                claimed: shop.to_owned(),
            });
        }
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
        // Entries are refused at `verify` for another shop; one stored before the binding
        // (or by another path) is checked again here.
        if let Some(shop) = entry.shop.as_deref()
            && !self.serves(shop)
        {
            return Err(Error::decode(
                format!("shopify {topic}"),
                format_args!(
                    "the webhook is for the shop `{shop}`, which this source does not serve"
                ),
            ));
        }
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

/// A body that is not what its topic says it is.
fn wrong_shape(topic: &str, why: impl std::fmt::Display) -> Error {
    Error::decode(
        format!("shopify {topic}"),
        format_args!(
            "the body is not a `{topic}` payload: {why}; it was dead-lettered unread (a signed body replayed under another topic lands here)"
        ),
    )
}

/// Checks the body's own statement of its kind: `admin_graphql_api_id` must be
/// `gid://shopify/{kind}/{id}`. Every REST-shaped resource payload Shopify sends carries it
/// (the webhook reference's example payloads), so a body of another resource replayed under
/// this topic (the HMAC covers the body, not `X-Shopify-Topic`) is refused here.
fn check_gid(topic: &str, kind: &str, id: &str, stated: Option<&str>) -> Result<(), Error> {
    let Some(stated) = stated else {
        return Err(wrong_shape(
            topic,
            format_args!("it has no `admin_graphql_api_id` (expected `gid://shopify/{kind}/{id}`)"),
        ));
    };
    let ok = stated
        .strip_prefix("gid://shopify/")
        .and_then(|rest| rest.strip_prefix(kind))
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|n| n == id);
    if ok {
        Ok(())
    } else {
        Err(wrong_shape(
            topic,
            format_args!(
                "its `admin_graphql_api_id` is `{stated}`, not `gid://shopify/{kind}/{id}`"
            ),
        ))
    }
}

/// Requires a field the topic's documented payload always has.
fn require<T>(topic: &str, field: &str, value: Option<T>) -> Result<T, Error> {
    value.ok_or_else(|| wrong_shape(topic, format_args!("the field `{field}` is missing")))
}

/// The shop a body names must be the shop the (unsigned) `X-Shopify-Shop-Domain` header
/// names, when there is one.
fn check_body_shop(topic: &str, header: Option<&str>, body: &str) -> Result<(), Error> {
    match header {
        Some(h) if !h.trim().eq_ignore_ascii_case(body.trim()) => Err(Error::decode(
            format!("shopify {topic}"),
            format_args!(
                "the body names the shop `{body}` but the `X-Shopify-Shop-Domain` header says `{h}`; the header is not signed, so the webhook was dead-lettered unread"
            ),
        )),
        _ => Ok(()),
    }
}

/// A privacy payload with the fields every compliance webhook has (`shop_id`,
/// `shop_domain`), its shop checked against the header; returns the shop.
fn privacy_payload(
    topic: &str,
    header_shop: Option<&str>,
    body: &[u8],
) -> Result<(PrivacyPayload, aftercare::model::ShopId), Error> {
    let p: PrivacyPayload = parse(topic, body)?;
    require(topic, "shop_id", p.shop_id.as_deref())?;
    let domain = require(
        topic,
        "shop_domain",
        p.shop_domain.as_deref().filter(|d| !d.trim().is_empty()),
    )?;
    check_body_shop(topic, header_shop, domain)?;
    let shop = domain.trim().to_owned().into();
    Ok((p, shop))
}

/// Decodes a verified webhook body of `topic` from `shop` into events. An unknown topic is
/// [`PlatformEvent::Unrecognized`]; a malformed body is [`Error::Decode`], and so is a body
/// that is not the payload its topic documents (wrong resource, a required field missing)
/// or that names another shop than `shop` (the `X-Shopify-Shop-Domain` header): headers are
/// not covered by Shopify's HMAC, so the topic and the shop are claims the body must bear
/// out. What each topic requires:
///
/// | topic | required |
/// |---|---|
/// | `orders/*` | `id`, `order_number`, `admin_graphql_api_id` = `gid://shopify/Order/{id}` |
/// | `fulfillments/*` | `id`, `order_id`, `status`, `admin_graphql_api_id` = `…/Fulfillment/{id}` |
/// | `fulfillment_events/create` | `id`, `fulfillment_id`, `order_id`, `status`, `…/FulfillmentEvent/{id}` |
/// | `customers/create`, `customers/update` | `id`, `admin_graphql_api_id` = `…/Customer/{id}` |
/// | `app/uninstalled` | `id`, `myshopify_domain` (the shop) |
/// | `customers/redact` | `shop_id`, `shop_domain`, `customer.id`, `orders_to_redact` |
/// | `customers/data_request` | `shop_id`, `shop_domain`, `customer.id`, `orders_requested` |
/// | `shop/redact` | `shop_id`, `shop_domain`, and no `customer`, `orders_to_redact`, `orders_requested` or `data_request` |
///
/// ```
/// let events = aftercare_shopify::decode_topic("products/create", Some("demo.myshopify.com"), b"{}").unwrap();
/// assert_eq!(events[0].kind(), "unrecognized");
/// // A fulfillment's body replayed as `shop/redact` erases nothing: it is refused.
/// let fulfillment = br#"{"id":1,"order_id":2,"status":"success","admin_graphql_api_id":"gid://shopify/Fulfillment/1"}"#;
/// assert!(aftercare_shopify::decode_topic("shop/redact", Some("demo.myshopify.com"), fulfillment).is_err());
/// ```
pub fn decode_topic(
    topic: &str,
    shop: Option<&str>,
    body: &[u8],
) -> Result<Vec<PlatformEvent>, Error> {
    let order = |body: &[u8]| -> Result<aftercare::model::Order, Error> {
        let p: OrderPayload<'_> = parse_fast(topic, body)?;
        check_order(topic, &p)?;
        Ok(p.into_order(shop))
    };
    let fulfillment = |body| -> Result<aftercare::model::Shipment, Error> {
        let f: FulfillmentPayload<'_> = parse_fast(topic, body)?;
        check_gid(
            topic,
            "Fulfillment",
            &f.id,
            f.admin_graphql_api_id.as_deref(),
        )?;
        require(topic, "order_id", f.order_id.as_deref())?;
        require(topic, "status", f.status.as_deref())?;
        Ok(f.into_shipment(shop, None))
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
            check_order(topic, &p)?;
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
        "fulfillments/create" => vec![PlatformEvent::ShipmentCreated {
            shipment: fulfillment(body)?,
        }],
        "fulfillments/update" => vec![PlatformEvent::ShipmentUpdated {
            shipment: fulfillment(body)?,
        }],
        "fulfillment_events/create" => {
            let e: FulfillmentEventPayload<'_> = parse(topic, body)?;
            let id = require(topic, "id", e.id.as_deref())?;
            check_gid(
                topic,
                "FulfillmentEvent",
                id,
                e.admin_graphql_api_id.as_deref(),
            )?;
            require(topic, "status", e.status.as_deref())?;
            vec![PlatformEvent::ShipmentUpdated {
                shipment: e.to_shipment(shop),
            }]
        }
        "customers/create" | "customers/update" => {
            let c: CustomerPayload<'_> = parse_fast(topic, body)?;
            check_gid(topic, "Customer", &c.id, c.admin_graphql_api_id.as_deref())?;
            vec![PlatformEvent::CustomerUpdated {
                customer: c.to_customer(),
            }]
        }
        "app/uninstalled" => {
            // The body is the Shop resource (`id`, `myshopify_domain`...).
            #[derive(serde::Deserialize)]
            struct ShopPayload {
                #[serde(default, deserialize_with = "crate::convert::opt_id_string")]
                id: Option<String>,
                #[serde(default)]
                myshopify_domain: Option<String>,
            }
            let p: ShopPayload = parse(topic, body)?;
            require(topic, "id", p.id.as_deref())?;
            let domain = require(
                topic,
                "myshopify_domain",
                p.myshopify_domain
                    .as_deref()
                    .filter(|d| !d.trim().is_empty()),
            )?;
            check_body_shop(topic, shop, domain)?;
            vec![PlatformEvent::AppUninstalled {
                shop: domain.trim().to_owned().into(),
            }]
        }
        "customers/data_request" => {
            let (p, shop) = privacy_payload(topic, shop, body)?;
            let c = require(topic, "customer", p.customer)?;
            let id = require(topic, "customer.id", c.id)?;
            let orders = require(topic, "orders_requested", p.orders_requested)?;
            vec![PlatformEvent::CustomerDataRequested {
                shop,
                customer_id: id.into(),
                email: c.email,
                orders: orders.into_iter().map(Into::into).collect(),
            }]
        }
        "customers/redact" => {
            let (p, shop) = privacy_payload(topic, shop, body)?;
            let c = require(topic, "customer", p.customer)?;
            let id = require(topic, "customer.id", c.id)?;
            let orders = require(topic, "orders_to_redact", p.orders_to_redact)?;
            vec![PlatformEvent::CustomerRedactRequested {
                shop,
                customer_id: id.into(),
                email: c.email,
                phone: c.phone,
                orders: orders.into_iter().map(Into::into).collect(),
            }]
        }
        "shop/redact" => {
            let (p, shop) = privacy_payload(topic, shop, body)?;
            // The erasure of a whole shop: a customer's privacy payload (which has
            // `shop_id` and `shop_domain` too) must never pass for one.
            if p.customer.is_some()
                || p.orders_to_redact.is_some()
                || p.orders_requested.is_some()
                || p.data_request.is_some()
            {
                return Err(wrong_shape(
                    topic,
                    "it names a customer or orders, as `customers/redact` and `customers/data_request` do",
                ));
            }
            vec![PlatformEvent::ShopRedactRequested { shop }]
        }
        other => vec![PlatformEvent::Unrecognized {
            topic: other.to_owned(),
        }],
    })
}

/// What every `orders/*` payload has: `order_number`, and `admin_graphql_api_id` naming
/// an order with the body's `id`.
fn check_order(topic: &str, p: &OrderPayload<'_>) -> Result<(), Error> {
    require(topic, "order_number", p.order_number)?;
    check_gid(topic, "Order", &p.id, p.admin_graphql_api_id.as_deref())
}
