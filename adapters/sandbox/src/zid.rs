//! The sandbox shop as a Zid store: its orders in Zid's Order schema (docs.zid.sa
//! "Webhooks → Order"), delivered with the HTTP Basic credentials the webhook was created
//! with — Zid signs nothing.
//!
//! Zid reports shipping through the order's status (`new`, `preparing`, `indelivery`,
//! `delivered`, `cancelled`) with the tracking number and URL on
//! `shipping.method.tracking`; times are UTC (`2025-10-13 07:53:13`), totals decimal text.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::scenario::Milestone;
use crate::shop::{SandboxShop, SimCustomer, SimFulfillment, SimOrder};
use crate::shopify::money;
use crate::webhook::{Delivery, Topic};

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// The Zid status of a sandbox order.
pub fn status(o: &SimOrder, fulfillments: &[SimFulfillment]) -> &'static str {
    let shipped: Vec<&SimFulfillment> = fulfillments
        .iter()
        .filter(|f| f.status == "success")
        .collect();
    if o.cancelled_at.is_some() {
        "cancelled"
    } else if !shipped.is_empty()
        && shipped
            .iter()
            .all(|f| f.shipment_status == Some(Milestone::Delivered))
    {
        "delivered"
    } else if !shipped.is_empty() {
        "indelivery"
    } else if o.financial_status == "paid" {
        "preparing"
    } else {
        "new"
    }
}

/// A Zid order.
pub fn order(
    store: u64,
    o: &SimOrder,
    c: Option<&SimCustomer>,
    fulfillments: &[SimFulfillment],
) -> Value {
    let cur = o.currency.as_str();
    let st = status(o, fulfillments);
    let tracked = fulfillments
        .iter()
        .rev()
        .find(|f| f.tracking_number.is_some());
    json!({
        "id": o.id,
        "code": format!("SBX{}", o.order_number),
        "store_id": store,
        "order_status": {"name": st, "code": st},
        "currency_code": cur,
        "order_total": money(o.total_minor(), cur),
        "payment_status": if o.financial_status == "paid" { "paid" } else { "unpaid" },
        "language": o.locale.split('-').next().unwrap_or("ar"),
        "customer": c.map(|c| json!({
            "id": c.id.to_string(),
            "name": format!("{} {}", c.first_name, c.last_name),
            "email": c.email,
            "mobile": c.phone,
        })),
        "products": o.line_items.iter().map(|l| json!({
            "id": l.product.product_id.to_string(), "name": l.product.title,
            "sku": l.product.sku, "quantity": l.quantity,
        })).collect::<Vec<_>>(),
        "shipping": {"method": {
            "name": tracked.and_then(|f| f.tracking_company.clone()),
            "tracking": tracked.map(|f| json!({"number": f.tracking_number, "url": f.tracking_url})),
        }},
        "created_at": utc(o.created_at),
        "updated_at": utc(o.updated_at),
    })
}

/// Sends the sandbox's webhooks as a Zid store, with the webhook's Basic credentials.
#[derive(Clone)]
pub struct ZidSender {
    authorization: String,
    store: u64,
}

impl std::fmt::Debug for ZidSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZidSender")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl ZidSender {
    /// A sender for the store `store` whose webhooks were created with `username` and
    /// `password`.
    pub fn new(store: u64, username: &str, password: &str) -> Self {
        Self {
            authorization: format!("Basic {}", B64.encode(format!("{username}:{password}"))),
            store,
        }
    }

    /// The Zid delivery standing for a sandbox delivery: every order change is the order
    /// itself; `None` for what Zid sends no webhook for.
    pub fn translate(&self, shop: &SandboxShop, d: &Delivery) -> Option<Delivery> {
        let json = d.json();
        let id = match d.topic {
            Topic::OrdersCreate
            | Topic::OrdersPaid
            | Topic::OrdersUpdated
            | Topic::OrdersFulfilled
            | Topic::OrdersCancelled => json["id"].as_u64()?,
            Topic::FulfillmentsCreate | Topic::FulfillmentsUpdate => json["order_id"].as_u64()?,
            _ => return None,
        };
        let o = shop.order_record(id)?;
        let c = o.customer_id.and_then(|id| shop.customer_record(id));
        let body = serde_json::to_vec(&order(
            self.store,
            &o,
            c.as_ref(),
            &shop.fulfillments_of(id),
        ))
        .ok()?;
        let key = aftercare::webhook::body_hash_key(&body);
        Some(Delivery {
            topic: d.topic,
            headers: vec![
                ("Content-Type".to_owned(), "application/json".to_owned()),
                ("Authorization".to_owned(), self.authorization.clone()),
            ],
            body,
            event_id: key.clone(),
            webhook_id: key,
            triggered_at: d.triggered_at,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// RFC 7617 §2's example credentials.
    #[test]
    fn sends_basic_credentials_as_rfc_7617() {
        let s = ZidSender::new(1, "Aladdin", "open sesame");
        assert_eq!(s.authorization, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert!(!format!("{s:?}").contains("QWxh"));
    }
}
