use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Customer, CustomerId, OrderId, ProductId, ShopId, VariantId};

/// An amount of money in the currency's minor units (cents, halalas, kuruş...).
///
/// Never a float: `Money::new(1999, "USD")` is 19.99 dollars.
///
/// ```
/// use aftercare::model::Money;
/// let m = Money::new(1999, "USD");
/// assert_eq!(m.minor_units, 1999);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Money {
    /// Amount in minor units.
    pub minor_units: i64,
    /// ISO 4217 currency code.
    pub currency: String,
}

impl Money {
    /// Builds an amount from minor units and an ISO 4217 code.
    pub fn new(minor_units: i64, currency: impl Into<String>) -> Self {
        Self {
            minor_units,
            currency: currency.into(),
        }
    }
}

/// A postal address, as much as the platform gives.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Address {
    /// Recipient's name.
    pub name: Option<String>,
    /// Street lines.
    pub lines: Vec<String>,
    /// City.
    pub city: Option<String>,
    /// Province, state or region code.
    pub province_code: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country_code: Option<String>,
    /// Phone number at this address, E.164 when the platform gives it so.
    pub phone: Option<String>,
}

/// One line of an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct LineItem {
    /// The platform's id of this line, when it has one.
    pub id: Option<String>,
    /// Product id.
    pub product_id: Option<ProductId>,
    /// Variant id.
    pub variant_id: Option<VariantId>,
    /// Stock-keeping unit.
    pub sku: Option<String>,
    /// Title shown to the customer.
    pub title: String,
    /// Product category or type, used to pick tutorials.
    pub category: Option<String>,
    /// Quantity bought.
    pub quantity: u32,
    /// Unit price, when known.
    pub unit_price: Option<Money>,
    /// A picture of the product, when the platform's order gives one (the tracking page
    /// and emails show it next to the title).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageUrl>,
}

impl LineItem {
    /// A line with a title and a quantity; the rest left empty.
    pub fn new(title: impl Into<String>, quantity: u32) -> Self {
        Self {
            id: None,
            product_id: None,
            variant_id: None,
            sku: None,
            title: title.into(),
            category: None,
            quantity,
            unit_price: None,
            image: None,
        }
    }
}

/// The address of a product picture: an absolute `https://` or `http://` URL with a host,
/// without whitespace, control characters or characters that could leave an HTML
/// attribute (`"`, `'`, `<`, `>`, `` ` ``, `\`), at most 2,048 bytes. Platforms' payloads
/// are outside data: anything else is dropped by the adapters rather than shown.
///
/// Pages and emails show only `https` pictures: the pages' Content Security Policy allows
/// images from `https:` alone, and a picture fetched in the clear would tell the network
/// what the customer bought.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(try_from = "String", into = "String")]
pub struct ImageUrl(String);

impl ImageUrl {
    /// The longest URL accepted, in bytes.
    pub const MAX_LEN: usize = 2048;

    /// Checks `url` (surrounding whitespace trimmed; see the type's documentation).
    ///
    /// Errors: [`crate::Error::Decode`] saying what is wrong.
    ///
    /// ```
    /// use aftercare::model::ImageUrl;
    /// let u = ImageUrl::parse("https://cdn.example/p/grinder.jpg?v=2").unwrap();
    /// assert_eq!(u.as_str(), "https://cdn.example/p/grinder.jpg?v=2");
    /// assert!(u.is_https());
    /// assert!(ImageUrl::parse("javascript:alert(1)").is_err());
    /// assert!(ImageUrl::parse("https://cdn.example/a b.jpg").is_err());
    /// assert!(ImageUrl::parse("").is_err());
    /// ```
    pub fn parse(url: &str) -> Result<Self, crate::Error> {
        let bad = |why: &str| crate::Error::Decode {
            what: "image URL".into(),
            message: why.to_owned(),
        };
        let url = url.trim();
        if url.len() > Self::MAX_LEN {
            return Err(bad("longer than 2048 bytes"));
        }
        let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
        let rest = if lower.starts_with("https://") {
            &url[8..]
        } else if lower.starts_with("http://") {
            &url[7..]
        } else {
            return Err(bad("not an absolute http(s) URL"));
        };
        if url.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '"' | '\'' | '<' | '>' | '`' | '\\')
                || crate::l10n::bidi::is_bidi_control(c)
        }) {
            return Err(bad("contains whitespace, control or quoting characters"));
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = authority.rsplit('@').next().unwrap_or_default();
        if host.is_empty() || host.starts_with(':') || authority.contains('@') {
            return Err(bad("no host (or credentials in it)"));
        }
        Ok(Self(url.to_owned()))
    }

    /// Like [`ImageUrl::parse`], for a value that may be absent or blank: `None` for
    /// nothing usable (the adapters' decoders, where a bad picture must not lose the
    /// order).
    pub fn from_payload(url: Option<&str>) -> Option<Self> {
        url.filter(|u| !u.trim().is_empty())
            .and_then(|u| Self::parse(u).ok())
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it is an `https` URL (the only ones pages and emails show).
    pub fn is_https(&self) -> bool {
        self.0
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
    }
}

impl TryFrom<String> for ImageUrl {
    type Error = crate::Error;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<ImageUrl> for String {
    fn from(u: ImageUrl) -> String {
        u.0
    }
}

impl std::fmt::Display for ImageUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An order as Aftercare needs it.
///
/// ```
/// use aftercare::model::{Order, LineItem};
/// let mut order = Order::new("820982911946154500", "#1042");
/// order.line_items.push(LineItem::new("Espresso grinder", 1));
/// assert_eq!(order.id.as_str(), "820982911946154500");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Order {
    /// The shop this order belongs to, when known.
    pub shop: Option<ShopId>,
    /// The platform's id.
    pub id: OrderId,
    /// The human-facing number (`#1042`).
    pub number: String,
    /// The customer who placed it, when not a guest.
    pub customer_id: Option<CustomerId>,
    /// Contact email on the order.
    pub email: Option<String>,
    /// Contact phone on the order.
    pub phone: Option<String>,
    /// Lines bought.
    pub line_items: Vec<LineItem>,
    /// Where it ships.
    pub shipping_address: Option<Address>,
    /// The customer's locale as a BCP 47 tag (`en-CA`, `ar`, `pt-BR`), when known.
    pub locale: Option<String>,
    /// Total price.
    pub total: Option<Money>,
    /// Whether the order is cancelled.
    pub cancelled: bool,
    /// Tags set on the order in the shop.
    pub tags: Vec<String>,
    /// When it was created.
    pub created_at: Option<DateTime<Utc>>,
    /// When it last changed; used to order out-of-order deliveries.
    pub updated_at: Option<DateTime<Utc>>,
    /// The customer as the order's payload embeds them (Shopify's `orders/*` webhooks carry
    /// a `customer` object): a partial record (no locale or time zone, say), used when
    /// neither a customer webhook nor the platform's API gives the customer — so a
    /// deployment with no API token still greets the customer by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Box<Customer>>,
}

impl Order {
    /// An order with an id and a number; the rest left empty.
    pub fn new(id: impl Into<OrderId>, number: impl Into<String>) -> Self {
        Self {
            shop: None,
            id: id.into(),
            number: number.into(),
            customer_id: None,
            email: None,
            phone: None,
            line_items: Vec::new(),
            shipping_address: None,
            locale: None,
            total: None,
            cancelled: false,
            tags: Vec::new(),
            created_at: None,
            updated_at: None,
            customer: None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn image_urls_are_checked() {
        for ok in [
            "https://cdn.shopify.com/s/files/1/0001/products/mug.jpg?v=1",
            "HTTPS://CDN.EXAMPLE/X.PNG",
            "http://shop.example:8080/wp-content/uploads/mug.jpg",
            "  https://cdn.example/trimmed.jpg  ",
        ] {
            assert!(ImageUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "   ",
            "/relative/mug.jpg",
            "//cdn.example/mug.jpg",
            "data:image/png;base64,AAAA",
            "javascript:alert(1)",
            "ftp://cdn.example/mug.jpg",
            "https://",
            "https:///mug.jpg",
            "https://:443/mug.jpg",
            "https://user:pass@cdn.example/mug.jpg",
            "https://cdn.example/a b.jpg",
            "https://cdn.example/a\"onerror=\"x.jpg",
            "https://cdn.example/<script>.jpg",
            "https://cdn.example/a\u{202e}gpj.exe",
        ] {
            assert!(ImageUrl::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("https://cdn.example/{}", "a".repeat(ImageUrl::MAX_LEN));
        assert!(ImageUrl::parse(&long).is_err());
        assert!(
            ImageUrl::parse("https://cdn.example/x.jpg")
                .unwrap()
                .is_https()
        );
        assert!(
            !ImageUrl::parse("http://cdn.example/x.jpg")
                .unwrap()
                .is_https()
        );
        assert_eq!(ImageUrl::from_payload(Some("")), None);
        assert_eq!(ImageUrl::from_payload(Some("not a url")), None);
        assert_eq!(ImageUrl::from_payload(None), None);
    }

    #[test]
    fn a_line_item_keeps_its_image_through_json_and_refuses_a_bad_one() {
        let mut l = LineItem::new("Mug", 1);
        l.image = ImageUrl::from_payload(Some("https://cdn.example/mug.jpg"));
        let json = serde_json::to_value(&l).unwrap();
        assert_eq!(json["image"], "https://cdn.example/mug.jpg");
        assert_eq!(serde_json::from_value::<LineItem>(json).unwrap(), l);
        // Stored before the field existed: no image.
        let old = serde_json::json!({"id": null, "product_id": null, "variant_id": null,
            "sku": null, "title": "Mug", "category": null, "quantity": 1, "unit_price": null});
        assert_eq!(serde_json::from_value::<LineItem>(old).unwrap().image, None);
        let bad = serde_json::json!({"title": "Mug", "quantity": 1, "image": "javascript:x",
            "id": null, "product_id": null, "variant_id": null, "sku": null, "category": null,
            "unit_price": null});
        assert!(serde_json::from_value::<LineItem>(bad).is_err());
        // Without a picture, the JSON is what it was.
        assert!(
            serde_json::to_value(LineItem::new("Mug", 1))
                .unwrap()
                .get("image")
                .is_none()
        );
    }
}
