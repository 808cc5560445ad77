use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Customer, CustomerId, OrderId, ProductId, ShopId, VariantId};

/// An amount of money in the currency's minor units (cents, halalas, kuruş...).
///
/// Never a float: `Money::new(1999, "USD")` is 19.99 dollars.
///
/// ```
/// use aftercare::model::Money;
/// let m = Money::new(1999, "USD");
/// assert_eq!(m.minor_units, 1999);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Money {
    /// Amount in minor units.
    pub minor_units: i64,
    /// ISO 4217 currency code.
    pub currency: String,
}

impl Money {
    /// Builds an amount from minor units and an ISO 4217 code.
    pub fn new(minor_units: i64, currency: impl Into<String>) -> Self {
        Self {
            minor_units,
            currency: currency.into(),
        }
    }
}

/// A postal address, as much as the platform gives.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Address {
    /// Recipient's name.
    pub name: Option<String>,
    /// Street lines.
    pub lines: Vec<String>,
    /// City.
    pub city: Option<String>,
    /// Province, state or region code.
    pub province_code: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country_code: Option<String>,
    /// Phone number at this address, E.164 when the platform gives it so.
    pub phone: Option<String>,
}

/// One line of an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct LineItem {
    /// The platform's id of this line, when it has one.
    pub id: Option<String>,
    /// Product id.
    pub product_id: Option<ProductId>,
    /// Variant id.
    pub variant_id: Option<VariantId>,
    /// Stock-keeping unit.
    pub sku: Option<String>,
    /// Title shown to the customer.
    pub title: String,
    /// Product category or type, used to pick tutorials.
    pub category: Option<String>,
    /// Quantity bought.
    pub quantity: u32,
    /// Unit price, when known.
    pub unit_price: Option<Money>,
}

impl LineItem {
    /// A line with a title and a quantity; the rest left empty.
    pub fn new(title: impl Into<String>, quantity: u32) -> Self {
        Self {
            id: None,
            product_id: None,
            variant_id: None,
            sku: None,
            title: title.into(),
            category: None,
            quantity,
            unit_price: None,
        }
    }
}

/// An order as Aftercare needs it.
///
/// ```
/// use aftercare::model::{Order, LineItem};
/// let mut order = Order::new("820982911946154500", "#1042");
/// order.line_items.push(LineItem::new("Espresso grinder", 1));
/// assert_eq!(order.id.as_str(), "820982911946154500");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Order {
    /// The shop this order belongs to, when known.
    pub shop: Option<ShopId>,
    /// The platform's id.
    pub id: OrderId,
    /// The human-facing number (`#1042`).
    pub number: String,
    /// The customer who placed it, when not a guest.
    pub customer_id: Option<CustomerId>,
    /// Contact email on the order.
    pub email: Option<String>,
    /// Contact phone on the order.
    pub phone: Option<String>,
    /// Lines bought.
    pub line_items: Vec<LineItem>,
    /// Where it ships.
    pub shipping_address: Option<Address>,
    /// The customer's locale as a BCP 47 tag (`en-CA`, `ar`, `pt-BR`), when known.
    pub locale: Option<String>,
    /// Total price.
    pub total: Option<Money>,
    /// Whether the order is cancelled.
    pub cancelled: bool,
    /// Tags set on the order in the shop.
    pub tags: Vec<String>,
    /// When it was created.
    pub created_at: Option<DateTime<Utc>>,
    /// When it last changed; used to order out-of-order deliveries.
    pub updated_at: Option<DateTime<Utc>>,
    /// The customer as the order's payload embeds them (Shopify's `orders/*` webhooks carry
    /// a `customer` object): a partial record (no locale or time zone, say), used when
    /// neither a customer webhook nor the platform's API gives the customer — so a
    /// deployment with no API token still greets the customer by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Box<Customer>>,
}

impl Order {
    /// An order with an id and a number; the rest left empty.
    pub fn new(id: impl Into<OrderId>, number: impl Into<String>) -> Self {
        Self {
            shop: None,
            id: id.into(),
            number: number.into(),
            customer_id: None,
            email: None,
            phone: None,
            line_items: Vec::new(),
            shipping_address: None,
            locale: None,
            total: None,
            cancelled: false,
            tags: Vec::new(),
            created_at: None,
            updated_at: None,
            customer: None,
        }
    }
}
