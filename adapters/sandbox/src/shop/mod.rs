//! The simulated shop: catalog, customers, orders, fulfillments and shipment events.
//!
//! One role per file: this file holds the shop and the platform traits it implements;
//! `records.rs` its records (products, customers, orders, fulfillments, annotations);
//! `demo.rs` the demo catalog and customers.

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

mod demo;
mod discounts;
mod records;

pub(crate) use demo::{demo_catalog, demo_customers};
pub use discounts::SandboxDiscounts;
pub use records::*;

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
        Self::demo_at("sandbox-demo.myshopify.com", clock)
    }

    /// The demo shop at another domain: one of many simulated shops.
    pub fn demo_at(domain: &str, clock: Arc<ManualClock>) -> Self {
        let shop = Self::new(domain, clock);
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
