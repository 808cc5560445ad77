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
use std::borrow::Cow;

use crate::convert::{
    consent, id_list, id_string, null_default, opt_id_string, opt_str, opt_time, parse_money,
    shipment_status, split_tags, str_list, str_or_empty, trim,
};

/// An order as webhooks (`orders/*`) send it.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct OrderPayload<'a> {
    /// Order id.
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    /// `gid://shopify/Order/{id}`: the body's own statement of what it is.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub admin_graphql_api_id: Option<Cow<'a, str>>,
    /// `#1042`.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub name: Option<Cow<'a, str>>,
    /// `1042`.
    #[serde(default)]
    pub order_number: Option<u64>,
    /// Contact email.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub email: Option<Cow<'a, str>>,
    /// Contact email (newer payloads).
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub contact_email: Option<Cow<'a, str>>,
    /// Contact phone.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub phone: Option<Cow<'a, str>>,
    /// The customer, absent for guest checkouts and without protected-data access.
    #[serde(default, borrow)]
    pub customer: Option<CustomerPayload<'a>>,
    /// BCP 47 locale of the checkout (`en-CA`).
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub customer_locale: Option<Cow<'a, str>>,
    /// Lines.
    #[serde(default, borrow, deserialize_with = "null_default")]
    pub line_items: Vec<LineItemPayload<'a>>,
    /// Shipping address.
    #[serde(default, borrow)]
    pub shipping_address: Option<AddressPayload<'a>>,
    /// Total price in the shop currency (`"135.49"`).
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub total_price: Option<Cow<'a, str>>,
    /// Shop currency.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub currency: Option<Cow<'a, str>>,
    /// Cancellation time.
    #[serde(default, deserialize_with = "opt_time")]
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Comma-separated tags.
    #[serde(default, borrow, deserialize_with = "str_or_empty")]
    pub tags: Cow<'a, str>,
    /// Fulfillments.
    #[serde(default, borrow, deserialize_with = "null_default")]
    pub fulfillments: Vec<FulfillmentPayload<'a>>,
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
pub struct LineItemPayload<'a> {
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
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub sku: Option<Cow<'a, str>>,
    /// Title.
    #[serde(default, borrow, deserialize_with = "str_or_empty")]
    pub title: Cow<'a, str>,
    /// Quantity.
    #[serde(default)]
    pub quantity: u32,
    /// Unit price (`"24.99"`).
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub price: Option<Cow<'a, str>>,
    /// Product type, when sent.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub product_type: Option<Cow<'a, str>>,
}

/// A postal address.
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct AddressPayload<'a> {
    /// Full name.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub name: Option<Cow<'a, str>>,
    /// Line 1.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub address1: Option<Cow<'a, str>>,
    /// Line 2.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub address2: Option<Cow<'a, str>>,
    /// City.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub city: Option<Cow<'a, str>>,
    /// Province code.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub province_code: Option<Cow<'a, str>>,
    /// Postal code.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub zip: Option<Cow<'a, str>>,
    /// ISO country code.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub country_code: Option<Cow<'a, str>>,
    /// Phone.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub phone: Option<Cow<'a, str>>,
}

/// A fulfillment (`fulfillments/*`, and inside `orders/*`).
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct FulfillmentPayload<'a> {
    /// Fulfillment id.
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    /// `gid://shopify/Fulfillment/{id}`: the body's own statement of what it is.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub admin_graphql_api_id: Option<Cow<'a, str>>,
    /// Its order.
    #[serde(default, deserialize_with = "opt_id_string")]
    pub order_id: Option<String>,
    /// `success`, `cancelled`, `failure`, `pending`, `open`, `error`...
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub status: Option<Cow<'a, str>>,
    /// Carrier status (`in_transit`, `delivered`...), `null` before any carrier event.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub shipment_status: Option<Cow<'a, str>>,
    /// Carrier name.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub tracking_company: Option<Cow<'a, str>>,
    /// First tracking number.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub tracking_number: Option<Cow<'a, str>>,
    /// Every tracking number.
    #[serde(default, borrow, deserialize_with = "str_list")]
    pub tracking_numbers: Vec<Cow<'a, str>>,
    /// First tracking URL.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub tracking_url: Option<Cow<'a, str>>,
    /// Every tracking URL.
    #[serde(default, borrow, deserialize_with = "str_list")]
    pub tracking_urls: Vec<Cow<'a, str>>,
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
pub struct FulfillmentEventPayload<'a> {
    /// Event id.
    #[serde(default, deserialize_with = "opt_id_string")]
    pub id: Option<String>,
    /// `gid://shopify/FulfillmentEvent/{id}`: the body's own statement of what it is.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub admin_graphql_api_id: Option<Cow<'a, str>>,
    /// The fulfillment.
    #[serde(deserialize_with = "id_string")]
    pub fulfillment_id: String,
    /// The order.
    #[serde(deserialize_with = "id_string")]
    pub order_id: String,
    /// `in_transit`, `delivered`...
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub status: Option<Cow<'a, str>>,
    /// Carrier message.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub message: Option<Cow<'a, str>>,
    /// When it happened.
    #[serde(default, deserialize_with = "opt_time")]
    pub happened_at: Option<DateTime<Utc>>,
    /// Estimated delivery.
    #[serde(default, deserialize_with = "opt_time")]
    pub estimated_delivery_at: Option<DateTime<Utc>>,
    /// City.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub city: Option<Cow<'a, str>>,
    /// Province.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub province: Option<Cow<'a, str>>,
    /// Country.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub country: Option<Cow<'a, str>>,
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
pub struct ConsentPayload<'a> {
    /// `subscribed`, `not_subscribed`, `unsubscribed`, `pending`, `redacted`, `invalid`...
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub state: Option<Cow<'a, str>>,
    /// When it changed.
    #[serde(default, deserialize_with = "opt_time")]
    pub consent_updated_at: Option<DateTime<Utc>>,
}

/// A customer (`customers/*`, and inside orders).
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct CustomerPayload<'a> {
    /// Customer id.
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    /// `gid://shopify/Customer/{id}`: the body's own statement of what it is.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub admin_graphql_api_id: Option<Cow<'a, str>>,
    /// Email.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub email: Option<Cow<'a, str>>,
    /// Phone.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub phone: Option<Cow<'a, str>>,
    /// First name.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub first_name: Option<Cow<'a, str>>,
    /// Last name.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub last_name: Option<Cow<'a, str>>,
    /// Locale, when sent.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub locale: Option<Cow<'a, str>>,
    /// Email marketing consent.
    #[serde(default, borrow)]
    pub email_marketing_consent: Option<ConsentPayload<'a>>,
    /// SMS marketing consent.
    #[serde(default, borrow)]
    pub sms_marketing_consent: Option<ConsentPayload<'a>>,
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
    /// Orders to redact (`customers/redact`; `None` when the body has no such field).
    #[serde(default, deserialize_with = "id_list")]
    pub orders_to_redact: Option<Vec<String>>,
    /// Orders requested (`customers/data_request`; `None` when absent).
    #[serde(default, deserialize_with = "id_list")]
    pub orders_requested: Option<Vec<String>>,
    /// The request (`customers/data_request`: `{id}`), kept only to tell the topics apart.
    #[serde(default)]
    pub data_request: Option<serde_json::Value>,
}

/// Trimmed, `None` when empty.
fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Like [`non_empty`], consuming: text already trimmed and owned is moved, not copied.
fn take_non_empty(s: Option<Cow<'_, str>>) -> Option<String> {
    let s = s?;
    let t = trim(&s);
    if t.is_empty() {
        None
    } else if t.len() == s.len() {
        Some(s.into_owned())
    } else {
        Some(t.to_owned())
    }
}

impl AddressPayload<'_> {
    fn into_model(self) -> Address {
        let mut a = Address::default();
        a.name = take_non_empty(self.name);
        a.lines = [self.address1, self.address2]
            .into_iter()
            .filter_map(take_non_empty)
            .collect();
        a.city = take_non_empty(self.city);
        a.province_code = take_non_empty(self.province_code);
        a.postal_code = take_non_empty(self.zip);
        a.country_code = take_non_empty(self.country_code);
        a.phone = take_non_empty(self.phone);
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

impl LineItemPayload<'_> {
    fn into_model(self, currency: Option<&str>) -> LineItem {
        let mut l = LineItem::new(self.title.into_owned(), self.quantity);
        l.id = self.id;
        l.product_id = self.product_id.map(Into::into);
        l.variant_id = self.variant_id.map(Into::into);
        l.sku = take_non_empty(self.sku);
        l.category = take_non_empty(self.product_type);
        l.unit_price = match (self.price.as_deref(), currency) {
            (Some(p), Some(c)) => parse_money(p, c),
            _ => None,
        };
        l
    }
}

impl OrderPayload<'_> {
    /// The order in the sdk's model; `shop` is the shop domain.
    pub fn to_order(&self, shop: Option<&str>) -> Order {
        self.clone().into_order(shop)
    }

    /// Like [`to_order`](Self::to_order), consuming the payload: its text moves into the
    /// order instead of being copied.
    pub fn into_order(self, shop: Option<&str>) -> Order {
        let number = match (self.name, self.order_number) {
            (Some(name), _) => name.into_owned(),
            (None, Some(n)) => format!("#{n}"),
            (None, None) => self.id.clone(),
        };
        let mut o = Order::new(self.id, number);
        o.shop = shop.map(Into::into);
        let (customer_email, customer_phone) = match self.customer {
            Some(c) => {
                o.customer = c.embedded().map(Box::new);
                o.customer_id = Some(c.id.into());
                (c.email, c.phone)
            }
            None => (None, None),
        };
        o.email = take_non_empty(self.email)
            .or_else(|| take_non_empty(self.contact_email))
            .or_else(|| take_non_empty(customer_email));
        o.phone = take_non_empty(self.phone).or_else(|| take_non_empty(customer_phone));
        let currency = self.currency.as_deref();
        o.line_items = self
            .line_items
            .into_iter()
            .map(|l| l.into_model(currency))
            .collect();
        o.shipping_address = self.shipping_address.map(AddressPayload::into_model);
        o.locale = take_non_empty(self.customer_locale);
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

impl FulfillmentPayload<'_> {
    /// The shipment in the sdk's model. `order_id` is used when the payload has none.
    pub fn to_shipment(&self, shop: Option<&str>, order_id: Option<&str>) -> Shipment {
        self.clone().into_shipment(shop, order_id)
    }

    /// Like [`to_shipment`](Self::to_shipment), consuming the payload: its text moves into
    /// the shipment instead of being copied.
    pub fn into_shipment(self, shop: Option<&str>, order_id: Option<&str>) -> Shipment {
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
            .or_else(|| order_id.map(str::to_owned))
            .unwrap_or_default();
        let mut s = Shipment::new(self.id, order, status);
        s.shop = shop.map(Into::into);
        s.carrier = take_non_empty(self.tracking_company);
        s.tracking_numbers = dedup_nonempty(self.tracking_numbers, self.tracking_number);
        s.tracking_urls = dedup_nonempty(self.tracking_urls, self.tracking_url);
        s.line_item_ids = self.line_items.into_iter().filter_map(|l| l.id).collect();
        s.created_at = self.created_at;
        s.updated_at = self.updated_at;
        s
    }
}

/// The trimmed, non-empty, distinct values of `list` then `single`, in order.
fn dedup_nonempty(list: Vec<Cow<'_, str>>, single: Option<Cow<'_, str>>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in list.into_iter().chain(single) {
        let t = trim(&v);
        if !t.is_empty() && !out.iter().any(|o| o == t) {
            let owned = if t.len() == v.len() {
                v.into_owned()
            } else {
                t.to_owned()
            };
            out.push(owned);
        }
    }
    out
}

impl FulfillmentEventPayload<'_> {
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
            e.message = non_empty(self.message.as_deref());
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

impl CustomerPayload<'_> {
    /// The customer an order embeds, as the order's partial record of them: only when it
    /// has an id and its `admin_graphql_api_id`, if given, names that customer.
    pub fn embedded(&self) -> Option<Customer> {
        if self.id.trim().is_empty() {
            return None;
        }
        if let Some(gid) = self.admin_graphql_api_id.as_deref()
            && gid.strip_prefix("gid://shopify/Customer/") != Some(self.id.as_str())
        {
            return None;
        }
        Some(self.to_customer())
    }

    /// The customer in the sdk's model, with marketing consent per channel.
    pub fn to_customer(&self) -> Customer {
        let mut c = Customer::new(self.id.clone());
        c.first_name = non_empty(self.first_name.as_deref());
        c.last_name = non_empty(self.last_name.as_deref());
        c.email = non_empty(self.email.as_deref());
        c.phone = non_empty(self.phone.as_deref());
        c.locale = non_empty(self.locale.as_deref());
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
