//! Discount codes as WooCommerce coupons: `POST /wp-json/wc/v3/coupons` (REST API docs,
//! "Create a coupon", <https://woocommerce.github.io/woocommerce-rest-api-docs/#create-a-coupon>:
//! `code` (required), `discount_type` `percent` | `fixed_cart` | `fixed_product`, `amount`
//! as a decimal string, `description`, `date_expires_gmt`, `individual_use`,
//! `usage_limit`, `usage_limit_per_user`; `201 Created` with the coupon and its `id`). A
//! code in use is refused with `400` and `{"code": "woocommerce_rest_coupon_code_already_exists",
//! "message": "The coupon code already exists", "data": {"status": 400}}` (WooCommerce's
//! coupons controller), which is [`CodeCreated::AlreadyExists`]. The consumer key needs
//! write access.

use aftercare::Error;
use aftercare::platform::discount::{CodeCreated, DiscountCodes, DiscountValue, NewDiscountCode};
use async_trait::async_trait;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::WooClient;
use crate::error::WooError;

/// WooCommerce's answer to a code in use.
pub const CODE_EXISTS: &str = "woocommerce_rest_coupon_code_already_exists";

#[derive(Deserialize)]
struct Created {
    id: Option<u64>,
}

/// A decimal string of `minor` units with the currency's exponent (`1250`, EUR → `12.50`).
fn decimal(minor: i64, currency: &str) -> String {
    let exp = aftercare::money::currency_exponent(currency);
    let scale = 10i64.pow(exp);
    let (whole, frac) = (minor.div_euclid(scale), minor.rem_euclid(scale));
    if exp == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:0width$}", width = exp as usize)
    }
}

/// The coupon's body; `None` for a kind of value this adapter does not know.
pub(crate) fn coupon_body(c: &NewDiscountCode) -> Option<Value> {
    let (kind, amount) = match &c.value {
        DiscountValue::Percent(p) => ("percent", (*p).min(100).to_string()),
        DiscountValue::Amount(m) => ("fixed_cart", decimal(m.minor_units, &m.currency)),
        _ => return None,
    };
    let mut body = json!({
        "code": c.code,
        "discount_type": kind,
        "amount": amount,
        "description": c.title,
        "individual_use": true,
        "usage_limit": 1,
        "usage_limit_per_user": 1,
    });
    if let Some(end) = c.ends_at {
        body["date_expires_gmt"] = json!(end.format("%Y-%m-%dT%H:%M:%S").to_string());
    }
    Some(body)
}

#[async_trait]
impl DiscountCodes for WooClient {
    async fn create_code(&self, c: &NewDiscountCode) -> Result<CodeCreated, Error> {
        let op = format!("create the coupon {}", c.code);
        let body = coupon_body(c).ok_or_else(|| {
            Error::Config(format!("{op}: this kind of discount is not supported"))
        })?;
        let r = self
            .send(Method::POST, self.api_url("coupons")?, Some(&body), &op)
            .await?;
        match r.status {
            200..=299 => {
                let created: Created = serde_json::from_slice(&r.body)
                    .map_err(|e| WooError::decode("created coupon", e))?;
                Ok(CodeCreated::Created(
                    created.id.map_or_else(String::new, |id| id.to_string()),
                ))
            }
            400 if r.error_code().as_deref() == Some(CODE_EXISTS) => Ok(CodeCreated::AlreadyExists),
            s => Err(WooError::Api {
                operation: op,
                status: Some(s),
                message: r.error_text(),
                retryable: false,
            }
            .into()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn amounts_follow_the_currency_exponent() {
        assert_eq!(decimal(1250, "EUR"), "12.50");
        assert_eq!(decimal(5, "EUR"), "0.05");
        assert_eq!(decimal(500, "JPY"), "500");
        assert_eq!(decimal(1500, "KWD"), "1.500");
    }
}
