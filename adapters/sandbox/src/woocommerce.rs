//! The sandbox shop as a WooCommerce store: its records as `wc/v3` JSON and its webhooks
//! as WooCommerce delivers them, so a WooCommerce adapter can be run with no store.
//!
//! Shapes follow the WooCommerce REST API docs (woocommerce-rest-api-docs
//! `source/includes/wp-api-v3/_orders.md`, `_customers.md`): ids are integers, `number` a
//! string, money decimal strings, times `YYYY-MM-DDTHH:MM:SS` without an offset (`*_gmt` in
//! UTC, the others in the site's time), addresses under `billing`/`shipping`. Tracking is
//! the Shipment Tracking extension's order meta `_wc_shipment_tracking_items` (woocommerce.com
//! Shipment Tracking docs). Deliveries carry WooCommerce's headers (`class-wc-webhook.php`
//! `deliver()`): `X-WC-Webhook-Source`, `-Topic`, `-Resource`, `-Event`, `-Signature`
//! (base64 HMAC-SHA256 of the body with the webhook's secret), `-ID`, `-Delivery-ID`.
//!
//! WooCommerce reports no carrier events: a fulfillment becomes tracking meta on an
//! `order.updated`, and `fulfillment_events/create` has no WooCommerce counterpart.

use aftercare::webhook::{Scheme, Secret, Verifier};
use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{Value, json};

use crate::shop::{SandboxShop, SimAddress, SimCustomer, SimFulfillment, SimOrder};
use crate::shopify::money;
use crate::webhook::{Delivery, Topic};

/// A time as WooCommerce writes it: no offset.
fn wc_time(t: DateTime<Utc>, offset: FixedOffset) -> String {
    t.with_timezone(&offset)
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

fn gmt(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// The WooCommerce order status of a sandbox order.
pub fn status(o: &SimOrder, fulfillments: &[SimFulfillment]) -> &'static str {
    if o.cancelled_at.is_some() {
        "cancelled"
    } else if fulfillments.iter().any(|f| f.status == "success") {
        "completed"
    } else if o.financial_status == "paid" {
        "processing"
    } else {
        "pending"
    }
}

fn address(a: &SimAddress, email: Option<&str>) -> Value {
    let mut v = json!({
        "first_name": a.first_name,
        "last_name": a.last_name,
        "company": "",
        "address_1": a.address1,
        "address_2": a.address2.clone().unwrap_or_default(),
        "city": a.city,
        "state": a.province_code.clone().unwrap_or_default(),
        "postcode": a.zip.clone().unwrap_or_default(),
        "country": a.country_code,
        "phone": a.phone.clone().unwrap_or_default(),
    });
    if let (Some(e), Some(obj)) = (email, v.as_object_mut()) {
        obj.insert("email".into(), e.into());
    }
    v
}

/// The Shipment Tracking extension's item for a fulfillment.
fn tracking_item(f: &SimFulfillment) -> Value {
    let provider = f.tracking_company.clone().unwrap_or_default();
    json!({
        "tracking_id": format!("{:x}", f.id),
        "tracking_provider": provider.to_ascii_lowercase().replace(' ', "-"),
        "custom_tracking_provider": "",
        "custom_tracking_link": f.tracking_url.clone().unwrap_or_default(),
        "tracking_number": f.tracking_number.clone().unwrap_or_default(),
        "date_shipped": f.created_at.timestamp().to_string(),
    })
}

/// A `wc/v3` order.
pub fn order(
    shop: &SandboxShop,
    o: &SimOrder,
    c: Option<&SimCustomer>,
    fulfillments: &[SimFulfillment],
) -> Value {
    let off = shop.utc_offset();
    let cur = o.currency.as_str();
    let total = money(o.total_minor(), cur);
    let st = status(o, fulfillments);
    let paid = o.financial_status == "paid";
    let mut meta = vec![
        json!({ "id": 1, "key": "wpml_language", "value": o.locale.split('-').next().unwrap_or("en") }),
    ];
    let shipped: Vec<Value> = fulfillments
        .iter()
        .filter(|f| f.tracking_number.is_some())
        .map(tracking_item)
        .collect();
    if !shipped.is_empty() {
        meta.push(json!({ "id": 2, "key": "_wc_shipment_tracking_items", "value": shipped }));
    }
    let completed = fulfillments
        .iter()
        .filter(|f| f.status == "success")
        .map(|f| f.created_at)
        .max();
    json!({
        "id": o.id,
        "parent_id": 0,
        "number": o.order_number.to_string(),
        "order_key": format!("wc_order_{:x}", o.id),
        "created_via": "checkout",
        "version": "9.4.0",
        "status": st,
        "currency": cur,
        "date_created": wc_time(o.created_at, off),
        "date_created_gmt": gmt(o.created_at),
        "date_modified": wc_time(o.updated_at, off),
        "date_modified_gmt": gmt(o.updated_at),
        "discount_total": money(0, cur),
        "shipping_total": money(0, cur),
        "total": total,
        "total_tax": money(0, cur),
        "prices_include_tax": true,
        "customer_id": o.customer_id.unwrap_or(0),
        "customer_note": o.note.clone().unwrap_or_default(),
        "billing": o.shipping_address.as_ref().map_or_else(|| json!({"email": o.email}), |a| address(a, o.email.as_deref())),
        "shipping": o.shipping_address.as_ref().map_or(Value::Null, |a| address(a, None)),
        "payment_method": "bacs",
        "payment_method_title": "Direct bank transfer",
        "date_paid": paid.then(|| wc_time(o.updated_at, off)),
        "date_paid_gmt": paid.then(|| gmt(o.updated_at)),
        "date_completed": completed.map(|t| wc_time(t, off)),
        "date_completed_gmt": completed.map(gmt),
        "meta_data": meta,
        "line_items": o.line_items.iter().map(|l| json!({
            "id": l.id,
            "name": l.product.title,
            "product_id": l.product.product_id,
            "variation_id": l.product.variant_id,
            "quantity": l.quantity,
            "subtotal": money(l.product.price_minor * i64::from(l.quantity), cur),
            "total": money(l.product.price_minor * i64::from(l.quantity), cur),
            "sku": l.product.sku,
            "meta_data": [],
        })).collect::<Vec<_>>(),
        "shipping_lines": [],
        "refunds": [],
        "customer": c.map(|c| c.id),
    })
}

/// A `wc/v3` customer.
pub fn customer(shop: &SandboxShop, c: &SimCustomer) -> Value {
    let off = shop.utc_offset();
    json!({
        "id": c.id,
        "date_created": wc_time(c.created_at, off),
        "date_created_gmt": gmt(c.created_at),
        "date_modified": wc_time(c.updated_at, off),
        "date_modified_gmt": gmt(c.updated_at),
        "email": c.email,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "role": "customer",
        "username": c.email.clone().unwrap_or_default(),
        "billing": address(&c.address, c.email.as_deref()),
        "shipping": address(&c.address, None),
        "is_paying_customer": true,
        "meta_data": [{ "id": 1, "key": "locale", "value": c.locale }],
    })
}

/// Signs and sends the sandbox's webhooks as a WooCommerce store: `order.*` and
/// `customer.*` deliveries with WooCommerce's headers, from the Shopify-shaped deliveries
/// the sandbox's story produces ([`WooSender::translate`]).
#[derive(Clone, Debug)]
pub struct WooSender {
    signer: Verifier,
    site: String,
    webhook_id: u64,
}

impl WooSender {
    /// A sender for the store at `site` (`https://shop.example/`, sent as
    /// `X-WC-Webhook-Source`), signing with the webhook's `secret`.
    pub fn new(secret: Secret, site: impl Into<String>) -> Self {
        Self {
            signer: Verifier::new(Scheme::hmac_sha256_base64("X-WC-Webhook-Signature"), secret),
            site: site.into(),
            webhook_id: 31,
        }
    }

    /// Signs `body` as the webhook `topic` (`order.updated`) with every header WooCommerce
    /// sends. `origin` is the sandbox topic it stands for.
    pub fn sign(&self, origin: Topic, topic: &str, body: Vec<u8>, at: DateTime<Utc>) -> Delivery {
        let signed = self.signer.sign(&body, at);
        let (resource, event) = topic.split_once('.').unwrap_or((topic, ""));
        // `wp_hash(webhook_id . strtotime('now'))`: one-second granularity, like WooCommerce.
        let delivery_id = format!(
            "{:032x}",
            u128::from(self.webhook_id) << 64 | u128::from(at.timestamp().unsigned_abs())
        );
        let mut headers = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            (
                "User-Agent".to_owned(),
                "WooCommerce/9.4.0 Hookshot (WordPress/6.7)".to_owned(),
            ),
            ("X-WC-Webhook-Source".to_owned(), self.site.clone()),
            ("X-WC-Webhook-Topic".to_owned(), topic.to_owned()),
            ("X-WC-Webhook-Resource".to_owned(), resource.to_owned()),
            ("X-WC-Webhook-Event".to_owned(), event.to_owned()),
        ];
        headers.extend(
            signed
                .iter()
                .map(|(n, v)| (n.to_owned(), String::from_utf8_lossy(v).into_owned())),
        );
        headers.extend([
            ("X-WC-Webhook-ID".to_owned(), self.webhook_id.to_string()),
            ("X-WC-Webhook-Delivery-ID".to_owned(), delivery_id.clone()),
        ]);
        Delivery {
            topic: origin,
            headers,
            body,
            event_id: delivery_id,
            webhook_id: self.webhook_id.to_string(),
            triggered_at: at,
        }
    }

    /// The WooCommerce delivery standing for a sandbox delivery, with the records as they
    /// are now; `None` where WooCommerce sends nothing (carrier events, privacy topics: a
    /// WordPress plugin gets no app-uninstall or redaction webhooks).
    pub fn translate(&self, shop: &SandboxShop, d: &Delivery) -> Option<Delivery> {
        let json = d.json();
        let at = d.triggered_at;
        let order_delivery = |order_id: u64, topic: &str| {
            let o = shop.order_record(order_id)?;
            let c = o.customer_id.and_then(|id| shop.customer_record(id));
            let fs = shop.fulfillments_of(order_id);
            let body = serde_json::to_vec(&order(shop, &o, c.as_ref(), &fs)).ok()?;
            Some(self.sign(d.topic, topic, body, at))
        };
        match d.topic {
            Topic::OrdersCreate => order_delivery(json["id"].as_u64()?, "order.created"),
            Topic::OrdersPaid
            | Topic::OrdersUpdated
            | Topic::OrdersFulfilled
            | Topic::OrdersCancelled => order_delivery(json["id"].as_u64()?, "order.updated"),
            Topic::FulfillmentsCreate | Topic::FulfillmentsUpdate => {
                order_delivery(json["order_id"].as_u64()?, "order.updated")
            }
            Topic::CustomersUpdate => {
                let c = shop.customer_record(json["id"].as_u64()?)?;
                let body = serde_json::to_vec(&customer(shop, &c)).ok()?;
                Some(self.sign(d.topic, "customer.updated", body, at))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// WooCommerce's own vector (woocommerce `tests/legacy/unit-tests/webhooks/crud.php`,
    /// `test_generate_signature`): an empty secret over the body `secret`.
    #[test]
    fn signs_as_woocommerce() {
        let s = WooSender::new(Secret::from(""), "https://shop.example/");
        let d = s.sign(
            Topic::OrdersCreate,
            "order.created",
            b"secret".to_vec(),
            Utc::now(),
        );
        assert_eq!(
            d.header("X-WC-Webhook-Signature"),
            Some("GBDo00G55h6IiV+6CxqivQPLbI//KzaOZm747971tPs=")
        );
        assert_eq!(d.header("X-WC-Webhook-Resource"), Some("order"));
        assert_eq!(d.header("X-WC-Webhook-Event"), Some("created"));
        assert_eq!(
            d.header("X-WC-Webhook-Source"),
            Some("https://shop.example/")
        );
    }
}
