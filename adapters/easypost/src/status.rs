//! EasyPost tracker statuses in the sdk's vocabulary.
//!
//! `status` (<https://docs.easypost.com/docs/trackers>): `unknown`, `pre_transit`,
//! `in_transit`, `out_for_delivery`, `delivered`, `available_for_pickup`,
//! `return_to_sender`, `failure`, `cancelled`, `error`. `status_detail` refines it with
//! finer reasons (`arrived_at_facility`, `label_created`, `weather_delay`...); it is an open
//! set and is kept verbatim next to the mapped status. Only a documented-looking delay
//! (`weather_delay`, `delayed`) turns an in-transit tracker into `delayed`; anything else
//! keeps its status's meaning, and an unknown status is kept as
//! [`ShipmentStatus::Unknown`].

use aftercare::model::ShipmentStatus;

/// The sdk status for a tracker's `status` and `status_detail`.
///
/// ```
/// use aftercare::model::ShipmentStatus;
/// use aftercare_easypost::status::map;
/// assert_eq!(map("available_for_pickup", None), ShipmentStatus::ReadyForPickup);
/// assert_eq!(map("in_transit", Some("weather_delay")), ShipmentStatus::Delayed);
/// assert_eq!(map("error", None), ShipmentStatus::Unknown("error".into()));
/// ```
pub fn map(status: &str, detail: Option<&str>) -> ShipmentStatus {
    match status {
        "pre_transit" => ShipmentStatus::LabelCreated,
        "in_transit" => match detail {
            Some("weather_delay" | "delayed") => ShipmentStatus::Delayed,
            _ => ShipmentStatus::InTransit,
        },
        "out_for_delivery" => ShipmentStatus::OutForDelivery,
        "available_for_pickup" => ShipmentStatus::ReadyForPickup,
        "delivered" => ShipmentStatus::Delivered,
        "return_to_sender" => ShipmentStatus::Returned,
        "failure" => ShipmentStatus::Exception,
        "cancelled" => ShipmentStatus::Cancelled,
        // `unknown` (no information yet), `error` (the tracker could not be followed), and
        // anything new.
        other => ShipmentStatus::Unknown(other.to_owned()),
    }
}
