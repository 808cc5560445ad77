//! BigCommerce's JSON as documented: the thin webhook callback (`webhooks.v3.yml`
//! `webhook_callback_base`, "Webhook Events"), and the REST resources the adapter reads
//! (`orders.v2.oas2.yml`: order, order products, shipments, shipping addresses;
//! `customers.v3.yml`: customers; `orders.v3.yml`: order metafields; `webhooks.v3.yml`:
//! hooks).
//!
//! Ids are kept as text ([`Id`]): numbers up to `u64::MAX` or strings, never floats.
//! Fields every documented example carries are required; a body without them is refused.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An id as decimal text: accepts a JSON integer (up to `u64::MAX`, or negative) or a
/// non-empty string; refuses floats, booleans, null and empty strings.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Id(pub String);

impl Id {
    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is BigCommerce's "none" (`0`, e.g. `customer_id` of a guest order or
    /// `product_id` of a custom product).
    pub fn is_zero(&self) -> bool {
        self.0 == "0"
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer id or a non-empty string id")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Id, E> {
                Err(E::invalid_type(de::Unexpected::Float(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                let t = v.trim();
                if t.is_empty() {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                } else {
                    Ok(Id(t.to_owned()))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `null`, a missing field or an empty string read as `None`.
fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v: Option<String> = Option::deserialize(d)?;
    Ok(v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()))
}

/// An optional id where `null` and `0` mean none.
fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Id>, D::Error> {
    let v: Option<Id> = Option::deserialize(d)?;
    Ok(v.filter(|i| !i.is_zero()))
}

// ------------------------------------------------------------------ webhook callbacks

/// The thin callback BigCommerce POSTs (`webhooks.v3.yml` `webhook_callback_base`):
/// `{"scope","store_id","data":{...},"hash","created_at","producer":"stores/{store_hash}"}`.
///
/// `created_at` is optional: the "HTTPS Webhooks Overview" example omits it.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct Callback {
    /// The event (`store/order/created`).
    pub scope: String,
    /// The store's numeric id (a string in the docs; an integer is accepted).
    pub store_id: Id,
    /// What the event is about; its fields vary by scope.
    pub data: Value,
    /// SHA-1 of the JSON-encoded payload data (the same for a hook firing twice).
    pub hash: String,
    /// Unix time of the event.
    #[serde(default)]
    pub created_at: Option<i64>,
    /// `stores/{store_hash}`: the store that produced the event.
    pub producer: String,
}

impl Callback {
    /// The store hash named by `producer` (`stores/{store_hash}`), if it has that shape.
    pub fn store_hash(&self) -> Option<&str> {
        store_of_producer(&self.producer)
    }
}

/// The store hash of a `producer` value (`stores/abc123` → `abc123`).
pub fn store_of_producer(producer: &str) -> Option<&str> {
    producer
        .strip_prefix("stores/")
        .filter(|h| !h.is_empty() && !h.contains('/'))
}

/// `data` of order callbacks (`store/order/created|updated|archived|statusUpdated`):
/// `{"type":"order","id":250}`, plus `status` for `statusUpdated`.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct OrderData {
    /// Always `order`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The order id.
    pub id: Id,
    /// `store/order/statusUpdated` only.
    #[serde(default)]
    pub status: Option<StatusChange>,
}

/// `data.status` of `store/order/statusUpdated`.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct StatusChange {
    /// The status before.
    pub previous_status_id: u32,
    /// The status now.
    pub new_status_id: u32,
}

/// `data` of shipment callbacks: `{"type":"shipment","id":12,"orderId":251}`.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct ShipmentData {
    /// Always `shipment`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The shipment id.
    pub id: Id,
    /// The order id.
    #[serde(rename = "orderId")]
    pub order_id: Id,
}

/// `data` of customer callbacks: `{"type":"customer","id":32}`.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct CustomerData {
    /// Always `customer`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The customer id.
    pub id: Id,
}

/// `data` of `store/app/uninstalled`: `{"type":"store"}`.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct StoreData {
    /// Always `store`.
    #[serde(rename = "type")]
    pub kind: String,
}

// ------------------------------------------------------------------ REST resources

/// An address on an order (`billingAddress_Base`, `shippingAddress_Base`, the shipment's
/// `billing_address` / `shipping_address`).
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct ApiAddress {
    /// First name.
    #[serde(default, deserialize_with = "opt_text")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, deserialize_with = "opt_text")]
    pub last_name: Option<String>,
    /// Street, first line.
    #[serde(default, deserialize_with = "opt_text")]
    pub street_1: Option<String>,
    /// Street, second line.
    #[serde(default, deserialize_with = "opt_text")]
    pub street_2: Option<String>,
    /// City.
    #[serde(default, deserialize_with = "opt_text")]
    pub city: Option<String>,
    /// State or province name.
    #[serde(default, deserialize_with = "opt_text")]
    pub state: Option<String>,
    /// Postal code.
    #[serde(default, deserialize_with = "opt_text")]
    pub zip: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    #[serde(default, deserialize_with = "opt_text")]
    pub country_iso2: Option<String>,
    /// Phone.
    #[serde(default, deserialize_with = "opt_text")]
    pub phone: Option<String>,
    /// Email.
    #[serde(default, deserialize_with = "opt_text")]
    pub email: Option<String>,
}

/// An order (`GET /v2/orders/{order_id}`, `order_Resp`).
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct ApiOrder {
    /// The order id (also the number customers see).
    pub id: Id,
    /// The customer, `0` for a guest.
    #[serde(default, deserialize_with = "opt_id")]
    pub customer_id: Option<Id>,
    /// RFC 2822.
    #[serde(default, deserialize_with = "opt_text")]
    pub date_created: Option<String>,
    /// RFC 2822, always UTC in responses.
    pub date_modified: String,
    /// The status id (0–14 documented).
    pub status_id: u32,
    /// The status name (merchants can rename it: `custom_status`).
    #[serde(default, deserialize_with = "opt_text")]
    pub status: Option<String>,
    /// Total including tax, decimal text (`"135.4900"`).
    pub total_inc_tax: Value,
    /// The display currency (in v2 the transactional one).
    #[serde(default, deserialize_with = "opt_text")]
    pub currency_code: Option<String>,
    /// The transactional currency, the one the shopper pays in.
    #[serde(default, deserialize_with = "opt_text")]
    pub default_currency_code: Option<String>,
    /// Staff notes (not shown to the customer).
    #[serde(default)]
    pub staff_notes: Option<String>,
    /// `en`, `en-US`, `es-419`.
    #[serde(default, deserialize_with = "opt_text")]
    pub customer_locale: Option<String>,
    /// The billing address (email and phone of the order).
    #[serde(default)]
    pub billing_address: Option<ApiAddress>,
    /// Whether the order is archived.
    #[serde(default)]
    pub is_deleted: Option<bool>,
}

/// An order line (`GET /v2/orders/{order_id}/products`, `orderProducts`).
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct ApiOrderProduct {
    /// The line's id (referenced by shipments' `items[].order_product_id`).
    pub id: Id,
    /// The catalog product, `0` for a custom product.
    #[serde(default, deserialize_with = "opt_id")]
    pub product_id: Option<Id>,
    /// The variant.
    #[serde(default, deserialize_with = "opt_id")]
    pub variant_id: Option<Id>,
    /// Name.
    pub name: String,
    /// SKU.
    #[serde(default, deserialize_with = "opt_text")]
    pub sku: Option<String>,
    /// Quantity.
    pub quantity: u32,
    /// Unit price including tax.
    #[serde(default)]
    pub price_inc_tax: Option<Value>,
}

/// One line of a shipment.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct ApiShipmentItem {
    /// The order line (`ApiOrderProduct::id`).
    pub order_product_id: Id,
}

/// A shipment (`GET /v2/orders/{order_id}/shipments`, `orderShipment`).
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct ApiShipment {
    /// The shipment id.
    pub id: Id,
    /// The order.
    pub order_id: Id,
    /// RFC 2822.
    #[serde(default, deserialize_with = "opt_text")]
    pub date_created: Option<String>,
    /// Tracking number.
    #[serde(default, deserialize_with = "opt_text")]
    pub tracking_number: Option<String>,
    /// `auspost`, `usps`, `carrier_{id}`, `""`...
    #[serde(default, deserialize_with = "opt_text")]
    pub shipping_provider: Option<String>,
    /// The provider's display name (`USPS`).
    #[serde(default, deserialize_with = "opt_text")]
    pub shipping_provider_display_name: Option<String>,
    /// An AfterShip courier slug.
    #[serde(default, deserialize_with = "opt_text")]
    pub tracking_carrier: Option<String>,
    /// A custom tracking link.
    #[serde(default, deserialize_with = "opt_text")]
    pub tracking_link: Option<String>,
    /// The link BigCommerce generated from provider or carrier and number.
    #[serde(default, deserialize_with = "opt_text")]
    pub generated_tracking_link: Option<String>,
    /// Lines shipped.
    #[serde(default)]
    pub items: Vec<ApiShipmentItem>,
    /// Where it ships.
    #[serde(default)]
    pub shipping_address: Option<ApiAddress>,
}

/// A customer (`GET /v3/customers`, `customer_Full`).
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct ApiCustomer {
    /// The customer id.
    pub id: Id,
    /// Email.
    #[serde(default, deserialize_with = "opt_text")]
    pub email: Option<String>,
    /// First name.
    #[serde(default, deserialize_with = "opt_text")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, deserialize_with = "opt_text")]
    pub last_name: Option<String>,
    /// Phone.
    #[serde(default, deserialize_with = "opt_text")]
    pub phone: Option<String>,
    /// ISO 8601.
    #[serde(default, deserialize_with = "opt_text")]
    pub date_modified: Option<String>,
    /// Signed up for product review and abandoned cart emails.
    #[serde(default)]
    pub accepts_product_review_abandoned_cart_emails: Option<bool>,
}

/// `{"data": [...], "meta": {...}}`: a v3 collection.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct Collection<T> {
    /// The items.
    pub data: Vec<T>,
}

/// `{"data": {...}, "meta": {...}}`: a v3 single resource.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct Single<T> {
    /// The item.
    pub data: T,
}

/// An order or customer metafield (`orders.v3.yml` `Metafield`).
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct ApiMetafield {
    /// Its id.
    pub id: Id,
    /// Namespace.
    pub namespace: String,
    /// Key.
    pub key: String,
    /// Value.
    #[serde(default)]
    pub value: String,
}

/// A webhook subscription (`webhooks.v3.yml` `webhook_Full`).
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct ApiHook {
    /// Its id.
    pub id: Id,
    /// The scope.
    pub scope: String,
    /// The destination URL.
    pub destination: String,
    /// Whether it fires.
    #[serde(default)]
    pub is_active: Option<bool>,
    /// Custom headers sent with each callback.
    #[serde(default)]
    pub headers: Option<std::collections::BTreeMap<String, String>>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_text_never_floats() {
        let id: Id = serde_json::from_str("18446744073709551615").unwrap();
        assert_eq!(id.as_str(), "18446744073709551615");
        let id: Id = serde_json::from_str("\"abc-1\"").unwrap();
        assert_eq!(id.as_str(), "abc-1");
        assert!(serde_json::from_str::<Id>("1.5").is_err());
        assert!(serde_json::from_str::<Id>("\"\"").is_err());
        assert!(serde_json::from_str::<Id>("null").is_err());
        assert!(serde_json::from_str::<Id>("true").is_err());
    }

    #[test]
    fn producer_names_the_store() {
        assert_eq!(store_of_producer("stores/abc123"), Some("abc123"));
        assert_eq!(store_of_producer("stores/"), None);
        assert_eq!(store_of_producer("abc123"), None);
        assert_eq!(store_of_producer("stores/a/b"), None);
    }
}
