//! Serde structs of ikas's JSON: the webhook envelope (`IkasWebhook` of
//! `@ikas/admin-api-client`) and the entities its `data` carries and the Admin GraphQL API
//! returns (`Order`, `OrderPackage`, `TrackingInfo`, `Customer`; ikas.dev type definitions).
//! Only the fields the adapter reads.

use serde::Deserialize;
use serde_json::Value;

/// The webhook body: `{id, createdAt, scope, merchantId, authorizedAppId, data, signature}`
/// where `data` is the entity as a JSON **string** and `signature` the hex HMAC-SHA256 of
/// that string with the app's client secret. Only `data` is signed.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope<'a> {
    /// The delivery's id (unsigned).
    #[serde(borrow)]
    pub id: std::borrow::Cow<'a, str>,
    /// When ikas created it (unsigned).
    #[serde(default)]
    pub created_at: Option<Value>,
    /// The scope (`store/order/updated`; unsigned).
    #[serde(borrow)]
    pub scope: std::borrow::Cow<'a, str>,
    /// The merchant (store) it is for (unsigned).
    #[serde(borrow)]
    pub merchant_id: std::borrow::Cow<'a, str>,
    /// The app installation (unsigned).
    #[serde(borrow, default)]
    pub authorized_app_id: Option<std::borrow::Cow<'a, str>>,
    /// The entity, as a JSON string (signed).
    #[serde(borrow)]
    pub data: std::borrow::Cow<'a, str>,
    /// Hex HMAC-SHA256 of `data`.
    #[serde(borrow)]
    pub signature: std::borrow::Cow<'a, str>,
}

/// An order.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IkasOrder {
    /// Its id (a UUID string).
    pub id: String,
    /// The number customers see.
    pub order_number: Value,
    /// `CREATED`, `CANCELLED`, `REFUNDED`...
    pub status: String,
    /// ISO 4217 (`TRY`).
    pub currency_code: String,
    /// The total after discounts, shipping and taxes.
    pub total_final_price: Value,
    /// When it was placed (epoch milliseconds).
    #[serde(default)]
    pub ordered_at: Option<Value>,
    /// When it was created (epoch milliseconds).
    #[serde(default)]
    pub created_at: Option<Value>,
    /// When it last changed (epoch milliseconds).
    pub updated_at: Value,
    /// Payment status (`WAITING`, `PAID`...).
    #[serde(default)]
    pub order_payment_status: Option<String>,
    /// The merchant, when the entity carries it.
    #[serde(default)]
    pub merchant_id: Option<String>,
    /// The customer.
    #[serde(default)]
    pub customer: Option<IkasOrderCustomer>,
    /// Its customer's id.
    #[serde(default)]
    pub customer_id: Option<String>,
    /// Where it ships.
    #[serde(default)]
    pub shipping_address: Option<IkasAddress>,
    /// What was bought.
    pub order_line_items: Vec<IkasLineItem>,
    /// Its packages (shipments).
    #[serde(default)]
    pub order_packages: Option<Vec<IkasPackage>>,
}

/// The customer embedded in an order.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IkasOrderCustomer {
    /// Id.
    #[serde(default)]
    pub id: Option<String>,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// The customer's language, when ikas gives it.
    #[serde(default)]
    pub preferred_language: Option<String>,
}

/// A named thing (`city{name}`, `district{name}`).
#[derive(Debug, Default, Deserialize)]
pub struct Named {
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
}

/// A country.
#[derive(Debug, Default, Deserialize)]
pub struct Country {
    /// ISO 3166-1 alpha-2.
    #[serde(default)]
    pub iso2: Option<String>,
    /// The code, when given instead.
    #[serde(default)]
    pub code: Option<String>,
}

/// An address.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IkasAddress {
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Street.
    #[serde(default)]
    pub address_line1: Option<String>,
    /// More.
    #[serde(default)]
    pub address_line2: Option<String>,
    /// Postal code.
    #[serde(default)]
    pub postal_code: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<Named>,
    /// District.
    #[serde(default)]
    pub district: Option<Named>,
    /// Country.
    #[serde(default)]
    pub country: Option<Country>,
}

/// A variant of a line.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IkasVariant {
    /// Id.
    #[serde(default)]
    pub id: Option<String>,
    /// Product id.
    #[serde(default)]
    pub product_id: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// SKU.
    #[serde(default)]
    pub sku: Option<String>,
}

/// An order line.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IkasLineItem {
    /// Id.
    pub id: String,
    /// Quantity.
    pub quantity: Value,
    /// Unit price.
    #[serde(default)]
    pub price: Option<Value>,
    /// The variant.
    #[serde(default)]
    pub variant: Option<IkasVariant>,
}

/// A package's tracking (`TrackingInfo`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IkasTracking {
    /// Tracking number.
    #[serde(default)]
    pub tracking_number: Option<String>,
    /// Tracking link.
    #[serde(default)]
    pub tracking_link: Option<String>,
    /// Carrier's display name.
    #[serde(default)]
    pub cargo_company: Option<String>,
    /// Carrier's key (`MNG_KARGO`).
    #[serde(default)]
    pub cargo_company_id: Option<String>,
}

/// A package (`OrderPackage`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IkasPackage {
    /// Id.
    pub id: String,
    /// Its fulfilment status.
    pub order_package_fulfill_status: String,
    /// The lines in it.
    #[serde(default)]
    pub order_line_item_ids: Vec<String>,
    /// Tracking.
    #[serde(default)]
    pub tracking_info: Option<IkasTracking>,
    /// When it changed (epoch milliseconds), when given.
    #[serde(default)]
    pub updated_at: Option<Value>,
}

/// A customer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IkasCustomer {
    /// Id.
    pub id: String,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// The customer's language, when ikas gives it.
    #[serde(default)]
    pub preferred_language: Option<String>,
    /// When the record changed (epoch milliseconds).
    #[serde(default)]
    pub updated_at: Option<Value>,
    /// The merchant, when the entity carries it.
    #[serde(default)]
    pub merchant_id: Option<String>,
}
