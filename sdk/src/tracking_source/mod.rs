//! Carrier-tracking sources: services (AfterShip, EasyPost, 17TRACK, Shippo) that follow a
//! tracking number at the carrier and push its progress by webhook.
//!
//! - [`TrackingSource`]: what an adapter's API client implements — register a shipment's
//!   tracking number (idempotently: "already registered" is success) and stop tracking it.
//! - The adapter's [`WebhookSource`](crate::webhook::WebhookSource) verifies the source's
//!   webhooks like any other (raw bytes, constant time, then the inbox) and decodes them into
//!   [`PlatformEvent::TrackingUpdated`](crate::model::PlatformEvent::TrackingUpdated): the
//!   source's status mapped into [`ShipmentStatus`], its own
//!   status and sub-status kept verbatim, the carrier's event text, place, estimate and
//!   pickup point.
//! - [`TrackingSources`]: the [`EventHandler`](crate::inbox::EventHandler) in front of the
//!   flows. It registers every shipment a platform creates with the configured source (once,
//!   recorded in the snapshot store, retried through the inbox after a crash or a quota
//!   error), merges the source's updates into the registered shipment's history
//!   ([`merge`]: one history that never goes backwards, whichever source speaks first), and
//!   hands the flows one `ShipmentUpdated` per state, so the same milestone from the shop and
//!   from the source is one message. It stops tracking on delivery or after
//!   [`TrackingSourceSettings::max_age`].

pub mod merge;
mod registrar;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{OrderId, Shipment, ShipmentId, ShipmentStatus, ShopId};

pub use registrar::{ACTIVE_KIND, QUOTA_KIND, TrackingSourceSettings, TrackingSources};

/// What a source is asked to track.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TrackingRequest {
    /// The tracking number.
    pub tracking_number: String,
    /// The carrier as the shop names it (`UPS`, `DHL Express`), when known.
    pub carrier: Option<String>,
    /// The order.
    pub order_id: OrderId,
    /// The shipment (the platform's fulfillment id).
    pub shipment_id: ShipmentId,
    /// The shop, when known.
    pub shop: Option<ShopId>,
}

impl TrackingRequest {
    /// The request for a shipment's first tracking number, if it has one.
    pub fn for_shipment(shipment: &Shipment) -> Option<Self> {
        let number = shipment
            .tracking_numbers
            .iter()
            .map(|n| n.trim())
            .find(|n| !n.is_empty())?;
        Some(Self {
            tracking_number: number.to_owned(),
            carrier: shipment.carrier.clone(),
            order_id: shipment.order_id.clone(),
            shipment_id: shipment.id.clone(),
            shop: shipment.shop.clone(),
        })
    }
}

/// What a source answered to a registration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Registered {
    /// The source's id of the tracking (`trk_…`, AfterShip's tracking id), when it gives one;
    /// needed to stop it later.
    pub reference: Option<String>,
    /// The carrier as the source names it, when it says (`ups`, `100003`).
    pub carrier: Option<String>,
}

impl Registered {
    /// A registration with the source's id.
    pub fn new(reference: Option<String>) -> Self {
        Self {
            reference,
            carrier: None,
        }
    }
}

/// Why a source refused or failed a call.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The account's rate limit or tracking quota is used up: wait (`retry_after` when the
    /// source says how long) and try again.
    #[error("the tracking source's quota or rate limit is used up: {message}")]
    Quota {
        /// How long the source asks to wait, when it says.
        retry_after: Option<Duration>,
        /// The source's text.
        message: String,
    },
    /// A passing failure (network, 5xx): try again later.
    #[error("the tracking source failed for now: {message}")]
    Transient {
        /// How long the source asks to wait, when it says.
        retry_after: Option<Duration>,
        /// The source's text.
        message: String,
    },
    /// Refused for good (an invalid number, a bad key): trying again will not help.
    #[error("the tracking source refused the request: {0}")]
    Permanent(String),
}

/// A carrier-tracking service's API, as the registration policy needs it.
#[async_trait]
pub trait TrackingSource: Send + Sync {
    /// The source's name, as its webhooks name it in
    /// [`TrackingUpdate::source`](crate::model::TrackingUpdate::source) (`aftership`).
    fn name(&self) -> &str;

    /// Starts tracking a number. Must be idempotent: a number the source already tracks is a
    /// success (with the existing tracking's id when it can be had).
    async fn register(&self, request: &TrackingRequest) -> Result<Registered, SourceError>;

    /// Stops tracking a number (delivered, or too old). A source without such a call, or a
    /// tracking already gone, is a success.
    async fn stop(&self, registration: &Registration, why: &StopReason) -> Result<(), SourceError>;
}

/// Why tracking stops.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// The shipment reached this final status (delivered, returned, cancelled).
    Final(ShipmentStatus),
    /// It was tracked longer than [`TrackingSourceSettings::max_age`].
    TooOld,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Final(s) => write!(f, "the shipment is {}", s.as_str()),
            StopReason::TooOld => f.write_str("tracked longer than the configured maximum"),
        }
    }
}

/// A shipment registered with a source, as recorded (snapshot kind `tracking-registration`,
/// id `{source}:{tracking number}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Registration {
    /// The source's name.
    pub source: String,
    /// What was registered.
    pub request: TrackingRequest,
    /// What the source answered.
    pub registered: Registered,
    /// When.
    pub registered_at: DateTime<Utc>,
    /// When tracking was stopped, and why.
    pub stopped: Option<(DateTime<Utc>, String)>,
}

/// The snapshot kind of registrations.
pub const REGISTRATION_KIND: &str = "tracking-registration";

/// The snapshot id of a registration: `{source}:{tracking number}`.
pub fn registration_id(source: &str, tracking_number: &str) -> String {
    format!("{source}:{}", tracking_number.trim())
}
