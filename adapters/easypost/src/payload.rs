//! EasyPost's JSON: the `Event` a webhook carries and the `Tracker` in it
//! (<https://docs.easypost.com/docs/events>, <https://docs.easypost.com/docs/trackers>).
//! Only the fields Aftercare reads.

use serde::Deserialize;

/// A webhook `Event`.
#[derive(Debug, Deserialize)]
pub(crate) struct Event {
    pub id: Option<String>,
    pub description: Option<String>,
    pub updated_at: Option<String>,
    pub result: Option<Tracker>,
}

/// A `Tracker`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Tracker {
    pub id: Option<String>,
    pub tracking_code: Option<String>,
    pub carrier: Option<String>,
    pub status: Option<String>,
    pub status_detail: Option<String>,
    pub updated_at: Option<String>,
    pub est_delivery_date: Option<String>,
    pub tracking_details: Vec<Detail>,
}

/// A `TrackingDetail`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Detail {
    pub message: Option<String>,
    pub description: Option<String>,
    pub status: Option<String>,
    pub status_detail: Option<String>,
    pub datetime: Option<String>,
    pub tracking_location: Option<Location>,
}

/// A `TrackingLocation`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Location {
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub zip: Option<String>,
}
