//! Adobe Commerce webhooks (Adobe Commerce 2.4.4+ with the `magento/commerce-webhooks`
//! module): verification ([`WebhookSource::verify`]), the answer Commerce expects
//! ([`WebhookSource::acknowledgement`]) and decoding ([`crate::events`]).

use aftercare::Error;
use aftercare::model::{PlatformEvent, ShopId};
use aftercare::store::InboxEntry;
use aftercare::webhook::{
    DEFAULT_MAX_BODY_BYTES, RawHeaders, Rejection, VerifiedWebhook, WebhookRequest, WebhookSource,
    body_hash_key,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value};

use crate::convert::StoreLocales;
use crate::error::MagentoError;
use crate::events::{self, object_in, state_key};
use crate::keys::{PublicKey, TestSigner};
use crate::store::StoreUrl;

/// `x-adobe-commerce-webhook-signature`: the base64 RSA-SHA256 signature, made with the
/// store's private key, of the **base64-encoded** request body.
pub const SIGNATURE_HEADER: &str = "x-adobe-commerce-webhook-signature";

/// Builder of [`CommerceWebhooks`].
#[derive(Clone, Debug)]
pub struct CommerceWebhooksBuilder {
    store: String,
    keys: Vec<String>,
    locales: StoreLocales,
    max_body_bytes: usize,
}

impl CommerceWebhooksBuilder {
    /// Adds a public key as *Stores → Settings → Configuration → Adobe Services → Webhooks*
    /// shows it after *Regenerate key pair* (PEM). Add the old and the new one while a
    /// regeneration rolls out: regenerating invalidates the old key.
    pub fn public_key(mut self, pem: impl Into<String>) -> Self {
        self.keys.push(pem.into());
        self
    }

    /// The store views' locales, for orders' and customers' locale.
    pub fn locales(mut self, locales: StoreLocales) -> Self {
        self.locales = locales;
        self
    }

    /// The body size limit (default 1 MiB).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// The source. At least one public key is required: signature verification is off by
    /// default in Commerce, and an unsigned webhook is refused here, always.
    pub fn build(self) -> Result<CommerceWebhooks, MagentoError> {
        let store = StoreUrl::parse(&self.store)?;
        if self.keys.is_empty() {
            return Err(MagentoError::Config(
                "no public key: turn on signature verification in the Commerce Admin (Adobe Services → Webhooks), regenerate the key pair and configure its public key".into(),
            ));
        }
        let keys = self
            .keys
            .iter()
            .map(|k| PublicKey::from_pem(k))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CommerceWebhooks {
            keys,
            shop: ShopId::new(store.as_str()),
            store,
            locales: self.locales,
            max_body_bytes: self.max_body_bytes,
        })
    }
}

/// Adobe Commerce webhooks as a [`WebhookSource`], bound to one store.
///
/// - **Verify** (on the request path, before anything is parsed): the
///   `x-adobe-commerce-webhook-signature` header must be the RSA-SHA256 (PKCS#1 v1.5)
///   signature of the base64 of the raw body under one of the configured public keys —
///   what Adobe's own verification code checks (`crypto.createVerify('SHA256')` updated
///   with the base64 body; AdobeDocs/commerce-extensibility `webhooks/signature-verification.md`;
///   the docs' prose calls it "HMAC", the code is RSA). The key pair is the store's own
///   (generated in its Admin), so a valid signature names the store: a webhook of another
///   Commerce instance does not verify (there is no store header to compare).
/// - **Topic**: Commerce sends no topic header; the event name is the verified body's
///   `eventName` (`observer.sales_order_save_after`). A body without one is stored and
///   dead-lettered at decode with the reason.
/// - **De-duplication key**: Commerce sends no delivery id. `{eventName}:{id}@{updated_at}`
///   of the event's object when it has both (the same state delivered twice — a retry, or
///   two hooks on one event — is stored once), else the event name and the body's hash.
/// - **Answer**: `{"op":"success"}`, the operation Commerce expects from a webhook
///   (`webhooks/responses.md`). Register hooks as `after` hooks that are not `required`, so
///   an Aftercare outage never blocks a checkout or a shipment; catch-up polling finds
///   what was missed.
/// - **Decode** (from the inbox): see [`crate::events`]. Configure each hook to send the
///   whole object (or at least the fields [`crate::events`] requires).
///
/// ```
/// use aftercare::webhook::{WebhookRequest, WebhookSource};
/// use aftercare_magento::{CommerceWebhooks, TestSigner};
/// let store_key = TestSigner::generate(1024).unwrap();
/// let src = CommerceWebhooks::builder("https://shop.example/")
///     .public_key(store_key.public_pem())
///     .build()
///     .unwrap();
/// let body = br#"{"eventName":"observer.sales_order_shipment_track_save_after","data":{"track":{"entity_id":"7","parent_id":"3","order_id":"42","track_number":"1Z999AA10123456784","carrier_code":"ups","title":"United Parcel Service","created_at":"2026-11-02 10:00:00","updated_at":"2026-11-02 10:00:00"}}}"#;
/// let headers = CommerceWebhooks::sign_with(&store_key, body);
/// let req = WebhookRequest::new(&headers, body, chrono::Utc::now());
/// let v = src.verify(&req).unwrap();
/// assert_eq!(v.dedupe_key, "observer.sales_order_shipment_track_save_after:7@2026-11-02 10:00:00");
/// ```
#[derive(Clone, Debug)]
pub struct CommerceWebhooks {
    keys: Vec<PublicKey>,
    store: StoreUrl,
    shop: ShopId,
    locales: StoreLocales,
    max_body_bytes: usize,
}

/// The envelope of a Commerce webhook.
fn envelope(body: &[u8]) -> Option<(String, Map<String, Value>)> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let mut obj = match v {
        Value::Object(o) => o,
        _ => return None,
    };
    let name = obj.get("eventName")?.as_str()?.trim().to_owned();
    let data = match obj.remove("data") {
        Some(Value::Object(d)) => d,
        _ => Map::new(),
    };
    Some((name, data))
}

impl CommerceWebhooks {
    /// A builder for the store at `store_url` (its base URL, `https://shop.example/`).
    pub fn builder(store_url: impl Into<String>) -> CommerceWebhooksBuilder {
        CommerceWebhooksBuilder {
            store: store_url.into(),
            keys: Vec::new(),
            locales: StoreLocales::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// The store this source serves.
    pub fn store(&self) -> &StoreUrl {
        &self.store
    }

    /// The store views' locales.
    pub fn locales(&self) -> &StoreLocales {
        &self.locales
    }

    /// The headers Commerce sends with `body` when it signs with `signer`'s key; for tests
    /// and local tools.
    pub fn sign_with(signer: &TestSigner, body: &[u8]) -> RawHeaders {
        let signed = B64.encode(body);
        RawHeaders::from_pairs([
            (SIGNATURE_HEADER, signer.sign(signed.as_bytes())),
            ("Content-Type", "application/json".to_owned()),
        ])
    }

    fn key(
        &self,
        topic: &str,
        body: &[u8],
        data: &Map<String, Value>,
    ) -> (String, Option<chrono::DateTime<chrono::Utc>>) {
        if let Ok(obj) = object_in(topic, data)
            && events::resource_of(topic).is_some()
            && let Some(k) = state_key(topic, obj)
        {
            return k;
        }
        (format!("{topic}:{}", body_hash_key(body)), None)
    }
}

impl WebhookSource for CommerceWebhooks {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        let body = request.body;
        if body.len() > self.max_body_bytes {
            return Err(Rejection::TooLarge {
                limit: self.max_body_bytes,
                size: body.len(),
            });
        }
        let signature = request
            .headers
            .get_str(SIGNATURE_HEADER)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Rejection::MissingHeader {
                header: SIGNATURE_HEADER.to_owned(),
            })?;
        if body.is_empty() {
            return Err(Rejection::EmptyBody);
        }
        let signed = B64.encode(body);
        if !self
            .keys
            .iter()
            .any(|k| k.verifies(signed.as_bytes(), signature))
        {
            return Err(Rejection::Mismatch);
        }
        let mut v;
        match envelope(body) {
            Some((topic, data)) => {
                let (key, at) = self.key(&topic, body, &data);
                v = VerifiedWebhook::new(key);
                v.occurred_at = at;
                v.topic = Some(topic);
            }
            None => v = VerifiedWebhook::new(format!("commerce-webhook:{}", body_hash_key(body))),
        }
        v.shop = Some(self.store.as_str().to_owned());
        Ok(v)
    }

    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        let (topic, data) = envelope(&entry.body).ok_or_else(|| {
            Error::decode(
                "magento webhook",
                "the body is not a Commerce webhook (a JSON object with `eventName` and `data`)",
            )
        })?;
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
        let obj = object_in(&topic, &data)?;
        events::decode_object(&topic, obj, &self.shop, &self.locales)
    }

    fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    fn acknowledgement(&self) -> Option<(&'static str, &'static str)> {
        Some(("application/json", r#"{"op":"success"}"#))
    }
}
