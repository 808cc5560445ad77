//! The simulated shop: catalog, customers, orders, fulfillments and shipment events.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use aftercare::Error;
use aftercare::clock::{Clock, ManualClock};
use aftercare::model::{
    Address, ChannelKind, Consent, ConsentState, Customer, CustomerId, LineItem, Money, Order,
    OrderId, ProductId, Purpose, Shipment, ShipmentEvent, ShipmentStatus, ShopId, VariantId,
};
use aftercare::platform::{CustomerDirectory, OrderAnnotator, OrderSource};
use async_trait::async_trait;
use chrono::{DateTime, Duration, FixedOffset, Utc};
use futures::stream::{self, BoxStream, StreamExt as _};

use crate::SandboxError;
use crate::scenario::Milestone;

/// A product variant in the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimProduct {
    /// Shopify-style product id.
    pub product_id: u64,
    /// Variant id.
    pub variant_id: u64,
    /// Stock-keeping unit.
    pub sku: String,
    /// Product title.
    pub title: String,
    /// Variant title (`Medium / Navy`), if any.
    pub variant_title: Option<String>,
    /// Product type, used as the category.
    pub category: String,
    /// Vendor.
    pub vendor: String,
    /// Unit price in the shop currency's minor units.
    pub price_minor: i64,
    /// Weight in grams.
    pub grams: u32,
}

impl SimProduct {
    /// A product with ids, SKU, title, category and price; vendor `Sandbox Roasters`.
    pub fn new(
        product_id: u64,
        variant_id: u64,
        sku: &str,
        title: &str,
        category: &str,
        price_minor: i64,
    ) -> Self {
        Self {
            product_id,
            variant_id,
            sku: sku.to_owned(),
            title: title.to_owned(),
            variant_title: None,
            category: category.to_owned(),
            vendor: "Sandbox Roasters".to_owned(),
            price_minor,
            grams: 500,
        }
    }
}

/// A postal address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimAddress {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Street line.
    pub address1: String,
    /// Second line.
    pub address2: Option<String>,
    /// City.
    pub city: String,
    /// Province or state name.
    pub province: Option<String>,
    /// Province code.
    pub province_code: Option<String>,
    /// Postal code.
    pub zip: Option<String>,
    /// Country name.
    pub country: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country_code: String,
    /// Phone at this address.
    pub phone: Option<String>,
}

impl SimAddress {
    /// An address with a street, city, country name and code.
    pub fn new(address1: &str, city: &str, country: &str, country_code: &str) -> Self {
        Self {
            address1: address1.to_owned(),
            city: city.to_owned(),
            country: country.to_owned(),
            country_code: country_code.to_owned(),
            ..Self::default()
        }
    }
}

/// A customer of the sandbox shop.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimCustomer {
    /// Id, assigned by [`SandboxShop::add_customer`].
    pub id: u64,
    /// First name (in the customer's script).
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email.
    pub email: Option<String>,
    /// Phone, E.164.
    pub phone: Option<String>,
    /// BCP 47 locale (`ar-SA`).
    pub locale: String,
    /// IANA time zone.
    pub time_zone: Option<String>,
    /// Default (shipping) address.
    pub address: SimAddress,
    /// Consent per purpose and channel.
    pub consents: Vec<Consent>,
    /// Tags.
    pub tags: Vec<String>,
    /// The carrier the shop usually ships this customer's orders with (a code from
    /// [`aftercare::carrier`]).
    pub preferred_carrier: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl SimCustomer {
    /// A customer with a name and a locale; the rest empty.
    pub fn new(first_name: &str, last_name: &str, locale: &str) -> Self {
        Self {
            id: 0,
            first_name: first_name.to_owned(),
            last_name: last_name.to_owned(),
            email: None,
            phone: None,
            locale: locale.to_owned(),
            time_zone: None,
            address: SimAddress::default(),
            consents: Vec::new(),
            tags: Vec::new(),
            preferred_carrier: None,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    /// The recorded consent for a purpose and channel, or `Unknown`.
    pub fn consent(&self, purpose: Purpose, channel: ChannelKind) -> ConsentState {
        self.consents
            .iter()
            .rev()
            .find(|c| c.purpose == purpose && c.channel == channel)
            .map_or(ConsentState::Unknown, |c| c.state)
    }
}

/// A line of an order.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimLineItem {
    /// Line id.
    pub id: u64,
    /// The product bought.
    pub product: SimProduct,
    /// Quantity.
    pub quantity: u32,
}

/// An order of the sandbox shop.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimOrder {
    /// Id (a 64-bit integer above 2^53, as Shopify's can be).
    pub id: u64,
    /// Human number (`1001`; the name is `#1001`).
    pub order_number: u64,
    /// The customer.
    pub customer_id: Option<u64>,
    /// Contact email.
    pub email: Option<String>,
    /// Contact phone.
    pub phone: Option<String>,
    /// The customer's locale at checkout.
    pub locale: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// Lines.
    pub line_items: Vec<SimLineItem>,
    /// Where it ships.
    pub shipping_address: Option<SimAddress>,
    /// `pending`, `paid`, `refunded`...
    pub financial_status: String,
    /// Fulfillments, oldest first.
    pub fulfillment_ids: Vec<u64>,
    /// Tags.
    pub tags: Vec<String>,
    /// Note.
    pub note: Option<String>,
    /// Metafields: (namespace, key) → value.
    pub metafields: BTreeMap<(String, String), String>,
    /// Whether the customer accepted marketing at checkout.
    pub buyer_accepts_marketing: bool,
    /// When cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl SimOrder {
    /// `#1001`.
    pub fn name(&self) -> String {
        format!("#{}", self.order_number)
    }

    /// Sum of the lines, in minor units.
    pub fn total_minor(&self) -> i64 {
        self.line_items
            .iter()
            .map(|l| l.product.price_minor * i64::from(l.quantity))
            .sum()
    }
}

/// A dated shipment event.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimEvent {
    /// Event id.
    pub id: u64,
    /// The milestone reached.
    pub milestone: Milestone,
    /// When.
    pub happened_at: DateTime<Utc>,
    /// The carrier's message.
    pub message: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Province.
    pub province: Option<String>,
    /// Country name.
    pub country: Option<String>,
    /// Postal code.
    pub zip: Option<String>,
    /// The estimate given with this event.
    pub estimated_delivery_at: Option<DateTime<Utc>>,
}

impl SimEvent {
    /// An event at a time.
    pub fn new(milestone: Milestone, happened_at: DateTime<Utc>) -> Self {
        Self {
            id: 0,
            milestone,
            happened_at,
            message: None,
            city: None,
            province: None,
            country: None,
            zip: None,
            estimated_delivery_at: None,
        }
    }
}

/// A fulfillment (shipment) of an order.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimFulfillment {
    /// Id.
    pub id: u64,
    /// The order.
    pub order_id: u64,
    /// The position among the order's fulfillments (1 for `#1001.1`).
    pub index: usize,
    /// `success`, `cancelled`, `failure`...
    pub status: String,
    /// Carrier name as the merchant entered it (`tracking_company`).
    pub tracking_company: Option<String>,
    /// Tracking number.
    pub tracking_number: Option<String>,
    /// Tracking URL.
    pub tracking_url: Option<String>,
    /// The latest event's milestone (`shipment_status`).
    pub shipment_status: Option<Milestone>,
    /// Lines shipped: (line id, quantity).
    pub line_items: Vec<(u64, u32)>,
    /// Events, in the order they were recorded.
    pub events: Vec<SimEvent>,
    /// The carrier's latest estimate.
    pub estimated_delivery_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// What to ship: carrier, tracking number, URL and lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FulfillmentSpec {
    /// Carrier name as the merchant types it.
    pub company: Option<String>,
    /// Tracking number.
    pub number: Option<String>,
    /// Tracking URL given by the merchant or the label app.
    pub url: Option<String>,
    /// Lines to ship (all of them when empty).
    pub line_item_ids: Vec<u64>,
}

impl FulfillmentSpec {
    /// A carrier name and a tracking number, no URL, every line.
    pub fn new(company: &str, number: &str) -> Self {
        Self {
            company: Some(company.to_owned()),
            number: Some(number.to_owned()),
            ..Self::default()
        }
    }

    /// Sets the tracking URL.
    pub fn with_url(mut self, url: &str) -> Self {
        self.url = Some(url.to_owned());
        self
    }

    /// Sets the tracking URL to the carrier's template from [`aftercare::carrier`], as
    /// Shopify does for the carriers it knows (when the name matches a carrier with a
    /// template).
    pub fn with_carrier_url(mut self) -> Self {
        if let (Some(c), Some(n)) = (self.company.as_deref(), self.number.as_deref()) {
            self.url = aftercare::carrier::by_name(c).and_then(|c| c.url_for(n));
        }
        self
    }

    /// Ships only these lines.
    pub fn lines(mut self, ids: &[u64]) -> Self {
        self.line_item_ids = ids.to_vec();
        self
    }
}

/// A write the shop received through [`OrderAnnotator`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Annotation {
    /// Tags added to an order.
    OrderTags {
        /// The order.
        order: OrderId,
        /// The tags asked for.
        tags: Vec<String>,
    },
    /// Tags added to a customer.
    CustomerTags {
        /// The customer.
        customer: CustomerId,
        /// The tags asked for.
        tags: Vec<String>,
    },
    /// A line appended to an order's note.
    OrderNote {
        /// The order.
        order: OrderId,
        /// The line.
        line: String,
    },
    /// A metafield set on an order.
    OrderMetafield {
        /// The order.
        order: OrderId,
        /// Namespace.
        namespace: String,
        /// Key.
        key: String,
        /// Value.
        value: String,
    },
}

#[derive(Debug)]
struct State {
    products: Vec<SimProduct>,
    customers: BTreeMap<u64, SimCustomer>,
    orders: BTreeMap<u64, SimOrder>,
    fulfillments: BTreeMap<u64, SimFulfillment>,
    annotations: Vec<Annotation>,
    next_customer: u64,
    next_order: u64,
    next_order_number: u64,
    next_line: u64,
    next_fulfillment: u64,
    next_event: u64,
    failures: u32,
    failure_retryable: bool,
}

/// A simulated shop on a manual clock.
///
/// Ids are 64-bit integers like Shopify's; order ids are above 2^53, so anything that parses
/// them as floating point loses digits and fails the tests.
///
/// ```
/// use std::sync::Arc;
/// use aftercare::clock::ManualClock;
/// use aftercare_sandbox::{SandboxShop, SimCustomer};
///
/// let clock = Arc::new(ManualClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
/// let shop = SandboxShop::new("sandbox-demo.myshopify.com", clock);
/// let mut c = SimCustomer::new("Ayşe", "Yılmaz", "tr-TR");
/// c.phone = Some("+905321234567".into());
/// let id = shop.add_customer(c);
/// assert_eq!(shop.customer_record(id).unwrap().first_name, "Ayşe");
/// ```
#[derive(Debug)]
pub struct SandboxShop {
    domain: String,
    shop_id: u64,
    currency: String,
    utc_offset: FixedOffset,
    clock: Arc<ManualClock>,
    state: Mutex<State>,
}

impl SandboxShop {
    /// An empty shop (no catalog, no customers) at `domain` (`*.myshopify.com`), in USD.
    pub fn new(domain: &str, clock: Arc<ManualClock>) -> Self {
        Self {
            domain: domain.to_owned(),
            shop_id: 690_933_842,
            currency: "USD".to_owned(),
            utc_offset: chrono::Offset::fix(&Utc),
            clock,
            state: Mutex::new(State {
                products: Vec::new(),
                customers: BTreeMap::new(),
                orders: BTreeMap::new(),
                fulfillments: BTreeMap::new(),
                annotations: Vec::new(),
                next_customer: 7_311_220_473_001_000_001,
                next_order: 5_912_340_118_000_000_001,
                next_order_number: 1001,
                next_line: 13_905_127_000_000_000_001,
                next_fulfillment: 4_075_788_173,
                next_event: 1_062_384_559,
                failures: 0,
                failure_retryable: true,
            }),
        }
    }

    /// A shop with a catalog and one customer per demo locale (`ar-SA`, `tr-TR`, `th-TH`,
    /// `pt-BR`, `es-MX`, `en-US`), each with a preferred carrier of their country.
    pub fn demo(clock: Arc<ManualClock>) -> Self {
        let shop = Self::new("sandbox-demo.myshopify.com", clock);
        for p in demo_catalog() {
            shop.add_product(p);
        }
        for c in demo_customers() {
            shop.add_customer(c);
        }
        shop
    }

    /// Sets the shop currency (ISO 4217).
    pub fn with_currency(mut self, currency: &str) -> Self {
        currency.clone_into(&mut self.currency);
        self
    }

    /// Sets the offset the shop writes its timestamps in (Shopify writes the shop's local
    /// time, `2024-05-02T10:14:03-04:00`).
    pub fn with_utc_offset(mut self, offset: FixedOffset) -> Self {
        self.utc_offset = offset;
        self
    }

    /// The `*.myshopify.com` domain.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The shop's numeric id.
    pub fn shop_id(&self) -> u64 {
        self.shop_id
    }

    /// The shop currency.
    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// The offset timestamps are written in.
    pub fn utc_offset(&self) -> FixedOffset {
        self.utc_offset
    }

    /// The shop's clock.
    pub fn clock(&self) -> &Arc<ManualClock> {
        &self.clock
    }

    /// Now, on the shop's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a product to the catalog.
    pub fn add_product(&self, product: SimProduct) {
        self.state().products.push(product);
    }

    /// The catalog.
    pub fn products(&self) -> Vec<SimProduct> {
        self.state().products.clone()
    }

    /// Adds a customer; returns the id assigned. Created and updated now.
    pub fn add_customer(&self, mut customer: SimCustomer) -> u64 {
        let now = self.now();
        let mut st = self.state();
        let id = st.next_customer;
        st.next_customer += 1;
        customer.id = id;
        customer.created_at = now;
        customer.updated_at = now;
        st.customers.insert(id, customer);
        id
    }

    /// Every customer id, in creation order.
    pub fn customer_ids(&self) -> Vec<u64> {
        self.state().customers.keys().copied().collect()
    }

    /// The id of the first customer with this locale.
    pub fn customer_by_locale(&self, locale: &str) -> Option<u64> {
        self.state()
            .customers
            .values()
            .find(|c| c.locale == locale)
            .map(|c| c.id)
    }

    /// A customer as stored.
    pub fn customer_record(&self, id: u64) -> Option<SimCustomer> {
        self.state().customers.get(&id).cloned()
    }

    /// Changes a customer (consent, phone...) and bumps `updated_at`.
    pub fn update_customer(
        &self,
        id: u64,
        change: impl FnOnce(&mut SimCustomer),
    ) -> Result<(), SandboxError> {
        let now = self.now();
        let mut st = self.state();
        let c = st
            .customers
            .get_mut(&id)
            .ok_or(SandboxError::UnknownCustomer(id))?;
        change(c);
        c.updated_at = now;
        Ok(())
    }

    /// Places an order for a customer: lines by SKU and quantity, shipped to the customer's
    /// address, in their locale. Financial status `pending`.
    pub fn place_order(
        &self,
        customer_id: u64,
        items: &[(&str, u32)],
    ) -> Result<u64, SandboxError> {
        let now = self.now();
        let mut st = self.state();
        let customer = st
            .customers
            .get(&customer_id)
            .cloned()
            .ok_or(SandboxError::UnknownCustomer(customer_id))?;
        let mut lines = Vec::new();
        for (sku, qty) in items {
            let product = st
                .products
                .iter()
                .find(|p| p.sku == *sku)
                .cloned()
                .ok_or_else(|| SandboxError::UnknownSku((*sku).to_owned()))?;
            let id = st.next_line;
            st.next_line += 1;
            lines.push(SimLineItem {
                id,
                product,
                quantity: *qty,
            });
        }
        let id = st.next_order;
        st.next_order += 1;
        let order_number = st.next_order_number;
        st.next_order_number += 1;
        let mut address = customer.address.clone();
        if address.first_name.is_empty() {
            address.first_name.clone_from(&customer.first_name);
            address.last_name.clone_from(&customer.last_name);
        }
        st.orders.insert(
            id,
            SimOrder {
                id,
                order_number,
                customer_id: Some(customer_id),
                email: customer.email.clone(),
                phone: customer.phone.clone(),
                locale: customer.locale.clone(),
                currency: self.currency.clone(),
                line_items: lines,
                shipping_address: Some(address),
                financial_status: "pending".to_owned(),
                fulfillment_ids: Vec::new(),
                tags: Vec::new(),
                note: None,
                metafields: BTreeMap::new(),
                buyer_accepts_marketing: customer.consent(Purpose::Marketing, ChannelKind::Email)
                    == ConsentState::Granted,
                cancelled_at: None,
                created_at: now,
                updated_at: now,
            },
        );
        Ok(id)
    }

    fn with_order<T>(
        &self,
        id: u64,
        f: impl FnOnce(&mut SimOrder, DateTime<Utc>) -> T,
    ) -> Result<T, SandboxError> {
        let now = self.now();
        let mut st = self.state();
        let o = st
            .orders
            .get_mut(&id)
            .ok_or(SandboxError::UnknownOrder(id))?;
        let out = f(o, now);
        o.updated_at = now;
        Ok(out)
    }

    /// Marks an order paid.
    pub fn mark_paid(&self, order: u64) -> Result<(), SandboxError> {
        self.with_order(order, |o, _| "paid".clone_into(&mut o.financial_status))
    }

    /// Cancels an order.
    pub fn cancel_order(&self, order: u64) -> Result<(), SandboxError> {
        self.with_order(order, |o, now| o.cancelled_at = Some(now))
    }

    /// Ships lines of an order; returns the fulfillment id. Status `success`, no shipment
    /// status until the carrier reports an event.
    pub fn fulfill(&self, order: u64, spec: FulfillmentSpec) -> Result<u64, SandboxError> {
        let now = self.now();
        let mut st = self.state();
        let id = st.next_fulfillment;
        let o = st
            .orders
            .get_mut(&order)
            .ok_or(SandboxError::UnknownOrder(order))?;
        let line_items: Vec<(u64, u32)> = o
            .line_items
            .iter()
            .filter(|l| spec.line_item_ids.is_empty() || spec.line_item_ids.contains(&l.id))
            .map(|l| (l.id, l.quantity))
            .collect();
        o.fulfillment_ids.push(id);
        o.updated_at = now;
        let index = o.fulfillment_ids.len();
        st.next_fulfillment += 1;
        st.fulfillments.insert(
            id,
            SimFulfillment {
                id,
                order_id: order,
                index,
                status: "success".to_owned(),
                tracking_company: spec.company,
                tracking_number: spec.number,
                tracking_url: spec.url,
                shipment_status: None,
                line_items,
                events: Vec::new(),
                estimated_delivery_at: None,
                created_at: now,
                updated_at: now,
            },
        );
        Ok(id)
    }

    /// Records a shipment event on a fulfillment: it becomes the shipment status, and the
    /// fulfillment's `updated_at` moves to now. Returns the event id.
    pub fn add_event(&self, fulfillment: u64, mut event: SimEvent) -> Result<u64, SandboxError> {
        let now = self.now();
        let mut st = self.state();
        let id = st.next_event;
        let f = st
            .fulfillments
            .get_mut(&fulfillment)
            .ok_or(SandboxError::UnknownFulfillment(fulfillment))?;
        event.id = id;
        f.shipment_status = Some(event.milestone);
        if event.estimated_delivery_at.is_some() {
            f.estimated_delivery_at = event.estimated_delivery_at;
        }
        f.events.push(event);
        f.updated_at = now;
        st.next_event += 1;
        Ok(id)
    }

    /// An order as stored.
    pub fn order_record(&self, id: u64) -> Option<SimOrder> {
        self.state().orders.get(&id).cloned()
    }

    /// Every order id, oldest first.
    pub fn order_ids(&self) -> Vec<u64> {
        self.state().orders.keys().copied().collect()
    }

    /// A fulfillment as stored.
    pub fn fulfillment_record(&self, id: u64) -> Option<SimFulfillment> {
        self.state().fulfillments.get(&id).cloned()
    }

    /// An order's fulfillments, oldest first.
    pub fn fulfillments_of(&self, order: u64) -> Vec<SimFulfillment> {
        let st = self.state();
        st.orders
            .get(&order)
            .map(|o| {
                o.fulfillment_ids
                    .iter()
                    .filter_map(|f| st.fulfillments.get(f).cloned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every write received through [`OrderAnnotator`], in order.
    pub fn annotations(&self) -> Vec<Annotation> {
        self.state().annotations.clone()
    }

    /// Makes the next `n` trait calls fail with [`Error::Platform`] (HTTP 503 when
    /// `retryable`, 422 otherwise), to exercise retries.
    pub fn fail_next_calls(&self, n: u32, retryable: bool) {
        let mut st = self.state();
        st.failures = n;
        st.failure_retryable = retryable;
    }

    fn injected_failure(&self, operation: String) -> Result<(), Error> {
        let mut st = self.state();
        if st.failures == 0 {
            return Ok(());
        }
        st.failures -= 1;
        let retryable = st.failure_retryable;
        Err(Error::Platform {
            operation,
            status: Some(if retryable { 503 } else { 422 }),
            message: "injected by the sandbox".to_owned(),
            retryable,
        })
    }

    /// The model [`Order`] for a stored order.
    pub fn to_order(&self, o: &SimOrder) -> Order {
        let mut order = Order::new(o.id, o.name());
        order.shop = Some(ShopId::new(self.domain.clone()));
        order.customer_id = o.customer_id.map(CustomerId::from);
        order.email.clone_from(&o.email);
        order.phone.clone_from(&o.phone);
        order.line_items = o
            .line_items
            .iter()
            .map(|l| {
                let mut li = LineItem::new(l.product.title.clone(), l.quantity);
                li.id = Some(l.id.to_string());
                li.product_id = Some(ProductId::from(l.product.product_id));
                li.variant_id = Some(VariantId::from(l.product.variant_id));
                li.sku = Some(l.product.sku.clone());
                li.category = Some(l.product.category.clone());
                li.unit_price = Some(Money::new(l.product.price_minor, o.currency.clone()));
                li
            })
            .collect();
        order.shipping_address = o.shipping_address.as_ref().map(to_address);
        order.locale = Some(o.locale.clone());
        order.total = Some(Money::new(o.total_minor(), o.currency.clone()));
        order.cancelled = o.cancelled_at.is_some();
        order.tags.clone_from(&o.tags);
        order.created_at = Some(o.created_at);
        order.updated_at = Some(o.updated_at);
        order
    }

    /// The model [`Shipment`] for a stored fulfillment.
    pub fn to_shipment(&self, f: &SimFulfillment) -> Shipment {
        let status = f
            .shipment_status
            .map_or(ShipmentStatus::Confirmed, Milestone::status);
        let mut s = Shipment::new(f.id, f.order_id, status);
        s.shop = Some(ShopId::new(self.domain.clone()));
        s.carrier.clone_from(&f.tracking_company);
        s.tracking_numbers = f.tracking_number.iter().cloned().collect();
        s.tracking_urls = f.tracking_url.iter().cloned().collect();
        s.events = f
            .events
            .iter()
            .map(|e| {
                let mut ev = ShipmentEvent::new(e.milestone.status(), e.happened_at);
                ev.message.clone_from(&e.message);
                let place: Vec<&str> = [e.city.as_deref(), e.country.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect();
                ev.location = (!place.is_empty()).then(|| place.join(", "));
                ev
            })
            .collect();
        s.events.sort_by_key(|e| e.happened_at);
        s.estimated_delivery = f.estimated_delivery_at;
        s.line_item_ids = f.line_items.iter().map(|(id, _)| id.to_string()).collect();
        s.created_at = Some(f.created_at);
        s.updated_at = Some(f.updated_at);
        s
    }

    /// The model [`Customer`] for a stored customer.
    pub fn to_customer(&self, c: &SimCustomer) -> Customer {
        let mut out = Customer::new(c.id);
        out.first_name = Some(c.first_name.clone());
        out.last_name = Some(c.last_name.clone());
        out.email.clone_from(&c.email);
        out.phone.clone_from(&c.phone);
        out.locale = Some(c.locale.clone());
        out.time_zone.clone_from(&c.time_zone);
        out.consents.clone_from(&c.consents);
        out.updated_at = Some(c.updated_at);
        out
    }

    fn parse_id(id: &str, what: &'static str) -> Result<u64, Error> {
        id.parse().map_err(|_| Error::NotFound {
            what,
            id: id.to_owned(),
        })
    }
}

fn to_address(a: &SimAddress) -> Address {
    let mut out = Address::default();
    let name = format!("{} {}", a.first_name, a.last_name);
    out.name = Some(name.trim().to_owned()).filter(|n| !n.is_empty());
    out.lines = std::iter::once(a.address1.clone())
        .chain(a.address2.clone())
        .filter(|l| !l.is_empty())
        .collect();
    out.city = Some(a.city.clone());
    out.province_code.clone_from(&a.province_code);
    out.postal_code.clone_from(&a.zip);
    out.country_code = Some(a.country_code.clone());
    out.phone.clone_from(&a.phone);
    out
}

#[async_trait]
impl OrderSource for SandboxShop {
    async fn order(&self, id: &OrderId) -> Result<Option<Order>, Error> {
        self.injected_failure(format!("fetch order {id}"))?;
        let Ok(n) = id.as_str().parse::<u64>() else {
            return Ok(None);
        };
        Ok(self.order_record(n).map(|o| self.to_order(&o)))
    }

    fn updated_since(&self, since: DateTime<Utc>) -> BoxStream<'_, Result<Order, Error>> {
        if let Err(e) = self.injected_failure(format!("list orders updated since {since}")) {
            return stream::iter(vec![Err(e)]).boxed();
        }
        let mut orders: Vec<SimOrder> = self
            .state()
            .orders
            .values()
            .filter(|o| o.updated_at >= since)
            .cloned()
            .collect();
        orders.sort_by_key(|o| (o.updated_at, o.id));
        stream::iter(orders.into_iter().map(|o| Ok(self.to_order(&o)))).boxed()
    }

    async fn shipments(&self, order: &OrderId) -> Result<Vec<Shipment>, Error> {
        self.injected_failure(format!("fetch shipments of order {order}"))?;
        let n = Self::parse_id(order.as_str(), "order")?;
        if self.order_record(n).is_none() {
            return Err(SandboxError::UnknownOrder(n).into());
        }
        Ok(self
            .fulfillments_of(n)
            .iter()
            .map(|f| self.to_shipment(f))
            .collect())
    }
}

#[async_trait]
impl CustomerDirectory for SandboxShop {
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, Error> {
        self.injected_failure(format!("fetch customer {id}"))?;
        let Ok(n) = id.as_str().parse::<u64>() else {
            return Ok(None);
        };
        Ok(self.customer_record(n).map(|c| self.to_customer(&c)))
    }
}

#[async_trait]
impl OrderAnnotator for SandboxShop {
    async fn add_order_tags(&self, order: &OrderId, tags: &[String]) -> Result<(), Error> {
        self.injected_failure(format!("tag order {order}"))?;
        let n = Self::parse_id(order.as_str(), "order")?;
        self.with_order(n, |o, _| {
            for t in tags {
                if !o.tags.contains(t) {
                    o.tags.push(t.clone());
                }
            }
        })?;
        self.state().annotations.push(Annotation::OrderTags {
            order: order.clone(),
            tags: tags.to_vec(),
        });
        Ok(())
    }

    async fn add_customer_tags(&self, customer: &CustomerId, tags: &[String]) -> Result<(), Error> {
        self.injected_failure(format!("tag customer {customer}"))?;
        let n = Self::parse_id(customer.as_str(), "customer")?;
        self.update_customer(n, |c| {
            for t in tags {
                if !c.tags.contains(t) {
                    c.tags.push(t.clone());
                }
            }
        })?;
        self.state().annotations.push(Annotation::CustomerTags {
            customer: customer.clone(),
            tags: tags.to_vec(),
        });
        Ok(())
    }

    async fn append_order_note(&self, order: &OrderId, line: &str) -> Result<(), Error> {
        self.injected_failure(format!("append a note to order {order}"))?;
        let n = Self::parse_id(order.as_str(), "order")?;
        self.with_order(n, |o, _| {
            o.note = Some(match o.note.take() {
                Some(prev) if !prev.is_empty() => format!("{prev}\n{line}"),
                _ => line.to_owned(),
            });
        })?;
        self.state().annotations.push(Annotation::OrderNote {
            order: order.clone(),
            line: line.to_owned(),
        });
        Ok(())
    }

    async fn set_order_metafield(
        &self,
        order: &OrderId,
        namespace: &str,
        key: &str,
        value: &str,
    ) -> Result<(), Error> {
        self.injected_failure(format!("set metafield {namespace}.{key} on order {order}"))?;
        let n = Self::parse_id(order.as_str(), "order")?;
        self.with_order(n, |o, _| {
            o.metafields
                .insert((namespace.to_owned(), key.to_owned()), value.to_owned());
        })?;
        self.state().annotations.push(Annotation::OrderMetafield {
            order: order.clone(),
            namespace: namespace.to_owned(),
            key: key.to_owned(),
            value: value.to_owned(),
        });
        Ok(())
    }
}

/// The demo catalog: a small coffee shop.
pub(crate) fn demo_catalog() -> Vec<SimProduct> {
    let mut v = vec![
        SimProduct::new(
            8_820_475_001_101,
            45_120_331_001_101,
            "ESP-BAR-01",
            "Barista Espresso Machine",
            "espresso-machines",
            34_900,
        ),
        SimProduct::new(
            8_820_475_001_102,
            45_120_331_001_102,
            "BEAN-ETH-1KG",
            "Ethiopia Yirgacheffe Beans 1 kg",
            "coffee-beans",
            3_200,
        ),
        SimProduct::new(
            8_820_475_001_103,
            45_120_331_001_103,
            "FROTH-MAG-02",
            "Magnetic Milk Frother",
            "accessories",
            5_900,
        ),
        SimProduct::new(
            8_820_475_001_104,
            45_120_331_001_104,
            "DESC-KIT-01",
            "Descaling Kit",
            "maintenance",
            1_450,
        ),
        SimProduct::new(
            8_820_475_001_105,
            45_120_331_001_105,
            "CUP-CER-SET4",
            "Ceramic Cup Set",
            "kitchenware",
            2_800,
        ),
    ];
    v[0].grams = 7_400;
    v[1].grams = 1_000;
    v[4].variant_title = Some("Set of 4 / Sand".to_owned());
    v
}

fn consent(purpose: Purpose, channel: ChannelKind, state: ConsentState, source: &str) -> Consent {
    let mut c = Consent::new(purpose, channel, state);
    c.source = Some(source.to_owned());
    c.updated_at = Some(DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_400));
    c
}

/// One customer per demo locale.
pub(crate) fn demo_customers() -> Vec<SimCustomer> {
    use ChannelKind::{Email, Sms, Whatsapp};
    use ConsentState::{Denied, Granted};
    use Purpose::{Feedback, Marketing, Transactional};
    #[allow(clippy::type_complexity)]
    let rows: [(
        &str,
        &str,
        &str,
        &str,
        &str,
        &str,
        (&str, &str, &str, &str, Option<&str>, &str),
        &str,
    ); 6] = [
        (
            "نورة",
            "القحطاني",
            "ar-SA",
            "+966501234567",
            "noura.alqahtani@example.sa",
            "Asia/Riyadh",
            (
                "طريق الملك فهد ١٢",
                "الرياض",
                "Saudi Arabia",
                "SA",
                Some("12271"),
                "01",
            ),
            "smsa",
        ),
        (
            "Ayşe",
            "Yılmaz",
            "tr-TR",
            "+905321234567",
            "ayse.yilmaz@example.com.tr",
            "Europe/Istanbul",
            (
                "Bağdat Caddesi No: 215",
                "İstanbul",
                "Turkey",
                "TR",
                Some("34728"),
                "34",
            ),
            "yurtici",
        ),
        (
            "สมชาย",
            "ใจดี",
            "th-TH",
            "+66812345678",
            "somchai.j@example.co.th",
            "Asia/Bangkok",
            (
                "99 ถนนสุขุมวิท",
                "กรุงเทพมหานคร",
                "Thailand",
                "TH",
                Some("10110"),
                "TH-10",
            ),
            "thailand_post",
        ),
        (
            "João",
            "Silva",
            "pt-BR",
            "+5511987654321",
            "joao.silva@example.com.br",
            "America/Sao_Paulo",
            (
                "Avenida Paulista, 1578",
                "São Paulo",
                "Brazil",
                "BR",
                Some("01310-200"),
                "SP",
            ),
            "correios",
        ),
        (
            "María",
            "Hernández",
            "es-MX",
            "+525512345678",
            "maria.hernandez@example.com.mx",
            "America/Mexico_City",
            (
                "Av. Insurgentes Sur 1602",
                "Ciudad de México",
                "Mexico",
                "MX",
                Some("03940"),
                "CMX",
            ),
            "dhl_express",
        ),
        (
            "Emily",
            "Carter",
            "en-US",
            "+12025550143",
            "emily.carter@example.com",
            "America/New_York",
            (
                "1600 Example Ave NW",
                "Washington",
                "United States",
                "US",
                Some("20500"),
                "DC",
            ),
            "ups",
        ),
    ];
    rows.into_iter()
        .map(
            |(
                first,
                last,
                locale,
                phone,
                email,
                tz,
                (street, city, country, cc, zip, prov),
                carrier,
            )| {
                let mut c = SimCustomer::new(first, last, locale);
                c.phone = Some(phone.to_owned());
                c.email = Some(email.to_owned());
                c.time_zone = Some(tz.to_owned());
                let mut a = SimAddress::new(street, city, country, cc);
                a.first_name = first.to_owned();
                a.last_name = last.to_owned();
                a.zip = zip.map(str::to_owned);
                a.province_code = Some(prov.to_owned());
                a.phone = Some(phone.to_owned());
                c.address = a;
                c.preferred_carrier = Some(carrier.to_owned());
                for ch in [Whatsapp, Sms, Email] {
                    c.consents
                        .push(consent(Transactional, ch, Granted, "checkout"));
                    c.consents.push(consent(Feedback, ch, Granted, "checkout"));
                }
                c.consents
                    .push(consent(Marketing, Email, Granted, "checkout"));
                c
            },
        )
        .enumerate()
        .map(|(i, mut c)| {
            // Variety: the Turkish customer refused SMS, the US customer refused feedback by SMS.
            match i {
                1 => {
                    c.consents
                        .push(consent(Transactional, Sms, Denied, "reply:STOP"));
                    c.consents
                        .push(consent(Marketing, Sms, Denied, "reply:STOP"));
                }
                5 => c
                    .consents
                    .push(consent(Feedback, Sms, Denied, "reply:STOP")),
                _ => {}
            }
            c
        })
        .collect()
}
