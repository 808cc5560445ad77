//! Adobe I/O Events for Adobe Commerce (the asynchronous events of the
//! `magento/commerce-eventing` module, delivered by Adobe I/O to a webhook URL).

use aftercare::Error;
use aftercare::model::{PlatformEvent, ShopId};
use aftercare::store::InboxEntry;
use aftercare::webhook::{
    DEFAULT_MAX_BODY_BYTES, RawHeaders, Rejection, VerifiedWebhook, WebhookRequest, WebhookSource,
    body_hash_key,
};
use serde_json::{Map, Value};

use crate::convert::StoreLocales;
use crate::error::MagentoError;
use crate::events::{self, state_key};
use crate::keys::{PublicKey, TestSigner};
use crate::store::StoreUrl;

/// The first digital signature (base64 RSA-SHA256 of the raw body).
pub const SIGNATURE_1_HEADER: &str = "x-adobe-digital-signature-1";
/// The second digital signature (another key; either one verifying is enough).
pub const SIGNATURE_2_HEADER: &str = "x-adobe-digital-signature-2";
/// The path of the first public key on `https://static.adobeioevents.com`.
pub const KEY_1_PATH_HEADER: &str = "x-adobe-public-key1-path";
/// The path of the second public key.
pub const KEY_2_PATH_HEADER: &str = "x-adobe-public-key2-path";
/// The prefix of Commerce's event types (`com.adobe.commerce.observer.sales_order_save_after`).
pub const TYPE_PREFIX: &str = "com.adobe.commerce.";

/// Builder of [`IoEvents`].
#[derive(Clone, Debug)]
pub struct IoEventsBuilder {
    store: String,
    client_id: String,
    keys: Vec<String>,
    locales: StoreLocales,
    max_body_bytes: usize,
}

impl IoEventsBuilder {
    /// Adds an Adobe I/O Events public key (the PEM at
    /// `https://static.adobeioevents.com` + the path in `x-adobe-public-key1-path` or
    /// `-2-path`). Configure both current keys; Adobe signs with two so that one can rotate.
    pub fn public_key(mut self, pem: impl Into<String>) -> Self {
        self.keys.push(pem.into());
        self
    }

    /// The store views' locales.
    pub fn locales(mut self, locales: StoreLocales) -> Self {
        self.locales = locales;
        self
    }

    /// The body size limit (default 1 MiB).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// The source.
    pub fn build(self) -> Result<IoEvents, MagentoError> {
        let store = StoreUrl::parse(&self.store)?;
        if self.client_id.trim().is_empty() {
            return Err(MagentoError::Config(
                "the I/O Events registration's client id is required".into(),
            ));
        }
        if self.keys.is_empty() {
            return Err(MagentoError::Config(
                "no Adobe I/O Events public key configured".into(),
            ));
        }
        let keys = self
            .keys
            .iter()
            .map(|k| PublicKey::from_pem(k))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(IoEvents {
            keys,
            client_id: self.client_id.trim().to_owned(),
            shop: ShopId::new(store.as_str()),
            store,
            locales: self.locales,
            max_body_bytes: self.max_body_bytes,
        })
    }
}

/// Adobe I/O Events deliveries of Commerce events as a [`WebhookSource`].
///
/// - **Verify**, as Adobe's `@adobe/aio-lib-events` does (`verifyDigitalSignatureForEvent`,
///   `src/signatureUtils.js`): `x-adobe-digital-signature-1` or `-2` is a base64
///   RSA-SHA256 signature of the raw body under one of the configured Adobe keys (either
///   verifying is enough); then the body's `recipient_client_id` (or the CloudEvents
///   attribute `recipientclientid`) must be the configured client id
///   ([`Rejection::WrongAccount`] otherwise: a delivery meant for another registration).
///   `verify` cannot fetch keys on the request path: configure the PEMs Adobe publishes.
/// - **Topic**: the body's `type` without `com.adobe.commerce.` (`observer.sales_order_save_after`);
///   the object is `data.value` (developer.adobe.com/commerce/extensibility/events/,
///   "Runtime Action with a Callback to Commerce": `params.data.value`).
/// - **De-duplication key**: the event's `id` (or `event_id`), Adobe's event id, the same
///   across redeliveries.
/// - **Challenge**: the GET `?challenge=…` Adobe sends when a webhook is registered is
///   answered with the challenge.
#[derive(Clone, Debug)]
pub struct IoEvents {
    keys: Vec<PublicKey>,
    client_id: String,
    store: StoreUrl,
    shop: ShopId,
    locales: StoreLocales,
    max_body_bytes: usize,
}

fn text<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    obj.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn topic_of(obj: &Map<String, Value>) -> Option<String> {
    let t = text(obj, "type")?;
    Some(t.strip_prefix(TYPE_PREFIX).unwrap_or(t).to_owned())
}

impl IoEvents {
    /// A builder for the store at `store_url` receiving the events of the I/O Events
    /// registration whose client id (API key) is `client_id`.
    pub fn builder(store_url: impl Into<String>, client_id: impl Into<String>) -> IoEventsBuilder {
        IoEventsBuilder {
            store: store_url.into(),
            client_id: client_id.into(),
            keys: Vec::new(),
            locales: StoreLocales::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// The store this source serves.
    pub fn store(&self) -> &StoreUrl {
        &self.store
    }

    /// The headers Adobe I/O sends with `body` signed with `signer`'s key (both
    /// signatures); for tests and local tools.
    pub fn sign_with(signer: &TestSigner, body: &[u8]) -> RawHeaders {
        let sig = signer.sign(body);
        RawHeaders::from_pairs([
            (SIGNATURE_1_HEADER, sig.clone()),
            (SIGNATURE_2_HEADER, sig),
            (
                KEY_1_PATH_HEADER,
                "/prod/keys/pub-key-test-1.pem".to_owned(),
            ),
            (
                KEY_2_PATH_HEADER,
                "/prod/keys/pub-key-test-2.pem".to_owned(),
            ),
            ("Content-Type", "application/cloudevents+json".to_owned()),
        ])
    }
}

impl WebhookSource for IoEvents {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        let body = request.body;
        if body.len() > self.max_body_bytes {
            return Err(Rejection::TooLarge {
                limit: self.max_body_bytes,
                size: body.len(),
            });
        }
        let sigs: Vec<&str> = [SIGNATURE_1_HEADER, SIGNATURE_2_HEADER]
            .iter()
            .filter_map(|h| request.headers.get_str(h))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if sigs.is_empty() {
            return Err(Rejection::MissingHeader {
                header: SIGNATURE_1_HEADER.to_owned(),
            });
        }
        if body.is_empty() {
            return Err(Rejection::EmptyBody);
        }
        if !sigs
            .iter()
            .any(|s| self.keys.iter().any(|k| k.verifies(body, s)))
        {
            return Err(Rejection::Mismatch);
        }
        let obj = match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(o)) => o,
            _ => {
                let mut v = VerifiedWebhook::new(format!("io-event:{}", body_hash_key(body)));
                v.shop = Some(self.store.as_str().to_owned());
                return Ok(v);
            }
        };
        let recipient =
            text(&obj, "recipient_client_id").or_else(|| text(&obj, "recipientclientid"));
        match recipient {
            Some(r) if r == self.client_id => {}
            other => {
                return Err(Rejection::WrongAccount {
                    what: "I/O Events client id",
                    claimed: other.unwrap_or("none").to_owned(),
                });
            }
        }
        let topic = topic_of(&obj);
        let id = text(&obj, "id").or_else(|| text(&obj, "event_id"));
        let mut v = match (id, &topic) {
            (Some(id), _) => VerifiedWebhook::new(format!("io-event:{id}")),
            (None, Some(t)) => {
                let value = obj
                    .get("data")
                    .and_then(|d| d.get("value"))
                    .and_then(Value::as_object);
                match value.and_then(|o| state_key(t, o)) {
                    Some((k, at)) => {
                        let mut v = VerifiedWebhook::new(k);
                        v.occurred_at = at;
                        v
                    }
                    None => VerifiedWebhook::new(format!("{t}:{}", body_hash_key(body))),
                }
            }
            (None, None) => VerifiedWebhook::new(format!("io-event:{}", body_hash_key(body))),
        };
        v.topic = topic;
        v.shop = Some(self.store.as_str().to_owned());
        Ok(v)
    }

    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        let what = "magento I/O event";
        let obj = match serde_json::from_slice::<Value>(&entry.body) {
            Ok(Value::Object(o)) => o,
            Ok(_) => return Err(Error::decode(what, "the body is not a JSON object")),
            Err(e) => return Err(Error::decode(what, e)),
        };
        let topic = topic_of(&obj).ok_or_else(|| Error::decode(what, "the event has no `type`"))?;
        if let Some(stored) = entry.topic.as_deref()
            && stored != topic
        {
            return Err(Error::decode(
                format!("magento {stored}"),
                format!("the body is an `{topic}` event"),
            ));
        }
        if events::resource_of(&topic).is_none() {
            return Ok(vec![PlatformEvent::Unrecognized { topic }]);
        }
        let value = obj
            .get("data")
            .and_then(|d| d.get("value"))
            .and_then(Value::as_object)
            .ok_or_else(|| {
                Error::decode(
                    format!("magento {topic}"),
                    "the event has no `data.value` object",
                )
            })?;
        events::decode_object(&topic, value, &self.shop, &self.locales)
    }

    fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    fn handshake(&self, query: &str) -> Option<Result<String, Rejection>> {
        let challenge = url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "challenge")
            .map(|(_, v)| v.into_owned())?;
        let ok = !challenge.is_empty()
            && challenge.len() <= 256
            && challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        Some(if ok {
            Ok(challenge)
        } else {
            Err(Rejection::HandshakeRefused {
                reason: "the challenge is not a token".into(),
            })
        })
    }
}
