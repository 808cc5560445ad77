//! EasyPost's webhooks: verified, de-duplicated, decoded.

use aftercare::Error;
use aftercare::model::{PlatformEvent, ShipmentEvent, TrackingUpdate};
use aftercare::store::InboxEntry;
use aftercare::webhook::{
    Rejection, Scheme, Secret, VerifiedWebhook, Verifier, WebhookRequest, WebhookSource,
    body_hash_key,
};
use chrono::{DateTime, NaiveDate, Utc};
use unicode_normalization::UnicodeNormalization as _;

use crate::SOURCE_NAME;
use crate::payload::{Detail, Event, Tracker};
use crate::status::map;

/// The signature header (`X-Hmac-Signature`; names are case-insensitive).
pub const SIGNATURE_HEADER: &str = "X-Hmac-Signature";
/// What precedes the hex digest.
pub const SIGNATURE_PREFIX: &str = "hmac-sha256-hex=";

/// The secret as EasyPost's client libraries key the HMAC with it: NFKD-normalised
/// (`unicodedata.normalize("NFKD", secret)` in `easypost-python`'s `validate_webhook`).
///
/// ```
/// assert_eq!(aftercare_easypost::normalize_secret("sécret"), "se\u{301}cret");
/// ```
pub fn normalize_secret(secret: &str) -> String {
    secret.nfkd().collect()
}

/// EasyPost's webhooks as a [`WebhookSource`].
#[derive(Debug, Clone)]
pub struct EasyPostWebhooks {
    verifier: Verifier,
}

impl EasyPostWebhooks {
    /// Verifies with the webhook's `webhook_secret` (NFKD-normalised here).
    pub fn new(secret: &Secret) -> Self {
        Self::with_secrets([secret])
    }

    /// Several secrets (a rotation: the new one first).
    pub fn with_secrets<'a>(secrets: impl IntoIterator<Item = &'a Secret>) -> Self {
        let keys: Vec<Secret> = secrets
            .into_iter()
            .map(|s| Secret::from(normalize_secret(&String::from_utf8_lossy(s.expose())).as_str()))
            .collect();
        Self {
            verifier: Verifier::with_secrets(
                Scheme::hmac_sha256_hex_prefixed(SIGNATURE_HEADER, SIGNATURE_PREFIX),
                keys,
            ),
        }
    }
}

impl WebhookSource for EasyPostWebhooks {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        self.verifier
            .verify(request.headers, request.body, request.received_at)?;
        // After the signature: the event id names the event across retries.
        let (key, topic) = match serde_json::from_slice::<Event>(request.body) {
            Ok(e) => (
                e.id.filter(|i| !i.trim().is_empty())
                    .map(|i| format!("easypost:{i}"))
                    .unwrap_or_else(|| body_hash_key(request.body)),
                e.description,
            ),
            Err(_) => (body_hash_key(request.body), None),
        };
        let mut v = VerifiedWebhook::new(key);
        v.topic = topic;
        Ok(v)
    }

    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        decode(&entry.body)
    }

    fn max_body_bytes(&self) -> usize {
        self.verifier.body_limit()
    }
}

fn time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()?
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc())
        })
}

fn place(d: &Detail) -> Option<String> {
    let l = d.tracking_location.as_ref()?;
    let parts: Vec<&str> = [l.city.as_deref(), l.state.as_deref(), l.country.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

pub(crate) fn update(
    t: &Tracker,
    fallback: Option<DateTime<Utc>>,
) -> Result<TrackingUpdate, Error> {
    let what = "easypost tracker";
    let code = t
        .tracking_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| Error::decode(what, "the tracker has no tracking_code"))?;
    let raw = t
        .status
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| Error::decode(what, "the tracker has no status"))?;
    let mut events = Vec::with_capacity(t.tracking_details.len());
    for d in &t.tracking_details {
        let Some(at) = d.datetime.as_deref().and_then(time) else {
            continue;
        };
        let s = d.status.as_deref().unwrap_or(raw);
        let mut e = ShipmentEvent::new(map(s, d.status_detail.as_deref()), at);
        e.message = d
            .message
            .clone()
            .or_else(|| d.description.clone())
            .filter(|m| !m.trim().is_empty());
        e.location = place(d);
        e.source = Some(SOURCE_NAME.into());
        e.raw_status = Some(s.to_owned());
        e.raw_sub_status.clone_from(&d.status_detail);
        events.push(e);
    }
    events.sort_by_key(|e| e.happened_at);
    let status = map(raw, t.status_detail.as_deref());
    let happened_at = events
        .iter()
        .rev()
        .find(|e| e.raw_status.as_deref() == Some(raw))
        .map(|e| e.happened_at)
        .or_else(|| t.updated_at.as_deref().and_then(time))
        .or(fallback)
        .ok_or_else(|| Error::decode(what, "the tracker says no time"))?;
    let mut u = TrackingUpdate::new(SOURCE_NAME, code, status, raw, happened_at);
    u.raw_sub_status.clone_from(&t.status_detail);
    u.carrier.clone_from(&t.carrier);
    u.reference.clone_from(&t.id);
    u.estimated_delivery = t.est_delivery_date.as_deref().and_then(time);
    u.events = events;
    Ok(u)
}

/// Decodes a stored webhook body: `tracker.created` / `tracker.updated` into a
/// [`PlatformEvent::TrackingUpdated`], other events into [`PlatformEvent::Unrecognized`].
pub fn decode(body: &[u8]) -> Result<Vec<PlatformEvent>, Error> {
    let e: Event = serde_json::from_slice(body).map_err(|e| Error::decode("easypost event", e))?;
    match e.description.as_deref().unwrap_or("") {
        "tracker.created" | "tracker.updated" => {
            let t = e
                .result
                .ok_or_else(|| Error::decode("easypost event", "no `result` tracker"))?;
            let at = e.updated_at.as_deref().and_then(time);
            Ok(vec![PlatformEvent::TrackingUpdated {
                update: update(&t, at)?,
            }])
        }
        other => Ok(vec![PlatformEvent::Unrecognized {
            topic: format!("easypost {other}"),
        }]),
    }
}
