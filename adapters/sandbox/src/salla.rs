//! The sandbox shop as a Salla store: its orders and customers in Salla's webhook envelope
//! (`{"event", "merchant", "created_at", "data"}`, docs.salla.dev "Webhooks"), signed as
//! Salla's `Signature` strategy signs (`X-Salla-Signature`: hex HMAC-SHA256 of the body
//! with the webhook secret; `X-Salla-Security-Strategy: Signature`).
//!
//! Salla's order webhooks are full: the order with its customer, items and `shipments[]`
//! (courier, tracking number and link, status `shipped`/`delivering`/`delivered`), so no
//! API is needed to decode them. Times are written in Riyadh time without an offset, as
//! Salla writes them. Carrier events have no separate Salla webhook: a change of a
//! fulfillment is an `order.updated`.

use aftercare::webhook::{Scheme, Secret, Verifier};
use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{Value, json};

use crate::scenario::Milestone;
use crate::shop::{SandboxShop, SimCustomer, SimFulfillment, SimOrder};
use crate::shopify::money;
use crate::webhook::{Delivery, Topic};

fn riyadh(t: DateTime<Utc>) -> String {
    let off = FixedOffset::east_opt(3 * 3600).unwrap_or_else(|| unreachable!("a valid offset"));
    t.with_timezone(&off)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn shipment_status(f: &SimFulfillment) -> &'static str {
    match f.shipment_status {
        _ if f.status == "cancelled" => "cancelled",
        Some(Milestone::Delivered) => "delivered",
        Some(Milestone::OutForDelivery) => "delivering",
        _ => "shipped",
    }
}

fn customer_json(c: &SimCustomer) -> Value {
    let (code, mobile) = split_phone(c.phone.as_deref());
    json!({
        "id": c.id,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "mobile": mobile,
        "mobile_code": code,
        "email": c.email,
        "city": c.address.city,
        "country": c.address.country_code,
        "lang": c.locale.split('-').next().unwrap_or("ar"),
        "updated_at": riyadh(c.updated_at),
    })
}

/// `+966501234567` → (`+966`, `501234567`); other numbers as they are, without a code.
fn split_phone(phone: Option<&str>) -> (Value, Value) {
    match phone {
        Some(p) if p.starts_with("+966") => (json!("+966"), json!(&p[4..])),
        Some(p) => (Value::Null, json!(p)),
        None => (Value::Null, Value::Null),
    }
}

/// The `data` of a Salla order event.
pub fn order(o: &SimOrder, c: Option<&SimCustomer>, fulfillments: &[SimFulfillment]) -> Value {
    let cur = o.currency.as_str();
    let slug = if o.cancelled_at.is_some() {
        "canceled"
    } else if fulfillments.iter().any(|f| f.status == "success") {
        "shipped"
    } else if o.financial_status == "paid" {
        "in_progress"
    } else {
        "under_review"
    };
    let mut customer = c.map(customer_json).unwrap_or(Value::Null);
    if customer.is_null() {
        customer =
            json!({"id": 0, "email": o.email, "lang": o.locale.split('-').next().unwrap_or("ar")});
    }
    json!({
        "id": o.id,
        "reference_id": o.order_number,
        "status": {"id": 1, "name": slug, "slug": slug},
        "currency": cur,
        "amounts": {"total": {"amount": money(o.total_minor(), cur), "currency": cur}},
        "date": {"date": format!("{}.000000", riyadh(o.created_at)), "timezone_type": 3, "timezone": "Asia/Riyadh"},
        "updated_at": riyadh(o.updated_at),
        "customer": customer,
        "items": o.line_items.iter().map(|l| json!({
            "id": l.id, "name": l.product.title, "sku": l.product.sku,
            "quantity": l.quantity, "product": {"id": l.product.product_id},
        })).collect::<Vec<_>>(),
        "shipments": fulfillments.iter().filter(|f| f.tracking_number.is_some()).map(|f| json!({
            "id": f.id,
            "courier_name": f.tracking_company,
            "tracking_number": f.tracking_number,
            "tracking_link": f.tracking_url,
            "status": shipment_status(f),
            "updated_at": riyadh(f.events.last().map_or(f.created_at, |e| e.happened_at)),
        })).collect::<Vec<_>>(),
        "tags": o.tags,
    })
}

/// Signs and sends the sandbox's webhooks as a Salla store.
#[derive(Clone, Debug)]
pub struct SallaSender {
    signer: Verifier,
    merchant: u64,
}

impl SallaSender {
    /// A sender for the store `merchant`, signing with the webhook `secret`.
    pub fn new(secret: Secret, merchant: u64) -> Self {
        Self {
            signer: Verifier::new(Scheme::hmac_sha256_hex("X-Salla-Signature"), secret),
            merchant,
        }
    }

    /// The envelope of `event` with `data`, signed. `origin` is the sandbox topic it stands
    /// for.
    pub fn sign(
        &self,
        origin: Topic,
        event: &str,
        data: Value,
        at: DateTime<Utc>,
    ) -> Option<Delivery> {
        let body = serde_json::to_vec(&json!({
            "event": event, "merchant": self.merchant, "created_at": riyadh(at), "data": data,
        }))
        .ok()?;
        let mut headers = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            (
                "X-Salla-Security-Strategy".to_owned(),
                "Signature".to_owned(),
            ),
        ];
        headers.extend(
            self.signer
                .sign(&body, at)
                .iter()
                .map(|(n, v)| (n.to_owned(), String::from_utf8_lossy(v).into_owned())),
        );
        let id = aftercare::webhook::body_hash_key(&body);
        Some(Delivery {
            topic: origin,
            headers,
            body,
            event_id: id.clone(),
            webhook_id: id,
            triggered_at: at,
        })
    }

    /// The Salla delivery standing for a sandbox delivery; `None` where Salla sends nothing
    /// (carrier events, privacy topics).
    pub fn translate(&self, shop: &SandboxShop, d: &Delivery) -> Option<Delivery> {
        let json = d.json();
        let at = d.triggered_at;
        let order_event = |id: u64, event: &str| {
            let o = shop.order_record(id)?;
            let c = o.customer_id.and_then(|id| shop.customer_record(id));
            let fs = shop.fulfillments_of(id);
            self.sign(d.topic, event, order(&o, c.as_ref(), &fs), at)
        };
        match d.topic {
            Topic::OrdersCreate => order_event(json["id"].as_u64()?, "order.created"),
            Topic::OrdersCancelled => order_event(json["id"].as_u64()?, "order.cancelled"),
            Topic::OrdersPaid | Topic::OrdersUpdated | Topic::OrdersFulfilled => {
                order_event(json["id"].as_u64()?, "order.updated")
            }
            Topic::FulfillmentsCreate | Topic::FulfillmentsUpdate => {
                order_event(json["order_id"].as_u64()?, "order.updated")
            }
            Topic::CustomersUpdate => {
                let c = shop.customer_record(json["id"].as_u64()?)?;
                self.sign(d.topic, "customer.updated", customer_json(&c), at)
            }
            Topic::AppUninstalled => self.sign(d.topic, "app.uninstalled", json!({}), at),
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Salla's primitive is the plain hex HMAC-SHA256 of the body; facts V4
    /// (shopware/app-php-sdk `RequestVerifierTest::testAuthenticatePostValid`) checks it.
    #[test]
    fn signs_as_salla() {
        let signer = Verifier::new(
            Scheme::hmac_sha256_hex("X-Salla-Signature"),
            Secret::from("secret"),
        );
        let h = signer.sign(b"body", Utc::now());
        assert_eq!(
            h.get_str("X-Salla-Signature"),
            Some("dc46983557fea127b43af721467eb9b3fde2338fe3e14f51952aa8478c13d355")
        );
        let s = SallaSender::new(Secret::from("s"), 1234509876);
        let d = s
            .sign(
                Topic::AppUninstalled,
                "app.uninstalled",
                json!({}),
                Utc::now(),
            )
            .unwrap();
        assert_eq!(d.json()["merchant"], 1234509876u64);
        assert_eq!(d.header("X-Salla-Security-Strategy"), Some("Signature"));
    }
}
