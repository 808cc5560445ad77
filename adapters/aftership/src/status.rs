//! AfterShip's delivery statuses (`tag`) and sub-statuses (`subtag`) in the sdk's vocabulary.
//!
//! Tags: <https://www.aftership.com/docs/tracking/2025-01/enum/delivery-statuses>; subtags:
//! <https://www.aftership.com/docs/tracking/2026-07/enum/delivery-sub-statuses>. The subtag
//! list grows (March 2026 added `Exception_016`–`_018`, 2026-07 more), so it is an open set:
//! only the documented delays and returns refine `Exception`; any other value keeps its tag's
//! status, and an unknown tag is [`ShipmentStatus::Unknown`] with its text. Both raw values
//! are always kept next to the mapped one.

use aftercare::model::ShipmentStatus;

/// The sdk status for a tag and subtag.
///
/// ```
/// use aftercare::model::ShipmentStatus;
/// use aftercare_aftership::status::map;
/// assert_eq!(map("AttemptFail", Some("AttemptFail_001")), ShipmentStatus::AttemptedDelivery);
/// assert_eq!(map("Exception", Some("Exception_017")), ShipmentStatus::Delayed);
/// assert_eq!(map("Teleported", None), ShipmentStatus::Unknown("Teleported".into()));
/// ```
pub fn map(tag: &str, subtag: Option<&str>) -> ShipmentStatus {
    match tag {
        "Pending" => ShipmentStatus::Confirmed,
        "InfoReceived" => ShipmentStatus::LabelCreated,
        "InTransit" => ShipmentStatus::InTransit,
        "OutForDelivery" => ShipmentStatus::OutForDelivery,
        "AttemptFail" => ShipmentStatus::AttemptedDelivery,
        "AvailableForPickup" => ShipmentStatus::ReadyForPickup,
        "Delivered" => ShipmentStatus::Delivered,
        "Exception" => match subtag {
            // Delayed (customs clearance), (external factors), (processing issue),
            // (extreme weather): late, not lost.
            Some("Exception_004" | "Exception_005" | "Exception_016" | "Exception_017") => {
                ShipmentStatus::Delayed
            }
            _ => ShipmentStatus::Exception,
        },
        // No tracking information 30 days after it was added: nothing known.
        other => ShipmentStatus::Unknown(other.to_owned()),
    }
}
