//! AfterShip's webhooks: verified, de-duplicated, decoded.

use aftercare::Error;
use aftercare::model::{PlatformEvent, ShipmentEvent, TrackingUpdate};
use aftercare::store::InboxEntry;
use aftercare::webhook::{
    Rejection, Scheme, Secret, VerifiedWebhook, Verifier, WebhookRequest, WebhookSource,
    body_hash_key,
};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone as _, Utc};

use crate::SOURCE_NAME;
use crate::payload::{Checkpoint, Tracking, Webhook};
use crate::status::map;

/// The signature header: base64 HMAC-SHA256 of the raw body with the webhook secret
/// (<https://www.aftership.com/docs/tracking/webhook/webhook-signature>).
pub const SIGNATURE_HEADER: &str = "aftership-hmac-sha256";
/// The header organisations created before 25 October 2022 may receive instead, its value
/// `hmac-sha256=<base64>`; accepted only after [`AfterShipWebhooks::accept_legacy_header`].
pub const LEGACY_SIGNATURE_HEADER: &str = "am-webhook-signature";

/// AfterShip Tracking's webhooks as a [`WebhookSource`].
#[derive(Debug, Clone)]
pub struct AfterShipWebhooks {
    verifier: Verifier,
    legacy: Option<Verifier>,
}

impl AfterShipWebhooks {
    /// Verifies with the account's webhook secret (Settings → Webhooks).
    pub fn new(secret: Secret) -> Self {
        Self::with_secrets([secret])
    }

    /// Several secrets (a rotation: the new one first).
    pub fn with_secrets(secrets: impl IntoIterator<Item = Secret>) -> Self {
        Self {
            verifier: Verifier::with_secrets(Scheme::hmac_sha256_base64(SIGNATURE_HEADER), secrets),
            legacy: None,
        }
    }

    /// Also accepts `am-webhook-signature: hmac-sha256=<base64>`, which organisations created
    /// before 25 October 2022 may receive (same algorithm and secret). Off by default.
    pub fn accept_legacy_header(mut self) -> Self {
        // The legacy value is base64 after a prefix: verified by re-encoding the header.
        self.legacy = Some(self.verifier.clone());
        self
    }
}

fn dedupe(body: &[u8]) -> (String, Option<String>, Option<DateTime<Utc>>) {
    // Only after the signature matched: the event id names the event across retries.
    match serde_json::from_slice::<Webhook>(body) {
        Ok(w) => (
            w.event_id
                .filter(|id| !id.trim().is_empty())
                .map(|id| format!("aftership:{id}"))
                .unwrap_or_else(|| body_hash_key(body)),
            w.event,
            w.ts.and_then(|t| Utc.timestamp_opt(t, 0).single()),
        ),
        Err(_) => (body_hash_key(body), None, None),
    }
}

impl WebhookSource for AfterShipWebhooks {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        let h = request.headers;
        match (
            &self.legacy,
            h.get(SIGNATURE_HEADER),
            h.get_str(LEGACY_SIGNATURE_HEADER),
        ) {
            (Some(legacy), None, Some(value)) => {
                let sig = value.trim().strip_prefix("hmac-sha256=").ok_or_else(|| {
                    Rejection::BadEncoding {
                        header: LEGACY_SIGNATURE_HEADER.into(),
                        expected: "`hmac-sha256=<base64>`",
                    }
                })?;
                let rewritten = aftercare::webhook::RawHeaders::from_pairs([(
                    SIGNATURE_HEADER.to_owned(),
                    sig.to_owned(),
                )]);
                legacy.verify(&rewritten, request.body, request.received_at)?;
            }
            _ => {
                self.verifier.verify(h, request.body, request.received_at)?;
            }
        }
        let (key, topic, at) = dedupe(request.body);
        let mut v = VerifiedWebhook::new(key);
        v.topic = topic;
        v.occurred_at = at;
        Ok(v)
    }

    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        decode(&entry.body)
    }

    fn max_body_bytes(&self) -> usize {
        self.verifier.body_limit()
    }
}

/// A time as AfterShip writes it: RFC 3339, or a local time without offset (taken as UTC),
/// or a date (midnight UTC).
pub(crate) fn time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Some(t.and_utc());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

fn place(c: &Checkpoint) -> Option<String> {
    if let Some(l) = c.location.as_deref().filter(|l| !l.trim().is_empty()) {
        return Some(l.trim().to_owned());
    }
    let parts: Vec<&str> = [
        c.city.as_deref(),
        c.state.as_deref(),
        c.country_region_name
            .as_deref()
            .or(c.country_name.as_deref()),
    ]
    .into_iter()
    .flatten()
    .map(str::trim)
    .filter(|p| !p.is_empty())
    .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// A tracking object as a [`TrackingUpdate`]; `fallback` is the time when no checkpoint and
/// no `updated_at` gives one.
pub(crate) fn update(
    t: &Tracking,
    fallback: Option<DateTime<Utc>>,
) -> Result<TrackingUpdate, Error> {
    let what = "aftership tracking";
    let number = t
        .tracking_number
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| Error::decode(what, "the tracking has no tracking_number"))?;
    let tag = t
        .tag
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| Error::decode(what, "the tracking has no tag"))?;
    let mut events: Vec<ShipmentEvent> = Vec::with_capacity(t.checkpoints.len());
    for c in &t.checkpoints {
        let Some(at) = c.checkpoint_time.as_deref().and_then(time) else {
            continue;
        };
        let ctag = c.tag.as_deref().unwrap_or(tag);
        let mut e = ShipmentEvent::new(map(ctag, c.subtag.as_deref()), at);
        e.message = c.message.clone().filter(|m| !m.trim().is_empty());
        e.location = place(c);
        e.source = Some(SOURCE_NAME.into());
        e.raw_status = Some(ctag.to_owned());
        e.raw_sub_status.clone_from(&c.subtag);
        events.push(e);
    }
    events.sort_by_key(|e| e.happened_at);
    let status = map(tag, t.subtag.as_deref());
    let happened_at = events
        .iter()
        .rev()
        .find(|e| e.status == status)
        .map(|e| e.happened_at)
        .or_else(|| t.updated_at.as_deref().and_then(time))
        .or(fallback)
        .or_else(|| events.last().map(|e| e.happened_at))
        .ok_or_else(|| Error::decode(what, "the tracking says no time"))?;
    let mut u = TrackingUpdate::new(SOURCE_NAME, number.trim(), status, tag, happened_at);
    u.raw_sub_status.clone_from(&t.subtag);
    u.carrier.clone_from(&t.slug);
    u.reference.clone_from(&t.id);
    u.events = events;
    u.estimated_delivery = [
        &t.latest_estimated_delivery,
        &t.courier_estimated_delivery_date,
    ]
    .into_iter()
    .flatten()
    .find_map(|e| {
        e.datetime
            .as_deref()
            .or(e.estimated_delivery_date.as_deref())
            .and_then(time)
    })
    .or_else(|| t.expected_delivery.as_deref().and_then(time));
    u.pickup_point = [t.pickup_location.as_deref(), t.pickup_note.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|p| !p.is_empty())
        .map(str::to_owned);
    Ok(u)
}

/// Decodes a stored webhook body: `tracking_update` and `edd_revise` into a
/// [`PlatformEvent::TrackingUpdated`], any other event into
/// [`PlatformEvent::Unrecognized`]; malformed JSON or a tracking without a number or tag is a
/// decode error.
pub fn decode(body: &[u8]) -> Result<Vec<PlatformEvent>, Error> {
    let w: Webhook =
        serde_json::from_slice(body).map_err(|e| Error::decode("aftership webhook", e))?;
    let event = w.event.as_deref().unwrap_or("");
    match event {
        "tracking_update" | "edd_revise" => {
            let t = w
                .msg
                .ok_or_else(|| Error::decode("aftership webhook", "no `msg` in the webhook"))?;
            let at = w.ts.and_then(|t| Utc.timestamp_opt(t, 0).single());
            Ok(vec![PlatformEvent::TrackingUpdated {
                update: update(&t, at)?,
            }])
        }
        other => Ok(vec![PlatformEvent::Unrecognized {
            topic: format!("aftership {other}"),
        }]),
    }
}
