//! WooCommerce's JSON as it arrives: webhook bodies (the same JSON as the REST API's
//! `wc/v3` resources, per the webhooks docs: "the response is exactly the same as if
//! requested via the REST API") and REST responses. Only the fields the adapter reads are
//! declared; everything else is skipped. Ids are read as text from a JSON integer (any
//! `u64`) or string, never through a float.

use serde::de::{self, Deserializer, IgnoredAny};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// An order (`GET /wp-json/wc/v3/orders/{id}`, webhook topics `order.*`).
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct OrderPayload<'a> {
    /// `id`.
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
    /// `number`: the human-facing number (a string; plugins renumber).
    #[serde(default, deserialize_with = "opt_text")]
    pub number: Option<String>,
    /// `order_key` (`wc_order_…`): every order has one, no other resource does.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub order_key: Option<Cow<'a, str>>,
    /// `status`: `pending`, `processing`, `on-hold`, `completed`, `cancelled`, `refunded`,
    /// `failed`, `trash`, `checkout-draft`, or a plugin's own.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub status: Option<Cow<'a, str>>,
    /// `currency` (ISO 4217).
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub currency: Option<Cow<'a, str>>,
    /// `date_created_gmt` (`2017-03-22T19:28:02`, UTC without an offset).
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub date_created_gmt: Option<Cow<'a, str>>,
    /// `date_modified_gmt`.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub date_modified_gmt: Option<Cow<'a, str>>,
    /// `date_paid_gmt`: set when the payment completed.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub date_paid_gmt: Option<Cow<'a, str>>,
    /// `date_paid` (site time), for payloads that lack the GMT field.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub date_paid: Option<Cow<'a, str>>,
    /// `date_completed_gmt`.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub date_completed_gmt: Option<Cow<'a, str>>,
    /// `total` (decimal text).
    #[serde(default, deserialize_with = "opt_text")]
    pub total: Option<String>,
    /// `customer_id`: 0 for a guest.
    #[serde(default, deserialize_with = "opt_id")]
    pub customer_id: Option<String>,
    /// `billing`.
    #[serde(borrow, default)]
    pub billing: Option<AddressPayload<'a>>,
    /// `shipping`.
    #[serde(borrow, default)]
    pub shipping: Option<AddressPayload<'a>>,
    /// `line_items`.
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub line_items: Vec<LineItemPayload<'a>>,
    /// `meta_data`: plugins' data (tracking items, WPML's language...).
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub meta_data: Vec<MetaPayload<'a>>,
    /// `lang`: the language field Polylang Pro adds to REST resources [3rd-party].
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub lang: Option<Cow<'a, str>>,
    /// `_links`: URLs of the resource on its site.
    #[serde(borrow, default, rename = "_links")]
    pub links: Option<LinksPayload<'a>>,
}

/// A customer (`GET /wp-json/wc/v3/customers/{id}`, webhook topics `customer.*`).
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct CustomerPayload<'a> {
    /// `id`.
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
    /// `email`.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub email: Option<Cow<'a, str>>,
    /// `first_name`.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub first_name: Option<Cow<'a, str>>,
    /// `last_name`.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub last_name: Option<Cow<'a, str>>,
    /// `role` (`customer`...).
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub role: Option<Cow<'a, str>>,
    /// `username`.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub username: Option<Cow<'a, str>>,
    /// `date_modified_gmt`.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub date_modified_gmt: Option<Cow<'a, str>>,
    /// `billing`.
    #[serde(borrow, default)]
    pub billing: Option<AddressPayload<'a>>,
    /// `meta_data`.
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub meta_data: Vec<MetaPayload<'a>>,
    /// `lang` (Polylang Pro) [3rd-party].
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub lang: Option<Cow<'a, str>>,
    /// An order's `order_key`, present only if this is an order's body.
    #[serde(default)]
    pub order_key: Option<IgnoredAny>,
    /// `_links`.
    #[serde(borrow, default, rename = "_links")]
    pub links: Option<LinksPayload<'a>>,
}

/// `billing` / `shipping`.
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct AddressPayload<'a> {
    /// `first_name`.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub first_name: Option<Cow<'a, str>>,
    /// `last_name`.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub last_name: Option<Cow<'a, str>>,
    /// `company`.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub company: Option<Cow<'a, str>>,
    /// `address_1`.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub address_1: Option<Cow<'a, str>>,
    /// `address_2`.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub address_2: Option<Cow<'a, str>>,
    /// `city`.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub city: Option<Cow<'a, str>>,
    /// `state`.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub state: Option<Cow<'a, str>>,
    /// `postcode`.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub postcode: Option<Cow<'a, str>>,
    /// `country` (ISO 3166-1 alpha-2).
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub country: Option<Cow<'a, str>>,
    /// `email` (billing only).
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub email: Option<Cow<'a, str>>,
    /// `phone`.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub phone: Option<Cow<'a, str>>,
}

/// One of `line_items`.
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct LineItemPayload<'a> {
    /// `id`.
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
    /// `name`.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub name: Option<Cow<'a, str>>,
    /// `product_id`.
    #[serde(default, deserialize_with = "opt_id")]
    pub product_id: Option<String>,
    /// `variation_id` (0: none).
    #[serde(default, deserialize_with = "opt_id")]
    pub variation_id: Option<String>,
    /// `quantity`.
    #[serde(default)]
    pub quantity: Option<Value>,
    /// `sku`.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub sku: Option<Cow<'a, str>>,
    /// `price`: the unit price, a JSON number.
    #[serde(default)]
    pub price: Option<Value>,
    /// `image`: `{"id", "src"}`, the product's featured image, as the REST API's order
    /// controller adds it to each product line (`get_order_item_data` in
    /// `class-wc-rest-orders-v2-controller.php`: `src` is `''` without an image, and
    /// `wp_get_attachment_image_url` may give `false`).
    #[serde(default)]
    pub image: Option<Value>,
}

/// One of `meta_data`. The value is kept as its raw JSON text and parsed only for the
/// keys the adapter reads (plugins store large values there).
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct MetaPayload<'a> {
    /// `key`.
    #[serde(borrow, default)]
    pub key: Cow<'a, str>,
    /// `value`: any JSON, unparsed; `None` for `null`.
    #[serde(borrow, default)]
    pub value: Option<&'a RawValue>,
}

/// A resource's `meta_data` alone.
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct MetaOnly<'a> {
    /// `meta_data`.
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub meta_data: Vec<MetaPayload<'a>>,
}

/// `_links`.
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct LinksPayload<'a> {
    /// `self`.
    #[serde(borrow, default, rename = "self", deserialize_with = "null_as_default")]
    pub self_: Vec<HrefPayload<'a>>,
    /// `collection`.
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    pub collection: Vec<HrefPayload<'a>>,
}

/// `{ "href": … }`.
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct HrefPayload<'a> {
    /// `href`.
    #[serde(borrow, default, deserialize_with = "opt_cow")]
    pub href: Option<Cow<'a, str>>,
}

/// A custom topic's body (`action.<hook>`): `{ "action": "<hook>", "arg": <first argument> }`
/// (`WC_Webhook::get_wp_api_payload`).
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct ActionPayload {
    /// `action`: the hook's name.
    #[serde(default)]
    pub action: Option<String>,
    /// `arg`: the hook's first argument (an order id for the order hooks).
    #[serde(default)]
    pub arg: Option<Value>,
}

/// A tracking item: the Shipment Tracking extension's REST route
/// (`GET /wp-json/wc-shipment-tracking/v3/orders/{id}/shipment-trackings`: `tracking_id`,
/// `tracking_provider`, `tracking_link`, `tracking_number`, `date_shipped` as
/// `YYYY-MM-DD`), or an item of the order meta `_wc_shipment_tracking_items` (the
/// extension's storage: `tracking_provider`, `custom_tracking_provider`,
/// `custom_tracking_link`, `tracking_number`, `date_shipped` as Unix seconds,
/// `tracking_id`), or the Advanced Shipment Tracking plugin's shape (which adds
/// `formatted_tracking_provider` and `formatted_tracking_link`) [3rd-party].
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrackingItem {
    /// `tracking_id`.
    #[serde(default, deserialize_with = "opt_text")]
    pub tracking_id: Option<String>,
    /// `tracking_provider`: a provider's name (the REST route formats it) or slug.
    #[serde(default)]
    pub tracking_provider: Option<String>,
    /// `custom_tracking_provider`.
    #[serde(default)]
    pub custom_tracking_provider: Option<String>,
    /// `custom_tracking_link`: a URL template (`%1$s` the number, `%2$s` the postcode,
    /// `%3$s` the country).
    #[serde(default)]
    pub custom_tracking_link: Option<String>,
    /// `formatted_tracking_provider` (AST).
    #[serde(default)]
    pub formatted_tracking_provider: Option<String>,
    /// `formatted_tracking_link` (AST).
    #[serde(default)]
    pub formatted_tracking_link: Option<String>,
    /// `tracking_link` (the REST route, AST's REST route).
    #[serde(default)]
    pub tracking_link: Option<String>,
    /// `tracking_number`.
    #[serde(default, deserialize_with = "opt_text")]
    pub tracking_number: Option<String>,
    /// `date_shipped`: Unix seconds (meta) or `YYYY-MM-DD` (REST).
    #[serde(default, deserialize_with = "opt_text")]
    pub date_shipped: Option<String>,
}

/// One entry of TrackShip's `shipment_status` order meta, by the index of the tracking
/// item it describes [3rd-party: TrackShip for WooCommerce's plugin code].
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct TrackShipStatus {
    /// `status` (`in_transit`, `out_for_delivery`, `delivered`...).
    #[serde(default)]
    pub status: Option<String>,
    /// `est_delivery_date` (`YYYY-MM-DD`).
    #[serde(default)]
    pub est_delivery_date: Option<String>,
}

/// An order note (`GET /wp-json/wc/v3/orders/{id}/notes`).
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct NotePayload {
    /// `note`.
    #[serde(default)]
    pub note: Option<String>,
}

/// WooCommerce's error body: `{"code": "...", "message": "...", "data": {"status": 404}}`.
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct ErrorPayload {
    /// `code` (`woocommerce_rest_shop_order_invalid_id`, `rest_invalid_param`...).
    #[serde(default)]
    pub code: Option<String>,
    /// `message`.
    #[serde(default)]
    pub message: Option<String>,
}

/// A body whose only key is `id`: what WooCommerce sends for `*.deleted` topics
/// (`WC_Webhook::build_payload`: "If a resource has been deleted, just include the ID").
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DeletedPayload {
    /// `id`.
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
}

/// Text of an id: a JSON integer (`u64`) or a non-empty string; `null` is `None`. Floats,
/// negative numbers, booleans and objects are refused.
pub(crate) fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct V;
    impl<'de> de::Visitor<'de> for V {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an id (a non-negative integer or a string)")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v)
                .map(|v| Some(v.to_string()))
                .map_err(|_| E::custom(format!("a negative id ({v})")))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Err(E::custom(format!(
                "an id written as a fraction or out of range ({v})"
            )))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            let t = v.trim();
            if t.is_empty() {
                Err(E::custom("an empty id"))
            } else {
                Ok(Some(t.to_owned()))
            }
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

/// Text from a JSON string or integer (a tracking number written as a number); `null` is
/// `None`. Floats are refused (their text is not what the sender wrote).
pub(crate) fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct V;
    impl<'de> de::Visitor<'de> for V {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("text or an integer")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Err(E::custom(format!(
                "a number with a fraction ({v}) where text was expected"
            )))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

/// Borrowed text where the JSON string has no escapes (serde's own `Option<Cow<str>>`
/// always copies); `null` is `None`.
pub(crate) fn opt_cow<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    struct V;
    impl<'de> de::Visitor<'de> for V {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string or null")
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Borrowed(v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_owned())))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v)))
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

/// A list that may be `null`.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct I {
        #[serde(default, deserialize_with = "opt_id")]
        id: Option<String>,
    }

    fn id(json: &str) -> Result<Option<String>, serde_json::Error> {
        serde_json::from_str::<I>(json).map(|i| i.id)
    }

    #[test]
    fn ids_are_text_from_integers_and_strings_never_floats() {
        assert_eq!(
            id(r#"{"id":18446744073709551615}"#).unwrap().as_deref(),
            Some("18446744073709551615")
        );
        assert_eq!(id(r#"{"id":"727"}"#).unwrap().as_deref(), Some("727"));
        assert_eq!(id(r#"{"id":null}"#).unwrap(), None);
        assert_eq!(id(r#"{}"#).unwrap(), None);
        for bad in [
            r#"{"id":1.5}"#,
            r#"{"id":-3}"#,
            r#"{"id":true}"#,
            r#"{"id":""}"#,
            r#"{"id":{}}"#,
            r#"{"id":18446744073709551616}"#,
        ] {
            assert!(id(bad).is_err(), "{bad}");
        }
    }
}
