//! # aftercare-sandbox
//!
//! Everything the reference integration needs to run with no accounts: a simulated shop, a
//! simulated carrier and message channels that print or record instead of sending, all on a
//! clock that moves only when told to ([`aftercare::clock::ManualClock`]).
//!
//! - [`SandboxShop`]: orders, customers, fulfillments and shipment events; implements
//!   [`OrderSource`](aftercare::platform::OrderSource),
//!   [`CustomerDirectory`](aftercare::platform::CustomerDirectory) and
//!   [`OrderAnnotator`](aftercare::platform::OrderAnnotator) (writes are recorded as
//!   [`Annotation`]s).
//! - [`WebhookSender`]: Shopify-shaped webhook bodies ([`shopify`]), signed exactly as Shopify
//!   signs them (`X-Shopify-Hmac-Sha256`, base64 HMAC-SHA256 of the raw body with the app
//!   secret) with every `X-Shopify-*` header; returned as a [`Delivery`] for in-process tests
//!   or POSTed to a URL. Re-post a delivery for a duplicate.
//! - [`Scenario`] plays a [`CarrierScript`] (label printed, picked up, in transit, out for
//!   delivery, delivered; delays, exceptions, failed attempts, duplicates, out-of-order
//!   deliveries): it advances the clock, updates the shop and emits `fulfillments/update`.
//! - [`RecordingChannel`] implements [`MessageChannel`](aftercare::channel::MessageChannel)
//!   for any channel kind: records every message, prints it and/or appends JSON lines, and
//!   fails on demand. [`ConsoleChannel`] is the same, printing to stdout.
//! - [`Sandbox`] wires it all together on one clock: [`Sandbox::ship`] places, pays and
//!   ships a demo order and returns the webhooks sent on the way.
//! - [`woocommerce`], [`bigcommerce`], [`magento`]: the same story as those platforms send
//!   it (Adobe Commerce webhooks RSA-signed with a generated key pair), for the demos.
//! - [`SandboxHelpdesk`]: a support desk in memory (tickets, internal notes, tags; a closed
//!   ticket refuses updates; `429` on demand) for the ticket flow without a desk account.
//! - [`numbers`]: tracking numbers with valid check digits per carrier.
//! - [`tracking`]: AfterShip playing the carrier-tracking source (signed webhooks, and its
//!   create-tracking API with feature `api`).
//!
//! ```
//! use std::sync::Arc;
//! use aftercare::clock::{Clock, ManualClock};
//! use aftercare::webhook::{Scheme, Secret, Verifier};
//! use aftercare_sandbox::{CarrierScript, FulfillmentSpec, SandboxShop, Scenario, Topic, WebhookSender};
//!
//! let clock = Arc::new(ManualClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
//! let shop = Arc::new(SandboxShop::demo(clock.clone()));
//! let customer = shop.customer_ids()[0];
//! let order = shop.place_order(customer, &[("ESP-BAR-01", 1)]).unwrap();
//! let fulfillment = shop
//!     .fulfill(order, FulfillmentSpec::new("UPS", "1Z5R89390357567127"))
//!     .unwrap();
//!
//! let sender = WebhookSender::new(Secret::from("shpss_sandbox"));
//! let created = sender.fulfillment(&shop, Topic::FulfillmentsCreate, fulfillment).unwrap();
//! let verifier = Verifier::new(Scheme::hmac_sha256_base64("X-Shopify-Hmac-Sha256"), Secret::from("shpss_sandbox"));
//! assert!(verifier.verify(&created.raw_headers(), &created.body, clock.now()).is_ok());
//!
//! let mut scenario = Scenario::new(shop.clone(), sender, fulfillment, CarrierScript::happy_path());
//! let deliveries = scenario.run_to_end().unwrap();
//! let statuses: Vec<String> = deliveries.iter().map(|d| d.json()["shipment_status"].as_str().unwrap().to_owned()).collect();
//! assert_eq!(statuses, ["label_printed", "carrier_picked_up", "in_transit", "out_for_delivery", "delivered"]);
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]
#![recursion_limit = "256"]

pub mod bigcommerce;
mod channel;
mod helpdesk;
pub mod history;
pub mod ikas;
pub mod magento;
pub mod numbers;
pub mod nuvemshop;
pub mod salla;
mod sandbox;
mod scenario;
mod shop;
pub mod shopify;
pub mod tracking;
mod webhook;
pub mod woocommerce;
pub mod zid;

pub use channel::{
    ConsoleChannel, Failure, RecordingChannel, SendAttempt, SendOutcome, SentMessage,
};
pub use helpdesk::{SandboxHelpdesk, SandboxTicket};
pub use sandbox::{Sandbox, Shipped};
pub use scenario::{CarrierScript, DeliveryPlan, Milestone, Scenario, Step, StepResult};
pub use shop::{
    Annotation, FulfillmentSpec, SandboxDiscounts, SandboxShop, SimAddress, SimCustomer, SimEvent,
    SimFulfillment, SimLineItem, SimOrder, SimProduct,
};
pub use webhook::{Delivery, SHOPIFY_API_VERSION, Topic, WebhookSender};

/// The error type of the sandbox.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The shop has no such order.
    #[error("the sandbox shop has no order {0}; place it first with `SandboxShop::place_order`")]
    UnknownOrder(u64),
    /// The shop has no such customer.
    #[error("the sandbox shop has no customer {0}; add it first with `SandboxShop::add_customer`")]
    UnknownCustomer(u64),
    /// The shop has no such fulfillment.
    #[error("the sandbox shop has no fulfillment {0}; create it first with `SandboxShop::fulfill`")]
    UnknownFulfillment(u64),
    /// The demo shop has no customer with this locale.
    #[error(
        "the demo shop has no customer with locale `{0}`; use one of ar-SA, tr-TR, th-TH, pt-BR, es-MX, en-US"
    )]
    UnknownLocale(String),
    /// The catalog has no product with this SKU.
    #[error("the sandbox catalog has no SKU `{0}`; add it with `SandboxShop::add_product`")]
    UnknownSku(String),
    /// Posting a webhook failed before an HTTP status came back.
    #[error("posting the webhook to {url} failed: {source}; is the receiving server running?")]
    Http {
        /// Where it was posted.
        url: String,
        /// The client's error.
        #[source]
        source: reqwest::Error,
    },
    /// Writing the JSON-lines log failed.
    #[error("could not append to the message log {path}: {source}; check the path is writable")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl From<SandboxError> for aftercare::Error {
    fn from(e: SandboxError) -> Self {
        match e {
            SandboxError::UnknownOrder(id) => aftercare::Error::NotFound {
                what: "order",
                id: id.to_string(),
            },
            SandboxError::UnknownCustomer(id) => aftercare::Error::NotFound {
                what: "customer",
                id: id.to_string(),
            },
            SandboxError::UnknownFulfillment(id) => aftercare::Error::NotFound {
                what: "fulfillment",
                id: id.to_string(),
            },
            other => aftercare::Error::Config(other.to_string()),
        }
    }
}

/// A random UUID version 4 in its canonical text form, as Shopify's `X-Shopify-Event-Id`.
pub(crate) fn uuid_v4() -> String {
    use rand::Rng as _;
    let mut b: [u8; 16] = rand::thread_rng().r#gen();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
