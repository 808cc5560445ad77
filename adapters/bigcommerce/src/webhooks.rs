//! BigCommerce webhooks: verification ([`WebhookSource::verify`]) and the checks every
//! stored callback passes before it is decoded or hydrated ([`parse_callback`]).

use aftercare::Error;
use aftercare::model::PlatformEvent;
use aftercare::store::InboxEntry;
use aftercare::webhook::{
    RawHeaders, Rejection, Scheme, Secret, VerifiedWebhook, Verifier, WebhookRequest, WebhookSource,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::error::BigCommerceError;
use crate::payload::{
    Callback, CustomerData, Id, OrderData, ShipmentData, StatusChange, StoreData, store_of_producer,
};

/// The custom header [`BigCommerceClient::ensure_hooks`](crate::BigCommerceClient::ensure_hooks)
/// puts on every hook it creates (`POST /v3/hooks` `headers`, sent back with each callback):
/// the store hash the hook belongs to.
pub const STORE_HEADER: &str = "X-Aftercare-Store-Hash";

/// The custom header naming the scope of the hook that delivered a callback (set by
/// [`BigCommerceClient::ensure_hooks`](crate::BigCommerceClient::ensure_hooks)).
pub const SCOPE_HEADER: &str = "X-Aftercare-Scope";

/// Inbox meta: the payload's `hash` (SHA-1 of the event data; a hook firing twice for one
/// event sends it twice).
pub const META_HASH: &str = "hash";
/// Inbox meta: the scope of the hook that delivered the callback, from [`SCOPE_HEADER`].
pub const META_HOOK_SCOPE: &str = "hook_scope";

/// BigCommerce as a [`WebhookSource`].
///
/// Verification follows BigCommerce's "HTTPS Webhooks Overview" (Security): deliveries are
/// signed with Standard Webhooks — `webhook-id`, `webhook-timestamp`, `webhook-signature:
/// v1,<base64>` over `{id}.{timestamp}.{raw body}`, HMAC-SHA256 — and the key is the app's
/// **client secret** as raw UTF-8 bytes (BigCommerce's samples base64-encode the secret before
/// handing it to the Standard Webhooks library, which decodes it again): give it as
/// `Secret::from(client_secret)`, not `Secret::from_standard_webhooks`. Timestamps more than
/// 5 minutes from now are refused (the reference libraries' tolerance); several secrets can
/// be active during a rotation.
///
/// After the signature, the body's `producer` (`stores/{store_hash}`, signed) must name a
/// configured store, else [`Rejection::WrongAccount`] (403) before anything is stored; so
/// must the [`STORE_HEADER`] custom header when present. De-duplication key: `webhook-id`
/// (signed; the same across BigCommerce's retries). The payload's `hash` is kept in the
/// entry's meta ([`META_HASH`]) but not used as a key: it is a hash of the event *data*
/// (`{"type":"order","id":250}`), the same for every later update of that order.
///
/// ```
/// use aftercare::webhook::{Secret, WebhookRequest, WebhookSource};
/// use aftercare_bigcommerce::BigCommerceWebhooks;
/// let src = BigCommerceWebhooks::new(Secret::from("client-secret"), "abc123");
/// let body = br#"{"scope":"store/order/created","store_id":"1025646","data":{"type":"order","id":250},"hash":"dd70c0976e06b67aaf671e73f49dcb79230ebf9d","created_at":1561479335,"producer":"stores/abc123"}"#;
/// let now = chrono::Utc::now();
/// let headers = src.sign_for_test("msg_1", now, body);
/// let v = src.verify(&WebhookRequest::new(&headers, body, now)).unwrap();
/// assert_eq!(v.dedupe_key, "msg_1");
/// assert_eq!(v.topic.as_deref(), Some("store/order/created"));
/// assert_eq!(v.shop.as_deref(), Some("abc123"));
/// ```
#[derive(Clone, Debug)]
pub struct BigCommerceWebhooks {
    verifier: Verifier,
    stores: Vec<String>,
}

impl BigCommerceWebhooks {
    /// A source verifying with the app's client secret, serving one store (its store hash).
    pub fn new(client_secret: Secret, store_hash: impl Into<String>) -> Self {
        Self::with_secrets([client_secret], store_hash)
    }

    /// A source accepting several secrets, the current one first (during a rotation).
    pub fn with_secrets(
        secrets: impl IntoIterator<Item = Secret>,
        store_hash: impl Into<String>,
    ) -> Self {
        Self {
            verifier: Verifier::with_secrets(Scheme::StandardWebhooks, secrets),
            stores: vec![store_hash.into()],
        }
    }

    /// Serves one more store (an app installed on several stores shares its client secret).
    pub fn add_store(mut self, store_hash: impl Into<String>) -> Self {
        self.stores.push(store_hash.into());
        self
    }

    /// Starts a rotation: `new` becomes the current secret, the old one stays accepted until
    /// [`BigCommerceWebhooks::retire`].
    pub fn rotate(&mut self, new: Secret) {
        self.verifier.rotate(new);
    }

    /// Ends a rotation: only the current secret stays.
    pub fn retire(&mut self) {
        self.verifier.retire();
    }

    /// Sets the replay window (default 5 minutes either way).
    pub fn tolerance(mut self, window: std::time::Duration) -> Self {
        self.verifier = self.verifier.tolerance(window);
        self
    }

    /// Sets the body size limit (default 1 MiB).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.verifier = self.verifier.max_body_bytes(limit);
        self
    }

    /// Whether the source serves `store_hash`.
    pub fn serves(&self, store_hash: &str) -> bool {
        self.stores.iter().any(|s| s == store_hash)
    }

    /// The stores served.
    pub fn stores(&self) -> &[String] {
        &self.stores
    }

    /// The verifier (e.g. to sign test requests).
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Signs `body` as BigCommerce does (the three `webhook-*` headers), for tests and local
    /// tools.
    pub fn sign_for_test(&self, webhook_id: &str, at: DateTime<Utc>, body: &[u8]) -> RawHeaders {
        self.verifier.sign_with_id(webhook_id, at.timestamp(), body)
    }

    /// [`BigCommerceWebhooks::sign_for_test`] plus the custom headers of a hook created by
    /// [`BigCommerceClient::ensure_hooks`](crate::BigCommerceClient::ensure_hooks) for
    /// `store_hash` and `scope`.
    pub fn sign_delivery_for_test(
        &self,
        webhook_id: &str,
        at: DateTime<Utc>,
        store_hash: &str,
        scope: &str,
        body: &[u8],
    ) -> RawHeaders {
        let mut h = self.sign_for_test(webhook_id, at, body);
        h.insert(STORE_HEADER, store_hash);
        h.insert(SCOPE_HEADER, scope);
        h
    }
}

/// What verification reads of the body, after the signature: borrowed, nothing else kept.
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(borrow, default)]
    scope: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    producer: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    hash: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    created_at: Option<serde_json::Value>,
}

fn header<'h>(headers: &'h RawHeaders, name: &str) -> Option<&'h str> {
    headers
        .get_str(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

impl WebhookSource for BigCommerceWebhooks {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        let v = self
            .verifier
            .verify(request.headers, request.body, request.received_at)?;
        if let Some(claimed) = header(request.headers, STORE_HEADER)
            && !self.serves(claimed)
        {
            return Err(Rejection::WrongAccount {
                what: "store",
                claimed: claimed.to_owned(),
            });
        }
        // The body is signed: its producer is the store the event is from. A body that is
        // not a callback is stored anyway and dead-lettered with the reason when decoded.
        let head: Option<Head<'_>> = serde_json::from_slice(request.body).ok();
        let store = head
            .as_ref()
            .and_then(|h| h.producer.as_deref())
            .and_then(store_of_producer);
        if let Some(store) = store
            && !self.serves(store)
        {
            return Err(Rejection::WrongAccount {
                what: "store",
                claimed: store.to_owned(),
            });
        }
        let Some(id) = v.message_id else {
            return Err(Rejection::MissingHeader {
                header: "webhook-id".into(),
            });
        };
        let mut out = VerifiedWebhook::new(id);
        out.shop = store
            .map(str::to_owned)
            .or_else(|| header(request.headers, STORE_HEADER).map(str::to_owned));
        if let Some(h) = &head {
            out.topic = h.scope.as_deref().map(str::to_owned);
            if let Some(hash) = h.hash.as_deref() {
                out.meta.insert(META_HASH.into(), hash.to_owned());
            }
            out.occurred_at = h
                .created_at
                .as_ref()
                .and_then(serde_json::Value::as_i64)
                .and_then(|t| DateTime::from_timestamp(t, 0));
        }
        if out.occurred_at.is_none() {
            out.occurred_at = v.timestamp;
        }
        if let Some(scope) = header(request.headers, SCOPE_HEADER) {
            out.meta.insert(META_HOOK_SCOPE.into(), scope.to_owned());
        }
        Ok(out)
    }

    /// Decodes what needs no API call: `store/app/uninstalled`, and scopes the adapter does
    /// not use ([`PlatformEvent::Unrecognized`]). Order, shipment and customer callbacks
    /// carry only ids: they are hydrated by [`BigCommerceHydrator`](crate::BigCommerceHydrator)
    /// (register it with `InboxProcessor::hydrator`); without it they are refused as a
    /// configuration error.
    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        let (cb, thin) = parse_callback(entry, |s| self.serves(s))?;
        match thin {
            Thin::AppUninstalled { store } => {
                Ok(vec![PlatformEvent::AppUninstalled { shop: store.into() }])
            }
            Thin::Other => Ok(vec![PlatformEvent::Unrecognized { topic: cb.scope }]),
            _ => Err(Error::Config(format!(
                "BigCommerce `{}` callbacks carry only ids: register `BigCommerceHydrator` with `InboxProcessor::hydrator` for this source",
                cb.scope
            ))),
        }
    }
}

/// What a thin callback asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Thin {
    /// `store/order/{created,updated,archived,statusUpdated}`.
    Order {
        /// Which of them.
        change: OrderChange,
        /// The order.
        id: Id,
        /// The new status id (`statusUpdated`).
        new_status: Option<u32>,
    },
    /// `store/shipment/{created,updated}`.
    Shipment {
        /// `true` for `created`.
        created: bool,
        /// The shipment.
        id: Id,
        /// Its order.
        order_id: Id,
    },
    /// `store/customer/{created,updated}`.
    Customer {
        /// The customer.
        id: Id,
    },
    /// `store/app/uninstalled`.
    AppUninstalled {
        /// The store.
        store: String,
    },
    /// Any other scope.
    Other,
}

/// Which order scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OrderChange {
    /// `store/order/created`.
    Created,
    /// `store/order/updated`.
    Updated,
    /// `store/order/statusUpdated`.
    StatusUpdated,
    /// `store/order/archived`.
    Archived,
}

fn scope_covers(hook_scope: &str, scope: &str) -> bool {
    hook_scope == scope
        || hook_scope
            .strip_suffix('*')
            .is_some_and(|prefix| prefix.ends_with('/') && scope.starts_with(prefix))
}

/// Reads a stored callback and checks it is what it claims, before anything acts on it:
/// - the body is a callback (`scope`, `store_id`, `data`, `hash`, `producer`);
/// - `producer` is `stores/{store_hash}` of a store `serves` accepts, and the one the entry was
///   stored for;
/// - the hook that delivered it (its [`SCOPE_HEADER`], when present) covers the scope;
/// - `data` has what the scope's documented payload always has (`type` of the right resource
///   and its `id`; `orderId` for shipments).
///
/// Anything else is an [`Error::Decode`] (the entry is dead-lettered with the reason).
pub fn parse_callback(
    entry: &InboxEntry,
    serves: impl Fn(&str) -> bool,
) -> Result<(Callback, Thin), Error> {
    let what = || {
        format!(
            "bigcommerce {}",
            entry.topic.as_deref().unwrap_or("callback")
        )
    };
    let cb: Callback = serde_json::from_slice(&entry.body).map_err(|e| {
        BigCommerceError::decode(what(), format!("not a BigCommerce callback: {e}"))
    })?;
    let store = cb
        .store_hash()
        .ok_or_else(|| {
            BigCommerceError::decode(
                what(),
                format!(
                    "`producer` `{}` is not `stores/{{store_hash}}`",
                    cb.producer
                ),
            )
        })?
        .to_owned();
    if !serves(&store) {
        return Err(BigCommerceError::decode(
            what(),
            format!("the callback is from store `{store}`, which this source does not serve"),
        )
        .into());
    }
    if let Some(shop) = entry.shop.as_deref()
        && shop != store
    {
        return Err(BigCommerceError::decode(
            what(),
            format!("the callback names store `{store}` but was received for `{shop}`"),
        )
        .into());
    }
    if let Some(hook) = entry.meta.get(META_HOOK_SCOPE)
        && !scope_covers(hook, &cb.scope)
    {
        return Err(BigCommerceError::decode(
            what(),
            format!(
                "a `{}` callback was delivered by the hook for `{hook}`",
                cb.scope
            ),
        )
        .into());
    }
    if cb.hash.trim().is_empty() {
        return Err(BigCommerceError::decode(what(), "`hash` is empty").into());
    }
    let data = |kind: &str| -> Result<(), Error> {
        match cb.data.get("type").and_then(serde_json::Value::as_str) {
            Some(k) if k == kind => Ok(()),
            Some(k) => Err(BigCommerceError::decode(
                what(),
                format!("a `{}` callback about a `{k}`, not a `{kind}`", cb.scope),
            )
            .into()),
            None => Err(BigCommerceError::decode(what(), "`data.type` is missing").into()),
        }
    };
    let bad = |e: serde_json::Error| -> Error {
        BigCommerceError::decode(what(), format!("`data`: {e}")).into()
    };
    let thin = match cb.scope.as_str() {
        s @ ("store/order/created"
        | "store/order/updated"
        | "store/order/archived"
        | "store/order/statusUpdated") => {
            data("order")?;
            let d: OrderData = serde_json::from_value(cb.data.clone()).map_err(bad)?;
            let change = match s {
                "store/order/created" => OrderChange::Created,
                "store/order/updated" => OrderChange::Updated,
                "store/order/archived" => OrderChange::Archived,
                _ => OrderChange::StatusUpdated,
            };
            // `data.status` is on the "Webhook Events" page but not in the "HTTPS Webhooks
            // Overview" example of the same scope; the hydrator reads the current status from
            // the API anyway, so it is optional (and must be well-formed when present).
            let new_status = d
                .status
                .map(|StatusChange { new_status_id, .. }| new_status_id);
            Thin::Order {
                change,
                id: d.id,
                new_status,
            }
        }
        s @ ("store/shipment/created" | "store/shipment/updated") => {
            data("shipment")?;
            let d: ShipmentData = serde_json::from_value(cb.data.clone()).map_err(bad)?;
            Thin::Shipment {
                created: s == "store/shipment/created",
                id: d.id,
                order_id: d.order_id,
            }
        }
        "store/customer/created" | "store/customer/updated" => {
            data("customer")?;
            let d: CustomerData = serde_json::from_value(cb.data.clone()).map_err(bad)?;
            Thin::Customer { id: d.id }
        }
        "store/app/uninstalled" => {
            data("store")?;
            let _: StoreData = serde_json::from_value(cb.data.clone()).map_err(bad)?;
            Thin::AppUninstalled {
                store: store.clone(),
            }
        }
        _ => Thin::Other,
    };
    Ok((cb, thin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_scopes_cover_their_wildcards() {
        assert!(scope_covers("store/order/created", "store/order/created"));
        assert!(scope_covers("store/order/*", "store/order/statusUpdated"));
        assert!(!scope_covers("store/order/*", "store/customer/created"));
        assert!(!scope_covers("store/order/created", "store/order/updated"));
        assert!(!scope_covers("*", "store/order/updated"));
    }
}
