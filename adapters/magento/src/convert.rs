//! Magento's JSON into the sdk's model: orders, shipments and their tracks, customers, and
//! the status mapping. The same functions serve webhooks (observer data) and the REST API,
//! so both produce the same ids and versions.
//!
//! What is derived, and how:
//!
//! | model | from |
//! |---|---|
//! | order id / number | `entity_id` / `increment_id` (the number customers see) |
//! | order total | `grand_total` in `order_currency_code`, in minor units |
//! | paid | `total_paid` ≥ `grand_total` (> 0) and the order not `canceled` |
//! | cancelled | `state` = `canceled` |
//! | locale | the order's `store_id` through the store views' locales (`general/locale/code`, from `GET /V1/store/storeConfigs` or configured); unknown otherwise |
//! | shipment | a Magento shipment: id `entity_id`, its tracks' `track_number`s, the carrier from the first track (its `title`, else `carrier_code` unless `custom`), status in transit (Magento creates a shipment when goods leave; core has no delivery status) |
//! | shipment version | the newest `updated_at` (or `created_at`) of the shipment and its tracks |
//! | a track alone (`sales_order_shipment_track_save_after`) | its shipment (`parent_id`) with that track, version the track's `updated_at` |
//! | customer | `id` (REST) or `entity_id` (observer data), `email`, `website_id`; newsletter consent from `extension_attributes.is_subscribed` when present |

use std::collections::BTreeMap;

use aftercare::Error;
use aftercare::model::{
    Address, ChannelKind, Consent, ConsentState, Customer, LineItem, Money, Order, PlatformEvent,
    Purpose, Shipment, ShipmentStatus, ShopId,
};
use aftercare::money::parse_money_number;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use crate::payload::{
    AddressPayload, CustomerPayload, OrderPayload, ShipmentPayload, TrackPayload,
};

/// The locale of each store view (`store_id` → `de_DE`), for orders and customers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreLocales(BTreeMap<String, String>);

impl StoreLocales {
    /// No store view known.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a store view's locale (`1`, `de_DE`).
    pub fn store(mut self, store_id: impl Into<String>, locale: impl Into<String>) -> Self {
        self.insert(store_id.into(), locale.into());
        self
    }

    pub(crate) fn insert(&mut self, store_id: String, locale: String) {
        self.0.insert(store_id, locale);
    }

    /// Whether no store view is known.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The BCP 47 locale of a store view (`de_DE` → `de-DE`).
    pub fn locale(&self, store_id: Option<&str>) -> Option<String> {
        store_id
            .and_then(|s| self.0.get(s))
            .map(|l| l.replace('_', "-"))
    }
}

/// Parses Magento's `YYYY-MM-DD HH:MM:SS` (UTC in the database and the API), or RFC 3339.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .ok()
        .map(|t| t.and_utc())
}

/// Formats a time as Magento's filters compare it: `YYYY-MM-DD HH:MM:SS`, UTC.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Maps an order state or status (or a shipment's) into the sdk's vocabulary.
///
/// | raw | status |
/// |---|---|
/// | `processing` | confirmed (paid or invoiced, not shipped) |
/// | `complete` | in transit (invoiced and shipped) |
/// | `canceled` | cancelled |
/// | `new`, `pending`, `pending_payment`, `payment_review`, `holded`, `fraud`, `closed` | `Unknown(raw)` (nothing about a parcel) |
/// | anything else (stores add statuses) | `Unknown(raw)` |
pub fn map_status(raw: &str) -> ShipmentStatus {
    match raw.trim() {
        "processing" => ShipmentStatus::Confirmed,
        "complete" => ShipmentStatus::InTransit,
        "canceled" => ShipmentStatus::Cancelled,
        other => ShipmentStatus::Unknown(other.to_owned()),
    }
}

fn err(what: &str, message: impl std::fmt::Display) -> Error {
    Error::decode(what, message)
}

fn need<T>(what: &str, field: &str, v: Option<T>) -> Result<T, Error> {
    v.ok_or_else(|| err(what, format!("the `{field}` field is missing")))
}

fn time_of(what: &str, field: &str, v: Option<&str>) -> Result<Option<DateTime<Utc>>, Error> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_time(s)
            .map(Some)
            .ok_or_else(|| err(what, format!("`{field}` is not a date: {s}"))),
    }
}

fn money(what: &str, field: &str, v: &Value, currency: &str) -> Result<Money, Error> {
    parse_money_number(v, currency).ok_or_else(|| {
        err(
            what,
            format!("`{field}` is not an amount in {currency}: {v}"),
        )
    })
}

fn quantity(v: Option<&Value>) -> Option<u32> {
    let text = match v? {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    if !frac.bytes().all(|b| b == b'0') {
        return None;
    }
    int.parse().ok()
}

fn address(a: &AddressPayload) -> Address {
    let mut out = Address::default();
    let name = [a.firstname.as_deref(), a.lastname.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    out.name = (!name.is_empty()).then_some(name);
    out.lines = a.street.clone();
    out.city = a.city.clone();
    out.province_code = a.region_code.clone();
    out.postal_code = a.postcode.clone();
    out.country_code = a.country_id.clone();
    out.phone = a.telephone.clone();
    out
}

/// An order read from Magento, with what the events need besides the model.
#[derive(Clone, Debug)]
pub struct MagentoOrder {
    /// The model.
    pub order: Order,
    /// Whether it is paid in full.
    pub paid: bool,
}

impl MagentoOrder {
    /// The events of this order under an order topic: created (or updated, or cancelled)
    /// and, when paid in full and not cancelled, paid.
    pub fn events(self, created: bool) -> Vec<PlatformEvent> {
        let paid = self.paid && !self.order.cancelled;
        let mut out = Vec::with_capacity(2);
        let order = self.order;
        if paid {
            let o = order.clone();
            out.push(if created {
                PlatformEvent::OrderCreated { order: o }
            } else {
                PlatformEvent::OrderUpdated { order: o }
            });
            out.push(PlatformEvent::OrderPaid { order });
        } else if order.cancelled {
            out.push(PlatformEvent::OrderCancelled { order });
        } else if created {
            out.push(PlatformEvent::OrderCreated { order });
        } else {
            out.push(PlatformEvent::OrderUpdated { order });
        }
        out
    }
}

/// An order from its JSON. Requires `entity_id`, `increment_id`, `order_currency_code`,
/// `grand_total` (an amount), `updated_at` (a date) and `state` or `status`.
pub fn order(
    what: &str,
    p: OrderPayload,
    shop: Option<&ShopId>,
    locales: &StoreLocales,
) -> Result<MagentoOrder, Error> {
    let id = need(what, "entity_id", p.entity_id)?;
    let number = need(what, "increment_id", p.increment_id)?;
    let currency = need(what, "order_currency_code", p.order_currency_code)?;
    let total = money(
        what,
        "grand_total",
        &need(what, "grand_total", p.grand_total)?,
        &currency,
    )?;
    let updated_at = need(
        what,
        "updated_at",
        time_of(what, "updated_at", p.updated_at.as_deref())?,
    )?;
    if p.state.is_none() && p.status.is_none() {
        return Err(err(what, "neither `state` nor `status` is present"));
    }
    let paid = match &p.total_paid {
        Some(v) if !v.is_null() => {
            let paid = money(what, "total_paid", v, &currency)?;
            paid.minor_units > 0 && paid.minor_units >= total.minor_units
        }
        _ => false,
    };
    let mut o = Order::new(id, number);
    o.shop = shop.cloned();
    o.email = p.customer_email.filter(|e| !e.trim().is_empty());
    o.customer_id = p.customer_id.map(Into::into);
    o.phone = p.billing_address.as_ref().and_then(|a| a.telephone.clone());
    o.shipping_address = p
        .extension_attributes
        .as_ref()
        .and_then(|e| e.shipping_assignments.first())
        .and_then(|s| s.shipping.as_ref())
        .and_then(|s| s.address.as_ref())
        .map(address);
    o.locale = locales.locale(p.store_id.as_deref());
    o.cancelled = p.state.as_deref() == Some("canceled");
    o.created_at = time_of(what, "created_at", p.created_at.as_deref())?;
    o.updated_at = Some(updated_at);
    for item in p.items.iter().filter(|i| i.parent_item_id.is_none()) {
        let mut li = LineItem::new(
            item.name.clone().unwrap_or_default(),
            quantity(item.qty_ordered.as_ref()).unwrap_or(1),
        );
        li.id = item.item_id.clone();
        li.product_id = item.product_id.clone().map(Into::into);
        li.sku = item.sku.clone();
        li.unit_price = item
            .price
            .as_ref()
            .and_then(|v| parse_money_number(v, &currency));
        o.line_items.push(li);
    }
    o.total = Some(total);
    Ok(MagentoOrder { order: o, paid })
}

/// The carrier as customers know it: the track's `title` (what the Admin shows, `United
/// Parcel Service`), else its `carrier_code` unless that is `custom`.
fn carrier_of(t: &TrackPayload) -> Option<String> {
    let title = t.title.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let code = t
        .carrier_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty() && *c != "custom");
    title.or(code).map(str::to_owned)
}

fn newest(times: impl IntoIterator<Item = Option<DateTime<Utc>>>) -> Option<DateTime<Utc>> {
    times.into_iter().flatten().max()
}

/// A shipment from its JSON. Requires `entity_id`, `order_id` and a date (`updated_at` or
/// `created_at`); each track needs a `track_number`.
pub fn shipment(what: &str, p: ShipmentPayload, shop: Option<&ShopId>) -> Result<Shipment, Error> {
    let id = need(what, "entity_id", p.entity_id)?;
    let order_id = need(what, "order_id", p.order_id)?;
    let created = time_of(what, "created_at", p.created_at.as_deref())?;
    let updated = time_of(what, "updated_at", p.updated_at.as_deref())?;
    if created.is_none() && updated.is_none() {
        return Err(err(
            what,
            "neither `updated_at` nor `created_at` is present",
        ));
    }
    let mut s = Shipment::new(id, order_id, ShipmentStatus::InTransit);
    s.shop = shop.cloned();
    let mut versions = vec![updated.or(created)];
    for t in &p.tracks {
        let number = need(what, "tracks[].track_number", t.track_number.clone())?;
        if number.trim().is_empty() {
            continue;
        }
        if s.carrier.is_none() {
            s.carrier = carrier_of(t);
        }
        s.tracking_numbers.push(number.trim().to_owned());
        let tu = time_of(what, "tracks[].updated_at", t.updated_at.as_deref())?;
        let tc = time_of(what, "tracks[].created_at", t.created_at.as_deref())?;
        versions.push(tu.or(tc));
    }
    s.line_item_ids = p
        .items
        .into_iter()
        .filter_map(|i| i.order_item_id)
        .collect();
    s.created_at = created;
    s.updated_at = newest(versions);
    Ok(s)
}

/// The shipment a track belongs to, with that track. Requires `entity_id`, `parent_id`,
/// `order_id`, a non-empty `track_number` and a date.
pub fn track(what: &str, t: TrackPayload, shop: Option<&ShopId>) -> Result<Shipment, Error> {
    need(what, "entity_id", t.entity_id.clone())?;
    let shipment_id = need(what, "parent_id", t.parent_id.clone())?;
    let order_id = need(what, "order_id", t.order_id.clone())?;
    let number = need(what, "track_number", t.track_number.clone())?;
    if number.trim().is_empty() {
        return Err(err(what, "the `track_number` is empty"));
    }
    let updated = time_of(what, "updated_at", t.updated_at.as_deref())?;
    let created = time_of(what, "created_at", t.created_at.as_deref())?;
    if created.is_none() && updated.is_none() {
        return Err(err(
            what,
            "neither `updated_at` nor `created_at` is present",
        ));
    }
    let mut s = Shipment::new(shipment_id, order_id, ShipmentStatus::InTransit);
    s.shop = shop.cloned();
    s.carrier = carrier_of(&t);
    s.tracking_numbers = vec![number.trim().to_owned()];
    s.created_at = created;
    s.updated_at = updated.or(created);
    Ok(s)
}

/// A customer from its JSON. Requires the id (`id` or `entity_id`), `email` and
/// `website_id`.
pub fn customer(what: &str, p: CustomerPayload, locales: &StoreLocales) -> Result<Customer, Error> {
    let id = need(what, "id", p.id.or(p.entity_id))?;
    let email = need(what, "email", p.email)?;
    need(what, "website_id", p.website_id)?;
    let mut c = Customer::new(id);
    c.email = Some(email);
    c.first_name = p.firstname;
    c.last_name = p.lastname;
    c.locale = locales.locale(p.store_id.as_deref());
    c.phone = p
        .addresses
        .iter()
        .find(|a| a.default_billing == Some(true))
        .or(p.addresses.first())
        .and_then(|a| a.telephone.clone());
    c.updated_at = time_of(what, "updated_at", p.updated_at.as_deref())?;
    if let Some(sub) = p.extension_attributes.and_then(|e| e.is_subscribed) {
        let state = if sub {
            ConsentState::Granted
        } else {
            ConsentState::Denied
        };
        let mut consent = Consent::new(Purpose::Marketing, ChannelKind::Email, state);
        consent.source = Some("magento newsletter".into());
        c.consents.push(consent);
    }
    Ok(c)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn magento_dates_are_utc() {
        let t = parse_time("2026-11-01 08:00:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-01T08:00:00+00:00");
        assert_eq!(format_time(t), "2026-11-01 08:00:00");
        assert!(parse_time("yesterday").is_none());
    }

    #[test]
    fn quantities_are_whole() {
        assert_eq!(quantity(Some(&Value::from("2.0000"))), Some(2));
        assert_eq!(quantity(Some(&serde_json::json!(3))), Some(3));
        assert_eq!(quantity(Some(&Value::from("1.5000"))), None);
    }
}
