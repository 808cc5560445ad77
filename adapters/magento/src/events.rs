//! Observer events into [`PlatformEvent`]s, for both ways Adobe Commerce sends them:
//! Adobe Commerce webhooks (`{"eventName": "observer.…", "data": {"<object>": {…}}}`) and
//! Adobe I/O Events (`"type": "com.adobe.commerce.observer.…"`, the object in
//! `data.value`).
//!
//! | event (`observer.`…) | object | requires | events |
//! |---|---|---|---|
//! | `sales_order_place_after` | `order` | `entity_id`, `increment_id`, `order_currency_code`, `grand_total`, `updated_at`, `state` or `status`; no `order_id`, `track_number` | order created, paid |
//! | `sales_order_save_after` | `order` | the same | order updated (or cancelled), paid |
//! | `sales_order_shipment_save_after` | `shipment` | `entity_id`, `order_id`, a date; no `grand_total`, `track_number`, `parent_id` | shipment updated |
//! | `sales_order_shipment_track_save_after` | `track` | `entity_id`, `parent_id`, `order_id`, `track_number`, a date; no `grand_total`, `tracks` | shipment updated (its shipment with this track) |
//! | `customer_save_after`, `customer_save_after_data_object` | `customer`, `customer_data_object` | `id` or `entity_id`, `email`, `website_id`; no `increment_id`, `order_id`, `grand_total`, `track_number` | customer updated |
//! | anything else | | | unrecognized |
//!
//! Webhook data may hold the object under its own name or as `data_object` (Magento's
//! `AbstractModel::_getEventData` passes both); either is read.

use aftercare::Error;
use aftercare::model::{PlatformEvent, ShopId};
use serde_json::{Map, Value};

use crate::convert::{self, StoreLocales};
use crate::payload::{CustomerPayload, OrderPayload, ShipmentPayload, TrackPayload};

/// The order placed.
pub const ORDER_PLACED: &str = "observer.sales_order_place_after";
/// An order saved.
pub const ORDER_SAVED: &str = "observer.sales_order_save_after";
/// A shipment saved.
pub const SHIPMENT_SAVED: &str = "observer.sales_order_shipment_save_after";
/// A shipment track saved.
pub const TRACK_SAVED: &str = "observer.sales_order_shipment_track_save_after";
/// A customer saved (the model).
pub const CUSTOMER_SAVED: &str = "observer.customer_save_after";
/// A customer saved (the data object).
pub const CUSTOMER_DATA_SAVED: &str = "observer.customer_save_after_data_object";

/// What resource an event name carries, and under which key of the event data.
pub fn resource_of(topic: &str) -> Option<(&'static str, &'static str)> {
    match topic {
        ORDER_PLACED | ORDER_SAVED => Some(("order", "order")),
        SHIPMENT_SAVED => Some(("shipment", "shipment")),
        TRACK_SAVED => Some(("track", "track")),
        CUSTOMER_SAVED => Some(("customer", "customer")),
        CUSTOMER_DATA_SAVED => Some(("customer", "customer_data_object")),
        _ => None,
    }
}

fn refuse_keys(
    what: &str,
    obj: &Map<String, Value>,
    keys: &[&str],
    other: &str,
) -> Result<(), Error> {
    if let Some(k) = keys.iter().find(|k| obj.contains_key(**k)) {
        return Err(Error::decode(
            what,
            format!("the body has `{k}`: it is {other}, not the resource this event carries"),
        ));
    }
    Ok(())
}

fn from<T: serde::de::DeserializeOwned>(what: &str, obj: &Map<String, Value>) -> Result<T, Error> {
    serde_json::from_value(Value::Object(obj.clone())).map_err(|e| Error::decode(what, e))
}

/// Decodes the object an event carries (already taken out of its envelope).
pub fn decode_object(
    topic: &str,
    obj: &Map<String, Value>,
    shop: &ShopId,
    locales: &StoreLocales,
) -> Result<Vec<PlatformEvent>, Error> {
    let what = format!("magento {topic}");
    let what = what.as_str();
    match topic {
        ORDER_PLACED | ORDER_SAVED => {
            refuse_keys(
                what,
                obj,
                &["order_id", "track_number", "parent_id"],
                "a shipment or track",
            )?;
            let p: OrderPayload = from(what, obj)?;
            Ok(convert::order(what, p, Some(shop), locales)?.events(topic == ORDER_PLACED))
        }
        SHIPMENT_SAVED => {
            refuse_keys(
                what,
                obj,
                &["grand_total", "order_currency_code"],
                "an order",
            )?;
            refuse_keys(what, obj, &["track_number", "parent_id"], "a track")?;
            let p: ShipmentPayload = from(what, obj)?;
            let shipment = convert::shipment(what, p, Some(shop))?;
            Ok(vec![PlatformEvent::ShipmentUpdated { shipment }])
        }
        TRACK_SAVED => {
            refuse_keys(
                what,
                obj,
                &["grand_total", "order_currency_code"],
                "an order",
            )?;
            refuse_keys(what, obj, &["tracks"], "a shipment")?;
            let p: TrackPayload = from(what, obj)?;
            let shipment = convert::track(what, p, Some(shop))?;
            Ok(vec![PlatformEvent::ShipmentUpdated { shipment }])
        }
        CUSTOMER_SAVED | CUSTOMER_DATA_SAVED => {
            refuse_keys(
                what,
                obj,
                &["increment_id", "order_id", "grand_total", "track_number"],
                "an order, shipment or track",
            )?;
            let p: CustomerPayload = from(what, obj)?;
            let customer = convert::customer(what, p, locales)?;
            Ok(vec![PlatformEvent::CustomerUpdated { customer }])
        }
        other => Ok(vec![PlatformEvent::Unrecognized {
            topic: other.to_owned(),
        }]),
    }
}

/// The event data's object of `topic` (`data.<key>` or `data.data_object`).
pub fn object_in<'a>(
    topic: &str,
    data: &'a Map<String, Value>,
) -> Result<&'a Map<String, Value>, Error> {
    let what = format!("magento {topic}");
    let Some((_, key)) = resource_of(topic) else {
        return Ok(data);
    };
    let v = data
        .get(key)
        .or_else(|| data.get("data_object"))
        .ok_or_else(|| Error::decode(&what, format!("the event data has no `{key}` object")))?;
    v.as_object()
        .ok_or_else(|| Error::decode(&what, format!("`{key}` is not an object")))
}

/// A de-duplication key from an event's object: `{topic}:{id}@{updated_at}` when it has
/// both, so the same state delivered twice is stored once.
pub fn state_key(
    topic: &str,
    obj: &Map<String, Value>,
) -> Option<(String, Option<chrono::DateTime<chrono::Utc>>)> {
    let id = obj.get("entity_id").or_else(|| obj.get("id"))?;
    let id = match id {
        Value::Number(n) => n.as_u64()?.to_string(),
        Value::String(s) if !s.trim().is_empty() => s.trim().to_owned(),
        _ => return None,
    };
    let updated = obj.get("updated_at")?.as_str()?;
    let at = convert::parse_time(updated)?;
    Some((format!("{topic}:{id}@{}", updated.trim()), Some(at)))
}
