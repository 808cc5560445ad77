//! The sandbox shop as an ikas store: its webhooks as ikas sends them — the envelope
//! `{id, createdAt, scope, merchantId, authorizedAppId, data, signature}` with the entity as
//! a JSON string in `data` and `signature` the hex HMAC-SHA256 of that string with the app's
//! client secret (`@ikas/admin-api-client` `IkasWebhook`, `validateIkasWebhookSignature`).
//!
//! ikas sends no package (shipment) webhook and no carrier events: a fulfillment is a
//! `store/order/updated` whose order carries the package (`orderPackages` with
//! `trackingInfo`).

use aftercare::webhook::{Scheme, Secret, Verifier};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::shop::{SandboxShop, SimCustomer, SimFulfillment, SimOrder};
use crate::webhook::{Delivery, Topic};

/// Minor units as ikas's JSON numbers (`1249.9`), exactly: the decimal text parsed as a
/// JSON number.
fn amount(minor: i64, currency: &str) -> Value {
    let exp = aftercare::money::currency_exponent(currency);
    let div = 10i64.pow(exp);
    let text = if exp == 0 {
        minor.to_string()
    } else {
        format!(
            "{}.{:0w$}",
            minor / div,
            (minor % div).abs(),
            w = exp as usize
        )
    };
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// An ikas `Order` of a sandbox order, its packages from the fulfillments.
pub fn order(o: &SimOrder, c: Option<&SimCustomer>, fulfillments: &[SimFulfillment]) -> Value {
    let cur = o.currency.as_str();
    let packages: Vec<Value> = fulfillments
        .iter()
        .filter(|f| f.status == "success")
        .map(|f| {
            json!({
                "id": format!("pkg-{}", f.id),
                "orderPackageNumber": format!("{}-{}", o.order_number, f.index + 1),
                "orderPackageFulfillStatus": "FULFILLED",
                "orderLineItemIds": f.line_items.iter().map(|(id, _)| id.to_string()).collect::<Vec<_>>(),
                "trackingInfo": {
                    "trackingNumber": f.tracking_number,
                    "trackingLink": f.tracking_url,
                    "cargoCompany": f.tracking_company,
                    "cargoCompanyId": null,
                    "barcode": null,
                    "isSendNotification": false,
                },
            })
        })
        .collect();
    json!({
        "id": o.id.to_string(),
        "orderNumber": o.order_number.to_string(),
        "status": if o.cancelled_at.is_some() { "CANCELLED" } else { "CREATED" },
        "orderPaymentStatus": if o.financial_status == "paid" { "PAID" } else { "WAITING" },
        "currencyCode": cur,
        "totalFinalPrice": amount(o.total_minor(), cur),
        "orderedAt": o.created_at.timestamp_millis(),
        "createdAt": o.created_at.timestamp_millis(),
        "updatedAt": o.updated_at.timestamp_millis(),
        "customerId": o.customer_id.map(|id| id.to_string()),
        "customer": c.map(|c| json!({
            "id": c.id.to_string(), "firstName": c.first_name, "lastName": c.last_name,
            "email": c.email, "phone": c.phone, "preferredLanguage": c.locale,
        })),
        "shippingAddress": o.shipping_address.as_ref().map(|a| json!({
            "firstName": a.first_name, "lastName": a.last_name, "phone": a.phone,
            "addressLine1": a.address1, "addressLine2": a.address2, "postalCode": a.zip,
            "city": { "name": a.city }, "country": { "iso2": a.country_code },
        })),
        "orderLineItems": o.line_items.iter().map(|l| json!({
            "id": l.id.to_string(),
            "quantity": l.quantity,
            "price": amount(l.product.price_minor, cur),
            "variant": { "id": l.product.variant_id.to_string(), "productId": l.product.product_id.to_string(), "name": l.product.title, "sku": l.product.sku },
        })).collect::<Vec<_>>(),
        "orderPackages": packages,
    })
}

/// Signs and sends the sandbox's webhooks as an ikas store.
#[derive(Clone, Debug)]
pub struct IkasSender {
    signer: Verifier,
    merchant_id: String,
}

impl IkasSender {
    /// A sender for `merchant_id`, signing with the app's `client_secret`.
    pub fn new(client_secret: &str, merchant_id: impl Into<String>) -> Self {
        Self {
            signer: Verifier::new(
                Scheme::hmac_sha256_hex("signature"),
                Secret::from(client_secret),
            ),
            merchant_id: merchant_id.into(),
        }
    }

    /// The envelope of `data` under `scope`. `origin` is the sandbox topic it stands for.
    pub fn sign(&self, origin: Topic, scope: &str, data: &Value, at: DateTime<Utc>) -> Delivery {
        let text = data.to_string();
        let sig = self
            .signer
            .sign(text.as_bytes(), at)
            .get_str("signature")
            .unwrap_or_default()
            .to_owned();
        let id = format!("ikas-{}-{}", origin.as_str(), at.timestamp_millis());
        let body = json!({
            "id": id,
            "createdAt": at.timestamp_millis().to_string(),
            "scope": scope,
            "merchantId": self.merchant_id,
            "authorizedAppId": "sandbox-app",
            "data": text,
            "signature": sig,
        });
        Delivery {
            topic: origin,
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            body: body.to_string().into_bytes(),
            event_id: id.clone(),
            webhook_id: id,
            triggered_at: at,
        }
    }

    /// The ikas delivery standing for a sandbox delivery, with the records as they are now;
    /// `None` where ikas sends nothing (carrier events, privacy topics).
    pub fn translate(&self, shop: &SandboxShop, d: &Delivery) -> Option<Delivery> {
        let json = d.json();
        let at = d.triggered_at;
        let order_delivery = |order_id: u64, scope: &str| {
            let o = shop.order_record(order_id)?;
            let c = o.customer_id.and_then(|id| shop.customer_record(id));
            let fs = shop.fulfillments_of(order_id);
            Some(self.sign(d.topic, scope, &order(&o, c.as_ref(), &fs), at))
        };
        match d.topic {
            Topic::OrdersCreate => order_delivery(json["id"].as_u64()?, "store/order/created"),
            Topic::OrdersPaid
            | Topic::OrdersUpdated
            | Topic::OrdersFulfilled
            | Topic::OrdersCancelled => order_delivery(json["id"].as_u64()?, "store/order/updated"),
            Topic::FulfillmentsCreate | Topic::FulfillmentsUpdate => {
                order_delivery(json["order_id"].as_u64()?, "store/order/updated")
            }
            _ => None,
        }
    }
}
