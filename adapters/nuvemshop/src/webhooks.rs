//! Nuvemshop webhooks: verification ([`WebhookSource::verify`]) and the checks every stored
//! notification passes before it is decoded or hydrated ([`parse_notification`]).

use aftercare::Error;
use aftercare::model::{PlatformEvent, ShopId};
use aftercare::store::InboxEntry;
use aftercare::webhook::{
    RawHeaders, Rejection, Scheme, Secret, VerifiedWebhook, Verifier, WebhookRequest,
    WebhookSource, body_hash_key,
};
use serde::Deserialize;
use serde_json::Value;

use crate::error::NuvemshopError;
use crate::payload::{CustomerDataRequest, CustomerRedact, Id, Notification, StoreRedact};

/// The signature header (`resources/webhook.md`, "Verifying a webhook"): lowercase hex
/// HMAC-SHA256 of the raw body, keyed with the app's secret. Header names are compared
/// case-insensitively; hex in either case.
pub const SIGNATURE_HEADER: &str = "X-Linkedstore-HMAC-SHA256";

/// The custom header [`NuvemshopClient::ensure_hooks`](crate::NuvemshopClient::ensure_hooks)
/// puts on every webhook it creates (`POST /webhooks` `headers`, sent back with each
/// notification; dev.nuvemshop.com.br "ERP guide › Orders › Webhooks"): the store id.
pub const STORE_HEADER: &str = "X-Aftercare-Store-Id";

/// The custom header naming the event a webhook was created for (set likewise).
pub const EVENT_HEADER: &str = "X-Aftercare-Event";

/// The LGPD topics. Their bodies carry no `event` (Nuvemshop's "LGPD Webhooks Test"
/// collection posts `{"store_id": ...}` to a URL per topic), so each is received on its own
/// route by a source made with [`NuvemshopWebhooks::privacy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrivacyTopic {
    /// `store/redact`: erase everything of the store.
    StoreRedact,
    /// `customers/redact`: erase a customer's data.
    CustomersRedact,
    /// `customers/data_request`: a customer asks for their data.
    CustomersDataRequest,
}

impl PrivacyTopic {
    /// The topic's name.
    pub fn as_str(self) -> &'static str {
        match self {
            PrivacyTopic::StoreRedact => "store/redact",
            PrivacyTopic::CustomersRedact => "customers/redact",
            PrivacyTopic::CustomersDataRequest => "customers/data_request",
        }
    }
}

/// Nuvemshop / Tiendanube as a [`WebhookSource`].
///
/// - **Signature first**: [`SIGNATURE_HEADER`], hex HMAC-SHA256 of the raw body with the
///   app's secret (several secrets during a rotation), in constant time.
/// - **The store**: the signed body's `store_id` must be a configured store, else
///   [`Rejection::WrongAccount`] (403) before anything is stored; so must the
///   [`STORE_HEADER`] of webhooks created by `ensure_hooks`, and it must agree with the body.
///   Likewise [`EVENT_HEADER`] must agree with the body's `event` (a signed body replayed to
///   the URL of another event is refused).
/// - **De-duplication**: Nuvemshop sends no delivery id and its retries (14 over three days)
///   resend the same bytes, so the key is the body's SHA-256. The body has no time either: a
///   second `order/updated` of one order is byte-identical to the first, and the inbox's
///   content window treats it as a duplicate. The catch-up poller (on by default in
///   [`NuvemshopShop`](crate::NuvemshopShop)) brings such later changes.
///
/// ```
/// use aftercare::webhook::{Secret, WebhookRequest, WebhookSource};
/// use aftercare_nuvemshop::NuvemshopWebhooks;
/// let src = NuvemshopWebhooks::new(Secret::from("app-secret"), "4815", "123");
/// let body = br#"{"store_id":123,"event":"order/created","id":450789469}"#;
/// let headers = src.sign_for_test(body);
/// let now = chrono::Utc::now();
/// let v = src.verify(&WebhookRequest::new(&headers, body, now)).unwrap();
/// assert_eq!(v.topic.as_deref(), Some("order/created"));
/// assert_eq!(v.shop.as_deref(), Some("123"));
/// ```
#[derive(Clone, Debug)]
pub struct NuvemshopWebhooks {
    verifier: Verifier,
    app_id: String,
    stores: Vec<String>,
    privacy: Option<PrivacyTopic>,
}

impl NuvemshopWebhooks {
    /// A source verifying with the app's secret (`client_secret`), for the app `app_id` (its
    /// `client_id`, the `id` of `app/uninstalled`), serving one store (`store_id`, the
    /// `user_id` of the authorization step).
    pub fn new(app_secret: Secret, app_id: impl Into<String>, store_id: impl Into<String>) -> Self {
        Self {
            verifier: Verifier::new(Scheme::hmac_sha256_hex(SIGNATURE_HEADER), app_secret),
            app_id: app_id.into(),
            stores: vec![store_id.into()],
            privacy: None,
        }
    }

    /// A source accepting several secrets, the current one first (during a rotation).
    pub fn with_secrets(
        app_secrets: impl IntoIterator<Item = Secret>,
        app_id: impl Into<String>,
        store_id: impl Into<String>,
    ) -> Self {
        Self {
            verifier: Verifier::with_secrets(
                Scheme::hmac_sha256_hex(SIGNATURE_HEADER),
                app_secrets,
            ),
            app_id: app_id.into(),
            stores: vec![store_id.into()],
            privacy: None,
        }
    }

    /// The same source for one LGPD topic's URL: bodies without `event` are that topic.
    pub fn privacy(mut self, topic: PrivacyTopic) -> Self {
        self.privacy = Some(topic);
        self
    }

    /// Serves one more store (every store of an app shares its secret).
    pub fn add_store(mut self, store_id: impl Into<String>) -> Self {
        self.stores.push(store_id.into());
        self
    }

    /// Starts a rotation: `new` becomes the current secret, the old one stays accepted.
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

    /// Whether the source serves `store_id`.
    pub fn serves(&self, store_id: &str) -> bool {
        self.stores.iter().any(|s| s == store_id)
    }

    /// The app id.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// Signs `body` as Nuvemshop does (only [`SIGNATURE_HEADER`]), for tests and tools.
    pub fn sign_for_test(&self, body: &[u8]) -> RawHeaders {
        self.verifier.sign(body, chrono::Utc::now())
    }

    /// [`NuvemshopWebhooks::sign_for_test`] plus the custom headers of a webhook created by
    /// `ensure_hooks` for `store_id` and `event`.
    pub fn sign_delivery_for_test(&self, store_id: &str, event: &str, body: &[u8]) -> RawHeaders {
        let mut h = self.sign_for_test(body);
        h.insert(STORE_HEADER, store_id);
        h.insert(EVENT_HEADER, event);
        h
    }
}

/// What verification reads of the (verified) body.
#[derive(Deserialize)]
struct Head {
    #[serde(default)]
    store_id: Option<Value>,
    #[serde(default)]
    event: Option<String>,
}

fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            Some(s.clone())
        }
        _ => None,
    }
}

fn header<'h>(headers: &'h RawHeaders, name: &str) -> Option<&'h str> {
    headers
        .get_str(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

impl WebhookSource for NuvemshopWebhooks {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        self.verifier
            .verify(request.headers, request.body, request.received_at)?;
        let head: Option<Head> = serde_json::from_slice(request.body).ok();
        let store = head
            .as_ref()
            .and_then(|h| h.store_id.as_ref())
            .and_then(id_text);
        let claimed = header(request.headers, STORE_HEADER);
        for s in store.as_deref().into_iter().chain(claimed) {
            if !self.serves(s) {
                return Err(Rejection::WrongAccount {
                    what: "store",
                    claimed: s.to_owned(),
                });
            }
        }
        if let (Some(body), Some(hdr)) = (store.as_deref(), claimed)
            && body != hdr
        {
            return Err(Rejection::WrongAccount {
                what: "store",
                claimed: body.to_owned(),
            });
        }
        let event = head
            .as_ref()
            .and_then(|h| h.event.clone())
            .or_else(|| self.privacy.map(|p| p.as_str().to_owned()));
        if let (Some(hooked), Some(event)) =
            (header(request.headers, EVENT_HEADER), event.as_deref())
            && hooked != event
        {
            // A signed body of one event replayed to the webhook of another: refused, as a
            // signature mismatch is (the body is genuine, the delivery is not).
            return Err(Rejection::Mismatch);
        }
        let mut out = VerifiedWebhook::new(body_hash_key(request.body));
        out.topic = event;
        out.shop = store.or_else(|| claimed.map(str::to_owned));
        Ok(out)
    }

    /// Decodes what needs no API call: `app/uninstalled`, the LGPD topics, and events the
    /// adapter does not use ([`PlatformEvent::Unrecognized`]). Order notifications carry only
    /// ids: they are hydrated by [`NuvemshopHydrator`](crate::NuvemshopHydrator); without it
    /// they are refused as a configuration error.
    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        let (store, thin) = parse_notification(entry, |s| self.serves(s), &self.app_id)?;
        match thin {
            Thin::Order { event, .. } => Err(Error::Config(format!(
                "Nuvemshop `{event}` notifications carry only ids: register `NuvemshopHydrator` with `InboxProcessor::hydrator` for this source"
            ))),
            other => Ok(other.events(&store)),
        }
    }
}

/// What a stored notification asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Thin {
    /// `order/created|updated|paid|packed|fulfilled|cancelled`: read the order.
    Order {
        /// The event.
        event: String,
        /// The order.
        id: Id,
    },
    /// `app/uninstalled` of this app.
    AppUninstalled,
    /// `app/suspended` (API access suspended for lack of payment: the API answers `402`).
    AppSuspended,
    /// `app/resumed`.
    AppResumed,
    /// `store/redact`.
    StoreRedact,
    /// `customers/redact`.
    CustomerRedact {
        /// The customer.
        customer: Id,
        /// Their email.
        email: Option<String>,
        /// Their phone.
        phone: Option<String>,
        /// Orders concerned.
        orders: Vec<Id>,
    },
    /// `customers/data_request`.
    CustomerDataRequest {
        /// The customer.
        customer: Id,
        /// Their email.
        email: Option<String>,
        /// Orders concerned.
        orders: Vec<Id>,
    },
    /// Any other event.
    Other(String),
}

impl Thin {
    /// The events of a notification that needs no API call (not [`Thin::Order`]).
    pub fn events(self, store: &str) -> Vec<PlatformEvent> {
        let shop = ShopId::from(store);
        match self {
            Thin::AppUninstalled => vec![PlatformEvent::AppUninstalled { shop }],
            Thin::StoreRedact => vec![PlatformEvent::ShopRedactRequested { shop }],
            Thin::CustomerRedact {
                customer,
                email,
                phone,
                orders,
            } => vec![PlatformEvent::CustomerRedactRequested {
                shop,
                customer_id: customer.as_str().into(),
                email,
                phone,
                orders: orders.iter().map(|o| o.as_str().into()).collect(),
            }],
            Thin::CustomerDataRequest {
                customer,
                email,
                orders,
            } => vec![PlatformEvent::CustomerDataRequested {
                shop,
                customer_id: customer.as_str().into(),
                email,
                orders: orders.iter().map(|o| o.as_str().into()).collect(),
            }],
            Thin::AppSuspended => vec![PlatformEvent::Unrecognized {
                topic: "app/suspended".into(),
            }],
            Thin::AppResumed => vec![PlatformEvent::Unrecognized {
                topic: "app/resumed".into(),
            }],
            Thin::Order { event, .. } | Thin::Other(event) => {
                vec![PlatformEvent::Unrecognized { topic: event }]
            }
        }
    }
}

/// The order events Nuvemshop sends (`resources/webhook.md` and the 2025-03 docs).
pub const ORDER_EVENTS: &[&str] = &[
    "order/created",
    "order/updated",
    "order/paid",
    "order/packed",
    "order/fulfilled",
    "order/cancelled",
];

/// Reads a stored notification and checks it is what it claims, before anything acts on it:
/// - the body names a store `serves` accepts, and the one the entry was stored for;
/// - its `event` is the entry's topic;
/// - it has what its event's documented body always has:
///
/// | event | required |
/// |---|---|
/// | `order/*` | `store_id`, `event`, `id` (an integer id) |
/// | `app/uninstalled`, `app/suspended`, `app/resumed` | `store_id`, `event`, `id` equal to the app's id |
/// | `store/redact` | `store_id` only |
/// | `customers/redact` | `store_id`, `customer.id`, `orders_to_redact` |
/// | `customers/data_request` | `store_id`, `customer.id`, `orders_requested` |
/// | others | `store_id`, `event` |
///
/// Anything else is an [`Error::Decode`] (the entry is dead-lettered with the reason).
pub fn parse_notification(
    entry: &InboxEntry,
    serves: impl Fn(&str) -> bool,
    app_id: &str,
) -> Result<(String, Thin), Error> {
    let topic = entry.topic.as_deref().unwrap_or("");
    let what = || {
        format!(
            "nuvemshop {}",
            if topic.is_empty() {
                "notification"
            } else {
                topic
            }
        )
    };
    let bad = |m: String| -> Error { NuvemshopError::decode(what(), m).into() };
    let check_store = |store: &Id| -> Result<String, Error> {
        let s = store.as_str();
        if !serves(s) {
            return Err(bad(format!(
                "the notification is from store `{s}`, which this source does not serve"
            )));
        }
        if let Some(shop) = entry.shop.as_deref()
            && shop != s
        {
            return Err(bad(format!(
                "the notification names store `{s}` but was received for `{shop}`"
            )));
        }
        Ok(s.to_owned())
    };
    match topic {
        "store/redact" => {
            let b: StoreRedact = serde_json::from_slice(&entry.body)
                .map_err(|e| bad(format!("not a store/redact body: {e}")))?;
            return Ok((check_store(&b.store_id)?, Thin::StoreRedact));
        }
        "customers/redact" => {
            let b: CustomerRedact = serde_json::from_slice(&entry.body)
                .map_err(|e| bad(format!("not a customers/redact body: {e}")))?;
            let store = check_store(&b.store_id)?;
            return Ok((
                store,
                Thin::CustomerRedact {
                    customer: b.customer.id,
                    email: b.customer.email,
                    phone: b.customer.phone,
                    orders: b.orders_to_redact,
                },
            ));
        }
        "customers/data_request" => {
            let b: CustomerDataRequest = serde_json::from_slice(&entry.body)
                .map_err(|e| bad(format!("not a customers/data_request body: {e}")))?;
            let store = check_store(&b.store_id)?;
            return Ok((
                store,
                Thin::CustomerDataRequest {
                    customer: b.customer.id,
                    email: b.customer.email,
                    orders: b.orders_requested,
                },
            ));
        }
        _ => {}
    }
    let n: Notification = serde_json::from_slice(&entry.body)
        .map_err(|e| bad(format!("not a Nuvemshop notification: {e}")))?;
    let store = check_store(&n.store_id)?;
    if n.event != topic {
        return Err(bad(format!(
            "the body's event `{}` is not the entry's topic",
            n.event
        )));
    }
    let need_id = || {
        n.id.clone()
            .ok_or_else(|| bad(format!("`{}` without the resource's `id`", n.event)))
    };
    let app = |thin: Thin| -> Result<Thin, Error> {
        let id = need_id()?;
        if id.as_str() != app_id {
            return Err(bad(format!(
                "`{}` of app `{id}`, not of this app (`{app_id}`)",
                n.event
            )));
        }
        Ok(thin)
    };
    let thin = match n.event.as_str() {
        e if ORDER_EVENTS.contains(&e) => Thin::Order {
            event: e.to_owned(),
            id: need_id()?,
        },
        "app/uninstalled" => app(Thin::AppUninstalled)?,
        "app/suspended" => app(Thin::AppSuspended)?,
        "app/resumed" => app(Thin::AppResumed)?,
        other => Thin::Other(other.to_owned()),
    };
    Ok((store, thin))
}
