//! Discount codes as Salla coupons (`DiscountCodes for SallaApi`).
//!
//! Facts (Salla Merchant API docs, docs.salla.dev, "Coupons"):
//! - "Create Coupon", `POST https://api.salla.dev/admin/v2/coupons`, scope
//!   `marketing.read_write`: a single coupon requires `code`, `type` (`percentage` or
//!   `fixed`), `amount` (a number), `free_shipping`, `expiry_date` (`YYYY-MM-DD` or
//!   `YYYY-MM-DD HH:MM:SS`) and `exclude_sale_products`; optional `start_date`, `status`,
//!   `usage_limit`, `usage_limit_per_user`, `applied_in` (`all`). The answer is
//!   `{"status": 201, "success": true, "data": {coupon}}` with the coupon's `id`.
//! - "List Coupons", `GET /admin/v2/coupons?keyword=`, scope `marketing.read`:
//!   `{"status": 200, "success": true, "data": [{coupon}...]}`.
//! - Salla's errors are `{"status", "success": false, "error": {"code", "message",
//!   "fields"}}`, validation failures with `422`.
//!
//! Salla requires an expiry: a code without an end gets one a year after its start. A
//! code in use: the docs name no error for it, so a refused creation (`4xx`) is checked by
//! looking the code up (`keyword`); a coupon with exactly that code is
//! [`CodeCreated::AlreadyExists`], anything else is the refusal itself.

use aftercare::Error;
use aftercare::platform::discount::{CodeCreated, DiscountCodes, DiscountValue, NewDiscountCode};
use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};

use crate::api::SallaApi;

/// The coupon's body; `None` for a kind of value this adapter does not know.
pub(crate) fn coupon_body(c: &NewDiscountCode) -> Option<Value> {
    let (kind, amount) = match &c.value {
        DiscountValue::Percent(p) => ("percentage", f64::from((*p).min(100))),
        DiscountValue::Amount(m) => {
            let exp = aftercare::money::currency_exponent(&m.currency);
            #[allow(clippy::cast_precision_loss)]
            let v = m.minor_units as f64 / 10f64.powi(exp as i32);
            ("fixed", v)
        }
        _ => return None,
    };
    let end = c
        .ends_at
        .unwrap_or_else(|| c.starts_at + chrono::Duration::days(365));
    Some(json!({
        "code": c.code,
        "type": kind,
        "amount": amount,
        "free_shipping": false,
        "exclude_sale_products": false,
        "status": "active",
        "start_date": c.starts_at.format("%Y-%m-%d").to_string(),
        "expiry_date": end.format("%Y-%m-%d %H:%M:%S").to_string(),
        "usage_limit": 1,
        "usage_limit_per_user": 1,
        "applied_in": "all",
    }))
}

impl SallaApi {
    /// Whether the store has a coupon with exactly this code.
    async fn has_coupon(&self, code: &str) -> Result<bool, Error> {
        let url = self
            .client()
            .url("coupons", &[("keyword", code.to_owned())])?;
        let found = self
            .client()
            .send(Method::GET, url, None, "look a coupon up by code")
            .await?;
        Ok(found
            .as_ref()
            .and_then(|v| v.get("data"))
            .and_then(Value::as_array)
            .is_some_and(|items| {
                items
                    .iter()
                    .any(|i| i.get("code").and_then(Value::as_str) == Some(code))
            }))
    }
}

#[async_trait]
impl DiscountCodes for SallaApi {
    async fn create_code(&self, c: &NewDiscountCode) -> Result<CodeCreated, Error> {
        let op = format!("create the coupon {}", c.code);
        let body = coupon_body(c).ok_or_else(|| {
            Error::Config(format!("{op}: this kind of discount is not supported"))
        })?;
        let url = self.client().url("coupons", &[])?;
        match self
            .client()
            .send(Method::POST, url, Some(&body), &op)
            .await
        {
            Ok(Some(answer)) => Ok(CodeCreated::Created(
                answer
                    .pointer("/data/id")
                    .map(|id| id.as_str().map_or_else(|| id.to_string(), str::to_owned))
                    .unwrap_or_default(),
            )),
            Ok(None) => Err(Error::Platform {
                operation: op,
                status: Some(404),
                message: "no coupons endpoint".into(),
                retryable: false,
            }),
            Err(
                e @ Error::Platform {
                    status: Some(s),
                    retryable: false,
                    ..
                },
            ) if (400..500).contains(&s) && ![401, 403].contains(&s) => {
                if self.has_coupon(&c.code).await? {
                    Ok(CodeCreated::AlreadyExists)
                } else {
                    Err(e)
                }
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use aftercare::model::{Money, OrderId};

    #[test]
    fn bodies_follow_the_docs() {
        let starts = "2026-12-07T08:00:00Z".parse().unwrap();
        let mut c = NewDiscountCode::new(
            "SORRY-7KQ2M9XW4P",
            DiscountValue::Amount(Money::new(2500, "SAR")),
            OrderId::from("1"),
            starts,
        );
        let b = coupon_body(&c).unwrap();
        assert_eq!(
            (b["type"].as_str(), b["amount"].as_f64()),
            (Some("fixed"), Some(25.0))
        );
        assert_eq!(
            b["expiry_date"], "2027-12-07 08:00:00",
            "a year without an end"
        );
        c.value = DiscountValue::Percent(15);
        c.ends_at = Some("2027-02-05T08:00:00Z".parse().unwrap());
        let b = coupon_body(&c).unwrap();
        assert_eq!(b["type"], "percentage");
        assert_eq!(b["expiry_date"], "2027-02-05 08:00:00");
    }
}
