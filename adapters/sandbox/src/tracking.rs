//! A carrier-tracking source played by the sandbox: AfterShip Tracking's webhooks for the
//! shop's fulfillments, signed as AfterShip signs them (`aftership-hmac-sha256`: base64
//! HMAC-SHA256 of the raw body with the webhook secret), shaped as its webhook specification
//! shows (`event`, `event_id`, `is_tracking_first_tag`, `msg` = the tracking with its
//! checkpoints, `ts`), and (feature `api`) its `POST /trackings` API recording
//! registrations. Lets a shop whose platform reports no carrier events (WooCommerce,
//! BigCommerce) play the whole milestone story.

use std::sync::{Arc, Mutex};

use aftercare::webhook::{Scheme, Secret, Verifier};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha1::{Digest as _, Sha1};

use crate::scenario::Milestone;
use crate::shop::{SandboxShop, SimEvent, SimFulfillment};
use crate::webhook::{Delivery, Topic};

/// AfterShip's tag and subtag for a sandbox milestone
/// (<https://www.aftership.com/docs/tracking/2025-01/enum/delivery-statuses>,
/// <https://www.aftership.com/docs/tracking/2026-07/enum/delivery-sub-statuses>).
pub fn aftership_tag(m: Milestone) -> (&'static str, &'static str) {
    match m {
        Milestone::Confirmed => ("Pending", "Pending_001"),
        Milestone::LabelPrinted | Milestone::LabelPurchased => ("InfoReceived", "InfoReceived_001"),
        Milestone::CarrierPickedUp => ("InTransit", "InTransit_002"),
        Milestone::InTransit => ("InTransit", "InTransit_007"),
        // "Delayed: severe weather in the area": delayed (extreme weather).
        Milestone::Delayed => ("Exception", "Exception_017"),
        Milestone::OutForDelivery => ("OutForDelivery", "OutForDelivery_001"),
        Milestone::AttemptedDelivery => ("AttemptFail", "AttemptFail_001"),
        Milestone::ReadyForPickup => ("AvailableForPickup", "AvailableForPickup_001"),
        Milestone::Delivered => ("Delivered", "Delivered_001"),
        Milestone::Failure => ("Exception", "Exception_001"),
    }
}

/// Builds and signs AfterShip webhooks for the shop's fulfillments.
#[derive(Clone, Debug)]
pub struct AfterShipSender {
    signer: Verifier,
}

impl AfterShipSender {
    /// Signs with the account's webhook secret.
    pub fn new(secret: Secret) -> Self {
        Self {
            signer: Verifier::new(Scheme::hmac_sha256_base64("aftership-hmac-sha256"), secret),
        }
    }

    /// The tracking object for a fulfillment as it was at `at` (checkpoints up to then).
    pub fn tracking(&self, f: &SimFulfillment, at: DateTime<Utc>) -> Option<Value> {
        let number = f.tracking_number.clone()?;
        let events: Vec<&SimEvent> = f.events.iter().filter(|e| e.happened_at <= at).collect();
        let last = events.last()?;
        let (tag, subtag) = aftership_tag(last.milestone);
        let checkpoints: Vec<Value> = events
            .iter()
            .map(|e| {
                let (t, s) = aftership_tag(e.milestone);
                json!({
                    "checkpoint_time": e.happened_at.to_rfc3339(),
                    "message": e.message.clone().unwrap_or_else(|| e.milestone.default_message().to_owned()),
                    "city": e.city, "state": e.province, "country_region_name": e.country, "zip": e.zip,
                    "tag": t, "subtag": s,
                    "slug": f.tracking_company.as_deref().map(|c| c.to_lowercase()),
                })
            })
            .collect();
        let estimate = events
            .iter()
            .rev()
            .find_map(|e| e.estimated_delivery_at)
            .or(f.estimated_delivery_at);
        let pickup = (last.milestone == Milestone::ReadyForPickup).then(|| {
            let place: Vec<&str> = [last.city.as_deref(), last.country.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            if place.is_empty() {
                "Service point, Corner Shop, 12 Main St".to_owned()
            } else {
                format!("Service point, {}", place.join(", "))
            }
        });
        Some(json!({
            "id": format!("{:032x}", f.id),
            "tracking_number": number,
            "slug": f.tracking_company.as_deref().map(|c| c.to_lowercase()),
            "active": !matches!(last.milestone, Milestone::Delivered),
            "tag": tag,
            "subtag": subtag,
            "order_id": f.order_id.to_string(),
            "updated_at": last.happened_at.to_rfc3339(),
            "latest_estimated_delivery": estimate.map(|t| json!({"type": "specific", "source": "Carrier EDD", "datetime": t.to_rfc3339()})),
            "pickup_location": pickup,
            "checkpoints": checkpoints,
        }))
    }

    /// A signed `tracking_update` webhook for `tracking`; `event_id` names the event (the
    /// same id for a redelivery).
    pub fn sign(
        &self,
        tracking: Value,
        event_id: &str,
        first_of_tag: bool,
        at: DateTime<Utc>,
    ) -> Delivery {
        let body = serde_json::to_vec(&json!({
            "event": "tracking_update",
            "event_id": event_id,
            "is_tracking_first_tag": first_of_tag,
            "msg": tracking,
            "ts": at.timestamp(),
        }))
        .unwrap_or_default();
        let signed = self.signer.sign(&body, at);
        let mut headers = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("as-webhook-version".to_owned(), "2026-07".to_owned()),
        ];
        headers.extend(
            signed
                .iter()
                .map(|(n, v)| (n.to_owned(), String::from_utf8_lossy(v).into_owned())),
        );
        Delivery {
            topic: Topic::FulfillmentsUpdate,
            headers,
            body,
            event_id: event_id.to_owned(),
            webhook_id: "aftership".into(),
            triggered_at: at,
        }
    }

    /// The AfterShip webhook standing for a sandbox delivery: a carrier update
    /// (`fulfillments/update`) becomes a `tracking_update` with the fulfillment's checkpoints
    /// up to that update; anything else is not AfterShip's (`None`). A redelivered sandbox
    /// delivery gives the same `event_id`.
    pub fn translate(&self, shop: &SandboxShop, d: &Delivery) -> Option<Delivery> {
        if d.topic != Topic::FulfillmentsUpdate {
            return None;
        }
        let json = d.json();
        let f = shop.fulfillment_record(json["id"].as_u64()?)?;
        let at = json["updated_at"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(d.triggered_at);
        let tracking = self.tracking(&f, at)?;
        let h = Sha1::digest(d.event_id.as_bytes());
        let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
        let id = format!(
            "{}-{}-4{}-a{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..32]
        );
        Some(self.sign(tracking, &id, true, at))
    }
}

/// One registration: (tracking number, slug, order id).
pub type Registered = (String, Option<String>, Option<String>);

/// What the sandbox's AfterShip API was asked to track.
#[derive(Clone, Debug, Default)]
pub struct TrackingRegistry(Arc<Mutex<Vec<Registered>>>);

impl TrackingRegistry {
    /// Every `POST /trackings` accepted, in order (an already-tracked number once).
    pub fn registered(&self) -> Vec<Registered> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Records a registration; `false` when the number is already tracked.
    pub fn record(&self, number: &str, slug: Option<String>, order: Option<String>) -> bool {
        let Ok(mut v) = self.0.lock() else {
            return false;
        };
        if v.iter().any(|(n, _, _)| n == number) {
            return false;
        }
        v.push((number.to_owned(), slug, order));
        true
    }
}

/// AfterShip's `POST /tracking/2026-07/trackings` (201, or 4003 "Tracking already exists")
/// and `mark-as-completed` / `DELETE`, checking `as-api-key`.
#[cfg(feature = "api")]
pub fn aftership_api_router(registry: TrackingRegistry, api_key: &str) -> axum::Router {
    use axum::extract::{Path, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    use axum::routing::post;

    type St = (TrackingRegistry, Arc<str>);
    fn authorized(key: &str, h: &HeaderMap) -> bool {
        h.get("as-api-key").and_then(|v| v.to_str().ok()) == Some(key)
    }
    async fn create(
        State((reg, key)): State<St>,
        h: HeaderMap,
        body: axum::Json<Value>,
    ) -> axum::response::Response {
        if !authorized(&key, &h) {
            return (StatusCode::UNAUTHORIZED, axum::Json(json!({"meta": {"code": 401, "message": "Invalid API key.", "type": "Unauthorized"}, "data": {}}))).into_response();
        }
        let number = body["tracking_number"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let id = format!(
            "{:032x}",
            u128::from_be_bytes({
                let d = Sha1::digest(number.as_bytes());
                let mut b = [0u8; 16];
                b.copy_from_slice(&d[..16]);
                b
            })
        );
        let tracking = json!({"id": id, "tracking_number": number, "slug": body["slug"], "tag": "Pending", "checkpoints": []});
        if reg.record(
            &number,
            body["slug"].as_str().map(str::to_owned),
            body["order_id"].as_str().map(str::to_owned),
        ) {
            (
                StatusCode::CREATED,
                axum::Json(json!({"meta": {"code": 200}, "data": tracking})),
            )
                .into_response()
        } else {
            (StatusCode::BAD_REQUEST, axum::Json(json!({"meta": {"code": 4003, "message": "Tracking already exists.", "type": "BadRequest"}, "data": {"tracking": tracking}}))).into_response()
        }
    }
    async fn done(
        State((_, key)): State<St>,
        h: HeaderMap,
        Path(_id): Path<String>,
    ) -> axum::response::Response {
        if !authorized(&key, &h) {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        (
            StatusCode::OK,
            axum::Json(json!({"meta": {"code": 200}, "data": {}})),
        )
            .into_response()
    }
    axum::Router::new()
        .route("/tracking/2026-07/trackings", post(create))
        .route(
            "/tracking/2026-07/trackings/{id}/mark-as-completed",
            post(done),
        )
        .route(
            "/tracking/2026-07/trackings/{id}",
            axum::routing::delete(done),
        )
        .with_state((registry, Arc::from(api_key)))
}
