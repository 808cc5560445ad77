//! Shippo's tracking statuses in the sdk's vocabulary.
//!
//! `tracking_status.status`: `UNKNOWN`, `PRE_TRANSIT`, `TRANSIT`, `DELIVERED`, `RETURNED`,
//! `FAILURE` (Shippo's SDK, `trackingstatusenum`). `substatus.code` is documented under
//! "Event Definitions" (<https://docs.goshippo.com/docs/tracking/tracking/>) and not
//! enumerated in the SDK: an open set kept verbatim. A `TRANSIT` status is refined only by a
//! code that names the step (`out_for_delivery`, `delivery_attempted`, `pickup_available` /
//! `available_for_pickup`, `delivery_delayed`); any other keeps its status.

use aftercare::model::ShipmentStatus;

/// The sdk status for a `status` and `substatus.code`.
///
/// ```
/// use aftercare::model::ShipmentStatus;
/// use aftercare_shippo::status::map;
/// assert_eq!(map("TRANSIT", Some("out_for_delivery")), ShipmentStatus::OutForDelivery);
/// assert_eq!(map("RETURNED", None), ShipmentStatus::Returned);
/// ```
pub fn map(status: &str, code: Option<&str>) -> ShipmentStatus {
    match status {
        "PRE_TRANSIT" => ShipmentStatus::LabelCreated,
        "TRANSIT" => match code {
            Some("out_for_delivery") => ShipmentStatus::OutForDelivery,
            Some("delivery_attempted") => ShipmentStatus::AttemptedDelivery,
            Some("pickup_available" | "available_for_pickup") => ShipmentStatus::ReadyForPickup,
            Some("delivery_delayed") => ShipmentStatus::Delayed,
            _ => ShipmentStatus::InTransit,
        },
        "DELIVERED" => ShipmentStatus::Delivered,
        "RETURNED" => ShipmentStatus::Returned,
        "FAILURE" => ShipmentStatus::Exception,
        other => ShipmentStatus::Unknown(other.to_owned()),
    }
}
