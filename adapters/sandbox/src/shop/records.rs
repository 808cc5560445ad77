//! The shop's records: products, customers, orders, fulfillments, annotations.

use super::*;

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
