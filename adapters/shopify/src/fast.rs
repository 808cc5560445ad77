//! A quicker path through `serde_json` for the payloads decoded on every webhook.
//!
//! The derived `Deserialize` impls read each object key as text, and `serde_json` checks the
//! UTF-8 of every key it hands out as text: for an order, two hundred keys of which most are
//! then skipped, about a tenth of the decoding time. Here keys are read as raw bytes and
//! matched against the field names; a key is still refused when reading it as text would
//! refuse it (not UTF-8, a raw control character), and keys with escapes are left to the
//! derived impls. Values are read exactly as the derived impls read them (same helpers,
//! same defaults).
//!
//! This path only ever returns what the derived impls return: anything it refuses (a
//! duplicate or missing field, a non-object, a bad value, an escaped key...) is decoded
//! again by the derived impl, whose result, error included, is the one returned
//! ([`parse_fast`]). Every field of a struct must be listed in its `fast_struct!` (the
//! struct literal does not compile otherwise).

use std::borrow::Cow;
use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::convert::{
    id_string, null_default, opt_id_string, opt_str, opt_time, str_list, str_or_empty,
};
use crate::payload::{
    AddressPayload, ConsentPayload, CustomerPayload, FulfillmentPayload, LineItemPayload, LineRef,
    OrderPayload,
};

/// A payload read by the quick path.
pub(crate) struct Fast<T>(pub(crate) T);

/// An object key as raw bytes.
enum Key<'de> {
    Borrowed(&'de [u8]),
    Copied(Vec<u8>),
}

impl Key<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Key::Borrowed(b) => b,
            Key::Copied(b) => b,
        }
    }
}

/// Whether every byte is printable ASCII (`0x20..0x80`), eight at a time.
fn printable_ascii(v: &[u8]) -> bool {
    const ONES: u64 = u64::MAX / 255;
    // A byte below 0x20 borrows into its high bit when 0x20 is taken from it; a byte from
    // 0x80 has it already.
    let clean = |w: [u8; 8]| {
        let x = u64::from_le_bytes(w);
        (x.wrapping_sub(ONES * 0x20) | x) & (ONES * 0x80) == 0
    };
    let mut chunks = v.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        if !clean(w) {
            return false;
        }
    }
    // The tail byte by byte: copying it into a word would cost a `memcpy` call per key.
    chunks.remainder().iter().all(|b| (0x20..0x80).contains(b))
}

/// Refuses what reading the key as text would refuse: bytes that are not UTF-8 and raw
/// control characters (allowed in raw bytes, not in text).
fn checked<E: de::Error>(v: &[u8]) -> Result<&[u8], E> {
    if printable_ascii(v) || (!v.iter().any(|&b| b < 0x20) && std::str::from_utf8(v).is_ok()) {
        Ok(v)
    } else {
        Err(E::custom("invalid object key"))
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;

        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object key")
            }

            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Key<'de>, E> {
                checked(v).map(Key::Borrowed)
            }

            fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Key<'de>, E> {
                // A key with escapes: once unescaped, a control character may have been raw
                // (refused in text) or escaped (fine), and only reading it as text tells.
                // Left to the derived impl; Shopify's keys have no escapes.
                Err(E::custom("escaped object key"))
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v.as_bytes()))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Copied(v.as_bytes().to_vec()))
            }
        }

        d.deserialize_bytes(KeyVisitor)
    }
}

/// How one field's value is read: the same function as the derived impl's.
trait Read<'de> {
    type Out;
    fn read<D: Deserializer<'de>>(d: D) -> Result<Self::Out, D::Error>;
}

/// The [`DeserializeSeed`] of a [`Read`].
struct Seed<R>(PhantomData<R>);

impl<'de, R: Read<'de>> DeserializeSeed<'de> for Seed<R> {
    type Value = R::Out;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<R::Out, D::Error> {
        R::read(d)
    }
}

macro_rules! read_with {
    ($(#[$doc:meta] $name:ident => $out:ty = $f:path;)*) => {$(
        #[$doc]
        struct $name;

        impl<'de> Read<'de> for $name {
            type Out = $out;
            fn read<D: Deserializer<'de>>(d: D) -> Result<$out, D::Error> {
                $f(d)
            }
        }
    )*};
}

read_with! {
    /// `id_string`.
    Id => String = id_string;
    /// `opt_id_string`.
    OptId => Option<String> = opt_id_string;
    /// `opt_str`.
    OptText => Option<Cow<'de, str>> = opt_str;
    /// `str_or_empty`.
    TextOrEmpty => Cow<'de, str> = str_or_empty;
    /// `str_list`.
    TextList => Vec<Cow<'de, str>> = str_list;
    /// `opt_time`.
    Time => Option<DateTime<Utc>> = opt_time;
}

/// The type's own `Deserialize`.
struct Plain<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Read<'de> for Plain<T> {
    type Out = T;
    fn read<D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        T::deserialize(d)
    }
}

/// An optional payload struct, read by the quick path.
struct OptStruct<T>(PhantomData<T>);

impl<'de, T> Read<'de> for OptStruct<T>
where
    Fast<T>: Deserialize<'de>,
{
    type Out = Option<T>;
    fn read<D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
        Ok(Option::<Fast<T>>::deserialize(d)?.map(|f| f.0))
    }
}

/// A list of payload structs where `null` is empty (`null_default`), read by the quick path.
struct StructList<T>(PhantomData<T>);

impl<'de, T> Read<'de> for StructList<T>
where
    Fast<T>: Deserialize<'de>,
{
    type Out = Vec<T>;
    fn read<D: Deserializer<'de>>(d: D) -> Result<Vec<T>, D::Error> {
        let list: List<T> = null_default(d)?;
        Ok(list.0)
    }
}

/// A JSON array of payload structs, read like `Vec<T>` reads one (same values, same
/// errors), except for the first allocation: a `Vec` of structs grows from nothing to room
/// for four, which for a struct over 256 bytes (a fulfillment) is an allocation past 1 KiB,
/// one that the system allocator serves only after tidying its small free lists, at a cost
/// of about a tenth of the conversion of an order. Such lists hold a single struct as a
/// rule (one fulfillment per order), so room for one is made first.
struct List<T>(Vec<T>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(Vec::new())
    }
}

impl<'de, T> Deserialize<'de> for List<T>
where
    Fast<T>: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ListVisitor<T>(PhantomData<T>);

        impl<'de, T> Visitor<'de> for ListVisitor<T>
        where
            Fast<T>: Deserialize<'de>,
        {
            type Value = List<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence")
            }

            fn visit_seq<S: de::SeqAccess<'de>>(self, mut seq: S) -> Result<List<T>, S::Error> {
                let mut out = Vec::new();
                while let Some(Fast(v)) = seq.next_element::<Fast<T>>()? {
                    if out.capacity() == 0 && size_of::<T>() > 256 {
                        out.reserve_exact(1);
                    }
                    out.push(v);
                }
                Ok(List(out))
            }
        }

        d.deserialize_seq(ListVisitor(PhantomData))
    }
}

/// `Deserialize` for `Fast<$ty>`: every field of `$ty` with how its value is read, the
/// required ones (no `#[serde(default)]`) first.
macro_rules! fast_struct {
    ($ty:ident$(<$lt:lifetime>)? { required: [$($req:ident: $rr:ty),*], $($field:ident: $r:ty,)* }) => {
        impl<'de> Deserialize<'de> for Fast<$ty$(<$lt>)?> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct FastVisitor;

                impl<'de> Visitor<'de> for FastVisitor {
                    type Value = Fast<$ty$(<$lt>)?>;

                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("struct ", stringify!($ty)))
                    }

                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                        $(let mut $req: Option<<$rr as Read<'de>>::Out> = None;)*
                        $(let mut $field: Option<<$r as Read<'de>>::Out> = None;)*
                        while let Some(key) = map.next_key::<Key<'de>>()? {
                            let key = key.bytes();
                            $(if key == stringify!($req).as_bytes() {
                                if $req.is_some() {
                                    return Err(de::Error::duplicate_field(stringify!($req)));
                                }
                                $req = Some(map.next_value_seed(Seed::<$rr>(PhantomData))?);
                                continue;
                            })*
                            $(if key == stringify!($field).as_bytes() {
                                if $field.is_some() {
                                    return Err(de::Error::duplicate_field(stringify!($field)));
                                }
                                $field = Some(map.next_value_seed(Seed::<$r>(PhantomData))?);
                                continue;
                            })*
                            map.next_value::<IgnoredAny>()?;
                        }
                        Ok(Fast($ty {
                            $($req: $req.ok_or_else(|| de::Error::missing_field(stringify!($req)))?,)*
                            $($field: $field.unwrap_or_default(),)*
                        }))
                    }
                }

                d.deserialize_map(FastVisitor)
            }
        }
    };
}

fast_struct!(OrderPayload<'de> {
    required: [id: Id],
    admin_graphql_api_id: OptText,
    name: OptText,
    order_number: Plain<Option<u64>>,
    email: OptText,
    contact_email: OptText,
    phone: OptText,
    customer: OptStruct<CustomerPayload<'de>>,
    customer_locale: OptText,
    line_items: StructList<LineItemPayload<'de>>,
    shipping_address: OptStruct<AddressPayload<'de>>,
    total_price: OptText,
    currency: OptText,
    cancelled_at: Time,
    tags: TextOrEmpty,
    fulfillments: StructList<FulfillmentPayload<'de>>,
    created_at: Time,
    updated_at: Time,
});

fast_struct!(LineItemPayload<'de> {
    required: [],
    id: OptId,
    product_id: OptId,
    variant_id: OptId,
    sku: OptText,
    title: TextOrEmpty,
    quantity: Plain<u32>,
    price: OptText,
    product_type: OptText,
});

fast_struct!(AddressPayload<'de> {
    required: [],
    name: OptText,
    address1: OptText,
    address2: OptText,
    city: OptText,
    province_code: OptText,
    zip: OptText,
    country_code: OptText,
    phone: OptText,
});

fast_struct!(FulfillmentPayload<'de> {
    required: [id: Id],
    admin_graphql_api_id: OptText,
    order_id: OptId,
    status: OptText,
    shipment_status: OptText,
    tracking_company: OptText,
    tracking_number: OptText,
    tracking_numbers: TextList,
    tracking_url: OptText,
    tracking_urls: TextList,
    line_items: StructList<LineRef>,
    created_at: Time,
    updated_at: Time,
});

fast_struct!(LineRef {
    required: [],
    id: OptId,
});

fast_struct!(ConsentPayload<'de> {
    required: [],
    state: OptText,
    consent_updated_at: Time,
});

fast_struct!(CustomerPayload<'de> {
    required: [id: Id],
    admin_graphql_api_id: OptText,
    email: OptText,
    phone: OptText,
    first_name: OptText,
    last_name: OptText,
    locale: OptText,
    email_marketing_consent: OptStruct<ConsentPayload<'de>>,
    sms_marketing_consent: OptStruct<ConsentPayload<'de>>,
    updated_at: Time,
});

/// Decodes `body` by the quick path; anything it refuses is decoded again by the derived
/// impl, whose result is returned, so the outcome is always the derived impl's.
pub(crate) fn parse_fast<'a, T>(body: &'a [u8]) -> Result<T, serde_json::Error>
where
    T: Deserialize<'a>,
    Fast<T>: Deserialize<'a>,
{
    match serde_json::from_slice::<Fast<T>>(body) {
        Ok(Fast(v)) => Ok(v),
        Err(_) => serde_json::from_slice(body),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The quick path's value, when it gives one, is the derived impl's.
    fn same<'a, T>(body: &'a [u8]) -> bool
    where
        T: Deserialize<'a> + std::fmt::Debug,
        Fast<T>: Deserialize<'a>,
    {
        let derived = serde_json::from_slice::<T>(body).map(|v| format!("{v:?}"));
        match serde_json::from_slice::<Fast<T>>(body) {
            Ok(Fast(v)) => derived.ok() == Some(format!("{v:?}")),
            // Refused: `parse_fast` falls back to the derived impl.
            Err(_) => true,
        }
    }

    fn bodies() -> Vec<Vec<u8>> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
        let mut out: Vec<Vec<u8>> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| std::fs::read(p).unwrap())
            .collect();
        out.push(
            std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/benches/fixtures/shopify_order_fulfilled.json"
            ))
            .unwrap(),
        );
        for b in [
            r#"{"i\u0064": 5, "na\u006de": "\u00e9 \"x\"", "nomé": 1, "line_items": [{"title": null, "quantity": 3, "id": "gid://shopify/LineItem/9"}], "tags": null}"#,
            r#"{"id": 5, "name": "a", "name": "b"}"#,
            r#"{"name": "no id"}"#,
            r##"[5, "#1"]"##,
            r#"{"id": 5, "customer": {"id": 1, "email_marketing_consent": {"state": "subscribed", "consent_updated_at": "2024-01-01T00:00:00Z"}}, "fulfillments": [{"id": 2, "line_items": [{"id": 3}, {}], "tracking_numbers": null}]}"#,
            r#"{"id": 5, "shipping_address": null, "customer": null, "line_items": null, "fulfillments": null}"#,
            r#"{"id": 5, "quantity": null, "order_number": "7"}"#,
        ] {
            out.push(b.as_bytes().to_vec());
        }
        // Keys that are not UTF-8 or hold a raw control character are refused by both.
        out.push(b"{\"id\": 5, \"\xff\": 1}".to_vec());
        out.push(b"{\"id\": 5, \"a\tb\": 1}".to_vec());
        out
    }

    #[test]
    fn printable_keys() {
        for len in 0..20 {
            let mut key = vec![b'a'; len];
            assert!(printable_ascii(&key));
            for i in 0..len {
                for b in [0x00, 0x09, 0x1f, 0x7f, 0x80, 0xc3, 0xff] {
                    key[i] = b;
                    assert_eq!(printable_ascii(&key), (0x20..0x80).contains(&b), "{key:?}");
                    key[i] = b'a';
                }
            }
        }
        assert!(printable_ascii(b" ~!09AZaz_-{}"));
    }

    #[test]
    fn quick_path_agrees_with_derive() {
        for body in bodies() {
            assert!(same::<OrderPayload<'_>>(&body));
            assert!(same::<FulfillmentPayload<'_>>(&body));
            assert!(same::<CustomerPayload<'_>>(&body));
            assert!(same::<LineItemPayload<'_>>(&body));
        }
        // Refused by the quick path (then decoded by the derived impl): keys that are not
        // UTF-8, hold a raw control character (both refused by the derived impl too) or
        // have escapes.
        let bad_utf8 = b"{\"id\": 5, \"\xff\": 1}";
        let raw_tab = b"{\"id\": 5, \"a\tb\": 1}";
        for refused in [&bad_utf8[..], &raw_tab[..]] {
            assert!(serde_json::from_slice::<OrderPayload<'_>>(refused).is_err());
            assert!(serde_json::from_slice::<Fast<OrderPayload<'_>>>(refused).is_err());
        }
        let escaped = br#"{"id": 5, "a\u0000b": 1}"#;
        assert!(serde_json::from_slice::<OrderPayload<'_>>(escaped).is_ok());
        assert!(serde_json::from_slice::<Fast<OrderPayload<'_>>>(escaped).is_err());
        // The real-sized order goes through the quick path, not the fallback.
        let bench = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/benches/fixtures/shopify_order_fulfilled.json"
        ))
        .unwrap();
        assert!(serde_json::from_slice::<Fast<OrderPayload<'_>>>(&bench).is_ok());
    }
}
