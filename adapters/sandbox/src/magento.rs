//! The sandbox shop as an Adobe Commerce store: its records as the observer data Adobe
//! Commerce webhooks carry (`{"eventName": "observer.…", "data": {"<object>": {…}}}`,
//! developer.adobe.com/commerce/extensibility/webhooks/), signed as Commerce signs them:
//! `x-adobe-commerce-webhook-signature`, the base64 RSA-SHA256 signature of the base64 of
//! the body with the store's private key (AdobeDocs/commerce-extensibility
//! `webhooks/signature-verification.md`), so a Magento adapter can be run with no store.
//!
//! Observer data comes from the database, so numbers are text (`"entity_id": "42"`,
//! `"grand_total": "36.3900"`) and times `YYYY-MM-DD HH:MM:SS` in UTC. Magento reports no
//! carrier events: a fulfillment becomes a shipment track.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{EncodePublicKey as _, LineEnding};
use rsa::signature::{SignatureEncoding as _, Signer as _};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::shop::{SandboxShop, SimCustomer, SimFulfillment, SimOrder};
use crate::webhook::{Delivery, Topic};

/// A time as Magento stores it.
fn magento_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// An amount as a `decimal(20,4)` column reads back.
fn amount(minor: i64, currency: &str) -> String {
    let exp: u32 = match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" => 0,
        "KWD" | "BHD" | "OMR" | "JOD" | "TND" | "LYD" | "IQD" => 3,
        _ => 2,
    };
    let scale = 10i64.pow(exp);
    let frac = (minor.rem_euclid(scale)) * 10i64.pow(4 - exp);
    format!("{}.{frac:04}", minor.div_euclid(scale))
}

/// The Magento state of a sandbox order.
pub fn state(o: &SimOrder, fulfillments: &[SimFulfillment]) -> &'static str {
    if o.cancelled_at.is_some() {
        "canceled"
    } else if fulfillments.iter().any(|f| f.status == "success") {
        "complete"
    } else if o.financial_status == "paid" {
        "processing"
    } else {
        "new"
    }
}

/// An order as observer data.
pub fn order(o: &SimOrder, fulfillments: &[SimFulfillment]) -> Value {
    let cur = o.currency.as_str();
    let total = amount(o.total_minor(), cur);
    let st = state(o, fulfillments);
    let paid = o.financial_status == "paid";
    json!({
        "entity_id": o.id.to_string(),
        "increment_id": format!("{:09}", o.order_number),
        "state": st,
        "status": if st == "new" { "pending" } else { st },
        "store_id": "1",
        "customer_id": o.customer_id.map(|c| c.to_string()),
        "customer_is_guest": if o.customer_id.is_some() { "0" } else { "1" },
        "customer_email": o.email,
        "order_currency_code": cur,
        "base_currency_code": cur,
        "grand_total": total,
        "base_grand_total": total,
        "total_paid": paid.then(|| total.clone()),
        "created_at": magento_time(o.created_at),
        "updated_at": magento_time(o.updated_at),
        "items": o.line_items.iter().map(|l| json!({
            "item_id": l.id.to_string(),
            "product_id": l.product.product_id.to_string(),
            "sku": l.product.sku,
            "name": l.product.title,
            "qty_ordered": format!("{}.0000", l.quantity),
            "price": amount(l.product.price_minor, cur),
        })).collect::<Vec<_>>(),
    })
}

/// A fulfillment as a shipment track (the shipment's id is the fulfillment's).
pub fn track(f: &SimFulfillment) -> Value {
    let company = f.tracking_company.clone().unwrap_or_default();
    let code = match company.to_ascii_lowercase().as_str() {
        "ups" => "ups",
        "usps" => "usps",
        "fedex" => "fedex",
        "dhl" => "dhl",
        _ => "custom",
    };
    json!({
        "entity_id": f.id.to_string(),
        "parent_id": f.id.to_string(),
        "order_id": f.order_id.to_string(),
        "track_number": f.tracking_number,
        "carrier_code": code,
        "title": company,
        "description": null,
        "qty": null,
        "weight": null,
        "created_at": magento_time(f.created_at),
        "updated_at": magento_time(f.updated_at),
    })
}

/// A customer as observer data.
pub fn customer(c: &SimCustomer) -> Value {
    json!({
        "entity_id": c.id.to_string(),
        "website_id": "1",
        "store_id": "1",
        "email": c.email,
        "firstname": c.first_name,
        "lastname": c.last_name,
        "created_at": magento_time(c.created_at),
        "updated_at": magento_time(c.updated_at),
    })
}

/// Signs and sends the sandbox's webhooks as an Adobe Commerce store
/// ([`MagentoSender::translate`]), with a key pair generated as the Admin's *Regenerate key
/// pair* does; configure the receiver with [`MagentoSender::public_pem`].
#[derive(Clone)]
pub struct MagentoSender {
    key: SigningKey<Sha256>,
    public_pem: String,
}

impl std::fmt::Debug for MagentoSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MagentoSender(..)")
    }
}

impl MagentoSender {
    /// A sender with a new key pair of `bits` bits (Commerce uses 2048).
    pub fn generate(bits: usize) -> Result<Self, rsa::Error> {
        let key = RsaPrivateKey::new(&mut rand::thread_rng(), bits)?;
        let public_pem = key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| rsa::Error::Pkcs8(rsa::pkcs8::Error::PublicKey(e)))?;
        Ok(Self {
            key: SigningKey::new(key),
            public_pem,
        })
    }

    /// The public key as the Commerce Admin shows it.
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// Signs `body` as Commerce calls a webhook. `origin` is the sandbox topic it stands for.
    pub fn sign(&self, origin: Topic, body: Vec<u8>, at: DateTime<Utc>) -> Delivery {
        let signature = B64.encode(self.key.sign(B64.encode(&body).as_bytes()).to_bytes());
        Delivery {
            topic: origin,
            headers: vec![
                ("Content-Type".to_owned(), "application/json".to_owned()),
                ("x-adobe-commerce-webhook-signature".to_owned(), signature),
            ],
            body,
            event_id: String::new(),
            webhook_id: String::new(),
            triggered_at: at,
        }
    }

    /// The Commerce webhook standing for a sandbox delivery, with the records as they are
    /// now; `None` where Commerce sends nothing (carrier events, privacy topics).
    pub fn translate(&self, shop: &SandboxShop, d: &Delivery) -> Option<Delivery> {
        let json = d.json();
        let at = d.triggered_at;
        let hook = |event: &str, key: &str, obj: Value| {
            let body =
                serde_json::to_vec(&json!({ "eventName": event, "data": { key: obj } })).ok()?;
            Some(self.sign(d.topic, body, at))
        };
        let order_hook = |id: u64, event: &str| {
            let o = shop.order_record(id)?;
            hook(event, "order", order(&o, &shop.fulfillments_of(id)))
        };
        match d.topic {
            Topic::OrdersCreate => {
                order_hook(json["id"].as_u64()?, "observer.sales_order_place_after")
            }
            Topic::OrdersPaid
            | Topic::OrdersUpdated
            | Topic::OrdersFulfilled
            | Topic::OrdersCancelled => {
                order_hook(json["id"].as_u64()?, "observer.sales_order_save_after")
            }
            Topic::FulfillmentsCreate | Topic::FulfillmentsUpdate => {
                let order_id = json["order_id"].as_u64()?;
                let id = json["id"].as_u64()?;
                let f = shop
                    .fulfillments_of(order_id)
                    .into_iter()
                    .find(|f| f.id == id)?;
                f.tracking_number.as_ref()?;
                hook(
                    "observer.sales_order_shipment_track_save_after",
                    "track",
                    track(&f),
                )
            }
            Topic::CustomersUpdate => {
                let c = shop.customer_record(json["id"].as_u64()?)?;
                hook("observer.customer_save_after", "customer", customer(&c))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_back_as_decimal_columns() {
        assert_eq!(amount(3639, "USD"), "36.3900");
        assert_eq!(amount(4500, "JPY"), "4500.0000");
        assert_eq!(amount(12345, "KWD"), "12.3450");
    }
}
