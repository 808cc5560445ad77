//! Nuvemshop's JSON into the model, and the events each webhook derives.
//!
//! Nuvemshop keeps one tracking number and URL per order (`shipping_tracking_number`,
//! `shipping_tracking_url`, `shipping_status`; `resources/order.md`), so an order has at
//! most one shipment here, with the order's id as its id and the order's `updated_at` as its
//! version. Webhooks (hydrated) and polling derive it with the same function
//! ([`shipment_of`]), so both produce the same shipment id and version.
//!
//! | `shipping_status` | [`ShipmentStatus`] | why |
//! |---|---|---|
//! | `unpacked`, `unshipped` | `Confirmed` | not with the carrier yet (the docs' new, unpaid example order is `unshipped`) |
//! | `packed` | `LabelCreated` | packed (`order/packed`), not with the carrier |
//! | `shipped` | `InTransit` | handed to the carrier (`order/fulfilled`) |
//! | `delivered` | `Delivered` | newer API versions |
//! | an order `status` of `cancelled` | `Cancelled` | |
//! | anything else | `Unknown(raw)` | |
//!
//! A shipment is derived when there is something to say about a parcel: the order is
//! shipped, has a tracking number or URL, or is packed; an order cancelled after that is a
//! cancelled shipment.

use aftercare::model::{
    Address, Customer, LineItem, Money, Order, PlatformEvent, Shipment, ShipmentStatus, ShopId,
};
use chrono::{DateTime, Utc};

use crate::error::NuvemshopError;
use crate::payload::{ApiAddress, ApiCustomer, ApiOrder};

/// Every `shipping_status` the docs and the newer API name, for tests and tools.
pub const SHIPPING_STATUSES: &[&str] = &["unpacked", "unshipped", "packed", "shipped", "delivered"];

/// The shipment status of a `shipping_status` (the table in the module docs).
pub fn map_status(raw: &str) -> ShipmentStatus {
    match raw.trim().to_ascii_lowercase().as_str() {
        "unpacked" | "unshipped" => ShipmentStatus::Confirmed,
        "packed" => ShipmentStatus::LabelCreated,
        "shipped" => ShipmentStatus::InTransit,
        "delivered" => ShipmentStatus::Delivered,
        "cancelled" => ShipmentStatus::Cancelled,
        _ => ShipmentStatus::Unknown(raw.to_owned()),
    }
}

/// An ISO 8601 date as Nuvemshop writes it (`2008-01-10T11:00:00-05:00`; also `+0000`).
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z"))
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn nonempty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn address(a: &ApiAddress) -> Address {
    let mut out = Address::default();
    out.name = nonempty(a.name.as_deref());
    let street = [a.address.as_deref(), a.number.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if !street.is_empty() {
        out.lines.push(street);
    }
    out.lines.extend(nonempty(a.floor.as_deref()));
    out.lines.extend(nonempty(a.locality.as_deref()));
    out.city = nonempty(a.city.as_deref());
    out.province_code = nonempty(a.province.as_deref());
    out.postal_code = nonempty(a.zipcode.as_deref());
    out.country_code = nonempty(a.country.as_deref()).map(|c| c.to_ascii_uppercase());
    out.phone = nonempty(a.phone.as_deref());
    out
}

/// The order's language as a BCP 47 tag (`pt_BR` → `pt-BR`).
fn locale(lang: Option<&str>) -> Option<String> {
    nonempty(lang).map(|l| l.replace('_', "-"))
}

/// An API order into the model. Required (a decode error otherwise): `id`, `number`,
/// `currency`, `status`, `products`, `created_at` and `updated_at` as dates, and the total
/// (`total`, or `price` in the docs' examples) as an amount in `currency`.
pub fn order(o: &ApiOrder, store: &str) -> Result<Order, NuvemshopError> {
    let what = || format!("nuvemshop order {}", o.id);
    let currency = o.currency.trim();
    if currency.len() != 3 {
        return Err(NuvemshopError::decode(
            what(),
            format!("`currency` `{currency}` is not ISO 4217"),
        ));
    }
    let total_value = o
        .total
        .as_ref()
        .or(o.price.as_ref())
        .ok_or_else(|| NuvemshopError::decode(what(), "no `total`"))?;
    let total: Money =
        aftercare::money::parse_money_number(total_value, currency).ok_or_else(|| {
            NuvemshopError::decode(
                what(),
                format!("the total `{total_value}` is not an amount in {currency}"),
            )
        })?;
    let created = parse_date(&o.created_at).ok_or_else(|| {
        NuvemshopError::decode(
            what(),
            format!("`created_at` `{}` is not a date", o.created_at),
        )
    })?;
    let updated = parse_date(&o.updated_at).ok_or_else(|| {
        NuvemshopError::decode(
            what(),
            format!("`updated_at` `{}` is not a date", o.updated_at),
        )
    })?;
    let mut out = Order::new(o.id.as_str(), format!("#{}", o.number));
    out.shop = Some(ShopId::from(store));
    out.customer_id = o.customer.as_ref().map(|c| c.id.as_str().into());
    out.email = nonempty(o.contact_email.as_deref()).or_else(|| {
        o.customer
            .as_ref()
            .and_then(|c| nonempty(c.email.as_deref()))
    });
    out.phone = nonempty(o.contact_phone.as_deref())
        .or_else(|| {
            o.customer
                .as_ref()
                .and_then(|c| nonempty(c.phone.as_deref()))
        })
        .or_else(|| {
            o.shipping_address
                .as_ref()
                .and_then(|a| nonempty(a.phone.as_deref()))
        });
    for p in &o.products {
        let qty = p
            .quantity
            .as_u64()
            .or_else(|| p.quantity.as_str().and_then(|s| s.trim().parse().ok()))
            .and_then(|q| u32::try_from(q).ok())
            .ok_or_else(|| {
                NuvemshopError::decode(
                    what(),
                    format!("a product quantity `{}` is not a count", p.quantity),
                )
            })?;
        let title = nonempty(p.name.as_deref()).unwrap_or_else(|| match &p.variant_id {
            Some(v) => format!("variant {v}"),
            None => "product".to_owned(),
        });
        let mut line = LineItem::new(title, qty);
        line.id = p.id.as_ref().map(|i| i.0.clone());
        line.product_id = p.product_id.as_ref().map(|i| i.as_str().into());
        line.variant_id = p.variant_id.as_ref().map(|i| i.as_str().into());
        line.sku = nonempty(p.sku.as_deref());
        line.image = aftercare::model::ImageUrl::from_payload(
            p.image.as_ref().and_then(|i| i.src.as_deref()),
        );
        if let Some(price) = &p.price {
            line.unit_price = Some(
                aftercare::money::parse_money_number(price, currency).ok_or_else(|| {
                    NuvemshopError::decode(
                        what(),
                        format!("a product price `{price}` is not an amount in {currency}"),
                    )
                })?,
            );
        }
        out.line_items.push(line);
    }
    out.shipping_address = o.shipping_address.as_ref().map(address);
    out.locale = locale(o.language.as_deref());
    out.total = Some(total);
    out.cancelled = o.status.eq_ignore_ascii_case("cancelled");
    out.created_at = Some(created);
    out.updated_at = Some(updated);
    Ok(out)
}

/// The order's shipment, when there is something to say about a parcel (module docs).
pub fn shipment_of(o: &ApiOrder, store: &str) -> Option<Shipment> {
    let tracking = nonempty(o.shipping_tracking_number.as_deref());
    let url = nonempty(o.shipping_tracking_url.as_deref());
    let raw = o
        .shipping_status
        .as_deref()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let parcel = matches!(raw.as_str(), "shipped" | "packed" | "delivered")
        || tracking.is_some()
        || url.is_some();
    if !parcel {
        return None;
    }
    let status = if o.status.eq_ignore_ascii_case("cancelled") {
        ShipmentStatus::Cancelled
    } else if raw.is_empty() {
        ShipmentStatus::InTransit
    } else {
        map_status(&raw)
    };
    let mut s = Shipment::new(o.id.as_str(), o.id.as_str(), status);
    s.shop = Some(ShopId::from(store));
    s.carrier = nonempty(o.shipping_option.as_deref()).or_else(|| nonempty(o.shipping.as_deref()));
    s.tracking_numbers.extend(tracking);
    s.tracking_urls.extend(url);
    s.created_at = o.shipped_at.as_deref().and_then(parse_date);
    s.updated_at = parse_date(&o.updated_at);
    Some(s)
}

/// The events an order webhook derives, after the order was read from the API:
///
/// | event | events |
/// |---|---|
/// | `order/created` | `order_created` |
/// | `order/paid` | `order_paid` |
/// | `order/updated`, `order/packed`, `order/fulfilled` | `order_updated` (`order_cancelled` for a cancelled order) |
/// | `order/cancelled` | `order_cancelled` |
///
/// each followed by `shipment_updated` when the order has a shipment ([`shipment_of`]); a
/// `order/fulfilled` or `order/packed` order always has one.
pub fn order_events(
    event: &str,
    o: &ApiOrder,
    store: &str,
) -> Result<Vec<PlatformEvent>, NuvemshopError> {
    let order = order(o, store)?;
    let mut out = vec![match event {
        "order/created" => PlatformEvent::OrderCreated { order },
        "order/paid" => PlatformEvent::OrderPaid { order },
        "order/cancelled" => PlatformEvent::OrderCancelled { order },
        _ if order.cancelled => PlatformEvent::OrderCancelled { order },
        _ => PlatformEvent::OrderUpdated { order },
    }];
    let shipment = shipment_of(o, store).or_else(|| {
        matches!(event, "order/fulfilled" | "order/packed").then(|| {
            let status = if event == "order/fulfilled" {
                ShipmentStatus::InTransit
            } else {
                ShipmentStatus::LabelCreated
            };
            let mut s = Shipment::new(o.id.as_str(), o.id.as_str(), status);
            s.shop = Some(ShopId::from(store));
            s.updated_at = parse_date(&o.updated_at);
            s
        })
    });
    if let Some(shipment) = shipment {
        out.push(PlatformEvent::ShipmentUpdated { shipment });
    }
    Ok(out)
}

/// A customer into the model (`name` split at its first space into first and last names).
pub fn customer(c: &ApiCustomer) -> Customer {
    let mut out = Customer::new(c.id.as_str());
    if let Some(name) = nonempty(c.name.as_deref()) {
        match name.split_once(' ') {
            Some((first, last)) => {
                out.first_name = Some(first.to_owned());
                out.last_name = nonempty(Some(last));
            }
            None => out.first_name = Some(name),
        }
    }
    out.email = nonempty(c.email.as_deref());
    out.phone = nonempty(c.phone.as_deref());
    out.updated_at = c.updated_at.as_deref().and_then(parse_date);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_both_offsets() {
        let a = parse_date("2008-01-10T11:00:00-05:00").unwrap();
        assert_eq!(a.to_rfc3339(), "2008-01-10T16:00:00+00:00");
        let b = parse_date("2024-03-05T12:00:00+0000").unwrap();
        assert_eq!(b.to_rfc3339(), "2024-03-05T12:00:00+00:00");
        assert!(parse_date("yesterday").is_none());
    }

    #[test]
    fn statuses() {
        assert_eq!(map_status("shipped"), ShipmentStatus::InTransit);
        assert_eq!(map_status("unpacked"), ShipmentStatus::Confirmed);
        assert_eq!(map_status("weird"), ShipmentStatus::Unknown("weird".into()));
    }
}
