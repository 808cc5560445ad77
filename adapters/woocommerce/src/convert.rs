//! WooCommerce's JSON into the sdk's model, and the events an order's state implies.
//!
//! WooCommerce has no `order.paid` topic and no shipment resource; what the adapter reports
//! is derived from the order, the same way for a webhook and for an order read through the
//! API (the catch-up poller), so both paths produce the same shipments:
//!
//! - **Paid**: `status` is `processing` or `completed`, or `date_paid` is set on an order
//!   that is not pending, cancelled, refunded, failed or trashed → [`PlatformEvent::OrderPaid`]
//!   (for every delivery of a paid order: webhooks carry no previous state, so handlers
//!   treat it idempotently, as every handler must).
//! - **Shipped**: each tracking item (the Shipment Tracking extension's
//!   `_wc_shipment_tracking_items` meta or REST route, Advanced Shipment Tracking's shape) is
//!   a [`Shipment`] whose id is the item's `tracking_id`; its status is TrackShip's status
//!   for that item when the order has one, else the order's status mapped by
//!   [`map_status`] (`completed` → in transit; anything not a shipment state → confirmed,
//!   and a confirmed shipment with a tracking number is a shipped one to the flows). A
//!   `completed` order without tracking items is one shipment `order-{id}` in transit
//!   (turn it off with [`Mapping::completed_ships`] for shops that sell downloads).
//!   Every shipment's `updated_at` is the order's `date_modified_gmt`.
//! - **Cancelled**: `status` `cancelled` (an `order.updated`) → [`PlatformEvent::OrderCancelled`];
//!   `refunded`, `failed` and `trash` orders are marked `cancelled` (no tracking messages)
//!   but reported as updates; `order.deleted` (a body of only `id`) is an `OrderCancelled`
//!   of an order known only by its id.

use aftercare::model::{
    Address, ChannelKind, Consent, ConsentState, Customer, LineItem, Order, PlatformEvent, Purpose,
    Shipment, ShipmentStatus, ShopId,
};
use aftercare::money::{parse_money, parse_money_number};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;

use crate::payload::{
    AddressPayload, CustomerPayload, LinksPayload, MetaPayload, OrderPayload, TrackShipStatus,
    TrackingItem,
};
use crate::site::Site;

/// The order meta key of the Shipment Tracking extension's items.
pub const TRACKING_META: &str = "_wc_shipment_tracking_items";
/// The order meta key of TrackShip's per-item statuses [3rd-party].
pub const TRACKSHIP_META: &str = "shipment_status";
/// The order meta key of WPML's order language.
pub const WPML_LANGUAGE_META: &str = "wpml_language";

/// A meta key that records a customer's consent (plugins' opt-in checkboxes).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsentMeta {
    /// The meta key.
    pub key: String,
    /// What the consent is for.
    pub purpose: Purpose,
    /// On which channel.
    pub channel: ChannelKind,
}

/// How plugins' data in `meta_data` is read: languages, consent, tags. Shared by the
/// webhook source and the API client so both read an order the same way.
///
/// ```
/// use aftercare::model::{ChannelKind, Purpose};
/// use aftercare_woocommerce::Mapping;
/// let m = Mapping::default()
///     .consent("_newsletter_opt_in", Purpose::Marketing, ChannelKind::Email)
///     .locale_meta("trp_language");
/// assert_eq!(m.tags_meta, "aftercare_tags");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Mapping {
    /// Meta keys holding the order's or customer's language, first found wins (default:
    /// WPML's `wpml_language`; Polylang Pro's `lang` field is always read first).
    pub locale_meta: Vec<String>,
    /// Meta keys holding consent (default: none — WooCommerce itself records none, so
    /// consent is unknown unless a plugin's key is named here).
    pub consent: Vec<ConsentMeta>,
    /// The meta key the annotator keeps tags in (WooCommerce has no order tags), a
    /// comma-separated list (default `aftercare_tags`).
    pub tags_meta: String,
    /// Whether a `completed` order without tracking items counts as shipped (default
    /// true).
    pub completed_ships: bool,
}

impl Default for Mapping {
    fn default() -> Self {
        Self {
            locale_meta: vec![WPML_LANGUAGE_META.to_owned()],
            consent: Vec::new(),
            tags_meta: "aftercare_tags".to_owned(),
            completed_ships: true,
        }
    }
}

impl Mapping {
    /// Also reads the language from meta `key`.
    pub fn locale_meta(mut self, key: impl Into<String>) -> Self {
        self.locale_meta.push(key.into());
        self
    }

    /// Reads consent for `purpose` on `channel` from meta `key` (`yes`/`1`/`true`/`on` is
    /// granted, `no`/`0`/`false`/`off` denied, anything else or absent unknown).
    pub fn consent(
        mut self,
        key: impl Into<String>,
        purpose: Purpose,
        channel: ChannelKind,
    ) -> Self {
        self.consent.push(ConsentMeta {
            key: key.into(),
            purpose,
            channel,
        });
        self
    }

    /// Sets the tags' meta key.
    pub fn tags_meta(mut self, key: impl Into<String>) -> Self {
        self.tags_meta = key.into();
        self
    }

    /// Sets whether a `completed` order without tracking items counts as shipped.
    pub fn completed_ships(mut self, yes: bool) -> Self {
        self.completed_ships = yes;
        self
    }
}

/// Maps a WooCommerce order status, a shipment-tracking plugin's status or an order status
/// those plugins add into the sdk's vocabulary; anything else is
/// [`ShipmentStatus::Unknown`] with its raw text.
///
/// | raw | status |
/// |---|---|
/// | `processing` (paid, awaiting fulfilment) | confirmed |
/// | `completed` (WooCommerce: "order fulfilled and complete") | in transit |
/// | `cancelled` | cancelled |
/// | `pending`, `on-hold`, `refunded`, `failed`, `trash`, `checkout-draft` | unknown |
/// | `shipped`, `partial-shipped` (Advanced Shipment Tracking's order statuses) | in transit |
/// | `delivered` (TrackShip's order status) | delivered |
/// | TrackShip's `pre_transit`, `in_transit`, `out_for_delivery`, `available_for_pickup`, `delivered`, `return_to_sender`, `failure`, `exception` | label created, in transit, out for delivery, ready for pickup, delivered, returned, exception, exception |
///
/// ```
/// use aftercare::model::ShipmentStatus;
/// use aftercare_woocommerce::map_status;
/// assert_eq!(map_status("completed"), ShipmentStatus::InTransit);
/// assert_eq!(map_status("pending"), ShipmentStatus::Unknown("pending".into()));
/// assert_eq!(map_status("out_for_delivery"), ShipmentStatus::OutForDelivery);
/// ```
pub fn map_status(raw: &str) -> ShipmentStatus {
    let norm = raw.trim().to_ascii_lowercase();
    let norm = norm.strip_prefix("wc-").unwrap_or(&norm);
    match norm {
        "processing" => ShipmentStatus::Confirmed,
        "completed" | "shipped" | "partial-shipped" | "partial_shipped" => {
            ShipmentStatus::InTransit
        }
        "cancelled" => ShipmentStatus::Cancelled,
        // Order states that are not a shipment's: kept as they are. (`pending` means
        // "awaiting payment" here, not the carriers' "pending" that `parse` reads as
        // confirmed.)
        "pending" | "on-hold" | "refunded" | "failed" | "trash" | "checkout-draft" | "unknown"
        | "pending_trackship" => ShipmentStatus::Unknown(raw.to_owned()),
        _ => ShipmentStatus::parse(raw),
    }
}

fn decode_err(what: &str, message: impl std::fmt::Display) -> aftercare::Error {
    aftercare::Error::decode(format!("woocommerce {what}"), message)
}

fn required<'a>(what: &str, field: &str, v: Option<&'a str>) -> Result<&'a str, aftercare::Error> {
    match v.map(str::trim) {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(decode_err(
            what,
            format!(
                "the body has no `{field}`, which this resource always has: not the payload its topic documents"
            ),
        )),
    }
}

/// A GMT date as WooCommerce writes it (`2017-03-22T19:28:08`, no offset), or RFC 3339.
pub(crate) fn parse_gmt(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    // WooCommerce's own form, read by hand: chrono's format parser costs more than the
    // rest of an order's conversion.
    if let Some(t) = parse_wc_datetime(s) {
        return Some(t);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S"))
        .ok()
        .map(|n| n.and_utc())
}

/// `YYYY-MM-DDTHH:MM:SS` exactly, as UTC.
fn parse_wc_datetime(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, num(5..7)?, num(8..10)?)?
        .and_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)
        .map(|n| n.and_utc())
}

/// `date_shipped`: Unix seconds (the meta) or `YYYY-MM-DD` (the REST route).
fn parse_day_or_epoch(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<i64>()
            .ok()
            .and_then(|n| DateTime::from_timestamp(n, 0));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| n.and_utc())
        .or_else(|| parse_gmt(s))
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A language code as plugins write it (`fr`, `pt-br`, `zh-hans`, `de_DE`) as a BCP 47 tag
/// (`fr`, `pt-BR`, `zh-Hans`, `de-DE`); `None` for anything that is not one.
pub fn to_bcp47(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let mut parts = raw.split(['-', '_']);
    let lang = parts.next()?;
    if !(2..=3).contains(&lang.len()) || !lang.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let mut out = lang.to_ascii_lowercase();
    for p in parts {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        out.push('-');
        if p.len() == 2 && p.bytes().all(|b| b.is_ascii_alphabetic()) {
            out.push_str(&p.to_ascii_uppercase());
        } else if p.len() == 4 && p.bytes().all(|b| b.is_ascii_alphabetic()) {
            out.push_str(&p[..1].to_ascii_uppercase());
            out.push_str(&p[1..].to_ascii_lowercase());
        } else {
            out.push_str(&p.to_ascii_lowercase());
        }
    }
    Some(out)
}

/// The value of meta `key` parsed as `T`; `None` when absent, `null` or of another shape.
pub(crate) fn meta<T: serde::de::DeserializeOwned>(
    meta: &[MetaPayload<'_>],
    key: &str,
) -> Option<T> {
    meta.iter()
        .find(|m| m.key == key)
        .and_then(|m| m.value)
        .and_then(|raw| serde_json::from_str(raw.get()).ok())
}

fn meta_text(meta: &[MetaPayload<'_>], key: &str) -> Option<String> {
    self::meta::<String>(meta, key)
}

fn locale(lang: Option<&str>, meta: &[MetaPayload<'_>], m: &Mapping) -> Option<String> {
    lang.and_then(to_bcp47).or_else(|| {
        m.locale_meta
            .iter()
            .find_map(|k| meta_text(meta, k).as_deref().and_then(to_bcp47))
    })
}

fn consent_state(v: &Value) -> ConsentState {
    match v {
        Value::Bool(true) => ConsentState::Granted,
        Value::Bool(false) => ConsentState::Denied,
        Value::Number(n) if n.as_u64() == Some(1) => ConsentState::Granted,
        Value::Number(n) if n.as_u64() == Some(0) => ConsentState::Denied,
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "yes" | "1" | "true" | "on" | "granted" | "subscribed" => ConsentState::Granted,
            "no" | "0" | "false" | "off" | "denied" | "unsubscribed" => ConsentState::Denied,
            _ => ConsentState::Unknown,
        },
        _ => ConsentState::Unknown,
    }
}

/// The tags kept in meta `key`: a comma-separated string or a JSON list of strings.
pub(crate) fn tags_from_meta(meta: &[MetaPayload<'_>], key: &str) -> Vec<String> {
    match self::meta::<Value>(meta, key) {
        Some(Value::String(s)) => split_tags(&s),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

pub(crate) fn split_tags(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

fn address(a: &AddressPayload<'_>) -> Option<Address> {
    let name = [a.first_name.as_deref(), a.last_name.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let mut out = Address::default();
    out.name = (!name.is_empty()).then_some(name);
    out.lines = [a.address_1.as_deref(), a.address_2.as_deref()]
        .into_iter()
        .filter_map(non_empty)
        .collect();
    out.city = non_empty(a.city.as_deref());
    out.province_code = non_empty(a.state.as_deref());
    out.postal_code = non_empty(a.postcode.as_deref());
    out.country_code = non_empty(a.country.as_deref()).map(|c| c.to_ascii_uppercase());
    out.phone = non_empty(a.phone.as_deref());
    (!out.lines.is_empty() || out.city.is_some() || out.country_code.is_some()).then_some(out)
}

/// Checks that a body's `_links` (when it has any) are URLs of `site`: the body's own claim
/// of where it is from.
pub(crate) fn check_links(
    what: &str,
    links: Option<&LinksPayload<'_>>,
    site: &Site,
) -> Result<(), aftercare::Error> {
    let Some(l) = links else { return Ok(()) };
    for href in l
        .self_
        .iter()
        .chain(&l.collection)
        .filter_map(|h| h.href.as_deref())
    {
        // WooCommerce writes its links under the site's URL as configured: a prefix check
        // answers most without parsing a URL.
        if !href.starts_with(site.as_str()) && !site.contains(href) {
            return Err(decode_err(
                what,
                format!(
                    "the body's `_links` name `{href}`, which is not on the site `{site}` this source serves"
                ),
            ));
        }
    }
    Ok(())
}

/// An order read from WooCommerce, with what the events are derived from.
#[derive(Clone, Debug)]
pub(crate) struct WooOrder {
    pub order: Order,
    pub status: String,
    pub paid: bool,
    pub completed_at: Option<DateTime<Utc>>,
    pub tracking: Vec<TrackingItem>,
    pub trackship: Vec<TrackShipStatus>,
}

/// Converts an order, requiring what every order has: `id`, `number`, `status`,
/// `order_key`, `currency` and a `date_modified_gmt`.
pub(crate) fn order(
    what: &str,
    p: OrderPayload<'_>,
    shop: Option<&ShopId>,
    m: &Mapping,
) -> Result<WooOrder, aftercare::Error> {
    let id = required(what, "id", p.id.as_deref())?.to_owned();
    let number = required(what, "number", p.number.as_deref())?.to_owned();
    required(what, "order_key", p.order_key.as_deref())?;
    let status = required(what, "status", p.status.as_deref())?.to_ascii_lowercase();
    let currency = required(what, "currency", p.currency.as_deref())?.to_ascii_uppercase();
    let modified = required(what, "date_modified_gmt", p.date_modified_gmt.as_deref())?;
    let updated_at = parse_gmt(modified).ok_or_else(|| {
        decode_err(
            what,
            format!("`date_modified_gmt` is not a date: `{modified}`"),
        )
    })?;
    let total = match non_empty(p.total.as_deref()) {
        Some(t) => Some(parse_money(&t, &currency).ok_or_else(|| {
            decode_err(
                what,
                format!("`total` `{t}` is not an amount in {currency}"),
            )
        })?),
        None => None,
    };
    let mut line_items = Vec::with_capacity(p.line_items.len());
    for li in &p.line_items {
        let quantity = match &li.quantity {
            None | Some(Value::Null) => 0,
            Some(q) => q
                .as_u64()
                .or_else(|| q.as_str().and_then(|s| s.trim().parse().ok()))
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    decode_err(
                        what,
                        format!("a line item's `quantity` is not a count: {q}"),
                    )
                })?,
        };
        let mut l = LineItem::new(
            crate::entities::wp_specialchars_decode(li.name.as_deref().unwrap_or_default()),
            quantity,
        );
        l.id = li.id.clone();
        l.product_id = li.product_id.clone().filter(|v| v != "0").map(Into::into);
        l.variant_id = li.variation_id.clone().filter(|v| v != "0").map(Into::into);
        l.sku = non_empty(li.sku.as_deref());
        l.unit_price = li
            .price
            .as_ref()
            .and_then(|v| parse_money_number(v, &currency));
        l.image = aftercare::model::ImageUrl::from_payload(
            li.image
                .as_ref()
                .and_then(|i| i.get("src"))
                .and_then(Value::as_str),
        );
        line_items.push(l);
    }
    let billing = p.billing.as_ref();
    let shipping_address = p
        .shipping
        .as_ref()
        .and_then(address)
        .or_else(|| billing.and_then(address));
    let cancelled = matches!(
        status.as_str(),
        "cancelled" | "refunded" | "failed" | "trash"
    );
    let date_paid = p.date_paid_gmt.as_deref().or(p.date_paid.as_deref());
    let paid = matches!(status.as_str(), "processing" | "completed")
        || (date_paid.is_some_and(|d| !d.trim().is_empty())
            && !cancelled
            && !matches!(status.as_str(), "pending" | "checkout-draft"));
    let tracking: Vec<TrackingItem> = meta(&p.meta_data, TRACKING_META).unwrap_or_default();
    let trackship: Vec<TrackShipStatus> = meta(&p.meta_data, TRACKSHIP_META).unwrap_or_default();

    let mut o = Order::new(id, number);
    o.shop = shop.cloned();
    o.customer_id = p.customer_id.clone().filter(|c| c != "0").map(Into::into);
    o.email = billing.and_then(|b| non_empty(b.email.as_deref()));
    o.phone = billing
        .and_then(|b| non_empty(b.phone.as_deref()))
        .or_else(|| {
            p.shipping
                .as_ref()
                .and_then(|s| non_empty(s.phone.as_deref()))
        });
    o.line_items = line_items;
    o.shipping_address = shipping_address;
    o.locale = locale(p.lang.as_deref(), &p.meta_data, m);
    o.total = total;
    o.cancelled = cancelled;
    o.tags = tags_from_meta(&p.meta_data, &m.tags_meta);
    o.created_at = p.date_created_gmt.as_deref().and_then(parse_gmt);
    o.updated_at = Some(updated_at);
    Ok(WooOrder {
        order: o,
        status,
        paid,
        completed_at: p.date_completed_gmt.as_deref().and_then(parse_gmt),
        tracking,
        trackship,
    })
}

/// Fills a Shipment Tracking URL template: `%1$s` the number, `%2$s` the postcode, `%3$s`
/// the country. `None` when a placeholder is left or it is not an http(s) URL.
fn fill_template(t: &str, number: &str, order: &Order) -> Option<String> {
    if !t.contains('%') {
        return (t.starts_with("https://") || t.starts_with("http://")).then(|| t.to_owned());
    }
    let addr = order.shipping_address.as_ref();
    let url = t
        .replace("%1$s", number)
        .replace(
            "%2$s",
            addr.and_then(|a| a.postal_code.as_deref())
                .unwrap_or_default(),
        )
        .replace(
            "%3$s",
            addr.and_then(|a| a.country_code.as_deref())
                .unwrap_or_default(),
        );
    (!url.contains("$s") && (url.starts_with("https://") || url.starts_with("http://")))
        .then_some(url)
}

impl WooOrder {
    /// The order's shipments (see the module docs), from `items` (the webhook's meta, or
    /// the extension's REST route).
    pub(crate) fn shipments_from(&self, items: &[TrackingItem], m: &Mapping) -> Vec<Shipment> {
        let o = &self.order;
        let base = match map_status(&self.status) {
            ShipmentStatus::Unknown(_) => ShipmentStatus::Confirmed,
            s => s,
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let Some(number) = non_empty(item.tracking_number.as_deref()) else {
                continue;
            };
            let id = non_empty(item.tracking_id.as_deref())
                .unwrap_or_else(|| format!("{}-{number}", o.id));
            let ts = self.trackship.get(i);
            let status = ts
                .and_then(|t| t.status.as_deref())
                .map(map_status)
                .filter(|s| !matches!(s, ShipmentStatus::Unknown(_)))
                .unwrap_or_else(|| base.clone());
            let mut s = Shipment::new(id, o.id.clone(), status);
            s.shop = o.shop.clone();
            s.carrier = non_empty(item.formatted_tracking_provider.as_deref())
                .or_else(|| non_empty(item.custom_tracking_provider.as_deref()))
                .or_else(|| non_empty(item.tracking_provider.as_deref()));
            let url = [
                item.tracking_link.as_deref(),
                item.formatted_tracking_link.as_deref(),
                item.custom_tracking_link.as_deref(),
            ]
            .into_iter()
            .flatten()
            .find_map(|t| fill_template(t.trim(), &number, o));
            s.tracking_urls = url.into_iter().collect();
            s.tracking_numbers = vec![number];
            s.estimated_delivery = ts
                .and_then(|t| t.est_delivery_date.as_deref())
                .and_then(parse_day_or_epoch);
            s.created_at = item.date_shipped.as_deref().and_then(parse_day_or_epoch);
            s.updated_at = o.updated_at;
            out.push(s);
        }
        if out.is_empty() && m.completed_ships && self.status == "completed" {
            let mut s = Shipment::new(
                format!("order-{}", o.id),
                o.id.clone(),
                ShipmentStatus::InTransit,
            );
            s.shop = o.shop.clone();
            s.created_at = self.completed_at.or(o.updated_at);
            s.updated_at = o.updated_at;
            out.push(s);
        }
        out
    }

    /// The events of an order delivered under `order.created` (`created`) or
    /// `order.updated` / `order.restored`.
    pub(crate) fn events(self, created: bool, m: &Mapping) -> Vec<PlatformEvent> {
        if !created && self.status == "cancelled" {
            return vec![PlatformEvent::OrderCancelled { order: self.order }];
        }
        let shipments = if self.order.cancelled {
            Vec::new()
        } else {
            self.shipments_from(&self.tracking, m)
        };
        let mut out = Vec::with_capacity(2 + shipments.len());
        let paid = self.paid.then(|| self.order.clone());
        out.push(if created {
            PlatformEvent::OrderCreated { order: self.order }
        } else {
            PlatformEvent::OrderUpdated { order: self.order }
        });
        if let Some(order) = paid {
            out.push(PlatformEvent::OrderPaid { order });
        }
        out.extend(
            shipments
                .into_iter()
                .map(|shipment| PlatformEvent::ShipmentUpdated { shipment }),
        );
        out
    }
}

/// Converts a customer, requiring what every customer has: `id`, `email`, and `role` or
/// `username`; an order's body (it has an `order_key`) is refused.
pub(crate) fn customer(
    what: &str,
    p: CustomerPayload<'_>,
    m: &Mapping,
) -> Result<Customer, aftercare::Error> {
    if p.order_key.is_some() {
        return Err(decode_err(
            what,
            "the body has an `order_key`: it is an order, not a customer",
        ));
    }
    let id = required(what, "id", p.id.as_deref())?.to_owned();
    if p.email.is_none() {
        return Err(decode_err(
            what,
            "the body has no `email`, which every customer has: not the payload its topic documents",
        ));
    }
    if p.role.is_none() && p.username.is_none() {
        return Err(decode_err(
            what,
            "the body has neither `role` nor `username`, which every customer has: not the payload its topic documents",
        ));
    }
    let mut c = Customer::new(id);
    c.first_name = non_empty(p.first_name.as_deref());
    c.last_name = non_empty(p.last_name.as_deref());
    c.email = non_empty(p.email.as_deref());
    c.phone = p
        .billing
        .as_ref()
        .and_then(|b| non_empty(b.phone.as_deref()));
    c.locale = locale(p.lang.as_deref(), &p.meta_data, m);
    for cm in &m.consent {
        let Some(v) = meta::<Value>(&p.meta_data, &cm.key) else {
            continue;
        };
        let state = consent_state(&v);
        if state != ConsentState::Unknown {
            let mut consent = Consent::new(cm.purpose, cm.channel, state);
            consent.source = Some(format!("woocommerce:{}", cm.key));
            c.consents.push(consent);
        }
    }
    c.updated_at = p.date_modified_gmt.as_deref().and_then(parse_gmt);
    Ok(c)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn languages_become_bcp47_tags() {
        for (raw, want) in [
            ("fr", Some("fr")),
            ("pt-br", Some("pt-BR")),
            ("zh-hans", Some("zh-Hans")),
            ("de_DE", Some("de-DE")),
            ("EN", Some("en")),
            ("", None),
            ("12", None),
            ("english", None),
            ("fr-", None),
        ] {
            assert_eq!(to_bcp47(raw).as_deref(), want, "{raw}");
        }
    }

    #[test]
    fn gmt_dates_without_offset_are_utc() {
        assert_eq!(
            parse_gmt("2017-03-22T19:28:08").unwrap().to_rfc3339(),
            "2017-03-22T19:28:08+00:00"
        );
        assert_eq!(
            parse_day_or_epoch("1489694400").unwrap().to_rfc3339(),
            "2017-03-16T20:00:00+00:00"
        );
        assert_eq!(
            parse_day_or_epoch("2026-07-10").unwrap().to_rfc3339(),
            "2026-07-10T00:00:00+00:00"
        );
        assert!(parse_gmt("yesterday").is_none());
        assert!(parse_gmt("2017-02-30T19:28:08").is_none());
        assert!(parse_gmt("2017-03-22T25:28:08").is_none());
        assert_eq!(
            parse_gmt("2017-03-22T19:28:08.5").unwrap().to_rfc3339(),
            "2017-03-22T19:28:08.500+00:00"
        );
        assert_eq!(
            parse_gmt("2017-03-22T19:28:08+03:00").unwrap().to_rfc3339(),
            "2017-03-22T16:28:08+00:00"
        );
    }

    #[test]
    fn consent_values() {
        for (v, want) in [
            (serde_json::json!("yes"), ConsentState::Granted),
            (serde_json::json!("1"), ConsentState::Granted),
            (serde_json::json!(true), ConsentState::Granted),
            (serde_json::json!("no"), ConsentState::Denied),
            (serde_json::json!(0), ConsentState::Denied),
            (serde_json::json!(""), ConsentState::Unknown),
            (serde_json::json!({"a": 1}), ConsentState::Unknown),
        ] {
            assert_eq!(consent_state(&v), want, "{v}");
        }
    }
}
