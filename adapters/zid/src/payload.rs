//! Zid's JSON, as its webhooks (the "Order" schema, docs.zid.sa "Webhooks → Order") and the
//! Merchant API send it: only the fields read. Ids are text (a JSON integer up to
//! `u64::MAX` or a non-empty string — Zid sends both for customers); money stays a raw
//! JSON value until [`aftercare::money::parse_money_number`] reads it.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_json::Value;

struct IdText;

impl Visitor<'_> for IdText {
    type Value = String;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a non-negative integer or non-empty text")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        u64::try_from(v)
            .map(|v| v.to_string())
            .map_err(|_| E::custom(format!("a negative id {v}")))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Err(E::custom(format!("an id with a fraction: {v}")))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        match v.trim() {
            "" => Err(E::custom("an empty id")),
            t => Ok(t.to_owned()),
        }
    }
}

/// A required id as text.
pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(IdText)
}

/// `{"name", "code"}`: `new`, `preparing`, `ready`, `indelivery`, `delivered`,
/// `cancelled`...
#[derive(Clone, Debug, Deserialize)]
pub struct OrderStatus {
    /// The status code.
    pub code: String,
    /// Its display name.
    #[serde(default)]
    pub name: Option<String>,
}

/// The order's customer.
#[derive(Clone, Debug, Deserialize)]
pub struct OrderCustomer {
    /// Its id.
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email (Zid may send an undeliverable placeholder; see `convert`).
    #[serde(default)]
    pub email: Option<String>,
    /// Mobile, with its country code (`+96650…` or `96650…`).
    #[serde(default)]
    pub mobile: Option<String>,
}

/// A line.
#[derive(Clone, Debug, Deserialize)]
pub struct Product {
    /// Its id (a UUID or a number).
    #[serde(default)]
    pub id: Option<Value>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// SKU.
    #[serde(default)]
    pub sku: Option<String>,
    /// Quantity.
    #[serde(default)]
    pub quantity: Option<u32>,
}

/// The shipping method's tracking (`shipping.method.tracking`).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Tracking {
    /// The tracking number.
    #[serde(default)]
    pub number: Option<Value>,
    /// The carrier's tracking page.
    #[serde(default)]
    pub url: Option<String>,
}

/// `shipping.method`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ShippingMethod {
    /// The method's (carrier's) name.
    #[serde(default)]
    pub name: Option<String>,
    /// Its tracking.
    #[serde(default)]
    pub tracking: Option<Tracking>,
}

/// `shipping`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Shipping {
    /// The method.
    #[serde(default)]
    pub method: Option<ShippingMethod>,
}

/// An order: the `Order` schema of Zid's order webhooks, and `order` of the Merchant API's
/// "View Order".
#[derive(Clone, Debug, Deserialize)]
pub struct OrderPayload {
    /// Its id.
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// The code the customer sees (`8OVNEhyqcf`).
    #[serde(default)]
    pub code: Option<String>,
    /// The store.
    #[serde(deserialize_with = "id")]
    pub store_id: String,
    /// Its status.
    pub order_status: OrderStatus,
    /// ISO 4217.
    pub currency_code: String,
    /// The total (`"211.44999892193000"`: more digits than the currency has; rounded to
    /// the currency's, see `convert`).
    pub order_total: Value,
    /// The customer.
    #[serde(default)]
    pub customer: Option<OrderCustomer>,
    /// The lines.
    #[serde(default)]
    pub products: Vec<Product>,
    /// Shipping.
    #[serde(default)]
    pub shipping: Option<Shipping>,
    /// The storefront language of the order (`ar`, `en`), when sent.
    #[serde(default)]
    pub language: Option<String>,
    /// `2025-10-13 07:53:13` (UTC).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last change, same format.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Comments added through "Add Order Comment", when the order lists them.
    #[serde(default)]
    pub comments: Vec<Value>,
}
