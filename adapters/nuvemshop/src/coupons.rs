//! Discount codes as Nuvemshop / Tiendanube coupons (`DiscountCodes for NuvemshopClient`).
//!
//! Facts (Tiendanube API docs, `resources/coupon.md` in TiendaNube/api-docs and
//! tiendanube.github.io/api-documentation/resources/coupon, "Coupons"):
//! - `POST /{store_id}/coupons` creates a coupon: `code` is required, "must be unique and
//!   can contain only alfanumeric characters"; `type` is `percentage`, `absolute` or
//!   `shipping`; `value` ("30.00") is mandatory for `percentage` and `absolute`; optional
//!   `max_uses`, `min_price`, `categories`, `start_date` and `end_date` (`YYYY-MM-DD`; the
//!   current docs add `end_time`, default 23:59). The answer is `201 Created` with the
//!   coupon (`id`, `code`, `type`, `value`, `valid`, `used`, `max_uses`, ...).
//! - `GET /{store_id}/coupons?q={code}` lists the coupons filtered by code (current docs,
//!   "Filtering Properties": `q`, "The coupon's code to filter"), a JSON array.
//!
//! The docs name no error for a code in use, so a refused creation (a `4xx` other than
//! 401/402/403/404/429) is checked by looking the code up: a coupon with exactly that code
//! is [`CodeCreated::AlreadyExists`], anything else is the refusal itself. A code with a
//! character other than an ASCII letter or digit is refused before any request (the
//! recovery flow makes such codes with `DiscountOffer::joined`). A code without an end
//! gets one a year after its start (the recovery flow always gives one).

use aftercare::Error;
use aftercare::platform::discount::{CodeCreated, DiscountCodes, DiscountValue, NewDiscountCode};
use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};

use crate::NuvemshopClient;
use crate::client::{decode_json, error_text};
use crate::error::NuvemshopError;

/// `minor` units of a currency with `exp` decimals as the docs' decimal string (`"30.00"`).
fn decimal(minor: i64, exp: u32) -> String {
    if exp == 0 {
        return minor.to_string();
    }
    let scale = 10i64.pow(exp);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let scale = scale.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = exp as usize
    )
}

/// Whether Nuvemshop takes `code` ("can contain only alfanumeric characters").
pub(crate) fn code_ok(code: &str) -> bool {
    !code.is_empty() && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The coupon's body; `None` for a kind of value this adapter does not know.
pub(crate) fn coupon_body(c: &NewDiscountCode) -> Option<Value> {
    let (kind, value) = match &c.value {
        DiscountValue::Percent(p) => ("percentage", format!("{}.00", (*p).min(100))),
        DiscountValue::Amount(m) => (
            "absolute",
            decimal(
                m.minor_units,
                aftercare::money::currency_exponent(&m.currency),
            ),
        ),
        _ => return None,
    };
    let end = c
        .ends_at
        .unwrap_or_else(|| c.starts_at + chrono::Duration::days(365));
    Some(json!({
        "code": c.code,
        "type": kind,
        "value": value,
        "max_uses": 1,
        "start_date": c.starts_at.format("%Y-%m-%d").to_string(),
        "end_date": end.format("%Y-%m-%d").to_string(),
    }))
}

impl NuvemshopClient {
    /// Whether the store has a coupon with exactly this code (`GET /coupons?q=`).
    async fn has_coupon(&self, code: &str) -> Result<bool, NuvemshopError> {
        let r = self
            .call(Method::GET, "coupons", &[("q", code.to_owned())], None)
            .await?;
        if r.status == 404 {
            return Ok(false);
        }
        let items: Vec<Value> = decode_json(&r.body, "GET /coupons")?;
        Ok(items.iter().any(|i| {
            i.get("code")
                .and_then(Value::as_str)
                .is_some_and(|c| c.eq_ignore_ascii_case(code))
        }))
    }
}

#[async_trait]
impl DiscountCodes for NuvemshopClient {
    async fn create_code(&self, c: &NewDiscountCode) -> Result<CodeCreated, Error> {
        let op = format!("create the coupon {}", c.code);
        if !code_ok(&c.code) {
            return Err(Error::Config(format!(
                "{op}: Nuvemshop codes are letters and digits only"
            )));
        }
        let body = coupon_body(c).ok_or_else(|| {
            Error::Config(format!("{op}: this kind of discount is not supported"))
        })?;
        match self.call(Method::POST, "coupons", &[], Some(&body)).await {
            Ok(r) if r.status == 404 => Err(Error::Platform {
                operation: op,
                status: Some(404),
                message: error_text(&r.body),
                retryable: false,
            }),
            Ok(r) => {
                let answer: Value = decode_json(&r.body, "POST /coupons")?;
                Ok(CodeCreated::Created(
                    answer
                        .get("id")
                        .map(|id| id.as_str().map_or_else(|| id.to_string(), str::to_owned))
                        .unwrap_or_default(),
                ))
            }
            Err(
                e @ NuvemshopError::Api {
                    status: Some(s),
                    retryable: false,
                    ..
                },
            ) if (400..500).contains(&s) && ![401, 402, 403, 404, 429].contains(&s) => {
                if self.has_coupon(&c.code).await? {
                    Ok(CodeCreated::AlreadyExists)
                } else {
                    Err(e.into())
                }
            }
            Err(e) => Err(e.into()),
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
            "SORRY7KQ2M9XW4P",
            DiscountValue::Amount(Money::new(2550, "BRL")),
            OrderId::from("1"),
            starts,
        );
        let b = coupon_body(&c).unwrap();
        assert_eq!(
            (b["type"].as_str(), b["value"].as_str()),
            (Some("absolute"), Some("25.50"))
        );
        assert_eq!(b["max_uses"], 1);
        assert_eq!(b["end_date"], "2027-12-07", "a year without an end");
        c.value = DiscountValue::Amount(Money::new(500, "CLP"));
        assert_eq!(coupon_body(&c).unwrap()["value"], "500");
        c.value = DiscountValue::Percent(15);
        c.ends_at = Some("2027-02-05T08:00:00Z".parse().unwrap());
        let b = coupon_body(&c).unwrap();
        assert_eq!(
            (b["type"].as_str(), b["value"].as_str()),
            (Some("percentage"), Some("15.00"))
        );
        assert_eq!(
            (b["start_date"].as_str(), b["end_date"].as_str()),
            (Some("2026-12-07"), Some("2027-02-05"))
        );
    }

    #[test]
    fn only_letters_and_digits_make_a_code() {
        assert!(code_ok("SORRY7KQ2M9XW4P"));
        assert!(!code_ok("SORRY-7KQ2M9XW4P"));
        assert!(!code_ok(""));
        assert!(!code_ok("SORRYÉ"));
    }

    #[test]
    fn decimals_by_exponent() {
        assert_eq!(decimal(5, 2), "0.05");
        assert_eq!(decimal(123_456, 3), "123.456");
        assert_eq!(decimal(-150, 2), "-1.50");
    }
}
