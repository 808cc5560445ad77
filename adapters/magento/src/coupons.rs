//! Discount codes as Magento cart price rules with one specific coupon
//! ([`MagentoDiscounts`]).
//!
//! Facts (Adobe Commerce REST reference, `salesRuleRuleRepositoryV1` and
//! `salesRuleCouponRepositoryV1`; `Magento/SalesRule` in github.com/magento/magento2):
//! - `POST /V1/salesRules` with `{"rule": {...}}`: `name`, `website_ids`,
//!   `customer_group_ids`, `from_date`/`to_date` (`Y-m-d`), `uses_per_customer`,
//!   `uses_per_coupon`, `is_active`, `simple_action` (`by_percent`, `cart_fixed`),
//!   `discount_amount`, `coupon_type` (`SPECIFIC_COUPON`), `use_auto_generation`; the answer
//!   is the rule with its `rule_id`.
//! - `POST /V1/coupons` with `{"coupon": {"rule_id", "code", "is_primary", "type": 0}}`
//!   (`0` manual): `CouponRepository::save` copies the rule's `to_date`, `uses_per_coupon`
//!   and `uses_per_customer` onto the coupon (its expiry and limits); the answer is the
//!   coupon with its `coupon_id`.
//! - The coupon resource model declares `code` unique (`addUniqueField`, "Coupon with the
//!   same code"): a second coupon with the code is refused with `400` and
//!   `{"message": "Coupon with the same code already exists."}`.
//! - `GET /V1/coupons/search` and `GET /V1/salesRules/search` take `searchCriteria`
//!   filters and answer `{"items": [...], "total_count": n}`.
//! - The integration needs the *Marketing → Cart Price Rules* resource
//!   (`Magento_SalesRule::quote`).
//!
//! Once per code, across crashes: the coupon is looked up by code first (there:
//! [`CodeCreated::AlreadyExists`]); the rule is looked up by its name (`Aftercare {code}`),
//! so a crash between the rule and the coupon reuses that rule rather than leaving a
//! second one; a refused coupon whose code then exists is `AlreadyExists` too.

use aftercare::Error;
use aftercare::platform::discount::{CodeCreated, DiscountCodes, DiscountValue, NewDiscountCode};
use async_trait::async_trait;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::MagentoClient;
use crate::error::MagentoError;

/// Discount codes through a Magento store's cart price rules (the endpoints and their
/// sources are in this crate's README). Website `1` and the four default customer groups
/// (`0` NOT LOGGED IN, `1` General, `2` Wholesale, `3` Retailer) unless set.
#[derive(Clone, Debug)]
pub struct MagentoDiscounts {
    client: MagentoClient,
    website_ids: Vec<u32>,
    customer_group_ids: Vec<u32>,
}

impl MagentoDiscounts {
    /// Codes through `client`.
    pub fn new(client: MagentoClient) -> Self {
        Self {
            client,
            website_ids: vec![1],
            customer_group_ids: vec![0, 1, 2, 3],
        }
    }
    /// The websites the codes work on.
    pub fn website_ids(mut self, ids: Vec<u32>) -> Self {
        self.website_ids = ids;
        self
    }
    /// The customer groups the codes work for.
    pub fn customer_group_ids(mut self, ids: Vec<u32>) -> Self {
        self.customer_group_ids = ids;
        self
    }

    /// The rule's body; `None` for a kind of value this adapter does not know.
    pub(crate) fn rule_body(&self, c: &NewDiscountCode) -> Option<Value> {
        let (action, amount) = match &c.value {
            DiscountValue::Percent(p) => ("by_percent", f64::from((*p).min(100))),
            DiscountValue::Amount(m) => {
                let exp = aftercare::money::currency_exponent(&m.currency);
                #[allow(clippy::cast_precision_loss)]
                let v = m.minor_units as f64 / 10f64.powi(exp as i32);
                ("cart_fixed", v)
            }
            _ => return None,
        };
        let mut rule = json!({
            "name": rule_name(&c.code),
            "description": c.title,
            "website_ids": self.website_ids,
            "customer_group_ids": self.customer_group_ids,
            "from_date": c.starts_at.format("%Y-%m-%d").to_string(),
            "uses_per_customer": 1,
            "uses_per_coupon": 1,
            "is_active": true,
            "stop_rules_processing": false,
            "is_advanced": true,
            "simple_action": action,
            "discount_amount": amount,
            "discount_qty": 0,
            "discount_step": 0,
            "apply_to_shipping": false,
            "is_rss": false,
            "coupon_type": "SPECIFIC_COUPON",
            "use_auto_generation": false,
        });
        if let Some(end) = c.ends_at {
            rule["to_date"] = json!(end.format("%Y-%m-%d").to_string());
        }
        Some(json!({ "rule": rule }))
    }

    /// The first item's id of a `searchCriteria` search on `field = value`.
    async fn search(
        &self,
        path: &str,
        field: &str,
        value: &str,
        id: &str,
    ) -> Result<Option<u64>, MagentoError> {
        let mut url = self.client.api_url(path)?;
        let p = "searchCriteria[filter_groups][0][filters][0]";
        url.query_pairs_mut()
            .append_pair(&format!("{p}[field]"), field)
            .append_pair(&format!("{p}[value]"), value)
            .append_pair(&format!("{p}[condition_type]"), "eq");
        let op = format!("look up {field} {value}");
        let Some(r) = self.client.fetch(Method::GET, url, None, &op).await? else {
            return Ok(None);
        };
        let found: Search =
            serde_json::from_slice(&r.body).map_err(|e| MagentoError::decode(&op, e))?;
        Ok(found
            .items
            .iter()
            .find(|i| i.get(field).and_then(Value::as_str) == Some(value))
            .and_then(|i| i.get(id).and_then(Value::as_u64)))
    }
}

/// The rule's name for a code (unique per code: how a retry finds it).
fn rule_name(code: &str) -> String {
    format!("Aftercare {code}")
}

#[derive(Deserialize)]
struct Search {
    #[serde(default)]
    items: Vec<Value>,
}

#[async_trait]
impl DiscountCodes for MagentoDiscounts {
    async fn create_code(&self, c: &NewDiscountCode) -> Result<CodeCreated, Error> {
        let body = self.rule_body(c).ok_or_else(|| {
            Error::Config(format!(
                "create the coupon {}: this kind of discount is not supported",
                c.code
            ))
        })?;
        if self
            .search("coupons/search", "code", &c.code, "coupon_id")
            .await?
            .is_some()
        {
            return Ok(CodeCreated::AlreadyExists);
        }
        let name = rule_name(&c.code);
        let rule_id = match self
            .search("salesRules/search", "name", &name, "rule_id")
            .await?
        {
            Some(id) => id,
            None => {
                let op = format!("create the cart price rule {name}");
                let url = self.client.api_url("salesRules")?;
                let r = self
                    .client
                    .fetch(Method::POST, url, Some(&body), &op)
                    .await?
                    .ok_or_else(|| MagentoError::Api {
                        operation: op.clone(),
                        status: Some(404),
                        message: "no salesRules endpoint".into(),
                        retryable: false,
                    })?;
                let v: Value =
                    serde_json::from_slice(&r.body).map_err(|e| MagentoError::decode(&op, e))?;
                v.get("rule_id")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| MagentoError::decode(&op, "no rule_id in the answer"))?
            }
        };
        let op = format!("create the coupon {}", c.code);
        let url = self.client.api_url("coupons")?;
        let coupon = json!({ "coupon": {
            "rule_id": rule_id,
            "code": c.code,
            "is_primary": true,
            "type": 0,
        }});
        let r = self
            .client
            .send(Method::POST, url, Some(&coupon), &op)
            .await?;
        match r.status {
            200..=299 => {
                let v: Value =
                    serde_json::from_slice(&r.body).map_err(|e| MagentoError::decode(&op, e))?;
                Ok(CodeCreated::Created(
                    v.get("coupon_id")
                        .and_then(Value::as_u64)
                        .map_or_else(String::new, |id| id.to_string()),
                ))
            }
            400 if self
                .search("coupons/search", "code", &c.code, "coupon_id")
                .await?
                .is_some() =>
            {
                Ok(CodeCreated::AlreadyExists)
            }
            s => Err(MagentoError::Api {
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
    use aftercare::model::{Money, OrderId};

    #[test]
    fn a_fixed_amount_is_cart_fixed_in_units_of_the_currency() {
        let client = MagentoClient::new(
            crate::MagentoConfig::new("https://shop.example/", crate::Auth::Bearer("t".into()))
                .unwrap(),
        )
        .unwrap();
        let d = MagentoDiscounts::new(client).website_ids(vec![2]);
        let starts = "2026-12-07T08:00:00Z".parse().unwrap();
        let c = NewDiscountCode::new(
            "SORRY-X",
            DiscountValue::Amount(Money::new(1500, "KWD")),
            OrderId::from("1"),
            starts,
        );
        let b = d.rule_body(&c).unwrap();
        assert_eq!(b["rule"]["simple_action"], "cart_fixed");
        assert_eq!(b["rule"]["discount_amount"], 1.5);
        assert_eq!(b["rule"]["website_ids"], json!([2]));
        assert!(
            b["rule"].get("to_date").is_none(),
            "no expiry without an end"
        );
    }
}
