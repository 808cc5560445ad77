//! AfterShip's JSON, as its documentation shows it: the webhook body
//! (<https://www.aftership.com/docs/tracking/2025-01/webhook/webhook-specifications>) and the
//! tracking object (<https://www.aftership.com/docs/tracking/2026-07/model/tracking>). Only
//! the fields Aftercare reads; unknown ones are ignored.

use serde::Deserialize;

/// A webhook body.
#[derive(Debug, Deserialize)]
pub(crate) struct Webhook {
    pub event: Option<String>,
    pub event_id: Option<String>,
    /// UTC unix time of the event.
    pub ts: Option<i64>,
    pub msg: Option<Tracking>,
}

/// A tracking.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Tracking {
    pub id: Option<String>,
    pub tracking_number: Option<String>,
    pub slug: Option<String>,
    pub tag: Option<String>,
    pub subtag: Option<String>,
    pub subtag_message: Option<String>,
    pub updated_at: Option<String>,
    pub checkpoints: Vec<Checkpoint>,
    pub latest_estimated_delivery: Option<Estimate>,
    pub courier_estimated_delivery_date: Option<Estimate>,
    pub expected_delivery: Option<String>,
    pub pickup_location: Option<String>,
    pub pickup_note: Option<String>,
}

/// An estimate: `datetime` (latest estimate) or `estimated_delivery_date`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Estimate {
    pub datetime: Option<String>,
    pub estimated_delivery_date: Option<String>,
}

/// A carrier checkpoint.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Checkpoint {
    pub checkpoint_time: Option<String>,
    pub message: Option<String>,
    pub location: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country_region_name: Option<String>,
    pub country_name: Option<String>,
    pub tag: Option<String>,
    pub subtag: Option<String>,
}

/// An API answer: `{"meta": {...}, "data": ...}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Envelope {
    pub meta: Meta,
    pub data: Option<serde_json::Value>,
}

/// `meta`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Meta {
    pub code: i64,
    pub message: Option<String>,
}
