//! WooCommerce webhooks: verification ([`WebhookSource::verify`]), the unsigned ping
//! ([`WebhookSource::preflight`]) and decoding into [`PlatformEvent`]s
//! ([`WebhookSource::decode`]).

use aftercare::Error;
use aftercare::model::{Order, PlatformEvent, ShopId};
use aftercare::store::InboxEntry;
use aftercare::webhook::{
    RawHeaders, Rejection, Scheme, Secret, VerifiedWebhook, Verifier, WebhookRequest,
    WebhookSource, body_hash_key,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::convert::{self, Mapping};
use crate::entities::wp_specialchars_decode;
use crate::error::WooError;
use crate::payload::{ActionPayload, CustomerPayload, DeletedPayload, OrderPayload};
use crate::site::Site;

/// `X-WC-Webhook-Signature`: base64 HMAC-SHA256 of the raw body.
pub const SIGNATURE_HEADER: &str = "X-WC-Webhook-Signature";
/// `X-WC-Webhook-Topic` (`order.updated`).
pub const TOPIC_HEADER: &str = "X-WC-Webhook-Topic";
/// `X-WC-Webhook-Source`: the site's `home_url('/')`.
pub const SOURCE_HEADER: &str = "X-WC-Webhook-Source";
/// `X-WC-Webhook-Resource` (`order`).
pub const RESOURCE_HEADER: &str = "X-WC-Webhook-Resource";
/// `X-WC-Webhook-Event` (`updated`).
pub const EVENT_HEADER: &str = "X-WC-Webhook-Event";
/// `X-WC-Webhook-ID`: the webhook's post id.
pub const WEBHOOK_ID_HEADER: &str = "X-WC-Webhook-ID";
/// `X-WC-Webhook-Delivery-ID`: `wp_hash( webhook id . time() )`, one second's granularity.
pub const DELIVERY_ID_HEADER: &str = "X-WC-Webhook-Delivery-ID";

/// Hooks whose first argument is an order id: an `action.<hook>` webhook of one of them
/// names an order, which [`crate::WooHydrator`] reads from the API.
pub fn is_order_hook(hook: &str) -> bool {
    hook.starts_with("woocommerce_order_status_")
        || matches!(
            hook,
            "woocommerce_payment_complete"
                | "woocommerce_new_order"
                | "woocommerce_update_order"
                | "woocommerce_checkout_order_processed"
                | "woocommerce_order_refunded"
                | "woocommerce_thankyou"
        )
}

/// Builder of [`WooWebhooks`].
#[derive(Clone, Debug)]
pub struct WooWebhooksBuilder {
    site: String,
    secrets: Vec<Secret>,
    mapping: Mapping,
    max_body_bytes: Option<usize>,
    allow_empty_secret: bool,
}

impl WooWebhooksBuilder {
    /// Adds a webhook's secret (its `secret` field, as typed in *WooCommerce → Settings →
    /// Advanced → Webhooks* or sent to the REST API; not the REST API's consumer secret).
    /// Each WooCommerce webhook has its own; add every one, and the old and new ones during
    /// a rotation.
    pub fn secret(mut self, secret: Secret) -> Self {
        self.secrets.push(secret);
        self
    }

    /// Adds several secrets.
    pub fn secrets(mut self, secrets: impl IntoIterator<Item = Secret>) -> Self {
        self.secrets.extend(secrets);
        self
    }

    /// How plugins' meta data is read.
    pub fn mapping(mut self, mapping: Mapping) -> Self {
        self.mapping = mapping;
        self
    }

    /// The body size limit (default 1 MiB).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = Some(limit);
        self
    }

    /// Accepts an empty secret, which anyone can sign with. Refused by default: a webhook
    /// saved in WooCommerce always has a secret. Only WooCommerce's own test vector (V2 in
    /// the facts: key `""`) needs this.
    pub fn allow_empty_secret(mut self) -> Self {
        self.allow_empty_secret = true;
        self
    }

    /// The source. Each secret is used as WooCommerce uses it, through
    /// `wp_specialchars_decode( $secret, ENT_QUOTES )`, and, when that changes it, also as
    /// given (a secret typed with a literal `&amp;`).
    pub fn build(self) -> Result<WooWebhooks, WooError> {
        let site = Site::parse(&self.site)?;
        if self.secrets.is_empty() {
            return Err(WooError::Config(
                "no webhook secret: add each WooCommerce webhook's secret".into(),
            ));
        }
        let mut keys: Vec<Secret> = Vec::with_capacity(self.secrets.len() * 2);
        for s in &self.secrets {
            if s.is_empty() && !self.allow_empty_secret {
                return Err(WooError::Config(
                    "an empty webhook secret lets anyone sign webhooks; copy the webhook's secret from WooCommerce".into(),
                ));
            }
            let raw = String::from_utf8_lossy(s.expose());
            let decoded = wp_specialchars_decode(&raw);
            let decoded = Secret::from(decoded);
            if &decoded != s {
                keys.push(decoded);
                keys.push(s.clone());
            } else {
                keys.push(decoded);
            }
        }
        let mut verifier =
            Verifier::with_secrets(Scheme::hmac_sha256_base64(SIGNATURE_HEADER), keys);
        if let Some(limit) = self.max_body_bytes {
            verifier = verifier.max_body_bytes(limit);
        }
        Ok(WooWebhooks {
            verifier,
            site,
            mapping: self.mapping,
        })
    }
}

/// WooCommerce as a [`WebhookSource`], bound to one site.
///
/// - **Verify** (on the request path, before anything is parsed): `X-WC-Webhook-Signature`
///   is the base64 HMAC-SHA256 of the raw body keyed with the webhook's secret after
///   `wp_specialchars_decode` (`WC_Webhook::generate_signature`), checked in constant time
///   against every configured secret (SHA-256, WooCommerce's default; a site that changes
///   it with the `woocommerce_webhook_hash_algorithm` filter is refused); then
///   `X-WC-Webhook-Topic` is required and
///   `X-WC-Webhook-Source` must name the configured site, compared as a URL
///   ([`Rejection::WrongAccount`], 403, otherwise).
/// - **The ping** WooCommerce POSTs when a webhook is saved (`webhook_id=<id>`, no signature
///   headers) is answered `200` by [`WebhookSource::preflight`] and not stored.
/// - **De-duplication key**: `{topic}:{id}@{date_modified_gmt}` for resources, read from
///   the verified body. WooCommerce's `X-WC-Webhook-Delivery-ID` is `wp_hash( webhook id .
///   time() )`: two deliveries in one second share it, and it identifies nothing across
///   sites or webhooks; a resource's id and modification time name the state delivered,
///   so the same state delivered twice (two webhooks on one topic) is stored once, and a
///   new state never collides with an old one. Bodies without both (`*.deleted` is only
///   `{"id":…}`, `action.*` is `{action, arg}`) are keyed by webhook id, delivery id and
///   the body's hash.
/// - **Decode** (from the inbox; see [`decode_topic`] for what each topic requires).
///
/// ```
/// use aftercare::webhook::{Secret, WebhookRequest, WebhookSource};
/// use aftercare_woocommerce::WooWebhooks;
/// let src = WooWebhooks::new("https://shop.example/", Secret::from("s3cret")).unwrap();
/// let body = br#"{"id":727,"number":"727","order_key":"wc_order_58d2d042d1d","status":"processing","currency":"USD","date_modified_gmt":"2017-03-22T19:28:08","total":"29.35"}"#;
/// let headers = src.sign_for_test("order.updated", body);
/// let req = WebhookRequest::new(&headers, body, chrono::Utc::now());
/// let v = src.verify(&req).unwrap();
/// assert_eq!(v.dedupe_key, "order.updated:727@2017-03-22T19:28:08");
/// ```
#[derive(Clone, Debug)]
pub struct WooWebhooks {
    verifier: Verifier,
    site: Site,
    mapping: Mapping,
}

/// The top-level fields the de-duplication key needs.
#[derive(Deserialize)]
struct KeyFields {
    #[serde(default, deserialize_with = "crate::payload::opt_id")]
    id: Option<String>,
    #[serde(default)]
    date_modified_gmt: Option<String>,
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

/// Whether `body` is WooCommerce's ping: `webhook_id=<digits>` and nothing else.
fn is_ping(body: &[u8]) -> bool {
    let body = body.trim_ascii();
    body.strip_prefix(b"webhook_id=")
        .is_some_and(|id| !id.is_empty() && id.len() <= 20 && id.iter().all(u8::is_ascii_digit))
}

impl WooWebhooks {
    /// A builder for the site `site` (its home URL).
    pub fn builder(site: impl Into<String>) -> WooWebhooksBuilder {
        WooWebhooksBuilder {
            site: site.into(),
            secrets: Vec::new(),
            mapping: Mapping::default(),
            max_body_bytes: None,
            allow_empty_secret: false,
        }
    }

    /// A source for `site` with one webhook secret.
    pub fn new(site: &str, secret: Secret) -> Result<Self, WooError> {
        Self::builder(site).secret(secret).build()
    }

    /// The site this source serves.
    pub fn site(&self) -> &Site {
        &self.site
    }

    /// How plugins' meta data is read.
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    /// The verifier (e.g. to sign test requests).
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Signs `body` as WooCommerce would deliver it under `topic` from this source's site,
    /// with every header of a real delivery; for tests and local tools.
    pub fn sign_for_test(&self, topic: &str, body: &[u8]) -> RawHeaders {
        self.sign_as(topic, self.site.as_str(), "42", body)
    }

    /// Signs `body` as webhook `webhook_id` of the site `source` delivering `topic`.
    pub fn sign_as(&self, topic: &str, source: &str, webhook_id: &str, body: &[u8]) -> RawHeaders {
        let mut h = self.verifier.sign(body, Utc::now());
        let (resource, event) = topic.split_once('.').unwrap_or((topic, ""));
        h.insert(TOPIC_HEADER, topic);
        h.insert(SOURCE_HEADER, source);
        h.insert(RESOURCE_HEADER, resource);
        h.insert(EVENT_HEADER, event);
        h.insert(WEBHOOK_ID_HEADER, webhook_id);
        h.insert(
            DELIVERY_ID_HEADER,
            format!("{:032x}", Utc::now().timestamp_micros()),
        );
        h.insert("User-Agent", "WooCommerce/9.8.0 Hookshot (WordPress/6.8)");
        h.insert("Content-Type", "application/json");
        h
    }

    /// The de-duplication key of a verified body, and the time of the state it carries.
    fn dedupe_key(
        &self,
        topic: &str,
        body: &[u8],
        webhook_id: Option<&str>,
        delivery_id: Option<&str>,
    ) -> (String, Option<DateTime<Utc>>) {
        let (resource, event) = topic.split_once('.').unwrap_or((topic, ""));
        if resource != "action"
            && event != "deleted"
            && let Ok(KeyFields {
                id: Some(id),
                date_modified_gmt: Some(modified),
            }) = serde_json::from_slice::<KeyFields>(body)
            && let Some(at) = convert::parse_gmt(&modified)
        {
            return (format!("{topic}:{id}@{}", modified.trim()), Some(at));
        }
        (
            format!(
                "{topic}:{}:{}:{}",
                webhook_id.unwrap_or("-"),
                delivery_id.unwrap_or("-"),
                body_hash_key(body)
            ),
            None,
        )
    }
}

impl WebhookSource for WooWebhooks {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        self.verifier
            .verify(request.headers, request.body, request.received_at)?;
        // Headers are not covered by the signature: checked after it, and bound.
        let topic = required(request.headers, TOPIC_HEADER)?;
        let source = required(request.headers, SOURCE_HEADER)?;
        if !self.site.matches(source) {
            return Err(Rejection::WrongAccount {
                what: "site",
                claimed: source.to_owned(),
            });
        }
        let webhook_id = header(request.headers, WEBHOOK_ID_HEADER);
        let delivery_id = header(request.headers, DELIVERY_ID_HEADER);
        let (key, occurred_at) = self.dedupe_key(topic, request.body, webhook_id, delivery_id);
        let mut v = VerifiedWebhook::new(key);
        v.topic = Some(topic.to_owned());
        v.shop = Some(self.site.as_str().to_owned());
        v.occurred_at = occurred_at;
        if let Some(id) = webhook_id {
            v.meta.insert("webhook_id".into(), id.to_owned());
        }
        if let Some(id) = delivery_id {
            v.meta.insert("delivery_id".into(), id.to_owned());
        }
        Ok(v)
    }

    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        let topic = entry.topic.as_deref().ok_or_else(|| {
            Error::decode("woocommerce webhook", "the stored webhook has no topic")
        })?;
        decode_topic(topic, &entry.body, &self.site, &self.mapping)
    }

    fn max_body_bytes(&self) -> usize {
        self.verifier.body_limit()
    }

    fn preflight(&self, request: &WebhookRequest<'_>) -> Option<Result<String, Rejection>> {
        // WooCommerce's ping (`WC_Webhook::deliver_ping`): `webhook_id=<id>`, no signature
        // and no topic. Anything carrying a signature or a topic goes through `verify`.
        let h = request.headers;
        if h.get(SIGNATURE_HEADER).is_some() || h.get(TOPIC_HEADER).is_some() {
            return None;
        }
        is_ping(request.body).then(|| {
            tracing::info!(site = %self.site, "WooCommerce webhook ping answered");
            Ok("ok".to_owned())
        })
    }
}

fn parse<'a, T: Deserialize<'a>>(topic: &str, body: &'a [u8]) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| Error::decode(format!("woocommerce {topic}"), e))
}

/// Decodes a verified body of `topic` from `site` into events. An unknown topic is
/// [`PlatformEvent::Unrecognized`]; a malformed body is [`Error::Decode`], and so is a body
/// that is not the payload its topic documents or whose `_links` name another site.
///
/// | topic | requires | events |
/// |---|---|---|
/// | `order.created` | `id`, `number`, `order_key`, `status`, `currency`, `date_modified_gmt` | order created, then paid, shipments (see [`crate::convert`]) |
/// | `order.updated`, `order.restored` | the same | order updated (cancelled if `status` is `cancelled`), paid, shipments |
/// | `order.deleted` | a body of only `id` | order cancelled (an order known by its id) |
/// | `customer.created`, `customer.updated` | `id`, `email`, `role` or `username`, no `order_key` | customer updated |
/// | `customer.deleted` | a body of only `id` | unrecognized (no sdk event for a deleted account; erasure requests are not webhooks in WordPress) |
/// | `action.<hook>` | `action` = `<hook>`, `arg` | an order hook ([`is_order_hook`]) needs [`crate::WooHydrator`]; any other hook is unrecognized |
///
/// ```
/// use aftercare_woocommerce::{decode_topic, Mapping, Site};
/// let site = Site::parse("https://shop.example/").unwrap();
/// let events = decode_topic("order.deleted", br#"{"id":727}"#, &site, &Mapping::default()).unwrap();
/// assert_eq!(events[0].kind(), "order_cancelled");
/// // A customer's body is not an order.
/// let customer = br#"{"id":25,"email":"john.doe@example.com","role":"customer","username":"john.doe"}"#;
/// assert!(decode_topic("order.updated", customer, &site, &Mapping::default()).is_err());
/// ```
pub fn decode_topic(
    topic: &str,
    body: &[u8],
    site: &Site,
    mapping: &Mapping,
) -> Result<Vec<PlatformEvent>, Error> {
    let shop = ShopId::new(site.as_str());
    let what = topic;
    Ok(match topic {
        "order.created" | "order.updated" | "order.restored" => {
            let p: OrderPayload<'_> = parse(topic, body)?;
            convert::check_links(what, p.links.as_ref(), site)?;
            convert::order(what, p, Some(&shop), mapping)?.events(topic == "order.created", mapping)
        }
        "order.deleted" => {
            let p: DeletedPayload = parse(topic, body)?;
            let id = p.id.ok_or_else(|| {
                Error::decode(format!("woocommerce {topic}"), "the body has no `id`")
            })?;
            let mut order = Order::new(id.clone(), id);
            order.shop = Some(shop);
            order.cancelled = true;
            vec![PlatformEvent::OrderCancelled { order }]
        }
        "customer.created" | "customer.updated" => {
            let p: CustomerPayload<'_> = parse(topic, body)?;
            convert::check_links(what, p.links.as_ref(), site)?;
            vec![PlatformEvent::CustomerUpdated {
                customer: convert::customer(what, p, mapping)?,
            }]
        }
        "customer.deleted" => {
            let p: DeletedPayload = parse(topic, body)?;
            if p.id.is_none() {
                return Err(Error::decode(
                    format!("woocommerce {topic}"),
                    "the body has no `id`",
                ));
            }
            vec![PlatformEvent::Unrecognized {
                topic: topic.to_owned(),
            }]
        }
        t if t.starts_with("action.") => {
            let hook = &t["action.".len()..];
            action_order_id(topic, body)?;
            if is_order_hook(hook) {
                return Err(Error::decode(
                    format!("woocommerce {topic}"),
                    "an `action.*` webhook carries only the hook's argument (the order id); register `WooHydrator` for this source with the inbox processor to read the order",
                ));
            }
            vec![PlatformEvent::Unrecognized {
                topic: topic.to_owned(),
            }]
        }
        other => vec![PlatformEvent::Unrecognized {
            topic: other.to_owned(),
        }],
    })
}

/// Checks an `action.<hook>` body (`{"action": "<hook>", "arg": …}`) and returns its
/// argument as an order id when it is one (a non-negative integer or digits).
pub(crate) fn action_order_id(topic: &str, body: &[u8]) -> Result<Option<String>, Error> {
    let hook = topic.strip_prefix("action.").unwrap_or(topic);
    let p: ActionPayload = parse(topic, body)?;
    let what = format!("woocommerce {topic}");
    match p.action.as_deref() {
        Some(a) if a == hook => {}
        Some(a) => {
            return Err(Error::decode(
                what,
                format!("the body is the action `{a}`, not `{hook}`"),
            ));
        }
        None => {
            return Err(Error::decode(
                what,
                "the body has no `action`: not the payload of a custom topic",
            ));
        }
    }
    let arg = p
        .arg
        .ok_or_else(|| Error::decode(&what, "the body has no `arg`"))?;
    Ok(match arg {
        serde_json::Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        serde_json::Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            Some(s)
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_documented_ping_body_is_a_ping() {
        assert!(is_ping(b"webhook_id=15"));
        assert!(is_ping(b"webhook_id=15\n"));
        for not in [
            &b"webhook_id="[..],
            b"webhook_id=15&x=1",
            b"webhook_id=abc",
            b"{\"webhook_id\":15}",
            b"",
        ] {
            assert!(!is_ping(not), "{}", String::from_utf8_lossy(not));
        }
    }
}
