//! Webhook payloads (REST-shaped JSON), tolerant of missing optional fields, `null`s and
//! unknown enum values, and their mapping into the sdk's model.
//!
//! Field names follow Shopify's REST resources (shopify-app-js `rest/admin/2026-07/order.ts`,
//! `fulfillment.ts`, `fulfillment_event.ts`, `customer.ts`) and the webhook reference
//! (<https://shopify.dev/docs/api/webhooks>). Ids are read as `u64` (or strings) and kept as
//! decimal text; money strings are parsed exactly into minor units.

use aftercare::model::{Address, ChannelKind, Customer, LineItem, Order, Shipment, ShipmentEvent};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::convert::{
    consent, id_list, id_string, null_default, opt_id_string, opt_time, parse_money,
    shipment_status, split_tags,
};

/// An order as webhooks (`orders/*`) send it.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct OrderPayload {
    /// Order id.
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    /// `#1042`.
    #[serde(default)]
    pub name: Option<String>,
    /// `1042`.
    #[serde(default)]
    pub order_number: Option<u64>,
    /// Contact email.
    #[serde(default)]
    pub email: Option<String>,
    /// Contact email (newer payloads).
    #[serde(default)]
    pub contact_email: Option<String>,
    /// Contact phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// The customer, absent for guest checkouts and without protected-data access.
    #[serde(default)]
    pub customer: Option<CustomerPayload>,
    /// BCP 47 locale of the checkout (`en-CA`).
    #[serde(default)]
    pub customer_locale: Option<String>,
    /// Lines.
    #[serde(default, deserialize_with = "null_default")]
    pub line_items: Vec<LineItemPayload>,
    /// Shipping address.
    #[serde(default)]
    pub shipping_address: Option<AddressPayload>,
    /// Total price in the shop currency (`"135.49"`).
    #[serde(default)]
    pub total_price: Option<String>,
    /// Shop currency.
    #[serde(default)]
    pub currency: Option<String>,
    /// Cancellation time.
    #[serde(default, deserialize_with = "opt_time")]
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Comma-separated tags.
    #[serde(default, deserialize_with = "null_default")]
    pub tags: String,
    /// Fulfillments.
    #[serde(default, deserialize_with = "null_default")]
    pub fulfillments: Vec<FulfillmentPayload>,
    /// Creation time.
    #[serde(default, deserialize_with = "opt_time")]
    pub created_at: Option<DateTime<Utc>>,
    /// Last change.
    #[serde(default, deserialize_with = "opt_time")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// One order line.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct LineItemPayload {
    /// Line id.
    #[serde(default, deserialize_with = "opt_id_string")]
    pub id: Option<String>,
    /// Product id (null for custom items).
    #[serde(default, deserialize_with = "opt_id_string")]
    pub product_id: Option<String>,
    /// Variant id.
    #[serde(default, deserialize_with = "opt_id_string")]
    pub variant_id: Option<String>,
    /// SKU.
    #[serde(default)]
    pub sku: Option<String>,
    /// Title.
    #[serde(default, deserialize_with = "null_default")]
    pub title: String,
    /// Quantity.
    #[serde(default)]
    pub quantity: u32,
    /// Unit price (`"24.99"`).
    #[serde(default)]
    pub price: Option<String>,
    /// Product type, when sent.
    #[serde(default)]
    pub product_type: Option<String>,
}

/// A postal address.
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct AddressPayload {
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// Line 1.
    #[serde(default)]
    pub address1: Option<String>,
    /// Line 2.
    #[serde(default)]
    pub address2: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// Province code.
    #[serde(default)]
    pub province_code: Option<String>,
    /// Postal code.
    #[serde(default)]
    pub zip: Option<String>,
    /// ISO country code.
    #[serde(default)]
    pub country_code: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
}

/// A fulfillment (`fulfillments/*`, and inside `orders/*`).
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct FulfillmentPayload {
    /// Fulfillment id.
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    /// Its order.
    #[serde(default, deserialize_with = "opt_id_string")]
    pub order_id: Option<String>,
    /// `success`, `cancelled`, `failure`, `pending`, `open`, `error`...
    #[serde(default)]
    pub status: Option<String>,
    /// Carrier status (`in_transit`, `delivered`...), `null` before any carrier event.
    #[serde(default)]
    pub shipment_status: Option<String>,
    /// Carrier name.
    #[serde(default)]
    pub tracking_company: Option<String>,
    /// First tracking number.
    #[serde(default)]
    pub tracking_number: Option<String>,
    /// Every tracking number.
    #[serde(default, deserialize_with = "null_default")]
    pub tracking_numbers: Vec<String>,
    /// First tracking URL.
    #[serde(default)]
    pub tracking_url: Option<String>,
    /// Every tracking URL.
    #[serde(default, deserialize_with = "null_default")]
    pub tracking_urls: Vec<String>,
    /// Lines shipped.
    #[serde(default, deserialize_with = "null_default")]
    pub line_items: Vec<LineRef>,
    /// Creation time.
    #[serde(default, deserialize_with = "opt_time")]
    pub created_at: Option<DateTime<Utc>>,
    /// Last change.
    #[serde(default, deserialize_with = "opt_time")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// A carrier event (`fulfillment_events/create`).
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct FulfillmentEventPayload {
    /// Event id.
    #[serde(default, deserialize_with = "opt_id_string")]
    pub id: Option<String>,
    /// The fulfillment.
    #[serde(deserialize_with = "id_string")]
    pub fulfillment_id: String,
    /// The order.
    #[serde(deserialize_with = "id_string")]
    pub order_id: String,
    /// `in_transit`, `delivered`...
    #[serde(default)]
    pub status: Option<String>,
    /// Carrier message.
    #[serde(default)]
    pub message: Option<String>,
    /// When it happened.
    #[serde(default, deserialize_with = "opt_time")]
    pub happened_at: Option<DateTime<Utc>>,
    /// Estimated delivery.
    #[serde(default, deserialize_with = "opt_time")]
    pub estimated_delivery_at: Option<DateTime<Utc>>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// Province.
    #[serde(default)]
    pub province: Option<String>,
    /// Country.
    #[serde(default)]
    pub country: Option<String>,
    /// Creation time.
    #[serde(default, deserialize_with = "opt_time")]
    pub created_at: Option<DateTime<Utc>>,
    /// Last change.
    #[serde(default, deserialize_with = "opt_time")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// Marketing consent in a customer payload.
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct ConsentPayload {
    /// `subscribed`, `not_subscribed`, `unsubscribed`, `pending`, `redacted`, `invalid`...
    #[serde(default)]
    pub state: Option<String>,
    /// When it changed.
    #[serde(default, deserialize_with = "opt_time")]
    pub consent_updated_at: Option<DateTime<Utc>>,
}

/// A customer (`customers/*`, and inside orders).
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct CustomerPayload {
    /// Customer id.
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Locale, when sent.
    #[serde(default)]
    pub locale: Option<String>,
    /// Email marketing consent.
    #[serde(default)]
    pub email_marketing_consent: Option<ConsentPayload>,
    /// SMS marketing consent.
    #[serde(default)]
    pub sms_marketing_consent: Option<ConsentPayload>,
    /// Last change.
    #[serde(default, deserialize_with = "opt_time")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// The customer named by a privacy webhook.
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct PrivacyCustomer {
    /// Customer id.
    #[serde(default, deserialize_with = "opt_id_string")]
    pub id: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
}

/// `customers/data_request`, `customers/redact`, `shop/redact` payloads
/// (<https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance>).
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct PrivacyPayload {
    /// Shop id.
    #[serde(default, deserialize_with = "opt_id_string")]
    pub shop_id: Option<String>,
    /// Shop domain.
    #[serde(default)]
    pub shop_domain: Option<String>,
    /// The customer.
    #[serde(default)]
    pub customer: Option<PrivacyCustomer>,
    /// Orders to redact (`customers/redact`).
    #[serde(default, deserialize_with = "id_list")]
    pub orders_to_redact: Vec<String>,
    /// Orders requested (`customers/data_request`).
    #[serde(default, deserialize_with = "id_list")]
    pub orders_requested: Vec<String>,
}

fn non_empty(s: Option<&String>) -> Option<String> {
    s.map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl AddressPayload {
    fn to_model(&self) -> Address {
        let mut a = Address::default();
        a.name = non_empty(self.name.as_ref());
        a.lines = [&self.address1, &self.address2]
            .into_iter()
            .filter_map(|l| non_empty(l.as_ref()))
            .collect();
        a.city = non_empty(self.city.as_ref());
        a.province_code = non_empty(self.province_code.as_ref());
        a.postal_code = non_empty(self.zip.as_ref());
        a.country_code = non_empty(self.country_code.as_ref());
        a.phone = non_empty(self.phone.as_ref());
        a
    }
}

/// A fulfillment's line: only its id is needed (the order carries the details), so the rest
/// is skipped without being copied.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[non_exhaustive]
pub struct LineRef {
    /// The order line's id.
    #[serde(default, deserialize_with = "crate::convert::opt_id_string")]
    pub id: Option<String>,
}

impl LineItemPayload {
    fn to_model(&self, currency: Option<&str>) -> LineItem {
        let mut l = LineItem::new(self.title.clone(), self.quantity);
        l.id = self.id.clone();
        l.product_id = self.product_id.clone().map(Into::into);
        l.variant_id = self.variant_id.clone().map(Into::into);
        l.sku = non_empty(self.sku.as_ref());
        l.category = non_empty(self.product_type.as_ref());
        l.unit_price = match (self.price.as_deref(), currency) {
            (Some(p), Some(c)) => parse_money(p, c),
            _ => None,
        };
        l
    }
}

impl OrderPayload {
    /// The order in the sdk's model; `shop` is the shop domain.
    pub fn to_order(&self, shop: Option<&str>) -> Order {
        let number = self
            .name
            .clone()
            .or_else(|| self.order_number.map(|n| format!("#{n}")))
            .unwrap_or_else(|| self.id.clone());
        let mut o = Order::new(self.id.clone(), number);
        o.shop = shop.map(Into::into);
        o.customer_id = self.customer.as_ref().map(|c| c.id.clone().into());
        o.email = non_empty(self.email.as_ref())
            .or_else(|| non_empty(self.contact_email.as_ref()))
            .or_else(|| {
                self.customer
                    .as_ref()
                    .and_then(|c| non_empty(c.email.as_ref()))
            });
        o.phone = non_empty(self.phone.as_ref()).or_else(|| {
            self.customer
                .as_ref()
                .and_then(|c| non_empty(c.phone.as_ref()))
        });
        let currency = self.currency.as_deref();
        o.line_items = self
            .line_items
            .iter()
            .map(|l| l.to_model(currency))
            .collect();
        o.shipping_address = self.shipping_address.as_ref().map(AddressPayload::to_model);
        o.locale = non_empty(self.customer_locale.as_ref());
        o.total = match (self.total_price.as_deref(), currency) {
            (Some(p), Some(c)) => parse_money(p, c),
            _ => None,
        };
        o.cancelled = self.cancelled_at.is_some();
        o.tags = split_tags(&self.tags);
        o.created_at = self.created_at;
        o.updated_at = self.updated_at;
        o
    }
}

impl FulfillmentPayload {
    /// The shipment in the sdk's model. `order_id` is used when the payload has none.
    pub fn to_shipment(&self, shop: Option<&str>, order_id: Option<&str>) -> Shipment {
        // A carrier status wins; otherwise the fulfillment's own status (`success` is a
        // confirmed fulfillment, `cancelled`, `failure`...).
        let status = self
            .shipment_status
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .or(self.status.as_deref())
            .map(shipment_status)
            .unwrap_or(aftercare::model::ShipmentStatus::Confirmed);
        let order = self
            .order_id
            .clone()
            .or_else(|| order_id.map(str::to_owned))
            .unwrap_or_default();
        let mut s = Shipment::new(self.id.clone(), order, status);
        s.shop = shop.map(Into::into);
        s.carrier = non_empty(self.tracking_company.as_ref());
        s.tracking_numbers = dedup_nonempty(&self.tracking_numbers, self.tracking_number.as_ref());
        s.tracking_urls = dedup_nonempty(&self.tracking_urls, self.tracking_url.as_ref());
        s.line_item_ids = self
            .line_items
            .iter()
            .filter_map(|l| l.id.clone())
            .collect();
        s.created_at = self.created_at;
        s.updated_at = self.updated_at;
        s
    }
}

fn dedup_nonempty(list: &[String], single: Option<&String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in list.iter().chain(single) {
        let v = v.trim();
        if !v.is_empty() && !out.iter().any(|o| o == v) {
            out.push(v.to_owned());
        }
    }
    out
}

impl FulfillmentEventPayload {
    /// A shipment carrying only this event and the status it reached (no tracking
    /// numbers: the event payload has none). Its `updated_at` is the event's time.
    pub fn to_shipment(&self, shop: Option<&str>) -> Shipment {
        let status = self
            .status
            .as_deref()
            .map(shipment_status)
            .unwrap_or_else(|| aftercare::model::ShipmentStatus::Unknown(String::new()));
        let mut s = Shipment::new(
            self.fulfillment_id.clone(),
            self.order_id.clone(),
            status.clone(),
        );
        s.shop = shop.map(Into::into);
        let when = self.happened_at.or(self.created_at);
        if let Some(at) = when {
            let mut e = ShipmentEvent::new(status, at);
            e.message = non_empty(self.message.as_ref());
            let loc: Vec<&str> = [&self.city, &self.province, &self.country]
                .into_iter()
                .filter_map(|p| p.as_deref().map(str::trim).filter(|p| !p.is_empty()))
                .collect();
            e.location = (!loc.is_empty()).then(|| loc.join(", "));
            s.events.push(e);
        }
        s.estimated_delivery = self.estimated_delivery_at;
        s.updated_at = self.updated_at.or(when);
        s
    }
}

impl CustomerPayload {
    /// The customer in the sdk's model, with marketing consent per channel.
    pub fn to_customer(&self) -> Customer {
        let mut c = Customer::new(self.id.clone());
        c.first_name = non_empty(self.first_name.as_ref());
        c.last_name = non_empty(self.last_name.as_ref());
        c.email = non_empty(self.email.as_ref());
        c.phone = non_empty(self.phone.as_ref());
        c.locale = non_empty(self.locale.as_ref());
        if let Some(e) = &self.email_marketing_consent {
            c.consents.push(consent(
                ChannelKind::Email,
                e.state.as_deref(),
                e.consent_updated_at,
            ));
        }
        if let Some(s) = &self.sms_marketing_consent {
            c.consents.push(consent(
                ChannelKind::Sms,
                s.state.as_deref(),
                s.consent_updated_at,
            ));
        }
        c.updated_at = self.updated_at;
        c
    }
}
