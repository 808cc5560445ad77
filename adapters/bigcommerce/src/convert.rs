//! BigCommerce resources into the sdk's model: orders, lines, shipments, customers, order
//! status ids, money and dates.

use aftercare::model::{
    Address, ChannelKind, Consent, ConsentState, Customer, LineItem, Order, Purpose, Shipment,
    ShipmentStatus,
};
use chrono::{DateTime, Utc};

use crate::error::BigCommerceError;
use crate::payload::{ApiAddress, ApiCustomer, ApiOrder, ApiOrderProduct, ApiShipment};

/// The documented order statuses (`GET /v2/order_statuses`, `orders.v2.oas2.yml`), by id.
pub const ORDER_STATUSES: [(u32, &str); 15] = [
    (0, "Incomplete"),
    (1, "Pending"),
    (2, "Shipped"),
    (3, "Partially Shipped"),
    (4, "Refunded"),
    (5, "Cancelled"),
    (6, "Declined"),
    (7, "Awaiting Payment"),
    (8, "Awaiting Pickup"),
    (9, "Awaiting Shipment"),
    (10, "Completed"),
    (11, "Awaiting Fulfillment"),
    (12, "Manual Verification Required"),
    (13, "Disputed"),
    (14, "Partially Refunded"),
];

/// What an order status id says of the order's parcels, in the sdk's vocabulary.
///
/// BigCommerce shipments carry no status and there is no carrier "delivered" event: the
/// order status is the only signal. `2` Shipped and `3` Partially Shipped → in transit,
/// `8` Awaiting Pickup → ready for pickup, `9` Awaiting Shipment (pulled and packaged,
/// awaiting the carrier) → label created, `10` Completed → delivered (the merchant's word,
/// not a carrier's), `11` Awaiting Fulfillment (paid) → confirmed, `5` Cancelled and `6`
/// Declined → cancelled. The statuses that say nothing of a parcel (incomplete, pending,
/// refunds, awaiting payment, manual verification, disputed) and any undocumented id keep
/// their raw id in [`ShipmentStatus::Unknown`].
///
/// ```
/// use aftercare::model::ShipmentStatus;
/// use aftercare_bigcommerce::map_status;
/// assert_eq!(map_status("2"), ShipmentStatus::InTransit);
/// assert_eq!(map_status("8"), ShipmentStatus::ReadyForPickup);
/// assert_eq!(map_status("10"), ShipmentStatus::Delivered);
/// assert_eq!(map_status("14"), ShipmentStatus::Unknown("14".into()));
/// assert_eq!(map_status("99"), ShipmentStatus::Unknown("99".into()));
/// ```
pub fn map_status(raw: &str) -> ShipmentStatus {
    match raw.trim().parse::<u32>() {
        Ok(id) => status_of(id),
        Err(_) => ShipmentStatus::Unknown(raw.to_owned()),
    }
}

/// [`map_status`] of a numeric status id.
pub fn status_of(status_id: u32) -> ShipmentStatus {
    match status_id {
        2 | 3 => ShipmentStatus::InTransit,
        5 | 6 => ShipmentStatus::Cancelled,
        8 => ShipmentStatus::ReadyForPickup,
        9 => ShipmentStatus::LabelCreated,
        10 => ShipmentStatus::Delivered,
        11 => ShipmentStatus::Confirmed,
        other => ShipmentStatus::Unknown(other.to_string()),
    }
}

/// Whether an order status says where its existing shipments are (so order events carry
/// shipment events): shipped, partially shipped, awaiting pickup, completed, cancelled or
/// declined.
pub(crate) fn speaks_of_parcels(status: &ShipmentStatus) -> bool {
    matches!(
        status,
        ShipmentStatus::InTransit
            | ShipmentStatus::ReadyForPickup
            | ShipmentStatus::Delivered
            | ShipmentStatus::Cancelled
    )
}

/// A shipment's status given its order's status id: what the order status says of parcels,
/// else in transit (a shipment record exists only once something shipped).
pub(crate) fn shipment_status(order_status_id: u32) -> ShipmentStatus {
    let s = status_of(order_status_id);
    if speaks_of_parcels(&s) {
        s
    } else {
        ShipmentStatus::InTransit
    }
}

/// An RFC 2822 date as the v2 API writes it (`Tue, 05 Mar 2019 21:40:11 +0000`); ISO 8601
/// is accepted too.
pub fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    DateTime::parse_from_rfc2822(t)
        .or_else(|_| DateTime::parse_from_rfc3339(t))
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn address(a: &ApiAddress) -> Address {
    let mut out = Address::default();
    let name = [a.first_name.as_deref(), a.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    out.name = (!name.is_empty()).then_some(name);
    out.lines = [a.street_1.clone(), a.street_2.clone()]
        .into_iter()
        .flatten()
        .collect();
    out.city = a.city.clone();
    out.province_code = a.state.clone();
    out.postal_code = a.zip.clone();
    out.country_code = a.country_iso2.clone();
    out.phone = a.phone.clone();
    out
}

/// The order's currency: the transactional one (`default_currency_code`, what the shopper
/// pays in and what the v2 amounts are in), else `currency_code` (equal to it in v2).
fn currency(o: &ApiOrder) -> Option<&str> {
    o.default_currency_code
        .as_deref()
        .or(o.currency_code.as_deref())
}

/// Converts an order, its lines and (when known) its shipping address.
///
/// The total (`total_inc_tax`) must be an exact amount of the order's currency (`"135.4900"`
/// in USD is 13549 cents, `"1500.0000"` in JPY is 1500 yen, `"12.3450"` in KWD 12345 fils);
/// an order without a currency or with a total that is not one is refused.
pub fn order(
    store_hash: &str,
    o: ApiOrder,
    products: Vec<ApiOrderProduct>,
    shipping: Option<&ApiAddress>,
) -> Result<Order, BigCommerceError> {
    let what = || format!("BigCommerce order {}", o.id);
    let cur = currency(&o)
        .ok_or_else(|| {
            BigCommerceError::decode(what(), "no `default_currency_code` or `currency_code`")
        })?
        .to_owned();
    let total = aftercare::money::parse_money_number(&o.total_inc_tax, &cur).ok_or_else(|| {
        BigCommerceError::decode(
            what(),
            format!(
                "`total_inc_tax` {} is not an amount of {cur}",
                o.total_inc_tax
            ),
        )
    })?;
    let updated_at = parse_date(&o.date_modified).ok_or_else(|| {
        BigCommerceError::decode(
            what(),
            format!(
                "`date_modified` `{}` is not an RFC 2822 date",
                o.date_modified
            ),
        )
    })?;
    let mut out = Order::new(o.id.0.clone(), format!("#{}", o.id));
    out.shop = Some(store_hash.into());
    out.customer_id = o.customer_id.map(|c| c.0.into());
    if let Some(b) = &o.billing_address {
        out.email = b.email.clone();
        out.phone = b.phone.clone();
    }
    out.line_items = products.into_iter().map(|p| line(p, &cur)).collect();
    out.shipping_address = shipping.map(address);
    out.locale = o.customer_locale.clone();
    out.total = Some(total);
    // Cancelled or Declined ("marked as declined for lack of manual payment"), or archived.
    out.cancelled = matches!(o.status_id, 5 | 6) || o.is_deleted == Some(true);
    out.created_at = o.date_created.as_deref().and_then(parse_date);
    out.updated_at = Some(updated_at);
    Ok(out)
}

fn line(p: ApiOrderProduct, currency: &str) -> LineItem {
    let mut l = LineItem::new(p.name, p.quantity);
    l.id = Some(p.id.0);
    l.product_id = p.product_id.map(|i| i.0.into());
    l.variant_id = p.variant_id.map(|i| i.0.into());
    l.sku = p.sku;
    l.unit_price = p
        .price_inc_tax
        .as_ref()
        .and_then(|v| aftercare::money::parse_money_number(v, currency));
    l
}

fn is_link(s: &str) -> bool {
    s.starts_with("https://") || s.starts_with("http://")
}

/// Converts a shipment. `status` comes from the order's status ([`shipment_status`]);
/// `updated_at` is when that state is from (the order's `date_modified`, never before the
/// shipment's creation).
///
/// Carrier: the provider's display name, else the AfterShip slug (`tracking_carrier`), else
/// the provider code (`shipping_provider`), a slug or code the sdk's carrier list knows read
/// as that carrier's name (`ups` → `UPS`). Tracking links: the custom `tracking_link` first,
/// then `generated_tracking_link`.
pub fn shipment(
    store_hash: &str,
    s: ApiShipment,
    status: ShipmentStatus,
    updated_at: Option<DateTime<Utc>>,
) -> Shipment {
    let created = s.date_created.as_deref().and_then(parse_date);
    let mut out = Shipment::new(s.id.0, s.order_id.0, status);
    out.shop = Some(store_hash.into());
    // A slug or provider code the sdk knows (`ups`, `usps`, `royalmail`) reads as the
    // carrier's name in messages.
    let named = |code: String| {
        aftercare::carrier::by_code(&code.to_ascii_lowercase()).map_or(code, |c| c.name.to_owned())
    };
    out.carrier = s
        .shipping_provider_display_name
        .or(s.tracking_carrier.filter(|c| !c.is_empty()).map(named))
        .or(s.shipping_provider.filter(|c| !c.is_empty()).map(named));
    out.tracking_numbers = s.tracking_number.into_iter().collect();
    for link in [s.tracking_link, s.generated_tracking_link]
        .into_iter()
        .flatten()
    {
        if is_link(&link) && !out.tracking_urls.contains(&link) {
            out.tracking_urls.push(link);
        }
    }
    out.line_item_ids = s.items.into_iter().map(|i| i.order_product_id.0).collect();
    out.created_at = created;
    out.updated_at = match (updated_at, created) {
        (Some(u), Some(c)) => Some(u.max(c)),
        (u, c) => u.or(c),
    };
    out
}

/// Converts a customer. `accepts_product_review_abandoned_cart_emails` is the customer's
/// consent to product-review and abandoned-cart emails: marketing by email.
pub fn customer(c: ApiCustomer) -> Customer {
    let mut out = Customer::new(c.id.0);
    out.first_name = c.first_name;
    out.last_name = c.last_name;
    out.email = c.email;
    out.phone = c.phone;
    out.updated_at = c.date_modified.as_deref().and_then(parse_date);
    if let Some(yes) = c.accepts_product_review_abandoned_cart_emails {
        let mut consent = Consent::new(
            Purpose::Marketing,
            ChannelKind::Email,
            if yes {
                ConsentState::Granted
            } else {
                ConsentState::Denied
            },
        );
        consent.source = Some("bigcommerce".into());
        consent.updated_at = out.updated_at;
        out.consents.push(consent);
    }
    out
}

/// The address of a `/v2/orders/{id}/shipping_addresses` entry, the shape of a shipment's.
pub(crate) fn first_shipping_address(shipments: &[ApiShipment]) -> Option<&ApiAddress> {
    shipments.iter().find_map(|s| s.shipping_address.as_ref())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_status_is_mapped_and_the_rest_kept_raw() {
        let parcel = [2, 3, 5, 6, 8, 9, 10, 11];
        for (id, _) in ORDER_STATUSES {
            let s = status_of(id);
            assert_eq!(
                matches!(s, ShipmentStatus::Unknown(_)),
                !parcel.contains(&id),
                "status {id}: {s:?}"
            );
        }
        assert_eq!(map_status("abc"), ShipmentStatus::Unknown("abc".into()));
        assert_eq!(shipment_status(11), ShipmentStatus::InTransit);
        assert_eq!(shipment_status(10), ShipmentStatus::Delivered);
    }

    #[test]
    fn dates_in_rfc_2822_and_iso_8601() {
        let d = parse_date("Tue, 05 Mar 2019 21:40:11 +0000").unwrap();
        assert_eq!(d.to_rfc3339(), "2019-03-05T21:40:11+00:00");
        assert!(parse_date("2024-05-14T09:34:00Z").is_some());
        assert!(parse_date("").is_none());
    }
}
