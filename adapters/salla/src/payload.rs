//! Salla's JSON, as its webhooks and the Admin API v2 send it: only the fields read.
//!
//! Ids are kept as text: a JSON integer up to `u64::MAX` or a non-empty string; a fraction,
//! a negative number or anything else is refused (never through a float). Money stays a raw
//! JSON value until [`aftercare::money::parse_money_number`] reads it exactly.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

struct IdVisitor;

impl Visitor<'_> for IdVisitor {
    type Value = String;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an id: a non-negative integer or a non-empty string")
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
        Err(E::custom(format!("an id that is not an integer: {v}")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        let v = v.trim();
        if v.is_empty() {
            return Err(E::custom("an empty id"));
        }
        Ok(v.to_owned())
    }
}

/// A required id as text.
pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(IdVisitor)
}

/// An optional id as text (`null` or absent is `None`).
pub fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct Opt;
    impl<'de> Visitor<'de> for Opt {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an id or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            id(d).map(Some)
        }
    }
    d.deserialize_option(Opt)
}

/// The envelope of every Salla webhook: `{"event", "merchant", "created_at", "data"}`
/// (docs.salla.dev 421119, "Webhooks").
#[derive(Debug, Deserialize)]
pub struct Envelope {
    /// The event name (`order.created`).
    pub event: String,
    /// The store (merchant) id.
    #[serde(deserialize_with = "id")]
    pub merchant: String,
    /// When the event happened (`2022-12-31 12:31:25` or RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// The event's resource.
    pub data: Value,
}

/// A time as Salla writes it: text, or PHP's `{date, timezone_type, timezone}` object.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum SallaTime {
    /// `2022-12-31 12:31:25`, or RFC 3339.
    Text(String),
    /// `{"date": "2021-10-05 20:21:12.000000", "timezone": "Asia/Riyadh"}`.
    Php {
        /// The local date and time.
        date: String,
        /// Its zone.
        #[serde(default)]
        timezone: Option<String>,
    },
}

/// An order's status (`{"id", "name", "slug"}`).
#[derive(Clone, Debug, Deserialize)]
pub struct Status {
    /// `under_review`, `in_progress`, `completed`, `delivering`, `delivered`, `shipped`,
    /// `canceled`...
    #[serde(default)]
    pub slug: Option<String>,
    /// The name shown to the merchant (Arabic or English).
    #[serde(default)]
    pub name: Option<String>,
}

/// An amount: `{"amount": 115.5, "currency": "SAR"}`.
#[derive(Clone, Debug, Deserialize)]
pub struct Amount {
    /// A JSON number or decimal text.
    pub amount: Value,
    /// ISO 4217.
    #[serde(default)]
    pub currency: Option<String>,
}

/// An order's amounts (only the total is read).
#[derive(Clone, Debug, Deserialize)]
pub struct Amounts {
    /// The total.
    pub total: Amount,
}

/// The customer embedded in an order, or a customer resource.
#[derive(Clone, Debug, Deserialize)]
pub struct CustomerPayload {
    /// Its id.
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// The mobile number without its country code (a number or text).
    #[serde(default)]
    pub mobile: Option<Value>,
    /// The country calling code (`+966`).
    #[serde(default)]
    pub mobile_code: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// Country (name or code).
    #[serde(default)]
    pub country: Option<String>,
    /// The customer's language, when the store sends it (`ar`, `en`).
    #[serde(default)]
    pub lang: Option<String>,
    /// Last change.
    #[serde(default)]
    pub updated_at: Option<SallaTime>,
    /// An order body has these; a customer has not (refused under customer topics).
    #[serde(default)]
    pub reference_id: Option<Value>,
    /// A shipment body has this; a customer has not.
    #[serde(default)]
    pub order_id: Option<Value>,
}

/// An order line.
#[derive(Clone, Debug, Deserialize)]
pub struct ItemPayload {
    /// Its id.
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
    /// Product name.
    #[serde(default)]
    pub name: Option<String>,
    /// SKU.
    #[serde(default)]
    pub sku: Option<String>,
    /// Quantity.
    #[serde(default)]
    pub quantity: Option<u32>,
    /// The product (`{"id"}`).
    #[serde(default)]
    pub product: Option<ProductRef>,
}

/// A product reference.
#[derive(Clone, Debug, Deserialize)]
pub struct ProductRef {
    /// Its id.
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
}

/// A status given as text or as `{"slug"}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum StatusText {
    /// `shipped`.
    Text(String),
    /// `{"slug": "shipped", "name": "..."}`.
    Object {
        /// The slug.
        slug: String,
    },
}

impl StatusText {
    /// The raw status.
    pub fn as_str(&self) -> &str {
        match self {
            StatusText::Text(s) => s,
            StatusText::Object { slug } => slug,
        }
    }
}

/// A shipment, in an order's `shipments[]` or as the `data` of `shipment.*` events.
#[derive(Clone, Debug, Deserialize)]
pub struct ShipmentPayload {
    /// Its id.
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// Its order (absent inside an order's own `shipments[]`).
    #[serde(default, deserialize_with = "opt_id")]
    pub order_id: Option<String>,
    /// The carrier's name.
    #[serde(default)]
    pub courier_name: Option<String>,
    /// The tracking number.
    #[serde(default)]
    pub tracking_number: Option<String>,
    /// The carrier's tracking page.
    #[serde(default)]
    pub tracking_link: Option<String>,
    /// The carrier's shipping number (used when no tracking number is given).
    #[serde(default)]
    pub shipping_number: Option<Value>,
    /// `created`, `shipped`, `delivering`, `delivered`, `in_progress`, `cancelled`.
    pub status: StatusText,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<SallaTime>,
    /// Last change.
    #[serde(default)]
    pub updated_at: Option<SallaTime>,
    /// An order has this; a shipment has not (refused under shipment topics).
    #[serde(default)]
    pub reference_id: Option<Value>,
}

/// An order (`order.*` events' `data`, and the Admin API's `GET /orders/{id}`).
#[derive(Clone, Debug, Deserialize)]
pub struct OrderPayload {
    /// Its id.
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// The number the customer sees.
    #[serde(deserialize_with = "id")]
    pub reference_id: String,
    /// Its status.
    pub status: Status,
    /// Its amounts.
    pub amounts: Amounts,
    /// The order's currency, when the amounts do not say.
    #[serde(default)]
    pub currency: Option<String>,
    /// The customer.
    #[serde(default)]
    pub customer: Option<CustomerPayload>,
    /// The lines.
    #[serde(default)]
    pub items: Vec<ItemPayload>,
    /// Shipments.
    #[serde(default)]
    pub shipments: Vec<ShipmentPayload>,
    /// Tags (text, or `{"name"}` objects).
    #[serde(default)]
    pub tags: Vec<Value>,
    /// When it was created.
    #[serde(default)]
    pub date: Option<SallaTime>,
    /// Last change.
    #[serde(default)]
    pub updated_at: Option<SallaTime>,
    /// A shipment has this; an order has not.
    #[serde(default)]
    pub order_id: Option<Value>,
}

/// `app.store.authorize` data: the store's OAuth tokens (docs.salla.dev 421413, "App
/// Events").
#[derive(Deserialize)]
pub struct AuthorizePayload {
    /// The access token.
    pub access_token: String,
    /// Its expiry, Unix seconds.
    pub expires: i64,
    /// The single-use refresh token.
    pub refresh_token: String,
}

/// The Admin API's answer: `{"status", "success", "data", "pagination"?}`.
#[derive(Debug, Deserialize)]
pub struct ApiResponse<T> {
    /// The resource(s).
    pub data: T,
    /// Paging of list endpoints.
    #[serde(default)]
    pub pagination: Option<Pagination>,
}

/// `pagination{count, total, perPage, currentPage, totalPages, links}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// The page answered.
    #[serde(default)]
    pub current_page: Option<u64>,
    /// The number of pages.
    #[serde(default)]
    pub total_pages: Option<u64>,
}

/// The Admin API's error body: `{"status", "success": false, "error": {"code", "message"}}`.
#[derive(Debug, Default, Deserialize)]
pub struct ErrorPayload {
    /// The error.
    #[serde(default)]
    pub error: Option<ErrorDetail>,
}

/// An error's code and message.
#[derive(Debug, Default, Deserialize)]
pub struct ErrorDetail {
    /// `Unauthorized`, `invalid_grant`...
    #[serde(default)]
    pub code: Option<Value>,
    /// Text.
    #[serde(default)]
    pub message: Option<String>,
}
