use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{OrderId, ShipmentId, ShopId};

/// Where a shipment is, in one vocabulary for every platform and carrier.
///
/// A value no mapping knows is kept in [`ShipmentStatus::Unknown`] with its raw text, so nothing
/// is silently dropped. [`ShipmentStatus::parse`] understands the common spellings
/// (Shopify's `IN_TRANSIT`/`in_transit`, `out-for-delivery`...).
///
/// ```
/// use aftercare::model::ShipmentStatus;
/// assert_eq!(ShipmentStatus::parse("OUT_FOR_DELIVERY"), ShipmentStatus::OutForDelivery);
/// assert_eq!(ShipmentStatus::parse("attempted_delivery"), ShipmentStatus::AttemptedDelivery);
/// assert_eq!(
///     ShipmentStatus::parse("teleported"),
///     ShipmentStatus::Unknown("teleported".into())
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ShipmentStatus {
    /// The order was confirmed for fulfilment; nothing shipped yet.
    Confirmed,
    /// A label exists; the carrier does not have the parcel yet.
    LabelCreated,
    /// The carrier picked the parcel up.
    PickedUp,
    /// Moving through the carrier's network.
    InTransit,
    /// On the vehicle for delivery today.
    OutForDelivery,
    /// A delivery attempt failed.
    AttemptedDelivery,
    /// Waiting at a pickup point.
    ReadyForPickup,
    /// Delivered.
    Delivered,
    /// Late against the estimate.
    Delayed,
    /// Something went wrong (lost, damaged, customs...).
    Exception,
    /// Going back to the sender.
    Returned,
    /// The shipment was cancelled.
    Cancelled,
    /// A status no mapping knows, with its raw text.
    Unknown(String),
}

impl ShipmentStatus {
    /// Maps a platform's or carrier's status text into the vocabulary; unknown text is kept.
    pub fn parse(raw: &str) -> Self {
        let norm: String = raw
            .trim()
            .chars()
            .map(|c| match c {
                '-' | ' ' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        match norm.as_str() {
            "confirmed" | "pending" | "submitted" => ShipmentStatus::Confirmed,
            "label_printed" | "label_purchased" | "label_created" | "pre_transit"
            | "info_received" | "inforeceived" => ShipmentStatus::LabelCreated,
            "carrier_picked_up" | "picked_up" => ShipmentStatus::PickedUp,
            "in_transit" | "intransit" | "shipped" => ShipmentStatus::InTransit,
            "out_for_delivery" | "outfordelivery" => ShipmentStatus::OutForDelivery,
            "attempted_delivery" | "attempt_fail" | "attemptfail" | "failed_attempt"
            | "delivery_attempted" => ShipmentStatus::AttemptedDelivery,
            "ready_for_pickup" | "ready_for_recipient_pickup" | "available_for_pickup" => {
                ShipmentStatus::ReadyForPickup
            }
            "delivered" => ShipmentStatus::Delivered,
            "delayed" => ShipmentStatus::Delayed,
            "failure" | "exception" | "not_delivered" | "buyer_action_required" => {
                ShipmentStatus::Exception
            }
            "returned" | "returning_to_sender" | "return_to_sender" => ShipmentStatus::Returned,
            "cancelled" | "canceled" | "label_voided" => ShipmentStatus::Cancelled,
            _ => ShipmentStatus::Unknown(raw.to_owned()),
        }
    }

    /// Stable snake-case name (`out_for_delivery`); for `Unknown`, `unknown`.
    pub fn as_str(&self) -> &str {
        match self {
            ShipmentStatus::Confirmed => "confirmed",
            ShipmentStatus::LabelCreated => "label_created",
            ShipmentStatus::PickedUp => "picked_up",
            ShipmentStatus::InTransit => "in_transit",
            ShipmentStatus::OutForDelivery => "out_for_delivery",
            ShipmentStatus::AttemptedDelivery => "attempted_delivery",
            ShipmentStatus::ReadyForPickup => "ready_for_pickup",
            ShipmentStatus::Delivered => "delivered",
            ShipmentStatus::Delayed => "delayed",
            ShipmentStatus::Exception => "exception",
            ShipmentStatus::Returned => "returned",
            ShipmentStatus::Cancelled => "cancelled",
            ShipmentStatus::Unknown(_) => "unknown",
        }
    }

    /// How far along the journey this status is (higher is later), for ordering milestones.
    /// Sideways states (delayed, exception, attempt) rank with in-transit progress.
    pub fn progress(&self) -> u8 {
        match self {
            ShipmentStatus::Unknown(_) => 0,
            ShipmentStatus::Confirmed => 1,
            ShipmentStatus::LabelCreated => 2,
            ShipmentStatus::PickedUp => 3,
            ShipmentStatus::InTransit | ShipmentStatus::Delayed | ShipmentStatus::Exception => 4,
            ShipmentStatus::OutForDelivery => 5,
            ShipmentStatus::AttemptedDelivery | ShipmentStatus::ReadyForPickup => 6,
            ShipmentStatus::Delivered | ShipmentStatus::Returned | ShipmentStatus::Cancelled => 7,
        }
    }

    /// Whether the journey is over.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            ShipmentStatus::Delivered | ShipmentStatus::Returned | ShipmentStatus::Cancelled
        )
    }
}

/// A dated step in a shipment's journey.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct ShipmentEvent {
    /// The status reached.
    pub status: ShipmentStatus,
    /// When it happened.
    pub happened_at: DateTime<Utc>,
    /// The carrier's message, if any.
    pub message: Option<String>,
    /// Where, as free text (city, country).
    pub location: Option<String>,
    /// Who reported it: a carrier-tracking source's name (`aftership`); `None` for the shop
    /// platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The reporter's own status text, verbatim (`AttemptFail`, `out_for_delivery`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_status: Option<String>,
    /// The reporter's own sub-status, verbatim (`Exception_017`, `weather_delay`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_sub_status: Option<String>,
}

impl ShipmentEvent {
    /// An event with a status and a time.
    pub fn new(status: ShipmentStatus, happened_at: DateTime<Utc>) -> Self {
        Self {
            status,
            happened_at,
            message: None,
            location: None,
            source: None,
            raw_status: None,
            raw_sub_status: None,
        }
    }

    /// The same event: reported status, time, carrier text and place (the reporter aside).
    pub fn same_as(&self, other: &ShipmentEvent) -> bool {
        self.status == other.status
            && self.happened_at == other.happened_at
            && self.message == other.message
            && self.location == other.location
    }
}

/// A parcel on its way: one fulfillment with its tracking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Shipment {
    /// The shop, when known.
    pub shop: Option<ShopId>,
    /// The platform's id of the shipment (fulfillment).
    pub id: ShipmentId,
    /// The order it belongs to.
    pub order_id: OrderId,
    /// Carrier name as the platform gives it (`UPS`, `DHL Express`).
    pub carrier: Option<String>,
    /// Tracking numbers (some platforms allow several).
    pub tracking_numbers: Vec<String>,
    /// Tracking URLs given by the platform, in the same order when known.
    pub tracking_urls: Vec<String>,
    /// Current status.
    pub status: ShipmentStatus,
    /// Dated events, oldest first.
    pub events: Vec<ShipmentEvent>,
    /// Estimated delivery time, when known.
    pub estimated_delivery: Option<DateTime<Utc>>,
    /// Ids of the order lines in this shipment (empty: all of them).
    pub line_item_ids: Vec<String>,
    /// When it was created.
    pub created_at: Option<DateTime<Utc>>,
    /// When it last changed; used to order out-of-order deliveries.
    pub updated_at: Option<DateTime<Utc>>,
    /// Who reported the current status: a carrier-tracking source's name (`aftership`);
    /// `None` for the shop platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_source: Option<String>,
    /// Where the parcel waits when it is ready for pickup (name and address as the carrier
    /// gives them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_point: Option<String>,
}

impl Shipment {
    /// A shipment with an id, its order and a status; the rest left empty.
    pub fn new(
        id: impl Into<ShipmentId>,
        order_id: impl Into<OrderId>,
        status: ShipmentStatus,
    ) -> Self {
        Self {
            shop: None,
            id: id.into(),
            order_id: order_id.into(),
            carrier: None,
            tracking_numbers: Vec::new(),
            tracking_urls: Vec::new(),
            status,
            events: Vec::new(),
            estimated_delivery: None,
            line_item_ids: Vec::new(),
            created_at: None,
            updated_at: None,
            status_source: None,
            pickup_point: None,
        }
    }

    /// The carrier's text of the latest event at the current status (a weather delay,
    /// "customer not home"), when it gave one.
    pub fn carrier_message(&self) -> Option<&str> {
        self.events
            .iter()
            .filter(|e| e.status == self.status)
            .max_by_key(|e| e.happened_at)
            .and_then(|e| e.message.as_deref())
            .filter(|m| !m.trim().is_empty())
    }
}

/// What a carrier-tracking source (AfterShip, EasyPost, 17TRACK, Shippo) says about one
/// tracking number, decoded from its webhook: the status mapped into [`ShipmentStatus`] with
/// the source's own values kept verbatim (an unknown one stays
/// [`ShipmentStatus::Unknown`] with its text, never dropped), the carrier's events, the
/// estimate and the pickup point.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct TrackingUpdate {
    /// The source's name (`aftership`, `easypost`, `17track`, `shippo`).
    pub source: String,
    /// The tracking number.
    pub tracking_number: String,
    /// The carrier as the source names it (`ups`, `FedEx`, `100003`), when it says.
    pub carrier: Option<String>,
    /// The status, mapped.
    pub status: ShipmentStatus,
    /// The source's status, verbatim (`AttemptFail`).
    pub raw_status: String,
    /// The source's sub-status, verbatim (`AttemptFail_001`, `status_detail`).
    pub raw_sub_status: Option<String>,
    /// When the source says the current status was reached (its latest checkpoint).
    pub happened_at: DateTime<Utc>,
    /// The carrier's events as the source knows them, oldest first.
    pub events: Vec<ShipmentEvent>,
    /// The estimated delivery, when the source gives one.
    pub estimated_delivery: Option<DateTime<Utc>>,
    /// Where the parcel waits, for `ready_for_pickup`.
    pub pickup_point: Option<String>,
    /// The source's id for the tracking (`trk_…`), when it gives one.
    pub reference: Option<String>,
}

impl TrackingUpdate {
    /// An update with its source, number, mapped and raw status and time; the rest empty.
    pub fn new(
        source: impl Into<String>,
        tracking_number: impl Into<String>,
        status: ShipmentStatus,
        raw_status: impl Into<String>,
        happened_at: DateTime<Utc>,
    ) -> Self {
        Self {
            source: source.into(),
            tracking_number: tracking_number.into(),
            carrier: None,
            status,
            raw_status: raw_status.into(),
            raw_sub_status: None,
            happened_at,
            events: Vec::new(),
            estimated_delivery: None,
            pickup_point: None,
            reference: None,
        }
    }
}
