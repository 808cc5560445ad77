//! ikas webhooks, verified exactly as ikas's official client (`@ikas/admin-api-client`,
//! `validateIkasWebhookSignature`) verifies them, and decoded with the envelope treated as
//! what it is: an unsigned claim around a signed `data`.

use aftercare::Error;
use aftercare::model::{PlatformEvent, ShopId};
use aftercare::store::InboxEntry;
use aftercare::webhook::{
    RawHeaders, Rejection, Scheme, Secret, VerifiedWebhook, Verifier, WebhookRequest,
    WebhookSource, body_hash_key,
};
use serde_json::Value;

use crate::convert;
use crate::error::IkasError;
use crate::payload::{Envelope, IkasCustomer, IkasOrder};

/// The name under which the body's `signature` is handed to the sdk's hex verifier (ikas
/// sends no signature header: the signature is a field of the body).
const SIGNATURE_FIELD: &str = "signature";

/// Inbox meta: the envelope's `id` (unsigned).
pub const META_DELIVERY_ID: &str = "delivery_id";
/// Inbox meta: the envelope's `authorizedAppId` (unsigned).
pub const META_AUTHORIZED_APP: &str = "authorized_app_id";

/// The order scopes (`WebhookScope` of `@ikas/admin-api-client`).
pub const ORDER_SCOPES: &[&str] = &["store/order/created", "store/order/updated"];
/// The customer scopes.
pub const CUSTOMER_SCOPES: &[&str] = &[
    "store/customer/created",
    "store/customer/updated",
    "store/customer/statusUpdated",
];

/// ikas as a [`WebhookSource`].
///
/// ikas's body is `{id, createdAt, scope, merchantId, authorizedAppId, data, signature}`;
/// `data` is the entity as a JSON string and `signature` the lowercase hex HMAC-SHA256 of
/// that string's UTF-8 bytes with the app's **client secret**. That is all the official
/// client checks, so:
///
/// - **The signature** is checked over `data` (constant time, several secrets during a
///   rotation). The envelope must be read first to find `data` — the only parse before the
///   signature, bounded by the body limit.
/// - **The envelope is a claim**: `scope`, `merchantId`, `id` and `createdAt` are not
///   signed. `merchantId` must be a configured merchant ([`Rejection::WrongAccount`]
///   otherwise), and when the signed `data` names its merchant (`merchantId`), the two must
///   agree. An app installed on several stores shares one secret, so a signed `data` of one
///   store re-wrapped for another is caught only when `data` names its merchant; configure
///   one source per merchant where that matters.
/// - **The scope** is checked by the decoder: each scope requires its entity's documented
///   fields, so an order's `data` re-wrapped as a customer event (or the reverse) is a
///   decode error.
/// - **De-duplication** on the SHA-256 of the signed `data` (the envelope's `id` is
///   unsigned and a replay may change it): ikas's retries (3, then dropped) carry the same
///   `data`, and an entity unchanged since the last event is rightly a duplicate.
///
/// ```
/// use aftercare::webhook::{Secret, WebhookRequest, WebhookSource};
/// use aftercare_ikas::IkasWebhooks;
/// let src = IkasWebhooks::new(Secret::from("client-secret"), "m-1");
/// let body = src.envelope_for_test("w-1", "store/customer/updated", "m-1", r#"{"id":"c-1","firstName":"Ayşe"}"#);
/// let headers = aftercare::webhook::RawHeaders::new();
/// let v = src.verify(&WebhookRequest::new(&headers, &body, chrono::Utc::now())).unwrap();
/// assert_eq!(v.topic.as_deref(), Some("store/customer/updated"));
/// assert_eq!(v.shop.as_deref(), Some("m-1"));
/// ```
#[derive(Clone, Debug)]
pub struct IkasWebhooks {
    verifier: Verifier,
    merchants: Vec<String>,
    locale: String,
}

impl IkasWebhooks {
    /// A source verifying with the app's client secret, for one merchant (`merchantId`).
    pub fn new(client_secret: Secret, merchant_id: impl Into<String>) -> Self {
        Self {
            verifier: Verifier::new(Scheme::hmac_sha256_hex(SIGNATURE_FIELD), client_secret),
            merchants: vec![merchant_id.into()],
            locale: "tr".into(),
        }
    }

    /// A source accepting several secrets, the current one first (during a rotation).
    pub fn with_secrets(
        client_secrets: impl IntoIterator<Item = Secret>,
        merchant_id: impl Into<String>,
    ) -> Self {
        Self {
            verifier: Verifier::with_secrets(
                Scheme::hmac_sha256_hex(SIGNATURE_FIELD),
                client_secrets,
            ),
            merchants: vec![merchant_id.into()],
            locale: "tr".into(),
        }
    }

    /// Serves one more merchant.
    pub fn add_merchant(mut self, merchant_id: impl Into<String>) -> Self {
        self.merchants.push(merchant_id.into());
        self
    }

    /// The store's language, used for orders whose customer names none (default `tr`).
    pub fn locale(mut self, locale: impl Into<String>) -> Self {
        self.locale = locale.into();
        self
    }

    /// The store's language.
    pub fn store_locale(&self) -> &str {
        &self.locale
    }

    /// Starts a rotation.
    pub fn rotate(&mut self, new: Secret) {
        self.verifier.rotate(new);
    }

    /// Ends a rotation.
    pub fn retire(&mut self) {
        self.verifier.retire();
    }

    /// Sets the body size limit (default 1 MiB).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.verifier = self.verifier.max_body_bytes(limit);
        self
    }

    /// Whether the source serves `merchant_id`.
    pub fn serves(&self, merchant_id: &str) -> bool {
        self.merchants.iter().any(|m| m == merchant_id)
    }

    /// A body as ikas sends it, signed with the current secret, for tests and tools.
    pub fn envelope_for_test(
        &self,
        id: &str,
        scope: &str,
        merchant_id: &str,
        data: &str,
    ) -> Vec<u8> {
        let sig = self
            .verifier
            .sign(data.as_bytes(), chrono::Utc::now())
            .get_str(SIGNATURE_FIELD)
            .unwrap_or_default()
            .to_owned();
        serde_json::to_vec(&serde_json::json!({
            "id": id,
            "createdAt": "2026-11-01T08:00:00.000Z",
            "scope": scope,
            "merchantId": merchant_id,
            "authorizedAppId": "app-1",
            "data": data,
            "signature": sig,
        }))
        .unwrap_or_default()
    }

    fn check_merchant(&self, envelope: &str, data: &Value) -> Result<(), Rejection> {
        if !self.serves(envelope) {
            return Err(Rejection::WrongAccount {
                what: "merchant",
                claimed: envelope.to_owned(),
            });
        }
        if let Some(signed) = data.get("merchantId").and_then(Value::as_str)
            && signed != envelope
        {
            return Err(Rejection::WrongAccount {
                what: "merchant",
                claimed: signed.to_owned(),
            });
        }
        Ok(())
    }
}

impl WebhookSource for IkasWebhooks {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        let limit = self.verifier.body_limit();
        if request.body.len() > limit {
            return Err(Rejection::TooLarge {
                limit,
                size: request.body.len(),
            });
        }
        if request.body.is_empty() {
            return Err(Rejection::EmptyBody);
        }
        let env: Envelope<'_> =
            serde_json::from_slice(request.body).map_err(|_| Rejection::MissingHeader {
                header: "signature (a field of ikas's JSON body)".into(),
            })?;
        let headers = RawHeaders::from_pairs([(SIGNATURE_FIELD, env.signature.as_bytes())]);
        self.verifier
            .verify(&headers, env.data.as_bytes(), request.received_at)?;
        // Signed from here on: `data`. Claims: the rest of the envelope.
        let data: Value = serde_json::from_str(&env.data).unwrap_or(Value::Null);
        self.check_merchant(&env.merchant_id, &data)?;
        let mut out = VerifiedWebhook::new(body_hash_key(env.data.as_bytes()));
        out.topic = Some(env.scope.to_string());
        out.shop = Some(env.merchant_id.to_string());
        out.occurred_at = env.created_at.as_ref().and_then(convert::parse_date);
        out.meta.insert(META_DELIVERY_ID.into(), env.id.to_string());
        if let Some(app) = env.authorized_app_id {
            out.meta.insert(META_AUTHORIZED_APP.into(), app.to_string());
        }
        Ok(out)
    }

    /// Decodes a stored webhook:
    ///
    /// | scope | requires in `data` | events |
    /// |---|---|---|
    /// | `store/order/created`, `store/order/updated` | an order: `id`, `orderNumber`, `status`, `currencyCode`, `totalFinalPrice`, `updatedAt`, `orderLineItems` | [`convert::order_events`] |
    /// | `store/customer/*` | a customer: `id`, and no order fields | `customer_updated` |
    /// | `store/app/deleted` | an object that is not an order or a customer | `app_uninstalled` |
    /// | others | an object | `unrecognized` |
    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        let topic = entry.topic.as_deref().unwrap_or("");
        let what = || format!("ikas {}", if topic.is_empty() { "webhook" } else { topic });
        let bad = |m: String| -> Error { IkasError::decode(what(), m).into() };
        let env: Envelope<'_> = serde_json::from_slice(&entry.body)
            .map_err(|e| bad(format!("not an ikas webhook: {e}")))?;
        if env.scope != topic {
            return Err(bad(format!(
                "the body's scope `{}` is not the entry's topic",
                env.scope
            )));
        }
        let merchant = env.merchant_id.to_string();
        if entry.shop.as_deref().is_some_and(|s| s != merchant) {
            return Err(bad(format!(
                "the body names merchant `{merchant}`, the entry another"
            )));
        }
        let data: Value =
            serde_json::from_str(&env.data).map_err(|e| bad(format!("`data` is not JSON: {e}")))?;
        if !data.is_object() {
            return Err(bad("`data` is not an object".into()));
        }
        self.check_merchant(&merchant, &data)
            .map_err(|r| bad(r.to_string()))?;
        let is_order_shaped =
            data.get("orderLineItems").is_some() || data.get("orderNumber").is_some();
        match topic {
            s if ORDER_SCOPES.contains(&s) => {
                let o: IkasOrder =
                    serde_json::from_value(data).map_err(|e| bad(format!("not an order: {e}")))?;
                Ok(convert::order_events(s, &o, &merchant, &self.locale)?)
            }
            s if CUSTOMER_SCOPES.contains(&s) => {
                if is_order_shaped {
                    return Err(bad("an order's data under a customer scope".into()));
                }
                let c: IkasCustomer = serde_json::from_value(data)
                    .map_err(|e| bad(format!("not a customer: {e}")))?;
                if c.id.trim().is_empty() {
                    return Err(bad("a customer without an `id`".into()));
                }
                Ok(vec![PlatformEvent::CustomerUpdated {
                    customer: convert::customer(&c),
                }])
            }
            "store/app/deleted" => {
                if is_order_shaped || data.get("firstName").is_some() {
                    return Err(bad(
                        "an order's or a customer's data under store/app/deleted".into(),
                    ));
                }
                Ok(vec![PlatformEvent::AppUninstalled {
                    shop: ShopId::from(merchant.as_str()),
                }])
            }
            other => Ok(vec![PlatformEvent::Unrecognized {
                topic: other.to_owned(),
            }]),
        }
    }
}
