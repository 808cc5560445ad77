//! WooCommerce's JSON as it arrives: webhook bodies (the same JSON as the REST API's
//! `wc/v3` resources, per the webhooks docs: "the response is exactly the same as if
//! requested via the REST API") and REST responses. Only the fields the adapter reads are
//! declared; everything else is skipped. Ids are read as text from a JSON integer (any
//! `u64`) or string, never through a float.

use serde::de::{self, Deserializer, IgnoredAny};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An order (`GET /wp-json/wc/v3/orders/{id}`, webhook topics `order.*`).
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct OrderPayload {
    /// `id`.
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
    /// `number`: the human-facing number (a string; plugins renumber).
    #[serde(default, deserialize_with = "opt_text")]
    pub number: Option<String>,
    /// `order_key` (`wc_order_…`): every order has one, no other resource does.
    #[serde(default)]
    pub order_key: Option<String>,
    /// `status`: `pending`, `processing`, `on-hold`, `completed`, `cancelled`, `refunded`,
    /// `failed`, `trash`, `checkout-draft`, or a plugin's own.
    #[serde(default)]
    pub status: Option<String>,
    /// `currency` (ISO 4217).
    #[serde(default)]
    pub currency: Option<String>,
    /// `date_created_gmt` (`2017-03-22T19:28:02`, UTC without an offset).
    #[serde(default)]
    pub date_created_gmt: Option<String>,
    /// `date_modified_gmt`.
    #[serde(default)]
    pub date_modified_gmt: Option<String>,
    /// `date_paid_gmt`: set when the payment completed.
    #[serde(default)]
    pub date_paid_gmt: Option<String>,
    /// `date_paid` (site time), for payloads that lack the GMT field.
    #[serde(default)]
    pub date_paid: Option<String>,
    /// `date_completed_gmt`.
    #[serde(default)]
    pub date_completed_gmt: Option<String>,
    /// `total` (decimal text).
    #[serde(default, deserialize_with = "opt_text")]
    pub total: Option<String>,
    /// `customer_id`: 0 for a guest.
    #[serde(default, deserialize_with = "opt_id")]
    pub customer_id: Option<String>,
    /// `billing`.
    #[serde(default)]
    pub billing: Option<AddressPayload>,
    /// `shipping`.
    #[serde(default)]
    pub shipping: Option<AddressPayload>,
    /// `line_items`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub line_items: Vec<LineItemPayload>,
    /// `meta_data`: plugins' data (tracking items, WPML's language...).
    #[serde(default, deserialize_with = "null_as_default")]
    pub meta_data: Vec<MetaPayload>,
    /// `lang`: the language field Polylang Pro adds to REST resources [3rd-party].
    #[serde(default)]
    pub lang: Option<String>,
    /// `_links`: URLs of the resource on its site.
    #[serde(default, rename = "_links")]
    pub links: Option<LinksPayload>,
}

/// A customer (`GET /wp-json/wc/v3/customers/{id}`, webhook topics `customer.*`).
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct CustomerPayload {
    /// `id`.
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
    /// `email`.
    #[serde(default)]
    pub email: Option<String>,
    /// `first_name`.
    #[serde(default)]
    pub first_name: Option<String>,
    /// `last_name`.
    #[serde(default)]
    pub last_name: Option<String>,
    /// `role` (`customer`...).
    #[serde(default)]
    pub role: Option<String>,
    /// `username`.
    #[serde(default)]
    pub username: Option<String>,
    /// `date_modified_gmt`.
    #[serde(default)]
    pub date_modified_gmt: Option<String>,
    /// `billing`.
    #[serde(default)]
    pub billing: Option<AddressPayload>,
    /// `meta_data`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub meta_data: Vec<MetaPayload>,
    /// `lang` (Polylang Pro) [3rd-party].
    #[serde(default)]
    pub lang: Option<String>,
    /// An order's `order_key`, present only if this is an order's body.
    #[serde(default)]
    pub order_key: Option<IgnoredAny>,
    /// `_links`.
    #[serde(default, rename = "_links")]
    pub links: Option<LinksPayload>,
}

/// `billing` / `shipping`.
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct AddressPayload {
    /// `first_name`.
    #[serde(default)]
    pub first_name: Option<String>,
    /// `last_name`.
    #[serde(default)]
    pub last_name: Option<String>,
    /// `company`.
    #[serde(default)]
    pub company: Option<String>,
    /// `address_1`.
    #[serde(default)]
    pub address_1: Option<String>,
    /// `address_2`.
    #[serde(default)]
    pub address_2: Option<String>,
    /// `city`.
    #[serde(default)]
    pub city: Option<String>,
    /// `state`.
    #[serde(default)]
    pub state: Option<String>,
    /// `postcode`.
    #[serde(default)]
    pub postcode: Option<String>,
    /// `country` (ISO 3166-1 alpha-2).
    #[serde(default)]
    pub country: Option<String>,
    /// `email` (billing only).
    #[serde(default)]
    pub email: Option<String>,
    /// `phone`.
    #[serde(default)]
    pub phone: Option<String>,
}

/// One of `line_items`.
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct LineItemPayload {
    /// `id`.
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
    /// `name`.
    #[serde(default)]
    pub name: Option<String>,
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
    #[serde(default)]
    pub sku: Option<String>,
    /// `price`: the unit price, a JSON number.
    #[serde(default)]
    pub price: Option<Value>,
}

/// One of `meta_data`.
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct MetaPayload {
    /// `key`.
    #[serde(default)]
    pub key: String,
    /// `value`: any JSON.
    #[serde(default)]
    pub value: Value,
}

/// `_links`.
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct LinksPayload {
    /// `self`.
    #[serde(default, rename = "self", deserialize_with = "null_as_default")]
    pub self_: Vec<HrefPayload>,
    /// `collection`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub collection: Vec<HrefPayload>,
}

/// `{ "href": … }`.
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct HrefPayload {
    /// `href`.
    #[serde(default)]
    pub href: Option<String>,
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
