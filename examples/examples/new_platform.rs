//! A new shop platform on the sdk's platform kit, in one file: the template to copy when
//! Aftercare has no adapter for your platform. `docs/adding-a-platform.md` is the long form.
//! It is one file past 800 lines on purpose: a template is copied whole, and a real adapter
//! splits it by the steps marked below (`webhooks.rs`, `payload.rs`, `client.rs`,
//! `tests/kit.rs`), as `adapters/*` do.
//!
//! The platform here, "Bazaar", is imaginary so that the file is short; its facts are the
//! table below, in the place where a real adapter cites its platform's documentation. Its
//! choices are ones real platforms make: Standard Webhooks signatures (BigCommerce, Svix), the
//! topic and the store inside the signed body (Salla), `Link` paging and the IETF `RateLimit`
//! headers with `Retry-After` on `429`.
//!
//! | fact | Bazaar |
//! |---|---|
//! | signature | Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>` over `{id}.{timestamp}.{body}`, secret `whsec_…` |
//! | body | `{"type": "order.created", "store": "<store>", "data": {"object": "order", …}}`; `bazaar-store` header (not signed) |
//! | topics | `order.created`, `order.paid`, `order.updated`, `order.cancelled`, `shipment.created`, `shipment.updated` |
//! | ids, money | ids as JSON numbers up to 2^64-1; `total` a decimal string in `currency` |
//! | API | `GET /v1/orders/{id}`, `GET /v1/orders?updated_since=&limit=` (`Link: <…>; rel="next"`), `GET /v1/orders/{id}/shipments`, `GET /v1/customers/{id}`, `POST /v1/orders/{id}/tags`, `PATCH /v1/orders/{id}` (`note`) |
//! | limits | `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds) per store; `429` with `Retry-After` |
//!
//! `cargo test -p aftercare-examples --example new_platform` runs the kit's checks on it
//! (`aftercare::platform_conformance_tests!`); `cargo run … --example new_platform` serves it
//! with `BAZAAR_STORE`, `BAZAAR_API`, `BAZAAR_TOKEN`, `BAZAAR_WEBHOOK_SECRET`,
//! `AFTERCARE_LINK_KEY` and `PUBLIC_URL` set.
use std::sync::Arc;
use std::time::Duration;

use aftercare::money::parse_money;
use aftercare::platform::limits::{QuotaGate, QuotaHeaders, ResetUnit, retry_after};
use aftercare::platform::{OrderAnnotator, links};
use aftercare::prelude::*;
use aftercare::stack::{PlatformParts, Stack};
use aftercare::store::InboxEntry;
use aftercare::webhook::{
    Rejection, Scheme, Secret, VerifiedWebhook, Verifier, WebhookRequest, WebhookSource,
};
use futures::stream::{self, BoxStream, StreamExt};
use serde::Deserialize;
use serde_json::Value;

/// Bazaar's shipment statuses, as its (imaginary) docs list them.
pub const STATUSES: [&str; 7] = [
    "label_created",
    "in_transit",
    "out_for_delivery",
    "attempted_delivery",
    "delivered",
    "exception",
    "returned",
];

/// Step 1: the status mapping, total (an unknown status keeps its raw text).
pub fn map_status(raw: &str) -> ShipmentStatus {
    match raw {
        "label_created" => ShipmentStatus::LabelCreated,
        "in_transit" => ShipmentStatus::InTransit,
        "out_for_delivery" => ShipmentStatus::OutForDelivery,
        "attempted_delivery" => ShipmentStatus::AttemptedDelivery,
        "delivered" => ShipmentStatus::Delivered,
        "exception" => ShipmentStatus::Exception,
        "returned" => ShipmentStatus::Returned,
        other => ShipmentStatus::Unknown(other.to_owned()),
    }
}

/// Step 2: the webhook source. Verifies before it parses; the store it is bound to is
/// checked against the signed body, never taken from the unsigned header.
pub struct BazaarWebhooks {
    verifier: Verifier,
    store: String,
}

impl BazaarWebhooks {
    /// Bazaar's webhooks for `store`, signed with `secret`.
    pub fn new(secret: Secret, store: impl Into<String>) -> Self {
        Self {
            verifier: Verifier::new(Scheme::StandardWebhooks, secret),
            store: store.into(),
        }
    }

    /// Signs `body` as Bazaar delivers it (tests and the kit).
    pub fn sign(&self, store: &str, body: &[u8]) -> aftercare::webhook::RawHeaders {
        let mut h = self.verifier.sign(body, Utc::now());
        h.insert("bazaar-store", store.as_bytes().to_vec());
        h
    }
}

/// The signed envelope.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    topic: String,
    store: String,
    #[serde(default)]
    data: Value,
}

fn decode_error(topic: &str, why: impl std::fmt::Display) -> Error {
    Error::decode(format!("bazaar {topic}"), why)
}

fn api_error(operation: &str, status: Option<u16>, why: impl ToString, retryable: bool) -> Error {
    Error::Platform {
        operation: operation.to_owned(),
        status,
        message: why.to_string(),
        retryable,
    }
}

impl WebhookSource for BazaarWebhooks {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        let checked = self
            .verifier
            .verify(request.headers, request.body, request.received_at)?;
        // The header is a claim: another store's is refused before anything is stored...
        if let Some(claimed) = request.headers.get_str("bazaar-store")
            && claimed != self.store
        {
            return Err(Rejection::WrongAccount {
                what: "store",
                claimed: claimed.to_owned(),
            });
        }
        // ...and so is a signed envelope naming another store. A body that is no envelope
        // is stored and dead-lettered by `decode`, with the reason.
        let env: Option<Envelope> = serde_json::from_slice(request.body).ok();
        if let Some(env) = &env
            && env.store != self.store
        {
            return Err(Rejection::WrongAccount {
                what: "store",
                claimed: env.store.clone(),
            });
        }
        let id = checked.message_id.ok_or(Rejection::MissingHeader {
            header: "webhook-id".into(),
        })?;
        let mut v = VerifiedWebhook::new(id);
        v.topic = env.map(|e| e.topic);
        v.shop = Some(self.store.clone());
        v.occurred_at = checked.timestamp;
        Ok(v)
    }

    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        let env: Envelope =
            serde_json::from_slice(&entry.body).map_err(|e| decode_error("webhook", e))?;
        let topic = env.topic.as_str();
        if env.store != self.store {
            return Err(decode_error(topic, "the body names another store"));
        }
        let order = |data: Value| parse_order(topic, &env.store, data);
        let shipment = |data: Value| parse_shipment(topic, &env.store, data);
        Ok(match topic {
            "order.created" => vec![PlatformEvent::OrderCreated {
                order: order(env.data)?,
            }],
            "order.paid" => vec![PlatformEvent::OrderPaid {
                order: order(env.data)?,
            }],
            "order.updated" => vec![PlatformEvent::OrderUpdated {
                order: order(env.data)?,
            }],
            "order.cancelled" => vec![PlatformEvent::OrderCancelled {
                order: order(env.data)?,
            }],
            "shipment.created" => vec![PlatformEvent::ShipmentCreated {
                shipment: shipment(env.data)?,
            }],
            "shipment.updated" => vec![PlatformEvent::ShipmentUpdated {
                shipment: shipment(env.data)?,
            }],
            _ => vec![PlatformEvent::Unrecognized {
                topic: env.topic.clone(),
            }],
        })
    }
}

/// Step 3: payloads into the sdk's model. Ids stay text; money goes to minor units with
/// the currency's exponent; a body of another resource is refused by its `object`.
#[derive(Deserialize)]
struct OrderPayload {
    object: String,
    id: u64,
    number: String,
    currency: String,
    total: String,
    #[serde(default)]
    customer: Option<CustomerPayload>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    locale: Option<String>,
    #[serde(default)]
    items: Vec<ItemPayload>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    cancelled: bool,
    updated_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct ItemPayload {
    id: u64,
    product_id: Option<u64>,
    title: String,
    quantity: u32,
    price: Option<String>,
}

#[derive(Deserialize)]
struct CustomerPayload {
    id: u64,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    locale: Option<String>,
    updated_at: Option<DateTime<Utc>>,
}

impl CustomerPayload {
    fn into_model(self) -> Customer {
        let mut c = Customer::new(self.id);
        c.first_name = self.first_name;
        c.last_name = self.last_name;
        c.email = self.email;
        c.phone = self.phone;
        c.locale = self.locale;
        c.updated_at = self.updated_at;
        c
    }
}

#[derive(Deserialize)]
struct ShipmentPayload {
    object: String,
    id: u64,
    order_id: u64,
    status: String,
    carrier: Option<String>,
    tracking_number: Option<String>,
    tracking_url: Option<String>,
    estimated_delivery: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

fn parse_order(topic: &str, store: &str, data: Value) -> Result<Order, Error> {
    let p: OrderPayload = serde_json::from_value(data).map_err(|e| decode_error(topic, e))?;
    if p.object != "order" {
        return Err(decode_error(
            topic,
            format!("a {} is not an order", p.object),
        ));
    }
    let total = parse_money(&p.total, &p.currency)
        .ok_or_else(|| decode_error(topic, format!("total {:?} is not an amount", p.total)))?;
    let mut o = Order::new(p.id, p.number);
    o.shop = Some(ShopId::new(store));
    o.total = Some(total);
    o.email = p.email;
    o.phone = p.phone;
    o.locale = p.locale;
    o.tags = p.tags;
    o.cancelled = p.cancelled;
    o.updated_at = Some(p.updated_at);
    for i in p.items {
        let mut l = LineItem::new(i.title, i.quantity);
        l.id = Some(i.id.to_string());
        l.product_id = i.product_id.map(Into::into);
        l.unit_price = i.price.and_then(|p| parse_money(&p, &p_currency(&o)));
        o.line_items.push(l);
    }
    if let Some(c) = p.customer {
        o.customer_id = Some(c.id.into());
        o.customer = Some(Box::new(c.into_model()));
    }
    Ok(o)
}

fn p_currency(o: &Order) -> String {
    o.total
        .as_ref()
        .map(|m| m.currency.clone())
        .unwrap_or_default()
}

fn parse_shipment(topic: &str, store: &str, data: Value) -> Result<Shipment, Error> {
    let p: ShipmentPayload = serde_json::from_value(data).map_err(|e| decode_error(topic, e))?;
    if p.object != "shipment" {
        return Err(decode_error(
            topic,
            format!("a {} is not a shipment", p.object),
        ));
    }
    let mut s = Shipment::new(p.id, p.order_id, map_status(&p.status));
    s.shop = Some(ShopId::new(store));
    s.carrier = p.carrier;
    s.tracking_numbers.extend(p.tracking_number);
    s.tracking_urls.extend(p.tracking_url);
    s.estimated_delivery = p.estimated_delivery;
    s.updated_at = Some(p.updated_at);
    Ok(s)
}

/// Step 4: the API client. Every request goes through the quota gate, which never lets
/// more through than the store's window allows; a `429` stops all requests for its
/// `Retry-After`, then the request is tried again.
pub struct BazaarApi {
    http: reqwest::Client,
    base: String,
    token: Secret,
    store: String,
    gate: QuotaGate,
}

const QUOTA: QuotaHeaders = QuotaHeaders::new(
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    ResetUnit::Seconds,
);

impl BazaarApi {
    /// A client of `base` (`https://api.bazaar.example`) for `store`.
    pub fn new(base: &str, store: &str, token: Secret) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| api_error("build the HTTP client", None, e.to_string(), false))?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token,
            store: store.to_owned(),
            gate: QuotaGate::new(0),
        })
    }

    /// One request, paced; `Ok(None)` for a `404`.
    async fn call(
        &self,
        op: &str,
        req: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Option<(Value, Option<String>)>, Error> {
        loop {
            self.gate.acquire().await;
            let token = String::from_utf8_lossy(self.token.expose()).into_owned();
            let resp = req()
                .bearer_auth(token)
                .header("bazaar-store", &self.store)
                .send()
                .await
                .map_err(|e| api_error(op, None, e.to_string(), true))?;
            let get = |n: &str| resp.headers().get(n).and_then(|v| v.to_str().ok());
            self.gate.observe(&QUOTA.read(get, Utc::now()));
            let status = resp.status().as_u16();
            if status == 429 {
                let wait = get("Retry-After").and_then(|v| retry_after(v, Utc::now()));
                self.gate.throttled(wait.unwrap_or(Duration::from_secs(1)));
                continue;
            }
            if status == 404 {
                return Ok(None);
            }
            // The next page's link, resolved against this request's URL (RFC 8288 allows
            // relative references).
            let next = get("Link")
                .and_then(|l| links::link(l, "next"))
                .and_then(|n| resp.url().join(&n).ok())
                .map(String::from);
            if !(200..300).contains(&status) {
                let retryable = status >= 500;
                return Err(api_error(op, Some(status), "Bazaar refused", retryable));
            }
            let body = resp
                .json::<Value>()
                .await
                .map_err(|e| api_error(op, Some(status), e.to_string(), true))?;
            return Ok(Some((body, next)));
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v1/{path}", self.base)
    }

    async fn order_value(&self, id: &str) -> Result<Option<Value>, Error> {
        let url = self.url(&format!("orders/{id}"));
        Ok(self
            .call("read an order", || self.http.get(&url))
            .await?
            .map(|(v, _)| v))
    }
}

#[async_trait]
impl OrderSource for BazaarApi {
    async fn order(&self, id: &OrderId) -> Result<Option<Order>, Error> {
        match self.order_value(id.as_str()).await? {
            Some(v) => parse_order("GET order", &self.store, v).map(Some),
            None => Ok(None),
        }
    }

    fn updated_since(&self, since: DateTime<Utc>) -> BoxStream<'_, Result<Order, Error>> {
        let first = format!(
            "{}?updated_since={}&limit=50",
            self.url("orders"),
            since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        // One page at a time, following `Link: rel="next"`; an error ends the pass.
        stream::unfold(Some(first), move |url| async move {
            let url = url?;
            Some(
                match self.call("list orders", || self.http.get(&url)).await {
                    Ok(Some((Value::Array(list), next))) => (
                        list.into_iter()
                            .map(|v| parse_order("GET orders", &self.store, v))
                            .collect::<Vec<_>>(),
                        next,
                    ),
                    Ok(_) => (
                        vec![Err(api_error("list orders", None, "not a list", false))],
                        None,
                    ),
                    Err(e) => (vec![Err(e)], None),
                },
            )
        })
        .flat_map(stream::iter)
        .boxed()
    }

    async fn shipments(&self, order: &OrderId) -> Result<Vec<Shipment>, Error> {
        let url = self.url(&format!("orders/{order}/shipments"));
        match self.call("list shipments", || self.http.get(&url)).await? {
            Some((Value::Array(list), _)) => list
                .into_iter()
                .map(|v| parse_shipment("GET shipments", &self.store, v))
                .collect(),
            _ => Ok(Vec::new()),
        }
    }
}

#[async_trait]
impl CustomerDirectory for BazaarApi {
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, Error> {
        let url = self.url(&format!("customers/{id}"));
        match self.call("read a customer", || self.http.get(&url)).await? {
            Some((v, _)) => serde_json::from_value::<CustomerPayload>(v)
                .map(|c| Some(c.into_model()))
                .map_err(|e| decode_error("GET customer", e)),
            None => Ok(None),
        }
    }
}

/// Step 5: write-back, idempotent: what is already there is not written again, so a retried
/// flow never tags or notes an order twice.
#[async_trait]
impl OrderAnnotator for BazaarApi {
    async fn add_order_tags(&self, order: &OrderId, tags: &[String]) -> Result<(), Error> {
        let Some(current) = self.order_value(order.as_str()).await? else {
            return Err(api_error("tag an order", Some(404), "no such order", false));
        };
        let has = |t: &String| {
            current["tags"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == t))
        };
        let missing: Vec<&String> = tags.iter().filter(|t| !has(t)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        let url = self.url(&format!("orders/{order}/tags"));
        let body = serde_json::json!({ "tags": missing });
        self.call("tag an order", || self.http.post(&url).json(&body))
            .await
            .map(drop)
    }

    async fn add_customer_tags(&self, customer: &CustomerId, tags: &[String]) -> Result<(), Error> {
        // Bazaar has no customer tags: a platform without the capability says so.
        let _ = (customer, tags);
        Err(api_error(
            "tag a customer",
            None,
            "Bazaar has no customer tags",
            false,
        ))
    }

    async fn append_order_note(&self, order: &OrderId, line: &str) -> Result<(), Error> {
        let Some(current) = self.order_value(order.as_str()).await? else {
            return Err(api_error(
                "note an order",
                Some(404),
                "no such order",
                false,
            ));
        };
        let note = current["note"].as_str().unwrap_or_default();
        if note.lines().any(|l| l == line) {
            return Ok(());
        }
        let note = if note.is_empty() {
            line.to_owned()
        } else {
            format!("{note}\n{line}")
        };
        let url = self.url(&format!("orders/{order}"));
        let body = serde_json::json!({ "note": note });
        self.call("note an order", || self.http.patch(&url).json(&body))
            .await
            .map(drop)
    }

    async fn set_order_metafield(
        &self,
        order: &OrderId,
        namespace: &str,
        key: &str,
        value: &str,
    ) -> Result<(), Error> {
        let _ = (order, namespace, key, value);
        Err(api_error(
            "set a metafield",
            None,
            "Bazaar has no metafields",
            false,
        ))
    }
}

/// Step 6: wire it like any platform. Everything else (inbox, flows, pages, dispatcher,
/// consent, quiet hours) is the sdk's.
#[allow(dead_code)] // the kit's tests build this file without running `main`
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |k: &str| std::env::var(k).map_err(|_| format!("set {k}"));
    let store_id = env("BAZAAR_STORE")?;
    let secret = Secret::from_standard_webhooks(&env("BAZAAR_WEBHOOK_SECRET")?)?;
    let source = Arc::new(BazaarWebhooks::new(secret, store_id.clone()));
    let token = Secret::from(env("BAZAAR_TOKEN")?.as_str());
    let api = Arc::new(BazaarApi::new(&env("BAZAAR_API")?, &store_id, token)?);
    let store = Arc::new(aftercare_sqlite::SqliteStore::open("aftercare.db").await?);
    let stack = Stack::builder(store)
        .platform(PlatformParts::new("bazaar", source, api.clone()).annotator(api))
        .channel(Arc::new(aftercare_sandbox::ConsoleChannel::new(
            ChannelKind::Email,
        )))
        .shop_name(store_id)
        .public_url(env("PUBLIC_URL")?)
        .link_key(Secret::from(env("AFTERCARE_LINK_KEY")?.as_str()))
        .build()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    let stop = async { drop(tokio::signal::ctrl_c().await) };
    Ok(stack.run(listener, stop).await?)
}

/// Step 7: the kit. Each check of `aftercare::conformance::platform` runs on Bazaar through
/// wiremock stand-ins shaped as its facts table says.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod kit {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};

    use aftercare::conformance::platform::{
        Fixture, KitOrder, PlatformKit, RateProbe, SignatureVector,
    };
    use aftercare::webhook::RawHeaders;
    use serde_json::json;
    use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers};

    use super::*;

    const STORE: &str = "store_1";
    const OTHER: &str = "store_2";
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const DOC: &str = "examples/examples/new_platform.rs, Bazaar's facts table";

    fn source() -> BazaarWebhooks {
        BazaarWebhooks::new(Secret::from_standard_webhooks(SECRET).unwrap(), STORE)
    }

    fn envelope(topic: &str, store: &str, data: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({ "type": topic, "store": store, "data": data })).unwrap()
    }

    fn order(id: Value, currency: &str, total: &str, updated_at: &str) -> Value {
        json!({
            "object": "order", "id": id, "number": "#1001", "currency": currency, "total": total,
            "email": "noura@example.com", "locale": "ar",
            "customer": { "id": 7, "first_name": "Noura", "updated_at": updated_at },
            "items": [{ "id": 1, "product_id": 9, "title": "Grinder", "quantity": 1, "price": total }],
            "updated_at": updated_at,
        })
    }

    fn shipment() -> Value {
        json!({
            "object": "shipment", "id": 55, "order_id": 1001, "status": "in_transit",
            "carrier": "UPS", "tracking_number": "1Z999", "updated_at": "2026-11-02T08:00:00Z",
        })
    }

    #[derive(Default)]
    struct BazaarKit {
        servers: Mutex<Vec<MockServer>>,
    }

    impl BazaarKit {
        async fn serve(&self, responder: impl Respond + 'static) -> String {
            let server = MockServer::start().await;
            Mock::given(matchers::any())
                .respond_with(responder)
                .mount(&server)
                .await;
            let uri = server.uri();
            self.servers.lock().unwrap().push(server);
            uri
        }
    }

    /// `GET /v1/orders?page=n` with `Link: <…page=n+1>; rel="next"`; one page may fail once.
    struct Pages {
        pages: Vec<Vec<Value>>,
        fail_once_at: Option<usize>,
        failed: AtomicBool,
    }

    impl Respond for Pages {
        fn respond(&self, req: &Request) -> ResponseTemplate {
            let page: usize = req
                .url
                .query_pairs()
                .find(|(k, _)| k == "page")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            if self.fail_once_at == Some(page) && !self.failed.swap(true, Ordering::SeqCst) {
                return ResponseTemplate::new(500);
            }
            let mut r = ResponseTemplate::new(200)
                .set_body_json(self.pages.get(page).cloned().unwrap_or_default());
            if page + 1 < self.pages.len() {
                let mut next = req.url.clone();
                let kept: Vec<(String, String)> = req
                    .url
                    .query_pairs()
                    .filter(|(k, _)| k != "page")
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                next.query_pairs_mut()
                    .clear()
                    .extend_pairs(kept)
                    .append_pair("page", &(page + 1).to_string());
                // A relative reference, as RFC 8288 allows: the client resolves it.
                let next = format!("{}?{}", next.path(), next.query().unwrap_or_default());
                r = r.insert_header("Link", format!("<{next}>; rel=\"next\""));
            }
            r
        }
    }

    /// Fixed windows of 1 s holding 3 requests, announced in `RateLimit-*`; the third
    /// request ever is answered `429` with `Retry-After: 1`.
    struct Limited {
        pages: Pages,
        probe: Arc<Mutex<RateProbe>>,
        window: Mutex<Option<(tokio::time::Instant, u32)>>,
    }

    impl Respond for Limited {
        fn respond(&self, req: &Request) -> ResponseTemplate {
            let now = tokio::time::Instant::now();
            let mut p = self.probe.lock().unwrap();
            p.arrivals.push(now);
            let mut w = self.window.lock().unwrap();
            let (start, used) = match *w {
                Some((start, used)) if now.duration_since(start) < p.window => (start, used + 1),
                _ => {
                    p.window_starts.push(now);
                    (now, 1)
                }
            };
            *w = Some((start, used));
            let reset = (p.window - now.duration_since(start)).as_secs_f64().ceil() as u64;
            let quota = p.quota;
            let headers = |r: ResponseTemplate| {
                r.insert_header("RateLimit-Limit", quota.to_string())
                    .insert_header(
                        "RateLimit-Remaining",
                        quota.saturating_sub(used).to_string(),
                    )
                    .insert_header("RateLimit-Reset", reset.to_string())
            };
            if p.arrivals.len() == 3 || used > p.quota {
                p.throttled = Some((now, Duration::from_secs(1)));
                return headers(ResponseTemplate::new(429).insert_header("Retry-After", "1"));
            }
            headers(self.pages.respond(req))
        }
    }

    /// An order's tags and note, counting the writes that changed something.
    #[derive(Clone, Default)]
    struct Writes(Arc<Mutex<(Vec<String>, String, usize)>>);

    impl Respond for Writes {
        fn respond(&self, req: &Request) -> ResponseTemplate {
            let mut s = self.0.lock().unwrap();
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            match (req.method.as_str(), req.url.path()) {
                ("GET", "/v1/orders/1001") => {}
                ("POST", "/v1/orders/1001/tags") => {
                    for t in body["tags"].as_array().into_iter().flatten() {
                        let t = t.as_str().unwrap().to_owned();
                        if !s.0.contains(&t) {
                            s.0.push(t);
                            s.2 += 1;
                        }
                    }
                }
                ("PATCH", "/v1/orders/1001") => {
                    let note = body["note"].as_str().unwrap().to_owned();
                    if note != s.1 {
                        s.1 = note;
                        s.2 += 1;
                    }
                }
                _ => return ResponseTemplate::new(404),
            }
            let mut o = order(json!(1001), "EUR", "10.00", "2026-11-01T08:00:00Z");
            o["tags"] = json!(s.0);
            o["note"] = json!(s.1);
            ResponseTemplate::new(200).set_body_json(o)
        }
    }

    fn kit_pages(pages: &[Vec<KitOrder>]) -> Vec<Vec<Value>> {
        pages
            .iter()
            .map(|p| {
                p.iter()
                    .map(|o| {
                        let id: u64 = o.id.parse().unwrap();
                        order(json!(id), "EUR", "10.00", &o.updated_at.to_rfc3339())
                    })
                    .collect()
            })
            .collect()
    }

    #[async_trait]
    impl PlatformKit for BazaarKit {
        fn shop(&self) -> String {
            STORE.into()
        }

        fn other_shop(&self) -> String {
            OTHER.into()
        }

        fn source(&self) -> Arc<dyn WebhookSource> {
            Arc::new(source())
        }

        fn sign(&self, _topic: &str, shop: &str, body: &[u8]) -> RawHeaders {
            source().sign(shop, body)
        }

        /// The topic and the store live in the signed envelope.
        fn body_as(&self, topic: &str, shop: Option<&str>, body: &[u8]) -> Vec<u8> {
            let Ok(mut v) = serde_json::from_slice::<Value>(body) else {
                return body.to_vec();
            };
            if !v.is_object() {
                return body.to_vec();
            }
            v["type"] = json!(topic);
            if let Some(shop) = shop {
                v["store"] = json!(shop);
            }
            serde_json::to_vec(&v).unwrap()
        }

        fn vectors(&self) -> Vec<SignatureVector> {
            vec![SignatureVector {
                source_doc: "standard-webhooks libraries/python/tests/test_webhooks.py::test_sign_function",
                source: Arc::new(source()),
                headers: RawHeaders::from_pairs([
                    ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
                    ("webhook-timestamp", "1614265330"),
                    (
                        "webhook-signature",
                        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                    ),
                ]),
                body: br#"{"test": 2432232314}"#.to_vec(),
                at: DateTime::from_timestamp(1614265330, 0).unwrap(),
            }]
        }

        fn fixtures(&self) -> Vec<Fixture> {
            let o = || order(json!(1001), "EUR", "10.00", "2026-11-01T08:00:00Z");
            let f = |topic: &str, data: Value, resource, expect| Fixture {
                topic: topic.into(),
                body: envelope(topic, STORE, data),
                doc: DOC,
                resource,
                expect,
            };
            vec![
                f("order.created", o(), "order", vec!["order_created"]),
                f("order.paid", o(), "order", vec!["order_paid"]),
                f("order.updated", o(), "order", vec!["order_updated"]),
                f("order.cancelled", o(), "order", vec!["order_cancelled"]),
                f(
                    "shipment.created",
                    shipment(),
                    "shipment",
                    vec!["shipment_created"],
                ),
                f(
                    "shipment.updated",
                    shipment(),
                    "shipment",
                    vec!["shipment_updated"],
                ),
            ]
        }

        fn malformed(&self) -> Vec<(String, Vec<u8>)> {
            let bad = |data: Value| {
                (
                    "order.created".to_owned(),
                    envelope("order.created", STORE, data),
                )
            };
            let mut no_number = order(json!(1001), "EUR", "10.00", "2026-11-01T08:00:00Z");
            no_number.as_object_mut().unwrap().remove("number");
            vec![
                ("order.created".into(), b"not json".to_vec()),
                ("order.created".into(), b"[]".to_vec()),
                bad(no_number),
                bad(order(json!(-1), "EUR", "10.00", "2026-11-01T08:00:00Z")),
                bad(order(json!(1001.5), "EUR", "10.00", "2026-11-01T08:00:00Z")),
                bad(order(json!(1001), "EUR", "10,00", "2026-11-01T08:00:00Z")),
                bad(order(json!(1001), "EUR", "10.00", "yesterday")),
            ]
        }

        fn unknown_topic(&self) -> (String, Vec<u8>) {
            let body = envelope(
                "product.created",
                STORE,
                json!({ "object": "product", "id": 3 }),
            );
            ("product.created".into(), body)
        }

        fn body_for_shop(&self, shop: &str) -> Option<(String, Vec<u8>)> {
            let o = order(json!(1001), "EUR", "10.00", "2026-11-01T08:00:00Z");
            Some(("order.created".into(), envelope("order.created", shop, o)))
        }

        fn big_ids(&self) -> (String, Vec<u8>, Vec<String>) {
            let o = order(json!(u64::MAX), "EUR", "10.00", "2026-11-01T08:00:00Z");
            let body = envelope("order.created", STORE, o);
            ("order.created".into(), body, vec![u64::MAX.to_string()])
        }

        fn money(&self) -> Vec<(String, Vec<u8>, Money)> {
            [
                ("JPY", "1000", 1000),
                ("USD", "135.49", 13549),
                ("KWD", "1.500", 1500),
            ]
            .into_iter()
            .map(|(cur, total, minor)| {
                let o = order(json!(1001), cur, total, "2026-11-01T08:00:00Z");
                (
                    "order.paid".into(),
                    envelope("order.paid", STORE, o),
                    Money::new(minor, cur),
                )
            })
            .collect()
        }

        fn statuses(&self) -> Vec<(String, ShipmentStatus)> {
            STATUSES
                .iter()
                .map(|s| ((*s).to_owned(), map_status(s)))
                .filter(|(_, m)| !matches!(m, ShipmentStatus::Unknown(_)))
                .collect()
        }

        fn map_status(&self, raw: &str) -> ShipmentStatus {
            map_status(raw)
        }

        async fn orders_api(
            &self,
            pages: Vec<Vec<KitOrder>>,
            fail_once_at: Option<usize>,
        ) -> Arc<dyn OrderSource> {
            let pages = Pages {
                pages: kit_pages(&pages),
                fail_once_at,
                failed: AtomicBool::new(false),
            };
            let uri = self.serve(pages).await;
            Arc::new(BazaarApi::new(&uri, STORE, Secret::from("token")).unwrap())
        }

        async fn rate_limited_api(&self) -> (Arc<dyn OrderSource>, Arc<Mutex<RateProbe>>) {
            let base: DateTime<Utc> = "2026-11-01T08:00:00Z".parse().unwrap();
            let pages: Vec<Vec<KitOrder>> = (0..10)
                .map(|p| {
                    (0..2)
                        .map(|i| KitOrder {
                            id: (500 + p * 2 + i).to_string(),
                            updated_at: base,
                        })
                        .collect()
                })
                .collect();
            let probe = Arc::new(Mutex::new(RateProbe {
                quota: 3,
                window: Duration::from_secs(1),
                ..RateProbe::default()
            }));
            let limited = Limited {
                pages: Pages {
                    pages: kit_pages(&pages),
                    fail_once_at: None,
                    failed: AtomicBool::new(false),
                },
                probe: probe.clone(),
                window: Mutex::new(None),
            };
            let uri = self.serve(limited).await;
            (
                Arc::new(BazaarApi::new(&uri, STORE, Secret::from("token")).unwrap()),
                probe,
            )
        }

        async fn annotator(
            &self,
        ) -> (
            Arc<dyn OrderAnnotator>,
            Box<dyn Fn() -> usize + Send + Sync>,
        ) {
            let w = Writes::default();
            let uri = self.serve(w.clone()).await;
            let api = BazaarApi::new(&uri, STORE, Secret::from("token")).unwrap();
            (Arc::new(api), Box::new(move || w.0.lock().unwrap().2))
        }
    }

    aftercare::platform_conformance_tests!(BazaarKit::default());

    #[test]
    fn the_embedded_customer_is_the_orders_own_record() {
        let body = envelope(
            "order.created",
            STORE,
            order(json!(1001), "EUR", "10.00", "2026-11-01T08:00:00Z"),
        );
        let headers = source().sign(STORE, &body);
        let request = WebhookRequest::new(&headers, &body, Utc::now());
        let v = source().verify(&request).unwrap();
        let now = Utc::now();
        let entry = {
            let mut entry = aftercare::store::InboxEntry::new(1, "bazaar", v.dedupe_key, body, now);
            entry.topic = v.topic;
            entry.shop = v.shop;
            entry.occurred_at = v.occurred_at;
            entry.meta = v.meta;
            entry.status = aftercare::store::InboxStatus::Pending;
            entry.attempts = 1;
            entry.next_attempt_at = now;
            entry
        };
        let events = source().decode(&entry).unwrap();
        let PlatformEvent::OrderCreated { order } = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(
            order
                .customer
                .as_deref()
                .and_then(|c| c.first_name.as_deref()),
            Some("Noura")
        );
    }
}
