//! Signed Shopify-shaped webhook deliveries.

use std::time::Duration as StdDuration;

use aftercare::webhook::{RawHeaders, Scheme, Secret, Verifier};
use chrono::{DateTime, SecondsFormat, Utc};

use crate::shop::SandboxShop;
use crate::{SandboxError, shopify, uuid_v4};

/// The API version the sandbox says its payloads are serialized with
/// (`X-Shopify-API-Version`).
pub const SHOPIFY_API_VERSION: &str = "2026-01";

/// A Shopify webhook topic the sandbox sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Topic {
    /// `orders/create`.
    OrdersCreate,
    /// `orders/paid`.
    OrdersPaid,
    /// `orders/updated`.
    OrdersUpdated,
    /// `orders/fulfilled`.
    OrdersFulfilled,
    /// `orders/cancelled`.
    OrdersCancelled,
    /// `fulfillments/create`.
    FulfillmentsCreate,
    /// `fulfillments/update`.
    FulfillmentsUpdate,
    /// `fulfillment_events/create`.
    FulfillmentEventsCreate,
    /// `customers/update`.
    CustomersUpdate,
    /// `customers/data_request`.
    CustomersDataRequest,
    /// `customers/redact`.
    CustomersRedact,
    /// `shop/redact`.
    ShopRedact,
    /// `app/uninstalled`.
    AppUninstalled,
}

impl Topic {
    /// The topic as in `X-Shopify-Topic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::OrdersCreate => "orders/create",
            Topic::OrdersPaid => "orders/paid",
            Topic::OrdersUpdated => "orders/updated",
            Topic::OrdersFulfilled => "orders/fulfilled",
            Topic::OrdersCancelled => "orders/cancelled",
            Topic::FulfillmentsCreate => "fulfillments/create",
            Topic::FulfillmentsUpdate => "fulfillments/update",
            Topic::FulfillmentEventsCreate => "fulfillment_events/create",
            Topic::CustomersUpdate => "customers/update",
            Topic::CustomersDataRequest => "customers/data_request",
            Topic::CustomersRedact => "customers/redact",
            Topic::ShopRedact => "shop/redact",
            Topic::AppUninstalled => "app/uninstalled",
        }
    }
}

/// One signed webhook delivery: the exact bytes and headers Shopify would send.
/// POST the same value again for an exact duplicate.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivery {
    /// The topic.
    pub topic: Topic,
    /// Headers, in sending order (`X-Shopify-Hmac-Sha256` included).
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
    /// `X-Shopify-Event-Id`.
    pub event_id: String,
    /// `X-Shopify-Webhook-Id`.
    pub webhook_id: String,
    /// `X-Shopify-Triggered-At`.
    pub triggered_at: DateTime<Utc>,
}

impl Delivery {
    /// The headers as the sdk's [`RawHeaders`], for in-process verification.
    pub fn raw_headers(&self) -> RawHeaders {
        RawHeaders::from_pairs(self.headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())))
    }

    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON (`Null` if it is not JSON), for assertions.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Builds, signs and sends Shopify-shaped webhooks.
///
/// Signing is Shopify's: `X-Shopify-Hmac-Sha256` = base64 of HMAC-SHA256 over the raw body,
/// keyed with the app's client secret (done by the sdk's
/// [`Verifier::sign`](aftercare::webhook::Verifier::sign)).
///
/// ```
/// use aftercare::webhook::{Scheme, Secret, Verifier};
/// use aftercare_sandbox::{Topic, WebhookSender};
///
/// let sender = WebhookSender::new(Secret::from("test_secret_key"));
/// let now = chrono::Utc::now();
/// let d = sender.sign(Topic::ShopRedact, "demo.myshopify.com", br#"{"foo": "bar"}"#.to_vec(), now);
/// // Shopify's own test vector (shopify-api-js validate.test.ts).
/// assert_eq!(d.header("X-Shopify-Hmac-Sha256"), Some("B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g="));
/// assert_eq!(d.header("X-Shopify-Topic"), Some("shop/redact"));
/// ```
#[derive(Clone, Debug)]
pub struct WebhookSender {
    signer: Verifier,
    api_version: String,
    client: reqwest::Client,
}

impl WebhookSender {
    /// A sender signing with the app's client secret.
    pub fn new(secret: Secret) -> Self {
        let client = reqwest::Client::builder()
            .timeout(StdDuration::from_secs(10))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            signer: Verifier::new(Scheme::hmac_sha256_base64("X-Shopify-Hmac-Sha256"), secret),
            api_version: SHOPIFY_API_VERSION.to_owned(),
            client,
        }
    }

    /// Sets `X-Shopify-API-Version`.
    pub fn with_api_version(mut self, version: &str) -> Self {
        version.clone_into(&mut self.api_version);
        self
    }

    /// Signs a body and adds every header Shopify sends, with fresh event and webhook ids.
    pub fn sign(
        &self,
        topic: Topic,
        shop_domain: &str,
        body: Vec<u8>,
        triggered_at: DateTime<Utc>,
    ) -> Delivery {
        let signed = self.signer.sign(&body, triggered_at);
        let event_id = uuid_v4();
        let webhook_id = uuid_v4();
        let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        headers.extend(
            signed
                .iter()
                .map(|(n, v)| (n.to_owned(), String::from_utf8_lossy(v).into_owned())),
        );
        headers.extend([
            ("X-Shopify-Topic".to_owned(), topic.as_str().to_owned()),
            ("X-Shopify-Shop-Domain".to_owned(), shop_domain.to_owned()),
            ("X-Shopify-API-Version".to_owned(), self.api_version.clone()),
            ("X-Shopify-Webhook-Id".to_owned(), webhook_id.clone()),
            (
                "X-Shopify-Triggered-At".to_owned(),
                triggered_at.to_rfc3339_opts(SecondsFormat::Nanos, true),
            ),
            ("X-Shopify-Event-Id".to_owned(), event_id.clone()),
        ]);
        Delivery {
            topic,
            headers,
            body,
            event_id,
            webhook_id,
            triggered_at,
        }
    }

    fn sign_json(&self, shop: &SandboxShop, topic: Topic, value: &serde_json::Value) -> Delivery {
        let body = serde_json::to_vec(value).unwrap_or_default();
        self.sign(topic, shop.domain(), body, shop.now())
    }

    /// An order topic (`orders/create`, `orders/paid`, `orders/updated`, `orders/fulfilled`,
    /// `orders/cancelled`) with the order as it is now.
    pub fn order(
        &self,
        shop: &SandboxShop,
        topic: Topic,
        order: u64,
    ) -> Result<Delivery, SandboxError> {
        let o = shop
            .order_record(order)
            .ok_or(SandboxError::UnknownOrder(order))?;
        let c = o.customer_id.and_then(|id| shop.customer_record(id));
        let fs = shop.fulfillments_of(order);
        Ok(self.sign_json(shop, topic, &shopify::order(shop, &o, c.as_ref(), &fs)))
    }

    /// A fulfillment topic (`fulfillments/create`, `fulfillments/update`) with the
    /// fulfillment as it is now.
    pub fn fulfillment(
        &self,
        shop: &SandboxShop,
        topic: Topic,
        fulfillment: u64,
    ) -> Result<Delivery, SandboxError> {
        let f = shop
            .fulfillment_record(fulfillment)
            .ok_or(SandboxError::UnknownFulfillment(fulfillment))?;
        let o = shop
            .order_record(f.order_id)
            .ok_or(SandboxError::UnknownOrder(f.order_id))?;
        Ok(self.sign_json(shop, topic, &shopify::fulfillment(shop, &o, &f)))
    }

    /// `fulfillment_events/create` for one recorded event.
    pub fn fulfillment_event(
        &self,
        shop: &SandboxShop,
        fulfillment: u64,
        event: u64,
    ) -> Result<Delivery, SandboxError> {
        let f = shop
            .fulfillment_record(fulfillment)
            .ok_or(SandboxError::UnknownFulfillment(fulfillment))?;
        let e = f
            .events
            .iter()
            .find(|e| e.id == event)
            .ok_or(SandboxError::UnknownFulfillment(fulfillment))?;
        Ok(self.sign_json(
            shop,
            Topic::FulfillmentEventsCreate,
            &shopify::fulfillment_event(shop, &f, e),
        ))
    }

    /// `customers/update` with the customer as it is now.
    pub fn customer(&self, shop: &SandboxShop, customer: u64) -> Result<Delivery, SandboxError> {
        let c = shop
            .customer_record(customer)
            .ok_or(SandboxError::UnknownCustomer(customer))?;
        Ok(self.sign_json(shop, Topic::CustomersUpdate, &shopify::customer(shop, &c)))
    }

    fn orders_of(shop: &SandboxShop, customer: u64) -> Vec<u64> {
        shop.order_ids()
            .into_iter()
            .filter(|id| {
                shop.order_record(*id)
                    .is_some_and(|o| o.customer_id == Some(customer))
            })
            .collect()
    }

    /// `customers/redact` for a customer and all their orders.
    pub fn customers_redact(
        &self,
        shop: &SandboxShop,
        customer: u64,
    ) -> Result<Delivery, SandboxError> {
        let c = shop
            .customer_record(customer)
            .ok_or(SandboxError::UnknownCustomer(customer))?;
        let orders = Self::orders_of(shop, customer);
        Ok(self.sign_json(
            shop,
            Topic::CustomersRedact,
            &shopify::customers_redact(shop, &c, &orders),
        ))
    }

    /// `customers/data_request` for a customer and all their orders.
    pub fn customers_data_request(
        &self,
        shop: &SandboxShop,
        customer: u64,
        request_id: u64,
    ) -> Result<Delivery, SandboxError> {
        let c = shop
            .customer_record(customer)
            .ok_or(SandboxError::UnknownCustomer(customer))?;
        let orders = Self::orders_of(shop, customer);
        Ok(self.sign_json(
            shop,
            Topic::CustomersDataRequest,
            &shopify::customers_data_request(shop, &c, &orders, request_id),
        ))
    }

    /// `app/uninstalled` (Shopify sends `shop/redact` 48 hours after it).
    pub fn app_uninstalled(&self, shop: &SandboxShop) -> Delivery {
        self.sign_json(shop, Topic::AppUninstalled, &shopify::app_uninstalled(shop))
    }

    /// `shop/redact`.
    pub fn shop_redact(&self, shop: &SandboxShop) -> Delivery {
        self.sign_json(shop, Topic::ShopRedact, &shopify::shop_redact(shop))
    }

    /// POSTs a delivery to `url` (e.g. `http://127.0.0.1:8080/webhooks/shopify`); returns
    /// the HTTP status. Posting the same delivery twice is an exact duplicate.
    pub async fn post(&self, url: &str, delivery: &Delivery) -> Result<u16, SandboxError> {
        let mut req = self.client.post(url).body(delivery.body.clone());
        for (n, v) in &delivery.headers {
            req = req.header(n.as_str(), v.as_str());
        }
        let resp = req.send().await.map_err(|source| SandboxError::Http {
            url: url.to_owned(),
            source,
        })?;
        Ok(resp.status().as_u16())
    }

    /// POSTs deliveries one after the other; returns their statuses.
    pub async fn post_all(
        &self,
        url: &str,
        deliveries: &[Delivery],
    ) -> Result<Vec<u16>, SandboxError> {
        let mut out = Vec::with_capacity(deliveries.len());
        for d in deliveries {
            out.push(self.post(url, d).await?);
        }
        Ok(out)
    }
}
