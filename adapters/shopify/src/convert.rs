//! Conversions shared by webhook payloads and GraphQL responses: ids, money, tags, statuses,
//! consent.

use aftercare::model::{ChannelKind, Consent, ConsentState, Purpose, ShipmentStatus};
use chrono::{DateTime, Utc};
use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};

/// The numeric id inside a GraphQL global id: `gid://shopify/Order/820982911946154500` →
/// `820982911946154500`, so that webhook ids (plain numbers) and API ids match. Text that is
/// not a gid is returned unchanged; query strings (`?…`) are dropped.
///
/// ```
/// use aftercare_shopify::numeric_id;
/// assert_eq!(numeric_id("gid://shopify/Order/820982911946154500"), "820982911946154500");
/// assert_eq!(numeric_id("450789469"), "450789469");
/// ```
pub fn numeric_id(gid: &str) -> &str {
    match gid.strip_prefix("gid://shopify/") {
        Some(rest) => {
            let rest = rest.split('?').next().unwrap_or(rest);
            rest.rsplit('/').next().unwrap_or(rest)
        }
        None => gid,
    }
}

/// The GraphQL global id of a resource: `gid("Order", "450789469")`. An id that is already
/// a gid is kept.
///
/// ```
/// assert_eq!(aftercare_shopify::gid("Order", "450789469"), "gid://shopify/Order/450789469");
/// ```
pub fn gid(kind: &str, id: &str) -> String {
    if id.starts_with("gid://") {
        id.to_owned()
    } else {
        format!("gid://shopify/{kind}/{id}")
    }
}

/// `str::trim`, returning at once when the text starts and ends with printable ASCII (the
/// usual case), which is never whitespace; otherwise `str::trim` itself (Unicode spaces).
#[inline]
pub(crate) fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(a), Some(b)) if (0x21..0x7f).contains(a) && (0x21..0x7f).contains(b) => s,
        _ => s.trim(),
    }
}

/// Parses a Shopify money string into minor units of its currency, exactly: the sdk's
/// [`aftercare::money::parse_money`], shared by every platform adapter.
pub use aftercare::money::parse_money;

/// Splits Shopify's comma-separated tag string (`"vip, repeat-buyer"`).
pub(crate) fn split_tags(tags: &str) -> Vec<String> {
    tags.split(',')
        .map(trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Maps a fulfillment's shipment status (`FulfillmentEventStatus` in GraphQL, lowercase
/// `shipment_status` in webhooks) with [`ShipmentStatus::parse`]; `FULFILLED` and
/// `MARKED_AS_FULFILLED` (GraphQL `displayStatus` when no carrier event exists yet) mean
/// the merchant confirmed the fulfillment. Unknown values are kept raw. The one mapping the
/// webhook decoders and the GraphQL client share.
///
/// ```
/// use aftercare::model::ShipmentStatus;
/// use aftercare_shopify::shipment_status;
/// assert_eq!(shipment_status("in_transit"), ShipmentStatus::InTransit);
/// assert_eq!(shipment_status("CARRIER_PICKED_UP"), ShipmentStatus::PickedUp);
/// assert_eq!(shipment_status("MARKED_AS_FULFILLED"), ShipmentStatus::Confirmed);
/// assert_eq!(shipment_status("BY_DRONE"), ShipmentStatus::Unknown("BY_DRONE".into()));
/// ```
pub fn shipment_status(raw: &str) -> ShipmentStatus {
    let t = trim(raw);
    if ["fulfilled", "marked_as_fulfilled", "success", "open"]
        .iter()
        .any(|s| t.eq_ignore_ascii_case(s))
    {
        ShipmentStatus::Confirmed
    } else {
        ShipmentStatus::parse(raw)
    }
}

/// Maps a marketing consent state (`subscribed`/`SUBSCRIBED` → granted,
/// `unsubscribed` → denied, anything else unknown).
pub(crate) fn consent(
    channel: ChannelKind,
    state: Option<&str>,
    at: Option<DateTime<Utc>>,
) -> Consent {
    let s = match state.map(str::trim) {
        Some(s) if s.eq_ignore_ascii_case("subscribed") => ConsentState::Granted,
        Some(s) if s.eq_ignore_ascii_case("unsubscribed") => ConsentState::Denied,
        _ => ConsentState::Unknown,
    };
    let mut c = Consent::new(Purpose::Marketing, channel, s);
    c.updated_at = at;
    c.source = Some("shopify".into());
    c
}

/// Accepts an id as a JSON number (u64, or a non-negative i64) or a string (a gid is reduced
/// to its number), without buffering (untagged enums would).
struct IdVisitor;

impl<'de> Visitor<'de> for IdVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an id (integer or string)")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        match u64::try_from(v) {
            Ok(v) => Ok(Some(v.to_string())),
            Err(_) => Err(E::custom(format!("negative id {v}"))),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Err(E::custom(format!(
            "id {v} is not an integer; ids are never floats"
        )))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(numeric_id(v).to_owned()))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(IdVisitor)
    }
}

/// Deserializes an id given as a JSON number (u64) or a string into its decimal text.
pub(crate) fn id_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(IdVisitor)?
        .ok_or_else(|| de::Error::custom("the id is null"))
}

/// Like [`id_string`], for optional ids (`null` or absent → `None`).
pub(crate) fn opt_id_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_option(IdVisitor)
}

/// A list of ids (numbers or strings); `null` is `None`, like an absent field (with
/// `#[serde(default)]`), so a decoder can require the list.
pub(crate) fn id_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    struct Id(String);
    impl<'de> Deserialize<'de> for Id {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            id_string(d).map(Id)
        }
    }
    Ok(Option::<Vec<Id>>::deserialize(d)?.map(|v| v.into_iter().map(|i| i.0).collect()))
}

/// `null` → the type's default (for lists and strings Shopify sends as `null`).
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A JSON string borrowed from the input when it has no escapes, copied otherwise.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Cow<'de, str>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }

            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
                std::str::from_utf8(v)
                    .map(Cow::Borrowed)
                    .map_err(|_| E::invalid_value(de::Unexpected::Bytes(v), &self))
            }

            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                std::str::from_utf8(v)
                    .map(|s| Cow::Owned(s.to_owned()))
                    .map_err(|_| E::invalid_value(de::Unexpected::Bytes(v), &self))
            }
        }

        d.deserialize_string(TextVisitor).map(Text)
    }
}

/// An optional string (`null` or absent → `None`), borrowed from the input when it can be
/// (`Option<Cow<str>>` with plain `#[serde(borrow)]` always copies).
pub(crate) fn opt_str<'de: 'a, 'a, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    Ok(Option::<Text<'a>>::deserialize(d)?.map(|t| t.0))
}

/// A string where `null` is empty, borrowed when it can be.
pub(crate) fn str_or_empty<'de: 'a, 'a, D: Deserializer<'de>>(
    d: D,
) -> Result<Cow<'a, str>, D::Error> {
    Ok(opt_str(d)?.unwrap_or_default())
}

/// A list of strings where `null` is empty, each borrowed when it can be.
pub(crate) fn str_list<'de: 'a, 'a, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<Cow<'a, str>>, D::Error> {
    Ok(Option::<Vec<Text<'a>>>::deserialize(d)?
        .unwrap_or_default()
        .into_iter()
        .map(|t| t.0)
        .collect())
}

struct TimeVisitor;

impl<'de> Visitor<'de> for TimeVisitor {
    type Value = Option<DateTime<Utc>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 timestamp or null")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(DateTime::parse_from_rfc3339(trim(v))
            .ok()
            .map(|t| t.with_timezone(&Utc)))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(TimeVisitor)
    }
}

/// A timestamp with any offset (`2024-05-03T14:22:11-04:00`) as UTC; unparsable text is
/// `None` rather than an error, since a timestamp is never worth dead-lettering an event.
/// Read without allocating.
pub(crate) fn opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    d.deserialize_option(TimeVisitor)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn quick_trim_is_trim() {
        for s in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\ta\n",
            "\u{a0}a",
            "a\u{3000}",
            "é",
            "aé",
            "éa",
            "a b",
            "\u{7f}",
            "\u{85}x",
            "x\u{1c}",
            "~",
            "!x!",
            "\r\n",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }

    #[test]
    fn money_edge_cases() {
        assert_eq!(parse_money("0.00", "USD").unwrap().minor_units, 0);
        assert_eq!(parse_money("10", "USD").unwrap().minor_units, 1000);
        assert_eq!(parse_money("-5.5", "EUR").unwrap().minor_units, -550);
        assert_eq!(
            parse_money("92233720368547758.07", "USD")
                .unwrap()
                .minor_units,
            i64::MAX
        );
        assert!(parse_money("92233720368547758.08", "USD").is_none());
        assert!(parse_money("1e3", "USD").is_none());
        assert!(parse_money("", "USD").is_none());
        assert!(parse_money(".", "USD").is_none());
        assert_eq!(parse_money("3.010", "OMR").unwrap().minor_units, 3010);
    }

    #[test]
    fn statuses() {
        assert_eq!(shipment_status("IN_TRANSIT"), ShipmentStatus::InTransit);
        assert_eq!(
            shipment_status("label_printed"),
            ShipmentStatus::LabelCreated
        );
        assert_eq!(shipment_status("FULFILLED"), ShipmentStatus::Confirmed);
        assert_eq!(
            shipment_status("TELEPORTED"),
            ShipmentStatus::Unknown("TELEPORTED".into())
        );
    }

    #[test]
    fn consents() {
        assert_eq!(
            consent(ChannelKind::Email, Some("SUBSCRIBED"), None).state,
            ConsentState::Granted
        );
        assert_eq!(
            consent(ChannelKind::Sms, Some("unsubscribed"), None).state,
            ConsentState::Denied
        );
        assert_eq!(
            consent(ChannelKind::Sms, Some("not_subscribed"), None).state,
            ConsentState::Unknown
        );
        assert_eq!(
            consent(ChannelKind::Sms, None, None).state,
            ConsentState::Unknown
        );
    }

    #[test]
    fn ids_never_floats() {
        #[derive(Deserialize)]
        struct T {
            #[serde(deserialize_with = "id_string")]
            id: String,
            #[serde(default, deserialize_with = "opt_id_string")]
            o: Option<String>,
        }
        let t: T = serde_json::from_str(r#"{"id": 18446744073709551615, "o": null}"#).unwrap();
        assert_eq!((t.id.as_str(), t.o), ("18446744073709551615", None));
        let t: T = serde_json::from_str(r#"{"id": "gid://shopify/Order/5", "o": "7"}"#).unwrap();
        assert_eq!((t.id.as_str(), t.o.as_deref()), ("5", Some("7")));
        assert!(serde_json::from_str::<T>(r#"{"id": 1.5}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"id": -1}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"id": null}"#).is_err());
    }

    #[test]
    fn gids() {
        assert_eq!(
            numeric_id("gid://shopify/Customer/115310627314723950"),
            "115310627314723950"
        );
        assert_eq!(
            numeric_id("gid://shopify/Fulfillment/255858046?x=1"),
            "255858046"
        );
    }
}
