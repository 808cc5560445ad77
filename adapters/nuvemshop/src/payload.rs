//! Serde structs of Nuvemshop's JSON: only the fields the adapter reads. Field names follow
//! TiendaNube/api-docs `resources/webhook.md`, `resources/order.md` and
//! `resources/customer.md`.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_json::Value;

/// An id as text: Nuvemshop sends JSON integers (`450789469`); a string of digits is
/// accepted too. Fractions, negatives, exponents and anything else are refused, so an id
/// never goes through a float.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Id(pub String);

impl Id {
    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Id;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a non-negative integer id")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                u64::try_from(v)
                    .map(|v| Id(v.to_string()))
                    .map_err(|_| E::custom(format!("a negative id: {v}")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Id, E> {
                Err(E::custom(format!("an id that is not an integer: {v}")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                if digits(v) {
                    Ok(Id(v.to_owned()))
                } else {
                    Err(E::custom(format!("`{v}` is not an id")))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A webhook body ("Parameters" of `resources/webhook.md`): `store_id`, `event`, and the
/// resource's `id` (`{"store_id":123,"event":"order/created","id":1948209}`).
#[derive(Debug, Deserialize)]
pub struct Notification {
    /// The store the event is from (the `user_id` of the authorization step).
    pub store_id: Id,
    /// The event's name.
    pub event: String,
    /// The resource's id (absent for `domain/updated` and `theme/updated`).
    #[serde(default)]
    pub id: Option<Id>,
}

/// `store/redact` (Nuvemshop's "LGPD Webhooks Test" collection: `{"store_id": ...}`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreRedact {
    /// The store.
    pub store_id: Id,
}

/// The customer of a `customers/redact` or `customers/data_request` body.
#[derive(Debug, Deserialize)]
pub struct PrivacyCustomer {
    /// Its id.
    pub id: Id,
    /// Its email.
    #[serde(default)]
    pub email: Option<String>,
    /// Its phone.
    #[serde(default)]
    pub phone: Option<String>,
}

/// `customers/redact`: `{"store_id", "customer": {...}, "orders_to_redact": [...]}`.
#[derive(Debug, Deserialize)]
pub struct CustomerRedact {
    /// The store.
    pub store_id: Id,
    /// The customer.
    pub customer: PrivacyCustomer,
    /// Orders whose data must go.
    pub orders_to_redact: Vec<Id>,
}

/// `customers/data_request`: `{"store_id", "customer": {...}, "orders_requested": [...]}`.
#[derive(Debug, Deserialize)]
pub struct CustomerDataRequest {
    /// The store.
    pub store_id: Id,
    /// The customer.
    pub customer: PrivacyCustomer,
    /// Orders concerned.
    pub orders_requested: Vec<Id>,
}

/// An order ("Properties" of `resources/order.md`).
#[derive(Debug, Deserialize)]
pub struct ApiOrder {
    /// Its id.
    pub id: Id,
    /// The number customers see (sequential from 100).
    pub number: Id,
    /// ISO 4217.
    pub currency: String,
    /// Total including shipping and discounts (`total` in the properties table).
    #[serde(default)]
    pub total: Option<Value>,
    /// The docs' examples carry the total as `price`; read when `total` is absent.
    #[serde(default)]
    pub price: Option<Value>,
    /// The checkout language (`es`, `pt`, `en`).
    #[serde(default)]
    pub language: Option<String>,
    /// `open`, `closed` or `cancelled`.
    pub status: String,
    /// `pending`, `authorized`, `paid`, `voided`, `refunded`, `abandoned`.
    #[serde(default)]
    pub payment_status: Option<String>,
    /// `unpacked`, `unshipped` or `shipped`.
    #[serde(default)]
    pub shipping_status: Option<String>,
    /// The shipping method (`correios`, `ups`...).
    #[serde(default)]
    pub shipping: Option<String>,
    /// The option's display name (`Correios - PAC`).
    #[serde(default)]
    pub shipping_option: Option<String>,
    /// Tracking number, when known.
    #[serde(default)]
    pub shipping_tracking_number: Option<String>,
    /// Tracking URL, when known.
    #[serde(default)]
    pub shipping_tracking_url: Option<String>,
    /// When it shipped.
    #[serde(default)]
    pub shipped_at: Option<String>,
    /// Store owner's note (the write-back target).
    #[serde(default)]
    pub owner_note: Option<String>,
    /// Contact email of the order (the current API; the customer's otherwise).
    #[serde(default)]
    pub contact_email: Option<String>,
    /// Contact phone of the order.
    #[serde(default)]
    pub contact_phone: Option<String>,
    /// The customer (with `read_customers`).
    #[serde(default)]
    pub customer: Option<ApiCustomer>,
    /// Products bought.
    pub products: Vec<ApiProduct>,
    /// Shipping address.
    #[serde(default)]
    pub shipping_address: Option<ApiAddress>,
    /// When it was created.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
}

/// A product line of an order.
#[derive(Debug, Deserialize)]
pub struct ApiProduct {
    /// Line id (the current API; absent in the docs' examples).
    #[serde(default)]
    pub id: Option<Id>,
    /// The product.
    #[serde(default)]
    pub product_id: Option<Id>,
    /// The variant.
    #[serde(default)]
    pub variant_id: Option<Id>,
    /// Name at the time of purchase (absent in the docs' examples).
    #[serde(default)]
    pub name: Option<String>,
    /// Unit price at the time of purchase.
    #[serde(default)]
    pub price: Option<Value>,
    /// Quantity.
    pub quantity: Value,
    /// SKU.
    #[serde(default)]
    pub sku: Option<String>,
    /// The product's picture: `{"id", "product_id", "src", "position", "alt", ...}`
    /// (`resources/order.md`, the "GET /orders" example's `products[].image`).
    #[serde(default)]
    pub image: Option<ApiImage>,
}

/// A product picture in an order's line.
#[derive(Debug, Default, Deserialize)]
pub struct ApiImage {
    /// Its URL.
    #[serde(default)]
    pub src: Option<String>,
}

/// An address of an order.
#[derive(Debug, Default, Deserialize)]
pub struct ApiAddress {
    /// Recipient name (current API).
    #[serde(default)]
    pub name: Option<String>,
    /// Street.
    #[serde(default)]
    pub address: Option<String>,
    /// House number.
    #[serde(default)]
    pub number: Option<String>,
    /// Complement.
    #[serde(default)]
    pub floor: Option<String>,
    /// Neighbourhood.
    #[serde(default)]
    pub locality: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// Province.
    #[serde(default)]
    pub province: Option<String>,
    /// Postal code.
    #[serde(default)]
    pub zipcode: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[serde(default)]
    pub country: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
}

/// A customer (`resources/customer.md`).
#[derive(Debug, Deserialize)]
pub struct ApiCustomer {
    /// Its id.
    pub id: Id,
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// The store owner's note about the customer (customer-tag write-back).
    #[serde(default)]
    pub note: Option<String>,
    /// When the record changed.
    #[serde(default)]
    pub updated_at: Option<String>,
}
