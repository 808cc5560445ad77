//! Discount codes a platform can create: the capability the service-recovery flow
//! ([`flows::recovery`](crate::flows::recovery)) uses to offer an apology code.
//!
//! A code is created **under a name Aftercare chooses** (derived from the shop and order,
//! see [`recovery_code`]), so creating it twice — after a crash between the platform's
//! answer and the ledger row — is answered by the platform's "code already exists", which
//! [`DiscountCodes::create_code`] reports as [`CodeCreated::AlreadyExists`]: one code,
//! however often it is tried.
//!
//! Platforms: Shopify's Admin GraphQL `discountCodeBasicCreate` (`aftercare-shopify`);
//! WooCommerce coupons, `POST /wp-json/wc/v3/coupons` (`aftercare-woocommerce`);
//! BigCommerce v2 coupons, `POST /v2/coupons` (`aftercare-bigcommerce`); Magento cart price
//! rules with one coupon, `POST /V1/salesRules` and `POST /V1/coupons`
//! (`aftercare-magento`'s `MagentoDiscounts`); Salla coupons, `POST /admin/v2/coupons`
//! (`aftercare-salla`); the sandbox shop. Where a platform documents no error for a code
//! in use, its adapter looks the code up after a refusal. Zid (a multipart
//! `coupons/add`), Nuvemshop and ikas are not implemented.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

use crate::Error;
use crate::model::{CustomerId, Money, OrderId, ShopId};

/// What a code takes off.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DiscountValue {
    /// A percentage of the order (1-100).
    Percent(u8),
    /// A fixed amount.
    Amount(Money),
}

/// A single-use discount code to create.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewDiscountCode {
    /// The shop.
    pub shop: Option<ShopId>,
    /// The code customers type.
    pub code: String,
    /// A title for the shop's admin ("Aftercare apology for order #1001").
    pub title: String,
    /// What it takes off.
    pub value: DiscountValue,
    /// Valid from.
    pub starts_at: DateTime<Utc>,
    /// Valid until, if limited.
    pub ends_at: Option<DateTime<Utc>>,
    /// Only this customer may use it, where the platform can say so.
    pub customer_id: Option<CustomerId>,
    /// The order it apologises for.
    pub order_id: OrderId,
}

impl NewDiscountCode {
    /// A code worth `value`, valid from `starts_at`, for one order's apology.
    pub fn new(
        code: impl Into<String>,
        value: DiscountValue,
        order_id: OrderId,
        starts_at: DateTime<Utc>,
    ) -> Self {
        let code = code.into();
        Self {
            shop: None,
            title: format!("Aftercare apology {code}"),
            code,
            value,
            starts_at,
            ends_at: None,
            customer_id: None,
            order_id,
        }
    }
}

/// What creating a code did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeCreated {
    /// Created now, with the platform's id.
    Created(String),
    /// The platform already has a code of that name (created by an earlier attempt).
    AlreadyExists,
}

/// A platform that can create discount codes.
#[async_trait]
pub trait DiscountCodes: Send + Sync {
    /// Creates a single-use code (one use in total, once per customer). A code of that
    /// name existing already is [`CodeCreated::AlreadyExists`], never an error.
    async fn create_code(&self, code: &NewDiscountCode) -> Result<CodeCreated, Error>;
}

/// The apology code for an order: `{prefix}-` and ten characters of an HMAC-SHA-256 over
/// the shop and order under `key`, in an alphabet without look-alikes (no 0/O, 1/I/L).
/// The same order always gets the same code (what makes a second creation an "already
/// exists"); without the key, a code cannot be guessed from an order number.
///
/// ```
/// use aftercare::platform::discount::recovery_code;
/// let a = recovery_code(b"k", None, &"1001".into(), "SORRY");
/// assert_eq!(a, recovery_code(b"k", None, &"1001".into(), "SORRY"));
/// assert_ne!(a, recovery_code(b"k", None, &"1002".into(), "SORRY"));
/// assert!(a.starts_with("SORRY-") && a.len() == 16);
/// ```
pub fn recovery_code(key: &[u8], shop: Option<&ShopId>, order: &OrderId, prefix: &str) -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        // HMAC takes keys of any length; this branch is never taken.
        return format!("{prefix}-{}", order.as_str());
    };
    mac.update(b"aftercare recovery code v1\0");
    let shop = shop.map_or("", ShopId::as_str);
    mac.update(&(shop.len() as u64).to_be_bytes());
    mac.update(shop.as_bytes());
    mac.update(order.as_str().as_bytes());
    let digest = mac.finalize().into_bytes();
    let tail: String = digest
        .iter()
        .take(10)
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    format!("{prefix}-{tail}")
}
