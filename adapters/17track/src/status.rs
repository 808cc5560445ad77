//! 17TRACK's v2 status and sub-status codes in the sdk's vocabulary.
//!
//! `status`: `NotFound`, `InfoReceived`, `InTransit`, `Expired`, `AvailableForPickup`,
//! `OutForDelivery`, `DeliveryFailure`, `Delivered`, `Exception`; `sub_status` refines them
//! (`InTransit_PickedUp`, `Exception_Returning`, `Exception_Delayed`...), an open set
//! (<https://asset.17track.net/api/document/v2.2_en/index.html>; the lists were read from
//! integrations, see `shared/facts/tracking-services.md` §4.4). Both raw values are kept; an
//! unknown status is [`ShipmentStatus::Unknown`] with its text. The legacy v1 integer codes
//! are not accepted.

use aftercare::model::ShipmentStatus;

/// The sdk status for a `status` and `sub_status`.
///
/// ```
/// use aftercare::model::ShipmentStatus;
/// use aftercare_17track::status::map;
/// assert_eq!(map("DeliveryFailure", Some("DeliveryFailure_NoBody")), ShipmentStatus::AttemptedDelivery);
/// assert_eq!(map("Exception", Some("Exception_Returning")), ShipmentStatus::Returned);
/// assert_eq!(map("Exception", Some("Exception_Delayed")), ShipmentStatus::Delayed);
/// ```
pub fn map(status: &str, sub: Option<&str>) -> ShipmentStatus {
    match status {
        "InfoReceived" => ShipmentStatus::LabelCreated,
        "InTransit" => match sub {
            Some("InTransit_PickedUp") => ShipmentStatus::PickedUp,
            _ => ShipmentStatus::InTransit,
        },
        "AvailableForPickup" => ShipmentStatus::ReadyForPickup,
        "OutForDelivery" => ShipmentStatus::OutForDelivery,
        "DeliveryFailure" => ShipmentStatus::AttemptedDelivery,
        "Delivered" => ShipmentStatus::Delivered,
        "Exception" => match sub {
            Some("Exception_Returning" | "Exception_Returned") => ShipmentStatus::Returned,
            Some("Exception_Delayed") => ShipmentStatus::Delayed,
            Some("Exception_Cancel") => ShipmentStatus::Cancelled,
            _ => ShipmentStatus::Exception,
        },
        // `NotFound`, `Expired` and anything new.
        other => ShipmentStatus::Unknown(other.to_owned()),
    }
}
