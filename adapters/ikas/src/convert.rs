//! ikas's entities into the model, and the events each scope derives.
//!
//! Shipments are the order's packages (`orderPackages`): the package id is the shipment id,
//! its `trackingInfo` the carrier, number and link, and the order's `updatedAt` (or the
//! package's own, when given) its version, the same from a webhook and from the API. ikas
//! has no package webhook: a package's changes arrive as `store/order/updated` (and the
//! catch-up poller reads them too).
//!
//! | `orderPackageFulfillStatus` | [`ShipmentStatus`] |
//! |---|---|
//! | `PLANNED`, `WAITING_FOR_PACKAGING` | `Confirmed` |
//! | `READY_FOR_SHIPMENT` | `LabelCreated` |
//! | `FULFILLED` | `InTransit` (handed to the carrier) |
//! | `READY_FOR_PICK_UP` | `ReadyForPickup` |
//! | `DELIVERED` | `Delivered` |
//! | `UNABLE_TO_DELIVER`, `ERROR` | `Exception` |
//! | `CANCELLED` | `Cancelled` |
//! | `RETURN_PARCEL_WAITING`, `RETURN_IN_TRANSIT`, `RETURN_DELIVERED` | `Returned` |
//! | `CANCEL_REQUESTED`, `CANCEL_REJECTED`, `REFUNDED`, `REFUND_*`, `RETURN_REJECTED`, others | `Unknown(raw)` (not a parcel's state) |
//!
//! A package yields a `shipment_updated` when its status is past `Confirmed` or it has a
//! tracking number.

use aftercare::model::{
    Address, Customer, LineItem, Order, PlatformEvent, Shipment, ShipmentStatus, ShopId,
};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::IkasError;
use crate::payload::{IkasCustomer, IkasOrder, IkasPackage};

/// The package statuses of the v1 docs and current codegen.
pub const PACKAGE_STATUSES: &[&str] = &[
    "PLANNED",
    "WAITING_FOR_PACKAGING",
    "READY_FOR_SHIPMENT",
    "FULFILLED",
    "DELIVERED",
    "UNABLE_TO_DELIVER",
    "READY_FOR_PICK_UP",
    "ERROR",
    "CANCELLED",
    "CANCEL_REQUESTED",
    "CANCEL_REJECTED",
    "REFUNDED",
    "REFUND_REQUESTED",
    "REFUND_REQUEST_ACCEPTED",
    "REFUND_REJECTED",
    "RETURN_PARCEL_WAITING",
    "RETURN_IN_TRANSIT",
    "RETURN_DELIVERED",
    "RETURN_REJECTED",
];

/// The shipment status of an `orderPackageFulfillStatus` (the table in the module docs).
pub fn map_status(raw: &str) -> ShipmentStatus {
    match raw.trim() {
        "PLANNED" | "WAITING_FOR_PACKAGING" => ShipmentStatus::Confirmed,
        "READY_FOR_SHIPMENT" => ShipmentStatus::LabelCreated,
        "FULFILLED" => ShipmentStatus::InTransit,
        "READY_FOR_PICK_UP" => ShipmentStatus::ReadyForPickup,
        "DELIVERED" => ShipmentStatus::Delivered,
        "UNABLE_TO_DELIVER" | "ERROR" => ShipmentStatus::Exception,
        "CANCELLED" => ShipmentStatus::Cancelled,
        "RETURN_PARCEL_WAITING" | "RETURN_IN_TRANSIT" | "RETURN_DELIVERED" => {
            ShipmentStatus::Returned
        }
        _ => ShipmentStatus::Unknown(raw.to_owned()),
    }
}

/// An ikas date: epoch milliseconds (a JSON number, or digits), or ISO 8601 text.
pub fn parse_date(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::Number(n) => n.as_i64().and_then(DateTime::from_timestamp_millis),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(DateTime::from_timestamp_millis)
            .or_else(|| {
                DateTime::parse_from_rfc3339(s.trim())
                    .ok()
                    .map(|d| d.with_timezone(&Utc))
            }),
        _ => None,
    }
}

fn nonempty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn text_id(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        _ => None,
    }
}

/// An order into the model. Required (a decode error otherwise): `id`, `orderNumber`,
/// `status`, `currencyCode`, `totalFinalPrice` as an amount in that currency, `updatedAt` as
/// a date, `orderLineItems` with counts. `locale` is used when the customer names no
/// language (ikas's orders carry none the docs name).
pub fn order(o: &IkasOrder, merchant: &str, locale: &str) -> Result<Order, IkasError> {
    let what = || format!("ikas order {}", o.id);
    if o.id.trim().is_empty() {
        return Err(IkasError::decode("ikas order", "an empty `id`"));
    }
    let number = text_id(&o.order_number).ok_or_else(|| {
        IkasError::decode(
            what(),
            format!("`orderNumber` `{}` is not a number", o.order_number),
        )
    })?;
    let currency = o.currency_code.trim();
    if currency.len() != 3 {
        return Err(IkasError::decode(
            what(),
            format!("`currencyCode` `{currency}` is not ISO 4217"),
        ));
    }
    let total =
        aftercare::money::parse_money_number(&o.total_final_price, currency).ok_or_else(|| {
            IkasError::decode(
                what(),
                format!(
                    "`totalFinalPrice` `{}` is not an amount in {currency}",
                    o.total_final_price
                ),
            )
        })?;
    let updated = parse_date(&o.updated_at).ok_or_else(|| {
        IkasError::decode(
            what(),
            format!("`updatedAt` `{}` is not a date", o.updated_at),
        )
    })?;
    let mut out = Order::new(o.id.as_str(), format!("#{number}"));
    out.shop = Some(ShopId::from(merchant));
    out.customer_id = o
        .customer
        .as_ref()
        .and_then(|c| nonempty(c.id.as_deref()))
        .or_else(|| nonempty(o.customer_id.as_deref()))
        .map(Into::into);
    out.email = o
        .customer
        .as_ref()
        .and_then(|c| nonempty(c.email.as_deref()));
    out.phone = o
        .customer
        .as_ref()
        .and_then(|c| nonempty(c.phone.as_deref()))
        .or_else(|| {
            o.shipping_address
                .as_ref()
                .and_then(|a| nonempty(a.phone.as_deref()))
        });
    for l in &o.order_line_items {
        let qty = l
            .quantity
            .as_u64()
            .and_then(|q| u32::try_from(q).ok())
            .ok_or_else(|| {
                IkasError::decode(
                    what(),
                    format!("a line quantity `{}` is not a count", l.quantity),
                )
            })?;
        let v = l.variant.as_ref();
        let title = v
            .and_then(|v| nonempty(v.name.as_deref()))
            .unwrap_or_else(|| "product".into());
        let mut line = LineItem::new(title, qty);
        line.id = Some(l.id.clone());
        line.variant_id = v.and_then(|v| nonempty(v.id.as_deref())).map(Into::into);
        line.product_id = v
            .and_then(|v| nonempty(v.product_id.as_deref()))
            .map(Into::into);
        line.sku = v.and_then(|v| nonempty(v.sku.as_deref()));
        if let Some(p) = &l.price {
            line.unit_price = Some(
                aftercare::money::parse_money_number(p, currency).ok_or_else(|| {
                    IkasError::decode(
                        what(),
                        format!("a line price `{p}` is not an amount in {currency}"),
                    )
                })?,
            );
        }
        out.line_items.push(line);
    }
    out.shipping_address = o.shipping_address.as_ref().map(|a| {
        let mut ad = Address::default();
        let name = [a.first_name.as_deref(), a.last_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        ad.name = (!name.is_empty()).then_some(name);
        ad.lines.extend(nonempty(a.address_line1.as_deref()));
        ad.lines.extend(nonempty(a.address_line2.as_deref()));
        ad.lines.extend(
            a.district
                .as_ref()
                .and_then(|d| nonempty(d.name.as_deref())),
        );
        ad.city = a.city.as_ref().and_then(|c| nonempty(c.name.as_deref()));
        ad.postal_code = nonempty(a.postal_code.as_deref());
        ad.country_code = a
            .country
            .as_ref()
            .and_then(|c| nonempty(c.iso2.as_deref()).or_else(|| nonempty(c.code.as_deref())))
            .map(|c| c.to_ascii_uppercase());
        ad.phone = nonempty(a.phone.as_deref());
        ad
    });
    out.locale = o
        .customer
        .as_ref()
        .and_then(|c| nonempty(c.preferred_language.as_deref()))
        .or_else(|| nonempty(Some(locale)))
        .map(|l| l.replace('_', "-"));
    out.total = Some(total);
    out.cancelled = o.status == "CANCELLED";
    out.created_at = o
        .ordered_at
        .as_ref()
        .or(o.created_at.as_ref())
        .and_then(parse_date);
    out.updated_at = Some(updated);
    Ok(out)
}

/// A package as a shipment.
pub fn shipment(o: &IkasOrder, p: &IkasPackage, merchant: &str) -> Shipment {
    let mut s = Shipment::new(
        p.id.as_str(),
        o.id.as_str(),
        map_status(&p.order_package_fulfill_status),
    );
    s.shop = Some(ShopId::from(merchant));
    if let Some(t) = &p.tracking_info {
        s.carrier = nonempty(t.cargo_company.as_deref())
            .or_else(|| nonempty(t.cargo_company_id.as_deref()));
        s.tracking_numbers
            .extend(nonempty(t.tracking_number.as_deref()));
        s.tracking_urls.extend(nonempty(t.tracking_link.as_deref()));
    }
    s.line_item_ids = p.order_line_item_ids.clone();
    s.updated_at = p
        .updated_at
        .as_ref()
        .and_then(parse_date)
        .or_else(|| parse_date(&o.updated_at));
    s
}

/// The order's packages that have something to say about a parcel (module docs).
pub fn shipments(o: &IkasOrder, merchant: &str) -> Vec<Shipment> {
    o.order_packages
        .iter()
        .flatten()
        .filter(|p| {
            let has_tracking = p
                .tracking_info
                .as_ref()
                .and_then(|t| nonempty(t.tracking_number.as_deref()))
                .is_some();
            has_tracking || map_status(&p.order_package_fulfill_status).progress() > 1
        })
        .map(|p| shipment(o, p, merchant))
        .collect()
}

/// The events of an order scope:
///
/// | scope | events |
/// |---|---|
/// | `store/order/created` | `order_created` |
/// | `store/order/updated` | `order_updated` (`order_cancelled` for `status: CANCELLED`) |
///
/// each followed by a `shipment_updated` per package of [`shipments`].
pub fn order_events(
    scope: &str,
    o: &IkasOrder,
    merchant: &str,
    locale: &str,
) -> Result<Vec<PlatformEvent>, IkasError> {
    let order = order(o, merchant, locale)?;
    let mut out = vec![match scope {
        "store/order/created" => PlatformEvent::OrderCreated { order },
        _ if order.cancelled => PlatformEvent::OrderCancelled { order },
        _ => PlatformEvent::OrderUpdated { order },
    }];
    out.extend(
        shipments(o, merchant)
            .into_iter()
            .map(|shipment| PlatformEvent::ShipmentUpdated { shipment }),
    );
    Ok(out)
}

/// A customer into the model.
pub fn customer(c: &IkasCustomer) -> Customer {
    let mut out = Customer::new(c.id.as_str());
    out.first_name = nonempty(c.first_name.as_deref());
    out.last_name = nonempty(c.last_name.as_deref());
    out.email = nonempty(c.email.as_deref());
    out.phone = nonempty(c.phone.as_deref());
    out.locale = nonempty(c.preferred_language.as_deref()).map(|l| l.replace('_', "-"));
    out.updated_at = c.updated_at.as_ref().and_then(parse_date);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_epoch_milliseconds() {
        let d = parse_date(&serde_json::json!(1_700_000_000_123_i64)).unwrap();
        assert_eq!(d.timestamp_millis(), 1_700_000_000_123);
        assert!(parse_date(&serde_json::json!(1.5)).is_none());
        assert!(parse_date(&serde_json::json!("soon")).is_none());
    }
}
