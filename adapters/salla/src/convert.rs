//! Salla JSON → the Aftercare model: orders, shipments, customers, and the status mapping.
//!
//! **Shipment statuses** ([`map_status`]; Salla's shipment `status`, docs.salla.dev
//! "Shipments"):
//!
//! | Salla | Aftercare |
//! |---|---|
//! | `created` | `label_created` |
//! | `in_progress` | `confirmed` |
//! | `shipped` | `in_transit` |
//! | `delivering` | `out_for_delivery` |
//! | `delivered` | `delivered` |
//! | `cancelled`, `canceled` | `cancelled` |
//! | anything else | `unknown(raw)` |
//!
//! **Derived events.** An order's `shipments[]` become `shipment_updated` events after the
//! order's own event, so a webhook and an order read from the API give the same shipments.
//! An order whose status slug is `canceled`/`cancelled` is cancelled.
//!
//! **Times.** Salla writes `2022-12-31 12:31:25` (the store's local time), PHP's
//! `{"date", "timezone"}` object, or RFC 3339. A time without a zone is read in the zone
//! named with it, else in Saudi Arabia's (`Asia/Riyadh`, UTC+3 all year, no daylight
//! saving) — Salla's home market; a zone other than `Asia/Riyadh`/`UTC` is refused rather
//! than guessed.
//!
//! **Locale.** Salla's order payload names no language; the customer's `lang` is used when
//! present, else the store's default (`ar` unless configured): Arabic is the default, not a
//! fallback.

use aftercare::model::{
    Address, Customer, CustomerId, LineItem, Order, PlatformEvent, Shipment, ShipmentStatus, ShopId,
};
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone as _, Utc};
use serde_json::Value;

use crate::error::SallaError;
use crate::payload::{CustomerPayload, OrderPayload, SallaTime, ShipmentPayload};

/// Maps a Salla shipment status (see the module's table).
pub fn map_status(raw: &str) -> ShipmentStatus {
    match raw.trim().to_ascii_lowercase().as_str() {
        "created" => ShipmentStatus::LabelCreated,
        "in_progress" => ShipmentStatus::Confirmed,
        "shipped" => ShipmentStatus::InTransit,
        "delivering" => ShipmentStatus::OutForDelivery,
        "delivered" => ShipmentStatus::Delivered,
        "cancelled" | "canceled" => ShipmentStatus::Cancelled,
        _ => ShipmentStatus::Unknown(raw.to_owned()),
    }
}

const RIYADH_SECS: i32 = 3 * 3600;

/// Reads a Salla time (see the module's docs).
pub fn parse_time(text: &str, zone: Option<&str>) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let offset = match zone.map(str::trim) {
        None | Some("Asia/Riyadh") => RIYADH_SECS,
        Some("UTC" | "GMT" | "Z" | "+00:00") => 0,
        Some(_) => return None,
    };
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S"))
        .ok()?;
    FixedOffset::east_opt(offset)?
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

fn time(t: &Option<SallaTime>, what: &str) -> Result<Option<DateTime<Utc>>, SallaError> {
    let Some(t) = t else { return Ok(None) };
    let (text, zone) = match t {
        SallaTime::Text(s) => (s.as_str(), None),
        SallaTime::Php { date, timezone } => (date.as_str(), timezone.as_deref()),
    };
    parse_time(text, zone)
        .map(Some)
        .ok_or_else(|| SallaError::decode(what, format!("not a time Salla writes: `{text}`")))
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) if n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

fn phone(c: &CustomerPayload) -> Option<String> {
    let mobile = c.mobile.as_ref().and_then(text)?;
    if mobile.starts_with('+') {
        return Some(mobile);
    }
    match c
        .mobile_code
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(code) => Some(format!("+{}{mobile}", code.trim_start_matches('+'))),
        None => Some(mobile),
    }
}

/// A customer from Salla's JSON.
pub fn customer(c: &CustomerPayload, what: &str) -> Result<Customer, SallaError> {
    let mut out = Customer::new(CustomerId::from(c.id.as_str()));
    out.first_name = c.first_name.clone().filter(|s| !s.trim().is_empty());
    out.last_name = c.last_name.clone().filter(|s| !s.trim().is_empty());
    out.email = c.email.clone().filter(|s| s.contains('@'));
    out.phone = phone(c);
    out.locale = c.lang.clone().filter(|s| !s.trim().is_empty());
    out.updated_at = time(&c.updated_at, what)?;
    Ok(out)
}

/// A shipment from Salla's JSON; `order` is its order when the JSON does not say.
pub fn shipment(
    s: &ShipmentPayload,
    order: Option<&str>,
    shop: &ShopId,
    what: &str,
) -> Result<Shipment, SallaError> {
    let order_id = s
        .order_id
        .as_deref()
        .or(order)
        .ok_or_else(|| SallaError::decode(what, "the shipment names no `order_id`"))?;
    let mut out = Shipment::new(s.id.as_str(), order_id, map_status(s.status.as_str()));
    out.shop = Some(shop.clone());
    out.carrier = s.courier_name.clone().filter(|c| !c.trim().is_empty());
    let number = s
        .tracking_number
        .clone()
        .filter(|t| !t.trim().is_empty())
        .or_else(|| s.shipping_number.as_ref().and_then(text));
    out.tracking_numbers = number.into_iter().collect();
    out.tracking_urls = s
        .tracking_link
        .clone()
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .into_iter()
        .collect();
    out.created_at = time(&s.created_at, what)?;
    out.updated_at = time(&s.updated_at, what)?;
    Ok(out)
}

/// An order from Salla's JSON, with its shipments.
pub fn order(
    o: &OrderPayload,
    shop: &ShopId,
    default_locale: &str,
    what: &str,
) -> Result<(Order, Vec<Shipment>), SallaError> {
    let currency = o
        .amounts
        .total
        .currency
        .clone()
        .or_else(|| o.currency.clone())
        .ok_or_else(|| SallaError::decode(what, "the order's total names no currency"))?;
    let total = aftercare::money::parse_money_number(&o.amounts.total.amount, &currency)
        .ok_or_else(|| {
            SallaError::decode(
                what,
                format!(
                    "the total `{}` is not an amount in {currency}",
                    o.amounts.total.amount
                ),
            )
        })?;
    let mut out = Order::new(o.id.as_str(), o.reference_id.as_str());
    out.shop = Some(shop.clone());
    out.total = Some(total);
    let slug = o.status.slug.as_deref().unwrap_or_default();
    out.cancelled = matches!(slug, "canceled" | "cancelled");
    if let Some(c) = &o.customer {
        let c = customer(c, what)?;
        out.customer_id = Some(c.id.clone());
        out.email = c.email.clone();
        out.phone = c.phone.clone();
        out.locale = c.locale.clone();
        let name = [c.first_name.as_deref(), c.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let mut address = Address::default();
        address.name = Some(name).filter(|n| !n.is_empty());
        address.city = o.customer.as_ref().and_then(|c| c.city.clone());
        address.phone = c.phone;
        out.shipping_address = Some(address);
    }
    if out.locale.is_none() {
        out.locale = Some(default_locale.to_owned());
    }
    out.line_items = o
        .items
        .iter()
        .map(|i| {
            let mut l = LineItem::new(i.name.clone().unwrap_or_default(), i.quantity.unwrap_or(1));
            l.id = i.id.clone();
            l.sku = i.sku.clone().filter(|s| !s.is_empty());
            l.product_id = i
                .product
                .as_ref()
                .and_then(|p| p.id.as_deref())
                .map(Into::into);
            l
        })
        .collect();
    out.tags = o
        .tags
        .iter()
        .filter_map(|t| match t {
            Value::String(s) => Some(s.clone()),
            Value::Object(m) => m.get("name").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        })
        .collect();
    out.created_at = time(&o.date, what)?;
    out.updated_at = time(&o.updated_at, what)?.or(out.created_at);
    let shipments = o
        .shipments
        .iter()
        .map(|s| {
            let mut s = shipment(s, Some(&o.id), shop, what)?;
            if s.updated_at.is_none() {
                s.updated_at = out.updated_at;
            }
            Ok(s)
        })
        .collect::<Result<Vec<_>, SallaError>>()?;
    Ok((out, shipments))
}

/// The events of an order: `event` (built from the order), then one `shipment_updated` per
/// shipment.
pub fn order_events(
    order: Order,
    shipments: Vec<Shipment>,
    event: fn(Order) -> PlatformEvent,
) -> Vec<PlatformEvent> {
    let mut out = vec![event(order)];
    out.extend(
        shipments
            .into_iter()
            .map(|shipment| PlatformEvent::ShipmentUpdated { shipment }),
    );
    out
}
