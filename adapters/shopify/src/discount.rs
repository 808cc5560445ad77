//! Discount codes through the Admin GraphQL `discountCodeBasicCreate` mutation
//! (<https://shopify.dev/docs/api/admin-graphql/latest/mutations/discountCodeBasicCreate>;
//! input `DiscountCodeBasicInput`,
//! <https://shopify.dev/docs/api/admin-graphql/2026-01/input-objects/DiscountCodeBasicInput>:
//! `code`, `title`, `startsAt`, `endsAt`, `usageLimit`, `appliesOncePerCustomer`, `context`
//! (which buyers: `customers.add` with customer ids, or `all: ALL`), `customerGets` (`value`
//! `percentage` as a fraction 0-1 or `discountAmount { amount appliesOnEachItem }`, `items
//! { all: true }`); payload `codeDiscountNode { id }` and `userErrors { field message code }`
//! with `DiscountErrorCode` values, of which `TAKEN` — "the input value is already taken" —
//! is what a code name in use gets). Needs the `write_discounts` scope.

use aftercare::Error;
use aftercare::platform::discount::{CodeCreated, DiscountCodes, DiscountValue, NewDiscountCode};
use async_trait::async_trait;
use chrono::SecondsFormat;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::ShopifyClient;
use crate::convert::{gid, null_default};
use crate::error::ShopifyError;

const CREATE: &str = r#"
mutation AftercareDiscountCreate($basicCodeDiscount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) {
    codeDiscountNode { id }
    userErrors { field message code }
  }
}"#;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateData {
    discount_code_basic_create: Option<Payload>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    code_discount_node: Option<Node>,
    #[serde(default, deserialize_with = "null_default")]
    user_errors: Vec<DiscountUserError>,
}

#[derive(Deserialize)]
struct Node {
    id: String,
}

#[derive(Deserialize)]
struct DiscountUserError {
    #[serde(default, deserialize_with = "null_default")]
    field: Vec<String>,
    message: String,
    #[serde(default)]
    code: Option<String>,
}

/// The `DiscountCodeBasicInput` for a code; `None` for a kind of value this adapter does
/// not know.
fn input(c: &NewDiscountCode) -> Option<Value> {
    let value = match &c.value {
        DiscountValue::Percent(p) => json!({ "percentage": f64::from((*p).min(100)) / 100.0 }),
        DiscountValue::Amount(m) => {
            let exp = aftercare::money::currency_exponent(&m.currency);
            let scale = 10i64.pow(exp);
            let whole = m.minor_units.div_euclid(scale);
            let frac = m.minor_units.rem_euclid(scale);
            let amount = if exp == 0 {
                whole.to_string()
            } else {
                format!("{whole}.{frac:0width$}", width = exp as usize)
            };
            json!({ "discountAmount": { "amount": amount, "appliesOnEachItem": false } })
        }
        _ => return None,
    };
    let context = match &c.customer_id {
        Some(id) => json!({ "customers": { "add": [gid("Customer", id.as_str())] } }),
        None => json!({ "all": "ALL" }),
    };
    Some(json!({
        "code": c.code,
        "title": c.title,
        "startsAt": c.starts_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "endsAt": c.ends_at.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
        "usageLimit": 1,
        "appliesOncePerCustomer": true,
        "context": context,
        "customerGets": { "value": value, "items": { "all": true } },
    }))
}

#[async_trait]
impl DiscountCodes for ShopifyClient {
    async fn create_code(&self, c: &NewDiscountCode) -> Result<CodeCreated, Error> {
        let op = format!("create discount code for order {}", c.order_id);
        let Some(input) = input(c) else {
            return Err(Error::Config(format!(
                "{op}: this kind of discount value is not supported by the Shopify adapter"
            )));
        };
        let data: CreateData = self
            .graphql(
                "discountCodeBasicCreate",
                CREATE,
                json!({ "basicCodeDiscount": input }),
            )
            .await?;
        let Some(p) = data.discount_code_basic_create else {
            return Err(ShopifyError::Api {
                operation: op,
                status: None,
                message: "no discountCodeBasicCreate payload".into(),
                retryable: false,
            }
            .into());
        };
        // The code's name in use: created by an earlier attempt whose answer was lost.
        if p.user_errors.iter().any(|e| {
            e.code.as_deref() == Some("TAKEN") && e.field.last().is_some_and(|f| f == "code")
        }) {
            return Ok(CodeCreated::AlreadyExists);
        }
        if !p.user_errors.is_empty() {
            return Err(ShopifyError::UserErrors {
                operation: op,
                messages: p
                    .user_errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field.join("."), e.message))
                    .collect(),
            }
            .into());
        }
        match p.code_discount_node {
            Some(n) => Ok(CodeCreated::Created(n.id)),
            None => Err(ShopifyError::Api {
                operation: op,
                status: None,
                message: "no codeDiscountNode and no userErrors".into(),
                retryable: false,
            }
            .into()),
        }
    }
}
