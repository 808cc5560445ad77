//! Discount codes as BigCommerce coupons: `POST /stores/{store_hash}/v2/coupons`
//! (`reference/marketing.v2.yml` of github.com/bigcommerce/docs, "Create a New Coupon").
//!
//! Facts, from that specification:
//! - required fields `name` (unique, at most 100 characters), `code` (unique, at most 50,
//!   letters, digits, white space, `_` and `-`), `type`, `amount` (a string: a percentage for
//!   `percentage_discount`, an amount for `per_total_discount`), `applies_to`
//!   (`{"entity": "categories", "ids": [0]}`: every category, as the spec's examples);
//! - `expires` in RFC 2822, `enabled`, `max_uses` (uses in total), `max_uses_per_customer`;
//! - the answer is `201` with the coupon (`id`, `code`, `num_uses`...);
//! - `GET /v2/coupons?code={code}` filters by code (`200` with a list; an empty list may be
//!   `204` or an empty body, as with every v2 list);
//! - "Legacy coupon codes only work with the store's default currency": a fixed amount is
//!   taken in the store's default currency.
//! - The OAuth scope is Marketing, modify (`store_v2_marketing`).
//!
//! A code in use: the spec documents no error body for it, so a refusal of the creation
//! (a `4xx` other than `401`/`403`/`404`/`429`) is checked by looking the code up; a coupon
//! with exactly that code is [`CodeCreated::AlreadyExists`] (a crash between BigCommerce's
//! answer and the ledger row), anything else is the refusal itself. One code, however
//! often it is tried: BigCommerce refuses a second coupon with the same `code`.

use aftercare::Error;
use aftercare::platform::discount::{CodeCreated, DiscountCodes, DiscountValue, NewDiscountCode};
use async_trait::async_trait;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::BigCommerceClient;
use crate::error::BigCommerceError;

#[derive(Deserialize)]
struct Coupon {
    id: Option<u64>,
    code: Option<String>,
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

/// The coupon's `name`: the title with the code (names are unique, as codes are), at most
/// 100 characters.
fn name(c: &NewDiscountCode) -> String {
    let full = format!("{} ({})", c.title, c.code);
    if full.chars().count() <= 100 {
        full
    } else {
        format!("Aftercare {}", c.code).chars().take(100).collect()
    }
}

/// The coupon's body; `None` for a kind of value this adapter does not know.
pub(crate) fn coupon_body(c: &NewDiscountCode) -> Option<Value> {
    let (kind, amount) = match &c.value {
        DiscountValue::Percent(p) => ("percentage_discount", (*p).min(100).to_string()),
        DiscountValue::Amount(m) => ("per_total_discount", decimal(m.minor_units, &m.currency)),
        _ => return None,
    };
    let mut body = json!({
        "name": name(c),
        "code": c.code,
        "type": kind,
        "amount": amount,
        "enabled": true,
        "applies_to": { "entity": "categories", "ids": [0] },
        "max_uses": 1,
        "max_uses_per_customer": 1,
    });
    if let Some(end) = c.ends_at {
        body["expires"] = json!(end.to_rfc2822());
    }
    Some(body)
}

impl BigCommerceClient {
    /// The coupon with exactly this code, if the store has one (`GET /v2/coupons?code=`).
    async fn coupon_by_code(&self, code: &str) -> Result<Option<u64>, BigCommerceError> {
        let found: Vec<Coupon> = self
            .get_list("v2/coupons", &[("code", code.to_owned())])
            .await?
            .unwrap_or_default();
        Ok(found
            .into_iter()
            .find(|c| c.code.as_deref() == Some(code))
            .map(|c| c.id.unwrap_or_default()))
    }
}

#[async_trait]
impl DiscountCodes for BigCommerceClient {
    async fn create_code(&self, c: &NewDiscountCode) -> Result<CodeCreated, Error> {
        let body = coupon_body(c).ok_or_else(|| {
            Error::Config(format!(
                "create the coupon {}: this kind of discount is not supported",
                c.code
            ))
        })?;
        match self.send::<Coupon>(Method::POST, "v2/coupons", &body).await {
            Ok(created) => Ok(CodeCreated::Created(
                created.id.map_or_else(String::new, |id| id.to_string()),
            )),
            Err(
                e @ BigCommerceError::Api {
                    status: Some(s),
                    retryable: false,
                    ..
                },
            ) if (400..500).contains(&s) && ![401, 403, 404].contains(&s) => {
                if self.coupon_by_code(&c.code).await?.is_some() {
                    tracing::debug!(code = %c.code, "BigCommerce has the coupon already");
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
    fn bodies_follow_the_spec() {
        let starts = "2026-12-07T08:00:00Z".parse().unwrap();
        let mut c = NewDiscountCode::new(
            "SORRY-7KQ2M9XW4P",
            DiscountValue::Percent(15),
            OrderId::from("250"),
            starts,
        );
        c.ends_at = Some("2027-02-05T08:00:00Z".parse().unwrap());
        let b = coupon_body(&c).unwrap();
        assert_eq!(b["type"], "percentage_discount");
        assert_eq!(b["amount"], "15");
        assert_eq!(b["expires"], "Fri, 5 Feb 2027 08:00:00 +0000");
        assert_eq!(
            b["name"],
            "Aftercare apology SORRY-7KQ2M9XW4P (SORRY-7KQ2M9XW4P)"
        );
        c.value = DiscountValue::Amount(Money::new(500, "EUR"));
        c.title = "x".repeat(120);
        let b = coupon_body(&c).unwrap();
        assert_eq!(
            (b["type"].as_str(), b["amount"].as_str()),
            (Some("per_total_discount"), Some("5.00"))
        );
        assert_eq!(b["name"], "Aftercare SORRY-7KQ2M9XW4P");
        assert_eq!(decimal(500, "JPY"), "500");
    }
}
