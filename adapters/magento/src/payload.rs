//! Serde structs of Magento's JSON: the REST API's data interfaces
//! (`Magento\Sales\Api\Data\OrderInterface`, `ShipmentInterface`, `ShipmentTrackInterface`,
//! `Magento\Customer\Api\Data\CustomerInterface`), which are also the fields of the models
//! that observer events (Adobe Commerce webhooks, Adobe I/O Events) carry. Only the fields
//! read are declared. Observer data comes from the database, so numbers often arrive as
//! text (`"entity_id": "42"`, `"grand_total": "36.3900"`): ids and amounts accept both.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// An id: a JSON integer (up to `u64::MAX`) or a non-empty string, kept as text. A fraction,
/// a negative number or an empty string is an error, never a rounded id.
pub fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(u) => Ok(Some(u.to_string())),
            None => Err(serde::de::Error::custom(format!(
                "the id {n} is not a whole non-negative number"
            ))),
        },
        Some(Value::String(s)) => {
            let t = s.trim();
            if t.is_empty() {
                return Err(serde::de::Error::custom("an empty id"));
            }
            Ok(Some(t.to_owned()))
        }
        Some(other) => Err(serde::de::Error::custom(format!(
            "an id must be a number or text, not {other}"
        ))),
    }
}

/// Text that Magento may send as a number (`increment_id` is text, but observer data of
/// some versions sends numbers as numbers).
pub fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected text, found {other}"
        ))),
    }
}

/// An address (`OrderAddressInterface`).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AddressPayload {
    /// First name.
    #[serde(default)]
    pub firstname: Option<String>,
    /// Last name.
    #[serde(default)]
    pub lastname: Option<String>,
    /// Street lines.
    #[serde(default)]
    pub street: Vec<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// Region code.
    #[serde(default)]
    pub region_code: Option<String>,
    /// Postcode.
    #[serde(default, deserialize_with = "opt_text")]
    pub postcode: Option<String>,
    /// ISO country code.
    #[serde(default)]
    pub country_id: Option<String>,
    /// Phone.
    #[serde(default, deserialize_with = "opt_text")]
    pub telephone: Option<String>,
}

/// An order item (`OrderItemInterface`).
#[derive(Clone, Debug, Deserialize)]
pub struct ItemPayload {
    /// Item id.
    #[serde(default, deserialize_with = "opt_id")]
    pub item_id: Option<String>,
    /// The parent item of a configurable or bundle product's child (children are not
    /// listed again).
    #[serde(default, deserialize_with = "opt_id")]
    pub parent_item_id: Option<String>,
    /// Product id.
    #[serde(default, deserialize_with = "opt_id")]
    pub product_id: Option<String>,
    /// SKU.
    #[serde(default)]
    pub sku: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Quantity ordered (`1.0000` in observer data).
    #[serde(default)]
    pub qty_ordered: Option<Value>,
    /// Unit price.
    #[serde(default)]
    pub price: Option<Value>,
}

/// `extension_attributes.shipping_assignments[].shipping.address`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct OrderExtension {
    /// Shipping assignments.
    #[serde(default)]
    pub shipping_assignments: Vec<ShippingAssignment>,
}

/// One shipping assignment.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ShippingAssignment {
    /// Its shipping.
    #[serde(default)]
    pub shipping: Option<Shipping>,
}

/// A shipping.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Shipping {
    /// The shipping address.
    #[serde(default)]
    pub address: Option<AddressPayload>,
}

/// An order (`OrderInterface`).
#[derive(Clone, Debug, Deserialize)]
pub struct OrderPayload {
    /// The order's id (`entity_id`).
    #[serde(default, deserialize_with = "opt_id")]
    pub entity_id: Option<String>,
    /// The number customers see (`000000042`).
    #[serde(default, deserialize_with = "opt_text")]
    pub increment_id: Option<String>,
    /// `new`, `pending_payment`, `processing`, `complete`, `closed`, `canceled`,
    /// `holded`, `payment_review`.
    #[serde(default)]
    pub state: Option<String>,
    /// The status (a state's label; stores add their own).
    #[serde(default)]
    pub status: Option<String>,
    /// The currency of the order's amounts.
    #[serde(default)]
    pub order_currency_code: Option<String>,
    /// The total, in the order's currency.
    #[serde(default)]
    pub grand_total: Option<Value>,
    /// The amount paid, in the order's currency.
    #[serde(default)]
    pub total_paid: Option<Value>,
    /// Email.
    #[serde(default)]
    pub customer_email: Option<String>,
    /// First name.
    #[serde(default)]
    pub customer_firstname: Option<String>,
    /// Last name.
    #[serde(default)]
    pub customer_lastname: Option<String>,
    /// The customer's id (none for a guest).
    #[serde(default, deserialize_with = "opt_id")]
    pub customer_id: Option<String>,
    /// The store view (its locale is the store's `general/locale/code`).
    #[serde(default, deserialize_with = "opt_id")]
    pub store_id: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS`, UTC.
    #[serde(default)]
    pub created_at: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS`, UTC.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// The billing address.
    #[serde(default)]
    pub billing_address: Option<AddressPayload>,
    /// Items.
    #[serde(default)]
    pub items: Vec<ItemPayload>,
    /// Extension attributes (the shipping address).
    #[serde(default)]
    pub extension_attributes: Option<OrderExtension>,
}

/// A shipment track (`ShipmentTrackInterface`).
#[derive(Clone, Debug, Deserialize)]
pub struct TrackPayload {
    /// The track's id.
    #[serde(default, deserialize_with = "opt_id")]
    pub entity_id: Option<String>,
    /// The shipment's id.
    #[serde(default, deserialize_with = "opt_id")]
    pub parent_id: Option<String>,
    /// The order's id.
    #[serde(default, deserialize_with = "opt_id")]
    pub order_id: Option<String>,
    /// The tracking number.
    #[serde(default, deserialize_with = "opt_text")]
    pub track_number: Option<String>,
    /// The carrier's code (`ups`, `usps`, `fedex`, `dhl`, `custom`).
    #[serde(default)]
    pub carrier_code: Option<String>,
    /// The carrier's name as shown (`United Parcel Service`, or a custom title).
    #[serde(default)]
    pub title: Option<String>,
    /// Created.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Updated.
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// A shipment item (`ShipmentItemInterface`).
#[derive(Clone, Debug, Deserialize)]
pub struct ShipmentItemPayload {
    /// The order item shipped.
    #[serde(default, deserialize_with = "opt_id")]
    pub order_item_id: Option<String>,
}

/// A shipment (`ShipmentInterface`).
#[derive(Clone, Debug, Deserialize)]
pub struct ShipmentPayload {
    /// The shipment's id.
    #[serde(default, deserialize_with = "opt_id")]
    pub entity_id: Option<String>,
    /// The order's id.
    #[serde(default, deserialize_with = "opt_id")]
    pub order_id: Option<String>,
    /// The shipment's number.
    #[serde(default, deserialize_with = "opt_text")]
    pub increment_id: Option<String>,
    /// Created.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Updated.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Its tracks.
    #[serde(default)]
    pub tracks: Vec<TrackPayload>,
    /// Its items.
    #[serde(default)]
    pub items: Vec<ShipmentItemPayload>,
}

/// A customer address (`AddressInterface`).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CustomerAddressPayload {
    /// Phone.
    #[serde(default, deserialize_with = "opt_text")]
    pub telephone: Option<String>,
    /// Whether it is the default billing address.
    #[serde(default)]
    pub default_billing: Option<bool>,
}

/// `extension_attributes` of a customer.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CustomerExtension {
    /// Subscribed to the newsletter.
    #[serde(default)]
    pub is_subscribed: Option<bool>,
}

/// A customer (`CustomerInterface`; observer data names the id `entity_id`).
#[derive(Clone, Debug, Deserialize)]
pub struct CustomerPayload {
    /// The id (REST).
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
    /// The id (observer data).
    #[serde(default, deserialize_with = "opt_id")]
    pub entity_id: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// First name.
    #[serde(default)]
    pub firstname: Option<String>,
    /// Last name.
    #[serde(default)]
    pub lastname: Option<String>,
    /// The store view it was created in.
    #[serde(default, deserialize_with = "opt_id")]
    pub store_id: Option<String>,
    /// The website.
    #[serde(default, deserialize_with = "opt_id")]
    pub website_id: Option<String>,
    /// Updated.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Addresses.
    #[serde(default)]
    pub addresses: Vec<CustomerAddressPayload>,
    /// Extension attributes.
    #[serde(default)]
    pub extension_attributes: Option<CustomerExtension>,
}

/// A search result (`{items, search_criteria, total_count}`).
#[derive(Clone, Debug, Deserialize)]
pub struct SearchResult<T> {
    /// The page's items.
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
    /// How many match the filters, over all pages.
    #[serde(default)]
    pub total_count: Option<u64>,
}

/// An order comment (`OrderStatusHistoryInterface`).
#[derive(Clone, Debug, Deserialize)]
pub struct CommentPayload {
    /// The comment's text.
    #[serde(default)]
    pub comment: Option<String>,
}

/// A store view's configuration (`StoreConfigInterface`, `GET /V1/store/storeConfigs`).
#[derive(Clone, Debug, Deserialize)]
pub struct StoreConfigPayload {
    /// The store view's id.
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
    /// Its locale (`general/locale/code`, `de_DE`).
    #[serde(default)]
    pub locale: Option<String>,
}

/// Magento's error body: `{"message": "...%1...", "parameters": [...]}`.
#[derive(Clone, Debug, Deserialize)]
pub struct ErrorPayload {
    /// The message, with `%1`-style placeholders.
    #[serde(default)]
    pub message: Option<String>,
    /// The placeholders' values (a list, or an object by name).
    #[serde(default)]
    pub parameters: Option<Value>,
}

impl ErrorPayload {
    /// The message with its parameters filled in.
    pub fn text(&self) -> Option<String> {
        let mut m = self.message.clone()?;
        match &self.parameters {
            Some(Value::Array(ps)) => {
                for (i, p) in ps.iter().enumerate().rev() {
                    let v = p.as_str().map_or_else(|| p.to_string(), str::to_owned);
                    m = m.replace(&format!("%{}", i + 1), &v);
                }
            }
            Some(Value::Object(ps)) => {
                for (k, p) in ps {
                    let v = p.as_str().map_or_else(|| p.to_string(), str::to_owned);
                    m = m.replace(&format!("%{k}"), &v);
                }
            }
            _ => {}
        }
        Some(m)
    }
}
