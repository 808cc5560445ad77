//! Shopify-shaped JSON bodies for the sandbox's records.
//!
//! Field names follow Shopify's REST webhook bodies (`platforms.md` §3.5, from
//! shopify-app-js `rest/admin/2026-07/{order,fulfillment,fulfillment_event,customer}.ts`),
//! shaped like the recorded `orders/fulfilled` body in `shared/bench/shopify_order_fulfilled.json`:
//! ids are JSON integers (u64, some above 2^53), prices are decimal strings, times are
//! RFC 3339 in the shop's offset (`2024-05-02T10:14:03-04:00`), `tags` is one
//! comma-separated string. Line items carry no category: Shopify's do not (a decoder must
//! look the product up).

use aftercare::model::{ChannelKind, ConsentState, Purpose};
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::shop::{
    SandboxShop, SimAddress, SimCustomer, SimEvent, SimFulfillment, SimLineItem, SimOrder,
};

/// A time as Shopify writes it: RFC 3339, seconds, in the shop's offset.
pub fn time(t: DateTime<Utc>, offset: FixedOffset) -> String {
    t.with_timezone(&offset)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// Minor units as Shopify's decimal string (`2499` USD → `"24.99"`).
///
/// ```
/// use aftercare_sandbox::shopify::money;
/// assert_eq!(money(2499, "USD"), "24.99");
/// assert_eq!(money(-5, "SAR"), "-0.05");
/// assert_eq!(money(1500, "JPY"), "1500");
/// assert_eq!(money(12345, "KWD"), "12.345");
/// ```
pub fn money(minor: i64, currency: &str) -> String {
    let exp = match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" => 0,
        "KWD" | "BHD" | "OMR" | "JOD" | "TND" | "LYD" | "IQD" => 3,
        _ => 2,
    };
    if exp == 0 {
        return minor.to_string();
    }
    let div = 10i64.pow(exp);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let d = div.unsigned_abs();
    format!("{sign}{}.{:0w$}", abs / d, abs % d, w = exp as usize)
}

fn price_set(amount: &str, currency: &str) -> Value {
    json!({
        "shop_money": { "amount": amount, "currency_code": currency },
        "presentment_money": { "amount": amount, "currency_code": currency },
    })
}

fn tags(t: &[String]) -> String {
    t.join(", ")
}

fn marketing_state(c: &SimCustomer, channel: ChannelKind) -> &'static str {
    match c.consent(Purpose::Marketing, channel) {
        ConsentState::Granted => "subscribed",
        ConsentState::Denied => "unsubscribed",
        _ => "not_subscribed",
    }
}

/// A Shopify address object.
pub fn address(a: &SimAddress) -> Value {
    let name = format!("{} {}", a.first_name, a.last_name);
    json!({
        "first_name": a.first_name,
        "last_name": a.last_name,
        "name": name.trim(),
        "address1": a.address1,
        "address2": a.address2,
        "city": a.city,
        "province": a.province,
        "province_code": a.province_code,
        "zip": a.zip,
        "country": a.country,
        "country_code": a.country_code,
        "phone": a.phone,
        "company": null,
    })
}

/// A Shopify customer object (as nested in orders and sent on `customers/*`).
pub fn customer(shop: &SandboxShop, c: &SimCustomer) -> Value {
    let off = shop.utc_offset();
    let consent_at = time(c.updated_at, off);
    let mut default_address = address(&c.address);
    if let Some(obj) = default_address.as_object_mut() {
        obj.insert("customer_id".into(), json!(c.id));
        obj.insert("default".into(), json!(true));
    }
    json!({
        "id": c.id,
        "admin_graphql_api_id": format!("gid://shopify/Customer/{}", c.id),
        "email": c.email,
        "phone": c.phone,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "state": "enabled",
        "accepts_marketing": marketing_state(c, ChannelKind::Email) == "subscribed",
        "note": null,
        "verified_email": true,
        "multipass_identifier": null,
        "tax_exempt": false,
        "tags": tags(&c.tags),
        "currency": shop.currency(),
        "created_at": time(c.created_at, off),
        "updated_at": time(c.updated_at, off),
        "email_marketing_consent": {
            "state": marketing_state(c, ChannelKind::Email),
            "opt_in_level": "single_opt_in",
            "consent_updated_at": consent_at,
        },
        "sms_marketing_consent": c.phone.as_ref().map(|_| json!({
            "state": marketing_state(c, ChannelKind::Sms),
            "opt_in_level": "single_opt_in",
            "consent_updated_at": consent_at,
            "consent_collected_from": "OTHER",
        })),
        "default_address": default_address,
    })
}

fn line_item(l: &SimLineItem, currency: &str, fulfilled: bool) -> Value {
    let p = &l.product;
    let price = money(p.price_minor, currency);
    let name = match &p.variant_title {
        Some(v) => format!("{} - {v}", p.title),
        None => p.title.clone(),
    };
    json!({
        "id": l.id,
        "admin_graphql_api_id": format!("gid://shopify/LineItem/{}", l.id),
        "attributed_staffs": [],
        "current_quantity": l.quantity,
        "fulfillable_quantity": if fulfilled { 0 } else { l.quantity },
        "fulfillment_service": "manual",
        "fulfillment_status": if fulfilled { Value::from("fulfilled") } else { Value::Null },
        "gift_card": false,
        "grams": p.grams,
        "name": name,
        "price": price,
        "price_set": price_set(&price, currency),
        "product_exists": true,
        "product_id": p.product_id,
        "properties": [],
        "quantity": l.quantity,
        "requires_shipping": true,
        "sku": p.sku,
        "taxable": true,
        "title": p.title,
        "total_discount": "0.00",
        "variant_id": p.variant_id,
        "variant_inventory_management": "shopify",
        "variant_title": p.variant_title,
        "vendor": p.vendor,
        "tax_lines": [],
        "duties": [],
        "discount_allocations": [],
    })
}

/// A Shopify fulfillment object (`fulfillments/create`, `fulfillments/update`, and nested
/// in orders).
pub fn fulfillment(shop: &SandboxShop, o: &SimOrder, f: &SimFulfillment) -> Value {
    let off = shop.utc_offset();
    let lines: Vec<Value> = o
        .line_items
        .iter()
        .filter(|l| f.line_items.iter().any(|(id, _)| *id == l.id))
        .map(|l| line_item(l, &o.currency, true))
        .collect();
    json!({
        "id": f.id,
        "admin_graphql_api_id": format!("gid://shopify/Fulfillment/{}", f.id),
        "order_id": o.id,
        "name": format!("{}.{}", o.name(), f.index),
        "status": f.status,
        "service": "manual",
        "location_id": 487_838_322u64,
        "origin_address": {},
        "receipt": {},
        "notify_customer": false,
        "tracking_company": f.tracking_company,
        "tracking_number": f.tracking_number,
        "tracking_numbers": f.tracking_number.iter().collect::<Vec<_>>(),
        "tracking_url": f.tracking_url,
        "tracking_urls": f.tracking_url.iter().collect::<Vec<_>>(),
        "shipment_status": f.shipment_status.map(|m| m.shopify_status()),
        "created_at": time(f.created_at, off),
        "updated_at": time(f.updated_at, off),
        "line_items": lines,
    })
}

/// A Shopify fulfillment event object (`fulfillment_events/create`).
pub fn fulfillment_event(shop: &SandboxShop, f: &SimFulfillment, e: &SimEvent) -> Value {
    let off = shop.utc_offset();
    json!({
        "id": e.id,
        "admin_graphql_api_id": format!("gid://shopify/FulfillmentEvent/{}", e.id),
        "fulfillment_id": f.id,
        "order_id": f.order_id,
        "shop_id": shop.shop_id(),
        "status": e.milestone.shopify_status(),
        "message": e.message,
        "happened_at": time(e.happened_at, off),
        "estimated_delivery_at": e.estimated_delivery_at.map(|t| time(t, off)),
        "city": e.city,
        "province": e.province,
        "country": e.country,
        "zip": e.zip,
        "address1": null,
        "latitude": null,
        "longitude": null,
        "created_at": time(e.happened_at, off),
        "updated_at": time(e.happened_at, off),
    })
}

/// A Shopify order object (`orders/create`, `orders/paid`, `orders/fulfilled`...).
pub fn order(
    shop: &SandboxShop,
    o: &SimOrder,
    c: Option<&SimCustomer>,
    fulfillments: &[SimFulfillment],
) -> Value {
    let off = shop.utc_offset();
    let cur = o.currency.as_str();
    let total = money(o.total_minor(), cur);
    let shipped = |line: u64| {
        fulfillments
            .iter()
            .filter(|f| f.status == "success")
            .any(|f| f.line_items.iter().any(|(id, _)| *id == line))
    };
    let n_shipped = o.line_items.iter().filter(|l| shipped(l.id)).count();
    let fulfillment_status = if n_shipped == 0 {
        Value::Null
    } else if n_shipped == o.line_items.len() {
        "fulfilled".into()
    } else {
        "partial".into()
    };
    let note_attributes: Vec<Value> = Vec::new();
    json!({
        "id": o.id,
        "admin_graphql_api_id": format!("gid://shopify/Order/{}", o.id),
        "app_id": null,
        "name": o.name(),
        "number": o.order_number.saturating_sub(1000),
        "order_number": o.order_number,
        "confirmation_number": format!("SBX{:06}", o.order_number),
        "confirmed": true,
        "test": false,
        "email": o.email,
        "contact_email": o.email,
        "phone": o.phone,
        "customer_locale": o.locale,
        "buyer_accepts_marketing": o.buyer_accepts_marketing,
        "currency": cur,
        "presentment_currency": cur,
        "financial_status": o.financial_status,
        "fulfillment_status": fulfillment_status,
        "cancel_reason": o.cancelled_at.map(|_| "customer"),
        "cancelled_at": o.cancelled_at.map(|t| time(t, off)),
        "closed_at": null,
        "note": o.note,
        "note_attributes": note_attributes,
        "tags": tags(&o.tags),
        "source_name": "web",
        "subtotal_price": total,
        "current_subtotal_price": total,
        "total_line_items_price": total,
        "total_price": total,
        "current_total_price": total,
        "total_price_set": price_set(&total, cur),
        "total_discounts": "0.00",
        "total_tax": "0.00",
        "total_outstanding": if o.financial_status == "paid" { "0.00".to_owned() } else { total.clone() },
        "taxes_included": true,
        "created_at": time(o.created_at, off),
        "processed_at": time(o.created_at, off),
        "updated_at": time(o.updated_at, off),
        "customer": c.map(|c| customer(shop, c)),
        "billing_address": o.shipping_address.as_ref().map(address),
        "shipping_address": o.shipping_address.as_ref().map(address),
        "line_items": o.line_items.iter().map(|l| line_item(l, cur, shipped(l.id))).collect::<Vec<_>>(),
        "fulfillments": fulfillments.iter().map(|f| fulfillment(shop, o, f)).collect::<Vec<_>>(),
        "shipping_lines": [],
        "discount_codes": [],
        "refunds": [],
    })
}

/// The `customers/redact` body: `{shop_id, shop_domain, customer: {id, email, phone},
/// orders_to_redact}`.
pub fn customers_redact(shop: &SandboxShop, c: &SimCustomer, orders: &[u64]) -> Value {
    json!({
        "shop_id": shop.shop_id(),
        "shop_domain": shop.domain(),
        "customer": { "id": c.id, "email": c.email, "phone": c.phone },
        "orders_to_redact": orders,
    })
}

/// The `customers/data_request` body.
pub fn customers_data_request(
    shop: &SandboxShop,
    c: &SimCustomer,
    orders: &[u64],
    request_id: u64,
) -> Value {
    json!({
        "shop_id": shop.shop_id(),
        "shop_domain": shop.domain(),
        "orders_requested": orders,
        "customer": { "id": c.id, "email": c.email, "phone": c.phone },
        "data_request": { "id": request_id },
    })
}

/// The `app/uninstalled` body: the Shop resource (trimmed as in the webhook reference's
/// example payload, <https://shopify.dev/docs/api/webhooks?reference=toml#list-of-topics-app/uninstalled>).
pub fn app_uninstalled(shop: &SandboxShop) -> Value {
    json!({
        "id": shop.shop_id(),
        "name": shop.domain().split('.').next().unwrap_or_default(),
        "domain": shop.domain(),
        "myshopify_domain": shop.domain(),
        "currency": shop.currency(),
        "primary_locale": "en",
    })
}

/// The `shop/redact` body.
pub fn shop_redact(shop: &SandboxShop) -> Value {
    json!({ "shop_id": shop.shop_id(), "shop_domain": shop.domain() })
}
