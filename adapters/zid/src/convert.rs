//! Zid JSON → the Aftercare model, and Zid's order statuses as shipment milestones.
//!
//! Zid has no shipment resource in its webhooks: shipping integrations move the **order**
//! through its statuses (docs.zid.sa "Change Order Status": `new`, `preparing`, `ready`,
//! `indelivery`, `delivered`, `cancelled`), with the tracking number and URL on
//! `shipping.method.tracking`. Each order therefore carries one shipment, id
//! `{order id}`, whose status is [`map_status`] of the order's:
//!
//! | Zid `order_status.code` | Aftercare |
//! |---|---|
//! | `preparing` | `confirmed` |
//! | `ready` | `label_created` |
//! | `indelivery` / `inDelivery` | `in_transit` |
//! | `delivered` | `delivered` |
//! | `cancelled` / `canceled` | `cancelled` |
//! | `new`, `processed`, payment states (`failed`, `refunded`, `reversed`, `chargeback`, `expired`, `voided`, `denied`, ...) and custom codes | `unknown(raw)`: no shipment event |
//!
//! **Totals.** Zid writes `order_total` with float noise (`"211.44999892193000"`); it is
//! rounded half-up to the currency's exponent on the decimal text (never through a float).
//! **Times** (`2025-10-13 07:53:13`) are UTC. **Phones** of digits only get a `+`.
//! **Locale**: the order's `language`, else the store's default (`ar`).

use aftercare::model::{
    Customer, CustomerId, LineItem, Money, Order, PlatformEvent, Shipment, ShipmentStatus, ShopId,
};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use crate::error::ZidError;
use crate::payload::{OrderCustomer, OrderPayload};

/// Maps a Zid order status code to a shipment milestone (see the module's table).
pub fn map_status(raw: &str) -> ShipmentStatus {
    match raw.trim().to_ascii_lowercase().as_str() {
        "preparing" => ShipmentStatus::Confirmed,
        "ready" => ShipmentStatus::LabelCreated,
        "indelivery" | "in_delivery" => ShipmentStatus::InTransit,
        "delivered" => ShipmentStatus::Delivered,
        "cancelled" | "canceled" => ShipmentStatus::Cancelled,
        _ => ShipmentStatus::Unknown(raw.to_owned()),
    }
}

/// `text` (a decimal, any number of fraction digits) in minor units of `currency`, rounded
/// half-up to its exponent; `None` when it is not a plain decimal.
pub fn round_money(text: &str, currency: &str) -> Option<Money> {
    let t = text.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let exp = aftercare::money::currency_exponent(currency) as usize;
    let mut digits: String = int.to_owned();
    let kept: String = frac
        .chars()
        .chain(std::iter::repeat('0'))
        .take(exp)
        .collect();
    digits.push_str(&kept);
    let mut minor: i64 = digits.parse().ok()?;
    if frac.as_bytes().get(exp).is_some_and(|d| *d >= b'5') {
        minor = minor.checked_add(1)?;
    }
    Some(Money::new(
        if neg { -minor } else { minor },
        currency.trim().to_ascii_uppercase(),
    ))
}

fn total(v: &Value, currency: &str) -> Option<Money> {
    match v {
        Value::String(s) => round_money(s, currency),
        Value::Number(n) => round_money(&n.to_string(), currency),
        _ => None,
    }
}

/// Reads Zid's `2025-10-13 07:53:13` (UTC), or RFC 3339.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
                .ok()
                .map(|n| n.and_utc())
        })
}

fn time(t: &Option<String>, what: &str) -> Result<Option<DateTime<Utc>>, ZidError> {
    match t.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => parse_time(s)
            .map(Some)
            .ok_or_else(|| ZidError::decode(what, format!("not a time Zid writes: `{s}`"))),
    }
}

fn phone(mobile: &str) -> Option<String> {
    let m = mobile.trim();
    if m.is_empty() {
        return None;
    }
    if m.len() >= 11 && m.bytes().all(|b| b.is_ascii_digit()) {
        return Some(format!("+{m}"));
    }
    Some(m.to_owned())
}

/// A customer from an order's `customer`.
pub fn customer(c: &OrderCustomer) -> Customer {
    let mut out = Customer::new(CustomerId::from(c.id.as_str()));
    if let Some(name) = c.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        let (first, last) = name.split_once(' ').unwrap_or((name, ""));
        out.first_name = Some(first.to_owned());
        out.last_name = Some(last.trim().to_owned()).filter(|l| !l.is_empty());
    }
    out.email = c.email.clone().filter(|e| e.contains('@'));
    out.phone = c.mobile.as_deref().and_then(phone);
    out
}

/// An order and its one shipment (when its status is a milestone).
pub fn order(
    o: &OrderPayload,
    shop: &ShopId,
    default_locale: &str,
    what: &str,
) -> Result<(Order, Option<Shipment>), ZidError> {
    if o.store_id != shop.as_str() {
        return Err(ZidError::decode(
            what,
            format!(
                "the order names the store `{}`, not the configured `{shop}`",
                o.store_id
            ),
        ));
    }
    let total = total(&o.order_total, &o.currency_code).ok_or_else(|| {
        ZidError::decode(
            what,
            format!("the total `{}` is not an amount", o.order_total),
        )
    })?;
    let mut out = Order::new(
        o.id.as_str(),
        o.code.clone().unwrap_or_else(|| o.id.clone()),
    );
    out.shop = Some(shop.clone());
    out.total = Some(total);
    let status = o.order_status.code.trim().to_ascii_lowercase();
    out.cancelled = matches!(status.as_str(), "cancelled" | "canceled");
    if let Some(c) = &o.customer {
        let c = customer(c);
        out.customer_id = Some(c.id.clone());
        out.email = c.email;
        out.phone = c.phone;
    }
    out.locale = Some(
        o.language
            .clone()
            .filter(|l| !l.trim().is_empty())
            .unwrap_or_else(|| default_locale.to_owned()),
    );
    out.line_items = o
        .products
        .iter()
        .map(|p| {
            let mut l = LineItem::new(p.name.clone().unwrap_or_default(), p.quantity.unwrap_or(1));
            l.product_id = p.id.as_ref().and_then(|v| match v {
                Value::String(s) if !s.is_empty() => Some(s.as_str().into()),
                Value::Number(n) if n.is_u64() => Some(n.to_string().as_str().into()),
                _ => None,
            });
            l.sku = p.sku.clone().filter(|s| !s.is_empty());
            l
        })
        .collect();
    out.created_at = time(&o.created_at, what)?;
    out.updated_at = time(&o.updated_at, what)?.or(out.created_at);
    let mapped = map_status(&o.order_status.code);
    let shipment = (!matches!(mapped, ShipmentStatus::Unknown(_))).then(|| {
        let mut s = Shipment::new(o.id.as_str(), o.id.as_str(), mapped);
        s.shop = Some(shop.clone());
        let method = o
            .shipping
            .as_ref()
            .and_then(|s| s.method.clone())
            .unwrap_or_default();
        s.carrier = method.name.filter(|n| !n.trim().is_empty());
        let tracking = method.tracking.unwrap_or_default();
        s.tracking_numbers = tracking
            .number
            .and_then(|n| match n {
                Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
                Value::Number(n) if n.is_u64() => Some(n.to_string()),
                _ => None,
            })
            .into_iter()
            .collect();
        s.tracking_urls = tracking
            .url
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .into_iter()
            .collect();
        s.updated_at = out.updated_at;
        s
    });
    Ok((out, shipment))
}

/// The events of an order: `order_created` for a `new` order, `order_cancelled` for a
/// cancelled one, else `order_updated`; then `shipment_updated` when its status is a
/// milestone.
pub fn order_events(order: Order, shipment: Option<Shipment>, status: &str) -> Vec<PlatformEvent> {
    let mut out = vec![if order.cancelled {
        PlatformEvent::OrderCancelled { order }
    } else if status.eq_ignore_ascii_case("new") {
        PlatformEvent::OrderCreated { order }
    } else {
        PlatformEvent::OrderUpdated { order }
    }];
    out.extend(shipment.map(|shipment| PlatformEvent::ShipmentUpdated { shipment }));
    out
}
